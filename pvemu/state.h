/* SPDX-License-Identifier: MIT */
/*
 * ptxn/pvemu/state.h - the hypervisor's data: its flags and configuration, its
 * counters, the ring of call descriptors and struct ptxn_pvemu; and the primitives both
 * sides wait with (clock, futex, spin-then-sleep) and the guest's read of an entry.
 *
 * Part of <ptxn/pvemu.h>, which includes the parts in this order:
 *   abi.h, state.h, validate.h, hypervisor.h, guest.h, platform.h (pvemu/pvemu.h).
 */
#ifndef PTXN_PVEMU_STATE_H
#define PTXN_PVEMU_STATE_H

#ifndef PTXN_PVEMU_INTERNAL
#error "Do not include ptxn/pvemu/state.h directly; include <ptxn/pvemu.h>"
#endif

PTXN_EXTERN_C_BEGIN

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

PTXN_EXTERN_C_END

#endif /* PTXN_PVEMU_STATE_H */
