/* SPDX-License-Identifier: MIT */
/*
 * fuzz/fuzz_common.h - what the ptxn fuzz harnesses share: the input reader, the failure
 * report, the entry generator, and the *reference model* of the young/dirty rules that
 * the library's results are compared against.
 *
 * The reference model is written here from the architecture rules (docs/api.md,
 * docs/strategies.md, the comments of arch/<arch>/pte.h and hwemu/<arch>/mmu.h), with raw
 * bit masks only, never by calling the ptxn_arch_* function it checks: a check that asks
 * the library what the answer should be cannot fail.
 *
 * Build modes (one source, compiled once per entry format):
 *  - libFuzzer (clang -fsanitize=fuzzer): a broken invariant prints what broke and aborts;
 *    libFuzzer saves the reproducer (tools/ptxn_tools/fuzz.py prints its path);
 *  - replay (PTXN_FUZZ_REPLAY, any C compiler, fuzz/replay_main.c): a broken invariant
 *    longjmps back to the driver, which reports a failing TAP subtest;
 *  - PTXN_FUZZ_BROKEN_MERGE (either mode): the library's merge rule is replaced by one
 *    that drops a dirty update, to prove the harnesses catch a lost update.
 */
#ifndef PTXN_FUZZ_COMMON_H
#define PTXN_FUZZ_COMMON_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef PTXN_FUZZ_BROKEN_MERGE
#include "../tests/broken_merge.h" /* before the library: the override is announced */
#endif

#include <ptxn/ptxn.h>
#include "../hwemu/mmu.h" /* the freestanding walkers only: no threads, no allocation */

#ifdef PTXN_FUZZ_BROKEN_MERGE
#include "../tests/broken_merge.h" /* after: the deliberate bug is defined */
#endif

#if defined(PTXN_FORMAT_X86) && PTXN_X86_PAE
#define FUZZ_FORMAT "x86-pae"
#else
#define FUZZ_FORMAT PTXN_FORMAT_NAME
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Helpers: not every harness uses every one. */
#define FUZZ_FN static __attribute__((unused))

/* ---- failure report ------------------------------------------------------------------ */
#ifdef PTXN_FUZZ_REPLAY
#include <setjmp.h>
extern jmp_buf fuzz_replay_jmp;
#endif

/* Set by a harness while it runs one input: printed with every failure. */
static char fuzz_trace[512];

__attribute__((format(printf, 3, 4), noreturn)) static void fuzz_fail(const char *file, int line,
								       const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ptxn fuzz [%s]: invariant broken at %s:%d: ", FUZZ_FORMAT, file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n  case: %s\n", fuzz_trace);
#ifdef PTXN_FUZZ_REPLAY
	longjmp(fuzz_replay_jmp, 1);
#else
	abort();
#endif
}

#define FUZZ_CHECK(cond, ...)                                                                   \
	do {                                                                                    \
		if (!(cond))                                                                    \
			fuzz_fail(__FILE__, __LINE__, __VA_ARGS__);                             \
	} while (0)
#define FUZZ_EQ(got, want, what)                                                                \
	FUZZ_CHECK((uint64_t)(got) == (uint64_t)(want), "%s: got 0x%016llx, want 0x%016llx",   \
		   (what), (unsigned long long)(got), (unsigned long long)(want))

/* ---- input reader: past the end every read is 0, so every input is a valid case ------ */
struct fuzz_in {
	const uint8_t *p;
	size_t n;
};

FUZZ_FN uint8_t fuzz_u8(struct fuzz_in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

FUZZ_FN uint64_t fuzz_u64(struct fuzz_in *in)
{
	uint64_t v = 0;
	int i;

	for (i = 0; i < 8; i++)
		v |= (uint64_t)fuzz_u8(in) << (8 * i);
	return v;
}

/* ---- the reference model, per format, from the architecture rules ---------------------- */
#if defined(PTXN_FORMAT_X86)
#define REF_YOUNG PTXN_X86_ACCESSED
#define REF_HW_VALID PTXN_X86_PRESENT
#define REF_WRITE PTXN_X86_RW
#define REF_SW_DIRTY PTXN_X86_SAVED_DIRTY
/* Attribute bits a caller may add to a protection: cache type, global, software bits 9/11. */
static const uint64_t ref_extras[] = {PTXN_X86_PWT, PTXN_X86_PCD, PTXN_X86_PAT, PTXN_X86_GLOBAL,
				      UINT64_C(1) << 9, UINT64_C(1) << 11};
FUZZ_FN bool ref_hw_dirty(uint64_t v) { return (v & PTXN_X86_DIRTY) != 0; }
/* What the MMU's own update does (SDM 4.8): set A, and D for a write. */
FUZZ_FN uint64_t ref_hw_set(uint64_t v, bool young, bool dirty)
{
	return v | (young ? PTXN_X86_ACCESSED : 0) | (dirty ? PTXN_X86_DIRTY : 0);
}
/* Software marking dirty: D if writable, else SavedDirty; never R/W=0,D=1 (CET). */
FUZZ_FN uint64_t ref_sw_mkdirty(uint64_t v)
{
	if (v & PTXN_X86_RW)
		return (v & ~PTXN_X86_SAVED_DIRTY) | PTXN_X86_DIRTY;
	return v | PTXN_X86_SAVED_DIRTY;
}
/* L1TF: the frame is stored inverted in a non-zero, not-present entry. */
FUZZ_FN uint64_t ref_pfn(uint64_t v)
{
	uint64_t field = (v && !(v & PTXN_X86_PRESENT)) ? ~v : v;

	return (field & PTXN_X86_PFN_MASK) >> 12;
}
/* Final: not present, or A and D both set (docs/strategies.md). */
FUZZ_FN bool ref_quiescent(uint64_t v)
{
	return !(v & PTXN_X86_PRESENT) || ((v & PTXN_X86_ACCESSED) && (v & PTXN_X86_DIRTY));
}
/* Normal form: writable -> no SavedDirty; read-only -> no D (CET shadow-stack look-alike). */
FUZZ_FN const char *ref_abnormal(uint64_t v)
{
	if ((v & PTXN_X86_RW) && (v & PTXN_X86_SAVED_DIRTY))
		return "writable entry with SavedDirty";
	if (!(v & PTXN_X86_RW) && (v & PTXN_X86_DIRTY))
		return "R/W=0 with D=1 (a CET shadow-stack page)";
	return NULL;
}
#define REF_RESERVED (PTXN_X86_PAE ? (UINT64_C(0x7ff) << 52) : 0)

#elif defined(PTXN_FORMAT_ARM64)
#define REF_YOUNG PTXN_ARM64_AF
#define REF_HW_VALID PTXN_ARM64_VALID
#define REF_WRITE PTXN_ARM64_DBM
#define REF_SW_DIRTY PTXN_ARM64_SW_DIRTY
static const uint64_t ref_extras[] = {PTXN_ARM64_NG, PTXN_ARM64_GP, PTXN_ARM64_SPECIAL,
				      PTXN_ARM64_CONT, PTXN_ARM64_ATTRINDX(1), PTXN_ARM64_NS};
/* Hardware dirty: DBM=1 and AP[2]=0 (Arm ARM, hardware management of the dirty state). */
FUZZ_FN bool ref_hw_dirty(uint64_t v)
{
	return (v & PTXN_ARM64_DBM) && !(v & PTXN_ARM64_RDONLY);
}
/* The MMU sets AF, and records dirty by clearing AP[2] (only ever with DBM=1). */
FUZZ_FN uint64_t ref_hw_set(uint64_t v, bool young, bool dirty)
{
	if (young)
		v |= PTXN_ARM64_AF;
	if (dirty)
		v &= ~PTXN_ARM64_RDONLY;
	return v;
}
/* Software marking dirty: AP[2]=0 if DBM (writable), else the software bit 55. */
FUZZ_FN uint64_t ref_sw_mkdirty(uint64_t v)
{
	if (v & PTXN_ARM64_DBM)
		return v & ~(PTXN_ARM64_RDONLY | PTXN_ARM64_SW_DIRTY);
	return v | PTXN_ARM64_SW_DIRTY;
}
FUZZ_FN uint64_t ref_pfn(uint64_t v) { return (v & PTXN_ARM64_OA_MASK) >> 12; }
/* Final: invalid, or AF=1 and (hardware dirty, or DBM=0: the dirty update needs DBM in memory). */
FUZZ_FN bool ref_quiescent(uint64_t v)
{
	if (!(v & PTXN_ARM64_VALID))
		return true;
	return (v & PTXN_ARM64_AF) && (ref_hw_dirty(v) || !(v & PTXN_ARM64_DBM));
}
/* Normal form: writable -> no bit 55; read-only -> AP[2]=1 (else it would be writable). */
FUZZ_FN const char *ref_abnormal(uint64_t v)
{
	if ((v & PTXN_ARM64_DBM) && (v & PTXN_ARM64_SW_DIRTY))
		return "writable (DBM) entry with the software dirty bit";
	if (!(v & PTXN_ARM64_DBM) && !(v & PTXN_ARM64_RDONLY))
		return "DBM=0 with AP[2]=0: writable without write permission";
	return NULL;
}
#define REF_RESERVED PTXN_ARM64_RES0_MASK

#elif defined(PTXN_FORMAT_POWERPC)
#define REF_YOUNG PTXN_PPC_REFERENCE
#define REF_HW_VALID PTXN_PPC_VALID
#define REF_WRITE PTXN_PPC_WRITE
#define REF_SW_DIRTY 0
static const uint64_t ref_extras[] = {PTXN_PPC_SPECIAL, PTXN_PPC_SOFT_DIRTY,
				      UINT64_C(1) << 4 /* ATT: SAO */, UINT64_C(1) << 11};
FUZZ_FN bool ref_hw_dirty(uint64_t v) { return (v & PTXN_PPC_CHANGE) != 0; }
FUZZ_FN uint64_t ref_hw_set(uint64_t v, bool young, bool dirty)
{
	return v | (young ? PTXN_PPC_REFERENCE : 0) | (dirty ? PTXN_PPC_CHANGE : 0);
}
/* C means dirty in any entry: no software bit. */
FUZZ_FN uint64_t ref_sw_mkdirty(uint64_t v) { return v | PTXN_PPC_CHANGE; }
FUZZ_FN uint64_t ref_pfn(uint64_t v) { return (v & PTXN_PPC_RPN_MASK) >> 12; }
/*
 * Final: R=1 and C=1; an invalid entry only when empty (a late R/C write-back may still
 * land in a broken one, docs/strategies.md).
 */
FUZZ_FN bool ref_quiescent(uint64_t v)
{
	if (!(v & PTXN_PPC_VALID))
		return !(v & ~(PTXN_PPC_REFERENCE | PTXN_PPC_CHANGE));
	return (v & PTXN_PPC_REFERENCE) && (v & PTXN_PPC_CHANGE);
}
FUZZ_FN const char *ref_abnormal(uint64_t v)
{
	(void)v;
	return NULL;
}
#define REF_RESERVED PTXN_PPC_RESERVED_MASK

#elif defined(PTXN_FORMAT_RISCV)
#define REF_YOUNG PTXN_RISCV_A
#define REF_HW_VALID PTXN_RISCV_V
#define REF_WRITE PTXN_RISCV_W
#define REF_SW_DIRTY 0
/* RSW bits (Linux special, devmap) and a Svpbmt memory type a caller may add. */
static const uint64_t ref_extras[] = {PTXN_RISCV_SPECIAL, PTXN_RISCV_DEVMAP, PTXN_RISCV_PBMT_NC};
FUZZ_FN bool ref_hw_dirty(uint64_t v) { return (v & PTXN_RISCV_D) != 0; }
/* Svadu (priv 20211203 4.3.2 step 7): set A, and D for a store. */
FUZZ_FN uint64_t ref_hw_set(uint64_t v, bool young, bool dirty)
{
	return v | (young ? PTXN_RISCV_A : 0) | (dirty ? PTXN_RISCV_D : 0);
}
/* D means dirty on any entry: no software bit. */
FUZZ_FN uint64_t ref_sw_mkdirty(uint64_t v) { return v | PTXN_RISCV_D; }
/* The PPN field holds the frame number itself, from bit 10 (4.4). */
FUZZ_FN uint64_t ref_pfn(uint64_t v) { return (v & PTXN_RISCV_PPN_MASK) >> 10; }
/* Final: V=0, or A=1 and (D=1, or W=0: the D update re-checks W in memory). */
FUZZ_FN bool ref_quiescent(uint64_t v)
{
	if (!(v & PTXN_RISCV_V))
		return true;
	return (v & PTXN_RISCV_A) && ((v & PTXN_RISCV_D) || !(v & PTXN_RISCV_W));
}
/* W without R is a reserved encoding (4.3.1). */
FUZZ_FN const char *ref_abnormal(uint64_t v)
{
	if ((v & (PTXN_RISCV_R | PTXN_RISCV_W)) == PTXN_RISCV_W)
		return "W=1 with R=0 (reserved)";
	return NULL;
}
/* Bits 54-60, and N: Svnapot is refused by ptxn (arch/riscv/pte.h). */
#define REF_RESERVED (PTXN_RISCV_RESERVED_MASK | PTXN_RISCV_N)
#endif

#define REF_NEXTRAS (sizeof(ref_extras) / sizeof(ref_extras[0]))

/*
 * What a transaction's start leaves of a live entry: ARM64 unfolds a contiguous block it
 * changes part of (core/steps.h), so a live CONT entry comes back without CONT; the
 * harnesses' other block members are empty, so the block's A/D are the entries' own.
 */
FUZZ_FN uint64_t ref_unfolded(uint64_t v)
{
#if defined(PTXN_FORMAT_ARM64)
	if (v & PTXN_ARM64_VALID)
		return v & ~PTXN_ARM64_CONT;
#endif
	return v;
}

/* Does start break this entry (ARM64, Cortex-A715 erratum 2645198: valid and UXN=0)? */
FUZZ_FN bool ref_start_breaks(unsigned mm_flags, uint64_t v)
{
#if defined(PTXN_FORMAT_ARM64)
	return (mm_flags & PTXN_MM_ERRATUM_ARM64_2645198) && (v & PTXN_ARM64_VALID) &&
	       !(v & PTXN_ARM64_UXN);
#else
	(void)mm_flags, (void)v;
	return false;
#endif
}

/* What a commit installs of a new entry: ARM64 never a live CONT entry in part of a block
 * (the harnesses commit 1-4 entries, never a whole block of 16). */
FUZZ_FN uint64_t ref_committed(uint64_t v)
{
	return ref_unfolded(v);
}

FUZZ_FN bool ref_young(uint64_t v) { return (v & REF_YOUNG) != 0; }
FUZZ_FN bool ref_write(uint64_t v) { return (v & REF_WRITE) != 0; }
FUZZ_FN bool ref_dirty(uint64_t v) { return ref_hw_dirty(v) || (v & REF_SW_DIRTY) != 0; }

/*
 * The commit merge rule: new | (A/D set since start), where a dirty update lands where
 * new's writability says (x86: SavedDirty in a read-only entry, never R/W=0,D=1; ARM64:
 * AP[2] cleared if DBM, else bit 55; PowerPC: C).
 */
FUZZ_FN uint64_t ref_merge(uint64_t next, bool young_since, bool dirty_since)
{
	if (young_since)
		next |= REF_YOUNG;
	if (dirty_since)
		next = ref_sw_mkdirty(next);
	return next;
}

/* Which A/D state an update from `before` to `after` added. */
FUZZ_FN void ref_gained(uint64_t before, uint64_t after, bool *young, bool *dirty)
{
	if (ref_young(after) && !ref_young(before))
		*young = true;
	if (ref_hw_dirty(after) && !ref_hw_dirty(before))
		*dirty = true;
}

/* Invariants every entry ptxn produces from well-formed input keeps. */
FUZZ_FN void ref_check_entry(uint64_t v, const char *what, const char *file, int line)
{
	const char *why = ref_abnormal(v);

	if (v & REF_RESERVED)
		fuzz_fail(file, line, "%s 0x%016llx sets reserved bits 0x%016llx", what,
			  (unsigned long long)v, (unsigned long long)(v & REF_RESERVED));
	if (why)
		fuzz_fail(file, line, "%s 0x%016llx is not in normal form: %s", what,
			  (unsigned long long)v, why);
}
#define REF_CHECK_ENTRY(v, what) ref_check_entry((v), (what), __FILE__, __LINE__)

/* ---- generating well-formed entries --------------------------------------------------- */
/* A protection: portable flags plus a few of the format's attribute bits. */
FUZZ_FN ptxn_prot_t fuzz_prot(struct fuzz_in *in, unsigned *flags_out)
{
	unsigned flags = fuzz_u8(in) & 0xfu;
	uint8_t pick = fuzz_u8(in);
	uint64_t bits = ptxn_prot(flags).bits;
	unsigned i;

	for (i = 0; i < REF_NEXTRAS && i < 8; i++)
		if (pick & (1u << i))
			bits |= ref_extras[i];
	if (flags_out)
		*flags_out = flags;
	return ptxn_make_prot(bits);
}

/* A frame number: any valid one, biased to the edges by the seed corpus. */
FUZZ_FN uint64_t fuzz_pfn(struct fuzz_in *in)
{
	return fuzz_u64(in) & PTXN_PFN_MAX;
}

#endif /* PTXN_FUZZ_COMMON_H */
