/* SPDX-License-Identifier: MIT */
/*
 * ptxn/hwemu/check.h - the checker: snapshot the tables (ptxn_hwemu_check_begin),
 * then judge every slot against the ledger, the software log and the write logs
 * (conservation, timestamp, permission and CET rules; docs/hwemu.md, "The checker"),
 * and print the verdict. The logs it reads are ledger.h's, the verdict types types.h's.
 *
 * Part of <ptxn/hwemu.h>; includes the parts it uses (docs/hwemu.md has the tree).
 */
#ifndef PTXN_HWEMU_CHECK_H
#define PTXN_HWEMU_CHECK_H

#include "mmu.h"     /* entry loads, update kinds, the x86 CET rule */
#include "types.h"   /* the records and the verdict */
#include "machine.h" /* the machine's logs and snapshots */
#include "ledger.h"  /* logical A/D bits of an entry */

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

PTXN_EXTERN_C_BEGIN

/* ---- checker ----------------------------------------------------------------------------------- */

/*
 * Start a checked run: snapshot every table entry as the initial state and forget earlier
 * ledgers and logs. Call it while no agent is running.
 */
PTXN_HWEMU_FUNC void ptxn_hwemu_check_begin(struct ptxn_hwemu *hw)
{
	uint64_t p;
	unsigned i, j;

	for (p = 0; p < hw->phys.npages; p++) {
		if (!hw->phys.used[p])
			continue;
		if (!hw->phys.initial[p])
			hw->phys.initial[p] = (ptxn_pteval_t *)malloc(PTXN_HWEMU_PAGE_SIZE);
		if (!hw->phys.initial[p])
			abort();
		for (j = 0; j < PTXN_HWEMU_PAGE_SIZE / 8; j++)
			hw->phys.initial[p][j] = ptxn_mmu_load(
				(const ptxn_pte_t *)(const void *)(hw->phys.mem + p * PTXN_HWEMU_PAGE_SIZE) + j);
	}
	for (i = 0; i < hw->nagents; i++) {
		hw->agents[i]->nledger = 0;
		hw->agents[i]->nwrites = 0;
		memset(&hw->agents[i]->c, 0, sizeof(hw->agents[i]->c));
	}
	hw->ntxns = 0;
}

/* Every agent's ledger entries in ticket order (caller frees). */
PTXN_HWEMU_FUNC int ptxn_hwemu_cmp_ticket(const void *x, const void *y)
{
	const struct ptxn_hwemu_ledger_entry *a = (const struct ptxn_hwemu_ledger_entry *)x;
	const struct ptxn_hwemu_ledger_entry *b = (const struct ptxn_hwemu_ledger_entry *)y;

	return a->ticket < b->ticket ? -1 : a->ticket > b->ticket;
}

/* n zeroed elements (at least one, so that n == 0 is not NULL); aborts when out of memory. */
PTXN_HWEMU_FUNC void *ptxn_hwemu_alloc_array(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		abort();
	return p;
}

PTXN_HWEMU_FUNC struct ptxn_hwemu_ledger_entry *ptxn_hwemu_ledger(const struct ptxn_hwemu *hw, size_t *n)
{
	struct ptxn_hwemu_ledger_entry *all;
	size_t total = 0, k = 0;
	unsigned i;

	for (i = 0; i < hw->nagents; i++)
		total += hw->agents[i]->nledger;
	all = (struct ptxn_hwemu_ledger_entry *)ptxn_hwemu_alloc_array(total, sizeof(*all));
	for (i = 0; i < hw->nagents; i++) {
		if (!hw->agents[i]->nledger)
			continue; /* ledger is NULL then: memcpy(dst, NULL, 0) is undefined (UBSan) */
		memcpy(all + k, hw->agents[i]->ledger, hw->agents[i]->nledger * sizeof(*all));
		k += hw->agents[i]->nledger;
	}
	qsort(all, total, sizeof(*all), ptxn_hwemu_cmp_ticket);
	*n = total;
	return all;
}

/* One transaction covering one slot, for the per-slot pass. */
struct ptxn_hwemu_cover {
	uint64_t slot;
	size_t txn;
	uint64_t t_start;
};

PTXN_HWEMU_FUNC int ptxn_hwemu_cmp_cover(const void *x, const void *y)
{
	const struct ptxn_hwemu_cover *a = (const struct ptxn_hwemu_cover *)x;
	const struct ptxn_hwemu_cover *b = (const struct ptxn_hwemu_cover *)y;

	if (a->slot != b->slot)
		return a->slot < b->slot ? -1 : 1;
	return a->t_start < b->t_start ? -1 : a->t_start > b->t_start;
}

PTXN_HWEMU_FUNC int ptxn_hwemu_cmp_slot_ticket(const void *x, const void *y)
{
	const struct ptxn_hwemu_ledger_entry *a = (const struct ptxn_hwemu_ledger_entry *)x;
	const struct ptxn_hwemu_ledger_entry *b = (const struct ptxn_hwemu_ledger_entry *)y;

	if (a->slot != b->slot)
		return a->slot < b->slot ? -1 : 1;
	return a->ticket < b->ticket ? -1 : a->ticket > b->ticket;
}

PTXN_HWEMU_FUNC int ptxn_hwemu_cmp_write(const void *x, const void *y)
{
	const struct ptxn_hwemu_write *a = (const struct ptxn_hwemu_write *)x;
	const struct ptxn_hwemu_write *b = (const struct ptxn_hwemu_write *)y;

	if (a->slot != b->slot)
		return a->slot < b->slot ? -1 : 1;
	return a->ticket < b->ticket ? -1 : a->ticket > b->ticket;
}

PTXN_HWEMU_FUNC struct ptxn_hwemu_finding *ptxn_hwemu_finding(struct ptxn_hwemu_report *r, unsigned kind,
							      uint64_t slot)
{
	struct ptxn_hwemu_finding *f;

	if (r->nfindings >= PTXN_HWEMU_MAX_FINDINGS)
		return NULL;
	f = &r->findings[r->nfindings++];
	memset(f, 0, sizeof(*f));
	f->kind = kind;
	f->slot = slot;
	return f;
}

/* The entry of txn t that sits in slot (batched transactions advance the frame). */
PTXN_HWEMU_FUNC ptxn_pteval_t ptxn_hwemu_txn_new_at(const struct ptxn_hwemu_txn *t, uint64_t slot)
{
	return ptxn_pte_val(ptxn_pte_advance_pfn(ptxn_make_pte(t->new_pte), (slot - t->slot) / 8));
}

/* Logical bits of an entry; an empty entry has none (KNL/late R/C strays in it do not count). */
PTXN_HWEMU_FUNC unsigned ptxn_hwemu_logical_state(ptxn_pteval_t v)
{
	return ptxn_arch_pte_none(v) ? 0 : ptxn_hwemu_logical(v);
}

/*
 * Searches and running maxima that keep the per-slot pass O((n) log n): a hot slot of a
 * full-size race has ~10^4 transactions, ledger entries and writes, and the plain nested
 * loops (for each update, every transaction) took ~20 s per race of single-threaded
 * checking - most of the native rows' race time (docs/hwemu.md, "The checker").
 */
/*
 * How many of the n records at base (stride bytes apart) lead with a 64-bit key, at byte
 * offset `key` of each, below bound: the records are sorted by that key.
 */
PTXN_HWEMU_FUNC size_t ptxn_hwemu_count_below(const void *base, size_t n, size_t stride, size_t key,
					      uint64_t bound)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		uint64_t v;

		memcpy(&v, (const char *)base + mid * stride + key, sizeof(v));
		if (v < bound)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The first cover[k] with t_start >= ticket; nc if none (a slot's cover is by start). */
PTXN_HWEMU_FUNC size_t ptxn_hwemu_first_start_at(const struct ptxn_hwemu_cover *cover, size_t nc,
						 uint64_t ticket)
{
	return ptxn_hwemu_count_below(cover, nc, sizeof(*cover),
				      offsetof(struct ptxn_hwemu_cover, t_start), ticket);
}

/* The number of ledger entries with ticket < bound (a slot's ledger is by ticket). */
PTXN_HWEMU_FUNC size_t ptxn_hwemu_updates_before(const struct ptxn_hwemu_ledger_entry *ledger,
						 size_t nl, uint64_t bound)
{
	return ptxn_hwemu_count_below(ledger, nl, sizeof(*ledger),
				      offsetof(struct ptxn_hwemu_ledger_entry, ticket), bound);
}

/* The first write with ticket > bound; nw if none (a slot's writes are by ticket). */
PTXN_HWEMU_FUNC size_t ptxn_hwemu_first_write_after(const struct ptxn_hwemu_write *writes, size_t nw,
						    uint64_t bound)
{
	if (bound == UINT64_MAX)
		return nw;
	return ptxn_hwemu_count_below(writes, nw, sizeof(*writes),
				      offsetof(struct ptxn_hwemu_write, ticket), bound + 1);
}

/*
 * Check one slot. ledger[0..nl): its updates by ticket; cover[0..nc): the transactions
 * covering it by start; writes[0..nw): its successful writes by ticket.
 */
PTXN_HWEMU_FUNC void ptxn_hwemu_check_slot(const struct ptxn_hwemu *hw, struct ptxn_hwemu_report *r,
					   uint64_t slot, ptxn_pteval_t initial, ptxn_pteval_t final,
					   const struct ptxn_hwemu_ledger_entry *ledger, size_t nl,
					   const struct ptxn_hwemu_cover *cover, size_t nc,
					   const struct ptxn_hwemu_write *writes, size_t nw)
{
	const struct ptxn_hwemu_txn *txns = hw->txns;
	/* max_done[i]: the latest `done` of ledger[0..i) that counts for the bit in hand (0:
	 * none); max_started[k]: the latest t_started of cover[0..k) (0: none, k == 0). */
	uint64_t *max_done = (uint64_t *)ptxn_hwemu_alloc_array(nl + 1, sizeof(uint64_t));
	uint64_t *max_started = (uint64_t *)ptxn_hwemu_alloc_array(nc + 1, sizeof(uint64_t));
	bool batch = false;
	unsigned bit;
	size_t i, k;

	r->slots_checked++;
	for (k = 0; k < nc; k++) {
		const uint64_t started = txns[cover[k].txn].t_started;

		if (txns[cover[k].txn].nr > 1)
			batch = true;
		max_started[k + 1] = started > max_started[k] ? started : max_started[k];
	}

	for (bit = PTXN_HWEMU_YOUNG; bit <= PTXN_HWEMU_DIRTY; bit <<= 1) {
		long ib = (ptxn_hwemu_logical_state(initial) & bit) != 0;
		long fb = (ptxn_hwemu_logical_state(final) & bit) != 0;
		long h = 0, s = 0, c = 0, absorbable = 0;
		bool new_has_bit = false;
		uint64_t last_clean = 0;

		for (i = 0; i < nl; i++) {
			const bool counts = (ledger[i].bits & bit) && ledger[i].kind != PTXN_MMU_UPDATE_ERRATUM;

			h += counts;
			max_done[i + 1] = counts && ledger[i].done > max_done[i] ? ledger[i].done
										: max_done[i];
		}
		for (k = 0; k < nc; k++) {
			const struct ptxn_hwemu_txn *t = &txns[cover[k].txn];
			bool ob = (ptxn_hwemu_logical(t->old) & bit) != 0;
			bool nb = (ptxn_hwemu_logical(ptxn_hwemu_txn_new_at(t, slot)) & bit) != 0;

			new_has_bit = new_has_bit || nb;
			if (ob && !nb) {
				c++;
				last_clean = t->t_start;
			} else if (!ob && nb) {
				s++;
				/* A hardware set inside this window is absorbed by the software set:
				 * one that began before the commit ended and ended after start began. */
				if (max_done[ptxn_hwemu_updates_before(ledger, nl, t->t_commit)] > t->t_start)
					absorbable++;
			}
		}

		/* Timestamp rule: an update made after one start finished and before the next
		 * began must be seen by that next start (or be in the final entry). */
		for (i = 0; i < nl; i++) {
			const struct ptxn_hwemu_ledger_entry *e = &ledger[i];
			const struct ptxn_hwemu_txn *next = NULL;
			bool seen;

			if (!(e->bits & bit) || e->kind == PTXN_MMU_UPDATE_ERRATUM)
				continue;
			/* next: the first start at or after the update's end. An earlier start
			 * that returned after the update began may have raced with it: skip. */
			k = ptxn_hwemu_first_start_at(cover, nc, e->done);
			if (k > 0 && max_started[k] >= e->ticket)
				continue;
			if (k < nc)
				next = &txns[cover[k].txn];
			seen = next ? (ptxn_hwemu_logical(next->old) & bit) != 0 : fb != 0;
			if (!seen) {
				struct ptxn_hwemu_finding *f;

				if (batch)
					r->lost_batched++;
				else
					r->lost_timestamp++;
				if (batch && (f = ptxn_hwemu_finding(r, PTXN_HWEMU_LOST, slot))) {
					f->bit = bit;
					f->va = e->va;
					f->initial = initial;
					f->final = final;
					f->ticket = e->ticket;
					f->ref_ticket = next ? next->t_start : 0;
				}
			}
		}

		if (!batch) {
			/* Conservation: initial + hardware sets + software sets == cleans + final. */
			long lhs = ib + h + s, rhs = c + fb;

			if (lhs > rhs + absorbable || rhs > lhs) {
				struct ptxn_hwemu_finding *f;
				bool lost = lhs > rhs;

				if (lost)
					r->lost += (uint64_t)(lhs - rhs - absorbable);
				else
					r->stray += (uint64_t)(rhs - lhs);
				f = ptxn_hwemu_finding(r, lost ? PTXN_HWEMU_LOST : PTXN_HWEMU_STRAY, slot);
				if (f) {
					f->bit = bit;
					f->initial = initial;
					f->final = final;
					f->expected = lhs;
					f->actual = rhs;
					f->ref_ticket = last_clean;
					for (i = 0; i < nl && f->ntickets < 8; i++)
						if ((ledger[i].bits & bit) && ledger[i].ticket > last_clean &&
						    ledger[i].kind != PTXN_MMU_UPDATE_ERRATUM) {
							f->va = ledger[i].va;
							f->tickets[f->ntickets++] = ledger[i].ticket;
						}
				}
			}
		} else if (fb && !ib && !h && !new_has_bit) {
			struct ptxn_hwemu_finding *f = ptxn_hwemu_finding(r, PTXN_HWEMU_STRAY, slot);

			r->stray++;
			if (f) {
				f->bit = bit;
				f->initial = initial;
				f->final = final;
			}
		}
	}

	/* Permission rule: no write translated wholly after a read-only commit and its flush,
	 * and before the next transaction on the entry started, may succeed. */
	for (k = 0; k < nc; k++) {
		const struct ptxn_hwemu_txn *t = &txns[cover[k].txn];
		ptxn_pteval_t nv = ptxn_hwemu_txn_new_at(t, slot);
		uint64_t until = k + 1 < nc ? txns[cover[k + 1].txn].t_start : UINT64_MAX;

		if (!t->t_flushed || (ptxn_arch_pte_hw_valid(nv) && ptxn_arch_pte_write(nv)))
			continue;
		/* a write's done follows its ticket: done <= until only for ticket <= until */
		for (i = ptxn_hwemu_first_write_after(writes, nw, t->t_flushed);
		     i < nw && writes[i].ticket <= until; i++) {
			if (writes[i].done <= until) {
				struct ptxn_hwemu_finding *f = ptxn_hwemu_finding(r, PTXN_HWEMU_PERMISSION, slot);

				r->permission++;
				if (f) {
					f->va = writes[i].va;
					f->ticket = writes[i].ticket;
					f->ref_ticket = t->t_flushed;
					f->final = nv;
				}
			}
		}
	}

#ifdef PTXN_FORMAT_X86
	/*
	 * CET: R/W=0 with D=1 is a shadow-stack page, which the hardware never makes. Software
	 * may keep one (a transaction whose old entry was one: Linux's pte_modify keeps it),
	 * but must never turn another entry into one.
	 */
	if (hw->mmu_flags & PTXN_MMU_X86_CET) {
		bool was = ptxn_mmu_x86_shadow_stack_like(initial), bad = false;

		for (k = 0; k < nc; k++) {
			const struct ptxn_hwemu_txn *t = &txns[cover[k].txn];

			if (!ptxn_mmu_x86_shadow_stack_like(t->old) &&
			    ptxn_mmu_x86_shadow_stack_like(ptxn_hwemu_txn_new_at(t, slot)))
				bad = true;
			was = was || ptxn_mmu_x86_shadow_stack_like(t->old);
		}
		bad = bad || (ptxn_mmu_x86_shadow_stack_like(final) && !was);
		if (bad) {
			struct ptxn_hwemu_finding *f = ptxn_hwemu_finding(r, PTXN_HWEMU_CET, slot);

			r->cet++;
			if (f) {
				f->initial = initial;
				f->final = final;
			}
		}
	}
#endif
	free(max_done);
	free(max_started);
}

/*
 * Check everything since ptxn_hwemu_check_begin() (stop the agents first): every slot of
 * every table, against the ledger, the software log and the write logs. docs/hwemu.md,
 * "The checker", states the rules. Returns true if nothing was found.
 */
PTXN_HWEMU_FUNC bool ptxn_hwemu_check(struct ptxn_hwemu *hw, struct ptxn_hwemu_report *r)
{
	struct ptxn_hwemu_ledger_entry *ledger;
	struct ptxn_hwemu_cover *cover;
	struct ptxn_hwemu_write *writes;
	size_t nl, nc = 0, nw = 0, il = 0, ic = 0, iw = 0, t;
	uint64_t p;
	unsigned i, j;

	memset(r, 0, sizeof(*r));
	ledger = ptxn_hwemu_ledger(hw, &nl);
	qsort(ledger, nl, sizeof(*ledger), ptxn_hwemu_cmp_slot_ticket);
	for (t = 0; t < nl; t++) {
		if (ledger[t].kind == PTXN_MMU_UPDATE_ERRATUM)
			r->erratum_updates++;
		else if (ledger[t].kind == PTXN_MMU_UPDATE_SOFTWARE)
			r->sw_updates++;
		else
			r->hw_updates++;
	}
	for (t = 0; t < hw->ntxns; t++) {
		nc += hw->txns[t].nr;
		if (hw->txns[t].nr > 1)
			r->batched_txns++;
	}
	r->txns = hw->ntxns;
	cover = (struct ptxn_hwemu_cover *)ptxn_hwemu_alloc_array(nc, sizeof(*cover));
	nc = 0;
	for (t = 0; t < hw->ntxns; t++)
		for (j = 0; j < hw->txns[t].nr; j++) {
			cover[nc].slot = hw->txns[t].slot + 8 * (uint64_t)j;
			cover[nc].txn = t;
			cover[nc].t_start = hw->txns[t].t_start;
			nc++;
		}
	qsort(cover, nc, sizeof(*cover), ptxn_hwemu_cmp_cover);
	for (i = 0; i < hw->nagents; i++)
		nw += hw->agents[i]->nwrites;
	writes = (struct ptxn_hwemu_write *)ptxn_hwemu_alloc_array(nw, sizeof(*writes));
	nw = 0;
	for (i = 0; i < hw->nagents; i++) {
		if (!hw->agents[i]->nwrites)
			continue; /* writes is NULL then: memcpy(dst, NULL, 0) is undefined (UBSan) */
		memcpy(writes + nw, hw->agents[i]->writes, hw->agents[i]->nwrites * sizeof(*writes));
		nw += hw->agents[i]->nwrites;
	}
	qsort(writes, nw, sizeof(*writes), ptxn_hwemu_cmp_write);
	r->writes_checked = nw;

	/* Walk every slot of every table page in address order, merging the three lists. */
	for (p = 0; p < hw->phys.npages; p++) {
		const ptxn_pte_t *page = (const ptxn_pte_t *)(const void *)(hw->phys.mem + p * PTXN_HWEMU_PAGE_SIZE);

		if (!hw->phys.used[p] && !hw->phys.initial[p])
			continue;
		for (j = 0; j < PTXN_HWEMU_PAGE_SIZE / 8; j++) {
			uint64_t slot = hw->phys.base + p * PTXN_HWEMU_PAGE_SIZE + 8 * (uint64_t)j;
			ptxn_pteval_t initial = hw->phys.initial[p] ? hw->phys.initial[p][j] : 0;
			ptxn_pteval_t final = ptxn_mmu_load(page + j);
			size_t l0 = il, c0 = ic, w0 = iw;

			while (il < nl && ledger[il].slot < slot)
				il++;
			l0 = il;
			while (il < nl && ledger[il].slot == slot)
				il++;
			while (ic < nc && cover[ic].slot < slot)
				ic++;
			c0 = ic;
			while (ic < nc && cover[ic].slot == slot)
				ic++;
			while (iw < nw && writes[iw].slot < slot)
				iw++;
			w0 = iw;
			while (iw < nw && writes[iw].slot == slot)
				iw++;
			if (il == l0 && ic == c0 && iw == w0 && initial == final)
				continue;
			ptxn_hwemu_check_slot(hw, r, slot, initial, final, ledger + l0, il - l0,
					      cover + c0, ic - c0, writes + w0, iw - w0);
		}
	}
	for (i = 0; i < hw->nagents; i++) {
		r->hangs += hw->agents[i]->c.hangs;
		r->conflicts += hw->agents[i]->c.faults[PTXN_MMU_FAULT_CONFLICT];
	}
	free(ledger);
	free(cover);
	free(writes);
	return !r->lost && !r->lost_batched && !r->lost_timestamp && !r->stray && !r->permission &&
	       !r->cet && !r->conflicts;
}

PTXN_HWEMU_FUNC const char *ptxn_hwemu_finding_name(unsigned kind)
{
	switch (kind) {
	case PTXN_HWEMU_LOST:
		return "lost";
	case PTXN_HWEMU_STRAY:
		return "stray";
	case PTXN_HWEMU_PERMISSION:
		return "permission";
	case PTXN_HWEMU_CET:
		return "cet";
	}
	return "?";
}

PTXN_HWEMU_FUNC void ptxn_hwemu_report_print(const struct ptxn_hwemu_report *r, FILE *out)
{
	unsigned i, k;

	fprintf(out,
		"hwemu check: %llu slots, %llu txns (%llu batched), %llu hw + %llu sw-resolved + "
		"%llu erratum updates, %llu writes; lost %llu, lost(batched) %llu, "
		"lost(timestamp) %llu, stray %llu, permission %llu, cet %llu, hangs %llu, "
		"tlb conflicts %llu\n",
		(unsigned long long)r->slots_checked, (unsigned long long)r->txns,
		(unsigned long long)r->batched_txns, (unsigned long long)r->hw_updates,
		(unsigned long long)r->sw_updates, (unsigned long long)r->erratum_updates,
		(unsigned long long)r->writes_checked, (unsigned long long)r->lost,
		(unsigned long long)r->lost_batched, (unsigned long long)r->lost_timestamp,
		(unsigned long long)r->stray, (unsigned long long)r->permission,
		(unsigned long long)r->cet, (unsigned long long)r->hangs,
		(unsigned long long)r->conflicts);
	for (i = 0; i < r->nfindings; i++) {
		const struct ptxn_hwemu_finding *f = &r->findings[i];

		fprintf(out, "  %s: slot 0x%llx va 0x%llx %s initial 0x%016llx final 0x%016llx",
			ptxn_hwemu_finding_name(f->kind), (unsigned long long)f->slot,
			(unsigned long long)f->va,
			f->bit == PTXN_HWEMU_YOUNG ? "young" : f->bit == PTXN_HWEMU_DIRTY ? "dirty" : "-",
			(unsigned long long)f->initial, (unsigned long long)f->final);
		if (f->kind == PTXN_HWEMU_LOST || f->kind == PTXN_HWEMU_STRAY)
			fprintf(out, " initial+sets %ld vs cleans+final %ld", f->expected, f->actual);
		if (f->ticket)
			fprintf(out, " ticket %llu", (unsigned long long)f->ticket);
		if (f->ref_ticket)
			fprintf(out, " (ref ticket %llu)", (unsigned long long)f->ref_ticket);
		if (f->ntickets) {
			fprintf(out, " updates after the last clean:");
			for (k = 0; k < f->ntickets; k++)
				fprintf(out, " #%llu", (unsigned long long)f->tickets[k]);
		}
		fputc('\n', out);
	}
}

PTXN_EXTERN_C_END

#endif /* PTXN_HWEMU_CHECK_H */
