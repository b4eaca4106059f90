/* SPDX-License-Identifier: MIT */
/*
 * ptxn/arch/powerpc/pte.h - the Power ISA 3.0+ radix page table entry (Book III 6.7.10.2,
 * "Radix Tree Page Table Entry"), 4 KiB pages; Linux's book3s/64 radix layout is this
 * hardware layout.
 *
 * Two things make it different:
 *  - the MMU reads entries big-endian, on ppc64le too: the slot is stored big-endian and
 *    every access converts (core/ does it once per load/store; masks are pre-converted);
 *  - R (Reference) and C (Change) are set either by the MMU with an atomic update or, on
 *    implementations that choose so, by software after a storage interrupt (ISA 3.0
 *    allows both; QEMU's radix model switched to the interrupt). ptxn is correct under
 *    both because it never relies on who sets them, only on not losing them.
 * Its R/C and quiescent rules are the common ones of generic/pte.h, answered below.
 * Bits below are in the ISA's LSB-0 numbering of the 64-bit value (ISA bit n = 63 - n).
 */
#ifndef PTXN_ARCH_POWERPC_PTE_H
#define PTXN_ARCH_POWERPC_PTE_H

#ifndef PTXN_CORE_INTERNAL
#error "Do not include ptxn/arch/powerpc/pte.h directly; include <ptxn/ptxn.h>"
#endif

#define PTXN_FORMAT_NAME "powerpc-radix"

/* ---- hardware bits ------------------------------------------------------------------ */
#define PTXN_PPC_VALID		(UINT64_C(1) << 63) /* V (ISA bit 0) */
#define PTXN_PPC_LEAF		(UINT64_C(1) << 62) /* L (ISA bit 1): this is a PTE */
#define PTXN_PPC_RPN_MASK	UINT64_C(0x01fffffffffff000) /* RPN, ISA bits 7..51 */
#define PTXN_PPC_RESERVED_MASK	(UINT64_C(0xf) << 57) /* ISA bits 3..6 */
#define PTXN_PPC_REFERENCE	(UINT64_C(1) << 8)  /* R (ISA bit 55): accessed */
#define PTXN_PPC_CHANGE		(UINT64_C(1) << 7)  /* C (ISA bit 56): dirty */
#define PTXN_PPC_ATT_MASK	(UINT64_C(3) << 4)  /* 00 normal, 01 SAO, 10 NI I/O, 11 tolerant I/O */
#define PTXN_PPC_PRIVILEGED	(UINT64_C(1) << 3)  /* EAA[0]: no problem-state (user) access */
#define PTXN_PPC_READ		(UINT64_C(1) << 2)
#define PTXN_PPC_WRITE		(UINT64_C(1) << 1)
#define PTXN_PPC_EXEC		(UINT64_C(1) << 0)

/* ---- software bits: SW0 (ISA bit 2) and SW1..3 (ISA bits 52..54) --------------------- */
/*
 * "Present to software, invalid to the MMU": Linux's _PAGE_INVALID. Linux's book3s64
 * ptep_modify_prot_start clears V and sets this, so the entry still looks present to the
 * kernel while no translation can use it; ptxn's CLEAR strategy does the same here.
 */
#define PTXN_PPC_INVALID	(UINT64_C(1) << 61)
#define PTXN_PPC_SOFT_DIRTY	(UINT64_C(1) << 9)
#define PTXN_PPC_SPECIAL	(UINT64_C(1) << 10)
#define PTXN_PPC_SOFTWARE_MASK	(PTXN_PPC_INVALID | UINT64_C(0x7) << 9)

/* ---- the format as generic/pte.h sees it ---------------------------------------------- */
#define PTXN_ARCH_PTE_BIG_ENDIAN	1
#define PTXN_ARCH_PAGE_SHIFT		12
#define PTXN_ARCH_PTE_PFN_MASK		PTXN_PPC_RPN_MASK
#define PTXN_ARCH_PTE_HW_VALID		PTXN_PPC_VALID
#define PTXN_ARCH_PTE_PRESENT		(PTXN_PPC_VALID | PTXN_PPC_INVALID)
/*
 * An empty entry can still receive an R or C write-back from a translation that was in
 * flight when software cleared it (Linux RADIX_PTE_NONE_MASK): still empty.
 */
#define PTXN_ARCH_PTE_MMU_SETS_IN_NONE	(PTXN_PPC_REFERENCE | PTXN_PPC_CHANGE)
#define PTXN_ARCH_PTE_YOUNG		PTXN_PPC_REFERENCE
#define PTXN_ARCH_PTE_HW_DIRTY		PTXN_PPC_CHANGE
#define PTXN_ARCH_PTE_WRITE		PTXN_PPC_WRITE
/* C is meaningful on any entry: no software dirty bit is needed. */
#define PTXN_ARCH_PTE_SW_DIRTY		0
/*
 * The ISA does not promise that a store through a cached translation re-checks the entry
 * in memory before setting C, so, as on x86, only R=1 and C=1 make an entry final.
 */
#define PTXN_ARCH_DIRTY_NEEDS_WRITE_IN_MEMORY 0
/*
 * pte_modify keeps the RPN, R, C, the leaf bit and the software bits SW1..3 (Linux's
 * _PAGE_CHG_MASK for book3s64); protection = V, the attributes, EAA (privileged, R, W, X).
 * INVALID is not kept: it is a transient state of the entry (broken by a transaction), and
 * the new protection decides whether the entry is valid, as in Linux, where _PAGE_INVALID
 * is not in _PAGE_CHG_MASK either.
 */
#define PTXN_ARCH_PTE_CHG_MASK                                                              \
	(PTXN_PPC_RPN_MASK | PTXN_PPC_REFERENCE | PTXN_PPC_CHANGE | PTXN_PPC_LEAF |          \
	 (PTXN_PPC_SOFTWARE_MASK & ~PTXN_PPC_INVALID))
#define PTXN_ARCH_PTE_RESERVED		PTXN_PPC_RESERVED_MASK

/*
 * Radix encodes read, write and execute independently, so execute-only pages exist
 * (Linux PAGE_EXECONLY); write still implies read, as mmap's PROT_WRITE does everywhere.
 */
PTXN_INLINE unsigned ptxn_arch_prot_normalize(unsigned flags)
{
	flags &= PTXN_PROT_READ | PTXN_PROT_WRITE | PTXN_PROT_EXEC | PTXN_PROT_USER;
	if (flags & PTXN_PROT_WRITE)
		flags |= PTXN_PROT_READ;
	if (!(flags & (PTXN_PROT_READ | PTXN_PROT_EXEC)))
		return 0;
	return flags;
}

PTXN_INLINE uint64_t ptxn_arch_prot_bits(unsigned flags)
{
	uint64_t bits = PTXN_PPC_VALID | PTXN_PPC_LEAF; /* attributes 00: normal memory */

	flags = ptxn_arch_prot_normalize(flags);
	/*
	 * PROT_NONE as Linux's PAGE_NONE: a valid, privileged entry with no access rights, so
	 * it stays present to software and every access faults.
	 */
	if (!(flags & PTXN_PROT_USER))
		bits |= PTXN_PPC_PRIVILEGED;
	if (flags & PTXN_PROT_READ)
		bits |= PTXN_PPC_READ;
	if (flags & PTXN_PROT_WRITE)
		bits |= PTXN_PPC_WRITE;
	if (flags & PTXN_PROT_EXEC)
		bits |= PTXN_PPC_EXEC;
	return bits;
}

PTXN_INLINE bool ptxn_arch_pte_exec(uint64_t v)
{
	return (v & PTXN_PPC_EXEC) != 0;
}

PTXN_INLINE unsigned ptxn_arch_pte_prot_flags(uint64_t v)
{
	unsigned flags = 0;

	if (!(v & (PTXN_PPC_VALID | PTXN_PPC_INVALID)))
		return 0;
	if (v & PTXN_PPC_READ)
		flags |= PTXN_PROT_READ;
	if (v & PTXN_PPC_WRITE)
		flags |= PTXN_PROT_WRITE;
	if (v & PTXN_PPC_EXEC)
		flags |= PTXN_PROT_EXEC;
	if (flags && !(v & PTXN_PPC_PRIVILEGED))
		flags |= PTXN_PROT_USER;
	return flags;
}

/*
 * Breaking an entry (CLEAR strategy, break-before-make) clears V and sets the software
 * INVALID bit, as Linux's book3s64 ptep_modify_prot_start does, so the entry stays present
 * to software. ptxn also clears R and C there: a translation that was in flight may still
 * write R/C back into the invalid entry (Linux RADIX_PTE_NONE_MASK), and with R/C cleared
 * at the break everything found at commit is such a late update, to be kept.
 */
#define PTXN_ARCH_PTE_BREAK_MARK PTXN_PPC_INVALID
#define PTXN_ARCH_MMU_LATE_WRITEBACK 1

/*
 * The PowerPC radix quiescent rule, which generic/pte.h's ptxn_arch_pte_hw_final() derives
 * from the answers above: final when empty (nothing but R/C), or V=1, R=1 and C=1; with
 * PTXN_MM_WRPROTECT_FLUSHED also R=1 and read-only (the ISA does not promise that a store
 * through a cached translation re-checks the entry before setting C). A broken entry
 * (V=0, INVALID) is never final: a translation in flight may still write R/C back.
 */

/*
 * POWER9 nest MMU: relaxing the access of an entry in place while a coprocessor has it
 * cached can hang the coprocessor; Linux's radix__ptep_modify_prot_commit flushes between
 * the invalid entry and the upgraded one when mm->context.copros > 0. ptxn treats any
 * gain of access (R, W, X, or user access) as an upgrade.
 */
/* Only a coprocessor mm ever needs it: such an mm takes the general path, and the fast
 * paths, asking with no flags, lose the test (generic/pte.h). */
#define PTXN_ARCH_MM_CHANGE_FLAGS ((unsigned)PTXN_MM_COPROCESSOR)
PTXN_INLINE bool ptxn_arch_change_needs_break(unsigned mm_flags, uint64_t old, uint64_t next)
{
	const uint64_t rights = PTXN_PPC_READ | PTXN_PPC_WRITE | PTXN_PPC_EXEC;

	if (!(mm_flags & PTXN_MM_COPROCESSOR))
		return false;
	return (next & ~old & rights) || ((old & ~next) & PTXN_PPC_PRIVILEGED);
}

PTXN_INLINE bool ptxn_arch_start_needs_break(unsigned mm_flags, uint64_t old)
{
	(void)mm_flags, (void)old;
	return false;
}

#endif /* PTXN_ARCH_POWERPC_PTE_H */
