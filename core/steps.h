/* SPDX-License-Identifier: MIT */
/*
 * ptxn/core/steps.h - the slot-level steps the transactions of core/transaction.h are made
 * of (break, merge, install, flush), and the contiguous-block rule built from them.
 * Values in storage order in and out unless named ptxn_pteval_t.
 */
#ifndef PTXN_CORE_STEPS_H
#define PTXN_CORE_STEPS_H

#ifndef PTXN_CORE_INTERNAL
#error "Do not include ptxn/core/steps.h directly; include <ptxn/ptxn.h>"
#endif

PTXN_EXTERN_C_BEGIN

#define PTXN_STEPS_STORAGE(v) ptxn_arch_pte_to_storage(v)

/* ---- slot-level steps (storage order in, storage order out) ----------------------------- */

/* Make the entry unusable by the MMU; returns what it held, hardware updates included. */
PTXN_INLINE uint64_t ptxn_txn_break(ptxn_pte_t *ptep)
{
#ifdef PTXN_ARCH_PTE_BREAK_MARK
	return ptxn_arch_slot_update(&ptep->storage,
				     PTXN_STEPS_STORAGE(PTXN_ARCH_PTE_HW_VALID | PTXN_ARCH_PTE_MMU_SETS),
				     PTXN_STEPS_STORAGE(PTXN_ARCH_PTE_BREAK_MARK));
#else
	return ptxn_arch_slot_xchg(&ptep->storage, 0);
#endif
}

/*
 * Compare-and-swap next into the slot (seen: its value as last loaded, storage order),
 * keeping every Accessed/Dirty state the slot holds: merge_hw against a baseline with
 * none (strip_hw of what is there). What a batch that left its entries live keeps (Xen's
 * PRESERVE_AD), and what an unbreak keeps of a late write-back.
 */
PTXN_INLINE void ptxn_txn_cas_keep_held_ad(ptxn_mm_t *mm, ptxn_pte_t *ptep, uint64_t seen,
					   ptxn_pteval_t next)
{
	uint64_t desired;

	for (;;) {
		ptxn_pteval_t now = ptxn_arch_pte_from_storage(seen);

		desired = PTXN_STEPS_STORAGE(ptxn_arch_pte_merge_hw(next, ptxn_arch_pte_strip_hw(now), now));
		if (ptxn_arch_slot_cmpxchg(&ptep->storage, &seen, desired))
			return;
		PTXN_STAT_ADD(mm, merge_retries, 1);
	}
}

/*
 * The same where next is young and dirty (mkyoung and mkdirty leave it as it is): every
 * A/D state the slot can hold is next's already, so the value to install never depends on
 * the slot. A failure (the MMU changed the slot) retries from the value found.
 */
PTXN_INLINE void ptxn_txn_cas_keep_held_ad_absorbing(ptxn_mm_t *mm, ptxn_pte_t *ptep, uint64_t seen,
						     ptxn_pteval_t next)
{
	const uint64_t desired = PTXN_STEPS_STORAGE(next);

	while (!ptxn_arch_slot_cmpxchg(&ptep->storage, &seen, desired))
		PTXN_STAT_ADD(mm, merge_retries, 1);
}

/*
 * AUTO's plain store over old (seen, in storage order) where value absorbs every A/D update
 * the MMU may still make to old before the store lands. A 64-bit host stores the entry
 * whole. i686 writes one changed half only over a quiescent old (ptxn_arch_slot_replace):
 * over a live one the half left alone would keep what the MMU writes there, and on ARM64
 * the hardware's dirty is a *cleared* AP[2] (bit 7) - kept beside a read-only value's new
 * upper half, it leaves the entry writable (hwemu_race_arm64 on i686 found it). A live old
 * takes the single-copy-atomic whole-entry store instead (CMPXCHG8B).
 */
PTXN_INLINE void ptxn_txn_store_absorbing(unsigned int mm_flags, ptxn_pte_t *ptep, uint64_t seen,
					  uint64_t value)
{
#ifdef PTXN_HAVE_ARCH_SLOT_REPLACE
	if (ptxn_arch_pte_quiescent(mm_flags, ptxn_arch_pte_from_storage(seen))) {
		ptxn_arch_slot_replace(&ptep->storage, seen, value);
		return;
	}
#else
	(void)mm_flags;
	(void)seen;
#endif
	ptxn_arch_slot_store(&ptep->storage, value);
}

/* Install next into a broken slot. */
PTXN_INLINE void ptxn_txn_unbreak(ptxn_mm_t *mm, ptxn_pte_t *ptep, ptxn_pteval_t next)
{
	if (PTXN_ARCH_MMU_LATE_WRITEBACK) {
		/* PowerPC: R/C were cleared at the break, so any found now came late: keep them. */
		ptxn_txn_cas_keep_held_ad(mm, ptep, ptxn_arch_slot_load(&ptep->storage), next);
		return;
	}
	/* Nothing can have written the slot: one store (two ordered halves on i686). */
	ptxn_arch_slot_install(&ptep->storage, PTXN_STEPS_STORAGE(next),
			       PTXN_STEPS_STORAGE(PTXN_ARCH_PTE_HW_VALID));
}

/*
 * Watched slot: compare-and-swap from the value start saw, keeping the Accessed/Dirty
 * updates made since start (merge_hw against start: A/D start already had are next's to
 * keep or drop, so one transaction can age or clean). The first attempt assumes the
 * hardware did nothing; each failure returns the current value, whose new A/D bits
 * (relative to start) are folded into next before retrying.
 */
/* The retries, out of line: they only run when the MMU updated the entry since start. */
PTXN_NOINLINE void ptxn_txn_cas_keep_ad_since_start_retry(ptxn_mm_t *mm, ptxn_pte_t *ptep,
							  ptxn_pteval_t start, ptxn_pteval_t next,
							  uint64_t expected)
{
	uint64_t desired;

	do {
		PTXN_STAT_ADD(mm, merge_retries, 1);
		desired = PTXN_STEPS_STORAGE(ptxn_arch_pte_merge_hw(
			next, start, ptxn_arch_pte_from_storage(expected)));
	} while (!ptxn_arch_slot_cmpxchg(&ptep->storage, &expected, desired));
}

PTXN_INLINE void ptxn_txn_cas_keep_ad_since_start(ptxn_mm_t *mm, ptxn_pte_t *ptep,
						 ptxn_pteval_t start, ptxn_pteval_t next)
{
	uint64_t expected = PTXN_STEPS_STORAGE(start);

	if (PTXN_UNLIKELY(!ptxn_arch_slot_cmpxchg(&ptep->storage, &expected,
						   PTXN_STEPS_STORAGE(next))))
		ptxn_txn_cas_keep_ad_since_start_retry(mm, ptep, start, next, expected);
}

/*
 * strip_hw on a live slot, atomically; returns what it held. A later commit against that
 * value finds every A/D in the slot new (pvemu's folio start, docs/paravirt.md).
 */
PTXN_INLINE uint64_t ptxn_txn_strip_hw(ptxn_pte_t *ptep)
{
	uint64_t seen;

	if (PTXN_ARCH_PTE_MMU_CLEARS == 0) /* the MMU only sets bits: one atomic and-not */
		return ptxn_arch_slot_update(&ptep->storage,
					     PTXN_STEPS_STORAGE(PTXN_ARCH_PTE_MMU_SETS), 0);
	seen = ptxn_arch_slot_load(&ptep->storage);
	for (;;) {
		ptxn_pteval_t now = ptxn_arch_pte_from_storage(seen);
		uint64_t old = seen;

		if (ptxn_arch_slot_cmpxchg(&ptep->storage, &seen, PTXN_STEPS_STORAGE(ptxn_arch_pte_strip_hw(now))))
			return old;
	}
}

PTXN_INLINE void ptxn_txn_flush(ptxn_mm_t *mm, uintptr_t start, uintptr_t end,
				const ptxn_pte_t *ptep)
{
	PTXN_STAT_ADD(mm, tlb_flushes, 1);
	if (mm->flush_tlb_range)
		mm->flush_tlb_range(mm, start, end);
	else
		ptxn_debug_missing_flush(mm, start, ptep);
}

/* Whether start left the entry broken: a pure function of (mm, old), so commit agrees. */
PTXN_INLINE bool ptxn_txn_started_broken(const ptxn_mm_t *mm, ptxn_pteval_t old)
{
	return mm->strategy == PTXN_STRATEGY_CLEAR || ptxn_arch_start_needs_break(mm->flags, old);
}

/* ---- a folio's young and dirty state, without a branch per entry ------------------------ */
/*
 * The union of the entries' A/D: the OR of their values is it where A/D are bits (x86 A,
 * D, SavedDirty; PowerPC R, C; ARM64 AF and bit 55); ARM64's hardware dirtiness is a
 * state of two bits (DBM with AP[2] clear), taken per entry.
 */
struct ptxn_txn_ad {
	ptxn_pteval_t any;  /* OR of the entries */
	bool hw_dirty;      /* some entry is hardware-dirty (where the MMU clears a bit for it) */
};

PTXN_INLINE void ptxn_txn_ad_fold(struct ptxn_txn_ad *ad, ptxn_pteval_t v)
{
	ad->any |= v;
	if (PTXN_ARCH_PTE_MMU_CLEARS != 0) /* a dirtiness the OR cannot see */
		ad->hw_dirty |= ptxn_arch_pte_hw_dirty(v);
}

/* first with the union's young and dirty state. */
PTXN_INLINE ptxn_pteval_t ptxn_txn_ad_apply(const struct ptxn_txn_ad *ad, ptxn_pteval_t first)
{
	if (ptxn_arch_pte_young(ad->any))
		first = ptxn_arch_pte_mkyoung(first);
	if ((ad->any & PTXN_ARCH_PTE_DIRTY_BITS) || ad->hw_dirty)
		first = ptxn_arch_pte_mkdirty(first);
	return first;
}

/*
 * Can entry i of a batch be pte plus i pages, added to the value? Where the frame field
 * is stored as is (not inverted, x86 L1TF) and pte's frame + nr - 1 fits, that is
 * exactly ptxn_pte_advance_pfn(pte, i).
 */
PTXN_INLINE bool ptxn_txn_frames_step(ptxn_pte_t pte, unsigned int nr)
{
	ptxn_pteval_t v = ptxn_pte_val(pte);

	return !ptxn_arch_pte_pfn_inverted(v) && ptxn_arch_pte_pfn(v) + nr - 1 <= PTXN_ARCH_PFN_MAX;
}

/* ---- contiguous blocks (ARM64 CONT; PTXN_ARCH_PTE_CONT == 0 elsewhere: all compiled out) -- */
/*
 * A contiguous block is PTXN_ARCH_CONT_PTES entries, aligned in the address space, that
 * the TLB may cache as one translation. A live block must never be mixed (members with
 * different permissions or attributes, or some with and some without CONT: a TLB conflict
 * abort, Arm ARM "Misprogramming of the Contiguous bit"), and a live contiguous entry is
 * never changed in place (Linux pgattr_change_is_safe). ptxn follows Linux's contpte
 * discipline: a transaction that touches part of a block first unfolds the whole block
 * (contpte_try_unfold / contpte_convert: every member broken, one flush, every member
 * reinstalled without CONT), and a new entry may carry CONT only where the commit covers
 * a whole aligned block, which it installs whole after breaking it (docs/api.md).
 */

/* A live member of a contiguous block (an invalid entry's CONT bit means nothing). */
PTXN_INLINE bool ptxn_txn_cont_live(ptxn_pte_t pte)
{
	ptxn_pteval_t v = ptxn_pte_val(pte);

	return (v & PTXN_ARCH_PTE_CONT) && ptxn_arch_pte_hw_valid(v);
}

/* The index of the entry for addr in its aligned block. */
PTXN_INLINE unsigned ptxn_txn_cont_index(uintptr_t addr)
{
	return (unsigned)(addr >> PTXN_ARCH_PAGE_SHIFT) & (PTXN_ARCH_CONT_PTES - 1u);
}

/* Does the commit of entries [0, nr) at addr cover the whole aligned block of entry i? */
PTXN_INLINE bool ptxn_txn_cont_whole(uintptr_t addr, unsigned int nr, unsigned int i)
{
	/* entry index where entry i's block starts, relative to entry 0 (may be negative) */
	long first = (long)i - (long)((ptxn_txn_cont_index(addr) + i) & (PTXN_ARCH_CONT_PTES - 1u));

	return first >= 0 && first + (long)PTXN_ARCH_CONT_PTES <= (long)nr;
}

/*
 * Unfold the block that holds (addr, ptep): break every live member (catching the A/D the
 * hardware set in it), one flush of the block, then every member back without CONT and
 * with the A/D of the whole block: the hardware may record an access to any page of a
 * contiguous block in any member (Linux contpte_ptep_get gathers them the same way).
 */
PTXN_INLINE void ptxn_txn_cont_unfold(ptxn_mm_t *mm, uintptr_t addr, ptxn_pte_t *ptep)
{
	/*
	 * The block's first slot by aligning the slot's own address, as Linux's
	 * contpte_align_down(): a table is page-aligned and entry i of it maps page i, so this
	 * agrees with addr's position in the block in any real page table.
	 */
	ptxn_pte_t *first = (ptxn_pte_t *)((uintptr_t)ptep &
					   ~((uintptr_t)PTXN_ARCH_CONT_PTES * sizeof(ptxn_pte_t) - 1));
	const uintptr_t start = addr & ~((uintptr_t)PTXN_ARCH_CONT_PTES * PTXN_PAGE_SIZE - 1);
	ptxn_pteval_t was[PTXN_ARCH_CONT_PTES];
	bool young = false, dirty = false;
	unsigned k;

	for (k = 0; k < PTXN_ARCH_CONT_PTES; k++) {
		was[k] = ptxn_arch_pte_from_storage(ptxn_arch_slot_load(&first[k].storage));
		if (!ptxn_arch_pte_hw_valid(was[k]))
			continue;
		was[k] = ptxn_arch_pte_from_storage(ptxn_txn_break(first + k));
		young = young || ptxn_arch_pte_young(was[k]);
		dirty = dirty || ptxn_arch_pte_dirty(was[k]);
	}
	ptxn_txn_flush(mm, start, start + (uintptr_t)PTXN_ARCH_CONT_PTES * PTXN_PAGE_SIZE, ptep);
	for (k = 0; k < PTXN_ARCH_CONT_PTES; k++) {
		ptxn_pteval_t v = was[k] & ~(ptxn_pteval_t)PTXN_ARCH_PTE_CONT;

		if (!ptxn_arch_pte_hw_valid(was[k]))
			continue;
		if (young)
			v = ptxn_arch_pte_mkyoung(v);
		if (dirty)
			v = ptxn_arch_pte_mkdirty(v);
		PTXN_STAT_ADD(mm, broken, 1);
		ptxn_txn_unbreak(mm, first + k, v);
	}
}

/*
 * Before a batch: unfold every block it touches that is folded. A block's members share
 * CONT, so the first entry of the batch and the first of every later block are enough.
 */
PTXN_INLINE void ptxn_txn_cont_unfold_range(ptxn_mm_t *mm, uintptr_t addr, ptxn_pte_t *ptep,
					     unsigned int nr)
{
	unsigned int i = 0;

	while (i < nr) {
		if (PTXN_UNLIKELY(ptxn_txn_cont_live(ptxn_ptep_get(ptep + i))))
			ptxn_txn_cont_unfold(mm, addr + (uintptr_t)i * PTXN_PAGE_SIZE, ptep + i);
		i += PTXN_ARCH_CONT_PTES - ((ptxn_txn_cont_index(addr) + i) & (PTXN_ARCH_CONT_PTES - 1u));
	}
}

#undef PTXN_STEPS_STORAGE

PTXN_EXTERN_C_END

#endif /* PTXN_CORE_STEPS_H */
