/* SPDX-License-Identifier: MIT */
/*
 * ptxn/hwemu/machine.h - the machine and its agents as data (access patterns, agent
 * configuration, TLB entries, struct ptxn_hwemu_agent, struct ptxn_hwemu), the global
 * ticket counter, and the machine's life: create, map, slot accessors, stopping the agents'
 * threads, destroy. What an agent does is in tlb.h (one access attempt) and agent.h
 * (fault handling, patterns, starting its thread).
 *
 * Part of <ptxn/hwemu.h>; includes the parts it uses (docs/hwemu.md has the tree).
 */
#ifndef PTXN_HWEMU_MACHINE_H
#define PTXN_HWEMU_MACHINE_H

#include "mmu.h"     /* struct ptxn_mmu, struct ptxn_mmu_walk, the PAE PDPTE load */
#include "types.h"   /* counters, ledger/log/write records, sizes */
#include "phys.h"    /* the machine's memory and its per-slot counters */
#include "aspace.h"  /* the machine's address space */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

PTXN_EXTERN_C_BEGIN

/* ---- the machine and its agents ---------------------------------------------------------- */

struct ptxn_hwemu;
struct ptxn_hwemu_agent;

enum ptxn_hwemu_pattern_kind {
	PTXN_HWEMU_UNIFORM = 0,     /* every page alike */
	PTXN_HWEMU_HOTSET,          /* hot_percent of the accesses go to the first hot_pages */
	PTXN_HWEMU_SWEEP            /* page after page, wrapping */
};

struct ptxn_hwemu_pattern {
	unsigned kind;
	uint64_t va;                /* first page */
	uint64_t pages;             /* number of 4 KiB pages */
	uint64_t hot_pages;
	unsigned hot_percent;
	unsigned write_percent;     /* share of writes */
	unsigned exec_percent;      /* share of instruction fetches */
	unsigned user_percent;      /* share of user-mode accesses */
};

enum {
	PTXN_HWEMU_AGENT_COPROCESSOR = 1u << 0, /* a nest MMU: see docs/hwemu.md, POWER9 */
	PTXN_HWEMU_AGENT_LOG_WRITES = 1u << 1,  /* keep a ticketed log of successful writes */
	PTXN_HWEMU_AGENT_NO_RESOLVE = 1u << 2   /* do not resolve AF/dirty/RC faults in software */
};

/*
 * Fault handler: called by ptxn_hwemu_access() after a faulting attempt. Return true to
 * retry the access, false to give up. NULL: the default (docs/hwemu.md, "Faults").
 */
typedef bool (*ptxn_hwemu_fault_fn)(struct ptxn_hwemu_agent *agent, uint64_t va, unsigned access,
				    bool user, const struct ptxn_mmu_walk *walk, unsigned attempt,
				    void *ctx);

struct ptxn_hwemu_agent_config {
	unsigned flags;             /* PTXN_HWEMU_AGENT_* */
	struct ptxn_hwemu_pattern pattern;
	uint64_t seed;
	unsigned max_retries;       /* retries of an access whose leaf is momentarily invalid */
	unsigned yield_every;       /* threaded agents: sched_yield() every so many accesses (0: never) */
	/*
	 * Threaded agents: toggle mode_flip_flags in this agent's own MMU mode every
	 * mode_flip_every accesses (0: never). The hart's A/D scheme changed at run time, as
	 * M-mode does with menvcfg.ADUE (the Svadu extension, privileged spec 1.13); the
	 * register is per hart, so each agent flips on its own.
	 */
	unsigned mode_flip_flags;
	unsigned mode_flip_every;
	ptxn_hwemu_fault_fn fault_handler;
	void *fault_ctx;
};

struct ptxn_hwemu_tlbe {
	uint64_t vpn;
	uint64_t pa;                /* of the 4 KiB page */
	ptxn_pte_t *leaf;
	uint64_t logged;            /* software log epoch of its last logged write */
	unsigned char valid, prot, dirty, level;
};

struct ptxn_hwemu_agent {
	struct ptxn_hwemu *hw;
	unsigned id;
	struct ptxn_hwemu_agent_config cfg;
	struct ptxn_mmu mmu;        /* its own copy: PAE PDPTE registers, hooks */
	pthread_mutex_t lock;       /* held for one access attempt: a shootdown waits for it */
	struct ptxn_hwemu_tlbe tlb[PTXN_HWEMU_TLB_ENTRIES];
	struct ptxn_hwemu_counters c;
	uint64_t rng, sweep;
	struct ptxn_hwemu_ledger_entry *ledger;
	size_t nledger, capledger;
	struct ptxn_hwemu_write *writes;
	size_t nwrites, capwrites;
	uint64_t progress;          /* accesses done, readable by other threads */
	pthread_t thread;
	int running, stop;
	uint64_t max_accesses;
};

struct ptxn_hwemu_config {
	unsigned mmu_flags;         /* PTXN_MMU_*: the model's mode (x86 CET/KNL/PAE, Arm HA/HD, radix RC interrupt) */
	uint64_t table_pages;       /* backed physical memory for tables (default 256 pages) */
};

struct ptxn_hwemu {
	struct ptxn_hwemu_phys phys;
	struct ptxn_hwemu_as as;
	unsigned mmu_flags;
	uint64_t ticket;            /* the one global ticket counter */
	uint64_t flushes;
	unsigned flushing;          /* shootdowns in progress: running agents step aside */
	uint64_t log_epoch;         /* software log events so far (write-log coalescing) */
	struct ptxn_hwemu_agent *agents[PTXN_HWEMU_MAX_AGENTS];
	unsigned nagents;
	pthread_mutex_t lock;       /* agents list and software log */
	struct ptxn_hwemu_txn *txns;
	size_t ntxns, captxns;
};

/* ---- tickets ------------------------------------------------------------------------------ */

/* A fresh global ticket, ordered with everything before and after it (seq_cst fences). */
PTXN_HWEMU_FUNC uint64_t ptxn_hwemu_ticket(struct ptxn_hwemu *hw)
{
	uint64_t t;

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	t = __atomic_fetch_add(&hw->ticket, 1, __ATOMIC_SEQ_CST) + 1;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return t;
}

/* The next ticket to be handed out: everything before this call precedes it. */
PTXN_HWEMU_FUNC uint64_t ptxn_hwemu_ticket_peek(struct ptxn_hwemu *hw)
{
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return __atomic_load_n(&hw->ticket, __ATOMIC_SEQ_CST) + 1;
}

PTXN_HWEMU_FUNC bool ptxn_hwemu_grow(void **array, size_t *cap, size_t n, size_t size)
{
	void *p;
	size_t want;

	if (n < *cap)
		return true;
	want = *cap ? *cap * 2 : 1024;
	p = realloc(*array, want * size);
	if (!p)
		return false;
	*array = p;
	*cap = want;
	return true;
}

/* ---- machine ---------------------------------------------------------------------------------- */

PTXN_HWEMU_FUNC struct ptxn_hwemu *ptxn_hwemu_create(const struct ptxn_hwemu_config *cfg)
{
	struct ptxn_hwemu *hw = (struct ptxn_hwemu *)calloc(1, sizeof(*hw));
	uint64_t pages = cfg && cfg->table_pages ? cfg->table_pages : 256;

	if (!hw)
		return NULL;
	hw->mmu_flags = cfg ? cfg->mmu_flags : 0;
	if (!ptxn_hwemu_phys_init(&hw->phys, pages)) {
		free(hw);
		return NULL;
	}
	if (!ptxn_hwemu_as_init(&hw->as, &hw->phys, hw->mmu_flags)) {
		ptxn_hwemu_phys_fini(&hw->phys);
		free(hw);
		return NULL;
	}
	pthread_mutex_init(&hw->lock, NULL);
	return hw;
}

PTXN_HWEMU_FUNC uint64_t ptxn_hwemu_slot_pa(const struct ptxn_hwemu *hw, const ptxn_pte_t *slot)
{
	return ptxn_hwemu_phys_pa(&hw->phys, slot);
}

PTXN_HWEMU_FUNC ptxn_pte_t *ptxn_hwemu_slot_ptr(const struct ptxn_hwemu *hw, uint64_t slot_pa)
{
	return (ptxn_pte_t *)ptxn_hwemu_phys_ptr(&hw->phys, slot_pa);
}

PTXN_HWEMU_FUNC const struct ptxn_hwemu_slot_stats *ptxn_hwemu_slot_stats(const struct ptxn_hwemu *hw,
									  const ptxn_pte_t *slot)
{
	return ptxn_hwemu_phys_stats(&hw->phys, ptxn_hwemu_slot_pa(hw, slot));
}

PTXN_HWEMU_FUNC ptxn_pte_t *ptxn_hwemu_lookup(struct ptxn_hwemu *hw, uint64_t va, unsigned *level)
{
	return ptxn_hwemu_as_lookup(&hw->as, va, level);
}

/* Load the PAE PDPTE registers and empty the TLB, as a write to CR3 does. */
PTXN_HWEMU_FUNC bool ptxn_hwemu_agent_reload_root(struct ptxn_hwemu_agent *a)
{
	bool ok = true;

	pthread_mutex_lock(&a->lock);
#ifdef PTXN_FORMAT_X86
	if (a->mmu.flags & PTXN_MMU_X86_PAE)
		ok = ptxn_mmu_x86_load_pdptes(&a->mmu);
#endif
	memset(a->tlb, 0, sizeof(a->tlb));
	pthread_mutex_unlock(&a->lock);
	return ok;
}

/* Map pages (see ptxn_hwemu_as_map); with PAE, every agent then reloads CR3. */
PTXN_HWEMU_FUNC uint64_t ptxn_hwemu_map(struct ptxn_hwemu *hw, uint64_t va, uint64_t pages,
					ptxn_prot_t prot, unsigned flags)
{
	uint64_t pa = ptxn_hwemu_as_map(&hw->as, va, pages, prot, flags);
	unsigned i;

	if (hw->mmu_flags & PTXN_MMU_X86_PAE)
		for (i = 0; i < hw->nagents; i++)
			ptxn_hwemu_agent_reload_root(hw->agents[i]);
	return pa;
}

/*
 * Stop an agent's thread (started by agent.h's ptxn_hwemu_agent_start). Here, not in
 * agent.h, because destroy needs it and it touches only the agent's own fields: so the
 * machine does not depend on the agents' code, which depends on the machine.
 */
PTXN_HWEMU_FUNC void ptxn_hwemu_agent_stop(struct ptxn_hwemu_agent *a)
{
	if (!a->running)
		return;
	__atomic_store_n(&a->stop, 1, __ATOMIC_RELEASE);
	pthread_join(a->thread, NULL);
	a->running = 0;
}

PTXN_HWEMU_FUNC void ptxn_hwemu_stop_all(struct ptxn_hwemu *hw)
{
	unsigned i;

	for (i = 0; i < hw->nagents; i++)
		ptxn_hwemu_agent_stop(hw->agents[i]);
}

/* Stops and frees the agents too. */
PTXN_HWEMU_FUNC void ptxn_hwemu_destroy(struct ptxn_hwemu *hw)
{
	unsigned i;

	if (!hw)
		return;
	ptxn_hwemu_stop_all(hw);
	for (i = 0; i < hw->nagents; i++) {
		pthread_mutex_destroy(&hw->agents[i]->lock);
		free(hw->agents[i]->ledger);
		free(hw->agents[i]->writes);
		free(hw->agents[i]);
	}
	ptxn_hwemu_as_fini(&hw->as);
	ptxn_hwemu_phys_fini(&hw->phys);
	pthread_mutex_destroy(&hw->lock);
	free(hw->txns);
	free(hw);
}

PTXN_EXTERN_C_END

#endif /* PTXN_HWEMU_MACHINE_H */
