/* SPDX-License-Identifier: MIT */
/*
 * Runs every probe compiled in a mode that can run in user space, as TAP. PROBE_LIST is
 * given by meson.build: PROBE(probe_c99) PROBE(probe_cpp11) ...
 */
#include <stdio.h>

#define PROBE(name) int name(void);
PROBE_LIST
#undef PROBE

int main(void)
{
	int n = 0, failed = 0, r;

#define PROBE(name) n++;
	PROBE_LIST
#undef PROBE
	printf("1..%d\n", n);
	n = 0;
#define PROBE(name)                                                                         \
	r = name();                                                                         \
	printf("%s %d - %s (code %d)\n", r ? "not ok" : "ok", ++n, #name, r);               \
	failed += r != 0;
	PROBE_LIST
#undef PROBE
	return failed != 0;
}
