/* SPDX-License-Identifier: MIT */
/*
 * baremetal/common/main.c - CPU stacks, per-CPU lookup, the secondary CPUs' work loop and
 * the boot CPU's main: start the others, run the suites, power off with the verdict.
 */
#include "bm.h"

/*
 * One stack per CPU, BM_STACK_SIZE aligned: the word at the bottom holds the CPU index, so
 * any code (an exception handler too, which runs on the same stack) finds its CPU from a
 * stack address without a per-CPU register.
 */
#define BM_STACK_SIZE 16384
uint8_t bm_stacks[BM_MAX_CPUS][BM_STACK_SIZE] BM_ALIGNED(BM_STACK_SIZE);

/* The test pages the window maps (identity-mapped too: the checker reads them there). */
uint8_t bm_test_data[BM_NPAGES][BM_PAGE] BM_ALIGNED(4096);

/* Identity-mapped, so a test page's frame is its address's. */
uint64_t bm_test_pfn(int page)
{
	return (uintptr_t)bm_test_data[page] >> 12;
}

/*
 * A fresh test page: a kernel read-write data page, old and clean, in the format's own
 * encoding (x86: P R/W, NX; ARM64: DBM=1, AP[2]=1, AF=0, PXN, UXN; RISC-V: V R W G).
 */
ptxn_pte_t bm_base_pte(int page)
{
	return ptxn_pfn_pte(bm_test_pfn(page), ptxn_prot(PTXN_PROT_READ | PTXN_PROT_WRITE));
}

void bm_cpu_set(int cpu)
{
	*(volatile int *)bm_stacks[cpu] = cpu;
	bm_cpus[cpu].id = cpu;
	bm_cpus[cpu].rng = 0x2545f4914f6cdd1dull * (uint64_t)(cpu + 1);
}

struct bm_cpu *bm_this_cpu(void)
{
	volatile int marker = 0;
	uintptr_t sp = (uintptr_t)&marker;
	int cpu = *(volatile int *)(sp & ~(uintptr_t)(BM_STACK_SIZE - 1));

	if (cpu < 0 || cpu >= BM_MAX_CPUS)
		cpu = 0;
	return &bm_cpus[cpu];
}

/* ---- work for the secondaries ------------------------------------------------------------ */
static volatile uint32_t cpus_online;
volatile uint32_t bm_work_seq;
void (*volatile bm_work_fn)(int cpu);
volatile uint32_t bm_work_done;

void bm_secondary(int cpu)
{
	uint32_t seen = 0;

	bm_this_cpu()->mode = BM_MODE_STRICT;
	bm_add(&cpus_online, 1);
	for (;;) {
		uint32_t seq = bm_load(&bm_work_seq);

		if (seq == seen) {
			plat_cpu_relax();
			continue;
		}
		seen = seq;
		bm_work_fn(cpu);
		bm_this_cpu()->mode = BM_MODE_STRICT;
		bm_add(&bm_work_done, 1);
	}
}

/* Run fn on every secondary (not on the boot CPU); returns at once. */
void bm_post_work(void (*fn)(int cpu))
{
	bm_store(&bm_work_done, 0);
	bm_work_fn = fn;
	bm_add(&bm_work_seq, 1);
}

void bm_wait_work(int nsecondaries)
{
	while (bm_load(&bm_work_done) != (uint32_t)nsecondaries)
		plat_cpu_relax();
}

void bm_main(void)
{
	int n, extra;
	uint64_t t0;

	bm_this_cpu()->mode = BM_MODE_STRICT;
	bm_printf("PTXN-BOOT {\"target\":\"%s\",\"backend\":\"%s\",\"ad\":\"%s\",\"cmdline\":\"%s\"}\n",
		  plat_name(), PTXN_BACKEND_DESCRIPTION, plat_ad_mode(), plat_cmdline());
	extra = plat_start_secondaries();
	t0 = plat_ticks();
	while (bm_load(&cpus_online) != (uint32_t)extra) {
		if (bm_elapsed_us(t0) > 5000000)
			bm_panic("only %u of %d secondary CPUs came online", bm_load(&cpus_online), extra);
		plat_cpu_relax();
	}
	n = extra + 1;
	bm_printf("PTXN-CPUS %d\n", n);
	if (n < 2)
		bm_panic("the suites need at least 2 CPUs (-smp 2), found %d", n);
	bm_run_suites(n);
}
