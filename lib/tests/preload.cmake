# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
# Host tests of libepollmod-preload.so: a program that calls glibc's epoll,
# run under the shim where the module is missing (EPOLLMOD_DEVICE names no
# device, so a machine with the module loaded tests the same thing) or
# speaks another ABI version (faked on /dev/null).

add_executable(preload_host_test ${CMAKE_CURRENT_LIST_DIR}/preload_host_test.cc)
target_include_directories(preload_host_test PRIVATE ${EPOLLMOD_UAPI_DIR})
target_link_libraries(preload_host_test PRIVATE Threads::Threads
  ${CMAKE_DL_LIBS})
# Its ioctl() stands in for a module of another ABI version (other-abi).
target_link_options(preload_host_test
  PRIVATE -Wl,--export-dynamic-symbol=ioctl)

set(preload_env LD_PRELOAD=$<TARGET_FILE:epollmod-preload>
  EPOLLMOD_DEVICE=/nonexistent/epollmod)
add_test(NAME preload_no_module COMMAND preload_host_test no-module)
set_tests_properties(preload_no_module PROPERTIES
  ENVIRONMENT "${preload_env};EPOLLMOD_PRELOAD_FALLBACK=0")
add_test(NAME preload_fallback COMMAND preload_host_test fallback)
set_tests_properties(preload_fallback PROPERTIES
  ENVIRONMENT "${preload_env};EPOLLMOD_PRELOAD_FALLBACK=1")
add_test(NAME preload_other_abi COMMAND preload_host_test other-abi)
set_tests_properties(preload_other_abi PROPERTIES ENVIRONMENT
  "LD_PRELOAD=$<TARGET_FILE:epollmod-preload>;EPOLLMOD_DEVICE=/dev/null")
add_test(NAME preload_exports
  COMMAND preload_host_test exports $<TARGET_FILE:epollmod-preload>)
