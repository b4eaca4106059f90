/* SPDX-License-Identifier: MIT */
/*
 * ptxn/core/mm.h - the address-space context every transaction takes: which strategy,
 * which platform (native or paravirtual), which TLB-flush hook, which quirks apply.
 */
#ifndef PTXN_CORE_MM_H
#define PTXN_CORE_MM_H

#ifndef PTXN_CORE_INTERNAL
#error "Do not include ptxn/core/mm.h directly; include <ptxn/ptxn.h>"
#endif

PTXN_EXTERN_C_BEGIN

/* How a transaction protects an entry against the MMU (docs/strategies.md). */
enum ptxn_strategy {
	/* The fastest strategy that is correct for this arch and this change (default). */
	PTXN_STRATEGY_AUTO = 0,
	/*
	 * Linux's generic way: start empties the entry (atomic exchange; on PowerPC it clears
	 * V and keeps it present to software), commit writes the new one. Two writes per entry
	 * and a fault for any CPU that touches the page in between.
	 */
	PTXN_STRATEGY_CLEAR = 1,
	/*
	 * Present-preserving (FreeBSD pmap, Xen MMU_PT_UPDATE_PRESERVE_AD): start is a load,
	 * commit a compare-and-swap folding in every A/D update made since start, retried.
	 */
	PTXN_STRATEGY_MERGE = 2
};
#define PTXN_STRATEGY_COUNT 3

/* Quirks of the hardware that shares this address space (ptxn_mm_t.flags). */
enum {
	/*
	 * PowerPC POWER9: a coprocessor's nest MMU shares the address space and caches
	 * translations; relaxing an entry's access in place can hang it, so such a change
	 * goes invalid -> TLB flush -> new entry (Linux radix__ptep_modify_prot_commit with
	 * mm->context.copros > 0).
	 */
	PTXN_MM_COPROCESSOR = 1u << 0,
	/*
	 * Arm Cortex-A715 erratum 2645198: changing the permissions of an executable user
	 * entry needs the entry invalid and its TLB entry invalidated first (Linux's
	 * ARM64_WORKAROUND_2645198 in ptep_modify_prot_start).
	 */
	PTXN_MM_ERRATUM_ARM64_2645198 = 1u << 1,
	/*
	 * x86: no CPU sharing this address space sets D in an entry whose R/W is 0. True of
	 * every processor that supports CET (SDM Vol. 3A 4.8: a write through a stale
	 * writable TLB entry re-walks and faults instead), and of any x86 when every
	 * write-protection is TLB-flushed before the entry's next transaction starts. Then a
	 * young read-only entry is final too, and AUTO commits it with a plain store
	 * (docs/strategies.md). No effect on the other formats.
	 */
	PTXN_MM_X86_CET = 1u << 2,
	/*
	 * The caller's promise, on any architecture: every change that removes write
	 * permission is TLB-flushed (on every CPU and MMU sharing the address space) before a
	 * transaction on that entry starts again - as mprotect() does, its flush coming before
	 * the next mprotect of the range. Then no stale writable translation exists when a
	 * read-only entry is changed, so no MMU can set dirty in it (x86 D, PowerPC C) and a
	 * young read-only entry is final: AUTO commits it with a plain store. x86: the same
	 * effect as PTXN_MM_X86_CET, which CET processors keep by themselves; ARM64 needs no
	 * promise (dirty is checked against memory). tests/test_hwemu_rules_{x86,powerpc}.c
	 * show a false promise losing a dirty bit and the checker catching it.
	 */
	PTXN_MM_WRPROTECT_FLUSHED = 1u << 3,
	/*
	 * RISC-V: every hart sharing this address space manages A and D by the first scheme
	 * of the privileged spec (20211203, 4.3.1; the extension name is Svade): an access
	 * with A=0, or a store with D=0, raises a page fault and the hart never writes an
	 * entry (Svadu absent, or menvcfg.ADUE=0 on every hart - "all harts in a system must
	 * employ the same PTE-update scheme"). Then no MMU can change an entry under a
	 * transaction and AUTO commits every entry with a plain store. Only honest if the
	 * fault handler sets A/D under the same PTE lock the transactions hold, as Linux's
	 * handle_pte_fault() does (ptep_set_access_flags under the PTE lock): a
	 * ptxn_ptep_mark_accessed() that races an open transaction without that lock would
	 * be overwritten. Never set it while ADUE may be 1. No effect on the other formats.
	 */
	PTXN_MM_RISCV_SVADE = 1u << 4
};

struct ptxn_mm;
typedef struct ptxn_mm ptxn_mm_t;

/*
 * Invalidate the TLB entries for [start, end) in this address space, on every CPU and
 * MMU that may cache them, and wait for completion (arm64: DSB ISHST; TLBI VALE1IS...;
 * DSB ISH. PowerPC: ptesync; tlbie; eieio; tlbsync; ptesync. x86: INVLPG + shootdown).
 */
typedef void (*ptxn_flush_tlb_range_fn)(ptxn_mm_t *mm, uintptr_t start, uintptr_t end);

/*
 * A paravirtual platform (Linux pv_ops style): when mm->platform is set, every entry
 * write of the transaction API goes through it instead of touching the slot. NULL (the
 * default) keeps the native inline path; the test is one well-predicted branch.
 */
struct ptxn_platform_ops {
	const char *name;
	ptxn_pte_t (*modify_prot_start)(ptxn_mm_t *mm, uintptr_t addr, ptxn_pte_t *ptep,
					unsigned int nr);
	void (*modify_prot_commit)(ptxn_mm_t *mm, uintptr_t addr, ptxn_pte_t *ptep,
				   ptxn_pte_t old_pte, ptxn_pte_t pte, unsigned int nr);
	void (*set_pte_at)(ptxn_mm_t *mm, uintptr_t addr, ptxn_pte_t *ptep, ptxn_pte_t pte);
	ptxn_pte_t (*ptep_get_at)(ptxn_mm_t *mm, uintptr_t addr, const ptxn_pte_t *ptep);
	void (*lazy_mmu_enter)(ptxn_mm_t *mm);
	void (*lazy_mmu_leave)(ptxn_mm_t *mm);
	void (*lazy_mmu_flush)(ptxn_mm_t *mm);
};

/* What the transactions did, counted only when built with PTXN_STATS (else all zero). */
struct ptxn_mm_stats {
	uint64_t starts;         /* transactions started (a batch counts once) */
	uint64_t entries;        /* entries committed */
	uint64_t quiescent;      /* committed with a plain store: the MMU could not write them */
	uint64_t merged;         /* committed with a compare-and-swap */
	uint64_t merge_retries;  /* compare-and-swaps that lost to a hardware update and retried */
	uint64_t broken;         /* made invalid in between (CLEAR, break-before-make, errata) */
	uint64_t unchanged;      /* nothing to write: the new entry equals the old one */
	uint64_t tlb_flushes;    /* flushes ptxn itself asked for (BBM, coprocessor, erratum) */
};

/* What a PTXN_DEBUG build found wrong (core/debug.h). */
enum ptxn_violation_kind {
	PTXN_VIOLATION_START_WITHOUT_COMMIT = 1,
	PTXN_VIOLATION_COMMIT_WITHOUT_START,
	PTXN_VIOLATION_SECOND_START,
	PTXN_VIOLATION_COMMIT_OTHER_ENTRY,
	PTXN_VIOLATION_OLD_PTE_MISMATCH,
	PTXN_VIOLATION_STRATEGY_CHANGED,
	PTXN_VIOLATION_TOO_MANY_OPEN,
	PTXN_VIOLATION_BATCH_SIZE,
	PTXN_VIOLATION_BAD_SLOT,
	PTXN_VIOLATION_BAD_PFN,
	PTXN_VIOLATION_NO_TLB_FLUSH_HOOK,
	PTXN_VIOLATION_LAZY_LEAVE_WITHOUT_ENTER,
	PTXN_VIOLATION_LAZY_NESTING,
	PTXN_VIOLATION_CONT_PARTIAL,
	PTXN_VIOLATION_BATCH_DROPS_AD
};

struct ptxn_violation {
	enum ptxn_violation_kind kind;
	const char *what;      /* what was wrong, one sentence */
	const char *fix;       /* how to fix it */
	const char *file;      /* the caller's source position (PTXN_DEBUG builds) */
	int line;
	const ptxn_mm_t *mm;   /* NULL for checks without an mm (ptxn_pfn_pte) */
	const void *slot;
	uintptr_t addr;
	uint64_t expected;     /* the value that was due (storage order for entries) */
	uint64_t actual;       /* the value found */
};

typedef void (*ptxn_violation_hook_fn)(const struct ptxn_violation *violation);

/* The contract checker's record of one open transaction (PTXN_DEBUG builds). */
struct ptxn_mm_open_txn {
	const ptxn_pte_t *ptep;
	uint64_t old_storage;
	uintptr_t addr;
	unsigned int nr;
	unsigned char strategy;
	unsigned char in_use;
};
#define PTXN_DEBUG_MAX_OPEN 4

/*
 * The address-space context. A complete type: embed or allocate it, then ptxn_mm_init().
 * Fields are public for inspection; change them through the functions below.
 */
struct ptxn_mm {
	unsigned char strategy;                 /* enum ptxn_strategy */
	unsigned char lazy_depth;               /* lazy MMU mode nesting (paravirt) */
	unsigned char path;                     /* PTXN_MM_PATH_*: derived, by the setters */
	unsigned int flags;                     /* PTXN_MM_* quirks */
	ptxn_flush_tlb_range_fn flush_tlb_range; /* NULL: no TLB to flush (tests without one) */
	void *private_data;                     /* the caller's, for its hooks */
	const struct ptxn_platform_ops *platform; /* NULL: native */
	void *platform_data;
	struct ptxn_mm_stats stats;
	/* PTXN_DEBUG only (present in every build so the layout never depends on it): */
	ptxn_violation_hook_fn violation_hook;  /* NULL: the default (core/debug.h) */
	uint64_t debug_lock __attribute__((__aligned__(8)));
	struct ptxn_mm_open_txn open_txn[PTXN_DEBUG_MAX_OPEN];
};

/*
 * Which path the transactions of this mm take, decided once when the mm changes instead of
 * on every call (core/transaction.h): the fast paths of AUTO and MERGE on the native
 * platform without a quirk that breaks entries at start, or the general one. Kept in
 * mm->path by the setters below; that is why the fields are changed through them only.
 */
enum {
	PTXN_MM_PATH_GENERAL = 0,  /* a platform, a start quirk: every case handled */
	PTXN_MM_PATH_CLEAR = 1,    /* CLEAR, native: start breaks */
	PTXN_MM_PATH_MERGE = 2,    /* MERGE, native: start is a load */
	PTXN_MM_PATH_AUTO = 3,     /* AUTO, native: start is a load */
	PTXN_MM_PATH_AUTO_RO_FINAL = 4 /* AUTO, and the flags say read-only young is final */
};

/* Recompute mm->path (defined in core/transaction.h, once the format is known). */
PTXN_INLINE void ptxn_mm_update_path(ptxn_mm_t *mm);

/* The native platform, AUTO strategy, no quirks, no TLB hook. */
PTXN_INLINE void ptxn_mm_init(ptxn_mm_t *mm)
{
	unsigned char *p = (unsigned char *)mm;
	size_t i;

	for (i = 0; i < sizeof(*mm); i++) /* no memset: freestanding */
		p[i] = 0;
	mm->strategy = PTXN_STRATEGY_AUTO;
	ptxn_mm_update_path(mm);
}

/* Out-of-range values are refused (returns false and leaves the mm as it was). */
PTXN_INLINE bool ptxn_mm_set_strategy(ptxn_mm_t *mm, enum ptxn_strategy strategy)
{
	if ((unsigned)strategy >= PTXN_STRATEGY_COUNT)
		return false;
	mm->strategy = (unsigned char)strategy;
	ptxn_mm_update_path(mm);
	return true;
}

PTXN_INLINE enum ptxn_strategy ptxn_mm_strategy(const ptxn_mm_t *mm)
{
	return (enum ptxn_strategy)mm->strategy;
}

PTXN_INLINE const char *ptxn_strategy_name(enum ptxn_strategy strategy)
{
	switch (strategy) {
	case PTXN_STRATEGY_AUTO:
		return "auto";
	case PTXN_STRATEGY_CLEAR:
		return "clear";
	case PTXN_STRATEGY_MERGE:
		return "merge";
	}
	return "unknown";
}

PTXN_INLINE void ptxn_mm_set_flags(ptxn_mm_t *mm, unsigned int flags)
{
	mm->flags = flags;
	ptxn_mm_update_path(mm);
}

/* Route this mm's entry writes through a paravirtual platform (NULL: native again). */
PTXN_INLINE void ptxn_mm_set_platform(ptxn_mm_t *mm, const struct ptxn_platform_ops *platform,
				      void *platform_data)
{
	mm->platform = platform;
	mm->platform_data = platform_data;
	ptxn_mm_update_path(mm);
}

PTXN_INLINE void ptxn_mm_set_flush_tlb_range(ptxn_mm_t *mm, ptxn_flush_tlb_range_fn fn,
					     void *private_data)
{
	mm->flush_tlb_range = fn;
	mm->private_data = private_data;
}

/* Where PTXN_DEBUG reports a broken contract; NULL restores the default (print, abort). */
PTXN_INLINE void ptxn_mm_set_violation_hook(ptxn_mm_t *mm, ptxn_violation_hook_fn hook)
{
	mm->violation_hook = hook;
}

#ifdef PTXN_STATS
#define PTXN_STAT_ADD(mm, field, n) __atomic_fetch_add(&(mm)->stats.field, (n), __ATOMIC_RELAXED)
#else
/* without PTXN_STATS nothing is evaluated (sizeof: a count may cost a libgcc call) */
#define PTXN_STAT_ADD(mm, field, n) ((void)(mm), (void)sizeof(n))
#endif

PTXN_EXTERN_C_END

#endif /* PTXN_CORE_MM_H */
