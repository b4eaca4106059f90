/* SPDX-License-Identifier: MIT */
/*
 * ptxn/core/pte.h - the public entry API: constructors, predicates, modifiers and
 * single-slot accesses, on ptxn_pte_t (the stored entry) for the selected format.
 *
 * Every function is a thin, typed wrapper over the value-level ptxn_arch_* operations of
 * generic/pte.h and arch/<format>/pte.h. The semantics are Linux's pte_* helpers'; the
 * per-format notes are in docs/api.md.
 */
#ifndef PTXN_CORE_PTE_H
#define PTXN_CORE_PTE_H

#ifndef PTXN_CORE_INTERNAL
#error "Do not include ptxn/core/pte.h directly; include <ptxn/ptxn.h>"
#endif

PTXN_EXTERN_C_BEGIN

/* ---- values -------------------------------------------------------------------------- */
/* The entry's value in CPU bit order (converts from big-endian storage on PowerPC). */
PTXN_INLINE ptxn_pteval_t ptxn_pte_val(ptxn_pte_t pte)
{
	return ptxn_arch_pte_from_storage(pte.storage);
}

PTXN_INLINE ptxn_pte_t ptxn_make_pte(ptxn_pteval_t val)
{
	ptxn_pte_t pte;

	pte.storage = ptxn_arch_pte_to_storage(val);
	return pte;
}

/* Bit-for-bit equality (Linux pte_same). */
PTXN_INLINE bool ptxn_pte_same(ptxn_pte_t a, ptxn_pte_t b)
{
	return a.storage == b.storage;
}

/* ---- protections --------------------------------------------------------------------- */
/*
 * The flag combination this format can express for `flags`: write implies read
 * everywhere; execute implies read on x86 and ARM64 (PowerPC radix has execute-only
 * pages); no read, write or execute at all is PROT_NONE (0), whatever PTXN_PROT_USER says.
 */
PTXN_INLINE unsigned ptxn_prot_normalize(unsigned flags)
{
	return ptxn_arch_prot_normalize(flags);
}

/* Encode portable flags (PTXN_PROT_*) as this format's protection bits. */
PTXN_INLINE ptxn_prot_t ptxn_prot(unsigned flags)
{
	ptxn_prot_t prot;

	prot.bits = ptxn_arch_prot_bits(flags);
	return prot;
}

/* A protection from native bits (e.g. PTXN_X86_PCD added to ptxn_prot(...).bits). */
PTXN_INLINE ptxn_prot_t ptxn_make_prot(uint64_t native_bits)
{
	ptxn_prot_t prot;

	prot.bits = native_bits;
	return prot;
}

PTXN_INLINE uint64_t ptxn_prot_val(ptxn_prot_t prot)
{
	return prot.bits;
}

/* ---- constructors and frame numbers ---------------------------------------------------- */
/* Largest frame number the format can hold. */
#define PTXN_PFN_MAX PTXN_ARCH_PFN_MAX
#define PTXN_PAGE_SHIFT PTXN_ARCH_PAGE_SHIFT
#define PTXN_PAGE_SIZE (UINT64_C(1) << PTXN_ARCH_PAGE_SHIFT)

PTXN_INLINE bool ptxn_pfn_valid(uint64_t pfn)
{
	return pfn <= PTXN_PFN_MAX;
}

/* A present (or PROT_NONE) entry mapping pfn, old and clean. Requires ptxn_pfn_valid(pfn). */
PTXN_INLINE ptxn_pte_t ptxn_pfn_pte(uint64_t pfn, ptxn_prot_t prot)
{
	ptxn_debug_pfn(pfn);
	return ptxn_make_pte(ptxn_arch_pfn_pte(pfn, prot.bits));
}

PTXN_INLINE uint64_t ptxn_pte_pfn(ptxn_pte_t pte)
{
	return ptxn_arch_pte_pfn(ptxn_pte_val(pte));
}

/* ---- predicates ---------------------------------------------------------------------- */
PTXN_INLINE bool ptxn_pte_none(ptxn_pte_t pte)
{
	return ptxn_arch_pte_none(ptxn_pte_val(pte));
}

/* Present to software: mapped, including PROT_NONE and PowerPC's invalid-for-now state. */
PTXN_INLINE bool ptxn_pte_present(ptxn_pte_t pte)
{
	return ptxn_arch_pte_present(ptxn_pte_val(pte));
}

/* Usable by the MMU right now (P / valid / V). */
PTXN_INLINE bool ptxn_pte_hw_valid(ptxn_pte_t pte)
{
	return ptxn_arch_pte_hw_valid(ptxn_pte_val(pte));
}

PTXN_INLINE bool ptxn_pte_young(ptxn_pte_t pte)
{
	return ptxn_arch_pte_young(ptxn_pte_val(pte));
}

/* Dirty in any encoding: hardware dirty, or saved/software dirty (x86 SavedDirty, ARM64 bit 55). */
PTXN_INLINE bool ptxn_pte_dirty(ptxn_pte_t pte)
{
	return ptxn_arch_pte_dirty(ptxn_pte_val(pte));
}

PTXN_INLINE bool ptxn_pte_write(ptxn_pte_t pte)
{
	return ptxn_arch_pte_write(ptxn_pte_val(pte));
}

PTXN_INLINE bool ptxn_pte_exec(ptxn_pte_t pte)
{
	return ptxn_arch_pte_exec(ptxn_pte_val(pte));
}

/* The portable flags an entry grants (0 for PROT_NONE and non-present entries). */
PTXN_INLINE unsigned ptxn_pte_prot_flags(ptxn_pte_t pte)
{
	return ptxn_arch_pte_prot_flags(ptxn_pte_val(pte));
}

/*
 * No MMU can write this entry any more (see generic/pte.h): a plain store is safe. Judged
 * with no PTXN_MM_* promise; a transaction also counts its mm's (PTXN_MM_X86_CET).
 */
PTXN_INLINE bool ptxn_pte_quiescent(ptxn_pte_t pte)
{
	return ptxn_arch_pte_quiescent(0, ptxn_pte_val(pte));
}

/* ---- modifiers ----------------------------------------------------------------------- */
PTXN_INLINE ptxn_pte_t ptxn_pte_mkold(ptxn_pte_t pte)
{
	return ptxn_make_pte(ptxn_arch_pte_mkold(ptxn_pte_val(pte)));
}

PTXN_INLINE ptxn_pte_t ptxn_pte_mkyoung(ptxn_pte_t pte)
{
	return ptxn_make_pte(ptxn_arch_pte_mkyoung(ptxn_pte_val(pte)));
}

PTXN_INLINE ptxn_pte_t ptxn_pte_mkclean(ptxn_pte_t pte)
{
	return ptxn_make_pte(ptxn_arch_pte_mkclean(ptxn_pte_val(pte)));
}

PTXN_INLINE ptxn_pte_t ptxn_pte_mkdirty(ptxn_pte_t pte)
{
	return ptxn_make_pte(ptxn_arch_pte_mkdirty(ptxn_pte_val(pte)));
}

PTXN_INLINE ptxn_pte_t ptxn_pte_wrprotect(ptxn_pte_t pte)
{
	return ptxn_make_pte(ptxn_arch_pte_wrprotect(ptxn_pte_val(pte)));
}

PTXN_INLINE ptxn_pte_t ptxn_pte_mkwrite(ptxn_pte_t pte)
{
	return ptxn_make_pte(ptxn_arch_pte_mkwrite(ptxn_pte_val(pte)));
}

/* Replace exactly the protection; keep frame, A/D state and software bits (Linux pte_modify). */
PTXN_INLINE ptxn_pte_t ptxn_pte_modify(ptxn_pte_t pte, ptxn_prot_t newprot)
{
	return ptxn_make_pte(ptxn_arch_pte_modify(ptxn_pte_val(pte), newprot.bits));
}

/* The same entry one page further on (Linux pte_advance_pfn), for batched commits. */
PTXN_INLINE ptxn_pte_t ptxn_pte_advance_pfn(ptxn_pte_t pte, uint64_t nr)
{
	ptxn_pteval_t v = ptxn_pte_val(pte);
	uint64_t pfn = ptxn_arch_pte_pfn(v) + nr;
	uint64_t field = pfn << PTXN_ARCH_PTE_PFN_SHIFT;

	if (ptxn_arch_pte_pfn_inverted(v))
		field = ~field;
	return ptxn_make_pte((v & ~PTXN_ARCH_PTE_PFN_MASK) | (field & PTXN_ARCH_PTE_PFN_MASK));
}

/* ---- single slots ---------------------------------------------------------------------- */
/* Single-copy-atomic read of a slot: never a torn entry, also on 32-bit PAE. */
PTXN_INLINE ptxn_pte_t ptxn_ptep_get(const ptxn_pte_t *ptep)
{
	ptxn_pte_t pte;

	pte.storage = ptxn_arch_slot_load(&ptep->storage);
	return pte;
}

/*
 * Install an entry with a single-copy-atomic store, whatever the slot held. No protection
 * against the hardware: an A/D update racing with it is overwritten. Use the transaction
 * API to change a live entry.
 */
PTXN_INLINE void ptxn_set_pte(ptxn_pte_t *ptep, ptxn_pte_t pte)
{
	ptxn_arch_slot_store(&ptep->storage, pte.storage);
}

/* Empty a slot (the MMU-valid half first on 32-bit hosts). */
PTXN_INLINE void ptxn_pte_clear(ptxn_pte_t *ptep)
{
	ptxn_arch_slot_clear(&ptep->storage, ptxn_arch_pte_to_storage(PTXN_ARCH_PTE_HW_VALID));
}

/* Atomically empty a slot and return what it held, hardware updates included. */
PTXN_INLINE ptxn_pte_t ptxn_ptep_get_and_clear(ptxn_pte_t *ptep)
{
	ptxn_pte_t pte;

	pte.storage = ptxn_arch_slot_xchg(&ptep->storage, 0);
	return pte;
}

/* Atomically clear the young bit; returns whether it was set (Linux ptep_test_and_clear_young). */
PTXN_INLINE bool ptxn_ptep_test_and_clear_young(ptxn_pte_t *ptep)
{
	uint64_t young = ptxn_arch_pte_to_storage(PTXN_ARCH_PTE_YOUNG);

	return (ptxn_arch_slot_update(&ptep->storage, young, 0) & young) != 0;
}

/*
 * What a fault handler does where the MMU does not manage Accessed/Dirty itself (ARM64
 * with TCR_EL1.HA/HD off: Access-flag and permission faults; PowerPC implementations that
 * raise a storage interrupt instead of updating R/C): atomically mark the entry young,
 * and dirty for a write. It only ever adds the same state the hardware would, with the
 * same compare-and-swap, so it composes with open transactions exactly as a hardware
 * update does and needs no PTE lock. Returns false, changing nothing, when the entry is
 * not hardware-valid (a transaction may have it broken: retry the access) or does not
 * allow the access (a real fault).
 *
 * ptxn_ptep_mark_accessed_old() does the same and, when it returns true and old is not
 * NULL, stores in *old the entry exactly as it was when this call's compare-and-swap took
 * effect (or as found, if it already had the bits): old vs. old made young (and dirty)
 * is precisely what this call changed. An emulator's ledger needs that (hwemu/).
 */
PTXN_INLINE bool ptxn_ptep_mark_accessed_old(ptxn_pte_t *ptep, bool write, ptxn_pte_t *old)
{
	uint64_t seen = ptxn_arch_slot_load(&ptep->storage);

	for (;;) {
		ptxn_pteval_t v = ptxn_arch_pte_from_storage(seen), next;

		if (!ptxn_arch_pte_hw_valid(v) || (write && !ptxn_arch_pte_write(v)))
			return false;
		if (old)
			old->storage = seen;
		next = ptxn_arch_pte_mkyoung(v);
		if (write)
			next = ptxn_arch_pte_mkdirty(next);
		if (next == v)
			return true;
		if (ptxn_arch_slot_cmpxchg(&ptep->storage, &seen, ptxn_arch_pte_to_storage(next)))
			return true;
	}
}

PTXN_INLINE bool ptxn_ptep_mark_accessed(ptxn_pte_t *ptep, bool write)
{
	return ptxn_ptep_mark_accessed_old(ptep, write, NULL);
}

PTXN_EXTERN_C_END

#endif /* PTXN_CORE_PTE_H */
