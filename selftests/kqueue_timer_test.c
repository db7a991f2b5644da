// SPDX-License-Identifier: GPL-2.0
/*
 * EVFILT_TIMER: one-shot and periodic, the units, NOTE_ABSTIME, the count
 * of expirations in data, re-EV_ADD restarting, disabled expirations
 * discarded, and the errnos of a period that cannot be.
 *
 * Time checks: lower bounds exactly (a timer never fires early), upper
 * bounds only in seconds, counts only as at least / at most what the
 * measured time allows.
 */
#include "lib/harness.h"

#include "lib/kq.h"

KQ_FIXTURE(kqueue_timer);

#define MS	1000000LL

/* Timers behave as EV_CLEAR, and the flag comes back with their events. */
#define TFLAGS(f)	(EV_ADD | EV_CLEAR | (f))

static int add_timer(int kq, uintptr_t id, unsigned short flags,
		     unsigned int fflags, intptr_t data, void *udata)
{
	return kq_change(kq, id, EVFILT_TIMER, EV_ADD | flags, fflags, data,
			 udata);
}

static int64_t realtime_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

TEST_F(kqueue_timer, oneshot_not_fired_early)
{
	struct kevent ev[1];
	int64_t start = now_ns();
	int n;

	ASSERT_EQ(0, add_timer(self->kq, 1, EV_ONESHOT, 0, 500, UD(1)));
	n = kq_poll(self->kq, ev, 1);
	if (now_ns() - start < 500 * MS)
		EXPECT_EQ(0, n);
}

TEST_F(kqueue_timer, oneshot_fires_once)
{
	struct kevent ev[2];
	int64_t start = now_ns();

	ASSERT_EQ(0, add_timer(self->kq, 7, EV_ONESHOT, 0, 50, UD(70)));
	ASSERT_EQ(1, kq_wait(self->kq, ev, 2, 5000));
	EXPECT_LE(50 * MS, now_ns() - start);
	EXPECT_KEV(ev[0], 7, EVFILT_TIMER, TFLAGS(EV_ONESHOT), 0, 1, UD(70));
	EXPECT_EQ(0, kq_wait(self->kq, ev, 2, 200));
}

TEST_F(kqueue_timer, oneshot_deleted_after_delivery)
{
	struct kevent ev[2];

	ASSERT_EQ(0, add_timer(self->kq, 7, EV_ONESHOT, 0, 10, UD(70)));
	ASSERT_EQ(1, kq_wait(self->kq, ev, 2, 5000));
	errno = 0;
	EXPECT_EQ(-1, kq_change(self->kq, 7, EVFILT_TIMER, EV_DELETE, 0, 0,
				NULL));
	EXPECT_EQ(ENOENT, errno);
}

TEST_F(kqueue_timer, periodic_keeps_firing)
{
	struct kevent ev[2];

	ASSERT_EQ(0, add_timer(self->kq, 2, 0, 0, 20, UD(2)));
	for (int i = 0; i < 3; i++) {
		ASSERT_EQ(1, kq_wait(self->kq, ev, 2, 5000));
		EXPECT_KEV_NODATA(ev[0], 2, EVFILT_TIMER, TFLAGS(0), 0, UD(2));
		EXPECT_LE(1, ev[0].data);
	}
}

/* data counts the expirations since the last delivery. */
TEST_F(kqueue_timer, periodic_data_counts_expirations)
{
	struct kevent ev[2];
	int64_t start = now_ns(), elapsed;

	ASSERT_EQ(0, add_timer(self->kq, 3, 0, 0, 10, UD(3)));
	sleep_ms(200);
	ASSERT_EQ(1, kq_poll(self->kq, ev, 2));
	elapsed = now_ns() - start;
	EXPECT_KEV_NODATA(ev[0], 3, EVFILT_TIMER, TFLAGS(0), 0, UD(3));
	EXPECT_LE(5, ev[0].data);
	EXPECT_GE(elapsed / (10 * MS) + 1, ev[0].data);
}

/* ... since the last delivery, not since the start. */
TEST_F(kqueue_timer, periodic_count_restarts_after_delivery)
{
	struct kevent ev[2];
	int64_t first, elapsed;

	ASSERT_EQ(0, add_timer(self->kq, 3, 0, 0, 100, UD(3)));
	sleep_ms(250);
	/* taken before the delivery: the count can only be within elapsed */
	first = now_ns();
	ASSERT_EQ(1, kq_poll(self->kq, ev, 2));
	sleep_ms(350);
	ASSERT_EQ(1, kq_poll(self->kq, ev, 2));
	elapsed = now_ns() - first;
	EXPECT_LE(3, ev[0].data);
	EXPECT_GE(elapsed / (100 * MS) + 1, ev[0].data);
}

/* One unit's timer each: never early, and delivered fflags are 0. */
static void unit_fires_not_early(struct __test_metadata *_metadata, int kq,
				 unsigned int fflags, intptr_t data,
				 int64_t min_ns)
{
	struct kevent ev[2];
	int64_t start = now_ns();

	ASSERT_EQ(0, add_timer(kq, 4, EV_ONESHOT, fflags, data, UD(4)));
	ASSERT_EQ(1, kq_wait(kq, ev, 2, 10000));
	EXPECT_LE(min_ns, now_ns() - start);
	EXPECT_KEV(ev[0], 4, EVFILT_TIMER, TFLAGS(EV_ONESHOT), 0, 1, UD(4));
}

TEST_F(kqueue_timer, unit_default_is_milliseconds)
{
	unit_fires_not_early(_metadata, self->kq, 0, 100, 100 * MS);
}

TEST_F(kqueue_timer, unit_milliseconds)
{
	unit_fires_not_early(_metadata, self->kq, NOTE_MSECONDS, 100,
			     100 * MS);
}

TEST_F(kqueue_timer, unit_seconds)
{
	unit_fires_not_early(_metadata, self->kq, NOTE_SECONDS, 1, 1000 * MS);
}

TEST_F(kqueue_timer, unit_microseconds)
{
	unit_fires_not_early(_metadata, self->kq, NOTE_USECONDS, 100000,
			     100 * MS);
}

TEST_F(kqueue_timer, unit_nanoseconds)
{
	unit_fires_not_early(_metadata, self->kq, NOTE_NSECONDS, 100000000,
			     100 * MS);
}

TEST_F(kqueue_timer, abstime_fires_at_deadline)
{
	struct kevent ev[2];
	int64_t deadline = realtime_ms() + 200;

	ASSERT_EQ(0, add_timer(self->kq, 5, 0, NOTE_ABSTIME, deadline, UD(5)));
	ASSERT_EQ(1, kq_wait(self->kq, ev, 2, 10000));
	EXPECT_LE(deadline, realtime_ms());
	EXPECT_KEV(ev[0], 5, EVFILT_TIMER, TFLAGS(0), 0, 1, UD(5));
	/* a deadline passes once */
	EXPECT_EQ(0, kq_wait(self->kq, ev, 2, 300));
}

TEST_F(kqueue_timer, abstime_past_fires_at_once)
{
	struct kevent ev[2];
	int64_t start = now_ns();

	ASSERT_EQ(0, add_timer(self->kq, 5, 0, NOTE_ABSTIME | NOTE_SECONDS,
			       realtime_ms() / 1000 - 10, UD(5)));
	ASSERT_EQ(1, kq_wait(self->kq, ev, 2, 10000));
	EXPECT_GT(2000 * MS, now_ns() - start);
	EXPECT_KEV(ev[0], 5, EVFILT_TIMER, TFLAGS(0), 0, 1, UD(5));
}

TEST_F(kqueue_timer, readd_restarts_with_new_period)
{
	struct kevent ev[2];
	int64_t start;

	ASSERT_EQ(0, add_timer(self->kq, 6, EV_ONESHOT, 0, 60000, UD(6)));
	start = now_ns();
	ASSERT_EQ(0, add_timer(self->kq, 6, EV_ONESHOT, 0, 50, UD(7)));
	ASSERT_EQ(1, kq_wait(self->kq, ev, 2, 10000));
	EXPECT_LE(50 * MS, now_ns() - start);
	EXPECT_KEV(ev[0], 6, EVFILT_TIMER, TFLAGS(EV_ONESHOT), 0, 1, UD(7));
}

/* The same period again: the count starts over from the re-add. */
TEST_F(kqueue_timer, readd_same_period_restarts_phase)
{
	struct kevent ev[2];
	int64_t start;

	ASSERT_EQ(0, add_timer(self->kq, 6, 0, 0, 400, UD(6)));
	sleep_ms(250);
	start = now_ns();
	ASSERT_EQ(0, add_timer(self->kq, 6, 0, 0, 400, UD(7)));
	ASSERT_EQ(1, kq_wait(self->kq, ev, 2, 10000));
	EXPECT_LE(400 * MS, now_ns() - start);
	EXPECT_KEV_NODATA(ev[0], 6, EVFILT_TIMER, TFLAGS(0), 0, UD(7));
}

TEST_F(kqueue_timer, readd_takes_new_unit)
{
	struct kevent ev[2];

	ASSERT_EQ(0, add_timer(self->kq, 6, EV_ONESHOT, NOTE_SECONDS, 100,
			       UD(6)));
	ASSERT_EQ(0, add_timer(self->kq, 6, EV_ONESHOT, NOTE_MSECONDS, 100,
			       UD(7)));
	ASSERT_EQ(1, kq_wait(self->kq, ev, 2, 10000));
	EXPECT_KEV(ev[0], 6, EVFILT_TIMER, TFLAGS(EV_ONESHOT), 0, 1, UD(7));
}

/*
 * A re-add restarts the timer with its new period but keeps the knote's
 * flags: without EV_ONESHOT, a one-shot timer stays one-shot.
 */
TEST_F(kqueue_timer, readd_keeps_oneshot)
{
	struct kevent ev[2];

	ASSERT_EQ(0, add_timer(self->kq, 6, EV_ONESHOT, 0, 60000, UD(6)));
	ASSERT_EQ(0, add_timer(self->kq, 6, 0, 0, 20, UD(7)));
	ASSERT_EQ(1, kq_wait(self->kq, ev, 2, 10000));
	EXPECT_KEV(ev[0], 6, EVFILT_TIMER, TFLAGS(EV_ONESHOT), 0, 1, UD(7));
	/* delivered once, then gone */
	EXPECT_EQ(0, kq_wait(self->kq, ev, 2, 100));
	errno = 0;
	EXPECT_EQ(-1, kq_change(self->kq, 6, EVFILT_TIMER, EV_DELETE, 0, 0,
				NULL));
	EXPECT_EQ(ENOENT, errno);
}

/* ... and with EV_ONESHOT, a periodic one stays periodic. */
TEST_F(kqueue_timer, readd_does_not_add_oneshot)
{
	struct kevent ev[2];

	ASSERT_EQ(0, add_timer(self->kq, 6, 0, 0, 60000, UD(6)));
	ASSERT_EQ(0, add_timer(self->kq, 6, EV_ONESHOT, 0, 20, UD(7)));
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(1, kq_wait(self->kq, ev, 2, 10000));
		EXPECT_KEV_NODATA(ev[0], 6, EVFILT_TIMER, TFLAGS(0), 0, UD(7));
	}
}

/* Only EV_ADD sets a period: an EV_ENABLE carrying data does not. */
TEST_F(kqueue_timer, enable_keeps_period)
{
	struct kevent ev[2];

	ASSERT_EQ(0, add_timer(self->kq, 6, EV_ONESHOT, 0, 60000, UD(6)));
	ASSERT_EQ(0, kq_change(self->kq, 6, EVFILT_TIMER, EV_ENABLE, 0, 10,
			       UD(7)));
	EXPECT_EQ(0, kq_wait(self->kq, ev, 2, 300));
}

TEST_F(kqueue_timer, negative_period_einval)
{
	struct kevent ch = kev(8, EVFILT_TIMER, EV_ADD, 0, -1, UD(8)), out;

	ASSERT_EQ(1, kq_change1(self->kq, ch, &out));
	EXPECT_KEV_ERR(out, ch, EINVAL);
}

TEST_F(kqueue_timer, huge_period_seconds_einval)
{
	struct kevent ch = kev(8, EVFILT_TIMER, EV_ADD, NOTE_SECONDS,
			       INTPTR_MAX, UD(8)), out;

	ASSERT_EQ(1, kq_change1(self->kq, ch, &out));
	EXPECT_KEV_ERR(out, ch, EINVAL);
}

TEST_F(kqueue_timer, huge_period_milliseconds_einval)
{
	struct kevent ch = kev(8, EVFILT_TIMER, EV_ADD | EV_ONESHOT, 0,
			       INTPTR_MAX, UD(8)), out;

	ASSERT_EQ(1, kq_change1(self->kq, ch, &out));
	EXPECT_KEV_ERR(out, ch, EINVAL);
}

/* The failed add left no knote behind. */
TEST_F(kqueue_timer, failed_add_leaves_no_knote)
{
	struct kevent ch = kev(8, EVFILT_TIMER, EV_ADD, 0, -5, NULL), out;

	ASSERT_EQ(1, kq_change1(self->kq, ch, &out));
	errno = 0;
	EXPECT_EQ(-1, kq_change(self->kq, 8, EVFILT_TIMER, EV_DELETE, 0, 0,
				NULL));
	EXPECT_EQ(ENOENT, errno);
}

/* A periodic timer with data 0 runs with a period of one unit. */
TEST_F(kqueue_timer, periodic_zero_is_one_unit)
{
	struct kevent ev[2];
	int64_t start = now_ns(), elapsed;

	ASSERT_EQ(0, add_timer(self->kq, 9, 0, 0, 0, UD(9)));
	sleep_ms(100);
	ASSERT_EQ(1, kq_poll(self->kq, ev, 2));
	elapsed = now_ns() - start;
	EXPECT_KEV_NODATA(ev[0], 9, EVFILT_TIMER, TFLAGS(0), 0, UD(9));
	EXPECT_LE(20, ev[0].data);
	EXPECT_GE(elapsed / MS + 1, ev[0].data);
}

TEST_F(kqueue_timer, oneshot_zero_fires_at_once)
{
	struct kevent ev[2];
	int64_t start = now_ns();

	ASSERT_EQ(0, add_timer(self->kq, 9, EV_ONESHOT, 0, 0, UD(9)));
	ASSERT_EQ(1, kq_wait(self->kq, ev, 2, 10000));
	EXPECT_GT(2000 * MS, now_ns() - start);
	EXPECT_KEV(ev[0], 9, EVFILT_TIMER, TFLAGS(EV_ONESHOT), 0, 1, UD(9));
}

/* Expirations while disabled are discarded, not reported on enable. */
TEST_F(kqueue_timer, disabled_expirations_discarded)
{
	struct kevent ev[2];
	int64_t enabled;
	int n;

	ASSERT_EQ(0, add_timer(self->kq, 10, EV_DISABLE, 0, 100, UD(10)));
	sleep_ms(450);
	ASSERT_EQ(0, kq_change(self->kq, 10, EVFILT_TIMER, EV_ENABLE, 0, 0,
			       UD(10)));
	enabled = now_ns();
	n = kq_poll(self->kq, ev, 2);
	if (n == 1) {
		/* only what expired after the enable, never the 4 before */
		EXPECT_GE((now_ns() - enabled) / (100 * MS) + 1, ev[0].data);
		EXPECT_GT(4, ev[0].data);
	} else {
		EXPECT_EQ(0, n);
	}
	/* and it runs on */
	ASSERT_EQ(1, kq_wait(self->kq, ev, 2, 10000));
	EXPECT_KEV_NODATA(ev[0], 10, EVFILT_TIMER, TFLAGS(0), 0, UD(10));
}

TEST_F(kqueue_timer, disable_drops_pending_expirations)
{
	struct kevent ev[2];

	ASSERT_EQ(0, add_timer(self->kq, 10, EV_ONESHOT, 0, 10, UD(10)));
	sleep_ms(100);
	ASSERT_EQ(0, kq_change(self->kq, 10, EVFILT_TIMER, EV_DISABLE, 0, 0,
			       UD(10)));
	EXPECT_EQ(0, kq_poll(self->kq, ev, 2));
}

TEST_F(kqueue_timer, dispatch_disables_until_enabled)
{
	struct kevent ev[2];

	ASSERT_EQ(0, add_timer(self->kq, 11, EV_DISPATCH, 0, 10, UD(11)));
	ASSERT_EQ(1, kq_wait(self->kq, ev, 2, 10000));
	EXPECT_KEV_NODATA(ev[0], 11, EVFILT_TIMER, TFLAGS(EV_DISPATCH), 0,
			  UD(11));
	EXPECT_EQ(0, kq_wait(self->kq, ev, 2, 100));
	ASSERT_EQ(0, kq_change(self->kq, 11, EVFILT_TIMER, EV_ENABLE, 0, 0,
			       UD(12)));
	ASSERT_EQ(1, kq_wait(self->kq, ev, 2, 10000));
	EXPECT_KEV_NODATA(ev[0], 11, EVFILT_TIMER, TFLAGS(EV_DISPATCH), 0,
			  UD(12));
	EXPECT_LE(1, ev[0].data);
}

TEST_F(kqueue_timer, delete_stops_timer)
{
	struct kevent ev[2];

	ASSERT_EQ(0, add_timer(self->kq, 12, 0, 0, 10, UD(12)));
	ASSERT_EQ(0, kq_change(self->kq, 12, EVFILT_TIMER, EV_DELETE, 0, 0,
			       NULL));
	EXPECT_EQ(0, kq_wait(self->kq, ev, 2, 200));
}

/* Idents are names: any value, and several timers run side by side. */
TEST_F(kqueue_timer, several_timers_independent)
{
	uintptr_t ids[3] = { 0, 77, UINTPTR_MAX };
	struct kevent ev[4];
	int seen = 0, got = 0;

	for (int i = 0; i < 3; i++)
		ASSERT_EQ(0, add_timer(self->kq, ids[i], EV_ONESHOT, 0,
				       20 * (i + 1), UD(i)));
	while (got < 3) {
		int n = kq_wait(self->kq, ev, 4, 10000);

		ASSERT_LT(0, n);
		for (int i = 0; i < n; i++) {
			int k = (uintptr_t)ev[i].udata;

			ASSERT_TRUE(k >= 0 && k < 3);
			EXPECT_KEV(ev[i], ids[k], EVFILT_TIMER,
				   TFLAGS(EV_ONESHOT), 0, 1, UD(k));
			EXPECT_FALSE(seen & (1 << k));
			seen |= 1 << k;
		}
		got += n;
	}
	EXPECT_EQ(7, seen);
}

EPM_HARNESS_MAIN
