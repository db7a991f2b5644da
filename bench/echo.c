// SPDX-License-Identifier: GPL-2.0
/*
 * Case 7: a real workload. Echo servers run as processes of their own,
 * one per backend, and this load generator drives many TCP connections to
 * each over loopback: a round sends one 64-byte request on every
 * connection of one server, then reads every reply. Rounds alternate
 * between the two servers: requests per second of round time, per
 * backend. The client uses plain blocking sockets, the same for both;
 * only the servers' event loops differ. The client stays on CPU 0 and the
 * servers run on the last CPU, so that nothing migrates between rounds.
 *
 * The server is a command template (--echo-server), so any server can be
 * plugged in: {backend} becomes native or epollmod, {port} the TCP port,
 * {bindir} the directory of epbench. The default is bench/echo_server.c.
 */
#include <netinet/in.h>
#include <sched.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define ECHO_PORT	7707		/* native's; epollmod's is the next */
#define ECHO_MSG	64

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

static pid_t start_server(const char *backend, int port)
{
	char *cmd = expand(epb_cfg.echo_server, backend, port);
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

/* One server and the client's connections to it. */
struct echo_side {
	pid_t server;
	int port;
	int *conns;
	long requests;			/* echoed so far */
	uint64_t ns;			/* spent on them */
};

static void echo_side_start(struct echo_side *side, int b)
{
	int nconn = epb_cfg.echo_connections;

	side->port = ECHO_PORT + b;
	side->server = start_server(epb_backends[b]->name, side->port);
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
	for (int i = 0; i < epb_cfg.echo_connections; i++)
		close(side->conns[i]);
	free(side->conns);
	stop_server(side->server);
}

/* One round: a request on every connection, then every reply. */
static void echo_round(struct echo_side *side)
{
	int nconn = epb_cfg.echo_connections;
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

/*
 * One repetition: both servers run side by side, each with its own
 * connections, and the client alternates rounds between them until each
 * has had @seconds of rounds. Changes in the host's load hit both alike.
 */
static void echo_rep(struct epb_result *r, int rep, double seconds)
{
	struct echo_side sides[EPB_NR_BACKENDS];
	uint64_t budget = seconds * 1e9;

	for (int b = 0; b < EPB_NR_BACKENDS; b++)
		echo_side_start(&sides[b], b);
	for (int round = 0; sides[EPB_NATIVE].ns < budget ||
			    sides[EPB_EPOLLMOD].ns < budget; round++)
		for (int i = 0; i < EPB_NR_BACKENDS; i++)
			echo_round(&sides[epb_order(rep + round, i)]);
	for (int b = 0; b < EPB_NR_BACKENDS; b++) {
		echo_side_stop(&sides[b]);
		if (r)
			epb_result_add(r, b, sides[b].requests * 1e9 /
					     sides[b].ns);
	}
}

void epb_case_echo(void)
{
	struct epb_result *r;

	epb_log("case 7: echo server, %d connections, %.1f s per sample",
		epb_cfg.echo_connections, epb_cfg.echo_seconds);
	r = epb_result_new(7, "echo.rate", "echo requests/s", "req/s", true);
	/* Warm-up: the first start of a program is slow under emulation. */
	echo_rep(NULL, 0, epb_cfg.echo_seconds / 4);
	for (int rep = 0; rep < epb_cfg.reps; rep++)
		echo_rep(r, rep, epb_cfg.echo_seconds);
	snprintf(r->params, sizeof(r->params),
		 "{\"connections\": %d, \"seconds_per_sample\": %.1f, \"request_bytes\": %d}",
		 epb_cfg.echo_connections, epb_cfg.echo_seconds, ECHO_MSG);
	snprintf(r->notes, sizeof(r->notes), "server: %s", epb_cfg.echo_server);
	epb_result_log(r);
}
