/* SPDX-License-Identifier: MIT */
/*
 * ptxn/hwemu/x86/mmu.h - the x86 page walker with the processor's Accessed/Dirty rules:
 * 4-level IA-32e paging and 32-bit PAE paging, 4 KiB pages and PS large pages.
 *
 * Freestanding (ptxn headers only); reached through hwemu/mmu.h. Every rule names its
 * source; docs/hwemu.md has the full list.
 *
 *  - A is set in every paging-structure entry the walk uses, D only in the entry that maps
 *    the page, only for a write (SDM Vol. 3A 4.8, "Accessed and Dirty Flags").
 *  - The leaf's A and D are set only once every permission check passed (QEMU
 *    target/i386/tcg/sysemu/excp_helper.c, mmu_translate(): "can the page be put in the
 *    TLB?" precedes ptw_setl(A|D)); upper levels get A while the walk goes down.
 *  - Every update is a locked read-modify-write that applies only if the entry is still
 *    what the walk read; if not, the whole walk restarts (SDM 4.8: "the processor uses
 *    locked operations to update A/D"; QEMU ptw_setl() is a compare-and-swap and a failed
 *    leaf update goes to restart_all). QEMU restarts only the level for an upper entry;
 *    restarting the whole walk is indistinguishable to software and is what we do.
 *  - No flag is ever set in a not-present entry (SDM 4.8 applies to entries "used" for
 *    translation; QEMU faults before ptw_setl), except with the Knights Landing erratum.
 *  - Permissions combine over the levels: writes need R/W=1 everywhere, user accesses
 *    U/S=1 everywhere, a fetch faults if XD=1 anywhere (SDM 4.6, "Access Rights").
 *    CR0.WP=1 (supervisor writes obey R/W), IA32_EFER.NXE=1, no SMEP/SMAP/PKE modelled.
 *  - CET shadow stacks (SDM 4.6.1): a shadow-stack access is allowed only to a leaf with
 *    R/W=0 and D=1 (a shadow-stack page) whose upper entries all have R/W=1; ordinary
 *    writes to such a page fault (R/W=0). The walker sets A for it like for a read.
 *  - PAE: the four PDPTEs are loaded into registers when CR3 is loaded; they have no A
 *    bit (bits 8:5 and 2:1 are reserved) and no access rights (SDM 4.4.1, "PDPTE
 *    Registers", Table 4-8). A walk uses the registers, never the PDPT in memory.
 *  - A write through a TLB entry that allows writes but cached D=0: before CET the
 *    processor may set D in the entry even if software has since cleared its R/W (SDM
 *    4.8: "...the entry's dirty flag being set ... and the entry's R/W flag being clear.
 *    This will never occur on a processor that supports control-flow enforcement
 *    technology (CET)"). Modelled as a compare-and-swap that re-checks only P. With CET
 *    the processor re-walks.
 *  - Knights Landing (Xeon Phi x200 specification update, KNL4; Linux "x86/mm: Ignore A/D
 *    bits in pte/pmd/pud_none()"): that same late D update may land in an entry that is
 *    no longer present. Modelled as an atomic OR of A|D into whatever the slot holds,
 *    reported as an erratum update (not an access).
 */
#ifndef PTXN_HWEMU_X86_MMU_H
#define PTXN_HWEMU_X86_MMU_H

#ifndef PTXN_MMU_INTERNAL
#error "Do not include ptxn/hwemu/x86/mmu.h directly; include <ptxn/hwemu.h> or hwemu/mmu.h"
#endif

PTXN_EXTERN_C_BEGIN

#define PTXN_X86_PS PTXN_X86_PAT /* bit 7 above level 0: this entry maps a large page */
/* PAE PDPTE: reserved bits 2:1 and 8:5, and 63:52 (SDM Vol. 3A Table 4-8). */
#define PTXN_X86_PDPTE_RSVD (UINT64_C(0x1e6) | UINT64_C(0xfff0000000000000))

#define PTXN_MMU_FORMAT_LEVELS 4

/* The top level a walk starts from: 3 (PML4), or 2 (PDPT) with PAE. */
PTXN_MMU_FUNC unsigned ptxn_mmu_top_level(const struct ptxn_mmu *mmu)
{
	return (mmu->flags & PTXN_MMU_X86_PAE) ? 2 : 3;
}

/* Number of index bits of a table at this level. */
PTXN_MMU_FUNC unsigned ptxn_mmu_index_bits(const struct ptxn_mmu *mmu, unsigned level)
{
	return (level == 2 && (mmu->flags & PTXN_MMU_X86_PAE)) ? 2 : 9;
}

PTXN_MMU_FUNC unsigned ptxn_mmu_index(const struct ptxn_mmu *mmu, uint64_t va, unsigned level)
{
	return (unsigned)(va >> (12 + 9 * level)) & ((1u << ptxn_mmu_index_bits(mmu, level)) - 1);
}

/* Highest virtual address + 1 the walk translates (lower half only for 4-level). */
PTXN_MMU_FUNC uint64_t ptxn_mmu_va_limit(const struct ptxn_mmu *mmu)
{
	return (mmu->flags & PTXN_MMU_X86_PAE) ? UINT64_C(1) << 32 : UINT64_C(1) << 47;
}

/* A non-leaf entry pointing to the table at table_pa; A clear, no restriction. */
PTXN_MMU_FUNC ptxn_pteval_t ptxn_mmu_table_entry(const struct ptxn_mmu *mmu, uint64_t table_pa,
						 unsigned level)
{
	if (level == 2 && (mmu->flags & PTXN_MMU_X86_PAE))
		return (table_pa & PTXN_X86_PFN_MASK) | PTXN_X86_PRESENT; /* PDPTE: P only */
	return (table_pa & PTXN_X86_PFN_MASK) | PTXN_X86_PRESENT | PTXN_X86_RW | PTXN_X86_USER;
}

/* A leaf mapping pfn at this level (PS set above level 0). */
PTXN_MMU_FUNC ptxn_pteval_t ptxn_mmu_leaf_entry(const struct ptxn_mmu *mmu, uint64_t pfn,
						ptxn_prot_t prot, unsigned level)
{
	(void)mmu;
	return ptxn_arch_pfn_pte(pfn, prot.bits) | (level ? PTXN_X86_PS : 0);
}

/* Does this (present) entry at this level map a page rather than point to a table? */
PTXN_MMU_FUNC bool ptxn_mmu_entry_is_leaf(const struct ptxn_mmu *mmu, ptxn_pteval_t v,
					  unsigned level)
{
	if (level == 0)
		return true;
	if (level == 2 && (mmu->flags & PTXN_MMU_X86_PAE))
		return false;
	return (level == 1 || level == 2) && (v & PTXN_X86_PS);
}

PTXN_MMU_FUNC bool ptxn_mmu_entry_valid(ptxn_pteval_t v)
{
	return (v & PTXN_X86_PRESENT) != 0;
}

PTXN_MMU_FUNC uint64_t ptxn_mmu_entry_table(ptxn_pteval_t v)
{
	return v & PTXN_X86_PFN_MASK;
}

/* MOV to CR3 with PAE paging: load the PDPTE registers (SDM Vol. 3A 4.4.1). False = #GP. */
PTXN_MMU_FUNC bool ptxn_mmu_x86_load_pdptes(struct ptxn_mmu *mmu)
{
	unsigned i;

	for (i = 0; i < 4; i++) {
		ptxn_pte_t *slot = ptxn_mmu_slot(mmu, (mmu->root & ~(uint64_t)0x1f) + 8 * i);
		ptxn_pteval_t v;

		if (!slot)
			return false;
		v = ptxn_mmu_load(slot);
		if ((v & PTXN_X86_PRESENT) && (v & PTXN_X86_PDPTE_RSVD))
			return false;
		mmu->pdpte[i] = v;
	}
	return true;
}

/* Fill w with the fault and return it. */
PTXN_MMU_FUNC unsigned ptxn_mmu_x86_fault(struct ptxn_mmu_walk *w, unsigned fault)
{
	w->fault = fault;
	return fault;
}

/*
 * Translate va for one access (PTXN_MMU_READ/WRITE/EXEC, optionally | PTXN_MMU_PROBE) in
 * user or supervisor mode, setting A/D as the processor does. Returns w->fault.
 */
PTXN_MMU_FUNC unsigned ptxn_mmu_translate(const struct ptxn_mmu *mmu, uint64_t va,
					  unsigned access, bool user, struct ptxn_mmu_walk *w)
{
	const unsigned kind = access & PTXN_MMU_ACCESS_MASK;
	const bool probe = (access & PTXN_MMU_PROBE) != 0;
	const bool pae = (mmu->flags & PTXN_MMU_X86_PAE) != 0;
	const unsigned top = ptxn_mmu_top_level(mmu);

	ptxn_mmu_walk_init(w);
	if (pae ? (va >> 32) != 0 : ((int64_t)va >> 47) != 0 && ((int64_t)va >> 47) != -1)
		return ptxn_mmu_x86_fault(w, PTXN_MMU_FAULT_ADDRESS); /* #GP, not #PF */
restart:
	{
		bool rw = true, us = true, nx = false, upper_rw;
		uint64_t table = mmu->root & PTXN_X86_PFN_MASK, size, set;
		unsigned level = top;
		ptxn_pte_t *slot = NULL;
		ptxn_pteval_t v = 0;

		for (;; level--) {
			if (pae && level == 2) {
				/* The PDPTE register: no A, no rights (SDM 4.4.1). */
				v = mmu->pdpte[(va >> 30) & 3];
				w->leaf = NULL;
				w->leaf_val = v;
				w->level = level;
				if (!(v & PTXN_X86_PRESENT))
					return ptxn_mmu_x86_fault(w, PTXN_MMU_FAULT_NOT_PRESENT);
				table = v & PTXN_X86_PFN_MASK;
				continue;
			}
			slot = ptxn_mmu_slot(mmu, table + 8 * (uint64_t)ptxn_mmu_index(mmu, va, level));
			w->leaf = slot;
			w->level = level;
			if (!slot)
				return ptxn_mmu_x86_fault(w, PTXN_MMU_FAULT_BUS);
			v = ptxn_mmu_load(slot);
			w->leaf_val = v;
			if (!(v & PTXN_X86_PRESENT)) /* never an update on a non-present entry */
				return ptxn_mmu_x86_fault(w, PTXN_MMU_FAULT_NOT_PRESENT);
			if (level == 3 && (v & PTXN_X86_PS)) /* PS is reserved in a PML4E */
				return ptxn_mmu_x86_fault(w, PTXN_MMU_FAULT_RESERVED);
			if (ptxn_mmu_entry_is_leaf(mmu, v, level))
				break;
			/* A in every paging-structure entry used (SDM 4.8), before going down. */
			if (!probe && !(v & PTXN_X86_ACCESSED)) {
				if (!ptxn_mmu_cas(mmu, slot, va, level, v, v | PTXN_X86_ACCESSED,
						  PTXN_MMU_UPDATE_NORMAL)) {
					if (++w->restarts > PTXN_MMU_MAX_RESTARTS)
						return ptxn_mmu_x86_fault(w, PTXN_MMU_FAULT_BUS);
					goto restart;
				}
				w->updates++;
				v |= PTXN_X86_ACCESSED;
				w->leaf_val = v;
			}
			rw = rw && (v & PTXN_X86_RW);
			us = us && (v & PTXN_X86_USER);
			nx = nx || (v & PTXN_X86_NX);
			table = v & PTXN_X86_PFN_MASK;
		}

		/* The leaf. Large pages: address bits below the page size are reserved (bit 12 is PAT). */
		size = UINT64_C(1) << (12 + 9 * level);
		if (level && (v & PTXN_X86_PFN_MASK & (size - 1) & ~(UINT64_C(1) << 12)))
			return ptxn_mmu_x86_fault(w, PTXN_MMU_FAULT_RESERVED);
		upper_rw = rw;
		rw = rw && (v & PTXN_X86_RW);
		us = us && (v & PTXN_X86_USER);
		nx = nx || (v & PTXN_X86_NX);
		w->prot = PTXN_PROT_READ | (rw ? PTXN_PROT_WRITE : 0) | (nx ? 0 : PTXN_PROT_EXEC) |
			  (us ? PTXN_PROT_USER : 0);
		w->page_size = size;

		/* All permission checks come first (SDM 4.6; QEMU do_check_protect). */
		if (user && !us)
			return ptxn_mmu_x86_fault(w, PTXN_MMU_FAULT_USER);
		if (kind == PTXN_MMU_WRITE && !rw) /* CR0.WP=1: supervisor writes too */
			return ptxn_mmu_x86_fault(w, PTXN_MMU_FAULT_WRITE);
		if (kind == PTXN_MMU_EXEC && nx)
			return ptxn_mmu_x86_fault(w, PTXN_MMU_FAULT_EXEC);
		/*
		 * A shadow-stack access needs CET and a shadow-stack page: a leaf with R/W=0 and
		 * D=1 under entries that all allow writes (SDM Vol. 3A 4.6.1); anything else is a
		 * page fault (error code SS=1), reported as a write fault. D is already set.
		 */
		if (kind == PTXN_MMU_SHADOW_STACK &&
		    (!(mmu->flags & PTXN_MMU_X86_CET) || !upper_rw || (v & PTXN_X86_RW) ||
		     !(v & PTXN_X86_DIRTY)))
			return ptxn_mmu_x86_fault(w, PTXN_MMU_FAULT_WRITE);

		/* Then A, and D for a write, on the leaf: one compare-and-swap (SDM 4.8). */
		set = PTXN_X86_ACCESSED | (kind == PTXN_MMU_WRITE ? PTXN_X86_DIRTY : 0);
		if (!probe && (set & ~v)) {
			if (!ptxn_mmu_cas(mmu, slot, va, level, v, v | set, PTXN_MMU_UPDATE_NORMAL)) {
				if (++w->restarts > PTXN_MMU_MAX_RESTARTS)
					return ptxn_mmu_x86_fault(w, PTXN_MMU_FAULT_BUS);
				goto restart; /* QEMU: "the only safe thing is to restart the entire lookup" */
			}
			w->updates++;
			v |= set;
		}
		w->leaf_val = v;
		w->dirty = (v & PTXN_X86_DIRTY) != 0;
		w->pa = (v & PTXN_X86_PFN_MASK & ~(size - 1)) | (va & (size - 1));
		return PTXN_MMU_OK;
	}
}

/*
 * A write hit a TLB entry that allows writes but cached D=0 (leaf: the slot the walk that
 * filled it used). With CET, re-walk. Before CET, set A|D in the leaf with a
 * compare-and-swap that re-checks only P (SDM 4.8): R/W=0 in memory does not stop it. A
 * not-present leaf makes the processor re-walk (and fault), except on Knights Landing,
 * where A|D land in the not-present entry anyway (erratum update).
 */
PTXN_MMU_FUNC int ptxn_mmu_tlb_dirty(const struct ptxn_mmu *mmu, ptxn_pte_t *leaf, unsigned level,
				     uint64_t va, struct ptxn_mmu_walk *w)
{
	const ptxn_pteval_t ad = PTXN_X86_ACCESSED | PTXN_X86_DIRTY;

	if (mmu->flags & PTXN_MMU_X86_CET)
		return PTXN_MMU_TLB_REWALK;
	for (;;) {
		ptxn_pteval_t v = ptxn_mmu_load(leaf);
		unsigned kind = PTXN_MMU_UPDATE_NORMAL;

		if (!(v & PTXN_X86_PRESENT)) {
			if (!(mmu->flags & PTXN_MMU_X86_KNL))
				return PTXN_MMU_TLB_REWALK;
			kind = PTXN_MMU_UPDATE_ERRATUM;
		}
		if ((v & ad) == ad)
			return PTXN_MMU_TLB_OK;
		if (ptxn_mmu_cas(mmu, leaf, va, level, v, v | ad, kind)) {
			w->updates++;
			return PTXN_MMU_TLB_OK;
		}
		w->restarts++;
	}
}

/* Is this leaf something only software can have made under CET (R/W=0 with D=1)? */
PTXN_MMU_FUNC bool ptxn_mmu_x86_shadow_stack_like(ptxn_pteval_t v)
{
	return (v & PTXN_X86_PRESENT) && !(v & PTXN_X86_RW) && (v & PTXN_X86_DIRTY);
}

PTXN_EXTERN_C_END

#endif /* PTXN_HWEMU_X86_MMU_H */
