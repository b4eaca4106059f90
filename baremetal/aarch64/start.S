/* SPDX-License-Identifier: MIT */
/*
 * baremetal/aarch64/start.S - entry, secondary entry, exception vectors and probes for the
 * -M virt guest. QEMU enters _start at EL1 with the MMU off (bare-metal ELF, no firmware);
 * secondaries arrive at bm_secondary_entry through PSCI CPU_ON with x0 = their index.
 */
#define STACK_SIZE 16384

	.section .text.boot, "ax"
	.global _start
_start:
	msr	daifset, #0xf
	ldr	x1, =bm_stacks
	add	sp, x1, #STACK_SIZE
	/* zero .bss (our stack is in it, nothing is on it yet) */
	ldr	x1, =__bss_start
	ldr	x2, =__bss_end
1:	cmp	x1, x2
	b.hs	2f
	str	xzr, [x1], #8
	b	1b
2:	bl	plat_boot
3:	wfi
	b	3b

	.global bm_secondary_entry
bm_secondary_entry:
	msr	daifset, #0xf
	ldr	x1, =bm_stacks
	add	x1, x1, x0, lsl #14	/* STACK_SIZE = 1 << 14 */
	add	sp, x1, #STACK_SIZE
	bl	plat_secondary
4:	wfi
	b	4b

/* ---- exception vectors: every entry saves x0/x1 and joins vec_common with its index ---- */
#define FRAME 272
	.macro	VEC idx
	.balign	0x80
	sub	sp, sp, #FRAME
	stp	x0, x1, [sp, #0]
	mov	x0, #\idx
	b	vec_common
	.endm

	.text
	.balign	2048
	.global	bm_vectors
bm_vectors:
	VEC 0
	VEC 1
	VEC 2
	VEC 3
	VEC 4
	VEC 5
	VEC 6
	VEC 7
	VEC 8
	VEC 9
	VEC 10
	VEC 11
	VEC 12
	VEC 13
	VEC 14
	VEC 15

vec_common:
	stp	x2, x3, [sp, #16]
	stp	x4, x5, [sp, #32]
	stp	x6, x7, [sp, #48]
	stp	x8, x9, [sp, #64]
	stp	x10, x11, [sp, #80]
	stp	x12, x13, [sp, #96]
	stp	x14, x15, [sp, #112]
	stp	x16, x17, [sp, #128]
	stp	x18, x19, [sp, #144]
	stp	x20, x21, [sp, #160]
	stp	x22, x23, [sp, #176]
	stp	x24, x25, [sp, #192]
	stp	x26, x27, [sp, #208]
	stp	x28, x29, [sp, #224]
	str	x30, [sp, #240]
	mrs	x2, elr_el1
	mrs	x3, spsr_el1
	stp	x2, x3, [sp, #248]
	mov	x1, x0
	mov	x0, sp
	bl	plat_exception
	ldp	x2, x3, [sp, #248]
	msr	elr_el1, x2
	msr	spsr_el1, x3
	ldp	x2, x3, [sp, #16]
	ldp	x4, x5, [sp, #32]
	ldp	x6, x7, [sp, #48]
	ldp	x8, x9, [sp, #64]
	ldp	x10, x11, [sp, #80]
	ldp	x12, x13, [sp, #96]
	ldp	x14, x15, [sp, #112]
	ldp	x16, x17, [sp, #128]
	ldp	x18, x19, [sp, #144]
	ldp	x20, x21, [sp, #160]
	ldp	x22, x23, [sp, #176]
	ldp	x24, x25, [sp, #192]
	ldp	x26, x27, [sp, #208]
	ldp	x28, x29, [sp, #224]
	ldr	x30, [sp, #240]
	ldp	x0, x1, [sp, #0]
	add	sp, sp, #FRAME
	eret

/* ---- probes: one access each; a fault the policy gives up on resumes at a fix-up ------- */
	.global bm_probe_store, bm_probe_load, bm_probe_fetch
	.global bm_probe_store_insn, bm_probe_load_insn, bm_probe_fixup, bm_probe_fetch_fixup
bm_probe_store:
bm_probe_store_insn:
	str	w1, [x0]
	mov	x0, #0
	ret
bm_probe_load:
bm_probe_load_insn:
	ldr	w2, [x0]
	str	w2, [x1]
	mov	x0, #0
	ret
bm_probe_fixup:
	mov	x0, #1
	ret
bm_probe_fetch:
	stp	x29, x30, [sp, #-16]!
	blr	x0
	mov	x0, #0
	ldp	x29, x30, [sp], #16
	ret
bm_probe_fetch_fixup:
	mov	x0, #1
	ldp	x29, x30, [sp], #16
	ret
