/* SPDX-License-Identifier: MIT OR GPL-2.0 */
/*
 * ptxn_kmod.h - the interface of the ptxn test module (ptxn_kmod.ko) to its test program
 * (ptxn_ktest): ioctls on the misc device /dev/ptxn_kmod. Shared by both sides; only
 * <linux/types.h> and <linux/ioctl.h>, which exist in the kernel and in user space.
 */
#ifndef PTXN_KMOD_H
#define PTXN_KMOD_H

#include <linux/ioctl.h>
#include <linux/types.h>

/* How PTXN_KMOD_APPLY changes each entry. */
enum ptxn_kmod_op {
	PTXN_KMOD_OP_RDONLY = 0, /* write-protect (dirtiness kept) */
	PTXN_KMOD_OP_RDWR = 1,   /* make writable again where the kernel would (mprotect's rule) */
	PTXN_KMOD_OP_CLEAN = 2   /* make old and clean: the start of a checked round */
};

/* Who changes it: a ptxn strategy (enum ptxn_strategy values), or the unsafe control. */
enum ptxn_kmod_mode {
	PTXN_KMOD_AUTO = 0,
	PTXN_KMOD_CLEAR = 1,
	PTXN_KMOD_MERGE = 2,
	PTXN_KMOD_PLAIN_RMW = 3 /* load, compute, plain store: must be caught losing A/D */
};

struct ptxn_kmod_apply {
	__u64 start;        /* in: page-aligned user address of the calling process */
	__u64 len;          /* in: bytes, page multiple, within one VMA */
	__u32 op;           /* in: enum ptxn_kmod_op */
	__u32 mode;         /* in: enum ptxn_kmod_mode */
	__u32 batch;        /* in: 1 = single transactions; n > 1 = _ptes over n entries
			     *     where they map consecutive frames with one protection */
	__u32 window_ns;    /* in: delay between start and commit (widens the race) */
	__u32 cet;          /* in: 1 = set PTXN_MM_X86_CET only if the CPU has CET shadow
			     *     stacks (the default does the same; 0 = never) */
	__u32 pad;
	__u64 entries;      /* out: entries changed */
	__u64 transactions; /* out: transactions (a batch counts once) */
	__u64 batched;      /* out: transactions that were _ptes batches */
	__u64 in_window;    /* out: transactions whose entry the MMU changed between start and commit */
	__u64 merge_retries;/* out: PTXN_STATS merge_retries */
	__u64 quiescent;    /* out: PTXN_STATS quiescent (plain-store commits) */
	__u64 broken;       /* out: PTXN_STATS broken */
	__u64 skipped;      /* out: entries left alone (zero page, not exclusive, ...) */
};

/* Per page, the kernel's own reading of the entry (pte_dirty() etc.), for the checker. */
#define PTXN_KMOD_PRESENT (1u << 0)
#define PTXN_KMOD_WRITE   (1u << 1)
#define PTXN_KMOD_DIRTY   (1u << 2) /* pte_dirty() */
#define PTXN_KMOD_YOUNG   (1u << 3) /* pte_young() */
#define PTXN_KMOD_DEVMAP  (1u << 4) /* pte_devmap(): must never be set on these pages */
#define PTXN_KMOD_SPECIAL (1u << 5) /* pte_special() (the zero page) */

struct ptxn_kmod_query {
	__u64 start;    /* in: page-aligned user address */
	__u64 npages;   /* in: at most PTXN_KMOD_QUERY_MAX */
	__u64 flags;    /* in: user pointer to npages bytes, PTXN_KMOD_* per page */
};
#define PTXN_KMOD_QUERY_MAX 4096

struct ptxn_kmod_info {
	char backend[96];   /* PTXN_BACKEND_DESCRIPTION */
	char flush[96];     /* which TLB flush the module uses, and why */
	__u32 cpu_cet;      /* boot CPU has CET shadow stacks (CPUID.7.0:ECX[7]) */
	__u32 saved_dirty_bit; /* 0: none (PTXN_X86_NO_SAVED_DIRTY) */
	__u64 flushes;      /* TLB flushes so far */
};

#define PTXN_KMOD_MAGIC 'p'
#define PTXN_KMOD_APPLY _IOWR(PTXN_KMOD_MAGIC, 1, struct ptxn_kmod_apply)
#define PTXN_KMOD_QUERY _IOW(PTXN_KMOD_MAGIC, 2, struct ptxn_kmod_query)
#define PTXN_KMOD_INFO  _IOR(PTXN_KMOD_MAGIC, 3, struct ptxn_kmod_info)

/* The device's mmap: PTXN_KMOD_FOLIO_PAGES physically consecutive pages (for _ptes). */
#define PTXN_KMOD_FOLIO_ORDER 6
#define PTXN_KMOD_FOLIO_PAGES (1u << PTXN_KMOD_FOLIO_ORDER)

#endif /* PTXN_KMOD_H */
