// SPDX-License-Identifier: GPL-2.0
/*
 * epbench [options]: every case on native epoll and on epollmod, in this
 * boot, interleaved and repeated. Progress goes to stdout; the results go
 * to --json FILE (default stdout) as one JSON document that
 * bench/report.py turns into the table, the ratios and the plots.
 *
 *   --reps N             repetitions of every case (default 11)
 *   --sample-ms MS       length of one timed sample (default 100)
 *   --big-n N            the largest interest set (default 100000)
 *   --harvest-n N        watched fds in the harvest case (default 1000)
 *   --herd-threads N     default 16
 *   --echo-seconds S     rounds per backend in one echo sample (1.5)
 *   --echo-connections N default 1000
 *   --echo-server CMD    the echo server, see echo.c
 *   --rearm-k K          kqueue re-arm: fds made ready per round (default 1)
 *   --only LIST          cases to run, comma-separated:
 *                        floor,harvest,idle,ctl,latency,herd,echo,wrapper,
 *                        kqueue,close,minwait,fairness,ring
 *                        (floor is the cost of an empty wait; ctl is 3 and 6;
 *                        wrapper is the C++ wrapper against the C ABI;
 *                        kqueue is 8 to 10, the kqueue face, and its floor;
 *                        close is the final-fput probe's cost to a close();
 *                        minwait is 11, min-wait batching at a fixed load;
 *                        fairness is 12, EPOLLEXCLUSIVE spread, FIFO option)
 *   --json FILE
 *
 * Needs root (slabinfo, fd limits) and the epollmod module loaded.
 */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bench.h"

struct epb_config epb_cfg = {
	.reps			= 11,
	.sample_ms		= 100,
	.big_n			= 100000,
	.harvest_n		= 1000,
	.herd_threads		= 16,
	.echo_seconds		= 1.5,
	.echo_connections	= 1000,
	.echo_server		= "{bindir}/echo-server --backend {backend} --port {port}",
	.rearm_k		= 1,
};

int *epb_pool;
char epb_bindir[PATH_MAX];

/*
 * Every case runs on CPU 0 (the echo server excepted, see echo.c): under
 * TCG a wakeup that crosses vCPUs costs whatever QEMU takes to kick an
 * idle vCPU, which swamps what the kernel does, and a thread that
 * migrates between samples changes what they measure.
 */
static const struct {
	const char *name;
	void (*run)(void);
} cases[] = {
	{ "floor", epb_case_floor },
	{ "harvest", epb_case_harvest },
	{ "idle", epb_case_idle },
	{ "ctl", epb_case_ctl_and_memory },
	{ "latency", epb_case_latency },
	{ "herd", epb_case_herd },
	{ "echo", epb_case_echo },
	{ "wrapper", epb_case_wrapper },
	{ "kqueue", epb_case_kqueue },
	{ "minwait", epb_case_minwait },
	{ "fairness", epb_case_fairness },
	{ "ring", epb_case_ring },
	/* Last: it unloads and loads the module. */
	{ "close", epb_case_close },
};
#define NR_CASES (sizeof(cases) / sizeof(cases[0]))

/* The first line of @path, without its newline; "" if unreadable. */
static void read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");

	buf[0] = '\0';
	if (!f)
		return;
	if (fgets(buf, len, f))
		buf[strcspn(buf, "\n")] = '\0';
	fclose(f);
}


static bool selected(const char *only, const char *name)
{
	size_t len = strlen(name);

	if (!only)
		return true;
	for (const char *p = only; (p = strstr(p, name)); p += len)
		if ((p == only || p[-1] == ',') &&
		    (p[len] == '\0' || p[len] == ','))
			return true;
	return false;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: epbench [--reps N] [--sample-ms MS] [--big-n N] [--harvest-n N]\n"
		"               [--herd-threads N] [--echo-seconds S] [--echo-connections N]\n"
		"               [--echo-server CMD] [--rearm-k K] [--only LIST]\n"
		"               [--json FILE]\n");
	exit(2);
}

static void env_field(FILE *out, const char *key, const char *value,
		      bool last)
{
	fprintf(out, "    \"%s\": \"", key);
	epb_json_string(out, value);
	fprintf(out, "\"%s\n", last ? "" : ",");
}

static void write_json(FILE *out, const double *seconds, double total)
{
	char buf[1024];
	struct utsname u;

	uname(&u);
	fprintf(out, "{\n  \"schema\": 1,\n  \"environment\": {\n");
	env_field(out, "kernel", u.release, false);
	read_line("/proc/cmdline", buf, sizeof(buf));
	env_field(out, "cmdline", buf, false);
	read_line("/sys/devices/system/clocksource/clocksource0/current_clocksource",
		  buf, sizeof(buf));
	env_field(out, "clocksource", buf, false);
	env_field(out, "echo_server", epb_cfg.echo_server, false);
	fprintf(out, "    \"cpus\": %ld,\n", sysconf(_SC_NPROCESSORS_ONLN));
	fprintf(out, "    \"reps\": %d,\n", epb_cfg.reps);
	fprintf(out, "    \"sample_ms\": %g,\n", epb_cfg.sample_ms);
	fprintf(out, "    \"seconds\": %.1f,\n", total);
	fprintf(out, "    \"seconds_per_case\": {");
	for (unsigned int i = 0, n = 0; i < NR_CASES; i++)
		if (selected(epb_cfg.only, cases[i].name))
			fprintf(out, "%s\"%s\": %.1f", n++ ? ", " : "",
				cases[i].name, seconds[i]);
	fprintf(out, "}\n  },\n");
	epb_results_json(out);
	fprintf(out, "}\n");
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "reps", required_argument, NULL, 'r' },
		{ "sample-ms", required_argument, NULL, 's' },
		{ "big-n", required_argument, NULL, 'n' },
		{ "harvest-n", required_argument, NULL, 'k' },
		{ "herd-threads", required_argument, NULL, 't' },
		{ "echo-seconds", required_argument, NULL, 'e' },
		{ "echo-connections", required_argument, NULL, 'c' },
		{ "echo-server", required_argument, NULL, 'x' },
		{ "rearm-k", required_argument, NULL, 'K' },
		{ "only", required_argument, NULL, 'o' },
		{ "json", required_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *json_path = NULL;
	double seconds[NR_CASES] = { 0 };
	cpu_set_t cpu0;
	char exe[PATH_MAX];
	uint64_t start = epb_now_ns();
	FILE *out = stdout;
	ssize_t len;
	int opt;

	while ((opt = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (opt) {
		case 'r': epb_cfg.reps = atoi(optarg); break;
		case 's': epb_cfg.sample_ms = atof(optarg); break;
		case 'n': epb_cfg.big_n = atoi(optarg); break;
		case 'k': epb_cfg.harvest_n = atoi(optarg); break;
		case 't': epb_cfg.herd_threads = atoi(optarg); break;
		case 'e': epb_cfg.echo_seconds = atof(optarg); break;
		case 'c': epb_cfg.echo_connections = atoi(optarg); break;
		case 'x': epb_cfg.echo_server = optarg; break;
		case 'K': epb_cfg.rearm_k = atoi(optarg); break;
		case 'o': epb_cfg.only = optarg; break;
		case 'j': json_path = optarg; break;
		default: usage();
		}
	}
	if (optind != argc || epb_cfg.reps < 1 ||
	    epb_cfg.reps > EPB_MAX_REPS || epb_cfg.big_n < 1 ||
	    epb_cfg.harvest_n < 64 || epb_cfg.herd_threads < 1 ||
	    epb_cfg.echo_connections < 1 || epb_cfg.sample_ms <= 0 ||
	    epb_cfg.rearm_k < 1)
		usage();

	len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len < 0)
		epb_die("/proc/self/exe: %m");
	exe[len] = '\0';
	snprintf(epb_bindir, sizeof(epb_bindir), "%s", dirname(exe));

	/* The pool, the echo connections (two servers') and some slack. */
	epb_raise_nofile(epb_cfg.big_n + 2L * epb_cfg.echo_connections + 1024);
	epb_pool = epb_eventfds(epb_cfg.big_n);

	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	if (sched_setaffinity(0, sizeof(cpu0), &cpu0))
		epb_die("sched_setaffinity: %m");
	for (unsigned int i = 0; i < NR_CASES; i++) {
		uint64_t case_start = epb_now_ns();

		if (!selected(epb_cfg.only, cases[i].name))
			continue;
		cases[i].run();
		seconds[i] = (epb_now_ns() - case_start) / 1e9;
		epb_log("  (%.0f s)", seconds[i]);
	}

	if (json_path) {
		out = fopen(json_path, "w");
		if (!out)
			epb_die("%s: %m", json_path);
	}
	write_json(out, seconds, (epb_now_ns() - start) / 1e9);
	if (out != stdout && fclose(out))
		epb_die("%s: %m", json_path);
	epb_close_all(epb_pool, epb_cfg.big_n);
	return 0;
}
