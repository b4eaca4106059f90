/* SPDX-License-Identifier: MIT */
/*
 * ptxn/arch/x86/pte.h - the x86 page-table entry: 64-bit leaf entries of 4-level (and
 * 5-level) IA-32e paging and of 32-bit PAE paging, which share one layout
 * (SDM Vol. 3A 4.4.2 Table 4-11 for PAE, 4.5.4 Table 4-20 for 4-level).
 *
 * This file is where the x86 rules live:
 *  - the dirty rule under CET (a read-only entry keeps its dirtiness in SavedDirty),
 *  - the L1TF rule (a PROT_NONE entry stores its PFN inverted),
 *  - the Knights Landing rule (A/D may appear in an empty entry),
 *  - the quiescent rule (when no MMU can write an entry any more: ptxn_arch_pte_hw_final).
 * The hardware side of A/D (who sets what, when) is in hwemu/x86/mmu.h.
 */
#ifndef PTXN_ARCH_X86_PTE_H
#define PTXN_ARCH_X86_PTE_H

#ifndef PTXN_CORE_INTERNAL
#error "Do not include ptxn/arch/x86/pte.h directly; include <ptxn/ptxn.h>"
#endif

#define PTXN_FORMAT_NAME "x86" /* "x86" for both modes; PTXN_X86_PAE says which */

/* ---- hardware bits (SDM Vol. 3A Table 4-20) ------------------------------------------ */
#define PTXN_X86_PRESENT	(UINT64_C(1) << 0)   /* P */
#define PTXN_X86_RW		(UINT64_C(1) << 1)   /* R/W: writes allowed */
#define PTXN_X86_USER		(UINT64_C(1) << 2)   /* U/S: user-mode accesses allowed */
#define PTXN_X86_PWT		(UINT64_C(1) << 3)
#define PTXN_X86_PCD		(UINT64_C(1) << 4)
#define PTXN_X86_ACCESSED	(UINT64_C(1) << 5)   /* A: set by the walker on every level */
#define PTXN_X86_DIRTY		(UINT64_C(1) << 6)   /* D: set on the leaf by a permitted write */
#define PTXN_X86_PAT		(UINT64_C(1) << 7)   /* leaf only; PS at the upper levels */
#define PTXN_X86_GLOBAL		(UINT64_C(1) << 8)   /* G */
#define PTXN_X86_PFN_MASK	UINT64_C(0x000ffffffffff000) /* bits 12..51, MAXPHYADDR <= 52 */
#define PTXN_X86_PKEY_MASK	(UINT64_C(0xf) << 59) /* protection key, when CR4.PKE=1 */
#define PTXN_X86_NX		(UINT64_C(1) << 63)  /* XD, when IA32_EFER.NXE=1 */

/*
 * Which paging mode the entries are for. 4-level/5-level (IA-32e) and 32-bit PAE share the
 * leaf layout except that PAE reserves bits 52-62 (SDM Vol. 3A Table 4-11, "Reserved (must
 * be 0)"), where IA-32e ignores 52-58 and uses 59-62 for the protection key. A 32-bit CPU
 * has only PAE for 64-bit entries, so i386 hosts default to it; define PTXN_X86_PAE to 0 or
 * 1 to choose explicitly (e.g. to build IA-32e tables from a 32-bit emulator).
 */
#ifndef PTXN_X86_PAE
#if defined(__i386__)
#define PTXN_X86_PAE 1
#else
#define PTXN_X86_PAE 0
#endif
#endif

/* ---- software bits (ignored by the MMU: 9-11, and 52-58 in IA-32e paging) -------------- */
/*
 * SavedDirty. With CET shadow stacks a leaf with R/W=0 and D=1 *is* a shadow-stack page
 * (SDM Vol. 3A 4.6, "shadow-stack pages": R/W=0 and D=1 in the leaf), so an ordinary page made
 * read-only while dirty must not keep D=1. Its dirtiness moves to this bit and comes back
 * to D when the page is made writable again. Linux uses bit 58 (_PAGE_SAVED_DIRTY, v6.6).
 */
/*
 * PTXN_X86_NO_SAVED_DIRTY (define to 1): no SavedDirty bit; a read-only entry keeps its
 * dirtiness in D, as Linux did on x86 before v6.6. Needed by code that shares its entries
 * with such a kernel: there bit 58 is _PAGE_DEVMAP (v6.1 arch/x86/include/asm/
 * pgtable_types.h, _PAGE_BIT_SOFTW4) and pte_dirty() reads D alone, so SavedDirty would
 * mark an ordinary page as device memory and hide its dirtiness from the kernel (found by
 * examples/linux-module/ on Debian 12's 6.1 kernel). Only for address spaces without CET
 * shadow stacks (a read-only entry with D=1 is one, SDM Vol. 3A 4.6).
 */
#ifndef PTXN_X86_NO_SAVED_DIRTY
#define PTXN_X86_NO_SAVED_DIRTY 0
#endif
#if PTXN_X86_NO_SAVED_DIRTY
#define PTXN_X86_SAVED_DIRTY	0
#define PTXN_X86_DIRTY_TO_SAVED_SHIFT 0
#if PTXN_X86_PAE
#define PTXN_X86_SOFTWARE_MASK	(UINT64_C(0x7) << 9)
#define PTXN_X86_RESERVED_MASK	(UINT64_C(0x7ff) << 52)
#else
#define PTXN_X86_SOFTWARE_MASK	(UINT64_C(0x7) << 9 | UINT64_C(0x7f) << 52)
#define PTXN_X86_RESERVED_MASK	0
#endif
#elif PTXN_X86_PAE
/*
 * In PAE entries bit 58 is reserved: a present entry with it set is a reserved-bit page
 * fault (found by the qemu-system-i386 tier, baremetal/). SavedDirty lives in the ignored
 * bit 10 there, as Linux's 32-bit _PAGE_SAVED_DIRTY (_PAGE_BIT_SOFTW2).
 */
#define PTXN_X86_SAVED_DIRTY	(UINT64_C(1) << 10)
#define PTXN_X86_DIRTY_TO_SAVED_SHIFT 4
#define PTXN_X86_SOFTWARE_MASK	(UINT64_C(0x7) << 9)
#define PTXN_X86_RESERVED_MASK	(UINT64_C(0x7ff) << 52)
#else
#define PTXN_X86_SAVED_DIRTY	(UINT64_C(1) << 58)
#define PTXN_X86_DIRTY_TO_SAVED_SHIFT 52
#define PTXN_X86_SOFTWARE_MASK	(UINT64_C(0x7) << 9 | UINT64_C(0x7f) << 52)
#define PTXN_X86_RESERVED_MASK	0 /* at the format level: MAXPHYADDR is per CPU */
#endif
/*
 * PROT_NONE: an entry with P=0 that software still treats as present (the page exists
 * but every access must fault). Bit 8 is free when P=0 (G only means something in a present
 * entry); Linux calls it _PAGE_PROTNONE.
 */
#define PTXN_X86_PROTNONE	PTXN_X86_GLOBAL

/* ---- the format as generic/pte.h sees it ---------------------------------------------- */
#define PTXN_ARCH_PTE_BIG_ENDIAN	0
#define PTXN_ARCH_PAGE_SHIFT		12
#define PTXN_ARCH_PTE_PFN_MASK		PTXN_X86_PFN_MASK
#define PTXN_ARCH_PTE_HW_VALID		PTXN_X86_PRESENT
#define PTXN_ARCH_PTE_PRESENT		(PTXN_X86_PRESENT | PTXN_X86_PROTNONE)
/*
 * Knights Landing erratum (Xeon Phi x200 spec update, KNL4; Linux commit "x86/mm: Ignore
 * A/D bits in pte/pmd/pud_none()"): the CPU may set A and D in an entry that is not
 * present. An empty entry that gained them is still empty.
 */
#define PTXN_ARCH_PTE_MMU_SETS_IN_NONE	(PTXN_X86_ACCESSED | PTXN_X86_DIRTY)
#define PTXN_ARCH_PTE_YOUNG		PTXN_X86_ACCESSED
#define PTXN_ARCH_PTE_HW_DIRTY		PTXN_X86_DIRTY
#define PTXN_ARCH_PTE_WRITE		PTXN_X86_RW
#define PTXN_ARCH_PTE_SW_DIRTY		PTXN_X86_SAVED_DIRTY
/*
 * Is the MMU's dirty update checked against the entry *in memory*? Not on x86: before
 * CET a processor holding a writable TLB entry with D=0 may set D in an entry whose R/W
 * software has already cleared (SDM Vol. 3A 4.8, "the processor may set the dirty flag
 * ... using information cached in the TLB"), so R/W=0 alone does not make an entry safe
 * from hardware writes; only A=1 and D=1 does.
 */
#define PTXN_ARCH_DIRTY_NEEDS_WRITE_IN_MEMORY 0
/*
 * L1 Terminal Fault (Intel SA-00161): a not-present entry is still looked up
 * speculatively, so a PROT_NONE entry stores its PFN inverted to point outside physical
 * memory. Inverted whenever the entry is non-zero and P=0 (Linux __pte_needs_invert).
 * Part of the format: PTXN_FORCE_GENERIC builds use it too.
 */
#define PTXN_HAVE_ARCH_PTE_PFN_INVERTED
PTXN_INLINE bool ptxn_arch_pte_pfn_inverted(uint64_t v)
{
	return v && !(v & PTXN_X86_PRESENT);
}
/*
 * pte_modify keeps these and takes everything else from the new protection: the frame,
 * the cache attributes (PWT, PCD, PAT), A, D, SavedDirty and every software bit, as
 * Linux's _PAGE_CHG_MASK. Protection = P, R/W, U/S, G, protection key, NX.
 */
#define PTXN_ARCH_PTE_CHG_MASK                                                              \
	(PTXN_X86_PFN_MASK | PTXN_X86_PWT | PTXN_X86_PCD | PTXN_X86_PAT | PTXN_X86_ACCESSED | \
	 PTXN_X86_DIRTY | PTXN_X86_SOFTWARE_MASK)
/* Bits no entry may have set: PAE's 52-62; none for IA-32e at the format level. */
#define PTXN_ARCH_PTE_RESERVED		PTXN_X86_RESERVED_MASK

/* Which flag combinations x86 can express: no write-only, no execute-only pages. */
PTXN_INLINE unsigned ptxn_arch_prot_normalize(unsigned flags)
{
	flags &= PTXN_PROT_READ | PTXN_PROT_WRITE | PTXN_PROT_EXEC | PTXN_PROT_USER;
	if (flags & (PTXN_PROT_WRITE | PTXN_PROT_EXEC))
		flags |= PTXN_PROT_READ;
	if (!(flags & PTXN_PROT_READ))
		return 0; /* PROT_NONE: user or kernel alike */
	return flags;
}

PTXN_INLINE uint64_t ptxn_arch_prot_bits(unsigned flags)
{
	uint64_t bits;

	flags = ptxn_arch_prot_normalize(flags);
	if (!flags)
		return PTXN_X86_PROTNONE | PTXN_X86_NX;
	bits = PTXN_X86_PRESENT;
	if (flags & PTXN_PROT_WRITE)
		bits |= PTXN_X86_RW;
	if (flags & PTXN_PROT_USER)
		bits |= PTXN_X86_USER;
	if (!(flags & PTXN_PROT_EXEC))
		bits |= PTXN_X86_NX;
	return bits;
}

PTXN_INLINE bool ptxn_arch_pte_exec(uint64_t v)
{
	return (v & PTXN_X86_PRESENT) && !(v & PTXN_X86_NX);
}

PTXN_INLINE unsigned ptxn_arch_pte_prot_flags(uint64_t v)
{
	unsigned flags = 0;

	if (!(v & PTXN_X86_PRESENT))
		return 0;
	flags |= PTXN_PROT_READ;
	if (v & PTXN_X86_RW)
		flags |= PTXN_PROT_WRITE;
	if (!(v & PTXN_X86_NX))
		flags |= PTXN_PROT_EXEC;
	if (v & PTXN_X86_USER)
		flags |= PTXN_PROT_USER;
	return flags;
}

/*
 * Transaction rules. x86 changes permissions of a live entry in place: no
 * break-before-make is architecturally required (SDM Vol. 3A 4.10.4.3, software may
 * modify a paging-structure entry and invalidate afterwards), and no erratum forces one.
 * A cleared entry receives no hardware update but KNL's stray A/D, which is not an access.
 */
#define PTXN_ARCH_MMU_LATE_WRITEBACK 0

/*
 * A young entry with R/W=0 can only gain D through a stale writable TLB entry, and only
 * before CET (SDM Vol. 3A 4.8, last paragraphs): with PTXN_MM_X86_CET it is final, and
 * with the caller's PTXN_MM_WRPROTECT_FLUSHED (no stale writable TLB entry is left).
 */
#define PTXN_ARCH_MM_READONLY_FINAL ((unsigned)PTXN_MM_X86_CET | (unsigned)PTXN_MM_WRPROTECT_FLUSHED)
PTXN_INLINE bool ptxn_arch_change_needs_break(unsigned mm_flags, uint64_t old, uint64_t next)
{
	(void)mm_flags, (void)old, (void)next;
	return false;
}

PTXN_INLINE bool ptxn_arch_start_needs_break(unsigned mm_flags, uint64_t old)
{
	(void)mm_flags, (void)old;
	return false;
}

/*
 * pte_modify, the x86 way (Linux arch/x86/include/asm/pgtable.h, pte_modify()): keep
 * PTXN_ARCH_PTE_CHG_MASK, take the new protection, store the PFN inverted exactly when
 * the result is a non-zero not-present entry (L1TF), then place dirtiness by what the
 * *old* entry was, as Linux does:
 *  - a writable result keeps its dirtiness in D (SavedDirty moved back,
 *    pte_clear_saveddirty);
 *  - a read-only result of a writable entry gets its D moved to SavedDirty
 *    (pte_mksaveddirty), so no ordinary page ever becomes R/W=0,D=1;
 *  - a read-only result of a read-only entry keeps D where it is: an entry that already
 *    is R/W=0,D=1 - a CET shadow-stack page (SDM Vol. 3A 4.6.1), or on a pre-CET CPU a
 *    read-only page a stale TLB entry dirtied (SDM 4.8) - stays as it is (e.g. mprotect
 *    of a shadow stack to PROT_READ keeps it a shadow stack).
 * Part of the format, not an optional override: PTXN_FORCE_GENERIC builds use it too.
 */
#define PTXN_HAVE_ARCH_PTE_MODIFY
PTXN_INLINE uint64_t ptxn_arch_pte_modify(uint64_t v, uint64_t prot_bits)
{
	/*
	 * The branches ask only what the protections say (present? writable?), the same for
	 * every entry of an mprotect and so predicted; D moves without one, so dirty and clean
	 * entries at random cost nothing extra.
	 */
	uint64_t n = (v & PTXN_ARCH_PTE_CHG_MASK) | (prot_bits & ~PTXN_ARCH_PTE_CHG_MASK);

	if ((v && !(v & PTXN_X86_PRESENT)) != (n && !(n & PTXN_X86_PRESENT)))
		n ^= PTXN_X86_PFN_MASK;
	if (PTXN_X86_SAVED_DIRTY == 0) {
		/* no SavedDirty: D stays where it is */
	} else if (n & PTXN_X86_RW) {
		n |= (n & PTXN_X86_SAVED_DIRTY) >> PTXN_X86_DIRTY_TO_SAVED_SHIFT;
		n &= ~PTXN_X86_SAVED_DIRTY;
	} else if (v & PTXN_X86_RW) {
		n |= (n & PTXN_X86_DIRTY) << PTXN_X86_DIRTY_TO_SAVED_SHIFT;
		n &= ~PTXN_X86_DIRTY;
	}
	return n;
}

#ifndef PTXN_FORCE_GENERIC
/*
 * The x86 quiescent rule: final when P=0, or A=1 and D=1; with PTXN_ARCH_MM_READONLY_FINAL
 * (CET, or write-protections flushed) also A=1 and R/W=0. The MMU may still set A in a
 * present entry with A=0, and D in a present entry with D=0 - also a read-only one,
 * through a stale writable TLB entry (SDM Vol. 3A 4.8), unless the mm promises read-only
 * is final; then only where R/W is set (bit 1, shifted onto D, bit 6). PTXN_FORCE_GENERIC
 * builds derive the same in generic/pte.h. may_set is loop-invariant but for that shift:
 * a batch tests an entry in a handful of instructions.
 */
#define PTXN_HAVE_ARCH_PTE_HW_FINAL
PTXN_INLINE bool ptxn_arch_pte_hw_final(unsigned mm_flags, uint64_t v, bool young_ok,
					bool dirty_ok)
{
	const uint64_t read_only_gains =
		(mm_flags & PTXN_ARCH_MM_READONLY_FINAL) ? 0 : PTXN_X86_DIRTY;
	const uint64_t may_set =
		(young_ok ? 0 : PTXN_X86_ACCESSED) |
		(dirty_ok ? 0 : PTXN_X86_DIRTY & ((v << 5) | read_only_gains)); /* RW -> D */

	return ((v & PTXN_X86_PRESENT) & (uint64_t)((~v & may_set) != 0)) == 0;
}

#if !PTXN_X86_NO_SAVED_DIRTY /* else generic/pte.h's forms, for a format without SW_DIRTY */
/*
 * Optional override: fold_hw without a branch on the entry's A/D (a batch folds every
 * entry; dirty and clean at random would mispredict): A as is; D to D in a writable
 * next, to SavedDirty in a read-only one (the CET rule).
 */
#define PTXN_HAVE_ARCH_PTE_FOLD_HW
PTXN_INLINE uint64_t ptxn_arch_pte_fold_hw(uint64_t next, uint64_t now)
{
	const uint64_t d = (now >> 6) & 1, ro = !(next & PTXN_X86_RW);

	next |= now & PTXN_X86_ACCESSED;
	next &= ~(PTXN_X86_SAVED_DIRTY & -(d & (ro ^ 1))); /* mkdirty of a writable entry */
	next |= (d << 6) << (PTXN_X86_DIRTY_TO_SAVED_SHIFT * ro);
	return next;
}

/*
 * Optional overrides: branch-free forms of the SavedDirty moves (bit 6 <-> bit 58 is a
 * shift by 52; by 4 under PTXN_X86_PAE). They must agree with generic/pte.h bit for bit;
 * tests/test_differential.c checks it.
 */
PTXN_STATIC_ASSERT(PTXN_X86_DIRTY << PTXN_X86_DIRTY_TO_SAVED_SHIFT == PTXN_X86_SAVED_DIRTY,
		   "SavedDirty must be D shifted by PTXN_X86_DIRTY_TO_SAVED_SHIFT");

#define PTXN_HAVE_ARCH_PTE_WRPROTECT
PTXN_INLINE uint64_t ptxn_arch_pte_wrprotect(uint64_t v)
{
	v |= (v & PTXN_X86_DIRTY) << PTXN_X86_DIRTY_TO_SAVED_SHIFT;
	return v & ~(PTXN_X86_DIRTY | PTXN_X86_RW);
}

#define PTXN_HAVE_ARCH_PTE_MKWRITE
PTXN_INLINE uint64_t ptxn_arch_pte_mkwrite(uint64_t v)
{
	v |= (v & PTXN_X86_SAVED_DIRTY) >> PTXN_X86_DIRTY_TO_SAVED_SHIFT;
	return (v & ~PTXN_X86_SAVED_DIRTY) | PTXN_X86_RW;
}
#endif /* !PTXN_X86_NO_SAVED_DIRTY */
#endif /* !PTXN_FORCE_GENERIC */

#endif /* PTXN_ARCH_X86_PTE_H */
