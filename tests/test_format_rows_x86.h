/* SPDX-License-Identifier: MIT */
/*
 * tests/test_format_rows_x86.h - the x86 (IA-32e) expected values of test_format.c's tables,
 * literals written out from the manuals (the layout is described below). Included by
 * test_format.c only, in its PTXN_FORMAT_X86 build.
 */
#ifndef PTXN_TESTS_TEST_FORMAT_ROWS_X86_H
#define PTXN_TESTS_TEST_FORMAT_ROWS_X86_H

#if !defined(PTXN_FORMAT_X86)
#error "tests/test_format_rows_x86.h is for PTXN_FORMAT_X86 only"
#endif

#include "test_format_rows.h"

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

#endif /* PTXN_TESTS_TEST_FORMAT_ROWS_X86_H */
