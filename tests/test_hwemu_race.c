// SPDX-License-Identifier: MIT
/*
 * hwemu race runs (issue #4): two emulated MMU agents (threads; hot set, half writes,
 * ticketed write log) against a software thread doing protection changes through ptxn's
 * real transaction API - single-entry and batched, with strategies CLEAR, MERGE and AUTO,
 * half of them also cleaning and ageing - then the checker: zero lost updates, no stray
 * bits, no write after a read-only commit and its flush, and on x86 CET no R/W=0,D=1
 * produced by software. The negative control does the same with a plain
 * load/compute/store and must be caught losing updates.
 *
 * Built once per entry format; prints per strategy: transactions, accesses, A/D events,
 * spurious faults (CLEAR breaks entries, so some are expected under contention; MERGE
 * keeps them valid, so none), events per second. Sized by PTXN_TEST_SCALE.
 */
#include "test_hwemu_util.h"

#include <inttypes.h>
#include <pthread.h>

#define R PTXN_PROT_READ
#define W PTXN_PROT_WRITE
#define U PTXN_PROT_USER

#define RACE_PAGES 64     /* pages 0..15: four 4-page folios (batched); 16..23: single */
#define RACE_HOT 24       /* the agents' hot set: every page the software side changes */
#define RACE_AGENTS 2
#define RACE_UNSAFE (-1)
#define RACE_PACE 8       /* agent accesses between two software changes */
#define RACE_PACE_SPINS 32 /* ...waited for at most this many relax hints (~1 us) */

struct race_outcome {
	struct ptxn_hwemu_report report;
	struct ptxn_hwemu_counters counters;
	uint64_t txns;
	double seconds;
	uint64_t wrong_final; /* entries whose final frame or protection is not the last commit's */
	char wrong_first[160];
};

static ptxn_pte_t race_change(ptxn_pte_t old, uint64_t r, bool *flush)
{
	bool downgrade = ptxn_pte_write(old);
	ptxn_pte_t pte = ptxn_pte_modify(old, ptxn_prot(downgrade ? R | U : R | W | U));

	*flush = downgrade;
	if (r & 1) { /* half of them also clean and age */
		pte = ptxn_pte_mkold(ptxn_pte_mkclean(pte));
		*flush = true;
	}
	return pte;
}

static void race_pace(uint64_t n, unsigned long max_spins);

/* The deliberately unsafe read-modify-write: load, compute, plain store (logged like a txn). */
static void race_unsafe_rmw(struct ptxn_hwemu *hw, ptxn_mm_t *mm, uint64_t va, ptxn_pte_t *slot,
			    uint64_t r)
{
	struct ptxn_hwemu_txn t;
	ptxn_pte_t old, pte;
	bool flush;

	memset(&t, 0, sizeof(t));
	t.slot = ptxn_hwemu_slot_pa(hw, slot);
	t.va = va;
	t.nr = 1;
	t.t_start = ptxn_hwemu_ticket(hw);
	old = ptxn_ptep_get(slot);
	t.t_started = ptxn_hwemu_ticket(hw);
	t.old = ptxn_pte_val(old);
	pte = race_change(old, r, &flush);
	t.new_pte = ptxn_pte_val(pte);
	race_pace(4 * RACE_PACE, 32 * RACE_PACE_SPINS); /* a wider window than a real RMW's */
	ptxn_set_pte(slot, pte);
	t.t_commit = ptxn_hwemu_ticket(hw);
	ptxn_hwemu_txn_end(hw, mm, &t, flush);
}

/*
 * Let the agents make `n` more accesses before the next change, spinning rather than
 * yielding: with three busy threads on two cores, sched_yield() makes the sides take
 * turns and the race disappears; a spin keeps the software side running while an agent
 * runs on the other core. The wait is bounded (RACE_PACE_SPINS relax hints, about a
 * microsecond): when no agent is running (descheduled on an oversubscribed machine) the
 * software side goes on rather than stalling, so a run's length is set by its transaction
 * count, not by the scheduler; the races still happen whenever the threads overlap.
 */
static struct ptxn_hwemu_agent *race_agents[RACE_AGENTS];

static uint64_t race_progress(void)
{
	uint64_t sum = 0;
	int k;

	for (k = 0; k < RACE_AGENTS; k++)
		sum += __atomic_load_n(&race_agents[k]->progress, __ATOMIC_RELAXED);
	return sum;
}

static void race_pace(uint64_t n, unsigned long max_spins)
{
	uint64_t start = race_progress();
	unsigned long spins;

	for (spins = 0; spins < max_spins; spins++) {
		if (race_progress() - start >= n)
			return;
		ptxn_arch_cpu_relax();
	}
}

/*
 * Transactions per run, before PTXN_TEST_SCALE. Issue #5's conformance size: 10^6
 * transaction pairs per strategy and entry format natively (a run in the format's main
 * hardware mode plus one in its alternative mode), 10^5 under qemu-user (where ./matrix's
 * default scale is 0.25). `./matrix test --quick` (CI) runs a tenth of that.
 */
static long race_iterations(void)
{
	const char *cpu = getenv("PTXN_TEST_QEMU_CPU");

	return (cpu && *cpu) ? 200000 : 500000;
}

/* The hardware a run races against, and what the mm promises about it. */
struct race_mode {
	unsigned mmu_flags;  /* PTXN_MMU_*: every hart's mode at the start */
	unsigned mm_flags;   /* PTXN_MM_*: the mm's promises (x86 CET follows mmu_flags) */
	unsigned flip_every; /* RISC-V: each hart toggles Svade/Svadu every so many accesses */
	bool slow_caller;    /* the caller computes between start and commit as long as the
				unsafe control does (a negative control's window) */
};

static void race_run(int strategy, struct race_mode mode, long iterations, uint64_t seed,
		     struct race_outcome *out)
{
	struct ptxn_hwemu *hw = hw_machine(mode.mmu_flags, RACE_PAGES, R | W | U);
	struct ptxn_hwemu_agent *agents[RACE_AGENTS];
	uint64_t prng = seed;
	ptxn_pte_t last[RACE_HOT]; /* the last committed entry of each page (0: untouched) */
	ptxn_mm_t mm;
	double t0;
	long i;
	int k;

	ptxn_mm_init(&mm);
#ifdef PTXN_FORMAT_X86
	/* CET hardware makes the mm's promise true: AUTO's read-only fast path is raced too. */
	if (mode.mmu_flags & PTXN_MMU_X86_CET)
		mode.mm_flags |= PTXN_MM_X86_CET;
#endif
	if (mode.mm_flags)
		ptxn_mm_set_flags(&mm, mode.mm_flags);
	if (strategy != RACE_UNSAFE)
		ck_assert(ptxn_mm_set_strategy(&mm, (enum ptxn_strategy)strategy));
	ptxn_hwemu_attach_mm(hw, &mm);
	for (k = 0; k < RACE_AGENTS; k++) {
		struct ptxn_hwemu_agent_config cfg;

		memset(&cfg, 0, sizeof(cfg));
		cfg.flags = PTXN_HWEMU_AGENT_LOG_WRITES;
		cfg.seed = seed * 31 + (uint64_t)k;
		cfg.max_retries = 1u << 30; /* a broken entry comes back when its commit is done */
		cfg.yield_every = 0;
		cfg.mode_flip_flags = PTXN_MMU_RISCV_SVADE;
		/* the two harts flip out of step: for a while they disagree */
		cfg.mode_flip_every = mode.flip_every ? mode.flip_every + 8 * (unsigned)k : 0;
		cfg.pattern.kind = PTXN_HWEMU_HOTSET;
		cfg.pattern.va = HW_VA;
		cfg.pattern.pages = RACE_PAGES;
		cfg.pattern.hot_pages = RACE_HOT;
		cfg.pattern.hot_percent = 95;
		cfg.pattern.write_percent = 50;
		cfg.pattern.user_percent = 100;
		agents[k] = ptxn_hwemu_agent_create(hw, &cfg);
		ck_assert_ptr_nonnull(agents[k]);
		race_agents[k] = agents[k];
	}
	ptxn_hwemu_check_begin(hw);
	for (k = 0; k < RACE_AGENTS; k++)
		ck_assert(ptxn_hwemu_agent_start(agents[k], 0));
	memset(last, 0, sizeof(last));
	t0 = hw_now();
	for (i = 0; i < iterations; i++) {
		uint64_t r = ptxn_hwemu_rand(&prng);

		bool batch = strategy != RACE_UNSAFE && i % 4 == 0;
		uint64_t page = batch ? ((r >> 8) % 4) * 4 : 16 + (r >> 8) % 8;
		uint64_t va = HW_VA + page * 4096;
		ptxn_pte_t *slot = hw_leaf(hw, va);

		if (strategy == RACE_UNSAFE) {
			race_unsafe_rmw(hw, &mm, va, slot, r);
		} else {
			struct ptxn_hwemu_txn t;
			ptxn_pte_t old = ptxn_hwemu_txn_start(hw, &mm, va, slot, batch ? 4 : 1, &t);
			bool flush;
			ptxn_pte_t pte = race_change(old, r, &flush);

			if (mode.slow_caller)
				race_pace(4 * RACE_PACE, 32 * RACE_PACE_SPINS);
			ptxn_hwemu_txn_commit(hw, &mm, va, slot, old, pte, &t);
			ptxn_hwemu_txn_end(hw, &mm, &t, flush);
			for (k = 0; k < (batch ? 4 : 1); k++)
				last[page + (uint64_t)k] = ptxn_pte_advance_pfn(pte, (uint64_t)k);
		}
		race_pace(RACE_PACE, RACE_PACE_SPINS);
	}
	ptxn_hwemu_stop_all(hw);
	/* Whatever A/D did, every changed entry ends with the last commit's frame and rights. */
	out->wrong_final = 0;
	out->wrong_first[0] = '\0';
	for (k = 0; k < RACE_HOT; k++) {
		ptxn_pte_t now = ptxn_ptep_get(hw_leaf(hw, HW_VA + (uint64_t)k * 4096));

		if (ptxn_pte_none(last[k]))
			continue;
		if (ptxn_pte_pfn(now) != ptxn_pte_pfn(last[k]) ||
		    ptxn_pte_prot_flags(now) != ptxn_pte_prot_flags(last[k])) {
			if (!out->wrong_final++)
				snprintf(out->wrong_first, sizeof(out->wrong_first),
					 "page %d: final 0x%016" PRIx64 ", last committed 0x%016" PRIx64,
					 k, (uint64_t)ptxn_pte_val(now), (uint64_t)ptxn_pte_val(last[k]));
		}
	}
	out->seconds = hw_now() - t0;
	out->txns = (uint64_t)i;
	ptxn_hwemu_counters_sum(hw, &out->counters);
	ptxn_hwemu_check(hw, &out->report);
	if (strategy != RACE_UNSAFE && out->report.nfindings)
		ptxn_hwemu_report_print(&out->report, stderr);
	ptxn_hwemu_destroy(hw);
}

static void race_print(const char *name, const struct race_outcome *o)
{
	const struct ptxn_hwemu_counters *c = &o->counters;
	double s = o->seconds > 0 ? o->seconds : 1e-9;

	fprintf(stderr,
		"hwemu race [%s] %s: %llu txns, %llu accesses (%.0f/s), %llu A/D events (%.0f/s; "
		"%llu hw, %llu sw-resolved), %llu spurious faults, %llu stale-TLB faults, "
		"%llu stale writes, %llu walk restarts, %llu A/D scheme flips, lost %llu+%llu+%llu, "
		"%.2fs\n",
		PTXN_FORMAT_NAME, name, (unsigned long long)o->txns,
		(unsigned long long)c->accesses, (double)c->accesses / s,
		(unsigned long long)(o->report.hw_updates + o->report.sw_updates),
		(double)(o->report.hw_updates + o->report.sw_updates) / s,
		(unsigned long long)o->report.hw_updates, (unsigned long long)o->report.sw_updates,
		(unsigned long long)c->spurious_faults, (unsigned long long)c->stale_tlb_faults,
		(unsigned long long)c->stale_writes, (unsigned long long)c->restarts,
		(unsigned long long)c->mode_flips,
		(unsigned long long)o->report.lost, (unsigned long long)o->report.lost_batched,
		(unsigned long long)o->report.lost_timestamp, o->seconds);
}

static void race_log(const char *name, const char *strategy, const struct race_outcome *o,
		     bool passed)
{
	struct ptxn_case_result cr;

	memset(&cr, 0, sizeof(cr));
	cr.name = name;
	cr.strategy = strategy;
	cr.format = PTXN_FORMAT_NAME;
	cr.passed = passed;
	cr.transactions = o->txns;
	cr.hw_events = o->report.hw_updates + o->report.sw_updates;
	cr.lost_updates = o->report.lost + o->report.lost_batched + o->report.lost_timestamp;
	cr.spurious_faults = o->counters.spurious_faults;
	cr.traps = -1;
	cr.seconds = o->seconds;
	ptxn_case_log(&cr);
}

static void race_safe(const char *name, const char *label, int strategy, struct race_mode mode,
		      long iterations)
{
	struct race_outcome o;
	bool ok;

	race_run(strategy, mode, ptxn_test_scaled(iterations),
		 ptxn_test_seed_mixed(0x5eed0000u + (unsigned)strategy), &o);
	race_print(label, &o);
	ok = !o.report.lost && !o.report.lost_batched && !o.report.lost_timestamp &&
	     !o.report.stray && !o.report.permission && !o.report.cet && !o.wrong_final;
	race_log(name, label, &o, ok);
	ck_assert_msg(o.report.lost == 0 && o.report.lost_batched == 0 && o.report.lost_timestamp == 0,
		      "%s: %llu/%llu/%llu updates lost", label, (unsigned long long)o.report.lost,
		      (unsigned long long)o.report.lost_batched,
		      (unsigned long long)o.report.lost_timestamp);
	ck_assert_msg(o.report.stray == 0, "%s: %llu stray bits", label,
		      (unsigned long long)o.report.stray);
	ck_assert_msg(o.report.permission == 0, "%s: %llu writes after a read-only commit+flush",
		      label, (unsigned long long)o.report.permission);
	ck_assert_msg(o.report.cet == 0, "%s: %llu R/W=0,D=1 entries", label,
		      (unsigned long long)o.report.cet);
	ck_assert_msg(o.wrong_final == 0, "%s: %" PRIu64 " entries end with the wrong frame or "
		      "protection; first: %s", label, o.wrong_final, o.wrong_first);
	ck_assert_uint_gt(o.counters.accesses, 0);
	ck_assert_uint_gt(o.report.hw_updates + o.report.sw_updates, 0);
	if (strategy == PTXN_STRATEGY_MERGE) /* entries are never broken */
		ck_assert_uint_eq(o.counters.spurious_faults, 0);
}

#if defined(PTXN_FORMAT_X86)
#define HW_FLAGS 0
#define HW_FLAGS_ALT PTXN_MMU_X86_CET
#define HW_ALT_NAME "cet"
#elif defined(PTXN_FORMAT_ARM64)
#define HW_FLAGS (PTXN_MMU_ARM64_HA | PTXN_MMU_ARM64_HD)
#define HW_FLAGS_ALT 0 /* HA/HD off: every A/D update is a fault resolved in software */
#define HW_ALT_NAME "sw-af-dirty"
#elif defined(PTXN_FORMAT_RISCV)
#define HW_FLAGS 0 /* Svadu: the hart sets A/D */
#define HW_FLAGS_ALT PTXN_MMU_RISCV_SVADE /* Svade: every A/D update a fault resolved in software */
#define HW_ALT_NAME "svade"
#else
#define HW_FLAGS 0
#define HW_FLAGS_ALT PTXN_MMU_PPC_RC_INTERRUPT
#define HW_ALT_NAME "rc-interrupt"
#endif

static const struct race_mode race_main_mode = {HW_FLAGS, 0, 0, false};
static const struct race_mode race_alt_mode = {HW_FLAGS_ALT, 0, 0, false};

START_TEST(test_race_clear)
{
	race_safe("test_race_clear", "clear", PTXN_STRATEGY_CLEAR, race_main_mode, race_iterations());
}
END_TEST

START_TEST(test_race_merge)
{
	race_safe("test_race_merge", "merge", PTXN_STRATEGY_MERGE, race_main_mode, race_iterations());
}
END_TEST

START_TEST(test_race_auto)
{
	race_safe("test_race_auto", "auto", PTXN_STRATEGY_AUTO, race_main_mode, race_iterations());
}
END_TEST

/* The alternative hardware mode (x86 CET, Arm HA/HD off, radix RC interrupt), each strategy. */
START_TEST(test_race_clear_alt_mode)
{
	race_safe("test_race_clear_alt_mode", "clear/" HW_ALT_NAME, PTXN_STRATEGY_CLEAR, race_alt_mode,
		  race_iterations());
}
END_TEST

START_TEST(test_race_merge_alt_mode)
{
	race_safe("test_race_merge_alt_mode", "merge/" HW_ALT_NAME, PTXN_STRATEGY_MERGE, race_alt_mode,
		  race_iterations());
}
END_TEST

START_TEST(test_race_auto_alt_mode)
{
	race_safe("test_race_auto_alt_mode", "auto/" HW_ALT_NAME, PTXN_STRATEGY_AUTO, race_alt_mode,
		  race_iterations());
}
END_TEST

#ifdef PTXN_FORMAT_RISCV
/*
 * menvcfg.ADUE flipped at run time (issue 20): each hart switches between Svadu and Svade
 * every ~60 accesses, out of step with the other, while transactions run. The mm makes no
 * promise, so every strategy must be right under both schemes at once. A quarter of a
 * run's size: the two schemes' own runs above are the full-size ones.
 */
#define RACE_ADUE_FLIP_EVERY 61
static const struct race_mode race_adue_flip_mode = {HW_FLAGS, 0, RACE_ADUE_FLIP_EVERY, false};

START_TEST(test_race_clear_adue_flip)
{
	race_safe("test_race_clear_adue_flip", "clear/adue-flip", PTXN_STRATEGY_CLEAR,
		  race_adue_flip_mode, race_iterations() / 4);
}
END_TEST

START_TEST(test_race_merge_adue_flip)
{
	race_safe("test_race_merge_adue_flip", "merge/adue-flip", PTXN_STRATEGY_MERGE,
		  race_adue_flip_mode, race_iterations() / 4);
}
END_TEST

START_TEST(test_race_auto_adue_flip)
{
	race_safe("test_race_auto_adue_flip", "auto/adue-flip", PTXN_STRATEGY_AUTO,
		  race_adue_flip_mode, race_iterations() / 4);
}
END_TEST
#endif

/* Negative control: the checker must catch a plain read-modify-write losing updates. */
START_TEST(test_race_unsafe_rmw_is_caught)
{
	struct race_outcome o;
	int round;
	uint64_t lost = 0;

	/* At least a few thousand read-modify-writes per round whatever the scale: the control
	 * must be caught at CI size too. */
	long n = ptxn_test_scaled(30000) > 5000 ? ptxn_test_scaled(30000) : 5000;

	for (round = 0; round < 8 && !lost; round++) {
		race_run(RACE_UNSAFE, race_main_mode, n, ptxn_test_seed_mixed(0xbad0000u + (unsigned)round), &o);
		race_print("unsafe-rmw", &o);
		lost = o.report.lost + o.report.lost_timestamp;
	}
	race_log("test_race_unsafe_rmw_is_caught", "unsafe-rmw", &o, lost > 0);
	if (lost)
		ptxn_hwemu_report_print(&o.report, stderr);
	ck_assert_msg(lost > 0, "the checker did not catch the unsafe read-modify-write");
}
END_TEST

#ifdef PTXN_FORMAT_RISCV
/*
 * The other negative control of the flip mode: PTXN_MM_RISCV_SVADE promises that no hart
 * writes A/D, which is false while a hart is in Svadu. AUTO then takes every entry as
 * final and commits with a plain store; the checker must catch the updates it loses. The
 * caller is slow (the unsafe control's window): the real API's own window between the
 * load and the store is a few instructions, which a run rarely hits.
 */
START_TEST(test_race_svade_promise_lie_is_caught)
{
	const struct race_mode lie = {HW_FLAGS, PTXN_MM_RISCV_SVADE, RACE_ADUE_FLIP_EVERY, true};
	struct race_outcome o;
	int round;
	uint64_t lost = 0;
	long n = ptxn_test_scaled(30000) > 5000 ? ptxn_test_scaled(30000) : 5000;

	for (round = 0; round < 8 && !lost; round++) {
		race_run(PTXN_STRATEGY_AUTO, lie, n,
			 ptxn_test_seed_mixed(0x11e0000u + (unsigned)round), &o);
		race_print("auto/svade-promise-lie", &o);
		lost = o.report.lost + o.report.lost_batched + o.report.lost_timestamp;
	}
	race_log("test_race_svade_promise_lie_is_caught", "auto/svade-promise-lie", &o, lost > 0);
	ck_assert_msg(lost > 0, "the checker did not catch AUTO under a false Svade promise");
}
END_TEST
#endif

static Suite *race_suite(void)
{
	Suite *s = suite_create("hwemu_race_" PTXN_FORMAT_NAME);
	TCase *tc = tcase_create("race");

	tcase_add_test(tc, test_race_clear);
	tcase_add_test(tc, test_race_merge);
	tcase_add_test(tc, test_race_auto);
	tcase_add_test(tc, test_race_clear_alt_mode);
	tcase_add_test(tc, test_race_merge_alt_mode);
	tcase_add_test(tc, test_race_auto_alt_mode);
#ifdef PTXN_FORMAT_RISCV
	tcase_add_test(tc, test_race_clear_adue_flip);
	tcase_add_test(tc, test_race_merge_adue_flip);
	tcase_add_test(tc, test_race_auto_adue_flip);
	tcase_add_test(tc, test_race_svade_promise_lie_is_caught);
#endif
	/* A run is sized by its transaction count (race_iterations), not by a time budget: give
	 * an oversubscribed machine room (CK_TIMEOUT_MULTIPLIER still applies). */
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, test_race_unsafe_rmw_is_caught);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ptxn_test_run(race_suite());
}
