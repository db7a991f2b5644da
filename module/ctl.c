// SPDX-License-Identifier: GPL-2.0
/*
 * epoll_ctl(2) for an epollmod instance, with Linux's checks in Linux's
 * order, so that every input gets the errno native epoll gives it.
 */

#include <linux/file.h>

#include "compat.h"
#include "epm.h"

/* Is @file an epoll instance, ours or native? */
static bool epm_is_epoll(struct file *file)
{
	return epm_is_instance_file(file) || epm_is_native_epoll(file);
}

/*
 * epoll_ctl(2) after its copy of the event, which it makes first: @event
 * is the caller's copy, unread for EPOLL_CTL_DEL.
 */
int epm_ctl(struct epm_instance *ep, int op, int fd,
	    const struct epoll_event *event)
{
	struct epoll_event ev = *event;
	bool full_check = false;
	struct epm_item *item;
	struct file *tfile;
	struct fd tf;
	int err;

	/* Borrowed, as epoll_ctl(2) does: a watch takes its own reference. */
	tf = fdget(fd);
	tfile = fd_file(tf);
	if (!tfile)
		return -EBADF;

	err = -EPERM;
	if (!file_can_poll(tfile))
		goto out;

	/* EPOLLWAKEUP needs CAP_BLOCK_SUSPEND; without it, it is dropped. */
	if (op != EPOLL_CTL_DEL)
		epm_filter_epollwakeup(&ev);

	err = -EINVAL;
	if (tfile == ep->file)
		goto out;

	/*
	 * EPOLLEXCLUSIVE hooks at ADD time only, and only on queues whose
	 * wakeups it can count: not with MOD, not on an epoll instance, and
	 * not with events it cannot tell apart.
	 */
	if (op != EPOLL_CTL_DEL && (ev.events & EPOLLEXCLUSIVE)) {
		if (op == EPOLL_CTL_MOD)
			goto out;
		if (op == EPOLL_CTL_ADD &&
		    (epm_is_epoll(tfile) ||
		     (ev.events & ~EPM_EXCLUSIVE_OK_BITS)))
			goto out;
	}

	mutex_lock(&ep->mtx);
	if (op == EPOLL_CTL_ADD && epm_needs_full_check(ep, tfile)) {
		/* The nest mutex comes first in the lock order. */
		mutex_unlock(&ep->mtx);
		epm_nest_lock();
		full_check = true;
		if (epm_is_instance_file(tfile)) {
			err = epm_loop_check(ep, tfile->private_data);
			if (err)
				goto out_nest;
		}
		mutex_lock(&ep->mtx);
	}

	/* Made a kqueue meanwhile: its items are knotes. */
	err = -EINVAL;
	if (ep->kqueue)
		goto out_unlock;
	/* A ring has no wakeup source to hold while its events wait there. */
	if (ep->ring && op != EPOLL_CTL_DEL && (ev.events & EPOLLWAKEUP))
		goto out_unlock;

	/* Watches of closed files go first: one may hold tfile's address. */
	epm_reap(ep);
	item = epm_find(ep, tfile, fd);
	err = -EINVAL;
	switch (op) {
	case EPOLL_CTL_ADD:
		if (item) {
			err = -EEXIST;
			break;
		}
		ev.events |= EPOLLERR | EPOLLHUP;
		err = epm_insert(ep, &ev, tfile, fd, full_check);
		break;
	case EPOLL_CTL_DEL:
		if (!item) {
			err = -ENOENT;
			break;
		}
		epm_remove(ep, item);
		err = 0;
		break;
	case EPOLL_CTL_MOD:
		if (!item) {
			err = -ENOENT;
			break;
		}
		/* An exclusive watch cannot be modified: it stays EINVAL. */
		if (!(item->events & EPOLLEXCLUSIVE)) {
			ev.events |= EPOLLERR | EPOLLHUP;
			epm_modify(ep, item, tfile, &ev);
			err = 0;
		}
		break;
	}
out_unlock:
	mutex_unlock(&ep->mtx);

out_nest:
	if (full_check)
		epm_nest_unlock();
out:
	fdput(tf);
	return err;
}
