/* SPDX-License-Identifier: MIT */
/*
 * baremetal/x86/plat.c - the PC platform for x86_64-system and i686-system: COM1 console,
 * TSC calibrated on the PIT, fw_cfg for the CPU count, xAPIC INIT-SIPI-SIPI and a TLB
 * shootdown IPI, isa-debug-exit, the page-fault handler, and the page tables:
 *
 *   x86_64 (4-level): boot.S identity-maps 4 GiB with 2 MiB pages;
 *   i686 (32-bit PAE, EFER.NXE on): built here, same identity map, PDPT + 4 page directories.
 *   Both: the test window at 0x40000000 is a 4 KiB page table whose entries are made by
 *   ptxn_pfn_pte() only, hung under the page directory in place of one 2 MiB page.
 * CR0.WP is set, so supervisor writes honour R/W=0 (the downgrade suite depends on it).
 */
#include "../common/bm.h"

#define COM1		0x3f8
#define DEBUG_EXIT_PORT	0xf4	/* -device isa-debug-exit,iobase=0xf4,iosize=0x04 */
#define FW_CFG_SEL	0x510
#define FW_CFG_DATA	0x511
#define FW_CFG_NB_CPUS	0x05
#define APIC_BASE	0xfee00000ul
#define APIC_ID		0x020
#define APIC_EOI	0x0b0
#define APIC_SVR	0x0f0
#define APIC_ICR_LO	0x300
#define APIC_ICR_HI	0x310
#define ICR_ALL_BUT_SELF (3u << 18)
#define ICR_PENDING	(1u << 12)
#define VEC_SHOOTDOWN	0xf0
#define VEC_SPURIOUS	0xff
#define TRAMP_BASE	0x8000u
#define WINDOW_VA	0x40000000ul

#define PDE_P		(1ull << 0)
#define PDE_RW		(1ull << 1)
#define PDE_A		(1ull << 5)
#define PDE_D		(1ull << 6)
#define PDE_PS		(1ull << 7)

#if BM_X86_64
#define NAME "x86_64-system"
#else
#define NAME "i686-system"
#endif

/* Paging structures (boot.S fills them on x86_64). */
ptxn_pte_t bm_x86_pml4[512] BM_ALIGNED(4096);
ptxn_pte_t bm_x86_pdpt[512] BM_ALIGNED(4096); /* PAE: only the first 4 are used */
ptxn_pte_t bm_x86_pd[4][512] BM_ALIGNED(4096);
static ptxn_pte_t window_pt[512] BM_ALIGNED(4096);
uint32_t bm_x86_cr3;
extern uint32_t bm_multiboot_info;
extern volatile uint32_t bm_ap_next;
extern char bm_tramp_start[], bm_tramp_end[];
extern char bm_probe_store_insn[], bm_probe_load_insn[], bm_probe_fixup[],
	bm_probe_fetch_fixup[];

static uint64_t tsc_hz = 1000000000ull;
static int ncpus_fw = 1;
static char cmdline[256];

/* ---- port I/O, MSRs, TSC, APIC ------------------------------------------------------------ */
static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ __volatile__("outb %0, %1" :: "a"(v), "Nd"(port));
}

static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ __volatile__("outw %0, %1" :: "a"(v), "Nd"(port));
}

static inline uint8_t inb(uint16_t port)
{
	uint8_t v;

	__asm__ __volatile__("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi) :: "memory");
	return (uint64_t)hi << 32 | lo;
}

static inline uint32_t apic_read(unsigned reg)
{
	return *(volatile uint32_t *)(APIC_BASE + reg);
}

static inline void apic_write(unsigned reg, uint32_t v)
{
	*(volatile uint32_t *)(APIC_BASE + reg) = v;
}

static inline void invlpg(uintptr_t va)
{
	__asm__ __volatile__("invlpg (%0)" :: "r"(va) : "memory");
}

/* ---- console, time, power ------------------------------------------------------------- */
void plat_putc(char c)
{
	while (!(inb(COM1 + 5) & 0x20))
		;
	outb(COM1, (uint8_t)c);
}

uint64_t plat_ticks(void)
{
	return rdtsc();
}

uint64_t plat_tick_hz(void)
{
	return tsc_hz;
}

void plat_cpu_relax(void)
{
	__asm__ __volatile__("pause" ::: "memory");
}

void plat_poweroff(bool pass)
{
	/* isa-debug-exit: QEMU exits with (value << 1) | 1: 1 = pass, 3 = fail. */
	outb(DEBUG_EXIT_PORT, pass ? 0 : 1);
	for (;;)
		__asm__ __volatile__("cli; hlt");
}

const char *plat_name(void)
{
	return NAME;
}

const char *plat_ad_mode(void)
{
	return BM_X86_64 ? "hardware (4-level paging, A/D by the walker)"
			 : "hardware (32-bit PAE paging, EFER.NXE, A/D by the walker)";
}

bool plat_hw_ad(void)
{
	return true;
}

const char *plat_cmdline(void)
{
	return cmdline;
}

/* The PIT's channel 2 gates 10 ms; the TSC counts through it (QEMU's TSC follows the host). */
static void calibrate_tsc(void)
{
	uint64_t t0, t1;
	uint16_t count = 11932; /* 1193182 Hz / 100 */

	outb(0x61, (uint8_t)((inb(0x61) & ~0x02) | 0x01));
	outb(0x43, 0xb0); /* channel 2, lobyte/hibyte, mode 0 */
	outb(0x42, (uint8_t)count);
	outb(0x42, (uint8_t)(count >> 8));
	t0 = rdtsc();
	while (!(inb(0x61) & 0x20))
		;
	t1 = rdtsc();
	tsc_hz = (t1 - t0) * 100;
}

static void read_cmdline(void)
{
	const uint32_t *mbi = (const uint32_t *)(uintptr_t)bm_multiboot_info;
	const char *s;
	unsigned i;

	if (!mbi || !(mbi[0] & (1u << 2)))
		return;
	s = (const char *)(uintptr_t)mbi[4];
	for (i = 0; s[i] && i < sizeof(cmdline) - 1; i++)
		cmdline[i] = s[i];
	cmdline[i] = 0;
}

static int fw_cfg_cpus(void)
{
	uint16_t n;

	outw(FW_CFG_SEL, FW_CFG_NB_CPUS);
	n = inb(FW_CFG_DATA);
	n |= (uint16_t)(inb(FW_CFG_DATA) << 8);
	return n ? n : 1;
}

/* ---- interrupts ----------------------------------------------------------------------------- */
#if BM_X86_64
struct frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rdi, rsi, rbp, rbx, rdx, rcx, rax;
	uint64_t vector, error, ip, cs, flags, sp, ss;
};
struct idt_entry {
	uint16_t off0, sel;
	uint8_t ist, type;
	uint16_t off1;
	uint32_t off2, zero;
};
#else
struct frame {
	uint32_t edi, esi, ebp, esp, ebx, edx, ecx, eax;
	uint32_t vector, error, ip, cs, flags;
};
struct idt_entry {
	uint16_t off0, sel;
	uint8_t zero, type;
	uint16_t off1;
};
#endif

static struct idt_entry idt[256] BM_ALIGNED(16);

#define ISR(n) extern char bm_isr##n[];
ISR(0) ISR(1) ISR(2) ISR(3) ISR(4) ISR(5) ISR(6) ISR(7) ISR(8) ISR(9) ISR(10) ISR(11) ISR(12)
ISR(13) ISR(14) ISR(15) ISR(16) ISR(17) ISR(18) ISR(19) ISR(240) ISR(255)
#undef ISR

static void idt_set(int vec, void *fn)
{
	uintptr_t a = (uintptr_t)fn;

	idt[vec].off0 = (uint16_t)a;
	idt[vec].sel = BM_X86_64 ? 0x18 : 0x08;
	idt[vec].type = 0x8e; /* present, DPL 0, interrupt gate */
	idt[vec].off1 = (uint16_t)(a >> 16);
#if BM_X86_64
	idt[vec].off2 = (uint32_t)(a >> 32);
#endif
}

static void idt_load(void)
{
	struct __attribute__((packed)) {
		uint16_t limit;
		uintptr_t base;
	} d = { sizeof(idt) - 1, (uintptr_t)idt };

	__asm__ __volatile__("lidt %0" :: "m"(d));
}

static void idt_init(void)
{
	void *stubs[20] = { bm_isr0, bm_isr1, bm_isr2, bm_isr3, bm_isr4, bm_isr5, bm_isr6,
			    bm_isr7, bm_isr8, bm_isr9, bm_isr10, bm_isr11, bm_isr12, bm_isr13,
			    bm_isr14, bm_isr15, bm_isr16, bm_isr17, bm_isr18, bm_isr19 };
	int i;

	for (i = 0; i < 20; i++)
		idt_set(i, stubs[i]);
	idt_set(VEC_SHOOTDOWN, bm_isr240);
	idt_set(VEC_SPURIOUS, bm_isr255);
}

/* The shootdown request CPU 0 posts before its IPI; every other CPU acknowledges it. */
static volatile uintptr_t shoot_start, shoot_end;
static volatile uint32_t shoot_acks;
static volatile uint32_t cpus_up = 1;

static void page_fault(struct frame *f)
{
	uintptr_t cr2;
	uint32_t err = (uint32_t)f->error;
	enum bm_access access;
	enum bm_fault_action act;
	bool in_probe;

	__asm__ __volatile__("mov %%cr2, %0" : "=r"(cr2));
	access = (err & (1u << 4)) ? BM_FETCH : (err & (1u << 1)) ? BM_WRITE : BM_READ;
	in_probe = access == BM_FETCH ? f->ip == cr2
				      : f->ip == (uintptr_t)bm_probe_store_insn ||
					f->ip == (uintptr_t)bm_probe_load_insn;
	act = bm_fault(cr2, access, (err & (1u << 3)) ? BM_FAULT_RESERVED
				    : (err & 1u) ? BM_FAULT_PERMISSION : BM_FAULT_NOT_VALID,
		       in_probe);
	if (act == BM_RETRY)
		return;
	if (act == BM_FIXUP && in_probe) {
		f->ip = access == BM_FETCH ? (uintptr_t)bm_probe_fetch_fixup
					   : (uintptr_t)bm_probe_fixup;
		return;
	}
	bm_panic("fatal page fault: cpu %d %s at 0x%llx, error 0x%x, IP 0x%llx, entry 0x%llx",
		 bm_this_cpu()->id, access == BM_WRITE ? "write" : access == BM_READ ? "read" : "fetch",
		 (unsigned long long)cr2, err, (unsigned long long)f->ip,
		 (unsigned long long)(cr2 - WINDOW_VA < BM_NPAGES * BM_PAGE
					      ? ptxn_pte_val(window_pt[(cr2 - WINDOW_VA) / BM_PAGE])
					      : 0));
}

void plat_trap(struct frame *f)
{
	uintptr_t va;

	switch (f->vector) {
	case 14:
		page_fault(f);
		return;
	case VEC_SHOOTDOWN:
		for (va = shoot_start; va < shoot_end; va += BM_PAGE)
			invlpg(va);
		apic_write(APIC_EOI, 0);
		bm_add(&shoot_acks, 1);
		return;
	case VEC_SPURIOUS:
		return;
	default:
		bm_panic("unexpected exception %u error 0x%x at IP 0x%llx on cpu %d",
			 (unsigned)f->vector, (unsigned)f->error, (unsigned long long)f->ip,
			 bm_this_cpu()->id);
	}
}

/* ---- TLB maintenance ---------------------------------------------------------------------- */
/*
 * INVLPG here, then a shootdown: an IPI that every other CPU answers after its own INVLPGs
 * (Linux's flush_tlb_mm_range / native_flush_tlb_multi, without the lazy-TLB tricks).
 * Only CPU 0 calls it; the others run with interrupts on.
 */
void plat_flush_tlb_range(ptxn_mm_t *mm, uintptr_t start, uintptr_t end)
{
	uint32_t others = bm_load(&cpus_up) - 1;
	uintptr_t va;

	(void)mm;
	start &= ~(uintptr_t)(BM_PAGE - 1);
	for (va = start; va < end; va += BM_PAGE)
		invlpg(va);
	if (!others)
		return;
	shoot_start = start;
	shoot_end = end;
	bm_store(&shoot_acks, 0);
	while (apic_read(APIC_ICR_LO) & ICR_PENDING)
		;
	apic_write(APIC_ICR_HI, 0);
	apic_write(APIC_ICR_LO, ICR_ALL_BUT_SELF | VEC_SHOOTDOWN);
	while (bm_load(&shoot_acks) < others)
		plat_cpu_relax();
}

void plat_flush_tlb_local(uintptr_t va)
{
	invlpg(va);
}

const uint8_t plat_ret_insn[] = { 0xc3 }; /* ret */
const int plat_ret_insn_len = 1;

void plat_sync_icache(uintptr_t va, unsigned len)
{
	/* x86 keeps instruction fetch coherent with stores (SDM Vol. 3A 8.1.3). */
	(void)va, (void)len;
	__asm__ __volatile__("" ::: "memory");
}

/* ---- the test window ------------------------------------------------------------------- */
uintptr_t plat_test_va(void)
{
	return WINDOW_VA;
}

ptxn_pte_t *plat_test_ptes(void)
{
	return window_pt;
}

uint64_t plat_model_root(unsigned *flags)
{
	*flags = BM_X86_64 ? 0 : BM_MODEL_X86_PAE;
	return BM_X86_64 ? (uintptr_t)bm_x86_pml4 : (uintptr_t)bm_x86_pdpt;
}

/* ---- paging -------------------------------------------------------------------------------- */
#if !BM_X86_64
/* 32-bit PAE: PDPTEs hold only P and the address (their bits 1, 2, 5-8 are reserved). */
static void build_pae_map(void)
{
	unsigned i, j;

	for (i = 0; i < 4; i++) {
		ptxn_set_pte(&bm_x86_pdpt[i], ptxn_make_pte((uintptr_t)bm_x86_pd[i] | PDE_P));
		for (j = 0; j < 512; j++)
			ptxn_set_pte(&bm_x86_pd[i][j],
				     ptxn_make_pte(((uint64_t)i << 30 | (uint64_t)j << 21) | PDE_P |
						   PDE_RW | PDE_A | PDE_D | PDE_PS));
	}
	bm_x86_cr3 = (uint32_t)(uintptr_t)bm_x86_pdpt;
}

static void enable_pae_paging(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("mov %%cr4, %0; orl $0x20, %0; mov %0, %%cr4" : "=&r"(lo) :: "memory");
	__asm__ __volatile__("mov %0, %%cr3" :: "r"(bm_x86_cr3) : "memory");
	__asm__ __volatile__("rdmsr" : "=a"(lo), "=d"(hi) : "c"(0xc0000080u));
	lo |= 1u << 11; /* EFER.NXE: bit 63 of an entry is XD, not reserved */
	__asm__ __volatile__("wrmsr" :: "a"(lo), "d"(hi), "c"(0xc0000080u));
	__asm__ __volatile__("mov %%cr0, %0; orl $0x80010000, %0; mov %0, %%cr0" : "=&r"(lo) ::
			     "memory");
}
#endif

static void map_window(void)
{
	int i;

	for (i = 0; i < BM_NPAGES; i++)
		ptxn_set_pte(&window_pt[i], bm_base_pte(i));
	/* Replace the 2 MiB page at WINDOW_VA (no RAM there) by the window's page table. */
	ptxn_set_pte(&bm_x86_pd[WINDOW_VA >> 30][(WINDOW_VA >> 21) & 511],
		     ptxn_make_pte((uintptr_t)window_pt | PDE_P | PDE_RW));
	uintptr_t cr3;

	__asm__ __volatile__("mov %%cr3, %0; mov %0, %%cr3" : "=&r"(cr3) :: "memory");
}

static void cpu_common_init(void)
{
	idt_load();
	apic_write(APIC_SVR, 0x100 | VEC_SPURIOUS); /* software-enable the local APIC */
}

void plat_boot(void)
{
	uint32_t feat_ext;

	bm_cpu_set(0);
#if !BM_X86_64
	build_pae_map();
	enable_pae_paging();
#endif
	idt_init();
	cpu_common_init();
	map_window();
	calibrate_tsc();
	read_cmdline();
	ncpus_fw = fw_cfg_cpus();
	__asm__ __volatile__("cpuid" : "=d"(feat_ext) : "a"(0x80000001u) : "ebx", "ecx");
	if (!(feat_ext & (1u << 20)))
		bm_panic("no NX in CPUID 0x80000001: use -cpu max");
	bm_main();
}

void plat_ap(uint32_t idx)
{
	bm_cpu_set((int)idx);
	cpu_common_init();
	bm_add(&cpus_up, 1);
	__asm__ __volatile__("sti");
	bm_secondary((int)idx);
}

static void delay_us(uint64_t us)
{
	uint64_t t0 = rdtsc(), n = tsc_hz / 1000000u * us;

	while (rdtsc() - t0 < n)
		plat_cpu_relax();
}

int plat_start_secondaries(void)
{
	unsigned len = (unsigned)(bm_tramp_end - bm_tramp_start), i;
	int want = ncpus_fw > BM_MAX_CPUS ? BM_MAX_CPUS : ncpus_fw;

	if (want < 2)
		return 0;
	for (i = 0; i < len; i++)
		((volatile char *)(uintptr_t)TRAMP_BASE)[i] = bm_tramp_start[i];
	/* INIT, then two STARTUPs with the trampoline's page number (SDM Vol. 3A 8.4.4.1). */
	apic_write(APIC_ICR_HI, 0);
	apic_write(APIC_ICR_LO, ICR_ALL_BUT_SELF | 0x4500);
	delay_us(10000);
	for (i = 0; i < 2; i++) {
		apic_write(APIC_ICR_LO, ICR_ALL_BUT_SELF | 0x4600 | (TRAMP_BASE >> 12));
		delay_us(200);
	}
	return want - 1;
}
