// SPDX-License-Identifier: MIT
/*
 * tests/test_hwemu_rules.h - what the hwemu rule tests share (tests/test_hwemu_rules.c,
 * the rules every format shares, and tests/test_hwemu_rules_<format>.c, one format's
 * rules, linked into one program per format): the portable protection shorthands, a few
 * helpers, and the hook by which the format's file adds its tests to the "arch" test case.
 */
#ifndef PTXN_TESTS_TEST_HWEMU_RULES_H
#define PTXN_TESTS_TEST_HWEMU_RULES_H

#include "test_hwemu_util.h"

#define R PTXN_PROT_READ
#define W PTXN_PROT_WRITE
#define X PTXN_PROT_EXEC
#define U PTXN_PROT_USER

/* Count ledger entries of an agent at a slot, optionally of one kind. */
static __attribute__((unused)) unsigned ledger_at(const struct ptxn_hwemu_agent *a, const struct ptxn_hwemu *hw,
			  const ptxn_pte_t *slot, int kind)
{
	uint64_t pa = ptxn_hwemu_slot_pa(hw, slot);
	unsigned n = 0;
	size_t i;

	for (i = 0; i < a->nledger; i++)
		if (a->ledger[i].slot == pa && (kind < 0 || a->ledger[i].kind == (unsigned)kind))
			n++;
	return n;
}

static __attribute__((unused)) ptxn_pte_t upper(struct ptxn_hwemu *hw, uint64_t va, unsigned level)
{
	ptxn_pte_t *slot = ptxn_hwemu_as_slot(&hw->as, va, level, false);

	ck_assert_ptr_nonnull(slot);
	return ptxn_ptep_get(slot);
}

static __attribute__((unused)) ptxn_pte_t mk_wrprotect(ptxn_pte_t old, void *arg)
{
	(void)arg;
	return ptxn_pte_wrprotect(old);
}

/* A logged plain store (single-threaded tests only: not safe against a running MMU). */
static __attribute__((unused)) void logged_store(struct ptxn_hwemu *hw, uint64_t va, ptxn_pte_t *slot,
						 ptxn_pte_t pte)
{
	struct ptxn_hwemu_txn t;

	memset(&t, 0, sizeof(t));
	t.slot = ptxn_hwemu_slot_pa(hw, slot);
	t.va = va;
	t.nr = 1;
	t.t_start = ptxn_hwemu_ticket(hw);
	t.old = hw_val(slot);
	t.t_started = ptxn_hwemu_ticket(hw);
	t.new_pte = ptxn_pte_val(pte);
	ptxn_set_pte(slot, pte);
	t.t_commit = ptxn_hwemu_ticket(hw);
	ptxn_hwemu_log(hw, &t);
}

/*
 * Where software manages A/D (radix with PTXN_MMU_PPC_RC_INTERRUPT, RISC-V Svade): a read
 * faults with read_fault and changes nothing, ptxn_hwemu_resolve() marks the entry young;
 * a write faults with write_fault, resolve marks it dirty; ptxn_hwemu_access()'s default
 * handler does the same by itself on a second page. Three software updates, none by the
 * hardware, and the checker agrees.
 */
static __attribute__((unused)) void sw_managed_ad(unsigned mmu_flags, unsigned read_fault,
						  unsigned write_fault)
{
	struct ptxn_hwemu *hw = hw_machine(mmu_flags, 2, R | W | U);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
	ptxn_pte_t *leaf = hw_leaf(hw, HW_VA);
	const ptxn_pteval_t v0 = hw_val(leaf), young = ptxn_arch_pte_mkyoung(v0);
	struct ptxn_hwemu_report r;
	struct ptxn_mmu_walk w;

	ptxn_hwemu_check_begin(hw);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, &w), read_fault);
	ck_assert_uint_eq(hw_val(leaf), v0);
	ck_assert(ptxn_hwemu_resolve(a, w.leaf, HW_VA, w.level, false));
	ck_assert_uint_eq(hw_val(leaf), young);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, NULL), PTXN_MMU_OK);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, &w), write_fault);
	ck_assert_uint_eq(hw_val(leaf), young);
	ck_assert(ptxn_hwemu_resolve(a, w.leaf, HW_VA, w.level, true));
	ck_assert_uint_eq(hw_val(leaf), ptxn_arch_pte_mkdirty(young));
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL), PTXN_MMU_OK);
	a->cfg.flags &= ~PTXN_HWEMU_AGENT_NO_RESOLVE;
	ck_assert_uint_eq(ptxn_hwemu_access(a, HW_VA + 4096, PTXN_MMU_WRITE, true, NULL), PTXN_MMU_OK);
	ck_assert(ptxn_pte_dirty(ptxn_ptep_get(hw_leaf(hw, HW_VA + 4096))));
	ck_assert_uint_eq(a->c.sw_resolved, 3);
	ck_assert(ptxn_hwemu_check(hw, &r));
	ck_assert_uint_eq(r.hw_updates, 0);
	ck_assert_uint_eq(r.sw_updates, 3);
	ptxn_hwemu_destroy(hw);
}

/*
 * The core of the promise tests (PTXN_MM_X86_CET, PTXN_MM_WRPROTECT_FLUSHED,
 * PTXN_MM_RISCV_SVADE): one transaction at HW_VA to ptxn_prot(prot), with a store made
 * between its start and its commit that must end with `fault`. Returns what start saw.
 */
static __attribute__((unused)) ptxn_pte_t store_inside_txn(struct ptxn_hwemu *hw, ptxn_mm_t *mm,
							   struct ptxn_hwemu_agent *a,
							   unsigned fault, unsigned prot)
{
	ptxn_pte_t *leaf = hw_leaf(hw, HW_VA);
	struct ptxn_hwemu_txn t;
	ptxn_pte_t old = ptxn_hwemu_txn_start(hw, mm, HW_VA, leaf, 1, &t);

	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL), fault);
	ptxn_hwemu_txn_commit(hw, mm, HW_VA, leaf, old, ptxn_pte_modify(old, ptxn_prot(prot)), &t);
	ptxn_hwemu_txn_end(hw, mm, &t, true);
	return old;
}

/*
 * Its verdict: a broken promise (lie) loses the dirty update and hwemu's checker says so;
 * a kept one loses nothing, and the entry is dirty exactly when the store landed.
 * Destroys hw.
 */
static __attribute__((unused)) void promise_verdict(struct ptxn_hwemu *hw, int variant, bool lie,
						    bool dirty)
{
	ptxn_pte_t *leaf = hw_leaf(hw, HW_VA);
	struct ptxn_hwemu_report r;
	bool clean = ptxn_hwemu_check(hw, &r);

	if (lie) {
		ck_assert(!ptxn_pte_dirty(ptxn_ptep_get(leaf)));
		ck_assert(!clean);
		ck_assert_uint_ge(r.lost, 1);
	} else {
		ck_assert_msg(clean, "variant %d: the checker found %llu lost updates", variant,
			      (unsigned long long)r.lost);
		ck_assert(ptxn_pte_dirty(ptxn_ptep_get(leaf)) == dirty);
	}
	ptxn_hwemu_destroy(hw);
}

/*
 * Defined by the format's own file (tests/test_hwemu_rules_<format>.c, chosen by
 * tests/meson.build): adds that format's rule tests to the "arch" test case.
 */
void hwemu_rules_arch_tests(TCase *arch);

#endif /* PTXN_TESTS_TEST_HWEMU_RULES_H */
