/* SPDX-License-Identifier: MIT */
/*
 * baremetal/aarch64/plat.c - the -M virt platform: PL011 console, generic timer, PSCI over
 * HVC (CPU_ON, SYSTEM_OFF), translation tables built with ptxn's types, the synchronous
 * exception handler, and TLB maintenance.
 *
 * Built twice: BM_HAFDBS=1 (aarch64-system: -cpu max, TCR_EL1.HA/HD set, the MMU manages
 * AF and the dirty state) and BM_HAFDBS=0 (aarch64-system-nohafdbs: -cpu cortex-a57, an
 * ARMv8.0 CPU without FEAT_HAFDBS: every access-flag and dirty-state change is a fault that
 * the handler resolves with ptxn_ptep_mark_accessed, as Linux did before ARMv8.1).
 *
 * Address map: 39-bit VA (T0SZ=25, the walk starts at level 1, 4 KiB granule)
 *   0x00000000-0x3fffffff  level-1 block, Device-nGnRnE (UART, GIC, ...)
 *   0x40000000-0x7fffffff  level-1 block, Normal WB, identity (RAM: image, stacks, tables)
 *   0x80000000 + 64 pages  the test window: level-3 entries made by ptxn_pfn_pte() only.
 */
#include "../common/bm.h"

#ifndef BM_HAFDBS
#define BM_HAFDBS 1
#endif

#define UART_BASE	0x09000000ul
#define UART_DR		0x00
#define UART_FR		0x18
#define UART_FR_TXFF	(1u << 5)

#define PSCI_CPU_ON_64		0xc4000003ul
#define PSCI_SYSTEM_OFF		0x84000008ul

#define WINDOW_VA	0x80000000ul

/* Descriptor bits used for the upper levels (ptxn builds the level-3 entries). */
#define DESC_VALID	(1ull << 0)
#define DESC_TABLE	(1ull << 1) /* bits[1:0] = 0b11 at levels 0-2: next-level table */
#define DESC_ATTR(i)	((uint64_t)(i) << 2)
#define DESC_SH_INNER	(3ull << 8)
#define DESC_AF		(1ull << 10)
#define DESC_PXN	(1ull << 53)
#define DESC_UXN	(1ull << 54)

#define MAIR_NORMAL_WB	0xffull /* AttrIndx 0, as PTXN_ARM64_MT_NORMAL */
#define MAIR_DEVICE	0x00ull /* AttrIndx 1: Device-nGnRnE */

#define TCR_T0SZ(x)	((uint64_t)(x) << 0)
#define TCR_IRGN0_WBWA	(1ull << 8)
#define TCR_ORGN0_WBWA	(1ull << 10)
#define TCR_SH0_INNER	(3ull << 12)
#define TCR_TG0_4K	(0ull << 14)
#define TCR_T1SZ(x)	((uint64_t)(x) << 16)
#define TCR_EPD1	(1ull << 23)
#define TCR_IPS_40BIT	(2ull << 32)
#define TCR_HA		(1ull << 39) /* FEAT_HAFDBS: hardware Access flag update */
#define TCR_HD		(1ull << 40) /* FEAT_HAFDBS: hardware dirty state (DBM) */

/* SCTLR_EL1: M, C, I plus the RES1 bits of ARMv8.0 (11, 20, 22, 23, 28, 29). */
#define SCTLR_VALUE	(0x30d00800ull | (1u << 0) | (1u << 2) | (1u << 12))

static ptxn_pte_t l1[512] BM_ALIGNED(4096);
static ptxn_pte_t l2_window[512] BM_ALIGNED(4096);
static ptxn_pte_t l3_window[512] BM_ALIGNED(4096);
static ptxn_pte_t l0_model[512] BM_ALIGNED(4096); /* for the model: 48-bit VA, level 0 */
static uint64_t tcr_value;
static char cmdline[256];

extern char bm_vectors[];
extern char bm_secondary_entry[];
extern char bm_probe_store_insn[], bm_probe_load_insn[], bm_probe_fixup[],
	bm_probe_fetch_fixup[];

#define SYSREG_READ(name) ({ uint64_t v_; __asm__ __volatile__("mrs %0, " #name : "=r"(v_)); v_; })
#define SYSREG_WRITE(name, v) __asm__ __volatile__("msr " #name ", %0" :: "r"((uint64_t)(v)) : "memory")

/* ---- console, time, power ------------------------------------------------------------- */
void plat_putc(char c)
{
	volatile uint32_t *uart = (volatile uint32_t *)UART_BASE;

	while (uart[UART_FR / 4] & UART_FR_TXFF)
		;
	uart[UART_DR / 4] = (uint32_t)(unsigned char)c;
}

uint64_t plat_ticks(void)
{
	uint64_t v;

	__asm__ __volatile__("isb; mrs %0, cntvct_el0" : "=r"(v) :: "memory");
	return v;
}

uint64_t plat_tick_hz(void)
{
	return SYSREG_READ(cntfrq_el0);
}

void plat_cpu_relax(void)
{
	__asm__ __volatile__("yield" ::: "memory");
}

static uint64_t psci(uint64_t fn, uint64_t a1, uint64_t a2, uint64_t a3)
{
	register uint64_t x0 __asm__("x0") = fn;
	register uint64_t x1 __asm__("x1") = a1;
	register uint64_t x2 __asm__("x2") = a2;
	register uint64_t x3 __asm__("x3") = a3;

	/* -M virt without EL2/EL3 firmware: QEMU implements PSCI itself, conduit HVC. */
	__asm__ __volatile__("hvc #0" : "+r"(x0), "+r"(x1), "+r"(x2), "+r"(x3) :: "memory");
	return x0;
}

void plat_poweroff(bool pass)
{
	(void)pass; /* the verdict is the PTXN-RESULT line; SYSTEM_OFF has no exit code */
	psci(PSCI_SYSTEM_OFF, 0, 0, 0);
	for (;;)
		__asm__ __volatile__("wfi");
}

const char *plat_name(void)
{
	return BM_HAFDBS ? "aarch64-system" : "aarch64-system-nohafdbs";
}

const char *plat_ad_mode(void)
{
	return BM_HAFDBS ? "hardware (FEAT_HAFDBS, TCR_EL1.HA+HD)"
			 : "software (no FEAT_HAFDBS: access-flag and permission faults)";
}

bool plat_hw_ad(void)
{
	return BM_HAFDBS;
}

const char *plat_cmdline(void)
{
	return cmdline;
}

/* ---- the test window ------------------------------------------------------------------- */
uintptr_t plat_test_va(void)
{
	return WINDOW_VA;
}

ptxn_pte_t *plat_test_ptes(void)
{
	return l3_window;
}

/*
 * The model (hwemu/arm64/mmu.h) walks 48-bit VAs from level 0; this guest's MMU starts at
 * level 1 (T0SZ=25). A level-0 table whose entry 0 points to our level-1 table gives the
 * model the same walk below level 0 (table descriptors carry no AF: nothing to differ).
 */
uint64_t plat_model_root(unsigned *flags)
{
	ptxn_set_pte(&l0_model[0], ptxn_make_pte((uintptr_t)l1 | DESC_VALID | DESC_TABLE));
	*flags = BM_HAFDBS ? BM_MODEL_ARM64_HA_HD : 0;
	return (uintptr_t)l0_model;
}

/* ---- TLB maintenance (Arm ARM D8.13, and Linux's __flush_tlb_range) --------------------- */
void plat_flush_tlb_range(ptxn_mm_t *mm, uintptr_t start, uintptr_t end)
{
	uintptr_t va;

	(void)mm;
	/* The entry writes are visible to every walker before the invalidation. */
	__asm__ __volatile__("dsb ishst" ::: "memory");
	for (va = start & ~(uintptr_t)(BM_PAGE - 1); va < end; va += BM_PAGE)
		__asm__ __volatile__("tlbi vale1is, %0" :: "r"(va >> 12) : "memory");
	/* Completion on every CPU of the Inner Shareable domain, then resynchronise. */
	__asm__ __volatile__("dsb ish; isb" ::: "memory");
}

void plat_flush_tlb_local(uintptr_t va)
{
	__asm__ __volatile__("dsb nshst; tlbi vale1, %0; dsb nsh; isb" :: "r"(va >> 12) : "memory");
}

const uint8_t plat_ret_insn[] = { 0xc0, 0x03, 0x5f, 0xd6 }; /* ret */
const int plat_ret_insn_len = 4;

void plat_sync_icache(uintptr_t va, unsigned len)
{
	uintptr_t a;

	for (a = va & ~63ul; a < va + len; a += 64)
		__asm__ __volatile__("dc cvau, %0" :: "r"(a) : "memory");
	__asm__ __volatile__("dsb ish" ::: "memory");
	for (a = va & ~63ul; a < va + len; a += 64)
		__asm__ __volatile__("ic ivau, %0" :: "r"(a) : "memory");
	__asm__ __volatile__("dsb ish; isb" ::: "memory");
}

/* ---- MMU --------------------------------------------------------------------------------- */
static void build_tables(void)
{
	int i;

	ptxn_set_pte(&l1[0], ptxn_make_pte(0x00000000ull | DESC_VALID | DESC_ATTR(1) | DESC_AF |
					     DESC_PXN | DESC_UXN));
	ptxn_set_pte(&l1[1], ptxn_make_pte(0x40000000ull | DESC_VALID | DESC_ATTR(0) |
					     DESC_SH_INNER | DESC_AF | DESC_UXN));
	ptxn_set_pte(&l1[WINDOW_VA >> 30],
		     ptxn_make_pte((uintptr_t)l2_window | DESC_VALID | DESC_TABLE));
	ptxn_set_pte(&l2_window[0], ptxn_make_pte((uintptr_t)l3_window | DESC_VALID | DESC_TABLE));
	for (i = 0; i < BM_NPAGES; i++)
		ptxn_set_pte(&l3_window[i], bm_base_pte(i));
}

static void mmu_on(void)
{
	SYSREG_WRITE(vbar_el1, (uintptr_t)bm_vectors);
	SYSREG_WRITE(mair_el1, MAIR_NORMAL_WB | MAIR_DEVICE << 8);
	SYSREG_WRITE(tcr_el1, tcr_value);
	SYSREG_WRITE(ttbr0_el1, (uintptr_t)l1);
	__asm__ __volatile__("isb; tlbi vmalle1; dsb nsh; isb" ::: "memory");
	SYSREG_WRITE(sctlr_el1, SCTLR_VALUE);
	__asm__ __volatile__("isb" ::: "memory");
}

void plat_boot(void)
{
	uint64_t hafdbs = SYSREG_READ(id_aa64mmfr1_el1) & 0xf;

	bm_cpu_set(0);
	tcr_value = TCR_T0SZ(25) | TCR_IRGN0_WBWA | TCR_ORGN0_WBWA | TCR_SH0_INNER | TCR_TG0_4K |
		    TCR_T1SZ(25) | TCR_EPD1 | TCR_IPS_40BIT;
	if (BM_HAFDBS)
		tcr_value |= TCR_HA | TCR_HD;
	build_tables();
	mmu_on();
	/* -M virt without firmware: the DTB is at the base of RAM. */
	bm_fdt_bootargs((const void *)0x40000000ul, cmdline, sizeof(cmdline));
	if (BM_HAFDBS && hafdbs < 2)
		bm_panic("this CPU has ID_AA64MMFR1_EL1.HAFDBS=%llu, need 2 (use -cpu max)",
			 (unsigned long long)hafdbs);
	if (!BM_HAFDBS && hafdbs != 0)
		bm_panic("ID_AA64MMFR1_EL1.HAFDBS=%llu: the no-HAFDBS target wants an ARMv8.0 CPU",
			 (unsigned long long)hafdbs);
	bm_main();
}

void plat_secondary(uint64_t cpu)
{
	mmu_on();
	bm_secondary((int)cpu);
}

int plat_start_secondaries(void)
{
	int cpu, n = 0;

	for (cpu = 1; cpu < BM_MAX_CPUS; cpu++) {
		int64_t rc;

		bm_cpu_set(cpu);
		__asm__ __volatile__("dsb sy" ::: "memory");
		/* -M virt gives CPU i the MPIDR affinity Aff0 = i (for fewer than 8 CPUs). */
		rc = (int64_t)psci(PSCI_CPU_ON_64, (uint64_t)cpu, (uintptr_t)bm_secondary_entry,
				   (uint64_t)cpu);
		if (rc != 0)
			break; /* -2 INVALID_PARAMETERS: no such CPU */
		n++;
	}
	return n;
}

/* ---- exceptions ---------------------------------------------------------------------------- */
struct frame {
	uint64_t x[31];
	uint64_t elr;
	uint64_t spsr;
};

void plat_exception(struct frame *f, uint64_t idx)
{
	uint64_t esr = SYSREG_READ(esr_el1), far = SYSREG_READ(far_el1);
	unsigned ec = (unsigned)(esr >> 26) & 0x3f, fsc = (unsigned)esr & 0x3f;
	enum bm_access access;
	enum bm_fault_kind kind;
	enum bm_fault_action act;
	bool in_probe;

	if (idx != 4 || (ec != 0x25 && ec != 0x21)) /* sync, current EL, SP_ELx; DABT/IABT */
		bm_panic("unexpected exception: vector %llu ESR 0x%llx FAR 0x%llx ELR 0x%llx",
			 (unsigned long long)idx, (unsigned long long)esr,
			 (unsigned long long)far, (unsigned long long)f->elr);
	if (ec == 0x21) {
		access = BM_FETCH;
		in_probe = f->elr == far;
	} else {
		access = (esr & (1u << 6)) ? BM_WRITE : BM_READ; /* WnR */
		in_probe = f->elr == (uintptr_t)bm_probe_store_insn ||
			   f->elr == (uintptr_t)bm_probe_load_insn;
	}
	switch (fsc & 0x3c) {
	case 0x04:
		kind = BM_FAULT_NOT_VALID; /* translation fault, level 0-3 */
		break;
	case 0x08:
		kind = BM_FAULT_ACCESS_FLAG;
		break;
	case 0x0c:
		kind = BM_FAULT_PERMISSION;
		break;
	default:
		bm_panic("unexpected fault status 0x%x: ESR 0x%llx FAR 0x%llx ELR 0x%llx", fsc,
			 (unsigned long long)esr, (unsigned long long)far,
			 (unsigned long long)f->elr);
	}
	act = bm_fault(far, access, kind, in_probe);
	if (act == BM_RETRY)
		return;
	if (act == BM_FIXUP && in_probe) {
		f->elr = access == BM_FETCH ? (uintptr_t)bm_probe_fetch_fixup
					    : (uintptr_t)bm_probe_fixup;
		return;
	}
	bm_panic("fatal fault: cpu %d %s at 0x%llx, ESR 0x%llx, ELR 0x%llx, entry 0x%llx",
		 bm_this_cpu()->id, access == BM_WRITE ? "write" : access == BM_READ ? "read" : "fetch",
		 (unsigned long long)far, (unsigned long long)esr, (unsigned long long)f->elr,
		 (unsigned long long)(far - WINDOW_VA < BM_NPAGES * BM_PAGE
					      ? ptxn_pte_val(l3_window[(far - WINDOW_VA) / BM_PAGE])
					      : 0));
}
