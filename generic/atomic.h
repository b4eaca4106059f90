/* SPDX-License-Identifier: MIT */
/*
 * ptxn/generic/atomic.h - portable slot primitives from the compiler's __atomic builtins.
 *
 * Every primitive is guarded by #ifndef PTXN_HAVE_ARCH_<NAME>: an arch header included
 * before this one (arch/<host>/atomic.h) replaces exactly what it defines, musl/liburcu
 * style, and this file fills in the rest. With PTXN_FORCE_GENERIC no arch header is
 * included and everything below is used: the differential tests compare the two.
 *
 * A slot is the 8 storage bytes of one entry, accessed as a uint64_t in *storage* order
 * (core/types.h); byte order is the format's business, not the atomics'.
 *
 * Memory ordering: every primitive is RELAXED, deliberately. The entry is touched by
 * (a) this CPU, under the caller's PTE lock, and (b) hardware walkers, which read it
 * single-copy-atomically and update it with an atomic read-modify-write of that one
 * location (SDM Vol. 3A 4.8; Arm ARM D8.4.6 "hardware updates ... are atomic"; Power ISA
 * 3.1 Book III 6.7.10.3). Not losing an Accessed/Dirty update therefore needs atomicity and
 * the coherence order of that single location, which every atomic read-modify-write gives
 * at any ordering (C11 7.17.3p4, "all modifications to a particular atomic object M occur
 * in some particular total order"). Ordering against *other* memory is provided where it is
 * needed: by the caller's lock (release on unlock) and by the TLB-invalidation sequence,
 * which begins with the barrier that orders earlier page-table stores (arm64 DSB ISHST,
 * PowerPC ptesync, x86 INVLPG is serialising). Linux uses relaxed operations for the same
 * reason (arm64 ptep_get_and_clear is xchg_relaxed).
 */
#ifndef PTXN_GENERIC_ATOMIC_H
#define PTXN_GENERIC_ATOMIC_H

#ifndef PTXN_CORE_INTERNAL
#error "Do not include ptxn/generic/atomic.h directly; include <ptxn/ptxn.h>"
#endif

#if !defined(__GCC_ATOMIC_LLONG_LOCK_FREE) || __GCC_ATOMIC_LLONG_LOCK_FREE < 2
#if !defined(PTXN_HAVE_ARCH_SLOT_CMPXCHG)
#error "ptxn: 64-bit atomics are not lock-free on this target and no arch backend provides them"
#endif
#endif

/* Single-copy-atomic 64-bit load of a slot (never two halves). */
#ifndef PTXN_HAVE_ARCH_SLOT_LOAD
PTXN_INLINE uint64_t ptxn_arch_slot_load(const volatile uint64_t *slot)
{
	return __atomic_load_n(slot, __ATOMIC_RELAXED);
}
#endif

/* Single-copy-atomic 64-bit store, whatever the slot held before. */
#ifndef PTXN_HAVE_ARCH_SLOT_STORE
PTXN_INLINE void ptxn_arch_slot_store(volatile uint64_t *slot, uint64_t value)
{
	__atomic_store_n(slot, value, __ATOMIC_RELAXED);
}
#endif

/* Atomic exchange; returns the previous value. */
#ifndef PTXN_HAVE_ARCH_SLOT_XCHG
PTXN_INLINE uint64_t ptxn_arch_slot_xchg(volatile uint64_t *slot, uint64_t value)
{
	return __atomic_exchange_n(slot, value, __ATOMIC_RELAXED);
}
#endif

/*
 * Compare-and-swap: if *slot == *expected, store desired and return true; otherwise load
 * the current value into *expected and return false (strong: no spurious failure).
 */
#ifndef PTXN_HAVE_ARCH_SLOT_CMPXCHG
PTXN_INLINE bool ptxn_arch_slot_cmpxchg(volatile uint64_t *slot, uint64_t *expected,
					 uint64_t desired)
{
	return __atomic_compare_exchange_n(slot, expected, desired, false, __ATOMIC_RELAXED,
					   __ATOMIC_RELAXED);
}
#endif

/*
 * Fences for the few places that need ordering against other memory (the PTXN_DEBUG
 * bookkeeping lock; never the entry operations, see above). __atomic_thread_fence always
 * expands inline (DMB on arm64, lwsync/sync on PowerPC, nothing or MFENCE on x86), never to
 * a library call, so it is safe in kernels.
 */
#ifndef PTXN_HAVE_ARCH_FENCE_ACQUIRE
PTXN_INLINE void ptxn_arch_fence_acquire(void)
{
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
}
#endif

#ifndef PTXN_HAVE_ARCH_FENCE_RELEASE
PTXN_INLINE void ptxn_arch_fence_release(void)
{
	__atomic_thread_fence(__ATOMIC_RELEASE);
}
#endif

/* Busy-wait hint inside retry loops. */
#ifndef PTXN_HAVE_ARCH_CPU_RELAX
PTXN_INLINE void ptxn_arch_cpu_relax(void)
{
	PTXN_COMPILER_BARRIER();
}
#endif

/*
 * Atomically *slot = (*slot & ~clear) | set; returns the previous value. One primitive for
 * "clear these bits, set those", as PowerPC's pte_update does it; derived here from the
 * compare-and-swap when the arch has nothing better.
 */
#ifndef PTXN_HAVE_ARCH_SLOT_UPDATE
PTXN_INLINE uint64_t ptxn_arch_slot_update(volatile uint64_t *slot, uint64_t clear, uint64_t set)
{
	uint64_t old = ptxn_arch_slot_load(slot);

	while (!ptxn_arch_slot_cmpxchg(slot, &old, (old & ~clear) | set))
		ptxn_arch_cpu_relax();
	return old;
}
#endif

/*
 * Stores that know what the slot holds. On a 64-bit host each is one plain store; a
 * 32-bit host overrides them to write halves in a safe order (arch/x86/atomic.h, i686).
 *
 * install: the slot holds an entry the MMU cannot use (hw_valid clear). valid_mask is the
 *          format's hardware-valid bit in storage order, so a split store knows which half
 *          must be written last.
 * clear:   replace a live entry by zero; the half holding the valid bit goes first.
 * replace: the slot holds old, which the hardware can no longer change (quiescent).
 */
#ifndef PTXN_HAVE_ARCH_SLOT_INSTALL
PTXN_INLINE void ptxn_arch_slot_install(volatile uint64_t *slot, uint64_t value, uint64_t valid_mask)
{
	(void)valid_mask;
	ptxn_arch_slot_store(slot, value);
}
#endif

#ifndef PTXN_HAVE_ARCH_SLOT_CLEAR
PTXN_INLINE void ptxn_arch_slot_clear(volatile uint64_t *slot, uint64_t valid_mask)
{
	(void)valid_mask;
	ptxn_arch_slot_store(slot, 0);
}
#endif

#ifndef PTXN_HAVE_ARCH_SLOT_REPLACE
PTXN_INLINE void ptxn_arch_slot_replace(volatile uint64_t *slot, uint64_t old, uint64_t value)
{
	(void)old;
	ptxn_arch_slot_store(slot, value);
}
#endif

#ifndef PTXN_ATOMICS_BACKEND
#define PTXN_ATOMICS_BACKEND "generic __atomic"
#endif

#endif /* PTXN_GENERIC_ATOMIC_H */
