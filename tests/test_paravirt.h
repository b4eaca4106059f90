// SPDX-License-Identifier: MIT
/*
 * tests/test_paravirt.h - what the paravirtual unit tests share (tests/test_paravirt.c:
 * the trap, trap counts, read-your-writes, the suite; tests/test_paravirt_validation.c:
 * the hypervisor's validation and errors reaching the guest; one program per format):
 * a machine with a hypervisor and an attached mm, the protection toggle, and the hook by
 * which the validation file adds its tests.
 */
#ifndef PTXN_TESTS_TEST_PARAVIRT_H
#define PTXN_TESTS_TEST_PARAVIRT_H

#include "test_paravirt_util.h"

static void pv_env_simple(struct pv_env *e, uint64_t pages, int strategy, unsigned batch)
{
	struct pv_env_config c;

	memset(&c, 0, sizeof(c));
	c.pages = pages;
	c.prot = PV_R | PV_W | PV_U;
	c.strategy = strategy;
	c.batch = batch;
	pv_env_init(e, &c);
}

/* The protection that differs from the entry's: writable <-> read-only. */
static ptxn_pte_t pv_toggle(ptxn_pte_t old)
{
	return ptxn_pte_modify(old, ptxn_prot(ptxn_pte_write(old) ? PV_R | PV_U : PV_R | PV_W | PV_U));
}

/* Defined in tests/test_paravirt_validation.c: adds its tests to the suite's test case. */
void pv_validation_tests(TCase *tc);

#endif /* PTXN_TESTS_TEST_PARAVIRT_H */
