// SPDX-License-Identifier: MIT
/*
 * hwemu rule tests: the ARM64 rules (tests/test_hwemu_rules.c has the rules every
 * format shares, the suite and main; docs/hwemu.md names the manual section of every
 * rule). Linked only into the PTXN_FORMAT_ARM64 program (tests/meson.build).
 */
#include "test_hwemu_rules.h"

#if !defined(PTXN_FORMAT_ARM64)
#error "tests/test_hwemu_rules_arm64.c is built for PTXN_FORMAT_ARM64 only"
#endif

/* ================================== ARM64 ===================================== */

/*
 * The four TCR_EL1.{HA,HD} combinations: AF by hardware only with HA, dirty (AP[2]
 * cleared) only with HA and HD on a DBM=1 entry; otherwise Access-flag or permission
 * faults, which a fault handler resolves with ptxn_ptep_mark_accessed.
 */
START_TEST(test_arm64_ha_hd_combinations)
{
	unsigned combo;

	for (combo = 0; combo < 4; combo++) {
		bool ha = combo & 1, hd = combo & 2;
		unsigned flags = (ha ? PTXN_MMU_ARM64_HA : 0) | (hd ? PTXN_MMU_ARM64_HD : 0);
		struct ptxn_hwemu *hw = hw_machine(flags, 1, R | W | U);
		struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
		ptxn_pte_t *leaf = hw_leaf(hw, HW_VA);
		ptxn_pteval_t v0 = hw_val(leaf);
		struct ptxn_hwemu_report r;
		struct ptxn_mmu_walk w;

		ck_assert(v0 & PTXN_ARM64_DBM);
		ck_assert(v0 & PTXN_ARM64_RDONLY); /* writable-clean */
		ck_assert(!(v0 & PTXN_ARM64_AF));
		ptxn_hwemu_check_begin(hw);
		if (ha) {
			ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, NULL),
					  PTXN_MMU_OK);
			ck_assert_uint_eq(hw_val(leaf), v0 | PTXN_ARM64_AF);
		} else {
			ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, &w),
					  PTXN_MMU_FAULT_ACCESS_FLAG);
			ck_assert_uint_eq(hw_val(leaf), v0);
			ck_assert(ptxn_hwemu_resolve(a, w.leaf, HW_VA, w.level, false));
			ck_assert_uint_eq(hw_val(leaf), v0 | PTXN_ARM64_AF);
			ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, NULL),
					  PTXN_MMU_OK);
		}
		if (ha && hd) {
			ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL),
					  PTXN_MMU_OK);
		} else {
			ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, &w),
					  PTXN_MMU_FAULT_DIRTY);
			ck_assert_uint_eq(hw_val(leaf), v0 | PTXN_ARM64_AF);
			ck_assert(ptxn_hwemu_resolve(a, w.leaf, HW_VA, w.level, true));
			ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL),
					  PTXN_MMU_OK);
		}
		ck_assert_uint_eq(hw_val(leaf), (v0 | PTXN_ARM64_AF) & ~PTXN_ARM64_RDONLY);
		ck_assert(ptxn_pte_dirty(ptxn_ptep_get(leaf)));
		ck_assert(ptxn_hwemu_check(hw, &r));
		/* Two updates (AF, dirty) in every mode; what differs is who made them. */
		ck_assert_uint_eq(r.hw_updates + r.sw_updates, 2);
		ck_assert_uint_eq(r.sw_updates, ha && hd ? 0 : ha ? 1 : 2);
		ptxn_hwemu_destroy(hw);
	}
}
END_TEST

/* A permission fault sets nothing: with HA=1, HD=0 a write to a fresh clean entry leaves AF=0. */
START_TEST(test_arm64_no_update_on_fault)
{
	struct ptxn_hwemu *hw = hw_machine(PTXN_MMU_ARM64_HA, 2, R | W | U);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
	ptxn_pte_t *leaf = hw_leaf(hw, HW_VA);
	ptxn_pteval_t v0 = hw_val(leaf);

	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL),
			  PTXN_MMU_FAULT_DIRTY);
	ck_assert_uint_eq(hw_val(leaf), v0);
	/* Invalid entry: translation fault, no update. */
	ptxn_pte_clear(leaf);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, NULL),
			  PTXN_MMU_FAULT_NOT_PRESENT);
	ck_assert_uint_eq(hw_val(leaf), 0);
	/* EL0 has no access to a kernel page: permission fault, AF stays clear. */
	ck_assert_uint_ne(ptxn_hwemu_map(hw, HW_VA + 0x10000, 1, ptxn_prot(R | W), 0), 0);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA + 0x10000, PTXN_MMU_READ, true, NULL),
			  PTXN_MMU_FAULT_USER);
	ck_assert(!(hw_val(hw_leaf(hw, HW_VA + 0x10000)) & PTXN_ARM64_AF));
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA + 0x10000, PTXN_MMU_EXEC, false, NULL),
			  PTXN_MMU_FAULT_EXEC);
	ptxn_hwemu_destroy(hw);
}
END_TEST

/* DBM=0 (read-only): no dirty update even with HA+HD; a permission fault. */
START_TEST(test_arm64_readonly_dbm0)
{
	struct ptxn_hwemu *hw = hw_machine(PTXN_MMU_ARM64_HA | PTXN_MMU_ARM64_HD, 1, R | U);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
	ptxn_pte_t *leaf = hw_leaf(hw, HW_VA);
	ptxn_pteval_t v0 = hw_val(leaf);

	ck_assert(!(v0 & PTXN_ARM64_DBM));
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL),
			  PTXN_MMU_FAULT_WRITE);
	ck_assert_uint_eq(hw_val(leaf), v0);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, NULL), PTXN_MMU_OK);
	ck_assert_uint_eq(hw_val(leaf), v0 | PTXN_ARM64_AF);
	ptxn_hwemu_destroy(hw);
}
END_TEST

/*
 * The dirty update acts on the descriptor as it is in memory: a clean writable cached
 * translation cannot dirty an entry software has since made read-only (DBM=0).
 */
START_TEST(test_arm64_dirty_update_in_memory)
{
	struct ptxn_hwemu *hw = hw_machine(PTXN_MMU_ARM64_HA | PTXN_MMU_ARM64_HD, 1, R | W | U);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
	ptxn_pte_t *leaf = hw_leaf(hw, HW_VA);
	struct ptxn_hwemu_report r;
	ptxn_mm_t mm;

	ptxn_mm_init(&mm);
	ptxn_hwemu_attach_mm(hw, &mm);
	ptxn_hwemu_check_begin(hw);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, NULL), PTXN_MMU_OK);
	hw_txn(hw, &mm, HW_VA, 1, mk_wrprotect, NULL, false); /* not flushed */
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL),
			  PTXN_MMU_FAULT_WRITE);
	ck_assert(!ptxn_pte_dirty(ptxn_ptep_get(leaf)));
	ck_assert(ptxn_hwemu_check(hw, &r));
	ptxn_hwemu_destroy(hw);
}
END_TEST

/* A 2 MiB block descriptor (bits[1:0] = 0b01 at level 2) gets AF and AP[2] cleared. */
START_TEST(test_arm64_block_descriptor)
{
	struct ptxn_hwemu *hw = hw_machine(PTXN_MMU_ARM64_HA | PTXN_MMU_ARM64_HD, 0, 0);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
	unsigned level = 9;
	ptxn_pte_t *leaf;

	ck_assert_uint_ne(ptxn_hwemu_map(hw, HW_VA, 512, ptxn_prot(R | W | U), PTXN_HWEMU_MAP_LARGE), 0);
	leaf = ptxn_hwemu_lookup(hw, HW_VA, &level);
	ck_assert_uint_eq(level, 1);
	ck_assert_uint_eq(hw_val(leaf) & 3, 1);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA + 0x100000, PTXN_MMU_WRITE, true, NULL),
			  PTXN_MMU_OK);
	ck_assert(hw_val(leaf) & PTXN_ARM64_AF);
	ck_assert(!(hw_val(leaf) & PTXN_ARM64_RDONLY));
	/* The table descriptors above have no AF (no FEAT_HAFT) and are not written. */
	ck_assert_uint_eq(ptxn_pte_val(upper(hw, HW_VA, 2)) & ~PTXN_ARM64_OA_MASK, 3);
	ptxn_hwemu_destroy(hw);
}
END_TEST

/* Hierarchical APTable[1]: a table descriptor can forbid writes below it, DBM or not. */
START_TEST(test_arm64_aptable)
{
	struct ptxn_hwemu *hw = hw_machine(PTXN_MMU_ARM64_HA | PTXN_MMU_ARM64_HD, 1, R | W | U);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
	ptxn_pte_t *pmd = ptxn_hwemu_as_slot(&hw->as, HW_VA, 1, false);

	ptxn_set_pte(pmd, ptxn_make_pte(hw_val(pmd) | PTXN_ARM64_APTABLE_RO));
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL),
			  PTXN_MMU_FAULT_WRITE);
	ck_assert(!ptxn_pte_dirty(ptxn_ptep_get(hw_leaf(hw, HW_VA))));
	ptxn_hwemu_destroy(hw);
}
END_TEST

/*
 * Cortex-A715 erratum 2645198 (issue 17): with PTXN_MM_ERRATUM_ARM64_2645198, start breaks
 * and flushes every valid entry executable at EL0 (UXN=0), as Linux's
 * ptep_modify_prot_start does for pte_user_exec(). Linux's PAGE_EXECONLY entry (VALID, AF,
 * RDONLY, nG, PXN; no AP[1], UXN=0) is one, although it is not a "user" entry by AP[1]:
 * an access between start and commit faults, and the flush comes before the commit. An
 * entry with UXN=1 is changed in place, without a flush.
 */
START_TEST(test_arm64_erratum_2645198_exec_only)
{
	const uint64_t exec_only = PTXN_ARM64_VALID | PTXN_ARM64_TYPE_PAGE | PTXN_ARM64_SH_INNER |
				   PTXN_ARM64_AF | PTXN_ARM64_RDONLY | PTXN_ARM64_NG |
				   PTXN_ARM64_PXN; /* Linux PROT_EXEC-only: PAGE_EXECONLY */
	const uint64_t kernel_ro = PTXN_ARM64_VALID | PTXN_ARM64_TYPE_PAGE | PTXN_ARM64_SH_INNER |
				   PTXN_ARM64_AF | PTXN_ARM64_RDONLY | PTXN_ARM64_UXN;
	int k;

	for (k = 0; k < 2; k++) {
		uint64_t prot = k == 0 ? exec_only : kernel_ro;
		struct ptxn_hwemu *hw = hw_machine(PTXN_MMU_ARM64_HA | PTXN_MMU_ARM64_HD, 0, 0);
		struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
		struct ptxn_hwemu_txn t;
		struct ptxn_hwemu_report r;
		ptxn_pte_t *leaf, old, pte;
		uint64_t pa;
		ptxn_mm_t mm;

		pa = ptxn_hwemu_map(hw, HW_VA, 1, ptxn_make_prot(prot), 0);
		ck_assert_uint_ne(pa, 0);
		leaf = hw_leaf(hw, HW_VA);
		ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_EXEC, true, NULL),
				  k == 0 ? PTXN_MMU_OK : PTXN_MMU_FAULT_EXEC);
		ptxn_mm_init(&mm);
		ptxn_hwemu_attach_mm(hw, &mm);
		ptxn_mm_set_flags(&mm, PTXN_MM_ERRATUM_ARM64_2645198);
		ptxn_hwemu_check_begin(hw);
		old = ptxn_hwemu_txn_start(hw, &mm, HW_VA, leaf, 1, &t);
		ck_assert_uint_eq(ptxn_pte_val(old), ptxn_arch_pfn_pte(pa >> PTXN_PAGE_SHIFT, prot));
		if (k == 0) {
			/* broken and flushed at start: EL0 fetches fault until the commit */
			ck_assert_uint_eq(hw->flushes, 1);
			ck_assert(!ptxn_pte_hw_valid(ptxn_ptep_get(leaf)));
			ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_EXEC, true, NULL),
					  PTXN_MMU_FAULT_NOT_PRESENT);
		} else {
			ck_assert_uint_eq(hw->flushes, 0);
			ck_assert_uint_eq(ptxn_pte_val(ptxn_ptep_get(leaf)), ptxn_pte_val(old));
		}
		pte = ptxn_make_pte(ptxn_pte_val(old) | PTXN_ARM64_UXN); /* no longer executable */
		ptxn_hwemu_txn_commit(hw, &mm, HW_VA, leaf, old, pte, &t);
		ptxn_hwemu_txn_end(hw, &mm, &t, true);
		ck_assert_uint_eq(hw->flushes, k == 0 ? 2 : 1); /* + the caller's own flush */
		ck_assert_uint_eq(ptxn_pte_val(ptxn_ptep_get(leaf)), ptxn_pte_val(pte));
		ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_EXEC, true, NULL),
				  PTXN_MMU_FAULT_EXEC);
		ck_assert(ptxn_hwemu_check(hw, &r));
		ptxn_hwemu_destroy(hw);
	}
}
END_TEST

/*
 * Contiguous blocks (issue 17; Arm ARM "The Contiguous bit", Linux contpte). A live block
 * of 16 CONT entries must never be mixed: an access through a misprogrammed set is a TLB
 * conflict abort, which the ARM64 walker reports. ptxn unfolds a block before changing
 * part of it (every member broken, one flush, every member back without CONT) and folds
 * only whole aligned blocks. Every strategy, on one entry, on half a block, and on the
 * whole block kept contiguous; accesses to all 16 pages before, during and after.
 */
#define CONT_VA (HW_VA + 0x10000)           /* 64 KiB aligned */
#define CONT_OA UINT64_C(0x80000000)        /* 64 KiB aligned output range */

static ptxn_pte_t *cont_block(struct ptxn_hwemu *hw, unsigned prot)
{
	ptxn_pte_t *leaf;
	unsigned k;

	ck_assert_uint_ne(ptxn_hwemu_map(hw, CONT_VA, 16, ptxn_prot(prot), 0), 0);
	leaf = hw_leaf(hw, CONT_VA);
	for (k = 0; k < 16; k++)
		ptxn_set_pte(leaf + k, ptxn_make_pte(ptxn_arch_pfn_pte((CONT_OA >> 12) + k,
								   ptxn_prot(prot).bits) |
						   PTXN_ARM64_CONT));
	return leaf;
}

static void touch_block(struct ptxn_hwemu_agent *a, bool write)
{
	unsigned k;

	for (k = 0; k < 16; k++) {
		unsigned f = ptxn_hwemu_access_once(a, CONT_VA + k * 4096,
						    write ? PTXN_MMU_WRITE : PTXN_MMU_READ, true, NULL);

		ck_assert_msg(f != PTXN_MMU_FAULT_CONFLICT, "page %u: TLB conflict abort", k);
	}
}

START_TEST(test_arm64_contiguous_blocks)
{
	static const struct {
		const char *what;
		unsigned first, nr;
		bool batched, fold;
	} cases[] = {
		{"one entry", 5, 1, false, false},
		{"half a block", 4, 8, true, false},
		{"the whole block, kept contiguous", 0, 16, true, true},
	};
	unsigned strategy, c, k;

	for (strategy = 0; strategy < PTXN_STRATEGY_COUNT; strategy++)
		for (c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
			struct ptxn_hwemu *hw = hw_machine(PTXN_MMU_ARM64_HA | PTXN_MMU_ARM64_HD, 0, 0);
			struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
			ptxn_pte_t *leaf = cont_block(hw, R | W | U), old, pte;
			uint64_t va = CONT_VA + cases[c].first * 4096;
			struct ptxn_hwemu_report r;
			struct ptxn_hwemu_txn t;
			ptxn_mm_t mm;

			ptxn_mm_init(&mm);
			ck_assert(ptxn_mm_set_strategy(&mm, (enum ptxn_strategy)strategy));
			ptxn_hwemu_attach_mm(hw, &mm);
			ptxn_hwemu_check_begin(hw);
			touch_block(a, true); /* every member young and dirty */
			old = ptxn_hwemu_txn_start(hw, &mm, va, leaf + cases[c].first, cases[c].nr, &t);
			touch_block(a, false);
			pte = ptxn_pte_modify(old, ptxn_prot(R | U));
			if (cases[c].fold)
				pte = ptxn_make_pte(ptxn_pte_val(pte) | PTXN_ARM64_CONT);
			ptxn_hwemu_txn_commit(hw, &mm, va, leaf + cases[c].first, old, pte, &t);
			touch_block(a, false);
			ptxn_hwemu_txn_end(hw, &mm, &t, true);
			touch_block(a, false);
			for (k = 0; k < 16; k++) {
				ptxn_pteval_t v = hw_val(leaf + k);
				bool mine = k >= cases[c].first && k < cases[c].first + cases[c].nr;

				ck_assert_msg(ptxn_pte_write(ptxn_make_pte(v)) == !mine,
					      "%s, %s: page %u 0x%016llx",
					      ptxn_strategy_name((enum ptxn_strategy)strategy),
					      cases[c].what, k, (unsigned long long)v);
				ck_assert_msg(!(v & PTXN_ARM64_CONT) == !cases[c].fold,
					      "%s, %s: page %u CONT: 0x%016llx",
					      ptxn_strategy_name((enum ptxn_strategy)strategy),
					      cases[c].what, k, (unsigned long long)v);
				ck_assert(ptxn_pte_young(ptxn_make_pte(v)) &&
					  ptxn_pte_dirty(ptxn_make_pte(v)));
			}
			ck_assert_msg(ptxn_hwemu_check(hw, &r), "%s, %s: checker",
				      ptxn_strategy_name((enum ptxn_strategy)strategy), cases[c].what);
			ck_assert_uint_eq(r.conflicts, 0);
			ptxn_hwemu_destroy(hw);
		}
}
END_TEST

/* The negative control: one member changed in place leaves the block mixed, and the
 * walker reports the TLB conflict abort that the hardware may raise (so the test above
 * can fail). */
START_TEST(test_arm64_contiguous_mixed_is_a_conflict)
{
	struct ptxn_hwemu *hw = hw_machine(PTXN_MMU_ARM64_HA | PTXN_MMU_ARM64_HD, 0, 0);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
	ptxn_pte_t *leaf = cont_block(hw, R | W | U);
	struct ptxn_hwemu_report r;

	ptxn_hwemu_check_begin(hw);
	touch_block(a, false);
	/* what MERGE did before issue 17: a permission change of one member, in place */
	ptxn_set_pte(leaf + 5, ptxn_pte_wrprotect(ptxn_ptep_get(leaf + 5)));
	ptxn_hwemu_flush_all(hw);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, CONT_VA + 2 * 4096, PTXN_MMU_READ, true, NULL),
			  PTXN_MMU_FAULT_CONFLICT);
	/* a member without CONT among CONT members is as bad */
	ptxn_set_pte(leaf + 5, ptxn_make_pte(ptxn_pte_val(ptxn_pte_mkwrite(ptxn_ptep_get(leaf + 5))) &
					     ~PTXN_ARM64_CONT));
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, CONT_VA + 9 * 4096, PTXN_MMU_READ, true, NULL),
			  PTXN_MMU_FAULT_CONFLICT);
	ck_assert(!ptxn_hwemu_check(hw, &r));
	ck_assert_uint_eq(r.conflicts, 2);
	ptxn_hwemu_destroy(hw);
}
END_TEST

/* Called by rules_suite() (tests/test_hwemu_rules.c); this order is the TAP order. */
void hwemu_rules_arch_tests(TCase *arch)
{
	tcase_add_test(arch, test_arm64_ha_hd_combinations);
	tcase_add_test(arch, test_arm64_no_update_on_fault);
	tcase_add_test(arch, test_arm64_readonly_dbm0);
	tcase_add_test(arch, test_arm64_dirty_update_in_memory);
	tcase_add_test(arch, test_arm64_block_descriptor);
	tcase_add_test(arch, test_arm64_aptable);
	tcase_add_test(arch, test_arm64_erratum_2645198_exec_only);
	tcase_add_test(arch, test_arm64_contiguous_blocks);
	tcase_add_test(arch, test_arm64_contiguous_mixed_is_a_conflict);
}
