/* SPDX-License-Identifier: MIT */
/*
 * ptxn/pvemu/validate.h - addresses (guest pointers into the read-only view,
 * guest-physical slot addresses, the hypervisor's writable view) and the hypervisor's
 * validation of a request: which pages are page tables, at what level, and whether an
 * entry may go into one (Xen: get_page_from_l1e and friends).
 *
 * Part of <ptxn/pvemu.h>, which includes the parts in this order:
 *   abi.h, state.h, validate.h, hypervisor.h, guest.h, platform.h (pvemu/pvemu.h).
 */
#ifndef PTXN_PVEMU_VALIDATE_H
#define PTXN_PVEMU_VALIDATE_H

#ifndef PTXN_PVEMU_INTERNAL
#error "Do not include ptxn/pvemu/validate.h directly; include <ptxn/pvemu.h>"
#endif

PTXN_EXTERN_C_BEGIN

/* ---- addresses: guest pointers, guest-physical addresses, hypervisor pointers ------------ */

PTXN_PVEMU_FUNC uint64_t ptxn_pvemu_table_base(const struct ptxn_pvemu *pv)
{
	return pv->hw->phys.base;
}

/* The guest-physical address a guest slot pointer names (any pointer: garbage in, garbage out). */
PTXN_PVEMU_FUNC uint64_t ptxn_pvemu_slot_pa(const struct ptxn_pvemu *pv, const ptxn_pte_t *ptep)
{
	return ptxn_pvemu_table_base(pv) + (uint64_t)((uintptr_t)ptep - (uintptr_t)pv->rview);
}

/* The guest's (read-only) pointer for a table address, NULL outside the table memory. */
PTXN_PVEMU_FUNC const ptxn_pte_t *ptxn_pvemu_guest_ptr(const struct ptxn_pvemu *pv, uint64_t pa)
{
	uint64_t off = pa - ptxn_pvemu_table_base(pv);

	if (pa < ptxn_pvemu_table_base(pv) || off >= pv->table_bytes)
		return NULL;
	return (const ptxn_pte_t *)(const void *)(pv->rview + (size_t)off);
}

/*
 * The guest's pointer to the leaf slot translating va (software walk, no A/D), its level
 * in *level; NULL if none. The pointer is into the read-only view: pass it to the
 * transaction API, never write through it.
 */
PTXN_PVEMU_FUNC ptxn_pte_t *ptxn_pvemu_lookup(struct ptxn_pvemu *pv, uint64_t va, unsigned *level)
{
	ptxn_pte_t *w = ptxn_hwemu_lookup(pv->hw, va, level);

	if (!w)
		return NULL;
	return (ptxn_pte_t *)(void *)(pv->rview + ((unsigned char *)w - pv->wview));
}

/* ---- the hypervisor: validation ----------------------------------------------------------- */

/* Mark the guest's page tables, from the root down (the hypervisor's type information). */
PTXN_PVEMU_FUNC void ptxn_pvemu_scan_table(struct ptxn_pvemu *pv, uint64_t table, unsigned level)
{
	const struct ptxn_mmu *mmu = &pv->hw->as.mmu;
	uint64_t pages = ptxn_hwemu_table_pages(mmu, level), n, i, page;

	if (table < pv->hw->phys.base || (table - pv->hw->phys.base) % PTXN_HWEMU_PAGE_SIZE)
		return;
	page = (table - pv->hw->phys.base) / PTXN_HWEMU_PAGE_SIZE;
	if (page + pages > pv->hw->phys.npages || pv->level[page])
		return;
	for (i = 0; i < pages; i++)
		pv->level[page + i] = (unsigned char)(level + 1);
	if (level == 0)
		return;
	n = UINT64_C(1) << ptxn_mmu_index_bits(mmu, level);
	for (i = 0; i < n; i++) {
		const ptxn_pte_t *slot = (const ptxn_pte_t *)(const void *)(pv->wview +
			(size_t)(table - pv->hw->phys.base) + 8 * (size_t)i);
		ptxn_pteval_t v = ptxn_mmu_load(slot);

		if (ptxn_mmu_entry_valid(v) && !ptxn_mmu_entry_is_leaf(mmu, v, level))
			ptxn_pvemu_scan_table(pv, ptxn_mmu_entry_table(v), level - 1);
	}
}

/* Rebuild the table map and the data limit (tables or data mapped since the last scan). */
PTXN_PVEMU_FUNC void ptxn_pvemu_rescan(struct ptxn_pvemu *pv)
{
	memset(pv->level, 0, (size_t)pv->hw->phys.npages);
	ptxn_pvemu_scan_table(pv, pv->hw->as.mmu.root, ptxn_mmu_top_level(&pv->hw->as.mmu));
	pthread_mutex_lock(&pv->hw->phys.lock);
	pv->data_end = pv->hw->phys.data_next;
	pthread_mutex_unlock(&pv->hw->phys.lock);
}

/* The level of the guest page table holding pa, -1 if pa is in none. */
PTXN_PVEMU_FUNC int ptxn_pvemu_table_level(struct ptxn_pvemu *pv, uint64_t pa)
{
	uint64_t page;

	if (pa < pv->hw->phys.base || pa - pv->hw->phys.base >= pv->table_bytes)
		return -1;
	page = (pa - pv->hw->phys.base) / PTXN_HWEMU_PAGE_SIZE;
	if (!pv->level[page] && pv->hw->phys.used[page])
		ptxn_pvemu_rescan(pv); /* a table allocated since the last scan */
	return pv->level[page] ? pv->level[page] - 1 : -1;
}

/* Is the slot a valid target? Sets *level to its table's level. */
PTXN_PVEMU_FUNC int ptxn_pvemu_check_slot(struct ptxn_pvemu *pv, uint64_t slot, unsigned *level)
{
	int l;

	if (slot & 7)
		return PTXN_PV_EALIGN;
	l = ptxn_pvemu_table_level(pv, slot);
	if (l < 0)
		return PTXN_PV_ENOTPT;
	*level = (unsigned)l;
	return PTXN_PV_OK;
}

/*
 * Could an MMU write through this leaf? Writable, or already dirtied by clearing the bit
 * the MMU clears for a write (ARM64: DBM, or AP[2] clear).
 */
PTXN_PVEMU_FUNC bool ptxn_pvemu_leaf_writable(ptxn_pteval_t v)
{
	return ptxn_arch_pte_write(v) ||
	       (PTXN_ARCH_PTE_MMU_CLEARS != 0 && !(v & PTXN_ARCH_PTE_MMU_CLEARS));
}

/* May the guest put v into a table of this level? (Xen: get_page_from_l1e and friends.) */
PTXN_PVEMU_FUNC int ptxn_pvemu_check_entry(struct ptxn_pvemu *pv, unsigned level, ptxn_pteval_t v)
{
	const struct ptxn_mmu *mmu = &pv->hw->as.mmu;
	uint64_t base = pv->hw->phys.base, pa, size, p;

	if (!ptxn_mmu_entry_valid(v))
		return PTXN_PV_OK; /* the MMU does not use it */
	if (level > 0 && !ptxn_mmu_entry_is_leaf(mmu, v, level))
		return ptxn_pvemu_table_level(pv, ptxn_mmu_entry_table(v)) == (int)level - 1
			       ? PTXN_PV_OK
			       : PTXN_PV_ETABLE;
	pa = ptxn_arch_pte_pfn(v) << PTXN_ARCH_PAGE_SHIFT;
	size = (uint64_t)PTXN_HWEMU_PAGE_SIZE << (9 * level);
	if (pa >= base && pa - base < pv->table_bytes) {
		if (pa - base + size > pv->table_bytes)
			return PTXN_PV_EPFN;
		if (ptxn_pvemu_leaf_writable(v))
			for (p = pa; p < pa + size; p += PTXN_HWEMU_PAGE_SIZE)
				if (ptxn_pvemu_table_level(pv, p) >= 0)
					return PTXN_PV_EPTWRITE;
		return PTXN_PV_OK;
	}
	if (pa >= PTXN_HWEMU_DATA_BASE && pa + size > pv->data_end)
		ptxn_pvemu_rescan(pv); /* data mapped since the last scan */
	if (pa >= PTXN_HWEMU_DATA_BASE && pa + size <= pv->data_end && pa + size > pa)
		return PTXN_PV_OK;
	return PTXN_PV_EPFN;
}

PTXN_EXTERN_C_END

#endif /* PTXN_PVEMU_VALIDATE_H */
