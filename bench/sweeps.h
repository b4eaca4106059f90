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
 * (--contenders broken-skip); it exists so that the test of tools/bench.py can prove the
 * correctness check after each sweep (compare.c, check_tables) makes the run fail.
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

/* mms[] index of the AUTO mm with PTXN_MM_X86_CET; the others are indexed by strategy. */
#define BENCH_MM_AUTO_CET PTXN_STRATEGY_COUNT

enum contender_kind { K_LINUX, K_FREEBSD, K_PTXN, K_PTXN_PTES, K_UNSAFE, K_MEMORY, K_BROKEN };

struct contender {
	const char *name;
	enum contender_kind kind;
	int mm;               /* ptxn rows: mms[] index (the strategy, or BENCH_MM_AUTO_CET); else -1 */
	bool exact_ad;        /* keeps each entry's own A/D (the batched rows fold them per folio) */
	bool hidden;          /* run only when named by --contenders */
};

static const struct contender contenders[] = {
	{"linux-clear", K_LINUX, -1, true, false},
	{"freebsd-cas", K_FREEBSD, -1, true, false},
	{"ptxn-clear", K_PTXN, PTXN_STRATEGY_CLEAR, true, false},
	{"ptxn-merge", K_PTXN, PTXN_STRATEGY_MERGE, true, false},
	{"ptxn-auto", K_PTXN, PTXN_STRATEGY_AUTO, true, false},
	/* AUTO in an mm flagged PTXN_MM_X86_CET (bench flushes each direction before the next
	 * one starts, so the promise holds on any x86); the same as ptxn-auto off x86. */
	{"ptxn-auto-cet", K_PTXN, BENCH_MM_AUTO_CET, true, false},
	{"ptxn-clear-ptes", K_PTXN_PTES, PTXN_STRATEGY_CLEAR, false, false},
	{"ptxn-merge-ptes", K_PTXN_PTES, PTXN_STRATEGY_MERGE, false, false},
	{"ptxn-auto-ptes", K_PTXN_PTES, PTXN_STRATEGY_AUTO, false, false},
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
	case K_FREEBSD:
		sweep_freebsd_cas(s);
		break;
	case K_PTXN:
		sweep_ptxn_single(s);
		break;
	case K_PTXN_PTES:
		sweep_ptxn_ptes(s);
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
