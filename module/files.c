// SPDX-License-Identifier: GPL-2.0
/*
 * epollmod's table of watched files, and the release of dead ones.
 *
 * Linux unhooks a watch from __fput() through eventpoll_release(); a module
 * cannot, so it keeps one reference on every watched file, shared by every
 * item that watches it (struct epm_file). When that reference is the last
 * one, the file is dead to its users: no fd, no mapping, nothing in flight
 * refers to it, and none ever will again. Its items are then removed and
 * the file released, as __fput() would have done:
 *
 *  - a scan never reports a dead file's item, and hands the file to its
 *    caller for release (core.c);
 *  - a wait that finds no event checks a few of its items (core.c);
 *  - a periodic sweep checks every watched file, so a file is released
 *    within about a sweep interval even if no call comes. It also breaks
 *    the cycles a reference can make, such as an instance in flight in a
 *    unix socket that the instance watches.
 */

#include <linux/file.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/workqueue.h>

#include "epm.h"

unsigned int epm_sweep_interval_ms = 250;

static struct kmem_cache *epm_file_cache __read_mostly;
static struct rhashtable epm_files;
static const struct rhashtable_params epm_files_params = {
	.key_len		= sizeof(struct file *),
	.key_offset		= offsetof(struct epm_file, file),
	.head_offset		= offsetof(struct epm_file, node),
	.automatic_shrinking	= true,
};

static void epm_sweep_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(epm_sweep_work, epm_sweep_fn);
/* Serializes sweeps: the periodic one and those asked for by ENOSPC. */
static DEFINE_MUTEX(epm_sweep_mutex);

/* Under rcu_read_lock(); the result may be on its way out (ref 0). */
struct epm_file *epm_file_lookup(struct file *file)
{
	return rhashtable_lookup(&epm_files, &file, epm_files_params);
}

/* The epm_file of @file, created if need be, with a reference for us. */
struct epm_file *epm_file_get(struct file *file)
{
	struct epm_file *ef, *new = NULL;

	for (;;) {
		rcu_read_lock();
		ef = epm_file_lookup(file);
		if (ef && refcount_inc_not_zero(&ef->ref)) {
			rcu_read_unlock();
			break;
		}
		rcu_read_unlock();
		if (ef) {
			/* Its last put is removing it, with preemption off. */
			cpu_relax();
			continue;
		}

		if (!new) {
			new = kmem_cache_zalloc(epm_file_cache, GFP_KERNEL);
			if (!new)
				return NULL;
			new->file = get_file(file);
			refcount_set(&new->ref, 1);
			spin_lock_init(&new->lock);
			INIT_HLIST_HEAD(&new->items);
			INIT_LIST_HEAD(&new->release_link);
			INIT_LIST_HEAD(&new->check_link);
		}
		ef = rhashtable_lookup_get_insert_fast(&epm_files, &new->node,
						       epm_files_params);
		if (IS_ERR(ef)) {
			ef = NULL;
			break;
		}
		if (!ef) {
			epm_stat_inc(EPM_STAT_WATCHED_FILES);
			epm_sweep_kick();
			return new;
		}
		/* Someone else inserted one meanwhile: use theirs. */
	}
	if (new) {
		fput(new->file);
		kmem_cache_free(epm_file_cache, new);
	}
	return ef;
}

static void epm_file_free_rcu(struct rcu_head *rcu)
{
	kmem_cache_free(epm_file_cache,
			container_of(rcu, struct epm_file, rcu));
}

void epm_file_put(struct epm_file *ef)
{
	bool last;

	/* Lookups that meet it at zero spin until it is gone: be quick. */
	preempt_disable();
	last = refcount_dec_and_test(&ef->ref);
	if (last)
		rhashtable_remove_fast(&epm_files, &ef->node, epm_files_params);
	preempt_enable();
	if (!last)
		return;
	WARN_ON_ONCE(!hlist_empty(&ef->items));
	fput(ef->file);
	epm_stat_add(EPM_STAT_WATCHED_FILES, -1);
	call_rcu(&ef->rcu, epm_file_free_rcu);
}

/*
 * Become the one releaser of a dead file. On success the caller holds a
 * reference and must pass @ef to epm_release_files().
 */
bool epm_file_claim_release(struct epm_file *ef)
{
	if (!refcount_inc_not_zero(&ef->ref))
		return false;
	if (test_and_set_bit(EPM_FILE_RELEASING, &ef->flags)) {
		epm_file_put(ef);
		return false;
	}
	return true;
}

/* Remove every item that watches a dead file, in whatever instance. */
static void epm_file_release(struct epm_file *ef)
{
	for (;;) {
		struct epm_instance *ep;
		struct epm_item *item;

		spin_lock(&ef->lock);
		item = hlist_entry_safe(ef->items.first, struct epm_item,
					file_link);
		if (!item) {
			spin_unlock(&ef->lock);
			break;
		}
		/* Ours now: DEL and instance release leave it alone. */
		item->dying = true;
		ep = item->ep;
		spin_unlock(&ef->lock);

		/* The item holds ep, and only we may free the item. */
		mutex_lock(&ep->mtx);
		epm_remove_dying(ep, item);
		mutex_unlock(&ep->mtx);
		epm_instance_put(ep);
		cond_resched();
	}
	epm_stat_inc(EPM_STAT_RELEASED_FILES);
}

/* Release claimed dead files. The caller holds no instance mutex. */
void epm_release_files(struct list_head *dead_files)
{
	struct epm_file *ef, *tmp;

	list_for_each_entry_safe(ef, tmp, dead_files, release_link) {
		list_del_init(&ef->release_link);
		epm_file_release(ef);
		epm_file_put(ef);
	}
}

/* Check every watched file; release the dead. */
static void epm_sweep(void)
{
	struct rhashtable_iter iter;
	struct epm_file *ef;
	LIST_HEAD(dead);
	int n = 0;

	mutex_lock(&epm_sweep_mutex);
	rhashtable_walk_enter(&epm_files, &iter);
	rhashtable_walk_start(&iter);
	while ((ef = rhashtable_walk_next(&iter))) {
		if (IS_ERR(ef)) {
			if (PTR_ERR(ef) == -EAGAIN)	/* resized: go on */
				continue;
			break;
		}
		if (epm_file_dead(ef) && epm_file_claim_release(ef))
			list_add_tail(&ef->release_link, &dead);
		if (++n % 1024 == 0) {
			rhashtable_walk_stop(&iter);
			cond_resched();
			rhashtable_walk_start(&iter);
		}
	}
	rhashtable_walk_stop(&iter);
	rhashtable_walk_exit(&iter);
	epm_release_files(&dead);
	mutex_unlock(&epm_sweep_mutex);
	epm_stat_inc(EPM_STAT_SWEEPS);
}

static void epm_sweep_fn(struct work_struct *work)
{
	epm_sweep();
	/* An idle module does nothing: re-arm only while files are watched. */
	if (atomic_read(&epm_files.nelems))
		epm_sweep_kick();
}

/* Files a sweep may look at per interval before the interval grows. */
#define EPM_SWEEP_FILES_PER_INTERVAL	25000

/*
 * Make sure a sweep is scheduled. A sweep looks at every watched file:
 * past EPM_SWEEP_FILES_PER_INTERVAL of them, the interval grows with
 * their number, so that sweeping costs the same CPU whatever it is.
 */
void epm_sweep_kick(void)
{
	unsigned int files = atomic_read(&epm_files.nelems);
	unsigned long ms = max(READ_ONCE(epm_sweep_interval_ms), 1U);

	ms *= max(1U, files / EPM_SWEEP_FILES_PER_INTERVAL);
	queue_delayed_work(system_unbound_wq, &epm_sweep_work,
			   msecs_to_jiffies(ms));
}

/* Sweep now, in the caller's context (which holds no instance mutex). */
void epm_sweep_now(void)
{
	epm_sweep();
}

int epm_files_init(void)
{
	int err;

	epm_file_cache = KMEM_CACHE(epm_file, SLAB_ACCOUNT);
	if (!epm_file_cache)
		return -ENOMEM;
	err = rhashtable_init(&epm_files, &epm_files_params);
	if (err)
		kmem_cache_destroy(epm_file_cache);
	return err;
}

/* After the last instance is gone: nothing is watched any more. */
void epm_files_exit(void)
{
	cancel_delayed_work_sync(&epm_sweep_work);
	WARN_ON_ONCE(atomic_read(&epm_files.nelems));
	rhashtable_destroy(&epm_files);
	rcu_barrier();
	kmem_cache_destroy(epm_file_cache);
}
