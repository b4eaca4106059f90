/* SPDX-License-Identifier: MIT */
/*
 * Table-driven tests of the entry formats: every constructor, predicate and modifier of
 * core/pte.h against raw 64-bit values written out by hand from the architecture manuals
 * (and, for software conventions, from Linux's pgtable headers). Nothing expected here is
 * computed with the library's own masks: a wrong bit in arch/<format>/pte.h shows up as a
 * mismatch against a literal.
 *
 * Compiled three times per target (tests/meson.build: format_x86, format_arm64,
 * format_powerpc, with -DPTXN_FORMAT_*), so every host checks all three encodings, and
 * the stored byte order (little-endian x86/ARM64, big-endian PowerPC radix) on its own
 * byte order. The ptxn_pte_modify properties are in test_format_props.c, linked into
 * the same program.
 *
 * Notation in the tables: entries are CPU-order values (ptxn_pte_val); "old"/"young" is
 * the accessed state, "clean"/"dirty" the dirty state; U/R/W/X are PTXN_PROT_* flags.
 */
#include <ptxn/ptxn.h>

#include <stdarg.h>

#include "ptxn_test.h"

/* ---- table row types -------------------------------------------------------------------- */
struct prot_row {
	unsigned flags;
	unsigned normalized; /* ptxn_prot_normalize(flags) */
	uint64_t bits;       /* ptxn_prot(flags).bits */
};

struct pfn_row {
	uint64_t pfn;
	unsigned flags;
	uint64_t pte; /* ptxn_pfn_pte(pfn, ptxn_prot(flags)) */
};

#define ANY_PFN UINT64_MAX /* the frame of an empty entry means nothing: not compared */

struct pred_row {
	uint64_t pte;
	unsigned char none, present, hw_valid, young, dirty, write, exec;
	unsigned prot_flags;
	unsigned char quiescent;
	uint64_t pfn;
};

enum mod_op { MKOLD, MKYOUNG, MKCLEAN, MKDIRTY, WRPROTECT, MKWRITE };
static const char *const mod_op_name[] = { "mkold", "mkyoung", "mkclean",
					   "mkdirty", "wrprotect", "mkwrite" };

struct mod_row {
	enum mod_op op;
	uint64_t in, out;
};

struct modify_row {
	uint64_t in;
	unsigned flags; /* new protection ptxn_prot(flags) */
	uint64_t out;
};

struct advance_row {
	uint64_t in, nr, out;
};

/* merge_hw(next, start, now) and strip_hw(in): the transaction's A/D fold (generic/pte.h). */
struct merge_row {
	uint64_t next, start, now, out;
};
struct strip_row {
	uint64_t in, out;
};

/* The 8 bytes of a stored slot, in memory order, as the MMU reads them. */
struct bytes_row {
	uint64_t pte;
	unsigned char bytes[8];
};

#define ROWS(t) (sizeof(t) / sizeof((t)[0]))

#if defined(PTXN_FORMAT_X86) && PTXN_X86_PAE
#error "test_format.c pins the IA-32e layout (build with -DPTXN_X86_PAE=0); PAE is test_format_pae.c"
#endif

#if defined(PTXN_FORMAT_X86)
/* =========================================================================================
 * x86: 64-bit leaf entry of 4-level paging (PAE's differences: test_format_pae.c).
 *   Intel SDM Vol. 3A, Table 4-20 "Format of a Page-Table Entry that Maps a 4-KByte Page"
 *   (4-level) and Table 4-11 (PAE): P 0, R/W 1, U/S 2, PWT 3, PCD 4, A 5, D 6, PAT 7, G 8,
 *   bits 9-11 ignored, frame 12..M-1 (M = MAXPHYADDR <= 52), 52-58 ignored, protection key
 *   59-62, XD 63. Section 4.8 "Accessed and Dirty Flags".
 *   Software conventions (Linux arch/x86/include/asm/pgtable_types.h): _PAGE_PROTNONE =
 *   bit 8 when P=0; _PAGE_SAVED_DIRTY = _PAGE_BIT_SOFTW5 = bit 58 (CET shadow stacks,
 *   v6.6); L1TF: PROT_NONE entries store the frame inverted (pgtable-invert.h).
 *   ptxn's PROT_NONE also sets XD.
 * ========================================================================================= */
#define FORMAT_NAME "x86"
#define PFN_MAX_EXPECTED UINT64_C(0xffffffffff) /* 40 bits: 12..51 */

static const struct prot_row prot_rows[] = {
	/* flags  normalized  bits: P=0x1 RW=0x2 US=0x4 XD=bit 63; PROT_NONE = bit 8 + XD */
	{ 0x0, 0x0, UINT64_C(0x8000000000000100) }, /* PROT_NONE: P=0, PROTNONE, XD */
	{ 0x1, 0x1, UINT64_C(0x8000000000000001) }, /* R       : P, XD */
	{ 0x2, 0x3, UINT64_C(0x8000000000000003) }, /* W -> RW : P, R/W, XD */
	{ 0x3, 0x3, UINT64_C(0x8000000000000003) },
	{ 0x4, 0x5, UINT64_C(0x0000000000000001) }, /* X -> RX : P (no execute-only on x86) */
	{ 0x5, 0x5, UINT64_C(0x0000000000000001) },
	{ 0x6, 0x7, UINT64_C(0x0000000000000003) },
	{ 0x7, 0x7, UINT64_C(0x0000000000000003) },
	{ 0x8, 0x0, UINT64_C(0x8000000000000100) }, /* U alone is PROT_NONE */
	{ 0x9, 0x9, UINT64_C(0x8000000000000005) }, /* UR      : P, U/S, XD */
	{ 0xa, 0xb, UINT64_C(0x8000000000000007) },
	{ 0xb, 0xb, UINT64_C(0x8000000000000007) }, /* URW     : P, R/W, U/S, XD */
	{ 0xc, 0xd, UINT64_C(0x0000000000000005) },
	{ 0xd, 0xd, UINT64_C(0x0000000000000005) }, /* URX     : P, U/S */
	{ 0xe, 0xf, UINT64_C(0x0000000000000007) },
	{ 0xf, 0xf, UINT64_C(0x0000000000000007) },
};

static const struct pfn_row pfn_rows[] = {
	{ 0x12345, 0xb, UINT64_C(0x8000000012345007) },
	{ 0x12345, 0x3, UINT64_C(0x8000000012345003) },
	{ 0x12345, 0xd, UINT64_C(0x0000000012345005) },
	{ 0x0, 0x1, UINT64_C(0x8000000000000001) },
	{ UINT64_C(0x123456789), 0xb, UINT64_C(0x8000123456789007) }, /* above 4 GiB */
	{ UINT64_C(0xffffffffff), 0xf, UINT64_C(0x000ffffffffff007) }, /* frame bits 12..51 */
	/* L1TF (Intel SA-00161; Linux pgtable-invert.h): PROT_NONE stores ~frame */
	{ 0x12345, 0x0, UINT64_C(0x800fffffedcba100) },
	{ 0x0, 0x0, UINT64_C(0x800ffffffffff100) },
	{ UINT64_C(0xffffffffff), 0x0, UINT64_C(0x8000000000000100) },
	{ UINT64_C(0x123456789), 0x8, UINT64_C(0x800fedcba9876100) },
};

static const struct pred_row pred_rows[] = {
	/* pte                             none pres valid young dirty write exec flags quiesc pfn */
	{ UINT64_C(0x0000000000000000), 1, 0, 0, 0, 0, 0, 0, 0x0, 1, 0 },
	/* Knights Landing erratum (Xeon Phi x200 spec update; Linux "x86/mm: Ignore A/D bits in
	 * pte/pmd/pud_none()"): A and D set by the CPU in an empty entry: still none. */
	{ UINT64_C(0x0000000000000020), 1, 0, 0, 1, 0, 0, 0, 0x0, 1, ANY_PFN },
	{ UINT64_C(0x0000000000000040), 1, 0, 0, 0, 1, 0, 0, 0x0, 1, ANY_PFN },
	{ UINT64_C(0x0000000000000060), 1, 0, 0, 1, 1, 0, 0, 0x0, 1, ANY_PFN },
	/* URW: old clean, young, young+dirty, dirty. SDM 4.8: only A=1 and D=1 is final
	 * (a TLB entry may still set D), so only that one is quiescent. */
	{ UINT64_C(0x8000000012345007), 0, 1, 1, 0, 0, 1, 0, 0xb, 0, 0x12345 },
	{ UINT64_C(0x8000000012345027), 0, 1, 1, 1, 0, 1, 0, 0xb, 0, 0x12345 },
	{ UINT64_C(0x8000000012345067), 0, 1, 1, 1, 1, 1, 0, 0xb, 1, 0x12345 },
	{ UINT64_C(0x8000000012345047), 0, 1, 1, 0, 1, 1, 0, 0xb, 0, 0x12345 },
	/* UR young: R/W=0 is not final on x86 (SDM 4.8: D may be set from a stale TLB entry) */
	{ UINT64_C(0x8000000012345025), 0, 1, 1, 1, 0, 0, 0, 0x9, 0, 0x12345 },
	/* UR young, SavedDirty (bit 58): dirty */
	{ UINT64_C(0x8400000012345025), 0, 1, 1, 1, 1, 0, 0, 0x9, 0, 0x12345 },
	/* R/W=0, D=1 (what a stale TLB entry can leave; the shadow-stack encoding): dirty */
	{ UINT64_C(0x8000000012345045), 0, 1, 1, 0, 1, 0, 0, 0x9, 0, 0x12345 },
	{ UINT64_C(0x0000000012345005), 0, 1, 1, 0, 0, 0, 1, 0xd, 0, 0x12345 }, /* URX */
	{ UINT64_C(0x0000000012345001), 0, 1, 1, 0, 0, 0, 1, 0x5, 0, 0x12345 }, /* RX */
	{ UINT64_C(0x0000000012345003), 0, 1, 1, 0, 0, 1, 1, 0x7, 0, 0x12345 }, /* RWX */
	/* PROT_NONE: present to software, not to the MMU, frame inverted (L1TF) */
	{ UINT64_C(0x800fffffedcba100), 0, 1, 0, 0, 0, 0, 0, 0x0, 1, 0x12345 },
	{ UINT64_C(0x840fffffedcba120), 0, 1, 0, 1, 1, 0, 0, 0x0, 1, 0x12345 },
	{ UINT64_C(0x800fedcba9876100), 0, 1, 0, 0, 0, 0, 0, 0x0, 1, UINT64_C(0x123456789) },
	{ UINT64_C(0x000ffffffffff007), 0, 1, 1, 0, 0, 1, 1, 0xf, 0, UINT64_C(0xffffffffff) },
};

static const struct mod_row mod_rows[] = {
	{ MKYOUNG, UINT64_C(0x8000000012345007), UINT64_C(0x8000000012345027) },
	{ MKOLD, UINT64_C(0x8000000012345067), UINT64_C(0x8000000012345047) },
	{ MKDIRTY, UINT64_C(0x8000000012345007), UINT64_C(0x8000000012345047) },
	/* CET (SDM Vol. 3A 4.6: R/W=0 with D=1 is a shadow-stack page): dirtying a read-only
	 * entry sets SavedDirty, never D */
	{ MKDIRTY, UINT64_C(0x8000000012345005), UINT64_C(0x8400000012345005) },
	{ MKDIRTY, UINT64_C(0x800fffffedcba100), UINT64_C(0x840fffffedcba100) },
	{ MKCLEAN, UINT64_C(0x8000000012345067), UINT64_C(0x8000000012345027) },
	{ MKCLEAN, UINT64_C(0x8400000012345025), UINT64_C(0x8000000012345025) },
	/* CET: wrprotect of writable+dirty -> R/W=0, D=0, SavedDirty=1 */
	{ WRPROTECT, UINT64_C(0x8000000012345067), UINT64_C(0x8400000012345025) },
	{ WRPROTECT, UINT64_C(0x8000000012345027), UINT64_C(0x8000000012345025) },
	{ WRPROTECT, UINT64_C(0x8400000012345025), UINT64_C(0x8400000012345025) },
	{ WRPROTECT, UINT64_C(0x8000000012345045), UINT64_C(0x8400000012345005) },
	/* software bits 9-11 and 52 ride along */
	{ WRPROTECT, UINT64_C(0x8010000012345e67), UINT64_C(0x8410000012345e25) },
	/* mkwrite moves SavedDirty back into D */
	{ MKWRITE, UINT64_C(0x8400000012345025), UINT64_C(0x8000000012345067) },
	{ MKWRITE, UINT64_C(0x8410000012345e25), UINT64_C(0x8010000012345e67) },
	{ MKWRITE, UINT64_C(0x8000000012345025), UINT64_C(0x8000000012345027) },
	{ MKWRITE, UINT64_C(0x8000000012345067), UINT64_C(0x8000000012345067) },
};

static const struct modify_row modify_rows[] = {
	/* URW young dirty -> UR: D moves to SavedDirty (never R/W=0,D=1) */
	{ UINT64_C(0x8000000012345067), 0x9, UINT64_C(0x8400000012345025) },
	{ UINT64_C(0x8400000012345025), 0xb, UINT64_C(0x8000000012345067) },
	{ UINT64_C(0x8000000012345027), 0x9, UINT64_C(0x8000000012345025) },
	{ UINT64_C(0x8000000012345067), 0xf, UINT64_C(0x0000000012345067) },
	/* across PROT_NONE: the frame is inverted, then restored (L1TF) */
	{ UINT64_C(0x8000000012345067), 0x0, UINT64_C(0x840fffffedcba120) },
	{ UINT64_C(0x840fffffedcba120), 0xb, UINT64_C(0x8000000012345067) },
	{ UINT64_C(0x800fffffedcba100), 0x9, UINT64_C(0x8000000012345005) },
	{ UINT64_C(0x800fffffedcba100), 0x0, UINT64_C(0x800fffffedcba100) },
	/* keeps PWT, PCD, A, PAT, software 9-11 and 52 (Linux _PAGE_CHG_MASK); replaces P,
	 * R/W, U/S, G, protection key (59) and XD */
	{ UINT64_C(0x8810000012345fbf), 0x5, UINT64_C(0x0010000012345eb9) },
};

static const struct advance_row advance_rows[] = {
	{ UINT64_C(0x8000000012345007), 1, UINT64_C(0x8000000012346007) },
	{ UINT64_C(0x8000000012345067), 16, UINT64_C(0x8000000012355067) },
	{ UINT64_C(0x80000000fffff007), 1, UINT64_C(0x8000000100000007) }, /* crosses 4 GiB */
	{ UINT64_C(0x800fffffedcba100), 1, UINT64_C(0x800fffffedcb9100) }, /* inverted frame */
	{ UINT64_C(0x000ffffffffff007), 0, UINT64_C(0x000ffffffffff007) },
};

static const struct merge_row merge_rows[] = {
	/* the MMU set A and D since start; next is writable: both land as A, D */
	{ UINT64_C(0x8000000012345007), UINT64_C(0x8000000012345007),
	  UINT64_C(0x8000000012345067), UINT64_C(0x8000000012345067) },
	/* next is read-only: the D the MMU set lands in SavedDirty (CET) */
	{ UINT64_C(0x8000000012345005), UINT64_C(0x8000000012345007),
	  UINT64_C(0x8000000012345047), UINT64_C(0x8400000012345005) },
	/* nothing new since start: next unchanged (A/D that predate start stay as next says) */
	{ UINT64_C(0x8000000012345005), UINT64_C(0x8000000012345067),
	  UINT64_C(0x8000000012345067), UINT64_C(0x8000000012345005) },
};

static const struct strip_row strip_rows[] = {
	{ UINT64_C(0x8000000012345067), UINT64_C(0x8000000012345007) },
	{ UINT64_C(0x8400000012345025), UINT64_C(0x8400000012345005) }, /* SavedDirty stays */
};

static const struct bytes_row bytes_rows[] = {
	{ UINT64_C(0x8000000012345067), { 0x67, 0x50, 0x34, 0x12, 0x00, 0x00, 0x00, 0x80 } },
	{ UINT64_C(0x800fffffedcba100), { 0x00, 0xa1, 0xcb, 0xed, 0xff, 0xff, 0x0f, 0x80 } },
};

#elif defined(PTXN_FORMAT_ARM64)
/* =========================================================================================
 * ARM64: VMSAv8-64 stage 1 level-3 page descriptor, 4 KiB granule, 48-bit OA.
 *   Arm ARM DDI 0487, D8.3 "Translation table descriptor formats" (Figure "Stage 1 page
 *   descriptor"): bits[1:0]=0b11, AttrIndx[2:0] 2-4, NS 5, AP[1] 6 (EL0), AP[2] 7
 *   (read-only), SH 8-9, AF 10, nG 11, OA 12-47, GP 50, DBM 51, Contiguous 52, PXN 53,
 *   UXN 54, bits 55-58 reserved for software.
 *   D8.4 "Hardware management of the Access flag and dirty state": with DBM=1 the
 *   hardware makes an AP[2]=1 entry writable by clearing AP[2] (= dirty).
 *   Software conventions (Linux arch/arm64/include/asm/pgtable-hwdef.h, pgtable-prot.h):
 *   PTE_WRITE = DBM, PTE_DIRTY = bit 55, PTE_SPECIAL = bit 56, PTE_PROT_NONE = bit 58;
 *   PAGE_NONE is invalid, RDONLY, PXN, UXN. ptxn's entries start old (AF=0) and use
 *   MAIR index 0, SH=0b11.
 * ========================================================================================= */
#define FORMAT_NAME "arm64"
#define PFN_MAX_EXPECTED UINT64_C(0xfffffffff) /* OA[47:12]: 36 bits */

static const struct prot_row prot_rows[] = {
	/* base: page 0x2, SH inner 0x300; valid 0x1; AP[2] 0x80; AP[1] 0x40; nG 0x800;
	 * DBM bit 51; PXN bit 53; UXN bit 54; PROT_NONE bit 58 */
	{ 0x0, 0x0, UINT64_C(0x0460000000000382) }, /* PROT_NONE: invalid, RDONLY, PXN, UXN */
	{ 0x1, 0x1, UINT64_C(0x0060000000000383) }, /* R  : RDONLY, PXN, UXN */
	{ 0x2, 0x3, UINT64_C(0x0068000000000383) }, /* RW : + DBM (writable clean) */
	{ 0x3, 0x3, UINT64_C(0x0068000000000383) },
	{ 0x4, 0x5, UINT64_C(0x0040000000000383) }, /* RX : kernel page, UXN only */
	{ 0x5, 0x5, UINT64_C(0x0040000000000383) },
	{ 0x6, 0x7, UINT64_C(0x0048000000000383) },
	{ 0x7, 0x7, UINT64_C(0x0048000000000383) },
	{ 0x8, 0x0, UINT64_C(0x0460000000000382) },
	{ 0x9, 0x9, UINT64_C(0x0060000000000bc3) }, /* UR : AP[1], nG, PXN, UXN */
	{ 0xa, 0xb, UINT64_C(0x0068000000000bc3) },
	{ 0xb, 0xb, UINT64_C(0x0068000000000bc3) }, /* URW: + DBM */
	{ 0xc, 0xd, UINT64_C(0x0020000000000bc3) }, /* URX: PXN only */
	{ 0xd, 0xd, UINT64_C(0x0020000000000bc3) },
	{ 0xe, 0xf, UINT64_C(0x0028000000000bc3) },
	{ 0xf, 0xf, UINT64_C(0x0028000000000bc3) },
};

static const struct pfn_row pfn_rows[] = {
	{ 0x12345, 0xb, UINT64_C(0x0068000012345bc3) },
	{ 0x12345, 0x1, UINT64_C(0x0060000012345383) },
	{ 0x0, 0xd, UINT64_C(0x0020000000000bc3) },
	{ UINT64_C(0x123456789), 0xb, UINT64_C(0x0068123456789bc3) },
	{ UINT64_C(0xfffffffff), 0xf, UINT64_C(0x0028fffffffffbc3) },
	{ 0x12345, 0x0, UINT64_C(0x0460000012345382) }, /* no frame inversion on ARM64 */
};

static const struct pred_row pred_rows[] = {
	/* pte                             none pres valid young dirty write exec flags quiesc pfn */
	{ UINT64_C(0x0000000000000000), 1, 0, 0, 0, 0, 0, 0, 0x0, 1, 0 },
	/* URW writable clean (DBM=1, AP[2]=1), old / young */
	{ UINT64_C(0x0068000012345bc3), 0, 1, 1, 0, 0, 1, 0, 0xb, 0, 0x12345 },
	{ UINT64_C(0x0068000012345fc3), 0, 1, 1, 1, 0, 1, 0, 0xb, 0, 0x12345 },
	/* hardware dirty (DBM=1, AP[2]=0): young -> final */
	{ UINT64_C(0x0068000012345f43), 0, 1, 1, 1, 1, 1, 0, 0xb, 1, 0x12345 },
	{ UINT64_C(0x0068000012345b43), 0, 1, 1, 0, 1, 1, 0, 0xb, 0, 0x12345 },
	/* UR young, DBM=0: the hardware checks DBM in memory (D8.4), so it is final */
	{ UINT64_C(0x0060000012345fc3), 0, 1, 1, 1, 0, 0, 0, 0x9, 1, 0x12345 },
	{ UINT64_C(0x0060000012345bc3), 0, 1, 1, 0, 0, 0, 0, 0x9, 0, 0x12345 },
	/* UR young with software dirty (bit 55) */
	{ UINT64_C(0x00e0000012345fc3), 0, 1, 1, 1, 1, 0, 0, 0x9, 1, 0x12345 },
	/* PROT_NONE (bit 58, valid=0): present, not valid */
	{ UINT64_C(0x0460000012345382), 0, 1, 0, 0, 0, 0, 0, 0x0, 1, 0x12345 },
	{ UINT64_C(0x04e0000012345782), 0, 1, 0, 1, 1, 0, 0, 0x0, 1, 0x12345 },
	/* URX: user page, UXN clear -> executable at EL0 */
	{ UINT64_C(0x0020000012345bc3), 0, 1, 1, 0, 0, 0, 1, 0xd, 0, 0x12345 },
	/* RX: kernel page, PXN clear -> executable at EL1 */
	{ UINT64_C(0x0040000012345383), 0, 1, 1, 0, 0, 0, 1, 0x5, 0, 0x12345 },
	/* user page with UXN set and PXN clear: not executable where it is used (EL0) */
	{ UINT64_C(0x0040000012345bc3), 0, 1, 1, 0, 0, 0, 0, 0x9, 0, 0x12345 },
	{ UINT64_C(0x0028fffffffffbc3), 0, 1, 1, 0, 0, 1, 1, 0xf, 0, UINT64_C(0xfffffffff) },
};

static const struct mod_row mod_rows[] = {
	{ MKYOUNG, UINT64_C(0x0068000012345bc3), UINT64_C(0x0068000012345fc3) },
	{ MKOLD, UINT64_C(0x0068000012345f43), UINT64_C(0x0068000012345b43) },
	/* DBM: dirtying a writable entry clears AP[2], as the hardware does */
	{ MKDIRTY, UINT64_C(0x0068000012345bc3), UINT64_C(0x0068000012345b43) },
	/* read-only: software dirty, bit 55 */
	{ MKDIRTY, UINT64_C(0x0060000012345bc3), UINT64_C(0x00e0000012345bc3) },
	{ MKDIRTY, UINT64_C(0x0460000012345382), UINT64_C(0x04e0000012345382) },
	{ MKCLEAN, UINT64_C(0x0068000012345f43), UINT64_C(0x0068000012345fc3) },
	{ MKCLEAN, UINT64_C(0x00e0000012345fc3), UINT64_C(0x0060000012345fc3) },
	/* wrprotect moves hardware dirty into bit 55, clears DBM, sets AP[2] */
	{ WRPROTECT, UINT64_C(0x0068000012345f43), UINT64_C(0x00e0000012345fc3) },
	{ WRPROTECT, UINT64_C(0x0068000012345fc3), UINT64_C(0x0060000012345fc3) },
	{ WRPROTECT, UINT64_C(0x00e0000012345fc3), UINT64_C(0x00e0000012345fc3) },
	{ WRPROTECT, UINT64_C(0x0368000012345f43), UINT64_C(0x03e0000012345fc3) }, /* 56, 57 */
	/* mkwrite of a software-dirty entry gives hardware dirty (DBM=1, AP[2]=0) */
	{ MKWRITE, UINT64_C(0x00e0000012345fc3), UINT64_C(0x0068000012345f43) },
	{ MKWRITE, UINT64_C(0x0060000012345fc3), UINT64_C(0x0068000012345fc3) },
	{ MKWRITE, UINT64_C(0x0068000012345f43), UINT64_C(0x0068000012345f43) },
};

static const struct modify_row modify_rows[] = {
	/* URW young hw-dirty -> UR: dirtiness moves to bit 55 */
	{ UINT64_C(0x0068000012345f43), 0x9, UINT64_C(0x00e0000012345fc3) },
	/* and back: software dirty -> hardware dirty */
	{ UINT64_C(0x00e0000012345fc3), 0xb, UINT64_C(0x0068000012345f43) },
	{ UINT64_C(0x0068000012345fc3), 0x9, UINT64_C(0x0060000012345fc3) },
	/* to PROT_NONE: valid cleared, bit 58 set; AF, SH, nG, page bit kept */
	{ UINT64_C(0x0068000012345fc3), 0x0, UINT64_C(0x0460000012345f82) },
	{ UINT64_C(0x0068000012345f43), 0x0, UINT64_C(0x04e0000012345f82) },
	{ UINT64_C(0x04e0000012345f82), 0xb, UINT64_C(0x0068000012345f43) },
	/* keeps Contiguous (52), software 56/57, nG, SH, AF; replaces USER, PXN, UXN, DBM */
	{ UINT64_C(0x0378000012345fc3), 0x5, UINT64_C(0x0350000012345f83) },
	/* AttrIndx is protection (Linux pte_modify mask): replaced by MAIR index 0 */
	{ UINT64_C(0x0068000012345bc7), 0xb, UINT64_C(0x0068000012345bc3) },
};

static const struct advance_row advance_rows[] = {
	{ UINT64_C(0x0068000012345bc3), 3, UINT64_C(0x0068000012348bc3) },
	{ UINT64_C(0x0068ffffffffebc3), 1, UINT64_C(0x0068fffffffffbc3) },
	{ UINT64_C(0x04e0000012345f82), 1, UINT64_C(0x04e0000012346f82) },
};

static const struct merge_row merge_rows[] = {
	/* the MMU set AF and cleared AP[2] since start; next writable: hardware dirty */
	{ UINT64_C(0x0068000012345bc3), UINT64_C(0x0068000012345bc3),
	  UINT64_C(0x0068000012345f43), UINT64_C(0x0068000012345f43) },
	/* next read-only: the hardware dirtiness lands in bit 55 */
	{ UINT64_C(0x0060000012345bc3), UINT64_C(0x0068000012345bc3),
	  UINT64_C(0x0068000012345b43), UINT64_C(0x00e0000012345bc3) },
	{ UINT64_C(0x0060000012345bc3), UINT64_C(0x0068000012345f43),
	  UINT64_C(0x0068000012345f43), UINT64_C(0x0060000012345bc3) },
};

static const struct strip_row strip_rows[] = {
	{ UINT64_C(0x0068000012345f43), UINT64_C(0x0068000012345bc3) }, /* AF off, AP[2] back */
	{ UINT64_C(0x00e0000012345fc3), UINT64_C(0x00e0000012345bc3) }, /* bit 55 stays */
};

static const struct bytes_row bytes_rows[] = {
	/* TCR/SCTLR_EL1.EE=0: descriptors are little-endian in memory */
	{ UINT64_C(0x0068000012345f43), { 0x43, 0x5f, 0x34, 0x12, 0x00, 0x00, 0x68, 0x00 } },
	{ UINT64_C(0x04e0000012345f82), { 0x82, 0x5f, 0x34, 0x12, 0x00, 0x00, 0xe0, 0x04 } },
};

#elif defined(PTXN_FORMAT_POWERPC)
/* =========================================================================================
 * PowerPC 64, Book3S radix (Power ISA 3.1 Book III 6.7.10.2 "Radix Tree Page Table
 * Entry"), 4 KiB pages. ISA bit n (MSB 0) is LSB-0 bit 63-n: V 0 (0x8000000000000000),
 * L 1 (0x4000000000000000), SW 2, RPN 7-51 (LSB 12..56), SW 52-54 (0xe00), R 55 (0x100),
 * C 56 (0x80), ATT 57-58 (0x30), EAA: privileged 60 (0x8), read 61 (0x4), write 62
 * (0x2), execute 63 (0x1). The MMU reads entries big-endian, on ppc64le too.
 *   Software conventions (Linux arch/powerpc/include/asm/book3s/64/pgtable.h, radix.h):
 *   _PAGE_INVALID = _RPAGE_SW0 (0x2000000000000000, present to software, invalid to the
 *   MMU), _PAGE_SOFT_DIRTY = SW3 (0x200), _PAGE_SPECIAL = SW2 (0x400), PAGE_NONE =
 *   privileged with no access rights, PAGE_EXECONLY = execute without read,
 *   RADIX_PTE_NONE_MASK = R|C (a late R/C write-back keeps an entry empty).
 * ========================================================================================= */
#define FORMAT_NAME "powerpc-radix"
#define PFN_MAX_EXPECTED UINT64_C(0x1fffffffffff) /* RPN: 45 bits */

static const struct prot_row prot_rows[] = {
	/* V|L = 0xc000000000000000; privileged 0x8, read 0x4, write 0x2, execute 0x1 */
	{ 0x0, 0x0, UINT64_C(0xc000000000000008) }, /* PROT_NONE: privileged, no rights */
	{ 0x1, 0x1, UINT64_C(0xc00000000000000c) },
	{ 0x2, 0x3, UINT64_C(0xc00000000000000e) },
	{ 0x3, 0x3, UINT64_C(0xc00000000000000e) },
	{ 0x4, 0x4, UINT64_C(0xc000000000000009) }, /* execute-only (kernel) */
	{ 0x5, 0x5, UINT64_C(0xc00000000000000d) },
	{ 0x6, 0x7, UINT64_C(0xc00000000000000f) },
	{ 0x7, 0x7, UINT64_C(0xc00000000000000f) },
	{ 0x8, 0x0, UINT64_C(0xc000000000000008) },
	{ 0x9, 0x9, UINT64_C(0xc000000000000004) },
	{ 0xa, 0xb, UINT64_C(0xc000000000000006) },
	{ 0xb, 0xb, UINT64_C(0xc000000000000006) },
	{ 0xc, 0xc, UINT64_C(0xc000000000000001) }, /* execute-only user page */
	{ 0xd, 0xd, UINT64_C(0xc000000000000005) },
	{ 0xe, 0xf, UINT64_C(0xc000000000000007) },
	{ 0xf, 0xf, UINT64_C(0xc000000000000007) },
};

static const struct pfn_row pfn_rows[] = {
	{ 0x12345, 0xb, UINT64_C(0xc000000012345006) },
	{ 0x12345, 0xc, UINT64_C(0xc000000012345001) },
	{ 0x12345, 0x0, UINT64_C(0xc000000012345008) },
	{ 0x0, 0x1, UINT64_C(0xc00000000000000c) },
	{ UINT64_C(0x123456789), 0xb, UINT64_C(0xc000123456789006) },
	{ UINT64_C(0x1fffffffffff), 0xf, UINT64_C(0xc1fffffffffff007) },
};

static const struct pred_row pred_rows[] = {
	/* pte                             none pres valid young dirty write exec flags quiesc pfn */
	{ UINT64_C(0x0000000000000000), 1, 0, 0, 0, 0, 0, 0, 0x0, 1, 0 },
	/* R/C written back into an emptied entry: still none (RADIX_PTE_NONE_MASK) */
	{ UINT64_C(0x0000000000000180), 1, 0, 0, 1, 1, 0, 0, 0x0, 1, 0 },
	{ UINT64_C(0xc000000012345006), 0, 1, 1, 0, 0, 1, 0, 0xb, 0, 0x12345 },
	{ UINT64_C(0xc000000012345106), 0, 1, 1, 1, 0, 1, 0, 0xb, 0, 0x12345 },
	{ UINT64_C(0xc000000012345186), 0, 1, 1, 1, 1, 1, 0, 0xb, 1, 0x12345 },
	/* read-only young: not final (C may still be set through a cached translation) */
	{ UINT64_C(0xc000000012345104), 0, 1, 1, 1, 0, 0, 0, 0x9, 0, 0x12345 },
	/* C is meaningful on a read-only entry: no software dirty bit on radix */
	{ UINT64_C(0xc000000012345084), 0, 1, 1, 0, 1, 0, 0, 0x9, 0, 0x12345 },
	/* PROT_NONE: valid, privileged, no rights: present and hardware-valid */
	{ UINT64_C(0xc000000012345008), 0, 1, 1, 0, 0, 0, 0, 0x0, 0, 0x12345 },
	/* INVALID (V=0, SW0=1): present to software, invalid to the MMU; not final, since a
	 * translation in flight may still write R/C back into it (RADIX_PTE_NONE_MASK) */
	{ UINT64_C(0x6000000012345006), 0, 1, 0, 0, 0, 1, 0, 0xb, 0, 0x12345 },
	/* execute-only: user, and kernel */
	{ UINT64_C(0xc000000012345001), 0, 1, 1, 0, 0, 0, 1, 0xc, 0, 0x12345 },
	{ UINT64_C(0xc000000012345009), 0, 1, 1, 0, 0, 0, 1, 0x4, 0, 0x12345 },
	{ UINT64_C(0xc1fffffffffff007), 0, 1, 1, 0, 0, 1, 1, 0xf, 0, UINT64_C(0x1fffffffffff) },
};

static const struct mod_row mod_rows[] = {
	{ MKYOUNG, UINT64_C(0xc000000012345006), UINT64_C(0xc000000012345106) },
	{ MKOLD, UINT64_C(0xc000000012345186), UINT64_C(0xc000000012345086) },
	{ MKDIRTY, UINT64_C(0xc000000012345006), UINT64_C(0xc000000012345086) },
	{ MKDIRTY, UINT64_C(0xc000000012345004), UINT64_C(0xc000000012345084) }, /* C on RO */
	{ MKCLEAN, UINT64_C(0xc000000012345186), UINT64_C(0xc000000012345106) },
	/* wrprotect keeps C: a read-only radix entry may be dirty */
	{ WRPROTECT, UINT64_C(0xc000000012345186), UINT64_C(0xc000000012345184) },
	{ WRPROTECT, UINT64_C(0xc000000012345f86), UINT64_C(0xc000000012345f84) },
	{ MKWRITE, UINT64_C(0xc000000012345184), UINT64_C(0xc000000012345186) },
	{ MKWRITE, UINT64_C(0xc000000012345106), UINT64_C(0xc000000012345106) },
};

static const struct modify_row modify_rows[] = {
	{ UINT64_C(0xc000000012345186), 0x9, UINT64_C(0xc000000012345184) },
	{ UINT64_C(0xc000000012345184), 0xb, UINT64_C(0xc000000012345186) },
	/* to PROT_NONE: privileged, no rights, R/C kept */
	{ UINT64_C(0xc000000012345186), 0x0, UINT64_C(0xc000000012345188) },
	/* to execute-only user */
	{ UINT64_C(0xc000000012345188), 0xc, UINT64_C(0xc000000012345181) },
	/* keeps SW1-3 (0xe00), R, C, L; replaces ATT (0x30: tolerant I/O -> normal) */
	{ UINT64_C(0xc000000012345fb6), 0xb, UINT64_C(0xc000000012345f86) },
};

static const struct advance_row advance_rows[] = {
	{ UINT64_C(0xc000000012345186), 1, UINT64_C(0xc000000012346186) },
	{ UINT64_C(0xc1ffffffffffe007), 1, UINT64_C(0xc1fffffffffff007) },
};

static const struct merge_row merge_rows[] = {
	{ UINT64_C(0xc000000012345006), UINT64_C(0xc000000012345006),
	  UINT64_C(0xc000000012345186), UINT64_C(0xc000000012345186) },
	/* next read-only: C is kept as C */
	{ UINT64_C(0xc000000012345004), UINT64_C(0xc000000012345006),
	  UINT64_C(0xc000000012345086), UINT64_C(0xc000000012345084) },
};

static const struct strip_row strip_rows[] = {
	{ UINT64_C(0xc000000012345186), UINT64_C(0xc000000012345006) },
	{ UINT64_C(0xc000000012345f84), UINT64_C(0xc000000012345e04) },
};

static const struct bytes_row bytes_rows[] = {
	/* big-endian on every host: V|L is the first byte in memory */
	{ UINT64_C(0xc000000012345186), { 0xc0, 0x00, 0x00, 0x00, 0x12, 0x34, 0x51, 0x86 } },
	{ UINT64_C(0x6000000012345006), { 0x60, 0x00, 0x00, 0x00, 0x12, 0x34, 0x50, 0x06 } },
};

#else
#error "test_format.c: build with -DPTXN_FORMAT_X86, _ARM64 or _POWERPC"
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
	SRunner *sr;
	int failed;

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
#else
	tcase_add_test(rules, test_powerpc_rules);
	tcase_add_test(rules, test_powerpc_modify_drops_invalid);
#endif
	tcase_add_loop_test(rules, test_prot_round_trip, 0, 16);
	suite_add_tcase(s, rules);

	sr = srunner_create(s);
	srunner_add_suite(sr, format_props_suite());
	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
