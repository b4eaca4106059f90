// SPDX-License-Identifier: MIT
/*
 * bench/util.h - the plumbing of bench/compare.c: the markers an outside instruction
 * counter looks for, a clock, a median and option parsing (the random generator is
 * hwemu's ptxn_hwemu_rand). Included by compare.c only.
 */
#ifndef BENCH_UTIL_H
#define BENCH_UTIL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#if (defined(__x86_64__) || defined(__i386__)) && defined(__has_include)
#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#define BENCH_CALLGRIND 1
#endif
#endif
#ifndef BENCH_CALLGRIND
#define BENCH_CALLGRIND 0
#define CALLGRIND_TOGGLE_COLLECT
#define CALLGRIND_DUMP_STATS_AT(s) ((void)(s))
#endif

#ifndef BENCH_NOINLINE
#if defined(__clang__)
#define BENCH_NOINLINE __attribute__((noinline))
#else
#define BENCH_NOINLINE __attribute__((noinline, noclone)) /* one symbol per marker */
#endif
#endif

/* ---- markers for an outside instruction counter (count mode) ------------------------ */

/* Named functions the qemu log shows by name; Callgrind is driven by client requests. */
BENCH_NOINLINE void bench_mark_begin(unsigned id);
BENCH_NOINLINE void bench_mark_end(unsigned id);

BENCH_NOINLINE void bench_mark_begin(unsigned id)
{
	__asm__ __volatile__("" : : "r"(id) : "memory");
	CALLGRIND_TOGGLE_COLLECT;
}

BENCH_NOINLINE void bench_mark_end(unsigned id)
{
	char label[32];

	CALLGRIND_TOGGLE_COLLECT;
	snprintf(label, sizeof(label), "bench-mark-%u", id);
	CALLGRIND_DUMP_STATS_AT(label);
	__asm__ __volatile__("" : : "r"(id) : "memory");
}

/*
 * Where a call to a marker enters its code, for a log that has addresses but no names
 * (qemu's exec log of a big-endian ppc64 ELFv1 program, where a function pointer is the
 * address of a descriptor whose first word is the entry point).
 */
static uint64_t bench_code_address(void (*fn)(unsigned))
{
#if defined(__powerpc64__) && (!defined(_CALL_ELF) || _CALL_ELF == 1)
	return *(const uint64_t *)(const void *)fn;
#elif defined(__powerpc64__)
	/* ELFv2: calls from inside the program enter after the TOC setup (addis r2,r12,x or
	 * lis r2,x; then addi r2,r2,y), at the local entry point 8 bytes on */
	const uint32_t *insn = (const uint32_t *)(const void *)fn;
	bool toc = (insn[0] & 0xffe00000u) == 0x3c400000u && (insn[1] & 0xffff0000u) == 0x38420000u;

	return (uint64_t)(uintptr_t)fn + (toc ? 8 : 0);
#else
	return (uint64_t)(uintptr_t)fn;
#endif
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- statistics --------------------------------------------------------------------- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median_of(double *v, unsigned n)
{
	qsort(v, n, sizeof(*v), cmp_double);
	if (!n)
		return 0;
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- options ------------------------------------------------------------------------ */

static unsigned parse_list_u(const char *arg, unsigned *out, unsigned max)
{
	unsigned n = 0;
	char *p = (char *)arg;

	while (*p && n < max) {
		out[n++] = (unsigned)strtoul(p, &p, 0);
		if (*p == ',')
			p++;
		else if (*p)
			return 0;
	}
	return n;
}

static unsigned parse_list_d(const char *arg, double *out, unsigned max)
{
	unsigned n = 0;
	char *p = (char *)arg;

	while (*p && n < max) {
		out[n++] = strtod(p, &p);
		if (*p == ',')
			p++;
		else if (*p)
			return 0;
	}
	return n;
}

static bool in_csv(const char *csv, const char *name)
{
	size_t len = strlen(name);
	const char *p = csv;

	if (!csv)
		return true;
	while ((p = strstr(p, name)) != NULL) {
		if ((p == csv || p[-1] == ',') && (p[len] == ',' || p[len] == '\0'))
			return true;
		p += len;
	}
	return false;
}

/*
 * Involuntary context switches of the calling thread so far: a timed sweep during which
 * this changes was preempted (on a shared machine, a 1 ms sweep often is), and its time
 * includes someone else's. -1 where the kernel cannot tell.
 */
static long bench_preemptions(void)
{
#ifdef RUSAGE_THREAD
	struct rusage ru;

	if (getrusage(RUSAGE_THREAD, &ru) == 0)
		return ru.ru_nivcsw;
#endif
	return -1;
}

#endif /* BENCH_UTIL_H */
