/* SPDX-License-Identifier: MIT */
/*
 * ptxn/hwemu/aspace.h - the address-space builder: a root table in phys.h's memory,
 * mappings of 4 KiB or 2 MiB pages made of real entries of the translation unit's format,
 * a software walk (no A/D) to find a leaf, and freeing the tables. The walker the agents
 * run is hwemu/mmu.h with hwemu/<format>/mmu.h.
 *
 * Part of <ptxn/hwemu.h>; includes the parts it uses (docs/hwemu.md has the tree).
 */
#ifndef PTXN_HWEMU_ASPACE_H
#define PTXN_HWEMU_ASPACE_H

#include "mmu.h"     /* struct ptxn_mmu and the format's walker helpers */
#include "types.h"   /* sizes */
#include "phys.h"    /* the memory the tables live in */

#include <string.h>

PTXN_EXTERN_C_BEGIN

/* ---- address space ------------------------------------------------------------------------ */

struct ptxn_hwemu_as {
	struct ptxn_hwemu_phys *phys;
	struct ptxn_mmu mmu;        /* root, mode, memory access; agents copy it */
};

enum {
	PTXN_HWEMU_MAP_LARGE = 1u   /* map 2 MiB pages (va, frames and size 2 MiB aligned) */
};

PTXN_HWEMU_FUNC uint64_t ptxn_hwemu_table_pages(const struct ptxn_mmu *mmu, unsigned level)
{
	uint64_t bytes = UINT64_C(8) << ptxn_mmu_index_bits(mmu, level);

	return bytes <= PTXN_HWEMU_PAGE_SIZE ? 1 : bytes / PTXN_HWEMU_PAGE_SIZE;
}

/* Create an empty address space: a root table in phys. mmu_flags: PTXN_MMU_*. */
PTXN_HWEMU_FUNC bool ptxn_hwemu_as_init(struct ptxn_hwemu_as *as, struct ptxn_hwemu_phys *phys,
					unsigned mmu_flags)
{
	uint64_t pages;

	memset(as, 0, sizeof(*as));
	as->phys = phys;
	as->mmu.phys_to_ptr = ptxn_hwemu_phys_to_ptr_cb;
	as->mmu.phys_ctx = phys;
	as->mmu.flags = mmu_flags;
#ifdef PTXN_FORMAT_POWERPC
	as->mmu.root_bits = PTXN_PPC_ROOT_BITS;
#endif
	pages = ptxn_hwemu_table_pages(&as->mmu, ptxn_mmu_top_level(&as->mmu));
	as->mmu.root = ptxn_hwemu_phys_alloc_table(phys, pages, pages);
	return as->mmu.root != 0;
}

/* The slot for va at level, allocating the tables on the way. NULL: no memory or a leaf above. */
PTXN_HWEMU_FUNC ptxn_pte_t *ptxn_hwemu_as_slot(struct ptxn_hwemu_as *as, uint64_t va, unsigned want,
					       bool alloc)
{
	uint64_t table = as->mmu.root;
	unsigned level = ptxn_mmu_top_level(&as->mmu);

	for (;; level--) {
		uint64_t idx = ptxn_mmu_index(&as->mmu, va, level);
		ptxn_pte_t *slot = (ptxn_pte_t *)ptxn_hwemu_phys_ptr(as->phys, table + 8 * idx);
		ptxn_pteval_t v;
		uint64_t next;

		if (!slot)
			return NULL;
		if (level == want)
			return slot;
		v = ptxn_pte_val(ptxn_ptep_get(slot));
		if (!ptxn_mmu_entry_valid(v)) {
			if (!alloc)
				return NULL;
			next = ptxn_hwemu_phys_alloc_table(as->phys, 1, 1);
			if (!next)
				return NULL;
			ptxn_set_pte(slot, ptxn_make_pte(ptxn_mmu_table_entry(&as->mmu, next, level)));
		} else if (ptxn_mmu_entry_is_leaf(&as->mmu, v, level)) {
			return NULL;
		} else {
			next = ptxn_mmu_entry_table(v);
		}
		table = next;
	}
}

/*
 * Map [va, va + pages * 4 KiB) to fresh frames with prot (old and clean entries). With
 * PTXN_HWEMU_MAP_LARGE, 2 MiB leaves (pages a multiple of 512, va 2 MiB aligned). Returns
 * the first frame's physical address, 0 on failure.
 */
PTXN_HWEMU_FUNC uint64_t ptxn_hwemu_as_map(struct ptxn_hwemu_as *as, uint64_t va, uint64_t pages,
					   ptxn_prot_t prot, unsigned flags)
{
	unsigned level = (flags & PTXN_HWEMU_MAP_LARGE) ? 1 : 0;
	uint64_t step = level ? PTXN_HWEMU_LARGE_PAGES : 1, i, pa;

	if (level && ((va >> 12) % step || pages % step))
		return 0;
	if (va + pages * PTXN_HWEMU_PAGE_SIZE > ptxn_mmu_va_limit(&as->mmu))
		return 0;
	pa = ptxn_hwemu_phys_alloc_data(as->phys, pages, step);
	for (i = 0; i < pages; i += step) {
		ptxn_pte_t *slot = ptxn_hwemu_as_slot(as, va + i * PTXN_HWEMU_PAGE_SIZE, level, true);

		if (!slot)
			return 0;
		ptxn_set_pte(slot, ptxn_make_pte(ptxn_mmu_leaf_entry(
					   &as->mmu, (pa >> 12) + i, prot, level)));
	}
	return pa;
}

/* The leaf slot translating va (software walk, no A/D), its level in *level. NULL: none. */
PTXN_HWEMU_FUNC ptxn_pte_t *ptxn_hwemu_as_lookup(struct ptxn_hwemu_as *as, uint64_t va,
						 unsigned *level)
{
	uint64_t table = as->mmu.root;
	unsigned l = ptxn_mmu_top_level(&as->mmu);

	for (;; l--) {
		ptxn_pte_t *slot = (ptxn_pte_t *)ptxn_hwemu_phys_ptr(
			as->phys, table + 8 * (uint64_t)ptxn_mmu_index(&as->mmu, va, l));
		ptxn_pteval_t v;

		if (!slot)
			return NULL;
		v = ptxn_pte_val(ptxn_ptep_get(slot));
		if (l == 0 || (ptxn_mmu_entry_valid(v) && ptxn_mmu_entry_is_leaf(&as->mmu, v, l))) {
			if (level)
				*level = l;
			return slot;
		}
		if (!ptxn_mmu_entry_valid(v))
			return NULL;
		table = ptxn_mmu_entry_table(v);
	}
}

PTXN_HWEMU_FUNC void ptxn_hwemu_as_free_table(struct ptxn_hwemu_as *as, uint64_t table,
					      unsigned level)
{
	uint64_t n = UINT64_C(1) << ptxn_mmu_index_bits(&as->mmu, level), i;

	if (level > 0) {
		for (i = 0; i < n; i++) {
			ptxn_pte_t *slot = (ptxn_pte_t *)ptxn_hwemu_phys_ptr(as->phys, table + 8 * i);
			ptxn_pteval_t v = ptxn_pte_val(ptxn_ptep_get(slot));

			if (ptxn_mmu_entry_valid(v) && !ptxn_mmu_entry_is_leaf(&as->mmu, v, level))
				ptxn_hwemu_as_free_table(as, ptxn_mmu_entry_table(v), level - 1);
		}
	}
	ptxn_hwemu_phys_free(as->phys, table, ptxn_hwemu_table_pages(&as->mmu, level));
}

/* Free every table of the address space. */
PTXN_HWEMU_FUNC void ptxn_hwemu_as_fini(struct ptxn_hwemu_as *as)
{
	if (as->mmu.root)
		ptxn_hwemu_as_free_table(as, as->mmu.root, ptxn_mmu_top_level(&as->mmu));
	as->mmu.root = 0;
}

PTXN_EXTERN_C_END

#endif /* PTXN_HWEMU_ASPACE_H */
