/* SPDX-License-Identifier: MIT */
/*
 * ptxn/hwemu/hwemu.h - hardware Accessed/Dirty emulation: simulated physical memory, real
 * page tables built from ptxn entries, MMU agents (one thread per simulated CPU or
 * coprocessor) with TLBs, a TLB shootdown usable as a ptxn_mm_t flush hook, a ledger of
 * every A/D update, and a checker that says which update a transaction lost.
 *
 * Users include <ptxn/hwemu.h>. The translation unit's entry format (PTXN_FORMAT_*) selects
 * the MMU model; it runs on any host. The walkers themselves are freestanding
 * (hwemu/mmu.h, arch/<format>/mmu.h); this file is hosted: libc and pthreads.
 * docs/hwemu.md documents the rules, the API and the checker.
 */
#ifndef PTXN_HWEMU_HWEMU_H
#define PTXN_HWEMU_HWEMU_H

#include "mmu.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

PTXN_EXTERN_C_BEGIN

#define PTXN_HWEMU_FUNC static inline __attribute__((unused))

#define PTXN_HWEMU_PAGE_SIZE 4096u
#define PTXN_HWEMU_LARGE_PAGES 512u                   /* 4 KiB pages in a 2 MiB page */
#define PTXN_HWEMU_PHYS_BASE UINT64_C(0x100000)       /* tables: backed, from 1 MiB */
#define PTXN_HWEMU_DATA_BASE UINT64_C(0x100000000)    /* data frames: not backed, from 4 GiB */
#define PTXN_HWEMU_TLB_ENTRIES 64u
#define PTXN_HWEMU_MAX_AGENTS 16u
#define PTXN_HWEMU_MAX_FINDINGS 16u

/* Logical A/D bits, as ptxn_pte_young() / ptxn_pte_dirty() read them. */
enum {
	PTXN_HWEMU_YOUNG = 1u,
	PTXN_HWEMU_DIRTY = 2u
};

/* ---- counters ------------------------------------------------------------------------- */

/* Per slot (every entry of every table page); updated with relaxed atomics by all agents. */
struct ptxn_hwemu_slot_stats {
	uint64_t walks;        /* successful walks that ended at this leaf */
	uint64_t young_set;    /* A/AF/R set (any agent, hardware or fault handler) */
	uint64_t dirty_set;    /* D/AP[2] cleared/C set */
	uint64_t restarts;     /* walks restarted because this entry changed */
	uint64_t tlb_hits, tlb_misses;
	uint64_t spurious;     /* faults on this entry while a transaction had it broken */
	uint64_t faults[PTXN_MMU_FAULT_COUNT];
};

/* Per agent; written by its own thread only. */
struct ptxn_hwemu_counters {
	uint64_t accesses, reads, writes, execs;
	uint64_t walks, restarts, updates;
	uint64_t young_set, dirty_set;  /* logical transitions caused (hardware + software-resolved) */
	uint64_t erratum_updates;       /* KNL stray A/D */
	uint64_t sw_resolved;           /* faults resolved through ptxn_ptep_mark_accessed */
	uint64_t tlb_hits, tlb_misses;
	uint64_t faults[PTXN_MMU_FAULT_COUNT];
	uint64_t spurious_faults;       /* a broken entry, valid again on retry (CLEAR's cost) */
	uint64_t stale_tlb_faults;      /* a cached translation refused an access the entry now allows */
	uint64_t stale_writes;          /* writes through a cached translation the entry no longer allows */
	uint64_t hangs;                 /* coprocessor: faulted on a translation memory allows */
	uint64_t cet_violations;        /* x86 CET: a walk met an R/W=0, D=1 leaf */
	uint64_t failed_accesses;       /* gave up after a fault */
};

/* ---- ledger, software log, write log --------------------------------------------------- */

/* One A/D update: a successful compare-and-swap of the MMU or of a fault handler. */
struct ptxn_hwemu_ledger_entry {
	uint64_t ticket;       /* global ticket taken before the compare-and-swap */
	uint64_t done;         /* the ticket counter read after it: the update preceded that ticket */
	uint64_t slot;         /* physical address of the entry */
	uint64_t va;
	ptxn_pteval_t before, after;
	uint16_t agent;
	uint8_t bits;          /* logical bits it turned on (PTXN_HWEMU_YOUNG | _DIRTY) */
	uint8_t kind;          /* enum ptxn_mmu_update_kind */
	uint8_t level;
};

/* One software transaction (or a deliberately unsafe read-modify-write), as logged. */
struct ptxn_hwemu_txn {
	uint64_t slot;         /* physical address of the first entry */
	uint64_t va;
	unsigned nr;           /* entries (1: single-entry transaction) */
	unsigned flags;
	ptxn_pteval_t old;     /* what start returned (CPU order) */
	ptxn_pteval_t new_pte; /* what the caller passed to commit (CPU order) */
	uint64_t t_start;      /* ticket before start */
	uint64_t t_started;    /* ticket after start returned */
	uint64_t t_commit;     /* ticket after commit returned */
	uint64_t t_flushed;    /* ticket after the caller's TLB flush returned; 0: no flush */
};

/*
 * A successful write, for the permission rule (agents with PTXN_HWEMU_AGENT_LOG_WRITES).
 * Both bounds are reads of the ticket counter (no ticket is taken): every ticket handed
 * out before `ticket` precedes the access's TLB lookup, every ticket >= `done` follows its
 * translation. An agent logs each walk-translated write and the first write through each
 * TLB entry after every software log event: enough for the rule, far fewer than all.
 */
struct ptxn_hwemu_write {
	uint64_t ticket;       /* read under the agent's lock, before its TLB lookup */
	uint64_t done;         /* read after the translation succeeded */
	uint64_t slot;         /* the leaf that translated it */
	uint64_t va;
	unsigned agent;
};

/* ---- the checker's verdict ---------------------------------------------------------------- */

enum ptxn_hwemu_finding_kind {
	PTXN_HWEMU_LOST = 1,        /* an A/D update the entry no longer shows */
	PTXN_HWEMU_STRAY,           /* an A/D bit nobody set */
	PTXN_HWEMU_PERMISSION,      /* a write after the commit and flush of a read-only entry */
	PTXN_HWEMU_CET              /* x86 CET: software produced R/W=0, D=1 */
};

struct ptxn_hwemu_finding {
	unsigned kind;
	unsigned bit;               /* PTXN_HWEMU_YOUNG or _DIRTY (LOST, STRAY) */
	uint64_t slot, va;
	ptxn_pteval_t initial, final;
	long expected, actual;      /* conservation: initial + sets vs. cleans + final */
	uint64_t ticket;            /* PERMISSION: the write; LOST by timestamp: the update */
	uint64_t ref_ticket;        /* PERMISSION: the flush; LOST: the last clean's start */
	unsigned ntickets;
	uint64_t tickets[8];        /* LOST: the ledger updates after the last clean */
};

struct ptxn_hwemu_report {
	uint64_t slots_checked, txns, batched_txns, writes_checked;
	uint64_t hw_updates, erratum_updates, sw_updates;
	uint64_t lost;              /* conservation rule, single-entry slots */
	uint64_t lost_batched;      /* timestamp rule, slots changed by batched transactions */
	uint64_t lost_timestamp;    /* timestamp rule, single-entry slots (cross-check) */
	uint64_t stray, permission, cet, hangs;
	unsigned nfindings;
	struct ptxn_hwemu_finding findings[PTXN_HWEMU_MAX_FINDINGS];
};

/* ---- simulated physical memory --------------------------------------------------------- */

struct ptxn_hwemu_phys {
	unsigned char *mem;         /* npages backed pages: tables live here */
	uint64_t base, npages;
	unsigned char *used;        /* per page: 1 if allocated */
	struct ptxn_hwemu_slot_stats **stats; /* per page: 512 counters while it is a table */
	ptxn_pteval_t **initial;    /* per page: the checker's snapshot */
	uint64_t data_next;         /* next data frame (not backed) */
	pthread_mutex_t lock;
};

PTXN_HWEMU_FUNC bool ptxn_hwemu_phys_init(struct ptxn_hwemu_phys *phys, uint64_t npages)
{
	memset(phys, 0, sizeof(*phys));
	phys->mem = (unsigned char *)aligned_alloc(PTXN_HWEMU_PAGE_SIZE,
						   (size_t)npages * PTXN_HWEMU_PAGE_SIZE);
	phys->used = (unsigned char *)calloc((size_t)npages, 1);
	phys->stats = (struct ptxn_hwemu_slot_stats **)calloc((size_t)npages, sizeof(void *));
	phys->initial = (ptxn_pteval_t **)calloc((size_t)npages, sizeof(void *));
	if (!phys->mem || !phys->used || !phys->stats || !phys->initial) {
		free(phys->mem), free(phys->used), free(phys->stats), free(phys->initial);
		return false;
	}
	memset(phys->mem, 0, (size_t)npages * PTXN_HWEMU_PAGE_SIZE);
	phys->base = PTXN_HWEMU_PHYS_BASE;
	phys->npages = npages;
	phys->data_next = PTXN_HWEMU_DATA_BASE;
	pthread_mutex_init(&phys->lock, NULL);
	return true;
}

PTXN_HWEMU_FUNC void ptxn_hwemu_phys_fini(struct ptxn_hwemu_phys *phys)
{
	uint64_t i;

	for (i = 0; i < phys->npages; i++) {
		free(phys->stats[i]);
		free(phys->initial[i]);
	}
	free(phys->mem), free(phys->used), free(phys->stats), free(phys->initial);
	pthread_mutex_destroy(&phys->lock);
	memset(phys, 0, sizeof(*phys));
}

/* pa -> pointer for backed memory, else NULL. */
PTXN_HWEMU_FUNC void *ptxn_hwemu_phys_ptr(const struct ptxn_hwemu_phys *phys, uint64_t pa)
{
	if (pa < phys->base || pa - phys->base >= phys->npages * PTXN_HWEMU_PAGE_SIZE)
		return NULL;
	return phys->mem + (size_t)(pa - phys->base);
}

PTXN_HWEMU_FUNC uint64_t ptxn_hwemu_phys_pa(const struct ptxn_hwemu_phys *phys, const void *ptr)
{
	return phys->base + (uint64_t)((const unsigned char *)ptr - phys->mem);
}

/* Allocate n zeroed table pages aligned to align pages; returns their PA, 0 if none. */
PTXN_HWEMU_FUNC uint64_t ptxn_hwemu_phys_alloc_table(struct ptxn_hwemu_phys *phys, uint64_t n,
						     uint64_t align)
{
	uint64_t first, i, pa = 0;

	if (!align)
		align = 1;
	pthread_mutex_lock(&phys->lock);
	for (first = 0; first + n <= phys->npages; first += align) {
		for (i = 0; i < n && !phys->used[first + i]; i++)
			;
		if (i < n)
			continue;
		for (i = 0; i < n; i++) {
			phys->used[first + i] = 1;
			phys->stats[first + i] = (struct ptxn_hwemu_slot_stats *)calloc(
				PTXN_HWEMU_PAGE_SIZE / 8, sizeof(struct ptxn_hwemu_slot_stats));
		}
		memset(phys->mem + first * PTXN_HWEMU_PAGE_SIZE, 0, (size_t)n * PTXN_HWEMU_PAGE_SIZE);
		pa = phys->base + first * PTXN_HWEMU_PAGE_SIZE;
		break;
	}
	pthread_mutex_unlock(&phys->lock);
	return pa;
}

PTXN_HWEMU_FUNC void ptxn_hwemu_phys_free(struct ptxn_hwemu_phys *phys, uint64_t pa, uint64_t n)
{
	uint64_t first = (pa - phys->base) / PTXN_HWEMU_PAGE_SIZE, i;

	pthread_mutex_lock(&phys->lock);
	for (i = first; i < first + n && i < phys->npages; i++) {
		phys->used[i] = 0;
		free(phys->stats[i]);
		phys->stats[i] = NULL;
		free(phys->initial[i]);
		phys->initial[i] = NULL;
	}
	pthread_mutex_unlock(&phys->lock);
}

/* Frames for data pages: real frame numbers, no memory behind them (agents only translate). */
PTXN_HWEMU_FUNC uint64_t ptxn_hwemu_phys_alloc_data(struct ptxn_hwemu_phys *phys, uint64_t n,
						    uint64_t align)
{
	uint64_t pa, bytes = (align ? align : 1) * PTXN_HWEMU_PAGE_SIZE;

	pthread_mutex_lock(&phys->lock);
	pa = (phys->data_next + bytes - 1) & ~(bytes - 1);
	phys->data_next = pa + n * PTXN_HWEMU_PAGE_SIZE;
	pthread_mutex_unlock(&phys->lock);
	return pa;
}

PTXN_HWEMU_FUNC struct ptxn_hwemu_slot_stats *ptxn_hwemu_phys_stats(const struct ptxn_hwemu_phys *phys,
								    uint64_t slot_pa)
{
	uint64_t page;

	if (slot_pa < phys->base)
		return NULL;
	page = (slot_pa - phys->base) / PTXN_HWEMU_PAGE_SIZE;
	if (page >= phys->npages || !phys->stats[page])
		return NULL;
	return &phys->stats[page][(slot_pa % PTXN_HWEMU_PAGE_SIZE) / 8];
}

PTXN_HWEMU_FUNC void *ptxn_hwemu_phys_to_ptr_cb(void *ctx, uint64_t pa)
{
	return ptxn_hwemu_phys_ptr((const struct ptxn_hwemu_phys *)ctx, pa);
}

/* ---- address space ------------------------------------------------------------------------ */

struct ptxn_hwemu_as {
	struct ptxn_hwemu_phys *phys;
	struct ptxn_mmu mmu;        /* root, mode, memory access; agents copy it */
};

enum {
	PTXN_HWEMU_MAP_LARGE = 1u   /* map 2 MiB pages (va, frames and size 2 MiB aligned) */
};

PTXN_HWEMU_FUNC uint64_t ptxn_hwemu_table_pages(const struct ptxn_mmu *mmu, unsigned level)
{
	uint64_t bytes = UINT64_C(8) << ptxn_mmu_index_bits(mmu, level);

	return bytes <= PTXN_HWEMU_PAGE_SIZE ? 1 : bytes / PTXN_HWEMU_PAGE_SIZE;
}

/* Create an empty address space: a root table in phys. mmu_flags: PTXN_MMU_*. */
PTXN_HWEMU_FUNC bool ptxn_hwemu_as_init(struct ptxn_hwemu_as *as, struct ptxn_hwemu_phys *phys,
					unsigned mmu_flags)
{
	uint64_t pages;

	memset(as, 0, sizeof(*as));
	as->phys = phys;
	as->mmu.phys_to_ptr = ptxn_hwemu_phys_to_ptr_cb;
	as->mmu.phys_ctx = phys;
	as->mmu.flags = mmu_flags;
#ifdef PTXN_FORMAT_POWERPC
	as->mmu.root_bits = PTXN_PPC_ROOT_BITS;
#endif
	pages = ptxn_hwemu_table_pages(&as->mmu, ptxn_mmu_top_level(&as->mmu));
	as->mmu.root = ptxn_hwemu_phys_alloc_table(phys, pages, pages);
	return as->mmu.root != 0;
}

/* The slot for va at level, allocating the tables on the way. NULL: no memory or a leaf above. */
PTXN_HWEMU_FUNC ptxn_pte_t *ptxn_hwemu_as_slot(struct ptxn_hwemu_as *as, uint64_t va, unsigned want,
					       bool alloc)
{
	uint64_t table = as->mmu.root;
	unsigned level = ptxn_mmu_top_level(&as->mmu);

	for (;; level--) {
		uint64_t idx = ptxn_mmu_index(&as->mmu, va, level);
		ptxn_pte_t *slot = (ptxn_pte_t *)ptxn_hwemu_phys_ptr(as->phys, table + 8 * idx);
		ptxn_pteval_t v;
		uint64_t next;

		if (!slot)
			return NULL;
		if (level == want)
			return slot;
		v = ptxn_pte_val(ptxn_ptep_get(slot));
		if (!ptxn_mmu_entry_valid(v)) {
			if (!alloc)
				return NULL;
			next = ptxn_hwemu_phys_alloc_table(as->phys, 1, 1);
			if (!next)
				return NULL;
			ptxn_set_pte(slot, ptxn_make_pte(ptxn_mmu_table_entry(&as->mmu, next, level)));
		} else if (ptxn_mmu_entry_is_leaf(&as->mmu, v, level)) {
			return NULL;
		} else {
			next = ptxn_mmu_entry_table(v);
		}
		table = next;
	}
}

/*
 * Map [va, va + pages * 4 KiB) to fresh frames with prot (old and clean entries). With
 * PTXN_HWEMU_MAP_LARGE, 2 MiB leaves (pages a multiple of 512, va 2 MiB aligned). Returns
 * the first frame's physical address, 0 on failure.
 */
PTXN_HWEMU_FUNC uint64_t ptxn_hwemu_as_map(struct ptxn_hwemu_as *as, uint64_t va, uint64_t pages,
					   ptxn_prot_t prot, unsigned flags)
{
	unsigned level = (flags & PTXN_HWEMU_MAP_LARGE) ? 1 : 0;
	uint64_t step = level ? PTXN_HWEMU_LARGE_PAGES : 1, i, pa;

	if (level && ((va >> 12) % step || pages % step))
		return 0;
	if (va + pages * PTXN_HWEMU_PAGE_SIZE > ptxn_mmu_va_limit(&as->mmu))
		return 0;
	pa = ptxn_hwemu_phys_alloc_data(as->phys, pages, step);
	for (i = 0; i < pages; i += step) {
		ptxn_pte_t *slot = ptxn_hwemu_as_slot(as, va + i * PTXN_HWEMU_PAGE_SIZE, level, true);

		if (!slot)
			return 0;
		ptxn_set_pte(slot, ptxn_make_pte(ptxn_mmu_leaf_entry(
					   &as->mmu, (pa >> 12) + i, prot, level)));
	}
	return pa;
}

/* The leaf slot translating va (software walk, no A/D), its level in *level. NULL: none. */
PTXN_HWEMU_FUNC ptxn_pte_t *ptxn_hwemu_as_lookup(struct ptxn_hwemu_as *as, uint64_t va,
						 unsigned *level)
{
	uint64_t table = as->mmu.root;
	unsigned l = ptxn_mmu_top_level(&as->mmu);

	for (;; l--) {
		ptxn_pte_t *slot = (ptxn_pte_t *)ptxn_hwemu_phys_ptr(
			as->phys, table + 8 * (uint64_t)ptxn_mmu_index(&as->mmu, va, l));
		ptxn_pteval_t v;

		if (!slot)
			return NULL;
		v = ptxn_pte_val(ptxn_ptep_get(slot));
		if (l == 0 || (ptxn_mmu_entry_valid(v) && ptxn_mmu_entry_is_leaf(&as->mmu, v, l))) {
			if (level)
				*level = l;
			return slot;
		}
		if (!ptxn_mmu_entry_valid(v))
			return NULL;
		table = ptxn_mmu_entry_table(v);
	}
}

PTXN_HWEMU_FUNC void ptxn_hwemu_as_free_table(struct ptxn_hwemu_as *as, uint64_t table,
					      unsigned level)
{
	uint64_t n = UINT64_C(1) << ptxn_mmu_index_bits(&as->mmu, level), i;

	if (level > 0) {
		for (i = 0; i < n; i++) {
			ptxn_pte_t *slot = (ptxn_pte_t *)ptxn_hwemu_phys_ptr(as->phys, table + 8 * i);
			ptxn_pteval_t v = ptxn_pte_val(ptxn_ptep_get(slot));

			if (ptxn_mmu_entry_valid(v) && !ptxn_mmu_entry_is_leaf(&as->mmu, v, level))
				ptxn_hwemu_as_free_table(as, ptxn_mmu_entry_table(v), level - 1);
		}
	}
	ptxn_hwemu_phys_free(as->phys, table, ptxn_hwemu_table_pages(&as->mmu, level));
}

/* Free every table of the address space. */
PTXN_HWEMU_FUNC void ptxn_hwemu_as_fini(struct ptxn_hwemu_as *as)
{
	if (as->mmu.root)
		ptxn_hwemu_as_free_table(as, as->mmu.root, ptxn_mmu_top_level(&as->mmu));
	as->mmu.root = 0;
}

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

/* ---- agents ----------------------------------------------------------------------------------- */

PTXN_HWEMU_FUNC uint64_t ptxn_hwemu_rand(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15)); /* splitmix64 */

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

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
	if (e->valid && e->vpn == vpn) {
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
#ifdef PTXN_FORMAT_X86
	if ((a->mmu.flags & PTXN_MMU_X86_CET) && ptxn_mmu_x86_shadow_stack_like(w->leaf_val))
		a->c.cet_violations++;
#endif
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
		if (a->cfg.yield_every && n % a->cfg.yield_every == 0)
			sched_yield(); /* more threads than cores: let the software side run */
	}
	return NULL;
}

/* Start the agent's thread: max_accesses of its pattern (0: until ptxn_hwemu_agent_stop). */
PTXN_HWEMU_FUNC bool ptxn_hwemu_agent_start(struct ptxn_hwemu_agent *a, uint64_t max_accesses)
{
	a->max_accesses = max_accesses;
	__atomic_store_n(&a->stop, 0, __ATOMIC_RELEASE);
	if (pthread_create(&a->thread, NULL, ptxn_hwemu_agent_main, a) != 0)
		return false;
	a->running = 1;
	return true;
}

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

/* ---- checker ----------------------------------------------------------------------------------- */

/*
 * Start a checked run: snapshot every table entry as the initial state and forget earlier
 * ledgers and logs. Call it while no agent is running.
 */
PTXN_HWEMU_FUNC void ptxn_hwemu_check_begin(struct ptxn_hwemu *hw)
{
	uint64_t p;
	unsigned i, j;

	for (p = 0; p < hw->phys.npages; p++) {
		if (!hw->phys.used[p])
			continue;
		if (!hw->phys.initial[p])
			hw->phys.initial[p] = (ptxn_pteval_t *)malloc(PTXN_HWEMU_PAGE_SIZE);
		if (!hw->phys.initial[p])
			abort();
		for (j = 0; j < PTXN_HWEMU_PAGE_SIZE / 8; j++)
			hw->phys.initial[p][j] = ptxn_mmu_load(
				(const ptxn_pte_t *)(const void *)(hw->phys.mem + p * PTXN_HWEMU_PAGE_SIZE) + j);
	}
	for (i = 0; i < hw->nagents; i++) {
		hw->agents[i]->nledger = 0;
		hw->agents[i]->nwrites = 0;
		memset(&hw->agents[i]->c, 0, sizeof(hw->agents[i]->c));
	}
	hw->ntxns = 0;
}

/* Every agent's ledger entries in ticket order (caller frees). */
PTXN_HWEMU_FUNC int ptxn_hwemu_cmp_ticket(const void *x, const void *y)
{
	const struct ptxn_hwemu_ledger_entry *a = (const struct ptxn_hwemu_ledger_entry *)x;
	const struct ptxn_hwemu_ledger_entry *b = (const struct ptxn_hwemu_ledger_entry *)y;

	return a->ticket < b->ticket ? -1 : a->ticket > b->ticket;
}

PTXN_HWEMU_FUNC struct ptxn_hwemu_ledger_entry *ptxn_hwemu_ledger(const struct ptxn_hwemu *hw, size_t *n)
{
	struct ptxn_hwemu_ledger_entry *all;
	size_t total = 0, k = 0;
	unsigned i;

	for (i = 0; i < hw->nagents; i++)
		total += hw->agents[i]->nledger;
	all = (struct ptxn_hwemu_ledger_entry *)calloc(total ? total : 1, sizeof(*all));
	if (!all)
		abort();
	for (i = 0; i < hw->nagents; i++) {
		memcpy(all + k, hw->agents[i]->ledger, hw->agents[i]->nledger * sizeof(*all));
		k += hw->agents[i]->nledger;
	}
	qsort(all, total, sizeof(*all), ptxn_hwemu_cmp_ticket);
	*n = total;
	return all;
}

/* One transaction covering one slot, for the per-slot pass. */
struct ptxn_hwemu_cover {
	uint64_t slot;
	size_t txn;
	uint64_t t_start;
};

PTXN_HWEMU_FUNC int ptxn_hwemu_cmp_cover(const void *x, const void *y)
{
	const struct ptxn_hwemu_cover *a = (const struct ptxn_hwemu_cover *)x;
	const struct ptxn_hwemu_cover *b = (const struct ptxn_hwemu_cover *)y;

	if (a->slot != b->slot)
		return a->slot < b->slot ? -1 : 1;
	return a->t_start < b->t_start ? -1 : a->t_start > b->t_start;
}

PTXN_HWEMU_FUNC int ptxn_hwemu_cmp_slot_ticket(const void *x, const void *y)
{
	const struct ptxn_hwemu_ledger_entry *a = (const struct ptxn_hwemu_ledger_entry *)x;
	const struct ptxn_hwemu_ledger_entry *b = (const struct ptxn_hwemu_ledger_entry *)y;

	if (a->slot != b->slot)
		return a->slot < b->slot ? -1 : 1;
	return a->ticket < b->ticket ? -1 : a->ticket > b->ticket;
}

PTXN_HWEMU_FUNC int ptxn_hwemu_cmp_write(const void *x, const void *y)
{
	const struct ptxn_hwemu_write *a = (const struct ptxn_hwemu_write *)x;
	const struct ptxn_hwemu_write *b = (const struct ptxn_hwemu_write *)y;

	if (a->slot != b->slot)
		return a->slot < b->slot ? -1 : 1;
	return a->ticket < b->ticket ? -1 : a->ticket > b->ticket;
}

PTXN_HWEMU_FUNC struct ptxn_hwemu_finding *ptxn_hwemu_finding(struct ptxn_hwemu_report *r, unsigned kind,
							      uint64_t slot)
{
	struct ptxn_hwemu_finding *f;

	if (r->nfindings >= PTXN_HWEMU_MAX_FINDINGS)
		return NULL;
	f = &r->findings[r->nfindings++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->slot = slot;
	return f;
}

/* The entry of txn t that sits in slot (batched transactions advance the frame). */
PTXN_HWEMU_FUNC ptxn_pteval_t ptxn_hwemu_txn_new_at(const struct ptxn_hwemu_txn *t, uint64_t slot)
{
	return ptxn_pte_val(ptxn_pte_advance_pfn(ptxn_make_pte(t->new_pte), (slot - t->slot) / 8));
}

/* Logical bits of an entry; an empty entry has none (KNL/late R/C strays in it do not count). */
PTXN_HWEMU_FUNC unsigned ptxn_hwemu_logical_state(ptxn_pteval_t v)
{
	return ptxn_arch_pte_none(v) ? 0 : ptxn_hwemu_logical(v);
}

/*
 * Check one slot. ledger[0..nl): its updates by ticket; cover[0..nc): the transactions
 * covering it by start; writes[0..nw): its successful writes by ticket.
 */
PTXN_HWEMU_FUNC void ptxn_hwemu_check_slot(const struct ptxn_hwemu *hw, struct ptxn_hwemu_report *r,
					   uint64_t slot, ptxn_pteval_t initial, ptxn_pteval_t final,
					   const struct ptxn_hwemu_ledger_entry *ledger, size_t nl,
					   const struct ptxn_hwemu_cover *cover, size_t nc,
					   const struct ptxn_hwemu_write *writes, size_t nw)
{
	const struct ptxn_hwemu_txn *txns = hw->txns;
	bool batch = false;
	unsigned bit;
	size_t i, k;

	r->slots_checked++;
	for (k = 0; k < nc; k++)
		if (txns[cover[k].txn].nr > 1)
			batch = true;

	for (bit = PTXN_HWEMU_YOUNG; bit <= PTXN_HWEMU_DIRTY; bit <<= 1) {
		long ib = (ptxn_hwemu_logical_state(initial) & bit) != 0;
		long fb = (ptxn_hwemu_logical_state(final) & bit) != 0;
		long h = 0, s = 0, c = 0, absorbable = 0;
		bool new_has_bit = false;
		uint64_t last_clean = 0;

		for (i = 0; i < nl; i++)
			if ((ledger[i].bits & bit) && ledger[i].kind != PTXN_MMU_UPDATE_ERRATUM)
				h++;
		for (k = 0; k < nc; k++) {
			const struct ptxn_hwemu_txn *t = &txns[cover[k].txn];
			bool ob = (ptxn_hwemu_logical(t->old) & bit) != 0;
			bool nb = (ptxn_hwemu_logical(ptxn_hwemu_txn_new_at(t, slot)) & bit) != 0;

			new_has_bit = new_has_bit || nb;
			if (ob && !nb) {
				c++;
				last_clean = t->t_start;
			} else if (!ob && nb) {
				s++;
				/* A hardware set inside this window is absorbed by the software set. */
				for (i = 0; i < nl; i++)
					if ((ledger[i].bits & bit) && ledger[i].kind != PTXN_MMU_UPDATE_ERRATUM &&
					    ledger[i].ticket < t->t_commit && ledger[i].done > t->t_start) {
						absorbable++;
						break;
					}
			}
		}

		/* Timestamp rule: an update made after one start finished and before the next
		 * began must be seen by that next start (or be in the final entry). */
		for (i = 0; i < nl; i++) {
			const struct ptxn_hwemu_ledger_entry *e = &ledger[i];
			const struct ptxn_hwemu_txn *next = NULL;
			bool ambiguous = false, seen;

			if (!(e->bits & bit) || e->kind == PTXN_MMU_UPDATE_ERRATUM)
				continue;
			for (k = 0; k < nc; k++) {
				const struct ptxn_hwemu_txn *t = &txns[cover[k].txn];

				if (t->t_start >= e->done) {
					next = t;
					break;
				}
				if (t->t_started >= e->ticket)
					ambiguous = true; /* may have raced with this start itself */
			}
			if (ambiguous)
				continue;
			seen = next ? (ptxn_hwemu_logical(next->old) & bit) != 0 : fb != 0;
			if (!seen) {
				struct ptxn_hwemu_finding *f;

				if (batch)
					r->lost_batched++;
				else
					r->lost_timestamp++;
				if (batch && (f = ptxn_hwemu_finding(r, PTXN_HWEMU_LOST, slot))) {
					f->bit = bit;
					f->va = e->va;
					f->initial = initial;
					f->final = final;
					f->ticket = e->ticket;
					f->ref_ticket = next ? next->t_start : 0;
				}
			}
		}

		if (!batch) {
			/* Conservation: initial + hardware sets + software sets == cleans + final. */
			long lhs = ib + h + s, rhs = c + fb;

			if (lhs > rhs + absorbable || rhs > lhs) {
				struct ptxn_hwemu_finding *f;
				bool lost = lhs > rhs;

				if (lost)
					r->lost += (uint64_t)(lhs - rhs - absorbable);
				else
					r->stray += (uint64_t)(rhs - lhs);
				f = ptxn_hwemu_finding(r, lost ? PTXN_HWEMU_LOST : PTXN_HWEMU_STRAY, slot);
				if (f) {
					f->bit = bit;
					f->initial = initial;
					f->final = final;
					f->expected = lhs;
					f->actual = rhs;
					f->ref_ticket = last_clean;
					for (i = 0; i < nl && f->ntickets < 8; i++)
						if ((ledger[i].bits & bit) && ledger[i].ticket > last_clean &&
						    ledger[i].kind != PTXN_MMU_UPDATE_ERRATUM) {
							f->va = ledger[i].va;
							f->tickets[f->ntickets++] = ledger[i].ticket;
						}
				}
			}
		} else if (fb && !ib && !h && !new_has_bit) {
			struct ptxn_hwemu_finding *f = ptxn_hwemu_finding(r, PTXN_HWEMU_STRAY, slot);

			r->stray++;
			if (f) {
				f->bit = bit;
				f->initial = initial;
				f->final = final;
			}
		}
	}

	/* Permission rule: no write translated wholly after a read-only commit and its flush,
	 * and before the next transaction on the entry started, may succeed. */
	for (k = 0; k < nc; k++) {
		const struct ptxn_hwemu_txn *t = &txns[cover[k].txn];
		ptxn_pteval_t nv = ptxn_hwemu_txn_new_at(t, slot);
		uint64_t until = k + 1 < nc ? txns[cover[k + 1].txn].t_start : UINT64_MAX;

		if (!t->t_flushed || (ptxn_arch_pte_hw_valid(nv) && ptxn_arch_pte_write(nv)))
			continue;
		for (i = 0; i < nw; i++) {
			if (writes[i].ticket > t->t_flushed && writes[i].done <= until) {
				struct ptxn_hwemu_finding *f = ptxn_hwemu_finding(r, PTXN_HWEMU_PERMISSION, slot);

				r->permission++;
				if (f) {
					f->va = writes[i].va;
					f->ticket = writes[i].ticket;
					f->ref_ticket = t->t_flushed;
					f->final = nv;
				}
			}
		}
	}

#ifdef PTXN_FORMAT_X86
	/* CET: R/W=0 with D=1 is a shadow-stack page; only software can have made one. */
	if (hw->mmu_flags & PTXN_MMU_X86_CET) {
		bool bad = ptxn_mmu_x86_shadow_stack_like(final);

		for (k = 0; k < nc; k++) {
			const struct ptxn_hwemu_txn *t = &txns[cover[k].txn];

			bad = bad || ptxn_mmu_x86_shadow_stack_like(t->old) ||
			      ptxn_mmu_x86_shadow_stack_like(ptxn_hwemu_txn_new_at(t, slot));
		}
		if (bad) {
			struct ptxn_hwemu_finding *f = ptxn_hwemu_finding(r, PTXN_HWEMU_CET, slot);

			r->cet++;
			if (f) {
				f->initial = initial;
				f->final = final;
			}
		}
	}
#endif
}

/*
 * Check everything since ptxn_hwemu_check_begin() (stop the agents first): every slot of
 * every table, against the ledger, the software log and the write logs. docs/hwemu.md,
 * "The checker", states the rules. Returns true if nothing was found.
 */
PTXN_HWEMU_FUNC bool ptxn_hwemu_check(struct ptxn_hwemu *hw, struct ptxn_hwemu_report *r)
{
	struct ptxn_hwemu_ledger_entry *ledger;
	struct ptxn_hwemu_cover *cover;
	struct ptxn_hwemu_write *writes;
	size_t nl, nc = 0, nw = 0, il = 0, ic = 0, iw = 0, t;
	uint64_t p;
	unsigned i, j;

	memset(r, 0, sizeof(*r));
	ledger = ptxn_hwemu_ledger(hw, &nl);
	qsort(ledger, nl, sizeof(*ledger), ptxn_hwemu_cmp_slot_ticket);
	for (t = 0; t < nl; t++) {
		if (ledger[t].kind == PTXN_MMU_UPDATE_ERRATUM)
			r->erratum_updates++;
		else if (ledger[t].kind == PTXN_MMU_UPDATE_SOFTWARE)
			r->sw_updates++;
		else
			r->hw_updates++;
	}
	for (t = 0; t < hw->ntxns; t++) {
		nc += hw->txns[t].nr;
		if (hw->txns[t].nr > 1)
			r->batched_txns++;
	}
	r->txns = hw->ntxns;
	cover = (struct ptxn_hwemu_cover *)calloc(nc ? nc : 1, sizeof(*cover));
	if (!cover)
		abort();
	nc = 0;
	for (t = 0; t < hw->ntxns; t++)
		for (j = 0; j < hw->txns[t].nr; j++) {
			cover[nc].slot = hw->txns[t].slot + 8 * (uint64_t)j;
			cover[nc].txn = t;
			cover[nc].t_start = hw->txns[t].t_start;
			nc++;
		}
	qsort(cover, nc, sizeof(*cover), ptxn_hwemu_cmp_cover);
	for (i = 0; i < hw->nagents; i++)
		nw += hw->agents[i]->nwrites;
	writes = (struct ptxn_hwemu_write *)calloc(nw ? nw : 1, sizeof(*writes));
	if (!writes)
		abort();
	nw = 0;
	for (i = 0; i < hw->nagents; i++) {
		memcpy(writes + nw, hw->agents[i]->writes, hw->agents[i]->nwrites * sizeof(*writes));
		nw += hw->agents[i]->nwrites;
	}
	qsort(writes, nw, sizeof(*writes), ptxn_hwemu_cmp_write);
	r->writes_checked = nw;

	/* Walk every slot of every table page in address order, merging the three lists. */
	for (p = 0; p < hw->phys.npages; p++) {
		const ptxn_pte_t *page = (const ptxn_pte_t *)(const void *)(hw->phys.mem + p * PTXN_HWEMU_PAGE_SIZE);

		if (!hw->phys.used[p] && !hw->phys.initial[p])
			continue;
		for (j = 0; j < PTXN_HWEMU_PAGE_SIZE / 8; j++) {
			uint64_t slot = hw->phys.base + p * PTXN_HWEMU_PAGE_SIZE + 8 * (uint64_t)j;
			ptxn_pteval_t initial = hw->phys.initial[p] ? hw->phys.initial[p][j] : 0;
			ptxn_pteval_t final = ptxn_mmu_load(page + j);
			size_t l0 = il, c0 = ic, w0 = iw;

			while (il < nl && ledger[il].slot < slot)
				il++;
			l0 = il;
			while (il < nl && ledger[il].slot == slot)
				il++;
			while (ic < nc && cover[ic].slot < slot)
				ic++;
			c0 = ic;
			while (ic < nc && cover[ic].slot == slot)
				ic++;
			while (iw < nw && writes[iw].slot < slot)
				iw++;
			w0 = iw;
			while (iw < nw && writes[iw].slot == slot)
				iw++;
			if (il == l0 && ic == c0 && iw == w0 && initial == final)
				continue;
			ptxn_hwemu_check_slot(hw, r, slot, initial, final, ledger + l0, il - l0,
					      cover + c0, ic - c0, writes + w0, iw - w0);
		}
	}
	for (i = 0; i < hw->nagents; i++) {
		r->hangs += hw->agents[i]->c.hangs;
		r->cet += hw->agents[i]->c.cet_violations;
	}
	free(ledger);
	free(cover);
	free(writes);
	return !r->lost && !r->lost_batched && !r->lost_timestamp && !r->stray && !r->permission &&
	       !r->cet;
}

PTXN_HWEMU_FUNC const char *ptxn_hwemu_finding_name(unsigned kind)
{
	switch (kind) {
	case PTXN_HWEMU_LOST:
		return "lost";
	case PTXN_HWEMU_STRAY:
		return "stray";
	case PTXN_HWEMU_PERMISSION:
		return "permission";
	case PTXN_HWEMU_CET:
		return "cet";
	}
	return "?";
}

PTXN_HWEMU_FUNC void ptxn_hwemu_report_print(const struct ptxn_hwemu_report *r, FILE *out)
{
	unsigned i, k;

	fprintf(out,
		"hwemu check: %llu slots, %llu txns (%llu batched), %llu hw + %llu sw-resolved + "
		"%llu erratum updates, %llu writes; lost %llu, lost(batched) %llu, "
		"lost(timestamp) %llu, stray %llu, permission %llu, cet %llu, hangs %llu\n",
		(unsigned long long)r->slots_checked, (unsigned long long)r->txns,
		(unsigned long long)r->batched_txns, (unsigned long long)r->hw_updates,
		(unsigned long long)r->sw_updates, (unsigned long long)r->erratum_updates,
		(unsigned long long)r->writes_checked, (unsigned long long)r->lost,
		(unsigned long long)r->lost_batched, (unsigned long long)r->lost_timestamp,
		(unsigned long long)r->stray, (unsigned long long)r->permission,
		(unsigned long long)r->cet, (unsigned long long)r->hangs);
	for (i = 0; i < r->nfindings; i++) {
		const struct ptxn_hwemu_finding *f = &r->findings[i];

		fprintf(out, "  %s: slot 0x%llx va 0x%llx %s initial 0x%016llx final 0x%016llx",
			ptxn_hwemu_finding_name(f->kind), (unsigned long long)f->slot,
			(unsigned long long)f->va,
			f->bit == PTXN_HWEMU_YOUNG ? "young" : f->bit == PTXN_HWEMU_DIRTY ? "dirty" : "-",
			(unsigned long long)f->initial, (unsigned long long)f->final);
		if (f->kind == PTXN_HWEMU_LOST || f->kind == PTXN_HWEMU_STRAY)
			fprintf(out, " initial+sets %ld vs cleans+final %ld", f->expected, f->actual);
		if (f->ticket)
			fprintf(out, " ticket %llu", (unsigned long long)f->ticket);
		if (f->ref_ticket)
			fprintf(out, " (ref ticket %llu)", (unsigned long long)f->ref_ticket);
		if (f->ntickets) {
			fprintf(out, " updates after the last clean:");
			for (k = 0; k < f->ntickets; k++)
				fprintf(out, " #%llu", (unsigned long long)f->tickets[k]);
		}
		fputc('\n', out);
	}
}

PTXN_EXTERN_C_END

#endif /* PTXN_HWEMU_HWEMU_H */
