/* SPDX-License-Identifier: MIT */
/*
 * The x86 entry with -DPTXN_X86_NO_SAVED_DIRTY=1: no SavedDirty bit, a read-only entry
 * keeps its dirtiness in D, as x86 Linux before v6.6 (whose bit 58 is _PAGE_DEVMAP and
 * whose pte_dirty() reads D alone; examples/linux-module/ found it on Debian 12's 6.1).
 * Nothing ptxn builds may set bit 58 (or any bit 52-58), and every dirty state must be
 * in D. Expected values are literals.
 */
#include <ptxn/ptxn.h>

#include "ptxn_test.h"

#if !defined(PTXN_FORMAT_X86) || !PTXN_X86_NO_SAVED_DIRTY || PTXN_X86_PAE
#error "test_format_nosaveddirty.c is built with -DPTXN_FORMAT_X86 -DPTXN_X86_NO_SAVED_DIRTY=1"
#endif

#define BITS_52_58 UINT64_C(0x07f0000000000000)

static uint64_t val(ptxn_pte_t p)
{
	return ptxn_pte_val(p);
}

START_TEST(test_nosd_dirty_stays_in_d)
{
	ptxn_pte_t rw = ptxn_pte_mkyoung(ptxn_pfn_pte(0x12345, ptxn_prot(0xb)));
	ptxn_pte_t dirty = ptxn_pte_mkdirty(rw);
	ptxn_pte_t ro = ptxn_pte_wrprotect(dirty);

	/* U/R/W young dirty, XD: P|RW|US|A|D = 0x67 */
	pt_assert_x64_eq(val(dirty), UINT64_C(0x8000000012345067));
	/* wrprotect: R/W=0, D stays (Linux 6.1 pte_wrprotect) */
	pt_assert_x64_eq(val(ro), UINT64_C(0x8000000012345065));
	ck_assert(ptxn_pte_dirty(ro));
	ck_assert(!ptxn_pte_write(ro));
	pt_assert_x64_eq(val(ptxn_pte_mkwrite(ro)), UINT64_C(0x8000000012345067));
	pt_assert_x64_eq(val(ptxn_pte_mkdirty(ptxn_pte_wrprotect(rw))), UINT64_C(0x8000000012345065));
	pt_assert_x64_eq(val(ptxn_pte_mkclean(ro)), UINT64_C(0x8000000012345025));
	/* bit 58 is not dirtiness here (6.1: _PAGE_DEVMAP) */
	ck_assert(!ptxn_pte_dirty(ptxn_make_pte(UINT64_C(0x8400000012345025))));
	pt_assert_x64_eq(val(ptxn_pte_modify(dirty, ptxn_prot(0x9))), UINT64_C(0x8000000012345065));
	pt_assert_x64_eq(val(ptxn_pte_modify(ro, ptxn_prot(0xb))), UINT64_C(0x8000000012345067));
}
END_TEST

/* A hardware D merged into an entry that is now read-only stays D. */
START_TEST(test_nosd_merge_into_readonly)
{
	uint64_t start = UINT64_C(0x8000000012345027), now = UINT64_C(0x8000000012345067);
	uint64_t next = UINT64_C(0x8000000012345025);

	pt_assert_x64_eq(ptxn_arch_pte_merge_hw(next, start, now), UINT64_C(0x8000000012345065));
	pt_assert_x64_eq(ptxn_arch_pte_fold_hw(next, now), UINT64_C(0x8000000012345065));
}
END_TEST

/* A transaction that write-protects an entry the MMU dirties in between keeps it in D. */
START_TEST(test_nosd_transaction)
{
	static const enum ptxn_strategy s[] = { PTXN_STRATEGY_AUTO, PTXN_STRATEGY_CLEAR,
						PTXN_STRATEGY_MERGE };
	unsigned k;

	for (k = 0; k < 3; k++) {
		ptxn_mm_t mm;
		ptxn_pte_t slot = ptxn_make_pte(UINT64_C(0x8000000012345027)), old;

		ptxn_mm_init(&mm);
		ck_assert(ptxn_mm_set_strategy(&mm, s[k]));
		old = ptxn_modify_prot_start(&mm, 0x1000, &slot);
		if (s[k] != PTXN_STRATEGY_CLEAR) /* the MMU's write lands in the live entry */
			slot = ptxn_make_pte(val(slot) | 0x40);
		ptxn_modify_prot_commit(&mm, 0x1000, &slot, old, ptxn_pte_wrprotect(old));
		pt_assert_x64_eq(val(slot), s[k] != PTXN_STRATEGY_CLEAR ? UINT64_C(0x8000000012345065)
									: UINT64_C(0x8000000012345025));
	}
}
END_TEST

/* No constructor or modifier sets a bit in 52-58. */
START_TEST(test_nosd_no_high_software_bits)
{
	unsigned f, g, k;

	for (f = 0; f < 16; f++) {
		ptxn_pte_t p = ptxn_pfn_pte(0x12345, ptxn_prot(f));
		ptxn_pte_t all[6];

		all[0] = p;
		all[1] = ptxn_pte_mkdirty(ptxn_pte_mkyoung(p));
		all[2] = ptxn_pte_wrprotect(all[1]);
		all[3] = ptxn_pte_mkwrite(all[2]);
		all[4] = ptxn_pte_mkclean(all[2]);
		for (g = 0; g < 16; g++) {
			all[5] = ptxn_pte_modify(all[2], ptxn_prot(g));
			for (k = 0; k < 6; k++)
				ck_assert_msg(!(val(all[k]) & BITS_52_58), "flags %#x/%#x step %u: 0x%016" PRIx64,
					      f, g, k, PT_U64(val(all[k])));
		}
	}
}
END_TEST

int main(void)
{
	Suite *s = suite_create("format_x86_nosaveddirty");
	TCase *tc = tcase_create("nosaveddirty");

	tcase_add_test(tc, test_nosd_dirty_stays_in_d);
	tcase_add_test(tc, test_nosd_merge_into_readonly);
	tcase_add_test(tc, test_nosd_transaction);
	tcase_add_test(tc, test_nosd_no_high_software_bits);
	suite_add_tcase(s, tc);
	return ptxn_test_run(s);
}
