/* SPDX-License-Identifier: MIT */
/*
 * ptxn/hwemu/hwemu.h - hardware Accessed/Dirty emulation: simulated physical memory, real
 * page tables built from ptxn entries, MMU agents (one thread per simulated CPU or
 * coprocessor) with TLBs, a TLB shootdown usable as a ptxn_mm_t flush hook, a ledger of
 * every A/D update, and a checker that says which update a transaction lost.
 *
 * Users include <ptxn/hwemu.h>. The translation unit's entry format (PTXN_FORMAT_*) selects
 * the MMU model; it runs on any host. The walkers themselves are freestanding
 * (hwemu/mmu.h, hwemu/<format>/mmu.h); the parts below are hosted: libc and pthreads.
 * docs/hwemu.md documents the rules, the API and the checker.
 *
 * This file only includes the two top-level parts; each part includes the parts it uses,
 * so they form a tree (leaves first):
 *   mmu.h      the freestanding walker interface and the format's walker
 *   types.h    sizes, logical A/D bits, counters, ledger/log/write records, the verdict
 *   random.h   splitmix64, the agents' (and bench/'s) pseudo-random step
 *   phys.h     simulated physical memory (backed table pages, unbacked data frames)
 *   aspace.h   the address-space builder: map, look up, free page tables
 *   machine.h  the machine and agent structures, tickets, create/map/stop/destroy
 *   tlb.h      one access attempt through an agent's TLB; the TLB shootdown
 *   ledger.h   the ledger of A/D updates and the software side's transaction log
 *   agent.h    agents: creation, patterns, fault handling, threads      (top)
 *   check.h    the checker and its report                                (top)
 */
#ifndef PTXN_HWEMU_HWEMU_H
#define PTXN_HWEMU_HWEMU_H

#include "agent.h"
#include "check.h"

#endif /* PTXN_HWEMU_HWEMU_H */
