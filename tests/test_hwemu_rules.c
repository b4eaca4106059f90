// SPDX-License-Identifier: MIT
/*
 * hwemu, one test per hardware rule (issue #4). Built once per entry format
 * (-DPTXN_FORMAT_X86/_ARM64/_POWERPC) and run on every target: each program checks its
 * format's rules plus the rules every format shares (TLB stale write then flush, the
 * checker's verdicts, deterministic replay). docs/hwemu.md names the manual section of
 * every rule tested here.
 *
 * This file holds the rules every format shares and the suite; each format's own rules
 * are in tests/test_hwemu_rules_<format>.c (tests/meson.build links the one that matches),
 * the helpers both use in tests/test_hwemu_rules.h.
 */
#include "test_hwemu_rules.h"

static ptxn_pte_t mk_wrprotect_clean_old(ptxn_pte_t old, void *arg)
{
	(void)arg;
	return ptxn_pte_mkold(ptxn_pte_mkclean(ptxn_pte_wrprotect(old)));
}

/* ============================ rules every format shares ============================== */

/*
 * A write through a cached writable, dirty translation needs no walk: after software made
 * the entry read-only it still succeeds until the TLB is flushed (hardware.md rule 7), then
 * it faults. The flush is the machine's shootdown, reached through the mm hook.
 */
START_TEST(test_tlb_stale_write_then_flush)
{
	struct ptxn_hwemu *hw = hw_machine(hw_default_flags(), 1, R | W | U);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
	ptxn_pte_t *leaf = hw_leaf(hw, HW_VA);
	ptxn_mm_t mm;

	ptxn_mm_init(&mm);
	ptxn_hwemu_attach_mm(hw, &mm);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL), PTXN_MMU_OK);
	ck_assert(ptxn_pte_dirty(ptxn_ptep_get(leaf)));
	hw_txn(hw, &mm, HW_VA, 1, mk_wrprotect, NULL, false);
	ck_assert(!ptxn_pte_write(ptxn_ptep_get(leaf)));
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL), PTXN_MMU_OK);
	ck_assert_uint_eq(a->c.stale_writes, 1);
	ptxn_hwemu_flush_range(hw, HW_VA, HW_VA + 4096);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL),
			  PTXN_MMU_FAULT_WRITE);
	ck_assert(!ptxn_pte_write(ptxn_ptep_get(leaf)));
	ptxn_hwemu_destroy(hw);
}
END_TEST

/* Upgrades need no flush: the stale read-only translation faults once, the re-walk succeeds. */
START_TEST(test_tlb_stale_upgrade_rewalks)
{
	struct ptxn_hwemu *hw = hw_machine(hw_default_flags(), 1, R | U);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
	unsigned rw = R | W | U;
	ptxn_mm_t mm;

	ptxn_mm_init(&mm);
	ptxn_hwemu_attach_mm(hw, &mm);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, NULL), PTXN_MMU_OK);
	hw_txn(hw, &mm, HW_VA, 1, hw_to_prot, &rw, false);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL), PTXN_MMU_OK);
	ck_assert_uint_eq(a->c.stale_tlb_faults, 1);
	ck_assert(ptxn_pte_dirty(ptxn_ptep_get(hw_leaf(hw, HW_VA))));
	ptxn_hwemu_destroy(hw);
}
END_TEST

/* Large pages: one 2 MiB leaf translates every 4 KiB inside it and gets the A/D state. */
START_TEST(test_large_page)
{
	struct ptxn_hwemu *hw = hw_machine(hw_default_flags(), 0, 0);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
	struct ptxn_mmu_walk w;
	uint64_t pa = ptxn_hwemu_map(hw, HW_VA, 512, ptxn_prot(R | W | U), PTXN_HWEMU_MAP_LARGE);
	unsigned level = 9;
	ptxn_pte_t *leaf = ptxn_hwemu_lookup(hw, HW_VA + 0x12345, &level);

	ck_assert_uint_ne(pa, 0);
	ck_assert_uint_eq(pa % (2u << 20), 0);
	ck_assert_ptr_nonnull(leaf);
	ck_assert_uint_eq(level, 1);
	ck_assert(!ptxn_pte_young(ptxn_ptep_get(leaf)));
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA + 0x12345, PTXN_MMU_READ, true, &w),
			  PTXN_MMU_OK);
	ck_assert_uint_eq(w.pa, pa + 0x12345);
	ck_assert_uint_eq(w.page_size, 2u << 20);
	ck_assert_uint_eq(w.level, 1);
	ck_assert(ptxn_pte_young(ptxn_ptep_get(leaf)));
	ck_assert(!ptxn_pte_dirty(ptxn_ptep_get(leaf)));
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA + 0x1ff008, PTXN_MMU_WRITE, true, &w),
			  PTXN_MMU_OK);
	ck_assert_uint_eq(w.pa, pa + 0x1ff008);
	ck_assert(ptxn_pte_dirty(ptxn_ptep_get(leaf)));
	/* The next 2 MiB is not mapped. */
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA + 0x200000, PTXN_MMU_READ, true, &w),
			  PTXN_MMU_FAULT_NOT_PRESENT);
	ptxn_hwemu_destroy(hw);
}
END_TEST

/* The checker: a plain store that drops a hardware D is reported lost; one that adds a bit stray. */
START_TEST(test_checker_lost_and_stray)
{
	struct ptxn_hwemu *hw = hw_machine(hw_default_flags(), 2, R | W | U);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
	struct ptxn_hwemu_report r;
	ptxn_pte_t *p0 = hw_leaf(hw, HW_VA), *p1 = hw_leaf(hw, HW_VA + 4096);

	ptxn_hwemu_check_begin(hw);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL), PTXN_MMU_OK);
	ck_assert(ptxn_hwemu_check(hw, &r));
	ck_assert_uint_ge(r.hw_updates, 1);
	/* Unlogged software writes: page 0 loses its A/D, page 1 gains a D nobody set. */
	ptxn_set_pte(p0, ptxn_pte_mkold(ptxn_pte_mkclean(ptxn_ptep_get(p0))));
	ptxn_set_pte(p1, ptxn_pte_mkdirty(ptxn_ptep_get(p1)));
	ck_assert(!ptxn_hwemu_check(hw, &r));
	ck_assert_uint_eq(r.lost, 2);  /* young and dirty of page 0 */
	ck_assert_uint_eq(r.stray, 1); /* dirty of page 1 */
	ck_assert_uint_ge(r.nfindings, 3);
	ck_assert_uint_eq(r.findings[0].slot, ptxn_hwemu_slot_pa(hw, p0));
	ck_assert_uint_ge(r.findings[0].ntickets, 1);
	ptxn_hwemu_destroy(hw);
}
END_TEST

/*
 * The checker's timestamp rule for batched transactions (A/D folded per folio): an update
 * made after the batch's start finished must survive its commit. A "commit" that stores
 * the entries plainly loses it, and the checker names it.
 */
START_TEST(test_checker_batched_timestamp)
{
	struct ptxn_hwemu *hw = hw_machine(hw_default_flags(), 4, R | W | U);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
	ptxn_pte_t *first = hw_leaf(hw, HW_VA);
	struct ptxn_hwemu_report r;
	struct ptxn_hwemu_txn t;
	ptxn_mm_t mm;
	unsigned i, ro = R | U;

	ptxn_mm_init(&mm);
	ptxn_mm_set_strategy(&mm, PTXN_STRATEGY_MERGE);
	ptxn_hwemu_attach_mm(hw, &mm);
	ptxn_hwemu_check_begin(hw);
	/* The real batched API keeps an update made inside the transaction. */
	{
		ptxn_pte_t old = ptxn_hwemu_txn_start(hw, &mm, HW_VA, first, 4, &t);

		ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA + 2 * 4096, PTXN_MMU_WRITE, true, NULL),
				  PTXN_MMU_OK);
		ptxn_hwemu_txn_commit(hw, &mm, HW_VA, first, old, ptxn_pte_modify(old, ptxn_prot(ro)), &t);
		ptxn_hwemu_txn_end(hw, &mm, &t, true);
	}
	ck_assert(ptxn_pte_dirty(ptxn_ptep_get(first + 2)));
	ck_assert(ptxn_hwemu_check(hw, &r));
	ck_assert_uint_eq(r.batched_txns, 1);
	/* A broken batch: plain stores of what start saw, after an update landed. */
	ptxn_set_pte(first + 1, ptxn_pte_mkwrite(ptxn_ptep_get(first + 1)));
	ptxn_hwemu_flush_all(hw);
	ptxn_hwemu_check_begin(hw);
	memset(&t, 0, sizeof(t));
	t.slot = ptxn_hwemu_slot_pa(hw, first);
	t.va = HW_VA;
	t.nr = 4;
	t.t_start = ptxn_hwemu_ticket(hw);
	t.old = hw_val(first);
	t.t_started = ptxn_hwemu_ticket(hw);
	{
		ptxn_pteval_t saved[4];

		for (i = 0; i < 4; i++)
			saved[i] = hw_val(first + i);
		ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA + 4096, PTXN_MMU_WRITE, true, NULL),
				  PTXN_MMU_OK);
		for (i = 0; i < 4; i++)
			ptxn_set_pte(first + i, ptxn_make_pte(saved[i]));
	}
	t.new_pte = t.old;
	t.t_commit = ptxn_hwemu_ticket(hw);
	ptxn_hwemu_log(hw, &t);
	ck_assert(!ptxn_hwemu_check(hw, &r));
	ck_assert_uint_ge(r.lost_batched, 1);
	ck_assert_uint_eq(r.findings[0].kind, PTXN_HWEMU_LOST);
	ck_assert_uint_eq(r.findings[0].slot, ptxn_hwemu_slot_pa(hw, first + 1));
	ptxn_hwemu_destroy(hw);
}
END_TEST

static void broken_flush(ptxn_mm_t *mm, uintptr_t start, uintptr_t end)
{
	(void)mm, (void)start, (void)end; /* forgets to invalidate anything */
}

/* The checker: a write that succeeds after a read-only commit and its flush is a violation. */
START_TEST(test_checker_permission)
{
	int pass;

	for (pass = 0; pass < 2; pass++) {
		struct ptxn_hwemu *hw = hw_machine(hw_default_flags(), 1, R | W | U);
		struct ptxn_hwemu_agent *a = hw_raw_agent(hw, PTXN_HWEMU_AGENT_LOG_WRITES);
		struct ptxn_hwemu_report r;
		unsigned ro = R | U, f;
		ptxn_mm_t mm;

		ptxn_mm_init(&mm);
		if (pass == 0)
			ptxn_hwemu_attach_mm(hw, &mm);
		else
			ptxn_mm_set_flush_tlb_range(&mm, broken_flush, hw);
		ptxn_hwemu_check_begin(hw);
		ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL),
				  PTXN_MMU_OK);
		hw_txn(hw, &mm, HW_VA, 1, hw_to_prot, &ro, true);
		f = ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL);
		ck_assert_uint_eq(f, pass == 0 ? PTXN_MMU_FAULT_WRITE : PTXN_MMU_OK);
		ptxn_hwemu_check(hw, &r);
		ck_assert_uint_eq(r.permission, pass == 0 ? 0 : 1);
		ck_assert_uint_eq(r.lost + r.stray, 0);
		ptxn_hwemu_destroy(hw);
	}
}
END_TEST

/* A seed and one agent reproduce the same ledger; another seed does not. */
static size_t replay(uint64_t seed, struct ptxn_hwemu_ledger_entry **out)
{
	struct ptxn_hwemu *hw = hw_machine(hw_default_flags(), 32, R | W | U);
	struct ptxn_hwemu_agent_config cfg;
	struct ptxn_hwemu_agent *a;
	uint64_t prng = seed;
	ptxn_mm_t mm;
	size_t n;
	int round;

	memset(&cfg, 0, sizeof(cfg));
	cfg.seed = seed;
	cfg.pattern.kind = PTXN_HWEMU_HOTSET;
	cfg.pattern.va = HW_VA;
	cfg.pattern.pages = 32;
	cfg.pattern.hot_pages = 4;
	cfg.pattern.hot_percent = 80;
	cfg.pattern.write_percent = 40;
	cfg.pattern.user_percent = 100;
	a = ptxn_hwemu_agent_create(hw, &cfg);
	ck_assert_ptr_nonnull(a);
	ptxn_mm_init(&mm);
	ptxn_hwemu_attach_mm(hw, &mm);
	ptxn_hwemu_check_begin(hw);
	for (round = 0; round < 50; round++) {
		uint64_t va = HW_VA + (ptxn_hwemu_rand(&prng) % 32) * 4096;

		ptxn_hwemu_agent_run(a, 64);
		hw_txn(hw, &mm, va, 1, mk_wrprotect_clean_old, NULL, true);
		{
			unsigned rw = R | W | U;

			hw_txn(hw, &mm, va, 1, hw_to_prot, &rw, false);
		}
	}
	*out = ptxn_hwemu_ledger(hw, &n);
	{
		struct ptxn_hwemu_report r;

		ck_assert(ptxn_hwemu_check(hw, &r));
	}
	ptxn_hwemu_destroy(hw);
	return n;
}

static bool same_ledger(const struct ptxn_hwemu_ledger_entry *x, size_t nx,
			const struct ptxn_hwemu_ledger_entry *y, size_t ny)
{
	size_t i;

	if (nx != ny)
		return false;
	for (i = 0; i < nx; i++)
		if (x[i].ticket != y[i].ticket || x[i].slot != y[i].slot || x[i].va != y[i].va ||
		    x[i].before != y[i].before || x[i].after != y[i].after || x[i].bits != y[i].bits ||
		    x[i].agent != y[i].agent || x[i].kind != y[i].kind || x[i].level != y[i].level)
			return false;
	return true;
}

START_TEST(test_replay_deterministic)
{
	struct ptxn_hwemu_ledger_entry *a, *b, *c;
	size_t na = replay(42, &a), nb = replay(42, &b), nc = replay(43, &c);

	ck_assert_uint_gt(na, 100);
	ck_assert(same_ledger(a, na, b, nb));
	ck_assert(!same_ledger(a, na, c, nc));
	free(a), free(b), free(c);
}
END_TEST

/* Counters per agent and per slot. */
START_TEST(test_counters)
{
	struct ptxn_hwemu *hw = hw_machine(hw_default_flags(), 2, R | W | U);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
	ptxn_pte_t *leaf = hw_leaf(hw, HW_VA);
	const struct ptxn_hwemu_slot_stats *st = ptxn_hwemu_slot_stats(hw, leaf);

	ck_assert_ptr_nonnull(st);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL), PTXN_MMU_OK);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, NULL), PTXN_MMU_OK);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA + 0x2000, PTXN_MMU_READ, true, NULL),
			  PTXN_MMU_FAULT_NOT_PRESENT);
	ck_assert_uint_eq(st->walks, 1);
	ck_assert_uint_eq(st->young_set, 1);
	ck_assert_uint_eq(st->dirty_set, 1);
	ck_assert_uint_eq(st->tlb_misses, 1);
	ck_assert_uint_eq(st->tlb_hits, 1);
	ck_assert_uint_eq(a->c.accesses, 2);
	ck_assert_uint_eq(a->c.writes, 1);
	ck_assert_uint_eq(a->c.tlb_hits, 1);
	ck_assert_uint_eq(a->c.tlb_misses, 2);
	ck_assert_uint_eq(a->c.walks, 2);
	ck_assert_uint_eq(a->c.faults[PTXN_MMU_FAULT_NOT_PRESENT], 1);
	ck_assert_uint_ge(a->c.young_set, 1);
	ck_assert_uint_eq(a->c.dirty_set, 1);
	ptxn_hwemu_destroy(hw);
}
END_TEST

/* Access patterns: a sweep visits every page in order; a hot set concentrates. */
START_TEST(test_patterns)
{
	struct ptxn_hwemu *hw = hw_machine(hw_default_flags(), 16, R | W | U);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
	struct ptxn_hwemu_pattern p;
	uint64_t va, hot = 0, i;
	unsigned access, writes = 0;
	bool user;

	memset(&p, 0, sizeof(p));
	p.kind = PTXN_HWEMU_SWEEP;
	p.va = HW_VA;
	p.pages = 16;
	ptxn_hwemu_agent_set_pattern(a, &p, 7);
	for (i = 0; i < 32; i++) {
		ptxn_hwemu_next_access(a, &va, &access, &user);
		ck_assert_uint_eq(va >> 12, (HW_VA >> 12) + i % 16);
	}
	p.kind = PTXN_HWEMU_HOTSET;
	p.hot_pages = 2;
	p.hot_percent = 90;
	p.write_percent = 30;
	ptxn_hwemu_agent_set_pattern(a, &p, 7);
	for (i = 0; i < 2000; i++) {
		ptxn_hwemu_next_access(a, &va, &access, &user);
		hot += ((va - HW_VA) >> 12) < 2;
		writes += access == PTXN_MMU_WRITE;
	}
	ck_assert_uint_gt(hot, 1700);
	ck_assert_uint_gt(writes, 450);
	ck_assert_uint_lt(writes, 750);
	ptxn_hwemu_destroy(hw);
}
END_TEST

static Suite *rules_suite(void)
{
	Suite *s = suite_create("hwemu_rules_" PTXN_FORMAT_NAME);
	TCase *common = tcase_create("common");
	TCase *arch = tcase_create("arch");

	tcase_add_test(common, test_tlb_stale_write_then_flush);
	tcase_add_test(common, test_tlb_stale_upgrade_rewalks);
	tcase_add_test(common, test_large_page);
	tcase_add_test(common, test_checker_lost_and_stray);
	tcase_add_test(common, test_checker_permission);
	tcase_add_test(common, test_checker_batched_timestamp);
	tcase_add_test(common, test_replay_deterministic);
	tcase_add_test(common, test_patterns);
	tcase_add_test(common, test_counters);
	suite_add_tcase(s, common);
	hwemu_rules_arch_tests(arch); /* the format's own file */
	suite_add_tcase(s, arch);
	return s;
}

int main(void)
{
	return ptxn_test_run(rules_suite());
}
