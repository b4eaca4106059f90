/* SPDX-License-Identifier: MIT */
/*
 * fuzz/fuzz_commit.c - libFuzzer harness over the transaction's commit merge rule: a real
 * ptxn_modify_prot_start()/ptxn_modify_prot_commit() on a slot of a small page table, with
 * the format's own MMU walker (hwemu/mmu.h, arch/<format>/mmu.h) making Accessed/Dirty
 * updates before start, between start and commit, and inside the TLB-flush hook the
 * transaction calls. Single-threaded: the interleaving is the input's, so every failure
 * replays exactly. Compiled once per format, like fuzz_format.c.
 *
 * The hardware side is the walker itself, so its rules are the MMU's: updates only on
 * hardware-valid entries, dirty only for a permitted write (x86 R/W, ARM64 DBM with
 * TCR.HD, radix W), plus the stale-TLB dirty write where the architecture allows it (x86
 * before CET, radix; arch/<format>/mmu.h ptxn_mmu_tlb_dirty) and a software fault handler
 * (ptxn_ptep_mark_accessed) where the MMU leaves A/D to software.
 *
 * Input: config byte (strategy, mm quirk, MMU mode), the entry (pfn, protection, up to 3
 * operations), pre-start events, the new entry's operations on what start returned
 * (mk*, ptxn_pte_modify, advance_pfn), events between, events inside the flush hook.
 *
 * Invariants:
 *   - start returns the entry as it was (hardware updates before start included);
 *   - the final entry equals ref_merge(new, A/D the hardware set since start) - i.e.
 *     new | (A/D set since start) with the CET and ARM64 dirty placement - or, when new is
 *     bit-identical to what start returned (commit writes nothing), that entry plus
 *     exactly what the hardware set (on pre-CET x86 a stale TLB entry may leave R/W=0,D=1;
 *     that is the hardware's write, not ptxn's);
 *   - the frame is new's, no reserved bit is set, and with CET on (and on ARM64/PowerPC)
 *     the final entry is in normal form (never R/W=0,D=1);
 *   - every hardware update only sets A/D (checks the model against the walker);
 *   - PTXN_DEBUG contract checks stay silent and the mm is idle afterwards.
 */
#ifndef PTXN_DEBUG
#define PTXN_DEBUG 1
#endif
#include "fuzz_common.h"

#define TABLE_PA0 UINT64_C(0x100000)
#define VA UINT64_C(0)

static struct sim {
	uint64_t mem[4][512] __attribute__((aligned(4096))); /* table k at TABLE_PA0 + k pages */
	struct ptxn_mmu mmu;
	ptxn_pte_t *leaf;
	int phase;              /* 0: before start; 1: since start */
	bool young_since, dirty_since;
	unsigned flushes;
	uint8_t flush_events[4];
	unsigned nflush_events;
} sim;

static uint64_t slot_val(void)
{
	return ptxn_pte_val(ptxn_ptep_get(sim.leaf));
}

/* Every A/D update of the leaf: check it only sets A/D, record what it set since start. */
static void on_update(void *ctx, const struct ptxn_mmu_update *u)
{
	bool y = false, d = false;

	(void)ctx;
	if (u->slot != sim.leaf)
		return; /* an upper level's A */
	ref_gained(u->before, u->after, &y, &d);
	FUZZ_EQ(u->after, ref_hw_set(u->before, y, d), "a hardware update does more than set A/D");
	if (sim.phase) {
		sim.young_since |= y;
		sim.dirty_since |= d;
	}
}

static void sim_setup(unsigned mmu_flags)
{
	unsigned top, level;

	memset(&sim, 0, sizeof(sim));
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
		ptxn_pte_t *slot = (ptxn_pte_t *)&sim.mem[k][ptxn_mmu_index(&sim.mmu, VA, level)];

		ptxn_set_pte(slot, ptxn_make_pte(ptxn_mmu_table_entry(
					   &sim.mmu, TABLE_PA0 + 4096 * (uint64_t)(k + 1), level)));
	}
	sim.leaf = (ptxn_pte_t *)&sim.mem[top][ptxn_mmu_index(&sim.mmu, VA, 0)];
#if defined(PTXN_FORMAT_X86)
	if (mmu_flags & PTXN_MMU_X86_PAE)
		FUZZ_CHECK(ptxn_mmu_x86_load_pdptes(&sim.mmu), "PDPTE load failed");
#endif
}

/* One event: an access through the walker, a stale-TLB write, or a fault handler's mark. */
static void sim_event(uint8_t e)
{
	static const unsigned kinds[8] = {PTXN_MMU_READ, PTXN_MMU_WRITE, PTXN_MMU_EXEC, 3, 4,
					  PTXN_MMU_WRITE, PTXN_MMU_WRITE, PTXN_MMU_READ};
	unsigned kind = kinds[e & 7];
	bool user = (e & 8) != 0;
	struct ptxn_mmu_walk w;
	size_t len = strlen(fuzz_trace);

	if (len < sizeof(fuzz_trace) - 16)
		snprintf(fuzz_trace + len, sizeof(fuzz_trace) - len, " ev%u%s", kind, user ? "u" : "");
	if (kind == 3) {
		/* A write through a TLB entry cached writable and clean (any time: the TLB may
		 * predate a protection change). The arch decides what that may do. */
		if (ptxn_mmu_tlb_dirty(&sim.mmu, sim.leaf, 0, VA, &w) == PTXN_MMU_TLB_OK)
			return;
		kind = PTXN_MMU_WRITE; /* re-walk */
	}
	if (kind == 4) {
		/* A fault handler where the MMU leaves A/D to software: composes like hardware. */
		bool write = (e & 16) != 0;
		uint64_t before = slot_val(), after;
		bool ok = ptxn_ptep_mark_accessed(sim.leaf, write), y = false, d = false;

		after = slot_val();
		if (!ok) {
			FUZZ_EQ(after, before, "ptxn_ptep_mark_accessed refused but changed the entry");
			return;
		}
		FUZZ_EQ(after, ref_hw_set(before, true, write && !ref_hw_dirty(before)),
			"ptxn_ptep_mark_accessed sets what the hardware would");
		ref_gained(before, after, &y, &d);
		if (sim.phase) {
			sim.young_since |= y;
			sim.dirty_since |= d;
		}
		return;
	}
	ptxn_mmu_translate(&sim.mmu, VA, kind, user, &w);
}

static void on_flush(ptxn_mm_t *mm, uintptr_t start, uintptr_t end)
{
	unsigned i, n = sim.nflush_events;

	(void)mm, (void)start, (void)end;
	sim.flushes++;
	sim.nflush_events = 0; /* only the first flush runs them */
	/* The entry is broken here: no MMU may update it (the walker must agree). */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	uint8_t cfg = fuzz_u8(&in);
	enum ptxn_strategy strategy = (enum ptxn_strategy)(cfg % 3u);
	unsigned mm_flags = 0, mmu_flags = 0, n, i;
	uint64_t pfn, v, start_val, old, next, fin, want;
	ptxn_prot_t prot;
	ptxn_mm_t mm;
	bool cet_like = true; /* can the final entry be abnormal only by ptxn's fault? */

#if defined(PTXN_FORMAT_X86)
	if (cfg & 8)
		mmu_flags |= PTXN_MMU_X86_CET;
	else
		cet_like = false; /* pre-CET: a stale TLB entry may set D in a read-only entry */
	if (PTXN_X86_PAE)
		mmu_flags |= PTXN_MMU_X86_PAE;
#elif defined(PTXN_FORMAT_ARM64)
	if (cfg & 4)
		mm_flags |= PTXN_MM_ERRATUM_ARM64_2645198;
	if (cfg & 0x18)
		mmu_flags |= PTXN_MMU_ARM64_HA | ((cfg & 0x10) ? PTXN_MMU_ARM64_HD : 0);
#elif defined(PTXN_FORMAT_POWERPC)
	if (cfg & 4)
		mm_flags |= PTXN_MM_COPROCESSOR;
	if (cfg & 8)
		mmu_flags |= PTXN_MMU_PPC_RC_INTERRUPT;
#endif
	sim_setup(mmu_flags);

	/* The entry: a frame, a protection, a few operations (as software leaves entries). */
	pfn = fuzz_pfn(&in);
	prot = fuzz_prot(&in, NULL);
	v = ptxn_pte_val(ptxn_pfn_pte(pfn, prot));
	n = fuzz_u8(&in) % 4u;
	for (i = 0; i < n; i++)
		v = apply_op(v, fuzz_u8(&in) % 6u, 0, 0);
	snprintf(fuzz_trace, sizeof(fuzz_trace),
		 "strategy %s mm 0x%x mmu 0x%x entry 0x%016llx", ptxn_strategy_name(strategy),
		 mm_flags, mmu_flags, (unsigned long long)v);
	REF_CHECK_ENTRY(v, "initial entry");
	ptxn_set_pte(sim.leaf, ptxn_make_pte(v));

	/* The MMU uses it before the transaction. */
	n = fuzz_u8(&in) % 4u;
	for (i = 0; i < n; i++)
		sim_event(fuzz_u8(&in));
	start_val = slot_val();

	ptxn_mm_init(&mm);
	ptxn_mm_set_strategy(&mm, strategy);
	ptxn_mm_set_flags(&mm, mm_flags);
	ptxn_mm_set_flush_tlb_range(&mm, on_flush, NULL);
	/* Flush events run inside the first flush, at start (erratum) or at commit (BBM). */
	sim.nflush_events = fuzz_u8(&in) % 3u;
	for (i = 0; i < sim.nflush_events; i++)
		sim.flush_events[i] = fuzz_u8(&in);

	sim.phase = 1; /* from here on, what the MMU sets is "since start" */
	old = ptxn_pte_val(ptxn_modify_prot_start(&mm, (uintptr_t)VA, sim.leaf));
	FUZZ_EQ(old, start_val, "start returns the entry as it was");

	/* The caller computes the new entry from old. */
	next = old;
	n = fuzz_u8(&in) % 5u;
	for (i = 0; i < n; i++) {
		uint8_t op = fuzz_u8(&in), a = fuzz_u8(&in), b = fuzz_u8(&in);

		next = apply_op(next, op, a, b);
	}
	{
		size_t len = strlen(fuzz_trace);

		snprintf(fuzz_trace + len, sizeof(fuzz_trace) - len, " | old 0x%016llx new 0x%016llx |",
			 (unsigned long long)old, (unsigned long long)next);
	}

	/* The MMU keeps going while the transaction is open. */
	n = fuzz_u8(&in) % 5u;
	for (i = 0; i < n; i++)
		sim_event(fuzz_u8(&in));

	ptxn_modify_prot_commit(&mm, (uintptr_t)VA, sim.leaf, ptxn_make_pte(old),
				ptxn_make_pte(next));
	FUZZ_CHECK(ptxn_mm_check_idle(&mm), "a transaction is still open after commit");

	fin = slot_val();
	if (next == old)
		want = ref_hw_set(old, sim.young_since, sim.dirty_since);
	else
		want = ref_merge(next, sim.young_since, sim.dirty_since);
	FUZZ_CHECK(fin == want,
		   "commit: got 0x%016llx, want 0x%016llx (new 0x%016llx, old 0x%016llx, "
		   "young since start %d, dirty since start %d, flushes %u)",
		   (unsigned long long)fin, (unsigned long long)want, (unsigned long long)next,
		   (unsigned long long)old, sim.young_since, sim.dirty_since, sim.flushes);
	FUZZ_EQ(ref_pfn(fin), ref_pfn(next), "frame after commit");
	FUZZ_CHECK(!(fin & REF_RESERVED), "reserved bits after commit: 0x%016llx",
		   (unsigned long long)fin);
	if (cet_like && !ref_abnormal(next) && !ref_abnormal(old))
		REF_CHECK_ENTRY(fin, "entry after commit");
	return 0;
}
