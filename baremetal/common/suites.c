/* SPDX-License-Identifier: MIT */
/*
 * baremetal/common/suites.c - what runs inside every bare-metal guest (docs/baremetal.md):
 *
 *   race       CPU 0 runs ptxn transactions (clean, age, protection change; single and
 *              batched) on the test window while the other CPUs read and write its pages,
 *              so QEMU's own page-table walker sets A/D in the middle of transactions. After
 *              each round the checker proves every access left its A/D mark.
 *   control    the same race with a plain read-modify-write instead of a transaction: the
 *              checker must catch lost updates there, or it proves nothing.
 *   downgrade  a write-protection by transaction + TLB flush while another CPU keeps
 *              writing: no write may succeed once the flush has completed, and the
 *              dirtiness of the writes before it must survive.
 *   differential (suites_diff.c) single-CPU walker vs ptxn's hardware model.
 *
 * Every case prints one PTXN-CASE line (JSON), the format documented in docs/baremetal.md.
 */
#include "bm.h"

#define RACE_BATCH 4 /* pages per batched transaction (one "folio") */

struct result {
	const char *suite;
	const char *name;
	const char *strategy;
	uint64_t transactions;
	uint64_t hw_events;
	uint64_t lost;
	uint64_t spurious;
	uint64_t in_window;
	uint64_t stray;
	uint64_t rounds;
	uint64_t extra;      /* suite-specific, named by extra_name */
	const char *extra_name;
	uint64_t t0;
	bool fail;
	char first[200];
};

static int n_cpus;
static int n_cases, n_failed;
static uint64_t seed;

static void fail(struct result *r, const char *fmt, unsigned long long a, unsigned long long b,
		 unsigned long long c)
{
	if (!r->fail)
		bm_format(r->first, sizeof(r->first), fmt, a, b, c);
	r->fail = true;
}

static void report(struct result *r)
{
	uint64_t us = bm_elapsed_us(r->t0);
	unsigned i;

	/* JSON strings here never need escaping except the failure text: drop quotes there. */
	for (i = 0; r->first[i]; i++)
		if (r->first[i] == '"' || r->first[i] == '\\')
			r->first[i] = '\'';
	n_cases++;
	if (r->fail)
		n_failed++;
	bm_printf("PTXN-CASE {\"target\":\"%s\",\"suite\":\"%s\",\"name\":\"%s\",\"strategy\":\"%s\","
		  "\"status\":\"%s\",\"transactions\":%llu,\"hw_events\":%llu,\"ad_source\":\"%s\","
		  "\"lost_updates\":%llu,\"spurious_faults\":%llu,\"in_window\":%llu,\"stray\":%llu,"
		  "\"rounds\":%llu,\"%s\":%llu,\"seconds\":%llu.%03llu,\"first_failure\":\"%s\"}\n",
		  plat_name(), r->suite, r->name, r->strategy, r->fail ? "fail" : "pass",
		  (unsigned long long)r->transactions, (unsigned long long)r->hw_events,
		  plat_hw_ad() ? "hardware" : "software",
		  (unsigned long long)r->lost, (unsigned long long)r->spurious,
		  (unsigned long long)r->in_window, (unsigned long long)r->stray,
		  (unsigned long long)r->rounds, r->extra_name ? r->extra_name : "extra",
		  (unsigned long long)r->extra, (unsigned long long)(us / 1000000u),
		  (unsigned long long)(us / 1000u % 1000u), r->first);
}

static void begin(struct result *r, const char *suite, const char *name, const char *strategy)
{
	memset(r, 0, sizeof(*r));
	r->suite = suite;
	r->name = name;
	r->strategy = strategy;
	r->t0 = plat_ticks();
}

static uintptr_t page_va(int p)
{
	return plat_test_va() + (uintptr_t)p * BM_PAGE;
}

static void reset_accessor_counters(void)
{
	int i;

	for (i = 1; i < n_cpus; i++) {
		bm_cpus[i].faults = 0;
		bm_cpus[i].broken_waits = 0;
		bm_cpus[i].sw_ad = 0;
		bm_cpus[i].perm_refused = 0;
	}
}

static uint64_t accessor_broken_waits(void)
{
	uint64_t n = 0;
	int i;

	for (i = 1; i < n_cpus; i++)
		n += bm_cpus[i].broken_waits;
	return n;
}

static void wait_or_panic(volatile uint32_t *flag, uint32_t want, const char *what)
{
	uint64_t t0 = plat_ticks(), limit = plat_tick_hz() * 20;

	while (bm_load(flag) < want) {
		if (plat_ticks() - t0 > limit)
			bm_panic("timeout waiting for %s (%u < %u)", what, bm_load(flag), want);
		plat_cpu_relax();
	}
}

/* ==== race ================================================================================ */

enum op_kind { OP_CLEAN, OP_AGE, OP_PROTECT, OP_KINDS };
#define STRATEGY_PLAIN (-1) /* the negative control: load, compute, plain store */

static struct {
	volatile uint32_t round;   /* accessors run round r once this reaches r */
	volatile uint32_t stop;
	volatile uint32_t cur;     /* 1 + the last page CPU 0 has started a transaction on */
	volatile uint32_t done[BM_MAX_CPUS];
	volatile uint8_t op[BM_NPAGES]; /* 0 untouched, 1 read, 2 write (set by the accessor) */
	uint32_t acc_window;       /* accessor's random delay before an access, loop turns */
	uint32_t txn_window;       /* CPU 0's random delay between start and commit */
	uint32_t write_pct;
	uint32_t flush_each;       /* flush after every commit (else once per round) */
} race;

static ptxn_pte_t apply_op(enum op_kind k, ptxn_pte_t old)
{
	switch (k) {
	case OP_CLEAN: /* dirty-state harvest (Linux clear_refs / page_mkclean) */
		return ptxn_pte_mkclean(old);
	case OP_AGE: /* reference harvest (Linux page_referenced / mglru aging) */
		return ptxn_pte_mkold(old);
	default: /* mprotect that keeps the page writable: toggle execute permission */
		return ptxn_pte_modify(old, ptxn_prot(ptxn_pte_prot_flags(old) ^ PTXN_PROT_EXEC));
	}
}

static void race_accessor(int cpu)
{
	struct bm_cpu *c = bm_this_cpu();
	uint32_t r, p, nacc = (uint32_t)n_cpus - 1, seq = 0;

	c->mode = BM_MODE_RACE;
	for (r = 1;; r++) {
		while (bm_load(&race.round) < r && !bm_load(&race.stop))
			plat_cpu_relax();
		if (bm_load(&race.round) < r)
			break;
		for (p = (uint32_t)cpu - 1; p < BM_NPAGES; p += nacc) {
			/* Follow CPU 0: access page p around the time its transaction runs. */
			uint32_t lead = bm_rand_below(&c->rng, 3);
			volatile uint32_t *word = (volatile uint32_t *)(page_va((int)p) + 8u * (unsigned)cpu);

			while (bm_load(&race.cur) + lead < p + 1)
				;
			bm_delay(bm_rand_below(&c->rng, race.acc_window));
			if (bm_rand_below(&c->rng, 100) < race.write_pct) {
				race.op[p] = 2;
				*word = ++seq;
			} else {
				race.op[p] = 1;
				(void)*word;
			}
		}
		bm_store(&race.done[cpu], r);
	}
}

static void race_case(int strategy, uint64_t target_events, uint64_t min_rounds,
		      uint64_t max_rounds)
{
	static ptxn_pte_t olds[BM_NPAGES];
	static uint8_t batched[BM_NPAGES];
	struct bm_cpu *c = bm_this_cpu();
	ptxn_pte_t *ptes = plat_test_ptes();
	uintptr_t va0 = page_va(0), va_end = page_va(BM_NPAGES);
	struct result res;
	ptxn_mm_t mm;
	uint32_t r;
	int i;

	begin(&res, strategy == STRATEGY_PLAIN ? "control" : "race",
	      strategy == STRATEGY_PLAIN ? "control-plain-rmw"
	      : strategy == PTXN_STRATEGY_CLEAR ? "race-clear"
	      : strategy == PTXN_STRATEGY_MERGE ? "race-merge" : "race-auto",
	      strategy == STRATEGY_PLAIN ? "plain-rmw"
	      : ptxn_strategy_name((enum ptxn_strategy)strategy));
	ptxn_mm_init(&mm);
	ptxn_mm_set_flush_tlb_range(&mm, plat_flush_tlb_range, NULL);
	if (strategy != STRATEGY_PLAIN)
		ptxn_mm_set_strategy(&mm, (enum ptxn_strategy)strategy);
	c->mode = BM_MODE_STRICT;
	reset_accessor_counters();
	race.round = 0;
	race.stop = 0;
	race.cur = 0;
	for (i = 0; i < BM_MAX_CPUS; i++)
		race.done[i] = 0;
	bm_post_work(race_accessor);

	/* A failed case stops at the end of the round: with updates lost from the first round
	 * on, the events it waits for would not come before max_rounds. */
	for (r = 1; r <= max_rounds && !res.fail &&
		    (r <= min_rounds || res.hw_events < target_events ||
		     (strategy == STRATEGY_PLAIN && !res.lost));
	     r++) {
		uint32_t p, nr;

		/* Every entry old, clean, writable; no CPU caches anything of the window. */
		for (p = 0; p < BM_NPAGES; p++) {
			ptxn_set_pte(&ptes[p], bm_base_pte((int)p));
			race.op[p] = 0;
		}
		plat_flush_tlb_range(&mm, va0, va_end);
		bm_store(&race.cur, 0);
		bm_store(&race.round, r);

		for (p = 0; p < BM_NPAGES; p += nr) {
			enum op_kind k = (enum op_kind)bm_rand_below(&c->rng, OP_KINDS);
			uint32_t d = bm_rand_below(&c->rng, race.txn_window), j;
			uintptr_t va = page_va((int)p);
			ptxn_pte_t old, pre;

			nr = (strategy != STRATEGY_PLAIN && p % RACE_BATCH == 0 &&
			      bm_rand_below(&c->rng, 4) == 0) ? RACE_BATCH : 1;
			bm_store(&race.cur, p + nr);
			if (strategy == STRATEGY_PLAIN) {
				old = ptxn_ptep_get(&ptes[p]);
				bm_delay(d);
				pre = ptxn_ptep_get(&ptes[p]);
				ptxn_set_pte(&ptes[p], apply_op(k, old));
			} else if (nr == 1) {
				old = ptxn_modify_prot_start(&mm, va, &ptes[p]);
				bm_delay(d);
				pre = ptxn_ptep_get(&ptes[p]);
				ptxn_modify_prot_commit(&mm, va, &ptes[p], old, apply_op(k, old));
			} else {
				old = ptxn_modify_prot_start_ptes(&mm, va, &ptes[p], nr);
				bm_delay(d);
				pre = ptxn_ptep_get(&ptes[p]);
				ptxn_modify_prot_commit_ptes(&mm, va, &ptes[p], old, apply_op(k, old), nr);
			}
			/* The MMU changed the entry while the transaction was open. */
			if (ptxn_pte_hw_valid(pre) && !ptxn_pte_same(pre, old) && nr == 1)
				res.in_window++;
			if (race.flush_each)
				plat_flush_tlb_range(&mm, va, va + nr * BM_PAGE);
			for (j = 0; j < nr; j++) {
				olds[p + j] = old;
				batched[p + j] = nr > 1;
			}
			res.transactions++;
		}
		bm_store(&race.cur, BM_NPAGES + 8);
		if (!race.flush_each) /* one flush for the whole round, as after an mprotect range */
			plat_flush_tlb_range(&mm, va0, va_end);
		for (i = 1; i < n_cpus; i++)
			wait_or_panic(&race.done[i], r, "race accessor");

		/* The checker: every access this round left its mark, before or after commit. */
		for (p = 0; p < BM_NPAGES; p++) {
			ptxn_pte_t now = ptxn_ptep_get(&ptes[p]), old = olds[p];
			bool young = ptxn_pte_young(old) || ptxn_pte_young(now);
			bool dirty = ptxn_pte_dirty(old) || ptxn_pte_dirty(now);
			uint8_t op = race.op[p];

			if (!ptxn_pte_hw_valid(now))
				fail(&res, "round %llu page %llu: entry left invalid (0x%llx)", r, p,
				     ptxn_pte_val(now));
			if (op && young)
				res.hw_events++;
			if (op == 2 && dirty)
				res.hw_events++;
			if ((op && !young) || (op == 2 && !dirty)) {
				res.lost++;
				if (strategy != STRATEGY_PLAIN)
					fail(&res, "round %llu page %llu: lost update, entry now 0x%llx",
					     r, p, ptxn_pte_val(now));
			}
			if (!batched[p] && ((!op && young) || (op != 2 && dirty))) {
				res.stray++;
				fail(&res, "round %llu page %llu: A/D set without an access (0x%llx)", r, p,
				     ptxn_pte_val(now));
			}
		}
	}
	bm_store(&race.stop, 1);
	bm_wait_work(n_cpus - 1);
	res.rounds = r - 1;
	res.spurious = accessor_broken_waits();
	res.extra_name = "sw_ad_faults";
	for (i = 1; i < n_cpus; i++)
		res.extra += bm_cpus[i].sw_ad;
	if (strategy == STRATEGY_PLAIN && !res.lost)
		fail(&res, "negative control not caught: a plain read-modify-write lost nothing in %llu rounds (%llu in-window updates)",
		     res.rounds, res.in_window, 0);
	if (strategy != STRATEGY_PLAIN && res.hw_events < target_events)
		fail(&res, "only %llu A/D events in %llu rounds (target %llu)", res.hw_events,
		     res.rounds, target_events);
	report(&res);
}

/* ==== downgrade =========================================================================== */

static struct {
	volatile uint32_t round;
	volatile uint32_t stop;
	volatile uint32_t down;        /* = round once commit + flush of read-only completed */
	volatile uint32_t end;         /* = round: stop writing */
	volatile uint32_t done[BM_MAX_CPUS];
	volatile uint32_t ok[BM_MAX_CPUS];        /* writes that succeeded this round */
	volatile uint32_t refused_after[BM_MAX_CPUS];
	volatile uint32_t violations[BM_MAX_CPUS];
	volatile uint32_t bad_seq[BM_MAX_CPUS];
} dg;

static int dg_page(int cpu)
{
	return cpu * 2; /* one page per writer, not adjacent */
}

static void downgrade_writer(int cpu)
{
	struct bm_cpu *c = bm_this_cpu();
	uintptr_t va = page_va(dg_page(cpu)) + 8u * (unsigned)cpu;
	uint32_t r, seq = 0;

	c->mode = BM_MODE_DOWNGRADE;
	for (r = 1;; r++) {
		while (bm_load(&dg.round) < r && !bm_load(&dg.stop))
			plat_cpu_relax();
		if (bm_load(&dg.round) < r)
			break;
		while (bm_load(&dg.end) < r) {
			uint32_t down = bm_load(&dg.down);

			if (bm_probe_store(va, ++seq) == 0) {
				bm_store(&dg.ok[cpu], dg.ok[cpu] + 1);
				if (down == r) {
					dg.bad_seq[cpu] = seq;
					bm_store(&dg.violations[cpu], dg.violations[cpu] + 1);
				}
			} else if (down == r) {
				bm_store(&dg.refused_after[cpu], dg.refused_after[cpu] + 1);
			}
		}
		bm_store(&dg.done[cpu], r);
	}
}

static void downgrade_case(int strategy, uint32_t rounds)
{
	struct bm_cpu *c = bm_this_cpu();
	ptxn_pte_t *ptes = plat_test_ptes();
	struct result res;
	ptxn_mm_t mm;
	uint32_t r;
	int i;

	begin(&res, "downgrade", strategy == PTXN_STRATEGY_CLEAR ? "downgrade-clear"
	      : strategy == PTXN_STRATEGY_MERGE ? "downgrade-merge" : "downgrade-auto",
	      ptxn_strategy_name((enum ptxn_strategy)strategy));
	res.extra_name = "writes_refused";
	ptxn_mm_init(&mm);
	ptxn_mm_set_flush_tlb_range(&mm, plat_flush_tlb_range, NULL);
	ptxn_mm_set_strategy(&mm, (enum ptxn_strategy)strategy);
	c->mode = BM_MODE_STRICT;
	reset_accessor_counters();
	memset((void *)&dg, 0, sizeof(dg));
	bm_post_work(downgrade_writer);

	for (r = 1; r <= rounds && !res.fail; r++) { /* a round may wait 2 s: stop at a failure */
		uint32_t v1[BM_MAX_CPUS];
		uint64_t t0;

		for (i = 1; i < n_cpus; i++) {
			ptxn_set_pte(&ptes[dg_page(i)], bm_base_pte(dg_page(i)));
			dg.ok[i] = dg.refused_after[i] = dg.violations[i] = 0;
		}
		plat_flush_tlb_range(&mm, page_va(0), page_va(BM_NPAGES));
		bm_store(&dg.round, r);
		/* Let every writer get some writes in (its TLB now caches a writable entry). */
		for (i = 1; i < n_cpus; i++)
			wait_or_panic(&dg.ok[i], 1 + bm_rand_below(&c->rng, 4), "first writes");
		bm_delay(bm_rand_below(&c->rng, race.acc_window * 4));

		for (i = 1; i < n_cpus; i++) {
			int p = dg_page(i);
			ptxn_pte_t old = ptxn_modify_prot_start(&mm, page_va(p), &ptes[p]);

			bm_delay(bm_rand_below(&c->rng, race.txn_window));
			ptxn_modify_prot_commit(&mm, page_va(p), &ptes[p], old,
						ptxn_pte_modify(old, ptxn_prot(PTXN_PROT_READ)));
			res.transactions++;
		}
		plat_flush_tlb_range(&mm, page_va(0), page_va(BM_NPAGES));
		/* From here on no write may land: remember what the pages hold. */
		for (i = 1; i < n_cpus; i++)
			v1[i] = *(volatile uint32_t *)(bm_test_data[dg_page(i)] + 8 * i);
		bm_store(&dg.down, r);
		t0 = plat_ticks();
		for (i = 1; i < n_cpus; i++)
			while (bm_load(&dg.refused_after[i]) < 3 && bm_elapsed_us(t0) < 2000000)
				plat_cpu_relax();
		bm_store(&dg.end, r);
		for (i = 1; i < n_cpus; i++)
			wait_or_panic(&dg.done[i], r, "downgrade writer");

		for (i = 1; i < n_cpus; i++) {
			int p = dg_page(i);
			ptxn_pte_t now = ptxn_ptep_get(&ptes[p]);
			uint32_t v2 = *(volatile uint32_t *)(bm_test_data[p] + 8 * i);

			res.extra += dg.refused_after[i];
			if (dg.ok[i] && ptxn_pte_dirty(now))
				res.hw_events++; /* the dirtiness of this round's writes, kept */
			if (dg.violations[i])
				fail(&res, "round %llu: %llu writes succeeded after the read-only commit and flush (seq %llu)",
				     r, dg.violations[i], dg.bad_seq[i]);
			if (v2 != v1[i])
				fail(&res, "round %llu: page changed after the flush (0x%llx -> 0x%llx)", r,
				     v1[i], v2);
			if (ptxn_pte_write(now))
				fail(&res, "round %llu: entry still writable (0x%llx)", r,
				     ptxn_pte_val(now), 0);
			if (dg.refused_after[i] == 0)
				fail(&res, "round %llu: no write was attempted after the flush", r, 0, 0);
			if (dg.ok[i] && !ptxn_pte_dirty(now)) {
				res.lost++;
				fail(&res, "round %llu: %llu writes before the downgrade, entry not dirty (0x%llx)",
				     r, dg.ok[i], ptxn_pte_val(now));
			}
		}
	}
	bm_store(&dg.stop, 1);
	bm_wait_work(n_cpus - 1);
	res.rounds = r - 1;
	res.spurious = accessor_broken_waits();
	report(&res);
}

/* ==== driver ============================================================================== */

/* Provided by suites_diff.c: the single-CPU differential suite (may report "skip"). */
void bm_diff_suite(uint64_t seed, uint32_t accesses, int *cases, int *failed);

void bm_run_suites(int ncpus)
{
	static const int strategies[] = { PTXN_STRATEGY_CLEAR, PTXN_STRATEGY_MERGE,
					  PTXN_STRATEGY_AUTO };
	uint64_t events = bm_cmdline_u64("events", 100000);
	uint64_t dg_rounds = bm_cmdline_u64("downgrade_rounds", 200);
	uint64_t diff_n = bm_cmdline_u64("diff_accesses", 20000);
	uint64_t t0 = plat_ticks();
	unsigned i;

	n_cpus = ncpus > BM_MAX_CPUS ? BM_MAX_CPUS : ncpus;
	seed = bm_cmdline_u64("seed", 1);
	for (i = 0; i < BM_MAX_CPUS; i++)
		bm_cpus[i].rng = (seed + 1) * 0x9e3779b97f4a7c15ull + i * 0x632be59bd9b4e019ull;
	race.acc_window = (uint32_t)bm_cmdline_u64("acc_window", 3000);
	race.txn_window = (uint32_t)bm_cmdline_u64("txn_window", 10000);
	race.write_pct = (uint32_t)bm_cmdline_u64("write_pct", 50);
	race.flush_each = (uint32_t)bm_cmdline_u64("flush_each", 1);
	bm_printf("PTXN-PLAN {\"cpus\":%d,\"pages\":%d,\"events\":%llu,\"downgrade_rounds\":%llu,"
		  "\"diff_accesses\":%llu,\"seed\":%llu}\n", n_cpus, BM_NPAGES,
		  (unsigned long long)events, (unsigned long long)dg_rounds,
		  (unsigned long long)diff_n, (unsigned long long)seed);

	bm_diff_suite(seed, (uint32_t)diff_n, &n_cases, &n_failed);
	for (i = 0; i < sizeof(strategies) / sizeof(strategies[0]); i++)
		race_case(strategies[i], events, 1, 100000);
	race_case(STRATEGY_PLAIN, 0, 20, 5000);
	for (i = 0; i < sizeof(strategies) / sizeof(strategies[0]); i++)
		downgrade_case(strategies[i], (uint32_t)dg_rounds);

	bm_printf("PTXN-SUMMARY {\"target\":\"%s\",\"cases\":%d,\"passed\":%d,\"failed\":%d,"
		  "\"seconds\":%llu}\n", plat_name(), n_cases, n_cases - n_failed, n_failed,
		  (unsigned long long)(bm_elapsed_us(t0) / 1000000u));
	bm_puts(n_failed ? "PTXN-RESULT FAIL\n" : "PTXN-RESULT PASS\n");
	plat_poweroff(n_failed == 0);
}
