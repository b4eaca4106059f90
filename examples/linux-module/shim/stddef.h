/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/* <stddef.h> for ptxn in a kernel module: size_t and NULL from the kernel's headers. */
#ifndef PTXN_KMOD_SHIM_STDDEF_H
#define PTXN_KMOD_SHIM_STDDEF_H
#include <linux/types.h>
#include <linux/stddef.h>
#endif
