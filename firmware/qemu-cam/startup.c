/* Vector table, reset and fault handling for QEMU mps2-an500 (Cortex-M7). */
#include <stdint.h>
#include "semihost.h"

extern uint32_t _estack, _sidata, _sdata, _edata, _sbss, _ebss;
int main(void);

void Reset_Handler(void);
void Default_Handler(void);
#define WEAK_HANDLER(name) void name(void) __attribute__((weak, alias("Default_Handler")))
WEAK_HANDLER(NMI_Handler);
WEAK_HANDLER(HardFault_Handler);
WEAK_HANDLER(MemManage_Handler);
WEAK_HANDLER(BusFault_Handler);
WEAK_HANDLER(UsageFault_Handler);
WEAK_HANDLER(SVC_Handler);
WEAK_HANDLER(DebugMon_Handler);
WEAK_HANDLER(PendSV_Handler);
WEAK_HANDLER(SysTick_Handler);
WEAK_HANDLER(UART0RX_Handler);   /* IRQ 0 */

#define NUM_IRQS 32   /* external interrupts QEMU's mps2 boards configure */

typedef void (*vector_t)(void);

/* Entry 0 is the initial MSP, entry 1 the reset PC (with the Thumb bit). */
__attribute__((section(".vectors"), used))
const vector_t vector_table[16 + NUM_IRQS] = {
    [0]  = (vector_t)&_estack,
    [1]  = Reset_Handler,
    [2]  = NMI_Handler,
    [3]  = HardFault_Handler,
    [4]  = MemManage_Handler,
    [5]  = BusFault_Handler,
    [6]  = UsageFault_Handler,
    [11] = SVC_Handler,
    [12] = DebugMon_Handler,
    [14] = PendSV_Handler,
    [15] = SysTick_Handler,
    [16 + 0] = UART0RX_Handler,
    [16 + 1 ... 16 + NUM_IRQS - 1] = Default_Handler,
};

#define SCB_CPACR (*(volatile uint32_t *)0xE000ED88u)
#define SCB_CFSR  (*(volatile uint32_t *)0xE000ED28u)
#define SCB_HFSR  (*(volatile uint32_t *)0xE000ED2Cu)

void Reset_Handler(void)
{
    /* Grant full access to CP10/CP11 (the FPU) before anything can execute
     * a VFP instruction: all code, including the hard-float Rust library, is
     * built with -mfloat-abi=hard and would otherwise take a NOCP fault. */
    SCB_CPACR |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");

    uint32_t *src = &_sidata, *dst = &_sdata;
    while (dst < &_edata)
        *dst++ = *src++;
    for (dst = &_sbss; dst < &_ebss; )
        *dst++ = 0;

    semihost_exit(main());
}

/* Called with the exception stack frame (r0-r3, r12, lr, pc, xpsr). */
__attribute__((used, noreturn)) void fault_report(const uint32_t *frame)
{
    uint32_t ipsr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr));
    ipsr &= 0x1ff;
    semihost_put_hex("qemu-cam: unhandled exception ", ipsr);
    semihost_put_hex("  pc   ", frame[6]);
    semihost_put_hex("  lr   ", frame[5]);
    semihost_put_hex("  cfsr ", SCB_CFSR);
    semihost_put_hex("  hfsr ", SCB_HFSR);
    /* Exit status 128 + exception number (HardFault -> 131). */
    semihost_exit(128 + (int)ipsr);
}

/* Pick the stack that holds the frame (EXC_RETURN bit 2: 0 = MSP, 1 = PSP). */
__attribute__((naked)) void Default_Handler(void)
{
    __asm__ volatile(
        "tst   lr, #4\n\t"
        "ite   eq\n\t"
        "mrseq r0, msp\n\t"
        "mrsne r0, psp\n\t"
        "b     fault_report\n\t");
}
