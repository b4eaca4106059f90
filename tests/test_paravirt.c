// SPDX-License-Identifier: MIT
/*
 * Paravirtual platform (issue #6), unit tests: the simulated hypervisor of pvemu/ owns the
 * page tables (the guest's view is read-only: a direct write faults), every request is
 * validated (each rejection with its exact error, its position and the count applied
 * before it, nothing of it applied), traps are counted exactly (CLEAR: two per entry;
 * MERGE/AUTO: one; lazy batches: one per batch), lazy mode reads its own writes, and
 * errors reach the guest. Built once per entry format; the race runs with MMU agents are
 * tests/test_paravirt_race.c. docs/paravirt.md.
 *
 * The validation tests are in tests/test_paravirt_validation.c (linked into the same
 * program), what both files use in tests/test_paravirt.h.
 */
#include "test_paravirt.h"

#include <setjmp.h>
#include <signal.h>

#define PV_N 1000 /* entries for the batching tests: more than the largest batch */

static const unsigned pv_batches[] = {1, 7, 64, 512};

/* Change entries [first, first + n) one transaction each (an mprotect); optionally lazy. */
static void pv_mprotect(struct pv_env *e, uint64_t first, uint64_t n, bool lazy)
{
	uint64_t i;

	if (lazy)
		ptxn_lazy_mmu_enter(&e->mm);
	for (i = first; i < first + n; i++) {
		ptxn_pte_t *slot = pv_slot(e, i);
		uintptr_t va = (uintptr_t)(HW_VA + i * 4096);
		ptxn_pte_t old = ptxn_modify_prot_start(&e->mm, va, slot);

		ptxn_modify_prot_commit(&e->mm, va, slot, old, pv_toggle(old));
	}
	if (lazy)
		ptxn_lazy_mmu_leave(&e->mm);
}

/* Every entry of [0, n) is read-only (after one toggle from writable) and maps its frame. */
static void pv_assert_toggled(struct pv_env *e, uint64_t n, bool writable)
{
	uint64_t i;

	for (i = 0; i < n; i++) {
		ptxn_pteval_t v = pv_val(pv_slot(e, i));

		ck_assert_msg(ptxn_arch_pte_write(v) == writable, "entry %llu: write %d",
			      (unsigned long long)i, (int)ptxn_arch_pte_write(v));
		ck_assert_uint_eq(ptxn_arch_pte_pfn(v), (e->data_pa >> 12) + i);
	}
}

/* ================================ the trap itself ====================================== */

static sigjmp_buf pv_jmp;
static volatile sig_atomic_t pv_faults;
static void *volatile pv_fault_addr;

static void pv_on_segv(int sig, siginfo_t *si, void *uc)
{
	(void)sig, (void)uc;
	pv_faults++;
	pv_fault_addr = si->si_addr;
	siglongjmp(pv_jmp, 1);
}

/* The writes that must fault, out of line: nothing of theirs lives across sigsetjmp. */
static __attribute__((noinline)) void pv_guest_store(ptxn_pte_t *slot)
{
	ptxn_set_pte(slot, ptxn_make_pte(0));
}

static __attribute__((noinline)) void pv_native_clear_start(ptxn_pte_t *slot)
{
	ptxn_mm_t native;

	ptxn_mm_init(&native);
	ck_assert(ptxn_mm_set_strategy(&native, PTXN_STRATEGY_CLEAR));
	(void)ptxn_modify_prot_start(&native, (uintptr_t)HW_VA, slot);
}

/* Run fn(slot); true if it took SIGSEGV (or SIGBUS) at slot. */
static __attribute__((noinline)) bool pv_faults_at(void (*fn)(ptxn_pte_t *), ptxn_pte_t *slot)
{
	struct sigaction sa, old_segv, old_bus;
	bool faulted = false;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = pv_on_segv;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGSEGV, &sa, &old_segv), 0);
	ck_assert_int_eq(sigaction(SIGBUS, &sa, &old_bus), 0);
	pv_faults = 0;
	pv_fault_addr = NULL;
	if (sigsetjmp(pv_jmp, 1) == 0)
		fn(slot);
	else
		faulted = pv_faults == 1 && pv_fault_addr == (void *)slot;
	sigaction(SIGSEGV, &old_segv, NULL);
	sigaction(SIGBUS, &old_bus, NULL);
	return faulted;
}

/*
 * "Every PTE write traps": the guest's tables are mapped read-only, so a store (or the
 * native transaction API, whose exchange is a store) takes SIGSEGV and changes nothing,
 * while the same change through the paravirt platform is one hypercall, and the MMU
 * agents keep setting A/D through the hypervisor's writable view.
 */
START_TEST(test_guest_write_faults)
{
	struct pv_env e;
	ptxn_pte_t *slot;
	ptxn_pteval_t before;
	struct ptxn_hwemu_agent *a;
	ptxn_pte_t old;

	pv_env_simple(&e, 4, PTXN_STRATEGY_MERGE, 0);
	slot = pv_slot(&e, 0);
	before = pv_val(slot);
	ck_assert_msg(pv_faults_at(pv_guest_store, slot),
		      "a guest store to its page table did not fault at the entry");
	ck_assert_uint_eq(pv_val(slot), before);
	/* The native (unparavirtualised) transaction API on the same table: CLEAR's exchange. */
	ck_assert_msg(pv_faults_at(pv_native_clear_start, slot),
		      "the native transaction API wrote a read-only page table");
	ck_assert_uint_eq(pv_val(slot), before);

	/* Through the hypervisor: one trap, done. */
	old = ptxn_modify_prot_start(&e.mm, (uintptr_t)HW_VA, slot);
	ptxn_modify_prot_commit(&e.mm, (uintptr_t)HW_VA, slot, old, pv_toggle(old));
	ck_assert_uint_eq(ptxn_pvemu_traps(e.pv), 1);
	ck_assert(!ptxn_arch_pte_write(pv_val(slot)));

	/* The MMU sets A/D through the writable view; the guest sees it. */
	a = hw_raw_agent(e.hw, 0);
	ck_assert(!ptxn_arch_pte_young(pv_val(pv_slot(&e, 1))));
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA + 4096, PTXN_MMU_WRITE, true, NULL), PTXN_MMU_OK);
	ck_assert(ptxn_arch_pte_young(pv_val(pv_slot(&e, 1))));
	ck_assert(ptxn_arch_pte_dirty(pv_val(pv_slot(&e, 1))));
	pv_env_fini(&e);
}
END_TEST

/* The synthetic trap cost is paid once per hypercall, and only there. */
START_TEST(test_trap_cost)
{
	struct pv_env e;
	struct pv_env_config c;
	struct ptxn_pvemu_stats st;
	double t0, dt;
	unsigned i;

	memset(&c, 0, sizeof(c));
	c.pages = 64;
	c.prot = PV_R | PV_W | PV_U;
	c.strategy = PTXN_STRATEGY_MERGE;
	c.trap_ns = 5000;
	pv_env_init(&e, &c);
	t0 = hw_now();
	for (i = 0; i < 4; i++)
		pv_mprotect(&e, 0, 50, false);
	dt = hw_now() - t0;
	ptxn_pvemu_get_stats(e.pv, &st);
	ck_assert_uint_eq(st.traps, 200);
	ck_assert_msg(dt >= 200 * 5e-6, "200 traps of 5 us took %.6f s", dt);
	ck_assert_uint_ge(st.busy_ns, 200u * 5000u);
	pv_env_fini(&e);
}
END_TEST

/* ================================ trap counts ========================================== */

/* Outside lazy mode: CLEAR 2 per entry (exchange, write), MERGE and AUTO 1, unchanged 0. */
START_TEST(test_traps_unbatched)
{
	static const int strategies[] = {PTXN_STRATEGY_CLEAR, PTXN_STRATEGY_MERGE, PTXN_STRATEGY_AUTO};
	unsigned k;

	for (k = 0; k < 3; k++) {
		struct pv_env e;
		struct ptxn_pvemu_stats st;
		uint64_t n = 100, i;

		pv_env_simple(&e, n, strategies[k], 0);
		pv_mprotect(&e, 0, n, false);
		ptxn_pvemu_get_stats(e.pv, &st);
		pv_assert_toggled(&e, n, false);
		if (strategies[k] == PTXN_STRATEGY_CLEAR) {
			ck_assert_uint_eq(st.traps, 2 * n);
			ck_assert_uint_eq(st.by_cmd[PTXN_PV_BREAK], n);
			ck_assert_uint_eq(st.by_cmd[PTXN_PV_INSTALL], n);
		} else {
			ck_assert_uint_eq(st.traps, n);
			ck_assert_uint_eq(st.by_cmd[PTXN_PV_PRESERVE_AD], n);
		}
		ck_assert_uint_eq(st.max_batch, 1);
		ck_assert_uint_eq(ptxn_pvemu_mm_traps(&e.mm), st.traps);

		/* A commit that changes nothing costs nothing (MERGE, AUTO). */
		for (i = 0; i < n; i++) {
			ptxn_pte_t *slot = pv_slot(&e, i);
			uintptr_t va = (uintptr_t)(HW_VA + i * 4096);
			ptxn_pte_t old = ptxn_modify_prot_start(&e.mm, va, slot);

			ptxn_modify_prot_commit(&e.mm, va, slot, old, old);
		}
		ck_assert_uint_eq(ptxn_pvemu_traps(e.pv) - st.traps,
				  strategies[k] == PTXN_STRATEGY_CLEAR ? 2 * n : 0);
		pv_env_fini(&e);
	}
}
END_TEST

/*
 * In lazy mode: MERGE and AUTO commits travel ceil(n / batch) hypercalls; CLEAR's
 * exchange cannot wait (start needs its result), so each start is a trap that carries
 * the previous commit along, plus the last commit at leave: n + 1 (2n with a batch of 1,
 * which sends every commit at once). ptxn_set_pte_at batches like a commit.
 */
START_TEST(test_traps_lazy)
{
	unsigned b;

	for (b = 0; b < sizeof(pv_batches) / sizeof(pv_batches[0]); b++) {
		unsigned batch = pv_batches[b];
		static const int strategies[] = {PTXN_STRATEGY_CLEAR, PTXN_STRATEGY_MERGE,
						 PTXN_STRATEGY_AUTO};
		unsigned k;

		for (k = 0; k < 3; k++) {
			struct pv_env e;
			struct ptxn_pvemu_stats st;
			uint64_t want;

			pv_env_simple(&e, PV_N, strategies[k], batch);
			pv_mprotect(&e, 0, PV_N, true);
			ptxn_pvemu_get_stats(e.pv, &st);
			pv_assert_toggled(&e, PV_N, false);
			if (strategies[k] == PTXN_STRATEGY_CLEAR)
				want = batch == 1 ? 2 * PV_N : PV_N + 1;
			else
				want = pv_div_up(PV_N, batch);
			ck_assert_msg(st.traps == want, "%s, batch %u: %llu traps, want %llu",
				      ptxn_strategy_name((enum ptxn_strategy)strategies[k]), batch,
				      (unsigned long long)st.traps, (unsigned long long)want);
			if (strategies[k] != PTXN_STRATEGY_CLEAR)
				ck_assert_uint_eq(st.max_batch, batch < PV_N ? batch : PV_N);
			ck_assert_uint_eq(st.applied, strategies[k] == PTXN_STRATEGY_CLEAR ? 2 * PV_N : PV_N);
			ck_assert_uint_eq(ptxn_pvemu_mm_queued(&e.mm), 0);
			pv_env_fini(&e);
		}

		/* ptxn_set_pte_at: a plain write, batched the same way. */
		{
			struct pv_env e;
			uint64_t i;

			pv_env_simple(&e, PV_N, PTXN_STRATEGY_AUTO, batch);
			ptxn_lazy_mmu_enter(&e.mm);
			for (i = 0; i < PV_N; i++) {
				ptxn_pte_t *slot = pv_slot(&e, i);

				ptxn_set_pte_at(&e.mm, (uintptr_t)(HW_VA + i * 4096), slot,
						pv_toggle(ptxn_pvemu_read(slot)));
			}
			ptxn_lazy_mmu_leave(&e.mm);
			ck_assert_uint_eq(ptxn_pvemu_traps(e.pv), pv_div_up(PV_N, batch));
			pv_assert_toggled(&e, PV_N, false);
			pv_env_fini(&e);
		}
	}
}
END_TEST

/*
 * Batched transactions (one folio of nr entries): start is one hypercall (harvest for
 * MERGE/AUTO, break for CLEAR), commit one more outside lazy mode; in lazy mode the
 * commit rides with the next start, and the last with leave.
 */
START_TEST(test_traps_folio)
{
	static const int strategies[] = {PTXN_STRATEGY_CLEAR, PTXN_STRATEGY_MERGE, PTXN_STRATEGY_AUTO};
	unsigned k, lazy;

	for (lazy = 0; lazy < 2; lazy++)
		for (k = 0; k < 3; k++) {
			struct pv_env e;
			uint64_t f, folios = 16, nr = 8;

			pv_env_simple(&e, folios * nr, strategies[k], 64);
			if (lazy)
				ptxn_lazy_mmu_enter(&e.mm);
			for (f = 0; f < folios; f++) {
				ptxn_pte_t *slot = pv_slot(&e, f * nr);
				uintptr_t va = (uintptr_t)(HW_VA + f * nr * 4096);
				ptxn_pte_t old = ptxn_modify_prot_start_ptes(&e.mm, va, slot, (unsigned)nr);

				ptxn_modify_prot_commit_ptes(&e.mm, va, slot, old, pv_toggle(old), (unsigned)nr);
			}
			if (lazy)
				ptxn_lazy_mmu_leave(&e.mm);
			ck_assert_uint_eq(ptxn_pvemu_traps(e.pv), lazy ? folios + 1 : 2 * folios);
			pv_assert_toggled(&e, folios * nr, false);
			pv_env_fini(&e);
		}
}
END_TEST

/* Two guest threads ("vCPUs") sharing the ring, each with its own mm. */
struct pv_vcpu {
	struct pv_env *e;
	ptxn_mm_t mm;
	uint64_t first, n;
};

static void *pv_vcpu_main(void *arg)
{
	struct pv_vcpu *v = (struct pv_vcpu *)arg;
	int round;
	uint64_t i;

	for (round = 0; round < 20; round++)
		for (i = v->first; i < v->first + v->n; i++) {
			ptxn_pte_t *slot = pv_slot(v->e, i);
			uintptr_t va = (uintptr_t)(HW_VA + i * 4096);
			ptxn_pte_t old = ptxn_modify_prot_start(&v->mm, va, slot);

			ptxn_modify_prot_commit(&v->mm, va, slot, old, pv_toggle(old));
		}
	return NULL;
}

START_TEST(test_two_vcpus)
{
	struct pv_env e;
	struct pv_vcpu v[2];
	pthread_t th[2];
	int k;

	pv_env_simple(&e, 64, PTXN_STRATEGY_MERGE, 0);
	for (k = 0; k < 2; k++) {
		v[k].e = &e;
		ptxn_mm_init(&v[k].mm);
		ck_assert(ptxn_mm_set_strategy(&v[k].mm, PTXN_STRATEGY_MERGE));
		ck_assert(ptxn_pvemu_attach(e.pv, &v[k].mm, 0));
		v[k].first = (uint64_t)k * 32;
		v[k].n = 32;
		ck_assert_int_eq(pthread_create(&th[k], NULL, pv_vcpu_main, &v[k]), 0);
	}
	for (k = 0; k < 2; k++)
		pthread_join(th[k], NULL);
	ck_assert_uint_eq(ptxn_pvemu_traps(e.pv), 2 * 20 * 32);
	ck_assert_uint_eq(ptxn_pvemu_mm_traps(&v[0].mm), 20 * 32);
	pv_assert_toggled(&e, 64, true); /* an even number of toggles */
	for (k = 0; k < 2; k++)
		ptxn_pvemu_detach(&v[k].mm);
	pv_env_fini(&e);
}
END_TEST

/* ================================ read-your-writes ====================================== */

/*
 * A queued commit is not in the table yet: the MMU (and ptxn_ptep_get) still see the old
 * entry. ptxn_ptep_get_at, and a new start on that entry, send the queue first (one trap)
 * and return the entry as the hypervisor wrote it. An entry with nothing queued is read
 * without a trap.
 */
START_TEST(test_read_your_writes)
{
	static const int strategies[] = {PTXN_STRATEGY_MERGE, PTXN_STRATEGY_AUTO, PTXN_STRATEGY_CLEAR};
	unsigned k;

	for (k = 0; k < 3; k++) {
		struct pv_env e;
		ptxn_pte_t *s0, *s1, *s2, old, pte, got;
		uint64_t traps;

		pv_env_simple(&e, 8, strategies[k], 64);
		s0 = pv_slot(&e, 0), s1 = pv_slot(&e, 1), s2 = pv_slot(&e, 2);
		ptxn_lazy_mmu_enter(&e.mm);
		old = ptxn_modify_prot_start(&e.mm, (uintptr_t)HW_VA, s0);
		pte = pv_toggle(old);
		ptxn_modify_prot_commit(&e.mm, (uintptr_t)HW_VA, s0, old, pte);
		traps = ptxn_pvemu_traps(e.pv);
		ck_assert_uint_eq(ptxn_pvemu_mm_queued(&e.mm), 1);
		if (strategies[k] == PTXN_STRATEGY_CLEAR) /* not applied yet: still broken */
			ck_assert(!ptxn_arch_pte_hw_valid(pv_val(s0)));
		else /* not applied yet: as it was */
			ck_assert_uint_eq(pv_val(s0), ptxn_pte_val(old));

		got = ptxn_ptep_get_at(&e.mm, (uintptr_t)(HW_VA + 4096), s1); /* nothing queued there */
		ck_assert_uint_eq(ptxn_pvemu_traps(e.pv), traps);
		ck_assert_uint_eq(ptxn_pte_val(got), pv_val(s1));

		got = ptxn_ptep_get_at(&e.mm, (uintptr_t)HW_VA, s0);
		ck_assert_uint_eq(ptxn_pvemu_traps(e.pv), traps + 1);
		ck_assert_uint_eq(ptxn_pte_val(got), ptxn_pte_val(pte));
		ck_assert_uint_eq(ptxn_pvemu_mm_queued(&e.mm), 0);

		/* A second transaction on a queued entry starts from what the first wrote. */
		old = ptxn_modify_prot_start(&e.mm, (uintptr_t)(HW_VA + 8192), s2);
		pte = pv_toggle(old);
		ptxn_modify_prot_commit(&e.mm, (uintptr_t)(HW_VA + 8192), s2, old, pte);
		old = ptxn_modify_prot_start(&e.mm, (uintptr_t)(HW_VA + 8192), s2);
		ck_assert_uint_eq(ptxn_pte_val(old), ptxn_pte_val(pte));
		ck_assert(!ptxn_pte_write(old));
		ptxn_modify_prot_commit(&e.mm, (uintptr_t)(HW_VA + 8192), s2, old, pv_toggle(old));
		ptxn_lazy_mmu_leave(&e.mm);
		ck_assert(ptxn_arch_pte_write(pv_val(s2)));
		ck_assert(!ptxn_arch_pte_write(pv_val(s0)));
		pv_env_fini(&e);
	}
}
END_TEST

/* Natively ptxn_ptep_get_at is ptxn_ptep_get. */
START_TEST(test_ptep_get_at_native)
{
	ptxn_pte_t slot = ptxn_make_pte(ptxn_arch_pfn_pte(5, ptxn_prot(PV_R).bits));
	ptxn_mm_t mm;

	ptxn_mm_init(&mm);
	ck_assert_uint_eq(ptxn_ptep_get_at(&mm, 0, &slot).storage, slot.storage);
}
END_TEST

static Suite *pv_suite(void)
{
	Suite *s = suite_create("paravirt_" PTXN_FORMAT_NAME);
	TCase *tc = tcase_create("paravirt");

	tcase_add_test(tc, test_guest_write_faults);
	tcase_add_test(tc, test_trap_cost);
	tcase_add_test(tc, test_traps_unbatched);
	tcase_add_test(tc, test_traps_lazy);
	tcase_add_test(tc, test_traps_folio);
	tcase_add_test(tc, test_two_vcpus);
	tcase_add_test(tc, test_read_your_writes);
	tcase_add_test(tc, test_ptep_get_at_native);
	pv_validation_tests(tc); /* tests/test_paravirt_validation.c */
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ptxn_test_run(pv_suite());
}
