/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/*
 * <stdint.h> for ptxn inside a Linux kernel module. Kbuild compiles with -nostdinc and
 * the kernel defines the fixed-width types itself (include/linux/types.h: uint64_t is
 * u64, unsigned long long); the compiler's own <stdint.h> would define them again with
 * other base types (unsigned long) and the two clash. ptxn needs only these names and
 * UINT64_C, so this shim maps them onto the kernel's.
 */
#ifndef PTXN_KMOD_SHIM_STDINT_H
#define PTXN_KMOD_SHIM_STDINT_H
#include <linux/types.h>
#ifndef UINT64_C
#define UINT64_C(c) c##ULL
#endif
#endif
