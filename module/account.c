// SPDX-License-Identifier: GPL-2.0
/*
 * epollmod's per-user limits. On watches, as Linux's
 * /proc/sys/fs/epoll/max_user_watches: every instance charges its watches
 * (and a kqueue its knotes) to the user who created it, and an ADD past the
 * limit fails with ENOSPC. On kqueue timers: ENOMEM past the limit.
 */

#include <linux/cred.h>
#include <linux/hashtable.h>
#include <linux/slab.h>

#include "epm.h"

struct epm_user {
	struct hlist_node node;		/* in epm_users */
	kuid_t uid;
	refcount_t ref;			/* one per instance */
	atomic_long_t watches;
	atomic_long_t timers;		/* EVFILT_TIMER knotes */
};

/* Live EVFILT_TIMER knotes per user: each is an armed hrtimer. */
unsigned long epm_max_user_timers = 8192;

static DEFINE_HASHTABLE(epm_users, 6);
static DEFINE_SPINLOCK(epm_users_lock);

static struct epm_user *epm_user_find(kuid_t uid)
{
	struct epm_user *user;

	lockdep_assert_held(&epm_users_lock);
	hash_for_each_possible(epm_users, user, node, __kuid_val(uid))
		if (uid_eq(user->uid, uid))
			return user;
	return NULL;
}

/* The current task's user (its real uid, as Linux charges), referenced. */
struct epm_user *epm_user_get(void)
{
	kuid_t uid = current_uid();
	struct epm_user *user, *new;

	spin_lock(&epm_users_lock);
	user = epm_user_find(uid);
	if (user)
		refcount_inc(&user->ref);
	spin_unlock(&epm_users_lock);
	if (user)
		return user;

	new = kzalloc(sizeof(*new), GFP_KERNEL_ACCOUNT);
	if (!new)
		return NULL;
	new->uid = uid;
	refcount_set(&new->ref, 1);
	atomic_long_set(&new->watches, 0);
	atomic_long_set(&new->timers, 0);

	spin_lock(&epm_users_lock);
	user = epm_user_find(uid);
	if (user) {
		refcount_inc(&user->ref);
	} else {
		hash_add(epm_users, &new->node, __kuid_val(uid));
		user = new;
		new = NULL;
	}
	spin_unlock(&epm_users_lock);
	kfree(new);
	return user;
}

void epm_user_put(struct epm_user *user)
{
	if (!refcount_dec_and_lock(&user->ref, &epm_users_lock))
		return;
	hash_del(&user->node);
	spin_unlock(&epm_users_lock);
	WARN_ON_ONCE(atomic_long_read(&user->watches));
	WARN_ON_ONCE(atomic_long_read(&user->timers));
	kfree(user);
}

/* One more against @limit, or @err and nothing charged. */
static int epm_charge(atomic_long_t *count, unsigned long limit, int err)
{
	if ((unsigned long)atomic_long_inc_return(count) > limit) {
		atomic_long_dec(count);
		return err;
	}
	return 0;
}

int epm_user_charge(struct epm_user *user)
{
	return epm_charge(&user->watches, READ_ONCE(epm_max_user_watches),
			  -ENOSPC);
}

void epm_user_uncharge(struct epm_user *user)
{
	atomic_long_dec(&user->watches);
}

/* kevent(2) fails with ENOMEM past the limit, as FreeBSD's callout limit. */
int epm_user_charge_timer(struct epm_user *user)
{
	return epm_charge(&user->timers, READ_ONCE(epm_max_user_timers),
			  -ENOMEM);
}

void epm_user_uncharge_timer(struct epm_user *user)
{
	atomic_long_dec(&user->timers);
}
