/* SPDX-License-Identifier: MIT */
/*
 * ptxn/core/debug.h - contract checking hooks of the transaction API.
 *
 * Without PTXN_DEBUG every hook below is an empty inline function: release builds pay
 * nothing. (The checks themselves are issue #10's work; this file fixes where they sit.)
 */
#ifndef PTXN_CORE_DEBUG_H
#define PTXN_CORE_DEBUG_H

#ifndef PTXN_CORE_INTERNAL
#error "Do not include ptxn/core/debug.h directly; include <ptxn/ptxn.h>"
#endif

PTXN_EXTERN_C_BEGIN

PTXN_INLINE void ptxn_debug_txn_start(ptxn_mm_t *mm, uintptr_t addr, const ptxn_pte_t *ptep,
				      ptxn_pte_t old_pte, unsigned int nr)
{
	(void)mm, (void)addr, (void)ptep, (void)old_pte, (void)nr;
}

PTXN_INLINE void ptxn_debug_txn_commit(ptxn_mm_t *mm, uintptr_t addr, const ptxn_pte_t *ptep,
				       ptxn_pte_t old_pte, unsigned int nr)
{
	(void)mm, (void)addr, (void)ptep, (void)old_pte, (void)nr;
}

/* A transaction needed a TLB flush (break-before-make, erratum, coprocessor) and mm has no hook. */
PTXN_INLINE void ptxn_debug_missing_flush(ptxn_mm_t *mm, uintptr_t addr)
{
	(void)mm, (void)addr;
}

PTXN_EXTERN_C_END

#endif /* PTXN_CORE_DEBUG_H */
