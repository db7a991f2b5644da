/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What bench/echo_server.c and its io_uring loop (bench/uring.c) share:
 * the same accept and the same echo, so that the backends differ only in
 * how they learn which socket is ready.
 */
#ifndef EPB_URING_H
#define EPB_URING_H

#include <stdbool.h>
#include <stddef.h>

/* Events (epoll) or completions (io_uring) handled per wait, at most. */
#define EPB_ECHO_BATCH	256

/* echo_server.c */
int epb_echo_accept(int lfd);
bool epb_echo(int fd);

/*
 * uring.c. epb_uring_check() sets up a ring as the server would and
 * checks that a multishot poll fires twice; 0 and a description of the
 * ring in @what, or -1 and why not. epb_uring_serve() never returns.
 */
int epb_uring_check(char *what, size_t len);
void epb_uring_serve(int lfd) __attribute__((noreturn));

#endif /* EPB_URING_H */
