/* SPDX-License-Identifier: MIT */
/*
 * ptxn/hwemu/arm64/mmu.h - the AArch64 stage-1 walker (EL1&0 regime, TTBR0_EL1, 4 KiB
 * granule, 48-bit VA, 4 levels) with FEAT_HAFDBS: hardware Access flag and dirty state.
 *
 * Freestanding (ptxn headers only); reached through hwemu/mmu.h. Sources are the Arm ARM
 * (DDI 0487) by section title, and QEMU target/arm/ptw.c (get_phys_addr_lpae):
 *
 *  - Descriptors ("Translation table descriptor formats"): bits[1:0] = 0b11 is a table at
 *    levels 0-2 and a page at level 3; 0b01 is a block at levels 1-2 (1 GiB, 2 MiB) and
 *    invalid at levels 0 and 3; bit 0 clear is invalid (translation fault). Table
 *    descriptors carry hierarchical limits: APTable[1] (bit 62) forbids writes below,
 *    APTable[0] (bit 61) EL0 access, UXNTable (60), PXNTable (59) execution.
 *  - Access flag ("Hardware management of the Access flag"): AF=0 with TCR_EL1.HA=0 is an
 *    Access flag fault, which has priority over a permission fault ("Prioritization of
 *    synchronous aborts from a single stage of address translation"); with HA=1 the
 *    hardware sets AF. Table descriptors have no AF without FEAT_HAFT (not modelled).
 *  - Dirty state ("Hardware management of the dirty state"): with TCR_EL1.HD=1 a write
 *    to an entry with DBM=1 and AP[2]=1 clears AP[2]; with DBM=0, or HD=0, it is a
 *    permission fault. HD only has effect with HA=1 ("Hardware management of dirty state
 *    can only be enabled if hardware management of the Access flag is enabled", Cortex-A76
 *    TRM A5.5.2, "Descriptor hardware update").
 *  - The update is an atomic read-modify-write of the descriptor as it is in memory, made
 *    only if the access does not fault; if the descriptor changed, the walk restarts
 *    ("Hardware updates of the translation tables": atomic, coherent with other
 *    observers; QEMU: AF/AP[2] are prepared in new_descriptor, the permission check runs
 *    on it, then arm_casq_ptw() and "restart_atomic_update" if the value changed).
 *  - Permissions (AP[2:1], UXN, PXN, "Access permissions for instruction execution"): EL0
 *    data accesses need AP[1]=1, EL0 fetches only UXN=0 (execute-only memory); AP[2]=1 is
 *    read-only at every EL; a page writable at EL0 is never executable at EL1. PAN, WXN, POE, permission indirection are not modelled.
 *  - Contiguous sets ("The Contiguous bit"): a walk through a page descriptor with CONT
 *    checks its aligned set of 16; a misprogrammed set is a TLB conflict abort.
 *  - A write through a cached translation that is writable but clean (DBM=1, AP[2]=1)
 *    needs the dirty update, which is done on the descriptor in memory: modelled as a
 *    re-walk (the dirty update "is made only if DBM is 1 in the descriptor as read").
 */
#ifndef PTXN_HWEMU_ARM64_MMU_H
#define PTXN_HWEMU_ARM64_MMU_H

#ifndef PTXN_MMU_INTERNAL
#error "Do not include ptxn/hwemu/arm64/mmu.h directly; include <ptxn/hwemu.h> or hwemu/mmu.h"
#endif

PTXN_EXTERN_C_BEGIN

#define PTXN_ARM64_DESC_TABLE     (UINT64_C(3))      /* bits[1:0] of a table descriptor */
#define PTXN_ARM64_PXNTABLE       (UINT64_C(1) << 59)
#define PTXN_ARM64_UXNTABLE       (UINT64_C(1) << 60)
#define PTXN_ARM64_APTABLE_NOEL0  (UINT64_C(1) << 61) /* APTable[0] */
#define PTXN_ARM64_APTABLE_RO     (UINT64_C(1) << 62) /* APTable[1] */

#define PTXN_MMU_FORMAT_LEVELS 4

PTXN_MMU_FUNC unsigned ptxn_mmu_top_level(const struct ptxn_mmu *mmu)
{
	(void)mmu;
	return 3; /* Arm level 0; ptxn level = 3 - Arm level */
}

PTXN_MMU_FUNC unsigned ptxn_mmu_index_bits(const struct ptxn_mmu *mmu, unsigned level)
{
	(void)mmu, (void)level;
	return 9;
}

PTXN_MMU_FUNC unsigned ptxn_mmu_index(const struct ptxn_mmu *mmu, uint64_t va, unsigned level)
{
	(void)mmu;
	return (unsigned)(va >> (12 + 9 * level)) & 511u;
}

/* TCR_EL1.T0SZ = 16: TTBR0 translates [0, 2^48). */
PTXN_MMU_FUNC uint64_t ptxn_mmu_va_limit(const struct ptxn_mmu *mmu)
{
	(void)mmu;
	return UINT64_C(1) << 48;
}

PTXN_MMU_FUNC ptxn_pteval_t ptxn_mmu_table_entry(const struct ptxn_mmu *mmu, uint64_t table_pa,
						 unsigned level)
{
	(void)mmu, (void)level;
	return (table_pa & PTXN_ARM64_OA_MASK) | PTXN_ARM64_DESC_TABLE;
}

/* A page (level 0) or block (levels 1, 2) descriptor. */
PTXN_MMU_FUNC ptxn_pteval_t ptxn_mmu_leaf_entry(const struct ptxn_mmu *mmu, uint64_t pfn,
						ptxn_prot_t prot, unsigned level)
{
	ptxn_pteval_t v = ptxn_arch_pfn_pte(pfn, prot.bits);

	(void)mmu;
	return level ? (v & ~PTXN_ARM64_TYPE_PAGE) : v;
}

PTXN_MMU_FUNC bool ptxn_mmu_entry_is_leaf(const struct ptxn_mmu *mmu, ptxn_pteval_t v,
					  unsigned level)
{
	(void)mmu;
	return level == 0 || !(v & PTXN_ARM64_TYPE_PAGE);
}

PTXN_MMU_FUNC bool ptxn_mmu_entry_valid(ptxn_pteval_t v)
{
	return (v & PTXN_ARM64_VALID) != 0;
}

PTXN_MMU_FUNC uint64_t ptxn_mmu_entry_table(ptxn_pteval_t v)
{
	return v & PTXN_ARM64_OA_MASK;
}

PTXN_MMU_FUNC unsigned ptxn_mmu_arm64_fault(struct ptxn_mmu_walk *w, unsigned fault)
{
	w->fault = fault;
	return fault;
}

/*
 * A walk that ends in a page descriptor with the Contiguous bit may fill a TLB entry for
 * the whole aligned set of 16 (Arm ARM D8.6.1, "The Contiguous bit"). If the set is
 * misprogrammed - a valid member without CONT, or with other attributes or permissions,
 * or an output address that is not the set's - the TLB may hold conflicting entries and
 * the access may take a TLB conflict abort ("Misprogramming of the Contiguous bit"): the
 * model reports exactly that. What may differ between members: the output address
 * (consecutive), AF and the dirty state of DBM entries (the hardware updates one member),
 * and the software bits; invalid members are allowed (a block is broken one member at a
 * time; the TLB may still translate them from another member until the flush).
 */
PTXN_MMU_FUNC bool ptxn_mmu_arm64_cont_consistent(const struct ptxn_mmu *mmu, uint64_t table,
						  uint64_t va, ptxn_pteval_t v)
{
	const unsigned idx = ptxn_mmu_index(mmu, va, 0), base = idx & ~15u;
	const uint64_t oa0 = (v & PTXN_ARM64_OA_MASK) - (uint64_t)(idx - base) * 4096;
	const uint64_t may_differ = PTXN_ARM64_OA_MASK | PTXN_ARM64_AF | PTXN_ARM64_SOFTWARE_MASK |
				    ((v & PTXN_ARM64_DBM) ? PTXN_ARM64_RDONLY : 0);
	unsigned k;

	if (oa0 & 0xffff) /* the set's output range must be aligned to its 64 KiB */
		return false;
	for (k = 0; k < 16; k++) {
		ptxn_pte_t *slot = ptxn_mmu_slot(mmu, table + 8 * (uint64_t)(base + k));
		ptxn_pteval_t m;

		if (!slot)
			return false;
		m = ptxn_mmu_load(slot);
		if (!(m & PTXN_ARM64_VALID))
			continue;
		if ((m ^ v) & ~may_differ)
			return false; /* without CONT, or other attributes or permissions */
		if ((m & PTXN_ARM64_OA_MASK) != oa0 + (uint64_t)k * 4096)
			return false;
	}
	return true;
}

/*
 * Translate va for one access (PTXN_MMU_READ/WRITE/EXEC, optionally | PTXN_MMU_PROBE) at
 * EL0 (user) or EL1, with the HA/HD mode in mmu->flags. Returns w->fault.
 */
PTXN_MMU_FUNC unsigned ptxn_mmu_translate(const struct ptxn_mmu *mmu, uint64_t va,
					  unsigned access, bool user, struct ptxn_mmu_walk *w)
{
	const unsigned kind = access & PTXN_MMU_ACCESS_MASK;
	const bool probe = (access & PTXN_MMU_PROBE) != 0;
	const bool ha = (mmu->flags & PTXN_MMU_ARM64_HA) != 0;
	const bool hd = ha && (mmu->flags & PTXN_MMU_ARM64_HD); /* HD needs HA */

	ptxn_mmu_walk_init(w);
	if (kind == PTXN_MMU_SHADOW_STACK) /* an x86 CET notion: a write fault here */
		return ptxn_mmu_arm64_fault(w, PTXN_MMU_FAULT_WRITE);
	if (va >= ptxn_mmu_va_limit(mmu))
		return ptxn_mmu_arm64_fault(w, PTXN_MMU_FAULT_ADDRESS);
restart:
	{
		uint64_t table = mmu->root & PTXN_ARM64_OA_MASK, tattr = 0, size;
		unsigned level = 3;
		ptxn_pte_t *slot;
		ptxn_pteval_t v, next;
		bool el0_ok, writable, exec_ok, dbm_clean;

		for (;; level--) {
			slot = ptxn_mmu_slot(mmu, table + 8 * (uint64_t)ptxn_mmu_index(mmu, va, level));
			w->leaf = slot;
			w->level = level;
			if (!slot)
				return ptxn_mmu_arm64_fault(w, PTXN_MMU_FAULT_BUS);
			v = ptxn_mmu_load(slot);
			w->leaf_val = v;
			if (!(v & PTXN_ARM64_VALID)) /* translation fault: never updated */
				return ptxn_mmu_arm64_fault(w, PTXN_MMU_FAULT_NOT_PRESENT);
			if (level == 0 || !(v & PTXN_ARM64_TYPE_PAGE))
				break; /* page or block */
			tattr |= v & (PTXN_ARM64_PXNTABLE | PTXN_ARM64_UXNTABLE |
				      PTXN_ARM64_APTABLE_NOEL0 | PTXN_ARM64_APTABLE_RO);
			table = v & PTXN_ARM64_OA_MASK;
		}
		/* 0b01 at level 3 is reserved; no block at level 0 with a 4 KiB granule: translation fault. */
		if ((level == 0 && !(v & PTXN_ARM64_TYPE_PAGE)) || level == 3)
			return ptxn_mmu_arm64_fault(w, PTXN_MMU_FAULT_NOT_PRESENT);
		size = UINT64_C(1) << (12 + 9 * level);
		w->page_size = size;
		if (level == 0 && (v & PTXN_ARM64_CONT) &&
		    !ptxn_mmu_arm64_cont_consistent(mmu, table, va, v))
			return ptxn_mmu_arm64_fault(w, PTXN_MMU_FAULT_CONFLICT);

		/* Access flag first: its fault has priority over permission faults. */
		next = v;
		if (!(v & PTXN_ARM64_AF)) {
			if (ha || probe)
				next |= PTXN_ARM64_AF;
			else
				return ptxn_mmu_arm64_fault(w, PTXN_MMU_FAULT_ACCESS_FLAG);
		}
		/* Dirty state, prepared before the permission check (QEMU ptw.c does the same). */
		dbm_clean = (v & PTXN_ARM64_DBM) && (v & PTXN_ARM64_RDONLY);
		if (dbm_clean && hd && kind == PTXN_MMU_WRITE)
			next &= ~PTXN_ARM64_RDONLY;

		el0_ok = (next & PTXN_ARM64_USER) && !(tattr & PTXN_ARM64_APTABLE_NOEL0);
		writable = !(next & PTXN_ARM64_RDONLY) && !(tattr & PTXN_ARM64_APTABLE_RO);
		if (user)
			exec_ok = !(next & PTXN_ARM64_UXN) && !(tattr & PTXN_ARM64_UXNTABLE);
		else
			exec_ok = !(next & PTXN_ARM64_PXN) && !(tattr & PTXN_ARM64_PXNTABLE) &&
				  !(el0_ok && writable); /* writable at EL0: never executable at EL1 */
		w->prot = PTXN_PROT_READ | (exec_ok ? PTXN_PROT_EXEC : 0) | (el0_ok ? PTXN_PROT_USER : 0);
		/* Writes this translation allows, if need be after a dirty-state update. */
		if (writable || (dbm_clean && hd && !(tattr & PTXN_ARM64_APTABLE_RO)))
			w->prot |= PTXN_PROT_WRITE;

		/* AP[1] governs EL0 data accesses only: an EL0 fetch asks UXN alone, which is
		 * what makes execute-only memory (AP[1]=0, UXN=0; Linux PAGE_EXECONLY) work. */
		if (user && !el0_ok && kind != PTXN_MMU_EXEC)
			return ptxn_mmu_arm64_fault(w, PTXN_MMU_FAULT_USER);
		if (kind == PTXN_MMU_WRITE && !writable) {
			/* Writable-clean, but HD (or HA) off: a permission fault software resolves
			 * by marking the entry dirty. A probe only asks what memory allows. */
			bool markable = dbm_clean && !(tattr & PTXN_ARM64_APTABLE_RO);

			if (!markable)
				return ptxn_mmu_arm64_fault(w, PTXN_MMU_FAULT_WRITE);
			if (!probe)
				return ptxn_mmu_arm64_fault(w, PTXN_MMU_FAULT_DIRTY);
		}
		if (kind == PTXN_MMU_EXEC && !exec_ok)
			return ptxn_mmu_arm64_fault(w, PTXN_MMU_FAULT_EXEC);

		if (!probe && next != v) {
			if (!ptxn_mmu_cas(mmu, slot, va, level, v, next, PTXN_MMU_UPDATE_NORMAL)) {
				if (++w->restarts > PTXN_MMU_MAX_RESTARTS)
					return ptxn_mmu_arm64_fault(w, PTXN_MMU_FAULT_BUS);
				goto restart;
			}
			w->updates++;
			v = next;
		}
		w->leaf_val = v;
		w->dirty = !(v & PTXN_ARM64_RDONLY) && !(tattr & PTXN_ARM64_APTABLE_RO);
		w->pa = (v & PTXN_ARM64_OA_MASK & ~(size - 1)) | (va & (size - 1));
		return PTXN_MMU_OK;
	}
}

/*
 * A write hit a cached translation that is writable only after a dirty-state update:
 * that update is made on the descriptor as it is in memory, so walk again.
 */
PTXN_MMU_FUNC int ptxn_mmu_tlb_dirty(const struct ptxn_mmu *mmu, ptxn_pte_t *leaf, unsigned level,
				     uint64_t va, struct ptxn_mmu_walk *w)
{
	(void)mmu, (void)leaf, (void)level, (void)va, (void)w;
	return PTXN_MMU_TLB_REWALK;
}

PTXN_EXTERN_C_END

#endif /* PTXN_HWEMU_ARM64_MMU_H */
