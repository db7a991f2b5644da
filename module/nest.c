// SPDX-License-Identifier: GPL-2.0
/*
 * epollmod nesting: instances inside instances, and native epoll around
 * them.
 *
 * Among epollmod instances the rules are Linux's: adding an instance into
 * another is refused with ELOOP if it closes a loop or makes a chain deeper
 * than EPM_MAX_NESTS, and an ADD that adds wakeup paths is refused with
 * EINVAL if some file would get too many of them.
 *
 * Native epoll is a black box to us, and we to it: a native epoll that
 * watches an instance which watches that native epoll back is a cycle no
 * loop check sees. Two rules keep it finite:
 *
 *  - Poll path. From f_op->poll, which native epoll calls holding its own
 *    mutex, an instance's mutex is only tried (core.c), a native epoll
 *    inside is never polled, and a stack running low stops the descent
 *    (epm_stack_low()). So every cycle of lock waits passes through a
 *    trylock, and none can form.
 *  - Wake path. A callback on a native epoll's queue runs inside native
 *    epoll's wakeup, holding its poll_wait lock. Waking our pollers from
 *    there could take our poll_wait lock under native's and native's under
 *    ours on another CPU. Such a wake is forwarded instead: an irq_work
 *    does it outside every epoll lock. A wake that a forwarded wake
 *    causes, through native epoll, counts one more hop; after
 *    EPM_MAX_FORWARD_HOPS hops it is dropped, so a cycle costs a bounded
 *    number of wakes per event. Acyclic chains this long do not happen in
 *    practice.
 */

#include <linux/anon_inodes.h>
#include <linux/file.h>
#include <linux/magic.h>
#include <linux/rhashtable.h>
#include <linux/sched/task_stack.h>
#include <linux/slab.h>

#include "epm.h"

#define EPM_MAX_FORWARD_HOPS	8

/* Serializes ADDs that can change nesting; owns the fields below. */
static DEFINE_MUTEX(epm_nest_mutex);
static u64 epm_loop_gen;
static struct epm_instance *epm_inserting_into;

/*
 * Files whose wakeup paths the current ADD must count, each pinned, and
 * whether listing one failed for memory. Items of a listed file carry
 * check_gen == (u32)epm_loop_gen, so a file is listed once.
 */
static struct file **epm_check_files;
static unsigned int epm_check_nr, epm_check_cap;
static bool epm_check_nomem;

/* Wakeup paths allowed from one file, by length (Linux's limits). */
static const int epm_path_limits[EPM_MAX_NESTS + 1] = { 1000, 500, 100, 50, 10 };
static int epm_path_count[EPM_MAX_NESTS + 1];

/*
 * The forwarded wake running on this CPU: its task and hop count. A wake
 * nested in it, on the same task, counts one hop more.
 */
struct epm_forward_ctx {
	struct task_struct *task;
	int hops;
};

static DEFINE_PER_CPU(struct epm_forward_ctx, epm_forward_ctx);

bool epm_is_native_epoll(const struct file *file)
{
	/* Only the kernel names anonymous inodes. */
	return file->f_path.mnt->mnt_sb->s_magic == ANON_INODE_FS_MAGIC &&
	       !strcmp(file->f_path.dentry->d_name.name, "[eventpoll]");
}

void epm_nest_lock(void)
{
	mutex_lock(&epm_nest_mutex);
	epm_loop_gen++;
	/*
	 * Checks have odd generations. When the low half an item keeps
	 * comes round to its first value again, marks left by checks 2^31
	 * ago could pass for this one's: clear them all.
	 */
	if ((u32)epm_loop_gen == 1 && epm_loop_gen > 1)
		epm_index_clear_marks();
}

void epm_nest_unlock(void)
{
	while (epm_check_nr)
		fput(epm_check_files[--epm_check_nr]);
	kfree(epm_check_files);
	epm_check_files = NULL;
	epm_check_cap = 0;
	epm_check_nomem = false;
	epm_loop_gen++;
	mutex_unlock(&epm_nest_mutex);
}

/* List @item's file, once per check, pinned for the check. */
static void epm_list_file(struct epm_item *item)
{
	u32 gen = (u32)epm_loop_gen;
	struct rhlist_head *list, *pos;
	struct epm_item *other;
	struct file *file;

	lockdep_assert_held(&epm_nest_mutex);
	if (READ_ONCE(item->check_gen) == gen)
		return;
	if (epm_check_nr == epm_check_cap) {
		unsigned int cap = max(16U, epm_check_cap * 2);
		struct file **files;

		files = krealloc_array(epm_check_files, cap, sizeof(*files),
				       GFP_KERNEL);
		if (!files) {
			epm_check_nomem = true;
			return;
		}
		epm_check_files = files;
		epm_check_cap = cap;
	}
	/* Being released: it will have no paths to count. */
	file = epm_item_pin(item);
	if (!file)
		return;
	epm_check_files[epm_check_nr++] = file;
	rcu_read_lock();
	list = epm_index_lookup(file);
	rhl_for_each_entry_rcu(other, pos, list, index)
		WRITE_ONCE(other->check_gen, gen);
	rcu_read_unlock();
}

/*
 * Does an ADD into @ep need the global checks? When @tfile is an instance,
 * when @ep is itself watched (an instance nested in another gains paths),
 * or while a check runs through @ep.
 */
bool epm_needs_full_check(struct epm_instance *ep, struct file *tfile)
{
	return epm_is_instance_file(tfile) ||
	       READ_ONCE(ep->loop_gen) == READ_ONCE(epm_loop_gen) ||
	       epm_file_watched(ep->file);
}

/*
 * The depth of the instances below @ep, or more than EPM_MAX_NESTS if
 * epm_inserting_into is among them. Lists every other file met on the way.
 */
static int epm_depth_down(struct epm_instance *ep, int depth)
{
	struct rb_node *rbp;
	int result = 0;

	if (ep->loop_gen == epm_loop_gen)
		return ep->loop_depth;

	mutex_lock_nested(&ep->mtx, depth + 1);
	WRITE_ONCE(ep->loop_gen, epm_loop_gen);
	for (rbp = rb_first_cached(&ep->items); rbp; rbp = rb_next(rbp)) {
		struct epm_item *item = rb_entry(rbp, struct epm_item, node);
		struct epm_instance *inner;
		struct file *file;

		if (item->kind != EPM_KIND_INSTANCE) {
			epm_list_file(item);
			continue;
		}
		file = epm_item_pin(item);
		if (!file)
			continue;
		inner = file->private_data;
		if (inner == epm_inserting_into || depth > EPM_MAX_NESTS)
			result = EPM_MAX_NESTS + 1;
		else
			result = max(result, epm_depth_down(inner, depth + 1) + 1);
		fput(file);
		if (result > EPM_MAX_NESTS)
			break;
	}
	ep->loop_depth = result;
	mutex_unlock(&ep->mtx);
	return result;
}

/* The depth of the instances above @ep: those that watch it. RCU. */
static int epm_depth_up(struct epm_instance *ep, int depth)
{
	struct rhlist_head *list, *pos;
	struct epm_item *item;
	int result = 0;

	if (ep->loop_gen == epm_loop_gen)
		return ep->loop_depth;
	list = epm_index_lookup(ep->file);
	rhl_for_each_entry_rcu(item, pos, list, index) {
		if (!READ_ONCE(item->gone))
			result = max(result,
				     epm_depth_up(item->ep, depth + 1) + 1);
	}
	WRITE_ONCE(ep->loop_gen, epm_loop_gen);
	ep->loop_depth = result;
	return result;
}

/* Adding @target into @ep: -ELOOP if that loops or nests too deep. */
int epm_loop_check(struct epm_instance *ep, struct epm_instance *target)
{
	int down, up;

	lockdep_assert_held(&epm_nest_mutex);
	epm_inserting_into = ep;
	down = epm_depth_down(target, 0);
	if (down > EPM_MAX_NESTS)
		return -ELOOP;
	rcu_read_lock();
	up = epm_depth_up(ep, 0);
	rcu_read_unlock();
	return down + 1 + up > EPM_MAX_NESTS ? -ELOOP : 0;
}

/*
 * Count the paths from @file up to instances nobody watches. RCU; @file
 * is only a key here, never dereferenced.
 */
static int epm_count_paths(const struct file *file, int depth)
{
	struct rhlist_head *list, *pos;
	struct epm_item *item;

	if (depth > EPM_MAX_NESTS)
		return -1;
	list = epm_index_lookup(file);
	rhl_for_each_entry_rcu(item, pos, list, index) {
		const struct file *up = item->ep->file;

		if (READ_ONCE(item->gone))
			continue;
		if (epm_file_watched(up)) {
			if (epm_count_paths(up, depth + 1))
				return -1;
		} else if (depth && ++epm_path_count[depth] > epm_path_limits[depth]) {
			return -1;
		}
	}
	return 0;
}

/*
 * @item was just added in a checked ADD: no listed file may now have
 * more wakeup paths than allowed. -EINVAL if one does, -ENOMEM if the
 * list could not be made.
 */
int epm_path_check(struct epm_item *item)
{
	unsigned int i;
	int err = 0;

	lockdep_assert_held(&epm_nest_mutex);
	if (item->kind != EPM_KIND_INSTANCE)
		epm_list_file(item);
	if (epm_check_nomem)
		return -ENOMEM;
	for (i = 0; i < epm_check_nr && !err; i++) {
		memset(epm_path_count, 0, sizeof(epm_path_count));
		rcu_read_lock();
		err = epm_count_paths(epm_check_files[i], 0);
		rcu_read_unlock();
	}
	return err ? -EINVAL : 0;
}

/*
 * Wake the pollers of @ep. @nests is the lockdep subclass: how many
 * poll_wait locks of nested instances the caller holds up the stack.
 */
void epm_wake_pollers(struct epm_instance *ep, u8 nests)
{
	unsigned long flags;

	spin_lock_irqsave_nested(&ep->poll_wait.lock, flags, nests);
	ep->nests = nests + 1;
	wake_up_locked_poll(&ep->poll_wait, EPOLLIN);
	ep->nests = 0;
	spin_unlock_irqrestore(&ep->poll_wait.lock, flags);
}

static void epm_forward_run(struct irq_work *work)
{
	struct epm_instance *ep = container_of(work, struct epm_instance,
					       forward_work);
	struct epm_forward_ctx *ctx, saved;

	/* Hard irq context: RT kernels, which run irq_work in threads, are refused. */
	ctx = this_cpu_ptr(&epm_forward_ctx);
	saved = *ctx;
	ctx->task = current;
	ctx->hops = max(atomic_xchg(&ep->forward_hops, 0), 1);
	epm_wake_pollers(ep, 0);
	*ctx = saved;
}

/* Called from a callback on a native epoll's queue; see the top. */
void epm_forward_wake(struct epm_instance *ep)
{
	struct epm_forward_ctx *ctx = get_cpu_ptr(&epm_forward_ctx);
	int hops = (ctx->task == current ? ctx->hops : 0) + 1;
	int pending = atomic_read(&ep->forward_hops);

	put_cpu_ptr(&epm_forward_ctx);
	if (hops > EPM_MAX_FORWARD_HOPS) {
		epm_stat_inc(EPM_STAT_FORWARDS_DROPPED);
		return;
	}
	/* A wake already pending with fewer hops stands for this one. */
	do {
		if (pending && pending <= hops)
			break;
	} while (!atomic_try_cmpxchg(&ep->forward_hops, &pending, hops));
	epm_stat_inc(EPM_STAT_FORWARDS);
	irq_work_queue(&ep->forward_work);
}

void epm_forward_init(struct epm_instance *ep)
{
	/*
	 * Not a hard irq_work: the run takes wait-queue spinlocks, which
	 * sleep on PREEMPT_RT, where this one runs in a thread instead.
	 */
	init_irq_work(&ep->forward_work, epm_forward_run);
}

void epm_forward_sync(struct epm_instance *ep)
{
	irq_work_sync(&ep->forward_work);
}

/*
 * Is the stack too short to poll one more level? Polls that go through
 * native epoll and instances in turn have no depth limit of their own.
 */
bool epm_stack_low(void)
{
	unsigned long here = (unsigned long)__builtin_frame_address(0);
	unsigned long base = (unsigned long)task_stack_page(current);

	if (!object_is_on_stack((void *)here))
		return true;
	return here - base < THREAD_SIZE / 2;
}
