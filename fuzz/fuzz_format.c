/* SPDX-License-Identifier: MIT */
/*
 * fuzz/fuzz_format.c - libFuzzer harness over one entry format's value layer: the
 * constructors, predicates, mk* modifiers, ptxn_pte_modify and the merge rule
 * (generic/pte.h's ptxn_arch_pte_merge_hw), on entries built from random frames,
 * protections and operation sequences. Compiled once per format (fuzz/meson.build,
 * tools/ptxn_tools/fuzz.py): -DPTXN_FORMAT_X86 (-DPTXN_X86_PAE=0/1), _ARM64, _POWERPC, _RISCV.
 *
 * Input: pfn (8 bytes), protection (flags, attribute picks), then up to 24 operations of
 * 3 bytes (op, argument, argument). Invariants checked after every step:
 *   - no reserved bit is ever set; the entry stays in normal form (fuzz_common.h);
 *   - the frame is kept (except by ptxn_pte_advance_pfn, which moves it by exactly nr);
 *   - young and dirty are never lost by a modify, wrprotect, mkwrite;
 *   - each mk* does what it says and nothing else; predicates match the reference;
 *   - round trips are exact: storage byte order, pfn_pte/pte_pfn, protection flags,
 *     wrprotect/mkwrite, modify there and back, mkyoung/mkold, mkdirty/mkclean;
 *   - merge_hw(next, start, now) equals new | (A/D the hardware set between start and
 *     now), with the CET and ARM64 dirty placement (ref_merge).
 */
#include "fuzz_common.h"

static uint64_t pte_storage(uint64_t v)
{
	return ptxn_make_pte(v).storage;
}

/* Value-level predicates against the reference, for an entry built by the API. */
static void check_predicates(uint64_t v)
{
	ptxn_pte_t pte = ptxn_make_pte(v);

	FUZZ_EQ(ptxn_pte_young(pte), ref_young(v), "ptxn_pte_young");
	FUZZ_EQ(ptxn_pte_dirty(pte), ref_dirty(v), "ptxn_pte_dirty");
	FUZZ_EQ(ptxn_pte_write(pte), ref_write(v), "ptxn_pte_write");
	FUZZ_EQ(ptxn_pte_hw_valid(pte), (v & REF_HW_VALID) != 0, "ptxn_pte_hw_valid");
	FUZZ_EQ(ptxn_pte_quiescent(pte), ref_quiescent(v), "ptxn_pte_quiescent");
	FUZZ_EQ(ptxn_pte_pfn(pte), ref_pfn(v), "ptxn_pte_pfn");
	FUZZ_CHECK(ptxn_pte_present(pte), "an entry built by the API is not present: 0x%016llx",
		   (unsigned long long)v);
	FUZZ_CHECK(!ptxn_pte_none(pte), "an entry built by the API is none: 0x%016llx",
		   (unsigned long long)v);
	REF_CHECK_ENTRY(v, "entry");
}

/* Storage round trip: byte order is the format's, the value comes back exactly. */
static void check_storage(uint64_t raw)
{
	bool swapped = PTXN_ARCH_PTE_BIG_ENDIAN != PTXN_HOST_BIG_ENDIAN;

	FUZZ_EQ(pte_storage(raw), swapped ? __builtin_bswap64(raw) : raw, "storage byte order");
	FUZZ_EQ(ptxn_pte_val(ptxn_make_pte(raw)), raw, "ptxn_pte_val(ptxn_make_pte(v))");
}

/*
 * Everything but `allowed` must be unchanged by an operation (the frame field of a
 * PROT_NONE x86 entry flips as a whole when P changes, so callers pass it when P may).
 */
static void check_only(uint64_t before, uint64_t after, uint64_t allowed, const char *what)
{
	FUZZ_CHECK(((before ^ after) & ~allowed) == 0,
		   "%s changed bits 0x%016llx outside 0x%016llx (0x%016llx -> 0x%016llx)", what,
		   (unsigned long long)((before ^ after) & ~allowed), (unsigned long long)allowed,
		   (unsigned long long)before, (unsigned long long)after);
}

/* The A/D-state bits of the format (hardware young/dirty, software dirty, AP[2] on ARM64). */
#if defined(PTXN_FORMAT_X86)
#define AD_BITS (PTXN_X86_ACCESSED | PTXN_X86_DIRTY | PTXN_X86_SAVED_DIRTY)
#elif defined(PTXN_FORMAT_ARM64)
#define AD_BITS (PTXN_ARM64_AF | PTXN_ARM64_RDONLY | PTXN_ARM64_SW_DIRTY)
#elif defined(PTXN_FORMAT_RISCV)
#define AD_BITS (PTXN_RISCV_A | PTXN_RISCV_D)
/* mkwrite sets R with W: W without R is reserved (priv 20211203 4.3.1) */
#define MKWRITE_ADDS PTXN_RISCV_R
#else
#define AD_BITS (PTXN_PPC_REFERENCE | PTXN_PPC_CHANGE)
#endif

#ifndef MKWRITE_ADDS
#define MKWRITE_ADDS 0 /* beyond the write permission itself */
#endif

/*
 * What the hardware may add to `start` (an entry in normal form): young when not young,
 * dirty when not dirty and the MMU could record it (a hardware-valid entry; on ARM64 only
 * with DBM=1, since the update is checked against the descriptor in memory). Pre-CET x86
 * and PowerPC may set D/C through a stale writable TLB entry even in a read-only one.
 */
static void check_merge(uint64_t start, uint64_t next, uint8_t what)
{
	bool valid = (start & REF_HW_VALID) != 0;
	bool young = valid && (what & 1) && !ref_young(start);
	bool dirty = valid && (what & 2) && !ref_hw_dirty(start);
	uint64_t now;

#if defined(PTXN_FORMAT_ARM64)
	dirty = dirty && (start & PTXN_ARM64_DBM);
#elif defined(PTXN_FORMAT_RISCV)
	dirty = dirty && (start & PTXN_RISCV_W); /* checked against W in memory (4.3.2 step 7) */
#endif
	/* Every MMU sets young with (or before) dirty: A|D, AF with AP[2], R|C. */
	young = young || (dirty && !ref_young(start));
	now = ref_hw_set(start, young, dirty);
	FUZZ_EQ(ptxn_arch_pte_merge_hw(next, start, now), ref_merge(next, young, dirty),
		"merge_hw(next, start, start + hardware A/D)");
	/* The CLEAR strategy's break: unusable by the MMU, quiescent only if nothing can land. */
	{
		ptxn_pte_t slot = ptxn_make_pte(start);
		uint64_t was = ptxn_arch_pte_from_storage(ptxn_txn_break(&slot));
		uint64_t broken = ptxn_pte_val(slot);

		FUZZ_EQ(was, start, "break returns the entry");
		FUZZ_CHECK(!(broken & REF_HW_VALID), "a broken entry is still valid: 0x%016llx",
			   (unsigned long long)broken);
		FUZZ_EQ(ptxn_arch_pte_quiescent(0, broken), ref_quiescent(broken),
			"quiescent of a broken entry");
	}
	/* No hardware update: the merge must return next unchanged. */
	FUZZ_EQ(ptxn_arch_pte_merge_hw(next, start, start), next, "merge_hw without an update");
	/* strip_hw: no young, no hardware dirty, the software dirty bit kept. */
	{
		uint64_t s = ptxn_arch_pte_strip_hw(now);

		FUZZ_CHECK(!ref_young(s) && !ref_hw_dirty(s),
			   "strip_hw left A/D: 0x%016llx -> 0x%016llx", (unsigned long long)now,
			   (unsigned long long)s);
		check_only(now, s, AD_BITS & ~(uint64_t)REF_SW_DIRTY, "strip_hw");
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fuzz_in in = {data, size};
	uint64_t pfn = fuzz_pfn(&in), v, cur_prot;
	unsigned flags, nops, i;
	ptxn_prot_t prot = fuzz_prot(&in, &flags);
	bool prot_exact = true; /* v's protection bits are exactly cur_prot's */

	snprintf(fuzz_trace, sizeof(fuzz_trace), "pfn 0x%llx prot 0x%016llx flags 0x%x",
		 (unsigned long long)pfn, (unsigned long long)prot.bits, flags);

	/* Constructors and the frame round trip. */
	v = ptxn_pte_val(ptxn_pfn_pte(pfn, prot));
	FUZZ_EQ(ref_pfn(v), pfn, "pfn of ptxn_pfn_pte(pfn, prot)");
	FUZZ_EQ(ptxn_pte_prot_flags(ptxn_make_pte(v)),
		(v & REF_HW_VALID) ? ptxn_prot_normalize(flags) : 0, "ptxn_pte_prot_flags round trip");
	FUZZ_CHECK(!ref_young(v) && !ref_dirty(v), "a new entry is not old and clean: 0x%016llx",
		   (unsigned long long)v);
	check_storage(v);
	check_predicates(v);
	cur_prot = prot.bits;

	nops = fuzz_u8(&in) % 25;
	for (i = 0; i < nops; i++) {
		uint8_t op = fuzz_u8(&in), a = fuzz_u8(&in), b = fuzz_u8(&in);
		uint64_t r, back;
		size_t len = strlen(fuzz_trace);

		if (len < sizeof(fuzz_trace) - 16)
			snprintf(fuzz_trace + len, sizeof(fuzz_trace) - len, " op%u(%u,%u)",
				 op % 10u, a, b);
		switch (op % 10u) {
		case 0: /* mkyoung: young, nothing else changes; mkold undoes it exactly */
			r = ptxn_arch_pte_mkyoung(v);
			FUZZ_CHECK(ref_young(r), "mkyoung did not make it young");
			check_only(v, r, REF_YOUNG, "mkyoung");
			if (!ref_young(v))
				FUZZ_EQ(ptxn_arch_pte_mkold(r), v, "mkold(mkyoung(v))");
			break;
		case 1: /* mkold */
			r = ptxn_arch_pte_mkold(v);
			FUZZ_CHECK(!ref_young(r), "mkold left it young");
			check_only(v, r, REF_YOUNG, "mkold");
			if (ref_young(v))
				FUZZ_EQ(ptxn_arch_pte_mkyoung(r), v, "mkyoung(mkold(v))");
			break;
		case 2: /* mkdirty: dirty where the writability says (CET, DBM rules) */
			r = ptxn_arch_pte_mkdirty(v);
			FUZZ_EQ(r, ref_sw_mkdirty(v), "mkdirty");
			FUZZ_CHECK(ref_dirty(r), "mkdirty did not make it dirty");
			if (!ref_dirty(v))
				FUZZ_EQ(ptxn_arch_pte_mkclean(r), v, "mkclean(mkdirty(v))");
			break;
		case 3: /* mkclean: no dirtiness in any encoding; writable stays writable */
			r = ptxn_arch_pte_mkclean(v);
			FUZZ_CHECK(!ref_dirty(r), "mkclean left it dirty: 0x%016llx",
				   (unsigned long long)r);
			FUZZ_EQ(ref_write(r), ref_write(v), "write after mkclean");
			check_only(v, r, AD_BITS & ~(uint64_t)REF_YOUNG, "mkclean");
			if (ref_dirty(v))
				FUZZ_EQ(ptxn_arch_pte_mkdirty(r), v, "mkdirty(mkclean(v))");
			break;
		case 4: /* wrprotect: read-only, dirtiness kept (moved to the software bit) */
			r = ptxn_arch_pte_wrprotect(v);
			FUZZ_CHECK(!ref_write(r), "wrprotect left it writable");
			FUZZ_EQ(ref_dirty(r), ref_dirty(v), "dirty after wrprotect");
			FUZZ_EQ(ref_young(r), ref_young(v), "young after wrprotect");
			if (ref_write(v))
				FUZZ_EQ(ptxn_arch_pte_mkwrite(r), v, "mkwrite(wrprotect(v))");
			prot_exact = prot_exact && !ref_write(v);
			break;
		case 5: /* mkwrite: writable, dirtiness kept (moved back to hardware encoding) */
			r = ptxn_arch_pte_mkwrite(v);
			FUZZ_CHECK(ref_write(r), "mkwrite left it read-only");
			FUZZ_EQ(ref_dirty(r), ref_dirty(v), "dirty after mkwrite");
			FUZZ_EQ(ref_young(r), ref_young(v), "young after mkwrite");
			if (!ref_write(v))
				FUZZ_EQ(ptxn_arch_pte_wrprotect(r), v | MKWRITE_ADDS, "wrprotect(mkwrite(v))");
			prot_exact = prot_exact && ref_write(v);
			break;
		case 6:
		case 7: { /* pte_modify: the protection replaced, frame and A/D state kept */
			unsigned nflags;
			struct fuzz_in pin = {(const uint8_t[]){a, b}, 2};
			ptxn_prot_t np = fuzz_prot(&pin, &nflags);

			r = ptxn_pte_val(ptxn_pte_modify(ptxn_make_pte(v), np));
			FUZZ_EQ(ref_pfn(r), ref_pfn(v), "pfn after pte_modify");
			FUZZ_EQ(ref_young(r), ref_young(v), "young after pte_modify");
			FUZZ_EQ(ref_dirty(r), ref_dirty(v), "dirty after pte_modify");
			FUZZ_EQ(ptxn_pte_prot_flags(ptxn_make_pte(r)),
				(r & REF_HW_VALID) ? ptxn_prot_normalize(nflags) : 0,
				"protection flags after pte_modify");
			FUZZ_EQ(ptxn_arch_pte_modify(r, np.bits), r, "pte_modify twice");
			if (prot_exact) {
				back = ptxn_arch_pte_modify(r, cur_prot);
				FUZZ_EQ(back, v, "pte_modify there and back");
			}
			cur_prot = np.bits;
			prot_exact = true;
			break;
		}
		case 8: { /* advance_pfn: the frame moves by exactly nr, nothing else changes */
			uint64_t nr = a % 17u, p = ref_pfn(v);

			if (p + nr > PTXN_PFN_MAX)
				nr = PTXN_PFN_MAX - p;
			r = ptxn_pte_val(ptxn_pte_advance_pfn(ptxn_make_pte(v), nr));
			FUZZ_EQ(ref_pfn(r), p + nr, "pfn after advance_pfn");
			check_only(v, r, PTXN_ARCH_PTE_PFN_MASK, "advance_pfn");
			break;
		}
		default: /* merge_hw against the reference, next from an operation on v */
			r = v;
			check_merge(v, (b & 1) ? ptxn_arch_pte_mkold(v) :
				    (b & 2) ? ptxn_arch_pte_wrprotect(v) :
				    (b & 4) ? ptxn_arch_pte_mkclean(v) : ptxn_arch_pte_mkwrite(v), a);
			break;
		}
		if (op % 10u != 8)
			FUZZ_EQ(ref_pfn(r), pfn, "pfn kept");
		pfn = ref_pfn(r);
		check_storage(r);
		check_predicates(r);
		v = r;
	}
	return 0;
}
