/* SPDX-License-Identifier: MIT */
/*
 * Slot atomics under contention: two threads hammer one 8-byte entry slot with
 * ptxn_arch_slot_update (the constant-mask forms, which LSE turns into LDSET/LDCLR, and the
 * run-time-mask form), ptxn_arch_slot_cmpxchg and ptxn_arch_slot_xchg, and nothing may be
 * lost: every bit a thread owns reads back as it left it, a counter spread over both
 * 32-bit halves counts every increment, and every value written by an exchange is read
 * back exactly once.
 *
 * Built twice per target (tests/meson.build: slot_contention with the native atomics,
 * slot_contention_generic with -DPTXN_FORCE_GENERIC), so on every target the hand-written
 * asm (x86-64 lock cmpxchg/xchg, i686 cmpxchg8b, arm64 LL/SC on cortex-a53 and LSE on
 * neoverse-n1, powerpc ldarx/stdcx.) is proven under real concurrency, under qemu too,
 * and so is the generic __atomic path. Loop sizes scale with PTXN_TEST_SCALE.
 */
#define _GNU_SOURCE
#include <ptxn/ptxn.h>

#include <pthread.h>
#include <time.h>

#include "ptxn_test.h"

static ptxn_pte_t slot; /* 8-byte aligned by its type */

/*
 * Layout for the update/cmpxchg case: in each 32-bit half, bits 0..19 belong to the threads
 * (thread 0 the even ones, thread 1 the odd ones) and bits 20..31 hold 12 bits of a 24-bit
 * counter (low half: counter bits 0..11, high half: 12..23).
 */
#define OWN0 UINT64_C(0x0005555500055555)
#define OWN1 UINT64_C(0x000aaaaa000aaaaa)
#define CNT_STEP 4097u /* changes both halves of the counter on every increment */

static uint32_t counter_of(uint64_t v)
{
	return (uint32_t)((v >> 20) & 0xfff) | (uint32_t)((v >> 52) & 0xfff) << 12;
}

static uint64_t with_counter(uint64_t v, uint32_t c)
{
	v &= ~(UINT64_C(0xfff) << 20 | UINT64_C(0xfff) << 52);
	return v | (uint64_t)(c & 0xfff) << 20 | (uint64_t)((c >> 12) & 0xfff) << 52;
}

/* An odd constant with carries through both halves, for the add case. */
#define ADD_K UINT64_C(0x9e3779b97f4a7c15)

struct run;

struct worker {
	struct run *run;
	int id;
	long interleaved;     /* times the slot had changed since our own last write */
	long bad;             /* our bits seen not as we left them: a lost update */
	long spurious;        /* a strong cmpxchg failed although the value matched */
	long increments;
	uint64_t mine;        /* update case: our bits as we believe we left them */
	uint64_t sum_in, xor_in, sum_out, xor_out; /* xchg case */
};

struct run {
	struct ptxn_test_pair pair; /* tests/ptxn_test.h: the two threads really overlap */
	struct worker w[2];
};

static bool keep_going(struct worker *w, long i)
{
	return ptxn_test_pair_keep_going(&w->run->pair, w->id, i, w->interleaved);
}

/* ---- case 1: update (three forms) + cmpxchg counter ---------------------------------------- */
static void *update_worker(void *arg)
{
	struct worker *w = arg;
	const uint64_t own = w->id ? OWN1 : OWN0;
	uint64_t rng = ptxn_test_seed() + (uint64_t)w->id;
	uint64_t last = 0;
	long i = 0;

	pthread_barrier_wait(&w->run->pair.start);
	while (keep_going(w, i++)) {
		unsigned k = (unsigned)(ptxn_test_rand(&rng) % 20) * 2 + (unsigned)w->id;
		uint64_t bit = UINT64_C(1) << (k < 20 ? k : k + 12); /* bits 0..19, 32..51 */
		uint64_t old, expected, seen;

		if (i % 3 == 0) {
			/* run-time masks: clear one of ours that is set, set one that is clear */
			volatile uint64_t clear = w->mine & bit, set = ~w->mine & bit;

			old = ptxn_arch_slot_update(&slot.storage, clear, set);
		} else if (w->mine & bit) {
			old = ptxn_arch_slot_update(&slot.storage, bit, 0); /* LDCLR on LSE */
		} else {
			old = ptxn_arch_slot_update(&slot.storage, 0, bit); /* LDSET on LSE */
		}
		if ((old & own) != w->mine)
			w->bad++;
		if (old != last)
			w->interleaved++;
		w->mine ^= bit;

		/* counter: strong compare-and-swap loop */
		expected = ptxn_arch_slot_load(&slot.storage);
		for (;;) {
			uint64_t desired = with_counter(expected, counter_of(expected) + CNT_STEP);

			seen = expected;
			if (ptxn_arch_slot_cmpxchg(&slot.storage, &expected, desired)) {
				last = desired;
				break;
			}
			if (expected == seen)
				w->spurious++; /* failed, yet the slot held what we expected */
			if ((expected & own) != w->mine)
				w->bad++;
		}
		w->increments++;
	}
	return NULL;
}

/* ---- case 2: xchg conservation ------------------------------------------------------------ */
static uint64_t token(int id, long i)
{
	uint64_t s = (uint64_t)i * 2 + (uint64_t)id + 1;

	return ptxn_test_rand(&s) | UINT64_C(1); /* spread over both halves, never 0 */
}

static uint64_t h(uint64_t v)
{
	return ptxn_test_rand(&v);
}

static void *xchg_worker(void *arg)
{
	struct worker *w = arg;
	uint64_t last = 0;
	long i = 0;

	pthread_barrier_wait(&w->run->pair.start);
	while (keep_going(w, i)) {
		uint64_t t = token(w->id, i++);
		uint64_t old = ptxn_arch_slot_xchg(&slot.storage, t);

		w->sum_in += h(t);
		w->xor_in ^= h(t ^ UINT64_C(0x5555));
		w->sum_out += h(old);
		w->xor_out ^= h(old ^ UINT64_C(0x5555));
		if (old != last)
			w->interleaved++;
		last = t;
	}
	return NULL;
}

/* ---- case 3: cmpxchg add ---------------------------------------------------------------- */
static void *add_worker(void *arg)
{
	struct worker *w = arg;
	uint64_t last = 0;
	long i = 0;

	pthread_barrier_wait(&w->run->pair.start);
	while (keep_going(w, i++)) {
		uint64_t expected = ptxn_arch_slot_load(&slot.storage), seen;

		if (expected != last)
			w->interleaved++;
		for (;;) {
			seen = expected;
			if (ptxn_arch_slot_cmpxchg(&slot.storage, &expected, seen + ADD_K))
				break;
			if (expected == seen)
				w->spurious++;
		}
		last = seen + ADD_K;
		w->increments++;
	}
	return NULL;
}

static void run_workers(struct run *r, void *(*fn)(void *), const char *what, uint64_t init)
{
	void *const args[2] = {&r->w[0], &r->w[1]};
	long min_iters = ptxn_test_scaled(200000);
	int i;

	memset(r, 0, sizeof(*r));
	ptxn_arch_slot_store(&slot.storage, init);
	for (i = 0; i < 2; i++) {
		r->w[i].id = i;
		r->w[i].run = r;
	}
	/* the deadline stays below Check's timeouts */
	ptxn_test_pair_run(&r->pair, fn, args, min_iters, min_iters / 20,
			   ptxn_test_under_qemu() ? 20 : 3);
	printf("# %s (%s): %ld + %ld operations, %ld + %ld interleavings\n", what,
	       PTXN_ATOMICS_BACKEND, r->pair.done[0], r->pair.done[1], r->w[0].interleaved,
	       r->w[1].interleaved);
	fflush(stdout);
	/* the test proves nothing if the threads never raced */
	ck_assert_msg(r->w[0].interleaved + r->w[1].interleaved > 0,
		      "the two threads never interleaved");
}

START_TEST(test_backend)
{
	printf("# %s\n", PTXN_BACKEND_DESCRIPTION);
#ifdef PTXN_FORCE_GENERIC
	ck_assert_str_eq(PTXN_ATOMICS_BACKEND, "generic __atomic");
#elif defined(__aarch64__) && defined(__ARM_FEATURE_ATOMICS)
	ck_assert(strstr(PTXN_ATOMICS_BACKEND, "LSE") != NULL);
#elif defined(__aarch64__)
	ck_assert(strstr(PTXN_ATOMICS_BACKEND, "LL/SC") != NULL);
#elif defined(__x86_64__) || defined(__i386__) || defined(__powerpc64__)
	ck_assert(strcmp(PTXN_ATOMICS_BACKEND, "generic __atomic") != 0);
#endif
}
END_TEST

START_TEST(test_update_and_cmpxchg)
{
	static struct run r;
	uint64_t end;
	uint32_t want;

	run_workers(&r, update_worker, "update+cmpxchg", 0);
	end = ptxn_arch_slot_load(&slot.storage);
	want = (uint32_t)((uint64_t)(r.w[0].increments + r.w[1].increments) * CNT_STEP) & 0xffffff;
	ck_assert_msg(r.w[0].bad == 0 && r.w[1].bad == 0,
		      "lost updates: thread 0 saw its bits changed %ld times, thread 1 %ld times",
		      r.w[0].bad, r.w[1].bad);
	ck_assert_msg(r.w[0].spurious == 0 && r.w[1].spurious == 0,
		      "strong cmpxchg failed spuriously %ld + %ld times", r.w[0].spurious,
		      r.w[1].spurious);
	pt_assert_x64_eq(end & OWN0, r.w[0].mine);
	pt_assert_x64_eq(end & OWN1, r.w[1].mine);
	ck_assert_msg(counter_of(end) == want, "counter %#x, expected %#x (%ld increments)",
		      counter_of(end), want, r.w[0].increments + r.w[1].increments);
}
END_TEST

START_TEST(test_xchg_conservation)
{
	static struct run r;
	const uint64_t init = UINT64_C(0x0123456789abcdef);
	uint64_t end, in_sum, out_sum, in_xor, out_xor;

	run_workers(&r, xchg_worker, "xchg", init);
	end = ptxn_arch_slot_load(&slot.storage);
	/* what went in (the initial value and every token) is what came out (every old value
	 * returned, and the final value): nothing lost, nothing duplicated */
	in_sum = h(init) + r.w[0].sum_in + r.w[1].sum_in;
	out_sum = r.w[0].sum_out + r.w[1].sum_out + h(end);
	in_xor = h(init ^ 0x5555) ^ r.w[0].xor_in ^ r.w[1].xor_in;
	out_xor = r.w[0].xor_out ^ r.w[1].xor_out ^ h(end ^ 0x5555);
	pt_assert_x64_eq(out_sum, in_sum);
	pt_assert_x64_eq(out_xor, in_xor);
}
END_TEST

START_TEST(test_cmpxchg_add)
{
	static struct run r;
	uint64_t end;

	run_workers(&r, add_worker, "cmpxchg add", 0);
	end = ptxn_arch_slot_load(&slot.storage);
	ck_assert_msg(r.w[0].spurious == 0 && r.w[1].spurious == 0,
		      "strong cmpxchg failed spuriously %ld + %ld times", r.w[0].spurious,
		      r.w[1].spurious);
	pt_assert_x64_eq(end, (uint64_t)(r.w[0].increments + r.w[1].increments) * ADD_K);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("slot_contention");
	TCase *tc = tcase_create("contention");

	tcase_add_test(tc, test_backend);
	tcase_add_test(tc, test_update_and_cmpxchg);
	tcase_add_test(tc, test_xchg_conservation);
	tcase_add_test(tc, test_cmpxchg_add);
	suite_add_tcase(s, tc);
	return ptxn_test_run(s);
}
