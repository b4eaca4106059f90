/* SPDX-License-Identifier: MIT */
/*
 * ptxn/hwemu/phys.h - simulated physical memory: backed table pages (with a
 * per-slot counter block and the checker's snapshot for each), and data frames that have
 * numbers but no memory. The page tables built in it are aspace.h's.
 *
 * Part of <ptxn/hwemu.h>; includes the parts it uses (docs/hwemu.md has the tree).
 */
#ifndef PTXN_HWEMU_PHYS_H
#define PTXN_HWEMU_PHYS_H

#include "types.h"   /* sizes, struct ptxn_hwemu_slot_stats */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

PTXN_EXTERN_C_BEGIN

/* ---- simulated physical memory --------------------------------------------------------- */

struct ptxn_hwemu_phys {
	unsigned char *mem;         /* npages backed pages: tables live here */
	uint64_t base, npages;
	unsigned char *used;        /* per page: 1 if allocated */
	struct ptxn_hwemu_slot_stats **stats; /* per page: 512 counters while it is a table */
	ptxn_pteval_t **initial;    /* per page: the checker's snapshot */
	uint64_t data_next;         /* next data frame (not backed) */
	pthread_mutex_t lock;
};

PTXN_HWEMU_FUNC bool ptxn_hwemu_phys_init(struct ptxn_hwemu_phys *phys, uint64_t npages)
{
	memset(phys, 0, sizeof(*phys));
	phys->mem = (unsigned char *)aligned_alloc(PTXN_HWEMU_PAGE_SIZE,
						   (size_t)npages * PTXN_HWEMU_PAGE_SIZE);
	phys->used = (unsigned char *)calloc((size_t)npages, 1);
	phys->stats = (struct ptxn_hwemu_slot_stats **)calloc((size_t)npages, sizeof(void *));
	phys->initial = (ptxn_pteval_t **)calloc((size_t)npages, sizeof(void *));
	if (!phys->mem || !phys->used || !phys->stats || !phys->initial) {
		free(phys->mem), free(phys->used), free(phys->stats), free(phys->initial);
		return false;
	}
	memset(phys->mem, 0, (size_t)npages * PTXN_HWEMU_PAGE_SIZE);
	phys->base = PTXN_HWEMU_PHYS_BASE;
	phys->npages = npages;
	phys->data_next = PTXN_HWEMU_DATA_BASE;
	pthread_mutex_init(&phys->lock, NULL);
	return true;
}

PTXN_HWEMU_FUNC void ptxn_hwemu_phys_fini(struct ptxn_hwemu_phys *phys)
{
	uint64_t i;

	for (i = 0; i < phys->npages; i++) {
		free(phys->stats[i]);
		free(phys->initial[i]);
	}
	free(phys->mem), free(phys->used), free(phys->stats), free(phys->initial);
	pthread_mutex_destroy(&phys->lock);
	memset(phys, 0, sizeof(*phys));
}

/* pa -> pointer for backed memory, else NULL. */
PTXN_HWEMU_FUNC void *ptxn_hwemu_phys_ptr(const struct ptxn_hwemu_phys *phys, uint64_t pa)
{
	if (pa < phys->base || pa - phys->base >= phys->npages * PTXN_HWEMU_PAGE_SIZE)
		return NULL;
	return phys->mem + (size_t)(pa - phys->base);
}

PTXN_HWEMU_FUNC uint64_t ptxn_hwemu_phys_pa(const struct ptxn_hwemu_phys *phys, const void *ptr)
{
	return phys->base + (uint64_t)((const unsigned char *)ptr - phys->mem);
}

/* Allocate n zeroed table pages aligned to align pages; returns their PA, 0 if none. */
PTXN_HWEMU_FUNC uint64_t ptxn_hwemu_phys_alloc_table(struct ptxn_hwemu_phys *phys, uint64_t n,
						     uint64_t align)
{
	uint64_t first, i, pa = 0;

	if (!align)
		align = 1;
	pthread_mutex_lock(&phys->lock);
	for (first = 0; first + n <= phys->npages; first += align) {
		for (i = 0; i < n && !phys->used[first + i]; i++)
			;
		if (i < n)
			continue;
		for (i = 0; i < n; i++) {
			phys->used[first + i] = 1;
			phys->stats[first + i] = (struct ptxn_hwemu_slot_stats *)calloc(
				PTXN_HWEMU_PAGE_SIZE / 8, sizeof(struct ptxn_hwemu_slot_stats));
		}
		memset(phys->mem + first * PTXN_HWEMU_PAGE_SIZE, 0, (size_t)n * PTXN_HWEMU_PAGE_SIZE);
		pa = phys->base + first * PTXN_HWEMU_PAGE_SIZE;
		break;
	}
	pthread_mutex_unlock(&phys->lock);
	return pa;
}

PTXN_HWEMU_FUNC void ptxn_hwemu_phys_free(struct ptxn_hwemu_phys *phys, uint64_t pa, uint64_t n)
{
	uint64_t first = (pa - phys->base) / PTXN_HWEMU_PAGE_SIZE, i;

	pthread_mutex_lock(&phys->lock);
	for (i = first; i < first + n && i < phys->npages; i++) {
		phys->used[i] = 0;
		free(phys->stats[i]);
		phys->stats[i] = NULL;
		free(phys->initial[i]);
		phys->initial[i] = NULL;
	}
	pthread_mutex_unlock(&phys->lock);
}

/* Frames for data pages: real frame numbers, no memory behind them (agents only translate). */
PTXN_HWEMU_FUNC uint64_t ptxn_hwemu_phys_alloc_data(struct ptxn_hwemu_phys *phys, uint64_t n,
						    uint64_t align)
{
	uint64_t pa, bytes = (align ? align : 1) * PTXN_HWEMU_PAGE_SIZE;

	pthread_mutex_lock(&phys->lock);
	pa = (phys->data_next + bytes - 1) & ~(bytes - 1);
	phys->data_next = pa + n * PTXN_HWEMU_PAGE_SIZE;
	pthread_mutex_unlock(&phys->lock);
	return pa;
}

PTXN_HWEMU_FUNC struct ptxn_hwemu_slot_stats *ptxn_hwemu_phys_stats(const struct ptxn_hwemu_phys *phys,
								    uint64_t slot_pa)
{
	uint64_t page;

	if (slot_pa < phys->base)
		return NULL;
	page = (slot_pa - phys->base) / PTXN_HWEMU_PAGE_SIZE;
	if (page >= phys->npages || !phys->stats[page])
		return NULL;
	return &phys->stats[page][(slot_pa % PTXN_HWEMU_PAGE_SIZE) / 8];
}

PTXN_HWEMU_FUNC void *ptxn_hwemu_phys_to_ptr_cb(void *ctx, uint64_t pa)
{
	return ptxn_hwemu_phys_ptr((const struct ptxn_hwemu_phys *)ctx, pa);
}

PTXN_EXTERN_C_END

#endif /* PTXN_HWEMU_PHYS_H */
