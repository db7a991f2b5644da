/* SPDX-License-Identifier: GPL-2.0 */
/*
 * epollmod internals shared by the module's files. The lock order and the
 * life cycle of every object are described at the top of core.c.
 */
#ifndef EPM_H
#define EPM_H

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/irq_work.h>
#include <linux/llist.h>
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/rbtree.h>
#include <linux/refcount.h>
#include <linux/rhashtable-types.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
#include <linux/workqueue.h>
/* After the headers above: it uses them without including them. */
#include <linux/eventpoll.h>
#include <linux/epollmod.h>

/* Linux's limit on instances nested in instances. */
#define EPM_MAX_NESTS		4

/* The most events one wait may ask for: what fits in INT_MAX bytes. */
#define EPM_MAX_EVENTS		((int)(INT_MAX / sizeof(struct epoll_event)))

/* Bits of item->events that configure the watch rather than select events. */
#define EPM_PRIVATE_BITS	(EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | \
				 EPOLLEXCLUSIVE)
#define EPM_EXCLUSIVE_OK_BITS	(EPOLLIN | EPOLLOUT | EPOLLERR | EPOLLHUP | \
				 EPOLLWAKEUP | EPOLLET | EPOLLEXCLUSIVE)

#define EPM_FEATURES	(EPOLLMOD_FEAT_CTL | EPOLLMOD_FEAT_WAIT |	\
			 EPOLLMOD_FEAT_WAIT_TIMESPEC |			\
			 EPOLLMOD_FEAT_SIGMASK | EPOLLMOD_FEAT_NESTING |	\
			 EPOLLMOD_FEAT_EXCLUSIVE | EPOLLMOD_FEAT_WAKEUP |	\
			 EPOLLMOD_FEAT_FDINFO | EPOLLMOD_FEAT_KQUEUE |	\
			 EPOLLMOD_FEAT_MIN_WAIT |			\
			 EPOLLMOD_FEAT_FIFO_EXCLUSIVE |		\
			 EPOLLMOD_FEAT_WAIT_CHANGES | EPOLLMOD_FEAT_TRY |	\
			 EPOLLMOD_FEAT_RING)

struct epm_ring;
struct epm_user;
struct seq_file;
struct wakeup_source;

/* Where an item is with respect to the ready list (under ep->lock). */
enum epm_rstate {
	EPM_IDLE,		/* not ready, or not known to be */
	EPM_QUEUED,		/* on ep->ready */
	EPM_TAKEN,		/* off the list, being looked at by a scan */
};

/* What a scan decided about an item it took (see epm_settle()). */
enum epm_outcome {
	EPM_KEEP_AT_HEAD,	/* still ready; not delivered (or not looked at) */
	EPM_REQUEUE,		/* delivered, level-triggered: to the tail */
	EPM_DROP,		/* delivered edge-triggered, or not ready */
	EPM_DISARM,		/* delivered, one-shot: disabled until MOD */
};

/* What a watched file is, decided at ADD: its f_op never changes. */
enum epm_kind {
	EPM_KIND_FILE,		/* anything else */
	EPM_KIND_INSTANCE,	/* an epollmod instance */
	EPM_KIND_NATIVE_EPOLL,	/* a native epoll instance */
};

/* One wait-queue entry of an item on a queue of the watched file. */
struct epm_hook {
	wait_queue_entry_t wait;
	/* NULL once the queue's owner announced its end with POLLFREE */
	wait_queue_head_t *whead;
	struct epm_item *item;
	struct epm_hook *next;
};

/*
 * One watch: (file, fd) in one instance, or a knote's part of the
 * machinery (kqueue.c; it may have no file). The file is not referenced: the
 * watch ends when the file's last reference goes (files.c), and every
 * path that looks at the file without the caller's fd pins it first
 * (epm_item_pin()).
 */
struct epm_item {
	union {
		struct rb_node node;	/* in ep->items, keyed (file, fd) */
		struct rcu_head rcu;	/* freeing: out of the tree */
	};
	struct list_head ready;		/* on ep->ready or a scan's batch */
	struct rhlist_head index;	/* in the watched-file index (files.c) */
	struct file *file;		/* key, never dereferenced unpinned */
	int fd;				/* key */
	u32 events;			/* EPOLL* (under ep->mtx and ep->lock) */
	u64 data;			/* under ep->mtx */
	struct epm_instance *ep;
	struct epm_hook *hooks;		/* under the file's lock (files.c) */
	struct wakeup_source __rcu *ws;	/* with EPOLLWAKEUP */
	struct llist_node reap;		/* on ep->reap once its file closed */
	u32 scan_id;			/* the scan that settled it last */
	u32 check_gen;			/* the path check that listed it */
	u8 rstate;			/* enum epm_rstate, under ep->lock */
	u8 outcome;			/* enum epm_outcome, for the scan */
	u8 kind;			/* enum epm_kind */
	bool rearm;			/* an event came while EPM_TAKEN */
	bool knote;			/* in a struct epm_knote (kqueue.c) */
	/*
	 * Unhooked and uncharged: its file is closing or it is being
	 * removed. Set once, under the file's lock.
	 */
	bool gone;
	u16 ring_slot;			/* its slot in ep->ring (ring.c), or 0 */
};

/* One epoll instance: the private_data of an open /dev/epollmod. */
struct epm_instance {
	struct mutex mtx;		/* interest set and scans */
	spinlock_t lock;		/* ready list, item rstate, ->wq list */
	wait_queue_head_t wq;		/* waiters in EPOLLMOD_IOC_WAIT */
	wait_queue_head_t poll_wait;	/* poll(), select(), outer instances */
	struct list_head ready;		/* EPM_QUEUED items, in order */
	/*
	 * Items queued or taken by a scan, under @lock. One word, so that a
	 * lockless look sees an item that stays ready at every moment of a
	 * scan, whichever list it is on.
	 */
	unsigned int nready;
	u32 scan_id;			/* the current scan (under @mtx) */
	struct rb_root_cached items;	/* under @mtx */
	struct file *file;
	struct epm_user *user;		/* charged for the watches */
	/* A kqueue (kqueue.c): its items are knotes. Set before any item. */
	bool kqueue;
	/* Exclusive wakeups in arrival order (EPOLLMOD_OPT_FIFO_EXCLUSIVE). */
	bool fifo_exclusive;
	/* The ready ring (ring.c): set once, before any item, under @lock. */
	struct epm_ring *ring;
	refcount_t ref;			/* the file, one per item, queued @reap_work */
	struct wakeup_source *ws;	/* held while a scan delivers */

	/* Items whose file closed, to be taken out of @items (files.c). */
	struct llist_head reap;
	struct work_struct reap_work;

	/* Nesting (nest.c). */
	u64 loop_gen;			/* visited by loop check @loop_gen */
	int loop_depth;			/* depth found by that check */
	u8 nests;			/* lockdep subclass of a ->poll_wait wake */
	atomic_t forward_hops;		/* pending forwarded wake, see nest.c */
	struct irq_work forward_work;

	struct rcu_head rcu;
};

/* Counters, shown in debugfs: the list is stats.h. */
enum epm_stat {
#define EPM_STAT(id, name, what) EPM_STAT_##id
#include "stats.h"
#undef EPM_STAT
	EPM_NR_STATS
};

void epm_stat_add(enum epm_stat stat, long n);
long epm_stat_read(enum epm_stat stat);
static inline void epm_stat_inc(enum epm_stat stat)
{
	epm_stat_add(stat, 1);
}

extern unsigned long epm_max_user_watches;
extern const struct file_operations epm_fops;

static inline bool epm_is_instance_file(const struct file *file)
{
	return file->f_op == &epm_fops;
}

/* core.c: instances, items, scans, waits */
struct epm_instance *epm_instance_create(struct file *file);
void epm_instance_release(struct epm_instance *ep);
void epm_instance_put(struct epm_instance *ep);
int epm_insert(struct epm_instance *ep, const struct epoll_event *event,
	       struct file *tfile, int fd, bool full_check);
int epm_item_link(struct epm_instance *ep, struct epm_item *item,
		  bool full_check);
int epm_item_hook_file(struct epm_instance *ep, struct epm_item *item,
		       struct file *tfile);
int epm_item_hook(struct epm_item *item, wait_queue_head_t *whead,
		  wait_queue_func_t func);
void epm_item_activate(struct epm_item *item);
__poll_t epm_item_poll_file(struct epm_item *item, struct file *file,
			    int depth, bool may_block);
int epm_take(struct epm_instance *ep, struct list_head *batch, int max,
	     u32 scan_id);
void epm_settle(struct epm_instance *ep, struct list_head *batch, u32 scan_id);
void epm_modify(struct epm_instance *ep, struct epm_item *item,
		struct file *tfile, const struct epoll_event *event);
void epm_remove(struct epm_instance *ep, struct epm_item *item);
void epm_item_free(struct epm_instance *ep, struct epm_item *item);
void epm_unhook(struct epm_item *item);
void epm_ready_forget(struct epm_instance *ep, struct epm_item *item);
void epm_item_relax(struct epm_item *item);
struct epm_item *epm_find(struct epm_instance *ep, struct file *file, int fd);
__poll_t epm_instance_poll(struct epm_instance *ep, poll_table *pt,
			   int depth, bool may_block);
/* Deliver up to @maxevents events to @events: a count, or -errno. */
typedef int (*epm_harvest_t)(struct epm_instance *ep, void __user *events,
			     int maxevents);

/* How long a wait waits, decoded from its ioctl (main.c). */
struct epm_wait_spec {
	/* Absolute, CLOCK_MONOTONIC; NULL waits for ever, 0 does not wait. */
	const ktime_t *expires;
	u64 slack;
	/* Harvest once this many are ready (at least 1) ... */
	int min_events;
	/* ... or, from this time on (0: never), once any is. */
	ktime_t min_deadline;
	/* -EAGAIN rather than sleep. */
	bool try_only;
};

int epm_wait(struct epm_instance *ep, epm_harvest_t harvest,
	     void __user *events, int maxevents,
	     const struct epm_wait_spec *spec);
int epm_harvest(struct epm_instance *ep, void __user *out, int maxevents);
void epm_wait_spec_init(struct epm_wait_spec *spec, ktime_t *deadline,
			const struct timespec64 *rel, u32 min_events,
			u64 min_wait_ns, int maxevents);
void epm_show_fdinfo(struct seq_file *m, struct file *file);
int epm_core_init(void);
void epm_core_exit(void);

/* main.c: the ioctls */
ktime_t epm_deadline(const struct timespec64 *rel, u64 *slack);

/* ctl.c: epoll_ctl(2) */
int epm_ctl(struct epm_instance *ep, int op, int fd,
	    const struct epoll_event *event);

/* nest.c: instances in instances, native epoll around instances */
bool epm_is_native_epoll(const struct file *file);
int epm_loop_check(struct epm_instance *ep, struct epm_instance *target);
int epm_path_check(struct epm_item *item);
bool epm_needs_full_check(struct epm_instance *ep, struct file *tfile);
void epm_nest_lock(void);
void epm_nest_unlock(void);
void epm_wake_pollers(struct epm_instance *ep, u8 nests);
void epm_forward_wake(struct epm_instance *ep);
void epm_forward_init(struct epm_instance *ep);
void epm_forward_sync(struct epm_instance *ep);
bool epm_stack_low(void);

/* files.c: watched files, from the first watch to the final close */
int epm_index_insert(struct epm_item *item);
void epm_index_remove(struct epm_item *item);
struct rhlist_head *epm_index_lookup(const struct file *file);
bool epm_file_watched(const struct file *file);
unsigned int epm_watched_files(void);
void epm_index_clear_marks(void);
bool epm_item_end(struct epm_item *item);
struct file *epm_item_pin(struct epm_item *item);
void epm_reap(struct epm_instance *ep);
void epm_reap_init(struct epm_instance *ep);
unsigned long epm_probe_missed(void);
const char *epm_probe_symbol(void);
bool epm_probe_on_ftrace(void);
int epm_probe_usable(void);
int epm_files_init(void);
void epm_files_exit(void);

/* kqueue.c: the kqueue face */
int epm_knote_cmp(const struct epm_item *a, const struct epm_item *b);
bool epm_knote_pending(struct epm_item *item, int depth, bool may_block);
void epm_knote_show(struct seq_file *m, struct epm_item *item);
void epm_knote_discard(struct epm_item *item);
void epm_knote_free(struct epm_item *item);
int epm_kqueue_init(struct epm_instance *ep);
int epm_kevent(struct epm_instance *ep, const struct epollmod_kevent *arg);
int epm_kqueue_module_init(void);
void epm_kqueue_module_exit(void);

/* ring.c: the ready ring */
int epm_ring_setup(struct epm_instance *ep,
		   struct epollmod_ring_setup __user *uarg);
void epm_ring_free(struct epm_instance *ep);
int epm_ring_mmap(struct epm_instance *ep, struct vm_area_struct *vma);
int epm_ring_attach(struct epm_instance *ep, struct epm_item *item);
void epm_ring_set_data(struct epm_instance *ep, struct epm_item *item);
void epm_ring_detach(struct epm_instance *ep, struct epm_item *item);
bool epm_ring_publish(struct epm_instance *ep, struct epm_item *item,
		      __poll_t events);
unsigned int epm_ring_pending(struct epm_instance *ep);
void epm_ring_refill(struct epm_instance *ep);
int epm_ring_harvest(struct epm_instance *ep, void __user *out,
		     int maxevents);
int epm_ring_wait_harvest(struct epm_instance *ep, void __user *out,
			  int maxevents);

/* account.c: per-user limits on watches and timers */
struct epm_user *epm_user_get(void);
void epm_user_put(struct epm_user *user);
int epm_user_charge(struct epm_user *user);
void epm_user_uncharge(struct epm_user *user);
int epm_user_charge_timer(struct epm_user *user);
void epm_user_uncharge_timer(struct epm_user *user);
extern unsigned long epm_max_user_timers;

#endif /* EPM_H */
