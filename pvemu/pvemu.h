/* SPDX-License-Identifier: MIT */
/*
 * ptxn/pvemu/pvemu.h - paravirtual emulation: a simulated hypervisor that alone may write
 * the page tables of a hwemu machine, reached only through hypercalls with a real round
 * trip, and a ptxn platform (struct ptxn_platform_ops) that turns a ptxn_mm_t's
 * transactions into hypercalls, with lazy-MMU batching. docs/paravirt.md has the model,
 * the protocol, the costs and the measurements.
 *
 *   hypervisor   one thread. It owns the writable view of the table memory (a memfd
 *                mapped twice); the guest gets a read-only view, so a guest store to a
 *                table takes SIGSEGV, as a Xen PV guest's would fault. The hwemu agents
 *                (the MMUs) keep reading and compare-and-swapping A/D through the
 *                writable view, as hardware does.
 *   hypercall    a request array in guest memory, posted to a ring of call descriptors
 *                in shared memory; the hypervisor is woken by a futex, serves calls in
 *                order, busy-waits a configurable synthetic trap cost, validates and
 *                applies each request, stops at the first rejection (Xen's mmu_update:
 *                error plus a count of requests done) and wakes the caller by a futex.
 *                One hypercall = one trap, counted.
 *   platform     ptxn_pvemu_attach(pv, mm, batch): start/commit of that mm become
 *                requests; in lazy MMU mode commits queue in a per-mm batch sent as one
 *                hypercall when full, on flush and on leave.
 *
 * Hosted, Linux only: pthreads, futex(2), memfd_create(2), mmap(2); define _GNU_SOURCE
 * before any #include. Include it through <ptxn/pvemu.h>; it includes <ptxn/hwemu.h>. A kernel writing its own hypercall
 * platform needs none of this: core/mm.h's struct ptxn_platform_ops is the whole
 * interface (freestanding).
 *
 * This file only includes the parts, in dependency order; each refuses to be included on
 * its own:
 *   abi.h         limits; the hypercall ABI: commands, error codes, the request
 *   state.h       the hypervisor's config, counters, call ring and state; waiting; guest reads
 *   validate.h    guest/physical/hypervisor addresses; validation of targets and entries
 *   hypervisor.h  apply, serve, the hypervisor thread, the hypercall, create/destroy, stats
 *   guest.h       the guest's per-mm state, errors, the queued-slot set, sending requests
 *   platform.h    the ptxn platform ops, attach/detach, the error hook, per-mm counters
 */
#ifndef PTXN_PVEMU_PVEMU_H
#define PTXN_PVEMU_PVEMU_H

#ifndef _GNU_SOURCE
#error "<ptxn/pvemu.h> uses futex(2), memfd_create(2) and CPU affinity: define _GNU_SOURCE before any #include"
#endif

#include "../hwemu/hwemu.h"

#include <errno.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define PTXN_PVEMU_FUNC static inline __attribute__((unused))

/* Lets the parts below check they are not included on their own. */
#define PTXN_PVEMU_INTERNAL 1

#include "abi.h"
#include "state.h"
#include "validate.h"
#include "hypervisor.h"
#include "guest.h"
#include "platform.h"

/* state.h's counter macro is for the parts only. */
#undef PTXN_PVEMU_STAT

#endif /* PTXN_PVEMU_PVEMU_H */
