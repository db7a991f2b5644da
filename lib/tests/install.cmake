# SPDX-License-Identifier: LGPL-2.1-or-later OR MIT
# make install, tested: a fresh prefix, and examples/consumer built
# against it with find_package(epollmod) and with pkg-config, and a
# <sys/event.h> program built with pkg-config epollmod-kqueue.
add_test(NAME install_consumer
  COMMAND ${CMAKE_CURRENT_LIST_DIR}/install_test.sh ${PROJECT_BINARY_DIR}
    ${CMAKE_INSTALL_LIBDIR} ${CMAKE_CURRENT_LIST_DIR}/../../examples/consumer)
set_tests_properties(install_consumer PROPERTIES
  ENVIRONMENT
    "CMAKE=${CMAKE_COMMAND};CXX=${CMAKE_CXX_COMPILER};CC=${CMAKE_C_COMPILER}"
  TIMEOUT 300)
