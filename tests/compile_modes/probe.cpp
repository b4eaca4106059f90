// SPDX-License-Identifier: MIT
// The same translation unit compiled as C++ (tests/compile_modes/probe.c).
#include "probe.c"
