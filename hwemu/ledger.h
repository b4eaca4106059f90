/* SPDX-License-Identifier: MIT */
/*
 * ptxn/hwemu/ledger.h - the two logs the checker reads: the ledger of every A/D
 * update (recorded from the walkers' hooks and from software resolution), and the software
 * side's log of transactions with their tickets (ptxn_hwemu_txn_start/_commit/_end).
 * The records themselves are defined in types.h; check.h reads them.
 *
 * Part of <ptxn/hwemu.h>; includes the parts it uses (docs/hwemu.md has the tree).
 */
#ifndef PTXN_HWEMU_LEDGER_H
#define PTXN_HWEMU_LEDGER_H

#include "mmu.h"     /* struct ptxn_mmu_update: what the walker reports */
#include "types.h"   /* the ledger and log records */
#include "phys.h"    /* per-slot counters */
#include "machine.h" /* the agent's ledger, the machine's log, tickets */
#include "tlb.h"     /* the flush ptxn_hwemu_txn_end makes */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

PTXN_EXTERN_C_BEGIN

/* ---- ledger --------------------------------------------------------------------------------- */

PTXN_HWEMU_FUNC unsigned ptxn_hwemu_logical(ptxn_pteval_t v)
{
	return (ptxn_arch_pte_young(v) ? PTXN_HWEMU_YOUNG : 0) |
	       (ptxn_arch_pte_dirty(v) ? PTXN_HWEMU_DIRTY : 0);
}

PTXN_HWEMU_FUNC void ptxn_hwemu_record(struct ptxn_hwemu_agent *a, const struct ptxn_mmu_update *u)
{
	struct ptxn_hwemu_ledger_entry *e;
	struct ptxn_hwemu_slot_stats *s;
	unsigned bits = ptxn_hwemu_logical(u->after) & ~ptxn_hwemu_logical(u->before);
	uint64_t done = ptxn_hwemu_ticket_peek(a->hw);
	uint64_t slot = ptxn_hwemu_slot_pa(a->hw, u->slot);

	a->c.updates++;
	if (u->kind == PTXN_MMU_UPDATE_ERRATUM)
		a->c.erratum_updates++;
	if (u->kind != PTXN_MMU_UPDATE_ERRATUM) {
		if (bits & PTXN_HWEMU_YOUNG)
			a->c.young_set++;
		if (bits & PTXN_HWEMU_DIRTY)
			a->c.dirty_set++;
		s = ptxn_hwemu_phys_stats(&a->hw->phys, slot);
		if (s && (bits & PTXN_HWEMU_YOUNG))
			__atomic_fetch_add(&s->young_set, 1, __ATOMIC_RELAXED);
		if (s && (bits & PTXN_HWEMU_DIRTY))
			__atomic_fetch_add(&s->dirty_set, 1, __ATOMIC_RELAXED);
	}
	if (!ptxn_hwemu_grow((void **)&a->ledger, &a->capledger, a->nledger, sizeof(*e)))
		abort(); /* a ledger with holes would make the checker lie */
	e = &a->ledger[a->nledger++];
	memset(e, 0, sizeof(*e));
	e->ticket = u->ticket;
	e->done = done;
	e->slot = slot;
	e->va = u->va;
	e->before = u->before;
	e->after = u->after;
	e->agent = (uint16_t)a->id;
	e->bits = (uint8_t)bits;
	e->kind = (uint8_t)u->kind;
	e->level = (uint8_t)u->level;
}

PTXN_HWEMU_FUNC uint64_t ptxn_hwemu_mmu_ticket(void *ctx)
{
	return ptxn_hwemu_ticket(((struct ptxn_hwemu_agent *)ctx)->hw);
}

PTXN_HWEMU_FUNC void ptxn_hwemu_mmu_updated(void *ctx, const struct ptxn_mmu_update *u)
{
	ptxn_hwemu_record((struct ptxn_hwemu_agent *)ctx, u);
}

/* ---- the software side's log ----------------------------------------------------------------- */

PTXN_HWEMU_FUNC void ptxn_hwemu_log(struct ptxn_hwemu *hw, const struct ptxn_hwemu_txn *t)
{
	pthread_mutex_lock(&hw->lock);
	if (!ptxn_hwemu_grow((void **)&hw->txns, &hw->captxns, hw->ntxns, sizeof(*t)))
		abort();
	hw->txns[hw->ntxns++] = *t;
	pthread_mutex_unlock(&hw->lock);
	__atomic_fetch_add(&hw->log_epoch, 1, __ATOMIC_SEQ_CST);
}

/* ptxn_modify_prot_start (nr == 1) or _start_ptes, with its tickets in *t. */
PTXN_HWEMU_FUNC ptxn_pte_t ptxn_hwemu_txn_start(struct ptxn_hwemu *hw, ptxn_mm_t *mm, uint64_t va,
						ptxn_pte_t *ptep, unsigned nr, struct ptxn_hwemu_txn *t)
{
	ptxn_pte_t old;

	memset(t, 0, sizeof(*t));
	t->slot = ptxn_hwemu_slot_pa(hw, ptep);
	t->va = va;
	t->nr = nr;
	t->t_start = ptxn_hwemu_ticket(hw);
	if (nr == 1)
		old = ptxn_modify_prot_start(mm, (uintptr_t)va, ptep);
	else
		old = ptxn_modify_prot_start_ptes(mm, (uintptr_t)va, ptep, nr);
	t->t_started = ptxn_hwemu_ticket(hw);
	t->old = ptxn_pte_val(old);
	return old;
}

/* ptxn_modify_prot_commit (nr == 1) or _commit_ptes, recording the caller's new entry. */
PTXN_HWEMU_FUNC void ptxn_hwemu_txn_commit(struct ptxn_hwemu *hw, ptxn_mm_t *mm, uint64_t va,
					   ptxn_pte_t *ptep, ptxn_pte_t old, ptxn_pte_t pte,
					   struct ptxn_hwemu_txn *t)
{
	t->new_pte = ptxn_pte_val(pte);
	if (t->nr == 1)
		ptxn_modify_prot_commit(mm, (uintptr_t)va, ptep, old, pte);
	else
		ptxn_modify_prot_commit_ptes(mm, (uintptr_t)va, ptep, old, pte, t->nr);
	t->t_commit = ptxn_hwemu_ticket(hw);
}

/* The caller's flush after commit (through mm's hook if it has one); then the log entry. */
PTXN_HWEMU_FUNC void ptxn_hwemu_txn_end(struct ptxn_hwemu *hw, ptxn_mm_t *mm, struct ptxn_hwemu_txn *t,
					bool flush)
{
	if (flush) {
		uint64_t end = t->va + (uint64_t)t->nr * PTXN_HWEMU_PAGE_SIZE;

		if (mm && mm->flush_tlb_range)
			mm->flush_tlb_range(mm, (uintptr_t)t->va, (uintptr_t)end);
		else
			ptxn_hwemu_flush_range(hw, t->va, end);
		t->t_flushed = ptxn_hwemu_ticket(hw);
	}
	ptxn_hwemu_log(hw, t);
}

PTXN_EXTERN_C_END

#endif /* PTXN_HWEMU_LEDGER_H */
