// SPDX-License-Identifier: MIT
/*
 * tests/test_exhaustive.c - every interleaving of one transaction with the MMU, explored,
 * not sampled (issue 17; docs/strategies.md, "Every interleaving").
 *
 * The real transaction code (core/transaction.h) is compiled against the slot primitives
 * below instead of the arch's: before every single slot access the simulated MMU - the
 * format's own walker, hwemu/<format>/mmu.h - may make one A/D update on one of the
 * transaction's entries, or not. A run is one sequence of such choices; runs are explored
 * depth-first by re-execution from a fresh page table (stateless model checking): after
 * each run the last choice that still has an untried option is advanced, until none has.
 * Only updates that change an entry are options, and a run has at most ACTIONS_MAX of
 * them (the bound of this bounded exhaustive check), so the tree is finite and small.
 *
 * Configurations: every strategy; every quirk flag of the format; every MMU mode (x86
 * with/without CET, and the PTXN_MM_X86_CET promise only where it is honest; ARM64 no
 * HA / HA / HA+HD; radix atomic R/C or R/C interrupt; RISC-V Svadu, Svade, and Svade with
 * the PTXN_MM_RISCV_SVADE promise); every pair of protections from a
 * representative set; every A/D state of the entries; a stale writable TLB entry or not;
 * a late radix R/C write-back or not; the single-entry API and batches of 1 to 3; a
 * caller that keeps the A/D state (pte_modify), one that ages (mkold) and one that cleans
 * (mkclean). Under qemu (PTXN_TEST_QEMU_CPU, or PTXN_EXHAUSTIVE_REDUCED set) a reduced
 * set: three protections (read-only, read-write, none), the keeping and the cleaning
 * caller, batches of up to 2 with every entry in the same A/D state.
 *
 * Each run's end state is checked against rules written here from the manuals (never by
 * asking the library the answer):
 *  - start returned the entries as they were when it read them;
 *  - each entry is exactly the caller's new entry (frame, protection, attributes), young
 *    iff that is young or the MMU set young after start read the entry, dirty likewise
 *    (an AUTO or MERGE batch also keeps what the entry held when start read it: Xen
 *    PRESERVE_AD);
 *  - x86 with CET: no software write ever made an entry R/W=0,D=1 (a shadow-stack page)
 *    that was not one before or after;
 *  - ARM64: no live entry changed a break-before-make attribute in place, and each such
 *    change had invalid -> TLB flush -> new entry; likewise for an executable entry under
 *    erratum 2645198 and for an access gain under the PowerPC coprocessor quirk.
 * EXPLORE_BROKEN_MERGE builds the same program with a merge that forgets a dirty update:
 * then the check must fail (tests/meson.build runs that build as the bite test).
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the slot primitives: each access is a point where the MMU may act first ----------- */
#define PTXN_FORCE_GENERIC 1
static void explore_before(const volatile uint64_t *slot);
static void explore_after(const volatile uint64_t *slot, uint64_t seen, bool wrote);

#define PTXN_HAVE_ARCH_SLOT_LOAD
static inline uint64_t ptxn_arch_slot_load(const volatile uint64_t *slot)
{
	uint64_t v;

	explore_before(slot);
	v = *slot;
	explore_after(slot, v, false);
	return v;
}

#define PTXN_HAVE_ARCH_SLOT_STORE
static inline void ptxn_arch_slot_store(volatile uint64_t *slot, uint64_t value)
{
	uint64_t v;

	explore_before(slot);
	v = *slot;
	*slot = value;
	explore_after(slot, v, true);
}

#define PTXN_HAVE_ARCH_SLOT_XCHG
static inline uint64_t ptxn_arch_slot_xchg(volatile uint64_t *slot, uint64_t value)
{
	uint64_t v;

	explore_before(slot);
	v = *slot;
	*slot = value;
	explore_after(slot, v, true);
	return v;
}

#define PTXN_HAVE_ARCH_SLOT_CMPXCHG
static inline bool ptxn_arch_slot_cmpxchg(volatile uint64_t *slot, uint64_t *expected,
					   uint64_t desired)
{
	uint64_t v;
	bool ok;

	explore_before(slot);
	v = *slot;
	ok = v == *expected;
	if (ok)
		*slot = desired;
	else
		*expected = v;
	explore_after(slot, v, ok);
	return ok;
}

#ifdef EXPLORE_BROKEN_MERGE
#include "broken_merge.h" /* before the library: the override is announced */
#endif

#include <ptxn/ptxn.h>
#include "../hwemu/mmu.h"

#ifdef EXPLORE_BROKEN_MERGE
#include "broken_merge.h" /* after: the deliberate bug is defined */
#endif

#include "ptxn_test.h"
#include "case_log.h"

#include <time.h>

/* ---- the representative protections of each format -------------------------------------- */
#define R PTXN_PROT_READ
#define W PTXN_PROT_WRITE
#define X PTXN_PROT_EXEC
#define U PTXN_PROT_USER

static uint64_t prot_set[8];
static unsigned nprot;

static void prot_set_init(bool reduced)
{
	nprot = 0;
	prot_set[nprot++] = ptxn_prot(R | U).bits;
	prot_set[nprot++] = ptxn_prot(R | W | U).bits;
	prot_set[nprot++] = ptxn_prot(0).bits; /* PROT_NONE */
	if (reduced)
		return;
	prot_set[nprot++] = ptxn_prot(R | X | U).bits;
	prot_set[nprot++] = ptxn_prot(R | W | X | U).bits;
	prot_set[nprot++] = ptxn_prot(R | W).bits; /* a kernel page */
#if defined(PTXN_FORMAT_ARM64)
	/* Another memory type: a change to or from it needs break-before-make. */
	prot_set[nprot++] = ptxn_prot(R | W | U).bits | PTXN_ARM64_ATTRINDX(1);
	/* Linux PAGE_EXECONLY: EL0-executable without AP[1] (erratum 2645198's corner). */
	prot_set[nprot++] = PTXN_ARM64_VALID | PTXN_ARM64_TYPE_PAGE | PTXN_ARM64_SH_INNER |
			    PTXN_ARM64_RDONLY | PTXN_ARM64_NG | PTXN_ARM64_PXN;
#endif
}

/* ---- one configuration --------------------------------------------------------------------- */
enum caller { CALLER_KEEP, CALLER_MKOLD, CALLER_MKCLEAN, CALLER_COUNT };
static const char *const caller_names[CALLER_COUNT] = {"keep", "mkold", "mkclean"};

/* A/D states: 0 old clean, 1 young, 2 dirty (software), 3 young and dirty. */
#define AD_STATES 4

struct config {
	enum ptxn_strategy strategy;
	unsigned mm_flags, mmu_flags;
	uint64_t from, to;   /* protections */
	unsigned ad;         /* A/D state of entry 0 (entry i: (ad + i * rotate) % 4) */
	unsigned rotate;
	bool stale;          /* a TLB entry cached writable from the initial entry */
	bool late;           /* PowerPC: a translation in flight writes R/C back late */
	bool batched;        /* the _ptes API (else the single-entry one; nr is 1 then) */
	unsigned nr;
	enum caller caller;
};

/* ---- the world of one run ------------------------------------------------------------------ */
#define NR_MAX 3
#define TABLE_PA0 UINT64_C(0x100000)
#define LEAF_VA(i) ((uint64_t)(i) * 4096)
#define HIST_MAX 64
#define DEPTH_MAX 64
/*
 * The bound: at most this many MMU actions in one run (each sets young or dirty on one
 * entry, or writes R/C back late). Enough for young and dirty before and after start on
 * one entry, or young and dirty on one entry and an update on another; the single-entry
 * API never reaches it.
 */
#define ACTIONS_MAX 3

enum phase { PHASE_SETUP, PHASE_START, PHASE_COMMIT, PHASE_DONE };

struct hist {
	uint64_t value;   /* CPU order */
	unsigned seq;
	bool software;
};

static struct world {
	uint64_t mem[4][512] __attribute__((aligned(4096)));
	struct ptxn_mmu mmu;
	ptxn_pte_t *leaf;
	const struct config *cfg;
	enum phase phase;
	bool in_mmu;
	unsigned seq;
	/* per entry */
	uint64_t initial[NR_MAX], at_read[NR_MAX];
	bool young_since[NR_MAX], dirty_since[NR_MAX];
	bool stale_live[NR_MAX], stale_dirty[NR_MAX], late_left[NR_MAX];
	struct hist hist[NR_MAX][HIST_MAX];
	unsigned nhist[NR_MAX];
	unsigned flush_seq[8];
	uint64_t flush_start[8], flush_end[8];
	unsigned nflush;
	uint64_t events;
	unsigned actions;   /* MMU actions taken in this run (at most ACTIONS_MAX) */
	const char *failure;
} world;

/* The depth-first search: the choices of the current run, and of the prefix to replay. */
static struct search {
	unsigned choice[DEPTH_MAX], nopt[DEPTH_MAX];
	unsigned depth, prefix;
	bool overflow;
} search;

static ptxn_pteval_t leaf_val(unsigned i)
{
	return ptxn_arch_pte_from_storage(world.leaf[i].storage);
}

static int leaf_index(const volatile uint64_t *slot)
{
	const volatile uint64_t *base = &world.leaf[0].storage;

	if (slot < base || slot >= base + (world.cfg ? world.cfg->nr : 0))
		return -1;
	return (int)(slot - base);
}

static void hist_push(unsigned i, uint64_t value, bool software)
{
	if (world.nhist[i] < HIST_MAX) {
		world.hist[i][world.nhist[i]].value = value;
		world.hist[i][world.nhist[i]].seq = world.seq++;
		world.hist[i][world.nhist[i]].software = software;
		world.nhist[i]++;
	} else {
		world.failure = "history overflow";
	}
}

/* Every hardware update: what it set since start read the entry. */
static void on_update(void *ctx, const struct ptxn_mmu_update *u)
{
	int i = leaf_index(&u->slot->storage);

	(void)ctx;
	if (i < 0)
		return; /* an upper level's A */
	world.events++;
	if (ptxn_arch_pte_young(u->after) && !ptxn_arch_pte_young(u->before))
		world.young_since[i] = true;
	if (ptxn_arch_pte_hw_dirty(u->after) && !ptxn_arch_pte_hw_dirty(u->before))
		world.dirty_since[i] = true;
	if ((u->before & ~u->after) != 0 &&
	    !(PTXN_ARCH_PTE_MMU_CLEARS != 0 && (u->before & ~u->after) == PTXN_ARCH_PTE_MMU_CLEARS))
		world.failure = "a hardware update cleared a bit other than AP[2]";
	hist_push((unsigned)i, u->after, false);
}

/* ---- the MMU's possible actions ------------------------------------------------------------- */
enum action { ACT_READ, ACT_WRITE, ACT_STALE_WRITE, ACT_LATE_RC, ACT_KINDS };

static bool user_mode(unsigned i)
{
	return (ptxn_arch_pte_prot_flags(world.initial[i]) & U) != 0 ||
	       !ptxn_arch_pte_hw_valid(world.initial[i]);
}

/* Apply one action; the MMU's own slot accesses are not choice points. */
static void act(enum action a, unsigned i)
{
	struct ptxn_mmu_walk w;

	world.in_mmu = true;
	switch (a) {
	case ACT_READ:
		ptxn_mmu_translate(&world.mmu, LEAF_VA(i), PTXN_MMU_READ, user_mode(i), &w);
		break;
	case ACT_WRITE:
		ptxn_mmu_translate(&world.mmu, LEAF_VA(i), PTXN_MMU_WRITE, user_mode(i), &w);
		break;
	case ACT_STALE_WRITE:
		/* A write through the TLB entry cached writable and clean before start. */
		if (ptxn_mmu_tlb_dirty(&world.mmu, world.leaf + i, 0, LEAF_VA(i), &w) ==
		    PTXN_MMU_TLB_OK)
			world.stale_dirty[i] = true;
		else
			world.stale_live[i] = false; /* re-walk: the stale entry is gone */
		break;
	case ACT_LATE_RC:
#if defined(PTXN_FORMAT_POWERPC)
		ptxn_mmu_ppc_late_rc(&world.mmu, world.leaf + i, LEAF_VA(i),
				     ptxn_arch_pte_write(world.initial[i]));
#endif
		world.late_left[i] = false;
		break;
	default:
		break;
	}
	world.in_mmu = false;
}

static bool action_possible(enum action a, unsigned i)
{
	switch (a) {
	case ACT_STALE_WRITE:
		return world.cfg->stale && world.stale_live[i] && !world.stale_dirty[i];
	case ACT_LATE_RC:
		return world.cfg->late && world.late_left[i];
	default:
		return true;
	}
}

/* The few slots an action can touch: the upper entries of VA 0 and the leaves. */
struct snapshot {
	uint64_t upper[3], leaf[NR_MAX];
	bool stale_live[NR_MAX], stale_dirty[NR_MAX], late_left[NR_MAX];
	bool young_since[NR_MAX], dirty_since[NR_MAX];
	unsigned nhist[NR_MAX], seq;
	uint64_t events;
};

static void snap(struct snapshot *s)
{
	unsigned k;

	for (k = 0; k < 3; k++)
		s->upper[k] = world.mem[k][0];
	for (k = 0; k < NR_MAX; k++) {
		s->leaf[k] = world.leaf[k].storage;
		s->stale_live[k] = world.stale_live[k];
		s->stale_dirty[k] = world.stale_dirty[k];
		s->late_left[k] = world.late_left[k];
		s->young_since[k] = world.young_since[k];
		s->dirty_since[k] = world.dirty_since[k];
		s->nhist[k] = world.nhist[k];
	}
	s->seq = world.seq;
	s->events = world.events;
}

static void restore(const struct snapshot *s)
{
	unsigned k;

	for (k = 0; k < 3; k++)
		world.mem[k][0] = s->upper[k];
	for (k = 0; k < NR_MAX; k++) {
		world.leaf[k].storage = s->leaf[k];
		world.stale_live[k] = s->stale_live[k];
		world.stale_dirty[k] = s->stale_dirty[k];
		world.late_left[k] = s->late_left[k];
		world.young_since[k] = s->young_since[k];
		world.dirty_since[k] = s->dirty_since[k];
		world.nhist[k] = s->nhist[k];
	}
	world.seq = s->seq;
	world.events = s->events;
}

static bool leaves_changed(const struct snapshot *s)
{
	unsigned k;

	for (k = 0; k < world.cfg->nr; k++)
		if (world.leaf[k].storage != s->leaf[k])
			return true;
	return false;
}

/*
 * A choice point: the options are "nothing" and every action that changes an entry of
 * the transaction now. Replays the prefix, then takes option 0 and records the count.
 *
 * Before a slot access only the entry accessed is acted on (only >= 0); at a TLB flush,
 * every entry (only < 0). That loses no behaviour: the transaction's access to entry j
 * neither reads nor writes entry i, so an MMU update of entry i made just before it
 * gives the same states as the same update made just before the next access to entry i
 * (or the next flush, which may end a stale TLB entry; or after the transaction, where
 * it is the hardware's ordinary business). A partial-order reduction, as in model
 * checkers; it keeps the search to the interleavings that can differ.
 */
static void choose(int only)
{
	unsigned opt_a[1 + ACT_KINDS * NR_MAX], opt_i[1 + ACT_KINDS * NR_MAX], n = 1, c, i;
	struct snapshot s;
	unsigned a;

	snap(&s);
	for (i = 0; i < world.cfg->nr && world.actions < ACTIONS_MAX; i++)
		for (a = 0; a < ACT_KINDS; a++) {
			if (only >= 0 && i != (unsigned)only)
				continue;
			if (!action_possible((enum action)a, i))
				continue;
			act((enum action)a, i);
			if (leaves_changed(&s)) {
				opt_a[n] = a;
				opt_i[n] = i;
				n++;
			}
			restore(&s);
		}
	if (search.depth >= DEPTH_MAX) {
		search.overflow = true;
		return;
	}
	c = search.depth < search.prefix ? search.choice[search.depth] : 0;
	search.choice[search.depth] = c;
	search.nopt[search.depth] = n;
	search.depth++;
	if (c >= n) {
		world.failure = "the replayed run took another path (nondeterminism)";
		return;
	}
	if (c > 0) {
		act((enum action)opt_a[c], opt_i[c]);
		world.actions++;
	}
}

static void explore_before(const volatile uint64_t *slot)
{
	if (world.in_mmu || world.phase == PHASE_SETUP || world.phase == PHASE_DONE)
		return;
	if (leaf_index(slot) < 0 &&
	    !((const volatile unsigned char *)slot >= (const unsigned char *)world.mem &&
	      (const volatile unsigned char *)slot < (const unsigned char *)world.mem + sizeof(world.mem)))
		return; /* not a page-table slot: no choice point */
	choose(leaf_index(slot));
}

static void explore_after(const volatile uint64_t *slot, uint64_t seen, bool wrote)
{
	int i;

	if (world.in_mmu || world.phase == PHASE_SETUP || world.phase == PHASE_DONE)
		return;
	i = leaf_index(slot);
	if (i < 0) {
		/* Outside the page tables (batched AUTO's scratch word for its branch-free
		 * stores): no entry. Another entry of the tables: a bug. */
		if ((const volatile unsigned char *)slot >= (const unsigned char *)world.mem &&
		    (const volatile unsigned char *)slot < (const unsigned char *)world.mem + sizeof(world.mem))
			world.failure = "the transaction touched a slot outside its entries";
		return;
	}
	if (wrote)
		hist_push((unsigned)i, leaf_val((unsigned)i), true);
	if (world.phase == PHASE_START) {
		/* start read the entry here: what the MMU sets from now on is "since start" */
		world.at_read[i] = ptxn_arch_pte_from_storage(seen);
		world.young_since[i] = false;
		world.dirty_since[i] = false;
	}
}

/* The TLB flush ptxn asks for: the MMU may act while it runs; then no stale entry is left. */
static void on_flush(ptxn_mm_t *mm, uintptr_t start, uintptr_t end)
{
	unsigned i;

	(void)mm;
	choose(-1);
	if (world.nflush < 8) {
		world.flush_seq[world.nflush] = world.seq++;
		world.flush_start[world.nflush] = start;
		world.flush_end[world.nflush] = end;
		world.nflush++;
	}
	for (i = 0; i < world.cfg->nr; i++)
		if (LEAF_VA(i) >= start && LEAF_VA(i) < end)
			world.stale_live[i] = false;
}

/* ---- building the entries --------------------------------------------------------------- */
static uint64_t with_ad(uint64_t v, unsigned ad)
{
	if (ad & 1)
		v = ptxn_arch_pte_mkyoung(v);
	if (ad & 2)
		v = ptxn_arch_pte_mkdirty(v);
	return v;
}

static void world_setup(const struct config *cfg)
{
	unsigned top, level, i;

	memset(&world, 0, sizeof(world));
	world.cfg = cfg;
	world.mmu.phys_base = (unsigned char *)world.mem;
	world.mmu.phys_start = TABLE_PA0;
	world.mmu.phys_size = sizeof(world.mem);
	world.mmu.root = TABLE_PA0;
	world.mmu.flags = cfg->mmu_flags;
	world.mmu.updated = on_update;
#if defined(PTXN_FORMAT_POWERPC)
	world.mmu.root_bits = 5;
#endif
	top = ptxn_mmu_top_level(&world.mmu);
	for (level = top; level > 0; level--) {
		unsigned k = top - level;

		world.mem[k][ptxn_mmu_index(&world.mmu, 0, level)] = ptxn_arch_pte_to_storage(
			ptxn_mmu_table_entry(&world.mmu, TABLE_PA0 + 4096 * (uint64_t)(k + 1), level));
	}
	world.leaf = (ptxn_pte_t *)&world.mem[top][ptxn_mmu_index(&world.mmu, 0, 0)];
#if defined(PTXN_FORMAT_X86)
	if (cfg->mmu_flags & PTXN_MMU_X86_PAE)
		ptxn_mmu_x86_load_pdptes(&world.mmu);
#endif
	for (i = 0; i < cfg->nr; i++) {
		uint64_t v = with_ad(ptxn_arch_pfn_pte(0x1234 + i, cfg->from),
				     (cfg->ad + i * cfg->rotate) % AD_STATES);

		world.initial[i] = v;
		world.leaf[i].storage = ptxn_arch_pte_to_storage(v);
		world.hist[i][0].value = v;
		world.hist[i][0].software = true;
		world.nhist[i] = 1;
		/* a TLB entry cached from this entry: it must allow writes to be stale-writable */
		world.stale_live[i] = cfg->stale && ptxn_arch_pte_hw_valid(v) && ptxn_arch_pte_write(v);
		world.stale_dirty[i] = ptxn_arch_pte_hw_dirty(v);
		world.late_left[i] = cfg->late && ptxn_arch_pte_hw_valid(v);
	}
	world.seq = 1;
}

/* ---- the rules a run's end state must satisfy (from the manuals, not the library) -------- */
/* Normalised: no A/D state in any encoding. mkold/mkclean are pinned by the format tests. */
static uint64_t norm(uint64_t v)
{
	return ptxn_arch_pte_mkclean(ptxn_arch_pte_mkold(v));
}

static bool shadow_stack_like(uint64_t v)
{
#if defined(PTXN_FORMAT_X86)
	return (v & PTXN_X86_PRESENT) && !(v & PTXN_X86_RW) && (v & PTXN_X86_DIRTY);
#else
	(void)v;
	return false;
#endif
}

/*
 * Must the change from live entry a to live entry b go invalid -> TLB flush -> b?
 * ARM64: the Arm ARM's break-before-make rule (output address, memory type,
 * shareability, NS, contiguous bit, descriptor type, nG 1 -> 0), and Cortex-A715 erratum
 * 2645198 for any permission change of an EL0-executable entry (UXN=0). PowerPC with a
 * coprocessor: any gain of access (Linux radix__ptep_modify_prot_commit).
 */
static bool must_break(uint64_t a, uint64_t b)
{
	const unsigned mm_flags = world.cfg->mm_flags;
#if defined(PTXN_FORMAT_ARM64)
	const uint64_t in_place = (UINT64_C(1) << 6) | (UINT64_C(1) << 7) | (UINT64_C(1) << 10) |
				  (UINT64_C(1) << 11) | (UINT64_C(1) << 50) | (UINT64_C(1) << 51) |
				  (UINT64_C(1) << 53) | (UINT64_C(1) << 54) | (UINT64_C(0xf) << 55);
	const uint64_t perms = (UINT64_C(1) << 6) | (UINT64_C(1) << 7) | (UINT64_C(1) << 51) |
			       (UINT64_C(1) << 53) | (UINT64_C(1) << 54);

	if ((a ^ b) & ~in_place)
		return true;
	if ((a & (UINT64_C(1) << 11)) && !(b & (UINT64_C(1) << 11)))
		return true;
	return (mm_flags & PTXN_MM_ERRATUM_ARM64_2645198) && !(a & (UINT64_C(1) << 54)) &&
	       ((a ^ b) & perms) != 0;
#elif defined(PTXN_FORMAT_POWERPC)
	const uint64_t rights = 0x7, privileged = 0x8;

	return (mm_flags & PTXN_MM_COPROCESSOR) &&
	       (((b & ~a) & rights) || ((a & ~b) & privileged));
#else
	(void)a, (void)b, (void)mm_flags;
	return false;
#endif
}

/* Does start break the entry, Cortex-A715 erratum 2645198 (a valid entry with UXN=0)? */
static bool erratum_breaks(uint64_t v)
{
#if defined(PTXN_FORMAT_ARM64)
	return (world.cfg->mm_flags & PTXN_MM_ERRATUM_ARM64_2645198) && (v & 1) &&
	       !(v & (UINT64_C(1) << 54));
#else
	(void)v;
	return false;
#endif
}

static bool valid(uint64_t v)
{
	return ptxn_arch_pte_hw_valid(v);
}

/* Is there a flush of entry i's page between sequence numbers lo and hi? */
static bool flushed_between(unsigned i, unsigned lo, unsigned hi)
{
	unsigned k;

	for (k = 0; k < world.nflush; k++)
		if (world.flush_seq[k] > lo && world.flush_seq[k] < hi &&
		    LEAF_VA(i) >= world.flush_start[k] && LEAF_VA(i) < world.flush_end[k])
			return true;
	return false;
}

static char message[512];

static const char *check_entry(unsigned i, uint64_t want)
{
	const struct config *cfg = world.cfg;
	uint64_t final = leaf_val(i);
	bool young = ptxn_arch_pte_young(want) || world.young_since[i];
	bool dirty = ptxn_arch_pte_dirty(want) || world.dirty_since[i];
	unsigned k;

	/* An AUTO or MERGE batch keeps every hardware A/D bit the entry holds at commit (Xen
	 * PRESERVE_AD): what it had when start read it too, even where the caller aged or
	 * cleaned (software dirtiness, SavedDirty or ARM64 bit 55, is the caller's) - unless
	 * the batch was broken at start (erratum 2645198), which leaves nothing to keep. */
	if (cfg->batched && cfg->strategy != PTXN_STRATEGY_CLEAR && !erratum_breaks(world.initial[0])) {
		young = young || ptxn_arch_pte_young(world.at_read[i]);
		dirty = dirty || ptxn_arch_pte_hw_dirty(world.at_read[i]);
	}

	if (norm(final) != norm(want))
		return "the entry is not the caller's new entry (frame, protection or attributes)";
	if (ptxn_arch_pte_young(final) != young)
		return young ? "a young update was lost" : "young appeared from nowhere";
	if (ptxn_arch_pte_dirty(final) != dirty)
		return dirty ? "a dirty update was lost" : "dirty appeared from nowhere";
	if (final & PTXN_ARCH_PTE_RESERVED)
		return "a reserved bit is set";
	if ((cfg->mmu_flags & PTXN_MMU_X86_CET) && !shadow_stack_like(world.initial[i]) &&
	    !shadow_stack_like(want))
		for (k = 0; k < world.nhist[i]; k++)
			if (world.hist[i][k].software && shadow_stack_like(world.hist[i][k].value))
				return "software wrote R/W=0,D=1 (a shadow-stack page) under CET";
	/*
	 * Break-before-make over the entry's history. For each value software installed, the
	 * live value before it: if no invalid value came between, the change was made in
	 * place and must be allowed in place; if one did, a flush of the page must come after
	 * the first invalid value and before the new one. (Hardware updates only set A/D;
	 * they are the "before" of the next software write, never checked as a change.)
	 */
	for (k = 1; k < world.nhist[i]; k++) {
		const struct hist *b = &world.hist[i][k];
		unsigned j = k;

		if (!b->software || !valid(b->value))
			continue;
		while (j > 0 && !valid(world.hist[i][j - 1].value))
			j--;
		if (j == 0 || !must_break(world.hist[i][j - 1].value, b->value))
			continue;
		if (j == k)
			return "a live entry was changed in place where it must be broken";
		if (!flushed_between(i, world.hist[i][j].seq, b->seq))
			return "break-before-make without the TLB flush in between";
	}
	return NULL;
}

static const char *check_run(ptxn_pte_t old_pte, ptxn_pte_t new_pte)
{
	const struct config *cfg = world.cfg;
	uint64_t old = ptxn_pte_val(old_pte);
	bool young = false, dirty = false;
	unsigned i;

	if (world.failure)
		return world.failure;
	if (search.overflow)
		return "more choice points than the explorer allows";
	/* start: the entries as it read them (a batch: the first, with the folio's A/D) */
	for (i = 0; i < cfg->nr; i++) {
		young = young || ptxn_arch_pte_young(world.at_read[i]);
		dirty = dirty || ptxn_arch_pte_dirty(world.at_read[i]);
	}
	if (!cfg->batched && old != world.at_read[0])
		return "start did not return the entry as it read it";
	if (norm(old) != norm(world.at_read[0]) || ptxn_arch_pte_young(old) != young ||
	    ptxn_arch_pte_dirty(old) != dirty)
		return "start did not return the entries' state as it read them";
	for (i = 0; i < cfg->nr; i++) {
		uint64_t want = ptxn_pte_val(ptxn_pte_advance_pfn(new_pte, i));
		const char *why = check_entry(i, want);

		if (why) {
			snprintf(message, sizeof(message),
				 "entry %u: %s: initial 0x%016" PRIx64 " read 0x%016" PRIx64
				 " new 0x%016" PRIx64 " final 0x%016" PRIx64,
				 i, why, PT_U64(world.initial[i]), PT_U64(world.at_read[i]),
				 PT_U64(want), PT_U64(leaf_val(i)));
			return message;
		}
	}
	return NULL;
}

/* ---- one run, and the depth-first search over runs ------------------------------------- */
static uint64_t caller_change(uint64_t old)
{
	const struct config *cfg = world.cfg;

	if (cfg->caller == CALLER_MKOLD)
		old = ptxn_arch_pte_mkold(old);
	else if (cfg->caller == CALLER_MKCLEAN)
		old = ptxn_arch_pte_mkclean(old);
	return ptxn_pte_val(ptxn_pte_modify(ptxn_make_pte(old), ptxn_make_prot(cfg->to)));
}

static const char *run_once(const struct config *cfg)
{
	ptxn_pte_t old, pte;
	ptxn_mm_t mm;

	world_setup(cfg);
	search.depth = 0;
	search.overflow = false;
	ptxn_mm_init(&mm);
	ptxn_mm_set_strategy(&mm, cfg->strategy);
	ptxn_mm_set_flags(&mm, cfg->mm_flags);
	ptxn_mm_set_flush_tlb_range(&mm, on_flush, NULL);
	world.phase = PHASE_START;
	if (cfg->batched)
		old = ptxn_modify_prot_start_ptes(&mm, 0, world.leaf, cfg->nr);
	else
		old = ptxn_modify_prot_start(&mm, 0, world.leaf);
	world.phase = PHASE_COMMIT;
	pte = ptxn_make_pte(caller_change(ptxn_pte_val(old)));
	if (cfg->batched)
		ptxn_modify_prot_commit_ptes(&mm, 0, world.leaf, old, pte, cfg->nr);
	else
		ptxn_modify_prot_commit(&mm, 0, world.leaf, old, pte);
	world.phase = PHASE_DONE;
	return check_run(old, pte);
}

struct tally {
	uint64_t runs, configs, events;
	char first[768];
	uint64_t failures;
};

static void describe(char *out, size_t n, const struct config *c)
{
	snprintf(out, n,
		 "%s%s nr %u, mm flags %#x, mmu flags %#x, prot 0x%016" PRIx64 " -> 0x%016" PRIx64
		 ", A/D %u%s, %s%s%s",
		 ptxn_strategy_name(c->strategy), c->batched ? " batched" : "", c->nr, c->mm_flags,
		 c->mmu_flags, PT_U64(c->from), PT_U64(c->to), c->ad, c->rotate ? " rotated" : "",
		 caller_names[c->caller], c->stale ? ", stale TLB" : "", c->late ? ", late R/C" : "");
}

/* Every interleaving of one configuration. */
static void explore(const struct config *cfg, struct tally *t)
{
	search.prefix = 0;
	t->configs++;
	for (;;) {
		const char *why = run_once(cfg);
		unsigned d;

		t->runs++;
		t->events += world.events;
		if (why) {
			t->failures++;
			if (!t->first[0]) {
				char c[256];
				size_t len;

				describe(c, sizeof(c), cfg);
				len = (size_t)snprintf(t->first, sizeof(t->first), "%s: %s; choices", c, why);
				for (d = 0; d < search.depth && len + 8 < sizeof(t->first); d++)
					len += (size_t)snprintf(t->first + len, sizeof(t->first) - len,
								" %u/%u", search.choice[d], search.nopt[d]);
			}
			return; /* one failing interleaving per configuration is enough */
		}
		/* the deepest choice with an untried option, advanced; the rest start again at 0 */
		d = search.depth;
		while (d > 0 && search.choice[d - 1] + 1 >= search.nopt[d - 1])
			d--;
		if (d == 0)
			return;
		search.choice[d - 1]++;
		search.prefix = d;
	}
}

/* ---- the format's MMU modes and quirk flags --------------------------------------------- */
struct mode {
	unsigned mmu_flags, mm_flags;
};

static unsigned modes(struct mode *m)
{
	unsigned n = 0;
#if defined(PTXN_FORMAT_X86)
	const unsigned pae = PTXN_X86_PAE ? PTXN_MMU_X86_PAE : 0;

	m[n++] = (struct mode){pae, 0};
	m[n++] = (struct mode){pae | PTXN_MMU_X86_CET, 0};
	m[n++] = (struct mode){pae | PTXN_MMU_X86_CET, PTXN_MM_X86_CET}; /* honest only here */
#elif defined(PTXN_FORMAT_ARM64)
	const unsigned hw[3] = {0, PTXN_MMU_ARM64_HA, PTXN_MMU_ARM64_HA | PTXN_MMU_ARM64_HD};
	unsigned k;

	for (k = 0; k < 3; k++) {
		m[n++] = (struct mode){hw[k], 0};
		m[n++] = (struct mode){hw[k], PTXN_MM_ERRATUM_ARM64_2645198};
	}
#elif defined(PTXN_FORMAT_POWERPC)
	m[n++] = (struct mode){0, 0};
	m[n++] = (struct mode){0, PTXN_MM_COPROCESSOR};
	m[n++] = (struct mode){PTXN_MMU_PPC_RC_INTERRUPT, 0};
	m[n++] = (struct mode){PTXN_MMU_PPC_RC_INTERRUPT, PTXN_MM_COPROCESSOR};
#elif defined(PTXN_FORMAT_RISCV)
	m[n++] = (struct mode){0, 0};                    /* Svadu: the hart sets A/D */
	m[n++] = (struct mode){PTXN_MMU_RISCV_SVADE, 0}; /* Svade: page faults instead */
	m[n++] = (struct mode){PTXN_MMU_RISCV_SVADE, PTXN_MM_RISCV_SVADE}; /* honest only here */
#endif
	return n;
}

static bool reduced_set(void)
{
	return ptxn_test_under_qemu() || getenv("PTXN_EXHAUSTIVE_REDUCED") != NULL;
}

/*
 * Configurations that differ from another only in a dimension that cannot matter are
 * skipped: a stale writable TLB entry needs a valid writable entry and an MMU that may
 * write through one without re-walking (x86 before CET, radix with atomic R/C); a late
 * R/C write-back is radix's, with atomic R/C, from a valid entry.
 */
static bool worth(struct mode m, uint64_t from, unsigned stale, unsigned late)
{
	const bool live = ptxn_arch_pte_hw_valid(from);

	if (stale && late)
		return false; /* each alone: a late write-back already writes where a stale one may */
	if (stale) {
		if (!live || !ptxn_arch_pte_write(from))
			return false;
#if defined(PTXN_FORMAT_X86)
		if (m.mmu_flags & PTXN_MMU_X86_CET)
			return false;
#elif defined(PTXN_FORMAT_POWERPC)
		if (m.mmu_flags & PTXN_MMU_PPC_RC_INTERRUPT)
			return false;
#else
		return false;
#endif
	}
	if (late) {
#if defined(PTXN_FORMAT_POWERPC)
		return live && !(m.mmu_flags & PTXN_MMU_PPC_RC_INTERRUPT);
#else
		return false;
#endif
	}
	(void)m;
	return true;
}

/* Every configuration of one strategy, batched or not. */
static void explore_strategy(enum ptxn_strategy strategy, bool batched, struct tally *t)
{
	struct mode m[8];
	unsigned nm = modes(m), k, a, b, ad, nr, caller, stale, late, rot;
	const bool reduced = reduced_set();
	const unsigned callers = reduced ? 2 : CALLER_COUNT;

	prot_set_init(reduced);
	for (k = 0; k < nm; k++)
		for (a = 0; a < nprot; a++)
			for (b = 0; b < nprot; b++)
				for (nr = 1; nr <= (batched ? (reduced ? 2u : NR_MAX) : 1u); nr++)
					for (rot = 0; rot < (nr > 1 && !reduced ? 2u : 1u); rot++)
						for (ad = 0; ad < AD_STATES; ad++)
							for (caller = 0; caller < callers; caller++)
								for (stale = 0; stale < 2; stale++)
									for (late = 0; late < 2; late++) {
		struct config c;

		if (!worth(m[k], prot_set[a], stale, late))
			continue;
		memset(&c, 0, sizeof(c));
		c.strategy = strategy;
		c.mmu_flags = m[k].mmu_flags;
		c.mm_flags = m[k].mm_flags;
		c.from = prot_set[a];
		c.to = prot_set[b];
		c.ad = ad;
		c.rotate = rot;
		c.nr = nr;
		c.batched = batched;
		c.caller = (enum caller)(caller == 1 && reduced ? CALLER_MKCLEAN : caller);
		c.stale = stale;
		c.late = late;
		explore(&c, t);
	}
}

static void run_case(const char *name, enum ptxn_strategy strategy, bool batched)
{
	struct tally t;
	struct timespec t0, t1;
	struct ptxn_case_result res;

	memset(&t, 0, sizeof(t));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	explore_strategy(strategy, batched, &t);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# %s: %" PRIu64 " configurations, %" PRIu64 " interleavings, %" PRIu64
	       " MMU updates, %" PRIu64 " failing configurations%s\n",
	       name, t.configs, t.runs, t.events, t.failures, reduced_set() ? " (reduced set)" : "");
	memset(&res, 0, sizeof(res));
	res.name = name;
	res.strategy = ptxn_strategy_name(strategy);
	res.format = PTXN_FORMAT_NAME;
	res.transactions = t.runs;
	res.interleavings = t.runs;
	res.hw_events = t.events;
	res.traps = -1;
	res.seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;
#ifdef EXPLORE_BROKEN_MERGE
	/* The bite: the broken merge must be caught, by MERGE and by AUTO's merge path. */
	res.passed = t.failures > 0;
	res.message = res.passed ? NULL : "the broken merge was not caught";
	if (res.passed)
		printf("# caught as it must be: %s\n", t.first);
	ptxn_case_log(&res);
	ck_assert_msg(t.failures > 0, "%s: the broken merge lost no update in %" PRIu64
		      " interleavings", name, t.runs);
#else
	res.passed = t.failures == 0;
	res.message = t.failures ? t.first : NULL;
	ptxn_case_log(&res);
	ck_assert_msg(t.failures == 0, "%s: %" PRIu64 " failing configurations; first: %s", name,
		      t.failures, t.first);
#endif
}

#ifdef EXPLORE_BROKEN_MERGE
START_TEST(test_exhaustive_broken_merge_is_caught) { run_case(__func__, PTXN_STRATEGY_MERGE, false); }
END_TEST
START_TEST(test_exhaustive_broken_merge_batched_is_caught) { run_case(__func__, PTXN_STRATEGY_MERGE, true); }
END_TEST
START_TEST(test_exhaustive_broken_merge_auto_is_caught) { run_case(__func__, PTXN_STRATEGY_AUTO, false); }
END_TEST
#else
START_TEST(test_exhaustive_auto) { run_case(__func__, PTXN_STRATEGY_AUTO, false); }
END_TEST
START_TEST(test_exhaustive_auto_batched) { run_case(__func__, PTXN_STRATEGY_AUTO, true); }
END_TEST
START_TEST(test_exhaustive_clear) { run_case(__func__, PTXN_STRATEGY_CLEAR, false); }
END_TEST
START_TEST(test_exhaustive_clear_batched) { run_case(__func__, PTXN_STRATEGY_CLEAR, true); }
END_TEST
START_TEST(test_exhaustive_merge) { run_case(__func__, PTXN_STRATEGY_MERGE, false); }
END_TEST
START_TEST(test_exhaustive_merge_batched) { run_case(__func__, PTXN_STRATEGY_MERGE, true); }
END_TEST
#endif

/* One test case per strategy and API, each its own Check tcase, so that tests/meson.build
 * can run them as separate tests (CK_RUN_CASE) in parallel. */
static void add_case(Suite *s, const char *name, const TTest *test)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, 0);
	tcase_add_test(tc, test);
	suite_add_tcase(s, tc);
}

int main(void)
{
	Suite *s = suite_create("exhaustive");

#ifdef EXPLORE_BROKEN_MERGE
	add_case(s, "merge", test_exhaustive_broken_merge_is_caught);
	add_case(s, "merge_batched", test_exhaustive_broken_merge_batched_is_caught);
	add_case(s, "auto", test_exhaustive_broken_merge_auto_is_caught);
#else
	add_case(s, "auto", test_exhaustive_auto);
	add_case(s, "auto_batched", test_exhaustive_auto_batched);
	add_case(s, "clear", test_exhaustive_clear);
	add_case(s, "clear_batched", test_exhaustive_clear_batched);
	add_case(s, "merge", test_exhaustive_merge);
	add_case(s, "merge_batched", test_exhaustive_merge_batched);
#endif
	return ptxn_test_run(s);
}
