/* SPDX-License-Identifier: MIT */
/*
 * tests/test_format_rows_riscv.h - the RISC-V Sv39/Sv48 expected values of test_format.c's
 * tables, literals written out from the manual (the layout is described below). Included by
 * test_format.c only, in its PTXN_FORMAT_RISCV build.
 */
#ifndef PTXN_TESTS_TEST_FORMAT_ROWS_RISCV_H
#define PTXN_TESTS_TEST_FORMAT_ROWS_RISCV_H

#if !defined(PTXN_FORMAT_RISCV)
#error "tests/test_format_rows_riscv.h is for PTXN_FORMAT_RISCV only"
#endif

#include "test_format_rows.h"

/* =========================================================================================
 * RISC-V Sv39/Sv48 leaf PTE (Privileged Architecture 20211203: 4.3.1 for bits 9-0, 4.4
 * "Sv39" and 4.5 "Sv48" for bits 63-10, chapter 5 Svnapot, chapter 6 Svpbmt), 4 KiB pages:
 * V 0 (0x1), R 1 (0x2), W 2 (0x4), X 3 (0x8), U 4 (0x10), G 5 (0x20), A 6 (0x40),
 * D 7 (0x80), RSW 8-9 (0x300), PPN 10-53 (the frame number itself, 44 bits: pfn << 10),
 * reserved 54-60, PBMT 61-62 (NC 0x2000000000000000, IO 0x4000000000000000), N 63.
 * Little-endian in memory. R=0 with W=1 is reserved (table "Encoding of PTE R/W/X fields").
 *   Software conventions (Linux arch/riscv/include/asm/pgtable-bits.h, pgtable.h,
 *   pgtable-64.h): _PAGE_SPECIAL = RSW bit 8, _PAGE_DEVMAP = RSW bit 9, _PAGE_PROT_NONE =
 *   G (meaningful with V=0), PAGE_NONE = _PAGE_PROT_NONE | _PAGE_READ, pte_present = V|G,
 *   _PAGE_CHG_MASK = ~(V R W X U G PBMT), _PAGE_KERNEL global. ptxn's constructors make
 *   entries old and clean (Linux presets A; ptxn does not).
 * The frame 0x12345 is 0x48d1400 in an entry (0x12345 << 10).
 * ========================================================================================= */
#define FORMAT_NAME "riscv"
#define PFN_MAX_EXPECTED UINT64_C(0xfffffffffff) /* PPN: 44 bits (4.4) */

static const struct prot_row prot_rows[] = {
	/* kernel pages: V|G (0x21); user pages: V|U (0x11) */
	{ 0x0, 0x0, UINT64_C(0x22) },  /* PROT_NONE: V=0, G (PROT_NONE mark) | R */
	{ 0x1, 0x1, UINT64_C(0x23) },
	{ 0x2, 0x3, UINT64_C(0x27) },  /* write implies read: W without R is reserved */
	{ 0x3, 0x3, UINT64_C(0x27) },
	{ 0x4, 0x4, UINT64_C(0x29) },  /* execute-only (kernel) */
	{ 0x5, 0x5, UINT64_C(0x2b) },
	{ 0x6, 0x7, UINT64_C(0x2f) },
	{ 0x7, 0x7, UINT64_C(0x2f) },
	{ 0x8, 0x0, UINT64_C(0x22) },
	{ 0x9, 0x9, UINT64_C(0x13) },
	{ 0xa, 0xb, UINT64_C(0x17) },
	{ 0xb, 0xb, UINT64_C(0x17) },
	{ 0xc, 0xc, UINT64_C(0x19) },  /* execute-only user page (Linux PAGE_EXEC) */
	{ 0xd, 0xd, UINT64_C(0x1b) },
	{ 0xe, 0xf, UINT64_C(0x1f) },
	{ 0xf, 0xf, UINT64_C(0x1f) },
};

static const struct pfn_row pfn_rows[] = {
	{ 0x12345, 0xb, UINT64_C(0x00000000048d1417) },
	{ 0x12345, 0xc, UINT64_C(0x00000000048d1419) },
	{ 0x12345, 0x0, UINT64_C(0x00000000048d1422) },
	{ 0x1, 0x1, UINT64_C(0x0000000000000423) },   /* frame 1 is bit 10, not bit 12 */
	{ 0x0, 0x1, UINT64_C(0x0000000000000023) },
	{ UINT64_C(0xfffffffffff), 0xf, UINT64_C(0x003ffffffffffc1f) },
};

static const struct pred_row pred_rows[] = {
	/* pte                             none pres valid young dirty write exec flags quiesc pfn */
	{ UINT64_C(0x0000000000000000), 1, 0, 0, 0, 0, 0, 0, 0x0, 1, 0 },
	{ UINT64_C(0x00000000048d1417), 0, 1, 1, 0, 0, 1, 0, 0xb, 0, 0x12345 },
	{ UINT64_C(0x00000000048d1457), 0, 1, 1, 1, 0, 1, 0, 0xb, 0, 0x12345 },
	{ UINT64_C(0x00000000048d14d7), 0, 1, 1, 1, 1, 1, 0, 0xb, 1, 0x12345 },
	/* read-only young: final - the D update re-checks W in memory (4.3.2 step 7) */
	{ UINT64_C(0x00000000048d1453), 0, 1, 1, 1, 0, 0, 0, 0x9, 1, 0x12345 },
	{ UINT64_C(0x00000000048d1413), 0, 1, 1, 0, 0, 0, 0, 0x9, 0, 0x12345 },
	/* D is meaningful on a read-only entry: no software dirty bit */
	{ UINT64_C(0x00000000048d1493), 0, 1, 1, 0, 1, 0, 0, 0x9, 0, 0x12345 },
	/* PROT_NONE (V=0, G, R): present, not valid; the hart never writes it */
	{ UINT64_C(0x00000000048d1422), 0, 1, 0, 0, 0, 0, 0, 0x0, 1, 0x12345 },
	{ UINT64_C(0x00000000048d14e2), 0, 1, 0, 1, 1, 0, 0, 0x0, 1, 0x12345 },
	/* V=0 without G: not present (a swap entry in Linux), not none */
	{ UINT64_C(0x00000000048d1402), 0, 0, 0, 0, 0, 0, 0, 0x0, 1, 0x12345 },
	/* execute-only: user, and kernel (global) */
	{ UINT64_C(0x00000000048d1419), 0, 1, 1, 0, 0, 0, 1, 0xc, 0, 0x12345 },
	{ UINT64_C(0x00000000048d1469), 0, 1, 1, 1, 0, 0, 1, 0x4, 1, 0x12345 },
	/* W without R is reserved: the walker faults it, so it grants nothing */
	{ UINT64_C(0x00000000048d1415), 0, 1, 1, 0, 0, 1, 0, 0x0, 0, 0x12345 },
	{ UINT64_C(0x003ffffffffffc1f), 0, 1, 1, 0, 0, 1, 1, 0xf, 0,
	  UINT64_C(0xfffffffffff) },
};

static const struct mod_row mod_rows[] = {
	{ MKYOUNG, UINT64_C(0x00000000048d1417), UINT64_C(0x00000000048d1457) },
	{ MKOLD, UINT64_C(0x00000000048d14d7), UINT64_C(0x00000000048d1497) },
	{ MKDIRTY, UINT64_C(0x00000000048d1417), UINT64_C(0x00000000048d1497) },
	{ MKDIRTY, UINT64_C(0x00000000048d1413), UINT64_C(0x00000000048d1493) }, /* D on RO */
	{ MKCLEAN, UINT64_C(0x00000000048d14d7), UINT64_C(0x00000000048d1457) },
	/* wrprotect keeps D (Linux pte_wrprotect clears _PAGE_WRITE only) */
	{ WRPROTECT, UINT64_C(0x00000000048d14d7), UINT64_C(0x00000000048d14d3) },
	{ WRPROTECT, UINT64_C(0x00000000048d17d7), UINT64_C(0x00000000048d17d3) },
	{ MKWRITE, UINT64_C(0x00000000048d14d3), UINT64_C(0x00000000048d14d7) },
	{ MKWRITE, UINT64_C(0x00000000048d1457), UINT64_C(0x00000000048d1457) },
	/* execute-only made writable: R too (W without R is reserved, 4.3.1) */
	{ MKWRITE, UINT64_C(0x00000000048d1419), UINT64_C(0x00000000048d141f) },
};

static const struct modify_row modify_rows[] = {
	{ UINT64_C(0x00000000048d14d7), 0x9, UINT64_C(0x00000000048d14d3) },
	{ UINT64_C(0x00000000048d14d3), 0xb, UINT64_C(0x00000000048d14d7) },
	/* to PROT_NONE: V=0, G|R, A/D kept */
	{ UINT64_C(0x00000000048d14d7), 0x0, UINT64_C(0x00000000048d14e2) },
	{ UINT64_C(0x00000000048d14e2), 0xb, UINT64_C(0x00000000048d14d7) },
	/* keeps both RSW bits (0x300); replaces PBMT (IO -> PMA) */
	{ UINT64_C(0x40000000048d17d7), 0xb, UINT64_C(0x00000000048d17d7) },
	/* kernel (global) -> user: G goes, U comes */
	{ UINT64_C(0x00000000048d1467), 0xb, UINT64_C(0x00000000048d1457) },
	/* to execute-only user */
	{ UINT64_C(0x00000000048d14d7), 0xc, UINT64_C(0x00000000048d14d9) },
};

static const struct advance_row advance_rows[] = {
	/* one frame is 0x400 in the entry */
	{ UINT64_C(0x00000000048d14d7), 1, UINT64_C(0x00000000048d18d7) },
	{ UINT64_C(0x003ffffffffff81f), 1, UINT64_C(0x003ffffffffffc1f) },
};

static const struct merge_row merge_rows[] = {
	{ UINT64_C(0x00000000048d1417), UINT64_C(0x00000000048d1417),
	  UINT64_C(0x00000000048d14d7), UINT64_C(0x00000000048d14d7) },
	/* next read-only: D is kept as D */
	{ UINT64_C(0x00000000048d1413), UINT64_C(0x00000000048d1417),
	  UINT64_C(0x00000000048d1497), UINT64_C(0x00000000048d1493) },
};

static const struct strip_row strip_rows[] = {
	{ UINT64_C(0x00000000048d14d7), UINT64_C(0x00000000048d1417) },
	{ UINT64_C(0x00000000048d17d3), UINT64_C(0x00000000048d1713) },
};

static const struct bytes_row bytes_rows[] = {
	/* little-endian: V R W X U G A D is the first byte in memory, PBMT/N the last */
	{ UINT64_C(0x40000000048d14d7), { 0xd7, 0x14, 0x8d, 0x04, 0x00, 0x00, 0x00, 0x40 } },
	{ UINT64_C(0x00000000048d1422), { 0x22, 0x14, 0x8d, 0x04, 0x00, 0x00, 0x00, 0x00 } },
};

#endif /* PTXN_TESTS_TEST_FORMAT_ROWS_RISCV_H */
