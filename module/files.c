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

#include <linux/anon_inodes.h>
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

/*
 * The canary: a file of our own whose final fput must reach the probe. A
 * kprobe can be registered and yet never fire (kprobes disarmed through
 * debugfs, ftrace switched off by sysctl): then no watch would ever end,
 * and wait queues would be freed under our hooks. So the module refuses to
 * load unless the canary's close is seen, and checks again every
 * EPM_CANARY_PERIOD while files are watched; once it is not seen, ADD
 * fails with EIO.
 */
#define EPM_CANARY_PERIOD	(2 * HZ)
static struct file *epm_canary;
static bool epm_canary_seen;
static bool epm_probe_broken;
static void epm_canary_fn(struct work_struct *work);
static DECLARE_DELAYED_WORK(epm_canary_work, epm_canary_fn);

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

/* Reset every item's path-check mark (nest.c, under its mutex). */
void epm_index_clear_marks(void)
{
	struct rhashtable_iter iter;
	struct epm_item *item;

	rhltable_walk_enter(&epm_index, &iter);
	rhashtable_walk_start(&iter);
	while ((item = rhashtable_walk_next(&iter))) {
		/* A resize restarts the walk; marks are cleared twice then. */
		if (IS_ERR(item))
			continue;
		WRITE_ONCE(item->check_gen, 0);
	}
	rhashtable_walk_stop(&iter);
	rhashtable_walk_exit(&iter);
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
	if (item->ep->ring)
		epm_ring_detach(item->ep, item);
	epm_item_relax(item);
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

	/* A knote of a timer, a user event, a process or a signal. */
	if (!item->file)
		return NULL;
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
		 * instance it holds, outlive what follows. A queued reap work
		 * holds a reference of its own; the item's keeps the count
		 * above the one dropped when the work was queued already.
		 */
		llist_add(&item->reap, &ep->reap);
		refcount_inc(&ep->ref);
		if (!queue_work(epm_reap_wq, &ep->reap_work))
			refcount_dec(&ep->ref);
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

	if (unlikely(file == READ_ONCE(epm_canary))) {
		WRITE_ONCE(epm_canary_seen, true);
		return 0;
	}
	/* Most closes leave here: nothing is watched. */
	if (likely(!atomic_read(&epm_index.ht.nelems)))
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

/* Is the probe an ftrace call (cheap) rather than a breakpoint? */
bool epm_probe_on_ftrace(void)
{
	return epm_fput_probe.flags & KPROBE_FLAG_FTRACE;
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

/* Queued by a close, with a reference on the instance. */
static void epm_reap_work(struct work_struct *work)
{
	struct epm_instance *ep = container_of(work, struct epm_instance,
					       reap_work);

	mutex_lock(&ep->mtx);
	epm_reap(ep);
	mutex_unlock(&ep->mtx);
	epm_instance_put(ep);
}

void epm_reap_init(struct epm_instance *ep)
{
	init_llist_head(&ep->reap);
	INIT_WORK(&ep->reap_work, epm_reap_work);
}

static const struct file_operations epm_canary_fops = {
	.llseek = noop_llseek,
};

/* Close a file of our own and tell whether the probe saw it. */
static int epm_canary_check(void)
{
	struct file *file;
	bool seen;

	/* __fput_sync() is for kernel threads: a work item is one. */
	if (WARN_ON_ONCE(!(current->flags & PF_KTHREAD)))
		return -EINVAL;
	file = anon_inode_getfile("[epollmod-canary]", &epm_canary_fops, NULL,
				  O_RDONLY);
	if (IS_ERR(file))
		return PTR_ERR(file);
	WRITE_ONCE(epm_canary_seen, false);
	WRITE_ONCE(epm_canary, file);
	__fput_sync(file);
	seen = READ_ONCE(epm_canary_seen);
	WRITE_ONCE(epm_canary, NULL);
	return seen ? 0 : -EHOSTDOWN;
}

static void epm_canary_fn(struct work_struct *work)
{
	int err = epm_canary_check();

	if (err == -EHOSTDOWN && !READ_ONCE(epm_probe_broken)) {
		WRITE_ONCE(epm_probe_broken, true);
		pr_err("epollmod: the final-fput probe stopped firing (kprobes disarmed, or ftrace disabled?): watches of closed files can no longer end; new watches fail with EIO\n");
		add_taint(TAINT_WARN, LOCKDEP_STILL_OK);
	}
	if (atomic_read(&epm_index.ht.nelems) && !READ_ONCE(epm_probe_broken))
		schedule_delayed_work(&epm_canary_work, EPM_CANARY_PERIOD);
}

/* Watches are about to exist: make sure the canary runs meanwhile. */
int epm_probe_usable(void)
{
	if (READ_ONCE(epm_probe_broken))
		return -EIO;
	if (!delayed_work_pending(&epm_canary_work))
		schedule_delayed_work(&epm_canary_work, EPM_CANARY_PERIOD);
	return 0;
}

struct epm_canary_first {
	struct work_struct work;
	int err;
};

static void epm_canary_first_fn(struct work_struct *work)
{
	struct epm_canary_first *first = container_of(work,
						      struct epm_canary_first,
						      work);

	first->err = epm_canary_check();
}

int epm_files_init(void)
{
	struct epm_canary_first first;

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
	INIT_WORK_ONSTACK(&first.work, epm_canary_first_fn);
	schedule_work(&first.work);
	flush_work(&first.work);
	destroy_work_on_stack(&first.work);
	if (first.err) {
		pr_err("epollmod: registered a kprobe on %s, but a final fput did not reach it (%d): are kprobes disarmed (/sys/kernel/debug/kprobes/enabled) or ftrace off (kernel.ftrace_enabled)?\n",
		       epm_fput_probe.symbol_name, first.err);
		err = -EHOSTDOWN;
		goto out_probe;
	}
	return 0;

out_probe:
	unregister_kprobe(&epm_fput_probe);
out_wq:
	destroy_workqueue(epm_reap_wq);
out_index:
	rhltable_destroy(&epm_index);
	return err;
}

/* After the last instance file is gone; instances may still be reaping. */
void epm_files_exit(void)
{
	cancel_delayed_work_sync(&epm_canary_work);
	/* Waits for running handlers; no close queues work after this. */
	unregister_kprobe(&epm_fput_probe);
	/* Runs what is queued: the last instances go with their items. */
	destroy_workqueue(epm_reap_wq);
	WARN_ON_ONCE(atomic_read(&epm_index.ht.nelems));
	rhltable_destroy(&epm_index);
}
