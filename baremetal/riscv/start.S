/* SPDX-License-Identifier: MIT */
/*
 * baremetal/riscv/start.S - entry, secondary entry, the S-mode trap vector and the probes
 * of the -M virt guest. OpenSBI enters _start in S-mode with satp = 0 (Bare), a0 = this
 * hart's id, a1 = the DTB (OpenSBI's next-stage convention, the one Linux's RISC-V boot
 * protocol, Documentation/riscv/boot.rst, relies on). The boot hart is whichever hart won
 * OpenSBI's boot lottery, not necessarily hart 0; the others wait in SBI HSM STOPPED
 * state until plat_start_secondaries() hart_starts them at bm_secondary_entry with
 * a0 = hartid, a1 = the opaque value (their CPU index).
 */
#define STACK_SIZE 16384

	.option norelax
	.section .text.boot, "ax"
	.global _start
_start:
	csrw	sie, zero		/* no interrupts: the guest only takes exceptions */
	la	sp, bm_stacks
	li	t0, STACK_SIZE
	add	sp, sp, t0
	/* zero .bss (our stack is in it, nothing is on it yet) */
	la	t0, __bss_start
	la	t1, __bss_end
1:	bgeu	t0, t1, 2f
	sd	zero, 0(t0)
	addi	t0, t0, 8
	j	1b
2:	call	plat_boot		/* (hartid, dtb) still in a0, a1 */
3:	wfi
	j	3b

	.global bm_secondary_entry
bm_secondary_entry:
	csrw	sie, zero
	la	sp, bm_stacks
	slli	t0, a1, 14		/* STACK_SIZE = 1 << 14 */
	add	sp, sp, t0
	li	t0, STACK_SIZE
	add	sp, sp, t0
	call	plat_secondary		/* (hartid, cpu) */
4:	wfi
	j	4b

/*
 * ---- the trap vector (stvec, Direct mode: 4-byte aligned) ----
 * Every trap is an exception taken from S-mode on the current stack; all registers but
 * sp are saved (x2 is restored by the frame size), plus sepc, which plat_trap may move
 * to a probe's fix-up. The frame is struct frame in plat.c: x[32] (x[0] unused), sepc.
 */
#define FRAME 272
	.text
	.balign	4
	.global	bm_trap_vector
bm_trap_vector:
	addi	sp, sp, -FRAME
	sd	x1, 8(sp)
	.irp	n, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
	sd	x\n, (\n * 8)(sp)
	.endr
	csrr	t0, sepc
	sd	t0, 256(sp)
	mv	a0, sp
	call	plat_trap
	ld	t0, 256(sp)
	csrw	sepc, t0
	ld	x1, 8(sp)
	.irp	n, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31
	ld	x\n, (\n * 8)(sp)
	.endr
	addi	sp, sp, FRAME
	sret

/*
 * ---- probes: one access each; a fault the policy gives up on resumes at a fix-up ----
 * Uncompressed, so that the faulting pc (sepc) is exactly the labelled instruction.
 */
	.option push
	.option norvc
	.global bm_probe_store, bm_probe_load, bm_probe_fetch
	.global bm_probe_store_insn, bm_probe_load_insn, bm_probe_fixup, bm_probe_fetch_fixup
bm_probe_store:
bm_probe_store_insn:
	sw	a1, 0(a0)
	li	a0, 0
	ret
bm_probe_load:
bm_probe_load_insn:
	lw	a2, 0(a0)
	sw	a2, 0(a1)
	li	a0, 0
	ret
bm_probe_fixup:
	li	a0, 1
	ret
bm_probe_fetch:
	addi	sp, sp, -16
	sd	ra, 8(sp)
	jalr	ra, 0(a0)		/* the page's first word is a ret */
	li	a0, 0
	ld	ra, 8(sp)
	addi	sp, sp, 16
	ret
bm_probe_fetch_fixup:
	li	a0, 1
	ld	ra, 8(sp)
	addi	sp, sp, 16
	ret
	.option pop
