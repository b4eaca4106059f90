/* SPDX-License-Identifier: MIT */
/*
 * One side of the differential test: every value-level operation and every slot primitive
 * behind one dispatcher each, exported as `const struct diff_side diff_side_<DIFF_SIDE>`.
 *
 * Not compiled on its own: test_differential_native.c includes it as is, and
 * test_differential_generic.c includes it after #define PTXN_FORCE_GENERIC, so the same
 * code is built against the arch overrides and against generic/ only, in two translation
 * units of one program (tests/test_differential.c compares them).
 */
#ifndef DIFF_SIDE
#error "test_differential_side.c is included by test_differential_{native,generic}.c"
#endif

#include <ptxn/ptxn.h>

#include "ptxn_test.h"

#define DIFF_CAT2(a, b) a##b
#define DIFF_CAT(a, b) DIFF_CAT2(a, b)
#define DIFF_STR2(x) #x
#define DIFF_STR(x) DIFF_STR2(x)
/* The only exported name; everything else is static to this translation unit. */
#define DIFF_EXPORT DIFF_CAT(diff_side_, DIFF_SIDE)

/* How many arch overrides this translation unit sees (0 under PTXN_FORCE_GENERIC). */
#ifdef PTXN_HAVE_ARCH_SLOT_LOAD
#define DIFF_N1 1
#else
#define DIFF_N1 0
#endif
#ifdef PTXN_HAVE_ARCH_SLOT_STORE
#define DIFF_N2 1
#else
#define DIFF_N2 0
#endif
#ifdef PTXN_HAVE_ARCH_SLOT_XCHG
#define DIFF_N3 1
#else
#define DIFF_N3 0
#endif
#ifdef PTXN_HAVE_ARCH_SLOT_CMPXCHG
#define DIFF_N4 1
#else
#define DIFF_N4 0
#endif
#ifdef PTXN_HAVE_ARCH_SLOT_UPDATE
#define DIFF_N5 1
#else
#define DIFF_N5 0
#endif
#ifdef PTXN_HAVE_ARCH_SLOT_INSTALL
#define DIFF_N6 1
#else
#define DIFF_N6 0
#endif
#ifdef PTXN_HAVE_ARCH_SLOT_CLEAR
#define DIFF_N7 1
#else
#define DIFF_N7 0
#endif
#ifdef PTXN_HAVE_ARCH_SLOT_REPLACE
#define DIFF_N8 1
#else
#define DIFF_N8 0
#endif
#ifdef PTXN_HAVE_ARCH_CPU_RELAX
#define DIFF_N9 1
#else
#define DIFF_N9 0
#endif
/*
 * A format's own rule announces PTXN_HAVE_ARCH_PTE_<NAME> in both builds (ARM64's
 * wrprotect, x86's modify: generic/pte.h has only the dirty-bit form); only its optimised
 * version, compiled without PTXN_FORCE_GENERIC, is an override.
 */
#if defined(PTXN_HAVE_ARCH_PTE_WRPROTECT) && !defined(PTXN_FORCE_GENERIC)
#define DIFF_N10 1
#else
#define DIFF_N10 0
#endif
#if defined(PTXN_HAVE_ARCH_PTE_MKWRITE) && !defined(PTXN_FORCE_GENERIC)
#define DIFF_N11 1
#else
#define DIFF_N11 0
#endif
#define DIFF_OVERRIDES                                                                        \
	(DIFF_N1 + DIFF_N2 + DIFF_N3 + DIFF_N4 + DIFF_N5 + DIFF_N6 + DIFF_N7 + DIFF_N8 +     \
	 DIFF_N9 + DIFF_N10 + DIFF_N11)

static uint64_t value_op(unsigned op, uint64_t a, uint64_t b, uint64_t c)
{
	const ptxn_pte_t pa = ptxn_make_pte(a);

	switch ((enum diff_value_op)op) {
	case DV_NONE: return ptxn_pte_none(pa);
	case DV_PRESENT: return ptxn_pte_present(pa);
	case DV_HW_VALID: return ptxn_pte_hw_valid(pa);
	case DV_YOUNG: return ptxn_pte_young(pa);
	case DV_DIRTY: return ptxn_pte_dirty(pa);
	case DV_HW_DIRTY: return ptxn_arch_pte_hw_dirty(a);
	case DV_WRITE: return ptxn_pte_write(pa);
	case DV_EXEC: return ptxn_pte_exec(pa);
	case DV_PROT_FLAGS: return ptxn_pte_prot_flags(pa);
	case DV_QUIESCENT: return ptxn_pte_quiescent(pa);
	case DV_QUIESCENT_FINAL: return ptxn_arch_pte_quiescent(PTXN_ARCH_MM_READONLY_FINAL, a);
	case DV_FOLD_HW: return ptxn_arch_pte_fold_hw(a, b);
	case DV_ABSORBS: return ptxn_arch_pte_absorbs(0, a, b);
	case DV_ABSORBS_FINAL: return ptxn_arch_pte_absorbs(PTXN_ARCH_MM_READONLY_FINAL, a, b);
	case DV_PFN_INVERTED: return ptxn_arch_pte_pfn_inverted(a);
	case DV_MKOLD: return ptxn_pte_val(ptxn_pte_mkold(pa));
	case DV_MKYOUNG: return ptxn_pte_val(ptxn_pte_mkyoung(pa));
	case DV_MKCLEAN: return ptxn_pte_val(ptxn_pte_mkclean(pa));
	case DV_MKDIRTY: return ptxn_pte_val(ptxn_pte_mkdirty(pa));
	case DV_WRPROTECT: return ptxn_pte_val(ptxn_pte_wrprotect(pa));
	case DV_MKWRITE: return ptxn_pte_val(ptxn_pte_mkwrite(pa));
	case DV_MODIFY: return ptxn_pte_val(ptxn_pte_modify(pa, ptxn_make_prot(b)));
	case DV_MODIFY_FLAGS: return ptxn_pte_val(ptxn_pte_modify(pa, ptxn_prot((unsigned)b & 15)));
	case DV_PFN: return ptxn_pte_pfn(pa);
	case DV_PFN_PTE: return ptxn_pte_val(ptxn_pfn_pte(a & PTXN_PFN_MAX, ptxn_make_prot(b)));
	case DV_PFN_PTE_FLAGS:
		return ptxn_pte_val(ptxn_pfn_pte(a & PTXN_PFN_MAX, ptxn_prot((unsigned)b & 15)));
	case DV_ADVANCE_PFN: return ptxn_pte_val(ptxn_pte_advance_pfn(pa, b & 0xffff));
	case DV_MERGE_HW: return ptxn_arch_pte_merge_hw(a, b, c);
	case DV_STRIP_HW: return ptxn_arch_pte_strip_hw(a);
	case DV_TO_STORAGE: return ptxn_make_pte(a).storage;
	case DV_FROM_STORAGE: {
		ptxn_pte_t p;

		p.storage = a;
		return ptxn_pte_val(p);
	}
	case DV_PROT_BITS: return ptxn_prot_val(ptxn_prot((unsigned)a & 15));
	case DV_NORMALIZE: return ptxn_prot_normalize((unsigned)a & 15);
	case DV_COUNT: break;
	}
	return UINT64_C(0xdeadbeefdeadbeef);
}

static void flush_nothing(ptxn_mm_t *mm, uintptr_t start, uintptr_t end)
{
	(void)mm, (void)start, (void)end;
}

/* init, a, b: storage-order words, as a slot holds them. */
static void slot_op(unsigned op, uint64_t init, uint64_t a, uint64_t b, struct diff_slot_result *r)
{
	ptxn_pte_t slot[3]; /* guards on both sides: a primitive must touch only its slot */
	ptxn_pte_t *s = &slot[1];
	const uint64_t guard = UINT64_C(0xa5a5a5a5a5a5a5a5);
	const uint64_t valid = ptxn_make_pte(PTXN_ARCH_PTE_HW_VALID).storage;

	slot[0].storage = guard;
	slot[2].storage = ~guard;
	s->storage = init;
	r->ret = 0;
	r->aux = 0;

	switch ((enum diff_slot_op)op) {
	case DS_LOAD: r->ret = ptxn_arch_slot_load(&s->storage); break;
	case DS_PTEP_GET: r->ret = ptxn_ptep_get(s).storage; break;
	case DS_STORE: ptxn_arch_slot_store(&s->storage, a); break;
	case DS_SET_PTE: {
		ptxn_pte_t p;

		p.storage = a;
		ptxn_set_pte(s, p);
		break;
	}
	case DS_XCHG: r->ret = ptxn_arch_slot_xchg(&s->storage, a); break;
	case DS_CMPXCHG: {
		uint64_t expected = a;

		r->ret = ptxn_arch_slot_cmpxchg(&s->storage, &expected, b);
		r->aux = expected;
		break;
	}
	case DS_UPDATE: r->ret = ptxn_arch_slot_update(&s->storage, a, b); break;
	case DS_UPDATE_SET: r->ret = ptxn_arch_slot_update(&s->storage, 0, a); break;
	case DS_UPDATE_CLEAR: r->ret = ptxn_arch_slot_update(&s->storage, a, 0); break;
	case DS_INSTALL: ptxn_arch_slot_install(&s->storage, a, valid); break;
	case DS_CLEAR: ptxn_arch_slot_clear(&s->storage, valid); break;
	case DS_REPLACE: ptxn_arch_slot_replace(&s->storage, init, a); break;
	case DS_PTE_CLEAR: ptxn_pte_clear(s); break;
	case DS_GET_AND_CLEAR: r->ret = ptxn_ptep_get_and_clear(s).storage; break;
	case DS_TEST_AND_CLEAR_YOUNG: r->ret = ptxn_ptep_test_and_clear_young(s); break;
	case DS_MARK_ACCESSED: r->ret = ptxn_ptep_mark_accessed(s, (a & 1) != 0); break;
	case DS_TXN: {
		ptxn_mm_t mm;
		ptxn_pte_t old, pte;

		ptxn_mm_init(&mm);
		ptxn_mm_set_flush_tlb_range(&mm, flush_nothing, NULL);
		ptxn_mm_set_strategy(&mm, (enum ptxn_strategy)(a % PTXN_STRATEGY_COUNT));
		old = ptxn_modify_prot_start(&mm, 0x400000, s);
		pte = ptxn_pte_modify(old, ptxn_prot((unsigned)b & 15));
		ptxn_modify_prot_commit(&mm, 0x400000, s, old, pte);
		r->aux = old.storage;
		break;
	}
	case DS_COUNT: break;
	}
	r->slot = s->storage;
	if (slot[0].storage != guard || slot[2].storage != ~guard)
		r->slot ^= UINT64_C(0x0bad0bad0bad0bad); /* a neighbour was written: never equal */
}

const struct diff_side DIFF_EXPORT = {
	.name = DIFF_STR(DIFF_SIDE),
	.backend = PTXN_BACKEND_DESCRIPTION,
	.atomics = PTXN_ATOMICS_BACKEND,
	.format = PTXN_FORMAT_NAME,
#ifdef PTXN_FORCE_GENERIC
	.forced_generic = 1,
#else
	.forced_generic = 0,
#endif
	.arch_overrides = DIFF_OVERRIDES,
	.value = value_op,
	.slot = slot_op,
};
