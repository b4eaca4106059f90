// SPDX-License-Identifier: MIT OR GPL-2.0
/*
 * ptxn_kmod.c - ptxn inside a real Linux kernel: a test module and an example (issue 21).
 *
 * A misc device, /dev/ptxn_kmod, through which a process asks the kernel to change the
 * protection of a range of its own memory with ptxn transactions:
 *   - the PTE lock and the walk are the kernel's own: apply_to_existing_page_range()
 *     (exported, GPL) calls us for each present entry under pte_offset_map_lock();
 *   - each entry is changed by ptxn_modify_prot_start()/commit(), or where a run of
 *     entries maps consecutive frames with one protection, by the _ptes form;
 *   - then the TLB is flushed. Debian 12's 6.1 kernel exports no ranged user TLB flush
 *     (flush_tlb_mm_range() is not exported), so the module does a full flush: an IPI to
 *     every online CPU running __flush_tlb_all() (exported, GPL), as flush_tlb_all() does.
 * A plain read-modify-write mode is the negative control the checker must catch, and
 * PTXN_KMOD_QUERY reports what the kernel's own pte_dirty()/pte_young() read.
 * The device's mmap() gives 64 physically consecutive pages, the folio the _ptes form
 * needs (anonymous memory of 6.1 is order-0 pages at scattered frames).
 */
#include <linux/delay.h>
#include <linux/fs.h>
#include <linux/gfp.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/mmap_lock.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/uaccess.h>
#include <asm/processor.h>
#include <asm/tlbflush.h>

#include <ptxn/ptxn.h>
#include "ptxn_kmod.h"

/* The kernel's pte_t and ptxn_pte_t are the same 64-bit little-endian word. */
static_assert(sizeof(pte_t) == sizeof(ptxn_pte_t));

static struct page *ptxn_kmod_pages[PTXN_KMOD_FOLIO_PAGES];
static atomic64_t ptxn_kmod_flushes = ATOMIC64_INIT(0);
static bool ptxn_kmod_cpu_cet;

struct ptxn_kmod_ctx {
	ptxn_mm_t pm;
	struct vm_area_struct *vma;
	unsigned long start, end;
	struct ptxn_kmod_apply *a;
	unsigned int skip;     /* entries a batch already covered */
	u8 *flags;             /* PTXN_KMOD_QUERY's output */
};

static void ptxn_kmod_flush_ipi(void *unused)
{
	__flush_tlb_all(); /* every PCID, global entries included (flush_tlb_all()'s way) */
}

static void ptxn_kmod_flush_all(void)
{
	on_each_cpu(ptxn_kmod_flush_ipi, NULL, 1);
	atomic64_inc(&ptxn_kmod_flushes);
}

/* ptxn's flush hook: only a break-before-make rule would call it; x86 has none. */
static void ptxn_kmod_flush_hook(ptxn_mm_t *mm, uintptr_t start, uintptr_t end)
{
	ptxn_kmod_flush_all();
}

/*
 * May this entry be made writable? The kernel's own rule for mprotect(PROT_WRITE)
 * (can_change_pte_writable(), mm/mprotect.c in 6.1): a shared mapping, or an exclusive
 * anonymous page; never the shared zero page (pte_special) a read fault mapped.
 */
static bool ptxn_kmod_may_write(struct ptxn_kmod_ctx *c, pte_t k)
{
	struct page *page;

	if (!(c->vma->vm_flags & VM_WRITE) || !pte_present(k) || pte_special(k))
		return false;
	if (c->vma->vm_flags & VM_SHARED)
		return true;
	if (!pfn_valid(pte_pfn(k)))
		return false;
	page = pte_page(k);
	return PageAnon(page) && PageAnonExclusive(page);
}

static ptxn_pte_t ptxn_kmod_next(struct ptxn_kmod_ctx *c, ptxn_pte_t old)
{
	switch (c->a->op) {
	case PTXN_KMOD_OP_RDONLY:
		return ptxn_pte_wrprotect(old);
	case PTXN_KMOD_OP_RDWR:
		if (ptxn_kmod_may_write(c, __pte(ptxn_pte_val(old))))
			return ptxn_pte_mkwrite(old);
		c->a->skipped++;
		return old;
	default:
		return ptxn_pte_mkclean(ptxn_pte_mkold(old));
	}
}

/* How many entries from this one form a batch for the _ptes form (1: none). */
static unsigned int ptxn_kmod_batch_len(struct ptxn_kmod_ctx *c, ptxn_pte_t *slot,
					unsigned long addr)
{
	const uint64_t ad = PTXN_X86_ACCESSED | PTXN_X86_DIRTY | PTXN_X86_PFN_MASK;
	unsigned int nr = c->a->batch, i;
	ptxn_pte_t first = ptxn_ptep_get(slot);

	/*
	 * A batch neither ages nor cleans under MERGE and AUTO (docs/api.md, _ptes), so a
	 * clean is done entry by entry; otherwise a batch is an aligned run of nr entries in
	 * this page table (the lock covers one table) mapping consecutive frames.
	 */
	if (nr < 2 || c->a->op == PTXN_KMOD_OP_CLEAN || c->a->mode == PTXN_KMOD_PLAIN_RMW ||
	    (addr & ((unsigned long)nr * PAGE_SIZE - 1)) || pte_index(addr) + nr > PTRS_PER_PTE ||
	    addr + (unsigned long)nr * PAGE_SIZE > c->end)
		return 1;
	for (i = 1; i < nr; i++) {
		ptxn_pte_t e = ptxn_ptep_get(slot + i);

		if (ptxn_pte_pfn(e) != ptxn_pte_pfn(first) + i ||
		    ((ptxn_pte_val(e) ^ ptxn_pte_val(first)) & ~ad))
			return 1;
	}
	return nr;
}

static void ptxn_kmod_window(struct ptxn_kmod_ctx *c)
{
	if (c->a->window_ns)
		ndelay(c->a->window_ns);
}

/* One entry (nr == 1) or one batch, under the PTE lock apply_to_existing_page_range holds. */
static void ptxn_kmod_change(struct ptxn_kmod_ctx *c, ptxn_pte_t *slot, unsigned long addr,
			     unsigned int nr)
{
	ptxn_pte_t pre[PTXN_KMOD_FOLIO_PAGES], old, next;
	bool live = c->a->mode != PTXN_KMOD_CLEAR;
	unsigned int i;

	if (c->a->mode == PTXN_KMOD_PLAIN_RMW) {
		/* The unsafe way: whatever the MMU sets between the load and the store is lost. */
		old = ptxn_ptep_get(slot);
		next = ptxn_kmod_next(c, old);
		ptxn_kmod_window(c);
		if (!ptxn_pte_same(ptxn_ptep_get(slot), old))
			c->a->in_window++;
		ptxn_set_pte(slot, next);
		c->a->transactions++;
		c->a->entries++;
		return;
	}
	for (i = 0; i < nr; i++)
		pre[i] = ptxn_ptep_get(slot + i);
	if (nr == 1)
		old = ptxn_modify_prot_start(&c->pm, addr, slot);
	else
		old = ptxn_modify_prot_start_ptes(&c->pm, addr, slot, nr);
	next = ptxn_kmod_next(c, old);
	ptxn_kmod_window(c);
	/* CLEAR left the entries empty: the MMU cannot set anything in them (it faults). */
	for (i = 0; live && i < nr; i++) {
		if (!ptxn_pte_same(ptxn_ptep_get(slot + i), pre[i])) {
			c->a->in_window++;
			break;
		}
	}
	if (nr == 1) {
		ptxn_modify_prot_commit(&c->pm, addr, slot, old, next);
	} else {
		ptxn_modify_prot_commit_ptes(&c->pm, addr, slot, old, next, nr);
		c->a->batched++;
	}
	c->a->transactions++;
	c->a->entries += nr;
}

/*
 * apply_to_existing_page_range()'s callback. 6.1's apply_to_pte_range() advances its entry
 * pointer only when it calls us, so after an empty entry every later call would get the
 * previous slot (upstream "mm: fix apply_to_existing_page_range()", 2025). The slot's
 * index must be the address's: refuse the walk otherwise.
 */
static int ptxn_kmod_pte(pte_t *pte, unsigned long addr, void *data)
{
	struct ptxn_kmod_ctx *c = data;
	ptxn_pte_t *slot = (ptxn_pte_t *)pte;
	unsigned int nr;

	if (((unsigned long)pte & ~PAGE_MASK) / sizeof(pte_t) != pte_index(addr))
		return -EILSEQ;
	if (c->skip) {
		c->skip--;
		return 0;
	}
	nr = ptxn_kmod_batch_len(c, slot, addr);
	ptxn_kmod_change(c, slot, addr, nr);
	c->skip = nr - 1;
	return 0;
}

static int ptxn_kmod_query_pte(pte_t *pte, unsigned long addr, void *data)
{
	struct ptxn_kmod_ctx *c = data;
	pte_t k = ptep_get(pte);
	u8 f = 0;

	if (((unsigned long)pte & ~PAGE_MASK) / sizeof(pte_t) != pte_index(addr))
		return -EILSEQ;
	if (pte_present(k))
		f |= PTXN_KMOD_PRESENT;
	if (pte_write(k))
		f |= PTXN_KMOD_WRITE;
	if (pte_dirty(k))
		f |= PTXN_KMOD_DIRTY;
	if (pte_young(k))
		f |= PTXN_KMOD_YOUNG;
	if (pte_devmap(k))
		f |= PTXN_KMOD_DEVMAP;
	if (pte_special(k))
		f |= PTXN_KMOD_SPECIAL;
	c->flags[(addr - c->start) >> PAGE_SHIFT] = f;
	return 0;
}

/* The range must be page-aligned and inside one VMA of the caller, with no huge pages. */
static int ptxn_kmod_walk(struct ptxn_kmod_ctx *c, pte_fn_t fn)
{
	struct mm_struct *mm = current->mm;
	int err = -EFAULT;

	if (!mm || (c->start & ~PAGE_MASK) || (c->end & ~PAGE_MASK) || c->end <= c->start)
		return -EINVAL;
	mmap_read_lock(mm);
	c->vma = find_vma(mm, c->start);
	if (c->vma && c->vma->vm_start <= c->start && c->end <= c->vma->vm_end &&
	    !(c->vma->vm_flags & (VM_HUGETLB | VM_PFNMAP | VM_IO)))
		err = apply_to_existing_page_range(mm, c->start, c->end - c->start, fn, c);
	mmap_read_unlock(mm);
	return err;
}

static long ptxn_kmod_apply(struct ptxn_kmod_apply __user *arg)
{
	struct ptxn_kmod_apply a;
	struct ptxn_kmod_ctx c = { .a = &a };
	int err;

	if (copy_from_user(&a, arg, sizeof(a)))
		return -EFAULT;
	if (a.op > PTXN_KMOD_OP_CLEAN || a.mode > PTXN_KMOD_PLAIN_RMW || a.batch == 0 ||
	    a.batch > PTXN_KMOD_FOLIO_PAGES || (a.batch & (a.batch - 1)) || a.window_ns > 100000)
		return -EINVAL;
	a.entries = a.transactions = a.batched = a.in_window = a.skipped = 0;
	c.start = a.start;
	c.end = a.start + a.len;
	ptxn_mm_init(&c.pm);
	if (a.mode != PTXN_KMOD_PLAIN_RMW)
		ptxn_mm_set_strategy(&c.pm, (enum ptxn_strategy)a.mode);
	/* The quirk flags from the CPU: CET shadow stacks make read-only young entries final. */
	ptxn_mm_set_flags(&c.pm, a.cet && ptxn_kmod_cpu_cet ? PTXN_MM_X86_CET : 0);
	ptxn_mm_set_flush_tlb_range(&c.pm, ptxn_kmod_flush_hook, NULL);
	err = ptxn_kmod_walk(&c, ptxn_kmod_pte);
	/* After the PTE locks are dropped, as mprotect flushes after change_protection(). */
	ptxn_kmod_flush_all();
	a.merge_retries = c.pm.stats.merge_retries;
	a.quiescent = c.pm.stats.quiescent;
	a.broken = c.pm.stats.broken;
	if (copy_to_user(arg, &a, sizeof(a)))
		return -EFAULT;
	return err;
}

static long ptxn_kmod_query(struct ptxn_kmod_query __user *arg)
{
	struct ptxn_kmod_query q;
	struct ptxn_kmod_ctx c = {};
	int err;

	if (copy_from_user(&q, arg, sizeof(q)))
		return -EFAULT;
	if (q.npages == 0 || q.npages > PTXN_KMOD_QUERY_MAX)
		return -EINVAL;
	c.flags = kvzalloc(q.npages, GFP_KERNEL);
	if (!c.flags)
		return -ENOMEM;
	c.start = q.start;
	c.end = q.start + q.npages * PAGE_SIZE;
	err = ptxn_kmod_walk(&c, ptxn_kmod_query_pte);
	if (!err && copy_to_user(u64_to_user_ptr(q.flags), c.flags, q.npages))
		err = -EFAULT;
	kvfree(c.flags);
	return err;
}

static long ptxn_kmod_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct ptxn_kmod_info info = {};

	switch (cmd) {
	case PTXN_KMOD_APPLY:
		return ptxn_kmod_apply((struct ptxn_kmod_apply __user *)arg);
	case PTXN_KMOD_QUERY:
		return ptxn_kmod_query((struct ptxn_kmod_query __user *)arg);
	case PTXN_KMOD_INFO:
		strscpy(info.backend, PTXN_BACKEND_DESCRIPTION, sizeof(info.backend));
		strscpy(info.flush, "full: on_each_cpu(__flush_tlb_all); no ranged flush exported",
			sizeof(info.flush));
		info.cpu_cet = ptxn_kmod_cpu_cet;
		info.saved_dirty_bit = PTXN_X86_SAVED_DIRTY ? __builtin_ctzll(PTXN_X86_SAVED_DIRTY) : 0;
		info.flushes = atomic64_read(&ptxn_kmod_flushes);
		return copy_to_user((void __user *)arg, &info, sizeof(info)) ? -EFAULT : 0;
	}
	return -ENOTTY;
}

/* The folio for the _ptes form: 64 consecutive frames, mapped shared and writable. */
static int ptxn_kmod_mmap(struct file *file, struct vm_area_struct *vma)
{
	return vm_map_pages_zero(vma, ptxn_kmod_pages, PTXN_KMOD_FOLIO_PAGES);
}

static const struct file_operations ptxn_kmod_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = ptxn_kmod_ioctl,
	.mmap = ptxn_kmod_mmap,
};

static struct miscdevice ptxn_kmod_dev = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "ptxn_kmod",
	.fops = &ptxn_kmod_fops,
	.mode = 0600,
};

static int __init ptxn_kmod_init(void)
{
	unsigned int eax, ebx, ecx = 0, edx, i;
	struct page *page;
	int err;

	/* CET shadow stacks: CPUID.(EAX=7,ECX=0):ECX[7] (SDM Vol. 2A CPUID); 6.1 has no flag. */
	if (boot_cpu_data.cpuid_level >= 7)
		cpuid_count(7, 0, &eax, &ebx, &ecx, &edx);
	ptxn_kmod_cpu_cet = ecx & (1u << 7);
	page = alloc_pages(GFP_KERNEL | __GFP_ZERO, PTXN_KMOD_FOLIO_ORDER);
	if (!page)
		return -ENOMEM;
	split_page(page, PTXN_KMOD_FOLIO_ORDER); /* vm_insert_page() wants order-0 pages */
	for (i = 0; i < PTXN_KMOD_FOLIO_PAGES; i++)
		ptxn_kmod_pages[i] = page + i;
	err = misc_register(&ptxn_kmod_dev);
	if (err) {
		for (i = 0; i < PTXN_KMOD_FOLIO_PAGES; i++)
			__free_page(ptxn_kmod_pages[i]);
		return err;
	}
	pr_info("ptxn_kmod: ptxn %s, %s, CET %s\n", PTXN_VERSION_STRING,
		PTXN_BACKEND_DESCRIPTION, ptxn_kmod_cpu_cet ? "yes" : "no");
	return 0;
}

static void __exit ptxn_kmod_exit(void)
{
	unsigned int i;

	misc_deregister(&ptxn_kmod_dev);
	for (i = 0; i < PTXN_KMOD_FOLIO_PAGES; i++)
		__free_page(ptxn_kmod_pages[i]);
}

module_init(ptxn_kmod_init);
module_exit(ptxn_kmod_exit);
MODULE_LICENSE("Dual MIT/GPL");
MODULE_DESCRIPTION("ptxn page-table-entry transactions: test module and example");
