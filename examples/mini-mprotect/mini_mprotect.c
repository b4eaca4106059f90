/* SPDX-License-Identifier: MIT */
/*
 * mini-mprotect: mprotect() the way a kernel does it, on page tables that emulated CPUs
 * are using at the same time.
 *
 * It builds a 4-level address space of the host's entry format with ptxn's hardware
 * emulation (<ptxn/hwemu.h>: simulated memory, MMUs that set Accessed/Dirty bits as the
 * real ones do, TLBs, a shootdown), maps a few thousand pages, and starts emulated CPUs
 * (threads) reading and writing them. While they run it changes the protection of a
 * range, as Linux's change_protection() does: in lazy MMU mode, one batched transaction
 * per folio (ptxn_modify_prot_start_ptes / ptxn_modify_prot_commit_ptes), then a TLB
 * flush of the range. It does so in rounds, read-only, read-write, read-only, ...; after
 * each round it stops the CPUs and checks, rather than assumes, what happened:
 *
 *   - every Accessed/Dirty update an emulated MMU made (the emulation keeps a ledger of
 *     each one) is still in its entry: nothing clears A/D during a round, so an update
 *     missing at its end was lost by a transaction;
 *
 * then makes every page old and clean again (CPUs stopped), so that the next round's
 * CPUs race the change with fresh A/D updates. After the last round:
 *
 *   - every entry kept its frame and has the protection asked for;
 *   - after the last flush, a write anywhere in the read-only range faults, a write
 *     elsewhere and every read do not.
 *
 * It prints what it did and saw, and exits 0 only if every check passed.
 *
 * Build (docs in README.md, "Using ptxn in your project"):
 *   cc -O2 mini_mprotect.c $(pkg-config --cflags --libs ptxn-hwemu) -o mini-mprotect
 * or as a Meson project (this directory): meson setup build && meson compile -C build.
 *
 * Usage: mini-mprotect [--pages N] [--cpus N] [--batch N] [--rounds N]
 *                      [--strategy auto|clear|merge] [--unsafe]
 * --unsafe replaces the transactions by plain load/modify/store: the negative control,
 * whose lost updates the checks must report.
 */

/* Count what the transactions do (mm->stats); costs one relaxed atomic add per event. */
#define PTXN_STATS 1

/*
 * A 32-bit x86 host would default to PAE entries (3-level paging); this program builds
 * IA-32e 4-level tables on every x86 host, as a 32-bit emulator of a 64-bit guest would.
 */
#if defined(__i386__) && !defined(PTXN_X86_PAE)
#define PTXN_X86_PAE 0
#endif

#include <ptxn/hwemu.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BASE_VA UINT64_C(0x40000000) /* 1 GiB: below 4 GiB, so 32-bit hosts can pass it */
#define PAGE PTXN_HWEMU_PAGE_SIZE
#define PTES_PER_TABLE 512u

struct options {
	unsigned long pages, cpus, batch, rounds;
	enum ptxn_strategy strategy;
	bool unsafe;
};

/* One round: what the transactions did (mm->stats, PTXN_STATS) and what the check found. */
struct round {
	unsigned flags;
	unsigned long batches;
	struct ptxn_mm_stats stats;
	uint64_t t_begin, t_end; /* hwemu tickets around the change: A/D updates in between raced it */
	uint64_t updates, raced, lost;
};

/* Burn a few hundred cycles (a spin-wait's step; no CPU hint needed for correctness). */
static void spin_a_little(void)
{
	volatile int k;

	for (k = 0; k < 32; k++)
		;
}

static const char *prot_name(unsigned flags)
{
	return (flags & PTXN_PROT_WRITE) ? "PROT_READ|PROT_WRITE" : "PROT_READ";
}

/*
 * The kernel part: change the protection of [start, end) to `flags`, `batch` entries at a
 * time. Each batch is one folio: consecutive entries of one page table mapping consecutive
 * frames with the same protection. Lazy MMU mode lets a paravirtual platform queue the
 * writes and send them as one hypercall; natively it costs nothing. The flush after a
 * downgrade is the caller's job, as after any protection change.
 */
static unsigned long change_protection(ptxn_mm_t *mm, struct ptxn_hwemu *hw, uint64_t start,
				       uint64_t end, unsigned flags, unsigned batch)
{
	const ptxn_prot_t prot = ptxn_prot(flags);
	unsigned long batches = 0;
	uint64_t va;

	ptxn_lazy_mmu_enter(mm);
	for (va = start; va < end; va += (uint64_t)batch * PAGE) {
		/* The page-table walk (pte_offset_map_lock in Linux); hwemu owns the tables here. */
		ptxn_pte_t *ptep = ptxn_hwemu_lookup(hw, va, NULL);
		ptxn_pte_t old, pte;

		if (!ptep)
			abort();
		old = ptxn_modify_prot_start_ptes(mm, (uintptr_t)va, ptep, batch);
		pte = ptxn_pte_modify(old, prot);
		ptxn_modify_prot_commit_ptes(mm, (uintptr_t)va, ptep, old, pte, batch);
		batches++;
	}
	ptxn_lazy_mmu_leave(mm);
	mm->flush_tlb_range(mm, (uintptr_t)start, (uintptr_t)end);
	return batches;
}

/*
 * The negative control (--unsafe): the same change as a plain load, modify, store, which
 * loses any A/D update the MMU makes between the load and the store. The checks below
 * must catch it (when the CPUs manage to race with it: run it a few times).
 */
static unsigned long change_protection_unsafe(ptxn_mm_t *mm, struct ptxn_hwemu *hw,
					      uint64_t start, uint64_t end, unsigned flags)
{
	const ptxn_prot_t prot = ptxn_prot(flags);
	unsigned long n = 0;
	uint64_t va;

	for (va = start; va < end; va += PAGE, n++) {
		ptxn_pte_t *ptep = ptxn_hwemu_lookup(hw, va, NULL);
		ptxn_pte_t pte = ptxn_ptep_get(ptep);
		spin_a_little(); /* widen the window: the same race, sooner */
		ptxn_set_pte(ptep, ptxn_pte_modify(pte, prot));
	}
	mm->flush_tlb_range(mm, (uintptr_t)start, (uintptr_t)end);
	return n;
}

/* ---- the driver: emulated machine, CPUs, checks --------------------------------------- */

static unsigned long parse_ulong(const char *s, const char *what, unsigned long lo, unsigned long hi)
{
	char *end;
	unsigned long v = strtoul(s ? s : "", &end, 0);

	if (!s || !*s || *end || v < lo || v > hi) {
		fprintf(stderr, "mini-mprotect: %s must be a number in [%lu, %lu]\n", what, lo, hi);
		exit(2);
	}
	return v;
}

static void parse(int argc, char **argv, struct options *o)
{
	int i;

	o->pages = 4096;
	o->cpus = 2;
	o->batch = 16;
	o->rounds = 7;
	o->strategy = PTXN_STRATEGY_AUTO;
	o->unsafe = false;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--pages"))
			o->pages = parse_ulong(v, "--pages", PTES_PER_TABLE, 1u << 18), i++;
		else if (!strcmp(a, "--cpus"))
			o->cpus = parse_ulong(v, "--cpus", 1, PTXN_HWEMU_MAX_AGENTS - 1), i++;
		else if (!strcmp(a, "--batch"))
			o->batch = parse_ulong(v, "--batch", 1, PTES_PER_TABLE), i++;
		else if (!strcmp(a, "--rounds"))
			o->rounds = parse_ulong(v, "--rounds", 1, 1000), i++;
		else if (!strcmp(a, "--strategy") && v) {
			unsigned s;

			for (s = 0; s < PTXN_STRATEGY_COUNT; s++)
				if (!strcmp(v, ptxn_strategy_name((enum ptxn_strategy)s)))
					break;
			if (s == PTXN_STRATEGY_COUNT) {
				fprintf(stderr, "mini-mprotect: --strategy auto, clear or merge\n");
				exit(2);
			}
			o->strategy = (enum ptxn_strategy)s;
			i++;
		} else if (!strcmp(a, "--unsafe")) {
			o->unsafe = true;
		} else {
			fprintf(stderr, "usage: mini-mprotect [--pages N] [--cpus N] [--batch N] "
					"[--rounds N] [--strategy auto|clear|merge] [--unsafe]\n");
			exit(2);
		}
	}
	/* A batch must not cross a page table: a power of two up to 512. */
	if (o->batch & (o->batch - 1)) {
		fprintf(stderr, "mini-mprotect: --batch must be a power of two up to 512\n");
		exit(2);
	}
	o->pages -= o->pages % PTES_PER_TABLE; /* whole page tables */
}

/*
 * Let the emulated CPUs make about n more accesses in all. Spins rather than yields: with
 * more busy threads than cores, a yield hands this core to a CPU thread for a whole time
 * slice and the two sides take turns instead of racing.
 */
static void let_cpus_run(struct ptxn_hwemu *hw, uint64_t n)
{
	uint64_t start = 0, now;
	unsigned long spins = 0;
	unsigned i;

	for (i = 0; i < hw->nagents; i++)
		start += __atomic_load_n(&hw->agents[i]->progress, __ATOMIC_RELAXED);
	do {
		if (++spins % 65536 == 0)
			sched_yield(); /* the CPU threads may not be running at all */
		else
			spin_a_little();
		now = 0;
		for (i = 0; i < hw->nagents; i++)
			now += __atomic_load_n(&hw->agents[i]->progress, __ATOMIC_RELAXED);
	} while (now - start < n);
}

/*
 * The emulated CPUs' page-fault handler, as a kernel's. Every page of the mapping is
 * mapped, so a "not present" fault on a leaf means a transaction has the entry broken
 * for a moment (CLEAR, or AUTO's batches): the fault is spurious, and the handler retries
 * the access, as Linux's does once it gets the PTE lock and finds the entry back. A write
 * to a read-only page is a real fault (SIGSEGV): give up.
 */
struct fault_counts {
	uint64_t spurious, sigsegv;
};

static bool handle_fault(struct ptxn_hwemu_agent *a, uint64_t va, unsigned access, bool user,
			 const struct ptxn_mmu_walk *w, unsigned attempt, void *ctx)
{
	struct fault_counts *fc = (struct fault_counts *)ctx;

	(void)a, (void)va, (void)access, (void)user;
	if (w->fault == PTXN_MMU_FAULT_NOT_PRESENT && w->level == 0 && attempt < 1000000) {
		if (attempt == 0)
			fc->spurious++;
		if (attempt > 16)
			sched_yield(); /* the transaction's thread may not be running */
		return true;
	}
	fc->sigsegv++;
	return false;
}

static unsigned logical(ptxn_pte_t pte)
{
	return (ptxn_pte_young(pte) ? PTXN_HWEMU_YOUNG : 0) |
	       (ptxn_pte_dirty(pte) ? PTXN_HWEMU_DIRTY : 0);
}

/*
 * Check 1, after a round, with the CPUs stopped: every A/D update the emulated MMUs made
 * to a leaf during the round (the emulation's ledger holds each one) is still in its
 * entry. Nothing clears A/D during a round, so an update missing now was lost by a
 * transaction. Counts the updates, those that raced with the change (made to the range
 * while it was in flight) and the lost ones.
 */
static void check_ad(struct ptxn_hwemu *hw, struct round *rd, uint64_t lo, uint64_t hi)
{
	size_t n, k;
	struct ptxn_hwemu_ledger_entry *ledger = ptxn_hwemu_ledger(hw, &n);

	for (k = 0; k < n; k++) {
		const struct ptxn_hwemu_ledger_entry *e = &ledger[k];

		if (e->level != 0 || !e->bits)
			continue; /* table entries (x86 sets A in them): ptxn does not change those */
		rd->updates++;
		if (e->ticket > rd->t_begin && e->ticket < rd->t_end && e->va >= lo && e->va < hi)
			rd->raced++;
		if ((logical(ptxn_ptep_get(ptxn_hwemu_slot_ptr(hw, e->slot))) & e->bits) != e->bits)
			rd->lost++;
	}
	free(ledger);
}

/*
 * Between rounds, with the CPUs stopped: every page old and clean again, TLBs and ledger
 * empty, so that the next round's CPUs make fresh A/D updates while its change runs. A
 * plain store is safe here only because no MMU is running.
 */
static void reset_ad(struct ptxn_hwemu *hw, uint64_t pages)
{
	uint64_t i;

	for (i = 0; i < pages; i++) {
		ptxn_pte_t *slot = ptxn_hwemu_lookup(hw, BASE_VA + i * PAGE, NULL);

		ptxn_set_pte(slot, ptxn_pte_mkold(ptxn_pte_mkclean(ptxn_ptep_get(slot))));
	}
	ptxn_hwemu_flush_all(hw);
	ptxn_hwemu_check_begin(hw); /* empties the ledgers (and the CPUs' counters) */
}

int main(int argc, char **argv)
{
	struct options o;
	struct ptxn_hwemu_config cfg;
	struct ptxn_hwemu *hw;
	struct ptxn_hwemu_counters c, total;
	struct round *rounds;
	struct fault_counts faults[PTXN_HWEMU_MAX_AGENTS];
	ptxn_mm_t mm;
	uint64_t first_pa, lo, hi, i, j, tables = 0, updates = 0, raced = 0, lost = 0;
	uint64_t wrong_entries = 0, young = 0, dirty = 0, spurious = 0, sigsegv = 0;
	uint64_t ro_write_faults = 0, reads_ok = 0, rw_writes_ok = 0, bad_access = 0;
	unsigned last_flags;
	unsigned long r;
	int ok;

	parse(argc, argv, &o);
	/* The range whose protection changes: about the middle half, in whole batches. */
	lo = BASE_VA + (o.pages / 4 - o.pages / 4 % o.batch) * PAGE;
	hi = lo + ((o.pages / 2 + o.batch - 1) / o.batch * o.batch) * PAGE;

	printf("mini-mprotect: ptxn %s, %s\n", PTXN_VERSION_STRING, PTXN_BACKEND_DESCRIPTION);

	/* The machine; table memory for this many pages (radix has a 64 KiB root). */
	memset(&cfg, 0, sizeof(cfg));
#ifdef PTXN_FORMAT_ARM64
	cfg.mmu_flags = PTXN_MMU_ARM64_HA | PTXN_MMU_ARM64_HD; /* FEAT_HAFDBS: hardware A/D */
#endif
	cfg.table_pages = 64 + o.pages / PTES_PER_TABLE;
	hw = ptxn_hwemu_create(&cfg);
	if (!hw) {
		fprintf(stderr, "mini-mprotect: cannot create the emulated machine\n");
		return 1;
	}
	first_pa = ptxn_hwemu_map(hw, BASE_VA, o.pages,
				  ptxn_prot(PTXN_PROT_READ | PTXN_PROT_WRITE | PTXN_PROT_USER), 0);
	if (!first_pa) {
		fprintf(stderr, "mini-mprotect: cannot map %lu pages\n", o.pages);
		return 1;
	}
	for (i = 0; i < hw->phys.npages; i++)
		tables += hw->phys.used[i];
	printf("address space: %u-level %s page tables (%" PRIu64 " table pages), %lu pages "
	       "mapped read-write at 0x%" PRIx64 "\n",
	       ptxn_mmu_top_level(&hw->as.mmu) + 1, PTXN_FORMAT_NAME, tables, o.pages, BASE_VA);

	ptxn_mm_init(&mm);
	ptxn_mm_set_strategy(&mm, o.strategy);
	ptxn_hwemu_attach_mm(hw, &mm); /* mm->flush_tlb_range: shoot down every emulated TLB */

	/* The CPUs: every page alike, half writes, user mode. */
	memset(faults, 0, sizeof(faults));
	for (r = 0; r < o.cpus; r++) {
		struct ptxn_hwemu_agent_config ac;

		memset(&ac, 0, sizeof(ac));
		ac.seed = 1 + r;
		ac.yield_every = 32; /* more threads than cores: let the kernel thread run */
		ac.fault_handler = handle_fault;
		ac.fault_ctx = &faults[r];
		ac.pattern.kind = PTXN_HWEMU_UNIFORM;
		ac.pattern.va = BASE_VA;
		ac.pattern.pages = o.pages;
		ac.pattern.write_percent = 50;
		ac.pattern.user_percent = 100;
		if (!ptxn_hwemu_agent_create(hw, &ac)) {
			fprintf(stderr, "mini-mprotect: cannot create emulated CPU %lu\n", r);
			return 1;
		}
	}
	printf("cpus: %lu emulated CPUs (threads) with %u-entry TLBs, uniform accesses, half of "
	       "them writes\n", o.cpus, PTXN_HWEMU_TLB_ENTRIES);

	rounds = (struct round *)calloc(o.rounds, sizeof(*rounds));
	if (!rounds)
		return 1;
	memset(&total, 0, sizeof(total));
	for (r = 0; r < o.rounds; r++) {
		struct round *rd = &rounds[r];
		struct ptxn_mm_stats before = mm.stats;
		const uint64_t *src = (const uint64_t *)(const void *)&c;
		uint64_t *dst = (uint64_t *)(void *)&total;

		rd->flags = PTXN_PROT_USER | PTXN_PROT_READ | (r % 2 ? PTXN_PROT_WRITE : 0);
		for (j = 0; j < o.cpus; j++)
			if (!ptxn_hwemu_agent_start(hw->agents[j], 0))
				return 1;
		let_cpus_run(hw, o.cpus); /* they are running */
		rd->t_begin = ptxn_hwemu_ticket(hw);
		if (o.unsafe)
			rd->batches = change_protection_unsafe(&mm, hw, lo, hi, rd->flags);
		else
			rd->batches = change_protection(&mm, hw, lo, hi, rd->flags, (unsigned)o.batch);
		rd->t_end = ptxn_hwemu_ticket(hw);
		let_cpus_run(hw, o.pages / 2); /* and meet the new protection */
		ptxn_hwemu_stop_all(hw);

		rd->stats.entries = mm.stats.entries - before.entries;
		rd->stats.quiescent = mm.stats.quiescent - before.quiescent;
		rd->stats.merged = mm.stats.merged - before.merged;
		rd->stats.merge_retries = mm.stats.merge_retries - before.merge_retries;
		rd->stats.broken = mm.stats.broken - before.broken;
		rd->stats.unchanged = mm.stats.unchanged - before.unchanged;
		check_ad(hw, rd, lo, hi);
		updates += rd->updates, raced += rd->raced, lost += rd->lost;
		ptxn_hwemu_counters_sum(hw, &c);
		for (j = 0; j < sizeof(c) / sizeof(uint64_t); j++)
			dst[j] += src[j];
		printf("mprotect #%lu [0x%" PRIx64 ", 0x%" PRIx64 ") %s: %" PRIu64 " entries in %lu "
		       "batches of %lu, lazy MMU mode, strategy %s: %" PRIu64 " plain stores "
		       "(quiescent), %" PRIu64 " compare-and-swap merges (%" PRIu64 " retried), %"
		       PRIu64 " broken and rewritten, %" PRIu64 " unchanged; TLBs flushed; %" PRIu64
		       " A/D updates raced with it, %" PRIu64 " lost\n",
		       r + 1, lo, hi, prot_name(rd->flags), rd->stats.entries, rd->batches, o.batch,
		       ptxn_strategy_name(o.strategy), rd->stats.quiescent, rd->stats.merged,
		       rd->stats.merge_retries, rd->stats.broken, rd->stats.unchanged, rd->raced,
		       rd->lost);
		if (r + 1 < o.rounds)
			reset_ad(hw, o.pages);
	}
	last_flags = rounds[o.rounds - 1].flags;

	/* Check 2: frames and protections. */
	for (i = 0; i < o.pages; i++) {
		uint64_t va = BASE_VA + i * PAGE;
		ptxn_pte_t pte = ptxn_ptep_get(ptxn_hwemu_lookup(hw, va, NULL));
		unsigned want = va >= lo && va < hi ? last_flags
						    : PTXN_PROT_READ | PTXN_PROT_WRITE | PTXN_PROT_USER;

		if (ptxn_pte_pfn(pte) != (first_pa >> 12) + i || ptxn_pte_prot_flags(pte) != want ||
		    !ptxn_pte_hw_valid(pte))
			wrong_entries++;
		young += ptxn_pte_young(pte);
		dirty += ptxn_pte_dirty(pte);
	}

	/* Check 3: after the last flush, every page allows exactly what its entry says. */
	for (i = 0; i < o.pages; i++) {
		uint64_t va = BASE_VA + i * PAGE;
		bool writable = !(va >= lo && va < hi) || (last_flags & PTXN_PROT_WRITE);
		unsigned fw = ptxn_hwemu_access_once(hw->agents[0], va, PTXN_MMU_WRITE, true, NULL);
		unsigned fr = ptxn_hwemu_access_once(hw->agents[0], va, PTXN_MMU_READ, true, NULL);

		if (fr == PTXN_MMU_OK)
			reads_ok++;
		else
			bad_access++;
		if (writable && fw == PTXN_MMU_OK)
			rw_writes_ok++;
		else if (!writable && fw == PTXN_MMU_FAULT_WRITE)
			ro_write_faults++;
		else
			bad_access++;
	}

	printf("cpus: %" PRIu64 " accesses (%" PRIu64 " writes); %" PRIu64 " A/D updates by "
	       "their MMUs, %" PRIu64 " of them raced with a change\n",
	       total.accesses, total.writes, updates, raced);
	for (j = 0; j < o.cpus; j++)
		spurious += faults[j].spurious, sigsegv += faults[j].sigsegv;
	printf("faults seen: %" PRIu64 " write-protection faults (writes to the read-only range: "
	       "SIGSEGV), %" PRIu64 " spurious (an entry a transaction had broken: retried), %"
	       PRIu64 " stale-TLB (a cached read-only translation: re-walked); %" PRIu64
	       " writes went through a stale writable TLB entry before the flush\n",
	       sigsegv, spurious, total.stale_tlb_faults, total.stale_writes);
	printf("check A/D kept: %" PRIu64 " of %" PRIu64 " A/D updates still in their entries "
	       "(%" PRIu64 " lost); at the end %" PRIu64 " pages young, %" PRIu64 " dirty\n",
	       updates - lost, updates, lost, young, dirty);
	printf("check entries: %" PRIu64 " of %lu have their frame and the protection asked "
	       "for\n", (uint64_t)o.pages - wrong_entries, o.pages);
	printf("check after the flush: %" PRIu64 " writes to the %s range faulted, %" PRIu64
	       " writes elsewhere and %" PRIu64 " reads succeeded, %" PRIu64 " unexpected "
	       "outcomes\n", ro_write_faults, prot_name(last_flags), rw_writes_ok, reads_ok,
	       bad_access);

	/* Every fault the handler gave up on was a write to a read-only page. */
	if (sigsegv != total.faults[PTXN_MMU_FAULT_WRITE] || sigsegv != total.failed_accesses) {
		printf("unexpected faults:");
		for (j = 1; j < PTXN_MMU_FAULT_COUNT; j++)
			printf(" %s %" PRIu64, ptxn_mmu_fault_name((unsigned)j), total.faults[j]);
		printf("\n");
	}
	ok = lost == 0 && wrong_entries == 0 && bad_access == 0 &&
	     sigsegv == total.faults[PTXN_MMU_FAULT_WRITE] && sigsegv == total.failed_accesses &&
	     ptxn_mm_check_idle(&mm);
	printf("%s\n", ok ? "OK" : "FAILED");
	free(rounds);
	ptxn_hwemu_destroy(hw);
	return ok ? 0 : 1;
}
