/* SPDX-License-Identifier: MIT */
/*
 * Contract checking (PTXN_DEBUG, core/debug.h): one test per violation, each checking the
 * kind, that the message says what was wrong and how to fix it, and that the reported
 * source position is the caller's line in this file. Built with -DPTXN_DEBUG for each
 * entry format; test_contracts_release.c is the same misuse without PTXN_DEBUG, where
 * nothing may be reported.
 *
 * Built twice per format: as is (the built-in default hook prints and aborts: tested in a
 * forked child), and with -DTEST_COMPILE_TIME_HOOK, where the includer's
 * PTXN_DEFAULT_VIOLATION_HOOK receives what has no mm hook (ptxn_pfn_pte's check).
 */
#include <stdlib.h>

#ifdef TEST_COMPILE_TIME_HOOK
struct ptxn_violation;
static void global_capture(const struct ptxn_violation *v);
#define PTXN_DEFAULT_VIOLATION_HOOK global_capture
#endif

#include <ptxn/ptxn.h>

#include <check.h>
#include <signal.h>
#include <string.h>

#include "ptxn_test.h"

#ifndef PTXN_DEBUG
#error "this test is built with -DPTXN_DEBUG"
#endif

static struct ptxn_violation seen[16];
static int nseen;

static void capture(const struct ptxn_violation *v)
{
	if (nseen < 16)
		seen[nseen] = *v;
	nseen++;
}

static ptxn_mm_t mm;
static ptxn_pte_t table[16] __attribute__((aligned(4096)));

static void setup(void)
{
	unsigned int i;

	ptxn_mm_init(&mm);
	ptxn_mm_set_violation_hook(&mm, capture);
	nseen = 0;
	memset(seen, 0, sizeof(seen));
	for (i = 0; i < 16; i++)
		ptxn_set_pte(&table[i], ptxn_pfn_pte(0x100 + i, ptxn_prot(PTXN_PROT_READ |
									   PTXN_PROT_WRITE |
									   PTXN_PROT_USER)));
}

/* Exactly one violation of `kind`, reported at `line` of this file, with both sentences. */
static void expect_one(enum ptxn_violation_kind kind, int line, const char *what_has,
		       const char *fix_has)
{
	ck_assert_int_eq(nseen, 1);
	ck_assert_int_eq(seen[0].kind, kind);
	ck_assert_ptr_nonnull(strstr(seen[0].what, what_has));
	ck_assert_ptr_nonnull(strstr(seen[0].fix, fix_has));
	if (line) {
		ck_assert_ptr_nonnull(strstr(seen[0].file, "test_contracts.c"));
		ck_assert_int_eq(seen[0].line, line);
	}
}

START_TEST(correct_use_reports_nothing)
{
	ptxn_pte_t old = ptxn_modify_prot_start(&mm, 0x1000, &table[0]);

	ptxn_modify_prot_commit(&mm, 0x1000, &table[0], old, ptxn_pte_wrprotect(old));
	old = ptxn_modify_prot_start_ptes(&mm, 0x2000, &table[1], 4);
	ptxn_modify_prot_commit_ptes(&mm, 0x2000, &table[1], old, ptxn_pte_mkold(old), 4);
	ptxn_lazy_mmu_enter(&mm);
	ptxn_lazy_mmu_leave(&mm);
	ck_assert(ptxn_mm_check_idle(&mm));
	ck_assert_int_eq(nseen, 0);
}
END_TEST

START_TEST(start_without_commit)
{
	(void)ptxn_modify_prot_start(&mm, 0x1000, &table[0]);
	ck_assert_int_eq(nseen, 0);
	int line = __LINE__ + 1;
	ck_assert(!ptxn_mm_check_idle(&mm));
	expect_one(PTXN_VIOLATION_START_WITHOUT_COMMIT, line, "never committed",
		   "pair every ptxn_modify_prot_start()");
	ck_assert_ptr_eq(seen[0].slot, &table[0]);
}
END_TEST

START_TEST(commit_without_start)
{
	ptxn_pte_t pte = ptxn_ptep_get(&table[0]);
	int line = __LINE__ + 1;
	ptxn_modify_prot_commit(&mm, 0x1000, &table[0], pte, ptxn_pte_wrprotect(pte));
	expect_one(PTXN_VIOLATION_COMMIT_WITHOUT_START, line, "without a matching",
		   "call ptxn_modify_prot_start() first");
}
END_TEST

START_TEST(second_start_same_entry)
{
	(void)ptxn_modify_prot_start(&mm, 0x1000, &table[0]);
	int line = __LINE__ + 1;
	(void)ptxn_modify_prot_start(&mm, 0x1000, &table[0]);
	expect_one(PTXN_VIOLATION_SECOND_START, line, "still open",
		   "commit (ptxn_modify_prot_commit) the first");
}
END_TEST

START_TEST(second_start_overlapping_batch)
{
	(void)ptxn_modify_prot_start_ptes(&mm, 0x1000, &table[0], 8);
	int line = __LINE__ + 1;
	(void)ptxn_modify_prot_start(&mm, 0x5000, &table[4]);
	expect_one(PTXN_VIOLATION_SECOND_START, line, "still open", "before starting another");
}
END_TEST

START_TEST(commit_to_other_entry)
{
	ptxn_pte_t old = ptxn_modify_prot_start(&mm, 0x1000, &table[0]);
	int line = __LINE__ + 1;
	ptxn_modify_prot_commit(&mm, 0x2000, &table[1], old, old);
	expect_one(PTXN_VIOLATION_COMMIT_OTHER_ENTRY, line, "other than the one",
		   "commit the same ptep");
}
END_TEST

START_TEST(commit_other_address)
{
	ptxn_pte_t old = ptxn_modify_prot_start(&mm, 0x1000, &table[0]);
	int line = __LINE__ + 1;
	ptxn_modify_prot_commit(&mm, 0x9000, &table[0], old, old);
	expect_one(PTXN_VIOLATION_COMMIT_OTHER_ENTRY, line, "virtual address differs",
		   "same addr");
	ck_assert_uint_eq(seen[0].expected, 0x1000);
	ck_assert_uint_eq(seen[0].actual, 0x9000);
}
END_TEST

START_TEST(old_pte_not_from_start)
{
	ptxn_pte_t old = ptxn_modify_prot_start(&mm, 0x1000, &table[0]);
	ptxn_pte_t bogus = ptxn_pte_wrprotect(old);
	int line;

	line = __LINE__ + 1;
	ptxn_modify_prot_commit(&mm, 0x1000, &table[0], bogus, bogus);
	expect_one(PTXN_VIOLATION_OLD_PTE_MISMATCH, line, "not the value",
		   "pass exactly the ptxn_pte_t that start returned");
	ck_assert_uint_eq(seen[0].expected, old.storage);
	ck_assert_uint_eq(seen[0].actual, bogus.storage);
}
END_TEST

START_TEST(strategy_changed_inside)
{
	ptxn_pte_t old;
	int line;

	ck_assert(ptxn_mm_set_strategy(&mm, PTXN_STRATEGY_MERGE));
	old = ptxn_modify_prot_start(&mm, 0x1000, &table[0]);
	ck_assert(ptxn_mm_set_strategy(&mm, PTXN_STRATEGY_CLEAR));
	line = __LINE__ + 1;
	ptxn_modify_prot_commit(&mm, 0x1000, &table[0], old, old);
	expect_one(PTXN_VIOLATION_STRATEGY_CHANGED, line, "strategy changed",
		   "only when no transaction is open");
}
END_TEST

START_TEST(too_many_open)
{
	int i, line;

	for (i = 0; i < PTXN_DEBUG_MAX_OPEN; i++)
		(void)ptxn_modify_prot_start(&mm, 0x1000u * (unsigned)i, &table[i]);
	ck_assert_int_eq(nseen, 0);
	line = __LINE__ + 1;
	(void)ptxn_modify_prot_start(&mm, 0x1000u * (unsigned)i, &table[i]);
	expect_one(PTXN_VIOLATION_TOO_MANY_OPEN, line, "more transactions open",
		   "commit each transaction");
}
END_TEST

START_TEST(batch_of_zero)
{
	int line = __LINE__ + 1;
	(void)ptxn_modify_prot_start_ptes(&mm, 0x1000, &table[0], 0);
	expect_one(PTXN_VIOLATION_BATCH_SIZE, line, "nr = 0", "at least 1");
}
END_TEST

START_TEST(batch_size_changed)
{
	ptxn_pte_t old = ptxn_modify_prot_start_ptes(&mm, 0x1000, &table[0], 4);
	int line = __LINE__ + 1;
	ptxn_modify_prot_commit_ptes(&mm, 0x1000, &table[0], old, old, 3);
	expect_one(PTXN_VIOLATION_BATCH_SIZE, line, "nr differs", "same nr");
}
END_TEST

START_TEST(null_slot)
{
	int line = __LINE__ + 1;
	(void)ptxn_modify_prot_start(&mm, 0x1000, NULL);
	expect_one(PTXN_VIOLATION_BAD_SLOT, line, "NULL", "address of the entry");
}
END_TEST

START_TEST(misaligned_slot)
{
	ptxn_pte_t *odd = (ptxn_pte_t *)((char *)&table[2] + 4);
	int line = __LINE__ + 1;
	(void)ptxn_modify_prot_start(&mm, 0x1000, odd);
	expect_one(PTXN_VIOLATION_BAD_SLOT, line, "not 8-byte aligned", "aligned table");
	/* Nothing was touched through the bad pointer. */
	ck_assert(ptxn_pte_present(ptxn_ptep_get(&table[2])));
	ck_assert(ptxn_pte_present(ptxn_ptep_get(&table[3])));
}
END_TEST

START_TEST(lazy_leave_without_enter)
{
	int line = __LINE__ + 1;
	ptxn_lazy_mmu_leave(&mm);
	expect_one(PTXN_VIOLATION_LAZY_LEAVE_WITHOUT_ENTER, line, "without ptxn_lazy_mmu_enter",
		   "pair each leave");
	ck_assert(!ptxn_lazy_mmu_active(&mm));
}
END_TEST

START_TEST(lazy_nesting)
{
	int line;

	ptxn_lazy_mmu_enter(&mm);
	line = __LINE__ + 1;
	ptxn_lazy_mmu_enter(&mm);
	expect_one(PTXN_VIOLATION_LAZY_NESTING, line, "already in lazy MMU mode",
		   "does not nest");
}
END_TEST

#ifdef TEST_COMPILE_TIME_HOOK
/* A frame beyond the format's address field would be silently truncated. */
static struct ptxn_violation global_seen;
static int global_nseen;

static void global_capture(const struct ptxn_violation *v)
{
	global_seen = *v;
	global_nseen++;
}

START_TEST(pfn_out_of_range)
{
	/* ptxn_pfn_pte has no mm: it reports through PTXN_DEFAULT_VIOLATION_HOOK. */
	global_nseen = 0;
	(void)ptxn_pfn_pte(PTXN_PFN_MAX + 1, ptxn_prot(PTXN_PROT_READ));
	ck_assert_int_eq(global_nseen, 1);
	ck_assert_int_eq(global_seen.kind, PTXN_VIOLATION_BAD_PFN);
	ck_assert_ptr_nonnull(strstr(global_seen.what, "truncated"));
	ck_assert_uint_eq(global_seen.actual, PTXN_PFN_MAX + 1);
	global_nseen = 0;
	(void)ptxn_pfn_pte(PTXN_PFN_MAX, ptxn_prot(PTXN_PROT_READ));
	ck_assert_int_eq(global_nseen, 0);
}
END_TEST

/* With no mm hook, an mm violation goes to the compile-time default too. */
START_TEST(compile_time_hook_catches_mm_violations)
{
	ptxn_pte_t pte = ptxn_ptep_get(&table[0]);

	ptxn_mm_set_violation_hook(&mm, NULL);
	global_nseen = 0;
	ptxn_modify_prot_commit(&mm, 0x1000, &table[0], pte, pte);
	ck_assert_int_eq(global_nseen, 1);
	ck_assert_int_eq(global_seen.kind, PTXN_VIOLATION_COMMIT_WITHOUT_START);
}
END_TEST
#endif

/*
 * A change that needs a TLB flush inside the transaction, with no flush hook: ARM64
 * break-before-make (new output address), PowerPC with a coprocessor (access upgrade).
 * x86 and RISC-V never need one: the test checks that nothing is reported there.
 */
START_TEST(flush_needed_without_hook)
{
	ptxn_pte_t old = ptxn_modify_prot_start(&mm, 0x1000, &table[0]);
	ptxn_pte_t next;

#if defined(PTXN_FORMAT_ARM64)
	next = ptxn_pte_advance_pfn(old, 7);
#elif defined(PTXN_FORMAT_POWERPC)
	ptxn_mm_set_flags(&mm, PTXN_MM_COPROCESSOR);
	next = ptxn_pte_modify(old, ptxn_prot(PTXN_PROT_READ | PTXN_PROT_WRITE | PTXN_PROT_EXEC |
					       PTXN_PROT_USER));
#else
	next = ptxn_pte_advance_pfn(old, 7);
#endif
	ptxn_modify_prot_commit(&mm, 0x1000, &table[0], old, next);
#if defined(PTXN_FORMAT_X86) || defined(PTXN_FORMAT_RISCV)
	ck_assert_int_eq(nseen, 0); /* no break-before-make on either (RISC-V: 4.2.1) */
#else
	expect_one(PTXN_VIOLATION_NO_TLB_FLUSH_HOOK, 0, "needs a TLB invalidation",
		   "ptxn_mm_set_flush_tlb_range");
#endif
	/* The change itself was still made. */
	ck_assert(ptxn_pte_same(ptxn_ptep_get(&table[0]), next));
}
END_TEST

#if defined(PTXN_FORMAT_ARM64)
static void counting_flush(ptxn_mm_t *m, uintptr_t start, uintptr_t end)
{
	(void)m, (void)start, (void)end;
}

/*
 * Asking for a contiguous block (CONT) on part of one: a single entry, or a batch that is
 * not whole aligned blocks. Reported, and installed without CONT (never a mixed block).
 * Folding a whole aligned block is correct use and reports nothing.
 */
START_TEST(contiguous_on_part_of_a_block)
{
	ptxn_pte_t old, next;
	unsigned i;

	ptxn_mm_set_flush_tlb_range(&mm, counting_flush, NULL);
	old = ptxn_modify_prot_start(&mm, 0x1000, &table[1]);
	next = ptxn_make_pte(ptxn_pte_val(old) | PTXN_ARM64_CONT);
	ptxn_modify_prot_commit(&mm, 0x1000, &table[1], old, next);
	expect_one(PTXN_VIOLATION_CONT_PARTIAL, __LINE__ - 1, "part of one", "whole aligned blocks");
	ck_assert(!(ptxn_pte_val(ptxn_ptep_get(&table[1])) & PTXN_ARM64_CONT));

	nseen = 0;
	old = ptxn_modify_prot_start_ptes(&mm, 0x4000, &table[4], 8);
	next = ptxn_make_pte(ptxn_pte_val(old) | PTXN_ARM64_CONT);
	ptxn_modify_prot_commit_ptes(&mm, 0x4000, &table[4], old, next, 8);
	expect_one(PTXN_VIOLATION_CONT_PARTIAL, __LINE__ - 1, "part of one", "whole aligned blocks");

	nseen = 0;
	for (i = 0; i < 16; i++) /* one folio of 16 frames for the whole block */
		ptxn_set_pte(&table[i], ptxn_pfn_pte(0x100 + i, ptxn_prot(PTXN_PROT_READ |
									   PTXN_PROT_USER)));
	old = ptxn_modify_prot_start_ptes(&mm, 0, &table[0], 16);
	next = ptxn_make_pte(ptxn_pte_val(old) | PTXN_ARM64_CONT);
	ptxn_modify_prot_commit_ptes(&mm, 0, &table[0], old, next, 16);
	ck_assert_int_eq(nseen, 0);
	for (i = 0; i < 16; i++)
		ck_assert(ptxn_pte_val(ptxn_ptep_get(&table[i])) & PTXN_ARM64_CONT);
}
END_TEST
#endif

#ifndef TEST_COMPILE_TIME_HOOK
/* The built-in default (no hook anywhere) prints and aborts: run in a forked child. */
START_TEST(default_hook_aborts)
{
	ptxn_pte_t pte;

	ptxn_mm_set_violation_hook(&mm, NULL);
	pte = ptxn_ptep_get(&table[0]);
	ptxn_modify_prot_commit(&mm, 0x1000, &table[0], pte, pte);
}
END_TEST
#endif

static Suite *contracts_suite(void)
{
	Suite *s = suite_create("contracts-" PTXN_FORMAT_NAME);
	TCase *tc = tcase_create("violations");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, correct_use_reports_nothing);
	tcase_add_test(tc, start_without_commit);
	tcase_add_test(tc, commit_without_start);
	tcase_add_test(tc, second_start_same_entry);
	tcase_add_test(tc, second_start_overlapping_batch);
	tcase_add_test(tc, commit_to_other_entry);
	tcase_add_test(tc, commit_other_address);
	tcase_add_test(tc, old_pte_not_from_start);
	tcase_add_test(tc, strategy_changed_inside);
	tcase_add_test(tc, too_many_open);
	tcase_add_test(tc, batch_of_zero);
	tcase_add_test(tc, batch_size_changed);
	tcase_add_test(tc, null_slot);
	tcase_add_test(tc, misaligned_slot);
	tcase_add_test(tc, lazy_leave_without_enter);
	tcase_add_test(tc, lazy_nesting);
	tcase_add_test(tc, flush_needed_without_hook);
#if defined(PTXN_FORMAT_ARM64)
	tcase_add_test(tc, contiguous_on_part_of_a_block);
#endif
#ifdef TEST_COMPILE_TIME_HOOK
	tcase_add_test(tc, pfn_out_of_range);
	tcase_add_test(tc, compile_time_hook_catches_mm_violations);
#else
	/* Aborting is only testable in a forked child (Check's default; not with CK_FORK=no). */
	if (!getenv("CK_FORK") || strcmp(getenv("CK_FORK"), "no") != 0)
		tcase_add_test_raise_signal(tc, default_hook_aborts, SIGABRT);
#endif
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return ptxn_test_run(contracts_suite());
}
