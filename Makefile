# SPDX-License-Identifier: GPL-2.0
#
# make            the module (epollmod.ko), the library and the selftests
# make run        boot a VM, load the module, run the demo
# make test       host tests, then every selftest in a VM; N passed, N failed
# make test KVER=6.12  the same on another kernel (6.1, 6.12, mainline or a
#                 release string: scripts/kernel.sh), installed or built
#                 first; make run, shell and bench take KVER= too
# make test-matrix   every selftest on 6.1, 6.12 and mainline; one table
# make shell      an interactive VM with the module loaded
# make style      checkpatch --strict on module/ and uapi/, clang-format on lib/
# make install    the library, its headers, pkg-config and CMake files
# make bench      epollmod against native epoll in one VM boot
# make debug-kernel  a KASAN/lockdep/kmemleak kernel for the VM (cached)
#
# The module builds against the headers of Debian's distro kernel, which is
# the kernel the VM boots (this host runs another), or the running kernel's
# where there is no distro kernel. Override like any out-of-tree module:
# make KDIR=/path/to/kernel/build
#
# make module needs only that kernel build tree, make lib and make install
# only CMake and a C/C++ compiler: neither installs anything. The targets
# that boot VMs or need the kernel's source (selftests, test, run, shell,
# bench, debug-kernel, style) install what is missing first (scripts/deps.sh,
# as root).

KVER ?= $(shell scripts/kver.sh 2>/dev/null || uname -r)
KDIR ?= /lib/modules/$(KVER)/build
BUILD ?= $(CURDIR)/build
PREFIX ?= /usr/local

KSRC_TAR := /usr/src/linux-source-6.1.tar.xz
KSRC := $(BUILD)/ksrc
KSRC_FILES := tools/testing/selftests/kselftest_harness.h \
	tools/testing/selftests/kselftest.h \
	scripts/checkpatch.pl scripts/spelling.txt \
	scripts/const_structs.checkpatch

SELFTESTS := $(patsubst selftests/%.c,$(BUILD)/selftests/%,\
	$(wildcard selftests/*_test.c))
SELFTEST_LIB := selftests/lib/backend.c selftests/lib/util.c selftests/lib/kq.c
SELFTEST_HDRS := $(wildcard selftests/lib/*.h) lib/src/calls.h \
	$(BUILD)/selftests/splat_patterns.h
SELFTEST_CFLAGS := -O2 -g -Wall -Wextra -Wno-sign-compare -Wno-unused-parameter \
	-Wno-missing-field-initializers -pthread \
	-I$(KSRC)/tools/testing/selftests -Ilib/include -Iuapi \
	-I$(BUILD)/selftests
LIBEPOLLMOD := $(BUILD)/lib/libepollmod.a
# kqueue() and kevent() for <sys/event.h> programs; CMake builds it with
# libepollmod.
LIBEPOLLMOD_KQUEUE := $(BUILD)/lib/libepollmod-kqueue.a

MODULE_SRCS := Kbuild VERSION $(wildcard module/*.[ch]) uapi/linux/epollmod.h

.PHONY: all deps module lib selftests test test-matrix run shell style \
	install clean FORCE \
	bench debug-kernel

all: module lib selftests

deps:
	@scripts/deps.sh

module: epollmod.ko
epollmod.ko: $(MODULE_SRCS) $(BUILD)/module.kdir
	@[ -f $(KDIR)/Makefile ] || { echo "make module: no kernel build tree" \
		"in $(KDIR): install the headers of the kernel to build for" \
		"(Debian: linux-headers-$(KVER)) or give its build tree as" \
		"KDIR=/path/to/build" >&2; exit 1; }
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

# The kernel epollmod.ko was built for: another KDIR rebuilds it.
$(BUILD)/module.kdir: FORCE
	@mkdir -p $(@D)
	@echo '$(KDIR)' | cmp -s - $@ || echo '$(KDIR)' >$@

lib: $(LIBEPOLLMOD) $(LIBEPOLLMOD_KQUEUE)
$(LIBEPOLLMOD_KQUEUE): $(LIBEPOLLMOD)
$(LIBEPOLLMOD): $(shell find lib uapi examples -type f) VERSION
	@command -v cmake >/dev/null || { echo "make lib: needs CMake (3.18" \
		"or later) and a C/C++20 compiler (Debian: apt-get install" \
		"cmake g++)" >&2; exit 1; }
	@cmake -S lib -B $(BUILD)/lib -DCMAKE_BUILD_TYPE=RelWithDebInfo \
		-DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@cmake --build $(BUILD)/lib -j$$(nproc)

# Headers and scripts that live in the kernel tree, never in this one.
# selftests/lib/harness.h runs the tests itself, with the harness's internals
# (__run_test's fields): the two headers are pinned to the copies it was
# checked against (linux-source-6.1 6.1.192-3), and a new tarball that
# changes them stops the build until harness.h is checked again.
KSELFTEST_SUMS := selftests/lib/kselftest.sha256
$(KSRC)/.stamp: $(KSELFTEST_SUMS) $(wildcard $(KSRC_TAR)) | deps
	@mkdir -p $(KSRC)
	tar -xJf $(KSRC_TAR) -C $(KSRC) --strip-components=1 \
		$(addprefix linux-source-6.1/,$(KSRC_FILES))
	@cd $(KSRC) && sha256sum --quiet -c $(CURDIR)/$(KSELFTEST_SUMS) || { \
		echo "$(KSRC_TAR) has another kselftest_harness.h or" \
			"kselftest.h than $(KSELFTEST_SUMS) pins: check that" \
			"selftests/lib/harness.h still matches its internals," \
			"then update the sums" >&2; exit 1; }
	@touch $@

$(BUILD)/selftests/splat_patterns.h: scripts/splat-patterns.txt
	@mkdir -p $(@D)
	sed 's/.*/"&",/' $< >$@

# The C++ wrappers' tests are built by CMake; the VM runs them with the rest.
CXX_SELFTESTS := $(BUILD)/selftests/cxx_wrapper_test \
	$(BUILD)/selftests/kqueue_cxx_test
selftests: $(SELFTESTS) $(CXX_SELFTESTS)
$(CXX_SELFTESTS): $(LIBEPOLLMOD)
	@mkdir -p $(@D)
	ln -sf ../lib/tests/$(@F) $@

$(BUILD)/selftests/%: selftests/%.c $(SELFTEST_LIB) $(SELFTEST_HDRS) \
		$(LIBEPOLLMOD) $(KSRC)/.stamp
	@mkdir -p $(@D)
	$(CC) $(SELFTEST_CFLAGS) -o $@ $< $(SELFTEST_LIB) $(LIBEPOLLMOD) -lcap

# KVER given (make test/run/shell/bench KVER=6.12): the VM boots that
# kernel, with a module built for it out of the tree (build/kernels/).
VM_KVER := $(if $(filter command line environment,$(origin KVER)),$(KVER))
VM_DEPS := $(if $(VM_KVER),lib selftests,all)
WITH_KERNEL := $(if $(VM_KVER),scripts/with-kernel.sh '$(VM_KVER)')
test: $(VM_DEPS) | deps
	@EPM_KVER='$(VM_KVER)' scripts/test.sh

test-matrix: lib selftests | deps
	@scripts/test-matrix.sh

run: $(VM_DEPS) | deps
	@$(WITH_KERNEL) scripts/vm.sh --name demo -- scripts/guest/demo.sh

shell: $(VM_DEPS) | deps
	@$(WITH_KERNEL) scripts/vm.sh --name shell --interactive -- scripts/guest/shell.sh

bench: $(VM_DEPS) | deps
	@$(WITH_KERNEL) scripts/bench.sh

debug-kernel: | deps
	@scripts/debug-kernel.sh

style: $(KSRC)/.stamp
	$(KSRC)/scripts/checkpatch.pl --strict --no-tree --terse --show-types \
		-f $(wildcard module/*.[ch]) uapi/linux/epollmod.h
	clang-format --dry-run --Werror $(wildcard bench/*.cpp) $(shell find \
		lib examples -name '*.[ch]' -o -name '*.cc' -o -name '*.hpp')

install: lib
	cmake --install $(BUILD)/lib
	@[ -n "$(DESTDIR)" ] || ldconfig

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean
	rm -rf $(BUILD)
