/* SPDX-License-Identifier: MIT */
/*
 * ptxn/hwemu/mmu.h - the freestanding part of the hardware A/D emulation: one page-table
 * walker per entry format that sets Accessed/Dirty exactly as that MMU does.
 *
 * This header and hwemu/<format>/mmu.h use only ptxn's own headers: no libc, no threads, no
 * allocation. Table memory is reached through a phys-to-pointer callback or a linear
 * window, so the same walker runs in a hosted emulator (hwemu/hwemu.h) and inside a
 * freestanding guest (issue #11 compares it with QEMU's walker entry by entry).
 *
 * Levels are numbered alike on every arch: 0 is the 4 KiB level (x86 PT, Arm level 3,
 * radix PTE level, RISC-V level 0), 1 the 2 MiB level, 2 the 1 GiB level, 3 the top
 * (PML4, Arm level 0, radix root, Sv48 level 3; Sv39 and x86 PAE have no level 3).
 * docs/hwemu.md lists every rule with the manual section that states it.
 */
#ifndef PTXN_HWEMU_MMU_H
#define PTXN_HWEMU_MMU_H

/* hwemu/ sits beside core/ in a checkout and in <prefix>/include/ptxn/ alike. */
#include "../core/ptxn.h"

/* Walkers are slow paths: inline where used, but not forced. */
#define PTXN_MMU_FUNC static inline __attribute__((__unused__))

PTXN_EXTERN_C_BEGIN

/* What an access does. PTXN_MMU_PROBE may be or-ed in: check only, never update or fault on A/D. */
enum ptxn_mmu_access {
	PTXN_MMU_READ = 0,
	PTXN_MMU_WRITE = 1,
	PTXN_MMU_EXEC = 2,
	/* x86 with CET: a shadow-stack write (CALL's push, WRSS), allowed only to a
	 * shadow-stack page (SDM Vol. 3A 4.6.1); other formats fault it as a write */
	PTXN_MMU_SHADOW_STACK = 3
};
#define PTXN_MMU_ACCESS_MASK 3u
#define PTXN_MMU_PROBE 0x100u

/* Why a translation failed (PTXN_MMU_OK: it did not). */
enum ptxn_mmu_fault {
	PTXN_MMU_OK = 0,
	PTXN_MMU_FAULT_NOT_PRESENT, /* x86 #PF P=0; Arm translation fault; radix "no PTE" */
	PTXN_MMU_FAULT_WRITE,       /* the translation does not allow a write */
	PTXN_MMU_FAULT_EXEC,        /* ... an instruction fetch (NX, UXN/PXN, no X) */
	PTXN_MMU_FAULT_READ,        /* ... a read (radix execute-only or no-access EAA) */
	PTXN_MMU_FAULT_USER,        /* user access to a supervisor/privileged page */
	PTXN_MMU_FAULT_RESERVED,    /* reserved bit or bad descriptor / radix bad config */
	PTXN_MMU_FAULT_ADDRESS,     /* address outside the translated range (non-canonical) */
	PTXN_MMU_FAULT_ACCESS_FLAG, /* Arm: AF=0 and TCR.HA=0; RISC-V Svade: A=0. Software sets it */
	PTXN_MMU_FAULT_DIRTY,       /* Arm: write to a DBM=1, AP[2]=1 entry without HA+HD;
				       RISC-V Svade: a store with D=0 */
	PTXN_MMU_FAULT_RC,          /* radix: R (or C for a store) not set, interrupt mode */
	PTXN_MMU_FAULT_BUS,         /* a table address with no memory behind it */
	PTXN_MMU_FAULT_CONFLICT,    /* Arm: TLB conflict abort (a mixed contiguous block) */
	PTXN_MMU_FAULT_COUNT
};

/* Faults that software resolves by marking the entry (ptxn_ptep_mark_accessed). */
PTXN_INLINE bool ptxn_mmu_fault_resolvable(unsigned fault)
{
	return fault == PTXN_MMU_FAULT_ACCESS_FLAG || fault == PTXN_MMU_FAULT_DIRTY ||
	       fault == PTXN_MMU_FAULT_RC;
}

PTXN_INLINE const char *ptxn_mmu_fault_name(unsigned fault)
{
	static const char *const names[PTXN_MMU_FAULT_COUNT] = {
		"ok", "not-present", "write", "exec", "read", "user", "reserved",
		"address", "access-flag", "dirty", "rc", "bus", "tlb-conflict"};

	return fault < PTXN_MMU_FAULT_COUNT ? names[fault] : "?";
}

/*
 * MMU modes, one flag space for every arch (an arch ignores the others' flags).
 */
enum {
	/* x86: CET supervisor/user shadow stacks enabled (CR4.CET): a write through a TLB entry
	 * whose D is clear re-walks and re-checks R/W (SDM Vol. 3A 4.8, last paragraph). */
	PTXN_MMU_X86_CET = 1u << 0,
	/* x86: Knights Landing erratum KNL4 (A/D may be set in a not-present entry). */
	PTXN_MMU_X86_KNL = 1u << 1,
	/* x86: 32-bit PAE paging, 3 levels, PDPTEs loaded at CR3 time (SDM Vol. 3A 4.4.1). */
	PTXN_MMU_X86_PAE = 1u << 2,
	/* Arm: TCR_EL1.HA, hardware Access flag management (FEAT_HAFDBS). */
	PTXN_MMU_ARM64_HA = 1u << 4,
	/* Arm: TCR_EL1.HD, hardware dirty state management; has no effect without HA. */
	PTXN_MMU_ARM64_HD = 1u << 5,
	/* PowerPC: the implementation does not update R/C; it raises a storage interrupt. */
	PTXN_MMU_PPC_RC_INTERRUPT = 1u << 8,
	/* RISC-V: Svade, the first A/D scheme of priv 20211203 4.3.1 (menvcfg.ADUE=0): A=0,
	 * or D=0 for a store, is a page fault; without it the hart sets them (Svadu). */
	PTXN_MMU_RISCV_SVADE = 1u << 12,
	/* RISC-V: Sv39 (3 levels) instead of Sv48 (4 levels). */
	PTXN_MMU_RISCV_SV39 = 1u << 13
};

/* Who made an A/D update (ledger kind). */
enum ptxn_mmu_update_kind {
	PTXN_MMU_UPDATE_NORMAL = 0,   /* the MMU, for an access */
	PTXN_MMU_UPDATE_ERRATUM = 1,  /* an erratum's stray write (KNL): not an access */
	PTXN_MMU_UPDATE_SOFTWARE = 2  /* a fault handler, through ptxn_ptep_mark_accessed */
};

/* One A/D update, reported to mmu->updated after its compare-and-swap succeeded. */
struct ptxn_mmu_update {
	ptxn_pte_t *slot;
	uint64_t va;
	ptxn_pteval_t before;  /* the entry the compare-and-swap replaced (CPU order) */
	ptxn_pteval_t after;   /* what it wrote */
	uint64_t ticket;       /* mmu->ticket() taken before the compare-and-swap, or 0 */
	unsigned level;
	unsigned kind;         /* enum ptxn_mmu_update_kind */
};

/* One MMU: where its tables are, its mode, and who hears about its updates. */
struct ptxn_mmu {
	/* Table memory: phys_to_ptr(phys_ctx, pa) if set, else phys_base + (pa - phys_start)
	 * for pa in [phys_start, phys_start + phys_size). NULL: no memory (bus fault). */
	void *(*phys_to_ptr)(void *phys_ctx, uint64_t pa);
	void *phys_ctx;
	unsigned char *phys_base;
	uint64_t phys_start, phys_size;

	uint64_t root;        /* CR3 / TTBR0_EL1 / the process-table entry's RPDB */
	unsigned root_bits;   /* PowerPC: RPDS, log2 of the root's entries (13 as Linux 4K) */
	unsigned flags;       /* PTXN_MMU_* */
	uint64_t pdpte[4];    /* x86 PAE: the PDPTE registers (ptxn_mmu_x86_load_pdptes) */

	/* Called right before each compare-and-swap that sets A/D; NULL: tickets are 0. */
	uint64_t (*ticket)(void *hook_ctx);
	/* Called after each successful one; NULL: nobody listens. */
	void (*updated)(void *hook_ctx, const struct ptxn_mmu_update *update);
	void *hook_ctx;
};

/* The outcome of one translation. */
struct ptxn_mmu_walk {
	unsigned fault;        /* PTXN_MMU_OK or enum ptxn_mmu_fault */
	uint64_t pa;           /* the physical address (when OK) */
	uint64_t page_size;
	ptxn_pte_t *leaf;      /* the leaf used, or the entry that faulted (NULL if none) */
	ptxn_pteval_t leaf_val;/* its value as last read or written by this walk (CPU order) */
	unsigned level;        /* level of the leaf, or of the faulting entry */
	unsigned prot;         /* PTXN_PROT_* the translation grants (USER: user-accessible) */
	bool dirty;            /* a later write may use the cached translation without an update */
	unsigned restarts;     /* whole-walk restarts after a failed compare-and-swap */
	unsigned updates;      /* successful compare-and-swaps */
};

/* Result of a write through a cached translation whose dirty state is not set. */
enum {
	PTXN_MMU_TLB_OK = 0,    /* the dirty state is now in memory (or already was): write */
	PTXN_MMU_TLB_REWALK = -1 /* drop the cached translation and translate again */
};

PTXN_INLINE ptxn_pte_t *ptxn_mmu_slot(const struct ptxn_mmu *mmu, uint64_t pa)
{
	if (mmu->phys_to_ptr)
		return (ptxn_pte_t *)mmu->phys_to_ptr(mmu->phys_ctx, pa);
	if (pa < mmu->phys_start || pa - mmu->phys_start >= mmu->phys_size || (pa & 7))
		return NULL;
	return (ptxn_pte_t *)(void *)(mmu->phys_base + (pa - mmu->phys_start));
}

/* Single-copy-atomic read of an entry, CPU order (rule: hardware.md 1). */
PTXN_INLINE ptxn_pteval_t ptxn_mmu_load(const ptxn_pte_t *slot)
{
	return ptxn_arch_pte_from_storage(ptxn_arch_slot_load(&slot->storage));
}

/*
 * The hardware's update of one entry: take a ticket, then one compare-and-swap from the
 * value the walk read to that value with `set` or-ed in and `clear` removed, on the slot's
 * storage (big-endian for radix). Returns false if the entry changed since it was read:
 * the caller restarts its walk. Never called for a value that is not to be written.
 */
PTXN_INLINE bool ptxn_mmu_cas(const struct ptxn_mmu *mmu, ptxn_pte_t *slot, uint64_t va,
			      unsigned level, ptxn_pteval_t seen, ptxn_pteval_t next, unsigned kind)
{
	uint64_t expected = ptxn_arch_pte_to_storage(seen);
	uint64_t ticket = mmu->ticket ? mmu->ticket(mmu->hook_ctx) : 0;
	struct ptxn_mmu_update u;

	if (!ptxn_arch_slot_cmpxchg(&slot->storage, &expected, ptxn_arch_pte_to_storage(next)))
		return false;
	if (mmu->updated) {
		u.slot = slot;
		u.va = va;
		u.before = seen;
		u.after = next;
		u.ticket = ticket;
		u.level = level;
		u.kind = kind;
		mmu->updated(mmu->hook_ctx, &u);
	}
	return true;
}

PTXN_INLINE void ptxn_mmu_walk_init(struct ptxn_mmu_walk *w)
{
	w->fault = PTXN_MMU_OK;
	w->pa = 0;
	w->page_size = 0;
	w->leaf = NULL;
	w->leaf_val = 0;
	w->level = 0;
	w->prot = 0;
	w->dirty = false;
	w->restarts = 0;
	w->updates = 0;
}

/* A bound on restarts: each one means software changed an entry under the walk. */
#define PTXN_MMU_MAX_RESTARTS 1000000u

PTXN_EXTERN_C_END

#define PTXN_MMU_INTERNAL 1
#if defined(PTXN_FORMAT_X86)
#include "x86/mmu.h"
#elif defined(PTXN_FORMAT_ARM64)
#include "arm64/mmu.h"
#elif defined(PTXN_FORMAT_POWERPC)
#include "powerpc/mmu.h"
#elif defined(PTXN_FORMAT_RISCV)
#include "riscv/mmu.h"
#endif
#undef PTXN_MMU_INTERNAL

#endif /* PTXN_HWEMU_MMU_H */
