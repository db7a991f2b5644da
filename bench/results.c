// SPDX-License-Identifier: GPL-2.0
/* Every measured quantity, its samples, and their JSON form. */
#include <stdio.h>
#include <string.h>

#include "bench.h"

#define EPB_MAX_RESULTS	64

static struct epb_result results[EPB_MAX_RESULTS];
static int nr_results;

struct epb_result *epb_result_new(int case_no, const char *id,
				  const char *title, const char *unit,
				  bool higher_is_better)
{
	struct epb_result *r;

	if (nr_results == EPB_MAX_RESULTS)
		epb_die("more than %d results", EPB_MAX_RESULTS);
	r = &results[nr_results++];
	r->case_no = case_no;
	snprintf(r->id, sizeof(r->id), "%s", id);
	snprintf(r->title, sizeof(r->title), "%s", title);
	snprintf(r->params, sizeof(r->params), "{}");
	r->unit = unit;
	r->higher_is_better = higher_is_better;
	for (int b = 0; b < EPB_NR_BACKENDS; b++)
		r->sides[b] = epb_backends[b]->name;
	return r;
}

void epb_result_add(struct epb_result *r, int backend, double value)
{
	if (r->count[backend] == EPB_MAX_REPS)
		epb_die("%s: more than %d samples", r->id, EPB_MAX_REPS);
	r->samples[backend][r->count[backend]++] = value;
}

static double median_of(const double *samples, int n)
{
	double v[EPB_MAX_REPS];

	memcpy(v, samples, n * sizeof(*v));
	return epb_percentile(v, n, 50);
}

/* One line of progress: the medians so far. */
void epb_result_log(const struct epb_result *r)
{
	double med[EPB_NR_BACKENDS];

	for (int b = 0; b < EPB_NR_BACKENDS; b++)
		med[b] = r->count[b] ? median_of(r->samples[b], r->count[b]) : 0;
	epb_log("  %-28s %s %12.1f  %s %12.1f  %s (median of %d)",
		r->title, r->sides[0], med[0], r->sides[1], med[1], r->unit,
		r->count[0]);
}

static void samples_json(FILE *out, const double *v, int n)
{
	fputc('[', out);
	for (int i = 0; i < n; i++)
		fprintf(out, "%s%.6g", i ? ", " : "", v[i]);
	fputc(']', out);
}

/* @s as the inside of a JSON string. */
void epb_json_string(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			fprintf(out, "\\u%04x", *s);
		else
			fputc(*s, out);
	}
}

void epb_results_json(FILE *out)
{
	fprintf(out, "  \"results\": [\n");
	for (int i = 0; i < nr_results; i++) {
		const struct epb_result *r = &results[i];

		fprintf(out, "    {\"id\": \"%s\", \"case\": %d, "
			"\"title\": \"%s\", \"unit\": \"%s\", "
			"\"higher_is_better\": %s,\n",
			r->id, r->case_no, r->title, r->unit,
			r->higher_is_better ? "true" : "false");
		fprintf(out, "     \"params\": %s,\n", r->params);
		if (r->notes[0]) {
			fprintf(out, "     \"notes\": \"");
			epb_json_string(out, r->notes);
			fprintf(out, "\",\n");
		}
		fprintf(out, "     \"sides\": [\"%s\", \"%s\"],\n",
			r->sides[0], r->sides[1]);
		fprintf(out, "     \"samples\": {");
		for (int b = 0; b < EPB_NR_BACKENDS; b++) {
			fprintf(out, "%s\"%s\": ", b ? ", " : "",
				r->sides[b]);
			samples_json(out, r->samples[b], r->count[b]);
		}
		fprintf(out, "}}%s\n", i + 1 < nr_results ? "," : "");
	}
	fprintf(out, "  ]\n");
}

long epb_calibrate(epb_sample_fn sample, const void *ctx)
{
	long iters = 16;
	uint64_t ns;

	while ((ns = sample(0, ctx, iters)) < 20000000)
		iters *= 4;
	iters = epb_scale_iters(iters, ns, epb_cfg.sample_ms);
	sample(1, ctx, iters / 4 + 1);
	return iters;
}

void epb_record_rep(struct epb_result *r, epb_sample_fn sample,
		    const void *ctx, long iters, int per_iter, int rep)
{
	for (int i = 0; i < EPB_NR_BACKENDS; i++) {
		int side = epb_order(rep, i);
		uint64_t ns = sample(side, ctx, iters);

		epb_result_add(r, side, (double)ns / iters / per_iter);
	}
}

long epb_measure(struct epb_result *r, epb_sample_fn sample, const void *ctx,
		 int per_iter)
{
	long iters = epb_calibrate(sample, ctx);

	for (int rep = 0; rep < epb_cfg.reps; rep++)
		epb_record_rep(r, sample, ctx, iters, per_iter, rep);
	return iters;
}
