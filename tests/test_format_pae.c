/* SPDX-License-Identifier: MIT */
/*
 * The x86 entry in 32-bit PAE paging (-DPTXN_X86_PAE=1, the default on i386 hosts), where
 * it differs from IA-32e paging (test_format.c): Intel SDM Vol. 3A Table 4-11, "Format of
 * a PAE Page-Table Entry that Maps a 4-KByte Page": bits 62:MAXPHYADDR are reserved (must
 * be 0), so there is no protection key and no ignored bit above 51. SavedDirty therefore
 * lives in the ignored bit 10 (Linux's 32-bit _PAGE_SAVED_DIRTY = _PAGE_BIT_SOFTW2) instead
 * of bit 58, and nothing ptxn builds may set a reserved bit. Expected values are literals.
 * The pte_modify properties of test_format_props.c run in this mode too.
 */
#include <ptxn/ptxn.h>

#include "ptxn_test.h"

#if !defined(PTXN_FORMAT_X86) || !PTXN_X86_PAE
#error "test_format_pae.c is built with -DPTXN_FORMAT_X86 -DPTXN_X86_PAE=1"
#endif

#define PAE_RESERVED UINT64_C(0x7ff0000000000000) /* bits 52-62 */

static ptxn_pte_t mk(uint64_t v)
{
	return ptxn_make_pte(v);
}

static uint64_t val(ptxn_pte_t p)
{
	return ptxn_pte_val(p);
}

START_TEST(test_pae_saved_dirty_is_bit_10)
{
	ptxn_pte_t rw = ptxn_pte_mkyoung(ptxn_pfn_pte(0x12345, ptxn_prot(0xb)));
	ptxn_pte_t dirty = ptxn_pte_mkdirty(rw);
	ptxn_pte_t ro = ptxn_pte_wrprotect(dirty);

	/* U/R/W young dirty, XD: P|RW|US|A|D = 0x67 */
	pt_assert_x64_eq(val(dirty), UINT64_C(0x8000000012345067));
	/* wrprotect: R/W=0, D=0, SavedDirty = bit 10 (0x400) */
	pt_assert_x64_eq(val(ro), UINT64_C(0x8000000012345425));
	ck_assert(ptxn_pte_dirty(ro));
	ck_assert(!ptxn_pte_write(ro));
	pt_assert_x64_eq(val(ptxn_pte_mkwrite(ro)), UINT64_C(0x8000000012345067));
	pt_assert_x64_eq(val(ptxn_pte_mkdirty(ptxn_pte_wrprotect(rw))), UINT64_C(0x8000000012345425));
	pt_assert_x64_eq(val(ptxn_pte_mkclean(mk(UINT64_C(0x8000000012345465)))),
			 UINT64_C(0x8000000012345025));
	/* bit 58 means nothing here: not dirty */
	ck_assert(!ptxn_pte_dirty(mk(UINT64_C(0x8000000012345025))));
	/* modify from writable-dirty to read-only: SavedDirty in bit 10, never D or bit 58 */
	pt_assert_x64_eq(val(ptxn_pte_modify(dirty, ptxn_prot(0x9))), UINT64_C(0x8000000012345425));
	pt_assert_x64_eq(val(ptxn_pte_modify(ro, ptxn_prot(0xb))), UINT64_C(0x8000000012345067));
}
END_TEST

/* A hardware D merged into an entry that is now read-only becomes bit 10. */
START_TEST(test_pae_merge_into_readonly)
{
	uint64_t start = UINT64_C(0x8000000012345027), now = UINT64_C(0x8000000012345067);
	uint64_t next = UINT64_C(0x8000000012345025);

	pt_assert_x64_eq(ptxn_arch_pte_merge_hw(next, start, now), UINT64_C(0x8000000012345425));
}
END_TEST

/* No constructor or modifier ever sets a PAE-reserved bit. */
START_TEST(test_pae_no_reserved_bits)
{
	static const uint64_t pfns[] = { 0, 0x12345, UINT64_C(0xffffffffff) };
	unsigned f, g, i;

	pt_assert_x64_eq(PTXN_ARCH_PTE_RESERVED, PAE_RESERVED);
	for (i = 0; i < sizeof(pfns) / sizeof(pfns[0]); i++)
		for (f = 0; f < 16; f++) {
			ptxn_pte_t p = ptxn_pfn_pte(pfns[i], ptxn_prot(f));
			ptxn_pte_t all[6];
			unsigned k;

			all[0] = p;
			all[1] = ptxn_pte_mkdirty(ptxn_pte_mkyoung(p));
			all[2] = ptxn_pte_wrprotect(all[1]);
			all[3] = ptxn_pte_mkwrite(all[2]);
			all[4] = ptxn_pte_mkclean(all[2]);
			for (g = 0; g < 16; g++) {
				all[5] = ptxn_pte_modify(all[2], ptxn_prot(g));
				for (k = 0; k < 6; k++)
					ck_assert_msg(!(val(all[k]) & PAE_RESERVED),
						      "pfn %#" PRIx64 " flags %#x/%#x step %u: 0x%016" PRIx64,
						      PT_U64(pfns[i]), f, g, k, PT_U64(val(all[k])));
			}
		}
}
END_TEST

/* The rest of the layout is IA-32e's: spot checks with literals from Table 4-11. */
START_TEST(test_pae_shared_layout)
{
	pt_assert_x64_eq(ptxn_prot(0x1).bits, UINT64_C(0x8000000000000001));
	pt_assert_x64_eq(ptxn_prot(0xf).bits, UINT64_C(0x0000000000000007));
	pt_assert_x64_eq(val(ptxn_pfn_pte(0x12345, ptxn_prot(0xb))), UINT64_C(0x8000000012345007));
	/* L1TF inversion and KNL are the same */
	pt_assert_x64_eq(val(ptxn_pfn_pte(0x12345, ptxn_prot(0))), UINT64_C(0x800fffffedcba100));
	ck_assert(ptxn_pte_none(mk(0x60)));
	pt_assert_x64_eq(PTXN_PFN_MAX, UINT64_C(0xffffffffff));
}
END_TEST

Suite *format_props_suite(void);

int main(void)
{
	Suite *s = suite_create("format_x86_pae");
	TCase *tc = tcase_create("pae");
	Suite *suites[2];

	tcase_add_test(tc, test_pae_saved_dirty_is_bit_10);
	tcase_add_test(tc, test_pae_merge_into_readonly);
	tcase_add_test(tc, test_pae_no_reserved_bits);
	tcase_add_test(tc, test_pae_shared_layout);
	suite_add_tcase(s, tc);
	suites[0] = s;
	suites[1] = format_props_suite();
	return ptxn_test_run_all(suites, 2);
}
