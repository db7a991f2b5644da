/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the cases comparing several modes (native and epollmod variants)
 * share: the order the modes run in, and turning each repetition's samples
 * into paired rows.
 */
#ifndef EPB_WORKLOAD_H
#define EPB_WORKLOAD_H

#include <stddef.h>

#include "bench.h"

/*
 * A row: one double field of the sample struct, for the epollmod side's
 * @mode, paired with the same field of the native mode's sample.
 */
struct epb_row {
	struct epb_result *r;
	int mode;
	size_t field;		/* offsetof() the double in the sample */
};

/*
 * The mode the @i-th run of repetition @rep uses: each mode goes first in
 * turn, so a drift over the run favours none.
 */
static inline int epb_rep_mode(int rep, int i, int nmodes)
{
	return (rep + i) % nmodes;
}

/*
 * Adds one repetition to every row: @samples holds one sample of @size
 * bytes per mode, @native the native mode's index.
 */
void epb_rows_add(const struct epb_row *rows, int nrows, const void *samples,
		  size_t size, int native);

#endif /* EPB_WORKLOAD_H */
