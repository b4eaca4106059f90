/* SPDX-License-Identifier: MIT */
/*
 * ptxn/core/transaction.h - ptxn_modify_prot_start()/ptxn_modify_prot_commit(), single and
 * batched, and the strategies behind them (docs/strategies.md).
 *
 * Contract (Linux's ptep_modify_prot_start/commit): start returns the current entry and
 * leaves it either unusable by the MMU or watched, so that commit can write the new entry
 * and keep every Accessed/Dirty update the hardware made since start. Start and commit are
 * exactly paired, on the same slot(s), under the caller's PTE lock: they protect against
 * the MMU, not against other software writers. The caller flushes the TLB after commit as
 * usual (a protection downgrade is not final before that flush).
 *
 * Three states an entry can be in between start and commit, and how commit ends each:
 *   broken    - the MMU cannot use it (0, or PowerPC V=0 + INVALID): "unbreak" installs
 *               the new entry, folding in any late R/C write-back on PowerPC;
 *   watched   - left live; commit compare-and-swaps, folding in A/D set since start;
 *   quiescent - left live, and no MMU can write it any more: commit is a plain store.
 */
#ifndef PTXN_CORE_TRANSACTION_H
#define PTXN_CORE_TRANSACTION_H

#ifndef PTXN_CORE_INTERNAL
#error "Do not include ptxn/core/transaction.h directly; include <ptxn/ptxn.h>"
#endif

PTXN_EXTERN_C_BEGIN

#define PTXN_STORAGE(v) ptxn_arch_pte_to_storage(v)

PTXN_INLINE void ptxn_mm_update_path(ptxn_mm_t *mm)
{
	if (mm->platform != NULL ||
	    (mm->flags & (PTXN_ARCH_MM_START_FLAGS | PTXN_ARCH_MM_CHANGE_FLAGS)))
		mm->path = PTXN_MM_PATH_GENERAL;
	else if (mm->strategy == PTXN_STRATEGY_AUTO)
		mm->path = (mm->flags & PTXN_ARCH_MM_READONLY_FINAL) ? PTXN_MM_PATH_AUTO_RO_FINAL
								     : PTXN_MM_PATH_AUTO;
	else if (mm->strategy == PTXN_STRATEGY_MERGE)
		mm->path = PTXN_MM_PATH_MERGE;
	else
		mm->path = PTXN_MM_PATH_CLEAR;
}

/* ---- single entry ------------------------------------------------------------------------- */

/*
 * The general paths: every strategy, platform, quirk and rule, and the contract checks of
 * PTXN_DEBUG builds. Out of line: the common cases take the fast paths further down, which
 * decide with one byte of the mm (mm->path, precomputed by its setters) that nothing here
 * is needed.
 */
PTXN_NOINLINE ptxn_pte_t ptxn_txn_start_general(ptxn_mm_t *mm, uintptr_t addr, ptxn_pte_t *ptep,
						const char *file, int line)
{
	ptxn_pte_t old;

	if (!ptxn_debug_slot_ok(mm, ptep, addr, file, line))
		return ptxn_make_pte(0);
	if (PTXN_UNLIKELY(mm->platform != NULL)) {
		old = mm->platform->modify_prot_start(mm, addr, ptep, 1);
		ptxn_debug_txn_start(mm, addr, ptep, old, 1, file, line);
		return old;
	}
	PTXN_STAT_ADD(mm, starts, 1);
	if (mm->strategy == PTXN_STRATEGY_CLEAR) {
		if (PTXN_ARCH_PTE_CONT != 0 && PTXN_UNLIKELY(ptxn_txn_cont_live(ptxn_ptep_get(ptep))))
			ptxn_txn_cont_unfold(mm, addr, ptep);
		old.storage = ptxn_txn_break(ptep);
		if (PTXN_UNLIKELY(ptxn_arch_start_needs_break(mm->flags, ptxn_pte_val(old))))
			ptxn_txn_flush(mm, addr, addr + PTXN_PAGE_SIZE, ptep);
	} else {
		old = ptxn_ptep_get(ptep);
		if (PTXN_ARCH_PTE_CONT != 0 && PTXN_UNLIKELY(ptxn_txn_cont_live(old))) {
			ptxn_txn_cont_unfold(mm, addr, ptep);
			old = ptxn_ptep_get(ptep);
		}
		if (PTXN_UNLIKELY(ptxn_arch_start_needs_break(mm->flags, ptxn_pte_val(old)))) {
			old.storage = ptxn_txn_break(ptep);
			ptxn_txn_flush(mm, addr, addr + PTXN_PAGE_SIZE, ptep);
		}
	}
	ptxn_debug_txn_start(mm, addr, ptep, old, 1, file, line);
	return old;
}

PTXN_NOINLINE void ptxn_txn_commit_general(ptxn_mm_t *mm, uintptr_t addr, ptxn_pte_t *ptep,
					   ptxn_pte_t old_pte, ptxn_pte_t pte, const char *file,
					   int line)
{
	ptxn_pteval_t old = ptxn_pte_val(old_pte), next = ptxn_pte_val(pte);

	if (!ptxn_debug_slot_ok(mm, ptep, addr, file, line))
		return;
	ptxn_debug_txn_commit(mm, addr, ptep, old_pte, 1, file, line);
	if (PTXN_UNLIKELY(mm->platform != NULL)) {
		mm->platform->modify_prot_commit(mm, addr, ptep, old_pte, pte, 1);
		return;
	}
	PTXN_STAT_ADD(mm, entries, 1);
	if (PTXN_ARCH_PTE_CONT != 0 && PTXN_UNLIKELY(ptxn_txn_cont_live(pte))) {
		/* One entry is never a whole block: it is installed without CONT. */
		if (!(old & PTXN_ARCH_PTE_CONT))
			ptxn_debug_cont_partial(mm, addr, ptep, next, file, line);
		next &= ~(ptxn_pteval_t)PTXN_ARCH_PTE_CONT;
		pte = ptxn_make_pte(next);
	}

	if (ptxn_txn_started_broken(mm, old)) {
		/* Flushed already if the erratum broke it; else a BBM change flushes now. */
		if (!ptxn_arch_start_needs_break(mm->flags, old) &&
		    ptxn_arch_change_needs_break(mm->flags, old, next))
			ptxn_txn_flush(mm, addr, addr + PTXN_PAGE_SIZE, ptep);
		PTXN_STAT_ADD(mm, broken, 1);
		ptxn_txn_unbreak(mm, ptep, next);
		return;
	}
	if (PTXN_UNLIKELY(ptxn_arch_change_needs_break(mm->flags, old, next))) {
		/* Break-before-make from a live entry: catch what the MMU set, flush, install. */
		ptxn_pteval_t now = ptxn_arch_pte_from_storage(ptxn_txn_break(ptep));

		ptxn_txn_flush(mm, addr, addr + PTXN_PAGE_SIZE, ptep);
		PTXN_STAT_ADD(mm, broken, 1);
		ptxn_txn_unbreak(mm, ptep, ptxn_arch_pte_merge_hw(next, old, now));
		return;
	}
	if (next == old) {
		/* The slot holds old plus whatever the MMU set since: already right. */
		PTXN_STAT_ADD(mm, unchanged, 1);
		return;
	}
	if (mm->strategy == PTXN_STRATEGY_AUTO && ptxn_arch_pte_absorbs(mm->flags, old, next)) {
		/* What the MMU can have set in old is in next: a plain store. */
		PTXN_STAT_ADD(mm, quiescent, 1);
		ptxn_txn_store_absorbing(mm->flags, ptep, old_pte.storage, pte.storage);
		return;
	}
	PTXN_STAT_ADD(mm, merged, 1);
	ptxn_txn_cas_keep_ad_since_start(mm, ptep, old, next);
}

/*
 * Begin changing one entry. Returns its current value; compute the new entry from it
 * (ptxn_pte_modify, ptxn_pte_mkclean, ...) and pass both to ptxn_modify_prot_commit().
 *
 * Fast path (the native platform, no quirk that breaks at start): AUTO and MERGE load,
 * CLEAR breaks; a live contiguous entry (ARM64) takes the general path, which unfolds it.
 */
PTXN_INLINE ptxn_pte_t ptxn_modify_prot_start_from(ptxn_mm_t *mm, uintptr_t addr, ptxn_pte_t *ptep,
						   const char *file, int line)
{
#ifndef PTXN_DEBUG
	const unsigned char path = mm->path;
	ptxn_pte_t old;

	if (PTXN_LIKELY(path >= PTXN_MM_PATH_MERGE)) {
		old = ptxn_ptep_get(ptep);
		if (PTXN_ARCH_PTE_CONT == 0 || PTXN_LIKELY(!ptxn_txn_cont_live(old))) {
			PTXN_STAT_ADD(mm, starts, 1);
			return old;
		}
	} else if (path == PTXN_MM_PATH_CLEAR &&
		   (PTXN_ARCH_PTE_CONT == 0 || !ptxn_txn_cont_live(ptxn_ptep_get(ptep)))) {
		PTXN_STAT_ADD(mm, starts, 1);
		old.storage = ptxn_txn_break(ptep);
		return old;
	}
#endif
	return ptxn_txn_start_general(mm, addr, ptep, file, line);
}

/*
 * A fast path's commit applies: the change needs no break-before-make and installs no
 * contiguous entry (those take the general path). The rule is asked with no flags: an mm
 * with a flag under which it may differ takes the general path (ptxn_mm_update_path), so
 * where only such a flag makes a break (PowerPC) the test folds away. An arch may answer
 * the common case first in one test (PTXN_HAVE_ARCH_CHANGE_IN_PLACE, arch/arm64/pte.h).
 */
PTXN_INLINE bool ptxn_txn_fast_commit_ok(ptxn_pte_t old_pte, ptxn_pte_t pte)
{
#ifdef PTXN_HAVE_ARCH_CHANGE_IN_PLACE
	if (PTXN_LIKELY(ptxn_arch_change_in_place(ptxn_pte_val(old_pte), ptxn_pte_val(pte))))
		return true;
#endif
	return PTXN_LIKELY(!ptxn_arch_change_needs_break(0u, ptxn_pte_val(old_pte),
							  ptxn_pte_val(pte))) &&
	       (PTXN_ARCH_PTE_CONT == 0 || PTXN_LIKELY(!ptxn_txn_cont_live(pte)));
}

/* A watched entry (left live by start): one compare-and-swap unless unchanged. */
PTXN_INLINE void ptxn_txn_commit_watched(ptxn_mm_t *mm, ptxn_pte_t *ptep, ptxn_pteval_t old,
					 ptxn_pteval_t next)
{
	if (next != old) {
		/*
		 * A compare-and-swap, not an atomic and-not of the write permission (x86 lock
		 * and, ARM64 LDCLR), although a clean entry made read-only changes by a clear
		 * alone. ARM64: a hardware dirty that lands before LDCLR clears DBM leaves
		 * AP[2]=0, DBM=0 - writable (D8.4.6), the opposite of the request. x86: the
		 * and-not keeps a D set meanwhile beside R/W=0, which with CET is a
		 * shadow-stack entry (SDM Vol. 1 17.2), and cannot move it to SavedDirty; each
		 * needs a second atomic to repair. PowerPC has none (ldarx/stdcx. is this
		 * loop). And it buys nothing: one locked RMW either way (docs/bench.md,
		 * lock-and row).
		 */
		PTXN_STAT_ADD(mm, merged, 1);
		ptxn_txn_cas_keep_ad_since_start(mm, ptep, old, next);
	} else {
		/* The slot holds old plus whatever the MMU set since: already right. */
		PTXN_STAT_ADD(mm, unchanged, 1);
	}
}

/*
 * AUTO's plain store, where it loses nothing: whatever the MMU can have set in old since
 * start is in next already (one changed half on i686, over a quiescent old). Asked as:
 * quiescent (old alone, computed beside pte_modify), else, only for a next that is dirty,
 * the rest of absorbs() - so the usual non-quiescent change reaches its compare-and-swap
 * with one test of next on the way (x86 issues a locked instruction only once every older
 * one is done: what precedes it is on the critical path). flags: the promise mm->path
 * stands for (a constant at each call).
 */
PTXN_INLINE bool ptxn_txn_store_if_absorbed(ptxn_mm_t *mm, unsigned flags, ptxn_pte_t *ptep,
					    ptxn_pte_t old_pte, ptxn_pte_t pte)
{
	const ptxn_pteval_t old = ptxn_pte_val(old_pte), next = ptxn_pte_val(pte);

	if (ptxn_arch_pte_quiescent(flags, old)) {
		PTXN_STAT_ADD(mm, quiescent, 1);
		ptxn_arch_slot_replace(&ptep->storage, old_pte.storage, pte.storage);
		return true;
	}
	if (ptxn_arch_pte_dirty(next) && ptxn_arch_pte_absorbs(flags, old, next)) {
		PTXN_STAT_ADD(mm, quiescent, 1);
		ptxn_arch_slot_store(&ptep->storage, pte.storage);
		return true;
	}
	return false;
}

/*
 * Finish the change: write pte, keeping every A/D update the hardware made since start.
 * old_pte must be exactly what ptxn_modify_prot_start() returned.
 *
 * Fast path (as start's, and no break-before-make or contiguous entry in the change):
 * CLEAR installs; else nothing if the entry is unchanged; AUTO stores over a quiescent
 * entry; else one compare-and-swap, retried out of line if the MMU updated the entry.
 */
PTXN_INLINE void ptxn_modify_prot_commit_from(ptxn_mm_t *mm, uintptr_t addr, ptxn_pte_t *ptep,
					      ptxn_pte_t old_pte, ptxn_pte_t pte,
					      const char *file, int line)
{
#ifndef PTXN_DEBUG
	const ptxn_pteval_t old = ptxn_pte_val(old_pte), next = ptxn_pte_val(pte);
	const unsigned char path = mm->path;

	/*
	 * The flags only ask for the general path (start quirks) or decide path's value, so
	 * the fast paths judge with the promise the path says, not with mm->flags. One block
	 * per path, the most common first (AUTO without a promise, the default: one compare
	 * of path), each AUTO path asking its quiescent test with its promise as a constant
	 * (x86: a mask of old). Measured: fewer instructions on every target than one
	 * shared block testing path again inside it (docs/bench.md).
	 */
	if (PTXN_LIKELY(path == PTXN_MM_PATH_AUTO)) {
		if (PTXN_LIKELY(ptxn_txn_fast_commit_ok(old_pte, pte))) {
			PTXN_STAT_ADD(mm, entries, 1);
			if (!ptxn_txn_store_if_absorbed(mm, 0u, ptep, old_pte, pte))
				ptxn_txn_commit_watched(mm, ptep, old, next);
			return;
		}
	} else if (path == PTXN_MM_PATH_AUTO_RO_FINAL) {
		if (PTXN_LIKELY(ptxn_txn_fast_commit_ok(old_pte, pte))) {
			PTXN_STAT_ADD(mm, entries, 1);
			if (!ptxn_txn_store_if_absorbed(mm, PTXN_ARCH_MM_READONLY_FINAL, ptep,
							old_pte, pte))
				ptxn_txn_commit_watched(mm, ptep, old, next);
			return;
		}
	} else if (path == PTXN_MM_PATH_MERGE) {
		if (PTXN_LIKELY(ptxn_txn_fast_commit_ok(old_pte, pte))) {
			PTXN_STAT_ADD(mm, entries, 1);
			ptxn_txn_commit_watched(mm, ptep, old, next);
			return;
		}
	} else if (path == PTXN_MM_PATH_CLEAR) {
		if (PTXN_LIKELY(ptxn_txn_fast_commit_ok(old_pte, pte))) {
			PTXN_STAT_ADD(mm, entries, 1);
			PTXN_STAT_ADD(mm, broken, 1);
			ptxn_txn_unbreak(mm, ptep, next);
			return;
		}
	}
#endif
	ptxn_txn_commit_general(mm, addr, ptep, old_pte, pte, file, line);
}

/* ---- consecutive entries of one folio (Linux modify_prot_start_ptes/commit_ptes) ------- */

PTXN_NOINLINE ptxn_pte_t ptxn_txn_start_ptes_general(ptxn_mm_t *mm, uintptr_t addr,
						     ptxn_pte_t *ptep, unsigned int nr,
						     const char *file, int line)
{
	ptxn_pteval_t first = 0, v;
	bool young = false, dirty = false, broken;
	unsigned int i;
	ptxn_pte_t old;

	if (!ptxn_debug_slot_ok(mm, ptep, addr, file, line))
		return ptxn_make_pte(0);
	if (PTXN_UNLIKELY(mm->platform != NULL)) {
		old = mm->platform->modify_prot_start(mm, addr, ptep, nr);
		ptxn_debug_txn_start(mm, addr, ptep, old, nr, file, line);
		return old;
	}
	PTXN_STAT_ADD(mm, starts, 1);
	if (PTXN_ARCH_PTE_CONT != 0)
		ptxn_txn_cont_unfold_range(mm, addr, ptep, nr);
	v = ptxn_pte_val(ptxn_ptep_get(ptep));
	broken = ptxn_txn_started_broken(mm, v);
	for (i = 0; i < nr; i++) {
		if (broken) {
			v = ptxn_arch_pte_from_storage(ptxn_txn_break(ptep + i));
		} else {
			v = ptxn_pte_val(ptxn_ptep_get(ptep + i)); /* left live, A/D and all */
		}
		if (i == 0)
			first = v;
		young |= ptxn_arch_pte_young(v);
		dirty |= ptxn_arch_pte_dirty(v);
	}
	if (broken && ptxn_arch_start_needs_break(mm->flags, first))
		ptxn_txn_flush(mm, addr, addr + (uintptr_t)nr * PTXN_PAGE_SIZE, ptep);
	if (young)
		first = ptxn_arch_pte_mkyoung(first);
	if (dirty)
		first = ptxn_arch_pte_mkdirty(first);
	old = ptxn_make_pte(first);
	ptxn_debug_txn_start(mm, addr, ptep, old, nr, file, line);
	return old;
}

/* Entry i of a batched commit: pte advanced by i frames; live CONT only on a whole block. */
PTXN_INLINE ptxn_pteval_t ptxn_txn_want(ptxn_pte_t pte, uintptr_t addr, unsigned int nr,
					unsigned int i)
{
	ptxn_pteval_t want = ptxn_pte_val(ptxn_pte_advance_pfn(pte, i));

	if (PTXN_ARCH_PTE_CONT != 0 && (want & PTXN_ARCH_PTE_CONT) && ptxn_arch_pte_hw_valid(want) &&
	    !ptxn_txn_cont_whole(addr, nr, i))
		want &= ~(ptxn_pteval_t)PTXN_ARCH_PTE_CONT;
	return want;
}

/* Entries a batched break-before-make handles between two flushes (a multiple of any
 * contiguous block size, so that a block is never split; 256 bytes of stack). */
#define PTXN_TXN_BBM_CHUNK 32u

/*
 * Break-before-make for a batch whose entries are live (AUTO, MERGE): every live entry of a
 * chunk broken, catching the A/D the hardware set in it since start; one flush of the
 * chunk; then every new entry installed. Breaking them all before the one flush is what a
 * contiguous block needs (no member may be installed while another still holds the old
 * translation), and it costs one flush per chunk instead of one per entry.
 */
PTXN_INLINE void ptxn_txn_commit_ptes_bbm(ptxn_mm_t *mm, uintptr_t addr, ptxn_pte_t *ptep,
					  ptxn_pte_t pte, unsigned int nr)
{
	ptxn_pteval_t want[PTXN_TXN_BBM_CHUNK];
	unsigned int i = 0, k, end;

	PTXN_STATIC_ASSERT(PTXN_TXN_BBM_CHUNK % PTXN_ARCH_CONT_PTES == 0,
			   "a chunk must hold whole contiguous blocks");
	while (i < nr) {
		end = i + PTXN_TXN_BBM_CHUNK -
		      ((ptxn_txn_cont_index(addr) + i) & (PTXN_ARCH_CONT_PTES - 1u));
		if (end > nr)
			end = nr;
		for (k = i; k < end; k++) {
			/* left live by start: keeps what A/D it holds (Xen's PRESERVE_AD) */
			ptxn_pteval_t now = ptxn_arch_pte_from_storage(ptxn_txn_break(ptep + k));

			want[k - i] = ptxn_arch_pte_fold_hw(ptxn_txn_want(pte, addr, nr, k), now);
		}
		ptxn_txn_flush(mm, addr + (uintptr_t)i * PTXN_PAGE_SIZE,
			       addr + (uintptr_t)end * PTXN_PAGE_SIZE, ptep + i);
		for (k = i; k < end; k++) {
			PTXN_STAT_ADD(mm, broken, 1);
			ptxn_txn_unbreak(mm, ptep + k, want[k - i]);
		}
		i = end;
	}
}

PTXN_NOINLINE void ptxn_txn_commit_ptes_general(ptxn_mm_t *mm, uintptr_t addr,
						ptxn_pte_t *ptep, ptxn_pte_t old_pte,
						ptxn_pte_t pte, unsigned int nr,
						const char *file, int line)
{
	ptxn_pteval_t old = ptxn_pte_val(old_pte), next = ptxn_pte_val(pte);
	bool broken, bbm;
	unsigned int i;

	if (!ptxn_debug_slot_ok(mm, ptep, addr, file, line))
		return;
	ptxn_debug_txn_commit(mm, addr, ptep, old_pte, nr, file, line);
	if (PTXN_UNLIKELY(mm->platform != NULL)) {
		mm->platform->modify_prot_commit(mm, addr, ptep, old_pte, pte, nr);
		return;
	}
	PTXN_STAT_ADD(mm, entries, nr);
	if (PTXN_ARCH_PTE_CONT != 0 && PTXN_UNLIKELY(ptxn_txn_cont_live(pte)) &&
	    !(old & PTXN_ARCH_PTE_CONT) &&
	    (ptxn_txn_cont_index(addr) != 0 || nr % PTXN_ARCH_CONT_PTES != 0))
		ptxn_debug_cont_partial(mm, addr, ptep, next, file, line);
	if (mm->strategy != PTXN_STRATEGY_CLEAR &&
	    ((ptxn_arch_pte_young(old) && !ptxn_arch_pte_young(next)) ||
	     (ptxn_arch_pte_dirty(old) && !ptxn_arch_pte_dirty(next))))
		ptxn_debug_batch_drops_ad(mm, addr, ptep, old, next, file, line);
	broken = ptxn_txn_started_broken(mm, old);
	bbm = ptxn_arch_change_needs_break(mm->flags, old, next);

	if (broken) {
		if (bbm && !ptxn_arch_start_needs_break(mm->flags, old))
			ptxn_txn_flush(mm, addr, addr + (uintptr_t)nr * PTXN_PAGE_SIZE, ptep);
		for (i = 0; i < nr; i++)
			ptxn_txn_unbreak(mm, ptep + i, ptxn_txn_want(pte, addr, nr, i));
		PTXN_STAT_ADD(mm, broken, nr);
		return;
	}
	if (PTXN_UNLIKELY(bbm)) {
		/* Rare (ARM64 OA/attribute changes and folds, POWER9 nest-MMU upgrades). */
		ptxn_txn_commit_ptes_bbm(mm, addr, ptep, pte, nr);
		return;
	}
	for (i = 0; i < nr; i++) {
		/* start left every entry live: each keeps what A/D it holds (Xen PRESERVE_AD) */
		ptxn_pte_t *slot = ptep + i;
		ptxn_pteval_t want = ptxn_txn_want(pte, addr, nr, i);
		uint64_t seen = ptxn_arch_slot_load(&slot->storage);
		ptxn_pteval_t now = ptxn_arch_pte_from_storage(seen);

		if (mm->strategy == PTXN_STRATEGY_AUTO &&
		    ptxn_arch_pte_absorbs(mm->flags, now, ptxn_arch_pte_fold_hw(want, now))) {
			PTXN_STAT_ADD(mm, quiescent, 1);
			ptxn_txn_store_absorbing(mm->flags, slot, seen,
						 PTXN_STORAGE(ptxn_arch_pte_fold_hw(want, now)));
		} else {
			PTXN_STAT_ADD(mm, merged, 1);
			ptxn_txn_cas_keep_held_ad(mm, slot, seen, want);
		}
	}
}

/*
 * Begin changing nr >= 1 consecutive entries that map consecutive frames with the same
 * protection (one folio). Returns the first entry with the young and dirty state of all nr
 * folded in: A/D are per folio here, as in Linux, so after commit every entry carries the
 * union. Strategies: CLEAR breaks every entry; AUTO and MERGE leave every entry live (no
 * fault, no atomic at start) and their commit keeps every A/D bit the entries then hold,
 * as Xen's MMU_PT_UPDATE_PRESERVE_AD does - so such a batch changes protections but does
 * not age or clean (PTXN_DEBUG reports a new entry that drops young or dirty; docs/api.md).
 */
PTXN_INLINE ptxn_pte_t ptxn_modify_prot_start_ptes_from(ptxn_mm_t *mm, uintptr_t addr,
							ptxn_pte_t *ptep, unsigned int nr,
							const char *file, int line)
{
#ifndef PTXN_DEBUG
	if (PTXN_LIKELY(mm->path >= PTXN_MM_PATH_MERGE) && nr != 0) {
		struct ptxn_txn_ad ad; /* field by field: clang -O0 zeroes a struct with memset */
		unsigned int i;

		ad.any = 0;
		ad.hw_dirty = false;

		if (PTXN_ARCH_PTE_CONT != 0)
			ptxn_txn_cont_unfold_range(mm, addr, ptep, nr);
		PTXN_STAT_ADD(mm, starts, 1);
		for (i = 0; i < nr; i++)
			ptxn_txn_ad_fold(&ad, ptxn_pte_val(ptxn_ptep_get(ptep + i)));
		return ptxn_make_pte(ptxn_txn_ad_apply(&ad, ptxn_pte_val(ptxn_ptep_get(ptep))));
	}
#endif
	return ptxn_txn_start_ptes_general(mm, addr, ptep, nr, file, line);
}

/*
 * Batched AUTO commit, the entries left live by start. Entry i gets next + i pages with the
 * A/D it holds folded in. The store-or-compare-and-swap decision is one per batch, not one
 * per entry: a folio's young and dirty are the union of its entries' (start folds them
 * into the value pte is computed from), so next is young and dirty whenever any entry was,
 * and then it absorbs whatever the MMU may still set in every entry - plain stores, no
 * loads. Otherwise no entry was dirty (or young): each is tested, and they answer alike
 * unless the MMU changed some since start, so the branch is predicted. (A branch-free
 * classification of 32 entries into a mask, then stores and compare-and-swaps in two
 * passes, was built first and measured slower in every cell: docs/bench.md.)
 */
PTXN_INLINE void ptxn_txn_commit_ptes_auto(ptxn_mm_t *mm, ptxn_pte_t *ptep, ptxn_pte_t pte,
					   unsigned int nr, unsigned int mm_flags)
{
	const ptxn_pteval_t next = ptxn_pte_val(pte);
	const bool young_ok = ptxn_arch_pte_mkyoung(next) == next;
	const bool dirty_ok = ptxn_arch_pte_mkdirty(next) == next;
	const uint64_t page = (uint64_t)1 << PTXN_ARCH_PTE_PFN_SHIFT; /* one frame on */
	unsigned int i;

	if (young_ok && dirty_ok) {
		PTXN_STAT_ADD(mm, quiescent, nr);
		for (i = 0; i < nr; i++) /* i686: whole entries (cmpxchg8b), the MMU may write them */
			ptxn_arch_slot_store(&ptep[i].storage, PTXN_STORAGE(next + (uint64_t)i * page));
		return;
	}
	for (i = 0; i < nr; i++) {
		const ptxn_pteval_t want = next + (uint64_t)i * page;
		const uint64_t seen = ptxn_arch_slot_load(&ptep[i].storage);
		const ptxn_pteval_t now = ptxn_arch_pte_from_storage(seen);

		if (ptxn_arch_pte_hw_final(mm_flags, now, young_ok, dirty_ok)) {
			PTXN_STAT_ADD(mm, quiescent, 1);
			ptxn_txn_store_absorbing(mm_flags, ptep + i, seen,
						 PTXN_STORAGE(ptxn_arch_pte_fold_hw(want, now)));
		} else {
			PTXN_STAT_ADD(mm, merged, 1);
			ptxn_txn_cas_keep_held_ad(mm, ptep + i, seen, want);
		}
	}
}

/*
 * Finish a batched change: entry i becomes pte advanced by i frames, plus every A/D
 * update the hardware made to entry i since start (AUTO and MERGE: plus every A/D it
 * still holds). old_pte is what ptxn_modify_prot_start_ptes() returned, nr the same count.
 *
 * Fast path (frames that step by a page, the usual folio): AUTO as above; MERGE
 * compare-and-swaps each entry once.
 */
PTXN_INLINE void ptxn_modify_prot_commit_ptes_from(ptxn_mm_t *mm, uintptr_t addr,
						   ptxn_pte_t *ptep, ptxn_pte_t old_pte,
						   ptxn_pte_t pte, unsigned int nr,
						   const char *file, int line)
{
#ifndef PTXN_DEBUG
	const ptxn_pteval_t next = ptxn_pte_val(pte);
	const unsigned char path = mm->path;

	if (PTXN_LIKELY(path >= PTXN_MM_PATH_MERGE) &&
	    PTXN_LIKELY(ptxn_txn_fast_commit_ok(old_pte, pte)) &&
	    PTXN_LIKELY(ptxn_txn_frames_step(pte, nr))) {
		const uint64_t page = (uint64_t)1 << PTXN_ARCH_PTE_PFN_SHIFT; /* one frame on */
		unsigned int i;

		PTXN_STAT_ADD(mm, entries, nr);
		if (path >= PTXN_MM_PATH_AUTO) {
			ptxn_txn_commit_ptes_auto(mm, ptep, pte, nr,
						  path == PTXN_MM_PATH_AUTO_RO_FINAL ?
							  PTXN_ARCH_MM_READONLY_FINAL : 0u);
			return;
		}
		PTXN_STAT_ADD(mm, merged, nr);
		if (ptxn_arch_pte_mkyoung(next) == next && ptxn_arch_pte_mkdirty(next) == next) {
			/*
			 * A young and dirty value (the folio had a dirty entry: start folded it
			 * in) holds every A/D an entry can hold: keeping what each holds changes
			 * nothing, so each compare-and-swap installs the value itself, computed
			 * without the entry (no branch on its dirty bit, which a random mix
			 * mispredicts, nor the fold ahead of the locked instruction).
			 */
			for (i = 0; i < nr; i++)
				ptxn_txn_cas_keep_held_ad_absorbing(mm, ptep + i,
								    ptxn_arch_slot_load(&ptep[i].storage),
								    next + (uint64_t)i * page);
			return;
		}
		for (i = 0; i < nr; i++)
			ptxn_txn_cas_keep_held_ad(mm, ptep + i,
						  ptxn_arch_slot_load(&ptep[i].storage),
						  next + (uint64_t)i * page);
		return;
	}
#endif
	ptxn_txn_commit_ptes_general(mm, addr, ptep, old_pte, pte, nr, file, line);
}

/* ---- the public entry points ---------------------------------------------------------- */
/*
 * Plain functions (their addresses can be taken); in PTXN_DEBUG builds a macro of the same
 * name also passes the caller's file and line to the contract checker.
 */
PTXN_INLINE ptxn_pte_t(ptxn_modify_prot_start)(ptxn_mm_t *mm, uintptr_t addr, ptxn_pte_t *ptep)
{
	return ptxn_modify_prot_start_from(mm, addr, ptep, NULL, 0);
}

PTXN_INLINE void(ptxn_modify_prot_commit)(ptxn_mm_t *mm, uintptr_t addr, ptxn_pte_t *ptep,
					  ptxn_pte_t old_pte, ptxn_pte_t pte)
{
	ptxn_modify_prot_commit_from(mm, addr, ptep, old_pte, pte, NULL, 0);
}

PTXN_INLINE ptxn_pte_t(ptxn_modify_prot_start_ptes)(ptxn_mm_t *mm, uintptr_t addr,
						    ptxn_pte_t *ptep, unsigned int nr)
{
	return ptxn_modify_prot_start_ptes_from(mm, addr, ptep, nr, NULL, 0);
}

PTXN_INLINE void(ptxn_modify_prot_commit_ptes)(ptxn_mm_t *mm, uintptr_t addr, ptxn_pte_t *ptep,
					       ptxn_pte_t old_pte, ptxn_pte_t pte, unsigned int nr)
{
	ptxn_modify_prot_commit_ptes_from(mm, addr, ptep, old_pte, pte, nr, NULL, 0);
}

/*
 * True when no transaction is open on mm. In PTXN_DEBUG builds each open one is also
 * reported as "start without commit"; call it where your PTE lock is dropped or at
 * teardown. Release builds do not track transactions and always return true.
 */
PTXN_INLINE bool(ptxn_mm_check_idle)(ptxn_mm_t *mm)
{
	return ptxn_debug_mm_idle(mm, NULL, 0);
}

#ifdef PTXN_DEBUG
#define ptxn_modify_prot_start(mm, addr, ptep)                                                  \
	ptxn_modify_prot_start_from((mm), (addr), (ptep), __FILE__, __LINE__)
#define ptxn_modify_prot_commit(mm, addr, ptep, old_pte, pte)                                   \
	ptxn_modify_prot_commit_from((mm), (addr), (ptep), (old_pte), (pte), __FILE__, __LINE__)
#define ptxn_modify_prot_start_ptes(mm, addr, ptep, nr)                                         \
	ptxn_modify_prot_start_ptes_from((mm), (addr), (ptep), (nr), __FILE__, __LINE__)
#define ptxn_modify_prot_commit_ptes(mm, addr, ptep, old_pte, pte, nr)                          \
	ptxn_modify_prot_commit_ptes_from((mm), (addr), (ptep), (old_pte), (pte), (nr), __FILE__, \
					  __LINE__)
#define ptxn_mm_check_idle(mm) ptxn_debug_mm_idle((mm), __FILE__, __LINE__)
#endif

#undef PTXN_STORAGE

PTXN_EXTERN_C_END

#endif /* PTXN_CORE_TRANSACTION_H */
