/* SPDX-License-Identifier: MIT */
/*
 * ptxn/hwemu/random.h - splitmix64, the one pseudo-random step of hwemu (agents' access
 * patterns: one seed gives one ledger) and of bench/, which uses hwemu anyway. Every seed,
 * 0 included, gives a full-period stream. Tests keep tests/ptxn_test.h's ptxn_test_rand,
 * so that a test which does not use the simulator does not depend on it.
 *
 * Part of <ptxn/hwemu.h>; includes the parts it uses (docs/hwemu.md has the tree).
 */
#ifndef PTXN_HWEMU_RANDOM_H
#define PTXN_HWEMU_RANDOM_H

#include "types.h"   /* PTXN_HWEMU_FUNC */

PTXN_EXTERN_C_BEGIN

PTXN_HWEMU_FUNC uint64_t ptxn_hwemu_rand(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15)); /* splitmix64 */

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

PTXN_EXTERN_C_END

#endif /* PTXN_HWEMU_RANDOM_H */
