// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * ptxn_ktest.c - the guest's test program for ptxn_kmod.ko (docs/linux-module.md).
 *
 * Two writer threads (one per vCPU) and a reader thread touch two regions of this
 * process while a flipper thread write-protects both and makes them writable again, in a
 * loop: region A is private anonymous memory (single transactions), region B the module's
 * 64 consecutive frames (batched, the _ptes form). Each round starts from entries the
 * module made old and clean (and a full TLB flush); each page is written at most once and
 * read at most once per round, so a lost Accessed/Dirty update cannot be repaired by a
 * later access. After the round the kernel's own pte_dirty()/pte_young() (read by the
 * module) must show every write and every access, and each page must hold its last value.
 * One case per ptxn strategy, the unsafe control (must lose), the same flip done by the
 * kernel's mprotect() as the reference, and the kernel log. Output: PTXN-CASE lines as in
 * docs/baremetal.md, then PTXN-RESULT.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "ptxn_kmod.h"

#define NPAGES 64           /* per region */
#define NALL (2 * NPAGES)
#define PAGE 4096
#define BATCH 16            /* _ptes batch over region B */

enum { M_AUTO, M_CLEAR, M_MERGE, M_RMW, M_MPROTECT };
static const char *const mode_strategy[] = { "auto", "clear", "merge", "plain-rmw", "mprotect" };

static int dev;
static unsigned char *region[2];     /* A: anonymous, B: the module's folio */
static unsigned window_ns = 2000;
static int mode;

/* per round, written by the threads, read by main after the round's barrier */
static uint64_t last_val[NALL];
static unsigned char written[NALL], touched[NALL];

static pthread_barrier_t start_bar, end_bar;
static volatile int workers_left, stop_all, ro_now;
static volatile unsigned rw_epoch;   /* mprotect(PROT_READ|PROT_WRITE)s completed */
static volatile unsigned ro_epoch;   /* mprotect(PROT_READ)s begun */
static volatile int blocked;         /* writers waiting in on_segv for a writable window */
static uint64_t round_no;

struct stats {
	uint64_t transactions, entries, batched, in_window, merge_retries, flips;
	uint64_t hw_events, lost, stray, devmap, value_lost, wrong_segv, right_segv;
	uint64_t reader_faults, round_reader_faults, writer_faults, writes, probe_flips;
	char first[160];
};
static struct stats st;

static __thread sigjmp_buf access_jb;
static __thread volatile int in_access;
static __thread volatile unsigned access_ro_epoch, access_rw_epoch; /* when it began */
static __thread volatile int access_blocked; /* this access is counted in `blocked` */

static void note_failure(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void note_failure(const char *fmt, ...)
{
	va_list ap;

	if (st.first[0])
		return;
	va_start(ap, fmt);
	vsnprintf(st.first, sizeof(st.first), fmt, ap);
	va_end(ap);
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
	return *s;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static long thread_minflt(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return ru.ru_minflt;
}

static void pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/*
 * A SIGSEGV is right only in the mprotect case, for a write, when a read-only window
 * overlapped the access: one is open now, or one opened or closed since the access began
 * (the handler may run after the range is writable again). Then wait for the next
 * writable window and retry. Any other is wrong: count it and skip the access.
 */
static volatile uint64_t wrong_segv, right_segv;
static void on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc, (void)si;
	if (mode == M_MPROTECT &&
	    (ro_now || ro_epoch != access_ro_epoch || rw_epoch != access_rw_epoch)) {
		/* wait for the next writable window (an edge: the flipper may close it again
		 * before this vCPU would see a level); the flipper waits for blocked writers */
		unsigned seen = rw_epoch;

		__atomic_fetch_add(&right_segv, 1, __ATOMIC_RELAXED);
		if (!access_blocked) { /* until the access is done: guarded() uncounts it */
			access_blocked = 1;
			__atomic_fetch_add(&blocked, 1, __ATOMIC_RELAXED);
		}
		while (ro_now && rw_epoch == seen)
			;
		access_ro_epoch = ro_epoch;
		access_rw_epoch = rw_epoch;
		return;
	}
	__atomic_fetch_add(&wrong_segv, 1, __ATOMIC_RELAXED);
	if (in_access)
		siglongjmp(access_jb, 1);
	_exit(3);
}

static unsigned char *page_at(int i)
{
	return region[i / NPAGES] + (size_t)(i % NPAGES) * PAGE;
}

static void spin(uint64_t *s, unsigned max)
{
	for (volatile unsigned n = rnd(s) % max; n; n--)
		;
}

/* One access with a fix-up: 1 done (a write read back its value), 0 read back another
 * value, -1 skipped by a wrong SIGSEGV. Out of line: nothing of the caller is live
 * across the sigsetjmp. */
static __attribute__((noinline)) int guarded(volatile uint64_t *p, uint64_t v, int write)
{
	if (sigsetjmp(access_jb, 0)) {
		in_access = 0;
		if (access_blocked) {
			access_blocked = 0;
			__atomic_fetch_sub(&blocked, 1, __ATOMIC_RELEASE);
		}
		return -1;
	}
	access_ro_epoch = ro_epoch;
	access_rw_epoch = rw_epoch;
	in_access = 1;
	if (write)
		*p = v;
	else
		v = *p;
	in_access = 0;
	if (access_blocked) {
		access_blocked = 0;
		__atomic_fetch_sub(&blocked, 1, __ATOMIC_RELEASE);
	}
	return !write || *p == v;
}

/* Writer w owns the pages i with i % 2 == w; each round it writes some of them once. */
static void *writer(void *arg)
{
	int w = (int)(intptr_t)arg;
	uint64_t s = 0x9e3779b97f4a7c15ull * (w + 1) + round_no;
	long f0;

	pin(w);
	f0 = thread_minflt();
	for (;;) {
		pthread_barrier_wait(&start_bar);
		if (stop_all)
			break;
		for (int k = 0; k < NALL / 2; k++) {
			int i = 2 * (int)(rnd(&s) % (NALL / 2)) + w;
			volatile uint64_t *p = (volatile uint64_t *)page_at(i) + 8 * w;

			if (written[i] || rnd(&s) % 8 < 3)
				continue;
			uint64_t v = round_no << 20 | (uint64_t)i << 8 | (rnd(&s) & 0xff);
			int r = guarded(p, v, 1);

			if (r == 0)
				note_failure("page %d read back another value", i);
			if (r >= 0) {
				last_val[i] = v;
				written[i] = touched[i] = 1;
			}
			spin(&s, 50000);
		}
		__atomic_fetch_sub(&workers_left, 1, __ATOMIC_RELEASE);
		pthread_barrier_wait(&end_bar);
	}
	__atomic_fetch_add(&st.writer_faults, thread_minflt() - f0, __ATOMIC_RELAXED);
	return NULL;
}

/* The reader reads a random half of all pages once per round. Reads are always allowed:
 * any fault it takes is spurious (an entry a transaction had broken). */
static void *reader(void *arg)
{
	uint64_t s = 0x1234567ull + round_no;
	long f0;

	(void)arg;
	f0 = thread_minflt();
	for (;;) {
		pthread_barrier_wait(&start_bar);
		if (stop_all)
			break;
		for (int i = 0; i < NALL; i++) {
			if (rnd(&s) & 1)
				continue;
			if (guarded((volatile uint64_t *)(page_at(i) + 2048), 0, 0) >= 0)
				touched[i] = 1;
			spin(&s, 50000);
		}
		__atomic_fetch_sub(&workers_left, 1, __ATOMIC_RELEASE);
		pthread_barrier_wait(&end_bar);
	}
	st.round_reader_faults += thread_minflt() - f0;
	return NULL;
}

/*
 * The fault count: after the checked rounds, a prober reads every page in a loop while
 * the flipper flips. Reads are allowed read-only too, so each fault it takes is spurious:
 * an entry a transaction (CLEAR) or the kernel's mprotect (ptep_modify_prot_start clears
 * on x86) had broken. The same number of flips for every case makes them comparable.
 */
static volatile int probe_stop;
static int probing; /* no window_ns while counting: mprotect's window has no delay either */
static void *prober(void *arg)
{
	long f0 = thread_minflt();

	(void)arg;
	while (!probe_stop)
		for (int i = 0; i < NALL && !probe_stop; i++)
			(void)guarded((volatile uint64_t *)(page_at(i) + 1024), 0, 0);
	st.reader_faults = thread_minflt() - f0;
	return NULL;
}

static int apply(int r, unsigned op, int m, unsigned batch)
{
	struct ptxn_kmod_apply a = { .start = (uintptr_t)region[r], .len = NPAGES * PAGE,
				     .op = op, .mode = (unsigned)m, .batch = batch,
				     .window_ns = op == PTXN_KMOD_OP_CLEAN || probing ? 0 : window_ns,
				     .cet = 1 };

	if (ioctl(dev, PTXN_KMOD_APPLY, &a) != 0) {
		note_failure("PTXN_KMOD_APPLY op %u mode %d: %s", op, m, strerror(errno));
		return -1;
	}
	if (op != PTXN_KMOD_OP_CLEAN) {
		st.transactions += a.transactions;
		st.entries += a.entries;
		st.batched += a.batched;
		st.in_window += a.in_window;
		st.merge_retries += a.merge_retries;
	}
	return 0;
}

static void flip(int ro)
{
	int prot = ro ? PROT_READ : PROT_READ | PROT_WRITE;

	if (mode == M_MPROTECT) {
		if (ro) {
			/* a write blocked by the last read-only window completes first (when the
			 * range is writable now: a round may start read-only, with writers
			 * blocked until the next mprotect(PROT_READ|PROT_WRITE)) */
			while (!ro_now && __atomic_load_n(&blocked, __ATOMIC_ACQUIRE))
				;
			__atomic_fetch_add(&ro_epoch, 1, __ATOMIC_RELEASE);
			ro_now = 1;
		}
		for (int r = 0; r < 2; r++)
			if (mprotect(region[r], NPAGES * PAGE, prot) != 0)
				note_failure("mprotect: %s", strerror(errno));
		if (!ro) { /* the epoch first: a handler that sees ro_now == 0 sees it too */
			__atomic_fetch_add(&rw_epoch, 1, __ATOMIC_RELEASE);
			ro_now = 0;
		}
		st.transactions += ro ? NALL : 0; /* entries mprotect rewrote (RO: every one) */
	} else {
		unsigned op = ro ? PTXN_KMOD_OP_RDONLY : PTXN_KMOD_OP_RDWR;

		apply(0, op, mode, 1);
		apply(1, op, mode, BATCH);
	}
	st.flips++;
}

static void check_round(void)
{
	unsigned char f[NPAGES];

	for (int r = 0; r < 2; r++) {
		struct ptxn_kmod_query q = { .start = (uintptr_t)region[r], .npages = NPAGES,
					     .flags = (uintptr_t)f };

		if (ioctl(dev, PTXN_KMOD_QUERY, &q) != 0) {
			note_failure("PTXN_KMOD_QUERY: %s", strerror(errno));
			st.lost++;
			return;
		}
		for (int j = 0; j < NPAGES; j++) {
			int i = r * NPAGES + j;
			int w = (int)(i % 2);

			if (f[j] & PTXN_KMOD_DEVMAP && !st.devmap++)
				note_failure("page %d: the kernel reads it as devmap", i);
			if (written[i] && !(f[j] & PTXN_KMOD_DIRTY)) {
				st.lost++;
				note_failure("round %llu page %d: written, not dirty by pte_dirty()",
					     (unsigned long long)round_no, i);
			}
			if (touched[i] && !(f[j] & PTXN_KMOD_YOUNG)) {
				st.lost++;
				note_failure("round %llu page %d: accessed, not young by pte_young()",
					     (unsigned long long)round_no, i);
			}
			st.hw_events += (touched[i] && (f[j] & PTXN_KMOD_YOUNG)) +
					(written[i] && (f[j] & PTXN_KMOD_DIRTY));
			st.stray += (!touched[i] && (f[j] & PTXN_KMOD_YOUNG)) +
				    (!written[i] && (f[j] & PTXN_KMOD_DIRTY));
			st.writes += written[i];
			if (last_val[i] && *((volatile uint64_t *)page_at(i) + 8 * w) != last_val[i]) {
				st.value_lost++;
				note_failure("page %d lost a write", i);
			}
		}
	}
}

static unsigned long vmstat_pgfault(void)
{
	char line[128];
	unsigned long v = 0;
	FILE *f = fopen("/proc/vmstat", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "pgfault %lu", &v) == 1)
			break;
	if (f)
		fclose(f);
	return v;
}

/* One case: `rounds` checked rounds (the control: until it loses, at most 8x). */
static int run_case(const char *name, const char *suite, int m, unsigned rounds,
		    unsigned probe_pairs)
{
	pthread_t th[3];
	unsigned long pg0 = vmstat_pgfault();
	double t0 = now_s();
	unsigned r, max = m == M_RMW ? rounds * 8 : rounds;
	int pass;

	memset(&st, 0, sizeof(st));
	wrong_segv = right_segv = 0;
	memset(last_val, 0, sizeof(last_val));
	mode = m;
	stop_all = 0;
	pthread_barrier_init(&start_bar, NULL, 4);
	pthread_barrier_init(&end_bar, NULL, 4);
	pthread_create(&th[0], NULL, writer, (void *)0);
	pthread_create(&th[1], NULL, writer, (void *)1);
	pthread_create(&th[2], NULL, reader, NULL);
	for (r = 0; r < max && !(m == M_RMW && st.lost && r >= rounds / 4); r++) {
		round_no++;
		memset(written, 0, sizeof(written));
		memset(touched, 0, sizeof(touched));
		/* The round's start: old and clean entries, every TLB flushed (the module's). */
		apply(0, PTXN_KMOD_OP_CLEAN, M_AUTO, 1);
		apply(1, PTXN_KMOD_OP_CLEAN, M_AUTO, 1);
		workers_left = 3;
		pthread_barrier_wait(&start_bar);
		do {
			flip(1);
			flip(0);
		} while (__atomic_load_n(&workers_left, __ATOMIC_ACQUIRE));
		/* Every other round is checked write-protected: the kernel must still read the
		 * dirtiness of a read-only entry (6.1: D itself) and no other bit. */
		if (round_no & 1)
			flip(1);
		pthread_barrier_wait(&end_bar);
		check_round();
	}
	stop_all = 1;
	pthread_barrier_wait(&start_bar);
	for (int k = 0; k < 3; k++)
		pthread_join(th[k], NULL);
	pthread_barrier_destroy(&start_bar);
	pthread_barrier_destroy(&end_bar);
	probe_stop = 0;
	probing = 1;
	pthread_create(&th[0], NULL, prober, NULL);
	for (unsigned k = 0; k < probe_pairs; k++) {
		flip(1);
		flip(0);
		st.probe_flips += 2;
	}
	probe_stop = 1;
	pthread_join(th[0], NULL);
	probing = 0;
	st.wrong_segv = wrong_segv;
	st.right_segv = right_segv;
	if (st.wrong_segv)
		note_failure("%llu wrong SIGSEGV", (unsigned long long)st.wrong_segv);
	if (m == M_RMW) {
		pass = st.lost > 0;
		if (!pass)
			snprintf(st.first, sizeof(st.first),
				 "plain read-modify-write lost nothing in %u rounds: checker blind", r);
	} else {
		pass = !st.lost && !st.value_lost && !st.wrong_segv && !st.devmap && !st.first[0];
	}
	printf("PTXN-CASE {\"target\":\"x86_64-linux\",\"suite\":\"%s\",\"name\":\"%s\","
	       "\"strategy\":\"%s\",\"status\":\"%s\",\"transactions\":%llu,\"hw_events\":%llu,"
	       "\"ad_source\":\"hardware\",\"lost_updates\":%llu,\"spurious_faults\":%llu,"
	       "\"in_window\":%llu,\"stray\":%llu,\"rounds\":%u,\"flips\":%llu,"
	       "\"entries\":%llu,\"batched\":%llu,\"merge_retries\":%llu,\"writes\":%llu,"
	       "\"round_reader_faults\":%llu,\"probe_flips\":%llu,"
	       "\"writer_faults\":%llu,\"vmstat_pgfault\":%lu,\"wrong_sigsegv\":%llu,"
	       "\"right_sigsegv\":%llu,\"values_lost\":%llu,\"devmap\":%llu,\"seconds\":%.3f,"
	       "\"first_failure\":\"%s\"}\n",
	       suite, name, mode_strategy[m], pass ? "pass" : "fail",
	       (unsigned long long)st.transactions, (unsigned long long)st.hw_events,
	       (unsigned long long)st.lost, (unsigned long long)st.reader_faults,
	       (unsigned long long)st.in_window, (unsigned long long)st.stray, r,
	       (unsigned long long)st.flips, (unsigned long long)st.entries,
	       (unsigned long long)st.batched, (unsigned long long)st.merge_retries,
	       (unsigned long long)st.writes, (unsigned long long)st.round_reader_faults,
	       (unsigned long long)st.probe_flips, (unsigned long long)st.writer_faults,
	       vmstat_pgfault() - pg0, (unsigned long long)st.wrong_segv,
	       (unsigned long long)st.right_segv, (unsigned long long)st.value_lost,
	       (unsigned long long)st.devmap, now_s() - t0, st.first);
	fflush(stdout);
	return pass;
}

/* The kernel's log must hold no warning: the checks the kernel itself made. */
static int check_klog(void)
{
	static const char *const bad[] = { "WARNING:", "BUG:", "bad pte", "Bad page",
					   "page_table_check", "Oops", "general protection",
					   "ptxn_kmod: error" };
	static char buf[1 << 20];
	int n = klogctl(3 /* SYSLOG_ACTION_READ_ALL */, buf, sizeof(buf) - 1);
	const char *hit = NULL;

	if (n < 0)
		n = 0;
	buf[n] = 0;
	for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]) && !hit; k++)
		if (strstr(buf, bad[k]))
			hit = bad[k];
	printf("PTXN-CASE {\"target\":\"x86_64-linux\",\"suite\":\"kernel\",\"name\":\"kernel-log\","
	       "\"status\":\"%s\",\"transactions\":0,\"hw_events\":0,\"lost_updates\":0,"
	       "\"spurious_faults\":0,\"log_bytes\":%d,\"seconds\":0,\"first_failure\":\"%s%s\"}\n",
	       hit || n == 0 ? "fail" : "pass", n, hit ? "kernel log has " : (n ? "" : "empty kernel log"),
	       hit ? hit : "");
	return !hit && n > 0;
}

int main(int argc, char **argv)
{
	unsigned rounds = 200, probe = 20;
	struct ptxn_kmod_info info;
	struct sigaction sa = { .sa_sigaction = on_segv, .sa_flags = SA_SIGINFO | SA_NODEFER };
	int ok = 1;

	for (int k = 1; k < argc; k++) {
		sscanf(argv[k], "rounds=%u", &rounds);
		sscanf(argv[k], "window_ns=%u", &window_ns);
		sscanf(argv[k], "probe=%u", &probe);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	dev = open("/dev/ptxn_kmod", O_RDWR);
	if (dev < 0 || ioctl(dev, PTXN_KMOD_INFO, &info) != 0) {
		printf("PTXN-PANIC cannot use /dev/ptxn_kmod: %s\n", strerror(errno));
		return 1;
	}
	printf("PTXN-BOOT {\"target\":\"x86_64-linux\",\"backend\":\"%s\",\"tlb_flush\":\"%s\","
	       "\"cpu_cet\":%u,\"saved_dirty_bit\":%u,\"rounds\":%u,\"window_ns\":%u,"
	       "\"probe_flip_pairs\":%u}\n",
	       info.backend, info.flush, info.cpu_cet, info.saved_dirty_bit, rounds, window_ns,
	       probe);
	sigaction(SIGSEGV, &sa, NULL);
	region[0] = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	region[1] = mmap(NULL, NPAGES * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, dev, 0);
	if (region[0] == MAP_FAILED || region[1] == MAP_FAILED) {
		printf("PTXN-PANIC mmap: %s\n", strerror(errno));
		return 1;
	}
	/* No huge page (apply_to_existing_page_range refuses a huge PMD); every page
	 * populated with its own frame, so no entry is empty or the shared zero page. */
	madvise(region[0], NPAGES * PAGE, MADV_NOHUGEPAGE);
	memset(region[0], 0x5a, NPAGES * PAGE);
	memset(region[1], 0x5a, NPAGES * PAGE);
	ok &= run_case("linux-clear", "race", M_CLEAR, rounds, probe);
	ok &= run_case("linux-merge", "race", M_MERGE, rounds, probe);
	ok &= run_case("linux-auto", "race", M_AUTO, rounds, probe);
	ok &= run_case("control-plain-rmw", "control", M_RMW, rounds, probe);
	ok &= run_case("kernel-mprotect", "reference", M_MPROTECT, rounds, probe);
	ok &= check_klog();
	printf("PTXN-RESULT %s\n", ok ? "PASS" : "FAIL");
	return ok ? 0 : 1;
}
