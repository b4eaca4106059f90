/* SPDX-License-Identifier: MIT */
/*
 * ptxn/core/select.h - compile-time choice of the entry format and of the host atomics.
 *
 * The two are independent (docs/design.md): the format is the layout the MMU reads, the host
 * is the CPU that updates the slot. Detection looks only at compiler-predefined macros
 * (GCC 12 and Clang 14 cross compilers define __x86_64__, __i386__, __aarch64__,
 * __powerpc64__, __riscv with __riscv_xlen, __BYTE_ORDER__); a host without a format of
 * its own must name one, never gets a silent default.
 */
#ifndef PTXN_CORE_SELECT_H
#define PTXN_CORE_SELECT_H

/* ---- entry format ------------------------------------------------------------------ */
#if (defined(PTXN_FORMAT_X86) + defined(PTXN_FORMAT_ARM64) + defined(PTXN_FORMAT_POWERPC) + \
     defined(PTXN_FORMAT_RISCV)) > 1
#error "ptxn: define at most one of PTXN_FORMAT_X86, PTXN_FORMAT_ARM64, PTXN_FORMAT_POWERPC, PTXN_FORMAT_RISCV"
#endif

#if !defined(PTXN_FORMAT_X86) && !defined(PTXN_FORMAT_ARM64) && !defined(PTXN_FORMAT_POWERPC) && \
	!defined(PTXN_FORMAT_RISCV)
#if defined(__x86_64__) || defined(__i386__)
#define PTXN_FORMAT_X86 1
#elif defined(__aarch64__)
#define PTXN_FORMAT_ARM64 1
#elif defined(__powerpc64__)
#define PTXN_FORMAT_POWERPC 1
#elif defined(__riscv) && defined(__riscv_xlen) && __riscv_xlen == 64
#define PTXN_FORMAT_RISCV 1 /* Sv39/Sv48: RV64 only (Sv32 entries are 32 bits) */
#else
#error "ptxn: no native page-table format for this CPU; define PTXN_FORMAT_X86, PTXN_FORMAT_ARM64, PTXN_FORMAT_POWERPC or PTXN_FORMAT_RISCV"
#endif
#endif

/* ---- host atomics ------------------------------------------------------------------ */
#if defined(__x86_64__)
#define PTXN_HOST_X86_64 1
#define PTXN_HOST_NAME "x86_64"
#elif defined(__i386__)
#define PTXN_HOST_I386 1
#define PTXN_HOST_NAME "i386"
#elif defined(__aarch64__)
#define PTXN_HOST_ARM64 1
#define PTXN_HOST_NAME "aarch64"
#elif defined(__powerpc64__)
#define PTXN_HOST_POWERPC64 1
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define PTXN_HOST_NAME "ppc64le"
#else
#define PTXN_HOST_NAME "ppc64"
#endif
#elif defined(__riscv) && defined(__riscv_xlen) && __riscv_xlen == 64
#define PTXN_HOST_RISCV64 1
#define PTXN_HOST_NAME "riscv64"
#else
/* Any other GCC/Clang target still works through generic/atomic.h, if it has 64-bit atomics. */
#define PTXN_HOST_OTHER 1
#define PTXN_HOST_NAME "other"
#endif

#if !defined(__BYTE_ORDER__) || !defined(__ORDER_LITTLE_ENDIAN__) || !defined(__ORDER_BIG_ENDIAN__)
#error "ptxn: the compiler does not say the byte order (__BYTE_ORDER__)"
#endif
#define PTXN_HOST_BIG_ENDIAN (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)

#endif /* PTXN_CORE_SELECT_H */
