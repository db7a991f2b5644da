/* SPDX-License-Identifier: GPL-2.0 */
/*
 * kselftest_harness.h (extracted from linux-source-6.1 at build time) plus
 * what epollmod's runs need from it:
 *
 *  - a kernel-log check around every test: the log is read from where it
 *    stood when the test started, and a splat (WARNING, BUG, KASAN,
 *    lockdep, ...) fails that test even if its assertions passed;
 *  - "-l" lists the tests, "-t GLOB" runs the ones whose full name
 *    (fixture.variant.test) matches;
 *  - each test's wall time as a TAP comment.
 *
 * Use EPM_HARNESS_MAIN instead of TEST_HARNESS_MAIN.
 *
 * epm_run_test() and epm_harness_run() stand in for the harness's own
 * __run_test() and test_harness_run(), so they use its internals (the
 * fields of struct __test_metadata, __wait_for_test(), __fixture_list),
 * which the kernel changes at will. The build pins the two headers it was
 * written against by checksum (selftests/lib/kselftest.sha256, checked by
 * the Makefile when it extracts them): a linux-source-6.1 update that
 * changes them stops the build until this file is checked against them.
 */
#ifndef EPM_HARNESS_H
#define EPM_HARNESS_H

#include "kselftest_harness.h"

/* The harness's own main loop, replaced by epm_harness_run() below. */
static int (*const epm_unused_main)(int, char **) __attribute__((unused)) =
	test_harness_run;

#include <fcntl.h>
#include <fnmatch.h>
#include <time.h>

/* Skip from FIXTURE_SETUP: 6.1's harness would run the body after SKIP. */
#define EPM_SKIP_TEST(fmt, ...) SKIP(_exit(255), fmt, ##__VA_ARGS__)

/* Generated from scripts/splat-patterns.txt, which the VM scripts use too. */
static const char *const epm_splat_patterns[] = {
#include "splat_patterns.h"
};

/* Open the kernel log positioned at its end; -1 if it cannot be read. */
static int epm_kmsg_open(const char *test_name)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	int wfd;

	if (fd < 0)
		return -1;
	lseek(fd, 0, SEEK_END);
	/* Name the test in the log, for whoever reads the console. */
	wfd = open("/dev/kmsg", O_WRONLY | O_CLOEXEC);
	if (wfd >= 0) {
		dprintf(wfd, "epollmod-selftest: start %s\n", test_name);
		close(wfd);
	}
	return fd;
}

/* Count (and print) splat lines logged since epm_kmsg_open(). */
static int epm_kmsg_splats(int fd)
{
	char rec[8192];
	int splats = 0;

	if (fd < 0)
		return 0;
	for (;;) {
		ssize_t n = read(fd, rec, sizeof(rec) - 1);
		char *msg, *end;
		size_t i;

		if (n < 0 && errno == EPIPE)	/* overwritten: go on */
			continue;
		if (n <= 0)
			break;
		rec[n] = '\0';
		msg = strchr(rec, ';');
		if (!msg)
			continue;
		msg++;
		end = strchr(msg, '\n');
		if (end)
			*end = '\0';
		for (i = 0; i < ARRAY_SIZE(epm_splat_patterns); i++) {
			if (strstr(msg, epm_splat_patterns[i])) {
				ksft_print_msg("kernel log: %s\n", msg);
				splats++;
				break;
			}
		}
	}
	close(fd);
	return splats;
}

static double epm_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* __run_test() of the harness, with the log check before the verdict. */
static void epm_run_test(struct __fixture_metadata *f,
			 struct __fixture_variant_metadata *v,
			 struct __test_metadata *t, const char *name)
{
	double start = epm_now();
	int kmsg = epm_kmsg_open(name);
	int splats;

	t->passed = 1;
	t->skip = 0;
	t->trigger = 0;
	t->step = 1;
	t->no_print = 0;
	memset(t->results->reason, 0, sizeof(t->results->reason));

	ksft_print_msg(" RUN           %s ...\n", name);
	fflush(stdout);
	fflush(stderr);
	t->pid = fork();
	if (t->pid < 0) {
		ksft_print_msg("ERROR SPAWNING TEST CHILD\n");
		t->passed = 0;
	} else if (t->pid == 0) {
		setpgrp();
		t->fn(t, v);
		if (t->skip)
			_exit(255);
		_exit(t->passed ? 0 : t->step);
	} else {
		__wait_for_test(t);
	}

	splats = epm_kmsg_splats(kmsg);
	if (splats) {
		ksft_print_msg("%s: %d kernel splat line(s) while it ran\n",
			       name, splats);
		t->passed = 0;
		t->skip = 0;
	}
	ksft_print_msg("         %4s  %s (%.3f s)\n",
		       t->skip ? "SKIP" : t->passed ? "OK" : "FAIL", name,
		       epm_now() - start);
	if (t->skip)
		ksft_test_result_skip("%s: %s\n", name,
				      t->results->reason[0] ?
				      t->results->reason : "unknown");
	else
		ksft_test_result(t->passed, "%s\n", name);
	(void)f;
}

static void epm_test_name(char *buf, size_t len,
			  struct __fixture_metadata *f,
			  struct __fixture_variant_metadata *v,
			  struct __test_metadata *t)
{
	snprintf(buf, len, "%s%s%s.%s", f->name, v->name[0] ? "." : "",
		 v->name, t->name);
}

static int epm_harness_run(int argc, char **argv)
{
	struct __fixture_variant_metadata no_variant = { .name = "", };
	struct __fixture_variant_metadata *v;
	struct __fixture_metadata *f;
	struct __test_results *results;
	struct __test_metadata *t;
	const char *glob = "*";
	unsigned int planned = 0, failed = 0;
	bool list = false;
	char name[512];
	int opt;

	while ((opt = getopt(argc, argv, "hlt:")) != -1) {
		switch (opt) {
		case 'l':
			list = true;
			break;
		case 't':
			glob = optarg;
			break;
		default:
			fprintf(stderr, "usage: %s [-l] [-t GLOB]\n"
				"  -l       list fixture.variant.test names\n"
				"  -t GLOB  run the tests whose name matches\n",
				argv[0]);
			return opt == 'h' ? KSFT_PASS : KSFT_FAIL;
		}
	}

#define EPM_FOR_EACH_TEST						\
	for (f = __fixture_list; f; f = f->next)			\
		for (v = f->variant ?: &no_variant; v; v = v->next)	\
			for (t = f->tests; t; t = t->next)		\
				if (epm_test_name(name, sizeof(name), f, v, t), \
				    !fnmatch(glob, name, 0))

	EPM_FOR_EACH_TEST {
		if (list)
			printf("%s\n", name);
		planned++;
	}
	if (list)
		return KSFT_PASS;

	results = mmap(NULL, sizeof(*results), PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (results == MAP_FAILED)
		ksft_exit_fail_msg("mmap: %s\n", strerror(errno));

	ksft_print_header();
	ksft_set_plan(planned);
	EPM_FOR_EACH_TEST {
		t->results = results;
		epm_run_test(f, v, t, name);
		t->results = NULL;
		if (!t->passed)
			failed++;
	}
#undef EPM_FOR_EACH_TEST
	munmap(results, sizeof(*results));
	ksft_print_msg("%s: %u / %u tests passed.\n",
		       failed ? "FAILED" : "PASSED", planned - failed, planned);
	ksft_exit(failed == 0);
	return KSFT_FAIL;
}

#define EPM_HARNESS_MAIN \
	int main(int argc, char **argv) { return epm_harness_run(argc, argv); }

#endif /* EPM_HARNESS_H */
