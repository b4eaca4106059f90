/* SPDX-License-Identifier: MIT */
/*
 * Properties of ptxn_pte_modify() and of the prot -> pte -> predicates round trip, per
 * format (linked into the format_<arch> programs next to test_format.c, same -DPTXN_FORMAT_*).
 *
 * For every new flag combination (0..15, one Check test case each) and every starting
 * entry of a large set (every protection it can start from, old/young, clean/dirty in
 * every encoding the format has, software bits, cache attributes, frames 0..PFN_MAX),
 * ptxn_pte_modify(start, ptxn_prot(flags)) must:
 *   - keep the frame, the young and dirty state, every software bit and the attributes
 *     the format's pte_modify keeps (Linux _PAGE_CHG_MASK and friends);
 *   - carry exactly the new protection: ptxn_pte_prot_flags == ptxn_prot_normalize(flags),
 *     and the protection bits equal ptxn_prot(flags)'s;
 *   - be in the dirty normal form (x86: never R/W=0 with D=1, SavedDirty only when
 *     read-only; ARM64: bit 55 only when read-only);
 *   - be idempotent, and forget the protection in between (modify(modify(e,a),b) ==
 *     modify(e,b)).
 * The expectations come from how each start was built, not from the library's predicates.
 */
#include <ptxn/ptxn.h>

#include "ptxn_test.h"

/* Per format: which bits are software/kept attributes, which are protection. Hex from the
 * manuals, as in test_format.c. */
#if defined(PTXN_FORMAT_X86) && PTXN_X86_PAE
/* PAE (SDM Vol. 3A Table 4-11): 52-62 reserved. Software 9 and 11 (10 is SavedDirty,
 * checked as dirty state); PWT, PCD, PAT */
#define KEEP_MASK UINT64_C(0x0000000000000a98)
/* P, R/W, U/S, G (PROTNONE), XD */
#define PROT_MASK UINT64_C(0x8000000000000107)
#define X86_SAVED_DIRTY_BIT 10
static const uint64_t sw_variants[] = { 0, 0x200, 0x800, 0xa00 };
static const uint64_t attr_variants[] = { 0, 0x98 /* PWT|PCD|PAT */ };
#elif defined(PTXN_FORMAT_X86)
/* software 9-11 and 52-57 (58 is SavedDirty, checked as dirty state); PWT, PCD, PAT */
#define KEEP_MASK UINT64_C(0x03f0000000000e98)
/* P, R/W, U/S, G (PROTNONE), protection key 59-62, XD */
#define PROT_MASK UINT64_C(0xf800000000000107)
#define X86_SAVED_DIRTY_BIT 58
static const uint64_t sw_variants[] = { 0, 0x200, 0xc00, UINT64_C(0x0010000000000000),
					UINT64_C(0x0200000000000000), UINT64_C(0x03f0000000000e00) };
static const uint64_t attr_variants[] = { 0, 0x98 /* PWT|PCD|PAT */ };
#elif defined(PTXN_FORMAT_ARM64)
/* software 56, 57; Contiguous 52; nG; SH; NS; page bit */
#define KEEP_MASK UINT64_C(0x0310000000000b22)
/* valid, AttrIndx, AP[1], GP, DBM, PXN, UXN, PROT_NONE (58); AP[2] checked separately */
#define PROT_MASK UINT64_C(0x046c00000000005d)
#define RDONLY UINT64_C(0x80)
#define SW_DIRTY (UINT64_C(1) << 55)
static const uint64_t sw_variants[] = { 0, UINT64_C(0x0100000000000000),
					UINT64_C(0x0200000000000000), UINT64_C(0x0300000000000000) };
static const uint64_t attr_variants[] = { 0, UINT64_C(0x0010000000000000) /* Contiguous */ };
#elif defined(PTXN_FORMAT_POWERPC)
/* software SW1-3 (0xe00); leaf bit */
#define KEEP_MASK UINT64_C(0x4000000000000e00)
/* V, INVALID (SW0: validity state), ATT, privileged, read, write, execute */
#define PROT_MASK UINT64_C(0xa00000000000003f)
static const uint64_t sw_variants[] = { 0, 0x200, 0x400, 0x800, 0xe00 };
static const uint64_t attr_variants[] = { 0 };
#elif defined(PTXN_FORMAT_RISCV)
/* RSW 8-9 (Linux _PAGE_SPECIAL, _PAGE_DEVMAP), kept by _PAGE_CHG_MASK */
#define KEEP_MASK UINT64_C(0x0000000000000300)
/* V, R, W, X, U, G (the PROT_NONE mark), PBMT 61-62: replaced (Linux _PAGE_CHG_MASK) */
#define PROT_MASK UINT64_C(0x600000000000003f)
static const uint64_t sw_variants[] = { 0, 0x100, 0x200, 0x300 };
static const uint64_t attr_variants[] = { 0, UINT64_C(0x2000000000000000) /* PBMT=NC */ };
#else
#error "test_format_props.c: build with -DPTXN_FORMAT_X86, _ARM64, _POWERPC or _RISCV"
#endif

#define ROWS(t) (sizeof(t) / sizeof((t)[0]))

static const uint64_t pfns[] = { 0, 1, 0x12345, UINT64_C(0xfffff), UINT64_C(0x100000),
				 UINT64_C(0x123456789), PTXN_PFN_MAX };

/* How a starting entry's A/D state was made. */
enum ad_kind {
	AD_OLD_CLEAN,
	AD_YOUNG_CLEAN,
	AD_OLD_DIRTY,     /* ptxn_pte_mkdirty: the format's normal encoding */
	AD_YOUNG_DIRTY,
	AD_HW_DIRTY,      /* raw hardware encoding, as the MMU leaves it (see hw_dirty()) */
	AD_YOUNG_HW_DIRTY,
	AD_BOTH_DIRTY,    /* hardware and software encodings at once (Linux leaves both) */
	AD_COUNT
};

static bool ad_young(int ad)
{
	return ad == AD_YOUNG_CLEAN || ad == AD_YOUNG_DIRTY || ad == AD_YOUNG_HW_DIRTY;
}

static bool ad_dirty(int ad)
{
	return ad != AD_OLD_CLEAN && ad != AD_YOUNG_CLEAN;
}

/*
 * Apply the raw hardware dirty encoding to v; false if this format cannot have it on v.
 * x86: D (bit 6), also on a read-only entry (SDM Vol. 3A 4.8: a stale writable TLB entry
 * may set D after R/W was cleared). ARM64: AP[2] cleared on a DBM entry (D8.4); a DBM=0
 * entry is never made dirty by the hardware. PowerPC: C (0x80), on any valid entry.
 * RISC-V: D (0x80), only on a valid writable entry (the update re-checks W in memory).
 */
static bool hw_dirty(uint64_t *v, bool both)
{
#if defined(PTXN_FORMAT_X86)
	if (!(*v & 0x1))
		return false; /* the MMU never writes a P=0 entry */
	*v |= 0x40;
	if (both)
		*v |= UINT64_C(1) << X86_SAVED_DIRTY_BIT;
	return true;
#elif defined(PTXN_FORMAT_ARM64)
	if (!(*v & 0x1) || !(*v & (UINT64_C(1) << 51)))
		return false;
	*v &= ~RDONLY;
	if (both)
		*v |= SW_DIRTY;
	return true;
#elif defined(PTXN_FORMAT_POWERPC)
	if (both || !(*v & (UINT64_C(1) << 63)))
		return false; /* no software dirty bit on radix */
	*v |= 0x80;
	return true;
#else
	if (both || (*v & 0x5) != 0x5)
		return false; /* no software dirty bit; V and W needed */
	*v |= 0x80;
	return true;
#endif
}

/* Builds the idx-th starting entry; false when that combination does not exist. */
struct start {
	uint64_t v, pfn, sw, attr;
	unsigned flags;
	int ad;
};

#define N_FLAGS 16
#define N_STARTS (N_FLAGS * ROWS(pfns) * AD_COUNT * ROWS(sw_variants) * ROWS(attr_variants))

static bool make_start(size_t idx, struct start *s)
{
	size_t i = idx;
	ptxn_pte_t p;
	uint64_t v;

	s->flags = (unsigned)(i % N_FLAGS);
	i /= N_FLAGS;
	s->pfn = pfns[i % ROWS(pfns)];
	i /= ROWS(pfns);
	s->ad = (int)(i % AD_COUNT);
	i /= AD_COUNT;
	s->sw = sw_variants[i % ROWS(sw_variants)];
	i /= ROWS(sw_variants);
	s->attr = attr_variants[i % ROWS(attr_variants)];

	p = ptxn_pfn_pte(s->pfn, ptxn_prot(s->flags));
	if (ad_young(s->ad))
		p = ptxn_pte_mkyoung(p);
	if (s->ad == AD_OLD_DIRTY || s->ad == AD_YOUNG_DIRTY)
		p = ptxn_pte_mkdirty(p);
	v = ptxn_pte_val(p) | s->sw | s->attr;
	if (s->ad >= AD_HW_DIRTY && !hw_dirty(&v, s->ad == AD_BOTH_DIRTY))
		return false;
	s->v = v;
	return true;
}

static void describe(char *buf, size_t n, const struct start *s)
{
	snprintf(buf, n,
		 "start 0x%016" PRIx64 " (flags %#x pfn %#" PRIx64 " ad %d sw %#" PRIx64
		 " attr %#" PRIx64 ")",
		 PT_U64(s->v), s->flags, PT_U64(s->pfn), s->ad, PT_U64(s->sw), PT_U64(s->attr));
}

/* The starting entries themselves read back as they were built (guards the generator). */
START_TEST(test_start_entries_read_back)
{
	size_t i, made = 0;
	char ctx[200];

	for (i = 0; i < N_STARTS; i++) {
		struct start s;
		ptxn_pte_t p;

		if (!make_start(i, &s))
			continue;
		made++;
		p = ptxn_make_pte(s.v);
		describe(ctx, sizeof(ctx), &s);
		pt_assert_x64_eq_ctx(ctx, ptxn_pte_pfn(p), s.pfn);
		pt_assert_x64_eq_ctx(ctx, ptxn_pte_young(p), ad_young(s.ad));
		pt_assert_x64_eq_ctx(ctx, ptxn_pte_dirty(p), ad_dirty(s.ad));
		pt_assert_x64_eq_ctx(ctx, ptxn_pte_prot_flags(p), ptxn_prot_normalize(s.flags));
		pt_assert_x64_eq_ctx(ctx, ptxn_pte_present(p), 1);
	}
	printf("# %zu starting entries\n", made);
	ck_assert_uint_gt(made, 1000);
}
END_TEST

/* One test case per new flag combination (_i). */
START_TEST(test_modify_properties)
{
	const unsigned flags = (unsigned)_i;
	const unsigned want_flags = ptxn_prot_normalize(flags);
	const ptxn_prot_t prot = ptxn_prot(flags);
	const uint64_t prot_bits = ptxn_prot_val(prot);
	size_t i, checked = 0;
	char ctx[240];

	for (i = 0; i < N_STARTS; i++) {
		struct start s;
		ptxn_pte_t r;
		uint64_t v;
		unsigned other;

		if (!make_start(i, &s))
			continue;
		r = ptxn_pte_modify(ptxn_make_pte(s.v), prot);
		v = ptxn_pte_val(r);
		describe(ctx, sizeof(ctx), &s);
		snprintf(ctx + strlen(ctx), sizeof(ctx) - strlen(ctx), " -> 0x%016" PRIx64, PT_U64(v));

		/* kept: frame, A/D state, software bits and kept attributes */
		pt_assert_x64_eq_ctx(ctx, ptxn_pte_pfn(r), s.pfn);
		pt_assert_x64_eq_ctx(ctx, ptxn_pte_young(r), ad_young(s.ad));
		pt_assert_x64_eq_ctx(ctx, ptxn_pte_dirty(r), ad_dirty(s.ad));
		pt_assert_x64_eq_ctx(ctx, v & KEEP_MASK, s.v & KEEP_MASK);
		pt_assert_x64_eq_ctx(ctx, ptxn_pte_present(r), 1);

		/* exactly the new protection */
		pt_assert_x64_eq_ctx(ctx, ptxn_pte_prot_flags(r), want_flags);
		pt_assert_x64_eq_ctx(ctx, v & PROT_MASK, prot_bits & PROT_MASK);
		pt_assert_x64_eq_ctx(ctx, ptxn_pte_write(r), !!(want_flags & PTXN_PROT_WRITE));
		pt_assert_x64_eq_ctx(ctx, ptxn_pte_exec(r), !!(want_flags & PTXN_PROT_EXEC));

		/* dirty normal form */
#if defined(PTXN_FORMAT_X86)
		/* R/W=0 with D=1 (a CET shadow-stack page) only kept, never made (Linux pte_modify) */
		ck_assert_msg(!(!(v & 0x2) && (v & 0x40)) || (!(s.v & 0x2) && (s.v & 0x40)),
			      "%s: R/W=0 with D=1 (CET)", ctx);
		ck_assert_msg(!((v & 0x2) && (v >> X86_SAVED_DIRTY_BIT & 1)), "%s: SavedDirty on a writable entry",
			      ctx);
#elif defined(PTXN_FORMAT_ARM64)
		ck_assert_msg(!((v & SW_DIRTY) && ptxn_pte_write(r)),
			      "%s: bit 55 on a writable entry", ctx);
		if (ptxn_pte_write(r))
			pt_assert_x64_eq_ctx(ctx, v & RDONLY, ad_dirty(s.ad) ? 0 : RDONLY);
		else
			pt_assert_x64_eq_ctx(ctx, v & RDONLY, RDONLY);
#endif
		/* idempotent, and nothing of the protection in between survives */
		pt_assert_x64_eq_ctx(ctx, ptxn_pte_val(ptxn_pte_modify(r, prot)), v);
		other = (flags * 7 + 3 + (unsigned)i) & 15;
		{
			ptxn_pte_t two = ptxn_pte_modify(ptxn_pte_modify(ptxn_make_pte(s.v),
								     ptxn_prot(other)), prot);
#if defined(PTXN_FORMAT_X86)
			/*
			 * Except where the start is R/W=0,D=1 and the detour writable: Linux's rule
			 * keeps D on a read-only entry only while it stays read-only, so the detour
			 * moves it to SavedDirty. The same dirt, in the other place.
			 */
			if (!(s.v & 0x2) && (s.v & 0x40) && (ptxn_prot(other).bits & 0x2)) {
				ck_assert_msg(ptxn_pte_dirty(two), "%s: dirt lost on the detour", ctx);
				pt_assert_x64_eq_ctx(ctx, ptxn_pte_val(ptxn_pte_mkclean(two)),
						     ptxn_pte_val(ptxn_pte_mkclean(r)));
			} else
#endif
				pt_assert_x64_eq_ctx(ctx, ptxn_pte_val(two), v);
		}
		checked++;
	}
	ck_assert_uint_gt(checked, 1000);
}
END_TEST

/*
 * prot -> pte -> predicates, for every flag combination and every frame, through the A/D
 * life of the entry: young, dirty, clean, old, wrprotect and back.
 */
START_TEST(test_round_trip)
{
	const unsigned flags = (unsigned)_i;
	const unsigned nf = ptxn_prot_normalize(flags);
	const bool w = (nf & PTXN_PROT_WRITE) != 0;
	size_t j;

	for (j = 0; j < ROWS(pfns); j++) {
		const uint64_t pfn = pfns[j];
		const ptxn_pte_t e = ptxn_pfn_pte(pfn, ptxn_prot(flags));
		const ptxn_pte_t y = ptxn_pte_mkyoung(e);
		const ptxn_pte_t d = ptxn_pte_mkdirty(y);
		const ptxn_pte_t ro = ptxn_pte_wrprotect(d);
		unsigned g;

		ck_assert(!ptxn_pte_none(e) && ptxn_pte_present(e));
		ck_assert_uint_eq(ptxn_pte_pfn(e), pfn);
		ck_assert_uint_eq(ptxn_pte_prot_flags(e), nf);
		ck_assert(!ptxn_pte_young(e) && !ptxn_pte_dirty(e));
		ck_assert_uint_eq(ptxn_pte_write(e), w);
		ck_assert_uint_eq(ptxn_pte_exec(e), !!(nf & PTXN_PROT_EXEC));

		ck_assert(ptxn_pte_young(y) && !ptxn_pte_dirty(y));
		ck_assert(ptxn_pte_young(d) && ptxn_pte_dirty(d));
		ck_assert_uint_eq(ptxn_pte_prot_flags(d), nf);
		ck_assert_uint_eq(ptxn_pte_pfn(d), pfn);
		pt_assert_x64_eq(ptxn_pte_val(ptxn_pte_mkold(y)), ptxn_pte_val(e));
		pt_assert_x64_eq(ptxn_pte_val(ptxn_pte_mkclean(d)), ptxn_pte_val(y));
		pt_assert_x64_eq(ptxn_pte_val(ptxn_pte_mkold(ptxn_pte_mkclean(d))), ptxn_pte_val(e));

		ck_assert(!ptxn_pte_write(ro) && ptxn_pte_dirty(ro) && ptxn_pte_young(ro));
		ck_assert_uint_eq(ptxn_pte_prot_flags(ro), nf & ~(unsigned)PTXN_PROT_WRITE);
		if (w) {
			pt_assert_x64_eq(ptxn_pte_val(ptxn_pte_mkwrite(ro)), ptxn_pte_val(d));
			pt_assert_x64_eq(ptxn_pte_val(ptxn_pte_mkwrite(ptxn_pte_wrprotect(e))),
					 ptxn_pte_val(e));
		} else {
			pt_assert_x64_eq(ptxn_pte_val(ptxn_pte_wrprotect(e)), ptxn_pte_val(e));
		}

		/* modify to the same protection is the identity; to another, the constructor's */
		pt_assert_x64_eq(ptxn_pte_val(ptxn_pte_modify(e, ptxn_prot(flags))), ptxn_pte_val(e));
		for (g = 0; g < 16; g++) {
			uint64_t got = ptxn_pte_val(ptxn_pte_modify(e, ptxn_prot(g)));
			uint64_t want = ptxn_pte_val(ptxn_pfn_pte(pfn, ptxn_prot(g)));
#if defined(PTXN_FORMAT_ARM64)
			/* nG is not protection on ARM64 (Linux pte_modify keeps it) */
			got &= ~UINT64_C(0x800);
			want &= ~UINT64_C(0x800);
#endif
			ck_assert_msg(got == want,
				      "pfn %#" PRIx64 " %#x -> %#x: 0x%016" PRIx64 ", expected 0x%016" PRIx64,
				      PT_U64(pfn), flags, g, PT_U64(got), PT_U64(want));
		}
	}
}
END_TEST

/*
 * The fast paths' break-before-make decision (core/transaction.h, ptxn_txn_fast_commit_ok).
 * They ask the format's rule with no mm flags, and an arch may answer the common case in
 * one test first (PTXN_HAVE_ARCH_CHANGE_IN_PLACE). Two things must hold for every entry
 * pair tried - each start, its modify to the new flags, and that value with any one bit
 * flipped:
 *   - a flag changes the rule's answer only if it is one of PTXN_ARCH_MM_CHANGE_FLAGS,
 *     which send the mm to the general path (checked too), so asking with none is exact;
 *   - a fast "yes" is never a change the rule breaks, nor a live contiguous next.
 * The checker takes the fast test as a function, so a deliberately wrong one (ARM64: the
 * one-test answer without its nG or contiguous term) can be shown to be caught.
 */
typedef bool (*fast_commit_fn)(uint64_t old, uint64_t next);

static bool fast_commit_real(uint64_t old, uint64_t next)
{
	return ptxn_txn_fast_commit_ok(ptxn_make_pte(old), ptxn_make_pte(next));
}

static bool rule_breaks(uint64_t old, uint64_t next)
{
	return ptxn_arch_change_needs_break(0u, old, next) ||
	       (PTXN_ARCH_PTE_CONT != 0 && ptxn_txn_cont_live(ptxn_make_pte(next)));
}

struct fast_commit_counts {
	size_t pairs, fast, wrong_fast, flag_dependent, flag_uncovered;
};

static void check_fast_commit(fast_commit_fn fast, unsigned flags, struct fast_commit_counts *n)
{
	const ptxn_prot_t prot = ptxn_prot(flags);
	size_t i;
	unsigned b, f;

	for (i = flags % 3; i < N_STARTS; i += 3) {
		struct start s;

		if (!make_start(i, &s))
			continue;
		for (b = 0; b <= 64; b++) {
			const uint64_t old = s.v;
			const uint64_t next = ptxn_pte_val(ptxn_pte_modify(ptxn_make_pte(old), prot)) ^
					      (b < 64 ? UINT64_C(1) << b : 0);
			const bool breaks = rule_breaks(old, next);

			n->pairs++;
			if (fast(old, next)) {
				n->fast++;
				n->wrong_fast += breaks;
			}
			for (f = 0; f < 8; f++) {
				if (ptxn_arch_change_needs_break(1u << f, old, next) ==
				    ptxn_arch_change_needs_break(0u, old, next))
					continue;
				n->flag_dependent++;
				n->flag_uncovered += !((1u << f) & PTXN_ARCH_MM_CHANGE_FLAGS);
			}
		}
	}
}

START_TEST(test_fast_commit_rule)
{
	struct fast_commit_counts n = {0, 0, 0, 0, 0};
	unsigned f;

	check_fast_commit(fast_commit_real, (unsigned)_i, &n);
	printf("# flags %#x: %zu pairs, %zu fast, %zu flag-dependent answers\n", (unsigned)_i,
	       n.pairs, n.fast, n.flag_dependent);
	ck_assert_uint_gt(n.pairs, 10000);
	ck_assert_uint_gt(n.fast, 100);             /* the fast path is taken ... */
	ck_assert_uint_eq(n.wrong_fast, 0);         /* ... and never for a change that breaks */
	ck_assert_uint_eq(n.flag_uncovered, 0);
#if defined(PTXN_FORMAT_POWERPC)
	ck_assert_uint_gt(n.flag_dependent, 0);     /* the coprocessor rule, seen and covered */
#endif
	for (f = 0; f < 8; f++) {
		ptxn_mm_t mm;

		ptxn_mm_init(&mm);
		ptxn_mm_set_flags(&mm, 1u << f);
		if ((1u << f) & PTXN_ARCH_MM_CHANGE_FLAGS)
			ck_assert_uint_eq(mm.path, PTXN_MM_PATH_GENERAL);
	}
}
END_TEST

#if defined(PTXN_HAVE_ARCH_CHANGE_IN_PLACE) && defined(PTXN_FORMAT_ARM64)
/* Deliberately wrong one-test answers: each drops one term of arch/arm64/pte.h's. */
static bool in_place_without_cont(uint64_t old, uint64_t next)
{
	return (((old ^ next) & ~PTXN_ARM64_CHANGE_IN_PLACE_MASK) |
		(old & ~next & PTXN_ARM64_NG)) == 0;
}

static bool in_place_without_ng(uint64_t old, uint64_t next)
{
	return (((old ^ next) & ~PTXN_ARM64_CHANGE_IN_PLACE_MASK) | (next & PTXN_ARM64_CONT)) == 0;
}

START_TEST(test_fast_commit_rule_catches_wrong_one_test)
{
	struct fast_commit_counts n = {0, 0, 0, 0, 0};
	struct fast_commit_counts m = {0, 0, 0, 0, 0};
	unsigned flags;

	/* over every new protection: some (PROT_NONE: invalid next) never meet either case */
	for (flags = 0; flags < N_FLAGS; flags++) {
		check_fast_commit(in_place_without_cont, flags, &n);
		check_fast_commit(in_place_without_ng, flags, &m);
	}
	printf("# without CONT %zu wrong, without nG %zu wrong, of %zu pairs\n", n.wrong_fast,
	       m.wrong_fast, n.pairs);
	ck_assert_uint_gt(n.wrong_fast, 0);
	ck_assert_uint_gt(m.wrong_fast, 0);
}
END_TEST
#endif

Suite *format_props_suite(void);

Suite *format_props_suite(void)
{
	Suite *s = suite_create("format_props");
	TCase *tc = tcase_create("modify");

	tcase_add_test(tc, test_start_entries_read_back);
	tcase_add_loop_test(tc, test_modify_properties, 0, 16);
	tcase_add_loop_test(tc, test_round_trip, 0, 16);
	suite_add_tcase(s, tc);
	tc = tcase_create("fast_commit");
	tcase_add_loop_test(tc, test_fast_commit_rule, 0, 16);
#if defined(PTXN_HAVE_ARCH_CHANGE_IN_PLACE) && defined(PTXN_FORMAT_ARM64)
	tcase_add_test(tc, test_fast_commit_rule_catches_wrong_one_test);
#endif
	suite_add_tcase(s, tc);
	return s;
}
