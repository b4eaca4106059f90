// SPDX-License-Identifier: MIT
/*
 * Paravirtual platform (issue #6), unit tests of validation: every bad request the
 * hypervisor must refuse, each rejection with its exact error, its position and the
 * count applied before it, nothing of it applied; good requests accepted; errors
 * reaching the guest through the platform (take_error, the error hook). Linked into the
 * program of tests/test_paravirt.c, which runs them after its own. docs/paravirt.md.
 */
#include "test_paravirt.h"

/* ================================ validation =========================================== */

struct pv_bad {
	const char *what;
	int error;
	struct ptxn_pv_request req;
};

/* A leaf for page i with prot, or one mapping frame pa. */
static ptxn_pte_t pv_leaf(uint64_t pa, unsigned prot)
{
	return ptxn_make_pte(ptxn_arch_pfn_pte(pa >> 12, ptxn_prot(prot).bits));
}

/* Every bad request the hypervisor must refuse, and why. */
static unsigned pv_bad_requests(struct pv_env *e, struct pv_bad *bad)
{
	struct ptxn_pvemu *pv = e->pv;
	uint64_t base = ptxn_pvemu_table_base(pv), end = base + pv->table_bytes, free_page = 0, p;
	uint64_t slot0 = ptxn_pvemu_slot_pa(pv, pv_slot(e, 10)); /* not among the good requests' */
	uint64_t root = e->hw->as.mmu.root;
	ptxn_pte_t *upper = ptxn_hwemu_as_slot(&e->hw->as, HW_VA, 1, false);
	uint64_t upper_pa = ptxn_hwemu_slot_pa(e->hw, upper);
	unsigned n = 0;

	for (p = e->hw->phys.npages; p-- > 0;)
		if (!e->hw->phys.used[p]) {
			free_page = base + p * 4096;
			break;
		}
	ck_assert_uint_ne(free_page, 0);
#define PV_BAD(w, err, cmd_, slot_, val_)                                                    \
	do {                                                                                  \
		bad[n].what = (w);                                                            \
		bad[n].error = (err);                                                         \
		bad[n].req = ptxn_pvemu_req((cmd_), (slot_), HW_VA + 10 * 4096, ptxn_make_pte(0), (val_)); \
		n++;                                                                          \
	} while (0)
	PV_BAD("misaligned slot", PTXN_PV_EALIGN, PTXN_PV_UPDATE, slot0 + 4, pv_leaf(e->data_pa, PV_R));
	PV_BAD("misaligned slot (break)", PTXN_PV_EALIGN, PTXN_PV_BREAK, slot0 + 1, ptxn_make_pte(0));
	PV_BAD("slot past the table memory", PTXN_PV_ENOTPT, PTXN_PV_UPDATE, end + 64,
	       pv_leaf(e->data_pa, PV_R));
	PV_BAD("slot below the table memory", PTXN_PV_ENOTPT, PTXN_PV_PRESERVE_AD, base - 4096,
	       pv_leaf(e->data_pa, PV_R));
	PV_BAD("slot in a free page", PTXN_PV_ENOTPT, PTXN_PV_UPDATE, free_page + 8,
	       pv_leaf(e->data_pa, PV_R));
	PV_BAD("slot in a data frame", PTXN_PV_ENOTPT, PTXN_PV_HARVEST, e->data_pa, ptxn_make_pte(0));
	PV_BAD("writable mapping of the root table", PTXN_PV_EPTWRITE, PTXN_PV_UPDATE, slot0,
	       pv_leaf(root, PV_R | PV_W | PV_U));
	PV_BAD("writable mapping of a leaf table (preserve-ad)", PTXN_PV_EPTWRITE, PTXN_PV_PRESERVE_AD,
	       slot0, pv_leaf(slot0 & ~UINT64_C(4095), PV_R | PV_W));
	PV_BAD("writable mapping of a leaf table (install)", PTXN_PV_EPTWRITE, PTXN_PV_INSTALL, slot0,
	       pv_leaf(slot0 & ~UINT64_C(4095), PV_R | PV_W | PV_U));
	PV_BAD("frame past the guest's data", PTXN_PV_EPFN, PTXN_PV_UPDATE, slot0,
	       pv_leaf(e->data_pa + (e->pages + 100) * 4096, PV_R));
	PV_BAD("frame between tables and data", PTXN_PV_EPFN, PTXN_PV_PRESERVE_AD, slot0,
	       pv_leaf(end + 4096, PV_R));
	PV_BAD("frame below the guest's memory", PTXN_PV_EPFN, PTXN_PV_INSTALL, slot0, pv_leaf(0, PV_R));
	PV_BAD("table entry to a data frame", PTXN_PV_ETABLE, PTXN_PV_UPDATE, upper_pa,
	       ptxn_make_pte(ptxn_mmu_table_entry(&e->hw->as.mmu, e->data_pa, 1)));
	PV_BAD("table entry to the root", PTXN_PV_ETABLE, PTXN_PV_UPDATE, upper_pa,
	       ptxn_make_pte(ptxn_mmu_table_entry(&e->hw->as.mmu, root, 1)));
	PV_BAD("unknown command", PTXN_PV_ECMD, 99, slot0, pv_leaf(e->data_pa, PV_R));
	PV_BAD("empty TLB flush", PTXN_PV_ECMD, PTXN_PV_TLB_FLUSH, 0, ptxn_make_pte(0));
#undef PV_BAD
	(void)p;
	return n;
}

/*
 * The raw hypercall: seven good requests (UPDATE of pages 0..6 to read-only) with a bad
 * one in position k: the call returns the bad one's error, done == k, requests 0..k-1
 * applied, k.. untouched (the bad request's target entry included, bit for bit).
 */
START_TEST(test_validation_hypercall)
{
	struct pv_env e;
	struct pv_bad bad[32];
	unsigned nbad, b;

	pv_env_simple(&e, 16, PTXN_STRATEGY_MERGE, 0);
	nbad = pv_bad_requests(&e, bad);
	for (b = 0; b < nbad; b++) {
		struct ptxn_pv_request reqs[8];
		ptxn_pteval_t before[16], upper_before;
		ptxn_pte_t *upper = ptxn_hwemu_as_slot(&e.hw->as, HW_VA, 1, false);
		unsigned k = b % 7, done = 99, i;
		uint64_t rejected0 = e.pv->stats.rejected;
		int err;

		for (i = 0; i < 16; i++) {
			ptxn_pte_t *s = pv_slot(&e, i);

			ptxn_set_pte(ptxn_hwemu_slot_ptr(e.hw, ptxn_pvemu_slot_pa(e.pv, s)),
				     pv_leaf(e.data_pa + i * 4096, PV_R | PV_W | PV_U));
			before[i] = pv_val(s);
		}
		upper_before = ptxn_pte_val(ptxn_ptep_get(upper));
		for (i = 0; i < 8; i++) {
			unsigned page = i < k ? i : i - 1;

			if (i == k) {
				reqs[i] = bad[b].req;
				continue;
			}
			reqs[i] = ptxn_pvemu_req(PTXN_PV_UPDATE, ptxn_pvemu_slot_pa(e.pv, pv_slot(&e, page)),
						 HW_VA + page * 4096, ptxn_make_pte(0),
						 pv_leaf(e.data_pa + page * 4096, PV_R | PV_U));
		}
		err = ptxn_pvemu_hypercall(e.pv, reqs, 8, 0, &done);
		ck_assert_msg(err == bad[b].error, "%s: error %d (%s), want %d (%s)", bad[b].what, err,
			      ptxn_pv_strerror(err), bad[b].error, ptxn_pv_strerror(bad[b].error));
		ck_assert_msg(done == k, "%s: %u applied before the rejection, want %u", bad[b].what,
			      done, k);
		ck_assert_uint_eq(e.pv->stats.rejected, rejected0 + 1);
		for (i = 0; i < 16; i++) {
			ptxn_pteval_t v = pv_val(pv_slot(&e, i));

			if (i < k)
				ck_assert_msg(!ptxn_arch_pte_write(v), "%s: request %u not applied",
					      bad[b].what, i);
			else
				ck_assert_msg(v == before[i], "%s: entry %u changed after the rejection",
					      bad[b].what, i);
		}
		ck_assert_uint_eq(ptxn_pte_val(ptxn_ptep_get(upper)), upper_before);
	}
	pv_env_fini(&e);
}
END_TEST

/* What the hypervisor accepts at the edges: the rules are not stricter than stated. */
START_TEST(test_validation_accepts)
{
	struct pv_env e;
	struct ptxn_pv_request r;
	uint64_t slot, root;
	ptxn_pte_t *upper;
	unsigned done;

	pv_env_simple(&e, 16, PTXN_STRATEGY_MERGE, 0);
	slot = ptxn_pvemu_slot_pa(e.pv, pv_slot(&e, 3));
	root = e.hw->as.mmu.root;
	/* A read-only mapping of a page table is allowed (Xen allows it too). */
	r = ptxn_pvemu_req(PTXN_PV_UPDATE, slot, HW_VA + 3 * 4096, ptxn_make_pte(0), pv_leaf(root, PV_R));
	ck_assert_int_eq(ptxn_pvemu_hypercall(e.pv, &r, 1, 0, &done), PTXN_PV_OK);
	ck_assert_uint_eq(done, 1);
	ck_assert_uint_eq(pv_val(pv_slot(&e, 3)), ptxn_pte_val(pv_leaf(root, PV_R)));
	ck_assert_uint_eq(ptxn_pte_val(r.result), ptxn_pte_val(pv_leaf(e.data_pa + 3 * 4096, PV_R | PV_W | PV_U)));
	/* An empty entry, anywhere in a table, with any frame bits. */
	r = ptxn_pvemu_req(PTXN_PV_UPDATE, slot, HW_VA + 3 * 4096, ptxn_make_pte(0), ptxn_make_pte(0));
	ck_assert_int_eq(ptxn_pvemu_hypercall(e.pv, &r, 1, 0, NULL), PTXN_PV_OK);
	/* A table entry rewritten with the table it points at. */
	upper = ptxn_hwemu_as_slot(&e.hw->as, HW_VA, 1, false);
	r = ptxn_pvemu_req(PTXN_PV_UPDATE, ptxn_hwemu_slot_pa(e.hw, upper), HW_VA, ptxn_make_pte(0),
			   ptxn_ptep_get(upper));
	ck_assert_int_eq(ptxn_pvemu_hypercall(e.pv, &r, 1, 0, NULL), PTXN_PV_OK);
	/* The last data frame. */
	r = ptxn_pvemu_req(PTXN_PV_UPDATE, slot, HW_VA + 3 * 4096, ptxn_make_pte(0),
			   pv_leaf(e.data_pa + 15 * 4096, PV_R | PV_W));
	ck_assert_int_eq(ptxn_pvemu_hypercall(e.pv, &r, 1, 0, NULL), PTXN_PV_OK);
	/* A TLB flush. */
	r = ptxn_pvemu_req(PTXN_PV_TLB_FLUSH, 0, HW_VA, ptxn_make_pte(0), ptxn_make_pte(0));
	r.val.storage = 16 * 4096;
	ck_assert_int_eq(ptxn_pvemu_hypercall(e.pv, &r, 1, 0, NULL), PTXN_PV_OK);
	ck_assert_uint_eq(e.pv->stats.rejected, 0);
	pv_env_fini(&e);
}
END_TEST

/* The guest API: a per-mm error record and an optional hook. */
static struct ptxn_pv_error pv_hooked[8];
static unsigned pv_nhooked;

static void pv_hook(ptxn_mm_t *mm, const struct ptxn_pv_error *err, void *ctx)
{
	(void)mm;
	(void)ctx;
	if (pv_nhooked < 8)
		pv_hooked[pv_nhooked] = *err;
	pv_nhooked++;
}

/*
 * Through the transaction API: a commit that would map a page table writable is refused
 * with its request's position, the entry is left exactly as it was, the caller learns it
 * from ptxn_pvemu_take_error() and the hook; in a lazy batch the requests after it are
 * sent again, so only the bad one is lost (and one more trap is paid).
 */
START_TEST(test_validation_api)
{
	unsigned lazy;

	for (lazy = 0; lazy < 2; lazy++) {
		struct pv_env e;
		struct ptxn_pv_error err;
		uint64_t i, table_pa;
		ptxn_pteval_t bad_before;

		pv_env_simple(&e, 16, PTXN_STRATEGY_MERGE, 7);
		ptxn_pvemu_set_error_hook(&e.mm, pv_hook, NULL);
		pv_nhooked = 0;
		table_pa = ptxn_pvemu_slot_pa(e.pv, pv_slot(&e, 0)) & ~UINT64_C(4095);
		bad_before = pv_val(pv_slot(&e, 3));
		if (lazy)
			ptxn_lazy_mmu_enter(&e.mm);
		for (i = 0; i < 7; i++) {
			ptxn_pte_t *slot = pv_slot(&e, i);
			uintptr_t va = (uintptr_t)(HW_VA + i * 4096);
			ptxn_pte_t old = ptxn_modify_prot_start(&e.mm, va, slot), pte = pv_toggle(old);

			if (i == 3) /* remap it onto its own page table, writable */
				pte = pv_leaf(table_pa, PV_R | PV_W | PV_U);
			ptxn_modify_prot_commit(&e.mm, va, slot, old, pte);
		}
		if (lazy)
			ptxn_lazy_mmu_leave(&e.mm);
		ck_assert_uint_eq(ptxn_pvemu_take_error(&e.mm, &err), 1);
		ck_assert_int_eq(err.code, PTXN_PV_EPTWRITE);
		ck_assert_uint_eq(err.cmd, PTXN_PV_PRESERVE_AD);
		ck_assert_uint_eq(err.slot, ptxn_pvemu_slot_pa(e.pv, pv_slot(&e, 3)));
		ck_assert_uint_eq(err.addr, HW_VA + 3 * 4096);
		ck_assert_uint_eq(ptxn_pte_val(err.val), ptxn_pte_val(pv_leaf(table_pa, PV_R | PV_W | PV_U)));
		ck_assert_uint_eq(err.index, lazy ? 3 : 0);
		ck_assert_uint_eq(err.done, err.index);
		ck_assert_uint_eq(err.count, lazy ? 7 : 1);
		ck_assert_uint_eq(pv_nhooked, 1);
		ck_assert_int_eq(pv_hooked[0].code, PTXN_PV_EPTWRITE);
		ck_assert_uint_eq(ptxn_pvemu_take_error(&e.mm, NULL), 0);
		ck_assert_uint_eq(pv_val(pv_slot(&e, 3)), bad_before);
		for (i = 0; i < 7; i++)
			if (i != 3)
				ck_assert(!ptxn_arch_pte_write(pv_val(pv_slot(&e, i))));
		/* lazy: 1 batch + the 3 requests after the rejected one; else 7 commits */
		ck_assert_uint_eq(ptxn_pvemu_traps(e.pv), lazy ? 2 : 7);
		pv_env_fini(&e);
	}
}
END_TEST

/*
 * Slots the guest names badly through the API (ptxn_set_pte_at; in a release build the
 * transaction calls would reach the hypervisor the same way): a misaligned pointer into
 * a table, and a pointer to ordinary memory.
 */
START_TEST(test_validation_api_slots)
{
	struct pv_env e;
	struct ptxn_pv_error err;
	ptxn_pte_t not_a_table[2] = {{0}, {0}};
	ptxn_pte_t *slot;
	ptxn_pteval_t before;

	pv_env_simple(&e, 4, PTXN_STRATEGY_MERGE, 0);
	slot = pv_slot(&e, 1);
	before = pv_val(slot);
	ptxn_set_pte_at(&e.mm, (uintptr_t)(HW_VA + 4096),
			(ptxn_pte_t *)(void *)((unsigned char *)slot + 4), pv_leaf(e.data_pa, PV_R));
	ck_assert_uint_eq(ptxn_pvemu_take_error(&e.mm, &err), 1);
	ck_assert_int_eq(err.code, PTXN_PV_EALIGN);
	ck_assert_uint_eq(err.cmd, PTXN_PV_UPDATE);
	ck_assert_uint_eq(err.slot, ptxn_pvemu_slot_pa(e.pv, slot) + 4);
	ck_assert_uint_eq(pv_val(slot), before);
	ck_assert_uint_eq(pv_val(pv_slot(&e, 0)), ptxn_pte_val(pv_leaf(e.data_pa, PV_R | PV_W | PV_U)));

	ptxn_set_pte_at(&e.mm, (uintptr_t)HW_VA, &not_a_table[1], pv_leaf(e.data_pa, PV_R));
	ck_assert_uint_eq(ptxn_pvemu_take_error(&e.mm, &err), 1);
	ck_assert_int_eq(err.code, PTXN_PV_ENOTPT);
	ck_assert_uint_eq(not_a_table[1].storage, 0);
	ck_assert_uint_eq(ptxn_pvemu_traps(e.pv), 2);
	pv_env_fini(&e);
}
END_TEST

/* Called by pv_suite() (tests/test_paravirt.c); this order is the TAP order. */
void pv_validation_tests(TCase *tc)
{
	tcase_add_test(tc, test_validation_hypercall);
	tcase_add_test(tc, test_validation_accepts);
	tcase_add_test(tc, test_validation_api);
	tcase_add_test(tc, test_validation_api_slots);
}
