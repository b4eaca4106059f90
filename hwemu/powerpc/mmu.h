/* SPDX-License-Identifier: MIT */
/*
 * ptxn/hwemu/powerpc/mmu.h - the Power ISA 3.0+ radix walker (process-scoped translation,
 * quadrant 0, 52-bit effective addresses, 4 KiB base pages) with Reference/Change
 * recording, on big-endian entries whatever the host.
 *
 * Freestanding (ptxn headers only); reached through hwemu/mmu.h. Sources: Power ISA 3.1
 * Book III, section titles below, and QEMU target/ppc/mmu-radix64.c / mmu-radix64.h.
 *
 *  - Tree ("Radix Tree Translation"): the root has 2^RPDS entries (Linux 4K: 13 bits of
 *    EA 51:39); a non-leaf entry (Page Directory Entry: V=1, L=0) holds NLB, the next
 *    table's real address (bits 59:8, mask 0x0fffffffffffff00) and NLS, its log2 size
 *    (bits 4:0; NLS < 5 is an unsupported configuration); a leaf (L=1) at any level maps
 *    2^remaining-bits bytes (4 KiB, 2 MiB, 1 GiB). Entries are big-endian in storage.
 *  - Access authority ("Storage Protection, Radix"): EAA privileged bit forbids problem
 *    state (user) access; R allows loads, RW loads and stores, X fetches (QEMU
 *    ppc_radix64_get_prot_eaa). AMR/IAMR (KUAP/KUEP) are not modelled.
 *  - Reference and Change ("Reference and Change Recording"): R is set for any access, C
 *    for a store, only for a permitted access, by an atomic update of the PTE
 *    (atomic-RC implementations); if the PTE changed, translation is retried. An
 *    implementation may instead raise a Data/Instruction Storage Interrupt for software to
 *    set R/C (Book III 7.5.3 and 7.5.5; QEMU raises DSISR_ATOMIC_RC since 2023) - the
 *    PTXN_MMU_PPC_RC_INTERRUPT mode. QEMU 7.2 (Debian 12) still sets R/C with a plain
 *    load and store, which is not modelled (it can overwrite a concurrent software update).
 *  - A store through a cached translation whose C is not set: the ISA does not promise a
 *    re-check of the PTE's authority before C is recorded, so - as arch/powerpc/pte.h
 *    assumes - C is set with a compare-and-swap that re-checks only V (interrupt mode:
 *    the interrupt instead).
 */
#ifndef PTXN_HWEMU_POWERPC_MMU_H
#define PTXN_HWEMU_POWERPC_MMU_H

#ifndef PTXN_MMU_INTERNAL
#error "Do not include ptxn/hwemu/powerpc/mmu.h directly; include <ptxn/hwemu.h> or hwemu/mmu.h"
#endif

PTXN_EXTERN_C_BEGIN

#define PTXN_PPC_PDE_NLB	UINT64_C(0x0fffffffffffff00) /* next level base */
#define PTXN_PPC_PDE_NLS	UINT64_C(0x1f)               /* next level size, log2 entries */
#define PTXN_PPC_EA_BITS	52                           /* RTS of Linux 4K radix */
#define PTXN_PPC_ROOT_BITS	13                           /* Linux 4K: PGD index 13 bits */

#define PTXN_MMU_FORMAT_LEVELS 4

PTXN_MMU_FUNC unsigned ptxn_mmu_top_level(const struct ptxn_mmu *mmu)
{
	(void)mmu;
	return 3;
}

PTXN_MMU_FUNC unsigned ptxn_mmu_root_bits(const struct ptxn_mmu *mmu)
{
	return mmu->root_bits ? mmu->root_bits : PTXN_PPC_ROOT_BITS;
}

PTXN_MMU_FUNC unsigned ptxn_mmu_index_bits(const struct ptxn_mmu *mmu, unsigned level)
{
	return level == 3 ? ptxn_mmu_root_bits(mmu) : 9;
}

PTXN_MMU_FUNC unsigned ptxn_mmu_index(const struct ptxn_mmu *mmu, uint64_t va, unsigned level)
{
	return (unsigned)(va >> (12 + 9 * level)) & ((1u << ptxn_mmu_index_bits(mmu, level)) - 1);
}

PTXN_MMU_FUNC uint64_t ptxn_mmu_va_limit(const struct ptxn_mmu *mmu)
{
	return UINT64_C(1) << (39 + ptxn_mmu_root_bits(mmu));
}

/* A PDE: V, NLB, NLS = 9 (512-entry tables below the root, as Linux 4K radix). */
PTXN_MMU_FUNC ptxn_pteval_t ptxn_mmu_table_entry(const struct ptxn_mmu *mmu, uint64_t table_pa,
						 unsigned level)
{
	(void)mmu, (void)level;
	return PTXN_PPC_VALID | (table_pa & PTXN_PPC_PDE_NLB) | 9;
}

PTXN_MMU_FUNC ptxn_pteval_t ptxn_mmu_leaf_entry(const struct ptxn_mmu *mmu, uint64_t pfn,
						ptxn_prot_t prot, unsigned level)
{
	(void)mmu, (void)level;
	return ptxn_arch_pfn_pte(pfn, prot.bits) | PTXN_PPC_LEAF;
}

PTXN_MMU_FUNC bool ptxn_mmu_entry_is_leaf(const struct ptxn_mmu *mmu, ptxn_pteval_t v,
					  unsigned level)
{
	(void)mmu;
	return level == 0 || (v & PTXN_PPC_LEAF);
}

PTXN_MMU_FUNC bool ptxn_mmu_entry_valid(ptxn_pteval_t v)
{
	return (v & PTXN_PPC_VALID) != 0;
}

PTXN_MMU_FUNC uint64_t ptxn_mmu_entry_table(ptxn_pteval_t v)
{
	return v & PTXN_PPC_PDE_NLB;
}

PTXN_MMU_FUNC unsigned ptxn_mmu_ppc_fault(struct ptxn_mmu_walk *w, unsigned fault)
{
	w->fault = fault;
	return fault;
}

/*
 * Translate ea for one access (PTXN_MMU_READ/WRITE/EXEC, optionally | PTXN_MMU_PROBE) in
 * problem state (user) or privileged state. Returns w->fault.
 */
PTXN_MMU_FUNC unsigned ptxn_mmu_translate(const struct ptxn_mmu *mmu, uint64_t va,
					  unsigned access, bool user, struct ptxn_mmu_walk *w)
{
	const unsigned kind = access & PTXN_MMU_ACCESS_MASK;
	const bool probe = (access & PTXN_MMU_PROBE) != 0;

	ptxn_mmu_walk_init(w);
	if (kind == PTXN_MMU_SHADOW_STACK) /* an x86 CET notion: a write fault here */
		return ptxn_mmu_ppc_fault(w, PTXN_MMU_FAULT_WRITE);
	if (va >= ptxn_mmu_va_limit(mmu))
		return ptxn_mmu_ppc_fault(w, PTXN_MMU_FAULT_ADDRESS);
restart:
	{
		uint64_t base = mmu->root, nls = ptxn_mmu_root_bits(mmu), size, want;
		unsigned shift = 39 + (unsigned)nls, level = 3;
		ptxn_pte_t *slot;
		ptxn_pteval_t v;
		bool r, wr, x, priv;

		for (;;) {
			if (nls < 5 || nls > shift - 12) /* unsupported radix tree configuration */
				return ptxn_mmu_ppc_fault(w, PTXN_MMU_FAULT_RESERVED);
			shift -= (unsigned)nls;
			slot = ptxn_mmu_slot(mmu, (base & PTXN_PPC_PDE_NLB & ~((UINT64_C(8) << nls) - 1)) +
							  8 * ((va >> shift) & ((UINT64_C(1) << nls) - 1)));
			level = (shift - 12) / 9;
			w->leaf = slot;
			w->level = level;
			if (!slot)
				return ptxn_mmu_ppc_fault(w, PTXN_MMU_FAULT_BUS);
			v = ptxn_mmu_load(slot); /* big-endian storage, converted */
			w->leaf_val = v;
			if (!(v & PTXN_PPC_VALID)) /* no R/C ever lands in an invalid entry */
				return ptxn_mmu_ppc_fault(w, PTXN_MMU_FAULT_NOT_PRESENT);
			if (v & PTXN_PPC_LEAF)
				break;
			if (shift == 12) /* a directory where a PTE must be */
				return ptxn_mmu_ppc_fault(w, PTXN_MMU_FAULT_RESERVED);
			base = v & PTXN_PPC_PDE_NLB;
			nls = v & PTXN_PPC_PDE_NLS;
		}
		if ((shift - 12) % 9) /* only 4 KiB, 2 MiB, 1 GiB leaves */
			return ptxn_mmu_ppc_fault(w, PTXN_MMU_FAULT_RESERVED);
		size = UINT64_C(1) << shift;
		w->page_size = size;

		priv = (v & PTXN_PPC_PRIVILEGED) != 0;
		r = (v & (PTXN_PPC_READ | PTXN_PPC_WRITE)) != 0;
		wr = (v & PTXN_PPC_WRITE) != 0;
		x = (v & PTXN_PPC_EXEC) != 0;
		w->prot = (r ? PTXN_PROT_READ : 0) | (wr ? PTXN_PROT_WRITE : 0) |
			  (x ? PTXN_PROT_EXEC : 0) | (priv ? 0 : PTXN_PROT_USER);
		if (user && priv)
			return ptxn_mmu_ppc_fault(w, PTXN_MMU_FAULT_USER);
		if (kind == PTXN_MMU_READ && !r)
			return ptxn_mmu_ppc_fault(w, PTXN_MMU_FAULT_READ);
		if (kind == PTXN_MMU_WRITE && !wr)
			return ptxn_mmu_ppc_fault(w, PTXN_MMU_FAULT_WRITE);
		if (kind == PTXN_MMU_EXEC && !x)
			return ptxn_mmu_ppc_fault(w, PTXN_MMU_FAULT_EXEC);

		/* R for any permitted access, C for a permitted store. */
		want = PTXN_PPC_REFERENCE | (kind == PTXN_MMU_WRITE ? PTXN_PPC_CHANGE : 0);
		if (!probe && (want & ~v)) {
			if (mmu->flags & PTXN_MMU_PPC_RC_INTERRUPT)
				return ptxn_mmu_ppc_fault(w, PTXN_MMU_FAULT_RC);
			if (!ptxn_mmu_cas(mmu, slot, va, level, v, v | want, PTXN_MMU_UPDATE_NORMAL)) {
				if (++w->restarts > PTXN_MMU_MAX_RESTARTS)
					return ptxn_mmu_ppc_fault(w, PTXN_MMU_FAULT_BUS);
				goto restart;
			}
			w->updates++;
			v |= want;
		}
		w->leaf_val = v;
		w->dirty = (v & PTXN_PPC_CHANGE) != 0;
		w->pa = (v & PTXN_PPC_RPN_MASK & ~(size - 1)) | (va & (size - 1));
		return PTXN_MMU_OK;
	}
}

/*
 * A store hit a cached translation whose C is clear. Interrupt mode: walk again (and take
 * the interrupt). Atomic mode: set R|C with a compare-and-swap that re-checks only V.
 */
PTXN_MMU_FUNC int ptxn_mmu_tlb_dirty(const struct ptxn_mmu *mmu, ptxn_pte_t *leaf, unsigned level,
				     uint64_t va, struct ptxn_mmu_walk *w)
{
	const ptxn_pteval_t rc = PTXN_PPC_REFERENCE | PTXN_PPC_CHANGE;

	if (mmu->flags & PTXN_MMU_PPC_RC_INTERRUPT)
		return PTXN_MMU_TLB_REWALK;
	for (;;) {
		ptxn_pteval_t v = ptxn_mmu_load(leaf);

		if (!(v & PTXN_PPC_VALID))
			return PTXN_MMU_TLB_REWALK;
		if ((v & rc) == rc)
			return PTXN_MMU_TLB_OK;
		if (ptxn_mmu_cas(mmu, leaf, va, level, v, v | rc, PTXN_MMU_UPDATE_NORMAL)) {
			w->updates++;
			return PTXN_MMU_TLB_OK;
		}
		w->restarts++;
	}
}

/*
 * A translation that was in flight when software changed the entry writes its R (and C,
 * for a store) back late: an atomic OR into whatever the slot holds now, valid or not
 * (Linux book3s64: "an entry emptied by software may still receive an R/C write-back",
 * RADIX_PTE_NONE_MASK; hence PTXN_ARCH_MMU_LATE_WRITEBACK). Nothing in the slot
 * but R/C changes. Reported as a normal update: it is the hardware recording an access.
 */
PTXN_MMU_FUNC void ptxn_mmu_ppc_late_rc(const struct ptxn_mmu *mmu, ptxn_pte_t *leaf,
					uint64_t va, bool store)
{
	const ptxn_pteval_t rc = PTXN_PPC_REFERENCE | (store ? PTXN_PPC_CHANGE : 0);

	for (;;) {
		ptxn_pteval_t v = ptxn_mmu_load(leaf);

		if ((v & rc) == rc ||
		    ptxn_mmu_cas(mmu, leaf, va, 0, v, v | rc, PTXN_MMU_UPDATE_NORMAL))
			return;
	}
}

PTXN_EXTERN_C_END

#endif /* PTXN_HWEMU_POWERPC_MMU_H */
