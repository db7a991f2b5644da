// SPDX-License-Identifier: GPL-2.0
#include <string.h>

#include "workload.h"

static double sample_field(const void *samples, size_t size, int mode,
			   size_t field)
{
	double v;

	memcpy(&v, (const char *)samples + mode * size + field, sizeof(v));
	return v;
}

void epb_rows_add(const struct epb_row *rows, int nrows, const void *samples,
		  size_t size, int native)
{
	for (int i = 0; i < nrows; i++) {
		const struct epb_row *row = &rows[i];

		epb_result_add(row->r, EPB_NATIVE,
			       sample_field(samples, size, native,
					    row->field));
		epb_result_add(row->r, EPB_EPOLLMOD,
			       sample_field(samples, size, row->mode,
					    row->field));
	}
}
