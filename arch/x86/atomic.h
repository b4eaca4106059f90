/* SPDX-License-Identifier: MIT */
/*
 * ptxn/arch/x86/atomic.h - slot primitives for x86-64 and for 32-bit x86 (i686, PAE).
 *
 * Only what differs from generic/atomic.h is here; each override is announced with
 * PTXN_HAVE_ARCH_<NAME>.
 *
 * Ordering: every LOCK-prefixed instruction and XCHG with memory is a full barrier on x86
 * (SDM Vol. 3A 9.2.3.6, "locked instructions have a total order"), stronger than the
 * relaxed contract of generic/atomic.h, at no extra cost. Plain stores are not reordered
 * with other stores (SDM Vol. 3A 9.2.2), which is what the i686 split stores rely on; a
 * compiler barrier keeps GCC from reordering them itself.
 */
#ifndef PTXN_ARCH_X86_ATOMIC_H
#define PTXN_ARCH_X86_ATOMIC_H

#ifndef PTXN_CORE_INTERNAL
#error "Do not include ptxn/arch/x86/atomic.h directly; include <ptxn/ptxn.h>"
#endif

#define PTXN_HAVE_ARCH_CPU_RELAX
PTXN_INLINE void ptxn_arch_cpu_relax(void)
{
	__asm__ __volatile__("pause" ::: "memory");
}

#if defined(__x86_64__)
/* ---- x86-64: 8-byte aligned MOV is single-copy atomic (SDM Vol. 3A 9.1.1) ---------- */

#define PTXN_ATOMICS_BACKEND "x86-64 xchg/lock cmpxchg"

#define PTXN_HAVE_ARCH_SLOT_XCHG
PTXN_INLINE uint64_t ptxn_arch_slot_xchg(volatile uint64_t *slot, uint64_t value)
{
	/* XCHG with a memory operand asserts LOCK by itself (SDM Vol. 2B, XCHG). */
	__asm__ __volatile__("xchgq %0, %1" : "+r"(value), "+m"(*slot) : : "memory");
	return value;
}

#define PTXN_HAVE_ARCH_SLOT_CMPXCHG
PTXN_INLINE bool ptxn_arch_slot_cmpxchg(volatile uint64_t *slot, uint64_t *expected,
					 uint64_t desired)
{
	uint64_t prev = *expected;
	bool ok;

	/* ZF says whether it swapped: a flag output, so the caller branches on it directly. */
	__asm__ __volatile__("lock cmpxchgq %[desired], %[mem]"
			     : "=@ccz"(ok), [mem] "+m"(*slot), "+a"(prev)
			     : [desired] "r"(desired)
			     : "memory");
	*expected = prev;
	return ok;
}

#elif defined(__i386__)
/*
 * ---- i686 with PAE: 64-bit entries on a 32-bit CPU ----------------------------------
 *
 * A plain 64-bit read or write of a slot is two 32-bit accesses and can tear. Every
 * access that must see or make one whole entry goes through LOCK CMPXCHG8B (SDM Vol. 2A,
 * CMPXCHG8B; atomic with respect to other processors and to the page walker). We never
 * rely on the compiler's 64-bit atomics: with kernel flags (-mgeneral-regs-only, no x87
 * or SSE) GCC turns them into calls to libatomic, which a kernel does not have.
 *
 * Where the old value is known to be unusable by the MMU (not hardware-valid), or cannot
 * be changed by it, two ordered 32-bit stores suffice and are cheaper; the order is the
 * whole point and is tested (tests/test_i686_order.c):
 *   install: the half WITHOUT the valid bit first, then the half with it, so no walker
 *            ever sees a valid half joined to a stale other half (a wrong PFN or NX);
 *   clear:   the half WITH the valid bit first, so the entry is invalid before the rest
 *            of it disappears.
 * Linux does the same in native_set_pte() and native_pte_clear() for PAE.
 */

#define PTXN_ATOMICS_BACKEND "i686 lock cmpxchg8b"

/* 32-bit view of a slot; may_alias because it overlays a uint64_t. */
typedef uint32_t __attribute__((__may_alias__)) ptxn_x86_slot_half_t;

#define PTXN_HAVE_ARCH_SLOT_CMPXCHG
PTXN_INLINE bool ptxn_arch_slot_cmpxchg(volatile uint64_t *slot, uint64_t *expected,
					 uint64_t desired)
{
	uint32_t lo = (uint32_t)*expected, hi = (uint32_t)(*expected >> 32);
	bool ok;

	__asm__ __volatile__("lock cmpxchg8b %[mem]\n\t"
			     "sete %[ok]"
			     : [ok] "=q"(ok), [mem] "+m"(*slot), "+a"(lo), "+d"(hi)
			     : "b"((uint32_t)desired), "c"((uint32_t)(desired >> 32))
			     : "memory", "cc");
	*expected = ((uint64_t)hi << 32) | lo;
	return ok;
}

#define PTXN_HAVE_ARCH_SLOT_LOAD
PTXN_INLINE uint64_t ptxn_arch_slot_load(const volatile uint64_t *slot)
{
	/*
	 * CMPXCHG8B with EDX:EAX == ECX:EBX returns the current value in EDX:EAX and, if the
	 * slot happened to equal it, writes the same value back: an atomic read that never
	 * changes the entry (Linux's atomic64_read_cx8 uses the same idiom).
	 */
	uint64_t value = 0;

	ptxn_arch_slot_cmpxchg((volatile uint64_t *)slot, &value, 0);
	return value;
}

#define PTXN_HAVE_ARCH_SLOT_XCHG
PTXN_INLINE uint64_t ptxn_arch_slot_xchg(volatile uint64_t *slot, uint64_t value)
{
	uint64_t old = ptxn_arch_slot_load(slot);

	while (!ptxn_arch_slot_cmpxchg(slot, &old, value))
		;
	return old;
}

#define PTXN_HAVE_ARCH_SLOT_STORE
PTXN_INLINE void ptxn_arch_slot_store(volatile uint64_t *slot, uint64_t value)
{
	(void)ptxn_arch_slot_xchg(slot, value);
}

#define PTXN_HAVE_ARCH_SLOT_INSTALL
PTXN_INLINE void ptxn_arch_slot_install(volatile uint64_t *slot, uint64_t value, uint64_t valid_mask)
{
	volatile ptxn_x86_slot_half_t *half = (volatile ptxn_x86_slot_half_t *)slot;
	int valid_half = (uint32_t)valid_mask ? 0 : 1; /* little-endian: half 0 = low word */

	half[!valid_half] = (uint32_t)(value >> (valid_half ? 0 : 32));
	PTXN_COMPILER_BARRIER();
	half[valid_half] = (uint32_t)(value >> (valid_half ? 32 : 0));
}

#define PTXN_HAVE_ARCH_SLOT_CLEAR
PTXN_INLINE void ptxn_arch_slot_clear(volatile uint64_t *slot, uint64_t valid_mask)
{
	volatile ptxn_x86_slot_half_t *half = (volatile ptxn_x86_slot_half_t *)slot;
	int valid_half = (uint32_t)valid_mask ? 0 : 1;

	half[valid_half] = 0;
	PTXN_COMPILER_BARRIER();
	half[!valid_half] = 0;
}

#define PTXN_HAVE_ARCH_SLOT_REPLACE
PTXN_INLINE void ptxn_arch_slot_replace(volatile uint64_t *slot, uint64_t old, uint64_t value)
{
	/*
	 * The hardware cannot change old any more: if only one half differs, one aligned
	 * 32-bit store (single-copy atomic, SDM Vol. 3A 9.1.1) turns old into value with no
	 * intermediate state at all. Otherwise both halves change: only CMPXCHG8B is atomic.
	 */
	volatile ptxn_x86_slot_half_t *half = (volatile ptxn_x86_slot_half_t *)slot;

	if ((uint32_t)(old >> 32) == (uint32_t)(value >> 32))
		half[0] = (uint32_t)value;
	else if ((uint32_t)old == (uint32_t)value)
		half[1] = (uint32_t)(value >> 32);
	else
		ptxn_arch_slot_store(slot, value);
}

#endif /* __i386__ */

#endif /* PTXN_ARCH_X86_ATOMIC_H */
