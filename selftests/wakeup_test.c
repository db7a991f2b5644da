// SPDX-License-Identifier: GPL-2.0
/*
 * EPOLLWAKEUP, differentially: the wakeup source of a watch keeps suspend
 * off exactly while its event is pending, as the kernel's table of wakeup
 * sources (/sys/kernel/debug/wakeup_sources) shows it. A watch's source is
 * named after the watched file, so each test watches a FIFO of a name of
 * its own and finds its row by that name. Needs root (CAP_BLOCK_SUSPEND,
 * debugfs) and a kernel with wakeup sources.
 */
#include "lib/harness.h"

#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "lib/backend.h"
#include "lib/util.h"

#define WAKEUP_SOURCES "/sys/kernel/debug/wakeup_sources"

FIXTURE(wakeup) {
	char path[64];		/* the FIFO; its name names the source */
	int fifo;
};

DIFF_FIXTURE_VARIANTS(wakeup);

FIXTURE_SETUP(wakeup)
{
	BACKEND_SELECT(variant->be);
	self->fifo = -1;
	if (getuid() != 0)
		EPM_SKIP_TEST("needs root for EPOLLWAKEUP and debugfs");
	if (access(WAKEUP_SOURCES, R_OK))
		EPM_SKIP_TEST("no %s (no CONFIG_PM_SLEEP, or no debugfs)",
			      WAKEUP_SOURCES);
	snprintf(self->path, sizeof(self->path), "/tmp/epm-ws-%d-%s",
		 getpid(), be == &backend_native ? "native" : "epollmod");
	ASSERT_EQ(0, mkfifo(self->path, 0600));
	/* Open for reading and writing: never blocks, never sees EOF. */
	self->fifo = open(self->path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	ASSERT_LE(0, self->fifo);
}

FIXTURE_TEARDOWN(wakeup)
{
	if (self->fifo >= 0)
		close(self->fifo);
	unlink(self->path);
}

/*
 * Is the wakeup source named @name active? 1 or 0; -1 if there is no such
 * source. A source is active while its active_since column, how long it
 * has been active in whole milliseconds, is not 0: waiting 2 ms first
 * makes that column non-zero for any source active now.
 */
static int source_active(const char *name)
{
	char line[512], row[256];
	long long cols[8];
	int found = -1;
	FILE *f;

	sleep_ms(2);
	f = fopen(WAKEUP_SOURCES, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%255s %lld %lld %lld %lld %lld", row, &cols[0],
			   &cols[1], &cols[2], &cols[3], &cols[4]) != 6)
			continue;
		if (!strcmp(row, name))
			found = cols[4] != 0;
	}
	fclose(f);
	return found;
}

static const char *fifo_name(const char *path)
{
	return strrchr(path, '/') + 1;
}

/* The event makes the source active; harvesting it lets suspend go. */
TEST_F(wakeup, event_holds_source_until_harvested)
{
	int ep = ep_create1(0);
	struct epoll_event ev;

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, self->fifo,
			 EPOLLIN | EPOLLET | EPOLLWAKEUP, 1));
	ASSERT_EQ(0, source_active(fifo_name(self->path)));
	ASSERT_EQ(0, write_byte(self->fifo));
	EXPECT_EQ(1, source_active(fifo_name(self->path)));
	ASSERT_EQ(1, ep_wait(ep, &ev, 1, 0));
	EXPECT_EQ(0, source_active(fifo_name(self->path)));
	close(ep);
}

/*
 * poll() of the instance looks at the queued watch, finds it no longer
 * ready (its byte was read) and drops it: its source must let go too.
 */
TEST_F(wakeup, readiness_check_relaxes_dropped_watch)
{
	int ep = ep_create1(0);
	struct pollfd pfd = { .fd = ep, .events = POLLIN };

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, self->fifo,
			 EPOLLIN | EPOLLWAKEUP, 1));
	ASSERT_EQ(0, write_byte(self->fifo));
	ASSERT_EQ(1, source_active(fifo_name(self->path)));
	ASSERT_EQ(1, read_all(self->fifo));
	EXPECT_EQ(0, poll(&pfd, 1, 0));
	EXPECT_EQ(0, source_active(fifo_name(self->path)));
	close(ep);
}

/*
 * A wait that cannot copy the event out (EFAULT) leaves it pending, and
 * its source keeps suspend off.
 */
TEST_F(wakeup, failed_copy_out_keeps_source_active)
{
	int ep = ep_create1(0);
	struct epoll_event *unwritable, ev;

	unwritable = mmap(NULL, 4096, PROT_READ,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, unwritable);
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, self->fifo,
			 EPOLLIN | EPOLLWAKEUP, 1));
	ASSERT_EQ(0, write_byte(self->fifo));
	EXPECT_EQ(-1, ep_wait(ep, unwritable, 1, 0));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(1, source_active(fifo_name(self->path)));
	/* Still pending: the next wait delivers it. */
	POISON(ev);
	EXPECT_EQ(1, ep_wait(ep, &ev, 1, 0));
	EXPECT_EQ(1, ev.data.u64);
	munmap(unwritable, 4096);
	close(ep);
}

EPM_HARNESS_MAIN
