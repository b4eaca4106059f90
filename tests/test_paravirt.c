// SPDX-License-Identifier: MIT
/*
 * Paravirtual platform (issue #6), unit tests: the simulated hypervisor of pvemu/ owns the
 * page tables (the guest's view is read-only: a direct write faults), every request is
 * validated (each rejection with its exact error, its position and the count applied
 * before it, nothing of it applied), traps are counted exactly (CLEAR: two per entry;
 * MERGE/AUTO: one; lazy batches: one per batch), lazy mode reads its own writes, and
 * errors reach the guest. Built once per entry format; the race runs with MMU agents are
 * tests/test_paravirt_race.c. docs/paravirt.md.
 */
#include "test_paravirt_util.h"

#include <setjmp.h>
#include <signal.h>

#define PV_N 1000 /* entries for the batching tests: more than the largest batch */

static const unsigned pv_batches[] = {1, 7, 64, 512};

static void pv_env_simple(struct pv_env *e, uint64_t pages, int strategy, unsigned batch)
{
	struct pv_env_config c;

	memset(&c, 0, sizeof(c));
	c.pages = pages;
	c.prot = PV_R | PV_W | PV_U;
	c.strategy = strategy;
	c.batch = batch;
	pv_env_init(e, &c);
}

/* The protection that differs from the entry's: writable <-> read-only. */
static ptxn_pte_t pv_toggle(ptxn_pte_t old)
{
	return ptxn_pte_modify(old, ptxn_prot(ptxn_pte_write(old) ? PV_R | PV_U : PV_R | PV_W | PV_U));
}

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

/* ================================ validation =========================================== */

struct pv_bad {
	const char *what;
	int error;
	struct ptxn_pv_request req;
};

/* A leaf for page i with prot, or one mapping frame pa. */
static ptxn_pte_t pv_leaf(uint64_t pa, unsigned prot)
{
	return ptxn_make_pte(ptxn_arch_pfn_pte(pa >> 12, ptxn_prot(prot).bits));
}

/* Every bad request the hypervisor must refuse, and why. */
static unsigned pv_bad_requests(struct pv_env *e, struct pv_bad *bad)
{
	struct ptxn_pvemu *pv = e->pv;
	uint64_t base = ptxn_pvemu_table_base(pv), end = base + pv->table_bytes, free_page = 0, p;
	uint64_t slot0 = ptxn_pvemu_slot_pa(pv, pv_slot(e, 10)); /* not among the good requests' */
	uint64_t root = e->hw->as.mmu.root;
	ptxn_pte_t *upper = ptxn_hwemu_as_slot(&e->hw->as, HW_VA, 1, false);
	uint64_t upper_pa = ptxn_hwemu_slot_pa(e->hw, upper);
	unsigned n = 0;

	for (p = e->hw->phys.npages; p-- > 0;)
		if (!e->hw->phys.used[p]) {
			free_page = base + p * 4096;
			break;
		}
	ck_assert_uint_ne(free_page, 0);
#define PV_BAD(w, err, cmd_, slot_, val_)                                                    \
	do {                                                                                  \
		bad[n].what = (w);                                                            \
		bad[n].error = (err);                                                         \
		bad[n].req = ptxn_pvemu_req((cmd_), (slot_), HW_VA + 10 * 4096, ptxn_make_pte(0), (val_)); \
		n++;                                                                          \
	} while (0)
	PV_BAD("misaligned slot", PTXN_PV_EALIGN, PTXN_PV_UPDATE, slot0 + 4, pv_leaf(e->data_pa, PV_R));
	PV_BAD("misaligned slot (break)", PTXN_PV_EALIGN, PTXN_PV_BREAK, slot0 + 1, ptxn_make_pte(0));
	PV_BAD("slot past the table memory", PTXN_PV_ENOTPT, PTXN_PV_UPDATE, end + 64,
	       pv_leaf(e->data_pa, PV_R));
	PV_BAD("slot below the table memory", PTXN_PV_ENOTPT, PTXN_PV_PRESERVE_AD, base - 4096,
	       pv_leaf(e->data_pa, PV_R));
	PV_BAD("slot in a free page", PTXN_PV_ENOTPT, PTXN_PV_UPDATE, free_page + 8,
	       pv_leaf(e->data_pa, PV_R));
	PV_BAD("slot in a data frame", PTXN_PV_ENOTPT, PTXN_PV_HARVEST, e->data_pa, ptxn_make_pte(0));
	PV_BAD("writable mapping of the root table", PTXN_PV_EPTWRITE, PTXN_PV_UPDATE, slot0,
	       pv_leaf(root, PV_R | PV_W | PV_U));
	PV_BAD("writable mapping of a leaf table (preserve-ad)", PTXN_PV_EPTWRITE, PTXN_PV_PRESERVE_AD,
	       slot0, pv_leaf(slot0 & ~UINT64_C(4095), PV_R | PV_W));
	PV_BAD("writable mapping of a leaf table (install)", PTXN_PV_EPTWRITE, PTXN_PV_INSTALL, slot0,
	       pv_leaf(slot0 & ~UINT64_C(4095), PV_R | PV_W | PV_U));
	PV_BAD("frame past the guest's data", PTXN_PV_EPFN, PTXN_PV_UPDATE, slot0,
	       pv_leaf(e->data_pa + (e->pages + 100) * 4096, PV_R));
	PV_BAD("frame between tables and data", PTXN_PV_EPFN, PTXN_PV_PRESERVE_AD, slot0,
	       pv_leaf(end + 4096, PV_R));
	PV_BAD("frame below the guest's memory", PTXN_PV_EPFN, PTXN_PV_INSTALL, slot0, pv_leaf(0, PV_R));
	PV_BAD("table entry to a data frame", PTXN_PV_ETABLE, PTXN_PV_UPDATE, upper_pa,
	       ptxn_make_pte(ptxn_mmu_table_entry(&e->hw->as.mmu, e->data_pa, 1)));
	PV_BAD("table entry to the root", PTXN_PV_ETABLE, PTXN_PV_UPDATE, upper_pa,
	       ptxn_make_pte(ptxn_mmu_table_entry(&e->hw->as.mmu, root, 1)));
	PV_BAD("unknown command", PTXN_PV_ECMD, 99, slot0, pv_leaf(e->data_pa, PV_R));
	PV_BAD("empty TLB flush", PTXN_PV_ECMD, PTXN_PV_TLB_FLUSH, 0, ptxn_make_pte(0));
#undef PV_BAD
	(void)p;
	return n;
}

/*
 * The raw hypercall: seven good requests (UPDATE of pages 0..6 to read-only) with a bad
 * one in position k: the call returns the bad one's error, done == k, requests 0..k-1
 * applied, k.. untouched (the bad request's target entry included, bit for bit).
 */
START_TEST(test_validation_hypercall)
{
	struct pv_env e;
	struct pv_bad bad[32];
	unsigned nbad, b;

	pv_env_simple(&e, 16, PTXN_STRATEGY_MERGE, 0);
	nbad = pv_bad_requests(&e, bad);
	for (b = 0; b < nbad; b++) {
		struct ptxn_pv_request reqs[8];
		ptxn_pteval_t before[16], upper_before;
		ptxn_pte_t *upper = ptxn_hwemu_as_slot(&e.hw->as, HW_VA, 1, false);
		unsigned k = b % 7, done = 99, i;
		uint64_t rejected0 = e.pv->stats.rejected;
		int err;

		for (i = 0; i < 16; i++) {
			ptxn_pte_t *s = pv_slot(&e, i);

			ptxn_set_pte(ptxn_hwemu_slot_ptr(e.hw, ptxn_pvemu_slot_pa(e.pv, s)),
				     pv_leaf(e.data_pa + i * 4096, PV_R | PV_W | PV_U));
			before[i] = pv_val(s);
		}
		upper_before = ptxn_pte_val(ptxn_ptep_get(upper));
		for (i = 0; i < 8; i++) {
			unsigned page = i < k ? i : i - 1;

			if (i == k) {
				reqs[i] = bad[b].req;
				continue;
			}
			reqs[i] = ptxn_pvemu_req(PTXN_PV_UPDATE, ptxn_pvemu_slot_pa(e.pv, pv_slot(&e, page)),
						 HW_VA + page * 4096, ptxn_make_pte(0),
						 pv_leaf(e.data_pa + page * 4096, PV_R | PV_U));
		}
		err = ptxn_pvemu_hypercall(e.pv, reqs, 8, 0, &done);
		ck_assert_msg(err == bad[b].error, "%s: error %d (%s), want %d (%s)", bad[b].what, err,
			      ptxn_pv_strerror(err), bad[b].error, ptxn_pv_strerror(bad[b].error));
		ck_assert_msg(done == k, "%s: %u applied before the rejection, want %u", bad[b].what,
			      done, k);
		ck_assert_uint_eq(e.pv->stats.rejected, rejected0 + 1);
		for (i = 0; i < 16; i++) {
			ptxn_pteval_t v = pv_val(pv_slot(&e, i));

			if (i < k)
				ck_assert_msg(!ptxn_arch_pte_write(v), "%s: request %u not applied",
					      bad[b].what, i);
			else
				ck_assert_msg(v == before[i], "%s: entry %u changed after the rejection",
					      bad[b].what, i);
		}
		ck_assert_uint_eq(ptxn_pte_val(ptxn_ptep_get(upper)), upper_before);
	}
	pv_env_fini(&e);
}
END_TEST

/* What the hypervisor accepts at the edges: the rules are not stricter than stated. */
START_TEST(test_validation_accepts)
{
	struct pv_env e;
	struct ptxn_pv_request r;
	uint64_t slot, root;
	ptxn_pte_t *upper;
	unsigned done;

	pv_env_simple(&e, 16, PTXN_STRATEGY_MERGE, 0);
	slot = ptxn_pvemu_slot_pa(e.pv, pv_slot(&e, 3));
	root = e.hw->as.mmu.root;
	/* A read-only mapping of a page table is allowed (Xen allows it too). */
	r = ptxn_pvemu_req(PTXN_PV_UPDATE, slot, HW_VA + 3 * 4096, ptxn_make_pte(0), pv_leaf(root, PV_R));
	ck_assert_int_eq(ptxn_pvemu_hypercall(e.pv, &r, 1, 0, &done), PTXN_PV_OK);
	ck_assert_uint_eq(done, 1);
	ck_assert_uint_eq(pv_val(pv_slot(&e, 3)), ptxn_pte_val(pv_leaf(root, PV_R)));
	ck_assert_uint_eq(ptxn_pte_val(r.result), ptxn_pte_val(pv_leaf(e.data_pa + 3 * 4096, PV_R | PV_W | PV_U)));
	/* An empty entry, anywhere in a table, with any frame bits. */
	r = ptxn_pvemu_req(PTXN_PV_UPDATE, slot, HW_VA + 3 * 4096, ptxn_make_pte(0), ptxn_make_pte(0));
	ck_assert_int_eq(ptxn_pvemu_hypercall(e.pv, &r, 1, 0, NULL), PTXN_PV_OK);
	/* A table entry rewritten with the table it points at. */
	upper = ptxn_hwemu_as_slot(&e.hw->as, HW_VA, 1, false);
	r = ptxn_pvemu_req(PTXN_PV_UPDATE, ptxn_hwemu_slot_pa(e.hw, upper), HW_VA, ptxn_make_pte(0),
			   ptxn_ptep_get(upper));
	ck_assert_int_eq(ptxn_pvemu_hypercall(e.pv, &r, 1, 0, NULL), PTXN_PV_OK);
	/* The last data frame. */
	r = ptxn_pvemu_req(PTXN_PV_UPDATE, slot, HW_VA + 3 * 4096, ptxn_make_pte(0),
			   pv_leaf(e.data_pa + 15 * 4096, PV_R | PV_W));
	ck_assert_int_eq(ptxn_pvemu_hypercall(e.pv, &r, 1, 0, NULL), PTXN_PV_OK);
	/* A TLB flush. */
	r = ptxn_pvemu_req(PTXN_PV_TLB_FLUSH, 0, HW_VA, ptxn_make_pte(0), ptxn_make_pte(0));
	r.val.storage = 16 * 4096;
	ck_assert_int_eq(ptxn_pvemu_hypercall(e.pv, &r, 1, 0, NULL), PTXN_PV_OK);
	ck_assert_uint_eq(e.pv->stats.rejected, 0);
	pv_env_fini(&e);
}
END_TEST

/* The guest API: a per-mm error record and an optional hook. */
static struct ptxn_pv_error pv_hooked[8];
static unsigned pv_nhooked;

static void pv_hook(ptxn_mm_t *mm, const struct ptxn_pv_error *err, void *ctx)
{
	(void)mm;
	(void)ctx;
	if (pv_nhooked < 8)
		pv_hooked[pv_nhooked] = *err;
	pv_nhooked++;
}

/*
 * Through the transaction API: a commit that would map a page table writable is refused
 * with its request's position, the entry is left exactly as it was, the caller learns it
 * from ptxn_pvemu_take_error() and the hook; in a lazy batch the requests after it are
 * sent again, so only the bad one is lost (and one more trap is paid).
 */
START_TEST(test_validation_api)
{
	unsigned lazy;

	for (lazy = 0; lazy < 2; lazy++) {
		struct pv_env e;
		struct ptxn_pv_error err;
		uint64_t i, table_pa;
		ptxn_pteval_t bad_before;

		pv_env_simple(&e, 16, PTXN_STRATEGY_MERGE, 7);
		ptxn_pvemu_set_error_hook(&e.mm, pv_hook, NULL);
		pv_nhooked = 0;
		table_pa = ptxn_pvemu_slot_pa(e.pv, pv_slot(&e, 0)) & ~UINT64_C(4095);
		bad_before = pv_val(pv_slot(&e, 3));
		if (lazy)
			ptxn_lazy_mmu_enter(&e.mm);
		for (i = 0; i < 7; i++) {
			ptxn_pte_t *slot = pv_slot(&e, i);
			uintptr_t va = (uintptr_t)(HW_VA + i * 4096);
			ptxn_pte_t old = ptxn_modify_prot_start(&e.mm, va, slot), pte = pv_toggle(old);

			if (i == 3) /* remap it onto its own page table, writable */
				pte = pv_leaf(table_pa, PV_R | PV_W | PV_U);
			ptxn_modify_prot_commit(&e.mm, va, slot, old, pte);
		}
		if (lazy)
			ptxn_lazy_mmu_leave(&e.mm);
		ck_assert_uint_eq(ptxn_pvemu_take_error(&e.mm, &err), 1);
		ck_assert_int_eq(err.code, PTXN_PV_EPTWRITE);
		ck_assert_uint_eq(err.cmd, PTXN_PV_PRESERVE_AD);
		ck_assert_uint_eq(err.slot, ptxn_pvemu_slot_pa(e.pv, pv_slot(&e, 3)));
		ck_assert_uint_eq(err.addr, HW_VA + 3 * 4096);
		ck_assert_uint_eq(ptxn_pte_val(err.val), ptxn_pte_val(pv_leaf(table_pa, PV_R | PV_W | PV_U)));
		ck_assert_uint_eq(err.index, lazy ? 3 : 0);
		ck_assert_uint_eq(err.done, err.index);
		ck_assert_uint_eq(err.count, lazy ? 7 : 1);
		ck_assert_uint_eq(pv_nhooked, 1);
		ck_assert_int_eq(pv_hooked[0].code, PTXN_PV_EPTWRITE);
		ck_assert_uint_eq(ptxn_pvemu_take_error(&e.mm, NULL), 0);
		ck_assert_uint_eq(pv_val(pv_slot(&e, 3)), bad_before);
		for (i = 0; i < 7; i++)
			if (i != 3)
				ck_assert(!ptxn_arch_pte_write(pv_val(pv_slot(&e, i))));
		/* lazy: 1 batch + the 3 requests after the rejected one; else 7 commits */
		ck_assert_uint_eq(ptxn_pvemu_traps(e.pv), lazy ? 2 : 7);
		pv_env_fini(&e);
	}
}
END_TEST

/*
 * Slots the guest names badly through the API (ptxn_set_pte_at; in a release build the
 * transaction calls would reach the hypervisor the same way): a misaligned pointer into
 * a table, and a pointer to ordinary memory.
 */
START_TEST(test_validation_api_slots)
{
	struct pv_env e;
	struct ptxn_pv_error err;
	ptxn_pte_t not_a_table[2] = {{0}, {0}};
	ptxn_pte_t *slot;
	ptxn_pteval_t before;

	pv_env_simple(&e, 4, PTXN_STRATEGY_MERGE, 0);
	slot = pv_slot(&e, 1);
	before = pv_val(slot);
	ptxn_set_pte_at(&e.mm, (uintptr_t)(HW_VA + 4096),
			(ptxn_pte_t *)(void *)((unsigned char *)slot + 4), pv_leaf(e.data_pa, PV_R));
	ck_assert_uint_eq(ptxn_pvemu_take_error(&e.mm, &err), 1);
	ck_assert_int_eq(err.code, PTXN_PV_EALIGN);
	ck_assert_uint_eq(err.cmd, PTXN_PV_UPDATE);
	ck_assert_uint_eq(err.slot, ptxn_pvemu_slot_pa(e.pv, slot) + 4);
	ck_assert_uint_eq(pv_val(slot), before);
	ck_assert_uint_eq(pv_val(pv_slot(&e, 0)), ptxn_pte_val(pv_leaf(e.data_pa, PV_R | PV_W | PV_U)));

	ptxn_set_pte_at(&e.mm, (uintptr_t)HW_VA, &not_a_table[1], pv_leaf(e.data_pa, PV_R));
	ck_assert_uint_eq(ptxn_pvemu_take_error(&e.mm, &err), 1);
	ck_assert_int_eq(err.code, PTXN_PV_ENOTPT);
	ck_assert_uint_eq(not_a_table[1].storage, 0);
	ck_assert_uint_eq(ptxn_pvemu_traps(e.pv), 2);
	pv_env_fini(&e);
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
	tcase_add_test(tc, test_validation_hypercall);
	tcase_add_test(tc, test_validation_accepts);
	tcase_add_test(tc, test_validation_api);
	tcase_add_test(tc, test_validation_api_slots);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return hw_run(pv_suite());
}
