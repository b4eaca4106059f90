// SPDX-License-Identifier: MIT
/*
 * bench/paravirt.c - what paravirtual batching buys (issue #6): time and traps per entry
 * of an mprotect of 1 to 262,144 entries under the simulated hypervisor of pvemu/
 * (docs/paravirt.md), unbatched vs batched, with a synthetic trap cost of 0, 1 and 5 us.
 *
 * An "mprotect" of n entries is what Linux's change_pte_range does: for each entry
 * ptxn_modify_prot_start, a new protection (writable <-> read-only, alternating between
 * repetitions), ptxn_modify_prot_commit; then one TLB flush of the range (a hypercall).
 * Modes:
 *   native        no hypervisor: the tables are written directly (MERGE), a reference
 *   clear         paravirt, CLEAR, no lazy mode: exchange trap + write trap per entry
 *                 (what an unmodified guest pays when every PTE write traps)
 *   merge         paravirt, MERGE, no lazy mode: one preserve-A/D hypercall per entry
 *   lazy<B>       paravirt, MERGE, inside lazy MMU mode: B commits per hypercall
 *                 (B = 32, Linux's Xen multicall batch, and 512, one page table)
 * The guest thread runs on CPU 0 and the hypervisor on CPU 1 (when there are two), so
 * that they never share a CPU, as a guest vCPU and a hypervisor do not.
 * No MMU agents run: this measures the software and trap path only. Each figure is the
 * best of 3 to 21 repetitions per round (the machine may be shared: noise only adds
 * time); the JSON rows also have the median.
 *
 * Build and run (from the source root; docs/paravirt.md has measured figures):
 *   cc -O2 -pthread -Iinclude bench/paravirt.c -o build/bench-paravirt
 *   build/bench-paravirt [--quick] [--max N] [--rounds K] [--json FILE] [--costs NS,NS,...]
 * or bench/paravirt.sh [options], which does both. --quick stops at 4,096 entries;
 * --rounds repeats the whole set K times (minutes apart on a shared machine). Prints
 * one table per trap cost; writes one JSON object per measurement to FILE (default
 * bench-paravirt.jsonl), one per line.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <ptxn/pvemu.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BENCH_VA UINT64_C(0x40000000)
#define BENCH_MAX_ENTRIES 262144u
#define BENCH_MAX_COSTS 8

enum bench_mode { MODE_NATIVE, MODE_CLEAR, MODE_MERGE, MODE_LAZY32, MODE_LAZY512, MODE_COUNT };

static const char *const mode_names[MODE_COUNT] = {"native", "clear", "merge", "lazy32", "lazy512"};

#define BENCH_MAX_ROUNDS 16
#define BENCH_MAX_SAMPLES (21 * BENCH_MAX_ROUNDS)

/* One table cell: every repetition of every round. */
struct bench_cell {
	double samples[BENCH_MAX_SAMPLES]; /* ns per entry */
	unsigned nsamples;
	uint64_t traps;        /* hypercalls of one mprotect (the same in every repetition) */
	double seconds;
};

static struct ptxn_hwemu *bench_hw;
static bool bench_pin;
static struct ptxn_pvemu *bench_pv;
static size_t *bench_off;        /* each entry's offset in the table memory */
static ptxn_pte_t **bench_slots;  /* pointers to them in the view a mode writes through */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static ptxn_pte_t toggle(ptxn_pte_t old)
{
	unsigned rw = PTXN_PROT_READ | PTXN_PROT_WRITE | PTXN_PROT_USER;

	return ptxn_pte_modify(old, ptxn_prot(ptxn_pte_write(old) ? PTXN_PROT_READ | PTXN_PROT_USER : rw));
}

/* One mprotect of entries [0, n) through mm; returns its time in ns. */
static uint64_t mprotect_once(ptxn_mm_t *mm, ptxn_pte_t **slots, unsigned n, bool lazy)
{
	uint64_t t0 = ptxn_pvemu_now_ns();
	unsigned i;

	if (lazy)
		ptxn_lazy_mmu_enter(mm);
	for (i = 0; i < n; i++) {
		uintptr_t va = (uintptr_t)(BENCH_VA + (uint64_t)i * 4096);
		ptxn_pte_t old = ptxn_modify_prot_start(mm, va, slots[i]);

		ptxn_modify_prot_commit(mm, va, slots[i], old, toggle(old));
	}
	if (lazy)
		ptxn_lazy_mmu_leave(mm);
	if (mm->flush_tlb_range)
		mm->flush_tlb_range(mm, (uintptr_t)BENCH_VA, (uintptr_t)(BENCH_VA + (uint64_t)n * 4096));
	return ptxn_pvemu_now_ns() - t0;
}

static void bench_one(enum bench_mode mode, uint64_t trap_ns, unsigned n, struct bench_cell *cell)
{
	struct ptxn_pvemu_config pc;
	ptxn_mm_t mm;
	uint64_t traps0 = 0, reps, k;
	bool lazy = mode == MODE_LAZY32 || mode == MODE_LAZY512;

	/* 21 repetitions at small sizes, 3 at the largest */
	reps = 131072 / n;
	if (reps < 3)
		reps = 3;
	if (reps > 21)
		reps = 21;
	ptxn_mm_init(&mm);
	ptxn_mm_set_strategy(&mm, mode == MODE_CLEAR ? PTXN_STRATEGY_CLEAR : PTXN_STRATEGY_MERGE);
	if (mode != MODE_NATIVE) {
		memset(&pc, 0, sizeof(pc));
		pc.trap_ns = trap_ns;
		if (bench_pin) { /* guest on CPU 0, hypervisor on CPU 1: they never share one */
			pc.flags = PTXN_PVEMU_PIN;
			pc.cpu = 1;
		}
		bench_pv = ptxn_pvemu_create(bench_hw, &pc);
		if (!bench_pv || !ptxn_pvemu_attach(bench_pv, &mm, mode == MODE_LAZY512 ? 512 : 32)) {
			fprintf(stderr, "bench-paravirt: cannot start the hypervisor\n");
			exit(1);
		}
		traps0 = ptxn_pvemu_traps(bench_pv);
	} else {
		ptxn_hwemu_attach_mm(bench_hw, &mm);
	}
	/* the guest's read-only view (a new mapping per hypervisor), or the plain table memory */
	for (k = 0; k < n; k++)
		bench_slots[k] = (ptxn_pte_t *)(void *)((mode == MODE_NATIVE ? bench_hw->phys.mem
									    : bench_pv->rview) + bench_off[k]);
	for (k = 0; k < reps; k++) {
		uint64_t ns = mprotect_once(&mm, bench_slots, n, lazy);

		if (cell->nsamples < BENCH_MAX_SAMPLES)
			cell->samples[cell->nsamples++] = (double)ns / n;
		cell->seconds += (double)ns * 1e-9;
	}
	if (mode != MODE_NATIVE) {
		cell->traps = (ptxn_pvemu_traps(bench_pv) - traps0) / reps;
		ptxn_pvemu_detach(&mm);
		ptxn_pvemu_destroy(bench_pv);
		bench_pv = NULL;
	}
}

/* Best (lowest) and median ns per entry of a cell. */
static double cell_best(struct bench_cell *cell)
{
	qsort(cell->samples, cell->nsamples, sizeof(cell->samples[0]), cmp_double);
	return cell->nsamples ? cell->samples[0] : 0.0;
}

static double cell_median(struct bench_cell *cell)
{
	qsort(cell->samples, cell->nsamples, sizeof(cell->samples[0]), cmp_double);
	return cell->nsamples ? cell->samples[cell->nsamples / 2] : 0.0;
}

static void usage(void)
{
	fprintf(stderr, "usage: bench-paravirt [--quick] [--max N] [--rounds K] [--json FILE] "
			"[--costs NS,NS,...]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	uint64_t costs[BENCH_MAX_COSTS] = {0, 1000, 5000};
	unsigned ncosts = 3, max = BENCH_MAX_ENTRIES, sizes[16], nsizes = 0, s, c, m, i, round;
	unsigned rounds = 1;
	static struct bench_cell cells[BENCH_MAX_COSTS][16][MODE_COUNT];
	const char *json_path = "bench-paravirt.jsonl";
	struct ptxn_hwemu_config hc;
	double load[3] = {0, 0, 0};
	FILE *json;

	for (i = 1; i < (unsigned)argc; i++) {
		if (!strcmp(argv[i], "--quick")) {
			max = 4096;
		} else if (!strcmp(argv[i], "--max") && i + 1 < (unsigned)argc) {
			max = (unsigned)strtoul(argv[++i], NULL, 0);
		} else if (!strcmp(argv[i], "--rounds") && i + 1 < (unsigned)argc) {
			rounds = (unsigned)strtoul(argv[++i], NULL, 0);
			if (rounds < 1 || rounds > BENCH_MAX_ROUNDS)
				usage();
		} else if (!strcmp(argv[i], "--json") && i + 1 < (unsigned)argc) {
			json_path = argv[++i];
		} else if (!strcmp(argv[i], "--costs") && i + 1 < (unsigned)argc) {
			char *p = argv[++i];

			for (ncosts = 0; *p && ncosts < BENCH_MAX_COSTS; ncosts++) {
				costs[ncosts] = strtoull(p, &p, 0);
				if (*p == ',')
					p++;
			}
		} else {
			usage();
		}
	}
	if (max < 1 || max > BENCH_MAX_ENTRIES)
		max = BENCH_MAX_ENTRIES;
	for (s = 1; s <= max && nsizes < 16; s *= 8)
		sizes[nsizes++] = s;
	if (sizes[nsizes - 1] != max)
		sizes[nsizes++] = max;

	memset(&hc, 0, sizeof(hc));
	hc.table_pages = max / 512 + 64;
	bench_hw = ptxn_hwemu_create(&hc);
	if (!bench_hw || !ptxn_hwemu_map(bench_hw, BENCH_VA, max, ptxn_prot(PTXN_PROT_READ | PTXN_PROT_WRITE | PTXN_PROT_USER), 0)) {
		fprintf(stderr, "bench-paravirt: cannot build the tables\n");
		return 1;
	}
	bench_slots = (ptxn_pte_t **)calloc(max, sizeof(*bench_slots));
	bench_off = (size_t *)calloc(max, sizeof(*bench_off));
	json = fopen(json_path, "w");
	if (!bench_slots || !bench_off || !json) {
		fprintf(stderr, "bench-paravirt: out of memory or cannot write %s\n", json_path);
		return 1;
	}
	if (sysconf(_SC_NPROCESSORS_ONLN) >= 2) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(0, &set);
		bench_pin = pthread_setaffinity_np(pthread_self(), sizeof(set), &set) == 0;
	}
	for (i = 0; i < max; i++)
		bench_off[i] = (size_t)((unsigned char *)ptxn_hwemu_lookup(bench_hw, BENCH_VA + (uint64_t)i * 4096, NULL) -
					bench_hw->phys.mem);
	if (getloadavg(load, 3) < 0)
		load[0] = -1;
	printf("ptxn paravirt bench: %s entries, %ld CPUs online%s, load average %.2f at start\n",
	       PTXN_FORMAT_NAME, sysconf(_SC_NPROCESSORS_ONLN),
	       bench_pin ? " (guest on CPU 0, hypervisor on CPU 1)" : "", load[0]);
	printf("mprotect of n entries (start, new protection, commit; one TLB-flush hypercall).\n"
	       "ns = ns per entry, the best of 3-21 repetitions x %u round(s) (the JSON rows also have\n"
	       "the median); traps = hypercalls per entry (the TLB flush included)\n", rounds);

	for (round = 0; round < rounds; round++) {
		if (getloadavg(load, 3) < 0)
			load[0] = -1;
		fprintf(stderr, "round %u of %u (load average %.2f)...\n", round + 1, rounds, load[0]);
		for (c = 0; c < ncosts; c++)
			for (s = 0; s < nsizes; s++)
				for (m = 0; m < MODE_COUNT; m++)
					if (m != MODE_NATIVE || c == 0) /* no traps natively: once */
						bench_one((enum bench_mode)m, costs[c], sizes[s], &cells[c][s][m]);
	}

	for (c = 0; c < ncosts; c++) {
		printf("\ntrap cost %llu ns\n", (unsigned long long)costs[c]);
		printf("%9s", "entries");
		for (m = 0; m < MODE_COUNT; m++)
			printf(" | %9s %6s", mode_names[m], "traps");
		printf(" | %12s %12s\n", "merge/lazy32", "clear/lazy32");
		for (s = 0; s < nsizes; s++) {
			unsigned n = sizes[s];
			double best[MODE_COUNT];

			printf("%9u", n);
			for (m = 0; m < MODE_COUNT; m++) {
				struct bench_cell *cell = &cells[c][s][m];

				if (m == MODE_NATIVE && c > 0) {
					printf(" | %9s %6s", "", "");
					continue;
				}
				best[m] = cell_best(cell);
				printf(" | %9.1f %6.3f", best[m], (double)cell->traps / n);
				fprintf(json,
					"{\"bench\": \"paravirt\", \"format\": \"%s\", \"mode\": \"%s\", "
					"\"batched\": %s, \"batch\": %u, \"strategy\": \"%s\", \"trap_ns\": %llu, "
					"\"entries\": %u, \"samples\": %u, \"ns_per_entry\": %.1f, "
					"\"median_ns_per_entry\": %.1f, \"traps\": %llu, "
					"\"traps_per_entry\": %.4f, \"seconds\": %.6f}\n",
					PTXN_FORMAT_NAME, mode_names[m],
					(m == MODE_LAZY32 || m == MODE_LAZY512) ? "true" : "false",
					m == MODE_LAZY32 ? 32u : m == MODE_LAZY512 ? 512u : 0u,
					m == MODE_CLEAR ? "clear" : "merge",
					(unsigned long long)(m == MODE_NATIVE ? 0 : costs[c]), n, cell->nsamples,
					best[m], cell_median(cell), (unsigned long long)cell->traps,
					(double)cell->traps / n, cell->seconds);
			}
			printf(" | %11.1fx %11.1fx\n",
			       best[MODE_LAZY32] > 0 ? best[MODE_MERGE] / best[MODE_LAZY32] : 0.0,
			       best[MODE_LAZY32] > 0 ? best[MODE_CLEAR] / best[MODE_LAZY32] : 0.0);
		}
	}
	fclose(json);
	printf("\nJSON rows: %s\n", json_path);
	ptxn_hwemu_destroy(bench_hw);
	free(bench_slots);
	free(bench_off);
	return 0;
}
