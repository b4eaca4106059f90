/* SPDX-License-Identifier: MIT */
/*
 * <ptxn/hwemu.h> - the hardware Accessed/Dirty emulation layer of ptxn: simulated MMUs
 * (one per entry format), TLBs, a ledger of every A/D update and a checker. Hosted
 * (libc, pthreads); the walkers alone are freestanding (hwemu/mmu.h). docs/hwemu.md.
 *
 * Like <ptxn/ptxn.h>, this one file serves the source checkout (include/ptxn/ beside
 * ../../hwemu) and the installed tree (<prefix>/include/ptxn/ beside hwemu/).
 */
#ifndef PTXN_HWEMU_PUBLIC_H
#define PTXN_HWEMU_PUBLIC_H

#if defined(__has_include)
#if __has_include("hwemu/hwemu.h")
#include "hwemu/hwemu.h"
#else
#include "../../hwemu/hwemu.h"
#endif
#else
#include "../../hwemu/hwemu.h"
#endif

#endif /* PTXN_HWEMU_PUBLIC_H */
