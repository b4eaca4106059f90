/* SPDX-License-Identifier: MIT */
/*
 * tests/test_paravirt_util.h - helpers shared by the paravirt tests (tests/test_paravirt*.c):
 * a hwemu machine with a simulated hypervisor (pvemu/) owning its tables and an mm
 * attached to it, and transactions logged for the hwemu checker with the guest's
 * pointers (the hwemu wrappers take hypervisor-view pointers). Each program is built once
 * per entry format (-DPTXN_FORMAT_*). Include this first: it defines _GNU_SOURCE.
 */
#ifndef PTXN_TESTS_TEST_PARAVIRT_UTIL_H
#define PTXN_TESTS_TEST_PARAVIRT_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1
#endif

#include <ptxn/pvemu.h>

#include "test_hwemu_util.h"

#define PV_R PTXN_PROT_READ
#define PV_W PTXN_PROT_WRITE
#define PV_U PTXN_PROT_USER

struct pv_env {
	struct ptxn_hwemu *hw;
	struct ptxn_pvemu *pv;
	ptxn_mm_t mm;
	uint64_t pages;
	uint64_t data_pa;      /* the first mapped page's frame address */
};

struct pv_env_config {
	uint64_t pages;        /* mapped at HW_VA, 4 KiB each */
	unsigned prot;         /* PTXN_PROT_* */
	unsigned mmu_flags;    /* PTXN_MMU_* (0: hw_default_flags()) */
	unsigned batch;        /* lazy batch (0: default) */
	int strategy;
	uint64_t trap_ns;
	unsigned pv_flags;     /* PTXN_PVEMU_* */
};

static inline void pv_env_init(struct pv_env *e, const struct pv_env_config *c)
{
	struct ptxn_hwemu_config hc;
	struct ptxn_pvemu_config pc;

	memset(e, 0, sizeof(*e));
	memset(&hc, 0, sizeof(hc));
	hc.mmu_flags = c->mmu_flags ? c->mmu_flags : hw_default_flags();
	hc.table_pages = c->pages / 512 + 48; /* PowerPC's root alone is 16 pages */
	e->hw = ptxn_hwemu_create(&hc);
	ck_assert_ptr_nonnull(e->hw);
	e->pages = c->pages;
	if (c->pages) {
		e->data_pa = ptxn_hwemu_map(e->hw, HW_VA, c->pages, ptxn_prot(c->prot), 0);
		ck_assert_uint_ne(e->data_pa, 0);
	}
	memset(&pc, 0, sizeof(pc));
	pc.trap_ns = c->trap_ns;
	pc.flags = c->pv_flags;
	e->pv = ptxn_pvemu_create(e->hw, &pc);
	ck_assert_ptr_nonnull(e->pv);
	ptxn_mm_init(&e->mm);
	ck_assert(ptxn_mm_set_strategy(&e->mm, (enum ptxn_strategy)c->strategy));
	ck_assert(ptxn_pvemu_attach(e->pv, &e->mm, c->batch));
}

static inline void pv_env_fini(struct pv_env *e)
{
	ptxn_hwemu_stop_all(e->hw);
	ptxn_pvemu_detach(&e->mm);
	ptxn_pvemu_destroy(e->pv);
	ptxn_hwemu_destroy(e->hw);
}

/* The guest's (read-only) pointer to the leaf of page i. */
static inline ptxn_pte_t *pv_slot(struct pv_env *e, uint64_t i)
{
	ptxn_pte_t *slot = ptxn_pvemu_lookup(e->pv, HW_VA + i * 4096, NULL);

	ck_assert_ptr_nonnull(slot);
	return slot;
}

static inline ptxn_pteval_t pv_val(const ptxn_pte_t *slot)
{
	return ptxn_pte_val(ptxn_pvemu_read(slot));
}

static inline uint64_t pv_div_up(uint64_t a, uint64_t b)
{
	return (a + b - 1) / b;
}

/*
 * A logged transaction: start now, commit when the caller says (which may be queued in
 * lazy mode), and the times the checker needs set when the caller knows them: t_commit
 * once the commit has reached the table (after leave or a flush in lazy mode).
 */
static inline ptxn_pte_t pv_logged_start(struct pv_env *e, uint64_t va, ptxn_pte_t *slot, unsigned nr,
					 struct ptxn_hwemu_txn *t)
{
	ptxn_pte_t old;

	memset(t, 0, sizeof(*t));
	t->slot = ptxn_pvemu_slot_pa(e->pv, slot);
	t->va = va;
	t->nr = nr;
	t->t_start = ptxn_hwemu_ticket(e->hw);
	if (nr == 1)
		old = ptxn_modify_prot_start(&e->mm, (uintptr_t)va, slot);
	else
		old = ptxn_modify_prot_start_ptes(&e->mm, (uintptr_t)va, slot, nr);
	t->t_started = ptxn_hwemu_ticket(e->hw);
	t->old = ptxn_pte_val(old);
	return old;
}

static inline void pv_logged_commit(struct pv_env *e, ptxn_pte_t *slot, ptxn_pte_t old, ptxn_pte_t pte,
				    struct ptxn_hwemu_txn *t)
{
	t->new_pte = ptxn_pte_val(pte);
	if (t->nr == 1)
		ptxn_modify_prot_commit(&e->mm, (uintptr_t)t->va, slot, old, pte);
	else
		ptxn_modify_prot_commit_ptes(&e->mm, (uintptr_t)t->va, slot, old, pte, t->nr);
}

#endif /* PTXN_TESTS_TEST_PARAVIRT_UTIL_H */
