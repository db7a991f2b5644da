/* SPDX-License-Identifier: GPL-2.0 */
/*
 * epollmod internals shared by the module's files.
 */
#ifndef EPM_H
#define EPM_H

#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/types.h>
#include <linux/uaccess.h>
/* After the three above: it uses them without including them. */
#include <linux/eventpoll.h>
#include <linux/epollmod.h>

#define EPOLLMOD_VERSION	"0.1.0"

/* Linux's limit on instances nested in instances (fs/eventpoll.c). */
#define EPM_MAX_NESTS		4

#define EPM_FEATURES		0ULL

/* What one watch costs in kernel memory, for the per-user limit. */
#define EPM_WATCH_COST		192

struct file;

/* One epoll instance: the private_data of an open /dev/epollmod. */
struct epm_instance {
	struct file *file;
};

extern unsigned long epm_max_user_watches;

struct epm_instance *epm_instance_alloc(struct file *file);
void epm_instance_free(struct epm_instance *ep);

int epm_core_init(void);
void epm_core_exit(void);

#endif /* EPM_H */
