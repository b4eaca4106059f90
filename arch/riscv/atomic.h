/* SPDX-License-Identifier: MIT */
/*
 * ptxn/arch/riscv/atomic.h - slot primitives for RV64 with the A extension: AMOs where
 * one instruction is the whole operation, LR/SC loops where it is not. Inline asm only:
 * no __atomic builtin that could become a libatomic call in a kernel build.
 *
 * Sources: The RISC-V Instruction Set Manual, Volume I: Unprivileged ISA (20191213),
 * chapter 8 "A Standard Extension for Atomic Instructions" (8.2 LR/SC, 8.3 "Eventual
 * Success of Store-Conditional Instructions", 8.4 AMOs), and Volume II: Privileged
 * Architecture (20211203), 4.3.1 and 4.2.1.
 *
 * Loads and stores are plain LD/SD: a naturally aligned doubleword access is
 * single-copy atomic (Vol. I chapter 14, "RVWMO Memory Consistency Model"; only
 * misaligned ones may be split, 2.6), so generic/atomic.h's relaxed load/store, which
 * compile to exactly that, are kept.
 *
 * Ordering: no .aq or .rl bit, the same relaxed choice as the other arches
 * (generic/atomic.h says why). What keeps an Accessed/Dirty update from being lost is
 * atomicity on the one doubleword: a Svadu hart's A/D update "must be atomic with
 * respect to other accesses to the PTE" (Vol. II 4.3.1) and is a compare-and-set of
 * the whole entry (4.3.2 step 7), so it is ordered before or after each AMO in that
 * location's coherence order, and it breaks an LR's reservation like any other store
 * (Vol. I 8.2: SC fails if a store from another hart to the reservation set can be
 * observed to occur between the LR and the SC). Ordering against *other* memory is
 * not what .aq/.rl would give here either: the hart's own implicit page-table reads
 * are ordered with the caller's stores by SFENCE.VMA (Vol. II 4.2.1: it orders "any
 * previous stores already visible to the current RISC-V hart" before the implicit
 * page-table references of subsequent instructions), which the
 * caller's TLB flush executes, after the fence that publishes the stores to the other
 * harts it interrupts; the spec also says the PTE update is ordered with "the
 * acquire/release bits on atomic instructions" of the access that caused it - an
 * ordering for the faulting hart's accesses, not for ours. Linux uses the relaxed
 * atomic_long_and() (a bare amoand.d) for ptep_set_wrprotect on the same reasoning;
 * its ptep_get_and_clear is atomic_long_xchg, fully ordered only because that generic
 * API is (.aqrl), not because a walker needs it.
 */
#ifndef PTXN_ARCH_RISCV_ATOMIC_H
#define PTXN_ARCH_RISCV_ATOMIC_H

#ifndef PTXN_CORE_INTERNAL
#error "Do not include ptxn/arch/riscv/atomic.h directly; include <ptxn/ptxn.h>"
#endif

/* Without the A extension there is no atomic at all: generic/atomic.h then says so. */
#if defined(__riscv_atomic)

#define PTXN_ATOMICS_BACKEND "riscv amoswap/amoand/amoor, lr.d/sc.d"

/*
 * PAUSE (Zihintpause) is FENCE with pred=W, succ=0: a HINT, so a hart without Zihintpause
 * executes it as an ordinary no-op fence (Vol. I, "Zihintpause"). Written as its word
 * because gcc 12's assembler does not know the mnemonic.
 */
#define PTXN_HAVE_ARCH_CPU_RELAX
PTXN_INLINE void ptxn_arch_cpu_relax(void)
{
	__asm__ __volatile__(".4byte 0x0100000f" ::: "memory");
}

#define PTXN_HAVE_ARCH_SLOT_XCHG
PTXN_INLINE uint64_t ptxn_arch_slot_xchg(volatile uint64_t *slot, uint64_t value)
{
	uint64_t old;

	__asm__ __volatile__("amoswap.d %[old], %[desired], %[mem]"
			     : [old] "=r"(old), [mem] "+A"(*slot)
			     : [desired] "r"(value)
			     : "memory");
	return old;
}

/*
 * Strong compare-and-swap. The loop is a constrained LR/SC loop (Vol. I 8.3: at most 16
 * base integer instructions between LR and SC, no loads, stores, backward jumps or
 * taken backward branches inside), so it eventually succeeds; an SC fails spuriously
 * only when the reservation was lost (an interrupt, a walker's update), and then the
 * loop retries, while a value mismatch gives up at once. The reservation a failed
 * compare leaves behind is harmless: the next SC by this hart, to any address, ends it.
 */
#define PTXN_HAVE_ARCH_SLOT_CMPXCHG
PTXN_INLINE bool ptxn_arch_slot_cmpxchg(volatile uint64_t *slot, uint64_t *expected,
					 uint64_t desired)
{
	uint64_t want = *expected, seen;
	uint64_t failed;

	__asm__ __volatile__("1:	lr.d	%[seen], %[mem]\n"
			     "	bne	%[seen], %[want], 2f\n"
			     "	sc.d	%[failed], %[desired], %[mem]\n"
			     "	bnez	%[failed], 1b\n"
			     "2:"
			     : [seen] "=&r"(seen), [failed] "=&r"(failed), [mem] "+A"(*slot)
			     : [want] "r"(want), [desired] "r"(desired)
			     : "memory");
	*expected = seen;
	return seen == want;
}

/*
 * *slot = (*slot & ~clear) | set. One AMO does it only when one side is empty: AMOAND.D
 * with ~clear (test-and-clear-young, the strip of A/D), AMOOR.D with set. Both at once
 * would take two AMOs, and between them a walker could read - and, with Svadu, set A/D
 * in - an entry that is neither the old nor the new value: not the atomic update the
 * contract promises. So the general case is an LR/SC loop (constrained, as above; the
 * complement is taken outside the loop so that it needs no Zbb ANDN).
 */
#define PTXN_HAVE_ARCH_SLOT_UPDATE
PTXN_INLINE uint64_t ptxn_arch_slot_update(volatile uint64_t *slot, uint64_t clear, uint64_t set)
{
	const uint64_t keep = ~clear;
	uint64_t old, tmp;

	if (__builtin_constant_p(set) && set == 0) {
		__asm__ __volatile__("amoand.d %[old], %[keep], %[mem]"
				     : [old] "=r"(old), [mem] "+A"(*slot)
				     : [keep] "r"(keep)
				     : "memory");
		return old;
	}
	if (__builtin_constant_p(clear) && clear == 0) {
		__asm__ __volatile__("amoor.d %[old], %[set], %[mem]"
				     : [old] "=r"(old), [mem] "+A"(*slot)
				     : [set] "r"(set)
				     : "memory");
		return old;
	}
	__asm__ __volatile__("1:	lr.d	%[old], %[mem]\n"
			     "	and	%[tmp], %[old], %[keep]\n"
			     "	or	%[tmp], %[tmp], %[set]\n"
			     "	sc.d	%[tmp], %[tmp], %[mem]\n"
			     "	bnez	%[tmp], 1b"
			     : [old] "=&r"(old), [tmp] "=&r"(tmp), [mem] "+A"(*slot)
			     : [keep] "r"(keep), [set] "r"(set)
			     : "memory");
	return old;
}

#endif /* __riscv_atomic */

#endif /* PTXN_ARCH_RISCV_ATOMIC_H */
