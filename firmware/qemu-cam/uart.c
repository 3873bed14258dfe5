/* CMSDK APB UART0 at 0x40004000, RX interrupt on NVIC IRQ 0 (TX is IRQ 1).
 * The model holds exactly one byte each way (no FIFO): STATE.RXFULL means
 * DATA holds a received byte, STATE.TXFULL means the previous byte has not
 * been taken by the backend yet. QEMU's TCP backend hands the UART one byte
 * per main-loop iteration, so reception is driven by an interrupt that moves
 * bytes into a RAM ring as soon as they land. */
#include "uart.h"

#define UART0_BASE 0x40004000u
#define REG(off)   (*(volatile uint32_t *)(UART0_BASE + (off)))
#define DATA       REG(0x00)
#define STATE      REG(0x04)
#define CTRL       REG(0x08)
#define INTCLEAR   REG(0x0C)   /* write 1 to clear; reads as INTSTATUS */
#define BAUDDIV    REG(0x10)

#define STATE_TXFULL (1u << 0)
#define STATE_RXFULL (1u << 1)
#define CTRL_TX_EN   (1u << 0)
#define CTRL_RX_EN   (1u << 1)
#define CTRL_RX_INTEN (1u << 3)
#define INT_RX       (1u << 1)

#define UART0_RX_IRQ 0
#define NVIC_ISER0   (*(volatile uint32_t *)0xE000E100u)

#define RX_SIZE 4096u                  /* power of two */
static uint8_t rx_ring[RX_SIZE];
static volatile uint32_t rx_head;      /* written by ISR (or with IRQs off) */
static volatile uint32_t rx_tail;      /* written by thread code only */
static volatile uint8_t rx_stalled;    /* a byte was left in DATA (ring full) */

/* Move bytes from the holding register into the ring while there is room.
 * When the ring is full the byte stays in DATA, so QEMU stops reading the
 * socket: back-pressure instead of loss. Runs in the ISR or with IRQs off. */
static void rx_pull(void)
{
    while (STATE & STATE_RXFULL) {
        if (rx_head - rx_tail == RX_SIZE) {
            rx_stalled = 1;
            return;
        }
        rx_ring[rx_head % RX_SIZE] = (uint8_t)DATA;
        rx_head++;
    }
    rx_stalled = 0;
}

/* The emulated cam (cam.c, built with -DUART_RX_BY_ENGINE) takes this interrupt over to
 * feed the engine's own receive ring; uart_getc and friends are then unused. */
#ifndef UART_RX_BY_ENGINE
void UART0RX_Handler(void)
{
    INTCLEAR = INT_RX;   /* clear first: a byte landing during rx_pull re-raises it */
    rx_pull();
}
#endif

void uart_init(void)
{
    /* QEMU ignores the rate but refuses to transmit if BAUDDIV < 16. */
    BAUDDIV = 16;
    CTRL = CTRL_TX_EN | CTRL_RX_EN | CTRL_RX_INTEN;
    /* Dummy read: QEMU only tells the chardev (our TCP socket) that the UART
     * can accept input again when DATA is read; setting CTRL.RX_EN does not.
     * Without this read the first host byte sits in the socket until some
     * unrelated main-loop wakeup, about 1 s later. */
    (void)DATA;
    NVIC_ISER0 = 1u << UART0_RX_IRQ;
}

int uart_getc(void)
{
    /* Only RAM is touched here unless a byte was left in DATA while the
     * ring was full (every MMIO access takes QEMU's global lock). */
    if (rx_stalled) {
        uint32_t primask;
        __asm__ volatile("mrs %0, primask\n\tcpsid i" : "=r"(primask) :: "memory");
        rx_pull();
        __asm__ volatile("msr primask, %0" :: "r"(primask) : "memory");
    }
    if (rx_tail == rx_head)
        return -1;
    uint8_t c = rx_ring[rx_tail % RX_SIZE];
    rx_tail++;
    return c;
}

size_t uart_read(void *buf, size_t len)
{
    uint8_t *p = buf;
    size_t n = 0;
    int c;
    while (n < len && (c = uart_getc()) >= 0)
        p[n++] = (uint8_t)c;
    return n;
}

void uart_wait(void)   /* thread mode, interrupts enabled */
{
    /* IRQs off around the check so an arrival between the check and WFI
     * still ends the WFI (a pending interrupt wakes it even when masked). */
    __asm__ volatile("cpsid i" ::: "memory");
    if (rx_tail == rx_head && !rx_stalled)
        __asm__ volatile("wfi" ::: "memory");
    __asm__ volatile("cpsie i" ::: "memory");
}

void uart_putc(uint8_t c)
{
    /* QEMU hands the byte to the socket synchronously, so TXFULL is only
     * seen when the host stops reading (socket buffer full). */
    while (STATE & STATE_TXFULL) { }
    DATA = c;
}

void uart_write(const void *buf, size_t len)
{
    const uint8_t *p = buf;
    while (len--)
        uart_putc(*p++);
}
