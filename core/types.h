/* SPDX-License-Identifier: MIT */
/*
 * ptxn/core/types.h - the entry, value and protection types.
 */
#ifndef PTXN_CORE_TYPES_H
#define PTXN_CORE_TYPES_H

#ifndef PTXN_CORE_INTERNAL
#error "Do not include ptxn/core/types.h directly; include <ptxn/ptxn.h>"
#endif

PTXN_EXTERN_C_BEGIN

/*
 * One page-table slot, bit for bit the hardware entry as the MMU reads it from memory:
 * little-endian for x86 and ARM64, big-endian for PowerPC radix (on ppc64le too). A table
 * is an array of these. Always 8 bytes, 8-byte aligned (on i386 too, where uint64_t alone
 * is only 4-byte aligned in structures: a split-line locked access would be a bus lock).
 * Read its value with ptxn_pte_val(), never through .storage.
 */
typedef struct __attribute__((__aligned__(8))) ptxn_pte {
	uint64_t storage;
} ptxn_pte_t;

/* An entry value in CPU bit order, as the PTXN_<ARCH>_* bit constants are written. */
typedef uint64_t ptxn_pteval_t;

/* An encoded protection for the selected format (CPU bit order). */
typedef struct ptxn_prot {
	uint64_t bits;
} ptxn_prot_t;

/* Portable protection flags for ptxn_prot(). */
enum {
	PTXN_PROT_READ = 1,
	PTXN_PROT_WRITE = 2,
	PTXN_PROT_EXEC = 4,
	PTXN_PROT_USER = 8
};

PTXN_STATIC_ASSERT(sizeof(ptxn_pte_t) == 8, "a ptxn_pte_t is exactly one 8-byte entry");
PTXN_STATIC_ASSERT(__alignof__(ptxn_pte_t) == 8, "a ptxn_pte_t is 8-byte aligned");

PTXN_EXTERN_C_END

#endif /* PTXN_CORE_TYPES_H */
