/* SPDX-License-Identifier: MIT */
/*
 * Differential test: the arch-native build and the PTXN_FORCE_GENERIC build of the same
 * operations agree bit for bit (issue #3).
 *
 * test_differential_side.c is compiled twice into this program (test_differential_native.c
 * and test_differential_generic.c); each side exports one dispatcher for every value-level
 * operation (predicates, modifiers, pte_modify, frames, merge_hw/strip_hw, quiescent,
 * storage conversion) and one for every slot primitive on a real slot (load, store, xchg,
 * cmpxchg, update with constant and run-time masks, install, clear, replace, the public
 * single-slot accesses, and a single-threaded start/commit per strategy). Both run over the
 * same inputs: structured entries (every protection, A/D state, software bit and frame
 * class), single bits and edge values, and seeded random words; every result, return value
 * and final slot must be identical, and slot operations must also match a plain-C model
 * of their contract (so a fault shared by both sides, e.g. in a primitive the host does
 * not override, is caught too).
 *
 * Built once per format (differential_x86, _arm64, _powerpc, _riscv), so on every target the host's
 * native atomics are compared with generic/ for each entry format, and the format overrides
 * (x86 wrprotect/mkwrite, ARM64 wrprotect, RISC-V hw_final) with their generic definitions
 * on every host.
 * The first test case prints and checks which backend each side really used.
 */
#include <ptxn/ptxn.h>

#include "ptxn_test.h"

static const char *const value_op_name[DV_COUNT] = {
	"none", "present", "hw_valid", "young", "dirty", "hw_dirty", "write", "exec",
	"prot_flags", "quiescent", "quiescent_final", "fold_hw", "absorbs", "absorbs_final",
	"pfn_inverted", "mkold", "mkyoung", "mkclean", "mkdirty",
	"wrprotect", "mkwrite", "modify", "modify_flags", "pfn", "pfn_pte", "pfn_pte_flags",
	"advance_pfn", "merge_hw", "strip_hw", "to_storage", "from_storage", "prot_bits",
	"normalize",
};

static const char *const slot_op_name[DS_COUNT] = {
	"slot_load", "ptep_get", "slot_store", "set_pte", "slot_xchg", "slot_cmpxchg",
	"slot_update", "slot_update(0,set)", "slot_update(clear,0)", "slot_install",
	"slot_clear", "slot_replace", "pte_clear", "ptep_get_and_clear",
	"ptep_test_and_clear_young", "ptep_mark_accessed", "modify_prot_start/commit",
};

/* ---- inputs --------------------------------------------------------------------------- */
#define MAX_ENTRIES 4096
static uint64_t entries[MAX_ENTRIES]; /* CPU-order entry values */
static size_t n_entries;

static void add(uint64_t v)
{
	if (n_entries < MAX_ENTRIES)
		entries[n_entries++] = v;
}

#if defined(PTXN_FORMAT_X86)
#define SW_BITS UINT64_C(0x07f0000000000e00)
#elif defined(PTXN_FORMAT_ARM64)
#define SW_BITS UINT64_C(0x0780000000000000)
#elif defined(PTXN_FORMAT_RISCV)
#define SW_BITS UINT64_C(0x0000000000000300)
#else
#define SW_BITS UINT64_C(0x2000000000000e00)
#endif

/* Every protection x frame class x A/D encoding x software bits, plus edge words. */
static void build_entries(void)
{
	static const uint64_t pfns[] = { 0, 1, 0x12345, 0xfffff, 0x100000, PTXN_PFN_MAX };
	unsigned f, k;
	size_t j;

	if (n_entries)
		return;
	for (f = 0; f < 16; f++) {
		for (j = 0; j < sizeof(pfns) / sizeof(pfns[0]); j++) {
			ptxn_pte_t e = ptxn_pfn_pte(pfns[j], ptxn_prot(f));
			uint64_t v = ptxn_pte_val(e);

			add(v);
			add(ptxn_pte_val(ptxn_pte_mkyoung(e)));
			add(ptxn_pte_val(ptxn_pte_mkdirty(e)));
			add(ptxn_pte_val(ptxn_pte_mkdirty(ptxn_pte_mkyoung(e))));
			add(ptxn_pte_val(ptxn_pte_wrprotect(ptxn_pte_mkdirty(e))));
			/* raw hardware updates, also where the normal form would not put them */
			add(v | PTXN_ARCH_PTE_MMU_SETS);
			add(v & ~(uint64_t)PTXN_ARCH_PTE_MMU_CLEARS);
			add(v | PTXN_ARCH_PTE_DIRTY_BITS);
			add(v | SW_BITS);
			/* what a CLEAR-strategy break leaves */
			add(v & ~(uint64_t)PTXN_ARCH_PTE_HW_VALID);
		}
	}
	add(0);
	add(~UINT64_C(0));
	add(PTXN_ARCH_PTE_MMU_SETS_IN_NONE);
	for (k = 0; k < 64; k++) {
		add(UINT64_C(1) << k);
		add(~(UINT64_C(1) << k));
	}
	add(PTXN_ARCH_PTE_PFN_MASK);
	add(~PTXN_ARCH_PTE_PFN_MASK);
	add(UINT64_C(0x5555555555555555));
	add(UINT64_C(0xaaaaaaaaaaaaaaaa));
	add(UINT64_C(0x00000000ffffffff));
	add(UINT64_C(0xffffffff00000000));
}

/* Random words biased towards real entries: an entry with a few random bits flipped. */
static uint64_t random_input(uint64_t *rng)
{
	uint64_t r = ptxn_test_rand(rng);

	switch (r & 3) {
	case 0:
		return ptxn_test_rand(rng);
	case 1:
		return entries[(r >> 8) % n_entries];
	default:
		return entries[(r >> 8) % n_entries] ^ (UINT64_C(1) << ((r >> 40) & 63)) ^
		       (UINT64_C(1) << ((r >> 48) & 63));
	}
}

/* ---- comparison ------------------------------------------------------------------------- */
static long n_compared;

static void compare_value(unsigned op, uint64_t a, uint64_t b, uint64_t c)
{
	uint64_t n = diff_side_native.value(op, a, b, c);
	uint64_t g = diff_side_generic.value(op, a, b, c);

	n_compared++;
	ck_assert_msg(n == g,
		      "%s(0x%016" PRIx64 ", 0x%016" PRIx64 ", 0x%016" PRIx64 "): native 0x%016" PRIx64
		      ", generic 0x%016" PRIx64,
		      value_op_name[op], PT_U64(a), PT_U64(b), PT_U64(c), PT_U64(n), PT_U64(g));
}

/*
 * What a slot operation must do, in plain C: the contracts of generic/atomic.h and
 * core/pte.h. Both sides are also checked against this, so an error shared by the two
 * (a primitive the host does not override is generic on both sides) is caught too.
 */
static void model_slot(unsigned op, uint64_t init, uint64_t a, uint64_t b,
		       struct diff_slot_result *m)
{
	const uint64_t young = ptxn_make_pte(PTXN_ARCH_PTE_YOUNG).storage;
	ptxn_pte_t p;

	p.storage = init;
	m->ret = 0;
	m->aux = 0;
	m->slot = init;
	switch ((enum diff_slot_op)op) {
	case DS_LOAD:
	case DS_PTEP_GET: m->ret = init; break;
	case DS_STORE:
	case DS_SET_PTE:
	case DS_INSTALL:
	case DS_REPLACE: m->slot = a; break;
	case DS_XCHG: m->ret = init; m->slot = a; break;
	case DS_CMPXCHG:
		m->ret = init == a;
		m->aux = init;
		m->slot = init == a ? b : init;
		break;
	case DS_UPDATE: m->ret = init; m->slot = (init & ~a) | b; break;
	case DS_UPDATE_SET: m->ret = init; m->slot = init | a; break;
	case DS_UPDATE_CLEAR: m->ret = init; m->slot = init & ~a; break;
	case DS_CLEAR:
	case DS_PTE_CLEAR: m->slot = 0; break;
	case DS_GET_AND_CLEAR: m->ret = init; m->slot = 0; break;
	case DS_TEST_AND_CLEAR_YOUNG: m->ret = (init & young) != 0; m->slot = init & ~young; break;
	case DS_MARK_ACCESSED: {
		bool write = a & 1;
		ptxn_pte_t next;

		if (!ptxn_pte_hw_valid(p) || (write && !ptxn_pte_write(p)))
			break;
		next = ptxn_pte_mkyoung(p);
		if (write)
			next = ptxn_pte_mkdirty(next);
		m->ret = 1;
		m->slot = next.storage;
		break;
	}
	case DS_TXN: {
		/* no MMU in between: the slot ends as pte_modify(start's value, prot), never a
		 * live contiguous entry (one entry is never a whole block) */
		ptxn_pte_t next = ptxn_pte_modify(p, ptxn_prot((unsigned)b & 15));

		if (ptxn_txn_cont_live(next))
			next = ptxn_make_pte(ptxn_pte_val(next) & ~(ptxn_pteval_t)PTXN_ARCH_PTE_CONT);
		m->aux = init;
		m->slot = next.storage;
		break;
	}
	case DS_COUNT: break;
	}
}

static void compare_slot(unsigned op, uint64_t init, uint64_t a, uint64_t b)
{
	struct diff_slot_result n, g, m;

	/*
	 * A transaction on a live contiguous entry unfolds its whole block of 16 neighbours
	 * (core/steps.h): that needs a real page table, not this test's three slots; those
	 * runs are in tests/test_hwemu_rules_arm64.c.
	 */
	if (op == DS_TXN && ptxn_txn_cont_live(ptxn_make_pte(ptxn_arch_pte_from_storage(init))))
		init &= ~ptxn_arch_pte_to_storage(PTXN_ARCH_PTE_CONT);
	diff_side_native.slot(op, init, a, b, &n);
	diff_side_generic.slot(op, init, a, b, &g);
	model_slot(op, init, a, b, &m);
	n_compared++;
	ck_assert_msg(n.ret == m.ret && n.aux == m.aux && n.slot == m.slot,
		      "%s(slot 0x%016" PRIx64 ", 0x%016" PRIx64 ", 0x%016" PRIx64 "): native ret 0x%016"
		      PRIx64 " aux 0x%016" PRIx64 " slot 0x%016" PRIx64 "; the contract says ret 0x%016"
		      PRIx64 " aux 0x%016" PRIx64 " slot 0x%016" PRIx64,
		      slot_op_name[op], PT_U64(init), PT_U64(a), PT_U64(b), PT_U64(n.ret),
		      PT_U64(n.aux), PT_U64(n.slot), PT_U64(m.ret), PT_U64(m.aux), PT_U64(m.slot));
	ck_assert_msg(n.ret == g.ret && n.aux == g.aux && n.slot == g.slot,
		      "%s(slot 0x%016" PRIx64 ", 0x%016" PRIx64 ", 0x%016" PRIx64 "): native ret 0x%016"
		      PRIx64 " aux 0x%016" PRIx64 " slot 0x%016" PRIx64 "; generic ret 0x%016" PRIx64
		      " aux 0x%016" PRIx64 " slot 0x%016" PRIx64,
		      slot_op_name[op], PT_U64(init), PT_U64(a), PT_U64(b), PT_U64(n.ret),
		      PT_U64(n.aux), PT_U64(n.slot), PT_U64(g.ret), PT_U64(g.aux), PT_U64(g.slot));
}

/* ---- which backend each side used ---------------------------------------------------------- */
#if defined(PTXN_FORMAT_X86)
#define EXPECT_FORMAT "x86"
#elif defined(PTXN_FORMAT_ARM64)
#define EXPECT_FORMAT "arm64"
#elif defined(PTXN_FORMAT_RISCV)
#define EXPECT_FORMAT "riscv"
#else
#define EXPECT_FORMAT "powerpc-radix"
#endif

START_TEST(test_backends)
{
	const struct diff_side *n = &diff_side_native, *g = &diff_side_generic;
	const char *qemu_cpu = getenv("PTXN_TEST_QEMU_CPU");

	printf("# native : %s (%d arch overrides)\n", n->backend, n->arch_overrides);
	printf("# generic: %s (%d arch overrides)\n", g->backend, g->arch_overrides);
	fflush(stdout);

	ck_assert_str_eq(n->format, EXPECT_FORMAT);
	ck_assert_str_eq(g->format, EXPECT_FORMAT);
#ifdef PTXN_FORCE_GENERIC
	/*
	 * The whole program is built with PTXN_FORCE_GENERIC (./matrix's TSan row, so that
	 * ThreadSanitizer sees every atomic): both sides are generic, nothing else to check.
	 */
	ck_assert_int_eq(n->forced_generic, 1);
	ck_assert_int_eq(n->arch_overrides, 0);
	ck_assert_str_eq(n->atomics, "generic __atomic");
	(void)qemu_cpu;
	return;
#endif
	ck_assert_int_eq(n->forced_generic, 0);
	ck_assert_int_eq(g->forced_generic, 1);
	ck_assert_int_eq(g->arch_overrides, 0);
	ck_assert_str_eq(g->atomics, "generic __atomic");

	/* dispatch: the native side got the backend this target must have */
#if defined(__x86_64__)
	ck_assert_str_eq(n->atomics, "x86-64 xchg/lock cmpxchg");
#elif defined(__i386__)
	ck_assert_str_eq(n->atomics, "i686 lock cmpxchg8b");
#elif defined(__aarch64__)
#if defined(__ARM_FEATURE_ATOMICS)
	ck_assert_msg(strstr(n->atomics, "LSE") != NULL, "FEAT_LSE target, backend %s", n->atomics);
#else
	ck_assert_msg(strstr(n->atomics, "LL/SC") != NULL, "Armv8.0 target, backend %s",
		      n->atomics);
#endif
	/* the CPUs without FEAT_LSE can only have run the exclusive-monitor loops */
	if (qemu_cpu && (!strcmp(qemu_cpu, "cortex-a53") || !strcmp(qemu_cpu, "cortex-a72")))
		ck_assert_msg(strstr(n->atomics, "LL/SC") != NULL, "%s runs %s", qemu_cpu,
			      n->atomics);
#elif defined(__powerpc64__)
	ck_assert_msg(strstr(n->atomics, "ldarx") != NULL, "backend %s", n->atomics);
#elif defined(__riscv)
	ck_assert_msg(strstr(n->atomics, "lr.d/sc.d") != NULL, "backend %s", n->atomics);
#endif
#if defined(__x86_64__) || defined(__i386__) || defined(__aarch64__) || defined(__powerpc64__) || \
	defined(__riscv)
	/* these hosts have native atomics: the two sides must really differ */
	ck_assert_msg(strcmp(n->atomics, g->atomics) != 0, "native side used %s", n->atomics);
	ck_assert_int_gt(n->arch_overrides, 0);
#endif
	(void)qemu_cpu;
}
END_TEST

/* One test case per value-level operation (_i): edge inputs, then seeded random ones. */
START_TEST(test_value_op)
{
	const unsigned op = (unsigned)_i;
	const long rounds = ptxn_test_scaled(100000);
	uint64_t rng = ptxn_test_seed() ^ (uint64_t)op << 32;
	size_t i, j;
	long r;

	build_entries();
	n_compared = 0;
	for (i = 0; i < n_entries; i++) {
		uint64_t a = entries[i];

		switch (op) {
		case DV_MODIFY:
		case DV_PFN_PTE:
			for (j = 0; j < 16; j++)
				compare_value(op, a, ptxn_prot_val(ptxn_prot((unsigned)j)), 0);
			compare_value(op, a, entries[(i * 7 + 1) % n_entries], 0);
			break;
		case DV_MODIFY_FLAGS:
		case DV_PFN_PTE_FLAGS:
			for (j = 0; j < 16; j++)
				compare_value(op, a, j, 0);
			break;
		case DV_ADVANCE_PFN:
			for (j = 0; j < 6; j++)
				compare_value(op, a, (uint64_t[]){ 0, 1, 2, 15, 16, 0xffff }[j], 0);
			break;
		case DV_MERGE_HW: {
			/* next = the entry re-protected, start = it without hardware state, now =
			 * start plus what an MMU could set; and a mixed triple */
			uint64_t start = diff_side_native.value(DV_STRIP_HW, a, 0, 0);
			uint64_t hw = PTXN_ARCH_PTE_MMU_SETS;

			for (j = 0; j < 16; j += 3) {
				uint64_t next = diff_side_native.value(DV_MODIFY_FLAGS, a, j, 0);

				compare_value(op, next, start, a);
				compare_value(op, next, start, start | hw);
				compare_value(op, next, start, start & ~(uint64_t)PTXN_ARCH_PTE_MMU_CLEARS);
				compare_value(op, next, a, start);
			}
			compare_value(op, a, entries[(i * 13 + 5) % n_entries],
				      entries[(i * 31 + 7) % n_entries]);
			break;
		}
		case DV_FOLD_HW:
		case DV_ABSORBS:
		case DV_ABSORBS_FINAL:
			/* (entry, another entry) and (entry, the entry re-protected), every flag set */
			for (j = 0; j < 16; j++)
				compare_value(op, a, diff_side_native.value(DV_MODIFY_FLAGS, a, j, 0), 0);
			compare_value(op, a, entries[(i * 7 + 1) % n_entries], 0);
			break;
		default:
			compare_value(op, a, 0, 0);
			break;
		}
	}
	for (r = 0; r < rounds; r++)
		compare_value(op, random_input(&rng), ptxn_test_rand(&rng) & 0xff ?
				  random_input(&rng) : ptxn_test_rand(&rng) & 0xffff,
			      random_input(&rng));
	ck_assert_int_gt(n_compared, rounds);
}
END_TEST

/* One test case per slot operation (_i), on real slots, same inputs for both sides. */
START_TEST(test_slot_op)
{
	const unsigned op = (unsigned)_i;
	const long rounds = ptxn_test_scaled(40000);
	uint64_t rng = ptxn_test_seed() ^ (uint64_t)(op + 100) << 32;
	size_t i;
	long r;

	build_entries();
	n_compared = 0;
	for (i = 0; i < n_entries; i++) {
		uint64_t init = ptxn_make_pte(entries[i]).storage;
		uint64_t other = ptxn_make_pte(entries[(i * 7 + 3) % n_entries]).storage;
		uint64_t young = ptxn_make_pte(PTXN_ARCH_PTE_YOUNG).storage;
		/* the bits a hardware dirty update changes (x86 D, PowerPC C, ARM64 AP[2]) */
		uint64_t dirty = ptxn_make_pte((PTXN_ARCH_PTE_MMU_SETS & ~PTXN_ARCH_PTE_YOUNG) |
					       PTXN_ARCH_PTE_MMU_CLEARS).storage;

		switch (op) {
		case DS_CMPXCHG:
			compare_slot(op, init, init, other);  /* succeeds */
			compare_slot(op, init, other, init);  /* fails unless equal */
			compare_slot(op, init, init ^ 1, other);
			compare_slot(op, init, init ^ (UINT64_C(1) << 63), other);
			break;
		case DS_UPDATE:
			compare_slot(op, init, young, dirty);
			compare_slot(op, init, other, ~other);
			compare_slot(op, init, 0, 0);
			break;
		case DS_UPDATE_SET:
		case DS_UPDATE_CLEAR:
			compare_slot(op, init, young | dirty, 0);
			compare_slot(op, init, other, 0);
			compare_slot(op, init, ~UINT64_C(0), 0);
			break;
		case DS_REPLACE:
			/* one half, the other half, both, neither */
			compare_slot(op, init, init ^ UINT64_C(0x0000000000001000), 0);
			compare_slot(op, init, init ^ UINT64_C(0x0000001000000000), 0);
			compare_slot(op, init, other, 0);
			compare_slot(op, init, init, 0);
			break;
		case DS_MARK_ACCESSED:
			compare_slot(op, init, 0, 0);
			compare_slot(op, init, 1, 0);
			break;
		case DS_TXN:
			for (r = 0; r < 3 * 16; r++)
				compare_slot(op, init, (uint64_t)r / 16, (uint64_t)r % 16);
			break;
		default:
			compare_slot(op, init, other, 0);
			break;
		}
	}
	for (r = 0; r < rounds; r++) {
		uint64_t init = ptxn_make_pte(random_input(&rng)).storage;
		uint64_t a = ptxn_make_pte(random_input(&rng)).storage;
		uint64_t b = ptxn_make_pte(random_input(&rng)).storage;

		if (op == DS_CMPXCHG && (r & 1))
			a = init;
		compare_slot(op, init, a, b);
	}
	ck_assert_int_gt(n_compared, rounds);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("differential_" EXPECT_FORMAT);
	TCase *backends = tcase_create("backends");
	TCase *values = tcase_create("values");
	TCase *slots = tcase_create("slots");

	printf("# seed 0x%016" PRIx64 " (PTXN_TEST_SEED replays), scale %g\n", PT_U64(ptxn_test_seed()),
	       ptxn_test_scale());
	fflush(stdout);
	tcase_add_test(backends, test_backends);
	suite_add_tcase(s, backends);
	tcase_add_loop_test(values, test_value_op, 0, DV_COUNT);
	suite_add_tcase(s, values);
	tcase_add_loop_test(slots, test_slot_op, 0, DS_COUNT);
	suite_add_tcase(s, slots);
	return ptxn_test_run(s);
}
