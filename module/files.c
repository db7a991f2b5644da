// SPDX-License-Identifier: GPL-2.0
/*
 * Watched files, from their first watch to their final close.
 *
 * Linux ends every watch on a file from __fput(), before the file's
 * ->release, through eventpoll_release(). That hook is not exported, so
 * epollmod attaches to the same place with the kprobes API: a probe on
 * __fput() (or, where a kernel inlined it, on locks_remove_file(), which
 * only __fput() calls, also before ->release). This is the one kernel
 * symbol the module uses that is not exported to modules; without kprobes
 * the module refuses to load.
 *
 * So the module holds no reference on a watched file. A watch lives
 * exactly as long as its file, as in Linux: the final close runs the probe,
 * which, in atomic context,
 *
 *  - finds the file's items in the index, a hash table keyed by the file's
 *    address (an rhltable: several items may watch one file);
 *  - takes each item off the file's wait queues, under each queue's lock,
 *    which orders that after any callback running on it: from then on
 *    nothing reaches the item from the file, and the file's queues may go;
 *  - marks it gone, drops it from the ready list, uncharges its user;
 *  - queues it on its instance's reap list, for a work item (or the
 *    instance's next call) to take it out of the interest set and free it,
 *    which needs the instance's mutex.
 *
 * A gone item still holds its file's address as its key until it is
 * reaped, and that address may already belong to a new file (struct file
 * is SLAB_TYPESAFE_BY_RCU from 6.7 on). So nothing looks an item's file up
 * by its key without first reaping (ctl does), and every path that uses
 * the file itself without holding the caller's fd pins it with
 * epm_item_pin(): a reference taken only while the count is not zero, and
 * checked again against the item afterwards.
 *
 * An item's hooks change only under its file's lock (one of a small table,
 * chosen by the file's address): the probe and the removal of an item by
 * DEL or by its instance's release may race, and must unhook it once.
 */

#include <linux/file.h>
#include <linux/hash.h>
#include <linux/kprobes.h>
#include <linux/module.h>
#include <linux/rhashtable.h>

#include "compat.h"
#include "epm.h"

static struct rhltable epm_index;
static const struct rhashtable_params epm_index_params = {
	.key_len		= sizeof(struct file *),
	.key_offset		= offsetof(struct epm_item, file),
	.head_offset		= offsetof(struct epm_item, index),
	.automatic_shrinking	= true,
};

#define EPM_FILE_LOCK_BITS	6
static spinlock_t epm_file_locks[1 << EPM_FILE_LOCK_BITS];

/* Reaping sleeps on instance mutexes: one worker per instance at a time. */
static struct workqueue_struct *epm_reap_wq;

static spinlock_t *epm_file_lock(const struct file *file)
{
	return &epm_file_locks[hash_ptr(file, EPM_FILE_LOCK_BITS)];
}

/* ---------------------------------------------------------------------- */
/* The index                                                               */

int epm_index_insert(struct epm_item *item)
{
	/* May fail for memory while the table grows. */
	return rhltable_insert(&epm_index, &item->index, epm_index_params) ?
		-ENOMEM : 0;
}

void epm_index_remove(struct epm_item *item)
{
	rhltable_remove(&epm_index, &item->index, epm_index_params);
}

/* Under rcu_read_lock(): the items keyed by @file, gone ones included. */
struct rhlist_head *epm_index_lookup(const struct file *file)
{
	return rhltable_lookup(&epm_index, &file, epm_index_params);
}

/* Is @file watched by any item that is not gone? */
bool epm_file_watched(const struct file *file)
{
	struct rhlist_head *list, *pos;
	struct epm_item *item;
	bool watched = false;

	rcu_read_lock();
	list = epm_index_lookup(file);
	rhl_for_each_entry_rcu(item, pos, list, index) {
		if (!READ_ONCE(item->gone)) {
			watched = true;
			break;
		}
	}
	rcu_read_unlock();
	return watched;
}

unsigned int epm_watched_files(void)
{
	/* Keys: files, not items. */
	return atomic_read(&epm_index.ht.nelems);
}

/* ---------------------------------------------------------------------- */
/* Ending a watch                                                          */

/* The file's lock is held: the item's hooks are ours to change. */
static bool epm_item_end_locked(struct epm_item *item)
{
	lockdep_assert_held(epm_file_lock(item->file));
	if (item->gone)
		return false;
	WRITE_ONCE(item->gone, true);
	epm_unhook(item);
	epm_ready_forget(item->ep, item);
	epm_user_uncharge(item->ep->user);
	return true;
}

/*
 * End a watch that the caller removes itself (DEL, a failed ADD, the
 * instance's release). False if its file's close got there first: the
 * item is then on the instance's reap list, or about to be.
 */
bool epm_item_end(struct epm_item *item)
{
	spinlock_t *lock = epm_file_lock(item->file);
	bool ended;

	spin_lock(lock);
	ended = epm_item_end_locked(item);
	spin_unlock(lock);
	return ended;
}

/*
 * Take a reference on the item's file, unless the file is being released.
 * Needed wherever the file is used without the caller's fd reference.
 */
struct file *epm_item_pin(struct epm_item *item)
{
	struct file *file = NULL;

	rcu_read_lock();
	if (!READ_ONCE(item->gone) && epm_file_tryget(item->file)) {
		file = item->file;
		/*
		 * The count was not zero, but the memory may be a new file's:
		 * the old one's close marked the item gone before it was
		 * freed. The get above is a full barrier.
		 */
		if (unlikely(READ_ONCE(item->gone))) {
			fput(file);
			file = NULL;
		}
	}
	rcu_read_unlock();
	return file;
}

/* ---------------------------------------------------------------------- */
/* The final close                                                         */

static void epm_file_closing(struct file *file)
{
	spinlock_t *lock = epm_file_lock(file);
	struct rhlist_head *list, *pos;
	struct epm_item *item;
	bool ended = false;

	rcu_read_lock();
	list = epm_index_lookup(file);
	if (!list)
		goto out;
	spin_lock(lock);
	rhl_for_each_entry_rcu(item, pos, list, index) {
		struct epm_instance *ep = item->ep;

		if (!epm_item_end_locked(item))
			continue;
		ended = true;
		/*
		 * Still under the file's lock, which every reaper takes once
		 * before it frees an item of this file: so the item, and the
		 * instance it holds, outlive this queue_work().
		 */
		llist_add(&item->reap, &ep->reap);
		queue_work(epm_reap_wq, &ep->reap_work);
	}
	spin_unlock(lock);
out:
	rcu_read_unlock();
	if (ended)
		epm_stat_inc(EPM_STAT_CLOSES);
}

/*
 * The probe's handler: every final fput on the machine runs it, in atomic
 * context, before the file's ->release. It must never sleep.
 */
static int epm_final_fput(struct kprobe *kp, struct pt_regs *regs)
{
	struct file *file = (struct file *)regs_get_kernel_argument(regs, 0);

	/* Most closes leave here: nothing watched, or a file none can watch. */
	if (likely(!atomic_read(&epm_index.ht.nelems)))
		return 0;
	if (!(file->f_mode & FMODE_OPENED) || !file_can_poll(file))
		return 0;
	epm_file_closing(file);
	return 0;
}

/* A probe on the handler itself would recurse. */
NOKPROBE_SYMBOL(epm_final_fput);

/*
 * Where to probe: functions that every final fput of an opened file runs
 * before ->release, with the file as first argument. The first one the
 * running kernel has as a symbol wins.
 */
static const char *const epm_fput_symbols[] = {
	"__fput",
#ifdef CONFIG_FILE_LOCKING
	"locks_remove_file",
#endif
};

static struct kprobe epm_fput_probe = {
	.pre_handler = epm_final_fput,
};

unsigned long epm_probe_missed(void)
{
	return READ_ONCE(epm_fput_probe.nmissed);
}

const char *epm_probe_symbol(void)
{
	return epm_fput_probe.symbol_name;
}

static int epm_probe_register(void)
{
	int i, err = -ENOENT;

	for (i = 0; i < ARRAY_SIZE(epm_fput_symbols); i++) {
		epm_fput_probe.symbol_name = epm_fput_symbols[i];
		epm_fput_probe.addr = NULL;
		epm_fput_probe.flags = 0;
		err = register_kprobe(&epm_fput_probe);
		if (!err)
			return 0;
	}
	pr_err("epollmod: cannot attach to the final fput: register_kprobe(__fput%s) failed (%d). The module needs CONFIG_KPROBES and one of those symbols in /proc/kallsyms\n",
	       IS_ENABLED(CONFIG_FILE_LOCKING) ? ", locks_remove_file" : "",
	       err);
	return err;
}

/* ---------------------------------------------------------------------- */
/* Reaping                                                                 */

/*
 * Take the items whose file closed out of the interest set and free them.
 * The caller holds ep->mtx and a reference on @ep.
 */
void epm_reap(struct epm_instance *ep)
{
	struct llist_node *list = llist_del_all(&ep->reap);
	struct epm_item *item, *tmp;

	lockdep_assert_held(&ep->mtx);
	llist_for_each_entry_safe(item, tmp, list, reap) {
		spinlock_t *lock = epm_file_lock(item->file);

		/* Wait for the close that queued it to be done with it. */
		spin_lock(lock);
		spin_unlock(lock);
		epm_item_free(ep, item);
	}
}

static void epm_reap_work(struct work_struct *work)
{
	struct epm_instance *ep = container_of(work, struct epm_instance,
					       reap_work);

	/* Zero: its last put is freeing it, and waits for us to return. */
	if (!refcount_inc_not_zero(&ep->ref))
		return;
	mutex_lock(&ep->mtx);
	epm_reap(ep);
	mutex_unlock(&ep->mtx);
	epm_instance_put_reaper(ep);
}

void epm_reap_init(struct epm_instance *ep)
{
	init_llist_head(&ep->reap);
	INIT_WORK(&ep->reap_work, epm_reap_work);
}

/* The instance's last reference is going: no reaping may be pending. */
void epm_reap_sync(struct epm_instance *ep)
{
	flush_work(&ep->reap_work);
}

int epm_files_init(void)
{
	int i, err;

	if (!IS_ENABLED(CONFIG_KPROBES)) {
		pr_err("epollmod: this kernel has no kprobes (CONFIG_KPROBES): the module attaches to the final fput through one. Use a kernel built with CONFIG_KPROBES=y, as Debian's are\n");
		return -EOPNOTSUPP;
	}
	if (IS_ENABLED(CONFIG_PREEMPT_RT)) {
		pr_err("epollmod: PREEMPT_RT kernels are not supported: the final-fput probe takes wait-queue locks, which sleep there\n");
		return -EOPNOTSUPP;
	}
	for (i = 0; i < ARRAY_SIZE(epm_file_locks); i++)
		spin_lock_init(&epm_file_locks[i]);
	err = rhltable_init(&epm_index, &epm_index_params);
	if (err)
		return err;
	epm_reap_wq = alloc_workqueue("epollmod_reap", WQ_UNBOUND, 0);
	if (!epm_reap_wq) {
		err = -ENOMEM;
		goto out_index;
	}
	err = epm_probe_register();
	if (err)
		goto out_wq;
	return 0;

out_wq:
	destroy_workqueue(epm_reap_wq);
out_index:
	rhltable_destroy(&epm_index);
	return err;
}

/* After the last instance file is gone; instances may still be reaping. */
void epm_files_exit(void)
{
	/* Waits for running handlers; no close queues work after this. */
	unregister_kprobe(&epm_fput_probe);
	/* Runs what is queued: the last instances go with their items. */
	destroy_workqueue(epm_reap_wq);
	WARN_ON_ONCE(atomic_read(&epm_index.ht.nelems));
	rhltable_destroy(&epm_index);
}
