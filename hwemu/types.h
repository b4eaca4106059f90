/* SPDX-License-Identifier: MIT */
/*
 * ptxn/hwemu/types.h - the data every other part of hwemu shares: sizes and limits,
 * the logical A/D bits, per-slot and per-agent counters, the records of the ledger, the
 * software log and the write log, and the checker's verdict (filled in by check.h).
 *
 * Part of <ptxn/hwemu.h>; includes the parts it uses (docs/hwemu.md has the tree).
 */
#ifndef PTXN_HWEMU_TYPES_H
#define PTXN_HWEMU_TYPES_H

#include "mmu.h"     /* enum ptxn_mmu_fault (fault counters), ptxn_pteval_t */

/* Every hosted hwemu function: inline where used, no warning where not. */
#define PTXN_HWEMU_FUNC static inline __attribute__((__unused__))

PTXN_EXTERN_C_BEGIN

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
	uint64_t failed_accesses;       /* gave up after a fault */
	uint64_t mode_flips;            /* changes of the agent's own A/D mode (mode_flip_every) */
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
	uint64_t conflicts;         /* Arm TLB conflict aborts: an access met a mixed contiguous block */
	unsigned nfindings;
	struct ptxn_hwemu_finding findings[PTXN_HWEMU_MAX_FINDINGS];
};

PTXN_EXTERN_C_END

#endif /* PTXN_HWEMU_TYPES_H */
