/* SPDX-License-Identifier: MIT */
/*
 * ptxn/arch/arm64/atomic.h - slot primitives for AArch64: LSE when the compiler targets
 * FEAT_LSE (Armv8.1+, __ARM_FEATURE_ATOMICS), exclusive-monitor LL/SC loops otherwise.
 * No outline-atomics helper is ever called: a kernel has no libgcc runtime dispatch.
 *
 * Loads and stores are plain LDR/STR: an aligned 64-bit access is single-copy atomic
 * (Arm ARM B2.2.1), so generic/atomic.h's relaxed __atomic load/store compile to exactly
 * that and are not overridden.
 *
 * Ordering: the relaxed forms (SWP, CAS, LDSET, LDCLR; LDXR/STXR) on purpose, not the
 * acquire/release "AL" forms. The hardware table walker's Access-flag and dirty-state
 * updates are atomic read-modify-writes of the same descriptor (Arm ARM D8.4.6, "The
 * hardware update ... is atomic ... with respect to other updates"), so coherence of that
 * one location is all that keeps an update from being lost; ordering against other memory
 * comes from the caller's lock and from the DSB ISHST that begins every TLB invalidation
 * (Arm ARM D8.13.x, "ensuring the update is visible before TLBI"). Linux makes the same
 * choice (ptep_get_and_clear -> xchg_relaxed, __ptep_test_and_clear_young ->
 * cmpxchg_relaxed). SWPAL/CASAL would add two barriers per entry that nothing consumes.
 */
#ifndef PTXN_ARCH_ARM64_ATOMIC_H
#define PTXN_ARCH_ARM64_ATOMIC_H

#ifndef PTXN_CORE_INTERNAL
#error "Do not include ptxn/arch/arm64/atomic.h directly; include <ptxn/ptxn.h>"
#endif

#define PTXN_HAVE_ARCH_CPU_RELAX
PTXN_INLINE void ptxn_arch_cpu_relax(void)
{
	__asm__ __volatile__("yield" ::: "memory");
}

#if defined(__ARM_FEATURE_ATOMICS)
/* ---- FEAT_LSE: one instruction per operation, no retry loop ------------------------- */

#define PTXN_ATOMICS_BACKEND "arm64 LSE swp/cas/ldset/ldclr"

#define PTXN_HAVE_ARCH_SLOT_XCHG
PTXN_INLINE uint64_t ptxn_arch_slot_xchg(volatile uint64_t *slot, uint64_t value)
{
	uint64_t old;

	__asm__ __volatile__("swp %[desired], %[old], %[mem]"
			     : [old] "=r"(old), [mem] "+Q"(*slot)
			     : [desired] "r"(value)
			     : "memory");
	return old;
}

#define PTXN_HAVE_ARCH_SLOT_CMPXCHG
PTXN_INLINE bool ptxn_arch_slot_cmpxchg(volatile uint64_t *slot, uint64_t *expected,
					 uint64_t desired)
{
	uint64_t want = *expected;
	uint64_t seen = want;

	/* CAS loads the old value into its first register whatever the outcome. */
	__asm__ __volatile__("cas %[seen], %[desired], %[mem]"
			     : [seen] "+r"(seen), [mem] "+Q"(*slot)
			     : [desired] "r"(desired)
			     : "memory");
	*expected = seen;
	return seen == want;
}

#define PTXN_HAVE_ARCH_SLOT_UPDATE
PTXN_INLINE uint64_t ptxn_arch_slot_update(volatile uint64_t *slot, uint64_t clear, uint64_t set)
{
	uint64_t old;

	if (__builtin_constant_p(set) && set == 0) {
		__asm__ __volatile__("ldclr %[bits], %[old], %[mem]"
				     : [old] "=r"(old), [mem] "+Q"(*slot)
				     : [bits] "r"(clear)
				     : "memory");
		return old;
	}
	if (__builtin_constant_p(clear) && clear == 0) {
		__asm__ __volatile__("ldset %[bits], %[old], %[mem]"
				     : [old] "=r"(old), [mem] "+Q"(*slot)
				     : [bits] "r"(set)
				     : "memory");
		return old;
	}
	old = *slot;
	while (!ptxn_arch_slot_cmpxchg(slot, &old, (old & ~clear) | set))
		;
	return old;
}

#else
/* ---- Armv8.0: load-exclusive / store-exclusive loops --------------------------------- */

#define PTXN_ATOMICS_BACKEND "arm64 LL/SC ldxr/stxr"

#define PTXN_HAVE_ARCH_SLOT_XCHG
PTXN_INLINE uint64_t ptxn_arch_slot_xchg(volatile uint64_t *slot, uint64_t value)
{
	uint64_t old;
	uint32_t failed;

	__asm__ __volatile__("1:	ldxr	%[old], %[mem]\n"
			     "	stxr	%w[failed], %[desired], %[mem]\n"
			     "	cbnz	%w[failed], 1b"
			     : [old] "=&r"(old), [failed] "=&r"(failed), [mem] "+Q"(*slot)
			     : [desired] "r"(value)
			     : "memory");
	return old;
}

#define PTXN_HAVE_ARCH_SLOT_CMPXCHG
PTXN_INLINE bool ptxn_arch_slot_cmpxchg(volatile uint64_t *slot, uint64_t *expected,
					 uint64_t desired)
{
	uint64_t want = *expected, seen;
	uint32_t failed;

	/*
	 * Strong CAS: a store-exclusive that fails only because the monitor was cleared
	 * (an interrupt, a walker's update) retries; a value mismatch gives up at once and
	 * clears the monitor with CLREX (Arm ARM B2.9.5: leave no open exclusive).
	 */
	__asm__ __volatile__("1:	ldxr	%[seen], %[mem]\n"
			     "	cmp	%[seen], %[want]\n"
			     "	b.ne	2f\n"
			     "	stxr	%w[failed], %[desired], %[mem]\n"
			     "	cbnz	%w[failed], 1b\n"
			     "	b	3f\n"
			     "2:	clrex\n"
			     "3:"
			     : [seen] "=&r"(seen), [failed] "=&r"(failed), [mem] "+Q"(*slot)
			     : [want] "r"(want), [desired] "r"(desired)
			     : "memory", "cc");
	*expected = seen;
	return seen == want;
}

#define PTXN_HAVE_ARCH_SLOT_UPDATE
PTXN_INLINE uint64_t ptxn_arch_slot_update(volatile uint64_t *slot, uint64_t clear, uint64_t set)
{
	uint64_t old, tmp;
	uint32_t failed;

	__asm__ __volatile__("1:	ldxr	%[old], %[mem]\n"
			     "	bic	%[tmp], %[old], %[clear]\n"
			     "	orr	%[tmp], %[tmp], %[set]\n"
			     "	stxr	%w[failed], %[tmp], %[mem]\n"
			     "	cbnz	%w[failed], 1b"
			     : [old] "=&r"(old), [tmp] "=&r"(tmp), [failed] "=&r"(failed),
			       [mem] "+Q"(*slot)
			     : [clear] "r"(clear), [set] "r"(set)
			     : "memory");
	return old;
}

#endif /* __ARM_FEATURE_ATOMICS */

#endif /* PTXN_ARCH_ARM64_ATOMIC_H */
