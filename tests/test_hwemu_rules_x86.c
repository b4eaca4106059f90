// SPDX-License-Identifier: MIT
/*
 * hwemu rule tests: the x86 rules (tests/test_hwemu_rules.c has the rules every
 * format shares, the suite and main; docs/hwemu.md names the manual section of every
 * rule). Linked only into the PTXN_FORMAT_X86 program (tests/meson.build).
 */
#include "test_hwemu_rules.h"

#if !defined(PTXN_FORMAT_X86)
#error "tests/test_hwemu_rules_x86.c is built for PTXN_FORMAT_X86 only"
#endif

/* ================================== x86 ===================================== */

/* SDM 4.8: A in every paging-structure entry used; D only in the leaf, only for a write. */
START_TEST(test_x86_a_on_every_level)
{
	struct ptxn_hwemu *hw = hw_machine(0, 1, R | W | U);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
	ptxn_pte_t *leaf = hw_leaf(hw, HW_VA);
	unsigned level = 9;

	for (level = 0; level < 4; level++)
		ck_assert(!(ptxn_pte_val(upper(hw, HW_VA, level)) & PTXN_X86_ACCESSED));
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, NULL), PTXN_MMU_OK);
	for (level = 0; level < 4; level++) {
		ptxn_pteval_t v = ptxn_pte_val(upper(hw, HW_VA, level));

		ck_assert(v & PTXN_X86_ACCESSED);
		ck_assert(!(v & PTXN_X86_DIRTY));
	}
	ck_assert_uint_eq(a->nledger, 4);
	ck_assert_uint_eq(a->ledger[0].level, 3);
	ck_assert_uint_eq(a->ledger[3].level, 0);
	ck_assert_uint_eq(a->ledger[3].bits, PTXN_HWEMU_YOUNG);
	/* A write through the TLB entry (D cached clear) sets D in the leaf only. */
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL), PTXN_MMU_OK);
	ck_assert(hw_val(leaf) & PTXN_X86_DIRTY);
	for (level = 1; level < 4; level++)
		ck_assert(!(ptxn_pte_val(upper(hw, HW_VA, level)) & PTXN_X86_DIRTY));
	ck_assert_uint_eq(a->nledger, 5);
	ck_assert_uint_eq(a->ledger[4].bits, PTXN_HWEMU_DIRTY);
	/* A and D set: nothing more is ever written. */
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL), PTXN_MMU_OK);
	ck_assert_uint_eq(a->nledger, 5);
	ptxn_hwemu_destroy(hw);
}
END_TEST

/* No D without R/W (all checks before the leaf update); CR0.WP: supervisor too. */
START_TEST(test_x86_no_d_without_rw)
{
	struct ptxn_hwemu *hw = hw_machine(0, 1, R | U);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
	ptxn_pte_t *leaf = hw_leaf(hw, HW_VA);

	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL),
			  PTXN_MMU_FAULT_WRITE);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, false, NULL),
			  PTXN_MMU_FAULT_WRITE);
	ck_assert(!(hw_val(leaf) & (PTXN_X86_ACCESSED | PTXN_X86_DIRTY)));
	ck_assert(ptxn_pte_val(upper(hw, HW_VA, 1)) & PTXN_X86_ACCESSED); /* walked: used */
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, NULL), PTXN_MMU_OK);
	ck_assert((hw_val(leaf) & (PTXN_X86_ACCESSED | PTXN_X86_DIRTY)) == PTXN_X86_ACCESSED);
	ptxn_hwemu_destroy(hw);
}
END_TEST

/* Never an update on a non-present entry, at the leaf or above. */
START_TEST(test_x86_no_update_on_non_present)
{
	struct ptxn_hwemu *hw = hw_machine(0, 2, R | W | U);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
	ptxn_pte_t *leaf = hw_leaf(hw, HW_VA), *pde = ptxn_hwemu_as_slot(&hw->as, HW_VA, 1, false);
	ptxn_pteval_t pdev = hw_val(pde);
	struct ptxn_mmu_walk w;

	ptxn_pte_clear(leaf);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, &w),
			  PTXN_MMU_FAULT_NOT_PRESENT);
	ck_assert_uint_eq(w.level, 0);
	ck_assert_uint_eq(hw_val(leaf), 0);
	/* A PROT_NONE entry (P=0, software-present) is not touched either. */
	ptxn_set_pte(leaf, ptxn_pfn_pte(0x1234, ptxn_prot(0)));
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, NULL),
			  PTXN_MMU_FAULT_NOT_PRESENT);
	ck_assert_uint_eq(hw_val(leaf), ptxn_pte_val(ptxn_pfn_pte(0x1234, ptxn_prot(0))));
	/* A non-present PDE: the walk stops there, nothing below or at it changes. */
	ptxn_set_pte(pde, ptxn_make_pte(pdev & ~(ptxn_pteval_t)PTXN_X86_PRESENT));
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA + 4096, PTXN_MMU_READ, true, &w),
			  PTXN_MMU_FAULT_NOT_PRESENT);
	ck_assert_uint_eq(w.level, 1);
	ck_assert_uint_eq(hw_val(pde), pdev & ~(ptxn_pteval_t)PTXN_X86_PRESENT);
	ptxn_hwemu_destroy(hw);
}
END_TEST

/* Restart: the entry changes between the walk's read and its compare-and-swap. */
static ptxn_pte_t *restart_slot;
static ptxn_pteval_t restart_clear, restart_set;
static int restart_armed;

static uint64_t meddling_ticket(void *ctx)
{
	if (restart_armed) {
		ptxn_pteval_t v = hw_val(restart_slot);

		restart_armed = 0;
		ptxn_set_pte(restart_slot, ptxn_make_pte((v & ~restart_clear) | restart_set));
	}
	return ptxn_hwemu_mmu_ticket(ctx);
}

START_TEST(test_x86_restart_on_change)
{
	struct ptxn_hwemu *hw = hw_machine(0, 1, R | W | U);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
	ptxn_pte_t *leaf = hw_leaf(hw, HW_VA);
	struct ptxn_mmu_walk w;

	/* Set A everywhere first, then empty the TLB: the write's only update is the leaf's D. */
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, NULL), PTXN_MMU_OK);
	ptxn_hwemu_flush_all(hw);
	a->mmu.ticket = meddling_ticket;
	/* Software makes it read-only under the walk: the CAS fails, the re-walk faults. */
	restart_slot = leaf;
	restart_clear = PTXN_X86_RW;
	restart_set = 0;
	restart_armed = 1;
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, &w),
			  PTXN_MMU_FAULT_WRITE);
	ck_assert_uint_eq(w.restarts, 1);
	ck_assert(!(hw_val(leaf) & PTXN_X86_DIRTY));
	/* A harmless change (a software bit): the re-walk keeps it and sets D. */
	ptxn_set_pte(leaf, ptxn_pte_mkwrite(ptxn_ptep_get(leaf)));
	restart_clear = 0;
	restart_set = PTXN_X86_SOFTWARE_MASK & (UINT64_C(1) << 9);
	restart_armed = 1;
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, &w), PTXN_MMU_OK);
	ck_assert_uint_eq(w.restarts, 1);
	ck_assert(hw_val(leaf) & PTXN_X86_DIRTY);
	ck_assert(hw_val(leaf) & restart_set);
	ck_assert_uint_eq(a->c.restarts, 2);
	ptxn_hwemu_destroy(hw);
}
END_TEST

/* SDM 4.6: U/S and XD combine over the levels. */
START_TEST(test_x86_nx_and_user)
{
	struct ptxn_hwemu *hw = hw_machine(0, 0, 0);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);

	ck_assert_uint_ne(ptxn_hwemu_map(hw, HW_VA, 1, ptxn_prot(R | W), 0), 0);            /* kernel, NX */
	ck_assert_uint_ne(ptxn_hwemu_map(hw, HW_VA + 4096, 1, ptxn_prot(R | X | U), 0), 0); /* user text */
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, NULL),
			  PTXN_MMU_FAULT_USER);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, false, NULL), PTXN_MMU_OK);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_EXEC, false, NULL),
			  PTXN_MMU_FAULT_EXEC);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA + 4096, PTXN_MMU_EXEC, true, NULL),
			  PTXN_MMU_OK);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA + 4096, PTXN_MMU_WRITE, true, NULL),
			  PTXN_MMU_FAULT_WRITE);
	ptxn_hwemu_destroy(hw);
}
END_TEST

/*
 * SDM 4.8: before CET, a write through a TLB entry with D clear may set D in an entry
 * whose R/W software has cleared; with CET the processor re-walks and faults.
 */
START_TEST(test_x86_stale_dirty_pre_cet_and_cet)
{
	int cet;

	for (cet = 0; cet < 2; cet++) {
		struct ptxn_hwemu *hw = hw_machine(cet ? PTXN_MMU_X86_CET : 0, 1, R | W | U);
		struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
		ptxn_pte_t *leaf = hw_leaf(hw, HW_VA);
		struct ptxn_hwemu_report r;
		ptxn_mm_t mm;

		ptxn_mm_init(&mm);
		ptxn_hwemu_attach_mm(hw, &mm);
		ptxn_hwemu_check_begin(hw);
		ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, NULL), PTXN_MMU_OK);
		hw_txn(hw, &mm, HW_VA, 1, mk_wrprotect, NULL, false); /* no flush yet */
		ck_assert(!(hw_val(leaf) & (PTXN_X86_RW | PTXN_X86_DIRTY)));
		if (!cet) {
			ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL),
					  PTXN_MMU_OK);
			ck_assert(ptxn_mmu_x86_shadow_stack_like(hw_val(leaf))); /* R/W=0, D=1 */
			ck_assert_uint_eq(a->c.stale_writes, 1);
		} else {
			ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL),
					  PTXN_MMU_FAULT_WRITE);
			ck_assert(!(hw_val(leaf) & PTXN_X86_DIRTY));
		}
		ck_assert(ptxn_hwemu_check(hw, &r));
		ptxn_hwemu_destroy(hw);
	}
}
END_TEST

/*
 * PTXN_MM_X86_CET lets AUTO commit a young read-only entry with a plain store. Before
 * CET, a stale writable TLB entry can set D in that entry between start and commit
 * (SDM 4.8) when its write-protection has not been flushed yet: the honest mm (no flag)
 * merges and keeps that D; an mm that claims CET on pre-CET hardware loses it, and the
 * checker must say so; on CET hardware the stale write faults and nothing can be lost.
 * PTXN_MM_WRPROTECT_FLUSHED, the caller's promise to flush every write-protection before
 * the entry's next transaction, does the same on any x86: kept (the flush empties the
 * TLB, the write faults) nothing is lost; broken, the checker catches the lost D.
 */
START_TEST(test_x86_cet_flag_readonly_quiescent)
{
	static const unsigned rw = R | W | U;
	int variant;

	/* 0: no promise; 1: CET claimed on pre-CET hardware; 2: CET hardware; 3: the flush
	 * promise broken (no flush); 4: the flush promise kept. */
	for (variant = 0; variant < 5; variant++) {
		static const unsigned mm_flags[5] = {0, PTXN_MM_X86_CET, PTXN_MM_X86_CET,
						     PTXN_MM_WRPROTECT_FLUSHED, PTXN_MM_WRPROTECT_FLUSHED};
		bool cet_hw = variant == 2, lie = variant == 1 || variant == 3;
		bool faults = cet_hw || variant == 4;
		struct ptxn_hwemu *hw = hw_machine(cet_hw ? PTXN_MMU_X86_CET : 0, 1, R | W | U);
		struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
		ptxn_pte_t old;
		ptxn_mm_t mm;

		ptxn_mm_init(&mm);
		ptxn_mm_set_flags(&mm, mm_flags[variant]);
		ptxn_hwemu_attach_mm(hw, &mm);
		ptxn_hwemu_check_begin(hw);
		/* A read caches a writable, clean translation; then a wrprotect, flushed only
		 * where the promise is kept. */
		ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, NULL), PTXN_MMU_OK);
		hw_txn(hw, &mm, HW_VA, 1, mk_wrprotect, NULL, false);
		if (variant == 4)
			ptxn_hwemu_flush_range(hw, HW_VA, HW_VA + 4096);
		/* The way back to read-write starts from a young, clean, read-only entry, and the
		 * stale translation writes before the commit. */
		old = store_inside_txn(hw, &mm, a, faults ? PTXN_MMU_FAULT_WRITE : PTXN_MMU_OK, rw);
		ck_assert(ptxn_pte_young(old) && !ptxn_pte_write(old) && !ptxn_pte_dirty(old));
		/* A lie is caught: the D the stale write set is gone, and the checker says so. */
		promise_verdict(hw, variant, lie, !faults);
	}
}
END_TEST

/*
 * CET shadow-stack pages (issue 17): an entry with R/W=0 and D=1 is one (SDM Vol. 3A
 * 4.6.1). Linux's pte_modify keeps it one while it stays read-only (it moves D to
 * SavedDirty only when the old entry was writable), and so does ptxn, with every
 * strategy: after mprotect(PROT_READ|PROT_EXEC) of a shadow stack, shadow-stack accesses
 * still work and ordinary writes still fault; made writable, it is an ordinary dirty page.
 * The checker accepts a shadow-stack page kept (its old entry was one) and nothing else.
 */
START_TEST(test_x86_shadow_stack_kept)
{
	unsigned strategy;

	for (strategy = 0; strategy < PTXN_STRATEGY_COUNT; strategy++) {
		struct ptxn_hwemu *hw = hw_machine(PTXN_MMU_X86_CET, 0, 0);
		struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
		const unsigned rx = R | X | U, rw = R | W | U;
		struct ptxn_hwemu_report r;
		ptxn_pte_t *leaf;
		ptxn_mm_t mm;

		ck_assert_uint_ne(ptxn_hwemu_map(hw, HW_VA, 1, ptxn_make_prot(ptxn_prot(R | U).bits |
									   PTXN_X86_DIRTY), 0), 0);
		leaf = hw_leaf(hw, HW_VA);
		ck_assert(ptxn_mmu_x86_shadow_stack_like(hw_val(leaf)));
		ptxn_mm_init(&mm);
		ck_assert(ptxn_mm_set_strategy(&mm, (enum ptxn_strategy)strategy));
		ptxn_hwemu_attach_mm(hw, &mm);
		ptxn_hwemu_check_begin(hw);
		ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_SHADOW_STACK, true, NULL),
				  PTXN_MMU_OK);
		ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL),
				  PTXN_MMU_FAULT_WRITE);

		hw_txn(hw, &mm, HW_VA, 1, hw_to_prot, (void *)&rx, true);
		ck_assert_msg(ptxn_mmu_x86_shadow_stack_like(hw_val(leaf)),
			      "%s: mprotect(PROT_READ|PROT_EXEC) made the shadow stack 0x%016llx",
			      ptxn_strategy_name((enum ptxn_strategy)strategy),
			      (unsigned long long)hw_val(leaf));
		ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_SHADOW_STACK, true, NULL),
				  PTXN_MMU_OK);
		ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_EXEC, true, NULL),
				  PTXN_MMU_OK);
		ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL),
				  PTXN_MMU_FAULT_WRITE);

		hw_txn(hw, &mm, HW_VA, 1, hw_to_prot, (void *)&rw, true);
		ck_assert(ptxn_pte_write(ptxn_ptep_get(leaf)) && ptxn_pte_dirty(ptxn_ptep_get(leaf)));
		ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_SHADOW_STACK, true, NULL),
				  PTXN_MMU_FAULT_WRITE);
		ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL),
				  PTXN_MMU_OK);
		ck_assert(ptxn_hwemu_check(hw, &r));
		ck_assert_uint_eq(r.cet, 0);

		/* and back to read-only: an ordinary page, its dirt in SavedDirty, no shadow stack */
		hw_txn(hw, &mm, HW_VA, 1, hw_to_prot, (void *)&rx, true);
		ck_assert(!ptxn_mmu_x86_shadow_stack_like(hw_val(leaf)));
		ck_assert(hw_val(leaf) & PTXN_X86_SAVED_DIRTY);
		ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_SHADOW_STACK, true, NULL),
				  PTXN_MMU_FAULT_WRITE);
		ptxn_hwemu_destroy(hw);
	}
}
END_TEST

/* The checker's CET rule: software must never produce R/W=0, D=1 under CET. */
START_TEST(test_x86_cet_checker)
{
	struct ptxn_hwemu *hw = hw_machine(PTXN_MMU_X86_CET, 1, R | W | U);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
	ptxn_pte_t *leaf = hw_leaf(hw, HW_VA);
	struct ptxn_hwemu_report r;

	ptxn_hwemu_check_begin(hw);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL), PTXN_MMU_OK);
	/* A careless wrprotect that clears R/W and keeps D (not ptxn_pte_wrprotect). */
	ptxn_set_pte(leaf, ptxn_make_pte(hw_val(leaf) & ~(ptxn_pteval_t)PTXN_X86_RW));
	ptxn_hwemu_flush_all(hw);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, NULL), PTXN_MMU_OK);
	ck_assert(!ptxn_hwemu_check(hw, &r));
	ck_assert_uint_ge(r.cet, 1);
	ptxn_hwemu_destroy(hw);
}
END_TEST

/*
 * Knights Landing: the late D update lands in an entry that is no longer present. The
 * entry must still count as none, and the checker must not call it an access.
 */
START_TEST(test_x86_knights_landing)
{
	int knl;

	for (knl = 0; knl < 2; knl++) {
		struct ptxn_hwemu *hw = hw_machine(knl ? PTXN_MMU_X86_KNL : 0, 1, R | W | U);
		struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
		ptxn_pte_t *leaf = hw_leaf(hw, HW_VA);
		struct ptxn_hwemu_report r;

		ptxn_hwemu_check_begin(hw);
		ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, NULL), PTXN_MMU_OK);
		logged_store(hw, HW_VA, leaf, ptxn_make_pte(0)); /* emptied, TLB not yet flushed */
		if (knl) {
			ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL),
					  PTXN_MMU_OK);
			ck_assert_uint_eq(hw_val(leaf), PTXN_X86_ACCESSED | PTXN_X86_DIRTY);
			ck_assert(ptxn_pte_none(ptxn_ptep_get(leaf)));
			ck_assert(!ptxn_pte_present(ptxn_ptep_get(leaf)));
			ck_assert_uint_eq(ledger_at(a, hw, leaf, PTXN_MMU_UPDATE_ERRATUM), 1);
			ck_assert_uint_eq(a->c.erratum_updates, 1);
		} else {
			ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL),
					  PTXN_MMU_FAULT_NOT_PRESENT);
			ck_assert_uint_eq(hw_val(leaf), 0);
		}
		ck_assert(ptxn_hwemu_check(hw, &r));
		ck_assert_uint_eq(r.erratum_updates, knl ? 1 : 0);
		ptxn_hwemu_destroy(hw);
	}
}
END_TEST

/* PAE: PDPTEs live in registers loaded with CR3, have no A bit, and memory changes wait. */
START_TEST(test_x86_pae_pdpte)
{
	struct ptxn_hwemu *hw = hw_machine(PTXN_MMU_X86_PAE, 1, R | W | U);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
	ptxn_pte_t *pdpte = ptxn_hwemu_as_slot(&hw->as, HW_VA, 2, false);
	ptxn_pteval_t v = hw_val(pdpte);
	struct ptxn_mmu_walk w;

	ck_assert_uint_eq(ptxn_mmu_top_level(&a->mmu), 2);
	ck_assert_uint_eq(v & ~PTXN_X86_PFN_MASK, PTXN_X86_PRESENT); /* P and the address only */
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, &w), PTXN_MMU_OK);
	ck_assert_uint_eq(hw_val(pdpte), v); /* no A in a PDPTE */
	ck_assert(ptxn_pte_val(upper(hw, HW_VA, 1)) & PTXN_X86_ACCESSED);
	ck_assert(ptxn_pte_dirty(ptxn_ptep_get(hw_leaf(hw, HW_VA))));
	/* Clearing the PDPTE in memory changes nothing until CR3 is reloaded. */
	ptxn_set_pte(pdpte, ptxn_make_pte(0));
	ptxn_hwemu_flush_all(hw);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, NULL), PTXN_MMU_OK);
	ck_assert(ptxn_hwemu_agent_reload_root(a));
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, &w),
			  PTXN_MMU_FAULT_NOT_PRESENT);
	ck_assert_uint_eq(w.level, 2);
	/* A PDPTE with a reserved bit (R/W) makes the CR3 load fail (#GP). */
	ptxn_set_pte(pdpte, ptxn_make_pte(v | PTXN_X86_RW));
	ck_assert(!ptxn_hwemu_agent_reload_root(a));
	ptxn_hwemu_destroy(hw);
}
END_TEST

/* Called by rules_suite() (tests/test_hwemu_rules.c); this order is the TAP order. */
void hwemu_rules_arch_tests(TCase *arch)
{
	tcase_add_test(arch, test_x86_a_on_every_level);
	tcase_add_test(arch, test_x86_no_d_without_rw);
	tcase_add_test(arch, test_x86_no_update_on_non_present);
	tcase_add_test(arch, test_x86_restart_on_change);
	tcase_add_test(arch, test_x86_nx_and_user);
	tcase_add_test(arch, test_x86_stale_dirty_pre_cet_and_cet);
	tcase_add_test(arch, test_x86_shadow_stack_kept);
	tcase_add_test(arch, test_x86_cet_checker);
	tcase_add_test(arch, test_x86_cet_flag_readonly_quiescent);
	tcase_add_test(arch, test_x86_knights_landing);
	tcase_add_test(arch, test_x86_pae_pdpte);
}
