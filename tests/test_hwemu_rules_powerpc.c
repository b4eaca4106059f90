// SPDX-License-Identifier: MIT
/*
 * hwemu rule tests: the PowerPC radix rules (tests/test_hwemu_rules.c has the rules every
 * format shares, the suite and main; docs/hwemu.md names the manual section of every
 * rule). Linked only into the PTXN_FORMAT_POWERPC program (tests/meson.build).
 */
#include "test_hwemu_rules.h"

#if !defined(PTXN_FORMAT_POWERPC)
#error "tests/test_hwemu_rules_powerpc.c is built for PTXN_FORMAT_POWERPC only"
#endif

/* ================================= PowerPC ==================================== */

/* R on any access, C on a permitted store, in the big-endian entry (byte 0 = bits 63..56). */
START_TEST(test_ppc_rc_big_endian)
{
	struct ptxn_hwemu *hw = hw_machine(0, 1, R | W | U);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
	ptxn_pte_t *leaf = hw_leaf(hw, HW_VA);
	const unsigned char *b = (const unsigned char *)leaf;

	ck_assert_uint_eq(b[0] & 0xc0, 0xc0); /* V and L in the first byte */
	ck_assert_uint_eq(b[6] & 0x01, 0);    /* R: bit 8 */
	ck_assert_uint_eq(b[7] & 0x80, 0);    /* C: bit 7 */
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, NULL), PTXN_MMU_OK);
	ck_assert_uint_eq(b[6] & 0x01, 0x01);
	ck_assert_uint_eq(b[7] & 0x80, 0);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_WRITE, true, NULL), PTXN_MMU_OK);
	ck_assert_uint_eq(b[7] & 0x80, 0x80);
	ck_assert_uint_eq(a->nledger, 2);
	ck_assert_uint_eq(a->ledger[0].bits, PTXN_HWEMU_YOUNG);
	ck_assert_uint_eq(a->ledger[1].bits, PTXN_HWEMU_DIRTY);
	ptxn_hwemu_destroy(hw);
}
END_TEST

/* Interrupt mode: the MMU never sets R/C; a storage interrupt, then software sets them. */
START_TEST(test_ppc_rc_interrupt_mode)
{
	sw_managed_ad(PTXN_MMU_PPC_RC_INTERRUPT, PTXN_MMU_FAULT_RC, PTXN_MMU_FAULT_RC);
}
END_TEST

/* EAA: execute-only pages cannot be read; privileged pages not accessed by problem state. */
START_TEST(test_ppc_access_authority)
{
	struct ptxn_hwemu *hw = hw_machine(0, 0, 0);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);

	ck_assert_uint_ne(ptxn_hwemu_map(hw, HW_VA, 1, ptxn_prot(X | U), 0), 0);
	ck_assert_uint_ne(ptxn_hwemu_map(hw, HW_VA + 4096, 1, ptxn_prot(R | W), 0), 0);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, NULL),
			  PTXN_MMU_FAULT_READ);
	ck_assert(!ptxn_pte_young(ptxn_ptep_get(hw_leaf(hw, HW_VA))));
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_EXEC, true, NULL), PTXN_MMU_OK);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA + 4096, PTXN_MMU_READ, true, NULL),
			  PTXN_MMU_FAULT_USER);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA + 4096, PTXN_MMU_WRITE, false, NULL),
			  PTXN_MMU_OK);
	ptxn_hwemu_destroy(hw);
}
END_TEST

/* The tree: a 2^13-entry root (EA 51:39), PDEs of V | NLB | NLS=9, leaves at any level. */
START_TEST(test_ppc_tree_layout)
{
	struct ptxn_hwemu *hw = hw_machine(0, 0, 0);
	struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
	const uint64_t va = UINT64_C(0x7ff) << 39 | HW_VA; /* root index 0x7ff, beyond 9 bits */
	ptxn_pte_t *root_slot;
	struct ptxn_mmu_walk w;
	unsigned level = 9;

	ck_assert_uint_eq(ptxn_mmu_va_limit(&a->mmu), UINT64_C(1) << 52);
	ck_assert_uint_eq(hw->as.mmu.root % 65536, 0); /* root table aligned to its 64 KiB */
	ck_assert_uint_ne(ptxn_hwemu_map(hw, va, 1, ptxn_prot(R | W | U), 0), 0);
	root_slot = ptxn_hwemu_as_slot(&hw->as, va, 3, false);
	ck_assert_uint_eq(ptxn_hwemu_slot_pa(hw, root_slot), hw->as.mmu.root + 8 * 0x7ff);
	ck_assert_uint_eq(hw_val(root_slot) & ~PTXN_PPC_PDE_NLB, PTXN_PPC_VALID | 9);
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, va, PTXN_MMU_WRITE, true, &w), PTXN_MMU_OK);
	ck_assert_uint_eq(hw_val(root_slot) & ~PTXN_PPC_PDE_NLB, PTXN_PPC_VALID | 9); /* no R/C in PDEs */
	ck_assert_uint_eq(ptxn_hwemu_access_once(a, UINT64_C(1) << 52, PTXN_MMU_READ, true, NULL),
			  PTXN_MMU_FAULT_ADDRESS);
	ck_assert_ptr_nonnull(ptxn_hwemu_lookup(hw, va, &level));
	ck_assert_uint_eq(level, 0);
	ptxn_hwemu_destroy(hw);
}
END_TEST

/*
 * POWER9 nest MMU: a coprocessor holding a read-only translation faults on a write that
 * memory already allows when the entry is relaxed in place (the hang, counted). With
 * PTXN_MM_COPROCESSOR, ptxn's commit goes invalid -> flush -> new entry: no hang.
 */
START_TEST(test_ppc_nest_mmu)
{
	int copro;

	for (copro = 0; copro < 2; copro++) {
		struct ptxn_hwemu *hw = hw_machine(0, 1, R | U);
		struct ptxn_hwemu_agent *nest = hw_raw_agent(hw, PTXN_HWEMU_AGENT_COPROCESSOR);
		struct ptxn_hwemu_report r;
		unsigned rw = R | W | U;
		ptxn_mm_t mm;

		ptxn_mm_init(&mm);
		ptxn_hwemu_attach_mm(hw, &mm);
		if (copro)
			ptxn_mm_set_flags(&mm, PTXN_MM_COPROCESSOR);
		ptxn_hwemu_check_begin(hw);
		ck_assert_uint_eq(ptxn_hwemu_access_once(nest, HW_VA, PTXN_MMU_READ, true, NULL),
				  PTXN_MMU_OK);
		hw_txn(hw, &mm, HW_VA, 1, hw_to_prot, &rw, false); /* an upgrade: no flush by the caller */
		ck_assert_uint_eq(ptxn_hwemu_access_once(nest, HW_VA, PTXN_MMU_WRITE, true, NULL),
				  PTXN_MMU_OK);
		ck_assert(ptxn_hwemu_check(hw, &r));
		ck_assert_uint_eq(r.hangs, copro ? 0 : 1);
		ck_assert_uint_eq(hw->flushes, copro ? 1 : 0);
		ptxn_hwemu_destroy(hw);
	}
}
END_TEST

/*
 * PTXN_MM_WRPROTECT_FLUSHED on radix: a store through a cached writable translation sets
 * C in the entry without re-checking its permission (the ISA does not promise otherwise:
 * docs/strategies.md), so a young read-only entry is final only when the caller flushed
 * its write-protection before changing it again. Without the flag AUTO merges and keeps
 * that C; with the promise kept (the flush empties the TLB, the store faults) nothing is
 * lost; with the promise broken AUTO's plain store loses C and the checker says so.
 */
START_TEST(test_ppc_wrprotect_flushed_promise)
{
	static const unsigned rw = R | W | U;
	int variant;

	for (variant = 0; variant < 3; variant++) { /* 0: no flag, 1: kept, 2: broken */
		struct ptxn_hwemu *hw = hw_machine(0, 1, R | W | U);
		struct ptxn_hwemu_agent *a = hw_raw_agent(hw, 0);
		ptxn_pte_t old;
		ptxn_mm_t mm;

		ptxn_mm_init(&mm);
		ptxn_mm_set_flags(&mm, variant ? PTXN_MM_WRPROTECT_FLUSHED : 0);
		ptxn_hwemu_attach_mm(hw, &mm);
		ptxn_hwemu_check_begin(hw);
		ck_assert_uint_eq(ptxn_hwemu_access_once(a, HW_VA, PTXN_MMU_READ, true, NULL), PTXN_MMU_OK);
		hw_txn(hw, &mm, HW_VA, 1, mk_wrprotect, NULL, false);
		if (variant == 1)
			ptxn_hwemu_flush_range(hw, HW_VA, HW_VA + 4096);
		old = store_inside_txn(hw, &mm, a, variant == 1 ? PTXN_MMU_FAULT_WRITE : PTXN_MMU_OK, rw);
		ck_assert(ptxn_pte_young(old) && !ptxn_pte_write(old) && !ptxn_pte_dirty(old));
		promise_verdict(hw, variant, variant == 2, variant == 0);
	}
}
END_TEST

/* Called by rules_suite() (tests/test_hwemu_rules.c); this order is the TAP order. */
void hwemu_rules_arch_tests(TCase *arch)
{
	tcase_add_test(arch, test_ppc_rc_big_endian);
	tcase_add_test(arch, test_ppc_rc_interrupt_mode);
	tcase_add_test(arch, test_ppc_access_authority);
	tcase_add_test(arch, test_ppc_tree_layout);
	tcase_add_test(arch, test_ppc_nest_mmu);
	tcase_add_test(arch, test_ppc_wrprotect_flushed_promise);
}
