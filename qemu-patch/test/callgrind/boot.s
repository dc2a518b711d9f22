.code16
.globl _start
_start:
    cli
    mov $0xb800, %ax
    mov %ax, %es
    xor %bx, %bx
frame:
    xor %di, %di
    mov $2000, %cx
cell:
    mov %bl, %al
    add %cl, %al
    mov $0x1f, %ah
    stosw
    loop cell
    inc %bl
    mov $0x4000, %dx
delay:
    dec %dx
    jnz delay
    jmp frame
.org 510
.word 0xaa55
