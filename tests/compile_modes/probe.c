/* SPDX-License-Identifier: MIT */
/*
 * One translation unit that uses the whole public API, compiled in every language mode
 * and in kernel style (tests/compile_modes/meson.build). It must build with -Wall -Wextra
 * -Werror in each; where the mode can run in user space, a test links it and checks the
 * result, so the compiled code is also right, not only accepted.
 */
#include <ptxn/ptxn.h>

#ifdef __cplusplus
extern "C" {
#endif
int PROBE_NAME(void);
#ifdef __cplusplus
}
#endif

static ptxn_pte_t probe_table[8] __attribute__((aligned(64)));

/* Returns 0 when every step gave what it should. */
int PROBE_NAME(void)
{
	ptxn_mm_t mm;
	ptxn_pte_t old, pte;
	unsigned int i;
	int bad = 0;

	ptxn_mm_init(&mm);
	for (i = 0; i < 8; i++)
		ptxn_set_pte(&probe_table[i],
			     ptxn_pte_mkdirty(ptxn_pfn_pte(0x200 + i, ptxn_prot(PTXN_PROT_READ |
										 PTXN_PROT_WRITE |
										 PTXN_PROT_USER))));
	/* single entry, every strategy */
	for (i = PTXN_STRATEGY_AUTO; i < PTXN_STRATEGY_COUNT; i++) {
		if (!ptxn_mm_set_strategy(&mm, (enum ptxn_strategy)i))
			bad |= 1;
		old = ptxn_modify_prot_start(&mm, 0x1000, &probe_table[0]);
		pte = ptxn_pte_modify(old, ptxn_prot(PTXN_PROT_READ | PTXN_PROT_USER));
		ptxn_modify_prot_commit(&mm, 0x1000, &probe_table[0], old, pte);
		old = ptxn_modify_prot_start(&mm, 0x1000, &probe_table[0]);
		pte = ptxn_pte_mkwrite(old);
		ptxn_modify_prot_commit(&mm, 0x1000, &probe_table[0], old, pte);
	}
	pte = ptxn_ptep_get(&probe_table[0]);
	if (!ptxn_pte_write(pte) || !ptxn_pte_dirty(pte) || ptxn_pte_pfn(pte) != 0x200)
		bad |= 2;
	/* batched, in lazy mode */
	ptxn_lazy_mmu_enter(&mm);
	old = ptxn_modify_prot_start_ptes(&mm, 0x2000, &probe_table[1], 7);
	ptxn_modify_prot_commit_ptes(&mm, 0x2000, &probe_table[1], old, ptxn_pte_wrprotect(old), 7);
	ptxn_lazy_mmu_leave(&mm);
	for (i = 1; i < 8; i++) {
		pte = ptxn_ptep_get(&probe_table[i]);
		if (ptxn_pte_write(pte) || !ptxn_pte_dirty(pte) || ptxn_pte_pfn(pte) != 0x200 + i)
			bad |= 4;
	}
	if (!ptxn_ptep_test_and_clear_young(&probe_table[0]) &&
	    ptxn_pte_young(ptxn_ptep_get(&probe_table[0])))
		bad |= 8;
	if (!ptxn_mm_check_idle(&mm))
		bad |= 16;
	return bad;
}
