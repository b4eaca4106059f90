// SPDX-License-Identifier: MIT
/*
 * tests/sanitize/sanitize_bites.c - deliberately broken uses of ptxn that the sanitizer
 * rows of ./matrix (--sanitize) MUST report, and one correct twin that TSan must not.
 * A sanitizer that is switched off, misconfigured (e.g. TSan blind to the slot accesses
 * because they are inline asm) or whose report does not fail a Check test case would let
 * real findings scroll by unseen; these cases fail the run if that ever happens.
 *
 * Built and registered only in sanitizer builds (tests/sanitize/meson.build); each case is
 * run by expect_report.py, which checks the exit status and the sanitizer's report text.
 * The cases go through Check's fork mode like every real test, so this also proves that a
 * report inside a forked test case fails the program.
 *
 * usage: sanitize_bites CASE   (race | txn | overflow | misaligned)
 */
#include <ptxn/ptxn.h>

#include <check.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../ptxn_test.h"

#define BITES_ROUNDS 20000
#define BITES_VA 0x40000000u

static ptxn_pte_t bites_slot;
static int bites_stop;
static unsigned long bites_updates; /* the MMU's progress, read relaxed: no happens-before */

/* The "hardware": keeps setting Accessed with the same atomic update an MMU makes. */
static void *bites_mmu(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&bites_stop, __ATOMIC_RELAXED)) {
		ptxn_ptep_mark_accessed(&bites_slot, false);
		__atomic_fetch_add(&bites_updates, 1, __ATOMIC_RELAXED);
	}
	return NULL;
}

/* The bug ptxn exists to prevent, in its plainest form: a non-atomic read-modify-write of
 * a live entry. Between the load and the store the MMU's Accessed update is lost; to TSan
 * it is a data race between a plain access and the MMU's atomic one. */
static void bites_unsafe_rmw(ptxn_pte_t *slot)
{
	ptxn_pte_t v = *slot;

	*slot = ptxn_pte_mkold(v);
}

/* The same change made correctly, through a transaction. */
static void bites_txn(ptxn_mm_t *mm, ptxn_pte_t *slot)
{
	ptxn_pte_t old = ptxn_modify_prot_start(mm, BITES_VA, slot);

	ptxn_modify_prot_commit(mm, BITES_VA, slot, old, ptxn_pte_mkold(old));
}

static void bites_race(int safe)
{
	pthread_t mmu;
	ptxn_mm_t mm;
	int i;

	ptxn_mm_init(&mm);
	ptxn_set_pte(&bites_slot, ptxn_pfn_pte(0x1234, ptxn_prot(PTXN_PROT_READ | PTXN_PROT_WRITE)));
	__atomic_store_n(&bites_stop, 0, __ATOMIC_RELAXED);
	ck_assert_int_eq(pthread_create(&mmu, NULL, bites_mmu, NULL), 0);
	/* Go on until the MMU thread has really run alongside: on a loaded machine it may not
	 * be scheduled before a fixed number of rounds is over, and then nothing overlaps.
	 * Only relaxed atomics link the two threads, so TSan sees no ordering between the
	 * software side's accesses and the MMU's. */
	for (i = 0; i < BITES_ROUNDS ||
		    __atomic_load_n(&bites_updates, __ATOMIC_RELAXED) < BITES_ROUNDS / 10; i++) {
		if (safe)
			bites_txn(&mm, &bites_slot);
		else
			bites_unsafe_rmw(&bites_slot);
	}
	__atomic_store_n(&bites_stop, 1, __ATOMIC_RELAXED);
	ck_assert_int_eq(pthread_join(mmu, NULL), 0);
	ck_assert_uint_eq(ptxn_pte_pfn(ptxn_ptep_get(&bites_slot)), 0x1234);
}

START_TEST(race)
{
	bites_race(0); /* TSan: "data race" in bites_unsafe_rmw */
}
END_TEST

START_TEST(txn)
{
	bites_race(1); /* TSan: nothing to report */
}
END_TEST

START_TEST(overflow)
{
	/* A table of 512 entries and a walk that goes one entry too far: ASan,
	 * "heap-buffer-overflow". */
	ptxn_pte_t *table = (ptxn_pte_t *)calloc(512, sizeof(*table));
	volatile size_t n = 512;
	ptxn_pte_t pte;

	ck_assert_ptr_nonnull(table);
	pte = ptxn_ptep_get(table + n);
	free(table);
	ck_assert(!ptxn_pte_present(pte) || ptxn_pte_present(pte)); /* keeps the load */
}
END_TEST

START_TEST(misaligned)
{
	/* A slot pointer that is not 8-byte aligned (a table mapped at a wrong offset): UBSan,
	 * "misaligned address". */
	static uint64_t buf[4];
	volatile size_t off = 4;
	ptxn_pte_t *slot = (ptxn_pte_t *)(void *)((char *)buf + off);
	ptxn_pte_t pte = ptxn_ptep_get(slot);

	ck_assert(!ptxn_pte_present(pte) || ptxn_pte_present(pte));
}
END_TEST

int main(int argc, char **argv)
{
	const char *name = argc == 2 ? argv[1] : "";
	Suite *s = suite_create("sanitize_bites");
	TCase *tc = tcase_create("bites");

	if (strcmp(name, "race") == 0)
		tcase_add_test(tc, race);
	else if (strcmp(name, "txn") == 0)
		tcase_add_test(tc, txn);
	else if (strcmp(name, "overflow") == 0)
		tcase_add_test(tc, overflow);
	else if (strcmp(name, "misaligned") == 0)
		tcase_add_test(tc, misaligned);
	else {
		fprintf(stderr, "usage: %s race|txn|overflow|misaligned\n", argv[0]);
		return 2;
	}
	suite_add_tcase(s, tc);
	return ptxn_test_run(s);
}
