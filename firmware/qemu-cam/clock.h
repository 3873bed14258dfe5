/* Millisecond clock. */
#ifndef QEMU_CAM_CLOCK_H
#define QEMU_CAM_CLOCK_H
#include <stdint.h>

#define SYSCLK_HZ 25000000u   /* mps2 system clock: feeds SysTick and TIMER0 */

void clock_init(void);
/* ms since clock_init, exact to host time; wraps after ~49 days. One MMIO
 * read per call (QEMU global lock): fine per loop pass, avoid spinning on it. */
uint32_t clock_ms(void);
uint32_t clock_ticks(void);   /* raw count of 1 kHz SysTick interrupts */

#endif
