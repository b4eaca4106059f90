/* SPDX-License-Identifier: MIT */
/*
 * ptxn/hwemu/tlb.h - an agent's TLB: one access attempt with the agent's lock held
 * (TLB lookup, a walk on a miss or a refused cached translation, refill, the write log),
 * and the TLB shootdown that is the ptxn_mm_t flush hook. Retrying after a fault is
 * agent.h's; the A/D updates a walk makes reach the ledger through ledger.h's hooks.
 *
 * Part of <ptxn/hwemu.h>; includes the parts it uses (docs/hwemu.md has the tree).
 */
#ifndef PTXN_HWEMU_TLB_H
#define PTXN_HWEMU_TLB_H

#include "mmu.h"     /* the walk on a miss, the cached dirty update */
#include "types.h"   /* struct ptxn_hwemu_write, struct ptxn_hwemu_slot_stats */
#include "phys.h"    /* per-slot counters */
#include "machine.h" /* the agent and its TLB, tickets */

#include <pthread.h>
#include <stddef.h>
#include <stdlib.h>

PTXN_EXTERN_C_BEGIN

/* ---- one access attempt through the TLB ----------------------------------------------- */

PTXN_HWEMU_FUNC void ptxn_hwemu_slot_count(struct ptxn_hwemu_agent *a, const ptxn_pte_t *slot,
					   size_t offset)
{
	struct ptxn_hwemu_slot_stats *s;

	if (!slot)
		return;
	s = ptxn_hwemu_phys_stats(&a->hw->phys, ptxn_hwemu_slot_pa(a->hw, slot));
	if (s)
		__atomic_fetch_add((uint64_t *)(void *)((char *)s + offset), 1, __ATOMIC_RELAXED);
}

#define PTXN_HWEMU_SLOT_COUNT(a, slot, field) \
	ptxn_hwemu_slot_count((a), (slot), offsetof(struct ptxn_hwemu_slot_stats, field))

PTXN_HWEMU_FUNC unsigned ptxn_hwemu_prot_needed(unsigned access, bool user)
{
	unsigned kind = access & PTXN_MMU_ACCESS_MASK;

	return (kind == PTXN_MMU_WRITE ? PTXN_PROT_WRITE :
		kind == PTXN_MMU_EXEC ? PTXN_PROT_EXEC : PTXN_PROT_READ) |
	       (user ? PTXN_PROT_USER : 0);
}

/* Does the entry in memory (as it is now) allow this access? For stale-write counting. */
PTXN_HWEMU_FUNC bool ptxn_hwemu_leaf_allows_write(const ptxn_pte_t *leaf)
{
	ptxn_pteval_t v = ptxn_mmu_load(leaf);

	return ptxn_arch_pte_hw_valid(v) && ptxn_arch_pte_write(v);
}

/*
 * One access attempt with the agent's lock held: the TLB first, then a walk. Returns
 * PTXN_MMU_OK or the fault; *w describes the walk (or the TLB entry used).
 */
PTXN_HWEMU_FUNC unsigned ptxn_hwemu_access_locked(struct ptxn_hwemu_agent *a, uint64_t va,
						  unsigned access, bool user, struct ptxn_mmu_walk *w)
{
	const unsigned kind = access & PTXN_MMU_ACCESS_MASK;
	const uint64_t vpn = va >> 12;
	struct ptxn_hwemu_tlbe *e = &a->tlb[vpn % PTXN_HWEMU_TLB_ENTRIES];
	const unsigned need = ptxn_hwemu_prot_needed(access, user);
	bool log = (a->cfg.flags & PTXN_HWEMU_AGENT_LOG_WRITES) && kind == PTXN_MMU_WRITE;
	uint64_t epoch = log ? __atomic_load_n(&a->hw->log_epoch, __ATOMIC_SEQ_CST) : 0;
	uint64_t ticket = log ? ptxn_hwemu_ticket_peek(a->hw) : 0;
	bool stale = false;
	unsigned f;

	ptxn_mmu_walk_init(w);
	/* Shadow-stack-ness is not cached by this model: such accesses always walk. */
	if (e->valid && e->vpn == vpn && kind != PTXN_MMU_SHADOW_STACK) {
		a->c.tlb_hits++;
		PTXN_HWEMU_SLOT_COUNT(a, e->leaf, tlb_hits);
		if ((e->prot & need) != need) {
			struct ptxn_mmu_walk probe;

			/* A cached translation refuses what memory may now allow. */
			if ((a->cfg.flags & PTXN_HWEMU_AGENT_COPROCESSOR) &&
			    ptxn_mmu_translate(&a->mmu, va, kind | PTXN_MMU_PROBE, user, &probe) ==
				    PTXN_MMU_OK)
				a->c.hangs++; /* POWER9 nest MMU: the coprocessor would hang here */
			e->valid = 0;  /* the fault drops the cached entry (SDM 4.10.4.1 / Arm, Power alike) */
			stale = true;
			goto walk;
		}
		if (kind == PTXN_MMU_WRITE && !e->dirty) {
			if (ptxn_mmu_tlb_dirty(&a->mmu, e->leaf, e->level, va, w) == PTXN_MMU_TLB_REWALK) {
				e->valid = 0;
				goto walk;
			}
			e->dirty = 1;
			a->c.restarts += w->restarts;
		}
		if (kind == PTXN_MMU_WRITE && !ptxn_hwemu_leaf_allows_write(e->leaf))
			a->c.stale_writes++;
		w->leaf = e->leaf;
		w->level = e->level;
		w->prot = e->prot;
		w->dirty = e->dirty;
		w->pa = e->pa | (va & 0xfff);
		if (log && e->logged == epoch)
			log = false; /* this entry already logged a write since the last software event */
		goto done;
	}
	a->c.tlb_misses++;
walk:
	a->c.walks++;
	f = ptxn_mmu_translate(&a->mmu, va, access, user, w);
	a->c.restarts += w->restarts;
	if (w->restarts)
		PTXN_HWEMU_SLOT_COUNT(a, w->leaf, restarts);
	if (!e->valid || e->vpn != vpn)
		PTXN_HWEMU_SLOT_COUNT(a, w->leaf, tlb_misses);
	if (f != PTXN_MMU_OK) {
		a->c.faults[f]++;
		if (f < PTXN_MMU_FAULT_COUNT && w->leaf) {
			struct ptxn_hwemu_slot_stats *s =
				ptxn_hwemu_phys_stats(&a->hw->phys, ptxn_hwemu_slot_pa(a->hw, w->leaf));

			if (s)
				__atomic_fetch_add(&s->faults[f], 1, __ATOMIC_RELAXED);
		}
		return f;
	}
	if (stale)
		a->c.stale_tlb_faults++;
	PTXN_HWEMU_SLOT_COUNT(a, w->leaf, walks);
	e->vpn = vpn;
	e->pa = w->pa & ~(uint64_t)0xfff;
	e->leaf = w->leaf;
	e->level = (unsigned char)w->level;
	e->prot = (unsigned char)w->prot;
	e->dirty = w->dirty;
	e->valid = 1;
done:
	if (log)
		e->logged = epoch;
	__atomic_store_n(&a->progress, a->progress + 1, __ATOMIC_RELAXED);
	a->c.accesses++;
	if (kind == PTXN_MMU_WRITE)
		a->c.writes++;
	else if (kind == PTXN_MMU_EXEC)
		a->c.execs++;
	else
		a->c.reads++;
	if (log) {
		struct ptxn_hwemu_write *wr;

		if (!ptxn_hwemu_grow((void **)&a->writes, &a->capwrites, a->nwrites, sizeof(*wr)))
			abort();
		wr = &a->writes[a->nwrites++];
		wr->ticket = ticket;
		wr->done = ptxn_hwemu_ticket_peek(a->hw);
		wr->slot = ptxn_hwemu_slot_pa(a->hw, w->leaf);
		wr->va = va;
		wr->agent = a->id;
	}
	return PTXN_MMU_OK;
}

/* One access attempt, no fault handling: the raw outcome (rule tests use this). */
PTXN_HWEMU_FUNC unsigned ptxn_hwemu_access_once(struct ptxn_hwemu_agent *a, uint64_t va,
						unsigned access, bool user, struct ptxn_mmu_walk *w)
{
	struct ptxn_mmu_walk local;
	unsigned f;

	pthread_mutex_lock(&a->lock);
	f = ptxn_hwemu_access_locked(a, va, access, user, w ? w : &local);
	pthread_mutex_unlock(&a->lock);
	return f;
}

/* ---- TLB shootdown ------------------------------------------------------------------------ */

/*
 * Invalidate [start, end) in every agent's TLB and wait until no agent is still in an
 * access that may use a stale entry: each agent's lock is held for a whole access attempt,
 * so taking it in turn is the "wait for completion" of a broadcast invalidation.
 */
PTXN_HWEMU_FUNC void ptxn_hwemu_flush_range(struct ptxn_hwemu *hw, uint64_t start, uint64_t end)
{
	uint64_t first = start >> 12, last = (end - 1) >> 12;
	unsigned i, j;

	if (end <= start)
		return;
	__atomic_fetch_add(&hw->flushing, 1, __ATOMIC_SEQ_CST);
	for (i = 0; i < hw->nagents; i++) {
		struct ptxn_hwemu_agent *a = hw->agents[i];

		pthread_mutex_lock(&a->lock);
		for (j = 0; j < PTXN_HWEMU_TLB_ENTRIES; j++)
			if (a->tlb[j].valid && a->tlb[j].vpn >= first && a->tlb[j].vpn <= last)
				a->tlb[j].valid = 0;
		pthread_mutex_unlock(&a->lock);
	}
	__atomic_fetch_sub(&hw->flushing, 1, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&hw->flushes, 1, __ATOMIC_RELAXED);
}

PTXN_HWEMU_FUNC void ptxn_hwemu_flush_all(struct ptxn_hwemu *hw)
{
	ptxn_hwemu_flush_range(hw, 0, UINT64_MAX);
}

/* The ptxn_mm_t hook: mm->private_data is the machine (ptxn_hwemu_attach_mm). */
PTXN_HWEMU_FUNC void ptxn_hwemu_mm_flush_tlb_range(ptxn_mm_t *mm, uintptr_t start, uintptr_t end)
{
	ptxn_hwemu_flush_range((struct ptxn_hwemu *)mm->private_data, start, end);
}

PTXN_HWEMU_FUNC void ptxn_hwemu_attach_mm(struct ptxn_hwemu *hw, ptxn_mm_t *mm)
{
	ptxn_mm_set_flush_tlb_range(mm, ptxn_hwemu_mm_flush_tlb_range, hw);
}

PTXN_EXTERN_C_END

#endif /* PTXN_HWEMU_TLB_H */
