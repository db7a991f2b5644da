// SPDX-License-Identifier: GPL-2.0
/*
 * epollmod: the misc device, the ioctl ABI and module set-up.
 *
 * Every open of /dev/epollmod is one instance; its file_operations below
 * translate the uapi structs into calls on the core (core.c).
 */

#include <linux/compat.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/uaccess.h>

#include "epm.h"

static int epm_open(struct inode *inode, struct file *file)
{
	struct epm_instance *ep;

	/* A misc device leaves its miscdevice in private_data; replace it. */
	ep = epm_instance_alloc(file);
	if (!ep)
		return -ENOMEM;
	file->private_data = ep;
#ifdef EPOLLMOD_WARN_ON_OPEN
	/* Appliance self-check build: prove that a splat fails the run. */
	WARN(1, "epollmod: built with EPOLLMOD_WARN_ON_OPEN\n");
#endif
	return 0;
}

static int epm_release(struct inode *inode, struct file *file)
{
	epm_instance_free(file->private_data);
	return 0;
}

static long epm_ioctl_info(void __user *uarg)
{
	struct epollmod_info info = {};
	u32 usize;

	if (get_user(usize, (u32 __user *)uarg))
		return -EFAULT;
	if (usize < EPOLLMOD_INFO_SIZE_VER0)
		return -EINVAL;

	info.size = min_t(u32, usize, sizeof(info));
	info.abi_version = EPOLLMOD_ABI_VERSION;
	info.features = EPM_FEATURES;
	info.max_nests = EPM_MAX_NESTS;
	info.max_user_watches = READ_ONCE(epm_max_user_watches);

	if (copy_to_user(uarg, &info, info.size))
		return -EFAULT;
	/* A newer caller's extra fields read as zero. */
	if (usize > sizeof(info) &&
	    clear_user(uarg + sizeof(info), usize - sizeof(info)))
		return -EFAULT;
	return 0;
}

static long epm_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	void __user *uarg = (void __user *)arg;

	/* The size bits are ignored: the structs carry their own size. */
	if (_IOC_TYPE(cmd) != EPOLLMOD_IOC_MAGIC)
		return -ENOTTY;

	switch (_IOC_NR(cmd)) {
	case _IOC_NR(EPOLLMOD_IOC_INFO):
		return epm_ioctl_info(uarg);
	}
	return -ENOTTY;
}

static const struct file_operations epm_fops = {
	.owner		= THIS_MODULE,
	.open		= epm_open,
	.release	= epm_release,
	.unlocked_ioctl	= epm_ioctl,
	/* Every argument is a pointer to a layout-stable struct. */
	.compat_ioctl	= compat_ptr_ioctl,
	/* As native epoll: lseek() succeeds and does nothing. */
	.llseek		= noop_llseek,
};

static struct miscdevice epm_miscdev = {
	.minor	= MISC_DYNAMIC_MINOR,
	.name	= EPOLLMOD_DEVICE_NAME,
	.fops	= &epm_fops,
	/* epoll is unprivileged. */
	.mode	= 0666,
};

static int __init epm_init(void)
{
	int err;

	err = epm_core_init();
	if (err)
		return err;
	err = misc_register(&epm_miscdev);
	if (err) {
		epm_core_exit();
		return err;
	}
	return 0;
}

static void __exit epm_exit(void)
{
	misc_deregister(&epm_miscdev);
	epm_core_exit();
}

module_init(epm_init);
module_exit(epm_exit);

MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Linux eventpoll (epoll) as a loadable module: /dev/epollmod");
MODULE_AUTHOR("The epollmod developers");
MODULE_VERSION(EPOLLMOD_VERSION);
