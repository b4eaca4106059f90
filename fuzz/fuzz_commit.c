/* SPDX-License-Identifier: MIT */
/*
 * fuzz/fuzz_commit.c - libFuzzer harness over the transaction's commit merge rule: a real
 * ptxn_modify_prot_start()/ptxn_modify_prot_commit() on a slot of a small page table, with
 * the format's own MMU walker (hwemu/mmu.h, hwemu/<format>/mmu.h) making Accessed/Dirty
 * updates before start, between start and commit, and inside the TLB-flush hook the
 * transaction calls (fuzz_sim.h: the hardware side and its rules). Single-threaded: the
 * interleaving is the input's, so every failure replays exactly. Compiled once per
 * format, like fuzz_format.c.
 *
 * Input: config byte (strategy, mm quirk, MMU mode), the entry (pfn, protection, up to 3
 * operations), pre-start events, the new entry's operations on what start returned
 * (mk*, ptxn_pte_modify, advance_pfn), events between, events inside the flush hook.
 *
 * Invariants:
 *   - start returns the entry as it was (hardware updates before start included; a
 *     live ARM64 contiguous entry unfolded, without CONT);
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

#include "fuzz_sim.h"


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	uint8_t cfg = fuzz_u8(&in);
	struct sim_config c = sim_config(cfg);
	enum ptxn_strategy strategy = c.strategy;
	unsigned mm_flags = c.mm_flags, mmu_flags = c.mmu_flags, n, i;
	uint64_t pfn, v, start_val, old, next, fin, want;
	ptxn_prot_t prot;
	ptxn_mm_t mm;
	bool cet_like = c.cet_like;

	sim_setup(mmu_flags, 1);

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
	start_val = slot_val(0);

	ptxn_mm_init(&mm);
	ptxn_mm_set_strategy(&mm, strategy);
	ptxn_mm_set_flags(&mm, mm_flags);
	ptxn_mm_set_flush_tlb_range(&mm, on_flush, NULL);
	/* Flush events run inside the first flush, at start (erratum) or at commit (BBM). */
	sim.nflush_events = fuzz_u8(&in) % 3u;
	for (i = 0; i < sim.nflush_events; i++)
		sim.flush_events[i] = fuzz_u8(&in);

	sim.phase = 1; /* from here on, what the MMU sets is "since start" */
	old = ptxn_pte_val(ptxn_modify_prot_start(&mm, (uintptr_t)SIM_VA(0), sim.leaf));
	FUZZ_EQ(old, ref_unfolded(start_val), "start returns the entry as it was");

	/* The caller computes the new entry from old. */
	next = caller_change(&in, old);

	/* The MMU keeps going while the transaction is open. */
	n = fuzz_u8(&in) % 5u;
	for (i = 0; i < n; i++)
		sim_event(fuzz_u8(&in));

	ptxn_modify_prot_commit(&mm, (uintptr_t)SIM_VA(0), sim.leaf, ptxn_make_pte(old),
				ptxn_make_pte(next));
	FUZZ_CHECK(ptxn_mm_check_idle(&mm), "a transaction is still open after commit");

	fin = slot_val(0);
	if (next == old)
		want = ref_hw_set(old, sim.young_since[0], sim.dirty_since[0]);
	else
		want = ref_merge(ref_committed(next), sim.young_since[0], sim.dirty_since[0]);
	FUZZ_CHECK(fin == want,
		   "commit: got 0x%016llx, want 0x%016llx (new 0x%016llx, old 0x%016llx, "
		   "young since start %d, dirty since start %d, flushes %u)",
		   (unsigned long long)fin, (unsigned long long)want, (unsigned long long)next,
		   (unsigned long long)old, sim.young_since[0], sim.dirty_since[0], sim.flushes);
	FUZZ_EQ(ref_pfn(fin), ref_pfn(next), "frame after commit");
	FUZZ_CHECK(!(fin & REF_RESERVED), "reserved bits after commit: 0x%016llx",
		   (unsigned long long)fin);
	if (cet_like && !ref_abnormal(next) && !ref_abnormal(old))
		REF_CHECK_ENTRY(fin, "entry after commit");
	return 0;
}
