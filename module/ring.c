// SPDX-License-Identifier: GPL-2.0
/*
 * The ready ring: an epoll instance's events in memory the process maps,
 * so that it harvests them without a system call.
 *
 * LAYOUT AND ORDERING (uapi/linux/epollmod.h has the layout)
 *
 * Each watch of a ring instance has a slot: its epoll_data, and a state
 * word, generation << 32 | events ready and not yet taken. The ring holds
 * entries, generation << 32 | slot.
 *
 *  - The module is the only producer, under ep->lock. It ORs events into
 *    a slot's state with a compare-and-swap; when the events were none,
 *    it writes an entry at its own copy of tail and then store-releases
 *    the header's tail. A slot is on the ring at most once, and the ring
 *    has more entries than slots: it never overflows.
 *  - Consumers (threads of the process, or the module for a wait that
 *    copies events) load-acquire tail, which orders the entry's read after
 *    its write; read the entry at head; claim it with a compare-and-swap
 *    of head (a consumer that lost the race reads again); then take the
 *    slot's events with a compare-and-swap of its state to generation << 32,
 *    only while the generation is the entry's.
 *  - Removing a watch moves its slot to the next generation with no events,
 *    under ep->lock: its entries still on the ring are skipped, and a watch
 *    that reuses the slot never gets them.
 *
 * The process can write anything into the mapping. The module keeps its
 * own tail and masks every index it writes with, so a process that
 * scribbles over its ring loses only its own events.
 *
 * LEVEL-TRIGGERED WATCHES stay on the instance's ready list as well. A
 * wait polls those whose events were taken again (epm_ring_refill()), as
 * epoll_wait() would, and puts the ready ones back on the ring. One-shot
 * watches are disarmed as they go on the ring.
 *
 * The mapping holds a reference on the instance's file: the memory goes
 * with the instance, after every mapping is gone.
 */

#include <linux/bitmap.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/vmalloc.h>

#include "epm.h"

struct epm_ring {
	void *mem;
	size_t size;
	struct epollmod_ring_header *hdr;
	struct epollmod_ring_slot *slots;
	u64 *entries;
	u32 nslots;			/* slots 1..nslots are used; 0 is none */
	u32 mask;
	u32 tail;			/* ours: the header's is the process's */
	/* Under ep->lock: */
	unsigned long *used;		/* slots held: by watches, or stale */
	unsigned long *stale;		/* removed, their entry still on */
	u32 *entry_at;			/* where a slot's last entry went */
	struct epm_item **owners;	/* by slot */
	struct mm_struct *mm;		/* charged for RLIMIT_MEMLOCK */
	unsigned long pages;
};

static atomic64_t *epm_slot_state(struct epm_ring *ring, u32 slot)
{
	return (atomic64_t *)&ring->slots[slot].state;
}

int epm_ring_setup(struct epm_instance *ep,
		   struct epollmod_ring_setup __user *uarg)
{
	struct epollmod_ring_setup arg;
	size_t slots_off, entries_off, size;
	struct epm_ring *ring;
	u32 usize;
	int err;

	if (get_user(usize, &uarg->size))
		return -EFAULT;
	if (usize < EPOLLMOD_RING_SETUP_SIZE_VER0)
		return -EINVAL;
	if (usize > PAGE_SIZE)
		return -E2BIG;
	err = copy_struct_from_user(&arg, sizeof(arg), uarg, usize);
	if (err)
		return err;
	if (arg.flags || !arg.slots || arg.slots > EPOLLMOD_RING_MAX_SLOTS)
		return -EINVAL;

	ring = kzalloc(sizeof(*ring), GFP_KERNEL_ACCOUNT);
	if (!ring)
		return -ENOMEM;
	ring->nslots = arg.slots;
	/* Slot 0 is never a watch's; more entries than slots. */
	ring->mask = roundup_pow_of_two(arg.slots + 1) - 1;
	slots_off = sizeof(struct epollmod_ring_header);
	entries_off = slots_off + (ring->nslots + 1) *
				  sizeof(struct epollmod_ring_slot);
	size = PAGE_ALIGN(entries_off + (ring->mask + 1) * sizeof(u64));
	ring->size = size;
	ring->pages = size >> PAGE_SHIFT;

	err = -ENOMEM;
	ring->used = bitmap_zalloc(ring->nslots + 1, GFP_KERNEL_ACCOUNT);
	ring->stale = bitmap_zalloc(ring->nslots + 1, GFP_KERNEL_ACCOUNT);
	ring->entry_at = kvcalloc(ring->nslots + 1, sizeof(*ring->entry_at),
				  GFP_KERNEL_ACCOUNT);
	ring->owners = kvcalloc(ring->nslots + 1, sizeof(*ring->owners),
				GFP_KERNEL_ACCOUNT);
	if (!ring->used || !ring->stale || !ring->entry_at || !ring->owners)
		goto out_free;
	/* Pinned memory, as io_uring's rings: RLIMIT_MEMLOCK. */
	err = account_locked_vm(current->mm, ring->pages, true);
	if (err)
		goto out_free;
	ring->mm = current->mm;
	mmgrab(ring->mm);
	err = -ENOMEM;
	ring->mem = vmalloc_user(size);
	if (!ring->mem)
		goto out_unaccount;
	ring->hdr = ring->mem;
	ring->slots = ring->mem + slots_off;
	ring->entries = ring->mem + entries_off;
	__set_bit(0, ring->used);

	mutex_lock(&ep->mtx);
	if (ep->kqueue)
		err = -EINVAL;
	else if (ep->ring || !RB_EMPTY_ROOT(&ep->items.rb_root))
		err = -EBUSY;
	else
		err = 0;
	if (!err) {
		/* No watch yet: no callback can look at it meanwhile. */
		spin_lock_irq(&ep->lock);
		ep->ring = ring;
		spin_unlock_irq(&ep->lock);
	}
	mutex_unlock(&ep->mtx);
	if (err)
		goto out_vfree;

	arg.entries = ring->mask + 1;
	arg.mmap_size = size;
	arg.slots_offset = slots_off;
	arg.entries_offset = entries_off;
	/* The ring stays: a caller that cannot read this can ask again. */
	if (copy_to_user(uarg, &arg, min_t(u32, usize, sizeof(arg))))
		return -EFAULT;
	return 0;

out_vfree:
	vfree(ring->mem);
out_unaccount:
	account_locked_vm(ring->mm, ring->pages, false);
	mmdrop(ring->mm);
out_free:
	kvfree(ring->owners);
	kvfree(ring->entry_at);
	bitmap_free(ring->stale);
	bitmap_free(ring->used);
	kfree(ring);
	return err;
}

void epm_ring_free(struct epm_instance *ep)
{
	struct epm_ring *ring = ep->ring;

	if (!ring)
		return;
	vfree(ring->mem);
	account_locked_vm(ring->mm, ring->pages, false);
	mmdrop(ring->mm);
	kvfree(ring->owners);
	kvfree(ring->entry_at);
	bitmap_free(ring->stale);
	bitmap_free(ring->used);
	kfree(ring);
}

/* mmap(2) of a ring instance: all of the ring, shared, from offset 0. */
int epm_ring_mmap(struct epm_instance *ep, struct vm_area_struct *vma)
{
	struct epm_ring *ring = READ_ONCE(ep->ring);

	if (!ring)
		return -ENODEV;
	if (vma->vm_pgoff || vma->vm_end - vma->vm_start != ring->size ||
	    !(vma->vm_flags & VM_SHARED))
		return -EINVAL;
	return remap_vmalloc_range(vma, ring->mem, 0);
}

/*
 * Stale slots whose entry the consumers have passed are free again: then
 * a slot never has two entries on the ring, which has more entries than
 * slots, and never overflows. A consumer that lies about head only makes
 * the module overwrite its own entries. Under ep->lock.
 */
static void epm_ring_reclaim(struct epm_ring *ring)
{
	u32 head = READ_ONCE(ring->hdr->head);
	unsigned long slot;

	for_each_set_bit(slot, ring->stale, ring->nslots + 1) {
		if ((s32)(head - ring->entry_at[slot]) > 0) {
			__clear_bit(slot, ring->stale);
			__clear_bit(slot, ring->used);
		}
	}
}

/*
 * A new watch's slot, with its data. Under ep->mtx. ENOSPC when every
 * slot is held, by a watch or by a removed watch's entry not yet taken.
 */
int epm_ring_attach(struct epm_instance *ep, struct epm_item *item)
{
	struct epm_ring *ring = ep->ring;
	unsigned long slot;

	lockdep_assert_held(&ep->mtx);
	spin_lock_irq(&ep->lock);
	slot = find_first_zero_bit(ring->used, ring->nslots + 1);
	if (slot > ring->nslots) {
		epm_ring_reclaim(ring);
		slot = find_first_zero_bit(ring->used, ring->nslots + 1);
	}
	if (slot <= ring->nslots) {
		__set_bit(slot, ring->used);
		WRITE_ONCE(ring->slots[slot].data, item->data);
		ring->owners[slot] = item;
		item->ring_slot = slot;
	}
	spin_unlock_irq(&ep->lock);
	return slot <= ring->nslots ? 0 : -ENOSPC;
}

/* MOD changed the watch's data. */
void epm_ring_set_data(struct epm_instance *ep, struct epm_item *item)
{
	WRITE_ONCE(ep->ring->slots[item->ring_slot].data, item->data);
}

/*
 * The watch ends (any context, ep->lock taken here): its slot moves to a
 * new generation, so that its entries still on the ring are skipped, and
 * is free for the next watch. Once: the slot is forgotten.
 */
void epm_ring_detach(struct epm_instance *ep, struct epm_item *item)
{
	struct epm_ring *ring = ep->ring;
	unsigned long flags;
	u32 slot;
	u64 old;

	spin_lock_irqsave(&ep->lock, flags);
	slot = item->ring_slot;
	if (slot) {
		old = atomic64_xchg(epm_slot_state(ring, slot),
				    ((atomic64_read(epm_slot_state(ring, slot)) >>
				      32) + 1) << 32);
		item->ring_slot = 0;
		ring->owners[slot] = NULL;
		/* Its entry is still on the ring: held until passed. */
		if ((u32)old)
			__set_bit(slot, ring->stale);
		else
			__clear_bit(slot, ring->used);
	}
	spin_unlock_irqrestore(&ep->lock, flags);
}

/*
 * Put @events of @item on the ring (ep->lock held). True if its slot went
 * on it now; false if it was there already, or has nothing to say.
 */
bool epm_ring_publish(struct epm_instance *ep, struct epm_item *item,
		      __poll_t events)
{
	struct epm_ring *ring = ep->ring;
	u32 slot = item->ring_slot;
	atomic64_t *state;
	u64 old;

	lockdep_assert_held(&ep->lock);
	if (!slot || !events)
		return false;
	state = epm_slot_state(ring, slot);
	old = atomic64_read(state);
	while (!atomic64_try_cmpxchg(state, &old, old | (u32)events))
		;
	if ((u32)old)
		return false;
	ring->entry_at[slot] = ring->tail;
	WRITE_ONCE(ring->entries[ring->tail & ring->mask],
		   (old & ~(u64)U32_MAX) | slot);
	/* Pairs with the consumer's load-acquire of tail. */
	smp_store_release(&ring->hdr->tail, ++ring->tail);
	return true;
}

/* Entries on the ring not yet claimed, as far as the process says. */
unsigned int epm_ring_pending(struct epm_instance *ep)
{
	struct epm_ring *ring = READ_ONCE(ep->ring);
	u32 n;

	if (!ring)
		return 0;
	n = READ_ONCE(ring->tail) - READ_ONCE(ring->hdr->head);
	return min(n, ring->mask + 1);
}

/* Were @item's events on the ring taken by a consumer? */
static bool epm_ring_taken(struct epm_instance *ep, struct epm_item *item)
{
	u32 slot = item->ring_slot;

	return slot && !(u32)atomic64_read(epm_slot_state(ep->ring, slot));
}

/*
 * A wait's look at the ready list of a ring instance: the level-triggered
 * watches whose events were taken, and the watches whose queue woke them
 * without saying what happened, are polled, and what they report goes on
 * the ring. Under ep->mtx.
 */
void epm_ring_refill(struct epm_instance *ep)
{
	u32 scan_id = ++ep->scan_id;
	struct epm_item *item;
	LIST_HEAD(batch);
	poll_table pt;

	lockdep_assert_held(&ep->mtx);
	init_poll_funcptr(&pt, NULL);
	while (epm_take(ep, &batch, 64, scan_id)) {
		list_for_each_entry(item, &batch, ready) {
			struct file *file;
			__poll_t revents = 0;
			bool level = !(item->events & (EPOLLET | EPOLLONESHOT));

			item->outcome = EPM_REQUEUE;
			/* On the ring still: nothing to look at. */
			if (level && !epm_ring_taken(ep, item))
				continue;
			file = epm_item_pin(item);
			if (file) {
				revents = epm_item_poll_file(item, file, 1,
							     true);
				fput(file);
			}
			if (!revents) {
				item->outcome = EPM_DROP;
				continue;
			}
			spin_lock_irq(&ep->lock);
			epm_ring_publish(ep, item, revents);
			spin_unlock_irq(&ep->lock);
			if (item->events & EPOLLONESHOT)
				item->outcome = EPM_DISARM;
			else if (!level)
				item->outcome = EPM_DROP;
		}
		epm_settle(ep, &batch, scan_id);
	}
}

/*
 * Take the events of @slot if it is still of generation @gen: what they
 * were, or 0 for a slot since reused, or already taken.
 */
static u32 epm_slot_take(struct epm_ring *ring, u32 slot, u32 gen)
{
	atomic64_t *state = epm_slot_state(ring, slot);
	u64 old = atomic64_read(state);

	do {
		if ((old >> 32) != gen || !(u32)old)
			return 0;
	} while (!atomic64_try_cmpxchg(state, &old, old & ~(u64)U32_MAX));
	return (u32)old;
}

/*
 * Claim one entry and take its slot's events, as a consumer of the
 * process does. False when the ring is empty.
 */
static bool epm_ring_take_one(struct epm_ring *ring, struct epoll_event *ev,
			      u64 *taken)
{
	for (;;) {
		u32 head = READ_ONCE(ring->hdr->head);
		u32 tail = ring->tail;
		u32 slot, events;
		u64 entry;

		/* Empty; or a head the process scribbled over: as empty. */
		if (head == tail || tail - head > ring->mask + 1)
			return false;
		entry = READ_ONCE(ring->entries[head & ring->mask]);
		if (cmpxchg(&ring->hdr->head, head, head + 1) != head)
			continue;
		slot = (u32)entry;
		if (!slot || slot > ring->nslots)
			continue;
		events = epm_slot_take(ring, slot, entry >> 32);
		if (!events)
			continue;
		ev->events = events;
		ev->data = READ_ONCE(ring->slots[slot].data);
		*taken = entry;
		return true;
	}
}

/*
 * epoll_wait(2) on a ring instance: the module consumes the ring for the
 * caller. An event that cannot be copied goes back on the ring.
 */
int epm_ring_harvest(struct epm_instance *ep, void __user *out, int maxevents)
{
	struct epoll_event __user *uevents = out;
	struct epm_ring *ring = ep->ring;
	bool fault = false;
	int delivered = 0;

	mutex_lock(&ep->mtx);
	epm_ring_refill(ep);
	/* Under ep->mtx: the ring's tail moves only under ep->lock. */
	while (!fault && delivered < maxevents) {
		struct epm_item *owner;
		struct epoll_event ev;
		u64 entry;

		spin_lock_irq(&ep->lock);
		if (!epm_ring_take_one(ring, &ev, &entry)) {
			spin_unlock_irq(&ep->lock);
			break;
		}
		spin_unlock_irq(&ep->lock);
		if (epoll_put_uevent(ev.events, ev.data, uevents + delivered)) {
			delivered++;
			continue;
		}
		/* Back on the ring, if the watch still holds the slot. */
		fault = true;
		spin_lock_irq(&ep->lock);
		owner = ring->owners[(u32)entry];
		if (owner && (atomic64_read(epm_slot_state(ring, (u32)entry)) >>
			      32) == entry >> 32)
			epm_ring_publish(ep, owner, ev.events);
		spin_unlock_irq(&ep->lock);
	}
	mutex_unlock(&ep->mtx);
	epm_stat_add(EPM_STAT_EVENTS, delivered);
	if (!delivered && fault)
		return -EFAULT;
	return delivered;
}

/* EPOLLMOD_WAIT_RING: refill, then say how much the ring holds. */
int epm_ring_wait_harvest(struct epm_instance *ep, void __user *out,
			  int maxevents)
{
	mutex_lock(&ep->mtx);
	epm_ring_refill(ep);
	mutex_unlock(&ep->mtx);
	return epm_ring_pending(ep);
}
