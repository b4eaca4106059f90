/* SPDX-License-Identifier: MIT */
/*
 * ptxn/hwemu/riscv/mmu.h - the RISC-V Sv48 (or Sv39) walker of one hart in S/U-mode,
 * with both A/D schemes: Svadu (the hart sets A/D) and Svade (a page fault instead).
 *
 * Freestanding (ptxn headers only); reached through hwemu/mmu.h. Source: The RISC-V
 * Instruction Set Manual, Volume II: Privileged Architecture, 20211203 - 4.3.2 "Virtual
 * Address Translation Process" step by step (the step numbers below), 4.3.1 for the
 * bits and the two A/D schemes, 4.4 "Sv39" and 4.5 "Sv48" for LEVELS and the reserved
 * bits, chapters 5 and 6 for N and PBMT:
 *
 *  - step 3: V=0, W=1 with R=0, or any reserved bit or encoding set is a page fault: bits
 *    60-54; PBMT=3 in a leaf and any PBMT in a pointer; D, A, U in a pointer (4.3.1,
 *    "reserved for future standard use"); N - this hart has no Svnapot (arch/riscv/pte.h
 *    says why ptxn refuses NAPOT entries), so bit 63 is reserved (4.4).
 *  - step 4: R=0 and X=0 is a pointer to the next level; a pointer at level 0 faults.
 *  - step 5: permissions. U-mode needs U=1; S-mode runs with sstatus.SUM=1 (may load and
 *    store U=1 pages, never execute them) and MXR=0 (loads need R).
 *  - step 6: a superpage whose PPN is not aligned to its size faults.
 *  - step 7: A=0, or D=0 for a store: Svade raises a page fault (reported as
 *    PTXN_MMU_FAULT_ACCESS_FLAG / _DIRTY, resolved by software through
 *    ptxn_ptep_mark_accessed); Svadu compares the entry with memory and sets A (and D)
 *    atomically, or, if it changed, "return to step 2": a compare-and-swap and a re-walk.
 *    The update is made only for an access the entry allows (steps 5-6 come first).
 *  - A store through a cached translation whose D is clear: "the address-translation
 *    cache cannot be used in step 7", the update is made on the entry in memory, so it is
 *    modelled as a re-walk (which re-checks W: arch/riscv/pte.h's quiescent rule).
 * Speculative A updates (4.3.1 allows them) are accesses the tests already make at any
 * time; speculative walks never set D. Svpbmt's memory types do not change a walk.
 */
#ifndef PTXN_HWEMU_RISCV_MMU_H
#define PTXN_HWEMU_RISCV_MMU_H

#ifndef PTXN_MMU_INTERNAL
#error "Do not include ptxn/hwemu/riscv/mmu.h directly; include <ptxn/hwemu.h> or hwemu/mmu.h"
#endif

PTXN_EXTERN_C_BEGIN

/* Bits reserved in every entry (step 3), and the ones reserved only in a pointer. */
#define PTXN_RISCV_WALK_RESERVED (PTXN_RISCV_RESERVED_MASK | PTXN_RISCV_N)
#define PTXN_RISCV_WALK_PTR_RESERVED                                                          \
	(PTXN_RISCV_PBMT_MASK | PTXN_RISCV_D | PTXN_RISCV_A | PTXN_RISCV_U)

#define PTXN_MMU_FORMAT_LEVELS 4

/* Sv48: 4 levels (LEVELS=4, 4.5); Sv39: 3 (4.4). */
PTXN_MMU_FUNC unsigned ptxn_mmu_top_level(const struct ptxn_mmu *mmu)
{
	return (mmu->flags & PTXN_MMU_RISCV_SV39) ? 2 : 3;
}

PTXN_MMU_FUNC unsigned ptxn_mmu_index_bits(const struct ptxn_mmu *mmu, unsigned level)
{
	(void)mmu, (void)level;
	return 9; /* 2^9 eight-byte PTEs per table (4.4) */
}

PTXN_MMU_FUNC unsigned ptxn_mmu_index(const struct ptxn_mmu *mmu, uint64_t va, unsigned level)
{
	(void)mmu;
	return (unsigned)(va >> (12 + 9 * level)) & 511u;
}

/*
 * The lower half of the address space only: bits 63-39 (Sv39) or 63-48 (Sv48) must equal
 * the top VA bit (4.4, 4.5); the upper, negative half is not modelled.
 */
PTXN_MMU_FUNC uint64_t ptxn_mmu_va_limit(const struct ptxn_mmu *mmu)
{
	return UINT64_C(1) << (12 + 9 * (ptxn_mmu_top_level(mmu) + 1) - 1);
}

PTXN_MMU_FUNC uint64_t ptxn_mmu_riscv_ppn_pa(ptxn_pteval_t v)
{
	return ((v & PTXN_RISCV_PPN_MASK) >> PTXN_RISCV_PPN_SHIFT) << 12;
}

/* A pointer: V=1 and R=W=X=0, with the next table's PPN (D, A, U clear: step 3). */
PTXN_MMU_FUNC ptxn_pteval_t ptxn_mmu_table_entry(const struct ptxn_mmu *mmu, uint64_t table_pa,
						 unsigned level)
{
	(void)mmu, (void)level;
	return PTXN_RISCV_V | (((table_pa >> 12) << PTXN_RISCV_PPN_SHIFT) & PTXN_RISCV_PPN_MASK);
}

/* A leaf at any level is the same entry (4.3.1: "any level of PTE may be a leaf PTE"). */
PTXN_MMU_FUNC ptxn_pteval_t ptxn_mmu_leaf_entry(const struct ptxn_mmu *mmu, uint64_t pfn,
						ptxn_prot_t prot, unsigned level)
{
	(void)mmu, (void)level;
	return ptxn_arch_pfn_pte(pfn, prot.bits);
}

PTXN_MMU_FUNC bool ptxn_mmu_entry_is_leaf(const struct ptxn_mmu *mmu, ptxn_pteval_t v,
					  unsigned level)
{
	(void)mmu;
	return level == 0 || (v & (PTXN_RISCV_R | PTXN_RISCV_X)) != 0;
}

PTXN_MMU_FUNC bool ptxn_mmu_entry_valid(ptxn_pteval_t v)
{
	return (v & PTXN_RISCV_V) != 0;
}

PTXN_MMU_FUNC uint64_t ptxn_mmu_entry_table(ptxn_pteval_t v)
{
	return ptxn_mmu_riscv_ppn_pa(v);
}

PTXN_MMU_FUNC unsigned ptxn_mmu_riscv_fault(struct ptxn_mmu_walk *w, unsigned fault)
{
	w->fault = fault;
	return fault;
}

/*
 * Translate va for one access (PTXN_MMU_READ/WRITE/EXEC, optionally | PTXN_MMU_PROBE) in
 * U-mode (user) or S-mode. Returns w->fault.
 */
PTXN_MMU_FUNC unsigned ptxn_mmu_translate(const struct ptxn_mmu *mmu, uint64_t va,
					  unsigned access, bool user, struct ptxn_mmu_walk *w)
{
	const unsigned kind = access & PTXN_MMU_ACCESS_MASK;
	const bool probe = (access & PTXN_MMU_PROBE) != 0;
	const bool svade = (mmu->flags & PTXN_MMU_RISCV_SVADE) != 0;

	ptxn_mmu_walk_init(w);
	if (kind == PTXN_MMU_SHADOW_STACK) /* an x86 CET notion: a write fault here */
		return ptxn_mmu_riscv_fault(w, PTXN_MMU_FAULT_WRITE);
	if (va >= ptxn_mmu_va_limit(mmu))
		return ptxn_mmu_riscv_fault(w, PTXN_MMU_FAULT_ADDRESS);
restart: /* step 2 again, from the root (step 1: a = satp.ppn x PAGESIZE) */
	{
		uint64_t table = mmu->root, size;
		unsigned level = ptxn_mmu_top_level(mmu);
		ptxn_pte_t *slot;
		ptxn_pteval_t v, want;
		bool r, wr, x, u;

		for (;; level--) {
			slot = ptxn_mmu_slot(mmu, table + 8 * (uint64_t)ptxn_mmu_index(mmu, va, level));
			w->leaf = slot;
			w->level = level;
			if (!slot) /* step 2: a PMA/PMP violation is an access fault */
				return ptxn_mmu_riscv_fault(w, PTXN_MMU_FAULT_BUS);
			v = ptxn_mmu_load(slot);
			w->leaf_val = v;
			if (!(v & PTXN_RISCV_V)) /* step 3 */
				return ptxn_mmu_riscv_fault(w, PTXN_MMU_FAULT_NOT_PRESENT);
			if ((v & (PTXN_RISCV_R | PTXN_RISCV_W)) == PTXN_RISCV_W ||
			    (v & PTXN_RISCV_WALK_RESERVED))
				return ptxn_mmu_riscv_fault(w, PTXN_MMU_FAULT_RESERVED);
			if (v & (PTXN_RISCV_R | PTXN_RISCV_X)) /* step 4: a leaf */
				break;
			if (level == 0 || (v & PTXN_RISCV_WALK_PTR_RESERVED))
				return ptxn_mmu_riscv_fault(w, PTXN_MMU_FAULT_RESERVED);
			table = ptxn_mmu_riscv_ppn_pa(v);
		}
		if ((v & PTXN_RISCV_PBMT_MASK) == PTXN_RISCV_PBMT_MASK) /* PBMT=3 (chapter 6) */
			return ptxn_mmu_riscv_fault(w, PTXN_MMU_FAULT_RESERVED);
		size = UINT64_C(1) << (12 + 9 * level);
		w->page_size = size;

		/* step 5: SUM=1 lets S-mode load/store U pages; it never fetches from them */
		r = (v & PTXN_RISCV_R) != 0;
		wr = (v & PTXN_RISCV_W) != 0;
		u = (v & PTXN_RISCV_U) != 0;
		x = (v & PTXN_RISCV_X) && (user == u);
		w->prot = (r ? PTXN_PROT_READ : 0) | (wr ? PTXN_PROT_WRITE : 0) |
			  (x ? PTXN_PROT_EXEC : 0) | (u ? PTXN_PROT_USER : 0);
		if (user && !u)
			return ptxn_mmu_riscv_fault(w, PTXN_MMU_FAULT_USER);
		if (kind == PTXN_MMU_READ && !r)
			return ptxn_mmu_riscv_fault(w, PTXN_MMU_FAULT_READ);
		if (kind == PTXN_MMU_WRITE && !wr)
			return ptxn_mmu_riscv_fault(w, PTXN_MMU_FAULT_WRITE);
		if (kind == PTXN_MMU_EXEC && !x)
			return ptxn_mmu_riscv_fault(w, PTXN_MMU_FAULT_EXEC);
		/* step 6: a misaligned superpage */
		if (ptxn_mmu_riscv_ppn_pa(v) & (size - 1))
			return ptxn_mmu_riscv_fault(w, PTXN_MMU_FAULT_RESERVED);

		/* step 7: A for any access, D for a store */
		want = PTXN_RISCV_A | (kind == PTXN_MMU_WRITE ? PTXN_RISCV_D : 0);
		if (!probe && (want & ~v)) {
			if (svade)
				return ptxn_mmu_riscv_fault(w, (v & PTXN_RISCV_A) ? PTXN_MMU_FAULT_DIRTY
										  : PTXN_MMU_FAULT_ACCESS_FLAG);
			if (!ptxn_mmu_cas(mmu, slot, va, level, v, v | want, PTXN_MMU_UPDATE_NORMAL)) {
				if (++w->restarts > PTXN_MMU_MAX_RESTARTS)
					return ptxn_mmu_riscv_fault(w, PTXN_MMU_FAULT_BUS);
				goto restart;
			}
			w->updates++;
			v |= want;
		}
		/* step 8 */
		w->leaf_val = v;
		w->dirty = (v & PTXN_RISCV_D) != 0;
		w->pa = (ptxn_mmu_riscv_ppn_pa(v) & ~(size - 1)) | (va & (size - 1));
		return PTXN_MMU_OK;
	}
}

/*
 * A store hit a cached translation whose D is clear: step 7 may not use the cache, the
 * update is made against the entry in memory (and, with Svade, is a page fault): walk
 * again.
 */
PTXN_MMU_FUNC int ptxn_mmu_tlb_dirty(const struct ptxn_mmu *mmu, ptxn_pte_t *leaf, unsigned level,
				     uint64_t va, struct ptxn_mmu_walk *w)
{
	(void)mmu, (void)leaf, (void)level, (void)va, (void)w;
	return PTXN_MMU_TLB_REWALK;
}

PTXN_EXTERN_C_END

#endif /* PTXN_HWEMU_RISCV_MMU_H */
