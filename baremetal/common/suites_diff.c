/* SPDX-License-Identifier: MIT */
/*
 * baremetal/common/suites_diff.c - the single-CPU differential suite: QEMU's page-table
 * walker against ptxn's own hardware model (hwemu/mmu.h with hwemu/<arch>/mmu.h).
 *
 * For a seeded sequence of reads, writes and instruction fetches on a few test-window
 * pages whose entries are set to random ptxn-built states (protections from ptxn_prot(),
 * A/D states from ptxn_pte_mkyoung/mkdirty/wrprotect...), each access is
 *   predicted: the model walks the same tables, with the window's leaf table redirected
 *              to a shadow copy, and says fault or not and the entry value after;
 *   performed: a probe access under QEMU after invalidating this CPU's TLB entry, with
 *              the fault policy in PROBE mode (a fault changes nothing and is reported);
 * and the two entry values and outcomes must be identical. Any difference is a bug in one
 * of them (docs/hwemu.md, "The qemu-system differential").
 *
 * Compiled only where the model exists; without it the suite reports "skip".
 */
#include "bm.h"

#if defined(__has_include)
#if __has_include("../../hwemu/mmu.h")
#define BM_HAVE_MODEL 1
#include "../../hwemu/mmu.h"
#endif
#endif

#ifndef BM_HAVE_MODEL
void bm_diff_suite(uint64_t seed, uint32_t accesses, int *cases, int *failed)
{
	(void)seed, (void)accesses, (void)cases, (void)failed;
	bm_printf("PTXN-CASE {\"target\":\"%s\",\"suite\":\"differential\",\"name\":\"differential\","
		  "\"strategy\":\"none\",\"status\":\"skip\",\"first_failure\":\"no hardware model (hwemu/mmu.h) in this tree\"}\n",
		  plat_name());
}
#else

#define DIFF_FIRST 40 /* window pages 40..47: the other suites leave them alone */
#define DIFF_PAGES 8

static ptxn_pte_t shadow[512] BM_ALIGNED(4096);
static uint64_t leaf_table_pa;

/* The model's view of physical memory: identity, except the window's leaf table. */
static void *model_phys(void *ctx, uint64_t pa)
{
	(void)ctx;
	if (pa - leaf_table_pa < 4096)
		return (uint8_t *)shadow + (pa - leaf_table_pa);
	return (void *)(uintptr_t)pa;
}

/* A random entry ptxn can build: a protection and a reachable A/D state. */
static ptxn_pte_t random_entry(uint64_t *rng, int page)
{
	static const unsigned prots[] = {
		PTXN_PROT_READ, PTXN_PROT_READ | PTXN_PROT_WRITE, PTXN_PROT_READ | PTXN_PROT_EXEC,
		PTXN_PROT_READ | PTXN_PROT_WRITE | PTXN_PROT_EXEC, 0 /* PROT_NONE */
	};
	ptxn_pte_t e = ptxn_pfn_pte(bm_test_pfn(page),
				    ptxn_prot(prots[bm_rand_below(rng, 5)]));
	unsigned r = bm_rand_below(rng, 16);

	if (r & 1)
		e = ptxn_pte_mkyoung(e);
	if (r & 2)
		e = ptxn_pte_mkdirty(e);
	if (r & 4) /* a dirty page made read-only keeps its dirtiness in software */
		e = ptxn_pte_wrprotect(ptxn_pte_mkdirty(e));
	if (r & 8)
		e = ptxn_pte_mkclean(e);
	return e;
}

/* Map the model's fault to what the guest's exception handler reports. */
static int expected_kind(unsigned fault)
{
	switch (fault) {
	case PTXN_MMU_OK:
		return -1;
	case PTXN_MMU_FAULT_NOT_PRESENT:
		return BM_FAULT_NOT_VALID;
	case PTXN_MMU_FAULT_ACCESS_FLAG:
		return BM_FAULT_ACCESS_FLAG;
	case PTXN_MMU_FAULT_RC:
		return BM_FAULT_RC;
	case PTXN_MMU_FAULT_RESERVED:
		return BM_FAULT_RESERVED;
	default: /* write, exec, read, user; Arm's dirty-state fault is a permission fault */
		return BM_FAULT_PERMISSION;
	}
}

static const char *access_name(unsigned a)
{
	return a == BM_WRITE ? "write" : a == BM_FETCH ? "fetch" : "read";
}

void bm_diff_suite(uint64_t seed, uint32_t accesses, int *cases, int *failed)
{
	struct bm_cpu *c = bm_this_cpu();
	ptxn_pte_t *ptes = plat_test_ptes();
	uint64_t rng = seed * 0x9e3779b97f4a7c15ull + 11, t0 = plat_ticks();
	uint64_t changed = 0, faults = 0, mismatches = 0;
	char first[200] = "";
	struct ptxn_mmu mmu;
	uint32_t i;
	int p;

	memset(&mmu, 0, sizeof(mmu));
	mmu.phys_to_ptr = model_phys;
	{
		unsigned f = 0;

		mmu.root = plat_model_root(&f);
		if (f & BM_MODEL_X86_PAE)
			mmu.flags |= PTXN_MMU_X86_PAE;
		if (f & BM_MODEL_ARM64_HA_HD)
			mmu.flags |= PTXN_MMU_ARM64_HA | PTXN_MMU_ARM64_HD;
		if (f & BM_MODEL_RISCV_SV39)
			mmu.flags |= PTXN_MMU_RISCV_SV39;
	}
	leaf_table_pa = (uintptr_t)ptes & ~(uintptr_t)4095;
#if defined(PTXN_FORMAT_X86)
	if (mmu.flags & PTXN_MMU_X86_PAE) {
		/*
		 * QEMU 7.2 re-reads the PDPTEs from memory on every PAE walk and sets A (bit 5)
		 * in them, a bit the SDM reserves in a PDPTE (Vol. 3A Table 4-8; the processor
		 * loads them into registers at CR3 load and never writes them). The model does
		 * what the SDM says and refuses such a PDPTE, so give it the values the
		 * registers were loaded with: without A (docs/hwemu.md, qemu-system section).
		 */
		ptxn_pte_t *pdpt = (ptxn_pte_t *)(uintptr_t)(mmu.root & ~(uint64_t)0x1f);
		int k;

		for (k = 0; k < 4; k++)
			ptxn_set_pte(&pdpt[k], ptxn_make_pte(ptxn_pte_val(ptxn_ptep_get(&pdpt[k])) &
							     ~(uint64_t)PTXN_X86_ACCESSED));
		if (!ptxn_mmu_x86_load_pdptes(&mmu))
			bm_panic("differential: the model refused the PDPTEs at 0x%llx",
				 (unsigned long long)mmu.root);
	}
#endif
	for (p = DIFF_FIRST; p < DIFF_FIRST + DIFF_PAGES; p++) {
		memcpy(bm_test_data[p], plat_ret_insn, (size_t)plat_ret_insn_len);
		plat_sync_icache((uintptr_t)bm_test_data[p], (unsigned)plat_ret_insn_len);
		ptxn_set_pte(&ptes[p], random_entry(&rng, p));
	}
	c->mode = BM_MODE_PROBE;
	/* One read first, so upper-level A bits are set before the model looks. */
	{
		uint32_t v;

		ptxn_set_pte(&ptes[DIFF_FIRST], bm_base_pte(DIFF_FIRST));
		plat_flush_tlb_local(plat_test_va() + DIFF_FIRST * BM_PAGE);
		(void)bm_probe_load(plat_test_va() + DIFF_FIRST * BM_PAGE, &v);
	}

	for (i = 0; i < accesses; i++) {
		struct ptxn_mmu_walk w;
		unsigned access = bm_rand_below(&rng, 3), fault;
		uintptr_t va;
		ptxn_pte_t before, predicted, actual;
		int rc, kind, want;
		uint32_t v;

		p = DIFF_FIRST + (int)bm_rand_below(&rng, DIFF_PAGES);
		va = plat_test_va() + (uintptr_t)p * BM_PAGE;
		if (bm_rand_below(&rng, 3) == 0)
			ptxn_set_pte(&ptes[p], random_entry(&rng, p));
		plat_flush_tlb_local(va);
		before = ptxn_ptep_get(&ptes[p]);

		memcpy(shadow, ptes, sizeof(shadow));
		fault = ptxn_mmu_translate(&mmu, access == BM_FETCH ? va : va + 64,
					   access == BM_WRITE ? PTXN_MMU_WRITE
					   : access == BM_FETCH ? PTXN_MMU_EXEC : PTXN_MMU_READ,
					   false, &w);
		predicted = shadow[p];

		c->fault_count_probe = 0;
		/* Data at offset 64: offset 0 holds the return instruction fetches call. */
		rc = access == BM_WRITE ? bm_probe_store(va + 64, i)
		     : access == BM_FETCH ? bm_probe_fetch(va) : bm_probe_load(va + 64, &v);
		actual = ptxn_ptep_get(&ptes[p]);
		kind = rc ? (int)c->last_fault_kind : -1;
		want = expected_kind(fault);

		if (!ptxn_pte_same(actual, before))
			changed++;
		if (rc)
			faults++;
		if (!ptxn_pte_same(actual, predicted) || kind != want) {
			mismatches++;
			if (!first[0])
				bm_format(first, sizeof(first),
					  "access %u: %s of page %d, entry 0x%llx: QEMU 0x%llx fault %d, model 0x%llx %s",
					  i, access_name(access), p,
					  (unsigned long long)ptxn_pte_val(before),
					  (unsigned long long)ptxn_pte_val(actual), kind,
					  (unsigned long long)ptxn_pte_val(predicted),
					  ptxn_mmu_fault_name(fault));
			/* Keep going from QEMU's state. */
		}
	}
	c->mode = BM_MODE_STRICT;
	for (p = DIFF_FIRST; p < DIFF_FIRST + DIFF_PAGES; p++)
		ptxn_set_pte(&ptes[p], bm_base_pte(p));
	plat_flush_tlb_range(NULL, plat_test_va(), plat_test_va() + BM_NPAGES * BM_PAGE);

	{
		uint64_t us = bm_elapsed_us(t0);

		(*cases)++;
		if (mismatches)
			(*failed)++;
		bm_printf("PTXN-CASE {\"target\":\"%s\",\"suite\":\"differential\",\"name\":\"differential\","
			  "\"strategy\":\"none\",\"status\":\"%s\",\"transactions\":%llu,\"hw_events\":%llu,"
			  "\"ad_source\":\"%s\",\"lost_updates\":%llu,\"mismatches\":%llu,\"spurious_faults\":0,\"faults\":%llu,"
			  "\"model_flags\":%u,\"seconds\":%llu.%03llu,\"first_failure\":\"%s\"}\n",
			  plat_name(), mismatches ? "fail" : "pass", (unsigned long long)accesses,
			  (unsigned long long)changed, plat_hw_ad() ? "hardware" : "software",
			  (unsigned long long)mismatches, (unsigned long long)mismatches,
			  (unsigned long long)faults, mmu.flags,
			  (unsigned long long)(us / 1000000u), (unsigned long long)(us / 1000u % 1000u),
			  first);
	}
}
#endif /* BM_HAVE_MODEL */
