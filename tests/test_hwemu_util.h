/* SPDX-License-Identifier: MIT */
/*
 * tests/test_hwemu_util.h - helpers shared by the hwemu tests (tests/test_hwemu_*.c):
 * a machine with pages mapped, an agent with a fixed setup (sizes, seeds and the runner come
 * from ptxn_test.h, the one harness header).
 * Every test program is compiled once per entry format (-DPTXN_FORMAT_*).
 */
#ifndef PTXN_TESTS_TEST_HWEMU_UTIL_H
#define PTXN_TESTS_TEST_HWEMU_UTIL_H

#include <check.h>
#include <errno.h>
#include <ptxn/hwemu.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "case_log.h"
#include "ptxn_test.h"

#define HW_VA UINT64_C(0x40000000) /* 1 GiB: 2 MiB aligned, below 4 GiB for i686 hosts */

static inline double hw_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The MMU mode that lets the hardware set A/D itself on this format. */
static inline unsigned hw_default_flags(void)
{
#if defined(PTXN_FORMAT_ARM64)
	return PTXN_MMU_ARM64_HA | PTXN_MMU_ARM64_HD;
#else
	return 0;
#endif
}

/* A machine with `pages` 4 KiB pages mapped at HW_VA with prot (portable flags). */
static inline struct ptxn_hwemu *hw_machine(unsigned mmu_flags, uint64_t pages, unsigned prot)
{
	struct ptxn_hwemu_config cfg;
	struct ptxn_hwemu *hw;

	memset(&cfg, 0, sizeof(cfg));
	cfg.mmu_flags = mmu_flags;
	cfg.table_pages = 64;
	hw = ptxn_hwemu_create(&cfg);
	ck_assert_ptr_nonnull(hw);
	if (pages)
		ck_assert_uint_ne(ptxn_hwemu_map(hw, HW_VA, pages, ptxn_prot(prot), 0), 0);
	return hw;
}

/* An agent that reports raw faults (no software resolution, no retries). */
static inline struct ptxn_hwemu_agent *hw_raw_agent(struct ptxn_hwemu *hw, unsigned flags)
{
	struct ptxn_hwemu_agent_config cfg;
	struct ptxn_hwemu_agent *a;

	memset(&cfg, 0, sizeof(cfg));
	cfg.flags = PTXN_HWEMU_AGENT_NO_RESOLVE | flags;
	a = ptxn_hwemu_agent_create(hw, &cfg);
	ck_assert_ptr_nonnull(a);
	return a;
}

static inline ptxn_pteval_t hw_val(const ptxn_pte_t *slot)
{
	return ptxn_pte_val(ptxn_ptep_get(slot));
}

static inline ptxn_pte_t *hw_leaf(struct ptxn_hwemu *hw, uint64_t va)
{
	ptxn_pte_t *slot = ptxn_hwemu_lookup(hw, va, NULL);

	ck_assert_ptr_nonnull(slot);
	return slot;
}

/* One transaction through the real API: new entry = f(old), logged for the checker. */
typedef ptxn_pte_t (*hw_change_fn)(ptxn_pte_t old, void *arg);

static inline void hw_txn(struct ptxn_hwemu *hw, ptxn_mm_t *mm, uint64_t va, unsigned nr,
			  hw_change_fn change, void *arg, bool flush)
{
	struct ptxn_hwemu_txn t;
	ptxn_pte_t *slot = hw_leaf(hw, va);
	ptxn_pte_t old = ptxn_hwemu_txn_start(hw, mm, va, slot, nr, &t);

	ptxn_hwemu_txn_commit(hw, mm, va, slot, old, change(old, arg), &t);
	ptxn_hwemu_txn_end(hw, mm, &t, flush);
}

static inline ptxn_pte_t hw_to_prot(ptxn_pte_t old, void *arg)
{
	return ptxn_pte_modify(old, ptxn_prot(*(const unsigned *)arg));
}

#endif /* PTXN_TESTS_TEST_HWEMU_UTIL_H */
