// SPDX-License-Identifier: GPL-2.0
/*
 * The kqueue face: kevent(2) on an instance made a kqueue by
 * EPOLLMOD_IOC_KQUEUE.
 *
 * A knote is an item of core.c inside a struct epm_knote, which adds what
 * kqueue has and epoll has not: the key (filter, ident), the flags, fflags
 * and data of the registration, and per filter the state an event is made
 * of. Knotes live on the epoll machinery: the interest set, the ready list
 * and its scans, the exclusive waits of epm_wait(), the accounting, and
 * for knotes on files the hooks, the poll callbacks and the removal at the
 * file's final close (files.c). What differs is who activates a knote:
 *
 *  READ, WRITE	the file's poll callbacks, as for an epoll item
 *  TIMER	an hrtimer
 *  USER	a change with NOTE_TRIGGER
 *  PROC	a hook on the process's pidfd queue, woken at its exit
 *  SIGNAL	the kernel's signal_generate tracepoint, for the process
 *		that registered the knote
 *
 * and what a harvest does with an activated knote: it asks the filter for
 * an event (epm_knote_peek()), and drops the knote if there is none, as
 * the epoll harvest drops an item whose file no longer reports.
 *
 * LOCKING
 *
 * ep->mtx covers the registration (flags, sfflags, sdata, udata in
 * item->data) and the interest set, as for epoll. What a source changes
 * from atomic context (a timer's or a signal's count, a user trigger, a
 * process's exit status, the disabled state) is under ep->lock. The
 * signal watchers' list lock nests outside ep->lock; the tracepoint runs
 * under the signalled process's siglock. See core.c for the rest.
 */

#include <linux/cred.h>
#include <linux/file.h>
#include <linux/hashtable.h>
#include <linux/hrtimer.h>
#include <linux/net.h>
#include <linux/pid.h>
#include <linux/pipe_fs_i.h>
#include <linux/sched/signal.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/tracepoint.h>
#include <linux/udp.h>
#include <net/af_unix.h>
#include <net/sock.h>
#include <net/tcp.h>
#include <trace/events/signal.h>

#include "compat.h"
#include "epm.h"

#define EV_KEEP_FLAGS	(EPOLLMOD_EV_ADD | EPOLLMOD_EV_ONESHOT |	\
			 EPOLLMOD_EV_CLEAR | EPOLLMOD_EV_RECEIPT |	\
			 EPOLLMOD_EV_DISPATCH)
#define NOTE_UNITS	(EPOLLMOD_NOTE_SECONDS | EPOLLMOD_NOTE_MSECONDS |	\
			 EPOLLMOD_NOTE_USECONDS | EPOLLMOD_NOTE_NSECONDS)

/* What READ and WRITE ask their file for. */
#define EPM_READ_EVENTS		(EPOLLIN | EPOLLRDNORM | EPOLLRDHUP |	\
				 EPOLLHUP | EPOLLERR)
#define EPM_WRITE_EVENTS	(EPOLLOUT | EPOLLWRNORM | EPOLLHUP | EPOLLERR)

/* A periodic timer fires at most this often: each expiration is a hard irq. */
#define EPM_TIMER_MIN_PERIOD	(10 * NSEC_PER_USEC)

/* The most events one call may return: what fits in INT_MAX bytes. */
#define EPM_MAX_KEVENTS	((int)(INT_MAX / sizeof(struct epollmod_kev)))

struct epm_knote {
	struct epm_item item;		/* item.data is the udata */
	u64 ident;
	s16 filter;
	u16 flags;			/* EV_KEEP_FLAGS of the registration */
	u32 sfflags;			/* the registration's fflags ... */
	s64 sdata;			/* ... and data */

	/* Under ep->lock. */
	bool disabled;
	bool triggered;			/* USER: NOTE_TRIGGER seen */
	bool exited;			/* PROC: the process exited */
	u32 fflags;			/* USER: the low 24 bits */
	u64 count;			/* TIMER expirations, SIGNAL signals */
	int status;			/* PROC: the wait status */

	struct pid *pid;		/* PROC: watched; SIGNAL: registered */
	struct hrtimer timer;		/* TIMER */
	ktime_t period;			/* TIMER: 0 when one-shot */
	bool timer_charged;		/* TIMER: counted in the user's limit */
	struct hlist_node signal_node;	/* SIGNAL: in epm_signal_knotes */
	struct epm_knote *next_dead;	/* one-shot: delivered, to delete */
};

static struct kmem_cache *epm_knote_cache __read_mostly;

static inline struct epm_knote *epm_knote(const struct epm_item *item)
{
	return container_of(item, struct epm_knote, item);
}

static bool epm_filter_has_fd(s16 filter)
{
	return filter == EPOLLMOD_EVFILT_READ ||
	       filter == EPOLLMOD_EVFILT_WRITE;
}

/* ---------------------------------------------------------------------- */
/* Keys                                                                    */

static int epm_knote_key_cmp(s16 filter, u64 ident, const struct file *file,
			     const struct epm_knote *kn)
{
	if (filter != kn->filter)
		return filter < kn->filter ? -1 : 1;
	if (ident != kn->ident)
		return ident < kn->ident ? -1 : 1;
	/* A file closed under this fd may not be reaped yet. */
	if (file != kn->item.file)
		return file < kn->item.file ? -1 : 1;
	return 0;
}

int epm_knote_cmp(const struct epm_item *a, const struct epm_item *b)
{
	const struct epm_knote *ka = epm_knote(a);

	return epm_knote_key_cmp(ka->filter, ka->ident, a->file, epm_knote(b));
}

static struct epm_knote *epm_knote_find(struct epm_instance *ep, s16 filter,
					u64 ident, const struct file *file)
{
	struct rb_node *rbp = ep->items.rb_root.rb_node;

	lockdep_assert_held(&ep->mtx);
	while (rbp) {
		struct epm_knote *kn = epm_knote(rb_entry(rbp, struct epm_item,
							  node));
		int cmp = epm_knote_key_cmp(filter, ident, file, kn);

		if (!cmp)
			return kn;
		rbp = cmp > 0 ? rbp->rb_right : rbp->rb_left;
	}
	return NULL;
}

/* ---------------------------------------------------------------------- */
/* Signals                                                                 */

/*
 * The signal knotes, by the process that registered them: a signal walks
 * only its process's bucket.
 */
#define EPM_SIGNAL_HASH_BITS	8
static DEFINE_HASHTABLE(epm_signal_knotes, EPM_SIGNAL_HASH_BITS);
static atomic_t epm_signal_nr = ATOMIC_INIT(0);
static DEFINE_SPINLOCK(epm_signal_lock);
static struct tracepoint *epm_signal_tp;

/*
 * Every signal generated on the machine, under the target's siglock.
 * FreeBSD counts a signal even when the process ignores it, but not a
 * SIGCHLD set to SIG_IGN (children reaped for it). SIGCHLD at its default
 * action, which Linux also calls ignored, counts.
 */
static void epm_signal_generated(void *data, int sig,
				 struct kernel_siginfo *info,
				 struct task_struct *task, int group, int result)
{
	struct epm_knote *kn;
	unsigned long flags;
	struct pid *tgid;

	if (!atomic_read(&epm_signal_nr))
		return;
	if (result == TRACE_SIGNAL_IGNORED && sig == SIGCHLD &&
	    task->sighand->action[SIGCHLD - 1].sa.sa_handler == SIG_IGN)
		return;
	tgid = task_tgid(task);
	spin_lock_irqsave(&epm_signal_lock, flags);
	hash_for_each_possible(epm_signal_knotes, kn, signal_node,
			       (unsigned long)tgid) {
		struct epm_instance *ep = kn->item.ep;
		bool active;

		if (kn->pid != tgid || kn->ident != sig)
			continue;
		spin_lock(&ep->lock);
		kn->count++;
		active = !kn->disabled;
		spin_unlock(&ep->lock);
		if (active)
			epm_item_activate(&kn->item);
	}
	spin_unlock_irqrestore(&epm_signal_lock, flags);
}

static void epm_find_signal_tp(struct tracepoint *tp, void *priv)
{
	if (!strcmp(tp->name, "signal_generate"))
		epm_signal_tp = tp;
}

/* ---------------------------------------------------------------------- */
/* Timers                                                                  */

static enum hrtimer_restart epm_timer_fire(struct hrtimer *timer)
{
	struct epm_knote *kn = container_of(timer, struct epm_knote, timer);
	struct epm_instance *ep = kn->item.ep;
	enum hrtimer_restart restart = HRTIMER_NORESTART;
	u64 expired = 1;
	bool active;

	if (kn->period) {
		expired = hrtimer_forward_now(timer, kn->period);
		restart = HRTIMER_RESTART;
	}
	spin_lock(&ep->lock);
	/* Expirations while disabled are discarded, as FreeBSD's. */
	active = !kn->disabled;
	if (active)
		kn->count += expired;
	spin_unlock(&ep->lock);
	epm_stat_add(EPM_STAT_TIMER_FIRES, expired);
	if (active)
		epm_item_activate(&kn->item);
	return restart;
}

/* Nanoseconds in the unit of @fflags; 0 if it names several. */
static s64 epm_timer_unit(u32 fflags)
{
	switch (fflags & NOTE_UNITS) {
	case EPOLLMOD_NOTE_SECONDS:
		return NSEC_PER_SEC;
	case 0:
	case EPOLLMOD_NOTE_MSECONDS:
		return NSEC_PER_MSEC;
	case EPOLLMOD_NOTE_USECONDS:
		return NSEC_PER_USEC;
	case EPOLLMOD_NOTE_NSECONDS:
		return 1;
	}
	return 0;
}

/* The timer of @kev, in nanoseconds: relative, or a realtime deadline. */
static int epm_timer_ns(const struct epollmod_kev *kev, s64 *ns)
{
	s64 mult = epm_timer_unit(kev->fflags);

	if (!mult || kev->data < 0)
		return -EINVAL;
	/* Too far to represent: refused, never a timer that fires at once. */
	if (check_mul_overflow(kev->data, mult, ns) || *ns >= KTIME_MAX)
		return -EINVAL;
	return 0;
}

static void epm_timer_setup(struct epm_knote *kn, clockid_t clock)
{
	hrtimer_setup(&kn->timer, epm_timer_fire, clock, HRTIMER_MODE_ABS);
}

/* (Re)start the timer of @kn as @kev asks; it was validated. */
static void epm_timer_start(struct epm_knote *kn,
			    const struct epollmod_kev *kev, s64 ns)
{
	bool abstime = kev->fflags & EPOLLMOD_NOTE_ABSTIME;
	struct epm_instance *ep = kn->item.ep;
	ktime_t expires;

	spin_lock_irq(&ep->lock);
	kn->count = 0;
	spin_unlock_irq(&ep->lock);

	if (abstime) {
		/* A deadline fires once; one already passed fires at once. */
		kn->period = 0;
		expires = ns;
	} else if (kn->flags & EPOLLMOD_EV_ONESHOT) {
		kn->period = 0;
		expires = ktime_add_safe(ktime_get(), ns);
	} else {
		/* Periodic with no period: one unit, as FreeBSD. */
		if (!ns)
			ns = epm_timer_unit(kev->fflags);
		kn->period = max_t(s64, ns, EPM_TIMER_MIN_PERIOD);
		expires = ktime_add_safe(ktime_get(), kn->period);
	}
	epm_timer_setup(kn, abstime ? CLOCK_REALTIME : CLOCK_MONOTONIC);
	hrtimer_start(&kn->timer, expires, HRTIMER_MODE_ABS);
}

/* ---------------------------------------------------------------------- */
/* Processes                                                               */

/*
 * The status wait() reports for @task, the leader of a process that
 * exited: the group's, when the process exited as a group.
 */
static int epm_wait_status(struct task_struct *task)
{
	struct signal_struct *sig = task->signal;

	return READ_ONCE(sig->flags) & SIGNAL_GROUP_EXIT ?
	       READ_ONCE(sig->group_exit_code) : READ_ONCE(task->exit_code);
}

/*
 * Has @kn's process exited? Records its status once, and activates the
 * knote unless it is disabled. Any context.
 */
static void epm_proc_update(struct epm_knote *kn)
{
	struct epm_instance *ep = kn->item.ep;
	struct task_struct *task;
	bool exited, active;
	unsigned long flags;

	rcu_read_lock();
	spin_lock_irqsave(&ep->lock, flags);
	task = pid_task(kn->pid, PIDTYPE_PID);
	exited = !task || (READ_ONCE(task->exit_state) &&
			   thread_group_empty(task));
	if (exited && !kn->exited) {
		kn->exited = true;
		kn->status = task ? epm_wait_status(task) : 0;
	}
	active = exited && !kn->disabled;
	spin_unlock_irqrestore(&ep->lock, flags);
	rcu_read_unlock();
	if (active)
		epm_item_activate(&kn->item);
}

/* The process's pidfd queue: woken when it exits (and when reaped). */
static int epm_proc_wake(wait_queue_entry_t *wait, unsigned int mode,
			 int sync, void *key)
{
	struct epm_hook *hook = container_of(wait, struct epm_hook, wait);

	epm_proc_update(epm_knote(hook->item));
	return 0;
}

/* ---------------------------------------------------------------------- */
/* What a file has for READ and WRITE                                      */

/*
 * An IPv4 or IPv6 socket of @type and @protocol: only then are its
 * protocol's structures (tcp_sock, udp_sock) what the socket is.
 */
static bool epm_sk_inet(const struct sock *sk, int type, int protocol)
{
	return (sk->sk_family == AF_INET || sk->sk_family == AF_INET6) &&
	       sk->sk_type == type && sk->sk_protocol == protocol;
}

static s64 epm_sock_readable(struct sock *sk)
{
	struct sk_buff_head *queue = &sk->sk_receive_queue;
	struct sk_buff *skb;
	s64 len = 0;

	if (sk->sk_family == AF_UNIX)
		return max_t(long, unix_inq_len(sk), 0);
	if (epm_sk_inet(sk, SOCK_STREAM, IPPROTO_TCP))
		return max(tcp_inq(sk), 0);
	if (sk->sk_type != SOCK_DGRAM)
		return sk_rmem_alloc_get(sk);
	/* A datagram socket: the next datagram, as FIONREAD tells. */
	if (epm_sk_inet(sk, SOCK_DGRAM, IPPROTO_UDP) ||
	    epm_sk_inet(sk, SOCK_DGRAM, IPPROTO_UDPLITE)) {
		struct sk_buff_head *reader = &udp_sk(sk)->reader_queue;

		spin_lock_bh(&reader->lock);
		skb = skb_peek(reader);
		if (skb)
			len = skb->len;
		spin_unlock_bh(&reader->lock);
		if (skb)
			return len;
	}
	spin_lock_bh(&queue->lock);
	skb = skb_peek(queue);
	if (skb)
		len = skb->len;
	spin_unlock_bh(&queue->lock);
	return len;
}

static s64 epm_sock_writable(struct sock *sk)
{
	if (epm_sk_inet(sk, SOCK_STREAM, IPPROTO_TCP))
		return max(sk_stream_wspace(sk), 0);
	return max_t(s64, READ_ONCE(sk->sk_sndbuf) - sk_wmem_alloc_get(sk), 0);
}

/*
 * The bytes in a pipe. Where the caller may not sleep on the pipe's
 * mutex (a ->poll() of the kqueue, see core.c) and it is busy, one byte
 * per buffer in use: enough to say whether it is readable.
 */
static s64 epm_pipe_readable(struct pipe_inode_info *pipe, bool may_block)
{
	unsigned int head, tail, mask;
	s64 len = 0;

	if (!may_block && !mutex_trylock(&pipe->mutex))
		return pipe_occupancy(READ_ONCE(pipe->head),
				      READ_ONCE(pipe->tail));
	if (may_block)
		mutex_lock(&pipe->mutex);
	head = pipe->head;
	tail = pipe->tail;
	mask = pipe->ring_size - 1;
	for (; tail != head; tail++)
		len += pipe->bufs[tail & mask].len;
	mutex_unlock(&pipe->mutex);
	return len;
}

static s64 epm_pipe_writable(struct pipe_inode_info *pipe)
{
	unsigned int used = pipe_occupancy(READ_ONCE(pipe->head),
					   READ_ONCE(pipe->tail));
	unsigned int max = READ_ONCE(pipe->max_usage);

	return used < max ? (s64)(max - used) << PAGE_SHIFT : 0;
}

/* The low-water mark of READ and WRITE: NOTE_LOWAT's count, or one. */
static s64 epm_knote_lowat(const struct epm_knote *kn)
{
	return kn->sfflags & EPOLLMOD_NOTE_LOWAT ? kn->sdata : 1;
}

/*
 * READ or WRITE on @file, which reports @revents among what the knote
 * asks for. Fills the event's flags, fflags and data; false if the knote
 * has nothing to report.
 */
static bool epm_file_event(const struct epm_knote *kn, struct file *file,
			   __poll_t revents, struct epollmod_kev *kev,
			   bool may_block)
{
	struct inode *inode = file_inode(file);
	bool read = kn->filter == EPOLLMOD_EVFILT_READ;
	struct socket *sock = sock_from_file(file);
	bool eof = false, ready;
	s64 data = 0;

	if (sock && sock->sk) {
		struct sock *sk = sock->sk;
		int err = READ_ONCE(sk->sk_err);

		/* Pending connections; never writable. */
		if (READ_ONCE(sk->sk_state) == TCP_LISTEN) {
			kev->data = read ? READ_ONCE(sk->sk_ack_backlog) : 0;
			return kev->data > 0;
		}
		if (read) {
			data = epm_sock_readable(sk);
			eof = (READ_ONCE(sk->sk_shutdown) & RCV_SHUTDOWN) ||
			      (revents & (EPOLLRDHUP | EPOLLHUP));
			ready = data >= epm_knote_lowat(kn);
		} else {
			data = epm_sock_writable(sk);
			eof = (READ_ONCE(sk->sk_shutdown) & SEND_SHUTDOWN) ||
			      (revents & EPOLLHUP);
			ready = (revents & EPOLLOUT) &&
				data >= epm_knote_lowat(kn);
		}
		kev->fflags = err;
		ready = ready || eof || err;
	} else if (S_ISFIFO(inode->i_mode) && file->private_data) {
		struct pipe_inode_info *pipe = file->private_data;

		if (read) {
			data = epm_pipe_readable(pipe, may_block);
			eof = revents & EPOLLHUP;
			ready = data >= epm_knote_lowat(kn);
		} else {
			data = epm_pipe_writable(pipe);
			eof = revents & EPOLLERR;
			ready = (revents & EPOLLOUT) &&
				data >= epm_knote_lowat(kn);
		}
		ready = ready || eof;
	} else if (S_ISREG(inode->i_mode)) {
		/* Readable while there is something past the offset. */
		if (read) {
			data = i_size_read(inode) - READ_ONCE(file->f_pos);
			ready = data > 0 && data >= epm_knote_lowat(kn);
		} else {
			ready = true;
		}
	} else if (read && epm_is_instance_file(file)) {
		/* A kqueue or an instance: its pending events, as FreeBSD's. */
		struct epm_instance *inner = file->private_data;

		data = READ_ONCE(inner->nready);
		ready = revents & EPOLLIN;
	} else {
		/* Another kind of file: its poll alone; no count to give. */
		eof = revents & EPOLLHUP;
		ready = read ? revents & (EPOLLIN | EPOLLRDNORM | EPOLLERR) :
			       revents & (EPOLLOUT | EPOLLWRNORM | EPOLLERR);
		ready = ready || eof;
	}
	if (eof)
		kev->flags |= EPOLLMOD_EV_EOF;
	kev->data = max_t(s64, data, 0);
	return ready;
}

/* ---------------------------------------------------------------------- */
/* Events                                                                  */

/*
 * The event @kn has for a harvest, without consuming it: false if it has
 * none. @depth and @may_block are those of a nested poll (core.c).
 */
static bool epm_knote_peek(struct epm_knote *kn, struct epollmod_kev *kev,
			   int depth, bool may_block)
{
	struct epm_instance *ep = kn->item.ep;
	struct file *file;
	__poll_t revents;
	bool ready;

	*kev = (struct epollmod_kev){
		.ident = kn->ident,
		.filter = kn->filter,
		.flags = kn->flags,
		.udata = kn->item.data,
	};

	if (epm_filter_has_fd(kn->filter)) {
		file = epm_item_pin(&kn->item);
		if (!file)
			return false;
		revents = epm_item_poll_file(&kn->item, file, depth, may_block);
		ready = epm_file_event(kn, file, revents, kev, may_block);
		fput(file);
		return ready;
	}

	spin_lock_irq(&ep->lock);
	switch (kn->filter) {
	case EPOLLMOD_EVFILT_TIMER:
	case EPOLLMOD_EVFILT_SIGNAL:
		kev->data = min_t(u64, kn->count, S64_MAX);
		ready = kn->count;
		break;
	case EPOLLMOD_EVFILT_USER:
		kev->fflags = kn->fflags;
		ready = kn->triggered;
		break;
	case EPOLLMOD_EVFILT_PROC:
		ready = kn->exited;
		if (ready) {
			kev->flags |= EPOLLMOD_EV_EOF | EPOLLMOD_EV_ONESHOT;
			kev->fflags = EPOLLMOD_NOTE_EXIT;
			kev->data = kn->status;
		}
		break;
	default:
		ready = false;
	}
	ready = ready && !kn->disabled;
	spin_unlock_irq(&ep->lock);
	return ready;
}

bool epm_knote_pending(struct epm_item *item, int depth, bool may_block)
{
	struct epollmod_kev kev;

	return epm_knote_peek(epm_knote(item), &kev, depth, may_block);
}

/*
 * @kev of @kn was delivered: consume what it reported, and say what the
 * scan does with the knote (enum epm_outcome).
 */
static u8 epm_knote_delivered(struct epm_knote *kn,
			      const struct epollmod_kev *kev)
{
	struct epm_instance *ep = kn->item.ep;
	u8 outcome = EPM_REQUEUE;

	spin_lock_irq(&ep->lock);
	switch (kn->filter) {
	case EPOLLMOD_EVFILT_TIMER:
	case EPOLLMOD_EVFILT_SIGNAL:
		/* Counted since the peek: left for the next delivery. */
		kn->count -= kev->data;
		outcome = EPM_DROP;
		break;
	case EPOLLMOD_EVFILT_USER:
		if (kn->flags & (EPOLLMOD_EV_CLEAR | EPOLLMOD_EV_DISPATCH)) {
			kn->triggered = false;
			outcome = EPM_DROP;
		}
		if (kn->flags & EPOLLMOD_EV_CLEAR)
			kn->fflags = 0;
		break;
	case EPOLLMOD_EVFILT_PROC:
		outcome = EPM_DROP;
		break;
	default:
		if (kn->flags & EPOLLMOD_EV_CLEAR)
			outcome = EPM_DROP;
	}
	if (kn->flags & EPOLLMOD_EV_DISPATCH) {
		kn->disabled = true;
		outcome = EPM_DISARM;
	}
	if ((kev->flags & EPOLLMOD_EV_ONESHOT) ||
	    kn->filter == EPOLLMOD_EVFILT_PROC)
		outcome = EPM_DISARM;
	spin_unlock_irq(&ep->lock);
	return outcome;
}

/*
 * kevent(2)'s harvest: up to @maxevents events, as the epoll harvest
 * delivers them (core.c). One-shot knotes are deleted once the batch is
 * settled.
 */
static int epm_kq_harvest(struct epm_instance *ep, void __user *out,
			  int maxevents)
{
	struct epollmod_kev __user *uevents = out;
	struct epm_knote *dead = NULL;
	struct epm_item *item;
	int delivered = 0;
	bool fault = false;
	LIST_HEAD(batch);
	u32 scan_id;

	if (fatal_signal_pending(current))
		return -EINTR;

	mutex_lock(&ep->mtx);
	scan_id = ++ep->scan_id;
	while (!fault && delivered < maxevents &&
	       epm_take(ep, &batch, maxevents - delivered, scan_id)) {
		list_for_each_entry(item, &batch, ready) {
			struct epm_knote *kn = epm_knote(item);
			struct epollmod_kev kev;

			item->outcome = EPM_KEEP_AT_HEAD;
			if (fault)
				continue;
			item->outcome = EPM_DROP;
			if (!epm_knote_peek(kn, &kev, 1, true))
				continue;
			if (copy_to_user(uevents + delivered, &kev,
					 sizeof(kev))) {
				item->outcome = EPM_KEEP_AT_HEAD;
				fault = true;
				continue;
			}
			delivered++;
			item->outcome = epm_knote_delivered(kn, &kev);
			if (kev.flags & EPOLLMOD_EV_ONESHOT) {
				kn->next_dead = dead;
				dead = kn;
			}
		}
		epm_settle(ep, &batch, scan_id);
	}
	while (dead) {
		struct epm_knote *kn = dead;

		dead = kn->next_dead;
		epm_remove(ep, &kn->item);
	}
	mutex_unlock(&ep->mtx);

	epm_stat_add(EPM_STAT_EVENTS, delivered);
	if (!delivered && fault)
		return -EFAULT;
	return delivered;
}

/* ---------------------------------------------------------------------- */
/* Changes                                                                 */

/* Let a knote report again; its source may be active already. */
static void epm_knote_enable(struct epm_knote *kn)
{
	struct epm_instance *ep = kn->item.ep;
	u32 events = 0;

	if (kn->filter == EPOLLMOD_EVFILT_READ)
		events = EPM_READ_EVENTS;
	else if (kn->filter == EPOLLMOD_EVFILT_WRITE)
		events = EPM_WRITE_EVENTS;
	spin_lock_irq(&ep->lock);
	kn->disabled = false;
	kn->item.events = events;
	spin_unlock_irq(&ep->lock);
	/* As epm_modify(): the mask is in place before the source is read. */
	smp_mb();
	if (epm_knote_pending(&kn->item, 1, true))
		epm_item_activate(&kn->item);
}

/* Keep a knote from reporting; an event pending is dropped. */
static void epm_knote_disable(struct epm_knote *kn)
{
	struct epm_instance *ep = kn->item.ep;

	spin_lock_irq(&ep->lock);
	kn->disabled = true;
	kn->item.events = 0;
	/* A timer's expirations while disabled are lost. */
	if (kn->filter == EPOLLMOD_EVFILT_TIMER)
		kn->count = 0;
	spin_unlock_irq(&ep->lock);
	epm_ready_forget(ep, &kn->item);
}

/* EVFILT_USER's fflags, combined as the change's NOTE_FF* asks. */
static void epm_user_touch(struct epm_knote *kn,
			   const struct epollmod_kev *kev, bool created)
{
	u32 ffl = kev->fflags & EPOLLMOD_NOTE_FFLAGSMASK;
	struct epm_instance *ep = kn->item.ep;
	bool trigger = kev->fflags & EPOLLMOD_NOTE_TRIGGER;

	spin_lock_irq(&ep->lock);
	if (created) {
		kn->fflags = ffl;
	} else {
		switch (kev->fflags & EPOLLMOD_NOTE_FFCTRLMASK) {
		case EPOLLMOD_NOTE_FFAND:
			kn->fflags &= ffl;
			break;
		case EPOLLMOD_NOTE_FFOR:
			kn->fflags |= ffl;
			break;
		case EPOLLMOD_NOTE_FFCOPY:
			kn->fflags = ffl;
			break;
		}
	}
	if (trigger)
		kn->triggered = true;
	/* A modify with EV_CLEAR resets the trigger, after it, as the BSDs. */
	if (!created && (kev->flags & EPOLLMOD_EV_CLEAR))
		kn->triggered = false;
	trigger = kn->triggered;
	spin_unlock_irq(&ep->lock);
	if (trigger && !kn->disabled)
		epm_item_activate(&kn->item);
}

struct epm_kq_change {
	struct epollmod_kev kev;
	struct file *file;		/* READ, WRITE: the caller's */
	s64 timer_ns;			/* TIMER */
	struct pid *pid;		/* PROC: referenced, until taken */
};

/*
 * The flags a knote keeps from a registration. Timers, signals and
 * processes report what happened since the last delivery: EV_CLEAR is
 * theirs without asking, as on the BSDs.
 */
static u16 epm_knote_flags(s16 filter, u16 flags)
{
	flags = (flags & EV_KEEP_FLAGS) | EPOLLMOD_EV_ADD;
	if (filter == EPOLLMOD_EVFILT_TIMER ||
	    filter == EPOLLMOD_EVFILT_SIGNAL || filter == EPOLLMOD_EVFILT_PROC)
		flags |= EPOLLMOD_EV_CLEAR;
	return flags;
}

/* Attach a new knote's source. Under ep->mtx; the knote is linked. */
static int epm_knote_attach(struct epm_knote *kn, struct epm_kq_change *c)
{
	struct epm_instance *ep = kn->item.ep;
	unsigned long flags;
	int revents, err;

	switch (kn->filter) {
	case EPOLLMOD_EVFILT_READ:
	case EPOLLMOD_EVFILT_WRITE:
		revents = epm_item_hook_file(ep, &kn->item, c->file);
		if (revents < 0)
			return revents;
		if (!kn->disabled && epm_knote_pending(&kn->item, 1, true))
			epm_item_activate(&kn->item);
		return 0;
	case EPOLLMOD_EVFILT_TIMER:
		epm_timer_start(kn, &c->kev, c->timer_ns);
		return 0;
	case EPOLLMOD_EVFILT_USER:
		epm_user_touch(kn, &c->kev, true);
		return 0;
	case EPOLLMOD_EVFILT_PROC:
		err = epm_item_hook(&kn->item, &kn->pid->wait_pidfd,
				    epm_proc_wake);
		if (err) {
			epm_remove(ep, &kn->item);
			return err;
		}
		/* It may have exited before the hook: a zombie fires at once. */
		epm_proc_update(kn);
		return 0;
	case EPOLLMOD_EVFILT_SIGNAL:
		spin_lock_irqsave(&epm_signal_lock, flags);
		hash_add(epm_signal_knotes, &kn->signal_node,
			 (unsigned long)kn->pid);
		atomic_inc(&epm_signal_nr);
		spin_unlock_irqrestore(&epm_signal_lock, flags);
		return 0;
	}
	return -EINVAL;
}

static int epm_knote_create(struct epm_instance *ep, struct epm_kq_change *c,
			    bool full_check)
{
	const struct epollmod_kev *kev = &c->kev;
	struct epm_knote *kn;
	int err;

	kn = kmem_cache_zalloc(epm_knote_cache, GFP_KERNEL);
	if (!kn)
		return -ENOMEM;
	kn->item.knote = true;
	kn->item.data = kev->udata;
	kn->ident = kev->ident;
	kn->filter = kev->filter;
	kn->flags = epm_knote_flags(kn->filter, kev->flags);
	kn->sfflags = kev->fflags;
	kn->sdata = kev->data;
	kn->disabled = kev->flags & EPOLLMOD_EV_DISABLE;
	INIT_HLIST_NODE(&kn->signal_node);

	switch (kn->filter) {
	case EPOLLMOD_EVFILT_READ:
	case EPOLLMOD_EVFILT_WRITE:
		kn->item.file = c->file;
		kn->item.fd = kev->ident;
		if (!kn->disabled)
			kn->item.events = kn->filter == EPOLLMOD_EVFILT_READ ?
					  EPM_READ_EVENTS : EPM_WRITE_EVENTS;
		break;
	case EPOLLMOD_EVFILT_TIMER:
		err = epm_user_charge_timer(ep->user);
		if (err) {
			kmem_cache_free(epm_knote_cache, kn);
			return err;
		}
		kn->timer_charged = true;
		/* Not armed yet: epm_knote_discard() may cancel it. */
		epm_timer_setup(kn, CLOCK_MONOTONIC);
		break;
	}
	if (kn->filter == EPOLLMOD_EVFILT_PROC) {
		kn->pid = c->pid;
		c->pid = NULL;
	} else if (kn->filter == EPOLLMOD_EVFILT_SIGNAL) {
		kn->pid = get_pid(task_tgid(current));
	}

	err = epm_item_link(ep, &kn->item, full_check);
	if (err)
		return err;
	return epm_knote_attach(kn, c);
}

/*
 * A change on an existing knote that does not delete it. True if a
 * READ or WRITE knote's readiness must be looked at again. As on the
 * BSDs, the knote's flags (EV_CLEAR, EV_ONESHOT, EV_DISPATCH...) are
 * those it was created with: a re-add changes udata and the filter's
 * parameters only.
 */
static bool epm_knote_modify(struct epm_knote *kn, struct epm_kq_change *c)
{
	const struct epollmod_kev *kev = &c->kev;
	bool changed = false;

	kn->item.data = kev->udata;

	switch (kn->filter) {
	case EPOLLMOD_EVFILT_USER:
		epm_user_touch(kn, kev, false);
		break;
	case EPOLLMOD_EVFILT_TIMER:
		/* Re-added: restarted with the new period, unit and NOTE_*. */
		if (kev->flags & EPOLLMOD_EV_ADD) {
			hrtimer_cancel(&kn->timer);
			kn->sfflags = kev->fflags;
			kn->sdata = kev->data;
			epm_ready_forget(kn->item.ep, &kn->item);
			epm_timer_start(kn, kev, c->timer_ns);
		}
		break;
	case EPOLLMOD_EVFILT_READ:
	case EPOLLMOD_EVFILT_WRITE:
		/*
		 * A new low-water mark may make it ready, and a re-added one
		 * is looked at again (a regular file has no wakeups): the
		 * caller looks.
		 */
		changed = (kev->flags & EPOLLMOD_EV_ADD) ||
			  kn->sfflags != kev->fflags || kn->sdata != kev->data;
		kn->sfflags = kev->fflags;
		kn->sdata = kev->data;
		break;
	}
	return changed;
}

/*
 * May the caller learn how @task ends (its exit status)? If it may signal
 * it, by kill(2)'s rule on credentials. Under RCU.
 */
static bool epm_may_watch(struct task_struct *task)
{
	const struct cred *cred = current_cred(), *tcred = __task_cred(task);

	return uid_eq(cred->euid, tcred->suid) ||
	       uid_eq(cred->euid, tcred->uid) ||
	       uid_eq(cred->uid, tcred->suid) ||
	       uid_eq(cred->uid, tcred->uid) ||
	       ns_capable(tcred->user_ns, CAP_KILL);
}

/*
 * Check what a change names before any lock: its filter, its fd, its
 * timer, its process. Takes the references @c holds.
 */
static int epm_kq_change_prepare(struct epm_instance *ep,
				 struct epm_kq_change *c)
{
	struct epollmod_kev *kev = &c->kev;
	struct task_struct *task;
	int err;

	switch (kev->filter) {
	case EPOLLMOD_EVFILT_READ:
	case EPOLLMOD_EVFILT_WRITE:
		if (kev->ident > INT_MAX)
			return -EBADF;
		c->file = fget(kev->ident);
		if (!c->file)
			return -EBADF;
		/* A kqueue in itself. */
		if (c->file == ep->file)
			return -EINVAL;
		return 0;
	case EPOLLMOD_EVFILT_TIMER:
		if (!(kev->flags & EPOLLMOD_EV_ADD))
			return 0;
		err = epm_timer_ns(kev, &c->timer_ns);
		if (err)
			return err;
		return 0;
	case EPOLLMOD_EVFILT_USER:
		return 0;
	case EPOLLMOD_EVFILT_SIGNAL:
		if (!kev->ident || kev->ident > _NSIG)
			return -EINVAL;
		if ((kev->flags & EPOLLMOD_EV_ADD) && !epm_signal_tp)
			return -EOPNOTSUPP;
		return 0;
	case EPOLLMOD_EVFILT_PROC:
		if (!(kev->flags & EPOLLMOD_EV_ADD))
			return 0;
		if (kev->ident > PID_MAX_LIMIT)
			return -ESRCH;
		c->pid = find_get_pid(kev->ident);
		if (!c->pid)
			return -ESRCH;
		/* A process, not one of its threads, that we may signal. */
		rcu_read_lock();
		task = pid_task(c->pid, PIDTYPE_TGID);
		err = !task ? -ESRCH : epm_may_watch(task) ? 0 : -EACCES;
		rcu_read_unlock();
		return err;
	}
	return -EINVAL;
}

/* Apply one change. Returns 0 or -errno; EV_RECEIPT is the caller's. */
static int epm_kq_change(struct epm_instance *ep, struct epm_kq_change *c)
{
	struct epollmod_kev *kev = &c->kev;
	bool full_check = false, changed;
	struct epm_knote *kn;
	int err;

	err = epm_kq_change_prepare(ep, c);
	if (err)
		return err;

	mutex_lock(&ep->mtx);
	if (c->file && (kev->flags & EPOLLMOD_EV_ADD) &&
	    epm_needs_full_check(ep, c->file)) {
		/* The nest mutex comes first in the lock order. */
		mutex_unlock(&ep->mtx);
		epm_nest_lock();
		full_check = true;
		if (epm_is_instance_file(c->file)) {
			err = epm_loop_check(ep, c->file->private_data);
			if (err)
				goto out_nest;
		}
		mutex_lock(&ep->mtx);
	}

	/* Knotes of closed files go first: one may hold c->file's address. */
	epm_reap(ep);
	kn = epm_knote_find(ep, kev->filter, kev->ident, c->file);
	if (!kn && (kev->flags & EPOLLMOD_EV_ADD)) {
		/* Created disabled if EV_DISABLE says so. */
		err = epm_knote_create(ep, c, full_check);
		goto out;
	}
	if (!kn) {
		err = -ENOENT;
		goto out;
	}
	/* On an existing knote, EV_DELETE wins over EV_ADD, as FreeBSD's. */
	if (kev->flags & EPOLLMOD_EV_DELETE) {
		epm_remove(ep, &kn->item);
		goto out;
	}
	changed = epm_knote_modify(kn, c);
	/* Both: disabled, then enabled, as the BSDs apply them. */
	if (kev->flags & EPOLLMOD_EV_DISABLE)
		epm_knote_disable(kn);
	if (kev->flags & EPOLLMOD_EV_ENABLE)
		epm_knote_enable(kn);
	else if (changed && !kn->disabled &&
		 epm_knote_pending(&kn->item, 1, true))
		epm_item_activate(&kn->item);
out:
	mutex_unlock(&ep->mtx);
out_nest:
	if (full_check)
		epm_nest_unlock();
	return err;
}

static void epm_kq_change_done(struct epm_kq_change *c)
{
	if (c->file)
		fput(c->file);
	put_pid(c->pid);
}

/* ---------------------------------------------------------------------- */
/* kevent(2)                                                               */

int epm_kqueue_init(struct epm_instance *ep)
{
	int err = 0;

	mutex_lock(&ep->mtx);
	if (ep->kqueue || !RB_EMPTY_ROOT(&ep->items.rb_root))
		err = -EBUSY;
	else
		WRITE_ONCE(ep->kqueue, true);
	mutex_unlock(&ep->mtx);
	return err;
}

int epm_kevent(struct epm_instance *ep, const struct epollmod_kevent *arg)
{
	struct epollmod_kev __user *changes = u64_to_user_ptr(arg->changes);
	struct epollmod_kev __user *events = u64_to_user_ptr(arg->events);
	int nevents = arg->nevents, nerrors = 0, i;
	bool has_timeout = arg->timeout;
	struct epm_wait_spec spec;
	struct timespec64 rel;
	ktime_t deadline;

	epm_stat_inc(EPM_STAT_KEVENTS);
	if (arg->nchanges < 0 || nevents < 0 || arg->reserved)
		return -EINVAL;
	/* As kevent(2): the timeout is read first, checked before waiting. */
	if (has_timeout &&
	    get_timespec64(&rel, u64_to_user_ptr(arg->timeout)))
		return -EFAULT;

	for (i = 0; i < arg->nchanges; i++) {
		struct epm_kq_change c = {};
		int err;

		if (copy_from_user(&c.kev, changes + i, sizeof(c.kev)))
			return -EFAULT;
		c.kev.flags &= ~EPOLLMOD_EV_SYSFLAGS;
		epm_stat_inc(EPM_STAT_CHANGES);
		err = epm_kq_change(ep, &c);
		epm_kq_change_done(&c);
		if (!err && !(c.kev.flags & EPOLLMOD_EV_RECEIPT))
			continue;
		/* No room to say how it went: that ends the call. */
		if (!nevents)
			return err ? err : nerrors;
		c.kev.flags = EPOLLMOD_EV_ERROR;
		c.kev.data = -err;
		if (copy_to_user(events + nerrors, &c.kev, sizeof(c.kev)))
			return -EFAULT;
		nerrors++;
		nevents--;
	}
	if (nerrors)
		return nerrors;
	if (!nevents)
		return 0;
	/* More room than one call can fill: events are copied one by one. */
	nevents = min(nevents, EPM_MAX_KEVENTS);

	if (has_timeout && !timespec64_valid(&rel))
		return -EINVAL;
	epm_wait_spec_init(&spec, &deadline, has_timeout ? &rel : NULL,
			   arg->min_events, arg->min_wait_ns, nevents);
	spec.try_only = arg->flags & EPOLLMOD_KEVENT_TRY;
	return epm_wait(ep, epm_kq_harvest, events, nevents, &spec);
}

/* One fdinfo line: the registration, and whether it is disabled. */
void epm_knote_show(struct seq_file *m, struct epm_item *item)
{
	struct epm_knote *kn = epm_knote(item);

	seq_printf(m, "knote: ident %llu filter %d flags %#x fflags %#x data %lld udata %#llx disabled %d\n",
		   (unsigned long long)kn->ident, kn->filter, kn->flags,
		   kn->sfflags, (long long)kn->sdata,
		   (unsigned long long)item->data, READ_ONCE(kn->disabled));
}

/* ---------------------------------------------------------------------- */
/* Freeing                                                                 */

/* What a knote holds besides its item: not for an RCU callback. */
static void epm_knote_release(struct epm_knote *kn)
{
	unsigned long flags;

	if (kn->filter == EPOLLMOD_EVFILT_TIMER) {
		hrtimer_cancel(&kn->timer);
		if (kn->timer_charged)
			epm_user_uncharge_timer(kn->item.ep->user);
	}
	if (hash_hashed(&kn->signal_node)) {
		spin_lock_irqsave(&epm_signal_lock, flags);
		hash_del(&kn->signal_node);
		atomic_dec(&epm_signal_nr);
		spin_unlock_irqrestore(&epm_signal_lock, flags);
	}
	put_pid(kn->pid);
}

/* A knote that was never linked. */
void epm_knote_discard(struct epm_item *item)
{
	struct epm_knote *kn = epm_knote(item);

	epm_knote_release(kn);
	kmem_cache_free(epm_knote_cache, kn);
}

static void epm_knote_free_rcu(struct rcu_head *rcu)
{
	kmem_cache_free(epm_knote_cache,
			epm_knote(container_of(rcu, struct epm_item, rcu)));
}

/* A knote that has ended and left the interest set (epm_item_free()). */
void epm_knote_free(struct epm_item *item)
{
	epm_knote_release(epm_knote(item));
	call_rcu(&item->rcu, epm_knote_free_rcu);
}

int epm_kqueue_module_init(void)
{
	epm_knote_cache = KMEM_CACHE(epm_knote, SLAB_ACCOUNT);
	if (!epm_knote_cache)
		return -ENOMEM;
	/*
	 * EVFILT_SIGNAL needs to know which signal was sent: the tracepoint
	 * says, where the signalfd queue's wakeup does not. Without it,
	 * EVFILT_SIGNAL is refused and everything else works.
	 */
	for_each_kernel_tracepoint(epm_find_signal_tp, NULL);
	if (epm_signal_tp &&
	    tracepoint_probe_register(epm_signal_tp, epm_signal_generated,
				      NULL)) {
		pr_warn("epollmod: no signal_generate tracepoint: EVFILT_SIGNAL is refused\n");
		epm_signal_tp = NULL;
	}
	return 0;
}

void epm_kqueue_module_exit(void)
{
	if (epm_signal_tp) {
		tracepoint_probe_unregister(epm_signal_tp,
					    epm_signal_generated, NULL);
		tracepoint_synchronize_unregister();
	}
	/* Knotes are freed by RCU callbacks. */
	rcu_barrier();
	kmem_cache_destroy(epm_knote_cache);
}
