// SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
/*
 * A tour of kqueue, written for <sys/event.h> as on FreeBSD: it builds
 * there unchanged, and here against epollmod's drop-in header and
 * libepollmod-kqueue. One kevent() call per turn of the loop carries the
 * re-arming changes of the last turn and waits for the next events:
 *
 *  - a pipe, EV_DISPATCH: re-enabled in the next call's change list;
 *  - a periodic timer (EVFILT_TIMER) that writes to the pipe;
 *  - a user event (EVFILT_USER) that another thread triggers;
 *  - a child process (EVFILT_PROC, NOTE_EXIT) and its SIGCHLD
 *    (EVFILT_SIGNAL);
 *  - a one-shot deadline timer that ends the tour.
 *
 * Prints one line per event; exits 0 once each kind was seen.
 */
#include <sys/types.h>
#include <sys/event.h>
#include <sys/wait.h>

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { TICK = 1, POKE = 2, DEADLINE = 3 };

static int kq;

static void die(const char *what)
{
	fprintf(stderr, "kq_tour: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Another thread wakes the loop through the user event. */
static void *poker(void *arg)
{
	struct kevent kev;

	(void)arg;
	usleep(50 * 1000);
	EV_SET(&kev, POKE, EVFILT_USER, 0, NOTE_TRIGGER | NOTE_FFOR | 0x2a, 0,
	       NULL);
	if (kevent(kq, &kev, 1, NULL, 0, NULL) != 0)
		die("trigger");
	return NULL;
}

int main(void)
{
	struct kevent changes[8], events[8];
	int nchanges = 0, p[2], seen = 0, want = 6;
	pthread_t thread;
	pid_t child;

	kq = kqueue();
	if (kq < 0)
		die("kqueue (is epollmod.ko loaded?)");
	if (pipe(p) != 0)
		die("pipe");
	child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		usleep(100 * 1000);
		_exit(7);
	}

	EV_SET(&changes[nchanges++], p[0], EVFILT_READ, EV_ADD | EV_DISPATCH, 0,
	       0, "pipe");
	EV_SET(&changes[nchanges++], TICK, EVFILT_TIMER, EV_ADD, 0, 20, "tick");
	EV_SET(&changes[nchanges++], POKE, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0,
	       "poke");
	EV_SET(&changes[nchanges++], child, EVFILT_PROC, EV_ADD, NOTE_EXIT, 0,
	       "child");
	EV_SET(&changes[nchanges++], SIGCHLD, EVFILT_SIGNAL, EV_ADD, 0, 0,
	       "sigchld");
	EV_SET(&changes[nchanges++], DEADLINE, EVFILT_TIMER,
	       EV_ADD | EV_ONESHOT, NOTE_SECONDS, 10, "deadline");
	if (pthread_create(&thread, NULL, poker, NULL) != 0)
		die("pthread_create");

	while (seen != (1 << want) - 1) {
		int n = kevent(kq, changes, nchanges, events, 8, NULL);

		if (n < 0)
			die("kevent");
		nchanges = 0;
		for (int i = 0; i < n; i++) {
			struct kevent *ev = &events[i];
			char buf[64];

			printf("%-8s ident=%lu filter=%d flags=%#x fflags=%#x "
			       "data=%ld\n",
			       (const char *)ev->udata,
			       (unsigned long)ev->ident, ev->filter, ev->flags,
			       ev->fflags, (long)ev->data);
			if (ev->flags & EV_ERROR) {
				errno = (int)ev->data;
				die((const char *)ev->udata);
			}
			switch (ev->filter) {
			case EVFILT_READ:
				if (read(p[0], buf, sizeof(buf)) < 0)
					die("read");
				seen |= 1 << 0;
				/* Re-armed by the next call, with its wait. */
				EV_SET(&changes[nchanges++], p[0], EVFILT_READ,
				       EV_ENABLE, 0, 0, "pipe");
				break;
			case EVFILT_TIMER:
				if (ev->ident == DEADLINE) {
					fprintf(stderr, "kq_tour: deadline\n");
					return 1;
				}
				if (write(p[1], "t", 1) != 1)
					die("write");
				seen |= 1 << 1;
				break;
			case EVFILT_USER:
				seen |= 1 << 2;
				break;
			case EVFILT_PROC:
				if (!WIFEXITED(ev->data) ||
				    WEXITSTATUS(ev->data) != 7) {
					fprintf(stderr, "kq_tour: status\n");
					return 1;
				}
				waitpid(child, NULL, 0);
				seen |= 1 << 3;
				break;
			case EVFILT_SIGNAL:
				seen |= 1 << 4;
				break;
			}
		}
		/* The tick stops once everything else was seen. */
		if ((seen & 0x1d) == 0x1d && !(seen & (1 << 5))) {
			EV_SET(&changes[nchanges++], TICK, EVFILT_TIMER,
			       EV_DELETE, 0, 0, "tick");
			seen |= 1 << 5;
		}
	}
	pthread_join(thread, NULL);
	printf("kq_tour: every kind of event seen\n");
	return 0;
}
