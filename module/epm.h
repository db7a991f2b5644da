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
#include <linux/mutex.h>
#include <linux/poll.h>
#include <linux/rbtree.h>
#include <linux/refcount.h>
#include <linux/rhashtable.h>
#include <linux/spinlock.h>
#include <linux/types.h>
#include <linux/uaccess.h>
#include <linux/wait.h>
/* After the headers above: it uses them without including them. */
#include <linux/eventpoll.h>
#include <linux/epollmod.h>

/* Linux's limit on instances nested in instances (fs/eventpoll.c). */
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
			 EPOLLMOD_FEAT_FDINFO)

struct epm_user;
struct wakeup_source;

/*
 * A file some instance watches, shared by every item (in any instance)
 * that watches it. It holds the one reference epollmod keeps on the file:
 * with no eventpoll_release() hook, that reference is what keeps the
 * file's wait queues alive under our hooks (DESIGN.md, decision 4). The
 * file is dead to its users when its count is down to that reference.
 */
struct epm_file {
	struct rhash_head node;		/* in epm_files, keyed by @file */
	struct file *file;		/* our reference */
	refcount_t ref;			/* one per item, plus passing users */
	spinlock_t lock;		/* @items */
	struct hlist_head items;	/* epm_item.file_link, RCU-walkable */
	unsigned long flags;		/* EPM_FILE_* */
	struct list_head check_link;	/* on the path check list (nest.c) */
	union {
		struct list_head release_link;	/* to release, referenced */
		struct rcu_head rcu;		/* freeing: on no list */
	};
};

/* epm_file.flags */
enum {
	EPM_FILE_RELEASING,	/* one releaser owns the removal of its items */
	EPM_FILE_LISTED,	/* on the path check list (epm_nest_mutex) */
};

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

/* One wait-queue entry of an item on a queue of the watched file. */
struct epm_hook {
	wait_queue_entry_t wait;
	/* NULL once the queue's owner announced its end with POLLFREE */
	wait_queue_head_t *whead;
	struct epm_item *item;
	struct epm_hook *next;
};

/* One watch: (file, fd) in one instance. */
struct epm_item {
	union {
		struct rb_node node;	/* in ep->items, keyed (file, fd) */
		struct rcu_head rcu;	/* freeing: out of the tree */
	};
	struct list_head ready;		/* on ep->ready or a scan's batch */
	struct file *file;		/* key; referenced through @ef */
	int fd;				/* key */
	u32 events;			/* EPOLL* (under ep->mtx and ep->lock) */
	u64 data;			/* under ep->mtx */
	struct epm_instance *ep;
	struct epm_file *ef;
	struct hlist_node file_link;	/* on ef->items */
	struct epm_hook *hooks;		/* under ep->mtx */
	u32 scan_id;			/* the scan that settled it last */
	u8 rstate;			/* enum epm_rstate, under ep->lock */
	u8 outcome;			/* enum epm_outcome, for the scan */
	bool rearm;			/* an event came while EPM_TAKEN */
	bool dying;			/* a file release removes it (ef->lock) */
	struct wakeup_source __rcu *ws;	/* with EPOLLWAKEUP */
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
	refcount_t ref;			/* the file, and one per item */
	struct wakeup_source *ws;	/* held while a scan delivers */

	/* Where the per-call liveness check resumes, and when it may (@mtx). */
	struct file *sweep_file;
	int sweep_fd;
	unsigned long liveness_at;	/* jiffies */

	/* Nesting (nest.c). */
	u64 loop_gen;			/* visited by loop check @loop_gen */
	int loop_depth;			/* depth found by that check */
	u8 nests;			/* lockdep subclass of a ->poll_wait wake */
	atomic_t forward_hops;		/* pending forwarded wake, see nest.c */
	struct irq_work forward_work;

	struct rcu_head rcu;
};

/* Counters, shown in debugfs. */
enum epm_stat {
	EPM_STAT_INSTANCES,	/* live instances */
	EPM_STAT_WATCHES,	/* live items */
	EPM_STAT_WATCHED_FILES,	/* live epm_files */
	EPM_STAT_WAKEUPS,	/* poll callbacks that queued or woke */
	EPM_STAT_WAITS,		/* EPOLLMOD_IOC_WAIT calls */
	EPM_STAT_EVENTS,	/* events delivered */
	EPM_STAT_RELEASED_FILES, /* dead files released */
	EPM_STAT_SWEEPS,	/* periodic sweeps run */
	EPM_STAT_FORWARDS,	/* wakes forwarded from native epoll */
	EPM_STAT_FORWARDS_DROPPED, /* ... and cut off by the hop limit */
	EPM_STAT_POLL_GUESSES,	/* ->poll answered without a scan */
	EPM_NR_STATS
};

void epm_stat_add(enum epm_stat stat, long n);
long epm_stat_read(enum epm_stat stat);
static inline void epm_stat_inc(enum epm_stat stat)
{
	epm_stat_add(stat, 1);
}

extern unsigned long epm_max_user_watches;
extern unsigned int epm_sweep_interval_ms;
extern const struct file_operations epm_fops;

static inline bool epm_is_instance_file(const struct file *file)
{
	return file->f_op == &epm_fops;
}

/* core.c: instances, items, scans, waits */
struct epm_instance *epm_instance_create(struct file *file);
void epm_instance_release(struct epm_instance *ep);
void epm_instance_get(struct epm_instance *ep);
void epm_instance_put(struct epm_instance *ep);
int epm_insert(struct epm_instance *ep, const struct epoll_event *event,
	       struct file *tfile, int fd, bool full_check);
void epm_modify(struct epm_instance *ep, struct epm_item *item,
		const struct epoll_event *event);
void epm_remove(struct epm_instance *ep, struct epm_item *item);
void epm_remove_dying(struct epm_instance *ep, struct epm_item *item);
struct epm_item *epm_find(struct epm_instance *ep, struct file *file, int fd);
__poll_t epm_instance_poll(struct epm_instance *ep, poll_table *pt,
			   int depth, bool may_block);
int epm_wait(struct epm_instance *ep, struct epoll_event __user *events,
	     int maxevents, const ktime_t *expires, u64 slack);
void epm_check_liveness(struct epm_instance *ep,
			struct list_head *dead_files);
void epm_show_fdinfo(struct seq_file *m, struct file *file);
int epm_core_init(void);
void epm_core_exit(void);

/* ctl.c: epoll_ctl(2) */
int epm_ctl(struct epm_instance *ep, int op, int fd,
	    const struct epoll_event __user *uevent);

/* nest.c: instances in instances, native epoll around instances */
bool epm_is_native_epoll(const struct file *file);
int epm_loop_check(struct epm_instance *ep, struct epm_instance *target);
int epm_path_check(struct epm_file *ef);
bool epm_needs_full_check(struct epm_instance *ep, struct file *tfile);
void epm_nest_lock(void);
void epm_nest_unlock(void);
void epm_wake_pollers(struct epm_instance *ep, u8 nests);
void epm_forward_wake(struct epm_instance *ep);
void epm_forward_init(struct epm_instance *ep);
void epm_forward_sync(struct epm_instance *ep);
bool epm_stack_low(void);

/* files.c: the table of watched files, and releasing dead ones */
struct epm_file *epm_file_get(struct file *file);
struct epm_file *epm_file_lookup(struct file *file);
void epm_file_put(struct epm_file *ef);
static inline bool epm_file_dead(const struct epm_file *ef)
{
	/* Only our reference is left: no fd, no mapping, nothing in flight. */
	return file_count(ef->file) == 1;
}

/* epm_file_dead() for an item's file, one load shorter. */
static inline bool epm_item_dead(const struct epm_item *item)
{
	return file_count(item->file) == 1;
}

bool epm_file_claim_release(struct epm_file *ef);
void epm_release_files(struct list_head *dead_files);
void epm_sweep_kick(void);
void epm_sweep_now(void);
int epm_files_init(void);
void epm_files_exit(void);

/* account.c: per-user limit on watches */
struct epm_user *epm_user_get(void);
void epm_user_put(struct epm_user *user);
int epm_user_charge(struct epm_user *user);
void epm_user_uncharge(struct epm_user *user);

#endif /* EPM_H */
