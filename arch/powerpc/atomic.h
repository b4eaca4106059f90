/* SPDX-License-Identifier: MIT */
/*
 * ptxn/arch/powerpc/atomic.h - slot primitives for 64-bit PowerPC (ppc64 and ppc64le):
 * LDARX/STDCX. reservation loops, the way Linux's pte_update() does it.
 *
 * Values here are raw storage words: on ppc64le a radix entry is big-endian in memory, so
 * core/ converts its masks once and these loops never byte-swap (same as Linux, which
 * converts clr/set with cpu_to_be64 before its ldarx loop).
 *
 * Loads and stores are plain LD/STD: an aligned doubleword access is single-copy atomic
 * (Power ISA 3.1 Book II 1.4), so generic/atomic.h's relaxed load/store are kept.
 *
 * Ordering: no lwsync/sync/isync around the loops. The radix walker's R/C update is an
 * atomic update of the same PTE (Power ISA 3.1 Book III 6.7.10.3), so the reservation on
 * that one doubleword is all that keeps an update from being lost; ordering against other
 * memory comes from the caller's lock and from the ptesync that begins every TLB
 * invalidation sequence (Book III 6.10.x). Linux's pte_update() has no barrier either.
 */
#ifndef PTXN_ARCH_POWERPC_ATOMIC_H
#define PTXN_ARCH_POWERPC_ATOMIC_H

#ifndef PTXN_CORE_INTERNAL
#error "Do not include ptxn/arch/powerpc/atomic.h directly; include <ptxn/ptxn.h>"
#endif

#define PTXN_ATOMICS_BACKEND "powerpc ldarx/stdcx."

#define PTXN_HAVE_ARCH_CPU_RELAX
PTXN_INLINE void ptxn_arch_cpu_relax(void)
{
	/* Lower then restore SMT thread priority (Power ISA Book II 3.2, "or Rx,Rx,Rx"). */
	__asm__ __volatile__("or 1,1,1\n\tor 2,2,2" ::: "memory");
}

#define PTXN_HAVE_ARCH_SLOT_UPDATE
PTXN_INLINE uint64_t ptxn_arch_slot_update(volatile uint64_t *slot, uint64_t clear, uint64_t set)
{
	uint64_t old, tmp;

	__asm__ __volatile__("1:	ldarx	%[old], 0, %[addr]\n"
			     "	andc	%[tmp], %[old], %[clear]\n"
			     "	or	%[tmp], %[tmp], %[set]\n"
			     "	stdcx.	%[tmp], 0, %[addr]\n"
			     "	bne-	1b"
			     : [old] "=&r"(old), [tmp] "=&r"(tmp), "+m"(*slot)
			     : [addr] "r"(slot), [clear] "r"(clear), [set] "r"(set)
			     : "memory", "cr0");
	return old;
}

#define PTXN_HAVE_ARCH_SLOT_XCHG
PTXN_INLINE uint64_t ptxn_arch_slot_xchg(volatile uint64_t *slot, uint64_t value)
{
	uint64_t old;

	__asm__ __volatile__("1:	ldarx	%[old], 0, %[addr]\n"
			     "	stdcx.	%[desired], 0, %[addr]\n"
			     "	bne-	1b"
			     : [old] "=&r"(old), "+m"(*slot)
			     : [addr] "r"(slot), [desired] "r"(value)
			     : "memory", "cr0");
	return old;
}

#define PTXN_HAVE_ARCH_SLOT_CMPXCHG
PTXN_INLINE bool ptxn_arch_slot_cmpxchg(volatile uint64_t *slot, uint64_t *expected,
					 uint64_t desired)
{
	uint64_t want = *expected, seen;

	/*
	 * Strong CAS: retry only when the reservation was lost, give up on a mismatch. The
	 * reservation left behind by a failed compare is harmless: the next stdcx. on any
	 * address clears it (Book II 1.7.3.1).
	 */
	__asm__ __volatile__("1:	ldarx	%[seen], 0, %[addr]\n"
			     "	cmpd	%[seen], %[want]\n"
			     "	bne-	2f\n"
			     "	stdcx.	%[desired], 0, %[addr]\n"
			     "	bne-	1b\n"
			     "2:"
			     : [seen] "=&r"(seen), "+m"(*slot)
			     : [addr] "r"(slot), [want] "r"(want), [desired] "r"(desired)
			     : "memory", "cr0");
	*expected = seen;
	return seen == want;
}

#endif /* PTXN_ARCH_POWERPC_ATOMIC_H */
