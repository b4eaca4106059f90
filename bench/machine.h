// SPDX-License-Identifier: MIT
/*
 * bench/machine.h - the tables and the emulated CPUs of bench/compare.c: the state a
 * round trip starts from (a share of quiescent entries, at random or in runs), the reset,
 * the correctness check run after every sweep, TLB flushes, and the hwemu agents of the
 * hot-2cpu scenario. Included by compare.c only; every symbol is static.
 */
#ifndef BENCH_MACHINE_H
#define BENCH_MACHINE_H

#include <ptxn/hwemu.h>

#include <sched.h>

#define BENCH_HOT_PAGES 512u
/* ---- the machine ----------------------------------------------------------------------- */

static struct ptxn_hwemu *hw;
static ptxn_pte_t **tables;        /* every leaf table of the mapped range */
static uint64_t *init_state;       /* storage values a reset writes, entry by entry */
static ptxn_pte_t base_rw;         /* entry 0 as mapped (read-write, A/D clear) */
static int ncpus;

static ptxn_prot_t prot_rw(void)
{
	return ptxn_prot(PTXN_PROT_READ | PTXN_PROT_WRITE | PTXN_PROT_USER);
}

static ptxn_prot_t prot_ro(void)
{
	return ptxn_prot(PTXN_PROT_READ | PTXN_PROT_USER);
}

/*
 * Exactly round(q * n) of entries [0, n) quiescent (A+D), the rest A only; returns the
 * count. The quiescent ones are random runs of `run` consecutive entries (1: each entry
 * on its own, a coin toss per entry; real tables have dirty pages in runs).
 */
static unsigned run_len = 1;

static unsigned build_state(unsigned n, double q, uint64_t seed)
{
	unsigned nb = (n + run_len - 1) / run_len;
	unsigned *idx = (unsigned *)malloc(sizeof(unsigned) * nb);
	unsigned k = (unsigned)(q * n + 0.5), i, done = 0;

	if (!idx) {
		fprintf(stderr, "bench-compare: out of memory\n");
		exit(1);
	}
	for (i = 0; i < nb; i++)
		idx[i] = i;
	for (i = nb - 1; i > 0; i--) { /* Fisher-Yates over runs */
		unsigned j = (unsigned)(ptxn_hwemu_rand(&seed) % (i + 1)), t = idx[i];

		idx[i] = idx[j];
		idx[j] = t;
	}
	for (i = 0; i < n; i++) {
		ptxn_pte_t pte = ptxn_pte_advance_pfn(ptxn_pte_mkyoung(base_rw), i);

		init_state[i] = pte.storage;
	}
	for (i = 0; done < k; i++) {
		unsigned e;

		for (e = idx[i] * run_len; e < (idx[i] + 1) * run_len && e < n && done < k; e++, done++)
			init_state[e] = ptxn_pte_mkdirty(ptxn_make_pte(
						ptxn_arch_pte_from_storage(init_state[e]))).storage;
	}
	free(idx);
	return k;
}

static void reset_tables(unsigned n)
{
	unsigned t;

	for (t = 0; t * BENCH_TABLE < n; t++) {
		unsigned m = n - t * BENCH_TABLE, i;

		if (m > BENCH_TABLE)
			m = BENCH_TABLE;
		for (i = 0; i < m; i++)
			__atomic_store_n(&tables[t][i].storage, init_state[t * BENCH_TABLE + i], __ATOMIC_RELAXED);
	}
}

/* Does every entry of [0, n) have frame i and the protection want? Returns the first bad one or -1. */
static long check_tables(unsigned n, ptxn_prot_t want)
{
	unsigned pf = ptxn_pte_prot_flags(ptxn_pte_modify(base_rw, want)), i;
	uint64_t pfn0 = ptxn_pte_pfn(base_rw);

	for (i = 0; i < n; i++) {
		ptxn_pte_t pte = ptxn_ptep_get(&tables[i / BENCH_TABLE][i % BENCH_TABLE]);

		if (ptxn_pte_pfn(pte) != pfn0 + i || ptxn_pte_prot_flags(pte) != pf)
			return (long)i;
	}
	return -1;
}

static void flush_range(unsigned n)
{
	if (hw->nagents)
		ptxn_hwemu_flush_range(hw, BENCH_VA, BENCH_VA + (uint64_t)n * 4096);
}

static void pin_self(int cpu)
{
	cpu_set_t set;

	if (ncpus < 2)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

#define BENCH_AGENTS 2

static struct ptxn_hwemu_counters counters_now(void)
{
	struct ptxn_hwemu_counters c;

	ptxn_hwemu_counters_sum(hw, &c);
	return c;
}

/*
 * Start the agents on the hot set of [0, n) and wait until each has made some accesses
 * (a thread just created may not run before a 512-entry sweep is over).
 */
static void agents_start(unsigned n)
{
	unsigned k;
	uint64_t a0 = counters_now().accesses;

	for (k = 0; k < hw->nagents; k++) {
		struct ptxn_hwemu_agent *a = hw->agents[k];

		a->cfg.pattern.kind = PTXN_HWEMU_HOTSET;
		a->cfg.pattern.va = BENCH_VA;
		a->cfg.pattern.pages = n;
		a->cfg.pattern.hot_pages = n < BENCH_HOT_PAGES ? n : BENCH_HOT_PAGES;
		a->cfg.pattern.hot_percent = 100;
		a->cfg.pattern.write_percent = 50;
		a->cfg.pattern.user_percent = 100;
		if (!ptxn_hwemu_agent_start(a, 0)) {
			fprintf(stderr, "bench-compare: cannot start an agent\n");
			exit(1);
		}
		if (ncpus >= 2) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(1, &set);
			pthread_setaffinity_np(a->thread, sizeof(set), &set);
		}
	}
	/* a racy read of counters the agents write: only a progress hint */
	while (__atomic_load_n(&hw->agents[0]->c.accesses, __ATOMIC_RELAXED) +
		       __atomic_load_n(&hw->agents[hw->nagents - 1]->c.accesses, __ATOMIC_RELAXED) <
	       a0 + 64)
		sched_yield();
}

static void agents_stop(void)
{
	unsigned k;

	for (k = 0; k < hw->nagents; k++)
		ptxn_hwemu_agent_stop(hw->agents[k]);
}

#endif /* BENCH_MACHINE_H */
