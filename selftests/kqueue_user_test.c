// SPDX-License-Identifier: GPL-2.0
/*
 * EVFILT_USER: never active until NOTE_TRIGGER; the fflags operations;
 * level by default, EV_CLEAR, EV_ONESHOT, EV_DISPATCH; triggers while
 * disabled; udata replaced by a bare trigger; a trigger from another
 * thread waking a blocked kevent().
 */
#include "lib/harness.h"

#include <pthread.h>

#include "lib/kq.h"

KQ_FIXTURE(kqueue_user);

static int user(int kq, uintptr_t id, unsigned short flags,
		unsigned int fflags, void *udata)
{
	return kq_change(kq, id, EVFILT_USER, flags, fflags, 0, udata);
}

/* One event is pending: user knote 1's, as given. */
static void user_reported(struct __test_metadata *_metadata, int kq,
			  unsigned short flags, unsigned int fflags,
			  void *udata)
{
	struct kevent ev[2];

	ASSERT_EQ(1, kq_poll(kq, ev, 2));
	EXPECT_KEV(ev[0], 1, EVFILT_USER, flags, fflags, 0, udata);
}

TEST_F(kqueue_user, not_active_until_triggered)
{
	struct kevent ev[2];

	ASSERT_EQ(0, user(self->kq, 1, EV_ADD, 0, UD(1)));
	EXPECT_EQ(0, kq_poll(self->kq, ev, 2));
}

TEST_F(kqueue_user, trigger_delivers)
{
	ASSERT_EQ(0, user(self->kq, 1, EV_ADD, 0, UD(1)));
	ASSERT_EQ(0, user(self->kq, 1, 0, NOTE_TRIGGER, UD(1)));
	user_reported(_metadata, self->kq, EV_ADD, 0, UD(1));
}

TEST_F(kqueue_user, trigger_in_add)
{
	ASSERT_EQ(0, user(self->kq, 1, EV_ADD, NOTE_TRIGGER, UD(1)));
	user_reported(_metadata, self->kq, EV_ADD, 0, UD(1));
}

/* A change's data is not the event's: delivered data is 0. */
TEST_F(kqueue_user, delivered_data_is_0)
{
	ASSERT_EQ(0, kq_change(self->kq, 1, EVFILT_USER, EV_ADD, NOTE_TRIGGER,
			       1234, UD(1)));
	user_reported(_metadata, self->kq, EV_ADD, 0, UD(1));
}

/* Without EV_CLEAR or EV_DISPATCH a triggered event stays triggered. */
TEST_F(kqueue_user, level_stays_triggered)
{
	ASSERT_EQ(0, user(self->kq, 1, EV_ADD, NOTE_TRIGGER, UD(1)));
	for (int i = 0; i < 3; i++)
		user_reported(_metadata, self->kq, EV_ADD, 0, UD(1));
}

TEST_F(kqueue_user, clear_delivers_once_per_trigger)
{
	struct kevent ev[2];

	ASSERT_EQ(0, user(self->kq, 1, EV_ADD | EV_CLEAR, 0, UD(1)));
	for (int i = 0; i < 2; i++) {
		ASSERT_EQ(0, user(self->kq, 1, 0, NOTE_TRIGGER, UD(1)));
		user_reported(_metadata, self->kq, EV_ADD | EV_CLEAR, 0, UD(1));
		EXPECT_EQ(0, kq_poll(self->kq, ev, 2));
	}
}

TEST_F(kqueue_user, triggers_before_delivery_merge)
{
	struct kevent ev[2];

	ASSERT_EQ(0, user(self->kq, 1, EV_ADD | EV_CLEAR, 0, UD(1)));
	for (int i = 0; i < 3; i++)
		ASSERT_EQ(0, user(self->kq, 1, 0, NOTE_TRIGGER, UD(1)));
	user_reported(_metadata, self->kq, EV_ADD | EV_CLEAR, 0, UD(1));
	EXPECT_EQ(0, kq_poll(self->kq, ev, 2));
}

TEST_F(kqueue_user, oneshot_delivers_once_then_deleted)
{
	struct kevent ev[2];

	ASSERT_EQ(0, user(self->kq, 1, EV_ADD | EV_ONESHOT, NOTE_TRIGGER,
			  UD(1)));
	user_reported(_metadata, self->kq, EV_ADD | EV_ONESHOT, 0, UD(1));
	EXPECT_EQ(0, kq_poll(self->kq, ev, 2));
	errno = 0;
	EXPECT_EQ(-1, user(self->kq, 1, 0, NOTE_TRIGGER, NULL));
	EXPECT_EQ(ENOENT, errno);
}

TEST_F(kqueue_user, dispatch_disables_after_delivery)
{
	struct kevent ev[2];

	ASSERT_EQ(0, user(self->kq, 1, EV_ADD | EV_DISPATCH, NOTE_TRIGGER,
			  UD(1)));
	user_reported(_metadata, self->kq, EV_ADD | EV_DISPATCH, 0, UD(1));
	EXPECT_EQ(0, kq_poll(self->kq, ev, 2));
}

/* The delivery consumed the trigger: EV_ENABLE alone brings nothing. */
TEST_F(kqueue_user, dispatch_enable_alone_delivers_nothing)
{
	struct kevent ev[2];

	ASSERT_EQ(0, user(self->kq, 1, EV_ADD | EV_DISPATCH, NOTE_TRIGGER,
			  UD(1)));
	ASSERT_EQ(1, kq_poll(self->kq, ev, 2));
	ASSERT_EQ(0, user(self->kq, 1, EV_ENABLE, 0, UD(2)));
	EXPECT_EQ(0, kq_poll(self->kq, ev, 2));
}

TEST_F(kqueue_user, dispatch_enable_and_trigger_delivers)
{
	struct kevent ev[2];

	ASSERT_EQ(0, user(self->kq, 1, EV_ADD | EV_DISPATCH, NOTE_TRIGGER,
			  UD(1)));
	ASSERT_EQ(1, kq_poll(self->kq, ev, 2));
	ASSERT_EQ(0, user(self->kq, 1, EV_ENABLE, NOTE_TRIGGER, UD(2)));
	user_reported(_metadata, self->kq, EV_ADD | EV_DISPATCH, 0, UD(2));
	EXPECT_EQ(0, kq_poll(self->kq, ev, 2));
}

/* A trigger while disabled is kept, and delivered once enabled. */
TEST_F(kqueue_user, trigger_while_disabled_delivered_on_enable)
{
	struct kevent ev[2];

	ASSERT_EQ(0, user(self->kq, 1, EV_ADD | EV_DISABLE, 0, UD(1)));
	ASSERT_EQ(0, user(self->kq, 1, 0, NOTE_TRIGGER, UD(2)));
	EXPECT_EQ(0, kq_poll(self->kq, ev, 2));
	ASSERT_EQ(0, user(self->kq, 1, EV_ENABLE, 0, UD(3)));
	user_reported(_metadata, self->kq, EV_ADD, 0, UD(3));
}

TEST_F(kqueue_user, disable_drops_pending_event)
{
	struct kevent ev[2];

	ASSERT_EQ(0, user(self->kq, 1, EV_ADD | EV_CLEAR, NOTE_TRIGGER,
			  UD(1)));
	ASSERT_EQ(0, user(self->kq, 1, EV_DISABLE, 0, UD(1)));
	EXPECT_EQ(0, kq_poll(self->kq, ev, 2));
}

TEST_F(kqueue_user, delete_drops_pending_event)
{
	struct kevent ev[2];

	ASSERT_EQ(0, user(self->kq, 1, EV_ADD, NOTE_TRIGGER, UD(1)));
	ASSERT_EQ(0, user(self->kq, 1, EV_DELETE, 0, NULL));
	EXPECT_EQ(0, kq_poll(self->kq, ev, 2));
}

/* A bare NOTE_TRIGGER is a modify: it replaces udata. */
TEST_F(kqueue_user, bare_trigger_replaces_udata)
{
	ASSERT_EQ(0, user(self->kq, 1, EV_ADD, 0, UD(1)));
	ASSERT_EQ(0, user(self->kq, 1, 0, NOTE_TRIGGER, UD(2)));
	user_reported(_metadata, self->kq, EV_ADD, 0, UD(2));
}

/*
 * A knote added with NOTE_FFCOPY | @initial, then triggered with @op
 * (NOTE_FFOR, NOTE_FFAND...) | @arg: its event's fflags are @expected.
 */
static void fflags_op(struct __test_metadata *_metadata, int kq,
		      unsigned int initial, unsigned int op, unsigned int arg,
		      unsigned int expected)
{
	ASSERT_EQ(0, user(kq, 1, EV_ADD, NOTE_FFCOPY | initial, UD(1)));
	ASSERT_EQ(0, user(kq, 1, 0, op | NOTE_TRIGGER | arg, UD(1)));
	user_reported(_metadata, kq, EV_ADD, expected, UD(1));
}

TEST_F(kqueue_user, ffcopy_sets_fflags)
{
	fflags_op(_metadata, self->kq, 0x5, NOTE_FFCOPY, 0x123, 0x123);
}

TEST_F(kqueue_user, ffor_ors_fflags)
{
	fflags_op(_metadata, self->kq, 0x1, NOTE_FFOR, 0x4, 0x5);
}

TEST_F(kqueue_user, ffand_ands_fflags)
{
	fflags_op(_metadata, self->kq, 0x7, NOTE_FFAND, 0x15, 0x5);
}

TEST_F(kqueue_user, ffnop_keeps_fflags)
{
	fflags_op(_metadata, self->kq, 0x9, NOTE_FFNOP, 0x6, 0x9);
}

/* Only the low 24 bits are kept and delivered; NOTE_TRIGGER is not. */
TEST_F(kqueue_user, fflags_low_24_bits_only)
{
	ASSERT_EQ(0, user(self->kq, 1, EV_ADD,
			  NOTE_FFCOPY | NOTE_TRIGGER | 0x3effffff, UD(1)));
	user_reported(_metadata, self->kq, EV_ADD, NOTE_FFLAGSMASK, UD(1));
}

/* fflags combine across triggers, while the event waits. */
TEST_F(kqueue_user, fflags_accumulate_before_delivery)
{
	ASSERT_EQ(0, user(self->kq, 1, EV_ADD | EV_CLEAR, 0, UD(1)));
	ASSERT_EQ(0, user(self->kq, 1, 0, NOTE_FFOR | NOTE_TRIGGER | 0x10,
			  UD(1)));
	ASSERT_EQ(0, user(self->kq, 1, 0, NOTE_FFOR | NOTE_TRIGGER | 0x02,
			  UD(1)));
	user_reported(_metadata, self->kq, EV_ADD | EV_CLEAR, 0x12, UD(1));
}

/* EV_CLEAR resets fflags after delivery. */
TEST_F(kqueue_user, clear_resets_fflags)
{
	ASSERT_EQ(0, user(self->kq, 1, EV_ADD | EV_CLEAR,
			  NOTE_FFCOPY | NOTE_TRIGGER | 0x10, UD(1)));
	user_reported(_metadata, self->kq, EV_ADD | EV_CLEAR, 0x10, UD(1));
	ASSERT_EQ(0, user(self->kq, 1, 0, NOTE_TRIGGER, UD(1)));
	user_reported(_metadata, self->kq, EV_ADD | EV_CLEAR, 0, UD(1));
}

TEST_F(kqueue_user, idents_independent)
{
	struct kevent ev[3];

	ASSERT_EQ(0, user(self->kq, 1, EV_ADD | EV_CLEAR, 0, UD(1)));
	ASSERT_EQ(0, user(self->kq, 2, EV_ADD | EV_CLEAR, 0, UD(2)));
	ASSERT_EQ(0, user(self->kq, 2, 0, NOTE_TRIGGER, UD(2)));
	ASSERT_EQ(1, kq_poll(self->kq, ev, 3));
	EXPECT_KEV(ev[0], 2, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, UD(2));
}

struct trigger_arg {
	int kq;
	int rc;
};

static void trigger_act(void *p)
{
	struct trigger_arg *a = p;

	a->rc = user(a->kq, 1, 0, NOTE_TRIGGER, UD(9));
}

/* A trigger from another thread wakes a kevent() already blocked. */
TEST_F(kqueue_user, trigger_from_thread_wakes_waiter)
{
	struct trigger_arg a = { .kq = self->kq, .rc = -1 };
	struct kevent ev[2];
	pthread_t t;

	ASSERT_EQ(0, user(self->kq, 1, EV_ADD | EV_CLEAR, 0, UD(1)));
	ASSERT_EQ(0, act_when_asleep(&t, trigger_act, &a));
	ASSERT_EQ(1, kq_wait(self->kq, ev, 2, 30000));
	EXPECT_KEV(ev[0], 1, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, UD(9));
	EXPECT_EQ(0, join_act(t));
	EXPECT_EQ(0, a.rc);
}

/* The same with no timeout at all. */
TEST_F(kqueue_user, trigger_from_thread_wakes_infinite_wait)
{
	struct trigger_arg a = { .kq = self->kq, .rc = -1 };
	struct kevent ev[2];
	pthread_t t;

	ASSERT_EQ(0, user(self->kq, 1, EV_ADD | EV_CLEAR, 0, UD(1)));
	ASSERT_EQ(0, act_when_asleep(&t, trigger_act, &a));
	ASSERT_EQ(1, kq_wait(self->kq, ev, 2, -1));
	EXPECT_KEV(ev[0], 1, EVFILT_USER, EV_ADD | EV_CLEAR, 0, 0, UD(9));
	EXPECT_EQ(0, join_act(t));
	EXPECT_EQ(0, a.rc);
}

EPM_HARNESS_MAIN
