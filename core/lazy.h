/* SPDX-License-Identifier: MIT */
/*
 * ptxn/core/lazy.h - lazy MMU mode (Linux arch_enter/leave_lazy_mmu_mode) and the entry
 * writes and reads through the mm that a paravirtual platform may batch in it
 * (docs/paravirt.md). Natively the hardware sees every write at once.
 */
#ifndef PTXN_CORE_LAZY_H
#define PTXN_CORE_LAZY_H

#ifndef PTXN_CORE_INTERNAL
#error "Do not include ptxn/core/lazy.h directly; include <ptxn/ptxn.h>"
#endif

PTXN_EXTERN_C_BEGIN

/* ---- lazy MMU mode (Linux arch_enter/leave_lazy_mmu_mode) --------------------------------- */
/*
 * Between enter and leave, a paravirtual platform may queue entry writes and send them as
 * one batch (on leave, on flush, or when its queue is full). On the native platform the
 * hardware sees every write at once and these only keep count. Lazy mode does not nest.
 */
PTXN_INLINE void ptxn_lazy_mmu_enter_from(ptxn_mm_t *mm, const char *file, int line)
{
#ifdef PTXN_DEBUG
	if (mm->lazy_depth)
		ptxn_violation_report(mm, PTXN_VIOLATION_LAZY_NESTING,
				      "ptxn_lazy_mmu_enter() while already in lazy MMU mode",
				      "leave lazy mode before entering it again (it does not nest)",
				      NULL, 0, 0, mm->lazy_depth, file, line);
#else
	(void)file, (void)line;
#endif
	mm->lazy_depth++;
	if (PTXN_UNLIKELY(mm->platform != NULL) && mm->platform->lazy_mmu_enter)
		mm->platform->lazy_mmu_enter(mm);
}

PTXN_INLINE void ptxn_lazy_mmu_leave_from(ptxn_mm_t *mm, const char *file, int line)
{
	if (!mm->lazy_depth) {
#ifdef PTXN_DEBUG
		ptxn_violation_report(mm, PTXN_VIOLATION_LAZY_LEAVE_WITHOUT_ENTER,
				      "ptxn_lazy_mmu_leave() without ptxn_lazy_mmu_enter()",
				      "pair each leave with an earlier enter on the same mm",
				      NULL, 0, 1, 0, file, line);
#else
		(void)file, (void)line;
#endif
		return;
	}
	if (PTXN_UNLIKELY(mm->platform != NULL) && mm->platform->lazy_mmu_leave)
		mm->platform->lazy_mmu_leave(mm);
	mm->lazy_depth--;
}

/* Send whatever a paravirtual platform has queued, staying in lazy mode. */
PTXN_INLINE void ptxn_lazy_mmu_flush(ptxn_mm_t *mm)
{
	if (PTXN_UNLIKELY(mm->platform != NULL) && mm->platform->lazy_mmu_flush)
		mm->platform->lazy_mmu_flush(mm);
}

PTXN_INLINE bool ptxn_lazy_mmu_active(const ptxn_mm_t *mm)
{
	return mm->lazy_depth != 0;
}

PTXN_INLINE void(ptxn_lazy_mmu_enter)(ptxn_mm_t *mm)
{
	ptxn_lazy_mmu_enter_from(mm, NULL, 0);
}

PTXN_INLINE void(ptxn_lazy_mmu_leave)(ptxn_mm_t *mm)
{
	ptxn_lazy_mmu_leave_from(mm, NULL, 0);
}

#ifdef PTXN_DEBUG
#define ptxn_lazy_mmu_enter(mm) ptxn_lazy_mmu_enter_from((mm), __FILE__, __LINE__)
#define ptxn_lazy_mmu_leave(mm) ptxn_lazy_mmu_leave_from((mm), __FILE__, __LINE__)
#endif

/* ---- installing entries through the mm (dispatches to a paravirtual platform) ----------- */

/* Like ptxn_set_pte(), but a paravirtual platform sees (and may batch) the write. */
PTXN_INLINE void ptxn_set_pte_at(ptxn_mm_t *mm, uintptr_t addr, ptxn_pte_t *ptep, ptxn_pte_t pte)
{
	if (PTXN_UNLIKELY(mm->platform != NULL)) {
		mm->platform->set_pte_at(mm, addr, ptep, pte);
		return;
	}
	ptxn_set_pte(ptep, pte);
}

/*
 * Read an entry through the mm. Natively exactly ptxn_ptep_get(). A paravirtual platform
 * may hold writes to the entry queued in lazy MMU mode; this read sees them (the
 * platform's ptep_get_at; docs/paravirt.md: pvemu sends the queue first), where
 * ptxn_ptep_get() sees the table as the MMU does. Read through the mm in lazy mode.
 */
PTXN_INLINE ptxn_pte_t ptxn_ptep_get_at(ptxn_mm_t *mm, uintptr_t addr, const ptxn_pte_t *ptep)
{
	if (PTXN_UNLIKELY(mm->platform != NULL) && mm->platform->ptep_get_at)
		return mm->platform->ptep_get_at(mm, addr, ptep);
	return ptxn_ptep_get(ptep);
}

PTXN_EXTERN_C_END

#endif /* PTXN_CORE_LAZY_H */
