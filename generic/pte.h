/* SPDX-License-Identifier: MIT */
/*
 * ptxn/generic/pte.h - every value-level pte operation, built from the format's
 * definitions (the PTXN_ARCH_PTE_* masks of arch/<format>/pte.h), asm-generic style.
 *
 * Each function may be replaced by the format header (#define PTXN_HAVE_ARCH_PTE_<NAME>):
 * by the format's own rule where it differs (also under PTXN_FORCE_GENERIC), or by an
 * optimised version (not under PTXN_FORCE_GENERIC; tests/test_differential.c checks that
 * both builds give the same bits). Values here are ptxn_pteval_t: a uint64_t in CPU bit order.
 *
 * The dirty rule here is the common one: the hardware records a write by setting a dirty
 * bit, PTXN_ARCH_PTE_HW_DIRTY (x86 D, PowerPC C). A format that records it otherwise
 * defines its own rule functions in its arch file and no PTXN_ARCH_PTE_HW_DIRTY (ARM64:
 * arch/arm64/pte.h, where DBM=1 with AP[2] cleared is dirty). One software rule holds for
 * every format: where a read-only entry cannot carry hardware dirtiness (x86 CET:
 * R/W=0,D=1 is a shadow-stack page; ARM64: hardware dirty *is* writable), its dirtiness
 * lives in PTXN_ARCH_PTE_SW_DIRTY. Normal form kept by every operation:
 *   writable entry  -> dirtiness only in the hardware encoding, SW_DIRTY clear;
 *   read-only entry -> dirtiness only in SW_DIRTY (if the format has one).
 */
#ifndef PTXN_GENERIC_PTE_H
#define PTXN_GENERIC_PTE_H

#ifndef PTXN_CORE_INTERNAL
#error "Do not include ptxn/generic/pte.h directly; include <ptxn/ptxn.h>"
#endif

/* A format must define all of these; a missing one is an error naming it. */
#if !defined(PTXN_ARCH_PTE_BIG_ENDIAN) || !defined(PTXN_ARCH_PAGE_SHIFT) ||                  \
	!defined(PTXN_ARCH_PTE_PFN_MASK) || !defined(PTXN_ARCH_PTE_HW_VALID) ||                \
	!defined(PTXN_ARCH_PTE_PRESENT) || !defined(PTXN_ARCH_PTE_MMU_SETS_IN_NONE) ||         \
	!defined(PTXN_ARCH_PTE_YOUNG) || !defined(PTXN_ARCH_PTE_WRITE) ||                      \
	!defined(PTXN_ARCH_PTE_SW_DIRTY) || !defined(PTXN_ARCH_PTE_CHG_MASK) ||                \
	!defined(PTXN_ARCH_PTE_RESERVED) || !defined(PTXN_ARCH_MMU_LATE_WRITEBACK) ||          \
	!defined(PTXN_ARCH_DIRTY_NEEDS_WRITE_IN_MEMORY) || !defined(PTXN_FORMAT_NAME)
#error "ptxn: the format header is missing a mandatory PTXN_ARCH_* definition"
#endif

/*
 * What the MMU's Accessed/Dirty updates do to an entry, for core/: the bits it sets
 * (PTXN_ARCH_PTE_MMU_SETS) and the bits it clears (PTXN_ARCH_PTE_MMU_CLEARS, ARM64's AP[2]
 * under DBM); and the bits any of which makes an entry dirty (PTXN_ARCH_PTE_DIRTY_BITS: a
 * dirtiness recorded by a cleared bit is not among them, ask ptxn_arch_pte_hw_dirty()).
 * With a dirty bit they follow from it; a format without one defines MMU_SETS itself.
 */
#ifdef PTXN_ARCH_PTE_HW_DIRTY
#if PTXN_ARCH_PTE_HW_DIRTY == 0
#error "ptxn: PTXN_ARCH_PTE_HW_DIRTY is the hardware's dirty bit; a format without one leaves it undefined and defines its own dirty rule"
#endif
#ifndef PTXN_ARCH_PTE_MMU_SETS
#define PTXN_ARCH_PTE_MMU_SETS (PTXN_ARCH_PTE_YOUNG | PTXN_ARCH_PTE_HW_DIRTY)
#endif
#elif !(defined(PTXN_ARCH_PTE_MMU_SETS) && defined(PTXN_HAVE_ARCH_PTE_HW_DIRTY) &&       \
	defined(PTXN_HAVE_ARCH_PTE_MKCLEAN) && defined(PTXN_HAVE_ARCH_PTE_MKDIRTY) &&          \
	defined(PTXN_HAVE_ARCH_PTE_WRPROTECT) && defined(PTXN_HAVE_ARCH_PTE_MODIFY) &&         \
	defined(PTXN_HAVE_ARCH_PTE_STRIP_HW))
#error "ptxn: a format without a dirty bit (PTXN_ARCH_PTE_HW_DIRTY) defines PTXN_ARCH_PTE_MMU_SETS and its own hw_dirty, mkclean, mkdirty, wrprotect, modify and strip_hw (see arch/arm64/pte.h)"
#endif
#ifndef PTXN_ARCH_PTE_MMU_CLEARS
#define PTXN_ARCH_PTE_MMU_CLEARS 0
#endif
#define PTXN_ARCH_PTE_DIRTY_BITS                                                          \
	((PTXN_ARCH_PTE_MMU_SETS & ~PTXN_ARCH_PTE_YOUNG) | PTXN_ARCH_PTE_SW_DIRTY)

/* ---- byte order of the stored slot --------------------------------------------------- */
#define PTXN_STORAGE_SWAPPED (PTXN_ARCH_PTE_BIG_ENDIAN != PTXN_HOST_BIG_ENDIAN)

#ifndef PTXN_HAVE_ARCH_PTE_TO_STORAGE
PTXN_INLINE uint64_t ptxn_arch_pte_to_storage(ptxn_pteval_t v)
{
	return PTXN_STORAGE_SWAPPED ? __builtin_bswap64(v) : v;
}
#endif
#ifndef PTXN_HAVE_ARCH_PTE_FROM_STORAGE
PTXN_INLINE ptxn_pteval_t ptxn_arch_pte_from_storage(uint64_t raw)
{
	return PTXN_STORAGE_SWAPPED ? __builtin_bswap64(raw) : raw;
}
#endif

/* ---- predicates ------------------------------------------------------------------------ */
#ifndef PTXN_HAVE_ARCH_PTE_NONE
PTXN_INLINE bool ptxn_arch_pte_none(ptxn_pteval_t v)
{
	return !(v & ~(ptxn_pteval_t)PTXN_ARCH_PTE_MMU_SETS_IN_NONE);
}
#endif

#ifndef PTXN_HAVE_ARCH_PTE_PRESENT
PTXN_INLINE bool ptxn_arch_pte_present(ptxn_pteval_t v)
{
	return (v & PTXN_ARCH_PTE_PRESENT) != 0;
}
#endif

/* Usable by the MMU right now (as opposed to present-to-software, like PROT_NONE). */
#ifndef PTXN_HAVE_ARCH_PTE_HW_VALID
PTXN_INLINE bool ptxn_arch_pte_hw_valid(ptxn_pteval_t v)
{
	return (v & PTXN_ARCH_PTE_HW_VALID) != 0;
}
#endif

#ifndef PTXN_HAVE_ARCH_PTE_YOUNG
PTXN_INLINE bool ptxn_arch_pte_young(ptxn_pteval_t v)
{
	return (v & PTXN_ARCH_PTE_YOUNG) != 0;
}
#endif

#ifndef PTXN_HAVE_ARCH_PTE_WRITE
PTXN_INLINE bool ptxn_arch_pte_write(ptxn_pteval_t v)
{
	return (v & PTXN_ARCH_PTE_WRITE) != 0;
}
#endif

/* Dirtiness recorded the way the hardware records it. */
#ifndef PTXN_HAVE_ARCH_PTE_HW_DIRTY
PTXN_INLINE bool ptxn_arch_pte_hw_dirty(ptxn_pteval_t v)
{
	return (v & PTXN_ARCH_PTE_HW_DIRTY) != 0;
}
#endif

#ifndef PTXN_HAVE_ARCH_PTE_DIRTY
PTXN_INLINE bool ptxn_arch_pte_dirty(ptxn_pteval_t v)
{
	return ptxn_arch_pte_hw_dirty(v) || (v & PTXN_ARCH_PTE_SW_DIRTY);
}
#endif

/* ---- modifiers --------------------------------------------------------------------- */
#ifndef PTXN_HAVE_ARCH_PTE_MKOLD
PTXN_INLINE ptxn_pteval_t ptxn_arch_pte_mkold(ptxn_pteval_t v)
{
	return v & ~(ptxn_pteval_t)PTXN_ARCH_PTE_YOUNG;
}
#endif

#ifndef PTXN_HAVE_ARCH_PTE_MKYOUNG
PTXN_INLINE ptxn_pteval_t ptxn_arch_pte_mkyoung(ptxn_pteval_t v)
{
	return v | PTXN_ARCH_PTE_YOUNG;
}
#endif

#ifndef PTXN_HAVE_ARCH_PTE_MKCLEAN
PTXN_INLINE ptxn_pteval_t ptxn_arch_pte_mkclean(ptxn_pteval_t v)
{
	return v & ~(ptxn_pteval_t)(PTXN_ARCH_PTE_HW_DIRTY | PTXN_ARCH_PTE_SW_DIRTY);
}
#endif

#ifndef PTXN_HAVE_ARCH_PTE_MKDIRTY
PTXN_INLINE ptxn_pteval_t ptxn_arch_pte_mkdirty(ptxn_pteval_t v)
{
	if (ptxn_arch_pte_write(v) || PTXN_ARCH_PTE_SW_DIRTY == 0) {
		v &= ~(ptxn_pteval_t)PTXN_ARCH_PTE_SW_DIRTY;
		return v | PTXN_ARCH_PTE_HW_DIRTY;
	}
	return v | PTXN_ARCH_PTE_SW_DIRTY;
}
#endif

#ifndef PTXN_HAVE_ARCH_PTE_WRPROTECT
PTXN_INLINE ptxn_pteval_t ptxn_arch_pte_wrprotect(ptxn_pteval_t v)
{
	if (PTXN_ARCH_PTE_SW_DIRTY != 0 && ptxn_arch_pte_hw_dirty(v))
		v = (v & ~(ptxn_pteval_t)PTXN_ARCH_PTE_HW_DIRTY) | PTXN_ARCH_PTE_SW_DIRTY;
	return v & ~(ptxn_pteval_t)PTXN_ARCH_PTE_WRITE;
}
#endif

#ifndef PTXN_HAVE_ARCH_PTE_MKWRITE
PTXN_INLINE ptxn_pteval_t ptxn_arch_pte_mkwrite(ptxn_pteval_t v)
{
	bool saved_dirty = PTXN_ARCH_PTE_SW_DIRTY != 0 && (v & PTXN_ARCH_PTE_SW_DIRTY);

	v |= PTXN_ARCH_PTE_WRITE;
	return saved_dirty ? ptxn_arch_pte_mkdirty(v) : v;
}
#endif

/* ---- frame number ---------------------------------------------------------------------- */
/* Whether the PFN field is stored inverted: never, unless the format says (x86 L1TF). */
#ifndef PTXN_HAVE_ARCH_PTE_PFN_INVERTED
PTXN_INLINE bool ptxn_arch_pte_pfn_inverted(ptxn_pteval_t v)
{
	(void)v;
	return false;
}
#endif

/*
 * Where the frame number starts in an entry: at the page offset's width in most formats
 * (the field holds the physical address), lower where the field holds the frame number
 * itself (RISC-V: PPN at bit 10). One frame further is one step of 1 << this.
 */
#ifndef PTXN_ARCH_PTE_PFN_SHIFT
#define PTXN_ARCH_PTE_PFN_SHIFT PTXN_ARCH_PAGE_SHIFT
#endif

#define PTXN_ARCH_PFN_MAX (PTXN_ARCH_PTE_PFN_MASK >> PTXN_ARCH_PTE_PFN_SHIFT)

#ifndef PTXN_HAVE_ARCH_PTE_PFN
PTXN_INLINE uint64_t ptxn_arch_pte_pfn(ptxn_pteval_t v)
{
	uint64_t field = ptxn_arch_pte_pfn_inverted(v) ? ~v : v;

	return (field & PTXN_ARCH_PTE_PFN_MASK) >> PTXN_ARCH_PTE_PFN_SHIFT;
}
#endif

#ifndef PTXN_HAVE_ARCH_PFN_PTE
PTXN_INLINE ptxn_pteval_t ptxn_arch_pfn_pte(uint64_t pfn, uint64_t prot_bits)
{
	uint64_t field = pfn << PTXN_ARCH_PTE_PFN_SHIFT;

	if (ptxn_arch_pte_pfn_inverted(prot_bits))
		field = ~field;
	return (field & PTXN_ARCH_PTE_PFN_MASK) | prot_bits;
}
#endif

/* ---- protection change ------------------------------------------------------------------ */
/*
 * Linux pte_modify semantics: keep the frame, A/D state and software bits
 * (PTXN_ARCH_PTE_CHG_MASK), take the protection from prot_bits, and put dirtiness where
 * the new writability says it belongs (mkdirty), so nothing is forgotten. x86 and ARM64
 * define their own (where dirtiness goes on a read-only result is their rule).
 */
#ifndef PTXN_HAVE_ARCH_PTE_MODIFY
PTXN_INLINE ptxn_pteval_t ptxn_arch_pte_modify(ptxn_pteval_t v, uint64_t prot_bits)
{
	bool dirty = ptxn_arch_pte_dirty(v);
	ptxn_pteval_t n = (v & PTXN_ARCH_PTE_CHG_MASK) | (prot_bits & ~PTXN_ARCH_PTE_CHG_MASK);

	if (ptxn_arch_pte_pfn_inverted(v) != ptxn_arch_pte_pfn_inverted(n))
		n ^= PTXN_ARCH_PTE_PFN_MASK;
	n &= ~(ptxn_pteval_t)(PTXN_ARCH_PTE_HW_DIRTY | PTXN_ARCH_PTE_SW_DIRTY);
	return dirty ? ptxn_arch_pte_mkdirty(n) : n;
}
#endif

/* ---- what the hardware may still do to an entry --------------------------------------- */
/*
 * Fold into `next` every Accessed/Dirty update the hardware made between `start` (the
 * value a transaction began from) and `now` (the value in the slot). The hardware only
 * ever sets young and hardware-dirty, never clears them (docs/hwemu.md rule 2), so what
 * `now` has and `start` lacks came from it. A dirty update lands where `next`'s
 * writability says: as SavedDirty on an x86 entry that is now read-only (never R/W=0,D=1),
 * as the software dirty bit on a now read-only ARM64 entry.
 */
#ifndef PTXN_HAVE_ARCH_PTE_MERGE_HW
PTXN_INLINE ptxn_pteval_t ptxn_arch_pte_merge_hw(ptxn_pteval_t next, ptxn_pteval_t start,
						  ptxn_pteval_t now)
{
	if (ptxn_arch_pte_young(now) && !ptxn_arch_pte_young(start))
		next = ptxn_arch_pte_mkyoung(next);
	if (ptxn_arch_pte_hw_dirty(now) && !ptxn_arch_pte_hw_dirty(start))
		next = ptxn_arch_pte_mkdirty(next);
	return next;
}
#endif

/*
 * The entry without any Accessed/Dirty state the hardware may have set: young and the
 * dirty bit cleared (x86 A/D, PowerPC R/C; ARM64 sets AP[2] again, arch/arm64/pte.h).
 * Software dirtiness (SW_DIRTY) is software state and stays.
 */
#ifndef PTXN_HAVE_ARCH_PTE_STRIP_HW
PTXN_INLINE ptxn_pteval_t ptxn_arch_pte_strip_hw(ptxn_pteval_t v)
{
	return v & ~(ptxn_pteval_t)(PTXN_ARCH_PTE_YOUNG | PTXN_ARCH_PTE_HW_DIRTY);
}
#endif

/*
 * next with every Accessed/Dirty state the hardware set in `now` (young; hardware dirty,
 * landing where next's writability says): merge_hw against a start that had none. What a
 * batch keeps of an entry it left live (Xen's MMU_PT_UPDATE_PRESERVE_AD).
 */
#ifndef PTXN_HAVE_ARCH_PTE_FOLD_HW
PTXN_INLINE ptxn_pteval_t ptxn_arch_pte_fold_hw(ptxn_pteval_t next, ptxn_pteval_t now)
{
	return ptxn_arch_pte_merge_hw(next, ptxn_arch_pte_strip_hw(now), now);
}
#endif

/*
 * Contiguous blocks (core/steps.h): the bit that marks an entry as a member of one, and
 * how many entries a block has. A format without them (x86, PowerPC radix) has no bit.
 */
#ifndef PTXN_ARCH_PTE_CONT
#define PTXN_ARCH_PTE_CONT 0
#define PTXN_ARCH_CONT_PTES 1u
#endif

/* The quirk flags (PTXN_MM_*) under which a transaction may break an entry at start
 * (ptxn_arch_start_needs_break); an mm with one takes the general path. */
#ifndef PTXN_ARCH_MM_START_FLAGS
#define PTXN_ARCH_MM_START_FLAGS 0u
#endif

/* The quirk flags under which ptxn_arch_change_needs_break may say yes at all (PowerPC:
 * PTXN_MM_COPROCESSOR); an mm with one takes the general path too, so that the fast paths
 * ask the rule with no flags - a constant where the rule needs one (docs/porting.md). */
#ifndef PTXN_ARCH_MM_CHANGE_FLAGS
#define PTXN_ARCH_MM_CHANGE_FLAGS 0u
#endif

/*
 * The quirk flag (PTXN_MM_*) by which an address space promises that no MMU sets dirty in
 * a read-only entry any more, so young and read-only is final: by default the caller's
 * PTXN_MM_WRPROTECT_FLUSHED (a stale writable translation is what could set it); an arch
 * adds its own (x86: PTXN_MM_X86_CET). Where dirty is checked against memory
 * (PTXN_ARCH_DIRTY_NEEDS_WRITE_IN_MEMORY) the flag changes nothing. (A/D the MMU sets in an
 * empty entry are not updates of a live translation: PTXN_ARCH_PTE_MMU_SETS_IN_NONE.)
 */
#ifndef PTXN_ARCH_MM_READONLY_FINAL
#define PTXN_ARCH_MM_READONLY_FINAL ((unsigned)PTXN_MM_WRPROTECT_FLUSHED)
#endif

/*
 * The quiescent rule, from the format's answers (each arch file states its rule and why,
 * and may override this; docs/strategies.md has them side by side): true when every
 * Accessed/Dirty update the hardware can still make to v is setting young while young_ok,
 * or recording dirty while dirty_ok. Young can be set in any entry the MMU may still use,
 * and in a broken one unless it is empty where a translation in flight may still write
 * back (PTXN_ARCH_MMU_LATE_WRITEBACK); dirty likewise, where the entry can record it:
 * only a writable one if the update is checked against memory
 * (PTXN_ARCH_DIRTY_NEEDS_WRITE_IN_MEMORY), else any (a stale writable TLB entry may set
 * it in a read-only one) unless the mm's promise PTXN_ARCH_MM_READONLY_FINAL says
 * read-only is final.
 * Written with '&' and '|' on 0/1: no branch, so a batch classifies without mispredicting.
 */
#ifndef PTXN_HAVE_ARCH_PTE_HW_FINAL
PTXN_INLINE bool ptxn_arch_pte_hw_final(unsigned mm_flags, ptxn_pteval_t v, bool young_ok,
					bool dirty_ok)
{
	const unsigned live = (unsigned)ptxn_arch_pte_hw_valid(v) |
			      ((unsigned)PTXN_ARCH_MMU_LATE_WRITEBACK &
			       (unsigned)!ptxn_arch_pte_none(v));
	const unsigned can_dirty = PTXN_ARCH_DIRTY_NEEDS_WRITE_IN_MEMORY
					   ? (unsigned)ptxn_arch_pte_write(v)
					   : ((unsigned)ptxn_arch_pte_write(v) |
					      (unsigned)!(mm_flags & PTXN_ARCH_MM_READONLY_FINAL));
	const unsigned gain_young = live & (unsigned)!ptxn_arch_pte_young(v);
	const unsigned gain_dirty = live & can_dirty & (unsigned)!ptxn_arch_pte_hw_dirty(v);

	return ((gain_young ^ 1u) | (unsigned)young_ok) & ((gain_dirty ^ 1u) | (unsigned)dirty_ok);
}
#endif

/* No MMU can write this entry any more: a plain store over it loses nothing. */
PTXN_INLINE bool ptxn_arch_pte_quiescent(unsigned mm_flags, ptxn_pteval_t v)
{
	return ptxn_arch_pte_hw_final(mm_flags, v, false, false);
}

/*
 * A plain store of next over v cannot lose an update: whatever the MMU may still set in v
 * is in next already (next young; dirty in its own encoding, mkdirty(next) == next). Every
 * quiescent entry absorbs every next; so does a live one whose next is young and dirty
 * (the way back of an mprotect, read-only to read-write, of a page that was dirty: next
 * has D again, so a D that a stale TLB entry sets meanwhile changes nothing).
 */
PTXN_INLINE bool ptxn_arch_pte_absorbs(unsigned mm_flags, ptxn_pteval_t v, ptxn_pteval_t next)
{
	return ptxn_arch_pte_hw_final(mm_flags, v, ptxn_arch_pte_young(next),
				      ptxn_arch_pte_mkdirty(next) == next);
}

#endif /* PTXN_GENERIC_PTE_H */
