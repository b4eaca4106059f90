/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/* <stdbool.h> for ptxn in a kernel module: bool from linux/types.h, true/false from linux/stddef.h. */
#ifndef PTXN_KMOD_SHIM_STDBOOL_H
#define PTXN_KMOD_SHIM_STDBOOL_H
#include <linux/types.h>
#include <linux/stddef.h>
#endif
