/* SPDX-License-Identifier: MIT */
/*
 * ptxn/pvemu/abi.h - the hypercall ABI the guest and the hypervisor share: the ring
 * and batch limits, the commands (enum ptxn_pv_cmd), the error codes (enum ptxn_pv_errno)
 * and their names, and one request (struct ptxn_pv_request).
 *
 * Part of <ptxn/pvemu.h>, which includes the parts in this order:
 *   abi.h, state.h, validate.h, hypervisor.h, guest.h, platform.h (pvemu/pvemu.h).
 */
#ifndef PTXN_PVEMU_ABI_H
#define PTXN_PVEMU_ABI_H

#ifndef PTXN_PVEMU_INTERNAL
#error "Do not include ptxn/pvemu/abi.h directly; include <ptxn/pvemu.h>"
#endif

PTXN_EXTERN_C_BEGIN

#define PTXN_PVEMU_RING 64u            /* call descriptors in the shared ring */
#define PTXN_PVEMU_DEFAULT_BATCH 32u   /* Linux's Xen multicall batch (MC_BATCH) */
#define PTXN_PVEMU_MAX_BATCH 4096u
#define PTXN_PVEMU_SYNC_ROOM 512u      /* synchronous requests that may ride with a queue */
#define PTXN_PVEMU_DEFAULT_SPIN_NS 50000u /* spin (PAUSE, then yield) before a futex sleep */
#define PTXN_PVEMU_PAUSE_NS 5000u         /* of which PAUSE only (plus the trap cost) */

/* ---- the hypercall ABI ------------------------------------------------------------------ */

/* What one request asks the hypervisor to do with one entry. */
enum ptxn_pv_cmd {
	/* Write val as is (Xen MMU_NORMAL_PT_UPDATE): ptxn_set_pte_at. result: the entry before. */
	PTXN_PV_UPDATE = 1,
	/*
	 * Write val keeping every A/D update the MMU made since the entry was old: a
	 * compare-and-swap loop on the real entry, val merged with the A/D found set that old
	 * lacks (ptxn_arch_pte_merge_hw). Xen's MMU_PT_UPDATE_PRESERVE_AD keeps *all* A/D the
	 * entry holds, which cannot clean or age an entry; carrying old can. A change that
	 * needs break-before-make (ARM64 frame or attribute change) is done here as break,
	 * shootdown, install. The commit of MERGE and AUTO.
	 */
	PTXN_PV_PRESERVE_AD,
	/* Make the entry unusable by the MMU (exchange; PowerPC: clear V, set INVALID). result:
	 * what it held, A/D included. CLEAR's start; shoots down if the mm's erratum needs it. */
	PTXN_PV_BREAK,
	/* Install val into a broken entry, keeping late PowerPC R/C write-backs. CLEAR's commit. */
	PTXN_PV_INSTALL,
	/* Strip A/D, leaving the entry valid; result: what it held. Batched MERGE/AUTO start. */
	PTXN_PV_HARVEST,
	/* Invalidate [va, va + val.storage) in every TLB and wait (mm->flush_tlb_range). */
	PTXN_PV_TLB_FLUSH
};
#define PTXN_PV_CMD_COUNT 7

/* Why the hypervisor rejected a request. Nothing of a rejected request is applied. */
enum ptxn_pv_errno {
	PTXN_PV_OK = 0,
	PTXN_PV_EALIGN,   /* the slot address is not 8-byte aligned */
	PTXN_PV_ENOTPT,   /* the slot is not in one of the guest's page tables */
	PTXN_PV_EPTWRITE, /* the entry would map a page-table page writable */
	PTXN_PV_EPFN,     /* the entry maps a frame outside the guest's memory */
	PTXN_PV_ETABLE,   /* a table entry that does not point at a page table one level down */
	PTXN_PV_ECMD      /* unknown command, or a TLB flush of an empty or wrapping range */
};
#define PTXN_PV_ERRNO_COUNT 7

PTXN_PVEMU_FUNC const char *ptxn_pv_strerror(int err)
{
	static const char *const names[PTXN_PV_ERRNO_COUNT] = {
		"ok",
		"slot not 8-byte aligned",
		"slot outside the guest's page tables",
		"entry would map a page-table page writable",
		"entry maps a frame outside the guest's memory",
		"table entry does not point at a page table one level down",
		"bad command",
	};

	return err >= 0 && err < PTXN_PV_ERRNO_COUNT ? names[err] : "?";
}

PTXN_PVEMU_FUNC const char *ptxn_pv_cmd_name(unsigned cmd)
{
	static const char *const names[PTXN_PV_CMD_COUNT] = {
		"?", "update", "preserve-ad", "break", "install", "harvest", "tlb-flush"};

	return cmd < PTXN_PV_CMD_COUNT ? names[cmd] : "?";
}

/* One request, in guest memory; the hypervisor reads it and writes result. */
struct ptxn_pv_request {
	uint32_t cmd;       /* enum ptxn_pv_cmd */
	uint32_t reserved;
	uint64_t slot;      /* guest-physical address of the entry (not a pointer) */
	uint64_t va;        /* the virtual address it maps: shootdowns, error reports */
	ptxn_pte_t old;     /* PRESERVE_AD, INSTALL: the value start returned */
	ptxn_pte_t val;     /* the entry to write; TLB_FLUSH: the length in bytes */
	ptxn_pte_t result;  /* out (UPDATE, BREAK, HARVEST): the entry before */
};

PTXN_EXTERN_C_END

#endif /* PTXN_PVEMU_ABI_H */
