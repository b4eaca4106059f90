/* SPDX-License-Identifier: MIT */
/*
 * baremetal/x86/boot.S - multiboot entry, the application-processor trampoline, interrupt
 * stubs and probes, for both x86 guests:
 *   x86_64-system (__x86_64__): 32-bit multiboot entry -> long mode, 4-level paging;
 *   i686-system   (__i386__):   32-bit multiboot entry -> 32-bit PAE paging (set up in C).
 * QEMU's -kernel loads a 32-bit multiboot ELF (header in the first 8 KiB) and enters
 * _start in protected mode, paging off, EAX = 0x2badb002, EBX = the multiboot info.
 */
#define STACK_SIZE	16384
#define TRAMP_BASE	0x8000		/* SIPI vector 0x08: the APs start at 0x0800:0000 */
#define MSR_EFER	0xc0000080
#define EFER_LME	(1 << 8)
#define EFER_NXE	(1 << 11)
#define CR0_PE		(1 << 0)
#define CR0_WP		(1 << 16)	/* supervisor writes honour R/W=0: the downgrade suite needs it */
#define CR0_PG		(1 << 31)
#define CR4_PAE		(1 << 5)

	.section .text.boot, "ax"
	.code32
	.balign	4
multiboot_header:
	.long	0x1badb002			/* magic */
	.long	0				/* flags: the ELF headers say where to load */
	.long	-(0x1badb002 + 0)		/* checksum */

	.global	_start
_start:
	cli
	cld
	movl	%ebx, bm_multiboot_info
	lgdt	gdt_desc
	ljmp	$0x08, $1f
1:	movw	$0x10, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movw	%ax, %fs
	movw	%ax, %gs
	movl	$(bm_stacks + STACK_SIZE), %esp
	/* zero .bss, keeping bm_multiboot_info (in .data) */
	movl	$__bss_start, %edi
	movl	$__bss_end, %ecx
	subl	%edi, %ecx
	xorl	%eax, %eax
	rep stosb
#ifdef __x86_64__
	call	build_boot_map
	call	enter_long_mode
	ljmp	$0x18, $boot64
#else
	call	plat_boot
2:	hlt
	jmp	2b
#endif

#ifdef __x86_64__
/*
 * Identity map of the low 4 GiB with 2 MiB pages (RAM, the local APIC at 0xfee00000):
 * PML4[0] -> PDPT, PDPT[0..3] -> bm_x86_pd[0..3]. plat_boot() later hangs the test
 * window's page table, built with ptxn, under bm_x86_pd[1][0].
 */
build_boot_map:
	movl	$bm_x86_pdpt, %eax
	orl	$0x3, %eax			/* P, R/W */
	movl	%eax, bm_x86_pml4
	xorl	%ecx, %ecx
3:	movl	%ecx, %eax
	shll	$12, %eax
	addl	$bm_x86_pd, %eax
	orl	$0x3, %eax
	movl	%eax, bm_x86_pdpt(,%ecx,8)
	incl	%ecx
	cmpl	$4, %ecx
	jne	3b
	xorl	%ecx, %ecx			/* 2048 PDEs of 2 MiB */
4:	movl	%ecx, %eax
	shll	$21, %eax
	orl	$0xe3, %eax			/* P, R/W, A, D, PS */
	movl	%eax, bm_x86_pd(,%ecx,8)
	movl	%ecx, %eax
	shrl	$11, %eax			/* bits 32.. of the address: 0 below 4 GiB */
	movl	%eax, bm_x86_pd+4(,%ecx,8)
	incl	%ecx
	cmpl	$2048, %ecx
	jne	4b
	ret

/* PAE + EFER.LME/NXE + CR3 + CR0.PG: long mode (compatibility until the far jump). */
enter_long_mode:
	movl	%cr4, %eax
	orl	$CR4_PAE, %eax
	movl	%eax, %cr4
	movl	$bm_x86_pml4, %eax
	movl	%eax, %cr3
	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$(EFER_LME | EFER_NXE), %eax
	wrmsr
	movl	%cr0, %eax
	orl	$(CR0_PG | CR0_WP | CR0_PE), %eax
	movl	%eax, %cr0
	ret

	.code64
boot64:
	movw	$0x10, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movabsq	$(bm_stacks + STACK_SIZE), %rsp
	call	plat_boot
5:	hlt
	jmp	5b
	.code32
#endif

/*
 * Application processors continue here from the trampoline in protected mode, flat
 * segments, EAX = their index (1, 2, ...): stack, paging as on the boot CPU, plat_ap().
 */
ap_entry32:
	movl	%eax, %esi
	incl	%eax
	shll	$14, %eax			/* STACK_SIZE = 1 << 14 */
	addl	$bm_stacks, %eax
	movl	%eax, %esp
#ifdef __x86_64__
	call	enter_long_mode
	ljmp	$0x18, $ap64
	.code64
ap64:
	movl	%esp, %esp			/* zero the upper half of RSP */
	movw	$0x10, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movl	%esi, %edi
	call	plat_ap
6:	hlt
	jmp	6b
	.code32
#else
	movl	%cr4, %eax
	orl	$CR4_PAE, %eax
	movl	%eax, %cr4
	movl	bm_x86_cr3, %eax
	movl	%eax, %cr3
	movl	$MSR_EFER, %ecx
	rdmsr
	orl	$EFER_NXE, %eax
	wrmsr
	movl	%cr0, %eax
	orl	$(CR0_PG | CR0_WP), %eax
	movl	%eax, %cr0
	pushl	%esi
	call	plat_ap
7:	hlt
	jmp	7b
#endif

/*
 * The trampoline: copied to TRAMP_BASE by plat_start_secondaries(), entered in real mode
 * by the SIPI. Every address inside it is TRAMP_BASE + (label - bm_tramp_start).
 */
#define T(x) (TRAMP_BASE + ((x) - bm_tramp_start))
	.global	bm_tramp_start, bm_tramp_end
	.balign	16
bm_tramp_start:
	.code16
	cli
	cld
	xorw	%ax, %ax
	movw	%ax, %ds
	lgdtl	T(tramp_gdt_desc)
	movl	%cr0, %eax
	orl	$CR0_PE, %eax
	movl	%eax, %cr0
	ljmpl	$0x08, $T(tramp32)
	.code32
tramp32:
	movw	$0x10, %ax
	movw	%ax, %ds
	movw	%ax, %es
	movw	%ax, %ss
	movl	$1, %eax
	lock xaddl %eax, bm_ap_next		/* this AP's index */
	movl	$ap_entry32, %ecx
	jmp	*%ecx
	.balign	8
tramp_gdt_desc:
	.word	gdt_end - gdt - 1
	.long	gdt
bm_tramp_end:

	.section .rodata
	.balign	8
gdt:
	.quad	0
	.quad	0x00cf9a000000ffff		/* 0x08: 32-bit code, flat */
	.quad	0x00cf92000000ffff		/* 0x10: data, flat */
	.quad	0x00af9a000000ffff		/* 0x18: 64-bit code */
gdt_end:
gdt_desc:
	.word	gdt_end - gdt - 1
	.long	gdt

	.data
	.balign	4
	.global	bm_multiboot_info, bm_ap_next
bm_multiboot_info:
	.long	0
bm_ap_next:
	.long	1

/* ---- interrupt stubs: vector and error code pushed, registers saved, plat_trap(frame) -- */
	.text
#ifdef __x86_64__
	.code64
	.macro	ISR n, err
	.global	bm_isr\n
bm_isr\n:
	.if	!\err
	pushq	$0
	.endif
	pushq	$\n
	jmp	isr_common
	.endm
isr_common:
	pushq	%rax
	pushq	%rcx
	pushq	%rdx
	pushq	%rbx
	pushq	%rbp
	pushq	%rsi
	pushq	%rdi
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	movq	%rsp, %rdi
	cld
	call	plat_trap
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rdi
	popq	%rsi
	popq	%rbp
	popq	%rbx
	popq	%rdx
	popq	%rcx
	popq	%rax
	addq	$16, %rsp
	iretq
#else
	.macro	ISR n, err
	.global	bm_isr\n
bm_isr\n:
	.if	!\err
	pushl	$0
	.endif
	pushl	$\n
	jmp	isr_common
	.endm
isr_common:
	pushal
	movl	%esp, %eax
	cld
	pushl	%eax
	call	plat_trap
	addl	$4, %esp
	popal
	addl	$8, %esp
	iret
#endif
	ISR 0, 0
	ISR 1, 0
	ISR 2, 0
	ISR 3, 0
	ISR 4, 0
	ISR 5, 0
	ISR 6, 0
	ISR 7, 0
	ISR 8, 1
	ISR 9, 0
	ISR 10, 1
	ISR 11, 1
	ISR 12, 1
	ISR 13, 1
	ISR 14, 1
	ISR 15, 0
	ISR 16, 0
	ISR 17, 1
	ISR 18, 0
	ISR 19, 0
	ISR 240, 0			/* TLB shootdown IPI */
	ISR 255, 0			/* APIC spurious */

/* ---- probes ----------------------------------------------------------------------------- */
	.global	bm_probe_store, bm_probe_load, bm_probe_fetch
	.global	bm_probe_store_insn, bm_probe_load_insn, bm_probe_fixup, bm_probe_fetch_fixup
#ifdef __x86_64__
bm_probe_store:
bm_probe_store_insn:
	movl	%esi, (%rdi)
	xorl	%eax, %eax
	ret
bm_probe_load:
bm_probe_load_insn:
	movl	(%rdi), %eax
	movl	%eax, (%rsi)
	xorl	%eax, %eax
	ret
bm_probe_fixup:
	movl	$1, %eax
	ret
bm_probe_fetch:
	call	*%rdi
	xorl	%eax, %eax
	ret
bm_probe_fetch_fixup:
	addq	$8, %rsp			/* the return address the faulting call pushed */
	movl	$1, %eax
	ret
#else
bm_probe_store:
	movl	4(%esp), %ecx
	movl	8(%esp), %edx
bm_probe_store_insn:
	movl	%edx, (%ecx)
	xorl	%eax, %eax
	ret
bm_probe_load:
	movl	4(%esp), %ecx
	movl	8(%esp), %edx
bm_probe_load_insn:
	movl	(%ecx), %eax
	movl	%eax, (%edx)
	xorl	%eax, %eax
	ret
bm_probe_fixup:
	movl	$1, %eax
	ret
bm_probe_fetch:
	movl	4(%esp), %eax
	call	*%eax
	xorl	%eax, %eax
	ret
bm_probe_fetch_fixup:
	addl	$4, %esp
	movl	$1, %eax
	ret
#endif
	.section .note.GNU-stack, "", @progbits
