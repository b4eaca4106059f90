/* SPDX-License-Identifier: MIT */
/*
 * tests/test_format_rows.h - the row types of test_format.c's tables: one struct per
 * kind of check (protection, frame, predicates, modifiers, pte_modify, advance, A/D fold,
 * stored bytes). Each format's expected values are in test_format_rows_<format>.h.
 */
#ifndef PTXN_TESTS_TEST_FORMAT_ROWS_H
#define PTXN_TESTS_TEST_FORMAT_ROWS_H

#include <ptxn/ptxn.h>

/* ---- table row types -------------------------------------------------------------------- */
struct prot_row {
	unsigned flags;
	unsigned normalized; /* ptxn_prot_normalize(flags) */
	uint64_t bits;       /* ptxn_prot(flags).bits */
};

struct pfn_row {
	uint64_t pfn;
	unsigned flags;
	uint64_t pte; /* ptxn_pfn_pte(pfn, ptxn_prot(flags)) */
};

#define ANY_PFN UINT64_MAX /* the frame of an empty entry means nothing: not compared */

struct pred_row {
	uint64_t pte;
	unsigned char none, present, hw_valid, young, dirty, write, exec;
	unsigned prot_flags;
	unsigned char quiescent;
	uint64_t pfn;
};

enum mod_op { MKOLD, MKYOUNG, MKCLEAN, MKDIRTY, WRPROTECT, MKWRITE };
static const char *const mod_op_name[] = { "mkold", "mkyoung", "mkclean",
					   "mkdirty", "wrprotect", "mkwrite" };

struct mod_row {
	enum mod_op op;
	uint64_t in, out;
};

struct modify_row {
	uint64_t in;
	unsigned flags; /* new protection ptxn_prot(flags) */
	uint64_t out;
};

struct advance_row {
	uint64_t in, nr, out;
};

/* merge_hw(next, start, now) and strip_hw(in): the transaction's A/D fold (generic/pte.h). */
struct merge_row {
	uint64_t next, start, now, out;
};
struct strip_row {
	uint64_t in, out;
};

/* The 8 bytes of a stored slot, in memory order, as the MMU reads them. */
struct bytes_row {
	uint64_t pte;
	unsigned char bytes[8];
};

#define ROWS(t) (sizeof(t) / sizeof((t)[0]))

#endif /* PTXN_TESTS_TEST_FORMAT_ROWS_H */
