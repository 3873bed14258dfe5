/* CMSDK APB UART0 of the QEMU mps2 boards (first -serial backend). */
#ifndef QEMU_CAM_UART_H
#define QEMU_CAM_UART_H
#include <stdint.h>
#include <stddef.h>

void uart_init(void);
/* Next received byte (0..255), or -1 if none is waiting. Never blocks. */
int uart_getc(void);
/* Drain up to len already-received bytes without blocking; returns count. */
size_t uart_read(void *buf, size_t len);
/* Blocks until the transmit holding register has room. */
void uart_putc(uint8_t c);
void uart_write(const void *buf, size_t len);
/* Sleep (WFI) until a byte is waiting or any interrupt fires, e.g. the 1 ms
 * tick. Call this instead of spinning on uart_getc(): a spinning guest
 * starves QEMU's I/O thread and slows reception ~10x. */
void uart_wait(void);

#endif
