// SPDX-License-Identifier: MIT
/*
 * bench/sweeps.h - the contenders of bench/compare.c: one function per way of changing
 * the protection of a range of entries, each following its peer's published algorithm
 * (docs/bench.md says how), plus one deliberately wrong contender that the bench's own
 * correctness check must catch. Included by compare.c only (a header to keep each file
 * readable; every function is static).
 */
#ifndef BENCH_SWEEPS_H
#define BENCH_SWEEPS_H

#include <ptxn/ptxn.h>

#define BENCH_VA UINT64_C(0x40000000)
#define BENCH_TABLE 512u  /* entries per leaf table */

/* ---- what a sweep works on ------------------------------------------------------------- */

struct sweep {
	ptxn_pte_t **tables;  /* leaf tables covering the range, BENCH_TABLE entries each */
	unsigned n;           /* entries */
	ptxn_prot_t prot;     /* the new protection */
	ptxn_mm_t *mm;
	unsigned batch;       /* folio size of the _ptes contenders */
};

#if defined(__clang__)
#define BENCH_NOINLINE __attribute__((noinline))
#else
#define BENCH_NOINLINE __attribute__((noinline, noclone)) /* one symbol per marker */
#endif

/*
 * One leaf table after another, as Linux's change_pte_range walks them (the address
 * advancing a page per entry); the body (the variadic part) sees ptep, addr.
 */
#define SWEEP_ENTRIES(s, ...)                                                                \
	do {                                                                                 \
		unsigned t_, i_;                                                             \
		uintptr_t addr_ = (uintptr_t)BENCH_VA;                                       \
		for (t_ = 0; t_ * BENCH_TABLE < (s)->n; t_++) {                              \
			ptxn_pte_t *tbl_ = (s)->tables[t_];                                  \
			unsigned m_ = (s)->n - t_ * BENCH_TABLE;                             \
			if (m_ > BENCH_TABLE)                                                \
				m_ = BENCH_TABLE;                                            \
			for (i_ = 0; i_ < m_; i_++, addr_ += 4096) {                         \
				ptxn_pte_t *ptep = tbl_ + i_;                                \
				const uintptr_t addr = addr_;                                \
				__VA_ARGS__;                                                        \
			}                                                                    \
		}                                                                            \
	} while (0)

static BENCH_NOINLINE void sweep_linux_clear(const struct sweep *s)
{
	const ptxn_prot_t prot = s->prot;

	SWEEP_ENTRIES(s, {
		/* ptep_modify_prot_start: ptep_get_and_clear, an exchange with 0 */
		ptxn_pte_t old;
		ptxn_pte_t pte;

		(void)addr;
		old.storage = ptxn_arch_slot_xchg(&ptep->storage, 0);
		pte = ptxn_pte_modify(old, prot);
		/* ptep_modify_prot_commit: set_pte_at on an empty entry */
		ptxn_arch_slot_install(&ptep->storage, pte.storage,
				       ptxn_arch_pte_to_storage(PTXN_ARCH_PTE_HW_VALID));
	});
}

static BENCH_NOINLINE void sweep_freebsd_cas(const struct sweep *s)
{
	const ptxn_prot_t prot = s->prot;

	SWEEP_ENTRIES(s, {
		/* pmap_protect: obits = *pte (a plain read: the cmpset validates it) */
		uint64_t obits = *(volatile const uint64_t *)&ptep->storage;

		(void)addr;
		for (;;) {
			ptxn_pte_t old, pte;

			old.storage = obits;
			pte = ptxn_pte_modify(old, prot);
			if (pte.storage == obits)
				break; /* unchanged: no write */
			if (ptxn_arch_slot_cmpxchg(&ptep->storage, &obits, pte.storage))
				break;
			/* the MMU changed it: retry from what the failed cmpset found */
		}
	});
}

static BENCH_NOINLINE void sweep_ptxn_single(const struct sweep *s)
{
	ptxn_mm_t *mm = s->mm;
	const ptxn_prot_t prot = s->prot;

	SWEEP_ENTRIES(s, {
		ptxn_pte_t old = ptxn_modify_prot_start(mm, addr, ptep);

		ptxn_modify_prot_commit(mm, addr, ptep, old, ptxn_pte_modify(old, prot));
	});
}

static BENCH_NOINLINE void sweep_ptxn_ptes(const struct sweep *s)
{
	ptxn_mm_t *mm = s->mm;
	const ptxn_prot_t prot = s->prot;
	const unsigned nr = s->batch;
	unsigned t, i;

	for (t = 0; t * BENCH_TABLE < s->n; t++) {
		ptxn_pte_t *tbl = s->tables[t];
		unsigned m = s->n - t * BENCH_TABLE;

		if (m > BENCH_TABLE)
			m = BENCH_TABLE;
		for (i = 0; i < m; i += nr) {
			uintptr_t addr = (uintptr_t)(BENCH_VA + (uint64_t)(t * BENCH_TABLE + i) * 4096);
			unsigned k = m - i < nr ? m - i : nr;
			ptxn_pte_t old = ptxn_modify_prot_start_ptes(mm, addr, tbl + i, k);

			ptxn_modify_prot_commit_ptes(mm, addr, tbl + i, old, ptxn_pte_modify(old, prot), k);
		}
	}
}

/*
 * Linux's generic batched pair (include/linux/pgtable.h, 6.17: modify_prot_start_ptes,
 * modify_prot_commit_ptes): start takes every entry with ptep_get_and_clear (an exchange
 * with 0 each) and folds young and dirty into the first; commit installs the folio with
 * set_pte_at per entry, the frame advancing. What ptxn-*-ptes replace.
 */
static BENCH_NOINLINE void sweep_linux_ptes(const struct sweep *s)
{
	const ptxn_prot_t prot = s->prot;
	const unsigned nr = s->batch;
	const uint64_t valid = ptxn_arch_pte_to_storage(PTXN_ARCH_PTE_HW_VALID);
	unsigned t, i, j;

	for (t = 0; t * BENCH_TABLE < s->n; t++) {
		ptxn_pte_t *tbl = s->tables[t];
		unsigned m = s->n - t * BENCH_TABLE;

		if (m > BENCH_TABLE)
			m = BENCH_TABLE;
		for (i = 0; i < m; i += nr) {
			unsigned k = m - i < nr ? m - i : nr;
			ptxn_pte_t first, pte;
			bool young = false, dirty = false;

			for (j = 0; j < k; j++) {
				ptxn_pte_t one;

				one.storage = ptxn_arch_slot_xchg(&tbl[i + j].storage, 0);
				if (j == 0)
					first = one;
				young |= ptxn_pte_young(one);
				dirty |= ptxn_pte_dirty(one);
			}
			if (young)
				first = ptxn_pte_mkyoung(first);
			if (dirty)
				first = ptxn_pte_mkdirty(first);
			pte = ptxn_pte_modify(first, prot);
			for (j = 0; j < k; j++)
				ptxn_arch_slot_install(&tbl[i + j].storage,
						       ptxn_pte_advance_pfn(pte, j).storage, valid);
		}
	}
}

/*
 * One atomic read-modify-write without a compare: where the change only clears bits (a
 * clean entry made read-only) an atomic and-not, where it only sets them an atomic or,
 * else FreeBSD's compare-and-swap. What an and-not path in ptxn could gain at best: on x86
 * `lock and`/`lock or` cost what `lock cmpxchg` does (docs/bench.md: why ptxn has none).
 * Not safe as a transaction on every mm: a D the MMU sets between the load and the
 * and-not is kept beside W=0, which under CET is a shadow-stack entry (arch/x86/pte.h).
 */
static BENCH_NOINLINE void sweep_lock_and(const struct sweep *s)
{
	const ptxn_prot_t prot = s->prot;

	SWEEP_ENTRIES(s, {
		uint64_t seen = ptxn_arch_slot_load(&ptep->storage);
		ptxn_pte_t old, pte;
		uint64_t clear, set;

		(void)addr;
		old.storage = seen;
		pte = ptxn_pte_modify(old, prot);
		clear = seen & ~pte.storage;
		set = pte.storage & ~seen;
		if (set == 0 && clear != 0)
			(void)__atomic_fetch_and(&ptep->storage, ~clear, __ATOMIC_SEQ_CST);
		else if (clear == 0 && set != 0)
			(void)__atomic_fetch_or(&ptep->storage, set, __ATOMIC_SEQ_CST);
		else if (set != 0)
			while (!ptxn_arch_slot_cmpxchg(&ptep->storage, &seen, pte.storage)) {
				old.storage = seen;
				pte = ptxn_pte_modify(old, prot);
			}
	});
}

/*
 * AUTO's per-entry decision with nothing around it: no mm path, no start/commit pair;
 * load, pte_modify, the absorbs test, then a plain store or one compare-and-swap (retried
 * with the A/D found, as commit does). Not an API anyone calls: the floor under any
 * single-entry AUTO, so that a miss of ptxn-auto can be split into what the API costs
 * (ptxn-auto over this row) and what the decision itself costs (this row over
 * linux-clear: a data-dependent branch per entry, docs/bench.md).
 */
static BENCH_NOINLINE void sweep_bare_auto(const struct sweep *s)
{
	const ptxn_prot_t prot = s->prot;
	ptxn_mm_t *mm = s->mm; /* only for the statistics hooks */

	SWEEP_ENTRIES(s, {
		/* commit's own two steps (core/transaction.h), without the path around them */
		ptxn_pte_t old = ptxn_ptep_get(ptep);
		ptxn_pte_t pte = ptxn_pte_modify(old, prot);

		(void)addr;
		if (!ptxn_txn_store_if_absorbed(mm, 0u, ptep, old, pte))
			ptxn_txn_commit_watched(mm, ptep, ptxn_pte_val(old), ptxn_pte_val(pte));
	});
}

static BENCH_NOINLINE void sweep_unsafe_rmw(const struct sweep *s)
{
	const ptxn_prot_t prot = s->prot;

	SWEEP_ENTRIES(s, {
		volatile uint64_t *slot = (volatile uint64_t *)&ptep->storage;
		ptxn_pte_t old;

		(void)addr;
		old.storage = *slot; /* plain load (two halves on i686) */
		*slot = ptxn_pte_modify(old, prot).storage; /* plain store */
	});
}

/* GCC/Clang vector extension: 32 bytes per operation on every target. */
typedef uint64_t bench_v4 __attribute__((vector_size(32)));

static BENCH_NOINLINE void sweep_memory_bound(const struct sweep *s)
{
	/* the bits a protection change flips, in storage order; a stream of XORs */
	const uint64_t flip = ptxn_arch_pte_to_storage(
		ptxn_pte_val(ptxn_pte_modify(ptxn_make_pte(0), ptxn_prot(PTXN_PROT_READ | PTXN_PROT_WRITE | PTXN_PROT_USER))) ^
		ptxn_pte_val(ptxn_pte_modify(ptxn_make_pte(0), ptxn_prot(PTXN_PROT_READ | PTXN_PROT_USER))));
	const bench_v4 x = {flip, flip, flip, flip};
	unsigned t, i;

	for (t = 0; t * BENCH_TABLE < s->n; t++) {
		bench_v4 *v = (bench_v4 *)(void *)s->tables[t];
		unsigned m = s->n - t * BENCH_TABLE;

		if (m > BENCH_TABLE)
			m = BENCH_TABLE;
		for (i = 0; i < m / 4; i++)
			v[i] ^= x;
		for (i = m / 4 * 4; i < m; i++) /* a partial table (never with 512-multiples) */
			s->tables[t][i].storage ^= flip;
	}
}

/*
 * Deliberately wrong: unsafe-rmw that skips one entry in 64. Never run unless named
 * (--contenders broken-skip); it exists so that the test of tools/ptxn_tools/bench.py can
 * prove the correctness check after each sweep (compare.c, check_tables) makes the run
 * fail.
 */
static BENCH_NOINLINE void sweep_broken_skip(const struct sweep *s)
{
	const ptxn_prot_t prot = s->prot;
	unsigned k = 0;

	SWEEP_ENTRIES(s, {
		volatile uint64_t *slot = (volatile uint64_t *)&ptep->storage;
		ptxn_pte_t old;

		(void)addr;
		if (k++ % 64 == 63)
			continue; /* the bug: this entry keeps its old protection */
		old.storage = *slot;
		*slot = ptxn_pte_modify(old, prot).storage;
	});
}

/* ---- contenders ------------------------------------------------------------------------ */

/* mms[] indices of the AUTO mms with PTXN_MM_X86_CET and with PTXN_MM_WRPROTECT_FLUSHED;
 * the others are indexed by strategy. */
#define BENCH_MM_AUTO_CET PTXN_STRATEGY_COUNT
#define BENCH_MM_AUTO_FLUSHED (PTXN_STRATEGY_COUNT + 1)

enum contender_kind {
	K_LINUX, K_LINUX_PTES, K_LOCK_AND, K_FREEBSD, K_PTXN, K_PTXN_PTES, K_BARE_AUTO, K_UNSAFE,
	K_MEMORY, K_BROKEN
};

struct contender {
	const char *name;
	enum contender_kind kind;
	int mm;               /* ptxn rows: mms[] index (the strategy, or BENCH_MM_AUTO_CET); else -1 */
	bool exact_ad;        /* keeps each entry's own A/D (the batched rows fold them per folio) */
	bool hidden;          /* run only when named by --contenders */
};

static const struct contender contenders[] = {
	{"linux-clear", K_LINUX, -1, true, false},
	{"linux-ptes", K_LINUX_PTES, -1, false, false},
	{"freebsd-cas", K_FREEBSD, -1, true, false},
	{"lock-and", K_LOCK_AND, -1, true, false},
	{"ptxn-clear", K_PTXN, PTXN_STRATEGY_CLEAR, true, false},
	{"ptxn-merge", K_PTXN, PTXN_STRATEGY_MERGE, true, false},
	{"ptxn-auto", K_PTXN, PTXN_STRATEGY_AUTO, true, false},
	/* AUTO in an mm flagged PTXN_MM_X86_CET (bench flushes each direction before the next
	 * one starts, so the promise holds on any x86); the same as ptxn-auto off x86. */
	{"ptxn-auto-cet", K_PTXN, BENCH_MM_AUTO_CET, true, false},
	/* AUTO in an mm flagged PTXN_MM_WRPROTECT_FLUSHED (the bench keeps that promise the
	 * same way): x86 and PowerPC; the same as ptxn-auto on ARM64. */
	{"ptxn-auto-flushed", K_PTXN, BENCH_MM_AUTO_FLUSHED, true, false},
	{"ptxn-clear-ptes", K_PTXN_PTES, PTXN_STRATEGY_CLEAR, false, false},
	{"ptxn-merge-ptes", K_PTXN_PTES, PTXN_STRATEGY_MERGE, false, false},
	{"ptxn-auto-ptes", K_PTXN_PTES, PTXN_STRATEGY_AUTO, false, false},
	{"bare-auto", K_BARE_AUTO, PTXN_STRATEGY_AUTO, true, false},
	{"unsafe-rmw", K_UNSAFE, -1, true, false},
	{"memory-bound", K_MEMORY, -1, true, false},
	{"broken-skip", K_BROKEN, -1, true, true},
};
#define NCONTENDERS (sizeof(contenders) / sizeof(contenders[0]))

static void run_sweep(const struct contender *c, struct sweep *s)
{
	switch (c->kind) {
	case K_LINUX:
		sweep_linux_clear(s);
		break;
	case K_LINUX_PTES:
		sweep_linux_ptes(s);
		break;
	case K_LOCK_AND:
		sweep_lock_and(s);
		break;
	case K_FREEBSD:
		sweep_freebsd_cas(s);
		break;
	case K_PTXN:
		sweep_ptxn_single(s);
		break;
	case K_PTXN_PTES:
		sweep_ptxn_ptes(s);
		break;
	case K_BARE_AUTO:
		sweep_bare_auto(s);
		break;
	case K_UNSAFE:
		sweep_unsafe_rmw(s);
		break;
	case K_MEMORY:
		sweep_memory_bound(s);
		break;
	case K_BROKEN:
		sweep_broken_skip(s);
		break;
	}
}

#endif /* BENCH_SWEEPS_H */
