// SPDX-License-Identifier: GPL-2.0
/*
 * epollmod core: instances.
 */

#include <linux/mm.h>
#include <linux/slab.h>

#include "epm.h"

unsigned long epm_max_user_watches;

static struct kmem_cache *epm_instance_cache;

struct epm_instance *epm_instance_alloc(struct file *file)
{
	struct epm_instance *ep;

	ep = kmem_cache_zalloc(epm_instance_cache, GFP_KERNEL_ACCOUNT);
	if (ep)
		ep->file = file;
	return ep;
}

void epm_instance_free(struct epm_instance *ep)
{
	kmem_cache_free(epm_instance_cache, ep);
}

int epm_core_init(void)
{
	struct sysinfo si;

	/* Linux's default: 4% of low memory's worth of watches per user. */
	si_meminfo(&si);
	epm_max_user_watches = (((si.totalram - si.totalhigh) / 25)
				<< PAGE_SHIFT) / EPM_WATCH_COST;

	epm_instance_cache = KMEM_CACHE(epm_instance, SLAB_ACCOUNT);
	if (!epm_instance_cache)
		return -ENOMEM;
	return 0;
}

void epm_core_exit(void)
{
	kmem_cache_destroy(epm_instance_cache);
}
