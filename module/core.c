// SPDX-License-Identifier: GPL-2.0
/*
 * epollmod core: instances, items, poll callbacks, the ready list, waits.
 *
 * OBJECTS
 *
 * An instance (struct epm_instance) is the private_data of one open file of
 * /dev/epollmod. Its interest set is an rb-tree of items keyed by
 * (struct file *, fd), as in Linux: a file may be watched under several fds
 * and by many instances. Each item hooks wait entries (struct epm_hook) on
 * every wait queue the watched file registers from its ->poll().
 *
 * The module holds no reference on a watched file. The file's final close
 * ends its items, before the file's ->release, and a work item takes them
 * out of their interest sets; see files.c, which owns a watched file's
 * life from the first ADD to that close.
 *
 * THE READY LIST
 *
 * The poll callback, in any context, puts an idle item at the tail of
 * ep->ready and wakes one waiter. A scan (a harvest for a wait, or a
 * readiness check for ->poll) takes items off the head in batches, marking
 * them EPM_TAKEN, and looks at them without ep->lock held: it may sleep in
 * ->poll() and in copy_to_user(). A callback that finds its item taken only
 * sets item->rearm. When the scan settles the batch, under ep->lock again,
 * each item goes back to the head (not delivered), to the tail
 * (level-triggered, or rearmed), or becomes idle. So no event that arrives
 * during a scan is lost, and the callback never touches a scan's batch.
 * Settling marks each item with the scan's id, and a scan stops when it
 * meets one of its own again, however it came back: requeued by the
 * settling, or queued anew by a callback once it was idle. So a wait
 * delivers an item at most once. ep->nready counts the items queued or
 * taken, so that the lockless look of a non-blocking wait never misses an
 * item that is between the two.
 *
 * LOCK ORDER (outer first)
 *
 *  1. epm_nest_mutex	global; ADDs that can change nesting (nest.c)
 *  2. ep->mtx		per instance; interest set, scans. Instances nested
 *			in instances are locked outer first, the lockdep
 *			subclass being the depth. From ->poll, which native
 *			epoll calls holding its own mutex, an instance mutex
 *			is only ever tried: see epm_instance_poll().
 *  3. file lock	one of a table, by the watched file's address
 *			(files.c); an item's hooks and its end. Taken by the
 *			final-fput probe, in atomic context, with nothing
 *			else held.
 *  4. whead->lock	a watched file's wait queue; held around callbacks.
 *			Also a process's pidfd queue (kqueue's EVFILT_PROC),
 *			and, for EVFILT_SIGNAL, a signalled process's siglock
 *			and then kqueue.c's list of signal knotes
 *  5. ep->lock		per instance, irq-safe; ready list, item->rstate,
 *			item->events, and the list of ep->wq: waiters are
 *			added and removed only under it. Taken in hard irq by
 *			kqueue timers
 *  6. ep->wq.lock	taken by wake_up(&ep->wq) under ep->lock
 *
 * ep->poll_wait.lock is taken with nothing of ours held but, through a
 * nested instance's callback, the inner instance's poll_wait.lock, with a
 * lockdep subclass for the depth (nest.c). No ep->lock is held while a
 * poll_wait.lock is taken.
 *
 * LIFETIMES
 *
 * An instance is referenced by its file, by each of its items and by its
 * reap work while that is queued; the last put frees it after an RCU grace
 * period. An
 * item is freed after an RCU grace period too, as the final-fput probe and
 * the path checks walk the index of watched files under RCU. A hook is
 * freed once it is off its queue: remove_wait_queue() under the queue's
 * lock orders that after any running callback.
 */

#include <linux/hrtimer.h>
#include <linux/mm.h>
#include <linux/percpu.h>
#include <linux/device.h>
#include <linux/file.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>
#include <linux/slab.h>

#include "epm.h"

unsigned long epm_max_user_watches;

static struct kmem_cache *epm_instance_cache __read_mostly;
static struct kmem_cache *epm_item_cache __read_mostly;
static struct kmem_cache *epm_hook_cache __read_mostly;

static DEFINE_PER_CPU(long [EPM_NR_STATS], epm_stats);

void epm_stat_add(enum epm_stat stat, long n)
{
	this_cpu_add(epm_stats[stat], n);
}

long epm_stat_read(enum epm_stat stat)
{
	long sum = 0;
	int cpu;

	for_each_possible_cpu(cpu)
		sum += per_cpu(epm_stats, cpu)[stat];
	return sum;
}

/* ---------------------------------------------------------------------- */
/* Instances                                                               */

struct epm_instance *epm_instance_create(struct file *file)
{
	struct epm_instance *ep;

	ep = kmem_cache_zalloc(epm_instance_cache, GFP_KERNEL);
	if (!ep)
		return NULL;
	ep->user = epm_user_get();
	if (!ep->user) {
		kmem_cache_free(epm_instance_cache, ep);
		return NULL;
	}
	mutex_init(&ep->mtx);
	spin_lock_init(&ep->lock);
	init_waitqueue_head(&ep->wq);
	init_waitqueue_head(&ep->poll_wait);
	INIT_LIST_HEAD(&ep->ready);
	ep->items = RB_ROOT_CACHED;
	ep->file = file;
	refcount_set(&ep->ref, 1);
	epm_reap_init(ep);
	epm_forward_init(ep);
	epm_stat_inc(EPM_STAT_INSTANCES);
	return ep;
}

static void epm_instance_free_rcu(struct rcu_head *rcu)
{
	kmem_cache_free(epm_instance_cache,
			container_of(rcu, struct epm_instance, rcu));
}

static void epm_instance_free(struct epm_instance *ep)
{
	WARN_ON_ONCE(!RB_EMPTY_ROOT(&ep->items.rb_root));
	/* A queued reap holds a reference: none can be pending now. */
	WARN_ON_ONCE(work_pending(&ep->reap_work));
	/* No hook is left to queue a forwarded wake; let a queued one end. */
	epm_forward_sync(ep);
	/* Nothing should still wait on us; if it does, tell it we are gone. */
	if (waitqueue_active(&ep->poll_wait))
		wake_up_pollfree(&ep->poll_wait);
	wakeup_source_unregister(ep->ws);
	epm_ring_free(ep);
	epm_user_put(ep->user);
	mutex_destroy(&ep->mtx);
	epm_stat_add(EPM_STAT_INSTANCES, -1);
	call_rcu(&ep->rcu, epm_instance_free_rcu);
}

void epm_instance_put(struct epm_instance *ep)
{
	if (refcount_dec_and_test(&ep->ref))
		epm_instance_free(ep);
}

/* ---------------------------------------------------------------------- */
/* The interest set                                                        */

static int epm_key_cmp(const struct file *file, int fd,
		       const struct epm_item *item)
{
	if (file != item->file)
		return file > item->file ? 1 : -1;
	return fd - item->fd;
}

/*
 * The item of (@file, @fd). The caller has reaped: a gone item's key may
 * be the address of a new file.
 */
struct epm_item *epm_find(struct epm_instance *ep, struct file *file, int fd)
{
	struct rb_node *rbp = ep->items.rb_root.rb_node;

	lockdep_assert_held(&ep->mtx);
	while (rbp) {
		struct epm_item *item = rb_entry(rbp, struct epm_item, node);
		int cmp = epm_key_cmp(file, fd, item);

		if (!cmp)
			return item;
		rbp = cmp > 0 ? rbp->rb_right : rbp->rb_left;
	}
	return NULL;
}

/* Into the interest set, keyed as epoll or as kqueue keys its items. */
static void epm_rb_insert(struct epm_instance *ep, struct epm_item *item)
{
	struct rb_node **p = &ep->items.rb_root.rb_node, *parent = NULL;
	bool leftmost = true;

	while (*p) {
		struct epm_item *other;
		int cmp;

		parent = *p;
		other = rb_entry(parent, struct epm_item, node);
		cmp = ep->kqueue ? epm_knote_cmp(item, other) :
		      epm_key_cmp(item->file, item->fd, other);

		if (cmp > 0) {
			p = &parent->rb_right;
			leftmost = false;
		} else {
			p = &parent->rb_left;
		}
	}
	rb_link_node(&item->node, parent, p);
	rb_insert_color_cached(&item->node, &ep->items, leftmost);
}

/* ---------------------------------------------------------------------- */
/* Wakeup sources (EPOLLWAKEUP)                                            */

static struct wakeup_source *epm_item_ws(struct epm_item *item)
{
	return rcu_dereference_check(item->ws,
				     lockdep_is_held(&item->ep->mtx));
}

/* Callers hold ep->lock, or ep->mtx: either keeps item->ws in place. */
static void epm_item_stay_awake(struct epm_item *item)
{
	struct wakeup_source *ws;

	rcu_read_lock();
	ws = rcu_dereference(item->ws);
	if (ws)
		__pm_stay_awake(ws);
	rcu_read_unlock();
}

/* Any context (the final-fput probe): the item no longer holds suspend. */
void epm_item_relax(struct epm_item *item)
{
	struct wakeup_source *ws;

	rcu_read_lock();
	ws = rcu_dereference(item->ws);
	if (ws)
		__pm_relax(ws);
	rcu_read_unlock();
}

static int epm_item_ws_create(struct epm_item *item, struct file *file)
{
	struct epm_instance *ep = item->ep;
	struct name_snapshot name;
	struct wakeup_source *ws;

	if (!ep->ws) {
		ep->ws = wakeup_source_register(NULL, "epollmod");
		if (!ep->ws)
			return -ENOMEM;
	}
	take_dentry_name_snapshot(&name, file->f_path.dentry);
	ws = wakeup_source_register(NULL, name.name.name);
	release_dentry_name_snapshot(&name);
	if (!ws)
		return -ENOMEM;
	rcu_assign_pointer(item->ws, ws);
	return 0;
}

static void epm_item_ws_destroy(struct epm_item *item)
{
	struct wakeup_source *ws = epm_item_ws(item);

	if (!ws)
		return;
	RCU_INIT_POINTER(item->ws, NULL);
	/* The callback reads it under RCU. */
	synchronize_rcu();
	wakeup_source_unregister(ws);
}

/* ---------------------------------------------------------------------- */
/* Hooks on the watched files' wait queues                                 */

/* A task in epm_wait(), on ep->wq. */
struct epm_waiter {
	wait_queue_entry_t wait;
	struct epm_instance *ep;
	const struct epm_wait_spec *spec;
};

/*
 * A batching waiter that would find too few ready, before its min_wait is
 * over, is not woken: it would only sleep again, and its own timer ends
 * the sleep at min_deadline. Any context.
 */
static bool epm_waiter_declines(struct epm_waiter *w)
{
	const struct epm_wait_spec *spec = w->spec;

	return spec->min_events > 1 &&
	       READ_ONCE(w->ep->nready) + epm_ring_pending(w->ep) <
	       spec->min_events &&
	       (!spec->min_deadline || ktime_get() < spec->min_deadline);
}

/*
 * Does a waiter on ep->wq take a wakeup now? An EPOLLEXCLUSIVE queue
 * must go on to another instance if not. Under ep->lock.
 */
static bool epm_wq_takes(struct epm_instance *ep)
{
	wait_queue_entry_t *wait;

	lockdep_assert_held(&ep->lock);
	list_for_each_entry(wait, &ep->wq.head, entry)
		if (!epm_waiter_declines(container_of(wait, struct epm_waiter,
						      wait)))
			return true;
	return false;
}

/*
 * Wake ep's pollers on behalf of @item, whose file just reported on
 * @whead.
 */
static void epm_item_wake_pollers(struct epm_instance *ep,
				  struct epm_item *item,
				  wait_queue_head_t *whead)
{
	struct epm_instance *inner;

	switch (item->kind) {
	case EPM_KIND_NATIVE_EPOLL:
		/* Never nested in native epoll's own wake: see nest.c. */
		epm_forward_wake(ep);
		break;
	case EPM_KIND_INSTANCE:
		/* An instance's only queue is its poll_wait, locked up the stack. */
		inner = container_of(whead, struct epm_instance, poll_wait);
		epm_wake_pollers(ep, inner->nests);
		break;
	default:
		epm_wake_pollers(ep, 1);
	}
}

/*
 * Put an item whose source reported on the ready list, once; one a scan
 * has taken goes back after it (item->rearm). Under ep->lock. True if it
 * went on the list now.
 */
static bool epm_ready_add(struct epm_instance *ep, struct epm_item *item)
{
	lockdep_assert_held(&ep->lock);
	if (item->rstate == EPM_IDLE) {
		list_add_tail(&item->ready, &ep->ready);
		item->rstate = EPM_QUEUED;
		WRITE_ONCE(ep->nready, ep->nready + 1);
		epm_item_stay_awake(item);
		return true;
	}
	if (item->rstate == EPM_TAKEN)
		item->rearm = true;
	return false;
}

/*
 * A ring instance: @events of @item go on the ring (ring.c), and a
 * one-shot item is disarmed. True if the ring is all the item needs: only
 * level-triggered items also go on the ready list, for a wait to poll
 * them again. *@queued: the item went on the ring now. Under ep->lock.
 */
static bool epm_ring_only(struct epm_instance *ep, struct epm_item *item,
			  __poll_t events, bool *queued)
{
	*queued = epm_ring_publish(ep, item, events);
	if (item->events & EPOLLONESHOT)
		item->events &= EPM_PRIVATE_BITS;
	return item->events & (EPOLLET | EPOLLONESHOT);
}

/*
 * The poll callback. Runs in any context, with the watched queue's lock
 * held: it must not sleep. Puts the item on the ready list once and wakes
 * one waiter. The return value tells an EPOLLEXCLUSIVE queue whether an
 * exclusive waiter was woken.
 */
static int epm_hook_wake(wait_queue_entry_t *wait, unsigned int mode,
			 int sync, void *key)
{
	struct epm_hook *hook = container_of(wait, struct epm_hook, wait);
	wait_queue_head_t *whead = hook->whead;
	struct epm_item *item = hook->item;
	struct epm_instance *ep = item->ep;
	__poll_t pollflags = key_to_poll(key);
	bool wake_pollers = false, queued;
	int woke_exclusive = 0;
	unsigned long flags;

	spin_lock_irqsave(&ep->lock, flags);

	/* A one-shot item that fired is disabled until the next MOD. */
	if (!(item->events & ~EPM_PRIVATE_BITS))
		goto out;
	/* Queues that say what happened let us ignore what nobody asked for. */
	if (pollflags && !(pollflags & item->events))
		goto out;

	epm_stat_inc(EPM_STAT_WAKEUPS);
	/*
	 * A ring instance takes what the queue says on its ring; a wakeup
	 * that says nothing goes on the ready list, for a wait to poll.
	 */
	if (!(ep->ring && pollflags &&
	      epm_ring_only(ep, item, pollflags & item->events, &queued)))
		epm_ready_add(ep, item);

	/* Waiters and pollers queue themselves under ep->lock: no barrier. */
	if (waitqueue_active(&ep->wq)) {
		if ((item->events & EPOLLEXCLUSIVE) && !(pollflags & POLLFREE) &&
		    epm_wq_takes(ep)) {
			__poll_t inout = pollflags & (EPOLLIN | EPOLLOUT);

			switch (inout) {
			case EPOLLIN:
			case EPOLLOUT:
				woke_exclusive = !!(item->events & inout);
				break;
			case 0:
				woke_exclusive = 1;
				break;
			}
		}
		if (sync)
			wake_up_sync(&ep->wq);
		else
			wake_up(&ep->wq);
	}
	/*
	 * Pollers queue on ep->poll_wait first and then look at the ready
	 * list under ep->lock (a scan, or epm_readiness_guess()): either they
	 * find our item, or we find their entry.
	 */
	wake_pollers = waitqueue_active(&ep->poll_wait);
out:
	spin_unlock_irqrestore(&ep->lock, flags);

	if (wake_pollers)
		epm_item_wake_pollers(ep, item, whead);
	if (!(item->events & EPOLLEXCLUSIVE))
		woke_exclusive = 1;

	if (pollflags & POLLFREE) {
		/*
		 * The queue is going away; its owner frees it after an RCU
		 * grace period. Leave it now: once whead is NULL nothing of
		 * ours may touch it, and epm_unhook() reads whead under RCU.
		 */
		list_del_init(&wait->entry);
		/* Pairs with smp_load_acquire() in epm_unhook(). */
		smp_store_release(&hook->whead, NULL);
	}
	return woke_exclusive;
}

struct epm_pqueue {
	poll_table pt;
	struct epm_item *item;
	bool failed;
};

/*
 * Hook @item on @whead with callback @func. Under ep->mtx, before the item
 * can end: neither the file's close nor the instance's release can unhook
 * it meanwhile.
 */
int epm_item_hook(struct epm_item *item, wait_queue_head_t *whead,
		  wait_queue_func_t func)
{
	struct epm_hook *hook;

	lockdep_assert_held(&item->ep->mtx);
	hook = kmem_cache_alloc(epm_hook_cache, GFP_KERNEL);
	if (unlikely(!hook))
		return -ENOMEM;
	init_waitqueue_func_entry(&hook->wait, func);
	hook->whead = whead;
	hook->item = item;
	hook->next = item->hooks;
	item->hooks = hook;
	if (item->events & EPOLLEXCLUSIVE)
		add_wait_queue_exclusive(whead, &hook->wait);
	else
		add_wait_queue(whead, &hook->wait);
	return 0;
}

/*
 * ->poll() names a wait queue of the watched file: hook the item on it.
 * Only ADD gets here, holding the file open and the instance's mutex.
 */
static void epm_queue_proc(struct file *file, wait_queue_head_t *whead,
			   poll_table *pt)
{
	struct epm_pqueue *pq = container_of(pt, struct epm_pqueue, pt);

	if (!pq->failed && epm_item_hook(pq->item, whead, epm_hook_wake))
		pq->failed = true;
}

/*
 * Take the item's hooks off their queues; no callback runs after this.
 * The caller holds the file's lock (files.c): the final-fput probe does
 * this too, in atomic context, so the hooks are freed later, with the
 * item (epm_item_free()).
 */
void epm_unhook(struct epm_item *item)
{
	struct epm_hook *hook;

	for (hook = item->hooks; hook; hook = hook->next) {
		wait_queue_head_t *whead;

		rcu_read_lock();
		/* Pairs with the release in epm_hook_wake() on POLLFREE. */
		whead = smp_load_acquire(&hook->whead);
		if (whead)
			remove_wait_queue(whead, &hook->wait);
		rcu_read_unlock();
	}
}

static void epm_hooks_free(struct epm_item *item)
{
	struct epm_hook *hook;

	while ((hook = item->hooks)) {
		item->hooks = hook->next;
		kmem_cache_free(epm_hook_cache, hook);
	}
}

/* ---------------------------------------------------------------------- */
/* The ready list                                                          */

/*
 * Queue an item found ready by ADD or MOD and wake one waiter. Returns
 * whether pollers wait on the instance, to be woken without ep->lock.
 */
static bool epm_queue_ready(struct epm_instance *ep, struct epm_item *item,
			    __poll_t revents)
{
	bool wake_pollers = false, queued;

	spin_lock_irq(&ep->lock);
	/* A ring instance: on the ring; the ready list as in a callback. */
	if (!(ep->ring && epm_ring_only(ep, item, revents, &queued)))
		queued = epm_ready_add(ep, item);
	if (queued) {
		/* Waiters queue under ep->lock, which we hold. */
		if (waitqueue_active(&ep->wq))
			wake_up(&ep->wq);
		/* Pollers look under ep->lock after queueing: see epm_hook_wake(). */
		wake_pollers = waitqueue_active(&ep->poll_wait);
	}
	spin_unlock_irq(&ep->lock);
	return wake_pollers;
}

/*
 * Queue an item whose source has something to report, from any context
 * (a timer, a process's exit, a change): as a poll callback does, for
 * items that have no file. An ended item stays off the list.
 */
void epm_item_activate(struct epm_item *item)
{
	struct epm_instance *ep = item->ep;
	bool wake_pollers = false;
	unsigned long flags;

	spin_lock_irqsave(&ep->lock, flags);
	if (!READ_ONCE(item->gone)) {
		epm_stat_inc(EPM_STAT_WAKEUPS);
		epm_ready_add(ep, item);
		/* Waiters and pollers queue under ep->lock, which we hold. */
		if (waitqueue_active(&ep->wq))
			wake_up(&ep->wq);
		/* Pollers look under ep->lock after queueing. */
		wake_pollers = waitqueue_active(&ep->poll_wait);
	}
	spin_unlock_irqrestore(&ep->lock, flags);
	if (wake_pollers)
		epm_wake_pollers(ep, 1);
}

/*
 * Take up to @max items from the head of the ready list into @batch,
 * stopping at one that this scan has settled before.
 */
int epm_take(struct epm_instance *ep, struct list_head *batch, int max,
	     u32 scan_id)
{
	struct epm_item *item, *tmp;
	int n = 0;

	lockdep_assert_held(&ep->mtx);
	spin_lock_irq(&ep->lock);
	list_for_each_entry_safe(item, tmp, &ep->ready, ready) {
		if (n == max || item->scan_id == scan_id)
			break;
		list_move_tail(&item->ready, batch);
		item->rstate = EPM_TAKEN;
		item->rearm = false;
		n++;
	}
	spin_unlock_irq(&ep->lock);
	return n;
}

static void epm_requeue(struct epm_instance *ep, struct epm_item *item)
{
	lockdep_assert_held(&ep->lock);
	list_move_tail(&item->ready, &ep->ready);
	item->rstate = EPM_QUEUED;
	epm_item_stay_awake(item);
}

/* An item leaves the ready list and the scans for good (ep->lock). */
static void epm_unqueue(struct epm_instance *ep, struct epm_item *item)
{
	list_del_init(&item->ready);
	item->rstate = EPM_IDLE;
	WRITE_ONCE(ep->nready, ep->nready - 1);
}

/*
 * An item that ends leaves the ready list; one a scan has taken is left
 * to the scan, which drops it as gone. Any context (the final-fput probe).
 */
void epm_ready_forget(struct epm_instance *ep, struct epm_item *item)
{
	unsigned long flags;

	spin_lock_irqsave(&ep->lock, flags);
	if (item->rstate == EPM_QUEUED)
		epm_unqueue(ep, item);
	spin_unlock_irqrestore(&ep->lock, flags);
}

/*
 * Put a scan's batch back according to each item's outcome, marked as seen
 * by the scan, and wake a waiter if events are left: another thread may be
 * waiting for them.
 */
void epm_settle(struct epm_instance *ep, struct list_head *batch, u32 scan_id)
{
	struct epm_item *item, *tmp;
	LIST_HEAD(front);

	spin_lock_irq(&ep->lock);
	list_for_each_entry_safe(item, tmp, batch, ready) {
		/* Its file closed while we looked: no callback can come again. */
		if (READ_ONCE(item->gone))
			item->outcome = EPM_DROP;
		switch (item->outcome) {
		case EPM_KEEP_AT_HEAD:
			list_move_tail(&item->ready, &front);
			item->rstate = EPM_QUEUED;
			break;
		case EPM_REQUEUE:
			epm_requeue(ep, item);
			break;
		case EPM_DISARM:
			item->events &= EPM_PRIVATE_BITS;
			epm_unqueue(ep, item);
			break;
		case EPM_DROP:
			if (item->rearm && !READ_ONCE(item->gone))
				epm_requeue(ep, item);
			else
				epm_unqueue(ep, item);
			break;
		}
		item->rearm = false;
		item->scan_id = scan_id;
	}
	list_splice(&front, &ep->ready);
	/* Waiters queue themselves under ep->lock, which we hold. */
	if (!list_empty(&ep->ready) && waitqueue_active(&ep->wq))
		wake_up(&ep->wq);
	spin_unlock_irq(&ep->lock);
}

/*
 * What the watched @file (held by the caller) reports now, among the
 * events the item asks for.
 */
static __poll_t epm_item_poll(struct epm_item *item, struct file *file,
			      poll_table *pt, int depth, bool may_block)
{
	__poll_t res;

	pt->_key = item->events;
	if (item->kind == EPM_KIND_INSTANCE) {
		res = epm_instance_poll(file->private_data, pt, depth,
					may_block);
	} else if (!may_block && item->kind == EPM_KIND_NATIVE_EPOLL) {
		/*
		 * Native epoll's ->poll() takes its mutex unconditionally;
		 * from ->poll() that could close a cycle through native epoll
		 * (nest.c). A queued native epoll counts as ready.
		 */
		res = EPOLLIN | EPOLLRDNORM;
	} else {
		res = vfs_poll(file, pt);
	}
	return res & item->events;
}

/* What the item's @file (pinned by the caller) reports now, unhooked. */
__poll_t epm_item_poll_file(struct epm_item *item, struct file *file,
			    int depth, bool may_block)
{
	poll_table pt;

	init_poll_funcptr(&pt, NULL);
	return epm_item_poll(item, file, &pt, depth, may_block);
}

/*
 * EPOLLMOD_OPT_FIFO_EXCLUSIVE: an exclusive item that delivered moves
 * its hooks behind the other instances' on the watched file's queues, so
 * that the next wakeup tries them first. Not from the callback: a wake
 * that goes on past us would meet our entry again. Under ep->mtx.
 */
static void epm_hooks_to_back(struct epm_item *item)
{
	struct file *file = epm_item_pin(item);
	struct epm_hook *hook;

	/* Pinned, the file's close cannot unhook the item meanwhile. */
	if (!file)
		return;
	for (hook = item->hooks; hook; hook = hook->next) {
		wait_queue_head_t *whead;
		unsigned long flags;

		rcu_read_lock();
		/* Pairs with the release in epm_hook_wake() on POLLFREE. */
		whead = smp_load_acquire(&hook->whead);
		if (whead) {
			spin_lock_irqsave(&whead->lock, flags);
			if (READ_ONCE(hook->whead))
				list_move_tail(&hook->wait.entry,
					       &whead->head);
			spin_unlock_irqrestore(&whead->lock, flags);
		}
		rcu_read_unlock();
	}
	fput(file);
}

/* epm_item_poll() of a file we do not hold: 0 if it is being released. */
static __poll_t epm_item_poll_pinned(struct epm_item *item, poll_table *pt,
				     int depth, bool may_block)
{
	struct file *file = epm_item_pin(item);
	__poll_t res;

	if (!file)
		return 0;
	res = epm_item_poll(item, file, pt, depth, may_block);
	fput(file);
	return res;
}

/*
 * epoll_wait(2)'s harvest: up to @maxevents events. Returns how many, or
 * -EFAULT if none could be copied (the event that failed stays ready), or
 * -EINTR on a fatal signal.
 */
int epm_harvest(struct epm_instance *ep, void __user *out, int maxevents)
{
	struct epoll_event __user *uevents = out;
	struct epm_item *item;
	LIST_HEAD(batch);
	int delivered = 0;
	bool fault = false;
	poll_table pt;
	u32 scan_id;

	/* A dying task should leave, not keep finding events. */
	if (fatal_signal_pending(current))
		return -EINTR;

	init_poll_funcptr(&pt, NULL);
	mutex_lock(&ep->mtx);
	/* Made a kqueue while this wait slept: its items are knotes. */
	if (unlikely(ep->kqueue)) {
		mutex_unlock(&ep->mtx);
		return -EINVAL;
	}
	scan_id = ++ep->scan_id;
	while (!fault && delivered < maxevents &&
	       epm_take(ep, &batch, maxevents - delivered, scan_id)) {
		list_for_each_entry(item, &batch, ready) {
			struct wakeup_source *ws = epm_item_ws(item);
			__poll_t revents;

			item->outcome = EPM_KEEP_AT_HEAD;
			if (fault)
				continue;
			/* Hand the wakeup over to the instance while we work. */
			if (ws) {
				if (ws->active)
					__pm_stay_awake(ep->ws);
				__pm_relax(ws);
			}
			item->outcome = EPM_DROP;
			revents = epm_item_poll_pinned(item, &pt, 1, true);
			if (!revents)
				continue;
			if (!epoll_put_uevent(revents, item->data,
					      uevents + delivered)) {
				/* Still ready: it keeps suspend off again. */
				item->outcome = EPM_KEEP_AT_HEAD;
				epm_item_stay_awake(item);
				fault = true;
				continue;
			}
			delivered++;
			if ((item->events & EPOLLEXCLUSIVE) &&
			    ep->fifo_exclusive)
				epm_hooks_to_back(item);
			if (item->events & EPOLLONESHOT)
				item->outcome = EPM_DISARM;
			else if (!(item->events & EPOLLET))
				item->outcome = EPM_REQUEUE;
		}
		epm_settle(ep, &batch, scan_id);
	}
	__pm_relax(ep->ws);
	mutex_unlock(&ep->mtx);

	epm_stat_add(EPM_STAT_EVENTS, delivered);
	if (!delivered && fault)
		return -EFAULT;
	return delivered;
}

/*
 * Does the ready list hold an item that is really ready? Items that are
 * not are dropped from it on the way, as a harvest would drop them, and
 * let suspend go.
 */
static __poll_t epm_scan_readiness(struct epm_instance *ep, int depth,
				   bool may_block)
{
	u32 scan_id = ++ep->scan_id;
	struct epm_item *item;
	__poll_t res = 0;
	LIST_HEAD(batch);
	poll_table pt;

	lockdep_assert_held(&ep->mtx);
	init_poll_funcptr(&pt, NULL);
	while (!res && epm_take(ep, &batch, 1, scan_id)) {
		item = list_first_entry(&batch, struct epm_item, ready);
		item->outcome = EPM_DROP;
		if (ep->kqueue ? epm_knote_pending(item, depth + 1, may_block) :
		    epm_item_poll_pinned(item, &pt, depth + 1, may_block)) {
			item->outcome = EPM_KEEP_AT_HEAD;
			res = EPOLLIN | EPOLLRDNORM;
		} else {
			__pm_relax(epm_item_ws(item));
		}
		epm_settle(ep, &batch, scan_id);
	}
	return res;
}

/*
 * Without a scan: ready if anything is queued or being looked at. Under
 * ep->lock, so that a callback either queued its item before we look or
 * sees the entry poll_wait() just added and wakes it.
 */
static __poll_t epm_readiness_guess(struct epm_instance *ep)
{
	bool avail;

	spin_lock_irq(&ep->lock);
	avail = ep->nready;
	spin_unlock_irq(&ep->lock);
	return avail ? EPOLLIN | EPOLLRDNORM : 0;
}

/*
 * An instance polled as a file: by poll(), select(), native epoll, or an
 * outer instance. Reports EPOLLIN when a wait would find events.
 *
 * @may_block is true only on our own ioctl paths, where the caller holds
 * nothing but the mutexes of the instances above this one. Everywhere
 * else (f_op->poll) native epoll may hold its mutex and, through an
 * instance that watches it, our mutex may be held by a task waiting for
 * native's: there the mutex is only tried, and a busy instance answers
 * from its ready list without a scan, as does one reached so deep that
 * the stack is running low.
 */
__poll_t epm_instance_poll(struct epm_instance *ep, poll_table *pt,
			   int depth, bool may_block)
{
	__poll_t res;

	poll_wait(ep->file, &ep->poll_wait, pt);

	/* A ring instance is readable while its ring holds entries. */
	if (ep->ring) {
		if (may_block) {
			mutex_lock_nested(&ep->mtx, depth);
			epm_ring_refill(ep);
			mutex_unlock(&ep->mtx);
		}
		return epm_ring_pending(ep) || READ_ONCE(ep->nready) ?
		       EPOLLIN | EPOLLRDNORM : 0;
	}

	if (may_block) {
		mutex_lock_nested(&ep->mtx, depth);
	} else if (epm_stack_low() || !mutex_trylock(&ep->mtx)) {
		epm_stat_inc(EPM_STAT_POLL_GUESSES);
		return epm_readiness_guess(ep);
	}
	res = epm_scan_readiness(ep, depth, may_block);
	mutex_unlock(&ep->mtx);
	return res;
}

/* ---------------------------------------------------------------------- */
/* Adding, changing and removing items                                     */

static void epm_item_free_rcu(struct rcu_head *rcu)
{
	kmem_cache_free(epm_item_cache, container_of(rcu, struct epm_item, rcu));
}

/* Free an item that was never published: no RCU reader can hold it. */
static void epm_item_discard(struct epm_item *item)
{
	if (item->knote)
		epm_knote_discard(item);
	else
		kmem_cache_free(epm_item_cache, item);
}

/*
 * Free an item that has ended (epm_item_end(), or its file's close): take
 * it out of the interest set and the index.
 */
void epm_item_free(struct epm_instance *ep, struct epm_item *item)
{
	lockdep_assert_held(&ep->mtx);

	rb_erase_cached(&item->node, &ep->items);
	spin_lock_irq(&ep->lock);
	/* Scans hold ep->mtx, as we do: the item cannot be taken. */
	WARN_ON_ONCE(item->rstate == EPM_TAKEN);
	if (item->rstate == EPM_QUEUED)
		epm_unqueue(ep, item);
	spin_unlock_irq(&ep->lock);

	if (item->file)
		epm_index_remove(item);
	epm_hooks_free(item);
	/* Ended: no callback and no close reads item->ws any more. */
	wakeup_source_unregister(epm_item_ws(item));
	epm_stat_add(EPM_STAT_WATCHES, -1);
	/* The probe and the path checks walk the index under RCU. */
	if (item->knote)
		epm_knote_free(item);
	else
		call_rcu(&item->rcu, epm_item_free_rcu);
	/* The caller holds another reference: the file's, or a call's. */
	WARN_ON_ONCE(refcount_dec_and_test(&ep->ref));
}

/*
 * Remove an item (DEL, failed ADD, instance release). One whose file is
 * closing at this moment is left to the instance's reaping.
 */
void epm_remove(struct epm_instance *ep, struct epm_item *item)
{
	if (epm_item_end(item))
		epm_item_free(ep, item);
}

/*
 * Put a new item, set up by the caller, into @ep: charge its user, index
 * it by its file (if it has one), link it into the interest set and, for
 * an ADD that can change nesting, check the wakeup paths. On failure the
 * item is gone: freed, or removed.
 */
int epm_item_link(struct epm_instance *ep, struct epm_item *item,
		  bool full_check)
{
	int err;

	lockdep_assert_held(&ep->mtx);
	INIT_LIST_HEAD(&item->ready);
	item->ep = ep;
	item->rstate = EPM_IDLE;
	if (!item->file)
		item->kind = EPM_KIND_FILE;
	else if (epm_is_instance_file(item->file))
		item->kind = EPM_KIND_INSTANCE;
	else if (epm_is_native_epoll(item->file))
		item->kind = EPM_KIND_NATIVE_EPOLL;
	else
		item->kind = EPM_KIND_FILE;

	/* A watch of a file must end with it: only while the probe works. */
	err = item->file ? epm_probe_usable() : 0;
	if (!err)
		err = epm_user_charge(ep->user);
	if (err) {
		epm_item_discard(item);
		return err;
	}
	if (item->file) {
		err = epm_index_insert(item);
		if (err) {
			epm_user_uncharge(ep->user);
			epm_item_discard(item);
			return err;
		}
	}
	epm_rb_insert(ep, item);
	refcount_inc(&ep->ref);
	epm_stat_inc(EPM_STAT_WATCHES);

	if (full_check) {
		err = epm_path_check(item);
		if (err) {
			epm_remove(ep, item);
			return err;
		}
	}
	return 0;
}

/*
 * Hook a linked item on every queue of its file; callbacks may fire from
 * then on. Returns what the file reports now among item->events, or
 * -ENOMEM after removing the item.
 */
int epm_item_hook_file(struct epm_instance *ep, struct epm_item *item,
		       struct file *tfile)
{
	struct epm_pqueue pq;
	__poll_t revents;

	lockdep_assert_held(&ep->mtx);
	pq.item = item;
	pq.failed = false;
	init_poll_funcptr(&pq.pt, epm_queue_proc);
	revents = epm_item_poll(item, tfile, &pq.pt, 1, true);
	if (unlikely(pq.failed)) {
		epm_remove(ep, item);
		return -ENOMEM;
	}
	return revents;
}

int epm_insert(struct epm_instance *ep, const struct epoll_event *event,
	       struct file *tfile, int fd, bool full_check)
{
	struct epm_item *item;
	int err, revents;

	lockdep_assert_held(&ep->mtx);
	lockdep_assert_irqs_enabled();

	item = kmem_cache_zalloc(epm_item_cache, GFP_KERNEL);
	if (!item)
		return -ENOMEM;
	item->file = tfile;
	item->fd = fd;
	item->events = event->events;
	item->data = event->data;
	err = epm_item_link(ep, item, full_check);
	if (err)
		return err;

	if (item->events & EPOLLWAKEUP) {
		err = epm_item_ws_create(item, tfile);
		if (err) {
			epm_remove(ep, item);
			return err;
		}
	}
	if (ep->ring) {
		err = epm_ring_attach(ep, item);
		if (err) {
			epm_remove(ep, item);
			return err;
		}
	}

	revents = epm_item_hook_file(ep, item, tfile);
	if (revents < 0)
		return revents;
	if (revents && epm_queue_ready(ep, item, revents))
		epm_wake_pollers(ep, 0);
	return 0;
}

void epm_modify(struct epm_instance *ep, struct epm_item *item,
		struct file *tfile, const struct epoll_event *event)
{
	__poll_t revents;
	poll_table pt;

	lockdep_assert_held(&ep->mtx);

	spin_lock_irq(&ep->lock);
	item->events = event->events;
	spin_unlock_irq(&ep->lock);
	item->data = event->data;
	if (ep->ring)
		epm_ring_set_data(ep, item);
	if (item->events & EPOLLWAKEUP) {
		/* As Linux: a wakeup source that cannot be had is not fatal. */
		if (!rcu_access_pointer(item->ws))
			epm_item_ws_create(item, tfile);
	} else {
		epm_item_ws_destroy(item);
	}

	/*
	 * The new mask is in place before the file is polled: a callback
	 * that runs from now on sees it, and the poll below sees any state
	 * that changed before (pairs with the barrier of the waker).
	 */
	smp_mb();

	init_poll_funcptr(&pt, NULL);
	revents = epm_item_poll(item, tfile, &pt, 1, true);
	if (revents && epm_queue_ready(ep, item, revents))
		epm_wake_pollers(ep, 0);
}

/* ---------------------------------------------------------------------- */
/* Waiting                                                                 */

/*
 * Wake the waiter and take its entry off the queue, even when it was
 * already awake: the wait loop never reuses an entry, and a waiter woken
 * by a signal must not absorb the next exclusive wakeup.
 */
static int epm_waiter_wake(wait_queue_entry_t *wait, unsigned int mode,
			   int sync, void *key)
{
	struct epm_waiter *w = container_of(wait, struct epm_waiter, wait);
	int ret;

	/* It would only sleep again: the wakeup goes on to the next one. */
	if (epm_waiter_declines(w))
		return 0;
	ret = default_wake_function(wait, mode, sync, key);

	/* Pairs with list_empty_careful() in epm_wait(). */
	list_del_init_careful(&wait->entry);
	return ret;
}

/*
 * Are enough events ready to harvest? One, unless the caller asked for
 * more: then @spec->min_events, or any once its min_wait has passed or
 * the wait has timed out.
 */
static bool epm_wait_enough(struct epm_instance *ep,
			    const struct epm_wait_spec *spec, bool timed_out,
			    bool *min_passed)
{
	unsigned int n = READ_ONCE(ep->nready) + epm_ring_pending(ep);

	if (!n)
		return false;
	if (n >= spec->min_events || timed_out || *min_passed)
		return true;
	if (spec->min_deadline && ktime_get() >= spec->min_deadline)
		*min_passed = true;
	return *min_passed;
}

/*
 * The wait of epoll_wait(2) and kevent(2): @harvest once enough events
 * are there (epm_wait_enough()); otherwise sleep on an exclusive entry
 * until a callback wakes us, the timeout passes or a signal comes. With
 * min_events, each wakeup that leaves too few sleeps again, until
 * min_deadline if some are ready; the timeout returns what is there.
 */
int epm_wait(struct epm_instance *ep, epm_harvest_t harvest,
	     void __user *events, int maxevents,
	     const struct epm_wait_spec *spec)
{
	bool timed_out = spec->expires && !*spec->expires;
	ktime_t deadline = spec->expires ? *spec->expires : 0;
	bool batching = spec->min_events > 1;
	ktime_t min_deadline = spec->min_deadline;
	bool min_passed = false, expired, at_min;
	struct epm_waiter waiter = { .ep = ep, .spec = spec };
	wait_queue_entry_t *wait = &waiter.wait;
	ktime_t *until;
	bool avail;
	int res;

	lockdep_assert_irqs_enabled();
	epm_stat_inc(EPM_STAT_WAITS);

	/* Racy: a non-blocking caller has to look again anyway. */
	avail = epm_wait_enough(ep, spec, timed_out, &min_passed);
	for (;;) {
		if (avail) {
			res = harvest(ep, events, maxevents);
			if (res)
				break;
		}

		res = 0;
		if (timed_out)
			break;
		res = -EAGAIN;
		if (spec->try_only)
			break;
		res = -EINTR;
		if (signal_pending(current))
			break;

		init_wait(wait);
		wait->func = epm_waiter_wake;

		spin_lock_irq(&ep->lock);
		/* Callbacks test ep->wq under ep->lock: no barrier needed. */
		__set_current_state(TASK_INTERRUPTIBLE);
		avail = epm_wait_enough(ep, spec, timed_out, &min_passed);
		if (!avail) {
			if (ep->fifo_exclusive) {
				/* Round robin: the longest waiter goes first. */
				wait->flags |= WQ_FLAG_EXCLUSIVE;
				__add_wait_queue_entry_tail(&ep->wq, wait);
			} else {
				__add_wait_queue_exclusive(&ep->wq, wait);
			}
		}
		/*
		 * Too few ready: come back at min_deadline, for what is ready
		 * then (the callbacks do not wake us for too few).
		 */
		at_min = batching && min_deadline && !min_passed &&
			 (!spec->expires || min_deadline < deadline);
		spin_unlock_irq(&ep->lock);

		expired = false;
		if (!avail) {
			until = at_min ? &min_deadline :
				spec->expires ? &deadline : NULL;
			expired = !schedule_hrtimeout_range(until, spec->slack,
							    HRTIMER_MODE_ABS);
			if (expired && at_min)
				min_passed = true;
			else if (expired)
				timed_out = true;
		}
		__set_current_state(TASK_RUNNING);

		/*
		 * Woken: harvest. Timed out but still queued: nobody woke us,
		 * unless the wakeup came after the timer and before this.
		 */
		avail = true;
		if (!list_empty_careful(&wait->entry)) {
			spin_lock_irq(&ep->lock);
			if (timed_out)
				avail = list_empty(&wait->entry);
			__remove_wait_queue(&ep->wq, wait);
			spin_unlock_irq(&ep->lock);
		}
		/* Batching: the wakeups were ours; are there enough now? */
		if (batching || min_deadline)
			avail = epm_wait_enough(ep, spec, timed_out,
						&min_passed);
	}
	return res;
}

/* ---------------------------------------------------------------------- */
/* Instance release, fdinfo, set-up                                        */

void epm_instance_release(struct epm_instance *ep)
{
	struct rb_node *rbp, *next;

	mutex_lock(&ep->mtx);
	for (rbp = rb_first_cached(&ep->items); rbp; rbp = next) {
		next = rb_next(rbp);
		/* Items whose file is closing meanwhile go to the reap below. */
		epm_remove(ep, rb_entry(rbp, struct epm_item, node));
		cond_resched();
	}
	epm_reap(ep);
	mutex_unlock(&ep->mtx);
	epm_instance_put(ep);
}

/*
 * /proc/<pid>/fdinfo/<fd>: one line per watch, in Linux's format; a
 * kqueue's knotes in a format of its own.
 */
void epm_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct epm_instance *ep = file->private_data;
	struct rb_node *rbp;

	mutex_lock(&ep->mtx);
	for (rbp = rb_first_cached(&ep->items); rbp; rbp = rb_next(rbp)) {
		struct epm_item *item = rb_entry(rbp, struct epm_item, node);
		struct inode *inode;
		struct file *tfile;

		if (item->knote) {
			epm_knote_show(m, item);
			continue;
		}
		tfile = epm_item_pin(item);

		/* Linux forgets a watch when its file closes. */
		if (!tfile)
			continue;
		inode = file_inode(tfile);
		seq_printf(m, "tfd: %8d events: %8x data: %16llx  pos:%lli ino:%llx sdev:%x\n",
			   item->fd, item->events, (long long)item->data,
			   (long long)tfile->f_pos,
			   (unsigned long long)inode->i_ino, inode->i_sb->s_dev);
		fput(tfile);
		if (seq_has_overflowed(m))
			break;
	}
	mutex_unlock(&ep->mtx);
}

int epm_core_init(void)
{
	struct sysinfo si;

	/* Linux's default: 4% of low memory's worth of watches per user. */
	si_meminfo(&si);
	/* A watch fits one cache line, as in Linux. */
	BUILD_BUG_ON(sizeof(struct epm_item) > 128);

	epm_max_user_watches = (((si.totalram - si.totalhigh) / 25)
				<< PAGE_SHIFT) /
			       (sizeof(struct epm_item) + sizeof(struct epm_hook));

	epm_instance_cache = KMEM_CACHE(epm_instance, SLAB_ACCOUNT);
	epm_item_cache = KMEM_CACHE(epm_item,
				    SLAB_HWCACHE_ALIGN | SLAB_ACCOUNT);
	epm_hook_cache = KMEM_CACHE(epm_hook, SLAB_ACCOUNT);
	if (!epm_instance_cache || !epm_item_cache || !epm_hook_cache) {
		epm_core_exit();
		return -ENOMEM;
	}
	return 0;
}

void epm_core_exit(void)
{
	/* Items and instances are freed by RCU callbacks. */
	rcu_barrier();
	kmem_cache_destroy(epm_hook_cache);
	kmem_cache_destroy(epm_item_cache);
	kmem_cache_destroy(epm_instance_cache);
}
