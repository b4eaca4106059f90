/* SPDX-License-Identifier: MIT */
/*
 * ptxn/arch/arm64/pte.h - the AArch64 stage-1 level-3 page descriptor, 4 KiB granule,
 * 48-bit output address (Arm ARM D8.3, "Translation table descriptor formats").
 *
 * This file is where the ARM64 dirty rule lives. With FEAT_HAFDBS the hardware records
 * "dirty" by clearing AP[2] (read-only) in an entry whose DBM bit is set; so
 *   writable       = DBM set (Linux calls DBM "PTE_WRITE"),
 *   writable clean = DBM=1, AP[2]=1 (the first write faults or, with TCR.HD, clears AP[2]),
 *   hardware dirty = DBM=1, AP[2]=0,
 *   read-only      = DBM=0, AP[2]=1, and its dirtiness, if any, in a software bit (55),
 * and making a page read-only moves hardware dirtiness into bit 55 so it is never lost.
 * The rule's functions (write, hw_dirty, mkclean, mkdirty, wrprotect, modify, strip_hw) are
 * below the protection table; generic/pte.h builds the rest from them. The quiescent rule
 * is ptxn_arch_pte_hw_final() at the end. The hardware side (HA/HD, faults) is in
 * hwemu/arm64/mmu.h.
 */
#ifndef PTXN_ARCH_ARM64_PTE_H
#define PTXN_ARCH_ARM64_PTE_H

#ifndef PTXN_CORE_INTERNAL
#error "Do not include ptxn/arch/arm64/pte.h directly; include <ptxn/ptxn.h>"
#endif

#define PTXN_FORMAT_NAME "arm64"

/* ---- hardware bits (Arm ARM D8.3.2, stage 1 page descriptor) ------------------------- */
#define PTXN_ARM64_VALID	(UINT64_C(1) << 0)
#define PTXN_ARM64_TYPE_PAGE	(UINT64_C(1) << 1)   /* bits[1:0]=0b11 at level 3 */
#define PTXN_ARM64_ATTRINDX(i)	((uint64_t)(i) << 2) /* index into MAIR_EL1 */
#define PTXN_ARM64_ATTRINDX_MASK (UINT64_C(7) << 2)
#define PTXN_ARM64_NS		(UINT64_C(1) << 5)
#define PTXN_ARM64_USER		(UINT64_C(1) << 6)   /* AP[1]: EL0 access */
#define PTXN_ARM64_RDONLY	(UINT64_C(1) << 7)   /* AP[2]: read-only */
#define PTXN_ARM64_SH_INNER	(UINT64_C(3) << 8)   /* SH[1:0]=0b11 inner shareable */
#define PTXN_ARM64_SH_MASK	(UINT64_C(3) << 8)
#define PTXN_ARM64_AF		(UINT64_C(1) << 10)  /* Access flag */
#define PTXN_ARM64_NG		(UINT64_C(1) << 11)  /* not global */
#define PTXN_ARM64_OA_MASK	UINT64_C(0x0000fffffffff000) /* OA[47:12] */
#define PTXN_ARM64_RES0_MASK	(UINT64_C(3) << 48)  /* RES0 without FEAT_LPA/LPA2 */
#define PTXN_ARM64_GP		(UINT64_C(1) << 50)  /* BTI guarded page */
#define PTXN_ARM64_DBM		(UINT64_C(1) << 51)  /* Dirty Bit Modifier (FEAT_HAFDBS) */
#define PTXN_ARM64_CONT		(UINT64_C(1) << 52)  /* contiguous hint over 16 entries */
#define PTXN_ARM64_PXN		(UINT64_C(1) << 53)
#define PTXN_ARM64_UXN		(UINT64_C(1) << 54)

/* ---- software bits 55..58 (ignored by the MMU, Arm ARM D8.3.2) ----------------------- */
#define PTXN_ARM64_SW_DIRTY	(UINT64_C(1) << 55)  /* Linux PTE_DIRTY */
#define PTXN_ARM64_SPECIAL	(UINT64_C(1) << 56)  /* Linux PTE_SPECIAL */
/* PROT_NONE: invalid to the MMU, present to software (Linux PTE_PROT_NONE, bit 58). */
#define PTXN_ARM64_PROT_NONE	(UINT64_C(1) << 58)
#define PTXN_ARM64_SOFTWARE_MASK (UINT64_C(0xf) << 55)

/* MAIR_EL1 index used for normal memory, as Linux's MT_NORMAL. */
#define PTXN_ARM64_MT_NORMAL	0

/* ---- the format as generic/pte.h sees it ---------------------------------------------- */
#define PTXN_ARCH_PTE_BIG_ENDIAN	0 /* SCTLR_EL1.EE=0: tables little-endian, as Linux */
#define PTXN_ARCH_PAGE_SHIFT		12
#define PTXN_ARCH_PTE_PFN_MASK		PTXN_ARM64_OA_MASK
#define PTXN_ARCH_PTE_HW_VALID		PTXN_ARM64_VALID
#define PTXN_ARCH_PTE_PRESENT		(PTXN_ARM64_VALID | PTXN_ARM64_PROT_NONE)
#define PTXN_ARCH_PTE_MMU_SETS_IN_NONE	0 /* an invalid descriptor is never updated */
#define PTXN_ARCH_PTE_YOUNG		PTXN_ARM64_AF
/*
 * No dirty bit (so no PTXN_ARCH_PTE_HW_DIRTY): the MMU sets AF, and records a write by
 * *clearing* AP[2] of a DBM entry (Arm ARM D8.4.6); dirty is a state of two bits.
 */
#define PTXN_ARCH_PTE_MMU_SETS		PTXN_ARM64_AF
#define PTXN_ARCH_PTE_MMU_CLEARS	PTXN_ARM64_RDONLY
#define PTXN_ARCH_PTE_WRITE		PTXN_ARM64_DBM
#define PTXN_ARCH_PTE_SW_DIRTY		PTXN_ARM64_SW_DIRTY
/*
 * The dirty-state update is checked against the descriptor in memory: hardware clears
 * AP[2] only in an atomic read-modify-write that sees DBM=1 (Arm ARM D8.4.6, "the
 * hardware update ... is performed only if DBM is 1 in the descriptor as read"). So an
 * entry with AF=1 and DBM=0 can no longer be written by the MMU.
 */
#define PTXN_ARCH_DIRTY_NEEDS_WRITE_IN_MEMORY 1
/*
 * pte_modify replaces what Linux's pte_modify() mask names as protection (USER, PXN,
 * UXN, RDONLY, PROT_NONE, VALID, DBM, GP, AttrIndx) and keeps the rest: the output
 * address, AF, SH, nG, NS, contiguous, the page type and the software bits.
 */
#define PTXN_ARM64_PROT_MASK                                                                 \
	(PTXN_ARM64_USER | PTXN_ARM64_PXN | PTXN_ARM64_UXN | PTXN_ARM64_RDONLY |             \
	 PTXN_ARM64_PROT_NONE | PTXN_ARM64_VALID | PTXN_ARM64_DBM | PTXN_ARM64_GP |          \
	 PTXN_ARM64_ATTRINDX_MASK)
#define PTXN_ARCH_PTE_CHG_MASK		(~PTXN_ARM64_PROT_MASK)
#define PTXN_ARCH_PTE_RESERVED		PTXN_ARM64_RES0_MASK

/* Which flag combinations ptxn expresses on ARM64: write and execute imply read. */
PTXN_INLINE unsigned ptxn_arch_prot_normalize(unsigned flags)
{
	flags &= PTXN_PROT_READ | PTXN_PROT_WRITE | PTXN_PROT_EXEC | PTXN_PROT_USER;
	if (flags & (PTXN_PROT_WRITE | PTXN_PROT_EXEC))
		flags |= PTXN_PROT_READ;
	if (!(flags & PTXN_PROT_READ))
		return 0;
	return flags;
}

PTXN_INLINE uint64_t ptxn_arch_prot_bits(unsigned flags)
{
	const uint64_t base = PTXN_ARM64_TYPE_PAGE | PTXN_ARM64_ATTRINDX(PTXN_ARM64_MT_NORMAL) |
			      PTXN_ARM64_SH_INNER;
	uint64_t bits;

	flags = ptxn_arch_prot_normalize(flags);
	if (!flags) /* as Linux PAGE_NONE: invalid, read-only, never executable */
		return base | PTXN_ARM64_PROT_NONE | PTXN_ARM64_RDONLY | PTXN_ARM64_PXN |
		       PTXN_ARM64_UXN;
	bits = base | PTXN_ARM64_VALID;
	/* Writable pages start clean: DBM=1 with AP[2]=1. Read-only: DBM=0, AP[2]=1. */
	bits |= PTXN_ARM64_RDONLY;
	if (flags & PTXN_PROT_WRITE)
		bits |= PTXN_ARM64_DBM;
	if (flags & PTXN_PROT_USER) {
		/* User pages are never executable at EL1 (PXN), and are per-ASID (nG). */
		bits |= PTXN_ARM64_USER | PTXN_ARM64_NG | PTXN_ARM64_PXN;
		if (!(flags & PTXN_PROT_EXEC))
			bits |= PTXN_ARM64_UXN;
	} else {
		/* Kernel pages are never executable at EL0 (UXN). */
		bits |= PTXN_ARM64_UXN;
		if (!(flags & PTXN_PROT_EXEC))
			bits |= PTXN_ARM64_PXN;
	}
	return bits;
}

/* Executable at the privilege level the page is for (EL0 for user pages). */
PTXN_INLINE bool ptxn_arch_pte_exec(uint64_t v)
{
	if (!(v & PTXN_ARM64_VALID))
		return false;
	return !(v & ((v & PTXN_ARM64_USER) ? PTXN_ARM64_UXN : PTXN_ARM64_PXN));
}

PTXN_INLINE unsigned ptxn_arch_pte_prot_flags(uint64_t v)
{
	unsigned flags;

	if (!(v & PTXN_ARM64_VALID))
		return 0;
	flags = PTXN_PROT_READ;
	if (v & PTXN_ARM64_DBM)
		flags |= PTXN_PROT_WRITE;
	if (ptxn_arch_pte_exec(v))
		flags |= PTXN_PROT_EXEC;
	if (v & PTXN_ARM64_USER)
		flags |= PTXN_PROT_USER;
	return flags;
}

/* ---- the dirty rule (Linux arch/arm64/include/asm/pgtable.h, pte_mkdirty & co.) ------- */
/*
 * Part of the format, not optional overrides: PTXN_FORCE_GENERIC builds use them too
 * (generic/pte.h has only the dirty-bit rule). Each keeps the normal form: a writable
 * entry's dirtiness is AP[2]=0, a read-only one's is bit 55.
 */
/* Writable = DBM set, whatever AP[2] says (Linux's PTE_WRITE is DBM). */
#define PTXN_HAVE_ARCH_PTE_WRITE
PTXN_INLINE bool ptxn_arch_pte_write(uint64_t v)
{
	return (v & PTXN_ARM64_DBM) != 0;
}

#define PTXN_HAVE_ARCH_PTE_HW_DIRTY
PTXN_INLINE bool ptxn_arch_pte_hw_dirty(uint64_t v)
{
	return ptxn_arch_pte_write(v) && !(v & PTXN_ARM64_RDONLY);
}

/* A writable entry made clean is DBM=1, AP[2]=1: the next write marks it again. */
#define PTXN_HAVE_ARCH_PTE_MKCLEAN
PTXN_INLINE uint64_t ptxn_arch_pte_mkclean(uint64_t v)
{
	v &= ~PTXN_ARM64_SW_DIRTY;
	if (v & PTXN_ARM64_DBM)
		v |= PTXN_ARM64_RDONLY;
	return v;
}

/* Writable: AP[2] cleared (the hardware's own encoding). Read-only: bit 55. */
#define PTXN_HAVE_ARCH_PTE_MKDIRTY
PTXN_INLINE uint64_t ptxn_arch_pte_mkdirty(uint64_t v)
{
	if (v & PTXN_ARM64_DBM) {
		v &= ~PTXN_ARM64_SW_DIRTY;
		return v & ~PTXN_ARM64_RDONLY;
	}
	return v | PTXN_ARM64_SW_DIRTY;
}

/*
 * Young and hardware dirtiness undone: AF cleared, AP[2] set again on a DBM entry. Bit 55
 * is software state and stays.
 */
#define PTXN_HAVE_ARCH_PTE_STRIP_HW
PTXN_INLINE uint64_t ptxn_arch_pte_strip_hw(uint64_t v)
{
	v &= ~PTXN_ARM64_AF;
	if (v & PTXN_ARM64_DBM)
		v |= PTXN_ARM64_RDONLY;
	return v;
}

/*
 * pte_modify as Linux's: keep PTXN_ARCH_PTE_CHG_MASK, take the new protection (a writable
 * one starts clean, AP[2]=1), then put the old dirtiness where the new writability says:
 * AP[2]=0 on a writable result, bit 55 on a read-only one, so a page made read-only never
 * loses it (Linux pte_modify: "preserve the hardware dirty information").
 */
#define PTXN_HAVE_ARCH_PTE_MODIFY
PTXN_INLINE bool ptxn_arch_pte_dirty(ptxn_pteval_t v); /* hw_dirty or bit 55: generic/pte.h */
PTXN_INLINE uint64_t ptxn_arch_pte_modify(uint64_t v, uint64_t prot_bits)
{
	const bool dirty = ptxn_arch_pte_dirty(v);
	uint64_t n = (v & PTXN_ARCH_PTE_CHG_MASK) | (prot_bits & ~PTXN_ARCH_PTE_CHG_MASK);

	n &= ~PTXN_ARM64_SW_DIRTY;
	if (n & PTXN_ARM64_DBM)
		n |= PTXN_ARM64_RDONLY;
	return dirty ? ptxn_arch_pte_mkdirty(n) : n;
}

/*
 * wrprotect: bit 55 gets "hardware dirty" = DBM && !AP[2]; then DBM goes and AP[2] is set.
 * Natively without a branch; tests/test_differential.c checks both forms agree.
 */
#define PTXN_HAVE_ARCH_PTE_WRPROTECT
#ifdef PTXN_FORCE_GENERIC
PTXN_INLINE uint64_t ptxn_arch_pte_wrprotect(uint64_t v)
{
	if (ptxn_arch_pte_hw_dirty(v))
		v |= PTXN_ARM64_SW_DIRTY;
	return (v & ~PTXN_ARM64_DBM) | PTXN_ARM64_RDONLY;
}
#else
PTXN_INLINE uint64_t ptxn_arch_pte_wrprotect(uint64_t v)
{
	/* DBM (51) >> 4 lands on 47; ~AP[2] (7) << 40 lands on 47; AND them, move to 55. */
	uint64_t hw_dirty = (v >> 4) & (~v << 40) & (UINT64_C(1) << 47);

	v |= hw_dirty << 8;
	return (v & ~PTXN_ARM64_DBM) | PTXN_ARM64_RDONLY;
}
#endif

/*
 * Break-before-make (Arm ARM, "Using break-before-make when updating translation table
 * entries"): changing the output address, memory type (AttrIndx), shareability, NS, the
 * contiguous bit or the descriptor type of a live entry needs invalid entry -> TLB
 * invalidation -> new entry, or the TLB may hold two conflicting translations. Permission
 * bits, AF, DBM, the software bits and global -> not-global may change in place; not-global
 * -> global may not (the old per-ASID entries would survive), as Linux's
 * pgattr_change_is_safe().
 */
#define PTXN_ARM64_CHANGE_IN_PLACE_MASK                                                       \
	(PTXN_ARM64_USER | PTXN_ARM64_RDONLY | PTXN_ARM64_AF | PTXN_ARM64_NG | PTXN_ARM64_GP |  \
	 PTXN_ARM64_DBM | PTXN_ARM64_PXN | PTXN_ARM64_UXN | PTXN_ARM64_SOFTWARE_MASK)
/*
 * The contiguous hint: with a 4 KiB granule, 16 level-3 entries aligned to 64 KiB in VA
 * and OA may be cached as one TLB entry (Arm ARM D8.6.1, "The Contiguous bit"; Linux
 * CONT_PTES). ptxn never changes a live member in place and never leaves a block mixed
 * (core/steps.h, docs/api.md).
 */
#define PTXN_ARCH_PTE_CONT		PTXN_ARM64_CONT
#define PTXN_ARCH_CONT_PTES		16u

/* A cleared entry is invalid: the walker neither uses nor updates it (no write-back). */
#define PTXN_ARCH_MMU_LATE_WRITEBACK 0

PTXN_INLINE bool ptxn_arch_change_needs_break(unsigned mm_flags, uint64_t old, uint64_t next)
{
	(void)mm_flags;
	if (!(old & PTXN_ARM64_VALID) || !(next & PTXN_ARM64_VALID))
		return false; /* one side invalid: nothing conflicting can be cached */
	if ((old ^ next) & ~PTXN_ARM64_CHANGE_IN_PLACE_MASK)
		return true;
	return (old & ~next & PTXN_ARM64_NG) != 0;
}

/*
 * Optional override: the fast paths' first question, in one test. True only where the
 * rule above says no break whatever the entries' validity (every changed bit may change
 * in place, nG is not lost) and next is not a contiguous member; the usual mprotect change
 * (AP[2], DBM, PXN/UXN, AF, software bits) answers it, and anything else falls through to
 * the full rule. One mask test instead of the two validity tests, the mask test, the nG
 * test and the contiguous test (MERGE: 2-3 instructions fewer per commit, docs/bench.md).
 * tests/test_format_props.c checks that it never says yes where the rule says break.
 */
#define PTXN_HAVE_ARCH_CHANGE_IN_PLACE
PTXN_INLINE bool ptxn_arch_change_in_place(uint64_t old, uint64_t next)
{
	return (((old ^ next) & ~PTXN_ARM64_CHANGE_IN_PLACE_MASK) | (old & ~next & PTXN_ARM64_NG) |
		(next & PTXN_ARM64_CONT)) == 0;
}

/*
 * Cortex-A715 erratum 2645198: a permission change of an entry executable at EL0 can
 * corrupt the fault syndrome unless the entry is made invalid and its TLB entry
 * invalidated first. Linux's ptep_modify_prot_start does ptep_clear_flush() whenever
 * pte_user_exec(), which is UXN=0 alone: AP[1] (USER) is not asked, so an execute-only
 * user entry (Linux PAGE_EXECONLY: no AP[1], UXN=0, PXN=1) is broken too. ptxn follows
 * Linux, and only skips entries that are not valid: the MMU does not use them, and
 * Linux's ptep_clear_flush() does not flush them either (pte_accessible() is false).
 */
#define PTXN_ARCH_MM_START_FLAGS ((unsigned)PTXN_MM_ERRATUM_ARM64_2645198)
PTXN_INLINE bool ptxn_arch_start_needs_break(unsigned mm_flags, uint64_t old)
{
	return (mm_flags & PTXN_MM_ERRATUM_ARM64_2645198) && (old & PTXN_ARM64_VALID) &&
	       !(old & PTXN_ARM64_UXN);
}

#ifndef PTXN_FORCE_GENERIC
/*
 * The ARM64 quiescent rule: final when invalid, or AF=1 and no dirty left to record
 * (hardware-dirty, or DBM=0). In a valid entry the MMU may still set AF (AF=0), and record
 * dirty only in a writable-clean one (DBM=1, AP[2]=1): the update is checked against the
 * descriptor in memory (D8.4.6), so no stale TLB entry dirties a read-only one and no mm
 * promise is needed. PTXN_FORCE_GENERIC builds derive the same from
 * PTXN_ARCH_DIRTY_NEEDS_WRITE_IN_MEMORY (generic/pte.h); here in bit arithmetic.
 */
#define PTXN_HAVE_ARCH_PTE_HW_FINAL
PTXN_INLINE bool ptxn_arch_pte_hw_final(unsigned mm_flags, uint64_t v, bool young_ok,
					bool dirty_ok)
{
	const uint64_t invalid = ~v & 1;

	(void)mm_flags;
	return ((invalid | (v >> 10) | (uint64_t)young_ok) &
		(invalid | ~((v >> 51) & (v >> 7)) | (uint64_t)dirty_ok) & 1) != 0;
}
#endif /* !PTXN_FORCE_GENERIC */

#endif /* PTXN_ARCH_ARM64_PTE_H */
