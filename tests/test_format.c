/* SPDX-License-Identifier: MIT */
/*
 * Table-driven tests of the entry formats: every constructor, predicate and modifier of
 * core/pte.h against raw 64-bit values written out by hand from the architecture manuals
 * (and, for software conventions, from Linux's pgtable headers). Nothing expected here is
 * computed with the library's own masks: a wrong bit in arch/<format>/pte.h shows up as a
 * mismatch against a literal.
 *
 * Compiled once per format on every target (tests/meson.build: format_x86, format_arm64,
 * format_powerpc, format_riscv, with -DPTXN_FORMAT_*), so every host checks every
 * encoding, and the stored byte order (little-endian x86/ARM64/RISC-V, big-endian
 * PowerPC radix) on its own
 * byte order. The ptxn_pte_modify properties are in test_format_props.c, linked into
 * the same program.
 *
 * Notation in the tables: entries are CPU-order values (ptxn_pte_val); "old"/"young" is
 * the accessed state, "clean"/"dirty" the dirty state; U/R/W/X are PTXN_PROT_* flags.
 *
 * The row types are in test_format_rows.h, each format's expected values in
 * test_format_rows_<format>.h (included below for the format built).
 */
#include <ptxn/ptxn.h>

#include <stdarg.h>

#include "ptxn_test.h"

#include "test_format_rows.h"

#if defined(PTXN_FORMAT_X86) && PTXN_X86_PAE
#error "test_format.c pins the IA-32e layout (build with -DPTXN_X86_PAE=0); PAE is test_format_pae.c"
#endif

#if defined(PTXN_FORMAT_X86)
#include "test_format_rows_x86.h"
#elif defined(PTXN_FORMAT_ARM64)
#include "test_format_rows_arm64.h"
#elif defined(PTXN_FORMAT_POWERPC)
#include "test_format_rows_powerpc.h"
#elif defined(PTXN_FORMAT_RISCV)
#include "test_format_rows_riscv.h"
#else
#error "test_format.c: build with -DPTXN_FORMAT_X86, _ARM64, _POWERPC or _RISCV"
#endif

/* ---- failure collection: every row is checked, the first mismatch is the message -------- */
struct mismatches {
	int count;
	char first[512];
};

static void mismatch(struct mismatches *m, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void mismatch(struct mismatches *m, const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "# mismatch: %s\n", line);
	if (m->count++ == 0)
		snprintf(m->first, sizeof(m->first), "%s", line);
}

#define CHECK_X64(m, what, row, got, want)                                                    \
	do {                                                                                  \
		uint64_t got_ = (uint64_t)(got), want_ = (uint64_t)(want);                    \
		if (got_ != want_)                                                            \
			mismatch((m), "%s row %u: got 0x%016" PRIx64 ", expected 0x%016" PRIx64, (what),  \
				 (unsigned)(row), PT_U64(got_), PT_U64(want_));                \
	} while (0)

#define DONE(m) ck_assert_msg((m).count == 0, "%d mismatch(es); first: %s", (m).count, (m).first)

static ptxn_pte_t mk(uint64_t v)
{
	return ptxn_make_pte(v);
}

static uint64_t val(ptxn_pte_t p)
{
	return ptxn_pte_val(p);
}

/* ---- the tests ---------------------------------------------------------------------------- */

START_TEST(test_format_selected)
{
	ck_assert_str_eq(PTXN_FORMAT_NAME, FORMAT_NAME);
	pt_assert_x64_eq(PTXN_PFN_MAX, PFN_MAX_EXPECTED);
	pt_assert_x64_eq(PTXN_PAGE_SIZE, 4096);
	ck_assert_uint_eq(sizeof(ptxn_pte_t), 8);
	ck_assert(ptxn_pfn_valid(PFN_MAX_EXPECTED));
	ck_assert(!ptxn_pfn_valid(PFN_MAX_EXPECTED + 1));
	printf("# %s\n", PTXN_BACKEND_DESCRIPTION);
}
END_TEST

START_TEST(test_prot_table)
{
	struct mismatches m = { 0 };
	unsigned i;

	ck_assert_uint_eq(ROWS(prot_rows), 16);
	for (i = 0; i < ROWS(prot_rows); i++) {
		const struct prot_row *r = &prot_rows[i];

		ck_assert_uint_eq(r->flags, i);
		CHECK_X64(&m, "ptxn_prot_normalize", i, ptxn_prot_normalize(r->flags), r->normalized);
		CHECK_X64(&m, "ptxn_prot", i, ptxn_prot_val(ptxn_prot(r->flags)), r->bits);
		/* flags beyond the four defined ones are ignored */
		CHECK_X64(&m, "ptxn_prot(flags|0x30)", i, ptxn_prot_val(ptxn_prot(r->flags | 0x30)),
			  r->bits);
		CHECK_X64(&m, "ptxn_make_prot", i, ptxn_prot_val(ptxn_make_prot(r->bits)), r->bits);
	}
	DONE(m);
}
END_TEST

START_TEST(test_pfn_pte_table)
{
	struct mismatches m = { 0 };
	unsigned i;

	for (i = 0; i < ROWS(pfn_rows); i++) {
		const struct pfn_row *r = &pfn_rows[i];
		ptxn_pte_t p = ptxn_pfn_pte(r->pfn, ptxn_prot(r->flags));

		CHECK_X64(&m, "ptxn_pfn_pte", i, val(p), r->pte);
		CHECK_X64(&m, "ptxn_pte_pfn(ptxn_pfn_pte)", i, ptxn_pte_pfn(p), r->pfn);
		CHECK_X64(&m, "ptxn_pte_pfn(table value)", i, ptxn_pte_pfn(mk(r->pte)), r->pfn);
		/* present, old, clean (issue #3) */
		CHECK_X64(&m, "present", i, ptxn_pte_present(p), 1);
		CHECK_X64(&m, "young", i, ptxn_pte_young(p), 0);
		CHECK_X64(&m, "dirty", i, ptxn_pte_dirty(p), 0);
	}
	DONE(m);
}
END_TEST

START_TEST(test_predicate_table)
{
	struct mismatches m = { 0 };
	unsigned i;

	for (i = 0; i < ROWS(pred_rows); i++) {
		const struct pred_row *r = &pred_rows[i];
		ptxn_pte_t p = mk(r->pte);

		CHECK_X64(&m, "ptxn_pte_none", i, ptxn_pte_none(p), r->none);
		CHECK_X64(&m, "ptxn_pte_present", i, ptxn_pte_present(p), r->present);
		CHECK_X64(&m, "ptxn_pte_hw_valid", i, ptxn_pte_hw_valid(p), r->hw_valid);
		CHECK_X64(&m, "ptxn_pte_young", i, ptxn_pte_young(p), r->young);
		CHECK_X64(&m, "ptxn_pte_dirty", i, ptxn_pte_dirty(p), r->dirty);
		CHECK_X64(&m, "ptxn_pte_write", i, ptxn_pte_write(p), r->write);
		CHECK_X64(&m, "ptxn_pte_exec", i, ptxn_pte_exec(p), r->exec);
		CHECK_X64(&m, "ptxn_pte_prot_flags", i, ptxn_pte_prot_flags(p), r->prot_flags);
		CHECK_X64(&m, "ptxn_pte_quiescent", i, ptxn_pte_quiescent(p), r->quiescent);
		if (r->pfn != ANY_PFN)
			CHECK_X64(&m, "ptxn_pte_pfn", i, ptxn_pte_pfn(p), r->pfn);
	}
	DONE(m);
}
END_TEST

START_TEST(test_modifier_table)
{
	struct mismatches m = { 0 };
	unsigned i;

	for (i = 0; i < ROWS(mod_rows); i++) {
		const struct mod_row *r = &mod_rows[i];
		ptxn_pte_t p = mk(r->in), q;

		switch (r->op) {
		case MKOLD: q = ptxn_pte_mkold(p); break;
		case MKYOUNG: q = ptxn_pte_mkyoung(p); break;
		case MKCLEAN: q = ptxn_pte_mkclean(p); break;
		case MKDIRTY: q = ptxn_pte_mkdirty(p); break;
		case WRPROTECT: q = ptxn_pte_wrprotect(p); break;
		default: q = ptxn_pte_mkwrite(p); break;
		}
		CHECK_X64(&m, mod_op_name[r->op], i, val(q), r->out);
	}
	DONE(m);
}
END_TEST

START_TEST(test_modify_table)
{
	struct mismatches m = { 0 };
	unsigned i;

	for (i = 0; i < ROWS(modify_rows); i++) {
		const struct modify_row *r = &modify_rows[i];

		CHECK_X64(&m, "ptxn_pte_modify", i,
			  val(ptxn_pte_modify(mk(r->in), ptxn_prot(r->flags))), r->out);
	}
	DONE(m);
}
END_TEST

START_TEST(test_advance_pfn_table)
{
	struct mismatches m = { 0 };
	unsigned i;

	for (i = 0; i < ROWS(advance_rows); i++) {
		const struct advance_row *r = &advance_rows[i];

		CHECK_X64(&m, "ptxn_pte_advance_pfn", i,
			  val(ptxn_pte_advance_pfn(mk(r->in), r->nr)), r->out);
		CHECK_X64(&m, "pfn after advance", i, ptxn_pte_pfn(mk(r->out)),
			  ptxn_pte_pfn(mk(r->in)) + r->nr);
	}
	DONE(m);
}
END_TEST

START_TEST(test_merge_strip_table)
{
	struct mismatches m = { 0 };
	unsigned i;

	for (i = 0; i < ROWS(merge_rows); i++) {
		const struct merge_row *r = &merge_rows[i];

		CHECK_X64(&m, "ptxn_arch_pte_merge_hw", i,
			  ptxn_arch_pte_merge_hw(r->next, r->start, r->now), r->out);
	}
	for (i = 0; i < ROWS(strip_rows); i++)
		CHECK_X64(&m, "ptxn_arch_pte_strip_hw", i, ptxn_arch_pte_strip_hw(strip_rows[i].in),
			  strip_rows[i].out);
	DONE(m);
}
END_TEST

/* The stored slot is the entry the MMU reads, byte for byte, on this host's byte order. */
START_TEST(test_storage_bytes)
{
	unsigned i;

	for (i = 0; i < ROWS(bytes_rows); i++) {
		const struct bytes_row *r = &bytes_rows[i];
		ptxn_pte_t p = mk(r->pte), slot, back;
		unsigned char raw[8];

		memcpy(raw, &p, 8);
		ck_assert_msg(memcmp(raw, r->bytes, 8) == 0,
			      "row %u: stored bytes %02x %02x %02x %02x %02x %02x %02x %02x", i,
			      raw[0], raw[1], raw[2], raw[3], raw[4], raw[5], raw[6], raw[7]);
		/* through a real slot, with the single-copy-atomic accessors */
		ptxn_set_pte(&slot, p);
		ck_assert(memcmp(&slot, r->bytes, 8) == 0);
		back = ptxn_ptep_get(&slot);
		pt_assert_x64_eq(val(back), r->pte);
		/* and a slot written byte by byte, as another agent would, reads back right */
		memcpy(&slot, r->bytes, 8);
		pt_assert_x64_eq(val(ptxn_ptep_get(&slot)), r->pte);
	}
}
END_TEST

/* ---- per-format rules, spelled out one by one ---------------------------------------------- */
#if defined(PTXN_FORMAT_X86)
/* CET (SDM Vol. 3A 4.6 "shadow-stack pages"; Linux pte_wrprotect/pte_mkwrite/pte_modify). */
START_TEST(test_x86_cet_saved_dirty)
{
	ptxn_pte_t rw = ptxn_pte_mkyoung(ptxn_pfn_pte(0x12345, ptxn_prot(0xb)));
	ptxn_pte_t dirty = ptxn_pte_mkdirty(rw);
	ptxn_pte_t ro = ptxn_pte_wrprotect(dirty);
	unsigned f;

	pt_assert_x64_eq(val(dirty), UINT64_C(0x8000000012345067));
	/* R/W=0, D=0, SavedDirty=1 */
	pt_assert_x64_eq(val(ro), UINT64_C(0x8400000012345025));
	ck_assert(ptxn_pte_dirty(ro));
	ck_assert(!ptxn_pte_write(ro));
	/* mkwrite moves it back */
	pt_assert_x64_eq(val(ptxn_pte_mkwrite(ro)), UINT64_C(0x8000000012345067));
	/* pte_dirty reads both D and SavedDirty */
	ck_assert(ptxn_pte_dirty(mk(UINT64_C(0x8000000012345047))));
	ck_assert(ptxn_pte_dirty(mk(UINT64_C(0x8400000012345007))));
	ck_assert(!ptxn_pte_dirty(mk(UINT64_C(0x8000000012345027))));
	/* mkclean clears both */
	pt_assert_x64_eq(val(ptxn_pte_mkclean(mk(UINT64_C(0x8400000012345067)))),
			 UINT64_C(0x8000000012345027));
	/*
	 * A CET shadow-stack page (R/W=0, D=1) stays one while it stays read-only, and is an
	 * ordinary dirty page once writable (Linux pte_modify: D moves to SavedDirty only when
	 * the old entry was writable).
	 */
	pt_assert_x64_eq(val(ptxn_pte_modify(mk(UINT64_C(0x8000000012345065)), ptxn_prot(0xd))),
			 UINT64_C(0x0000000012345065));
	pt_assert_x64_eq(val(ptxn_pte_modify(mk(UINT64_C(0x8000000012345065)), ptxn_prot(0xb))),
			 UINT64_C(0x8000000012345067));
	/* modify from writable-dirty never yields R/W=0, D=1, and never loses the dirt */
	for (f = 0; f < 16; f++) {
		uint64_t v = val(ptxn_pte_modify(dirty, ptxn_prot(f)));

		ck_assert_msg(!(!(v & 0x2) && (v & 0x40)), "flags %#x: R/W=0,D=1 in 0x%016" PRIx64, f,
			      PT_U64(v));
		ck_assert_msg(ptxn_pte_dirty(mk(v)), "flags %#x: dirt lost: 0x%016" PRIx64, f, PT_U64(v));
		ck_assert_msg(((v >> 58) & 1) == !(v & 0x2),
			      "flags %#x: SavedDirty must be set exactly when read-only: 0x%016" PRIx64,
			      f, PT_U64(v));
	}
}
END_TEST

/* L1TF (Intel SA-00161, Linux arch/x86/include/asm/pgtable-invert.h). */
START_TEST(test_x86_l1tf_inversion)
{
	uint64_t pfns[] = { 0, 1, 0x12345, UINT64_C(0x100000), UINT64_C(0x123456789),
			    UINT64_C(0xffffffffff) };
	unsigned i;

	for (i = 0; i < ROWS(pfns); i++) {
		ptxn_pte_t none = ptxn_pfn_pte(pfns[i], ptxn_prot(0));
		ptxn_pte_t rw = ptxn_pfn_pte(pfns[i], ptxn_prot(0xb));
		ptxn_pte_t there, back;

		/* the stored frame field is the complement of the frame */
		pt_assert_x64_eq(val(none) & UINT64_C(0x000ffffffffff000),
				 ~(pfns[i] << 12) & UINT64_C(0x000ffffffffff000));
		pt_assert_x64_eq(ptxn_pte_pfn(none), pfns[i]);
		/* modify across PROT_NONE flips the field both ways */
		there = ptxn_pte_modify(rw, ptxn_prot(0));
		pt_assert_x64_eq(val(there), val(none));
		back = ptxn_pte_modify(there, ptxn_prot(0xb));
		pt_assert_x64_eq(val(back), val(rw));
		pt_assert_x64_eq(ptxn_pte_pfn(there), pfns[i]);
	}
}
END_TEST

/* Knights Landing: an empty entry that gained A/D is still empty; P or anything else is not. */
START_TEST(test_x86_knl_none)
{
	ck_assert(ptxn_pte_none(mk(0x20)));
	ck_assert(ptxn_pte_none(mk(0x40)));
	ck_assert(ptxn_pte_none(mk(0x60)));
	ck_assert(!ptxn_pte_present(mk(0x60)));
	ck_assert(!ptxn_pte_none(mk(0x61)));
	ck_assert(!ptxn_pte_none(mk(0x100)));  /* PROTNONE */
	ck_assert(!ptxn_pte_none(mk(0x1000))); /* a frame */
	ck_assert(!ptxn_pte_none(mk(UINT64_C(0x8000000000000000))));
}
END_TEST
#endif

#if defined(PTXN_FORMAT_ARM64)
/* DBM (Arm ARM D8.4, "Hardware management of the Access flag and dirty state"). */
START_TEST(test_arm64_dbm)
{
	ptxn_pte_t clean = ptxn_pfn_pte(0x12345, ptxn_prot(0xb));
	ptxn_pte_t hw_dirty = ptxn_pte_mkdirty(clean);
	ptxn_pte_t ro, w;

	/* writable clean = DBM=1, AP[2]=1 */
	pt_assert_x64_eq(val(clean) & (UINT64_C(1) << 51 | 0x80), UINT64_C(1) << 51 | 0x80);
	ck_assert(ptxn_pte_write(clean) && !ptxn_pte_dirty(clean));
	/* hardware dirty = DBM=1, AP[2]=0: exactly what the walker makes of it */
	pt_assert_x64_eq(val(hw_dirty), val(clean) & ~UINT64_C(0x80));
	ck_assert(ptxn_pte_dirty(hw_dirty));
	/* wrprotect moves hardware dirty into bit 55 */
	ro = ptxn_pte_wrprotect(hw_dirty);
	pt_assert_x64_eq(val(ro), UINT64_C(0x00e0000012345bc3));
	ck_assert(ptxn_pte_dirty(ro) && !ptxn_pte_write(ro));
	/* mkwrite of a software-dirty entry gives hardware dirty, bit 55 clear */
	w = ptxn_pte_mkwrite(ro);
	pt_assert_x64_eq(val(w), val(hw_dirty));
	/* a clean read-only entry made writable is writable clean */
	pt_assert_x64_eq(val(ptxn_pte_mkwrite(ptxn_pte_wrprotect(clean))), val(clean));
	/* both encodings at once (Linux sets bit 55 next to a hw-dirty entry): still dirty,
	 * and mkclean removes both */
	ck_assert(ptxn_pte_dirty(mk(val(hw_dirty) | UINT64_C(1) << 55)));
	pt_assert_x64_eq(val(ptxn_pte_mkclean(mk(val(hw_dirty) | UINT64_C(1) << 55))),
			 val(clean));
}
END_TEST
#endif

#if defined(PTXN_FORMAT_POWERPC)
START_TEST(test_powerpc_rules)
{
	ptxn_pte_t none = ptxn_pfn_pte(0x12345, ptxn_prot(0));
	ptxn_pte_t xo = ptxn_pfn_pte(0x12345, ptxn_prot(PTXN_PROT_EXEC | PTXN_PROT_USER));
	ptxn_pte_t broken = mk(UINT64_C(0x6000000012345186));

	/* PROT_NONE: a valid leaf, privileged, without read, write or execute */
	pt_assert_x64_eq(val(none), UINT64_C(0xc000000012345008));
	ck_assert(ptxn_pte_present(none) && ptxn_pte_hw_valid(none));
	ck_assert_uint_eq(ptxn_pte_prot_flags(none), 0);
	ck_assert(!ptxn_pte_exec(none) && !ptxn_pte_write(none));
	/* execute-only: X without R */
	pt_assert_x64_eq(val(xo) & 0xf, 0x1);
	ck_assert_uint_eq(ptxn_pte_prot_flags(xo), PTXN_PROT_EXEC | PTXN_PROT_USER);
	ck_assert(ptxn_pte_exec(xo));
	/* R (0x100) and C (0x80) */
	pt_assert_x64_eq(val(ptxn_pte_mkyoung(xo)) ^ val(xo), 0x100);
	pt_assert_x64_eq(val(ptxn_pte_mkdirty(xo)) ^ val(xo), 0x80);
	/* INVALID counts as present, not as valid, not as none */
	ck_assert(ptxn_pte_present(broken));
	ck_assert(!ptxn_pte_hw_valid(broken));
	ck_assert(!ptxn_pte_none(broken));
	pt_assert_x64_eq(ptxn_pte_pfn(broken), 0x12345);
	ck_assert(ptxn_pte_young(broken) && ptxn_pte_dirty(broken));
}
END_TEST

/*
 * Regression test: ptxn_pte_modify() of an entry in the "present, invalid to the MMU" state
 * (V=0, _PAGE_INVALID=1) takes its validity from the new protection and drops INVALID, as
 * Linux's book3s64 _PAGE_CHG_MASK does (arch/powerpc/include/asm/book3s/64/pgtable.h):
 * INVALID is part of the validity state, like x86's PROTNONE and ARM64's PROT_NONE, which
 * pte_modify replaces too. Found by this test (it returned 0xe000000012345186, V and
 * INVALID both set); fixed in arch/powerpc/pte.h (PTXN_ARCH_PTE_CHG_MASK).
 */
START_TEST(test_powerpc_modify_drops_invalid)
{
	ptxn_pte_t broken = mk(UINT64_C(0x6000000012345186));
	ptxn_pte_t p = ptxn_pte_modify(broken, ptxn_prot(0xb));

	pt_assert_x64_eq(val(p), UINT64_C(0xc000000012345186));
}
END_TEST
#endif

#if defined(PTXN_FORMAT_RISCV)
/* Privileged Architecture 20211203, 4.3.1 and 4.4; Linux pgtable.h for the conventions. */
START_TEST(test_riscv_rules)
{
	ptxn_pte_t none = ptxn_pfn_pte(0x12345, ptxn_prot(0));
	ptxn_pte_t rw = ptxn_pfn_pte(0x12345, ptxn_prot(0xb));
	ptxn_pte_t young_ro = ptxn_pte_mkyoung(ptxn_pfn_pte(0x12345, ptxn_prot(0x9)));
	unsigned f;

	/* PROT_NONE is Linux PAGE_NONE: V=0, _PAGE_PROT_NONE (G) | R */
	pt_assert_x64_eq(val(none), UINT64_C(0x48d1422));
	ck_assert(ptxn_pte_present(none) && !ptxn_pte_hw_valid(none));
	ck_assert_uint_eq(ptxn_pte_prot_flags(none), 0);
	/* a global kernel page is valid and present, G or not */
	ck_assert(ptxn_pte_present(mk(0x23)) && ptxn_pte_hw_valid(mk(0x23)));
	/* the frame number starts at bit 10 (PPN[0], 4.4), the page size is still 4 KiB */
	pt_assert_x64_eq(val(ptxn_pfn_pte(1, ptxn_prot(0xb))) & ~UINT64_C(0x3ff), 0x400);
	pt_assert_x64_eq(ptxn_pte_pfn(mk(UINT64_C(0x400) | 0x17)), 1);
	/* A (0x40) and D (0x80) */
	pt_assert_x64_eq(val(ptxn_pte_mkyoung(rw)) ^ val(rw), 0x40);
	pt_assert_x64_eq(val(ptxn_pte_mkdirty(rw)) ^ val(rw), 0x80);
	/* a young read-only entry is final with no promise; a young writable clean one not */
	ck_assert(ptxn_pte_quiescent(young_ro));
	ck_assert(!ptxn_pte_quiescent(ptxn_pte_mkyoung(rw)));
	ck_assert(!ptxn_arch_pte_quiescent(PTXN_MM_WRPROTECT_FLUSHED, val(ptxn_pte_mkyoung(rw))));
	/* Svade: no hart writes A/D, so every entry is final under the mm's promise */
	ck_assert(!ptxn_pte_quiescent(rw));
	ck_assert(ptxn_arch_pte_quiescent(PTXN_MM_RISCV_SVADE, val(rw)));
	ck_assert(ptxn_arch_pte_quiescent(PTXN_MM_RISCV_SVADE, 0x1f));
	ck_assert_uint_eq(PTXN_ARCH_MM_READONLY_FINAL, PTXN_MM_RISCV_SVADE);
	/* no constructor or pte_modify ever makes W without R, N, PBMT=3 or a reserved bit */
	for (f = 0; f < 64; f++) {
		uint64_t p = val(ptxn_pfn_pte(UINT64_C(0xfffffffffff), ptxn_prot(f)));
		uint64_t m = val(ptxn_pte_modify(mk(UINT64_C(0x40000000048d17d7)), ptxn_prot(f)));

		ck_assert_msg((p & 0x6) != 0x4 && (m & 0x6) != 0x4, "flags %#x: W without R", f);
		ck_assert_msg(!(p & UINT64_C(0xffc0000000000000)) &&
				      !(m & UINT64_C(0xffc0000000000000)),
			      "flags %#x: bits 54-63 in 0x%016" PRIx64 " / 0x%016" PRIx64, f,
			      PT_U64(p), PT_U64(m));
	}
	/* N (Svnapot) is refused: the format counts it as reserved, as 4.4 does without Svnapot */
	pt_assert_x64_eq(PTXN_ARCH_PTE_RESERVED, UINT64_C(0x9fc0000000000000));
}
END_TEST
#endif

/* The constructors and predicates, for every flag combination, read back exactly. */
START_TEST(test_prot_round_trip)
{
	unsigned f = (unsigned)_i;
	unsigned nf = ptxn_prot_normalize(f);
	ptxn_pte_t p = ptxn_pfn_pte(0x12345, ptxn_prot(f));

	ck_assert_uint_eq(ptxn_pte_prot_flags(p), nf);
	ck_assert_uint_eq(ptxn_pte_write(p), !!(nf & PTXN_PROT_WRITE));
	ck_assert_uint_eq(ptxn_pte_exec(p), !!(nf & PTXN_PROT_EXEC));
	ck_assert(ptxn_pte_present(p));
	ck_assert(!ptxn_pte_none(p));
	/* only PowerPC keeps PROT_NONE hardware-valid (privileged, no rights) */
#if defined(PTXN_FORMAT_POWERPC)
	ck_assert(ptxn_pte_hw_valid(p));
#else
	ck_assert_uint_eq(ptxn_pte_hw_valid(p), nf != 0);
#endif
	ck_assert_uint_eq(ptxn_prot_normalize(nf), nf); /* idempotent */
}
END_TEST

Suite *format_props_suite(void);

int main(void)
{
	Suite *s = suite_create("format_" FORMAT_NAME);
	TCase *tables = tcase_create("tables");
	TCase *rules = tcase_create("rules");
	Suite *suites[2];

	tcase_add_test(tables, test_format_selected);
	tcase_add_test(tables, test_prot_table);
	tcase_add_test(tables, test_pfn_pte_table);
	tcase_add_test(tables, test_predicate_table);
	tcase_add_test(tables, test_modifier_table);
	tcase_add_test(tables, test_modify_table);
	tcase_add_test(tables, test_advance_pfn_table);
	tcase_add_test(tables, test_merge_strip_table);
	tcase_add_test(tables, test_storage_bytes);
	suite_add_tcase(s, tables);

#if defined(PTXN_FORMAT_X86)
	tcase_add_test(rules, test_x86_cet_saved_dirty);
	tcase_add_test(rules, test_x86_l1tf_inversion);
	tcase_add_test(rules, test_x86_knl_none);
#elif defined(PTXN_FORMAT_ARM64)
	tcase_add_test(rules, test_arm64_dbm);
#elif defined(PTXN_FORMAT_POWERPC)
	tcase_add_test(rules, test_powerpc_rules);
	tcase_add_test(rules, test_powerpc_modify_drops_invalid);
#else
	tcase_add_test(rules, test_riscv_rules);
#endif
	tcase_add_loop_test(rules, test_prot_round_trip, 0, 16);
	suite_add_tcase(s, rules);

	suites[0] = s;
	suites[1] = format_props_suite();
	return ptxn_test_run_all(suites, 2);
}
