/* SPDX-License-Identifier: MIT */
/*
 * baremetal/common/suites_diff.c - the single-CPU differential suite: QEMU's walker against
 * ptxn's hardware model (arch/<arch>/mmu.h). Placeholder until that model exists.
 */
#include "bm.h"

void bm_diff_suite(uint64_t seed, uint32_t accesses, int *cases, int *failed)
{
	(void)seed, (void)accesses, (void)cases, (void)failed;
	bm_printf("PTXN-CASE {\"target\":\"%s\",\"suite\":\"differential\",\"name\":\"differential\","
		  "\"strategy\":\"none\",\"status\":\"skip\",\"first_failure\":\"no hardware model (arch/<arch>/mmu.h) yet\"}\n",
		  plat_name());
}
