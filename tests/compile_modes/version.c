/* SPDX-License-Identifier: MIT */
/*
 * core/version.h agrees with meson.build's project version, which meson passes as
 * MESON_VERSION_{MAJOR,MINOR,PATCH,STRING}: at compile time (a mismatch fails the build)
 * and again at run time, as TAP. The installed ptxn.pc carries meson's version, so this
 * also keeps `pkg-config --modversion ptxn` equal to PTXN_VERSION_STRING
 * (tests/consumers/ checks the installed file).
 */
#include <ptxn/ptxn.h>

#include <stdio.h>
#include <string.h>

PTXN_STATIC_ASSERT(PTXN_VERSION_MAJOR == MESON_VERSION_MAJOR, "core/version.h: major != meson.build");
PTXN_STATIC_ASSERT(PTXN_VERSION_MINOR == MESON_VERSION_MINOR, "core/version.h: minor != meson.build");
PTXN_STATIC_ASSERT(PTXN_VERSION_PATCH == MESON_VERSION_PATCH, "core/version.h: patch != meson.build");
PTXN_STATIC_ASSERT(PTXN_VERSION == PTXN_VERSION_OF(MESON_VERSION_MAJOR, MESON_VERSION_MINOR,
						   MESON_VERSION_PATCH), "PTXN_VERSION");

int main(void)
{
	int ok = strcmp(PTXN_VERSION_STRING, MESON_VERSION_STRING) == 0;

	printf("1..1\n%s 1 - PTXN_VERSION_STRING \"%s\", meson.build \"%s\"\n", ok ? "ok" : "not ok",
	       PTXN_VERSION_STRING, MESON_VERSION_STRING);
	return !ok;
}
