/* SPDX-License-Identifier: MIT */
/*
 * ptxn/pvemu/pvemu.h - paravirtual emulation: a simulated hypervisor that alone may write
 * the page tables of a hwemu machine, reached only through hypercalls with a real round
 * trip, and a ptxn platform (struct ptxn_platform_ops) that turns a ptxn_mm_t's
 * transactions into hypercalls, with lazy-MMU batching. docs/paravirt.md has the model,
 * the protocol, the costs and the measurements.
 *
 *   hypervisor   one thread. It owns the writable view of the table memory (a memfd
 *                mapped twice); the guest gets a read-only view, so a guest store to a
 *                table takes SIGSEGV, as a Xen PV guest's would fault. The hwemu agents
 *                (the MMUs) keep reading and compare-and-swapping A/D through the
 *                writable view, as hardware does.
 *   hypercall    a request array in guest memory, posted to a ring of call descriptors
 *                in shared memory; the hypervisor is woken by a futex, serves calls in
 *                order, busy-waits a configurable synthetic trap cost, validates and
 *                applies each request, stops at the first rejection (Xen's mmu_update:
 *                error plus a count of requests done) and wakes the caller by a futex.
 *                One hypercall = one trap, counted.
 *   platform     ptxn_pvemu_attach(pv, mm, batch): start/commit of that mm become
 *                requests; in lazy MMU mode commits queue in a per-mm batch sent as one
 *                hypercall when full, on flush and on leave.
 *
 * Hosted, Linux only: pthreads, futex(2), memfd_create(2), mmap(2); define _GNU_SOURCE
 * before any #include. Include it through <ptxn/pvemu.h>; it includes <ptxn/hwemu.h>. A kernel writing its own hypercall
 * platform needs none of this: core/mm.h's struct ptxn_platform_ops is the whole
 * interface (freestanding).
 */
#ifndef PTXN_PVEMU_PVEMU_H
#define PTXN_PVEMU_PVEMU_H

#ifndef _GNU_SOURCE
#error "<ptxn/pvemu.h> uses futex(2), memfd_create(2) and CPU affinity: define _GNU_SOURCE before any #include"
#endif

#include "../hwemu/hwemu.h"

#include <errno.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

PTXN_EXTERN_C_BEGIN

#define PTXN_PVEMU_FUNC static inline __attribute__((unused))

#define PTXN_PVEMU_RING 64u            /* call descriptors in the shared ring */
#define PTXN_PVEMU_DEFAULT_BATCH 32u   /* Linux's Xen multicall batch (MC_BATCH) */
#define PTXN_PVEMU_MAX_BATCH 4096u
#define PTXN_PVEMU_SYNC_ROOM 512u      /* synchronous requests that may ride with a queue */
#define PTXN_PVEMU_DEFAULT_SPIN_NS 50000u /* spin (PAUSE, then yield) before a futex sleep */
#define PTXN_PVEMU_PAUSE_NS 5000u         /* of which PAUSE only (plus the trap cost) */

/* ---- the hypercall ABI ------------------------------------------------------------------ */

/* What one request asks the hypervisor to do with one entry. */
enum ptxn_pv_cmd {
	/* Write val as is (Xen MMU_NORMAL_PT_UPDATE): ptxn_set_pte_at. result: the entry before. */
	PTXN_PV_UPDATE = 1,
	/*
	 * Write val keeping every A/D update the MMU made since the entry was old: a
	 * compare-and-swap loop on the real entry, val merged with the A/D found set that old
	 * lacks (ptxn_arch_pte_merge_hw). Xen's MMU_PT_UPDATE_PRESERVE_AD keeps *all* A/D the
	 * entry holds, which cannot clean or age an entry; carrying old can. A change that
	 * needs break-before-make (ARM64 frame or attribute change) is done here as break,
	 * shootdown, install. The commit of MERGE and AUTO.
	 */
	PTXN_PV_PRESERVE_AD,
	/* Make the entry unusable by the MMU (exchange; PowerPC: clear V, set INVALID). result:
	 * what it held, A/D included. CLEAR's start; shoots down if the mm's erratum needs it. */
	PTXN_PV_BREAK,
	/* Install val into a broken entry, keeping late PowerPC R/C write-backs. CLEAR's commit. */
	PTXN_PV_INSTALL,
	/* Strip A/D, leaving the entry valid; result: what it held. Batched MERGE/AUTO start. */
	PTXN_PV_HARVEST,
	/* Invalidate [va, va + val.storage) in every TLB and wait (mm->flush_tlb_range). */
	PTXN_PV_TLB_FLUSH
};
#define PTXN_PV_CMD_COUNT 7

/* Why the hypervisor rejected a request. Nothing of a rejected request is applied. */
enum ptxn_pv_errno {
	PTXN_PV_OK = 0,
	PTXN_PV_EALIGN,   /* the slot address is not 8-byte aligned */
	PTXN_PV_ENOTPT,   /* the slot is not in one of the guest's page tables */
	PTXN_PV_EPTWRITE, /* the entry would map a page-table page writable */
	PTXN_PV_EPFN,     /* the entry maps a frame outside the guest's memory */
	PTXN_PV_ETABLE,   /* a table entry that does not point at a page table one level down */
	PTXN_PV_ECMD      /* unknown command, or a TLB flush of an empty or wrapping range */
};
#define PTXN_PV_ERRNO_COUNT 7

PTXN_PVEMU_FUNC const char *ptxn_pv_strerror(int err)
{
	static const char *const names[PTXN_PV_ERRNO_COUNT] = {
		"ok",
		"slot not 8-byte aligned",
		"slot outside the guest's page tables",
		"entry would map a page-table page writable",
		"entry maps a frame outside the guest's memory",
		"table entry does not point at a page table one level down",
		"bad command",
	};

	return err >= 0 && err < PTXN_PV_ERRNO_COUNT ? names[err] : "?";
}

PTXN_PVEMU_FUNC const char *ptxn_pv_cmd_name(unsigned cmd)
{
	static const char *const names[PTXN_PV_CMD_COUNT] = {
		"?", "update", "preserve-ad", "break", "install", "harvest", "tlb-flush"};

	return cmd < PTXN_PV_CMD_COUNT ? names[cmd] : "?";
}

/* One request, in guest memory; the hypervisor reads it and writes result. */
struct ptxn_pv_request {
	uint32_t cmd;       /* enum ptxn_pv_cmd */
	uint32_t reserved;
	uint64_t slot;      /* guest-physical address of the entry (not a pointer) */
	uint64_t va;        /* the virtual address it maps: shootdowns, error reports */
	ptxn_pte_t old;     /* PRESERVE_AD, INSTALL: the value start returned */
	ptxn_pte_t val;     /* the entry to write; TLB_FLUSH: the length in bytes */
	ptxn_pte_t result;  /* out (UPDATE, BREAK, HARVEST): the entry before */
};

/* ---- the hypervisor ------------------------------------------------------------------- */

enum {
	/* Negative control: PRESERVE_AD writes val as is, dropping the MMU's A/D updates. */
	PTXN_PVEMU_BUG_DROP_AD = 1u << 0,
	/*
	 * Waiting sides yield the CPU at once instead of spinning with PAUSE first: for runs
	 * with more busy threads than CPUs (MMU agents), where the thread waited for needs it.
	 */
	PTXN_PVEMU_YIELD = 1u << 1,
	/* Run the hypervisor thread on CPU cfg.cpu only (a dedicated hypervisor CPU). */
	PTXN_PVEMU_PIN = 1u << 2
};

struct ptxn_pvemu_config {
	uint64_t trap_ns;   /* synthetic cost of each trap, busy-waited by the hypervisor */
	uint64_t spin_ns;   /* how long each side spins before sleeping on a futex (0: default) */
	unsigned flags;     /* PTXN_PVEMU_* */
	unsigned cpu;       /* with PTXN_PVEMU_PIN: the hypervisor thread's CPU */
};

/* Counted by the hypervisor thread (relaxed atomics: readable at any time). */
struct ptxn_pvemu_stats {
	uint64_t traps;                          /* hypercalls served: one round trip each */
	uint64_t requests;                       /* requests examined */
	uint64_t applied;
	uint64_t rejected;
	uint64_t by_cmd[PTXN_PV_CMD_COUNT];      /* applied, per command */
	uint64_t by_error[PTXN_PV_ERRNO_COUNT];  /* rejected, per reason */
	uint64_t cas_retries;                    /* PRESERVE_AD compare-and-swaps lost to an MMU */
	uint64_t shootdowns;                     /* TLB shootdowns done for the guest */
	uint64_t max_batch;                      /* most requests one hypercall carried */
	uint64_t sleeps;                         /* times the hypervisor slept on its futex */
	uint64_t busy_ns;                        /* time spent serving calls, trap cost included */
};

/* One call descriptor of the ring (shared memory between guest threads and hypervisor). */
struct ptxn_pvemu_call {
	uint32_t state;                 /* futex word: FREE, POSTED, DONE */
	uint32_t waiting;               /* the caller sleeps on state */
	uint32_t turn;                  /* the ticket allowed to use it next */
	uint32_t mm_flags;              /* the caller's mm quirks (PTXN_MM_*) */
	struct ptxn_pv_request *reqs;
	uint32_t n;
	int32_t error;                  /* out: enum ptxn_pv_errno of the first rejection */
	uint32_t done;                  /* out: requests applied before it */
} __attribute__((aligned(64)));

enum {
	PTXN_PVEMU_CALL_FREE = 0,
	PTXN_PVEMU_CALL_POSTED = 1,
	PTXN_PVEMU_CALL_DONE = 2
};

struct ptxn_pvemu {
	struct ptxn_hwemu *hw;
	struct ptxn_pvemu_config cfg;
	/* table memory: one memfd, a writable view (hypervisor, MMUs) and a read-only one (guest) */
	int memfd;
	unsigned char *wview, *rview, *orig_mem;
	size_t table_bytes, view_bytes;
	/* the ring */
	struct ptxn_pvemu_call ring[PTXN_PVEMU_RING];
	uint32_t head __attribute__((aligned(64))); /* next ticket (guests) */
	uint32_t kick __attribute__((aligned(64))); /* futex word the hypervisor sleeps on */
	uint32_t hv_waiting;
	uint32_t stop;
	pthread_t thread;
	/* the hypervisor's own state */
	uint32_t tail;                  /* next ticket to serve */
	unsigned char *level;           /* per table page: level + 1 if a guest page table, else 0 */
	uint64_t data_end;              /* guest data frames: [PTXN_HWEMU_DATA_BASE, data_end) */
	ptxn_mm_t hv_mm;                /* for the core slot helpers' counters */
	struct ptxn_pvemu_stats stats;
};

PTXN_PVEMU_FUNC uint64_t ptxn_pvemu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

PTXN_PVEMU_FUNC void ptxn_pvemu_futex_wait(uint32_t *word, uint32_t expected)
{
	syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, expected, NULL, NULL, 0);
}

PTXN_PVEMU_FUNC void ptxn_pvemu_futex_wake(uint32_t *word)
{
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

/*
 * One step of waiting for the other side, in three phases: PAUSE for pause_ns (a round
 * trip between two running CPUs takes a quarter of a microsecond here, plus the trap
 * cost), then sched_yield() until spin_ns have passed (if both threads ended up on one
 * CPU, the one we wait for runs), then false: sleep on the futex. PTXN_PVEMU_YIELD skips
 * the PAUSE phase: with more busy threads than CPUs, spinning only delays the other side.
 * (Yielding at once costs on a loaded machine: another process may get the CPU for a
 * whole time slice, measured as 50-100 us round trips.)
 */
PTXN_PVEMU_FUNC bool ptxn_pvemu_spin(unsigned *spins, uint64_t *since, uint64_t pause_ns,
				     uint64_t spin_ns)
{
	uint64_t waited;

	if (++*spins % 32) {
		ptxn_arch_cpu_relax();
		return true;
	}
	if (!*since) {
		*since = ptxn_pvemu_now_ns();
		return true;
	}
	waited = ptxn_pvemu_now_ns() - *since;
	if (waited >= spin_ns)
		return false;
	if (waited >= pause_ns)
		sched_yield();
	return true;
}

#define PTXN_PVEMU_STAT(pv, field, n) __atomic_fetch_add(&(pv)->stats.field, (n), __ATOMIC_RELAXED)

/*
 * A guest's read of an entry through the read-only view. ptxn_ptep_get() on i686 is a
 * lock cmpxchg8b, which writes even when it changes nothing and so faults on a read-only
 * page (as it would in a 32-bit Xen PV guest); there, read with the compiler's 8-byte
 * atomic load (x87/SSE, single-copy atomic, no write).
 */
PTXN_PVEMU_FUNC ptxn_pte_t ptxn_pvemu_read(const ptxn_pte_t *ptep)
{
#if defined(__i386__)
	ptxn_pte_t pte;

	pte.storage = __atomic_load_n(&ptep->storage, __ATOMIC_RELAXED);
	return pte;
#else
	return ptxn_ptep_get(ptep);
#endif
}

/* ---- addresses: guest pointers, guest-physical addresses, hypervisor pointers ------------ */

PTXN_PVEMU_FUNC uint64_t ptxn_pvemu_table_base(const struct ptxn_pvemu *pv)
{
	return pv->hw->phys.base;
}

/* The guest-physical address a guest slot pointer names (any pointer: garbage in, garbage out). */
PTXN_PVEMU_FUNC uint64_t ptxn_pvemu_slot_pa(const struct ptxn_pvemu *pv, const ptxn_pte_t *ptep)
{
	return ptxn_pvemu_table_base(pv) + (uint64_t)((uintptr_t)ptep - (uintptr_t)pv->rview);
}

/* The guest's (read-only) pointer for a table address, NULL outside the table memory. */
PTXN_PVEMU_FUNC const ptxn_pte_t *ptxn_pvemu_guest_ptr(const struct ptxn_pvemu *pv, uint64_t pa)
{
	uint64_t off = pa - ptxn_pvemu_table_base(pv);

	if (pa < ptxn_pvemu_table_base(pv) || off >= pv->table_bytes)
		return NULL;
	return (const ptxn_pte_t *)(const void *)(pv->rview + (size_t)off);
}

/*
 * The guest's pointer to the leaf slot translating va (software walk, no A/D), its level
 * in *level; NULL if none. The pointer is into the read-only view: pass it to the
 * transaction API, never write through it.
 */
PTXN_PVEMU_FUNC ptxn_pte_t *ptxn_pvemu_lookup(struct ptxn_pvemu *pv, uint64_t va, unsigned *level)
{
	ptxn_pte_t *w = ptxn_hwemu_lookup(pv->hw, va, level);

	if (!w)
		return NULL;
	return (ptxn_pte_t *)(void *)(pv->rview + ((unsigned char *)w - pv->wview));
}

/* ---- the hypervisor: validation ----------------------------------------------------------- */

/* Mark the guest's page tables, from the root down (the hypervisor's type information). */
PTXN_PVEMU_FUNC void ptxn_pvemu_scan_table(struct ptxn_pvemu *pv, uint64_t table, unsigned level)
{
	const struct ptxn_mmu *mmu = &pv->hw->as.mmu;
	uint64_t pages = ptxn_hwemu_table_pages(mmu, level), n, i, page;

	if (table < pv->hw->phys.base || (table - pv->hw->phys.base) % PTXN_HWEMU_PAGE_SIZE)
		return;
	page = (table - pv->hw->phys.base) / PTXN_HWEMU_PAGE_SIZE;
	if (page + pages > pv->hw->phys.npages || pv->level[page])
		return;
	for (i = 0; i < pages; i++)
		pv->level[page + i] = (unsigned char)(level + 1);
	if (level == 0)
		return;
	n = UINT64_C(1) << ptxn_mmu_index_bits(mmu, level);
	for (i = 0; i < n; i++) {
		const ptxn_pte_t *slot = (const ptxn_pte_t *)(const void *)(pv->wview +
			(size_t)(table - pv->hw->phys.base) + 8 * (size_t)i);
		ptxn_pteval_t v = ptxn_mmu_load(slot);

		if (ptxn_mmu_entry_valid(v) && !ptxn_mmu_entry_is_leaf(mmu, v, level))
			ptxn_pvemu_scan_table(pv, ptxn_mmu_entry_table(v), level - 1);
	}
}

/* Rebuild the table map and the data limit (tables or data mapped since the last scan). */
PTXN_PVEMU_FUNC void ptxn_pvemu_rescan(struct ptxn_pvemu *pv)
{
	memset(pv->level, 0, (size_t)pv->hw->phys.npages);
	ptxn_pvemu_scan_table(pv, pv->hw->as.mmu.root, ptxn_mmu_top_level(&pv->hw->as.mmu));
	pthread_mutex_lock(&pv->hw->phys.lock);
	pv->data_end = pv->hw->phys.data_next;
	pthread_mutex_unlock(&pv->hw->phys.lock);
}

/* The level of the guest page table holding pa, -1 if pa is in none. */
PTXN_PVEMU_FUNC int ptxn_pvemu_table_level(struct ptxn_pvemu *pv, uint64_t pa)
{
	uint64_t page;

	if (pa < pv->hw->phys.base || pa - pv->hw->phys.base >= pv->table_bytes)
		return -1;
	page = (pa - pv->hw->phys.base) / PTXN_HWEMU_PAGE_SIZE;
	if (!pv->level[page] && pv->hw->phys.used[page])
		ptxn_pvemu_rescan(pv); /* a table allocated since the last scan */
	return pv->level[page] ? pv->level[page] - 1 : -1;
}

/* Is the slot a valid target? Sets *level to its table's level. */
PTXN_PVEMU_FUNC int ptxn_pvemu_check_slot(struct ptxn_pvemu *pv, uint64_t slot, unsigned *level)
{
	int l;

	if (slot & 7)
		return PTXN_PV_EALIGN;
	l = ptxn_pvemu_table_level(pv, slot);
	if (l < 0)
		return PTXN_PV_ENOTPT;
	*level = (unsigned)l;
	return PTXN_PV_OK;
}

/* Could an MMU write through this leaf? (ARM64: DBM, or AP[2] clear.) */
PTXN_PVEMU_FUNC bool ptxn_pvemu_leaf_writable(ptxn_pteval_t v)
{
	return ptxn_arch_pte_write(v) || (PTXN_ARCH_PTE_RDONLY != 0 && !(v & PTXN_ARCH_PTE_RDONLY));
}

/* May the guest put v into a table of this level? (Xen: get_page_from_l1e and friends.) */
PTXN_PVEMU_FUNC int ptxn_pvemu_check_entry(struct ptxn_pvemu *pv, unsigned level, ptxn_pteval_t v)
{
	const struct ptxn_mmu *mmu = &pv->hw->as.mmu;
	uint64_t base = pv->hw->phys.base, pa, size, p;

	if (!ptxn_mmu_entry_valid(v))
		return PTXN_PV_OK; /* the MMU does not use it */
	if (level > 0 && !ptxn_mmu_entry_is_leaf(mmu, v, level))
		return ptxn_pvemu_table_level(pv, ptxn_mmu_entry_table(v)) == (int)level - 1
			       ? PTXN_PV_OK
			       : PTXN_PV_ETABLE;
	pa = ptxn_arch_pte_pfn(v) << PTXN_ARCH_PAGE_SHIFT;
	size = (uint64_t)PTXN_HWEMU_PAGE_SIZE << (9 * level);
	if (pa >= base && pa - base < pv->table_bytes) {
		if (pa - base + size > pv->table_bytes)
			return PTXN_PV_EPFN;
		if (ptxn_pvemu_leaf_writable(v))
			for (p = pa; p < pa + size; p += PTXN_HWEMU_PAGE_SIZE)
				if (ptxn_pvemu_table_level(pv, p) >= 0)
					return PTXN_PV_EPTWRITE;
		return PTXN_PV_OK;
	}
	if (pa >= PTXN_HWEMU_DATA_BASE && pa + size > pv->data_end)
		ptxn_pvemu_rescan(pv); /* data mapped since the last scan */
	if (pa >= PTXN_HWEMU_DATA_BASE && pa + size <= pv->data_end && pa + size > pa)
		return PTXN_PV_OK;
	return PTXN_PV_EPFN;
}

/* ---- the hypervisor: applying one request -------------------------------------------------- */

PTXN_PVEMU_FUNC void ptxn_pvemu_shootdown(struct ptxn_pvemu *pv, uint64_t start, uint64_t end)
{
	PTXN_PVEMU_STAT(pv, shootdowns, 1);
	ptxn_hwemu_flush_range(pv->hw, start, end);
}

/* Validate, then apply, one request; PTXN_PV_OK or why it was refused (nothing written). */
PTXN_PVEMU_FUNC int ptxn_pvemu_apply(struct ptxn_pvemu *pv, struct ptxn_pv_request *r, unsigned mm_flags)
{
	ptxn_pteval_t old = ptxn_pte_val(r->old), next = ptxn_pte_val(r->val), now;
	unsigned level = 0;
	ptxn_pte_t *w;
	uint64_t seen;
	int err;

	if (r->cmd == PTXN_PV_TLB_FLUSH) {
		if (!r->val.storage || r->va + r->val.storage < r->va)
			return PTXN_PV_ECMD;
		ptxn_pvemu_shootdown(pv, r->va, r->va + r->val.storage);
		return PTXN_PV_OK;
	}
	if (r->cmd < PTXN_PV_UPDATE || r->cmd > PTXN_PV_HARVEST)
		return PTXN_PV_ECMD;
	err = ptxn_pvemu_check_slot(pv, r->slot, &level);
	if (err)
		return err;
	if (r->cmd == PTXN_PV_UPDATE || r->cmd == PTXN_PV_PRESERVE_AD || r->cmd == PTXN_PV_INSTALL) {
		err = ptxn_pvemu_check_entry(pv, level, next);
		if (err)
			return err;
	}
	w = (ptxn_pte_t *)(void *)(pv->wview + (size_t)(r->slot - pv->hw->phys.base));

	switch (r->cmd) {
	case PTXN_PV_UPDATE:
		r->result.storage = ptxn_arch_slot_xchg(&w->storage, r->val.storage);
		break;
	case PTXN_PV_PRESERVE_AD:
		if (ptxn_arch_change_needs_break(mm_flags, old, next)) {
			/* Break-before-make from a live entry: catch what the MMU set, shoot down, install. */
			now = ptxn_arch_pte_from_storage(ptxn_txn_break(w));
			ptxn_pvemu_shootdown(pv, r->va, r->va + PTXN_PAGE_SIZE);
			if (!(pv->cfg.flags & PTXN_PVEMU_BUG_DROP_AD))
				next = ptxn_arch_pte_merge_hw(next, old, now);
			ptxn_txn_unbreak(&pv->hv_mm, w, next);
			break;
		}
		if (next == old)
			break; /* the entry holds old plus whatever the MMU set since: right as it is */
		seen = ptxn_arch_slot_load(&w->storage);
		for (;;) {
			ptxn_pteval_t desired = next;

			now = ptxn_arch_pte_from_storage(seen);
			if (!(pv->cfg.flags & PTXN_PVEMU_BUG_DROP_AD))
				desired = ptxn_arch_pte_merge_hw(next, old, now);
			if (ptxn_arch_slot_cmpxchg(&w->storage, &seen, ptxn_arch_pte_to_storage(desired)))
				break;
			PTXN_PVEMU_STAT(pv, cas_retries, 1);
		}
		break;
	case PTXN_PV_BREAK:
		r->result.storage = ptxn_txn_break(w);
		if (ptxn_arch_start_needs_break(mm_flags, ptxn_pte_val(r->result)))
			ptxn_pvemu_shootdown(pv, r->va, r->va + PTXN_PAGE_SIZE);
		break;
	case PTXN_PV_INSTALL:
		if (!ptxn_arch_start_needs_break(mm_flags, old) &&
		    ptxn_arch_change_needs_break(mm_flags, old, next))
			ptxn_pvemu_shootdown(pv, r->va, r->va + PTXN_PAGE_SIZE);
		ptxn_txn_unbreak(&pv->hv_mm, w, next);
		break;
	case PTXN_PV_HARVEST:
		r->result.storage = ptxn_txn_harvest(w);
		break;
	}
	return PTXN_PV_OK;
}

/* Serve one call: the trap's cost, then every request in order up to the first rejection. */
PTXN_PVEMU_FUNC void ptxn_pvemu_serve(struct ptxn_pvemu *pv, struct ptxn_pvemu_call *c)
{
	uint64_t t0 = ptxn_pvemu_now_ns(), t1;
	uint32_t i, n = c->n;
	int err = PTXN_PV_OK;

	if (pv->cfg.trap_ns)
		while (ptxn_pvemu_now_ns() - t0 < pv->cfg.trap_ns)
			ptxn_arch_cpu_relax();
	for (i = 0; i < n; i++) {
		err = ptxn_pvemu_apply(pv, &c->reqs[i], c->mm_flags);
		if (err)
			break;
		PTXN_PVEMU_STAT(pv, by_cmd[c->reqs[i].cmd], 1);
	}
	c->error = err;
	c->done = i;
	t1 = ptxn_pvemu_now_ns();
	PTXN_PVEMU_STAT(pv, traps, 1);
	PTXN_PVEMU_STAT(pv, requests, i + (err ? 1 : 0));
	PTXN_PVEMU_STAT(pv, applied, i);
	if (err) {
		PTXN_PVEMU_STAT(pv, rejected, 1);
		PTXN_PVEMU_STAT(pv, by_error[err], 1);
	}
	if (n > __atomic_load_n(&pv->stats.max_batch, __ATOMIC_RELAXED))
		__atomic_store_n(&pv->stats.max_batch, (uint64_t)n, __ATOMIC_RELAXED);
	PTXN_PVEMU_STAT(pv, busy_ns, t1 - t0);
}

/* The hypervisor thread: serve calls in ticket order; spin a while, then sleep on kick. */
PTXN_PVEMU_FUNC void *ptxn_pvemu_main(void *arg)
{
	struct ptxn_pvemu *pv = (struct ptxn_pvemu *)arg;
	uint64_t spin_ns = pv->cfg.spin_ns ? pv->cfg.spin_ns : PTXN_PVEMU_DEFAULT_SPIN_NS;
	uint64_t pause_ns = (pv->cfg.flags & PTXN_PVEMU_YIELD) ? 0 : PTXN_PVEMU_PAUSE_NS;

	for (;;) {
		struct ptxn_pvemu_call *c = &pv->ring[pv->tail % PTXN_PVEMU_RING];
		uint64_t since = 0;
		unsigned spins = 0;
		uint32_t k;

		while (__atomic_load_n(&c->state, __ATOMIC_ACQUIRE) != PTXN_PVEMU_CALL_POSTED) {
			if (__atomic_load_n(&pv->stop, __ATOMIC_ACQUIRE))
				return NULL;
			if (ptxn_pvemu_spin(&spins, &since, pause_ns, spin_ns))
				continue;
			/* Sleep. A poster stores POSTED, bumps kick, then reads hv_waiting (all
			 * seq_cst): either we see its call below or it sees us waiting and wakes us;
			 * a kick after our read of k makes the futex wait return at once. */
			k = __atomic_load_n(&pv->kick, __ATOMIC_SEQ_CST);
			__atomic_store_n(&pv->hv_waiting, 1, __ATOMIC_SEQ_CST);
			if (__atomic_load_n(&c->state, __ATOMIC_SEQ_CST) != PTXN_PVEMU_CALL_POSTED &&
			    !__atomic_load_n(&pv->stop, __ATOMIC_SEQ_CST)) {
				PTXN_PVEMU_STAT(pv, sleeps, 1);
				ptxn_pvemu_futex_wait(&pv->kick, k);
			}
			__atomic_store_n(&pv->hv_waiting, 0, __ATOMIC_SEQ_CST);
			since = 0;
			spins = 0;
		}
		ptxn_pvemu_serve(pv, c);
		__atomic_store_n(&c->state, PTXN_PVEMU_CALL_DONE, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&c->waiting, __ATOMIC_SEQ_CST))
			ptxn_pvemu_futex_wake(&c->state);
		pv->tail++;
	}
}

/*
 * One hypercall: post reqs[0..n) and wait for the hypervisor. Returns PTXN_PV_OK or the
 * error of the first rejected request; *done (may be NULL) = requests applied before it
 * (all n on success), as Xen's mmu_update reports its success count. Results are written
 * into the requests. Callable from any thread; calls are served in the order posted.
 */
PTXN_PVEMU_FUNC int ptxn_pvemu_hypercall(struct ptxn_pvemu *pv, struct ptxn_pv_request *reqs,
					 unsigned n, unsigned mm_flags, unsigned *done)
{
	uint32_t ticket = __atomic_fetch_add(&pv->head, 1, __ATOMIC_RELAXED);
	struct ptxn_pvemu_call *c = &pv->ring[ticket % PTXN_PVEMU_RING];
	uint64_t spin_ns = pv->cfg.spin_ns ? pv->cfg.spin_ns : PTXN_PVEMU_DEFAULT_SPIN_NS;
	uint64_t pause_ns = (pv->cfg.flags & PTXN_PVEMU_YIELD) ? 0 : PTXN_PVEMU_PAUSE_NS + pv->cfg.trap_ns;
	uint64_t since = 0;
	unsigned spins = 0;
	int err;

	while (__atomic_load_n(&c->turn, __ATOMIC_ACQUIRE) != ticket)
		sched_yield(); /* a full ring: the call RING tickets earlier is still in flight */
	c->reqs = reqs;
	c->n = n;
	c->mm_flags = mm_flags;
	c->waiting = 0;
	__atomic_store_n(&c->state, PTXN_PVEMU_CALL_POSTED, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&pv->kick, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&pv->hv_waiting, __ATOMIC_SEQ_CST))
		ptxn_pvemu_futex_wake(&pv->kick);

	/* The round trip: spin a while (the hypervisor runs on another CPU), then sleep. */
	while (__atomic_load_n(&c->state, __ATOMIC_ACQUIRE) != PTXN_PVEMU_CALL_DONE) {
		if (ptxn_pvemu_spin(&spins, &since, pause_ns, spin_ns + pv->cfg.trap_ns))
			continue;
		__atomic_store_n(&c->waiting, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&c->state, __ATOMIC_SEQ_CST) != PTXN_PVEMU_CALL_DONE)
			ptxn_pvemu_futex_wait(&c->state, PTXN_PVEMU_CALL_POSTED);
		since = 0;
		spins = 0;
	}
	err = c->error;
	if (done)
		*done = c->done;
	__atomic_store_n(&c->state, PTXN_PVEMU_CALL_FREE, __ATOMIC_RELAXED);
	__atomic_store_n(&c->turn, ticket + PTXN_PVEMU_RING, __ATOMIC_RELEASE);
	return err;
}

/*
 * Start a hypervisor for the machine hw (agents created or not, but none running). Its
 * table memory moves into a memfd mapped twice: hw->phys.mem becomes the writable view
 * (so hwemu's builder, agents and checker keep working unchanged) and the guest gets the
 * read-only one (ptxn_pvemu_lookup, ptxn_pvemu_guest_ptr). NULL on failure.
 */
PTXN_PVEMU_FUNC struct ptxn_pvemu *ptxn_pvemu_create(struct ptxn_hwemu *hw,
						     const struct ptxn_pvemu_config *cfg)
{
	struct ptxn_pvemu *pv;
	long pagesize = sysconf(_SC_PAGESIZE);
	unsigned i;

	if (posix_memalign((void **)&pv, 64, sizeof(*pv)))
		return NULL;
	memset(pv, 0, sizeof(*pv));
	pv->hw = hw;
	if (cfg)
		pv->cfg = *cfg;
	pv->memfd = -1;
	pv->table_bytes = (size_t)hw->phys.npages * PTXN_HWEMU_PAGE_SIZE;
	if (pagesize <= 0)
		pagesize = 4096;
	pv->view_bytes = (pv->table_bytes + (size_t)pagesize - 1) / (size_t)pagesize * (size_t)pagesize;
	pv->level = (unsigned char *)calloc((size_t)hw->phys.npages, 1);
	pv->memfd = (int)syscall(SYS_memfd_create, "ptxn-pvemu-tables", 1u /* MFD_CLOEXEC */);
	if (!pv->level || pv->memfd < 0 || ftruncate(pv->memfd, (off_t)pv->view_bytes))
		goto fail;
	pv->wview = (unsigned char *)mmap(NULL, pv->view_bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
					  pv->memfd, 0);
	pv->rview = (unsigned char *)mmap(NULL, pv->view_bytes, PROT_READ, MAP_SHARED, pv->memfd, 0);
	if (pv->wview == MAP_FAILED || pv->rview == MAP_FAILED)
		goto fail;
	memcpy(pv->wview, hw->phys.mem, pv->table_bytes);
	pv->orig_mem = hw->phys.mem;
	hw->phys.mem = pv->wview;
	ptxn_hwemu_flush_all(hw); /* agents' TLBs point at leaves in the old memory */
	ptxn_mm_init(&pv->hv_mm);
	ptxn_pvemu_rescan(pv);
	for (i = 0; i < PTXN_PVEMU_RING; i++)
		pv->ring[i].turn = i;
	if (pthread_create(&pv->thread, NULL, ptxn_pvemu_main, pv)) {
		hw->phys.mem = pv->orig_mem;
		goto fail;
	}
	if (pv->cfg.flags & PTXN_PVEMU_PIN) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET((int)pv->cfg.cpu, &set);
		pthread_setaffinity_np(pv->thread, sizeof(set), &set); /* best effort */
	}
	return pv;
fail:
	if (pv->wview && pv->wview != MAP_FAILED)
		munmap(pv->wview, pv->view_bytes);
	if (pv->rview && pv->rview != MAP_FAILED)
		munmap(pv->rview, pv->view_bytes);
	if (pv->memfd >= 0)
		close(pv->memfd);
	free(pv->level);
	free(pv);
	return NULL;
}

/* Stop the hypervisor and give the machine its table memory back (contents kept). Detach
 * every mm first; stop the agents. */
PTXN_PVEMU_FUNC void ptxn_pvemu_destroy(struct ptxn_pvemu *pv)
{
	if (!pv)
		return;
	__atomic_store_n(&pv->stop, 1, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&pv->kick, 1, __ATOMIC_SEQ_CST);
	ptxn_pvemu_futex_wake(&pv->kick);
	pthread_join(pv->thread, NULL);
	memcpy(pv->orig_mem, pv->wview, pv->table_bytes);
	pv->hw->phys.mem = pv->orig_mem;
	ptxn_hwemu_flush_all(pv->hw);
	munmap(pv->wview, pv->view_bytes);
	munmap(pv->rview, pv->view_bytes);
	close(pv->memfd);
	free(pv->level);
	free(pv);
}

/* A snapshot of the hypervisor's counters. */
PTXN_PVEMU_FUNC void ptxn_pvemu_get_stats(struct ptxn_pvemu *pv, struct ptxn_pvemu_stats *out)
{
	const uint64_t *src = (const uint64_t *)(const void *)&pv->stats;
	uint64_t *dst = (uint64_t *)(void *)out;
	size_t i;

	for (i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

PTXN_PVEMU_FUNC uint64_t ptxn_pvemu_traps(struct ptxn_pvemu *pv)
{
	return __atomic_load_n(&pv->stats.traps, __ATOMIC_RELAXED);
}

/* ---- the guest: a ptxn platform -------------------------------------------------------------- */

/*
 * A rejected request, as the guest sees it. The platform keeps the first one since the
 * last ptxn_pvemu_take_error() and counts the rest, and calls the mm's error hook (if
 * any) for each, in the thread whose call sent it: with lazy batching that is the call
 * that sent the batch (a commit, a flush, leave), not the commit that queued it.
 */
struct ptxn_pv_error {
	int code;            /* enum ptxn_pv_errno */
	unsigned cmd;        /* enum ptxn_pv_cmd */
	unsigned index;      /* the request's position in the hypercall that refused it */
	unsigned done;       /* requests of that hypercall applied before it (== index) */
	unsigned count;      /* requests that hypercall carried */
	uint64_t slot;       /* the entry's guest-physical address */
	uint64_t addr;       /* the virtual address the caller passed */
	ptxn_pte_t val;      /* the entry it would have written */
};

typedef void (*ptxn_pvemu_error_fn)(ptxn_mm_t *mm, const struct ptxn_pv_error *err, void *ctx);

/* Per attached mm (mm->platform_data). */
struct ptxn_pvemu_guest {
	struct ptxn_pvemu *pv;
	unsigned batch;                 /* commits queued in lazy mode before sending */
	unsigned cap;                   /* batch + PTXN_PVEMU_SYNC_ROOM */
	unsigned n;                     /* queued */
	struct ptxn_pv_request *queue;
	/* the slots queued: open addressing, an entry is live when its gen is the current one */
	uint64_t *hkey;
	uint32_t *hgen;
	uint32_t gen;
	unsigned hmask;
	/* errors */
	pthread_mutex_t lock;
	struct ptxn_pv_error first;
	uint64_t nerrors;
	ptxn_pvemu_error_fn hook;
	void *hook_ctx;
	/* what this mm cost */
	uint64_t traps;                 /* hypercalls this mm made */
	uint64_t read_flushes;          /* queues sent because a read hit a queued entry */
};

PTXN_PVEMU_FUNC struct ptxn_pvemu_guest *ptxn_pvemu_guest(const ptxn_mm_t *mm)
{
	return (struct ptxn_pvemu_guest *)mm->platform_data;
}

PTXN_PVEMU_FUNC unsigned ptxn_pvemu_hash(const struct ptxn_pvemu_guest *g, uint64_t slot)
{
	return (unsigned)((slot >> 3) * UINT64_C(0x9E3779B97F4A7C15) >> 40) & g->hmask;
}

PTXN_PVEMU_FUNC bool ptxn_pvemu_is_queued(const struct ptxn_pvemu_guest *g, uint64_t slot)
{
	unsigned i = ptxn_pvemu_hash(g, slot);

	if (!g->n)
		return false;
	for (; g->hgen[i] == g->gen; i = (i + 1) & g->hmask)
		if (g->hkey[i] == slot)
			return true;
	return false;
}

PTXN_PVEMU_FUNC void ptxn_pvemu_mark_queued(struct ptxn_pvemu_guest *g, uint64_t slot)
{
	unsigned i = ptxn_pvemu_hash(g, slot);

	for (; g->hgen[i] == g->gen; i = (i + 1) & g->hmask)
		if (g->hkey[i] == slot)
			return;
	g->hkey[i] = slot;
	g->hgen[i] = g->gen;
}

PTXN_PVEMU_FUNC void ptxn_pvemu_queue_reset(struct ptxn_pvemu_guest *g)
{
	g->n = 0;
	if (++g->gen == 0) { /* wrapped: forget every stale tag */
		memset(g->hgen, 0, (g->hmask + 1) * sizeof(*g->hgen));
		g->gen = 1;
	}
}

PTXN_PVEMU_FUNC void ptxn_pvemu_record_error(ptxn_mm_t *mm, struct ptxn_pvemu_guest *g, int code,
					     const struct ptxn_pv_request *r, unsigned index,
					     unsigned count)
{
	struct ptxn_pv_error e;

	e.code = code;
	e.cmd = r->cmd;
	e.index = index;
	e.done = index;
	e.count = count;
	e.slot = r->slot;
	e.addr = r->va;
	e.val = r->val;
	pthread_mutex_lock(&g->lock);
	if (!g->nerrors++)
		g->first = e;
	pthread_mutex_unlock(&g->lock);
	if (g->hook)
		g->hook(mm, &e, g->hook_ctx);
}

/*
 * Send reqs[0..n) as one hypercall. A rejected request is recorded, and the requests
 * after it (which the hypervisor did not look at) are sent again in a new hypercall, so
 * one bad request costs one more trap and nothing else. Returns the first error.
 */
PTXN_PVEMU_FUNC int ptxn_pvemu_send(ptxn_mm_t *mm, struct ptxn_pvemu_guest *g,
				    struct ptxn_pv_request *reqs, unsigned n)
{
	int first = PTXN_PV_OK;
	unsigned off = 0;

	while (off < n) {
		unsigned done = 0;
		int err = ptxn_pvemu_hypercall(g->pv, reqs + off, n - off, mm->flags, &done);

		__atomic_fetch_add(&g->traps, 1, __ATOMIC_RELAXED);
		if (!err)
			break;
		ptxn_pvemu_record_error(mm, g, err, &reqs[off + done], done, n - off);
		if (!first)
			first = err;
		off += done + 1;
	}
	return first;
}

/* Send the lazy queue, if any. */
PTXN_PVEMU_FUNC int ptxn_pvemu_flush_queue(ptxn_mm_t *mm, struct ptxn_pvemu_guest *g)
{
	int err;

	if (!g->n)
		return PTXN_PV_OK;
	err = ptxn_pvemu_send(mm, g, g->queue, g->n);
	ptxn_pvemu_queue_reset(g);
	return err;
}

/*
 * Requests whose result the caller needs now (BREAK, HARVEST, TLB_FLUSH): one hypercall.
 * In lazy mode a non-empty queue rides in front of them in the same hypercall, which
 * keeps the order and costs no extra trap (Linux flushes its multicall batch the same way
 * when a call needs its result).
 */
PTXN_PVEMU_FUNC int ptxn_pvemu_sync(ptxn_mm_t *mm, struct ptxn_pvemu_guest *g,
				    struct ptxn_pv_request *reqs, unsigned n)
{
	unsigned q = g->n;
	int err;

	if (q && q + n <= g->cap) {
		memcpy(g->queue + q, reqs, n * sizeof(*reqs));
		err = ptxn_pvemu_send(mm, g, g->queue, q + n);
		memcpy(reqs, g->queue + q, n * sizeof(*reqs));
		ptxn_pvemu_queue_reset(g);
		return err;
	}
	ptxn_pvemu_flush_queue(mm, g);
	return ptxn_pvemu_send(mm, g, reqs, n);
}

/* Requests without a result (commits, set_pte_at): queued in lazy mode, else sent now. */
PTXN_PVEMU_FUNC int ptxn_pvemu_async(ptxn_mm_t *mm, struct ptxn_pvemu_guest *g,
				     const struct ptxn_pv_request *reqs, unsigned n)
{
	unsigned i;
	int err = PTXN_PV_OK;

	if (!ptxn_lazy_mmu_active(mm))
		return ptxn_pvemu_send(mm, g, (struct ptxn_pv_request *)reqs, n);
	for (i = 0; i < n; i++) {
		g->queue[g->n++] = reqs[i];
		ptxn_pvemu_mark_queued(g, reqs[i].slot);
		if (g->n >= g->batch) {
			int e = ptxn_pvemu_flush_queue(mm, g);

			if (!err)
				err = e;
		}
	}
	return err;
}

/* Read-your-writes: a read of an entry with a queued write sends the queue first. */
PTXN_PVEMU_FUNC void ptxn_pvemu_settle(ptxn_mm_t *mm, struct ptxn_pvemu_guest *g, uint64_t slot,
				       unsigned nr)
{
	unsigned i;

	if (!g->n || !ptxn_lazy_mmu_active(mm))
		return;
	for (i = 0; i < nr; i++)
		if (ptxn_pvemu_is_queued(g, slot + 8 * (uint64_t)i)) {
			g->read_flushes++;
			ptxn_pvemu_flush_queue(mm, g);
			return;
		}
}

PTXN_PVEMU_FUNC struct ptxn_pv_request ptxn_pvemu_req(unsigned cmd, uint64_t slot, uint64_t va,
						      ptxn_pte_t old, ptxn_pte_t val)
{
	struct ptxn_pv_request r;

	memset(&r, 0, sizeof(r));
	r.cmd = cmd;
	r.slot = slot;
	r.va = va;
	r.old = old;
	r.val = val;
	return r;
}

#define PTXN_PVEMU_STACK_REQS 64u

/* Start: MERGE/AUTO read the entry (no trap); CLEAR, and errata, break it (one trap). */
PTXN_PVEMU_FUNC ptxn_pte_t ptxn_pvemu_op_start(ptxn_mm_t *mm, uintptr_t addr, ptxn_pte_t *ptep,
					       unsigned nr)
{
	struct ptxn_pvemu_guest *g = ptxn_pvemu_guest(mm);
	uint64_t slot = ptxn_pvemu_slot_pa(g->pv, ptep);
	struct ptxn_pv_request stack[PTXN_PVEMU_STACK_REQS], *reqs = stack;
	ptxn_pte_t zero = ptxn_make_pte(0), old;
	ptxn_pteval_t first = 0, v;
	bool broken, young = false, dirty = false;
	unsigned i;

	PTXN_STAT_ADD(mm, starts, 1);
	ptxn_pvemu_settle(mm, g, slot, nr ? nr : 1);
	old = ptxn_pvemu_read(ptep);
	broken = mm->strategy == PTXN_STRATEGY_CLEAR ||
		 ptxn_arch_start_needs_break(mm->flags, ptxn_pte_val(old));
	if (nr <= 1) {
		struct ptxn_pv_request r;

		if (!broken)
			return old;
		r = ptxn_pvemu_req(PTXN_PV_BREAK, slot, addr, zero, zero);
		r.result = old; /* what is there if the hypervisor refuses */
		ptxn_pvemu_sync(mm, g, &r, 1);
		return r.result;
	}
	/* A folio: break (CLEAR, errata) or harvest (MERGE, AUTO) every entry, one hypercall. */
	if (nr > PTXN_PVEMU_STACK_REQS) {
		reqs = (struct ptxn_pv_request *)malloc(nr * sizeof(*reqs));
		if (!reqs)
			abort();
	}
	for (i = 0; i < nr; i++) {
		reqs[i] = ptxn_pvemu_req(broken ? PTXN_PV_BREAK : PTXN_PV_HARVEST, slot + 8 * (uint64_t)i,
					 addr + (uintptr_t)i * PTXN_PAGE_SIZE, zero, zero);
		reqs[i].result = ptxn_pvemu_read(ptep + i);
	}
	for (i = 0; i < nr; i += PTXN_PVEMU_SYNC_ROOM)
		ptxn_pvemu_sync(mm, g, reqs + i, nr - i < PTXN_PVEMU_SYNC_ROOM ? nr - i : PTXN_PVEMU_SYNC_ROOM);
	for (i = 0; i < nr; i++) {
		v = ptxn_pte_val(reqs[i].result);
		if (i == 0)
			first = v;
		young |= ptxn_arch_pte_young(v);
		dirty |= ptxn_arch_pte_dirty(v);
	}
	if (reqs != stack)
		free(reqs);
	if (young)
		first = ptxn_arch_pte_mkyoung(first);
	if (dirty)
		first = ptxn_arch_pte_mkdirty(first);
	return ptxn_make_pte(first);
}

/* Commit: INSTALL a broken entry, else PRESERVE_AD; nothing when the entry does not change. */
PTXN_PVEMU_FUNC void ptxn_pvemu_op_commit(ptxn_mm_t *mm, uintptr_t addr, ptxn_pte_t *ptep,
					  ptxn_pte_t old_pte, ptxn_pte_t pte, unsigned nr)
{
	struct ptxn_pvemu_guest *g = ptxn_pvemu_guest(mm);
	uint64_t slot = ptxn_pvemu_slot_pa(g->pv, ptep);
	struct ptxn_pv_request stack[PTXN_PVEMU_STACK_REQS], *reqs = stack;
	ptxn_pteval_t old = ptxn_pte_val(old_pte);
	bool broken = mm->strategy == PTXN_STRATEGY_CLEAR || ptxn_arch_start_needs_break(mm->flags, old);
	unsigned i;

	if (nr <= 1) {
		struct ptxn_pv_request r;

		PTXN_STAT_ADD(mm, entries, 1);
		if (broken) {
			PTXN_STAT_ADD(mm, broken, 1);
			r = ptxn_pvemu_req(PTXN_PV_INSTALL, slot, addr, old_pte, pte);
		} else if (ptxn_pte_val(pte) == old) {
			PTXN_STAT_ADD(mm, unchanged, 1);
			return;
		} else {
			PTXN_STAT_ADD(mm, merged, 1);
			r = ptxn_pvemu_req(PTXN_PV_PRESERVE_AD, slot, addr, old_pte, pte);
		}
		ptxn_pvemu_async(mm, g, &r, 1);
		return;
	}
	PTXN_STAT_ADD(mm, entries, nr);
	PTXN_STAT_ADD(mm, broken, broken ? nr : 0);
	PTXN_STAT_ADD(mm, merged, broken ? 0 : nr);
	if (nr > PTXN_PVEMU_STACK_REQS) {
		reqs = (struct ptxn_pv_request *)malloc(nr * sizeof(*reqs));
		if (!reqs)
			abort();
	}
	for (i = 0; i < nr; i++) {
		ptxn_pte_t want = ptxn_pte_advance_pfn(pte, i), was = ptxn_pte_advance_pfn(old_pte, i);
		uintptr_t va = addr + (uintptr_t)i * PTXN_PAGE_SIZE;

		if (broken)
			reqs[i] = ptxn_pvemu_req(PTXN_PV_INSTALL, slot + 8 * (uint64_t)i, va, was, want);
		else /* harvested at start: every A/D found in the entry is new since */
			reqs[i] = ptxn_pvemu_req(PTXN_PV_PRESERVE_AD, slot + 8 * (uint64_t)i, va,
						 ptxn_make_pte(ptxn_arch_pte_strip_hw(ptxn_pte_val(was))),
						 want);
	}
	ptxn_pvemu_async(mm, g, reqs, nr);
	if (reqs != stack)
		free(reqs);
}

PTXN_PVEMU_FUNC void ptxn_pvemu_op_set_pte_at(ptxn_mm_t *mm, uintptr_t addr, ptxn_pte_t *ptep,
					      ptxn_pte_t pte)
{
	struct ptxn_pvemu_guest *g = ptxn_pvemu_guest(mm);
	struct ptxn_pv_request r = ptxn_pvemu_req(PTXN_PV_UPDATE, ptxn_pvemu_slot_pa(g->pv, ptep),
						  addr, ptxn_make_pte(0), pte);

	ptxn_pvemu_async(mm, g, &r, 1);
}

PTXN_PVEMU_FUNC ptxn_pte_t ptxn_pvemu_op_ptep_get_at(ptxn_mm_t *mm, uintptr_t addr,
						     const ptxn_pte_t *ptep)
{
	struct ptxn_pvemu_guest *g = ptxn_pvemu_guest(mm);

	(void)addr;
	ptxn_pvemu_settle(mm, g, ptxn_pvemu_slot_pa(g->pv, ptep), 1);
	return ptxn_pvemu_read(ptep);
}

PTXN_PVEMU_FUNC void ptxn_pvemu_op_lazy_enter(ptxn_mm_t *mm)
{
	(void)mm; /* the queue is empty outside lazy mode */
}

PTXN_PVEMU_FUNC void ptxn_pvemu_op_lazy_flush(ptxn_mm_t *mm)
{
	ptxn_pvemu_flush_queue(mm, ptxn_pvemu_guest(mm));
}

/* The mm's TLB flush: a hypercall (the guest cannot shoot down other CPUs' TLBs itself). */
PTXN_PVEMU_FUNC void ptxn_pvemu_mm_flush_tlb_range(ptxn_mm_t *mm, uintptr_t start, uintptr_t end)
{
	struct ptxn_pvemu_guest *g = ptxn_pvemu_guest(mm);
	struct ptxn_pv_request r;

	if (end <= start)
		return;
	r = ptxn_pvemu_req(PTXN_PV_TLB_FLUSH, 0, start, ptxn_make_pte(0), ptxn_make_pte(0));
	r.val.storage = (uint64_t)(end - start);
	ptxn_pvemu_sync(mm, g, &r, 1);
}

PTXN_PVEMU_FUNC const struct ptxn_platform_ops *ptxn_pvemu_platform(void)
{
	static const struct ptxn_platform_ops ops = {
		"pvemu",
		ptxn_pvemu_op_start,
		ptxn_pvemu_op_commit,
		ptxn_pvemu_op_set_pte_at,
		ptxn_pvemu_op_ptep_get_at,
		ptxn_pvemu_op_lazy_enter,
		ptxn_pvemu_op_lazy_flush, /* leave: send the queue */
		ptxn_pvemu_op_lazy_flush,
	};

	return &ops;
}

/*
 * Run mm on the hypervisor: its transactions, ptxn_set_pte_at and ptxn_ptep_get_at go
 * through hypercalls, its TLB flush hook becomes a TLB_FLUSH hypercall (private_data is
 * left alone), and in lazy MMU mode up to `batch` commits (0: PTXN_PVEMU_DEFAULT_BATCH;
 * at most PTXN_PVEMU_MAX_BATCH) travel in one hypercall. Slot pointers passed to the API
 * must be guest pointers (ptxn_pvemu_lookup). Lazy mode of one mm is one thread's at a
 * time (mm->lazy_depth is per mm); outside it, threads may share the mm.
 */
PTXN_PVEMU_FUNC bool ptxn_pvemu_attach(struct ptxn_pvemu *pv, ptxn_mm_t *mm, unsigned batch)
{
	struct ptxn_pvemu_guest *g = (struct ptxn_pvemu_guest *)calloc(1, sizeof(*g));
	unsigned hsize = 1;

	if (!g)
		return false;
	g->pv = pv;
	g->batch = batch ? batch : PTXN_PVEMU_DEFAULT_BATCH;
	if (g->batch > PTXN_PVEMU_MAX_BATCH)
		g->batch = PTXN_PVEMU_MAX_BATCH;
	g->cap = g->batch + PTXN_PVEMU_SYNC_ROOM;
	while (hsize < 2 * g->cap)
		hsize <<= 1;
	g->hmask = hsize - 1;
	g->gen = 1;
	g->queue = (struct ptxn_pv_request *)calloc(g->cap, sizeof(*g->queue));
	g->hkey = (uint64_t *)calloc(hsize, sizeof(*g->hkey));
	g->hgen = (uint32_t *)calloc(hsize, sizeof(*g->hgen));
	if (!g->queue || !g->hkey || !g->hgen) {
		free(g->queue), free(g->hkey), free(g->hgen), free(g);
		return false;
	}
	pthread_mutex_init(&g->lock, NULL);
	mm->platform_data = g;
	mm->platform = ptxn_pvemu_platform();
	mm->flush_tlb_range = ptxn_pvemu_mm_flush_tlb_range;
	return true;
}

/* Send anything queued and return mm to the native platform (no TLB hook). */
PTXN_PVEMU_FUNC void ptxn_pvemu_detach(ptxn_mm_t *mm)
{
	struct ptxn_pvemu_guest *g = ptxn_pvemu_guest(mm);

	if (!g || mm->platform != ptxn_pvemu_platform())
		return;
	ptxn_pvemu_flush_queue(mm, g);
	mm->platform = NULL;
	mm->platform_data = NULL;
	mm->flush_tlb_range = NULL;
	pthread_mutex_destroy(&g->lock);
	free(g->queue), free(g->hkey), free(g->hgen), free(g);
}

/* Called for every rejected request of this mm (NULL: none). */
PTXN_PVEMU_FUNC void ptxn_pvemu_set_error_hook(ptxn_mm_t *mm, ptxn_pvemu_error_fn fn, void *ctx)
{
	struct ptxn_pvemu_guest *g = ptxn_pvemu_guest(mm);

	g->hook = fn;
	g->hook_ctx = ctx;
}

/*
 * Errors since the last call: returns how many requests were rejected, and the first of
 * them in *err (if err is not NULL and there was one); then forgets them.
 */
PTXN_PVEMU_FUNC uint64_t ptxn_pvemu_take_error(ptxn_mm_t *mm, struct ptxn_pv_error *err)
{
	struct ptxn_pvemu_guest *g = ptxn_pvemu_guest(mm);
	uint64_t n;

	pthread_mutex_lock(&g->lock);
	n = g->nerrors;
	if (n && err)
		*err = g->first;
	g->nerrors = 0;
	pthread_mutex_unlock(&g->lock);
	return n;
}

/* Hypercalls this mm made, and how many queued requests it holds now. */
PTXN_PVEMU_FUNC uint64_t ptxn_pvemu_mm_traps(const ptxn_mm_t *mm)
{
	return __atomic_load_n(&ptxn_pvemu_guest(mm)->traps, __ATOMIC_RELAXED);
}

PTXN_PVEMU_FUNC unsigned ptxn_pvemu_mm_queued(const ptxn_mm_t *mm)
{
	return ptxn_pvemu_guest(mm)->n;
}

#undef PTXN_PVEMU_STAT

PTXN_EXTERN_C_END

#endif /* PTXN_PVEMU_PVEMU_H */
