/* SPDX-License-Identifier: MIT */
/*
 * fuzz/fuzz_sim.h - the hardware side of the transaction harnesses (fuzz_commit.c,
 * fuzz_batch.c): a 4-level page table whose last level holds up to SIM_MAX consecutive
 * leaf entries (VA 0, 4 KiB, 8 KiB, ...), the format's own MMU walker making A/D updates
 * on them, and a record, per leaf, of what the hardware set since the transaction started.
 * Single-threaded: events run when the input says, so every failure replays exactly.
 *
 * The hardware side is the walker itself, so its rules are the MMU's: updates only on
 * hardware-valid entries, dirty only for a permitted write (x86 R/W, ARM64 DBM with
 * TCR.HD, radix W), plus the stale-TLB dirty write where the architecture allows it (x86
 * before CET, radix; hwemu/<format>/mmu.h ptxn_mmu_tlb_dirty) and a software fault handler
 * (ptxn_ptep_mark_accessed) where the MMU leaves A/D to software.
 */
#ifndef PTXN_FUZZ_SIM_H
#define PTXN_FUZZ_SIM_H

#include "fuzz_common.h"

#define TABLE_PA0 UINT64_C(0x100000)
#define SIM_MAX 4
#define SIM_VA(i) ((uint64_t)(i) * 4096)

static struct sim {
	uint64_t mem[4][512] __attribute__((aligned(4096))); /* table k at TABLE_PA0 + k pages */
	struct ptxn_mmu mmu;
	ptxn_pte_t *leaf;       /* leaf i maps SIM_VA(i) */
	unsigned nr;            /* leaves in use, 1..SIM_MAX */
	int phase;              /* 0: before start; 1: since start */
	bool young_since[SIM_MAX], dirty_since[SIM_MAX];
	unsigned flushes;
	uint8_t flush_events[4];
	unsigned nflush_events;
} sim;

static uint64_t slot_val(unsigned i)
{
	return ptxn_pte_val(ptxn_ptep_get(sim.leaf + i));
}

static void sim_record(unsigned i, uint64_t before, uint64_t after)
{
	bool y = false, d = false;

	ref_gained(before, after, &y, &d);
	if (sim.phase) {
		sim.young_since[i] |= y;
		sim.dirty_since[i] |= d;
	}
}

/* Every A/D update of a leaf: check it only sets A/D, record what it set since start. */
static void on_update(void *ctx, const struct ptxn_mmu_update *u)
{
	bool y = false, d = false;
	unsigned i;

	(void)ctx;
	if (u->slot < sim.leaf || u->slot >= sim.leaf + sim.nr)
		return; /* an upper level's A */
	i = (unsigned)(u->slot - sim.leaf);
	ref_gained(u->before, u->after, &y, &d);
	FUZZ_EQ(u->after, ref_hw_set(u->before, y, d), "a hardware update does more than set A/D");
	sim_record(i, u->before, u->after);
}

static void sim_setup(unsigned mmu_flags, unsigned nr)
{
	unsigned top, level;

	memset(&sim, 0, sizeof(sim));
	sim.nr = nr;
	sim.mmu.phys_base = (unsigned char *)sim.mem;
	sim.mmu.phys_start = TABLE_PA0;
	sim.mmu.phys_size = sizeof(sim.mem);
	sim.mmu.root = TABLE_PA0;
	sim.mmu.flags = mmu_flags;
	sim.mmu.updated = on_update;
#if defined(PTXN_FORMAT_POWERPC)
	sim.mmu.root_bits = 5; /* a 32-entry root keeps the tables small; NLS >= 5 */
#endif
	top = ptxn_mmu_top_level(&sim.mmu);
	for (level = top; level > 0; level--) {
		unsigned k = top - level;
		ptxn_pte_t *slot = (ptxn_pte_t *)&sim.mem[k][ptxn_mmu_index(&sim.mmu, 0, level)];

		ptxn_set_pte(slot, ptxn_make_pte(ptxn_mmu_table_entry(
					   &sim.mmu, TABLE_PA0 + 4096 * (uint64_t)(k + 1), level)));
	}
	sim.leaf = (ptxn_pte_t *)&sim.mem[top][ptxn_mmu_index(&sim.mmu, 0, 0)];
#if defined(PTXN_FORMAT_X86)
	if (mmu_flags & PTXN_MMU_X86_PAE)
		FUZZ_CHECK(ptxn_mmu_x86_load_pdptes(&sim.mmu), "PDPTE load failed");
#endif
}

/*
 * One event byte: kind = e & 7 (read, write, exec, stale-TLB write, fault-handler mark,
 * write, write, read), user mode = e & 8, the mark is for a write = e & 16, on leaf
 * (e >> 5) % nr.
 */
static void sim_event(uint8_t e)
{
	static const unsigned kinds[8] = {PTXN_MMU_READ, PTXN_MMU_WRITE, PTXN_MMU_EXEC, 3, 4,
					  PTXN_MMU_WRITE, PTXN_MMU_WRITE, PTXN_MMU_READ};
	unsigned kind = kinds[e & 7];
	bool user = (e & 8) != 0;
	unsigned i = (unsigned)(e >> 5) % sim.nr;
	struct ptxn_mmu_walk w;
	size_t len = strlen(fuzz_trace);

	if (len < sizeof(fuzz_trace) - 16)
		snprintf(fuzz_trace + len, sizeof(fuzz_trace) - len, " ev%u%s@%u", kind,
			 user ? "u" : "", i);
	if (kind == 3) {
		/* A write through a TLB entry cached writable and clean (any time: the TLB may
		 * predate a protection change). The arch decides what that may do. */
		if (ptxn_mmu_tlb_dirty(&sim.mmu, sim.leaf + i, 0, SIM_VA(i), &w) == PTXN_MMU_TLB_OK)
			return;
		kind = PTXN_MMU_WRITE; /* re-walk */
	}
	if (kind == 4) {
		/* A fault handler where the MMU leaves A/D to software: composes like hardware. */
		bool write = (e & 16) != 0;
		uint64_t before = slot_val(i), after;
		bool ok = ptxn_ptep_mark_accessed(sim.leaf + i, write);

		after = slot_val(i);
		if (!ok) {
			FUZZ_EQ(after, before, "ptxn_ptep_mark_accessed refused but changed the entry");
			return;
		}
		FUZZ_EQ(after, ref_hw_set(before, true, write && !ref_hw_dirty(before)),
			"ptxn_ptep_mark_accessed sets what the hardware would");
		sim_record(i, before, after);
		return;
	}
	ptxn_mmu_translate(&sim.mmu, SIM_VA(i), kind, user, &w);
}

static void on_flush(ptxn_mm_t *mm, uintptr_t start, uintptr_t end)
{
	unsigned i, n = sim.nflush_events;

	(void)mm, (void)start, (void)end;
	sim.flushes++;
	sim.nflush_events = 0; /* only the first flush runs them */
	/* The entry being remade is broken here: the walker must not update it (others may). */
	for (i = 0; i < n; i++)
		sim_event(sim.flush_events[i]);
}

/* Apply one software operation (the caller computing the new entry from old). */
static uint64_t apply_op(uint64_t v, uint8_t op, uint8_t a, uint8_t b)
{
	switch (op % 8u) {
	case 0:
		return ptxn_arch_pte_mkold(v);
	case 1:
		return ptxn_arch_pte_mkyoung(v);
	case 2:
		return ptxn_arch_pte_mkclean(v);
	case 3:
		return ptxn_arch_pte_mkdirty(v);
	case 4:
		return ptxn_arch_pte_wrprotect(v);
	case 5:
		return ptxn_arch_pte_mkwrite(v);
	case 6: {
		struct fuzz_in pin = {(const uint8_t[]){a, b}, 2};

		return ptxn_pte_val(ptxn_pte_modify(ptxn_make_pte(v), fuzz_prot(&pin, NULL)));
	}
	default: {
		uint64_t nr = a % 3u;

		if (ref_pfn(v) + nr > PTXN_PFN_MAX)
			return v;
		return ptxn_pte_val(ptxn_pte_advance_pfn(ptxn_make_pte(v), nr));
	}
	}
}

/* The caller's new entry: up to four software operations on old, recorded in the trace. */
static uint64_t caller_change(struct fuzz_in *in, uint64_t old)
{
	uint64_t next = old;
	unsigned i, n = fuzz_u8(in) % 5u;
	size_t len;

	for (i = 0; i < n; i++) {
		uint8_t op = fuzz_u8(in), a = fuzz_u8(in), b = fuzz_u8(in);

		next = apply_op(next, op, a, b);
	}
	len = strlen(fuzz_trace);
	snprintf(fuzz_trace + len, sizeof(fuzz_trace) - len, " | old 0x%016llx new 0x%016llx |",
		 (unsigned long long)old, (unsigned long long)next);
	return next;
}
/*
 * The configuration byte: strategy = cfg % 3, then quirk and MMU-mode bits 2-4: x86 bit 3
 * CET walker, bits 3+4 also PTXN_MM_X86_CET; ARM64 bit 2 erratum 2645198, bit 3 HA, bit 4
 * HA+HD; PowerPC bit 2 coprocessor, bit 3 R/C interrupt.
 */
struct sim_config {
	enum ptxn_strategy strategy;
	unsigned mm_flags, mmu_flags;
	bool cet_like; /* can an abnormal final entry only be ptxn's doing? */
};

static struct sim_config sim_config(uint8_t cfg)
{
	struct sim_config c;

	c.strategy = (enum ptxn_strategy)(cfg % 3u);
	c.mm_flags = 0;
	c.mmu_flags = 0;
	c.cet_like = true;
#if defined(PTXN_FORMAT_X86)
	if (cfg & 8)
		c.mmu_flags |= PTXN_MMU_X86_CET;
	else
		c.cet_like = false; /* pre-CET: a stale TLB entry may set D in a read-only entry */
	/*
	 * PTXN_MM_X86_CET promises no stale-TLB D into a read-only entry (AUTO then stores
	 * young read-only entries plainly): only honest, so only given, with the CET walker.
	 */
	if ((cfg & 0x18) == 0x18)
		c.mm_flags |= PTXN_MM_X86_CET;
	if (PTXN_X86_PAE)
		c.mmu_flags |= PTXN_MMU_X86_PAE;
#elif defined(PTXN_FORMAT_ARM64)
	if (cfg & 4)
		c.mm_flags |= PTXN_MM_ERRATUM_ARM64_2645198;
	if (cfg & 0x18)
		c.mmu_flags |= PTXN_MMU_ARM64_HA | ((cfg & 0x10) ? PTXN_MMU_ARM64_HD : 0);
#elif defined(PTXN_FORMAT_POWERPC)
	if (cfg & 4)
		c.mm_flags |= PTXN_MM_COPROCESSOR;
	if (cfg & 8)
		c.mmu_flags |= PTXN_MMU_PPC_RC_INTERRUPT;
#elif defined(PTXN_FORMAT_RISCV)
	/* Svade: page faults, A/D set only by the harness's fault-handler events, which may
	 * land inside a transaction: so never the mm's PTXN_MM_RISCV_SVADE promise (it needs
	 * those handlers under the PTE lock). Sv39 or Sv48. */
	if (cfg & 8)
		c.mmu_flags |= PTXN_MMU_RISCV_SVADE;
	if (cfg & 4)
		c.mmu_flags |= PTXN_MMU_RISCV_SV39;
#endif
	return c;
}

#endif /* PTXN_FUZZ_SIM_H */
