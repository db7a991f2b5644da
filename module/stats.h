/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The module's counters, shown in /sys/kernel/debug/epollmod/stats: one
 * line each, EPM_STAT(ID, name, what it counts), a list with commas.
 * Included where EPM_STAT
 * is defined, to make the enum (epm.h) and the names (main.c) from this one
 * list: no include guard, on purpose.
 */
EPM_STAT(INSTANCES, instances, "live instances"),
EPM_STAT(WATCHES, watches, "live items"),
EPM_STAT(WAKEUPS, wakeups, "poll callbacks that queued or woke"),
EPM_STAT(WAITS, waits, "EPOLLMOD_IOC_WAIT calls"),
EPM_STAT(EVENTS, events, "events delivered"),
EPM_STAT(CLOSES, closed_files, "final closes that ended watches"),
EPM_STAT(FORWARDS, forwarded_wakes, "wakes forwarded from native epoll"),
EPM_STAT(FORWARDS_DROPPED, forwarded_wakes_dropped, "... cut off by the hop limit"),
EPM_STAT(POLL_GUESSES, poll_guesses, "->poll answered without a scan"),
EPM_STAT(KEVENTS, kevents, "EPOLLMOD_IOC_KEVENT calls"),
EPM_STAT(CHANGES, kevent_changes, "kevent changes applied"),
EPM_STAT(TIMER_FIRES, timer_expirations, "EVFILT_TIMER expirations"),
