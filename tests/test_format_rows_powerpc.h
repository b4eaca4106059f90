/* SPDX-License-Identifier: MIT */
/*
 * tests/test_format_rows_powerpc.h - the PowerPC radix expected values of test_format.c's tables,
 * literals written out from the manuals (the layout is described below). Included by
 * test_format.c only, in its PTXN_FORMAT_POWERPC build.
 */
#ifndef PTXN_TESTS_TEST_FORMAT_ROWS_POWERPC_H
#define PTXN_TESTS_TEST_FORMAT_ROWS_POWERPC_H

#if !defined(PTXN_FORMAT_POWERPC)
#error "tests/test_format_rows_powerpc.h is for PTXN_FORMAT_POWERPC only"
#endif

#include "test_format_rows.h"

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

#endif /* PTXN_TESTS_TEST_FORMAT_ROWS_POWERPC_H */
