/* SPDX-License-Identifier: MIT */
/*
 * The misuse of test_contracts.c in a release build (no PTXN_DEBUG): nothing is checked,
 * nothing is reported, the operations still do what they are asked, and the public entry
 * points are plain functions whose addresses can be taken.
 */
#include <ptxn/ptxn.h>

#include <check.h>

#include "ptxn_test.h"

#ifdef PTXN_DEBUG
#error "this test is built without PTXN_DEBUG"
#endif

static int nseen;

static void capture(const struct ptxn_violation *v)
{
	(void)v;
	nseen++;
}

START_TEST(misuse_is_not_checked)
{
	static ptxn_pte_t table[4] __attribute__((aligned(4096)));
	ptxn_pte_t (*start)(ptxn_mm_t *, uintptr_t, ptxn_pte_t *) = ptxn_modify_prot_start;
	void (*commit)(ptxn_mm_t *, uintptr_t, ptxn_pte_t *, ptxn_pte_t, ptxn_pte_t) =
		ptxn_modify_prot_commit;
	ptxn_mm_t mm;
	ptxn_pte_t old;

	ptxn_mm_init(&mm);
	ptxn_mm_set_violation_hook(&mm, capture);
	ptxn_set_pte(&table[0], ptxn_pfn_pte(0x42, ptxn_prot(PTXN_PROT_READ | PTXN_PROT_WRITE)));
	old = start(&mm, 0x1000, &table[0]);
	(void)start(&mm, 0x1000, &table[0]);                  /* second start */
	commit(&mm, 0x1000, &table[0], old, ptxn_pte_wrprotect(old));
	commit(&mm, 0x1000, &table[0], old, ptxn_pte_wrprotect(old)); /* commit without start */
	ptxn_lazy_mmu_leave(&mm);                             /* leave without enter */
	ck_assert(ptxn_mm_check_idle(&mm));
	ck_assert_int_eq(nseen, 0);
	ck_assert(!ptxn_pte_write(ptxn_ptep_get(&table[0])));
	ck_assert_uint_eq(ptxn_pte_pfn(ptxn_ptep_get(&table[0])), 0x42);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("contracts-release");
	TCase *tc = tcase_create("release");

	tcase_add_test(tc, misuse_is_not_checked);
	suite_add_tcase(s, tc);
	return ptxn_test_run(s);
}
