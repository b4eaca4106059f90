/* SPDX-License-Identifier: MIT */
/*
 * ptxn/core/compiler.h - the few compiler facilities every other header uses.
 *
 * ptxn is freestanding C99 with GCC/Clang extensions (inline asm, __atomic builtins,
 * attributes). Nothing here needs libc.
 */
#ifndef PTXN_CORE_COMPILER_H
#define PTXN_CORE_COMPILER_H

#if !defined(__GNUC__) && !defined(__clang__)
#error "ptxn needs GCC or Clang: it relies on __atomic builtins and inline assembly"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define PTXN_EXTERN_C_BEGIN extern "C" {
#define PTXN_EXTERN_C_END }
#else
#define PTXN_EXTERN_C_BEGIN
#define PTXN_EXTERN_C_END
#endif

/*
 * Attributes are spelled __name__: a kernel defines some plain names as macros (Linux's
 * compiler_attributes.h: noinline), which would break __attribute__((noinline)) inside
 * these headers (found building examples/linux-module/ against Debian 12's 6.1 headers).
 */
/* Every function of the library is static inline: no symbol is ever emitted twice. */
#define PTXN_INLINE static inline __attribute__((__always_inline__))
/* Slow paths (retry loops, contract reports) stay out of the callers' fast paths; cold,
 * so that the compiler also moves what only they need (arguments) out of the way. */
#define PTXN_NOINLINE static __attribute__((__noinline__, __cold__, __unused__))

#define PTXN_LIKELY(x) __builtin_expect(!!(x), 1)
#define PTXN_UNLIKELY(x) __builtin_expect(!!(x), 0)

/* A value the caller must not drop, e.g. a "flush the TLB" obligation. */
#define PTXN_MUST_CHECK __attribute__((__warn_unused_result__))

/* Keeps the compiler from moving memory accesses across this point (no CPU fence). */
#define PTXN_COMPILER_BARRIER() __asm__ __volatile__("" ::: "memory")

#if defined(__cplusplus) && __cplusplus >= 201103L
#define PTXN_STATIC_ASSERT(cond, msg) static_assert(cond, msg)
#elif defined(__STDC_VERSION__) && __STDC_VERSION__ >= 201112L
#define PTXN_STATIC_ASSERT(cond, msg) _Static_assert(cond, msg)
#else
#define PTXN_STATIC_ASSERT_CAT2(a, b) a##b
#define PTXN_STATIC_ASSERT_CAT(a, b) PTXN_STATIC_ASSERT_CAT2(a, b)
#define PTXN_STATIC_ASSERT(cond, msg)                                                        \
	typedef char PTXN_STATIC_ASSERT_CAT(ptxn_static_assert_, __COUNTER__)[(cond) ? 1 : -1]   \
		__attribute__((__unused__))
#endif

#endif /* PTXN_CORE_COMPILER_H */
