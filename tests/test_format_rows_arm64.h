/* SPDX-License-Identifier: MIT */
/*
 * tests/test_format_rows_arm64.h - the ARM64 expected values of test_format.c's tables,
 * literals written out from the manuals (the layout is described below). Included by
 * test_format.c only, in its PTXN_FORMAT_ARM64 build.
 */
#ifndef PTXN_TESTS_TEST_FORMAT_ROWS_ARM64_H
#define PTXN_TESTS_TEST_FORMAT_ROWS_ARM64_H

#if !defined(PTXN_FORMAT_ARM64)
#error "tests/test_format_rows_arm64.h is for PTXN_FORMAT_ARM64 only"
#endif

#include "test_format_rows.h"

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

#endif /* PTXN_TESTS_TEST_FORMAT_ROWS_ARM64_H */
