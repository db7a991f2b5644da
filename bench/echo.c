// SPDX-License-Identifier: GPL-2.0
/*
 * Case 7: a real workload. Echo servers run as processes of their own,
 * one per backend, and this load generator drives many TCP connections to
 * each over loopback: a round sends one 64-byte request on every
 * connection of one server, then reads every reply. Rounds alternate
 * between the servers: requests per second of round time, per backend.
 * The client uses plain blocking sockets, the same for all; only the
 * servers' event loops differ. The client stays on CPU 0 and the servers
 * run on the last CPU, so that nothing migrates between rounds.
 *
 * Two loads: --echo-connections (1,000 by default) and a light one,
 * ECHO_LIGHT connections, where a round is little more than a wakeup.
 *
 * The server is a command template (--echo-server), so any server can be
 * plugged in: {backend} becomes native or epollmod, {port} the TCP port,
 * {bindir} the directory of epbench. The default is bench/echo_server.c.
 *
 * io_uring's column: bench/echo_server.c's io_uring loop (bench/uring.c),
 * against native epoll on that same server, in the same repetition. When
 * --echo-server is another program (the demo, whose loop has no io_uring),
 * bench/echo_server.c runs on native epoll as a fourth server, the
 * baseline of io_uring's ratio, so that the ratio compares two event loops
 * of one program. Where io_uring cannot run (no liburing at build time, a
 * kernel without it or with it disabled), its rows have no samples and say
 * why in their notes ("skipped: ...").
 *
 * System calls per request are counted, not inferred: a perf counter on
 * the raw_syscalls:sys_enter tracepoint follows each server's process and
 * is read before and after the timed rounds; the difference over the
 * requests echoed in between, whatever the calls were (the epoll or
 * io_uring waits, ioctls, reads, writes, signal masks).
 */
#include <errno.h>
#include <linux/perf_event.h>
#include <netinet/in.h>
#include <sched.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define ECHO_PORT	7707		/* the first side's; then the next */
#define ECHO_MSG	64
#define ECHO_LIGHT	10		/* connections of the light load */
/* bench/echo_server.c: io_uring's server and its baseline's */
#define BENCH_SERVER	"{bindir}/echo-server --backend {backend} --port {port}"

extern char epb_bindir[];

/* "exec " and @tmpl with every {name} replaced; the caller frees it. */
static char *expand(const char *tmpl, const char *backend, int port)
{
	char portstr[16], *out;
	size_t len = 5, cap = strlen(tmpl) + 6;

	snprintf(portstr, sizeof(portstr), "%d", port);
	for (const char *p = tmpl; *p; p++)
		if (*p == '{')
			cap += strlen(epb_bindir) + 16;
	out = malloc(cap);
	if (!out)
		epb_die("out of memory");
	memcpy(out, "exec ", len);
	for (const char *p = tmpl; *p;) {
		const char *value = NULL;
		size_t skip = 0;

		if (!strncmp(p, "{backend}", 9))
			value = backend, skip = 9;
		else if (!strncmp(p, "{port}", 6))
			value = portstr, skip = 6;
		else if (!strncmp(p, "{bindir}", 8))
			value = epb_bindir, skip = 8;
		if (value) {
			len += sprintf(out + len, "%s", value);
			p += skip;
		} else {
			out[len++] = *p++;
		}
	}
	out[len] = '\0';
	return out;
}

static pid_t start_server(const char *tmpl, const char *backend, int port)
{
	char *cmd = expand(tmpl, backend, port);
	pid_t pid = fork();

	if (pid < 0)
		epb_die("fork: %m");
	if (pid == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);
		cpu_set_t last;

		/* The client has CPU 0; the server gets a CPU of its own. */
		CPU_ZERO(&last);
		CPU_SET(cpus - 1, &last);
		sched_setaffinity(0, sizeof(last), &last);
		/* Its messages go to the console log, not into the results. */
		dup2(STDERR_FILENO, STDOUT_FILENO);
		/* exec: the pid we signal is the server's, not a shell's. */
		execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
		_exit(127);
	}
	free(cmd);
	return pid;
}

static void stop_server(pid_t pid)
{
	int status;

	kill(pid, SIGTERM);
	if (waitpid(pid, &status, 0) != pid)
		epb_die("waitpid: %m");
	/* Killed by it, or a server that exits cleanly on it. */
	if (!(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM) &&
	    !(WIFEXITED(status) && WEXITSTATUS(status) == 0))
		epb_die("the echo server ended before it was stopped (status %#x)",
			status);
}

static int try_connect(int port)
{
	struct sockaddr_in addr = {
		.sin_family = AF_INET,
		.sin_port = htons(port),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
	};
	struct linger reset = { .l_onoff = 1, .l_linger = 0 };
	int one = 1;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		epb_die("socket: %m");
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr))) {
		close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	/* Close with a reset: thousands of TIME_WAITs would pile up. */
	setsockopt(fd, SOL_SOCKET, SO_LINGER, &reset, sizeof(reset));
	return fd;
}

/* The first connection, once the server listens (10 s at most). */
static int connect_first(pid_t server, int port)
{
	for (int tries = 0; tries < 1000; tries++) {
		int fd = try_connect(port);

		if (fd >= 0)
			return fd;
		if (waitpid(server, NULL, WNOHANG) == server)
			epb_die("the echo server exited: is --echo-server right?");
		usleep(10000);
	}
	epb_die("the echo server does not listen on port %d", port);
}

/* Request @seq on connection @i, NUL-padded: the reply must match it. */
static void make_msg(char *msg, long seq, int i)
{
	memset(msg, 0, ECHO_MSG);
	snprintf(msg, ECHO_MSG, "request %ld on connection %d", seq, i);
}

static void full_io(bool out, int fd, char *buf, size_t len)
{
	while (len) {
		ssize_t n = out ? write(fd, buf, len) : read(fd, buf, len);

		if (n <= 0)
			epb_die("echo connection %s: %m",
				n ? "failed" : "closed by the server");
		buf += n;
		len -= n;
	}
}

/*
 * The servers of a repetition, by role. Native and epollmod run
 * --echo-server; io_uring and its baseline run bench/echo_server.c.
 */
enum {
	ROLE_NATIVE, ROLE_EPOLLMOD, ROLE_URING, ROLE_URING_BASE, ROLE_RING,
	NR_ROLES
};

static const struct {
	const char *backend;
	bool bench_server;
} roles[NR_ROLES] = {
	[ROLE_NATIVE]		= { "native", false },
	[ROLE_EPOLLMOD]		= { "epollmod", false },
	[ROLE_URING]		= { "io_uring", true },
	[ROLE_URING_BASE]	= { "native", true },
	[ROLE_RING]		= { "ring", true },
};

/* What this boot can measure, found once (epb_case_echo()). */
static struct {
	bool uring;			/* io_uring's column runs */
	bool own_base;			/* ... with a baseline of its own */
	char uring_what[256];		/* the ring, or why it is skipped */
	long tracepoint;		/* raw_syscalls:sys_enter, or -1 */
	char count_why[256];		/* why nothing is counted */
} echo_env;

/* One server and the client's connections to it. */
struct echo_side {
	pid_t server;
	int port;
	int nconn;
	int *conns;
	int counter;			/* its system calls, or -1 */
	uint64_t calls;			/* counted before the timed rounds */
	long requests;			/* echoed in the timed rounds */
	uint64_t ns;			/* spent on them */
};

/* The rows of one load. */
struct echo_rows {
	struct epb_result *rate, *calls, *uring_rate, *uring_calls;
	struct epb_result *ring_rate, *ring_calls;
};

/* A counter of @pid's system calls (its main thread's: they are all). */
static int syscall_counter(pid_t pid)
{
	struct perf_event_attr attr = {
		.type = PERF_TYPE_TRACEPOINT,
		.size = sizeof(attr),
		.config = echo_env.tracepoint,
	};
	int fd;

	if (echo_env.tracepoint < 0)
		return -1;
	fd = syscall(SYS_perf_event_open, &attr, pid, -1, -1,
		     PERF_FLAG_FD_CLOEXEC);
	if (fd < 0) {
		/* Then no side is counted in this boot. */
		snprintf(echo_env.count_why, sizeof(echo_env.count_why),
			 "perf_event_open(raw_syscalls:sys_enter): %s",
			 strerror(errno));
		echo_env.tracepoint = -1;
	}
	return fd;
}

static uint64_t read_counter(int fd)
{
	uint64_t v;

	if (fd < 0)
		return 0;
	if (read(fd, &v, sizeof(v)) != sizeof(v))
		epb_die("reading a perf counter: %m");
	return v;
}

static void echo_side_start(struct echo_side *side, int role, int slot,
			    int nconn)
{
	side->port = ECHO_PORT + slot;
	side->server = start_server(roles[role].bench_server ? BENCH_SERVER :
				    epb_cfg.echo_server,
				    roles[role].backend, side->port);
	side->counter = syscall_counter(side->server);
	side->nconn = nconn;
	side->conns = malloc(nconn * sizeof(*side->conns));
	if (!side->conns)
		epb_die("out of memory");
	side->conns[0] = connect_first(side->server, side->port);
	for (int i = 1; i < nconn; i++)
		if ((side->conns[i] = try_connect(side->port)) < 0)
			epb_die("connect: %m");
	side->requests = 0;
	side->ns = 0;
}

static void echo_side_stop(struct echo_side *side)
{
	for (int i = 0; i < side->nconn; i++)
		close(side->conns[i]);
	free(side->conns);
	if (side->counter >= 0)
		close(side->counter);
	stop_server(side->server);
}

/* One round: a request on every connection, then every reply. */
static void echo_round(struct echo_side *side)
{
	int nconn = side->nconn;
	char msg[ECHO_MSG], reply[ECHO_MSG];
	uint64_t start = epb_now_ns();

	for (int i = 0; i < nconn; i++) {
		make_msg(msg, side->requests + i, i);
		full_io(true, side->conns[i], msg, sizeof(msg));
	}
	for (int i = 0; i < nconn; i++) {
		make_msg(msg, side->requests + i, i);
		full_io(false, side->conns[i], reply, sizeof(reply));
		if (memcmp(msg, reply, sizeof(msg)))
			epb_die("connection %d: wrong echo", i);
	}
	side->requests += nconn;
	side->ns += epb_now_ns() - start;
}

/* Side @a's and side @b's rate, and their calls per request, paired. */
static void record(struct epb_result *rate, struct epb_result *calls,
		   const struct echo_side *a, const struct echo_side *b)
{
	const struct echo_side *pair[2] = { a, b };

	for (int i = 0; i < 2; i++) {
		const struct echo_side *side = pair[i];

		epb_result_add(rate, i, side->requests * 1e9 / side->ns);
		if (side->counter >= 0 && echo_env.tracepoint >= 0)
			epb_result_add(calls, i,
				       (double)(read_counter(side->counter) -
						side->calls) / side->requests);
	}
}

/*
 * One repetition: the servers run side by side, each with its own
 * connections, and the client takes turns among them, a round each,
 * until each has had @seconds of rounds. Changes in the host's load hit
 * all alike. No @rows: a warm-up.
 */
static void echo_rep(const struct echo_rows *rows, int nconn, int rep,
		     double seconds)
{
	struct echo_side sides[NR_ROLES], *by_role[NR_ROLES] = { NULL };
	uint64_t budget = seconds * 1e9;
	int nr = 0;
	bool more;

	for (int role = 0; role < NR_ROLES; role++) {
		if ((role == ROLE_URING && !echo_env.uring) ||
		    (role == ROLE_URING_BASE && !echo_env.own_base))
			continue;
		by_role[role] = &sides[nr];
		echo_side_start(&sides[nr], role, nr, nconn);
		nr++;
	}
	/*
	 * An untimed round each: every connection accepted, and every
	 * server's calls counted from the same state.
	 */
	for (int i = 0; i < nr; i++) {
		echo_round(&sides[i]);
		sides[i].requests = 0;
		sides[i].ns = 0;
		sides[i].calls = read_counter(sides[i].counter);
	}
	for (int round = 0;; round++) {
		for (int i = 0; i < nr; i++)
			echo_round(&sides[(rep + round + i) % nr]);
		more = false;
		for (int i = 0; i < nr; i++)
			more |= sides[i].ns < budget;
		if (!more)
			break;
	}
	if (rows) {
		record(rows->rate, rows->calls, by_role[ROLE_NATIVE],
		       by_role[ROLE_EPOLLMOD]);
		if (echo_env.uring)
			record(rows->uring_rate, rows->uring_calls,
			       by_role[echo_env.own_base ? ROLE_URING_BASE :
						       ROLE_NATIVE],
			       by_role[ROLE_URING]);
		/* The ring against native epoll in the same program. */
		record(rows->ring_rate, rows->ring_calls,
		       by_role[echo_env.own_base ? ROLE_URING_BASE :
					       ROLE_NATIVE],
		       by_role[ROLE_RING]);
	}
	for (int i = 0; i < nr; i++)
		echo_side_stop(&sides[i]);
}

/* "{bindir}/echo-server --backend io_uring --check": can it run here? */
static void check_uring(void)
{
	char *cmd = expand("{bindir}/echo-server --backend io_uring --check",
			   "", 0);
	char line[sizeof(echo_env.uring_what)] = "";
	FILE *p = popen(cmd + 5, "r");	/* without "exec " */
	int status;

	free(cmd);
	if (!p)
		epb_die("popen: %m");
	if (!fgets(line, sizeof(line), p))
		line[0] = '\0';
	status = pclose(p);
	line[strcspn(line, "\n")] = '\0';
	echo_env.uring = status == 0 && !strncmp(line, "ok: ", 4);
	snprintf(echo_env.uring_what, sizeof(echo_env.uring_what), "%s",
		 echo_env.uring ? line + 4 :
		 line[0] ? line : "echo-server --check failed");
}

static struct epb_result *new_row(const char *id, const char *title,
				  const char *unit, bool higher, int nconn,
				  bool uring)
{
	struct epb_result *r = epb_result_new(7, id, title, unit, higher);

	snprintf(r->params, sizeof(r->params),
		 "{\"connections\": %d, \"seconds_per_sample\": %.1f, \"request_bytes\": %d}",
		 nconn, epb_cfg.echo_seconds, ECHO_MSG);
	if (uring)
		r->sides[1] = "io_uring";
	return r;
}

/* The ready ring's rows: the bench server's ring loop against native. */
static void ring_rows(struct echo_rows *rows, int nconn, const char *suffix)
{
	char id[48], title[64];

	snprintf(id, sizeof(id), "echo.ring%s.rate", suffix);
	snprintf(title, sizeof(title), "echo req/s, %d conns, ring", nconn);
	rows->ring_rate = new_row(id, title, "req/s", true, nconn, false);
	rows->ring_rate->sides[1] = "ring";
	snprintf(id, sizeof(id), "echo.ring%s.syscalls", suffix);
	snprintf(title, sizeof(title), "echo syscalls/req, %d conns, ring",
		 nconn);
	rows->ring_calls = new_row(id, title, "calls/req", false, nconn,
				   false);
	rows->ring_calls->sides[1] = "ring";
}

static void echo_load(int nconn, bool light)
{
	const char *suffix = light ? ".c10" : "";
	struct echo_rows rows;
	char id[48], title[64];

	snprintf(id, sizeof(id), "echo%s.rate", suffix);
	snprintf(title, sizeof(title), "echo req/s, %d conns", nconn);
	rows.rate = new_row(id, title, "req/s", true, nconn, false);
	snprintf(id, sizeof(id), "echo%s.syscalls", suffix);
	snprintf(title, sizeof(title), "echo syscalls/req, %d conns", nconn);
	rows.calls = new_row(id, title, "calls/req", false, nconn, false);
	snprintf(id, sizeof(id), "echo.uring%s.rate", suffix);
	snprintf(title, sizeof(title), "echo req/s, %d conns, io_uring", nconn);
	rows.uring_rate = new_row(id, title, "req/s", true, nconn, true);
	snprintf(id, sizeof(id), "echo.uring%s.syscalls", suffix);
	snprintf(title, sizeof(title), "echo syscalls/req, %d conns, io_uring",
		 nconn);
	rows.uring_calls = new_row(id, title, "calls/req", false, nconn, true);
	ring_rows(&rows, nconn, suffix);

	epb_log("case 7: echo server, %d connections, %.1f s per sample",
		nconn, epb_cfg.echo_seconds);
	for (int rep = 0; rep < epb_cfg.reps; rep++)
		echo_rep(&rows, nconn, rep, epb_cfg.echo_seconds);

	snprintf(rows.rate->notes, sizeof(rows.rate->notes), "server: %s",
		 epb_cfg.echo_server);
	if (echo_env.tracepoint >= 0)
		snprintf(rows.calls->notes, sizeof(rows.calls->notes),
			 "%s; server: %s",
			 "system calls the server made in the timed rounds (perf counter on raw_syscalls:sys_enter) per request",
			 epb_cfg.echo_server);
	else
		snprintf(rows.calls->notes, sizeof(rows.calls->notes),
			 "skipped: %s", echo_env.count_why);
	if (echo_env.uring) {
		snprintf(rows.uring_rate->notes, sizeof(rows.uring_rate->notes),
			 "both sides: %s (bench/echo_server.c), native %s; "
			 "io_uring: %s", BENCH_SERVER,
			 echo_env.own_base ? "a server of its own" :
			 "the native of echo.rate", echo_env.uring_what);
		if (echo_env.tracepoint >= 0)
			snprintf(rows.uring_calls->notes,
				 sizeof(rows.uring_calls->notes),
				 "counted as %s is; %.400s", rows.calls->id,
				 rows.uring_rate->notes);
		else
			snprintf(rows.uring_calls->notes,
				 sizeof(rows.uring_calls->notes), "%s",
				 rows.calls->notes);
	} else {
		snprintf(rows.uring_rate->notes, sizeof(rows.uring_rate->notes),
			 "skipped: %s", echo_env.uring_what);
		snprintf(rows.uring_calls->notes,
			 sizeof(rows.uring_calls->notes), "skipped: %s",
			 echo_env.uring_what);
	}
	epb_result_log(rows.rate);
	epb_result_log(rows.calls);
	epb_result_log(rows.uring_rate);
	epb_result_log(rows.uring_calls);
	snprintf(rows.ring_rate->notes, sizeof(rows.ring_rate->notes),
		 "both sides: %s (bench/echo_server.c), native %s; ring: an epollmod instance's ready ring, edge-triggered watches, harvested without a system call",
		 BENCH_SERVER, echo_env.own_base ? "a server of its own" :
		 "the native of echo.rate");
	snprintf(rows.ring_calls->notes, sizeof(rows.ring_calls->notes),
		 "counted as %s is", rows.calls->id);
	epb_result_log(rows.ring_rate);
	epb_result_log(rows.ring_calls);
}

void epb_case_echo(void)
{
	int loads[2] = { epb_cfg.echo_connections, ECHO_LIGHT };
	int nr_loads = loads[0] == ECHO_LIGHT ? 1 : 2;
	struct rlimit rl;
	long want = epb_cfg.big_n + 256L +
		    NR_ROLES * (long)(loads[0] > ECHO_LIGHT ? loads[0] :
						      ECHO_LIGHT);

	/* The pool, every connection of up to four servers, and slack. */
	if (getrlimit(RLIMIT_NOFILE, &rl) || (long)rl.rlim_cur < want)
		epb_raise_nofile(want);

	check_uring();
	/* The ring's and io_uring's baseline: native on the bench server. */
	echo_env.own_base = strcmp(epb_cfg.echo_server, BENCH_SERVER);
	epb_log("case 7: io_uring: %s%s", echo_env.uring ? "" : "skipped: ",
		echo_env.uring_what);
	echo_env.tracepoint = epb_sys_enter_id(echo_env.count_why,
					       sizeof(echo_env.count_why));
	if (echo_env.tracepoint < 0)
		epb_log("case 7: system calls not counted: %s",
			echo_env.count_why);

	/* Warm-up: the first start of a program is slow under emulation. */
	echo_rep(NULL, epb_cfg.echo_connections, 0, epb_cfg.echo_seconds / 4);
	for (int i = 0; i < nr_loads; i++)
		echo_load(loads[i], i > 0);
}
