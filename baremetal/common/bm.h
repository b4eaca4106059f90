/* SPDX-License-Identifier: MIT */
/*
 * baremetal/common/bm.h - the tiny freestanding environment every bare-metal guest of the
 * qemu-system tier shares: console, timing, per-CPU state, the fault policy, and the
 * interface each architecture (baremetal/<arch>/plat.c) implements.
 *
 * Built like kernel code: -ffreestanding -nostdlib -fno-builtin (x86 also
 * -mgeneral-regs-only -mno-red-zone); only ptxn's headers and this directory.
 */
#ifndef PTXN_BAREMETAL_BM_H
#define PTXN_BAREMETAL_BM_H

#include <ptxn/ptxn.h>

#define BM_MAX_CPUS	4
/* The test window: this many 4 KiB pages, mapped by one leaf table that only ptxn writes. */
#define BM_NPAGES	64
#define BM_PAGE		4096u

#define BM_NORETURN __attribute__((noreturn))
#define BM_ALIGNED(n) __attribute__((aligned(n)))

/* ---- provided by baremetal/<arch>/plat.c ------------------------------------------------ */
void plat_putc(char c);
uint64_t plat_ticks(void);          /* monotonic counter */
uint64_t plat_tick_hz(void);        /* its frequency */
BM_NORETURN void plat_poweroff(bool pass);
/* Start every CPU QEMU has beyond the boot CPU; each runs bm_secondary(cpu). Returns count. */
int plat_start_secondaries(void);
const char *plat_cmdline(void);     /* -append string, "" if none */
const char *plat_name(void);        /* "aarch64-system", ... */
void plat_cpu_relax(void);

/* The test window: VA of page 0, its leaf slots, an alias of page i's data for the checker. */
uintptr_t plat_test_va(void);
ptxn_pte_t *plat_test_ptes(void);
uint64_t bm_test_pfn(int page);     /* common/main.c: the pages are identity-mapped */
/* Broadcast TLB invalidation of [start, end) on every CPU; returns when complete. */
void plat_flush_tlb_range(ptxn_mm_t *mm, uintptr_t start, uintptr_t end);
/* Invalidate this CPU's own TLB entry for va (after a software A/D fix-up). */
void plat_flush_tlb_local(uintptr_t va);
/* The entry value a fresh test page gets (common/main.c). */
ptxn_pte_t bm_base_pte(int page);
/* For the differential suite: the translation root the model starts from (physical) and
 * its mode (BM_MODEL_*). The model walks the same tables as the MMU. */
#define BM_MODEL_X86_PAE	1u
#define BM_MODEL_ARM64_HA_HD	2u
#define BM_MODEL_RISCV_SV39	4u  /* three levels from satp (else Sv48) */
uint64_t plat_model_root(unsigned *bm_model_flags);
/* What this MMU does about A/D (for the report): e.g. "hardware (HA+HD)". */
const char *plat_ad_mode(void);
bool plat_hw_ad(void);              /* false: A/D come from software fault handling */

/*
 * Probes: one access that may fault. Return 0 when the access completed, 1 when it faulted
 * and the fault policy said "give up" (the handler moved the PC to the probe's fix-up).
 */
int bm_probe_load(uintptr_t va, uint32_t *val);
int bm_probe_store(uintptr_t va, uint32_t val);
int bm_probe_fetch(uintptr_t va); /* calls va, which must hold a return instruction */
/* The bytes of a "return" instruction and their length, for fetch probes. */
extern const uint8_t plat_ret_insn[];
extern const int plat_ret_insn_len;
/* Make data written to a page visible to instruction fetch (arm64: DC CVAU/IC IVAU). */
void plat_sync_icache(uintptr_t va, unsigned len);

/* ---- the fault policy (common/rt.c), called by the arch's exception handler ------------- */
enum bm_access { BM_READ = 0, BM_WRITE = 1, BM_FETCH = 2 };
enum bm_fault_kind {
	BM_FAULT_NOT_VALID,   /* x86 P=0, arm64 translation fault, radix V=0 */
	BM_FAULT_ACCESS_FLAG, /* arm64 access-flag fault (HA off) */
	BM_FAULT_PERMISSION,  /* valid entry, access not permitted (or arm64 dirty-state fault) */
	BM_FAULT_RC,          /* radix "atomic RC update" storage interrupt */
	BM_FAULT_RESERVED     /* x86 reserved bit set in a paging entry */
};
enum bm_fault_action { BM_RETRY, BM_FIXUP, BM_FATAL };
/* What the guest is doing, which decides what a fault on the test window means. */
enum bm_fault_mode {
	BM_MODE_STRICT,  /* any fault is fatal */
	BM_MODE_PROBE,   /* differential: report every fault to the probe, change nothing */
	BM_MODE_RACE,    /* wait out broken entries, resolve software A/D, retry */
	BM_MODE_DOWNGRADE /* as RACE, but a write to a read-only entry fails the probe */
};
enum bm_fault_action bm_fault(uintptr_t va, enum bm_access access, enum bm_fault_kind kind,
			      bool in_probe);

/* ---- per-CPU state ------------------------------------------------------------------------ */
struct bm_cpu {
	int id;
	volatile int mode;           /* enum bm_fault_mode */
	uint32_t faults;             /* every fault on the test window */
	uint32_t broken_waits;       /* faults on an entry a transaction had made invalid */
	uint32_t sw_ad;              /* A/D set by the fault handler (ptxn_ptep_mark_accessed) */
	uint32_t perm_refused;       /* writes refused on a read-only entry */
	uint32_t last_fault_kind;    /* for the differential suite */
	uint32_t last_fault_access;
	uint32_t fault_count_probe;  /* faults seen by the current probe */
	uint64_t rng;
} BM_ALIGNED(64);
extern struct bm_cpu bm_cpus[BM_MAX_CPUS];
struct bm_cpu *bm_this_cpu(void); /* arch: from a register set at CPU start */
void bm_secondary(int cpu);        /* common: what secondaries run */
void bm_main(void);                /* common: what the boot CPU runs after plat setup */
void bm_cpu_set(int cpu);          /* common: mark cpu's stack (call first on that CPU) */
void bm_post_work(void (*fn)(int cpu)); /* run fn on every secondary CPU */
void bm_wait_work(int nsecondaries);
extern uint8_t bm_stacks[BM_MAX_CPUS][16384];
extern uint8_t bm_test_data[BM_NPAGES][BM_PAGE];

/* ---- runtime ------------------------------------------------------------------------------ */
void bm_puts(const char *s);
void bm_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void bm_format(char *buf, unsigned size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
BM_NORETURN void bm_panic(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int bm_strncmp(const char *a, const char *b, size_t n);
uint64_t bm_cmdline_u64(const char *key, uint64_t dflt);
/* Copy /chosen/bootargs of a flattened device tree into buf ("" if none or no FDT). */
void bm_fdt_bootargs(const void *fdt, char *buf, unsigned size);
uint64_t bm_rand(uint64_t *state);  /* xorshift64: shifts and xors only (no libgcc) */
static inline uint32_t bm_rand_below(uint64_t *state, uint32_t n)
{
	return n ? (uint32_t)(bm_rand(state) >> 33) % n : 0;
}
static inline void bm_delay(uint32_t n)
{
	while (n--)
		__asm__ __volatile__("" ::: "memory");
}
uint64_t bm_elapsed_us(uint64_t t0);

/* 32-bit shared counters and flags (no 64-bit atomics outside ptxn's own, for i686). */
static inline uint32_t bm_load(const volatile uint32_t *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}
static inline void bm_store(volatile uint32_t *p, uint32_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}
static inline uint32_t bm_add(volatile uint32_t *p, uint32_t v)
{
	return __atomic_add_fetch(p, v, __ATOMIC_ACQ_REL);
}

/* Suites (common/suites.c). */
void bm_run_suites(int ncpus);

#endif /* PTXN_BAREMETAL_BM_H */
