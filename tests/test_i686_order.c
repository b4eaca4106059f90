/* SPDX-License-Identifier: MIT */
/*
 * i686 PAE write order: a 64-bit entry written as two 32-bit halves must never be seen by
 * a walker as a valid half joined to a stale other half (a wrong frame, a missing NX).
 * arch/x86/atomic.h: install writes the half WITHOUT the valid bit first; clear writes
 * the half WITH it first; replace of a quiescent entry that differs in one half writes
 * that half only (Linux native_set_pte / native_pte_clear for PAE).
 *
 * Two kinds of evidence:
 *
 * 1. Races (every target). A writer thread breaks and reinstalls an entry whose two halves
 *    are both non-zero (frame above 4 GiB, NX/UXN), while an observer thread reads the slot
 *    with ptxn_ptep_get (single-copy atomic; LOCK CMPXCHG8B on i686) and requires every
 *    value to be either not hardware-valid or exactly one of the two legal entries.
 *      - library: ptxn_pte_clear + ptxn_arch_slot_install as the transaction uses them;
 *      - spec order, widened: the same order written by this test, with a spin between
 *        the halves so the window is wide; the observer must see the half-written states
 *        (else the pass proves nothing) and none may be illegal;
 *      - wrong install order (valid half first) and wrong clear order (other half first),
 *        widened the same way: negative controls, the observer MUST catch them.
 *    On 64-bit hosts the library's install is one 64-bit store; the test-written orders
 *    run the same everywhere.
 *
 * 2. Store trace (x86 hosts, deterministic). The slot lives alone in a page made
 *    read-only; every store to it faults, the handler makes the page writable and sets
 *    the trap flag, and after that one instruction the trap handler records the slot and
 *    write-protects the page again. So every intermediate state the library's own
 *    ptxn_pte_clear / ptxn_arch_slot_install / ptxn_arch_slot_replace / ptxn_set_pte
 *    produce is seen, with the offset and the instruction of each store; on i686 the
 *    order and the single 32-bit store of replace are checked exactly. A deliberately
 *    wrong writer traced the same way must be flagged (negative control).
 */
#define _GNU_SOURCE
#include <ptxn/ptxn.h>

#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "ptxn_test.h"

typedef uint32_t __attribute__((may_alias)) half_t;

/* Two entries with both 32-bit halves non-zero: a frame above 4 GiB, and NX (x86), UXN/PXN
 * (ARM64) or V (PowerPC) in the high half. */
static ptxn_pte_t entry_a, entry_b;
static uint64_t valid_storage; /* the hardware-valid bit, storage order */
static int valid_half;         /* memory half (0: bytes 0..3) that holds it */

static uint32_t half_of(uint64_t storage, int i)
{
	union {
		uint64_t v;
		uint32_t h[2];
	} u;

	u.v = storage;
	return u.h[i];
}

static void setup_entries(void)
{
	entry_a = ptxn_pte_mkdirty(ptxn_pte_mkyoung(
		ptxn_pfn_pte(UINT64_C(0x123456789), ptxn_prot(PTXN_PROT_READ | PTXN_PROT_WRITE |
							       PTXN_PROT_USER))));
	entry_b = ptxn_pfn_pte(UINT64_C(0x1abcdef01), ptxn_prot(PTXN_PROT_READ | PTXN_PROT_USER));
	valid_storage = ptxn_make_pte(PTXN_ARCH_PTE_HW_VALID).storage;
	valid_half = half_of(valid_storage, 0) ? 0 : 1;
	ck_assert(half_of(entry_a.storage, 0) && half_of(entry_a.storage, 1));
	ck_assert(half_of(entry_b.storage, 0) && half_of(entry_b.storage, 1));
	ck_assert(half_of(entry_a.storage, !valid_half) != half_of(entry_b.storage, !valid_half));
}

/* Legal for a walker: not usable, or exactly one of the entries ever installed. */
static bool legal(uint64_t storage)
{
	ptxn_pte_t p;

	p.storage = storage;
	return !ptxn_pte_hw_valid(p) || storage == entry_a.storage || storage == entry_b.storage;
}

/* =========================================================================================
 * 1. races
 * ========================================================================================= */
enum writer_kind { W_LIBRARY, W_SPEC, W_WRONG_INSTALL, W_WRONG_CLEAR };
static const char *const writer_name[] = { "library", "spec order (widened)",
					   "wrong install order (widened)",
					   "wrong clear order (widened)" };

#define SPIN 64

static ptxn_pte_t race_slot;

struct race {
	enum writer_kind kind;
	pthread_barrier_t start;
	long min_iters;
	struct timespec deadline;
	int stop;            /* writer -> observer */
	long writes;         /* writer iterations */
	long reads, illegal, partial; /* observer counts, published */
	uint64_t first_illegal;
};

static void spin(void)
{
	int k;

	for (k = 0; k < SPIN; k++)
		ptxn_arch_cpu_relax();
}

/*
 * Store one memory half, ordered after the stores before it (a no-op fence on x86). The
 * store races with the observer's 64-bit loads on purpose, so it is an atomic 32-bit store
 * (the same single mov/str/stw as a volatile one), which ThreadSanitizer sees as intended.
 */
static void put_half(ptxn_pte_t *slot, int i, uint32_t v)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
	__atomic_store_n((half_t *)&slot->storage + i, v, __ATOMIC_RELAXED);
}

static void write_clear(ptxn_pte_t *slot, int first)
{
	put_half(slot, first, 0);
	spin();
	put_half(slot, !first, 0);
}

static void write_install(ptxn_pte_t *slot, uint64_t storage, int first)
{
	put_half(slot, first, half_of(storage, first));
	spin();
	put_half(slot, !first, half_of(storage, !first));
}

static bool past(const struct timespec *deadline)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return now.tv_sec > deadline->tv_sec ||
	       (now.tv_sec == deadline->tv_sec && now.tv_nsec >= deadline->tv_nsec);
}

static void *race_writer(void *arg)
{
	struct race *r = arg;
	long i;

	pthread_barrier_wait(&r->start);
	for (i = 0;; i++) {
		uint64_t next = (i & 1) ? entry_b.storage : entry_a.storage;

		switch (r->kind) {
		case W_LIBRARY:
			ptxn_pte_clear(&race_slot);
			spin();
			ptxn_arch_slot_install(&race_slot.storage, next, valid_storage);
			break;
		case W_SPEC:
			write_clear(&race_slot, valid_half);
			spin();
			write_install(&race_slot, next, !valid_half);
			break;
		case W_WRONG_INSTALL:
			write_clear(&race_slot, valid_half);
			spin();
			write_install(&race_slot, next, valid_half); /* BUG on purpose */
			break;
		case W_WRONG_CLEAR:
			write_clear(&race_slot, !valid_half); /* BUG on purpose */
			spin();
			write_install(&race_slot, next, !valid_half);
			break;
		}
		spin();
		__atomic_store_n(&r->writes, i + 1, __ATOMIC_RELAXED);
		if (i < r->min_iters || (i & 255))
			continue;
		if (past(&r->deadline))
			break;
		/* the observer must really have watched (threads may start late under qemu) */
		if (__atomic_load_n(&r->reads, __ATOMIC_RELAXED) < 1000)
			continue;
		/* enough evidence: an error caught (negative controls), or the window sampled
		 * often enough (the others); else keep going until the deadline */
		if (r->kind >= W_WRONG_INSTALL && __atomic_load_n(&r->illegal, __ATOMIC_RELAXED) > 0)
			break;
		if (r->kind == W_SPEC && __atomic_load_n(&r->partial, __ATOMIC_RELAXED) >= 100)
			break;
#if !defined(__i386__)
		if (r->kind == W_LIBRARY)
			break; /* one 64-bit store here: no window to wait for */
#else
		if (r->kind == W_LIBRARY && __atomic_load_n(&r->partial, __ATOMIC_RELAXED) >= 100)
			break;
#endif
	}
	__atomic_store_n(&r->stop, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *race_observer(void *arg)
{
	struct race *r = arg;
	long reads = 0, illegal = 0, partial = 0;

	pthread_barrier_wait(&r->start);
	while (!__atomic_load_n(&r->stop, __ATOMIC_ACQUIRE)) {
		ptxn_pte_t e = ptxn_ptep_get(&race_slot);

		if ((++reads & 255) == 0)
			__atomic_store_n(&r->reads, reads, __ATOMIC_RELAXED);
		if (!legal(e.storage)) {
			if (illegal++ == 0)
				r->first_illegal = e.storage;
			__atomic_store_n(&r->illegal, illegal, __ATOMIC_RELAXED);
		} else if (e.storage != 0 && !ptxn_pte_hw_valid(e)) {
			/* half written: the window between the two stores was sampled */
			__atomic_store_n(&r->partial, ++partial, __ATOMIC_RELAXED);
		}
	}
	__atomic_store_n(&r->reads, reads, __ATOMIC_RELAXED);
	return NULL;
}

static void run_race(struct race *r, enum writer_kind kind)
{
	pthread_t w, o;

	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->min_iters = ptxn_test_scaled(20000);
	clock_gettime(CLOCK_MONOTONIC, &r->deadline);
	r->deadline.tv_sec += ptxn_test_under_qemu() ? 20 : 3; /* below Check's timeouts */
	ptxn_set_pte(&race_slot, entry_a);
	ck_assert_int_eq(pthread_barrier_init(&r->start, NULL, 2), 0);
	ck_assert_int_eq(pthread_create(&o, NULL, race_observer, r), 0);
	ck_assert_int_eq(pthread_create(&w, NULL, race_writer, r), 0);
	ck_assert_int_eq(pthread_join(w, NULL), 0);
	ck_assert_int_eq(pthread_join(o, NULL), 0);
	pthread_barrier_destroy(&r->start);
	printf("# %s (%s): %ld writes, %ld reads, %ld half-written seen, %ld illegal",
	       writer_name[kind], PTXN_BACKEND_DESCRIPTION, r->writes, r->reads, r->partial,
	       r->illegal);
	if (r->illegal)
		printf(" (first 0x%016" PRIx64 ")", PT_U64(r->first_illegal));
	printf("\n");
	fflush(stdout);
}

START_TEST(test_race_library_order)
{
	static struct race r;

	setup_entries();
	run_race(&r, W_LIBRARY);
	ck_assert_msg(r.illegal == 0, "ptxn_pte_clear/ptxn_arch_slot_install: %ld torn entries "
		      "seen, first 0x%016" PRIx64, r.illegal, PT_U64(r.first_illegal));
	ck_assert_int_ge(r.reads, 1000);
}
END_TEST

START_TEST(test_race_spec_order_widened)
{
	static struct race r;

	setup_entries();
	run_race(&r, W_SPEC);
	ck_assert_msg(r.illegal == 0, "%ld torn entries seen, first 0x%016" PRIx64, r.illegal,
		      PT_U64(r.first_illegal));
	ck_assert_msg(r.partial > 0, "the observer never saw a half-written slot: the window "
		      "was not sampled, so this pass would prove nothing");
}
END_TEST

/* Negative controls: the same observer must catch a wrong order. */
START_TEST(test_race_wrong_install_is_caught)
{
	static struct race r;

	setup_entries();
	run_race(&r, W_WRONG_INSTALL);
	ck_assert_msg(r.illegal > 0, "writing the valid half first was NOT caught in %ld writes "
		      "(%ld reads): the observer cannot see torn entries", r.writes, r.reads);
}
END_TEST

START_TEST(test_race_wrong_clear_is_caught)
{
	static struct race r;

	setup_entries();
	run_race(&r, W_WRONG_CLEAR);
	ck_assert_msg(r.illegal > 0, "clearing the other half first was NOT caught in %ld writes "
		      "(%ld reads)", r.writes, r.reads);
}
END_TEST

/* =========================================================================================
 * 2. store trace (x86: the trap flag single-steps the one store that faulted)
 * ========================================================================================= */
#if defined(__i386__) || defined(__x86_64__)
#define HAVE_TRACE 1
#define EFLAGS_TF 0x100

#if defined(__i386__)
#define UC_IP(uc) ((uc)->uc_mcontext.gregs[REG_EIP])
#else
#define UC_IP(uc) ((uc)->uc_mcontext.gregs[REG_RIP])
#endif
#define UC_FLAGS(uc) ((uc)->uc_mcontext.gregs[REG_EFL])

struct store_event {
	int offset;          /* byte offset of the faulting access within the slot */
	uint64_t after;      /* the slot right after the instruction */
	bool mov32;          /* a plain 32-bit MOV (89 /r or C7 /0, no 66/REX.W/LOCK prefix) */
	bool locked;         /* LOCK prefix (cmpxchg8b, ...) */
};

#define MAX_EVENTS 32
static struct store_event events[MAX_EVENTS];
static int n_events;
static char *trace_page;
static long page_size;
static ptxn_pte_t *trace_slot;

static void decode(const unsigned char *ip, struct store_event *e)
{
	bool opsize16 = false, rexw = false;
	int k;

	e->locked = false;
	for (k = 0; k < 15; k++, ip++) {
		unsigned char b = *ip;

		if (b == 0xf0)
			e->locked = true;
		else if (b == 0x66)
			opsize16 = true;
		else if (b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e || b == 0x64 ||
			 b == 0x65 || b == 0x67 || b == 0xf2 || b == 0xf3)
			;
#if defined(__x86_64__)
		else if (b >= 0x40 && b <= 0x4f)
			rexw = (b & 0x8) != 0;
#endif
		else
			break;
	}
	e->mov32 = (*ip == 0x89 || *ip == 0xc7) && !opsize16 && !rexw && !e->locked;
}

static void on_segv(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;
	char *addr = si->si_addr;

	if (addr < trace_page || addr >= trace_page + page_size || n_events >= MAX_EVENTS) {
		signal(sig, SIG_DFL); /* a real crash: let it happen */
		return;
	}
	events[n_events].offset = (int)(addr - (char *)trace_slot);
	decode((const unsigned char *)UC_IP(uc), &events[n_events]);
	mprotect(trace_page, (size_t)page_size, PROT_READ | PROT_WRITE);
	UC_FLAGS(uc) |= EFLAGS_TF; /* trap right after this one instruction */
}

static void on_trap(int sig, siginfo_t *si, void *ctx)
{
	ucontext_t *uc = ctx;

	(void)sig, (void)si;
	events[n_events++].after = trace_slot->storage;
	mprotect(trace_page, (size_t)page_size, PROT_READ);
	UC_FLAGS(uc) &= ~EFLAGS_TF;
}

typedef void (*traced_fn)(ptxn_pte_t *slot, uint64_t arg);

/* Runs fn(slot, arg) with every store to the slot traced; returns the number of stores. */
static int trace(traced_fn fn, uint64_t initial, uint64_t arg)
{
	struct sigaction sa, old_segv, old_trap;

	if (!trace_page) {
		page_size = sysconf(_SC_PAGESIZE);
		trace_page = mmap(NULL, (size_t)page_size, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		ck_assert(trace_page != MAP_FAILED);
		trace_slot = (ptxn_pte_t *)(trace_page + 64);
	}
	memset(&sa, 0, sizeof(sa));
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	sa.sa_sigaction = on_segv;
	ck_assert_int_eq(sigaction(SIGSEGV, &sa, &old_segv), 0);
	sa.sa_sigaction = on_trap;
	ck_assert_int_eq(sigaction(SIGTRAP, &sa, &old_trap), 0);

	trace_slot->storage = initial;
	n_events = 0;
	ck_assert_int_eq(mprotect(trace_page, (size_t)page_size, PROT_READ), 0);
	fn(trace_slot, arg);
	ck_assert_int_eq(mprotect(trace_page, (size_t)page_size, PROT_READ | PROT_WRITE), 0);

	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGTRAP, &old_trap, NULL);
	return n_events;
}

/*
 * The states the slot went through (those that changed it) from initial to final, and
 * whether each was legal for a walker: not hardware-valid, or exactly initial or final.
 */
static int changes(uint64_t initial, uint64_t final, int *first_change, bool *all_legal,
		   uint64_t *bad)
{
	uint64_t prev = initial;
	int i, n = 0;

	*first_change = -1;
	*all_legal = true;
	for (i = 0; i < n_events; i++) {
		ptxn_pte_t p;

		p.storage = events[i].after;
		if (events[i].after == prev)
			continue; /* e.g. an atomic read by CMPXCHG8B writing the same value */
		if (n++ == 0)
			*first_change = i;
		if (ptxn_pte_hw_valid(p) && p.storage != initial && p.storage != final &&
		    *all_legal) {
			*all_legal = false;
			*bad = events[i].after;
		}
		prev = events[i].after;
	}
	return n;
}

static void print_trace(const char *what, uint64_t initial)
{
	int i;

	printf("# %s from 0x%016" PRIx64 ":", what, PT_U64(initial));
	for (i = 0; i < n_events; i++)
		printf(" [+%d%s%s -> 0x%016" PRIx64 "]", events[i].offset, events[i].mov32 ? " mov32" : "",
		       events[i].locked ? " lock" : "", PT_U64(events[i].after));
	printf("\n");
	fflush(stdout);
}

static void do_pte_clear(ptxn_pte_t *slot, uint64_t arg)
{
	(void)arg;
	ptxn_pte_clear(slot);
}

static void do_install(ptxn_pte_t *slot, uint64_t value)
{
	ptxn_arch_slot_install(&slot->storage, value, valid_storage);
}

static uint64_t replace_old;
static void do_replace(ptxn_pte_t *slot, uint64_t value)
{
	ptxn_arch_slot_replace(&slot->storage, replace_old, value);
}

static void do_set_pte(ptxn_pte_t *slot, uint64_t value)
{
	ptxn_pte_t p;

	p.storage = value;
	ptxn_set_pte(slot, p);
}

static void do_wrong_install(ptxn_pte_t *slot, uint64_t value)
{
	volatile half_t *h = (volatile half_t *)&slot->storage;

	h[valid_half] = half_of(value, valid_half); /* valid half first: BUG on purpose */
	PTXN_COMPILER_BARRIER();
	h[!valid_half] = half_of(value, !valid_half);
}

START_TEST(test_trace_pte_clear)
{
	int first, n;
	bool ok;
	uint64_t bad = 0;

	setup_entries();
	trace(do_pte_clear, entry_a.storage, 0);
	print_trace("ptxn_pte_clear", entry_a.storage);
	n = changes(entry_a.storage, 0, &first, &ok, &bad);
	ck_assert_msg(ok, "ptxn_pte_clear went through 0x%016" PRIx64, PT_U64(bad));
	pt_assert_x64_eq(trace_slot->storage, 0);
#if defined(__i386__)
	/* two ordered halves, the valid one first */
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(events[first].offset, 4 * valid_half);
#else
	ck_assert_int_eq(n, 1);
#endif
}
END_TEST

START_TEST(test_trace_install)
{
	int first, n, k;
	bool ok;
	uint64_t bad = 0;

	setup_entries();
	for (k = 0; k < 2; k++) {
		uint64_t v = k ? entry_b.storage : entry_a.storage;

		trace(do_install, 0, v);
		print_trace("ptxn_arch_slot_install", 0);
		n = changes(0, v, &first, &ok, &bad);
		ck_assert_msg(ok, "ptxn_arch_slot_install went through 0x%016" PRIx64, PT_U64(bad));
		pt_assert_x64_eq(trace_slot->storage, v);
#if defined(__i386__)
		/* two ordered halves, the one without the valid bit first */
		ck_assert_int_eq(n, 2);
		ck_assert_int_eq(events[first].offset, 4 * !valid_half);
		ck_assert(events[first].mov32);
#else
		ck_assert_int_eq(n, 1);
#endif
	}
}
END_TEST

/* replace: a quiescent entry that differs in one half gets exactly one 32-bit store. */
START_TEST(test_trace_replace)
{
	uint64_t a;
	struct {
		uint64_t value;
		int changed_half; /* -1: both */
	} cases[4];
	int c, first, n;
	bool ok;
	uint64_t bad = 0;

	setup_entries();
	a = entry_a.storage;
	cases[0].value = a ^ ptxn_make_pte(PTXN_ARCH_PTE_YOUNG).storage; /* one half */
	cases[1].value = a ^ ptxn_make_pte(UINT64_C(1) << 40).storage;  /* a frame bit */
	cases[2].value = entry_b.storage;                                /* both halves */
	cases[3].value = a;                                              /* nothing */
	for (c = 0; c < 4; c++) {
		uint64_t v = cases[c].value;

		cases[c].changed_half = half_of(v, 0) != half_of(a, 0) ?
						(half_of(v, 1) != half_of(a, 1) ? -1 : 0) : 1;
		replace_old = a;
		trace(do_replace, a, v);
		print_trace("ptxn_arch_slot_replace", a);
		n = changes(a, v, &first, &ok, &bad);
		ck_assert_msg(ok, "replace went through 0x%016" PRIx64, PT_U64(bad));
		pt_assert_x64_eq(trace_slot->storage, v);
		if (v == a)
			continue;
		ck_assert_int_eq(n, 1); /* never an intermediate state */
#if defined(__i386__)
		if (cases[c].changed_half >= 0) {
			/* exactly one store instruction, a 32-bit MOV to the changed half */
			ck_assert_int_eq(n_events, 1);
			ck_assert_int_eq(events[0].offset, 4 * cases[c].changed_half);
			ck_assert_msg(events[0].mov32, "case %d: not a single 32-bit MOV", c);
		} else {
			ck_assert_msg(events[first].locked, "both halves: must be CMPXCHG8B");
		}
#endif
	}
}
END_TEST

START_TEST(test_trace_set_pte)
{
	int first, n;
	bool ok;
	uint64_t bad = 0;

	setup_entries();
	trace(do_set_pte, entry_a.storage, entry_b.storage);
	print_trace("ptxn_set_pte", entry_a.storage);
	n = changes(entry_a.storage, entry_b.storage, &first, &ok, &bad);
	ck_assert(ok);
	ck_assert_int_eq(n, 1); /* one atomic 64-bit store, whatever the halves */
	pt_assert_x64_eq(trace_slot->storage, entry_b.storage);
}
END_TEST

/* Negative control: the tracer flags a writer that puts the valid half first. */
START_TEST(test_trace_catches_wrong_order)
{
	int first, n;
	bool ok;
	uint64_t bad = 0;

	setup_entries();
	trace(do_wrong_install, 0, entry_a.storage);
	print_trace("wrong-order install (negative control)", 0);
	n = changes(0, entry_a.storage, &first, &ok, &bad);
	ck_assert_int_eq(n, 2);
	ck_assert_msg(!ok, "a valid-half-first install was NOT flagged by the tracer");
	pt_assert_x64_eq(trace_slot->storage, entry_a.storage);
}
END_TEST
#endif /* x86 */

int main(void)
{
	Suite *s = suite_create("i686_order");
	TCase *race = tcase_create("race");

	printf("# %s; host %s%s\n", PTXN_BACKEND_DESCRIPTION, PTXN_TEST_CPU_FAMILY,
#if defined(__i386__)
	       ": split 32-bit stores, the real thing"
#else
	       ": the library stores 64 bits at once here; the test-written orders still run"
#endif
	);
	fflush(stdout);
	tcase_add_test(race, test_race_library_order);
	tcase_add_test(race, test_race_spec_order_widened);
	tcase_add_test(race, test_race_wrong_install_is_caught);
	tcase_add_test(race, test_race_wrong_clear_is_caught);
	suite_add_tcase(s, race);
#ifdef HAVE_TRACE
	{
		TCase *tr = tcase_create("trace");

		tcase_add_test(tr, test_trace_pte_clear);
		tcase_add_test(tr, test_trace_install);
		tcase_add_test(tr, test_trace_replace);
		tcase_add_test(tr, test_trace_set_pte);
		tcase_add_test(tr, test_trace_catches_wrong_order);
		suite_add_tcase(s, tr);
	}
#else
	printf("# store trace: needs the x86 trap flag, not run on %s\n", PTXN_TEST_CPU_FAMILY);
	fflush(stdout);
#endif
	return ptxn_test_run(s);
}
