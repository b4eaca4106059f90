/* SPDX-License-Identifier: MIT */
/* The differential test's native side: arch overrides as the target selects them. */
#define DIFF_SIDE native
#include "test_differential_side.c"
