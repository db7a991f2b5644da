// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctl ABI of /dev/epollmod itself, below the library: argument
 * sizes, reserved bits, unknown commands. Not differential: native epoll
 * has no ioctls.
 */
#include "lib/harness.h"

#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include <linux/epollmod.h>
#include <epollmod/epollmod.h>


FIXTURE(abi) {
	int ep;
};

FIXTURE_SETUP(abi)
{
	self->ep = open(epollmod_device_path(), O_RDWR | O_CLOEXEC);
	if (self->ep < 0) {
		if (getenv("EPM_REQUIRE_MODULE"))
			ASSERT_LE(0, self->ep) TH_LOG("open: %s",
						      strerror(errno));
		EPM_SKIP_TEST("%s: %s (module not loaded)",
			      epollmod_device_path(), strerror(errno));
	}
}

FIXTURE_TEARDOWN(abi)
{
	close(self->ep);
}

TEST_F(abi, info_reports_version_and_features)
{
	struct epollmod_info info;

	memset(&info, 0xa5, sizeof(info));
	info.size = sizeof(info);
	ASSERT_EQ(0, ioctl(self->ep, EPOLLMOD_IOC_INFO, &info));
	EXPECT_EQ(sizeof(info), info.size);
	EXPECT_EQ(EPOLLMOD_ABI_VERSION, info.abi_version);
	EXPECT_EQ(0, info.reserved);
	EXPECT_EQ(4, info.max_nests);
	EXPECT_NE(0, info.max_user_watches);
	/* Only defined feature bits. */
	EXPECT_EQ(0, info.features & ~(EPOLLMOD_FEAT_RING * 2 - 1));
	EXPECT_NE(0, info.features & EPOLLMOD_FEAT_KQUEUE);
}

TEST_F(abi, info_short_size_einval)
{
	struct epollmod_info info = { .size = EPOLLMOD_INFO_SIZE_VER0 - 1 };

	errno = 0;
	EXPECT_EQ(-1, ioctl(self->ep, EPOLLMOD_IOC_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	info.size = 0;
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->ep, EPOLLMOD_IOC_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
}

/* A caller built against a newer, longer struct reads zeros past ours. */
TEST_F(abi, info_longer_struct_zero_filled)
{
	struct {
		struct epollmod_info info;
		__u64 future[4];
	} big;

	memset(&big, 0xa5, sizeof(big));
	big.info.size = sizeof(big);
	ASSERT_EQ(0, ioctl(self->ep, EPOLLMOD_IOC_INFO, &big));
	EXPECT_EQ(sizeof(struct epollmod_info), big.info.size);
	for (int i = 0; i < 4; i++) {
		EXPECT_EQ(0, big.future[i]);
	}
}

/* A size no struct will ever have is refused, not zero-filled. */
TEST_F(abi, info_huge_size_e2big)
{
	struct epollmod_info info;

	memset(&info, 0xa5, sizeof(info));
	info.size = 0xffffffff;
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->ep, EPOLLMOD_IOC_INFO, &info));
	EXPECT_EQ(E2BIG, errno);
	info.size = 4097;
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->ep, EPOLLMOD_IOC_INFO, &info));
	EXPECT_EQ(E2BIG, errno);
	/* Nothing was written. */
	EXPECT_EQ(0xa5a5a5a5, info.abi_version);
}

TEST_F(abi, info_bad_pointer_efault)
{
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->ep, EPOLLMOD_IOC_INFO, NULL));
	EXPECT_EQ(EFAULT, errno);
}

/* The output struct ends in an unmapped page: EFAULT, not a crash. */
TEST_F(abi, info_partly_unmapped_efault)
{
	long page = sysconf(_SC_PAGESIZE);
	char *map = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	struct epollmod_info *info;

	ASSERT_NE(MAP_FAILED, map);
	ASSERT_EQ(0, munmap(map + page, page));
	info = (struct epollmod_info *)(map + page - 8);
	info->size = sizeof(*info);
	errno = 0;
	EXPECT_EQ(-1, ioctl(self->ep, EPOLLMOD_IOC_INFO, info));
	EXPECT_EQ(EFAULT, errno);
	munmap(map, page);
}

TEST_F(abi, unknown_command_enotty)
{
	unsigned long cmds[] = {
		_IO(EPOLLMOD_IOC_MAGIC, 0x1f),
		_IOWR(EPOLLMOD_IOC_MAGIC, 0x7f, struct epollmod_info),
		_IOWR('E' + 1, 0x00, struct epollmod_info),
		0,
	};
	struct epollmod_info info = { .size = sizeof(info) };

	for (unsigned int i = 0; i < ARRAY_SIZE(cmds); i++) {
		errno = 0;
		EXPECT_EQ(-1, ioctl(self->ep, cmds[i], &info))
			TH_LOG("cmd %#lx", cmds[i]);
		EXPECT_EQ(ENOTTY, errno) TH_LOG("cmd %#lx", cmds[i]);
	}
}

/* The size bits of the command number do not matter: the struct's do. */
TEST_F(abi, command_size_bits_ignored)
{
	struct epollmod_info info = { .size = sizeof(info) };

	EXPECT_EQ(0, ioctl(self->ep, _IOWR(EPOLLMOD_IOC_MAGIC, 0x00, __u64),
			   &info));
	EXPECT_EQ(EPOLLMOD_ABI_VERSION, info.abi_version);
}

EPM_HARNESS_MAIN
