/* SPDX-License-Identifier: MIT */
/*
 * ptxn/pvemu/hypervisor.h - the hypervisor at work: applying one request, serving
 * one call, the hypervisor thread, the hypercall (the round trip), create and destroy
 * (the memfd mapped twice), and its counters.
 *
 * Part of <ptxn/pvemu.h>, which includes the parts in this order:
 *   abi.h, state.h, validate.h, hypervisor.h, guest.h, platform.h (pvemu/pvemu.h).
 */
#ifndef PTXN_PVEMU_HYPERVISOR_H
#define PTXN_PVEMU_HYPERVISOR_H

#ifndef PTXN_PVEMU_INTERNAL
#error "Do not include ptxn/pvemu/hypervisor.h directly; include <ptxn/pvemu.h>"
#endif

PTXN_EXTERN_C_BEGIN

/* ---- the hypervisor: applying one request -------------------------------------------------- */

PTXN_PVEMU_FUNC void ptxn_pvemu_shootdown(struct ptxn_pvemu *pv, uint64_t start, uint64_t end)
{
	PTXN_PVEMU_STAT(pv, shootdowns, 1);
	ptxn_hwemu_flush_range(pv->hw, start, end);
}

/* Validate, then apply, one request; PTXN_PV_OK or why it was refused (nothing written). */
PTXN_PVEMU_FUNC int ptxn_pvemu_apply(struct ptxn_pvemu *pv, struct ptxn_pv_request *r, unsigned mm_flags)
{
	ptxn_pteval_t old = ptxn_pte_val(r->old), next = ptxn_pte_val(r->val), now;
	unsigned level = 0;
	ptxn_pte_t *w;
	uint64_t seen;
	int err;

	if (r->cmd == PTXN_PV_TLB_FLUSH) {
		if (!r->val.storage || r->va + r->val.storage < r->va)
			return PTXN_PV_ECMD;
		ptxn_pvemu_shootdown(pv, r->va, r->va + r->val.storage);
		return PTXN_PV_OK;
	}
	if (r->cmd < PTXN_PV_UPDATE || r->cmd > PTXN_PV_HARVEST)
		return PTXN_PV_ECMD;
	err = ptxn_pvemu_check_slot(pv, r->slot, &level);
	if (err)
		return err;
	if (r->cmd == PTXN_PV_UPDATE || r->cmd == PTXN_PV_PRESERVE_AD || r->cmd == PTXN_PV_INSTALL) {
		err = ptxn_pvemu_check_entry(pv, level, next);
		if (err)
			return err;
	}
	w = (ptxn_pte_t *)(void *)(pv->wview + (size_t)(r->slot - pv->hw->phys.base));

	switch (r->cmd) {
	case PTXN_PV_UPDATE:
		r->result.storage = ptxn_arch_slot_xchg(&w->storage, r->val.storage);
		break;
	case PTXN_PV_PRESERVE_AD:
		if (ptxn_arch_change_needs_break(mm_flags, old, next)) {
			/* Break-before-make from a live entry: catch what the MMU set, shoot down, install. */
			now = ptxn_arch_pte_from_storage(ptxn_txn_break(w));
			ptxn_pvemu_shootdown(pv, r->va, r->va + PTXN_PAGE_SIZE);
			if (!(pv->cfg.flags & PTXN_PVEMU_BUG_DROP_AD))
				next = ptxn_arch_pte_merge_hw(next, old, now);
			ptxn_txn_unbreak(&pv->hv_mm, w, next);
			break;
		}
		if (next == old)
			break; /* the entry holds old plus whatever the MMU set since: right as it is */
		seen = ptxn_arch_slot_load(&w->storage);
		for (;;) {
			ptxn_pteval_t desired = next;

			now = ptxn_arch_pte_from_storage(seen);
			if (!(pv->cfg.flags & PTXN_PVEMU_BUG_DROP_AD))
				desired = ptxn_arch_pte_merge_hw(next, old, now);
			if (ptxn_arch_slot_cmpxchg(&w->storage, &seen, ptxn_arch_pte_to_storage(desired)))
				break;
			PTXN_PVEMU_STAT(pv, cas_retries, 1);
		}
		break;
	case PTXN_PV_BREAK:
		r->result.storage = ptxn_txn_break(w);
		if (ptxn_arch_start_needs_break(mm_flags, ptxn_pte_val(r->result)))
			ptxn_pvemu_shootdown(pv, r->va, r->va + PTXN_PAGE_SIZE);
		break;
	case PTXN_PV_INSTALL:
		if (!ptxn_arch_start_needs_break(mm_flags, old) &&
		    ptxn_arch_change_needs_break(mm_flags, old, next))
			ptxn_pvemu_shootdown(pv, r->va, r->va + PTXN_PAGE_SIZE);
		ptxn_txn_unbreak(&pv->hv_mm, w, next);
		break;
	case PTXN_PV_HARVEST:
		r->result.storage = ptxn_txn_strip_hw(w);
		break;
	}
	return PTXN_PV_OK;
}

/* Serve one call: the trap's cost, then every request in order up to the first rejection. */
PTXN_PVEMU_FUNC void ptxn_pvemu_serve(struct ptxn_pvemu *pv, struct ptxn_pvemu_call *c)
{
	uint64_t t0 = ptxn_pvemu_now_ns(), t1;
	uint32_t i, n = c->n;
	int err = PTXN_PV_OK;

	if (pv->cfg.trap_ns)
		while (ptxn_pvemu_now_ns() - t0 < pv->cfg.trap_ns)
			ptxn_arch_cpu_relax();
	for (i = 0; i < n; i++) {
		err = ptxn_pvemu_apply(pv, &c->reqs[i], c->mm_flags);
		if (err)
			break;
		PTXN_PVEMU_STAT(pv, by_cmd[c->reqs[i].cmd], 1);
	}
	c->error = err;
	c->done = i;
	t1 = ptxn_pvemu_now_ns();
	PTXN_PVEMU_STAT(pv, traps, 1);
	PTXN_PVEMU_STAT(pv, requests, i + (err ? 1 : 0));
	PTXN_PVEMU_STAT(pv, applied, i);
	if (err) {
		PTXN_PVEMU_STAT(pv, rejected, 1);
		PTXN_PVEMU_STAT(pv, by_error[err], 1);
	}
	if (n > __atomic_load_n(&pv->stats.max_batch, __ATOMIC_RELAXED))
		__atomic_store_n(&pv->stats.max_batch, (uint64_t)n, __ATOMIC_RELAXED);
	PTXN_PVEMU_STAT(pv, busy_ns, t1 - t0);
}

/* The hypervisor thread: serve calls in ticket order; spin a while, then sleep on kick. */
PTXN_PVEMU_FUNC void *ptxn_pvemu_main(void *arg)
{
	struct ptxn_pvemu *pv = (struct ptxn_pvemu *)arg;
	uint64_t spin_ns = pv->cfg.spin_ns ? pv->cfg.spin_ns : PTXN_PVEMU_DEFAULT_SPIN_NS;
	uint64_t pause_ns = (pv->cfg.flags & PTXN_PVEMU_YIELD) ? 0 : PTXN_PVEMU_PAUSE_NS;

	for (;;) {
		struct ptxn_pvemu_call *c = &pv->ring[pv->tail % PTXN_PVEMU_RING];
		uint64_t since = 0;
		unsigned spins = 0;
		uint32_t k;

		while (__atomic_load_n(&c->state, __ATOMIC_ACQUIRE) != PTXN_PVEMU_CALL_POSTED) {
			if (__atomic_load_n(&pv->stop, __ATOMIC_ACQUIRE))
				return NULL;
			if (ptxn_pvemu_spin(&spins, &since, pause_ns, spin_ns))
				continue;
			/* Sleep. A poster stores POSTED, bumps kick, then reads hv_waiting (all
			 * seq_cst): either we see its call below or it sees us waiting and wakes us;
			 * a kick after our read of k makes the futex wait return at once. */
			k = __atomic_load_n(&pv->kick, __ATOMIC_SEQ_CST);
			__atomic_store_n(&pv->hv_waiting, 1, __ATOMIC_SEQ_CST);
			if (__atomic_load_n(&c->state, __ATOMIC_SEQ_CST) != PTXN_PVEMU_CALL_POSTED &&
			    !__atomic_load_n(&pv->stop, __ATOMIC_SEQ_CST)) {
				PTXN_PVEMU_STAT(pv, sleeps, 1);
				ptxn_pvemu_futex_wait(&pv->kick, k);
			}
			__atomic_store_n(&pv->hv_waiting, 0, __ATOMIC_SEQ_CST);
			since = 0;
			spins = 0;
		}
		ptxn_pvemu_serve(pv, c);
		__atomic_store_n(&c->state, PTXN_PVEMU_CALL_DONE, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&c->waiting, __ATOMIC_SEQ_CST))
			ptxn_pvemu_futex_wake(&c->state);
		pv->tail++;
	}
}

/*
 * One hypercall: post reqs[0..n) and wait for the hypervisor. Returns PTXN_PV_OK or the
 * error of the first rejected request; *done (may be NULL) = requests applied before it
 * (all n on success), as Xen's mmu_update reports its success count. Results are written
 * into the requests. Callable from any thread; calls are served in the order posted.
 */
PTXN_PVEMU_FUNC int ptxn_pvemu_hypercall(struct ptxn_pvemu *pv, struct ptxn_pv_request *reqs,
					 unsigned n, unsigned mm_flags, unsigned *done)
{
	uint32_t ticket = __atomic_fetch_add(&pv->head, 1, __ATOMIC_RELAXED);
	struct ptxn_pvemu_call *c = &pv->ring[ticket % PTXN_PVEMU_RING];
	uint64_t spin_ns = pv->cfg.spin_ns ? pv->cfg.spin_ns : PTXN_PVEMU_DEFAULT_SPIN_NS;
	uint64_t pause_ns = (pv->cfg.flags & PTXN_PVEMU_YIELD) ? 0 : PTXN_PVEMU_PAUSE_NS + pv->cfg.trap_ns;
	uint64_t since = 0;
	unsigned spins = 0;
	int err;

	while (__atomic_load_n(&c->turn, __ATOMIC_ACQUIRE) != ticket)
		sched_yield(); /* a full ring: the call RING tickets earlier is still in flight */
	c->reqs = reqs;
	c->n = n;
	c->mm_flags = mm_flags;
	/* Atomic: the hypervisor may still be reading `waiting` of this slot's previous call
	 * (after storing DONE, to decide whether to wake its caller), which has already seen
	 * DONE and handed the slot on (found by TSan). What it reads then does not matter: the
	 * previous caller is awake. */
	__atomic_store_n(&c->waiting, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&c->state, PTXN_PVEMU_CALL_POSTED, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&pv->kick, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&pv->hv_waiting, __ATOMIC_SEQ_CST))
		ptxn_pvemu_futex_wake(&pv->kick);

	/* The round trip: spin a while (the hypervisor runs on another CPU), then sleep. */
	while (__atomic_load_n(&c->state, __ATOMIC_ACQUIRE) != PTXN_PVEMU_CALL_DONE) {
		if (ptxn_pvemu_spin(&spins, &since, pause_ns, spin_ns + pv->cfg.trap_ns))
			continue;
		__atomic_store_n(&c->waiting, 1, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&c->state, __ATOMIC_SEQ_CST) != PTXN_PVEMU_CALL_DONE)
			ptxn_pvemu_futex_wait(&c->state, PTXN_PVEMU_CALL_POSTED);
		since = 0;
		spins = 0;
	}
	err = c->error;
	if (done)
		*done = c->done;
	__atomic_store_n(&c->state, PTXN_PVEMU_CALL_FREE, __ATOMIC_RELAXED);
	__atomic_store_n(&c->turn, ticket + PTXN_PVEMU_RING, __ATOMIC_RELEASE);
	return err;
}

/*
 * Start a hypervisor for the machine hw (agents created or not, but none running). Its
 * table memory moves into a memfd mapped twice: hw->phys.mem becomes the writable view
 * (so hwemu's builder, agents and checker keep working unchanged) and the guest gets the
 * read-only one (ptxn_pvemu_lookup, ptxn_pvemu_guest_ptr). NULL on failure.
 */
PTXN_PVEMU_FUNC struct ptxn_pvemu *ptxn_pvemu_create(struct ptxn_hwemu *hw,
						     const struct ptxn_pvemu_config *cfg)
{
	struct ptxn_pvemu *pv;
	long pagesize = sysconf(_SC_PAGESIZE);
	unsigned i;

	if (posix_memalign((void **)&pv, 64, sizeof(*pv)))
		return NULL;
	memset(pv, 0, sizeof(*pv));
	pv->hw = hw;
	if (cfg)
		pv->cfg = *cfg;
	pv->memfd = -1;
	pv->table_bytes = (size_t)hw->phys.npages * PTXN_HWEMU_PAGE_SIZE;
	if (pagesize <= 0)
		pagesize = 4096;
	pv->view_bytes = (pv->table_bytes + (size_t)pagesize - 1) / (size_t)pagesize * (size_t)pagesize;
	pv->level = (unsigned char *)calloc((size_t)hw->phys.npages, 1);
	pv->memfd = (int)syscall(SYS_memfd_create, "ptxn-pvemu-tables", 1u /* MFD_CLOEXEC */);
	if (!pv->level || pv->memfd < 0 || ftruncate(pv->memfd, (off_t)pv->view_bytes))
		goto fail;
	pv->wview = (unsigned char *)mmap(NULL, pv->view_bytes, PROT_READ | PROT_WRITE, MAP_SHARED,
					  pv->memfd, 0);
	pv->rview = (unsigned char *)mmap(NULL, pv->view_bytes, PROT_READ, MAP_SHARED, pv->memfd, 0);
	if (pv->wview == MAP_FAILED || pv->rview == MAP_FAILED)
		goto fail;
	memcpy(pv->wview, hw->phys.mem, pv->table_bytes);
	pv->orig_mem = hw->phys.mem;
	hw->phys.mem = pv->wview;
	ptxn_hwemu_flush_all(hw); /* agents' TLBs point at leaves in the old memory */
	ptxn_mm_init(&pv->hv_mm);
	ptxn_pvemu_rescan(pv);
	for (i = 0; i < PTXN_PVEMU_RING; i++)
		pv->ring[i].turn = i;
	if (pthread_create(&pv->thread, NULL, ptxn_pvemu_main, pv)) {
		hw->phys.mem = pv->orig_mem;
		goto fail;
	}
	if (pv->cfg.flags & PTXN_PVEMU_PIN) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET((int)pv->cfg.cpu, &set);
		pthread_setaffinity_np(pv->thread, sizeof(set), &set); /* best effort */
	}
	return pv;
fail:
	if (pv->wview && pv->wview != MAP_FAILED)
		munmap(pv->wview, pv->view_bytes);
	if (pv->rview && pv->rview != MAP_FAILED)
		munmap(pv->rview, pv->view_bytes);
	if (pv->memfd >= 0)
		close(pv->memfd);
	free(pv->level);
	free(pv);
	return NULL;
}

/* Stop the hypervisor and give the machine its table memory back (contents kept). Detach
 * every mm first; stop the agents. */
PTXN_PVEMU_FUNC void ptxn_pvemu_destroy(struct ptxn_pvemu *pv)
{
	if (!pv)
		return;
	__atomic_store_n(&pv->stop, 1, __ATOMIC_SEQ_CST);
	__atomic_fetch_add(&pv->kick, 1, __ATOMIC_SEQ_CST);
	ptxn_pvemu_futex_wake(&pv->kick);
	pthread_join(pv->thread, NULL);
	memcpy(pv->orig_mem, pv->wview, pv->table_bytes);
	pv->hw->phys.mem = pv->orig_mem;
	ptxn_hwemu_flush_all(pv->hw);
	munmap(pv->wview, pv->view_bytes);
	munmap(pv->rview, pv->view_bytes);
	close(pv->memfd);
	free(pv->level);
	free(pv);
}

/* A snapshot of the hypervisor's counters. */
PTXN_PVEMU_FUNC void ptxn_pvemu_get_stats(struct ptxn_pvemu *pv, struct ptxn_pvemu_stats *out)
{
	const uint64_t *src = (const uint64_t *)(const void *)&pv->stats;
	uint64_t *dst = (uint64_t *)(void *)out;
	size_t i;

	for (i = 0; i < sizeof(*out) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}

PTXN_PVEMU_FUNC uint64_t ptxn_pvemu_traps(struct ptxn_pvemu *pv)
{
	return __atomic_load_n(&pv->stats.traps, __ATOMIC_RELAXED);
}

PTXN_EXTERN_C_END

#endif /* PTXN_PVEMU_HYPERVISOR_H */
