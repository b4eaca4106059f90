/* SPDX-License-Identifier: MIT */
/* The differential test's generic side: no arch override at all (docs/design.md). */
#define PTXN_FORCE_GENERIC 1
#define DIFF_SIDE generic
#include "test_differential_side.c"
