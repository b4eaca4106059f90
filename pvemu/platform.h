/* SPDX-License-Identifier: MIT */
/*
 * ptxn/pvemu/platform.h - the ptxn platform (struct ptxn_platform_ops): start,
 * commit, set_pte_at, ptep_get_at, lazy MMU enter/flush and the TLB flush hook as
 * hypercalls; attaching an mm to a hypervisor, the error hook and the per-mm counters.
 *
 * Part of <ptxn/pvemu.h>, which includes the parts in this order:
 *   abi.h, state.h, validate.h, hypervisor.h, guest.h, platform.h (pvemu/pvemu.h).
 */
#ifndef PTXN_PVEMU_PLATFORM_H
#define PTXN_PVEMU_PLATFORM_H

#ifndef PTXN_PVEMU_INTERNAL
#error "Do not include ptxn/pvemu/platform.h directly; include <ptxn/pvemu.h>"
#endif

PTXN_EXTERN_C_BEGIN

#define PTXN_PVEMU_STACK_REQS 64u

/* Start: MERGE/AUTO read the entry (no trap); CLEAR, and errata, break it (one trap). */
PTXN_PVEMU_FUNC ptxn_pte_t ptxn_pvemu_op_start(ptxn_mm_t *mm, uintptr_t addr, ptxn_pte_t *ptep,
					       unsigned nr)
{
	struct ptxn_pvemu_guest *g = ptxn_pvemu_guest(mm);
	uint64_t slot = ptxn_pvemu_slot_pa(g->pv, ptep);
	struct ptxn_pv_request stack[PTXN_PVEMU_STACK_REQS], *reqs = stack;
	ptxn_pte_t zero = ptxn_make_pte(0), old;
	ptxn_pteval_t first = 0, v;
	bool broken, young = false, dirty = false;
	unsigned i;

	PTXN_STAT_ADD(mm, starts, 1);
	ptxn_pvemu_settle(mm, g, slot, nr ? nr : 1);
	old = ptxn_pvemu_read(ptep);
	broken = mm->strategy == PTXN_STRATEGY_CLEAR ||
		 ptxn_arch_start_needs_break(mm->flags, ptxn_pte_val(old));
	if (nr <= 1) {
		struct ptxn_pv_request r;

		if (!broken)
			return old;
		r = ptxn_pvemu_req(PTXN_PV_BREAK, slot, addr, zero, zero);
		r.result = old; /* what is there if the hypervisor refuses */
		ptxn_pvemu_sync(mm, g, &r, 1);
		return r.result;
	}
	/* A folio: break (CLEAR, errata) or harvest (MERGE, AUTO) every entry, one hypercall. */
	if (nr > PTXN_PVEMU_STACK_REQS) {
		reqs = (struct ptxn_pv_request *)malloc(nr * sizeof(*reqs));
		if (!reqs)
			abort();
	}
	for (i = 0; i < nr; i++) {
		reqs[i] = ptxn_pvemu_req(broken ? PTXN_PV_BREAK : PTXN_PV_HARVEST, slot + 8 * (uint64_t)i,
					 addr + (uintptr_t)i * PTXN_PAGE_SIZE, zero, zero);
		reqs[i].result = ptxn_pvemu_read(ptep + i);
	}
	for (i = 0; i < nr; i += PTXN_PVEMU_SYNC_ROOM)
		ptxn_pvemu_sync(mm, g, reqs + i, nr - i < PTXN_PVEMU_SYNC_ROOM ? nr - i : PTXN_PVEMU_SYNC_ROOM);
	for (i = 0; i < nr; i++) {
		v = ptxn_pte_val(reqs[i].result);
		if (i == 0)
			first = v;
		young |= ptxn_arch_pte_young(v);
		dirty |= ptxn_arch_pte_dirty(v);
	}
	if (reqs != stack)
		free(reqs);
	if (young)
		first = ptxn_arch_pte_mkyoung(first);
	if (dirty)
		first = ptxn_arch_pte_mkdirty(first);
	return ptxn_make_pte(first);
}

/* Commit: INSTALL a broken entry, else PRESERVE_AD; nothing when the entry does not change. */
PTXN_PVEMU_FUNC void ptxn_pvemu_op_commit(ptxn_mm_t *mm, uintptr_t addr, ptxn_pte_t *ptep,
					  ptxn_pte_t old_pte, ptxn_pte_t pte, unsigned nr)
{
	struct ptxn_pvemu_guest *g = ptxn_pvemu_guest(mm);
	uint64_t slot = ptxn_pvemu_slot_pa(g->pv, ptep);
	struct ptxn_pv_request stack[PTXN_PVEMU_STACK_REQS], *reqs = stack;
	ptxn_pteval_t old = ptxn_pte_val(old_pte);
	bool broken = mm->strategy == PTXN_STRATEGY_CLEAR || ptxn_arch_start_needs_break(mm->flags, old);
	unsigned i;

	if (nr <= 1) {
		struct ptxn_pv_request r;

		PTXN_STAT_ADD(mm, entries, 1);
		if (broken) {
			PTXN_STAT_ADD(mm, broken, 1);
			r = ptxn_pvemu_req(PTXN_PV_INSTALL, slot, addr, old_pte, pte);
		} else if (ptxn_pte_val(pte) == old) {
			PTXN_STAT_ADD(mm, unchanged, 1);
			return;
		} else {
			PTXN_STAT_ADD(mm, merged, 1);
			r = ptxn_pvemu_req(PTXN_PV_PRESERVE_AD, slot, addr, old_pte, pte);
		}
		ptxn_pvemu_async(mm, g, &r, 1);
		return;
	}
	PTXN_STAT_ADD(mm, entries, nr);
	PTXN_STAT_ADD(mm, broken, broken ? nr : 0);
	PTXN_STAT_ADD(mm, merged, broken ? 0 : nr);
	if (nr > PTXN_PVEMU_STACK_REQS) {
		reqs = (struct ptxn_pv_request *)malloc(nr * sizeof(*reqs));
		if (!reqs)
			abort();
	}
	for (i = 0; i < nr; i++) {
		ptxn_pte_t want = ptxn_pte_advance_pfn(pte, i), was = ptxn_pte_advance_pfn(old_pte, i);
		uintptr_t va = addr + (uintptr_t)i * PTXN_PAGE_SIZE;

		if (broken)
			reqs[i] = ptxn_pvemu_req(PTXN_PV_INSTALL, slot + 8 * (uint64_t)i, va, was, want);
		else /* harvested at start: every A/D found in the entry is new since */
			reqs[i] = ptxn_pvemu_req(PTXN_PV_PRESERVE_AD, slot + 8 * (uint64_t)i, va,
						 ptxn_make_pte(ptxn_arch_pte_strip_hw(ptxn_pte_val(was))),
						 want);
	}
	ptxn_pvemu_async(mm, g, reqs, nr);
	if (reqs != stack)
		free(reqs);
}

PTXN_PVEMU_FUNC void ptxn_pvemu_op_set_pte_at(ptxn_mm_t *mm, uintptr_t addr, ptxn_pte_t *ptep,
					      ptxn_pte_t pte)
{
	struct ptxn_pvemu_guest *g = ptxn_pvemu_guest(mm);
	struct ptxn_pv_request r = ptxn_pvemu_req(PTXN_PV_UPDATE, ptxn_pvemu_slot_pa(g->pv, ptep),
						  addr, ptxn_make_pte(0), pte);

	ptxn_pvemu_async(mm, g, &r, 1);
}

PTXN_PVEMU_FUNC ptxn_pte_t ptxn_pvemu_op_ptep_get_at(ptxn_mm_t *mm, uintptr_t addr,
						     const ptxn_pte_t *ptep)
{
	struct ptxn_pvemu_guest *g = ptxn_pvemu_guest(mm);

	(void)addr;
	ptxn_pvemu_settle(mm, g, ptxn_pvemu_slot_pa(g->pv, ptep), 1);
	return ptxn_pvemu_read(ptep);
}

PTXN_PVEMU_FUNC void ptxn_pvemu_op_lazy_enter(ptxn_mm_t *mm)
{
	(void)mm; /* the queue is empty outside lazy mode */
}

PTXN_PVEMU_FUNC void ptxn_pvemu_op_lazy_flush(ptxn_mm_t *mm)
{
	ptxn_pvemu_flush_queue(mm, ptxn_pvemu_guest(mm));
}

/* The mm's TLB flush: a hypercall (the guest cannot shoot down other CPUs' TLBs itself). */
PTXN_PVEMU_FUNC void ptxn_pvemu_mm_flush_tlb_range(ptxn_mm_t *mm, uintptr_t start, uintptr_t end)
{
	struct ptxn_pvemu_guest *g = ptxn_pvemu_guest(mm);
	struct ptxn_pv_request r;

	if (end <= start)
		return;
	r = ptxn_pvemu_req(PTXN_PV_TLB_FLUSH, 0, start, ptxn_make_pte(0), ptxn_make_pte(0));
	r.val.storage = (uint64_t)(end - start);
	ptxn_pvemu_sync(mm, g, &r, 1);
}

PTXN_PVEMU_FUNC const struct ptxn_platform_ops *ptxn_pvemu_platform(void)
{
	static const struct ptxn_platform_ops ops = {
		"pvemu",
		ptxn_pvemu_op_start,
		ptxn_pvemu_op_commit,
		ptxn_pvemu_op_set_pte_at,
		ptxn_pvemu_op_ptep_get_at,
		ptxn_pvemu_op_lazy_enter,
		ptxn_pvemu_op_lazy_flush, /* leave: send the queue */
		ptxn_pvemu_op_lazy_flush,
	};

	return &ops;
}

/*
 * Run mm on the hypervisor: its transactions, ptxn_set_pte_at and ptxn_ptep_get_at go
 * through hypercalls, its TLB flush hook becomes a TLB_FLUSH hypercall (private_data is
 * left alone), and in lazy MMU mode up to `batch` commits (0: PTXN_PVEMU_DEFAULT_BATCH;
 * at most PTXN_PVEMU_MAX_BATCH) travel in one hypercall. Slot pointers passed to the API
 * must be guest pointers (ptxn_pvemu_lookup). Lazy mode of one mm is one thread's at a
 * time (mm->lazy_depth is per mm); outside it, threads may share the mm.
 */
PTXN_PVEMU_FUNC bool ptxn_pvemu_attach(struct ptxn_pvemu *pv, ptxn_mm_t *mm, unsigned batch)
{
	struct ptxn_pvemu_guest *g = (struct ptxn_pvemu_guest *)calloc(1, sizeof(*g));
	unsigned hsize = 1;

	if (!g)
		return false;
	g->pv = pv;
	g->batch = batch ? batch : PTXN_PVEMU_DEFAULT_BATCH;
	if (g->batch > PTXN_PVEMU_MAX_BATCH)
		g->batch = PTXN_PVEMU_MAX_BATCH;
	g->cap = g->batch + PTXN_PVEMU_SYNC_ROOM;
	while (hsize < 2 * g->cap)
		hsize <<= 1;
	g->hmask = hsize - 1;
	g->gen = 1;
	g->queue = (struct ptxn_pv_request *)calloc(g->cap, sizeof(*g->queue));
	g->hkey = (uint64_t *)calloc(hsize, sizeof(*g->hkey));
	g->hgen = (uint32_t *)calloc(hsize, sizeof(*g->hgen));
	if (!g->queue || !g->hkey || !g->hgen) {
		free(g->queue), free(g->hkey), free(g->hgen), free(g);
		return false;
	}
	pthread_mutex_init(&g->lock, NULL);
	ptxn_mm_set_platform(mm, ptxn_pvemu_platform(), g);
	mm->flush_tlb_range = ptxn_pvemu_mm_flush_tlb_range;
	return true;
}

/* Send anything queued and return mm to the native platform (no TLB hook). */
PTXN_PVEMU_FUNC void ptxn_pvemu_detach(ptxn_mm_t *mm)
{
	struct ptxn_pvemu_guest *g = ptxn_pvemu_guest(mm);

	if (!g || mm->platform != ptxn_pvemu_platform())
		return;
	ptxn_pvemu_flush_queue(mm, g);
	ptxn_mm_set_platform(mm, NULL, NULL);
	mm->flush_tlb_range = NULL;
	pthread_mutex_destroy(&g->lock);
	free(g->queue), free(g->hkey), free(g->hgen), free(g);
}

/* Called for every rejected request of this mm (NULL: none). */
PTXN_PVEMU_FUNC void ptxn_pvemu_set_error_hook(ptxn_mm_t *mm, ptxn_pvemu_error_fn fn, void *ctx)
{
	struct ptxn_pvemu_guest *g = ptxn_pvemu_guest(mm);

	g->hook = fn;
	g->hook_ctx = ctx;
}

/*
 * Errors since the last call: returns how many requests were rejected, and the first of
 * them in *err (if err is not NULL and there was one); then forgets them.
 */
PTXN_PVEMU_FUNC uint64_t ptxn_pvemu_take_error(ptxn_mm_t *mm, struct ptxn_pv_error *err)
{
	struct ptxn_pvemu_guest *g = ptxn_pvemu_guest(mm);
	uint64_t n;

	pthread_mutex_lock(&g->lock);
	n = g->nerrors;
	if (n && err)
		*err = g->first;
	g->nerrors = 0;
	pthread_mutex_unlock(&g->lock);
	return n;
}

/* Hypercalls this mm made, and how many queued requests it holds now. */
PTXN_PVEMU_FUNC uint64_t ptxn_pvemu_mm_traps(const ptxn_mm_t *mm)
{
	return __atomic_load_n(&ptxn_pvemu_guest(mm)->traps, __ATOMIC_RELAXED);
}

PTXN_PVEMU_FUNC unsigned ptxn_pvemu_mm_queued(const ptxn_mm_t *mm)
{
	return ptxn_pvemu_guest(mm)->n;
}

PTXN_EXTERN_C_END

#endif /* PTXN_PVEMU_PLATFORM_H */
