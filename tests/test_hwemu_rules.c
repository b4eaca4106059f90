// SPDX-License-Identifier: MIT
/*
 * hwemu, one test per hardware rule (issue #4). Built once per entry format
 * (-DPTXN_FORMAT_X86/_ARM64/_POWERPC) and run on every target: each program checks its
 * format's rules plus the rules every format shares (TLB stale write then flush, the
 * checker's verdicts, deterministic replay). docs/hwemu.md names the manual section of
 * every rule tested here.
 */
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

static ptxn_pte_t mk_wrprotect(ptxn_pte_t old, void *arg)
{
	(void)arg;
	return ptxn_pte_wrprotect(old);
}

static ptxn_pte_t mk_wrprotect_clean_old(ptxn_pte_t old, void *arg)
{
	(void)arg;
	return ptxn_pte_mkold(ptxn_pte_mkclean(ptxn_pte_wrprotect(old)));
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

/* ================================== x86 ===================================== */
#if defined(PTXN_FORMAT_X86)

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

#endif /* PTXN_FORMAT_X86 */

/* ================================== ARM64 ===================================== */
#if defined(PTXN_FORMAT_ARM64)

/*
 * The four TCR_EL1.{HA,HD} combinations: AF by hardware only with HA, dirty (AP[2]
 * cleared) only with HA and HD on a DBM=1 entry; otherwise Access-flag or permission
 * faults, which a fault handler resolves with ptxn_ptep_mark_accessed.
 */
START_TEST(test_arm64_ha_hd_combinations)
{
	unsigned combo;

	for (combo = 0; combo < 4; combo++) {
		bool ha = combo & 1, hd = combo & 2;
		unsigned flags = (ha ? PTXN_MMU_ARM64_HA : 0) | (hd ? PTXN_MMU_ARM64_HD : 0);
		struct ptxn_hwemu *hw = hw_machine(flags, 1, R | W | U);
		struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
		ptxn_pte_t *leaf = hw_leaf(hw, HW_VA);
		ptxn_pteval_t v0 = hw_val(leaf);
		struct ptxn_hwemu_report r;
		struct ptxn_mmu_walk w;

		ck_assert(v0 & PTXN_ARM64_DBM);
		ck_assert(v0 & PTXN_ARM64_RDONLY); /* writable-clean */
		ck_assert(!(v0 & PTXN_ARM64_AF));
		ptxn_hwemu_check_begin(hw);
		if (ha) {
			ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, NULL),
					  PTXN_MMU_OK);
			ck_assert_uint_eq(hw_val(leaf), v0 | PTXN_ARM64_AF);
		} else {
			ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, &w),
					  PTXN_MMU_FAULT_ACCESS_FLAG);
			ck_assert_uint_eq(hw_val(leaf), v0);
			ck_assert(ptxn_hwemu_resolve(a, w.leaf, HW_VA, w.level, false));
			ck_assert_uint_eq(hw_val(leaf), v0 | PTXN_ARM64_AF);
			ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, NULL),
					  PTXN_MMU_OK);
		}
		if (ha && hd) {
			ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL),
					  PTXN_MMU_OK);
		} else {
			ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, &w),
					  PTXN_MMU_FAULT_DIRTY);
			ck_assert_uint_eq(hw_val(leaf), v0 | PTXN_ARM64_AF);
			ck_assert(ptxn_hwemu_resolve(a, w.leaf, HW_VA, w.level, true));
			ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL),
					  PTXN_MMU_OK);
		}
		ck_assert_uint_eq(hw_val(leaf), (v0 | PTXN_ARM64_AF) & ~PTXN_ARM64_RDONLY);
		ck_assert(ptxn_pte_dirty(ptxn_ptep_get(leaf)));
		ck_assert(ptxn_hwemu_check(hw, &r));
		ck_assert_uint_eq(r.hw_updates + r.sw_updates, ha && hd ? 2 : ha ? 2 : 2);
		ck_assert_uint_eq(r.sw_updates, ha && hd ? 0 : ha ? 1 : 2);
		ptxn_hwemu_destroy(hw);
	}
}
END_TEST

/* A permission fault sets nothing: with HA=1, HD=0 a write to a fresh clean entry leaves AF=0. */
START_TEST(test_arm64_no_update_on_fault)
{
	struct ptxn_hwemu *hw = hw_machine(PTXN_MMU_ARM64_HA, 2, R | W | U);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
	ptxn_pte_t *leaf = hw_leaf(hw, HW_VA);
	ptxn_pteval_t v0 = hw_val(leaf);

	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL),
			  PTXN_MMU_FAULT_DIRTY);
	ck_assert_uint_eq(hw_val(leaf), v0);
	/* Invalid entry: translation fault, no update. */
	ptxn_pte_clear(leaf);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, NULL),
			  PTXN_MMU_FAULT_NOT_PRESENT);
	ck_assert_uint_eq(hw_val(leaf), 0);
	/* EL0 has no access to a kernel page: permission fault, AF stays clear. */
	ck_assert_uint_ne(ptxn_hwemu_map(hw, HW_VA + 0x10000, 1, ptxn_prot(R | W), 0), 0);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA + 0x10000, PTXN_MMU_READ, true, NULL),
			  PTXN_MMU_FAULT_USER);
	ck_assert(!(hw_val(hw_leaf(hw, HW_VA + 0x10000)) & PTXN_ARM64_AF));
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA + 0x10000, PTXN_MMU_EXEC, false, NULL),
			  PTXN_MMU_FAULT_EXEC);
	ptxn_hwemu_destroy(hw);
}
END_TEST

/* DBM=0 (read-only): no dirty update even with HA+HD; a permission fault. */
START_TEST(test_arm64_readonly_dbm0)
{
	struct ptxn_hwemu *hw = hw_machine(PTXN_MMU_ARM64_HA | PTXN_MMU_ARM64_HD, 1, R | U);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
	ptxn_pte_t *leaf = hw_leaf(hw, HW_VA);
	ptxn_pteval_t v0 = hw_val(leaf);

	ck_assert(!(v0 & PTXN_ARM64_DBM));
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL),
			  PTXN_MMU_FAULT_WRITE);
	ck_assert_uint_eq(hw_val(leaf), v0);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, NULL), PTXN_MMU_OK);
	ck_assert_uint_eq(hw_val(leaf), v0 | PTXN_ARM64_AF);
	ptxn_hwemu_destroy(hw);
}
END_TEST

/*
 * The dirty update acts on the descriptor as it is in memory: a clean writable cached
 * translation cannot dirty an entry software has since made read-only (DBM=0).
 */
START_TEST(test_arm64_dirty_update_in_memory)
{
	struct ptxn_hwemu *hw = hw_machine(PTXN_MMU_ARM64_HA | PTXN_MMU_ARM64_HD, 1, R | W | U);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
	ptxn_pte_t *leaf = hw_leaf(hw, HW_VA);
	struct ptxn_hwemu_report r;
	ptxn_mm_t mm;

	ptxn_mm_init(&mm);
	ptxn_hwemu_attach_mm(hw, &mm);
	ptxn_hwemu_check_begin(hw);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, NULL), PTXN_MMU_OK);
	hw_txn(hw, &mm, HW_VA, 1, mk_wrprotect, NULL, false); /* not flushed */
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL),
			  PTXN_MMU_FAULT_WRITE);
	ck_assert(!ptxn_pte_dirty(ptxn_ptep_get(leaf)));
	ck_assert(ptxn_hwemu_check(hw, &r));
	ptxn_hwemu_destroy(hw);
}
END_TEST

/* A 2 MiB block descriptor (bits[1:0] = 0b01 at level 2) gets AF and AP[2] cleared. */
START_TEST(test_arm64_block_descriptor)
{
	struct ptxn_hwemu *hw = hw_machine(PTXN_MMU_ARM64_HA | PTXN_MMU_ARM64_HD, 0, 0);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
	unsigned level = 9;
	ptxn_pte_t *leaf;

	ck_assert_uint_ne(ptxn_hwemu_map(hw, HW_VA, 512, ptxn_prot(R | W | U), PTXN_HWEMU_MAP_LARGE), 0);
	leaf = ptxn_hwemu_lookup(hw, HW_VA, &level);
	ck_assert_uint_eq(level, 1);
	ck_assert_uint_eq(hw_val(leaf) & 3, 1);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA + 0x100000, PTXN_MMU_WRITE, true, NULL),
			  PTXN_MMU_OK);
	ck_assert(hw_val(leaf) & PTXN_ARM64_AF);
	ck_assert(!(hw_val(leaf) & PTXN_ARM64_RDONLY));
	/* The table descriptors above have no AF (no FEAT_HAFT) and are not written. */
	ck_assert_uint_eq(ptxn_pte_val(upper(hw, HW_VA, 2)) & ~PTXN_ARM64_OA_MASK, 3);
	ptxn_hwemu_destroy(hw);
}
END_TEST

/* Hierarchical APTable[1]: a table descriptor can forbid writes below it, DBM or not. */
START_TEST(test_arm64_aptable)
{
	struct ptxn_hwemu *hw = hw_machine(PTXN_MMU_ARM64_HA | PTXN_MMU_ARM64_HD, 1, R | W | U);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
	ptxn_pte_t *pmd = ptxn_hwemu_as_slot(&hw->as, HW_VA, 1, false);

	ptxn_set_pte(pmd, ptxn_make_pte(hw_val(pmd) | PTXN_ARM64_APTABLE_RO));
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL),
			  PTXN_MMU_FAULT_WRITE);
	ck_assert(!ptxn_pte_dirty(ptxn_ptep_get(hw_leaf(hw, HW_VA))));
	ptxn_hwemu_destroy(hw);
}
END_TEST

#endif /* PTXN_FORMAT_ARM64 */

/* ================================= PowerPC ==================================== */
#if defined(PTXN_FORMAT_POWERPC)

/* R on any access, C on a permitted store, in the big-endian entry (byte 0 = bits 63..56). */
START_TEST(test_ppc_rc_big_endian)
{
	struct ptxn_hwemu *hw = hw_machine(0, 1, R | W | U);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
	ptxn_pte_t *leaf = hw_leaf(hw, HW_VA);
	const unsigned char *b = (const unsigned char *)leaf;

	ck_assert_uint_eq(b[0] & 0xc0, 0xc0); /* V and L in the first byte */
	ck_assert_uint_eq(b[6] & 0x01, 0);    /* R: bit 8 */
	ck_assert_uint_eq(b[7] & 0x80, 0);    /* C: bit 7 */
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, NULL), PTXN_MMU_OK);
	ck_assert_uint_eq(b[6] & 0x01, 0x01);
	ck_assert_uint_eq(b[7] & 0x80, 0);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL), PTXN_MMU_OK);
	ck_assert_uint_eq(b[7] & 0x80, 0x80);
	ck_assert_uint_eq(a->nledger, 2);
	ck_assert_uint_eq(a->ledger[0].bits, PTXN_HWEMU_YOUNG);
	ck_assert_uint_eq(a->ledger[1].bits, PTXN_HWEMU_DIRTY);
	ptxn_hwemu_destroy(hw);
}
END_TEST

/* Interrupt mode: the MMU never sets R/C; a storage interrupt, then software sets them. */
START_TEST(test_ppc_rc_interrupt_mode)
{
	struct ptxn_hwemu *hw = hw_machine(PTXN_MMU_PPC_RC_INTERRUPT, 2, R | W | U);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
	ptxn_pte_t *leaf = hw_leaf(hw, HW_VA);
	ptxn_pteval_t v0 = hw_val(leaf);
	struct ptxn_hwemu_report r;
	struct ptxn_mmu_walk w;

	ptxn_hwemu_check_begin(hw);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, &w), PTXN_MMU_FAULT_RC);
	ck_assert_uint_eq(hw_val(leaf), v0);
	ck_assert(ptxn_hwemu_resolve(a, w.leaf, HW_VA, w.level, false));
	ck_assert_uint_eq(hw_val(leaf), v0 | PTXN_PPC_REFERENCE);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, NULL), PTXN_MMU_OK);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, &w), PTXN_MMU_FAULT_RC);
	ck_assert_uint_eq(hw_val(leaf), v0 | PTXN_PPC_REFERENCE);
	ck_assert(ptxn_hwemu_resolve(a, w.leaf, HW_VA, w.level, true));
	ck_assert_uint_eq(hw_val(leaf), v0 | PTXN_PPC_REFERENCE | PTXN_PPC_CHANGE);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL), PTXN_MMU_OK);
	/* The default handler of ptxn_hwemu_access() does the same by itself. */
	a->cfg.flags &= ~PTXN_HWEMU_AGENT_NO_RESOLVE;
	ck_assert_uint_eq(ptxn_hwemu_access(a, HW_VA + 4096, PTXN_MMU_WRITE, true, NULL), PTXN_MMU_OK);
	ck_assert(ptxn_pte_dirty(ptxn_ptep_get(hw_leaf(hw, HW_VA + 4096))));
	ck_assert_uint_eq(a->c.sw_resolved, 3);
	ck_assert(ptxn_hwemu_check(hw, &r));
	ck_assert_uint_eq(r.hw_updates, 0);
	ck_assert_uint_eq(r.sw_updates, 3);
	ptxn_hwemu_destroy(hw);
}
END_TEST

/* EAA: execute-only pages cannot be read; privileged pages not accessed by problem state. */
START_TEST(test_ppc_access_authority)
{
	struct ptxn_hwemu *hw = hw_machine(0, 0, 0);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);

	ck_assert_uint_ne(ptxn_hwemu_map(hw, HW_VA, 1, ptxn_prot(X | U), 0), 0);
	ck_assert_uint_ne(ptxn_hwemu_map(hw, HW_VA + 4096, 1, ptxn_prot(R | W), 0), 0);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, NULL),
			  PTXN_MMU_FAULT_READ);
	ck_assert(!ptxn_pte_young(ptxn_ptep_get(hw_leaf(hw, HW_VA))));
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_EXEC, true, NULL), PTXN_MMU_OK);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA + 4096, PTXN_MMU_READ, true, NULL),
			  PTXN_MMU_FAULT_USER);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA + 4096, PTXN_MMU_WRITE, false, NULL),
			  PTXN_MMU_OK);
	ptxn_hwemu_destroy(hw);
}
END_TEST

/* The tree: a 2^13-entry root (EA 51:39), PDEs of V | NLB | NLS=9, leaves at any level. */
START_TEST(test_ppc_tree_layout)
{
	struct ptxn_hwemu *hw = hw_machine(0, 0, 0);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
	const uint64_t va = UINT64_C(0x7ff) << 39 | HW_VA; /* root index 0x7ff, beyond 9 bits */
	ptxn_pte_t *root_slot;
	struct ptxn_mmu_walk w;
	unsigned level = 9;

	ck_assert_uint_eq(ptxn_mmu_va_limit(&a->mmu), UINT64_C(1) << 52);
	ck_assert_uint_eq(hw->as.mmu.root % 65536, 0); /* root table aligned to its 64 KiB */
	ck_assert_uint_ne(ptxn_hwemu_map(hw, va, 1, ptxn_prot(R | W | U), 0), 0);
	root_slot = ptxn_hwemu_as_slot(&hw->as, va, 3, false);
	ck_assert_uint_eq(ptxn_hwemu_slot_pa(hw, root_slot), hw->as.mmu.root + 8 * 0x7ff);
	ck_assert_uint_eq(hw_val(root_slot) & ~PTXN_PPC_PDE_NLB, PTXN_PPC_VALID | 9);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, va, PTXN_MMU_WRITE, true, &w), PTXN_MMU_OK);
	ck_assert_uint_eq(hw_val(root_slot) & ~PTXN_PPC_PDE_NLB, PTXN_PPC_VALID | 9); /* no R/C in PDEs */
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, UINT64_C(1) << 52, PTXN_MMU_READ, true, NULL),
			  PTXN_MMU_FAULT_ADDRESS);
	ck_assert_ptr_nonnull(ptxn_hwemu_lookup(hw, va, &level));
	ck_assert_uint_eq(level, 0);
	ptxn_hwemu_destroy(hw);
}
END_TEST

/*
 * POWER9 nest MMU: a coprocessor holding a read-only translation faults on a write that
 * memory already allows when the entry is relaxed in place (the hang, counted). With
 * PTXN_MM_COPROCESSOR, ptxn's commit goes invalid -> flush -> new entry: no hang.
 */
START_TEST(test_ppc_nest_mmu)
{
	int copro;

	for (copro = 0; copro < 2; copro++) {
		struct ptxn_hwemu *hw = hw_machine(0, 1, R | U);
		struct ptxn_hwemu_agent *nest = hw_raw_agent(hw, PTXN_HWEMU_AGENT_COPROCESSOR);
		struct ptxn_hwemu_report r;
		unsigned rw = R | W | U;
		ptxn_mm_t mm;

		ptxn_mm_init(&mm);
		ptxn_hwemu_attach_mm(hw, &mm);
		if (copro)
			ptxn_mm_set_flags(&mm, PTXN_MM_COPROCESSOR);
		ptxn_hwemu_check_begin(hw);
		ck_assert_uint_eq(ptxn_hwemu_access_once(nest, HW_VA, PTXN_MMU_READ, true, NULL),
				  PTXN_MMU_OK);
		hw_txn(hw, &mm, HW_VA, 1, hw_to_prot, &rw, false); /* an upgrade: no flush by the caller */
		ck_assert_uint_eq(ptxn_hwemu_access_once(nest, HW_VA, PTXN_MMU_WRITE, true, NULL),
				  PTXN_MMU_OK);
		ck_assert(ptxn_hwemu_check(hw, &r));
		ck_assert_uint_eq(r.hangs, copro ? 0 : 1);
		ck_assert_uint_eq(hw->flushes, copro ? 1 : 0);
		ptxn_hwemu_destroy(hw);
	}
}
END_TEST

#endif /* PTXN_FORMAT_POWERPC */

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
#if defined(PTXN_FORMAT_X86)
	tcase_add_test(arch, test_x86_a_on_every_level);
	tcase_add_test(arch, test_x86_no_d_without_rw);
	tcase_add_test(arch, test_x86_no_update_on_non_present);
	tcase_add_test(arch, test_x86_restart_on_change);
	tcase_add_test(arch, test_x86_nx_and_user);
	tcase_add_test(arch, test_x86_stale_dirty_pre_cet_and_cet);
	tcase_add_test(arch, test_x86_cet_checker);
	tcase_add_test(arch, test_x86_knights_landing);
	tcase_add_test(arch, test_x86_pae_pdpte);
#elif defined(PTXN_FORMAT_ARM64)
	tcase_add_test(arch, test_arm64_ha_hd_combinations);
	tcase_add_test(arch, test_arm64_no_update_on_fault);
	tcase_add_test(arch, test_arm64_readonly_dbm0);
	tcase_add_test(arch, test_arm64_dirty_update_in_memory);
	tcase_add_test(arch, test_arm64_block_descriptor);
	tcase_add_test(arch, test_arm64_aptable);
#elif defined(PTXN_FORMAT_POWERPC)
	tcase_add_test(arch, test_ppc_rc_big_endian);
	tcase_add_test(arch, test_ppc_rc_interrupt_mode);
	tcase_add_test(arch, test_ppc_access_authority);
	tcase_add_test(arch, test_ppc_tree_layout);
	tcase_add_test(arch, test_ppc_nest_mmu);
#endif
	suite_add_tcase(s, arch);
	return s;
}

int main(void)
{
	return hw_run(rules_suite());
}
