/* SPDX-License-Identifier: MIT */
/*
 * ptxn/arch/riscv/pte.h - the RISC-V Sv39/Sv48 leaf page table entry, 4 KiB pages.
 *
 * Source: The RISC-V Instruction Set Manual, Volume II: Privileged Architecture, document
 * version 20211203 ("priv 20211203" below): 4.3.1 "Addressing and Memory Protection" (the
 * Sv32 rules Sv39 and Sv48 inherit: V R W X U G A D, RSW, the two A/D schemes), 4.3.2
 * "Virtual Address Translation Process", 4.4 "Sv39" (PPN at bits 10-53, bits 54-60
 * reserved), 4.5 "Sv48" (same leaf layout, one more level), chapter 5 "Svnapot" (bit 63)
 * and chapter 6 "Svpbmt" (bits 61-62). The two A/D schemes of 4.3.1 were later named
 * Svade (a page fault, software sets A/D) and Svadu (the hart sets them); that naming is
 * used here. Software conventions follow Linux arch/riscv/include/asm/pgtable*.h.
 *
 * What differs from the common form of generic/pte.h:
 *  - the frame number sits at bit 10, not at bit 12 (PTXN_ARCH_PTE_PFN_SHIFT);
 *  - PROT_NONE is V=0 with G set (Linux _PAGE_PROT_NONE), so present = V | G;
 *  - the quiescent rule (ptxn_arch_pte_hw_final, at the end) and the Svade promise
 *    PTXN_MM_RISCV_SVADE;
 *  - Svnapot is refused in this version: N (bit 63) is treated as reserved (below).
 * D is a plain dirty bit that may stay on a read-only entry (no CET-like meaning), so the
 * dirty rule is generic/pte.h's, with no software dirty bit. Entries are little-endian in
 * memory: implicit accesses to page tables use S-mode endianness (priv 20211203 4.1.1,
 * "Endianness Control in sstatus"), little-endian on every Linux riscv64 system.
 */
#ifndef PTXN_ARCH_RISCV_PTE_H
#define PTXN_ARCH_RISCV_PTE_H

#ifndef PTXN_CORE_INTERNAL
#error "Do not include ptxn/arch/riscv/pte.h directly; include <ptxn/ptxn.h>"
#endif

#define PTXN_FORMAT_NAME "riscv"

/* ---- hardware bits (priv 20211203 4.3.1, Sv32 PTE bits 9-0, kept by 4.4 for Sv39) ------- */
#define PTXN_RISCV_V		(UINT64_C(1) << 0)  /* valid: if 0, every other bit is software's */
#define PTXN_RISCV_R		(UINT64_C(1) << 1)  /* readable */
#define PTXN_RISCV_W		(UINT64_C(1) << 2)  /* writable; W=1 with R=0 is reserved */
#define PTXN_RISCV_X		(UINT64_C(1) << 3)  /* executable */
#define PTXN_RISCV_U		(UINT64_C(1) << 4)  /* user-mode accessible (never S-mode executable) */
#define PTXN_RISCV_G		(UINT64_C(1) << 5)  /* global mapping */
#define PTXN_RISCV_A		(UINT64_C(1) << 6)  /* accessed */
#define PTXN_RISCV_D		(UINT64_C(1) << 7)  /* dirty */
#define PTXN_RISCV_RSW_MASK	(UINT64_C(3) << 8)  /* RSW: "the implementation shall ignore" */
#define PTXN_RISCV_PPN_SHIFT	10
#define PTXN_RISCV_PPN_MASK	UINT64_C(0x003ffffffffffc00) /* 4.4: PPN[2:0], bits 10-53 */
#define PTXN_RISCV_RESERVED_MASK (UINT64_C(0x7f) << 54) /* 4.4: bits 60-54, page fault if set */
/* Svpbmt (chapter 6): 0 PMA, 1 NC, 2 IO, 3 reserved (a page fault in a leaf). */
#define PTXN_RISCV_PBMT_MASK	(UINT64_C(3) << 61)
#define PTXN_RISCV_PBMT_NC	(UINT64_C(1) << 61)
#define PTXN_RISCV_PBMT_IO	(UINT64_C(2) << 61)
/* Svnapot (chapter 5): N=1 marks one entry of a naturally aligned 64 KiB range. */
#define PTXN_RISCV_N		(UINT64_C(1) << 63)
#define PTXN_RISCV_LEAF_RWX	(PTXN_RISCV_R | PTXN_RISCV_W | PTXN_RISCV_X)

/* ---- software bits: the two RSW bits, as Linux uses them ---------------------------------- */
#define PTXN_RISCV_SPECIAL	(UINT64_C(1) << 8)  /* Linux _PAGE_SPECIAL */
#define PTXN_RISCV_DEVMAP	(UINT64_C(1) << 9)  /* Linux _PAGE_DEVMAP (until its removal) */
/*
 * PROT_NONE: an entry the MMU cannot use (V=0) that software still treats as present.
 * G means nothing when V=0 (4.3.1: "if it is 0, all other bits in the PTE are don't-cares
 * and may be used freely by software"); Linux calls it _PAGE_PROT_NONE and encodes
 * PAGE_NONE as _PAGE_PROT_NONE | _PAGE_READ, which is kept here bit for bit.
 */
#define PTXN_RISCV_PROT_NONE	PTXN_RISCV_G

/* ---- the format as generic/pte.h sees it ---------------------------------------------- */
#define PTXN_ARCH_PTE_BIG_ENDIAN	0
#define PTXN_ARCH_PAGE_SHIFT		12
/* The frame number field starts at bit 10 (PPN[0]), two bits below the page offset's width. */
#define PTXN_ARCH_PTE_PFN_SHIFT		PTXN_RISCV_PPN_SHIFT
#define PTXN_ARCH_PTE_PFN_MASK		PTXN_RISCV_PPN_MASK
#define PTXN_ARCH_PTE_HW_VALID		PTXN_RISCV_V
#define PTXN_ARCH_PTE_PRESENT		(PTXN_RISCV_V | PTXN_RISCV_PROT_NONE)
/*
 * The hart never writes an invalid entry: a Svadu update "must atomically check that the
 * PTE is valid" (4.3.1), and 4.3.2 step 7 compares the whole entry first.
 */
#define PTXN_ARCH_PTE_MMU_SETS_IN_NONE	0
#define PTXN_ARCH_PTE_YOUNG		PTXN_RISCV_A
#define PTXN_ARCH_PTE_HW_DIRTY		PTXN_RISCV_D
#define PTXN_ARCH_PTE_WRITE		PTXN_RISCV_W
/* D on a read-only entry means what it says (Linux pte_wrprotect keeps it): no software bit. */
#define PTXN_ARCH_PTE_SW_DIRTY		0
/*
 * The dirty update is checked against the entry in memory: 4.3.2 step 7 sets D only after
 * comparing the PTE it used with "the value of the PTE at address a+va.vpn[i]×PTESIZE"
 * atomically, and "the address-translation cache cannot be used in step 7; accessed and
 * dirty bits may only be updated in memory directly"; 4.3.1 adds that the update "must
 * atomically check that the PTE is valid and grants sufficient permissions". So a stale
 * writable translation cannot set D in an entry whose W software has cleared: A=1 and
 * W=0 is final, without any promise from the caller.
 */
#define PTXN_ARCH_DIRTY_NEEDS_WRITE_IN_MEMORY 1
/*
 * pte_modify keeps what Linux's riscv64 _PAGE_CHG_MASK keeps: everything but V, R, W, X,
 * U, G and the Svpbmt memory type - so the PPN, A, D, both RSW bits, N and the reserved
 * bits. G is protection here because it is the PROT_NONE mark.
 */
#define PTXN_RISCV_PROT_MASK                                                                  \
	(PTXN_RISCV_V | PTXN_RISCV_LEAF_RWX | PTXN_RISCV_U | PTXN_RISCV_G | PTXN_RISCV_PBMT_MASK)
#define PTXN_ARCH_PTE_CHG_MASK		(~PTXN_RISCV_PROT_MASK)
/*
 * Svnapot is not supported by this version of ptxn. A NAPOT entry stores the range's PPN
 * with its low bits replaced by the size code (5, table "Page table entry encodings when
 * pte.N=1": ppn[0][3:0] = 1000 for 64 KiB) and is identical in all 16 slots, so neither
 * the frame arithmetic nor the contiguous-block discipline of core/steps.h (built for
 * ARM64 CONT, where every member keeps its own frame) applies to it as it stands. ptxn
 * therefore treats the format as Sv39/Sv48 with Svpbmt and without Svnapot, where 4.4
 * says bit 63 "remains reserved and must be zeroed by software ... or else a page-fault
 * exception is raised": ptxn never makes an entry with N set, the tests check that no
 * transaction produces one, and the simulated walker (hwemu/riscv/mmu.h) faults on it as
 * such a hart does. Do not pass ptxn a NAPOT entry; Linux uses them only for hugetlb
 * (arch/riscv/mm/hugetlbpage.c), never through ptep_modify_prot_start.
 */
#define PTXN_ARCH_PTE_RESERVED		(PTXN_RISCV_RESERVED_MASK | PTXN_RISCV_N)

/*
 * The protections RISC-V can express (4.3.1, table "Encoding of PTE R/W/X fields"):
 * write implies read (W without R is reserved), execute-only exists (Linux PAGE_EXEC is
 * X without R); no R, W or X at all is PROT_NONE.
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
	uint64_t bits;

	flags = ptxn_arch_prot_normalize(flags);
	if (!flags) /* Linux PAGE_NONE: V=0, _PAGE_PROT_NONE (G) and R */
		return PTXN_RISCV_PROT_NONE | PTXN_RISCV_R;
	/*
	 * Clean and old (ptxn's constructors; Linux presets A in _PAGE_BASE because a Svade
	 * hart would fault on A=0, which a transaction neither needs nor minds). Kernel
	 * pages are global, as Linux's _PAGE_KERNEL; user pages are per-ASID. PBMT=0: the
	 * physical memory attributes apply (6, "PMA").
	 */
	bits = PTXN_RISCV_V;
	if (flags & PTXN_PROT_READ)
		bits |= PTXN_RISCV_R;
	if (flags & PTXN_PROT_WRITE)
		bits |= PTXN_RISCV_W;
	if (flags & PTXN_PROT_EXEC)
		bits |= PTXN_RISCV_X;
	bits |= (flags & PTXN_PROT_USER) ? PTXN_RISCV_U : PTXN_RISCV_G;
	return bits;
}

/* Executable at the mode the page is for (4.3.1: S-mode never executes a U=1 page). */
PTXN_INLINE bool ptxn_arch_pte_exec(uint64_t v)
{
	return (v & (PTXN_RISCV_V | PTXN_RISCV_X)) == (PTXN_RISCV_V | PTXN_RISCV_X);
}

/*
 * The rights a valid leaf grants; none for an invalid entry and for the reserved
 * W-without-R encodings, which the walker faults (4.3.2 step 3: "if pte.r=0 and pte.w=1,
 * stop and raise a page-fault exception").
 */
PTXN_INLINE unsigned ptxn_arch_pte_prot_flags(uint64_t v)
{
	unsigned flags = 0;

	if (!(v & PTXN_RISCV_V) || (v & (PTXN_RISCV_R | PTXN_RISCV_W)) == PTXN_RISCV_W)
		return 0;
	if (v & PTXN_RISCV_R)
		flags |= PTXN_PROT_READ;
	if (v & PTXN_RISCV_W)
		flags |= PTXN_PROT_WRITE;
	if (v & PTXN_RISCV_X)
		flags |= PTXN_PROT_EXEC;
	if (flags && (v & PTXN_RISCV_U))
		flags |= PTXN_PROT_USER;
	return flags;
}

/*
 * mkwrite sets R with W: W without R is a reserved encoding (4.3.1, table "Encoding of PTE
 * R/W/X fields"; 4.3.2 step 3 faults it), so an execute-only entry made writable becomes
 * read-write-execute - write implies read, as in ptxn_arch_prot_normalize() and in
 * Linux's protection_map, which never asks for a writable entry without R. Part of the
 * format (both builds); found by fuzz/fuzz_format.c, whose normal form forbids W without R.
 */
#define PTXN_HAVE_ARCH_PTE_MKWRITE
PTXN_INLINE uint64_t ptxn_arch_pte_mkwrite(uint64_t v)
{
	return v | PTXN_RISCV_W | PTXN_RISCV_R;
}

/*
 * Transaction rules. No break-before-make: software may change a leaf in place and then
 * execute SFENCE.VMA (4.2.1, "If software modifies a leaf PTE, it should execute
 * SFENCE.VMA with rs1 set to a virtual address within the page"); until then the old or
 * the new entry is used. (The one exception, NAPOT ranges, is not supported: above.) An
 * invalid entry receives no update (4.3.1), so nothing is written back late.
 */
#define PTXN_ARCH_MMU_LATE_WRITEBACK 0

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
 * The promise that makes more entries final: PTXN_MM_RISCV_SVADE (core/mm.h), which says
 * that no hart writes A or D at all. PTXN_MM_WRPROTECT_FLUSHED changes nothing here (the
 * dirty update is checked in memory already), so only the Svade promise picks AUTO's
 * "read-only final" path, and that path passes exactly this flag to hw_final below.
 */
#define PTXN_ARCH_MM_READONLY_FINAL ((unsigned)PTXN_MM_RISCV_SVADE)

/*
 * The RISC-V quiescent rule. Svadu (4.3.1, second scheme): final when V=0, or A=1 and
 * (W=0 or D=1). A valid entry with A=0 may gain A at any time - even "as a result of
 * speculation" (4.3.1) - and a valid writable one with D=0 may gain D; a read-only one
 * never gains D, because the update re-checks the entry in memory (above). Svade (4.3.1,
 * first scheme; PTXN_MM_RISCV_SVADE): the hart raises a page fault instead and never
 * writes an entry, so every entry is final. Part of the format (both builds): the plain
 * form under PTXN_FORCE_GENERIC, a branch-free one natively; tests/test_differential.c
 * checks they agree bit for bit.
 */
#define PTXN_HAVE_ARCH_PTE_HW_FINAL
#ifdef PTXN_FORCE_GENERIC
PTXN_INLINE bool ptxn_arch_pte_hw_final(unsigned mm_flags, uint64_t v, bool young_ok,
					bool dirty_ok)
{
	if ((mm_flags & PTXN_MM_RISCV_SVADE) || !(v & PTXN_RISCV_V))
		return true;
	if (!(v & PTXN_RISCV_A) && !young_ok)
		return false;
	return !(v & PTXN_RISCV_W) || (v & PTXN_RISCV_D) || dirty_ok;
}
#else
PTXN_INLINE bool ptxn_arch_pte_hw_final(unsigned mm_flags, uint64_t v, bool young_ok,
					bool dirty_ok)
{
	/* gains: A (bit 6) where V and !A; D (bit 7) where V, W (bit 2) and !D */
	const uint64_t svade = (mm_flags & PTXN_MM_RISCV_SVADE) != 0;
	const uint64_t valid = v & 1;
	const uint64_t gain_young = valid & ~(v >> 6) & (uint64_t)!young_ok;
	const uint64_t gain_dirty = valid & (v >> 2) & ~(v >> 7) & (uint64_t)!dirty_ok;

	return ((svade | ~(gain_young | gain_dirty)) & 1) != 0;
}
#endif

#endif /* PTXN_ARCH_RISCV_PTE_H */
