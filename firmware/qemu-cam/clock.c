/* Millisecond clock.
 *
 * SysTick interrupts at 1 kHz (CLKSOURCE=1: processor clock, which QEMU's
 * mps2 wires to the 25 MHz SYSCLK). QEMU drives its timers from
 * QEMU_CLOCK_VIRTUAL, which without -icount follows host time. But counting
 * SysTick interrupts is NOT a reliable clock under QEMU: when the interrupt
 * is taken late (vCPU busy, host loaded) expiries are merged into one
 * pending exception; measured against the host the interrupt count ran at
 * 0.94-0.99x with an idle guest and 0.35-0.86x while it streamed UART data
 * (echo_test.py --bench prints both). So the time itself comes from the
 * free-running 32-bit down-counter of CMSDK TIMER0 (0x40000000, 25 MHz,
 * wraps every 171.8 s), whose VALUE QEMU computes from the virtual clock at
 * the moment of the read. The tick only refreshes the volatile ms counter,
 * so it is folded in often enough never to miss a wrap. */
#include "clock.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define CSR_ENABLE    (1u << 0)
#define CSR_TICKINT   (1u << 1)
#define CSR_CLKSOURCE (1u << 2)

#define TIMER0_CTRL   (*(volatile uint32_t *)0x40000000u)
#define TIMER0_VALUE  (*(volatile uint32_t *)0x40000004u)
#define TIMER0_RELOAD (*(volatile uint32_t *)0x40000008u)

#define CYCLES_PER_MS (SYSCLK_HZ / 1000u)

static volatile uint32_t ms_now;        /* the ms counter */
static volatile uint32_t tick_count;    /* raw SysTick interrupts, for tests */
static uint32_t last_value, cycle_rem;  /* owned by update() */

/* Fold the TIMER0 cycles elapsed since the last call into ms_now.
 * Runs in the SysTick handler or with interrupts masked. */
static void update(void)
{
    uint32_t v = TIMER0_VALUE;
    uint32_t elapsed = last_value - v;  /* down-counter; modulo 2^32 */
    last_value = v;
    uint32_t ms = ms_now + elapsed / CYCLES_PER_MS;
    cycle_rem += elapsed % CYCLES_PER_MS;
    if (cycle_rem >= CYCLES_PER_MS) {
        cycle_rem -= CYCLES_PER_MS;
        ms++;
    }
    ms_now = ms;
}

void SysTick_Handler(void)
{
    tick_count++;
    update();
}

void clock_init(void)
{
    TIMER0_RELOAD = 0xFFFFFFFFu;
    TIMER0_VALUE = 0xFFFFFFFFu;
    TIMER0_CTRL = 1;                    /* enable, no interrupt */
    last_value = TIMER0_VALUE;

    SYST_RVR = CYCLES_PER_MS - 1u;      /* period = RVR+1 cycles */
    SYST_CVR = 0;                       /* any write clears the counter */
    SYST_CSR = CSR_ENABLE | CSR_TICKINT | CSR_CLKSOURCE;
}

uint32_t clock_ms(void)
{
    uint32_t primask;
    __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask) :: "memory");
    update();
    uint32_t ms = ms_now;
    __asm__ volatile("msr primask, %0" :: "r"(primask) : "memory");
    return ms;
}

uint32_t clock_ticks(void) { return tick_count; }
