// SPDX-License-Identifier: MIT
/*
 * Smoke test for the build matrix (issue 2).
 *
 * It proves, on every target of ./matrix, three things a later test relies on:
 *  1. the binary really runs on the target's architecture, with the CPU the cross file
 *     asked qemu for (so a broken or missing exe_wrapper cannot pass silently);
 *  2. threads work and really run concurrently (pthreads linked, barrier passed);
 *  3. 64-bit atomic read-modify-writes on one 8-byte-aligned, page-table-entry-sized
 *     slot lose no update when two threads hit it at once (compare-and-swap loops
 *     toggling distinct bits in both 32-bit halves, plus fetch-add counting across
 *     both halves: a torn or non-atomic 64-bit operation on i686 or an emulator bug
 *     shows up as a wrong final value).
 *
 * It uses GCC/Clang __atomic builtins directly; it will be switched to ptxn primitives
 * once include/ptxn/ptxn.h exists.
 *
 * Loop sizes scale with PTXN_TEST_SCALE (tests/ptxn_test.h, tests/meson.build).
 * What the build expects of the target comes from tests/meson.build:
 *   PTXN_TEST_CPU_FAMILY  (macro)  Meson's host_machine.cpu_family(), e.g. "aarch64"
 *   PTXN_TEST_BIG_ENDIAN  (macro)  1 if host_machine.endian() is 'big', else 0
 *   PTXN_TEST_MACHINE     (env)    what uname(2) must report at run time ("" = no check)
 *   PTXN_TEST_QEMU_CPU    (env)    the -cpu given to qemu by the cross file ("" = none)
 */
#define _GNU_SOURCE
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/utsname.h>
#include <time.h>
#if defined(__i386__)
#include <cpuid.h>
#endif
#if defined(__riscv)
#include <setjmp.h>
#include <signal.h>
#endif

#include "ptxn_test.h" /* sizes and the runner; nothing of the library */

#ifndef PTXN_TEST_CPU_FAMILY
#error "PTXN_TEST_CPU_FAMILY must be set by tests/meson.build"
#endif
#ifndef PTXN_TEST_BIG_ENDIAN
#error "PTXN_TEST_BIG_ENDIAN must be set by tests/meson.build"
#endif

/* The architecture this translation unit was compiled for, from the compiler's own
 * predefined macros, spelled as Meson's cpu_family() spells it. */
#if defined(__x86_64__)
#define SMOKE_ARCH "x86_64"
#define SMOKE_PTR_BYTES 8
#elif defined(__i386__)
#define SMOKE_ARCH "x86"
#define SMOKE_PTR_BYTES 4
#elif defined(__aarch64__)
#define SMOKE_ARCH "aarch64"
#define SMOKE_PTR_BYTES 8
#elif defined(__powerpc64__)
#define SMOKE_ARCH "ppc64"
#define SMOKE_PTR_BYTES 8
#elif defined(__riscv) && __riscv_xlen == 64
#define SMOKE_ARCH "riscv64"
#define SMOKE_PTR_BYTES 8
#else
#error "unknown target architecture: add it to tests/test_smoke_slot.c"
#endif

/* ------------------------------------------------------------ the target */

START_TEST(test_compiled_for_target)
{
	/* The cross file's host_machine and the compiler must agree. */
	ck_assert_str_eq(SMOKE_ARCH, PTXN_TEST_CPU_FAMILY);
	ck_assert_uint_eq(sizeof(void *), SMOKE_PTR_BYTES);
	ck_assert_uint_eq(sizeof(uint64_t), 8);
#if PTXN_TEST_BIG_ENDIAN
	ck_assert_int_eq(__BYTE_ORDER__, __ORDER_BIG_ENDIAN__);
#else
	ck_assert_int_eq(__BYTE_ORDER__, __ORDER_LITTLE_ENDIAN__);
#endif
}
END_TEST

START_TEST(test_runs_on_target)
{
	/* Byte order of the CPU that executes us, read from memory at run time. */
	union {
		uint64_t v;
		unsigned char b[8];
	} u = { .v = UINT64_C(0x0102030405060708) };
	ck_assert_uint_eq(u.b[0], PTXN_TEST_BIG_ENDIAN ? 0x01 : 0x08);

	/* uname(2) as the executing kernel or emulator reports it: "i686" under qemu-i386
	 * but "x86_64" for the same i686 binary run on the host, and so on. */
	struct utsname un;
	ck_assert_int_eq(uname(&un), 0);
	const char *want = getenv("PTXN_TEST_MACHINE");
	ck_assert_msg(want != NULL, "PTXN_TEST_MACHINE not set: run through meson test");
	if (*want != '\0')
		ck_assert_str_eq(un.machine, want);
}
END_TEST

#if defined(__riscv)
/*
 * Does this hart execute a Zbb instruction (ANDN a0, a0, a1: 0x40b57533)? AT_HWCAP names
 * only single-letter extensions, so the two RV64GC models of the matrix differ there:
 * qemu 7.2's rv64 enables Zbb, its sifive-u54 does not (an illegal instruction, SIGILL).
 */
static sigjmp_buf smoke_sigill_jmp;

static void smoke_on_sigill(int sig)
{
	(void)sig;
	siglongjmp(smoke_sigill_jmp, 1);
}

static bool smoke_riscv_has_zbb(void)
{
	struct sigaction sa, old;
	volatile bool ok = false;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = smoke_on_sigill;
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGILL, &sa, &old), 0);
	if (sigsetjmp(smoke_sigill_jmp, 1) == 0) {
		register unsigned long a0 __asm__("a0") = 6, a1 __asm__("a1") = 3;

		__asm__ __volatile__(".4byte 0x40b57533" : "+r"(a0) : "r"(a1));
		ok = a0 == 4; /* 6 & ~3 */
	}
	ck_assert_int_eq(sigaction(SIGILL, &old, NULL), 0);
	return ok;
}
#endif

/* Is the CPU qemu emulates the one the cross file asked for? Checked through the
 * hardware capability bits the (emulated) kernel hands us, for the CPUs of the matrix. */
START_TEST(test_cpu_is_the_requested_one)
{
	const char *cpu = getenv("PTXN_TEST_QEMU_CPU");
	if (cpu == NULL || *cpu == '\0')
		return; /* runs on the host: nothing asked */

	unsigned long hwcap = getauxval(AT_HWCAP);
	unsigned long hwcap2 = getauxval(AT_HWCAP2);
	(void)hwcap;
	(void)hwcap2;
#if defined(__aarch64__)
	/* HWCAP_ATOMICS (bit 8, arch/arm64/include/uapi/asm/hwcap.h): FEAT_LSE, v8.1+ */
	const unsigned long lse = 1UL << 8;
	if (strcmp(cpu, "cortex-a53") == 0 || strcmp(cpu, "cortex-a72") == 0)
		ck_assert_msg((hwcap & lse) == 0, "%s must not have LSE (hwcap %#lx)", cpu, hwcap);
	else if (strcmp(cpu, "neoverse-n1") == 0)
		ck_assert_msg((hwcap & lse) != 0, "%s must have LSE (hwcap %#lx)", cpu, hwcap);
	else
		ck_abort_msg("unknown aarch64 cpu %s: teach test_smoke_slot.c its hwcaps", cpu);
#elif defined(__powerpc64__)
	/* PPC_FEATURE2_ARCH_2_07 / _3_00 / _3_1 (arch/powerpc/include/uapi/asm/cputable.h) */
	const unsigned long v207 = 0x80000000UL, v300 = 0x00800000UL, v31 = 0x00040000UL;
	if (strcmp(cpu, "power8") == 0)
		ck_assert_msg((hwcap2 & v207) && !(hwcap2 & v300), "power8: hwcap2 %#lx", hwcap2);
	else if (strcmp(cpu, "power9") == 0)
		ck_assert_msg((hwcap2 & v300) && !(hwcap2 & v31), "power9: hwcap2 %#lx", hwcap2);
	else if (strcmp(cpu, "power10") == 0)
		ck_assert_msg((hwcap2 & v31) != 0, "power10: hwcap2 %#lx", hwcap2);
	else
		ck_abort_msg("unknown powerpc cpu %s: teach test_smoke_slot.c its hwcaps", cpu);
#elif defined(__i386__)
	/*
	 * qemu-i386 hands no useful AT_HWCAP; ask CPUID (leaf 1, EDX; SDM Vol. 2A, CPUID):
	 * pentium2 (i686-qemu) has CMOV but no SSE; max (i686-host under qemu, on a host that
	 * cannot run i686 binaries itself) has SSE2.
	 */
	unsigned int eax, ebx, ecx, edx;
	const unsigned int cmov = 1u << 15, sse = 1u << 25, sse2 = 1u << 26;

	ck_assert_msg(__get_cpuid(1, &eax, &ebx, &ecx, &edx), "%s: no CPUID leaf 1", cpu);
	if (strcmp(cpu, "pentium2") == 0)
		ck_assert_msg((edx & cmov) && !(edx & sse), "pentium2: cpuid.1.edx %#x", edx);
	else if (strcmp(cpu, "max") == 0)
		ck_assert_msg((edx & sse2) != 0, "max: cpuid.1.edx %#x", edx);
	else
		ck_abort_msg("unknown i386 cpu %s: teach test_smoke_slot.c its CPUID bits", cpu);
#elif defined(__riscv)
	/*
	 * qemu-user's AT_HWCAP on RISC-V is the single-letter ISA bits of misa, bit (c - 'A')
	 * (linux-user/elfload.c; Linux arch/riscv/include/uapi/asm/hwcap.h, COMPAT_HWCAP_ISA_*):
	 * the models of the matrix are RV64GC, and the A extension is what ptxn's asm needs.
	 */
	const unsigned long imafdc = (1UL << ('I' - 'A')) | (1UL << ('M' - 'A')) |
				     (1UL << ('A' - 'A')) | (1UL << ('F' - 'A')) |
				     (1UL << ('D' - 'A')) | (1UL << ('C' - 'A'));
	if (strcmp(cpu, "rv64") != 0 && strcmp(cpu, "sifive-u54") != 0)
		ck_abort_msg("unknown riscv64 cpu %s: teach test_smoke_slot.c its hwcaps", cpu);
	ck_assert_msg((hwcap & imafdc) == imafdc, "%s: hwcap %#lx lacks IMAFDC", cpu, hwcap);
	ck_assert_msg(smoke_riscv_has_zbb() == (strcmp(cpu, "rv64") == 0),
		      "%s: Zbb %s", cpu, smoke_riscv_has_zbb() ? "present" : "absent");
#else
	ck_abort_msg("running under qemu -cpu %s: teach test_smoke_slot.c this arch", cpu);
#endif
}
END_TEST

/* ------------------------------------------------ two threads, one slot */

/* One page-table-entry-sized slot, 8-byte aligned as the MMU requires. */
static uint64_t slot __attribute__((aligned(8)));

/* Layout used by the toggle test: thread 0 owns the even bits 0..46, thread 1 the odd
 * bits 1..47 (so each owns bits in both 32-bit halves); bits 48..63 are a counter. */
#define OWN0 UINT64_C(0x0000555555555555)
#define OWN1 UINT64_C(0x0000aaaaaaaaaaaa)
#define CNT_SHIFT 48
#define CNT_ONE (UINT64_C(1) << CNT_SHIFT)

/* An odd constant with carries through every bit: any lost or torn add changes the sum. */
#define ADD_K UINT64_C(0x9e3779b97f4a7c15)

struct run;

struct worker {
	struct run *run;
	int id;
	uint64_t mine;    /* toggle test: the bits this thread believes it has set */
	long bad_views;   /* toggle test: times the slot did not show our bits as we left them */
	long cas_retries; /* failed CAS attempts: the other thread won a race */
	long interleaved; /* times the slot had changed since our own last operation */
};

struct run {
	struct ptxn_test_pair pair; /* tests/ptxn_test.h: the two threads really overlap */
	struct worker w[2];
};

static bool keep_going(struct worker *w, long i)
{
	return ptxn_test_pair_keep_going(&w->run->pair, w->id, i, w->interleaved);
}

static uint64_t xorshift(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void *toggle_worker(void *arg)
{
	struct worker *w = arg;
	const uint64_t own = w->id == 0 ? OWN0 : OWN1;
	uint64_t rng = 0x9e3779b97f4a7c15ULL * (uint64_t)(w->id + 1);
	uint64_t last = 0; /* the slot as our last operation left it */
	long i = 0;

	pthread_barrier_wait(&w->run->pair.start);
	while (keep_going(w, i++)) {
		/* toggle one of our 24 bits with a compare-and-swap loop */
		uint64_t bit = UINT64_C(1) << ((unsigned)(xorshift(&rng) % 24) * 2 + (unsigned)w->id);
		uint64_t old = __atomic_load_n(&slot, __ATOMIC_RELAXED);

		if (old != last)
			w->interleaved++;
		for (;;) {
			if ((old & own) != w->mine)
				w->bad_views++;
			if (__atomic_compare_exchange_n(&slot, &old, old ^ bit, true,
							__ATOMIC_ACQ_REL, __ATOMIC_RELAXED))
				break;
			w->cas_retries++; /* old now holds the value that beat us */
		}
		w->mine ^= bit;

		/* and count, in the top 16 bits, with a plain fetch-add */
		uint64_t before = __atomic_fetch_add(&slot, CNT_ONE, __ATOMIC_SEQ_CST);
		if (before != (old ^ bit))
			w->interleaved++;
		last = before + CNT_ONE;
	}
	return NULL;
}

static void *add_worker(void *arg)
{
	struct worker *w = arg;
	uint64_t last = 0;
	long i = 0;

	pthread_barrier_wait(&w->run->pair.start);
	while (keep_going(w, i++)) {
		uint64_t before = __atomic_fetch_add(&slot, ADD_K, __ATOMIC_RELAXED);
		if (before != last)
			w->interleaved++;
		last = before + ADD_K;
	}
	return NULL;
}

static void run_workers(struct run *r, void *(*fn)(void *), long min_iters)
{
	void *const args[2] = {&r->w[0], &r->w[1]};

	memset(r, 0, sizeof(*r));
	__atomic_store_n(&slot, 0, __ATOMIC_SEQ_CST);
	for (int i = 0; i < 2; i++) {
		r->w[i].id = i;
		r->w[i].run = r;
	}
	ptxn_test_pair_run(&r->pair, fn, args, min_iters, min_iters / 10, 5);

	/* Both threads ran, and at the same time: each did its share (ptxn_test_pair_run
	 * checks), and at least one saw the other's writes between two of its own. Fails if
	 * threads run one after the other (or not at all). */
	ck_assert_msg(r->w[0].interleaved + r->w[1].interleaved > 0,
		      "the two threads never interleaved: are threads really running?");
	printf("# %s: %ld + %ld operations, %ld + %ld interleavings, %ld + %ld CAS retries\n",
	       fn == toggle_worker ? "toggle" : "add", r->pair.done[0], r->pair.done[1],
	       r->w[0].interleaved, r->w[1].interleaved, r->w[0].cas_retries,
	       r->w[1].cas_retries);
	fflush(stdout);
}

START_TEST(test_slot_is_pte_sized)
{
	ck_assert_uint_eq(sizeof(slot), 8);
	ck_assert_uint_eq((uintptr_t)&slot % 8, 0);
	/* the compiler must do 8-byte atomics on it without a lock */
	ck_assert(__atomic_always_lock_free(sizeof(slot), &slot));
}
END_TEST

START_TEST(test_two_threads_cas_toggle_and_count)
{
	static struct run r;

	run_workers(&r, toggle_worker, ptxn_test_scaled(200000));

	uint64_t end = __atomic_load_n(&slot, __ATOMIC_SEQ_CST);
	uint64_t want_cnt = (uint64_t)(r.pair.done[0] + r.pair.done[1]) & 0xffff;

	ck_assert_msg(r.w[0].bad_views == 0 && r.w[1].bad_views == 0,
		      "a thread saw its own bits changed by the other: %ld, %ld lost updates",
		      r.w[0].bad_views, r.w[1].bad_views);
	ck_assert_msg((end & OWN0) == r.w[0].mine, "thread 0 bits: slot %#llx, expected %#llx",
		      (unsigned long long)(end & OWN0), (unsigned long long)r.w[0].mine);
	ck_assert_msg((end & OWN1) == r.w[1].mine, "thread 1 bits: slot %#llx, expected %#llx",
		      (unsigned long long)(end & OWN1), (unsigned long long)r.w[1].mine);
	ck_assert_msg(end >> CNT_SHIFT == want_cnt, "counter %llu, expected %llu (mod 2^16)",
		      (unsigned long long)(end >> CNT_SHIFT), (unsigned long long)want_cnt);
}
END_TEST

START_TEST(test_two_threads_fetch_add)
{
	static struct run r;

	run_workers(&r, add_worker, ptxn_test_scaled(500000));

	uint64_t end = __atomic_load_n(&slot, __ATOMIC_SEQ_CST);
	uint64_t want = (uint64_t)(r.pair.done[0] + r.pair.done[1]) * ADD_K;
	ck_assert_msg(end == want, "sum %#llx, expected %#llx: lost or torn 64-bit adds",
		      (unsigned long long)end, (unsigned long long)want);
}
END_TEST

static Suite *smoke_suite(void)
{
	Suite *s = suite_create("smoke_slot");
	TCase *target = tcase_create("target");
	TCase *atomics = tcase_create("atomics");

	tcase_add_test(target, test_compiled_for_target);
	tcase_add_test(target, test_runs_on_target);
	tcase_add_test(target, test_cpu_is_the_requested_one);
	suite_add_tcase(s, target);

	tcase_add_test(atomics, test_slot_is_pte_sized);
	tcase_add_test(atomics, test_two_threads_cas_toggle_and_count);
	tcase_add_test(atomics, test_two_threads_fetch_add);
	suite_add_tcase(s, atomics);
	return s;
}

int main(void)
{
	return ptxn_test_run(smoke_suite());
}
