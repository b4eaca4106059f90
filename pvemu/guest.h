/* SPDX-License-Identifier: MIT */
/*
 * ptxn/pvemu/guest.h - the guest side's per-mm state (struct ptxn_pvemu_guest):
 * rejected requests as the guest sees them and its error hook, the set of queued slots,
 * and sending requests (synchronously, or queued for a lazy-MMU batch).
 *
 * Part of <ptxn/pvemu.h>, which includes the parts in this order:
 *   abi.h, state.h, validate.h, hypervisor.h, guest.h, platform.h (pvemu/pvemu.h).
 */
#ifndef PTXN_PVEMU_GUEST_H
#define PTXN_PVEMU_GUEST_H

#ifndef PTXN_PVEMU_INTERNAL
#error "Do not include ptxn/pvemu/guest.h directly; include <ptxn/pvemu.h>"
#endif

PTXN_EXTERN_C_BEGIN

/* ---- the guest: a ptxn platform -------------------------------------------------------------- */

/*
 * A rejected request, as the guest sees it. The platform keeps the first one since the
 * last ptxn_pvemu_take_error() and counts the rest, and calls the mm's error hook (if
 * any) for each, in the thread whose call sent it: with lazy batching that is the call
 * that sent the batch (a commit, a flush, leave), not the commit that queued it.
 */
struct ptxn_pv_error {
	int code;            /* enum ptxn_pv_errno */
	unsigned cmd;        /* enum ptxn_pv_cmd */
	unsigned index;      /* the request's position in the hypercall that refused it */
	unsigned done;       /* requests of that hypercall applied before it (== index) */
	unsigned count;      /* requests that hypercall carried */
	uint64_t slot;       /* the entry's guest-physical address */
	uint64_t addr;       /* the virtual address the caller passed */
	ptxn_pte_t val;      /* the entry it would have written */
};

typedef void (*ptxn_pvemu_error_fn)(ptxn_mm_t *mm, const struct ptxn_pv_error *err, void *ctx);

/* Per attached mm (mm->platform_data). */
struct ptxn_pvemu_guest {
	struct ptxn_pvemu *pv;
	unsigned batch;                 /* commits queued in lazy mode before sending */
	unsigned cap;                   /* batch + PTXN_PVEMU_SYNC_ROOM */
	unsigned n;                     /* queued */
	struct ptxn_pv_request *queue;
	/* the slots queued: open addressing, an entry is live when its gen is the current one */
	uint64_t *hkey;
	uint32_t *hgen;
	uint32_t gen;
	unsigned hmask;
	/* errors */
	pthread_mutex_t lock;
	struct ptxn_pv_error first;
	uint64_t nerrors;
	ptxn_pvemu_error_fn hook;
	void *hook_ctx;
	/* what this mm cost */
	uint64_t traps;                 /* hypercalls this mm made */
	uint64_t read_flushes;          /* queues sent because a read hit a queued entry */
};

PTXN_PVEMU_FUNC struct ptxn_pvemu_guest *ptxn_pvemu_guest(const ptxn_mm_t *mm)
{
	return (struct ptxn_pvemu_guest *)mm->platform_data;
}

PTXN_PVEMU_FUNC unsigned ptxn_pvemu_hash(const struct ptxn_pvemu_guest *g, uint64_t slot)
{
	return (unsigned)((slot >> 3) * UINT64_C(0x9E3779B97F4A7C15) >> 40) & g->hmask;
}

PTXN_PVEMU_FUNC bool ptxn_pvemu_is_queued(const struct ptxn_pvemu_guest *g, uint64_t slot)
{
	unsigned i = ptxn_pvemu_hash(g, slot);

	if (!g->n)
		return false;
	for (; g->hgen[i] == g->gen; i = (i + 1) & g->hmask)
		if (g->hkey[i] == slot)
			return true;
	return false;
}

PTXN_PVEMU_FUNC void ptxn_pvemu_mark_queued(struct ptxn_pvemu_guest *g, uint64_t slot)
{
	unsigned i = ptxn_pvemu_hash(g, slot);

	for (; g->hgen[i] == g->gen; i = (i + 1) & g->hmask)
		if (g->hkey[i] == slot)
			return;
	g->hkey[i] = slot;
	g->hgen[i] = g->gen;
}

PTXN_PVEMU_FUNC void ptxn_pvemu_queue_reset(struct ptxn_pvemu_guest *g)
{
	g->n = 0;
	if (++g->gen == 0) { /* wrapped: forget every stale tag */
		memset(g->hgen, 0, (g->hmask + 1) * sizeof(*g->hgen));
		g->gen = 1;
	}
}

PTXN_PVEMU_FUNC void ptxn_pvemu_record_error(ptxn_mm_t *mm, struct ptxn_pvemu_guest *g, int code,
					     const struct ptxn_pv_request *r, unsigned index,
					     unsigned count)
{
	struct ptxn_pv_error e;

	e.code = code;
	e.cmd = r->cmd;
	e.index = index;
	e.done = index;
	e.count = count;
	e.slot = r->slot;
	e.addr = r->va;
	e.val = r->val;
	pthread_mutex_lock(&g->lock);
	if (!g->nerrors++)
		g->first = e;
	pthread_mutex_unlock(&g->lock);
	if (g->hook)
		g->hook(mm, &e, g->hook_ctx);
}

/*
 * Send reqs[0..n) as one hypercall. A rejected request is recorded, and the requests
 * after it (which the hypervisor did not look at) are sent again in a new hypercall, so
 * one bad request costs one more trap and nothing else. Returns the first error.
 */
PTXN_PVEMU_FUNC int ptxn_pvemu_send(ptxn_mm_t *mm, struct ptxn_pvemu_guest *g,
				    struct ptxn_pv_request *reqs, unsigned n)
{
	int first = PTXN_PV_OK;
	unsigned off = 0;

	while (off < n) {
		unsigned done = 0;
		int err = ptxn_pvemu_hypercall(g->pv, reqs + off, n - off, mm->flags, &done);

		__atomic_fetch_add(&g->traps, 1, __ATOMIC_RELAXED);
		if (!err)
			break;
		ptxn_pvemu_record_error(mm, g, err, &reqs[off + done], done, n - off);
		if (!first)
			first = err;
		off += done + 1;
	}
	return first;
}

/* Send the lazy queue, if any. */
PTXN_PVEMU_FUNC int ptxn_pvemu_flush_queue(ptxn_mm_t *mm, struct ptxn_pvemu_guest *g)
{
	int err;

	if (!g->n)
		return PTXN_PV_OK;
	err = ptxn_pvemu_send(mm, g, g->queue, g->n);
	ptxn_pvemu_queue_reset(g);
	return err;
}

/*
 * Requests whose result the caller needs now (BREAK, HARVEST, TLB_FLUSH): one hypercall.
 * In lazy mode a non-empty queue rides in front of them in the same hypercall, which
 * keeps the order and costs no extra trap (Linux flushes its multicall batch the same way
 * when a call needs its result).
 */
PTXN_PVEMU_FUNC int ptxn_pvemu_sync(ptxn_mm_t *mm, struct ptxn_pvemu_guest *g,
				    struct ptxn_pv_request *reqs, unsigned n)
{
	unsigned q = g->n;
	int err;

	if (q && q + n <= g->cap) {
		memcpy(g->queue + q, reqs, n * sizeof(*reqs));
		err = ptxn_pvemu_send(mm, g, g->queue, q + n);
		memcpy(reqs, g->queue + q, n * sizeof(*reqs));
		ptxn_pvemu_queue_reset(g);
		return err;
	}
	ptxn_pvemu_flush_queue(mm, g);
	return ptxn_pvemu_send(mm, g, reqs, n);
}

/* Requests without a result (commits, set_pte_at): queued in lazy mode, else sent now. */
PTXN_PVEMU_FUNC int ptxn_pvemu_async(ptxn_mm_t *mm, struct ptxn_pvemu_guest *g,
				     const struct ptxn_pv_request *reqs, unsigned n)
{
	unsigned i;
	int err = PTXN_PV_OK;

	if (!ptxn_lazy_mmu_active(mm))
		return ptxn_pvemu_send(mm, g, (struct ptxn_pv_request *)reqs, n);
	for (i = 0; i < n; i++) {
		g->queue[g->n++] = reqs[i];
		ptxn_pvemu_mark_queued(g, reqs[i].slot);
		if (g->n >= g->batch) {
			int e = ptxn_pvemu_flush_queue(mm, g);

			if (!err)
				err = e;
		}
	}
	return err;
}

/* Read-your-writes: a read of an entry with a queued write sends the queue first. */
PTXN_PVEMU_FUNC void ptxn_pvemu_settle(ptxn_mm_t *mm, struct ptxn_pvemu_guest *g, uint64_t slot,
				       unsigned nr)
{
	unsigned i;

	if (!g->n || !ptxn_lazy_mmu_active(mm))
		return;
	for (i = 0; i < nr; i++)
		if (ptxn_pvemu_is_queued(g, slot + 8 * (uint64_t)i)) {
			g->read_flushes++;
			ptxn_pvemu_flush_queue(mm, g);
			return;
		}
}

PTXN_PVEMU_FUNC struct ptxn_pv_request ptxn_pvemu_req(unsigned cmd, uint64_t slot, uint64_t va,
						      ptxn_pte_t old, ptxn_pte_t val)
{
	struct ptxn_pv_request r;

	memset(&r, 0, sizeof(r));
	r.cmd = cmd;
	r.slot = slot;
	r.va = va;
	r.old = old;
	r.val = val;
	return r;
}

PTXN_EXTERN_C_END

#endif /* PTXN_PVEMU_GUEST_H */
