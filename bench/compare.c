// SPDX-License-Identifier: MIT
/*
 * bench/compare.c - ptxn side by side with Linux's, FreeBSD's and the physical limit
 * (issue #8). One binary, one set of real ptxn tables (built by hwemu's address-space
 * builder), every contender of bench/sweeps.h on the same entries in the same run.
 * docs/bench.md is the description: the workload, the contenders, the scenarios, the
 * correctness check after every sweep, the timed and count modes, the JSON rows and this
 * program's options ("The programs"). tools/ptxn_tools/bench.py (`./matrix bench`) runs
 * it; bench/machine.h builds, resets and checks the tables; bench/util.h holds the
 * markers, clock and option parsing.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif
#include <ptxn/hwemu.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sweeps.h"

#define BENCH_MAX_ENTRIES 262144u
#define BENCH_MAX_LIST 8
#define BENCH_MAX_SAMPLES 1024u

#include "util.h"

#include "machine.h"

static void usage(void)
{
	fprintf(stderr,
		"usage: bench-compare [--quick] [--count] [--sizes N,N] [--shares Q,Q]\n"
		"                     [--scenarios no-hw,hot-2cpu] [--contenders C,C] [--samples K]\n"
		"                     [--batch NR] [--runs R] [--json FILE] [--list]\n");
	exit(2);
}

static const char *const scenario_names[2] = {"no-hw", "hot-2cpu"};

/* ---- one sample ---------------------------------------------------------------------- */

struct cell {
	unsigned sc, n;       /* scenario, entries */
	double q;             /* quiescent share */
	bool count;           /* count mode: marks instead of clocks */
	FILE *json;
	unsigned *mark;       /* next mark id (count mode) */
};

static bool sample_preempted; /* a sweep of this sample was preempted: do it again */

/* One direction: a timed (or marked) sweep to prot, a TLB flush, the correctness check. */
static bool one_direction(const struct contender *ct, struct sweep *s, const struct cell *cl,
			  ptxn_prot_t prot, const char *dir, uint64_t *ns)
{
	uint64_t t0 = 0, t1 = 0;
	long bad;

	s->prot = prot;
	if (cl->count) {
		if (cl->json)
			fprintf(cl->json,
				"{\"kind\": \"mark\", \"mark\": %u, \"scenario\": \"%s\", "
				"\"contender\": \"%s\", \"entries\": %u, \"quiescent_share\": %g, "
				"\"direction\": \"%s\"}\n",
				*cl->mark, scenario_names[cl->sc], ct->name, cl->n, cl->q, dir);
		bench_mark_begin(*cl->mark);
		run_sweep(ct, s);
		bench_mark_end(*cl->mark);
		++*cl->mark;
	} else {
		long p0 = bench_preemptions();

		t0 = now_ns();
		run_sweep(ct, s);
		t1 = now_ns();
		if (bench_preemptions() != p0)
			sample_preempted = true;
	}
	*ns = t1 - t0;
	flush_range(cl->n);
	/* after every sweep: a contender that loses or mangles an entry fails the run */
	if ((bad = check_tables(cl->n, prot)) >= 0) {
		fprintf(stderr, "bench-compare: %s left entry %ld wrong (%s, %s, %u entries)\n",
			ct->name, bad, dir, scenario_names[cl->sc], cl->n);
		return false;
	}
	return true;
}

/*
 * One round trip of one contender: reset the table (untimed), then rw->ro and ro->rw.
 * In hot-2cpu the agents run from before the first sweep to after the last flush and are
 * stopped before their counters are read: a fault is counted when the agent's retry
 * succeeds, which may be long after the sweep that broke the entry (an agent can sit
 * descheduled in sched_yield), so counters read while agents run would charge a fault
 * to whichever contender happens to run next.
 */
static bool one_sample(const struct contender *ct, ptxn_mm_t *mm, unsigned batch,
		       const struct cell *cl, bool first, double out[3],
		       uint64_t *spurious, uint64_t *accesses)
{
	struct ptxn_hwemu_counters c0, c1;
	struct sweep s;
	uint64_t a = 0, b = 0;
	unsigned i, n = cl->n;

	s.tables = tables;
	s.n = n;
	s.mm = mm;
	s.batch = batch;
	reset_tables(n);
	flush_range(n);
	if (cl->sc == 1) {
		c0 = counters_now();
		agents_start(n);
	}
	if (!one_direction(ct, &s, cl, prot_ro(), "rw-ro", &a) ||
	    !one_direction(ct, &s, cl, prot_rw(), "ro-rw", &b))
		return false;
	if (cl->sc == 1) {
		agents_stop();
		c1 = counters_now();
		*spurious += c1.spurious_faults - c0.spurious_faults;
		*accesses += c1.accesses - c0.accesses;
	}
	if (first && ct->exact_ad && cl->sc == 0 && ct->kind != K_MEMORY) {
		/* a round trip without hardware gives back the initial table */
		for (i = 0; i < n; i++)
			if (tables[i / BENCH_TABLE][i % BENCH_TABLE].storage != init_state[i]) {
				fprintf(stderr, "bench-compare: %s: entry %u not restored\n", ct->name, i);
				return false;
			}
	}
	out[0] = (double)a / n;
	out[1] = (double)b / n;
	out[2] = (double)(a + b) / (2.0 * n);
	return true;
}

static bool selected(const char *csv, const struct contender *ct)
{
	return csv ? in_csv(csv, ct->name) : !ct->hidden;
}

/* Print and write one cell's rows (timed mode). */
static void report_cell(const struct cell *cl, const char *csv, unsigned quiescent,
			unsigned samples, double *ns, const uint64_t *spurious,
			const uint64_t *accesses, const unsigned *trips, const unsigned *redone)
{
	unsigned c, k, n = cl->n;

	printf("\n%s, %u entries, %u%% quiescent (%u), %u samples: ns per entry change\n",
	       scenario_names[cl->sc], n, (unsigned)(cl->q * 100 + 0.5), quiescent, samples);
	for (c = 0; c < NCONTENDERS; c++) {
		double rt[BENCH_MAX_SAMPLES], a[BENCH_MAX_SAMPLES], b[BENCH_MAX_SAMPLES];
		double med, lo, hi, ma, mb, per = 2.0 * n * trips[c]; /* every round trip run */

		if (!selected(csv, &contenders[c]))
			continue;
		for (k = 0; k < samples; k++) {
			a[k] = ns[(k * NCONTENDERS + c) * 3 + 0];
			b[k] = ns[(k * NCONTENDERS + c) * 3 + 1];
			rt[k] = ns[(k * NCONTENDERS + c) * 3 + 2];
		}
		med = median_of(rt, samples);
		lo = rt[0];
		hi = rt[samples - 1];
		ma = median_of(a, samples);
		mb = median_of(b, samples);
		printf("  %-16s %8.3f  (min %.3f, max %.3f; rw->ro %.3f, ro->rw %.3f)",
		       contenders[c].name, med, lo, hi, ma, mb);
		if (cl->sc == 1)
			printf("  spurious/entry %.2e", (double)spurious[c] / per);
		printf("\n");
		if (!cl->json)
			continue;
		fprintf(cl->json,
			"{\"kind\": \"timed\", \"scenario\": \"%s\", \"contender\": \"%s\", "
			"\"entries\": %u, \"quiescent_share\": %g, \"quiescent_entries\": %u, "
			"\"samples\": %u, \"ns_per_entry\": %.4f, \"ns_min\": %.4f, "
			"\"ns_max\": %.4f, \"ns_rw_to_ro\": %.4f, \"ns_ro_to_rw\": %.4f, "
			"\"preempted_redone\": %u",
			scenario_names[cl->sc], contenders[c].name, n, cl->q, quiescent, samples,
			med, lo, hi, ma, mb, redone[c]);
		if (cl->sc == 1)
			fprintf(cl->json,
				", \"spurious_faults\": %llu, \"spurious_faults_per_entry\": %.6g, "
				"\"agent_accesses_per_entry\": %.4g",
				(unsigned long long)spurious[c], (double)spurious[c] / per,
				(double)accesses[c] / per);
		fprintf(cl->json, "}\n");
	}
}

int main(int argc, char **argv)
{
	unsigned sizes[BENCH_MAX_LIST] = {512, 16384, 262144}, nsizes = 3;
	double shares[BENCH_MAX_LIST] = {0, 0.5, 1}, load[3] = {-1, -1, -1};
	unsigned nshares = 3, samples_opt = 0, batch = 16, max = 0, i, sc, si, qi, c, mark = 0;
	const char *scenarios_csv = NULL, *contenders_csv = NULL, *json_path = NULL;
	bool quick = false, count = false;
	struct ptxn_hwemu_config hc;
	ptxn_mm_t mms[PTXN_STRATEGY_COUNT + 2]; /* by strategy, then the two AUTO promises */
	uint64_t t_overhead;
	FILE *json = NULL;

	for (i = 1; i < (unsigned)argc; i++) {
		const char *a = argv[i], *v = i + 1 < (unsigned)argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--quick")) {
			quick = true;
		} else if (!strcmp(a, "--count")) {
			count = true;
		} else if (!strcmp(a, "--mark-pcs")) { /* for tools/ptxn_tools/bench.py's qemu exec log */
			printf("%llu %llu\n", (unsigned long long)bench_code_address(bench_mark_begin),
			       (unsigned long long)bench_code_address(bench_mark_end));
			return 0;
		} else if (!strcmp(a, "--list")) {
			for (c = 0; c < NCONTENDERS; c++)
				if (!contenders[c].hidden)
					printf("%s\n", contenders[c].name);
			return 0;
		} else if (!v) {
			usage();
		} else if (!strcmp(a, "--sizes")) {
			nsizes = parse_list_u(v, sizes, BENCH_MAX_LIST), i++;
		} else if (!strcmp(a, "--shares")) {
			nshares = parse_list_d(v, shares, BENCH_MAX_LIST), i++;
		} else if (!strcmp(a, "--scenarios")) {
			scenarios_csv = v, i++;
		} else if (!strcmp(a, "--contenders")) {
			contenders_csv = v, i++;
		} else if (!strcmp(a, "--samples")) {
			samples_opt = (unsigned)strtoul(v, NULL, 0), i++;
		} else if (!strcmp(a, "--runs")) {
			run_len = (unsigned)strtoul(v, NULL, 0), i++;
		} else if (!strcmp(a, "--batch")) {
			batch = (unsigned)strtoul(v, NULL, 0), i++;
		} else if (!strcmp(a, "--json")) {
			json_path = v, i++;
		} else {
			usage();
		}
	}
	if (!nsizes || !nshares || samples_opt > BENCH_MAX_SAMPLES || run_len < 1 || batch < 1 || batch > BENCH_TABLE || BENCH_TABLE % batch)
		usage();
	for (si = 0; si < nsizes; si++) {
		if (sizes[si] < 1 || sizes[si] > BENCH_MAX_ENTRIES)
			usage();
		if (sizes[si] > max)
			max = sizes[si];
	}
	for (qi = 0; qi < nshares; qi++)
		if (shares[qi] < 0 || shares[qi] > 1)
			usage();
	if (contenders_csv) { /* every name must be known */
		char *copy = strdup(contenders_csv), *tok, *save = NULL;

		for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			for (c = 0; c < NCONTENDERS && strcmp(tok, contenders[c].name); c++)
				;
			if (c == NCONTENDERS) {
				fprintf(stderr, "bench-compare: unknown contender %s (--list)\n", tok);
				return 2;
			}
		}
		free(copy);
	}
	ncpus = (int)sysconf(_SC_NPROCESSORS_ONLN);

	memset(&hc, 0, sizeof(hc));
	hc.table_pages = max / BENCH_TABLE + 64;
	hw = ptxn_hwemu_create(&hc);
	if (!hw || !ptxn_hwemu_map(hw, BENCH_VA, max, prot_rw(), 0)) {
		fprintf(stderr, "bench-compare: cannot build the tables\n");
		return 1;
	}
	tables = (ptxn_pte_t **)calloc(max / BENCH_TABLE + 1, sizeof(*tables));
	init_state = (uint64_t *)calloc(max, sizeof(*init_state));
	if (!tables || !init_state)
		return 1;
	for (i = 0; i * BENCH_TABLE < max; i++) {
		tables[i] = ptxn_hwemu_lookup(hw, BENCH_VA + (uint64_t)i * BENCH_TABLE * 4096, NULL);
		/* the builder gives each 2 MiB one leaf table, entries in order */
		if (!tables[i] || ((uintptr_t)tables[i] & 4095)) {
			fprintf(stderr, "bench-compare: leaf table %u not page-aligned\n", i);
			return 1;
		}
	}
	base_rw = ptxn_ptep_get(tables[0]);
	for (i = 0; i < PTXN_STRATEGY_COUNT; i++) {
		ptxn_mm_init(&mms[i]);
		ptxn_mm_set_strategy(&mms[i], (enum ptxn_strategy)i);
		ptxn_hwemu_attach_mm(hw, &mms[i]);
	}
	ptxn_mm_init(&mms[BENCH_MM_AUTO_CET]);
	ptxn_mm_set_flags(&mms[BENCH_MM_AUTO_CET], PTXN_MM_X86_CET);
	ptxn_hwemu_attach_mm(hw, &mms[BENCH_MM_AUTO_CET]);
	ptxn_mm_init(&mms[BENCH_MM_AUTO_FLUSHED]);
	ptxn_mm_set_flags(&mms[BENCH_MM_AUTO_FLUSHED], PTXN_MM_WRPROTECT_FLUSHED);
	ptxn_hwemu_attach_mm(hw, &mms[BENCH_MM_AUTO_FLUSHED]);
	if (json_path && !(json = fopen(json_path, "w"))) {
		fprintf(stderr, "bench-compare: cannot write %s\n", json_path);
		return 1;
	}
	{
		uint64_t t0 = now_ns();

		for (i = 0; i < 1000; i++)
			(void)now_ns();
		t_overhead = (now_ns() - t0) / 1000;
	}
	if (getloadavg(load, 3) < 0)
		load[0] = -1;
	printf("ptxn bench-compare: %s; %d CPUs online; load average %.2f; %s mode; "
	       "clock_gettime %llu ns; callgrind requests %s\n",
	       PTXN_BACKEND_DESCRIPTION, ncpus, load[0], count ? "count" : "timed",
	       (unsigned long long)t_overhead, BENCH_CALLGRIND ? "built in" : "not built");
	if (json)
		fprintf(json,
			"{\"kind\": \"meta\", \"backend\": \"%s\", \"format\": \"%s\", "
			"\"cpus\": %d, \"load_average\": %.2f, \"mode\": \"%s\", \"batch\": %u, \"runs\": %u, "
			"\"clock_ns\": %llu, \"callgrind_requests\": %s, \"mark_begin_pc\": %llu, "
			"\"mark_end_pc\": %llu, \"compiler\": \"%s\"}\n",
			PTXN_BACKEND_DESCRIPTION, PTXN_FORMAT_NAME, ncpus, load[0],
			count ? "count" : "timed", batch, run_len, (unsigned long long)t_overhead,
			BENCH_CALLGRIND ? "true" : "false",
			(unsigned long long)bench_code_address(bench_mark_begin),
			(unsigned long long)bench_code_address(bench_mark_end),
#if defined(__clang__)
			"clang " __clang_version__
#elif defined(__GNUC__)
			"gcc " __VERSION__
#else
			"unknown"
#endif
		);

	for (sc = 0; sc < 2; sc++) {
		if (scenarios_csv && !in_csv(scenarios_csv, scenario_names[sc]))
			continue;
		if (sc == 1 && count)
			continue; /* instructions are counted without concurrent hardware */
		if (sc == 1 && hw->nagents == 0) {
			for (i = 0; i < BENCH_AGENTS; i++) {
				struct ptxn_hwemu_agent_config ac;

				memset(&ac, 0, sizeof(ac));
				ac.seed = 1000 + i;
				ac.max_retries = 1u << 30; /* a broken entry comes back at its commit */
				if (!ptxn_hwemu_agent_create(hw, &ac)) {
					fprintf(stderr, "bench-compare: cannot create an agent\n");
					return 1;
				}
			}
		}
		pin_self(0);
		for (si = 0; si < nsizes; si++) {
			unsigned n = sizes[si];
			unsigned samples = samples_opt;

			if (!samples) {
				samples = (unsigned)(4194304u / n); /* ~30-100 ms per cell and contender */
				samples = samples < 21 ? 21 : samples > 301 ? 301 : samples;
				if (quick)
					samples = samples / 10 < 5 ? 5 : samples / 10;
			}
			if (count)
				samples = 1;
			for (qi = 0; qi < nshares; qi++) {
				struct cell cl;
				unsigned quiescent = build_state(n, shares[qi], 12345 + n), k;
				double *ns = (double *)calloc((size_t)samples * NCONTENDERS * 3, sizeof(double));
				uint64_t spurious[NCONTENDERS], accesses[NCONTENDERS];
				unsigned trips[NCONTENDERS], redone[NCONTENDERS];

				if (!ns)
					return 1;
				cl.sc = sc;
				cl.n = n;
				cl.q = shares[qi];
				cl.count = count;
				cl.json = json;
				cl.mark = &mark;
				memset(trips, 0, sizeof(trips));
				memset(redone, 0, sizeof(redone));
				memset(spurious, 0, sizeof(spurious));
				memset(accesses, 0, sizeof(accesses));
				/* contenders take turns, sample after sample: drifts hit all alike */
				for (k = 0; k < samples; k++)
					for (c = 0; c < NCONTENDERS; c++) {
						const struct contender *ct = &contenders[c];

						if (!selected(contenders_csv, ct))
							continue;
						unsigned tries = 0;

						do { /* a preempted sample is redone, up to 20 times */
							sample_preempted = false;
							trips[c]++;
							if (!one_sample(ct, ct->mm >= 0 ? &mms[ct->mm] : NULL,
									batch, &cl, k == 0,
									&ns[(k * NCONTENDERS + c) * 3],
									&spurious[c], &accesses[c])) {
								if (json)
									fclose(json);
								return 1;
							}
						} while (sample_preempted && ++tries < 20);
						redone[c] += tries;
					}
				if (!count)
					report_cell(&cl, contenders_csv, quiescent, samples, ns, spurious,
						    accesses, trips, redone);
				free(ns);
			}
		}
	}
	if (getloadavg(load, 3) < 0)
		load[0] = -1;
	if (json) {
		fprintf(json, "{\"kind\": \"end\", \"load_average\": %.2f, \"marks\": %u}\n", load[0], mark);
		fclose(json);
	}
	printf("\nload average at the end %.2f\n", load[0]);
	ptxn_hwemu_destroy(hw);
	free(tables);
	free(init_state);
	return 0;
}
