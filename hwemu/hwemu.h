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
 * This file only includes the parts, in dependency order; each refuses to be included on
 * its own:
 *   types.h    sizes, logical A/D bits, counters, ledger/log/write records, the verdict
 *   phys.h     simulated physical memory (backed table pages, unbacked data frames)
 *   aspace.h   the address-space builder: map, look up, free page tables
 *   machine.h  the machine and agent structures, tickets, create/map/destroy
 *   tlb.h      one access attempt through an agent's TLB; the TLB shootdown
 *   ledger.h   the ledger of A/D updates and the software side's transaction log
 *   agent.h    agents: creation, patterns, fault handling, threads
 *   check.h    the checker and its report
 */
#ifndef PTXN_HWEMU_HWEMU_H
#define PTXN_HWEMU_HWEMU_H

#include "mmu.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PTXN_HWEMU_FUNC static inline __attribute__((unused))

/* Lets the parts below check they are not included on their own. */
#define PTXN_HWEMU_INTERNAL 1

#include "types.h"
#include "phys.h"
#include "aspace.h"
#include "machine.h"
#include "tlb.h"
#include "ledger.h"
#include "agent.h"
#include "check.h"

#endif /* PTXN_HWEMU_HWEMU_H */
