/* SPDX-License-Identifier: MIT */
/*
 * fuzz/fuzz_batch.c - libFuzzer harness over the batched transaction:
 * ptxn_modify_prot_start_ptes()/ptxn_modify_prot_commit_ptes() on 1-4 consecutive entries
 * of one folio (consecutive frames, one protection, A/D per entry), with the format's MMU
 * walker updating any of them before start, between start and commit, and inside the
 * flush hook (fuzz_sim.h). Compiled once per format, like the other harnesses.
 *
 * Input: config byte (as fuzz_commit.c), nr, the folio (pfn, protection, up to 3
 * operations, then one A/D byte per entry: bit 0 young, bit 1 dirty), pre-start events,
 * flush events, the new entry's operations on what start returned, events between.
 *
 * Invariants (docs/api.md, ptxn_modify_prot_start_ptes / _commit_ptes):
 *   - start returns the first entry as it was, with the young and dirty state of all nr
 *     folded in (dirty placed by the format's rule; a live ARM64 contiguous entry
 *     unfolded, without CONT);
 *   - after commit, entry i equals ref_merge(ptxn_pte_advance_pfn(new, i), A/D the
 *     hardware set on entry i since start): new | (A/D since start), CET and ARM64 rules;
 *     MERGE also keeps the hardware A/D entry i held at start (Xen PRESERVE_AD), and a new
 *     entry that ages or cleans is reported as PTXN_VIOLATION_BATCH_DROPS_AD;
 *   - frame of entry i = new's + i; no reserved bit; normal form where the hardware cannot
 *     make it abnormal; contract checks silent and the mm idle after commit.
 */
#ifndef PTXN_DEBUG
#define PTXN_DEBUG 1
#endif
#include "fuzz_sim.h"

/*
 * An AUTO or MERGE batch keeps the hardware A/D the entries hold at commit (Xen
 * PRESERVE_AD), so a new entry that ages or cleans the folio is a contract violation there
 * (reported, and the drop not made); any other violation is a failure.
 */
static bool drop_expected;
static unsigned drops_reported;

static void on_violation(const struct ptxn_violation *v)
{
	FUZZ_CHECK(drop_expected && v->kind == PTXN_VIOLATION_BATCH_DROPS_AD,
		   "unexpected contract violation %d: %s", (int)v->kind, v->what);
	drops_reported++;
}

/* A member a contiguous unfold touches: valid (ARM64; no other format has blocks). */
static bool ref_batch_live(uint64_t v)
{
#if defined(PTXN_FORMAT_ARM64)
	return (v & PTXN_ARM64_VALID) != 0;
#else
	(void)v;
	return false;
#endif
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	struct sim_config c = sim_config(fuzz_u8(&in));
	unsigned nr = 1 + fuzz_u8(&in) % SIM_MAX, n, i;
	uint64_t pfn, v, first, old, next, want, at_start[SIM_MAX];
	bool young_any = false, dirty_any = false, block_young = false, block_dirty = false;
	bool unfolds;
	ptxn_prot_t prot;
	ptxn_mm_t mm;

	sim_setup(c.mmu_flags, nr);

	/* The folio: nr frames from pfn, one protection; A/D differ per entry. */
	pfn = fuzz_pfn(&in);
	/* Room for the folio and the new entry's advances (4 operations of at most 2). */
	if (pfn > PTXN_PFN_MAX - 4 * SIM_MAX)
		pfn = PTXN_PFN_MAX - 4 * SIM_MAX;
	prot = fuzz_prot(&in, NULL);
	v = ptxn_pte_val(ptxn_pfn_pte(pfn, prot));
	n = fuzz_u8(&in) % 4u;
	for (i = 0; i < n; i++)
		v = apply_op(v, fuzz_u8(&in) % 6u, 0, 0);
	snprintf(fuzz_trace, sizeof(fuzz_trace), "strategy %s mm 0x%x mmu 0x%x nr %u entry 0x%016llx",
		 ptxn_strategy_name(c.strategy), c.mm_flags, c.mmu_flags, nr, (unsigned long long)v);
	for (i = 0; i < nr; i++) {
		uint8_t ad = fuzz_u8(&in);
		uint64_t e = ptxn_pte_val(ptxn_pte_advance_pfn(ptxn_make_pte(v), i));

		e = (ad & 1) ? ptxn_arch_pte_mkyoung(e) : ptxn_arch_pte_mkold(e);
		e = (ad & 2) ? ptxn_arch_pte_mkdirty(e) : ptxn_arch_pte_mkclean(e);
		REF_CHECK_ENTRY(e, "initial entry");
		ptxn_set_pte(sim.leaf + i, ptxn_make_pte(e));
	}

	n = fuzz_u8(&in) % 6u;
	for (i = 0; i < n; i++)
		sim_event(fuzz_u8(&in));
	first = slot_val(0);
	for (i = 0; i < nr; i++) {
		at_start[i] = slot_val(i);
		young_any |= ref_young(slot_val(i));
		dirty_any |= ref_dirty(slot_val(i));
		if (ref_batch_live(at_start[i])) { /* the block's A/D: the other members are empty */
			block_young |= ref_young(at_start[i]);
			block_dirty |= ref_dirty(at_start[i]);
		}
	}
	unfolds = ref_unfolded(first) != first; /* a live contiguous entry starts the batch */

	ptxn_mm_init(&mm);
	ptxn_mm_set_strategy(&mm, c.strategy);
	ptxn_mm_set_flags(&mm, c.mm_flags);
	ptxn_mm_set_flush_tlb_range(&mm, on_flush, NULL);
	ptxn_mm_set_violation_hook(&mm, on_violation);
	drops_reported = 0;
	sim.nflush_events = fuzz_u8(&in) % 3u;
	for (i = 0; i < sim.nflush_events; i++)
		sim.flush_events[i] = fuzz_u8(&in);

	sim.phase = 1;
	old = ptxn_pte_val(ptxn_modify_prot_start_ptes(&mm, (uintptr_t)SIM_VA(0), sim.leaf, nr));
	want = ref_unfolded(first);
	want = young_any ? want | REF_YOUNG : want;
	want = dirty_any ? ref_sw_mkdirty(want) : want;
	FUZZ_EQ(old, want, "start_ptes returns the first entry with the folio's A/D");

	next = caller_change(&in, old);

	n = fuzz_u8(&in) % 6u;
	for (i = 0; i < n; i++)
		sim_event(fuzz_u8(&in));

	drop_expected = c.strategy != PTXN_STRATEGY_CLEAR &&
			((ref_young(old) && !ref_young(next)) || (ref_dirty(old) && !ref_dirty(next)));
	ptxn_modify_prot_commit_ptes(&mm, (uintptr_t)SIM_VA(0), sim.leaf, ptxn_make_pte(old),
				     ptxn_make_pte(next), nr);
	FUZZ_EQ(drops_reported, drop_expected ? 1u : 0u, "MERGE batch drop reported");
	FUZZ_CHECK(ptxn_mm_check_idle(&mm), "a transaction is still open after commit");

	for (i = 0; i < nr; i++) {
		uint64_t fin = slot_val(i);
		uint64_t next_i = ptxn_pte_val(ptxn_pte_advance_pfn(ptxn_make_pte(next), i));

		bool young = sim.young_since[i], dirty = sim.dirty_since[i];

		/* AUTO and MERGE leave entries live: they keep what hardware A/D the entry held
		 * after start, too (unless start broke the batch: erratum 2645198). ARM64: a
		 * start that unfolds the batch's contiguous block gives every live member the
		 * block's young and dirty (core/steps.h, ptxn_txn_cont_unfold): that is what
		 * each then holds. */
		if (c.strategy != PTXN_STRATEGY_CLEAR && !ref_start_breaks(c.mm_flags, first)) {
			uint64_t held = at_start[i];

			if (unfolds && ref_batch_live(held)) {
				held = ref_unfolded(held);
				held = block_young ? ptxn_arch_pte_mkyoung(held) : held;
				held = block_dirty ? ptxn_arch_pte_mkdirty(held) : held;
			}
			young = young || ref_young(held);
			dirty = dirty || ref_hw_dirty(held);
		}
		want = ref_merge(ref_committed(next_i), young, dirty);
		FUZZ_CHECK(fin == want,
			   "commit_ptes entry %u: got 0x%016llx, want 0x%016llx (new 0x%016llx, "
			   "young since start %d, dirty since start %d, flushes %u)",
			   i, (unsigned long long)fin, (unsigned long long)want,
			   (unsigned long long)next_i, sim.young_since[i], sim.dirty_since[i],
			   sim.flushes);
		FUZZ_EQ(ref_pfn(fin), ref_pfn(next) + i, "frame after commit_ptes");
		FUZZ_CHECK(!(fin & REF_RESERVED), "reserved bits after commit_ptes: 0x%016llx",
			   (unsigned long long)fin);
		if (c.cet_like && !ref_abnormal(next))
			REF_CHECK_ENTRY(fin, "entry after commit_ptes");
	}
	return 0;
}
