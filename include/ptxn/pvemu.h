/* SPDX-License-Identifier: MIT */
/*
 * <ptxn/pvemu.h> - paravirtual emulation for ptxn: a simulated hypervisor owning a hwemu
 * machine's page tables, hypercalls with a real round trip, and a ptxn platform with
 * lazy-MMU batching. Hosted (Linux: pthreads, futex, memfd). docs/paravirt.md.
 *
 * Like <ptxn/hwemu.h>, this one file serves the source checkout (include/ptxn/ beside
 * ../../pvemu) and an installed tree (<prefix>/include/ptxn/ beside pvemu/).
 */
#ifndef PTXN_PVEMU_PUBLIC_H
#define PTXN_PVEMU_PUBLIC_H

#if defined(__has_include)
#if __has_include("pvemu/pvemu.h")
#include "pvemu/pvemu.h"
#else
#include "../../pvemu/pvemu.h"
#endif
#else
#include "../../pvemu/pvemu.h"
#endif

#endif /* PTXN_PVEMU_PUBLIC_H */
