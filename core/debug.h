/* SPDX-License-Identifier: MIT */
/*
 * ptxn/core/debug.h - contract checking of the transaction API (build with PTXN_DEBUG).
 *
 * A page-table bug loses data far from its cause, so misuse is caught where it happens:
 * start without commit, commit without start, a second start on the same entry, a commit
 * to another entry, an old_pte that is not what start returned, a strategy switched inside
 * a transaction, a NULL or misaligned slot, a batch whose size changed, lazy-mode misuse,
 * a flush the transaction needed but had no hook for. Each is reported once, through a
 * hook, with what was wrong and how to fix it.
 *
 * Without PTXN_DEBUG every check below is an empty inline function and the public entry
 * points are plain functions: release builds pay nothing (bench/ measures it).
 *
 * The hook: mm->violation_hook if set (ptxn_mm_set_violation_hook), else
 * PTXN_DEFAULT_VIOLATION_HOOK if the includer defines it (a function taking
 * const struct ptxn_violation *), else the built-in default: print everything to stderr
 * and abort() in a hosted build, __builtin_trap() in a freestanding one. The built-in
 * default is the only place ptxn uses libc, and only in PTXN_DEBUG hosted builds.
 */
#ifndef PTXN_CORE_DEBUG_H
#define PTXN_CORE_DEBUG_H

#ifndef PTXN_CORE_INTERNAL
#error "Do not include ptxn/core/debug.h directly; include <ptxn/ptxn.h>"
#endif

#if defined(PTXN_DEBUG) && __STDC_HOSTED__ && !defined(PTXN_FREESTANDING) &&                 \
	!defined(PTXN_DEFAULT_VIOLATION_HOOK)
#include <stdio.h>
#include <stdlib.h>
#define PTXN_DEBUG_PRINTS 1
#endif

PTXN_EXTERN_C_BEGIN

/* Fill in the report and call the hook. Kept out of line: it is the slow path. */
PTXN_NOINLINE void ptxn_violation_report(ptxn_mm_t *mm, enum ptxn_violation_kind kind,
					 const char *what, const char *fix, const void *slot,
					 uintptr_t addr, uint64_t expected, uint64_t actual,
					 const char *file, int line)
{
	struct ptxn_violation v;

	v.kind = kind;
	v.what = what;
	v.fix = fix;
	v.file = file ? file : "(unknown)";
	v.line = line;
	v.mm = mm;
	v.slot = slot;
	v.addr = addr;
	v.expected = expected;
	v.actual = actual;
	if (mm && mm->violation_hook) {
		mm->violation_hook(&v);
		return;
	}
#if defined(PTXN_DEFAULT_VIOLATION_HOOK)
	PTXN_DEFAULT_VIOLATION_HOOK(&v);
#elif defined(PTXN_DEBUG_PRINTS)
	fprintf(stderr,
		"ptxn contract violation at %s:%d: %s\n"
		"  slot %p, address 0x%llx, expected 0x%016llx, found 0x%016llx (entries: storage order)\n"
		"  fix: %s\n",
		v.file, v.line, v.what, (void *)(uintptr_t)v.slot, (unsigned long long)v.addr,
		(unsigned long long)v.expected, (unsigned long long)v.actual, v.fix);
	abort();
#else
	__builtin_trap();
#endif
}

#ifdef PTXN_DEBUG

/*
 * A tiny lock for the open-transaction table: threads may share an mm (distinct PTE
 * locks). Built from ptxn's own slot primitives and fences, never the compiler's atomics,
 * which on arm64 may become calls to libgcc's outline helpers a kernel does not have.
 * Acquire after taking it and release before dropping it order the table accesses.
 */
PTXN_INLINE void ptxn_debug_lock(ptxn_mm_t *mm)
{
	while (ptxn_arch_slot_xchg(&mm->debug_lock, 1))
		ptxn_arch_cpu_relax();
	ptxn_arch_fence_acquire();
}

PTXN_INLINE void ptxn_debug_unlock(ptxn_mm_t *mm)
{
	ptxn_arch_fence_release();
	ptxn_arch_slot_store(&mm->debug_lock, 0);
}

PTXN_INLINE bool ptxn_debug_slot_ok(ptxn_mm_t *mm, const ptxn_pte_t *ptep, uintptr_t addr,
				    const char *file, int line)
{
	if (!ptep) {
		ptxn_violation_report(mm, PTXN_VIOLATION_BAD_SLOT,
				      "the page-table slot pointer is NULL",
				      "pass the address of the entry (e.g. from your pte_offset walk)",
				      ptep, addr, 0, 0, file, line);
		return false;
	}
	if ((uintptr_t)ptep % sizeof(ptxn_pte_t)) {
		ptxn_violation_report(mm, PTXN_VIOLATION_BAD_SLOT,
				      "the page-table slot is not 8-byte aligned: the MMU would "
				      "read a different entry and the atomics could tear",
				      "point at an entry of an aligned table of ptxn_pte_t",
				      ptep, addr, sizeof(ptxn_pte_t), (uintptr_t)ptep % sizeof(ptxn_pte_t),
				      file, line);
		return false;
	}
	return true;
}

/* Do [a, a+na) and [b, b+nb) slots overlap? */
PTXN_INLINE bool ptxn_debug_overlap(const ptxn_pte_t *a, unsigned int na, const ptxn_pte_t *b,
				    unsigned int nb)
{
	return a < b + nb && b < a + na;
}

PTXN_INLINE void ptxn_debug_txn_start(ptxn_mm_t *mm, uintptr_t addr, const ptxn_pte_t *ptep,
				      ptxn_pte_t old_pte, unsigned int nr, const char *file, int line)
{
	int i, free_slot = -1;

	if (nr == 0) {
		ptxn_violation_report(mm, PTXN_VIOLATION_BATCH_SIZE,
				      "ptxn_modify_prot_start_ptes() called with nr = 0",
				      "pass the number of consecutive entries to change (at least 1)",
				      ptep, addr, 1, 0, file, line);
		return;
	}
	ptxn_debug_lock(mm);
	for (i = 0; i < PTXN_DEBUG_MAX_OPEN; i++) {
		struct ptxn_mm_open_txn *t = &mm->open_txn[i];

		if (!t->in_use) {
			if (free_slot < 0)
				free_slot = i;
			continue;
		}
		if (ptxn_debug_overlap(t->ptep, t->nr, ptep, nr)) {
			ptxn_debug_unlock(mm);
			ptxn_violation_report(mm, PTXN_VIOLATION_SECOND_START,
					      "a second ptxn_modify_prot_start() on an entry whose "
					      "transaction is still open (start without commit)",
					      "commit (ptxn_modify_prot_commit) the first transaction "
					      "before starting another on the same entry",
					      ptep, addr, t->old_storage, old_pte.storage, file, line);
			return;
		}
	}
	if (free_slot < 0) {
		ptxn_debug_unlock(mm);
		ptxn_violation_report(mm, PTXN_VIOLATION_TOO_MANY_OPEN,
				      "more transactions open at once in this mm than allowed "
				      "(PTXN_DEBUG_MAX_OPEN): a start without its commit?",
				      "commit each transaction before starting the next; ptxn allows "
				      "at most PTXN_DEBUG_MAX_OPEN concurrently open per mm",
				      ptep, addr, PTXN_DEBUG_MAX_OPEN, PTXN_DEBUG_MAX_OPEN + 1, file, line);
		return;
	}
	mm->open_txn[free_slot].ptep = ptep;
	mm->open_txn[free_slot].old_storage = old_pte.storage;
	mm->open_txn[free_slot].addr = addr;
	mm->open_txn[free_slot].nr = nr;
	mm->open_txn[free_slot].strategy = mm->strategy;
	mm->open_txn[free_slot].in_use = 1;
	ptxn_debug_unlock(mm);
}

PTXN_INLINE void ptxn_debug_txn_commit(ptxn_mm_t *mm, uintptr_t addr, const ptxn_pte_t *ptep,
				       ptxn_pte_t old_pte, unsigned int nr, const char *file, int line)
{
	struct ptxn_mm_open_txn t;
	int i, found = -1, open = 0;

	ptxn_debug_lock(mm);
	for (i = 0; i < PTXN_DEBUG_MAX_OPEN; i++) {
		if (!mm->open_txn[i].in_use)
			continue;
		open++;
		if (mm->open_txn[i].ptep == ptep)
			found = i;
	}
	if (found < 0) {
		ptxn_debug_unlock(mm);
		if (open)
			ptxn_violation_report(mm, PTXN_VIOLATION_COMMIT_OTHER_ENTRY,
					      "ptxn_modify_prot_commit() on an entry other than the "
					      "one(s) ptxn_modify_prot_start() opened",
					      "commit the same ptep (and addr) that you started",
					      ptep, addr, 0, old_pte.storage, file, line);
		else
			ptxn_violation_report(mm, PTXN_VIOLATION_COMMIT_WITHOUT_START,
					      "ptxn_modify_prot_commit() without a matching "
					      "ptxn_modify_prot_start() on this mm",
					      "call ptxn_modify_prot_start() first and pass its result "
					      "as old_pte",
					      ptep, addr, 0, old_pte.storage, file, line);
		return;
	}
	t = mm->open_txn[found];
	mm->open_txn[found].in_use = 0;
	ptxn_debug_unlock(mm);
	if (t.old_storage != old_pte.storage)
		ptxn_violation_report(mm, PTXN_VIOLATION_OLD_PTE_MISMATCH,
				      "old_pte is not the value ptxn_modify_prot_start() returned: "
				      "the A/D updates since start cannot be told apart",
				      "pass exactly the ptxn_pte_t that start returned, unmodified; "
				      "compute the new entry into a separate variable",
				      ptep, addr, t.old_storage, old_pte.storage, file, line);
	if (t.strategy != mm->strategy)
		ptxn_violation_report(mm, PTXN_VIOLATION_STRATEGY_CHANGED,
				      "the mm's strategy changed between start and commit: the "
				      "commit would finish a transaction the start did not begin",
				      "call ptxn_mm_set_strategy() only when no transaction is open",
				      ptep, addr, t.strategy, mm->strategy, file, line);
	if (t.nr != nr)
		ptxn_violation_report(mm, PTXN_VIOLATION_BATCH_SIZE,
				      "the commit's nr differs from the start's nr",
				      "pass the same nr to ptxn_modify_prot_commit_ptes() as to "
				      "ptxn_modify_prot_start_ptes()",
				      ptep, addr, t.nr, nr, file, line);
	if (t.addr != addr)
		ptxn_violation_report(mm, PTXN_VIOLATION_COMMIT_OTHER_ENTRY,
				      "the commit's virtual address differs from the start's "
				      "(the TLB flush would hit the wrong page)",
				      "pass the same addr to start and commit",
				      ptep, addr, t.addr, addr, file, line);
}

/* Report every transaction still open on mm (a start without its commit). */
PTXN_INLINE bool ptxn_debug_mm_idle(ptxn_mm_t *mm, const char *file, int line)
{
	bool idle = true;
	int i;

	for (i = 0; i < PTXN_DEBUG_MAX_OPEN; i++) {
		struct ptxn_mm_open_txn *t = &mm->open_txn[i];

		if (!t->in_use)
			continue;
		idle = false;
		ptxn_violation_report(mm, PTXN_VIOLATION_START_WITHOUT_COMMIT,
				      "a transaction was started and never committed: the entry "
				      "may be left broken (not present) or unmerged",
				      "pair every ptxn_modify_prot_start() with a "
				      "ptxn_modify_prot_commit() before dropping the PTE lock",
				      t->ptep, t->addr, t->old_storage, 0, file, line);
	}
	return idle;
}

PTXN_INLINE void ptxn_debug_missing_flush(ptxn_mm_t *mm, uintptr_t addr, const ptxn_pte_t *ptep)
{
	ptxn_violation_report(mm, PTXN_VIOLATION_NO_TLB_FLUSH_HOOK,
			      "this change needs a TLB invalidation inside the transaction "
			      "(break-before-make, erratum or coprocessor) and the mm has no "
			      "flush hook",
			      "install one with ptxn_mm_set_flush_tlb_range()",
			      ptep, addr, 0, 0, NULL, 0);
}

PTXN_INLINE void ptxn_debug_cont_partial(ptxn_mm_t *mm, uintptr_t addr, const ptxn_pte_t *ptep,
					 ptxn_pteval_t next, const char *file, int line)
{
	ptxn_violation_report(mm, PTXN_VIOLATION_CONT_PARTIAL,
			      "the new entry asks for a contiguous block (CONT) on part of one; "
			      "it is installed without CONT, as a mixed block could raise a TLB "
			      "conflict abort",
			      "fold only whole aligned blocks: one ptxn_modify_prot_*_ptes() "
			      "transaction over all PTXN_ARCH_CONT_PTES entries of the block",
			      ptep, addr, 0, ptxn_arch_pte_to_storage(next), file, line);
}

PTXN_INLINE void ptxn_debug_batch_drops_ad(ptxn_mm_t *mm, uintptr_t addr,
						 const ptxn_pte_t *ptep, ptxn_pteval_t old,
						 ptxn_pteval_t next, const char *file, int line)
{
	ptxn_violation_report(mm, PTXN_VIOLATION_BATCH_DROPS_AD,
			      "an AUTO or MERGE batch's new entry drops young or dirty that start "
			      "returned; such batches leave the entries live and keep every A/D bit "
			      "they hold at commit (Xen PRESERVE_AD), so the drop is not made",
			      "to age or clean a folio use a CLEAR batch or the single-entry API, "
			      "which tell A/D set since start apart",
			      ptep, addr, ptxn_arch_pte_to_storage(old), ptxn_arch_pte_to_storage(next),
			      file, line);
}

PTXN_INLINE void ptxn_debug_pfn(uint64_t pfn)
{
	if (pfn > PTXN_ARCH_PFN_MAX)
		ptxn_violation_report(NULL, PTXN_VIOLATION_BAD_PFN,
				      "ptxn_pfn_pte(): the frame number does not fit the format's "
				      "address field and would be truncated",
				      "check the frame against PTXN_PFN_MAX (ptxn_pfn_valid)",
				      NULL, 0, PTXN_ARCH_PFN_MAX, pfn, NULL, 0);
}

#else /* !PTXN_DEBUG: everything compiles away */

PTXN_INLINE bool ptxn_debug_slot_ok(ptxn_mm_t *mm, const ptxn_pte_t *ptep, uintptr_t addr,
				    const char *file, int line)
{
	(void)mm, (void)ptep, (void)addr, (void)file, (void)line;
	return true;
}

PTXN_INLINE void ptxn_debug_txn_start(ptxn_mm_t *mm, uintptr_t addr, const ptxn_pte_t *ptep,
				      ptxn_pte_t old_pte, unsigned int nr, const char *file, int line)
{
	(void)mm, (void)addr, (void)ptep, (void)old_pte, (void)nr, (void)file, (void)line;
}

PTXN_INLINE void ptxn_debug_txn_commit(ptxn_mm_t *mm, uintptr_t addr, const ptxn_pte_t *ptep,
				       ptxn_pte_t old_pte, unsigned int nr, const char *file, int line)
{
	(void)mm, (void)addr, (void)ptep, (void)old_pte, (void)nr, (void)file, (void)line;
}

PTXN_INLINE bool ptxn_debug_mm_idle(ptxn_mm_t *mm, const char *file, int line)
{
	(void)mm, (void)file, (void)line;
	return true;
}

PTXN_INLINE void ptxn_debug_missing_flush(ptxn_mm_t *mm, uintptr_t addr, const ptxn_pte_t *ptep)
{
	(void)mm, (void)addr, (void)ptep;
}

PTXN_INLINE void ptxn_debug_cont_partial(ptxn_mm_t *mm, uintptr_t addr, const ptxn_pte_t *ptep,
					 ptxn_pteval_t next, const char *file, int line)
{
	(void)mm, (void)addr, (void)ptep, (void)next, (void)file, (void)line;
}

PTXN_INLINE void ptxn_debug_batch_drops_ad(ptxn_mm_t *mm, uintptr_t addr,
						 const ptxn_pte_t *ptep, ptxn_pteval_t old,
						 ptxn_pteval_t next, const char *file, int line)
{
	(void)mm, (void)addr, (void)ptep, (void)old, (void)next, (void)file, (void)line;
}

PTXN_INLINE void ptxn_debug_pfn(uint64_t pfn)
{
	(void)pfn;
}

#endif /* PTXN_DEBUG */

PTXN_EXTERN_C_END

#endif /* PTXN_CORE_DEBUG_H */
