// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/<pid>/fdinfo/<epfd>, differentially: one line per watch in Linux's
 * format, the mask as the kernel keeps it (ERR and HUP added, one-shot
 * disarmed, EPOLLWAKEUP only with CAP_BLOCK_SUSPEND), watches of closed
 * files gone, and nothing that looks like a kernel address.
 */
#include "lib/harness.h"

#include <stdio.h>
#include <sys/capability.h>
#include <sys/stat.h>

#include <epollmod/kqueue.h>

#include "lib/backend.h"
#include "lib/util.h"

DIFF_FIXTURE(fdinfo);

struct watch_line {
	int tfd;
	unsigned int events;
	unsigned long long data;
	long long pos;
	unsigned long ino;
	unsigned int sdev;
};

/* The watch lines of @ep, in the order the kernel printed them. */
static int read_watches(int ep, struct watch_line *w, int max, char *text,
			size_t text_len)
{
	FILE *f = fdinfo_open(ep);
	char line[256];
	size_t used = 0;
	int n = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (text && used + strlen(line) < text_len) {
			strcpy(text + used, line);
			used += strlen(line);
		}
		if (strncmp(line, "tfd:", 4) || n == max)
			continue;
		if (sscanf(line, "tfd: %d events: %x data: %llx pos:%lli ino:%lx sdev:%x",
			   &w[n].tfd, &w[n].events, &w[n].data, &w[n].pos,
			   &w[n].ino, &w[n].sdev) == 6)
			n++;
	}
	fclose(f);
	return n;
}

static struct watch_line *find(struct watch_line *w, int n, int tfd)
{
	for (int i = 0; i < n; i++)
		if (w[i].tfd == tfd)
			return &w[i];
	return NULL;
}

TEST_F(fdinfo, one_line_per_watch)
{
	int ep = ep_create1(0), a = efd_new(0), b = efd_new(0), p[2];
	struct watch_line w[8], *x;
	struct stat st;

	ASSERT_EQ(0, pipe_new(p));
	EXPECT_EQ(0, read_watches(ep, w, 8, NULL, 0));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, a, EPOLLIN, 0x1234));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, b, EPOLLOUT | EPOLLET, 7));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, p[0], EPOLLIN | EPOLLRDHUP, 0));
	ASSERT_EQ(3, read_watches(ep, w, 8, NULL, 0));

	x = find(w, 3, a);
	ASSERT_NE(NULL, x);
	EXPECT_EQ(EPOLLIN | EPOLLERR | EPOLLHUP, x->events);
	EXPECT_EQ(0x1234, x->data);
	EXPECT_EQ(0, x->pos);
	ASSERT_EQ(0, fstat(a, &st));
	EXPECT_EQ(st.st_ino, x->ino);

	x = find(w, 3, b);
	ASSERT_NE(NULL, x);
	EXPECT_EQ(EPOLLOUT | EPOLLET | EPOLLERR | EPOLLHUP, x->events);
	EXPECT_EQ(7, x->data);

	x = find(w, 3, p[0]);
	ASSERT_NE(NULL, x);
	EXPECT_EQ(EPOLLIN | EPOLLRDHUP | EPOLLERR | EPOLLHUP, x->events);
	ASSERT_EQ(0, fstat(p[0], &st));
	EXPECT_EQ(st.st_ino, x->ino);
}

TEST_F(fdinfo, del_and_mod_show)
{
	int ep = ep_create1(0), a = efd_new(0);
	struct watch_line w[2];

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, a, EPOLLIN, 1));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_MOD, a, EPOLLOUT, 2));
	ASSERT_EQ(1, read_watches(ep, w, 2, NULL, 0));
	EXPECT_EQ(EPOLLOUT | EPOLLERR | EPOLLHUP, w[0].events);
	EXPECT_EQ(2, w[0].data);
	ASSERT_EQ(0, ep_ctl(ep, EPOLL_CTL_DEL, a, NULL));
	EXPECT_EQ(0, read_watches(ep, w, 2, NULL, 0));
}

/* A one-shot watch that fired keeps only its private bits. */
TEST_F(fdinfo, fired_oneshot_is_disarmed)
{
	int ep = ep_create1(0), a = efd_new(1);
	struct epoll_event ev;
	struct watch_line w[2];

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, a, EPOLLIN | EPOLLONESHOT | EPOLLET,
			 1));
	ASSERT_EQ(1, ep_wait(ep, &ev, 1, 0));
	ASSERT_EQ(1, read_watches(ep, w, 2, NULL, 0));
	EXPECT_EQ(EPOLLONESHOT | EPOLLET, w[0].events);
}

/* A dup is its own line, with its own fd number. */
TEST_F(fdinfo, dup_is_its_own_line)
{
	int ep = ep_create1(0), a = efd_new(0), b = dup(a);
	struct watch_line w[4];

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, a, EPOLLIN, 1));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, b, EPOLLIN, 2));
	ASSERT_EQ(2, read_watches(ep, w, 4, NULL, 0));
	EXPECT_NE(NULL, find(w, 2, a));
	EXPECT_NE(NULL, find(w, 2, b));
	EXPECT_EQ(w[0].ino, w[1].ino);
}

/* Linux forgets a watch when its file dies; so must the listing. */
TEST_F(fdinfo, closed_file_is_gone)
{
	int ep = ep_create1(0), a = efd_new(0), b = efd_new(0);
	struct watch_line w[4];

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, a, EPOLLIN, 1));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, b, EPOLLIN, 2));
	close(a);
	ASSERT_EQ(1, read_watches(ep, w, 4, NULL, 0));
	EXPECT_EQ(b, w[0].tfd);
}

static int set_block_suspend(bool on)
{
	cap_value_t cap = CAP_BLOCK_SUSPEND;
	cap_t caps = cap_get_proc();
	int err;

	if (!caps)
		return -1;
	err = cap_set_flag(caps, CAP_EFFECTIVE, 1, &cap,
			   on ? CAP_SET : CAP_CLEAR);
	if (!err)
		err = cap_set_proc(caps);
	cap_free(caps);
	return err;
}

/* EPOLLWAKEUP is kept with CAP_BLOCK_SUSPEND and silently dropped without. */
TEST_F(fdinfo, epollwakeup_needs_cap_block_suspend)
{
	int ep = ep_create1(0), a = efd_new(1), b = efd_new(1);
	struct epoll_event ev[2];
	struct watch_line w[4], *x;

	if (getuid() != 0)
		EPM_SKIP_TEST("needs root to hold CAP_BLOCK_SUSPEND");
	ASSERT_EQ(0, set_block_suspend(true));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, a, EPOLLIN | EPOLLWAKEUP, 1));
	ASSERT_EQ(0, set_block_suspend(false));
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, b, EPOLLIN | EPOLLWAKEUP, 2));
	ASSERT_EQ(2, read_watches(ep, w, 4, NULL, 0));
	x = find(w, 2, a);
	ASSERT_NE(NULL, x);
	EXPECT_EQ(EPOLLIN | EPOLLWAKEUP | EPOLLERR | EPOLLHUP, x->events);
	x = find(w, 2, b);
	ASSERT_NE(NULL, x);
	EXPECT_EQ(EPOLLIN | EPOLLERR | EPOLLHUP, x->events);
	/* The wakeup bit is never reported as an event. */
	ASSERT_EQ(2, ep_wait(ep, ev, 2, 0));
	EXPECT_EQ(EPOLLIN, ev[0].events);
	EXPECT_EQ(EPOLLIN, ev[1].events);
	/* MOD without the capability drops it too. */
	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_MOD, a, EPOLLIN | EPOLLWAKEUP, 1));
	ASSERT_EQ(2, read_watches(ep, w, 4, NULL, 0));
	EXPECT_EQ(EPOLLIN | EPOLLERR | EPOLLHUP, find(w, 2, a)->events);
}

/* No field carries a kernel address. */
TEST_F(fdinfo, no_kernel_pointers)
{
	int ep = ep_create1(0), a = efd_new(0);
	struct watch_line w[2];
	char text[4096];

	ASSERT_EQ(0, ctl(ep, EPOLL_CTL_ADD, a, EPOLLIN, 1));
	ASSERT_EQ(1, read_watches(ep, w, 2, text, sizeof(text)));
	EXPECT_EQ(NULL, strstr(text, "ffff8")) TH_LOG("%s", text);
	EXPECT_EQ(NULL, strstr(text, "ffff9")) TH_LOG("%s", text);
	EXPECT_EQ(NULL, strstr(text, "ffffffff")) TH_LOG("%s", text);
}

/* kqueue: one "knote:" line per knote, disabled ones marked, no address. */
TEST(kqueue_knotes_listed)
{
	int kq = epollmod_kqueue(), p[2];
	struct kevent ch[3];
	char text[4096] = "", line[256];
	unsigned long long ident, udata;
	int filter, disabled, n = 0;
	FILE *f;

	ASSERT_LE(0, kq);
	ASSERT_EQ(0, pipe(p));
	EV_SET(&ch[0], p[0], EVFILT_READ, EV_ADD | EV_CLEAR, 0, 0,
	       (void *)0x1234);
	EV_SET(&ch[1], 7, EVFILT_USER, EV_ADD | EV_DISABLE, 0, 0, NULL);
	EV_SET(&ch[2], 9, EVFILT_TIMER, EV_ADD, 0, 60000, NULL);
	ASSERT_EQ(0, epollmod_kevent(kq, ch, 3, NULL, 0, NULL));
	f = fdinfo_open(kq);
	ASSERT_NE(NULL, f);
	while (fgets(line, sizeof(line), f)) {
		strncat(text, line, sizeof(text) - strlen(text) - 1);
		if (sscanf(line, "knote: ident %llu filter %d flags %*x fflags %*x data %*d udata %llx disabled %d",
			   &ident, &filter, &udata, &disabled) != 4)
			continue;
		n++;
		if (filter == EVFILT_READ) {
			EXPECT_EQ((unsigned long long)p[0], ident);
			EXPECT_EQ(0x1234, udata);
			EXPECT_EQ(0, disabled);
		} else if (filter == EVFILT_USER) {
			EXPECT_EQ(7, ident);
			EXPECT_EQ(1, disabled);
		} else {
			EXPECT_EQ(EVFILT_TIMER, filter);
			EXPECT_EQ(9, ident);
		}
	}
	fclose(f);
	EXPECT_EQ(3, n) TH_LOG("%s", text);
	EXPECT_EQ(NULL, strstr(text, "ffff8")) TH_LOG("%s", text);
	EXPECT_EQ(NULL, strstr(text, "ffff9")) TH_LOG("%s", text);
	close(p[0]);
	close(p[1]);
	close(kq);
}

EPM_HARNESS_MAIN
