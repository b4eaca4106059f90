/* SPDX-License-Identifier: MIT */
/*
 * The README's example, built and run by meson test: make one writable page read-only
 * with a transaction, then check the entry kept its frame and its dirty bit.
 */
#include <ptxn/ptxn.h>

/* mprotect(PROT_READ) of one page, under the caller's PTE lock. */
static void make_readonly(ptxn_mm_t *mm, uintptr_t addr, ptxn_pte_t *ptep)
{
	ptxn_pte_t old = ptxn_modify_prot_start(mm, addr, ptep);
	ptxn_pte_t pte = ptxn_pte_modify(old, ptxn_prot(PTXN_PROT_READ | PTXN_PROT_USER));

	ptxn_modify_prot_commit(mm, addr, ptep, old, pte);
	/* ...then flush the TLB for addr, as after any protection downgrade. */
}

int main(void)
{
	ptxn_mm_t mm;
	ptxn_pte_t slot;

	ptxn_mm_init(&mm);
	ptxn_set_pte(&slot, ptxn_pte_mkdirty(ptxn_pfn_pte(0x1234, ptxn_prot(PTXN_PROT_READ |
									     PTXN_PROT_WRITE |
									     PTXN_PROT_USER))));
	make_readonly(&mm, 0x400000, &slot);
	slot = ptxn_ptep_get(&slot);
	return !(ptxn_pte_pfn(slot) == 0x1234 && !ptxn_pte_write(slot) && ptxn_pte_dirty(slot));
}
