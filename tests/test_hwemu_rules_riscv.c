// SPDX-License-Identifier: MIT
/*
 * hwemu rule tests: the RISC-V Sv39/Sv48 rules (tests/test_hwemu_rules.c has the rules every
 * format shares, the suite and main; docs/hwemu.md names the manual section of every
 * rule: Privileged Architecture 20211203, 4.3.1/4.3.2 and chapters 5-6). Linked only into
 * the PTXN_FORMAT_RISCV program (tests/meson.build).
 */
#include "test_hwemu_rules.h"

#if !defined(PTXN_FORMAT_RISCV)
#error "tests/test_hwemu_rules_riscv.c is built for PTXN_FORMAT_RISCV only"
#endif

/* Svadu (step 7): A on any permitted access, D on a permitted store, little-endian byte 0. */
START_TEST(test_riscv_svadu_a_then_d)
{
	struct ptxn_hwemu *hw = hw_machine(0, 1, R | W | U);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
	ptxn_pte_t *leaf = hw_leaf(hw, HW_VA);
	const unsigned char *b = (const unsigned char *)leaf;

	ck_assert_uint_eq(b[0], 0x17); /* V R W U, A and D clear, in the first byte */
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, NULL), PTXN_MMU_OK);
	ck_assert_uint_eq(b[0], 0x57);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL), PTXN_MMU_OK);
	ck_assert_uint_eq(b[0], 0xd7);
	ck_assert_uint_eq(a->nledger, 2);
	ck_assert_uint_eq(a->ledger[0].bits, PTXN_HWEMU_YOUNG);
	ck_assert_uint_eq(a->ledger[1].bits, PTXN_HWEMU_DIRTY);
	/* no A/D in the pointers above the leaf (step 3: D, A, U reserved there) */
	ck_assert_uint_eq(ptxn_pte_val(upper(hw, HW_VA, 1)) & 0xff, PTXN_RISCV_V);
	ptxn_hwemu_destroy(hw);
}
END_TEST

/* Svade: a page fault instead of each update (A=0, then D=0); software sets A/D through ptxn. */
START_TEST(test_riscv_svade_faults)
{
	sw_managed_ad(PTXN_MMU_RISCV_SVADE, PTXN_MMU_FAULT_ACCESS_FLAG, PTXN_MMU_FAULT_DIRTY);
}
END_TEST

/*
 * The D update is made on the entry in memory and re-checks W (step 7, "the
 * address-translation cache cannot be used"): a translation cached writable and clean
 * cannot dirty the entry after software cleared W; it re-walks and faults.
 */
START_TEST(test_riscv_dirty_checked_in_memory)
{
	struct ptxn_hwemu *hw = hw_machine(0, 1, R | W | U);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
	ptxn_pte_t *leaf = hw_leaf(hw, HW_VA);
	struct ptxn_hwemu_report r;
	ptxn_mm_t mm;

	ptxn_mm_init(&mm);
	ptxn_hwemu_attach_mm(hw, &mm);
	ptxn_hwemu_check_begin(hw);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, NULL), PTXN_MMU_OK);
	hw_txn(hw, &mm, HW_VA, 1, mk_wrprotect, NULL, false); /* no flush: the TLB entry stays */
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL),
			  PTXN_MMU_FAULT_WRITE);
	ck_assert(!ptxn_pte_dirty(ptxn_ptep_get(leaf)));
	/* so a young read-only entry is final with no promise at all */
	ck_assert(ptxn_pte_quiescent(ptxn_ptep_get(leaf)));
	ck_assert(ptxn_hwemu_check(hw, &r));
	ptxn_hwemu_destroy(hw);
}
END_TEST

/* Step 3: reserved bits and encodings fault, and nothing is updated (no Svnapot here). */
START_TEST(test_riscv_reserved_encodings)
{
	static const uint64_t bad[] = {
		UINT64_C(1) << 54, UINT64_C(1) << 60,      /* 60-54 reserved (4.4) */
		UINT64_C(1) << 63,                         /* N: no Svnapot in this hart */
		UINT64_C(3) << 61,                         /* PBMT=3 (chapter 6) */
	};
	struct ptxn_hwemu *hw = hw_machine(0, 1, R | W | U);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
	ptxn_pte_t *leaf = hw_leaf(hw, HW_VA);
	const ptxn_pteval_t good = hw_val(leaf);
	unsigned i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ptxn_set_pte(leaf, ptxn_make_pte(good | bad[i]));
		ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, NULL),
				  PTXN_MMU_FAULT_RESERVED);
		ck_assert_uint_eq(hw_val(leaf), good | bad[i]);
	}
	/* W without R: reserved (4.3.1) */
	ptxn_set_pte(leaf, ptxn_make_pte(good & ~(ptxn_pteval_t)PTXN_RISCV_R));
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL),
			  PTXN_MMU_FAULT_RESERVED);
	/* PBMT=NC is a valid memory type: the walk succeeds */
	ptxn_set_pte(leaf, ptxn_make_pte(good | PTXN_RISCV_PBMT_NC));
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, NULL), PTXN_MMU_OK);
	ptxn_hwemu_destroy(hw);
}
END_TEST

/* Step 5: U-mode needs U=1; S-mode (SUM=1) loads and stores U pages, never executes them. */
START_TEST(test_riscv_user_supervisor)
{
	struct ptxn_hwemu *hw = hw_machine(0, 0, 0);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);

	ck_assert_uint_ne(ptxn_hwemu_map(hw, HW_VA, 1, ptxn_prot(X | U), 0), 0);
	ck_assert_uint_ne(ptxn_hwemu_map(hw, HW_VA + 4096, 1, ptxn_prot(R | W | X), 0), 0);
	/*
	 * execute-only: no loads (MXR=0), no fetches in S-mode, fetches in U-mode. (S-mode
	 * first: hwemu's TLB keeps one set of rights per translation, not one per mode, so a
	 * U-mode fetch cached first would serve an S-mode fetch too - a limit of the model.)
	 */
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, NULL),
			  PTXN_MMU_FAULT_READ);
	ck_assert(!ptxn_pte_young(ptxn_ptep_get(hw_leaf(hw, HW_VA))));
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_EXEC, false, NULL),
			  PTXN_MMU_FAULT_EXEC);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_EXEC, true, NULL), PTXN_MMU_OK);
	/* a supervisor page refuses U-mode, serves S-mode */
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA + 4096, PTXN_MMU_READ, true, NULL),
			  PTXN_MMU_FAULT_USER);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA + 4096, PTXN_MMU_EXEC, false, NULL),
			  PTXN_MMU_OK);
	ptxn_hwemu_destroy(hw);
}
END_TEST

/* Sv48 (4 levels, VA below 2^47) and Sv39 (3 levels, VA below 2^38). */
START_TEST(test_riscv_sv48_sv39)
{
	int sv39;

	for (sv39 = 0; sv39 < 2; sv39++) {
		struct ptxn_hwemu *hw = hw_machine(sv39 ? PTXN_MMU_RISCV_SV39 : 0, 1, R | W | U);
		struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
		const uint64_t limit = UINT64_C(1) << (sv39 ? 38 : 47);

		ck_assert_uint_eq(ptxn_mmu_top_level(&a->mmu), sv39 ? 2 : 3);
		ck_assert_uint_eq(ptxn_mmu_va_limit(&a->mmu), limit);
		ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL),
				  PTXN_MMU_OK);
		ck_assert_uint_eq(ptxn_hwemu_access_once(a, limit, PTXN_MMU_READ, true, NULL),
				  PTXN_MMU_FAULT_ADDRESS);
		ptxn_hwemu_destroy(hw);
	}
}
END_TEST

/*
 * PTXN_MM_RISCV_SVADE is a promise that no hart writes A/D. Made on Svadu hardware it is a
 * lie: AUTO stores over a live clean entry and the D the hart set meanwhile is lost - and
 * hwemu's checker says so. Kept (Svade hardware, A/D set under the "lock" between
 * transactions) nothing is lost.
 */
START_TEST(test_riscv_svade_promise)
{
	static const unsigned ro = R | U;
	int variant;

	for (variant = 0; variant < 3; variant++) {
		/* 0: Svadu, no promise; 1: the promise on Svadu (a lie); 2: Svade, promise */
		const bool svade_hw = variant == 2;
		struct ptxn_hwemu *hw = hw_machine(svade_hw ? PTXN_MMU_RISCV_SVADE : 0, 1, R | W | U);
		struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
		ptxn_pte_t old;
		ptxn_mm_t mm;

		ptxn_mm_init(&mm);
		ptxn_mm_set_flags(&mm, variant ? PTXN_MM_RISCV_SVADE : 0);
		ptxn_hwemu_attach_mm(hw, &mm);
		ptxn_hwemu_check_begin(hw);
		/* a store between start and commit: the Svadu hart sets A and D, Svade faults */
		old = store_inside_txn(hw, &mm, a,
				       svade_hw ? PTXN_MMU_FAULT_ACCESS_FLAG : PTXN_MMU_OK, ro);
		ck_assert(!ptxn_pte_young(old) && !ptxn_pte_dirty(old));
		promise_verdict(hw, variant, variant == 1, !svade_hw);
	}
}
END_TEST

/* Called by rules_suite() (tests/test_hwemu_rules.c); this order is the TAP order. */
void hwemu_rules_arch_tests(TCase *arch)
{
	tcase_add_test(arch, test_riscv_svadu_a_then_d);
	tcase_add_test(arch, test_riscv_svade_faults);
	tcase_add_test(arch, test_riscv_dirty_checked_in_memory);
	tcase_add_test(arch, test_riscv_reserved_encodings);
	tcase_add_test(arch, test_riscv_user_supervisor);
	tcase_add_test(arch, test_riscv_sv48_sv39);
	tcase_add_test(arch, test_riscv_svade_promise);
}
