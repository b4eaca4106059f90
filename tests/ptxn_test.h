/* SPDX-License-Identifier: MIT */
/*
 * tests/ptxn_test.h - the one test harness header, included by every test program: loop
 * sizes (PTXN_TEST_SCALE), seeds and a PRNG (PTXN_TEST_SEED, splitmix64), 64-bit
 * assertions that print hex, the Check runner, and the interface between the two halves
 * of the differential test (tests/test_differential*.c). Topic helpers build on it
 * (test_hwemu_util.h for the hwemu and pvemu tests).
 *
 * Include it after <ptxn/ptxn.h> (or without it: nothing here needs the library).
 */
#ifndef PTXN_TESTS_PTXN_TEST_H
#define PTXN_TESTS_PTXN_TEST_H

#include <check.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- loop sizes ------------------------------------------------------------------------- */
/* PTXN_TEST_SCALE: a positive float, default 1.0 when unset or invalid (tests/meson.build). */
static inline double ptxn_test_scale(void)
{
	const char *s = getenv("PTXN_TEST_SCALE");
	double scale = 1.0;

	if (s != NULL && *s != '\0') {
		char *end;

		errno = 0;
		scale = strtod(s, &end);
		if (errno != 0 || *end != '\0' || !(scale > 0.0))
			scale = 1.0;
	}
	return scale;
}

/* base * PTXN_TEST_SCALE, at least 1. */
static inline long ptxn_test_scaled(long base)
{
	double n = (double)base * ptxn_test_scale();

	return n < 1.0 ? 1 : (long)n;
}

/* Running under qemu-user (the cross file gave qemu a -cpu)? */
static inline bool ptxn_test_under_qemu(void)
{
	const char *cpu = getenv("PTXN_TEST_QEMU_CPU");

	return cpu != NULL && *cpu != '\0';
}

/* ---- seeded pseudo-random numbers (splitmix64: every seed gives a full-period stream) ----- */
static inline uint64_t ptxn_test_rand(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* The seed: PTXN_TEST_SEED if set (to replay a failure), else a fixed one. Printed once. */
static inline uint64_t ptxn_test_seed(void)
{
	const char *s = getenv("PTXN_TEST_SEED");

	if (s != NULL && *s != '\0')
		return strtoull(s, NULL, 0);
	return UINT64_C(0x5eed0f9a9e1b0003);
}

/* ---- assertions ------------------------------------------------------------------------- */
/*
 * Check's ck_assert_msg() reports every *passing* assertion's file and line to the runner
 * (_mark_point(): a write(2) to a pipe in fork mode), so that a crash can name the last
 * assertion passed. Our tests assert inside their loops: format_x86 made about 10^6 such
 * system calls per run, each one emulated by qemu-user on the cross targets, which made
 * them the slowest tests of every qemu row (and the hwemu race loops paid one per
 * transaction, a context switch that also changed how the threads interleaved). Every
 * ck_assert_* macro goes through ck_assert_msg, so this one definition makes them report
 * failures only. What is lost: a test that crashes is reported at its START_TEST line,
 * not at its last passing assertion (use mark_point() where that helps).
 */
#undef ck_assert_msg
#define ck_assert_msg(expr, ...)                                                              \
	((expr) ? (void)0                                                                     \
		: _ck_assert_failed(__FILE__, __LINE__, "Assertion '" #expr "' failed", __VA_ARGS__))

#define PT_U64(x) ((uint64_t)(x))

/* a == b as 64-bit values; the message shows both in hex and what was compared. */
#define pt_assert_x64_eq(a, b)                                                                \
	do {                                                                                  \
		uint64_t pt_a_ = (uint64_t)(a), pt_b_ = (uint64_t)(b);                        \
		ck_assert_msg(pt_a_ == pt_b_, "%s = 0x%016" PRIx64 ", expected %s = 0x%016" PRIx64, #a,  \
			      PT_U64(pt_a_), #b, PT_U64(pt_b_));                              \
	} while (0)

/* The same with a context string (which table row, which input). */
#define pt_assert_x64_eq_ctx(ctx, a, b)                                                       \
	do {                                                                                  \
		uint64_t pt_a_ = (uint64_t)(a), pt_b_ = (uint64_t)(b);                        \
		ck_assert_msg(pt_a_ == pt_b_, "%s: %s = 0x%016" PRIx64 ", expected 0x%016" PRIx64, (ctx), \
			      #a, PT_U64(pt_a_), PT_U64(pt_b_));                              \
	} while (0)

/*
 * A run's seed from a program's fixed one: `fixed` when PTXN_TEST_SEED is unset (a plain
 * run is the same every time), else `fixed` mixed with it by one splitmix64 step, so that
 * every program of a round still gets its own stream. ./matrix soak
 * (tools/ptxn_tools/soak.py) sets a fresh PTXN_TEST_SEED for every round and prints it:
 * the same value replays the round.
 */
static inline uint64_t ptxn_test_seed_mixed(uint64_t fixed)
{
	const char *s = getenv("PTXN_TEST_SEED");
	uint64_t state;

	if (s == NULL || *s == '\0')
		return fixed;
	state = strtoull(s, NULL, 0) + fixed * UINT64_C(0x9e3779b97f4a7c15) -
		UINT64_C(0x9e3779b97f4a7c15); /* ptxn_test_rand adds it back */
	return ptxn_test_rand(&state);
}

/* ---- two threads that really overlap (the slot contention tests) ------------------------ */
/*
 * Each thread does at least min_iters operations and keeps going until the other has done
 * as many: neither can finish before the other has run, so the two really overlap (and
 * every interleaving is seen by at least one of them). Then both go on until they have
 * seen want_interleaved interleavings between them, or the deadline passes: a scheduler
 * that runs the threads one after the other would hide lost updates.
 */
struct ptxn_test_pair {
	pthread_barrier_t start;   /* both threads wait here before their first operation */
	long min_iters;
	long want_interleaved;
	struct timespec deadline;
	long done[2];              /* iterations each thread has done, read by the other */
	long interleaved_pub[2];   /* interleavings each has seen, published for the other */
};

/* Thread `id` (0 or 1) is about to do its operation number i, having seen `interleaved`
 * interleavings so far: go on? */
static inline bool ptxn_test_pair_keep_going(struct ptxn_test_pair *p, int id, long i,
					     long interleaved)
{
	struct timespec now;

	__atomic_store_n(&p->done[id], i, __ATOMIC_RELAXED);
	__atomic_store_n(&p->interleaved_pub[id], interleaved, __ATOMIC_RELAXED);
	if (i < p->min_iters || __atomic_load_n(&p->done[!id], __ATOMIC_RELAXED) < p->min_iters)
		return true;
	if (interleaved + __atomic_load_n(&p->interleaved_pub[!id], __ATOMIC_RELAXED) >=
	    p->want_interleaved)
		return false;
	if (i % 1024 != 0)
		return true;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec < p->deadline.tv_sec ||
	       (now.tv_sec == p->deadline.tv_sec && now.tv_nsec < p->deadline.tv_nsec);
}

/* Runs fn(arg[0]) and fn(arg[1]) on two threads (each starts with
 * pthread_barrier_wait(&p->start)) for at least min_iters operations each, then checks
 * that both did. `seconds`: the deadline, below Check's timeout. */
static inline void ptxn_test_pair_run(struct ptxn_test_pair *p, void *(*fn)(void *),
				      void *const arg[2], long min_iters, long want_interleaved,
				      int seconds)
{
	pthread_t tid[2];
	int i;

	memset(p, 0, sizeof(*p));
	p->min_iters = min_iters;
	p->want_interleaved = want_interleaved;
	clock_gettime(CLOCK_MONOTONIC, &p->deadline);
	p->deadline.tv_sec += seconds;
	ck_assert_int_eq(pthread_barrier_init(&p->start, NULL, 2), 0);
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_create(&tid[i], NULL, fn, arg[i]), 0);
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(pthread_join(tid[i], NULL), 0);
	pthread_barrier_destroy(&p->start);
	ck_assert_int_ge(p->done[0], min_iters);
	ck_assert_int_ge(p->done[1], min_iters);
}

/* ---- the runner --------------------------------------------------------------------------- */
/* Runs the suites (one runner: one TAP stream) with the environment's settings (CK_FORK,
 * CK_RUN_CASE, ...); returns the exit status main() must return. Every test uses this. */
static inline int ptxn_test_run_all(Suite *const *suites, unsigned int n)
{
	SRunner *sr = srunner_create(suites[0]);
	unsigned int i;
	int failed;

	for (i = 1; i < n; i++)
		srunner_add_suite(sr, suites[i]);
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

static inline int ptxn_test_run(Suite *s)
{
	return ptxn_test_run_all(&s, 1);
}

/* ---- the differential test's two sides (tests/test_differential_side.c) ------------------ */
/*
 * Every operation one side can run, identified by number so that one dispatcher per side
 * (diff_value_<side>, diff_slot_<side>) covers all of them. Arguments a, b, c are raw
 * values: entries in CPU bit order for value operations, storage order for slots.
 */
enum diff_value_op {
	DV_NONE, DV_PRESENT, DV_HW_VALID, DV_YOUNG, DV_DIRTY, DV_HW_DIRTY, DV_WRITE, DV_EXEC,
	DV_PROT_FLAGS, DV_QUIESCENT,
	DV_QUIESCENT_FINAL, /* quiescent under the mm promise PTXN_ARCH_MM_READONLY_FINAL */
	DV_FOLD_HW,         /* (next a, now b) */
	DV_ABSORBS,         /* (entry a, next b) */
	DV_ABSORBS_FINAL,   /* the same under PTXN_ARCH_MM_READONLY_FINAL */
	DV_PFN_INVERTED,
	DV_MKOLD, DV_MKYOUNG, DV_MKCLEAN, DV_MKDIRTY, DV_WRPROTECT, DV_MKWRITE,
	DV_MODIFY,        /* (entry a, native prot bits b) */
	DV_MODIFY_FLAGS,  /* (entry a, ptxn_prot(b & 15)) */
	DV_PFN,
	DV_PFN_PTE,       /* (pfn a masked to PTXN_PFN_MAX, native prot bits b) */
	DV_PFN_PTE_FLAGS, /* (pfn a masked, ptxn_prot(b & 15)) */
	DV_ADVANCE_PFN,   /* (entry a, nr b & 0xffff) */
	DV_MERGE_HW,      /* (next a, start b, now c) */
	DV_STRIP_HW,
	DV_TO_STORAGE, DV_FROM_STORAGE,
	DV_PROT_BITS,     /* (flags a & 15) */
	DV_NORMALIZE,     /* (flags a & 15) */
	DV_COUNT
};

enum diff_slot_op {
	DS_LOAD,           /* ptxn_arch_slot_load */
	DS_PTEP_GET,       /* ptxn_ptep_get */
	DS_STORE,          /* ptxn_arch_slot_store(a) */
	DS_SET_PTE,        /* ptxn_set_pte(a) */
	DS_XCHG,           /* ptxn_arch_slot_xchg(a) */
	DS_CMPXCHG,        /* ptxn_arch_slot_cmpxchg(expected a, desired b): ret ok, aux expected */
	DS_UPDATE,         /* ptxn_arch_slot_update(clear a, set b), both run-time values */
	DS_UPDATE_SET,     /* ptxn_arch_slot_update(0, set a): constant clear (LSE LDSET path) */
	DS_UPDATE_CLEAR,   /* ptxn_arch_slot_update(clear a, 0): constant set (LSE LDCLR path) */
	DS_INSTALL,        /* ptxn_arch_slot_install(a, the format's valid mask) */
	DS_CLEAR,          /* ptxn_arch_slot_clear(the format's valid mask) */
	DS_REPLACE,        /* ptxn_arch_slot_replace(old = initial, a) */
	DS_PTE_CLEAR,      /* ptxn_pte_clear */
	DS_GET_AND_CLEAR,  /* ptxn_ptep_get_and_clear */
	DS_TEST_AND_CLEAR_YOUNG,
	DS_MARK_ACCESSED,  /* ptxn_ptep_mark_accessed(write = a & 1) */
	DS_TXN,            /* start/commit, strategy a % 3, new protection ptxn_prot(b & 15) */
	DS_COUNT
};

struct diff_slot_result {
	uint64_t ret;   /* the primitive's return value (bool as 0/1, none as 0) */
	uint64_t aux;   /* cmpxchg: *expected afterwards; txn: the entry start returned */
	uint64_t slot;  /* the slot's storage afterwards */
};

struct diff_side {
	const char *name;       /* "native" or "generic" */
	const char *backend;    /* PTXN_BACKEND_DESCRIPTION of that translation unit */
	const char *atomics;    /* PTXN_ATOMICS_BACKEND */
	const char *format;     /* PTXN_FORMAT_NAME */
	int forced_generic;     /* built with PTXN_FORCE_GENERIC */
	int arch_overrides;     /* how many PTXN_HAVE_ARCH_* the side saw (see the side file) */
	uint64_t (*value)(unsigned op, uint64_t a, uint64_t b, uint64_t c);
	void (*slot)(unsigned op, uint64_t init, uint64_t a, uint64_t b,
		     struct diff_slot_result *r);
};

extern const struct diff_side diff_side_native;
extern const struct diff_side diff_side_generic;

#endif /* PTXN_TESTS_PTXN_TEST_H */
