/* SPDX-License-Identifier: MIT */
/*
 * tests/broken_merge.h - the deliberate bug of the "bite" builds, which the suites must
 * catch: generic/pte.h's merge rule (an overridable operation) replaced by one that merges
 * young but forgets a dirty update made since start. Used by tests/test_exhaustive.c
 * (EXPLORE_BROKEN_MERGE) and fuzz/fuzz_common.h (PTXN_FUZZ_BROKEN_MERGE).
 *
 * Include it twice: before <ptxn/ptxn.h> it announces the override and declares it, so
 * that core/transaction.h's real commit path calls it; after, it defines it (the format's
 * masks exist by then).
 */
#include <stdint.h>

#ifndef PTXN_PTXN_H
#ifndef PTXN_TESTS_BROKEN_MERGE_DECLARED
#define PTXN_TESTS_BROKEN_MERGE_DECLARED
#define PTXN_HAVE_ARCH_PTE_MERGE_HW
static inline uint64_t ptxn_arch_pte_merge_hw(uint64_t next, uint64_t start, uint64_t now);
#endif
#elif !defined(PTXN_TESTS_BROKEN_MERGE_DEFINED)
#define PTXN_TESTS_BROKEN_MERGE_DEFINED
static inline uint64_t ptxn_arch_pte_merge_hw(uint64_t next, uint64_t start, uint64_t now)
{
	if (ptxn_arch_pte_young(now) && !ptxn_arch_pte_young(start))
		next = ptxn_arch_pte_mkyoung(next);
	return next;
}
#endif
