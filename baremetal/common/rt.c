/* SPDX-License-Identifier: MIT */
/*
 * baremetal/common/rt.c - console output, a small printf, the command line, a PRNG, the
 * per-CPU records and the fault policy shared by every bare-metal guest.
 */
#include <stdarg.h>
#include "bm.h"

struct bm_cpu bm_cpus[BM_MAX_CPUS];

/* ---- memory helpers the compiler may call even with -fno-builtin (struct copies) ------ */
void *memset(void *d, int c, size_t n)
{
	unsigned char *p = d;

	while (n--)
		*p++ = (unsigned char)c;
	return d;
}

void *memcpy(void *d, const void *s, size_t n)
{
	unsigned char *p = d;
	const unsigned char *q = s;

	while (n--)
		*p++ = *q++;
	return d;
}

int bm_strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b)
			return (unsigned char)*a - (unsigned char)*b;
		if (!*a)
			return 0;
	}
	return 0;
}

/* ---- console: one line at a time, whole lines never interleave between CPUs ----------- */
static volatile uint32_t console_lock;

static void lock_console(void)
{
	while (__atomic_exchange_n(&console_lock, 1, __ATOMIC_ACQUIRE))
		plat_cpu_relax();
}

static void unlock_console(void)
{
	__atomic_store_n(&console_lock, 0, __ATOMIC_RELEASE);
}

static void put_raw(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			plat_putc('\r');
		plat_putc(*s);
	}
}

void bm_puts(const char *s)
{
	lock_console();
	put_raw(s);
	unlock_console();
}

struct outbuf {
	char buf[512];
	unsigned len;
};

static void out_c(struct outbuf *o, char c)
{
	if (o->len < sizeof(o->buf) - 1)
		o->buf[o->len++] = c;
}

static void out_u64(struct outbuf *o, uint64_t v, unsigned base, int width, char pad)
{
	char tmp[24];
	int n = 0;

	do {
		unsigned d = (unsigned)(v % base);
		tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
		v /= base;
	} while (v);
	while (width-- > n)
		out_c(o, pad);
	while (n)
		out_c(o, tmp[--n]);
}

static void vformat(struct outbuf *o, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		int longs = 0, width = 0;
		char pad = ' ';
		uint64_t u;
		int64_t s;

		if (*fmt != '%') {
			out_c(o, *fmt);
			continue;
		}
		fmt++;
		if (*fmt == '0')
			pad = '0', fmt++;
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		while (*fmt == 'l')
			longs++, fmt++;
		if (*fmt == 'z')
			longs = sizeof(size_t) == 8 ? 2 : 0, fmt++;
		switch (*fmt) {
		case 'd':
			s = longs >= 2 ? va_arg(ap, long long) : longs ? va_arg(ap, long) : va_arg(ap, int);
			if (s < 0) {
				out_c(o, '-');
				u = (uint64_t)-s;
			} else {
				u = (uint64_t)s;
			}
			out_u64(o, u, 10, width, pad);
			break;
		case 'u':
		case 'x':
			u = longs >= 2 ? va_arg(ap, unsigned long long)
			    : longs ? va_arg(ap, unsigned long) : va_arg(ap, unsigned int);
			out_u64(o, u, *fmt == 'u' ? 10 : 16, width, pad);
			break;
		case 'p':
			out_c(o, '0');
			out_c(o, 'x');
			out_u64(o, (uintptr_t)va_arg(ap, void *), 16, 0, ' ');
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);

			for (str = str ? str : "(null)"; *str; str++)
				out_c(o, *str);
			break;
		}
		case 'c':
			out_c(o, (char)va_arg(ap, int));
			break;
		case '%':
			out_c(o, '%');
			break;
		default:
			out_c(o, '?');
			break;
		}
	}
	o->buf[o->len] = 0;
}

void bm_printf(const char *fmt, ...)
{
	struct outbuf o;
	va_list ap;

	o.len = 0;
	va_start(ap, fmt);
	vformat(&o, fmt, ap);
	va_end(ap);
	bm_puts(o.buf);
}

void bm_format(char *buf, unsigned size, const char *fmt, ...)
{
	struct outbuf o;
	va_list ap;
	unsigned i;

	o.len = 0;
	va_start(ap, fmt);
	vformat(&o, fmt, ap);
	va_end(ap);
	for (i = 0; i + 1 < size && i < o.len; i++)
		buf[i] = o.buf[i];
	if (size)
		buf[i] = 0;
}

void bm_panic(const char *fmt, ...)
{
	struct outbuf o;
	va_list ap;

	o.len = 0;
	va_start(ap, fmt);
	vformat(&o, fmt, ap);
	va_end(ap);
	/* No lock: the CPU holding it may be the one that faulted. */
	put_raw("PTXN-PANIC ");
	put_raw(o.buf);
	put_raw("\nPTXN-RESULT FAIL\n");
	plat_poweroff(false);
}

/* ---- command line: "key=value" words from -append ---------------------------------------- */
uint64_t bm_cmdline_u64(const char *key, uint64_t dflt)
{
	const char *s = plat_cmdline();
	size_t klen = 0;

	while (key[klen])
		klen++;
	while (s && *s) {
		while (*s == ' ')
			s++;
		if (!bm_strncmp(s, key, klen) && s[klen] == '=') {
			uint64_t v = 0;

			for (s += klen + 1; *s >= '0' && *s <= '9'; s++)
				v = v * 10 + (uint64_t)(*s - '0');
			return v;
		}
		while (*s && *s != ' ')
			s++;
	}
	return dflt;
}

/*
 * /chosen/bootargs of a flattened device tree (Devicetree Specification v0.3, 5.4
 * "Structure Block": big-endian tokens; BEGIN_NODE name, PROP len/nameoff/value, each
 * padded to 4 bytes). QEMU puts -append there on -M virt (arm and riscv). The first
 * "bootargs" property found is taken: QEMU's trees have one, in /chosen.
 */
static uint32_t fdt_be32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

void bm_fdt_bootargs(const void *fdt, char *buf, unsigned size)
{
	const uint8_t *h = fdt, *st, *strings;
	uint32_t off, len;

	if (size)
		buf[0] = 0;
	if (!h || fdt_be32(h) != 0xd00dfeed || size == 0)
		return;
	st = h + fdt_be32(h + 8);       /* off_dt_struct */
	strings = h + fdt_be32(h + 12); /* off_dt_strings */
	len = fdt_be32(h + 36);         /* size_dt_struct */
	for (off = 0; off + 4 <= len;) {
		uint32_t tok = fdt_be32(st + off);

		off += 4;
		if (tok == 1) { /* FDT_BEGIN_NODE: NUL-terminated name */
			while (st[off])
				off++;
			off = (off + 4) & ~3u;
		} else if (tok == 3) { /* FDT_PROP */
			uint32_t plen = fdt_be32(st + off), name = fdt_be32(st + off + 4);

			if (!bm_strncmp((const char *)strings + name, "bootargs", 9)) {
				uint32_t i;

				for (i = 0; i < plen && i + 1 < size && st[off + 8 + i]; i++)
					buf[i] = (char)st[off + 8 + i];
				buf[i] = 0;
				return;
			}
			off += 8 + ((plen + 3) & ~3u);
		} else if (tok == 9) { /* FDT_END */
			return;
		} /* FDT_END_NODE (2), FDT_NOP (4): no payload */
	}
}

/* Marsaglia's xorshift64: good enough to spread timing and choices, no multiply. */
uint64_t bm_rand(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ull;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

uint64_t bm_elapsed_us(uint64_t t0)
{
	uint64_t dt = plat_ticks() - t0, hz = plat_tick_hz();

	return dt / (hz / 1000000u ? hz / 1000000u : 1);
}

/* ---- the fault policy ---------------------------------------------------------------------- */
/* How long a faulting access waits for a broken entry before the run is declared hung. */
#define BM_BROKEN_WAIT_SECONDS 5

static bool wait_until_valid(ptxn_pte_t *ptep)
{
	uint64_t t0 = plat_ticks(), limit = plat_tick_hz() * BM_BROKEN_WAIT_SECONDS;

	while (!ptxn_pte_hw_valid(ptxn_ptep_get(ptep))) {
		if (plat_ticks() - t0 > limit)
			return false;
		plat_cpu_relax();
	}
	return true;
}

enum bm_fault_action bm_fault(uintptr_t va, enum bm_access access, enum bm_fault_kind kind,
			      bool in_probe)
{
	struct bm_cpu *c = bm_this_cpu();
	uintptr_t base = plat_test_va();
	ptxn_pte_t *ptep;

	if (va < base || va >= base + (uintptr_t)BM_NPAGES * BM_PAGE)
		return BM_FATAL;
	ptep = plat_test_ptes() + (va - base) / BM_PAGE;
	c->faults++;
	c->fault_count_probe++;
	c->last_fault_kind = kind;
	c->last_fault_access = access;

	switch (c->mode) {
	case BM_MODE_PROBE:
		/* The differential suite records the fault and changes nothing. */
		return in_probe ? BM_FIXUP : BM_FATAL;
	case BM_MODE_RACE:
	case BM_MODE_DOWNGRADE:
		if (kind == BM_FAULT_NOT_VALID) {
			/* A transaction has the entry broken (CLEAR, AUTO's batched break). */
			c->broken_waits++;
			return wait_until_valid(ptep) ? BM_RETRY : BM_FATAL;
		}
		/*
		 * Access-flag or dirty-state fault where the MMU does not manage A/D: do what the
		 * hardware would, through ptxn (the pre-ARMv8.1 path). It refuses an entry that is
		 * broken or does not allow the access; then look again below.
		 */
		if ((!plat_hw_ad() || kind == BM_FAULT_ACCESS_FLAG || kind == BM_FAULT_RC) &&
		    ptxn_ptep_mark_accessed(ptep, access == BM_WRITE)) {
			c->sw_ad++;
			plat_flush_tlb_local(va);
			return BM_RETRY;
		}
		if (!ptxn_pte_hw_valid(ptxn_ptep_get(ptep))) {
			c->broken_waits++;
			return wait_until_valid(ptep) ? BM_RETRY : BM_FATAL;
		}
		if (access != BM_WRITE || ptxn_pte_write(ptxn_ptep_get(ptep))) {
			/* The entry allows the access now (it changed since the walk): again. */
			c->broken_waits++;
			return BM_RETRY;
		}
		/* A valid entry that does not allow the access: a real permission fault. */
		if (in_probe) {
			c->perm_refused++;
			return BM_FIXUP;
		}
		return BM_FATAL;
	default:
		return BM_FATAL;
	}
}
