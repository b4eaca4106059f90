/* SPDX-License-Identifier: MIT */
/*
 * ptxn/hwemu/agent.h - agents: creation, access patterns, one access with fault
 * handling (software A/D resolution, retries on a broken entry, the caller's handler),
 * and the threads that run patterns. A single attempt through the TLB is tlb.h's.
 *
 * Part of <ptxn/hwemu.h>; includes the parts it uses (docs/hwemu.md has the tree).
 */
#ifndef PTXN_HWEMU_AGENT_H
#define PTXN_HWEMU_AGENT_H

#include "mmu.h"     /* access kinds, faults, struct ptxn_mmu_update */
#include "types.h"   /* counters, sizes */
#include "machine.h" /* the agent structure, its TLB root reload */
#include "tlb.h"     /* one access attempt */
#include "ledger.h"  /* the walker's hooks, ledgering a software-resolved update */
#include "random.h"  /* the patterns' pseudo-random step */

#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>

PTXN_EXTERN_C_BEGIN

/* ---- agents ----------------------------------------------------------------------------------- */

/* A new agent (not running). cfg may be NULL. */
PTXN_HWEMU_FUNC struct ptxn_hwemu_agent *ptxn_hwemu_agent_create(struct ptxn_hwemu *hw,
								 const struct ptxn_hwemu_agent_config *cfg)
{
	struct ptxn_hwemu_agent *a;

	if (hw->nagents >= PTXN_HWEMU_MAX_AGENTS)
		return NULL;
	a = (struct ptxn_hwemu_agent *)calloc(1, sizeof(*a));
	if (!a)
		return NULL;
	a->hw = hw;
	if (cfg)
		a->cfg = *cfg;
	a->mmu = hw->as.mmu;
	a->mmu.flags = hw->mmu_flags;
	a->mmu.ticket = ptxn_hwemu_mmu_ticket;
	a->mmu.updated = ptxn_hwemu_mmu_updated;
	a->mmu.hook_ctx = a;
	pthread_mutex_init(&a->lock, NULL);
	pthread_mutex_lock(&hw->lock);
	a->id = hw->nagents;
	a->rng = a->cfg.seed ^ (UINT64_C(0x51ed27) * (a->id + 1));
	hw->agents[hw->nagents++] = a;
	pthread_mutex_unlock(&hw->lock);
	ptxn_hwemu_agent_reload_root(a);
	return a;
}

PTXN_HWEMU_FUNC void ptxn_hwemu_agent_set_pattern(struct ptxn_hwemu_agent *a,
						  const struct ptxn_hwemu_pattern *p, uint64_t seed)
{
	a->cfg.pattern = *p;
	a->cfg.seed = seed;
	a->rng = seed ^ (UINT64_C(0x51ed27) * (a->id + 1));
	a->sweep = 0;
}

/* ---- one access, with fault handling --------------------------------------------------- */

/*
 * What a fault handler does where the MMU does not set A/D (Arm HA/HD off, radix RC
 * interrupt): ptxn_ptep_mark_accessed(), ledgered as a software-resolved update with a
 * ticket taken before its compare-and-swap. Returns false if the entry is broken or does
 * not allow the access.
 */
PTXN_HWEMU_FUNC bool ptxn_hwemu_resolve(struct ptxn_hwemu_agent *a, ptxn_pte_t *leaf, uint64_t va,
					unsigned level, bool write)
{
	uint64_t ticket = ptxn_hwemu_ticket(a->hw);
	ptxn_pte_t old;
	ptxn_pteval_t before, after;

	if (!ptxn_ptep_mark_accessed_old(leaf, write, &old))
		return false;
	a->c.sw_resolved++;
	before = ptxn_pte_val(old);
	after = ptxn_arch_pte_mkyoung(before);
	if (write)
		after = ptxn_arch_pte_mkdirty(after);
	if (after != before) {
		struct ptxn_mmu_update u;

		u.slot = leaf;
		u.va = va;
		u.before = before;
		u.after = after;
		u.ticket = ticket;
		u.level = level;
		u.kind = PTXN_MMU_UPDATE_SOFTWARE;
		ptxn_hwemu_record(a, &u);
	}
	return true;
}

/*
 * One access with fault handling: software resolution of AF/dirty/RC faults (unless
 * PTXN_HWEMU_AGENT_NO_RESOLVE), retries while the leaf is momentarily invalid (a
 * transaction broke it: if the retry succeeds the fault was spurious), or the caller's
 * handler. Returns PTXN_MMU_OK or the fault it gave up on; *w as ptxn_hwemu_access_once.
 */
PTXN_HWEMU_FUNC unsigned ptxn_hwemu_access(struct ptxn_hwemu_agent *a, uint64_t va, unsigned access,
					   bool user, struct ptxn_mmu_walk *w)
{
	struct ptxn_mmu_walk local;
	unsigned attempt, f;
	bool broken = false;
	ptxn_pte_t *broken_leaf = NULL;

	if (!w)
		w = &local;
	for (attempt = 0;; attempt++) {
		f = ptxn_hwemu_access_once(a, va, access, user, w);
		if (f == PTXN_MMU_OK) {
			if (broken) {
				a->c.spurious_faults++;
				PTXN_HWEMU_SLOT_COUNT(a, broken_leaf, spurious);
			}
			return f;
		}
		if (a->cfg.fault_handler) {
			if (a->cfg.fault_handler(a, va, access, user, w, attempt, a->cfg.fault_ctx))
				continue;
			break;
		}
		if (ptxn_mmu_fault_resolvable(f) && !(a->cfg.flags & PTXN_HWEMU_AGENT_NO_RESOLVE) &&
		    w->leaf &&
		    ptxn_hwemu_resolve(a, w->leaf, va, w->level,
				       (access & PTXN_MMU_ACCESS_MASK) == PTXN_MMU_WRITE))
			continue;
		/* A leaf that is invalid to the MMU right now: a transaction may have it broken. */
		if ((f == PTXN_MMU_FAULT_NOT_PRESENT || ptxn_mmu_fault_resolvable(f)) && w->leaf &&
		    !ptxn_arch_pte_hw_valid(ptxn_mmu_load(w->leaf)) && attempt < a->cfg.max_retries) {
			if (f == PTXN_MMU_FAULT_NOT_PRESENT && w->level == 0) {
				broken = true;
				broken_leaf = w->leaf;
			}
			sched_yield();
			continue;
		}
		break;
	}
	a->c.failed_accesses++;
	return f;
}

/* ---- patterns and threads --------------------------------------------------------------- */

/* The next access of the agent's pattern. */
PTXN_HWEMU_FUNC void ptxn_hwemu_next_access(struct ptxn_hwemu_agent *a, uint64_t *va,
					    unsigned *access, bool *user)
{
	const struct ptxn_hwemu_pattern *p = &a->cfg.pattern;
	uint64_t pages = p->pages ? p->pages : 1, page, r = ptxn_hwemu_rand(&a->rng);
	unsigned pick = (unsigned)(ptxn_hwemu_rand(&a->rng) % 100);

	switch (p->kind) {
	case PTXN_HWEMU_HOTSET:
		if (p->hot_pages && (r >> 40) % 100 < p->hot_percent)
			page = r % p->hot_pages;
		else
			page = r % pages;
		break;
	case PTXN_HWEMU_SWEEP:
		page = a->sweep++ % pages;
		break;
	default:
		page = r % pages;
		break;
	}
	*va = p->va + page * PTXN_HWEMU_PAGE_SIZE + ((r >> 20) & 0xff8);
	*access = pick < p->write_percent ? PTXN_MMU_WRITE :
		  pick < p->write_percent + p->exec_percent ? PTXN_MMU_EXEC : PTXN_MMU_READ;
	*user = (ptxn_hwemu_rand(&a->rng) % 100) < p->user_percent;
}

/* Run n accesses of the pattern in the calling thread (deterministic for one agent). */
PTXN_HWEMU_FUNC void ptxn_hwemu_agent_run(struct ptxn_hwemu_agent *a, uint64_t n)
{
	uint64_t i, va;
	unsigned access;
	bool user;

	for (i = 0; i < n; i++) {
		ptxn_hwemu_next_access(a, &va, &access, &user);
		ptxn_hwemu_access(a, va, access, user, NULL);
	}
}

PTXN_HWEMU_FUNC void *ptxn_hwemu_agent_main(void *arg)
{
	struct ptxn_hwemu_agent *a = (struct ptxn_hwemu_agent *)arg;
	uint64_t n = 0, va;
	unsigned access;
	bool user;

	while (!__atomic_load_n(&a->stop, __ATOMIC_ACQUIRE) && (!a->max_accesses || n < a->max_accesses)) {
		unsigned spin = 0;

		/* A mutex is not fair: let a shootdown in progress take our lock. */
		while (__atomic_load_n(&a->hw->flushing, __ATOMIC_RELAXED))
			if (++spin > 256)
				sched_yield();
			else
				ptxn_arch_cpu_relax();
		ptxn_hwemu_next_access(a, &va, &access, &user);
		ptxn_hwemu_access(a, va, access, user, NULL);
		n++;
		/*
		 * Only this thread reads a->mmu, between two accesses: no lock. The TLB is kept:
		 * it holds only translations whose A was set, and a store through one whose D is
		 * clear walks again (ptxn_mmu_tlb_dirty), so under either scheme a cached entry
		 * never stands in for an A/D update (hwemu/riscv/mmu.h, step 7: Svade faults on
		 * the walk, Svadu updates in memory; neither caches an entry with A clear).
		 */
		if (a->cfg.mode_flip_every && n % a->cfg.mode_flip_every == 0) {
			a->mmu.flags ^= a->cfg.mode_flip_flags;
			a->c.mode_flips++;
		}
		if (a->cfg.yield_every && n % a->cfg.yield_every == 0)
			sched_yield(); /* more threads than cores: let the software side run */
	}
	return NULL;
}

/*
 * Start the agent's thread: max_accesses of its pattern (0: until ptxn_hwemu_agent_stop,
 * which is machine.h's because destroying the machine stops its agents).
 */
PTXN_HWEMU_FUNC bool ptxn_hwemu_agent_start(struct ptxn_hwemu_agent *a, uint64_t max_accesses)
{
	a->max_accesses = max_accesses;
	__atomic_store_n(&a->stop, 0, __ATOMIC_RELEASE);
	if (pthread_create(&a->thread, NULL, ptxn_hwemu_agent_main, a) != 0)
		return false;
	a->running = 1;
	return true;
}

/* Sum of every agent's counters. */
PTXN_HWEMU_FUNC void ptxn_hwemu_counters_sum(const struct ptxn_hwemu *hw, struct ptxn_hwemu_counters *sum)
{
	unsigned i, j;

	memset(sum, 0, sizeof(*sum));
	for (i = 0; i < hw->nagents; i++) {
		const uint64_t *src = (const uint64_t *)(const void *)&hw->agents[i]->c;
		uint64_t *dst = (uint64_t *)(void *)sum;

		for (j = 0; j < sizeof(*sum) / sizeof(uint64_t); j++)
			dst[j] += src[j];
	}
}

PTXN_EXTERN_C_END

#endif /* PTXN_HWEMU_AGENT_H */
