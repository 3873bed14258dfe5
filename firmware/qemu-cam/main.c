/* qemu-cam board program.
 *
 * With ENGINE_MAIN defined (Makefile: ENGINE_LIB=... [ENGINE_MAIN=name]) the
 * board initialises UART0 and the ms clock, then hands over to that function
 * of the linked engine library, whose return value becomes QEMU's exit code.
 * The engine can call the board services: uart_getc/uart_putc/uart_write/
 * uart_read/uart_wait (uart.h), clock_ms (clock.h), semihost_exit/
 * semihost_puts (semihost.h). When idle it should call uart_wait() (WFI)
 * rather than spin: spinning made host->guest traffic ~2.5x slower.
 *
 * Without an engine it is a placeholder selected by the semihosting command
 * line (run-qemu.sh PORT ELF [ARG...]):
 *   (no arg) / echo   every received byte is sent straight back;
 *   bench             one-byte commands for the harness (see bench_loop).
 */
#include <stdint.h>
#include "clock.h"
#include "semihost.h"
#include "uart.h"

#ifdef ENGINE_MAIN
extern int ENGINE_MAIN(void);
#else

static uint8_t get_byte(void)
{
    int c;
    while ((c = uart_getc()) < 0)
        uart_wait();
    return (uint8_t)c;
}

static uint32_t get_u32(void)   /* little endian */
{
    uint32_t v = 0;
    for (int i = 0; i < 4; i++)
        v |= (uint32_t)get_byte() << (8 * i);
    return v;
}

static void put_u32(uint32_t v)
{
    uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    uart_write(b, 4);
}

static void echo_loop(void)
{
    for (;;) {
        int c = uart_getc();
        if (c >= 0)
            uart_putc((uint8_t)c);
        else
            uart_wait();
    }
}

/* Harness commands; all integers u32 little endian:
 *   'T'          -> ms clock, then raw SysTick interrupt count
 *   'S' n        -> n bytes, byte i = i & 0xff        (guest -> host speed)
 *   'R' n <n B>  -> sum of the n bytes received        (host -> guest speed)
 *   'W' ms       -> nothing; sleeps ms without reading the UART, so a
 *                   following burst overfills the RX ring (back-pressure)
 *   'P'          -> bits of a float computed on the FPU
 *   'D'          -> prints a line on QEMU's stdout via semihosting, then 'D'
 *   'F'          -> executes an undefined instruction (fault path, exit 131)
 *   'Q' code(u8) -> semihosting exit with that status */
static void bench_loop(void)
{
    for (;;) {
        uint8_t cmd = get_byte();
        switch (cmd) {
        case 'T':
            put_u32(clock_ms());
            put_u32(clock_ticks());
            break;
        case 'S': {
            uint32_t n = get_u32();
            for (uint32_t i = 0; i < n; i++)
                uart_putc((uint8_t)i);
            break;
        }
        case 'R': {
            uint32_t n = get_u32(), sum = 0;
            while (n--)
                sum += get_byte();
            put_u32(sum);
            break;
        }
        case 'W': {
            uint32_t ms = get_u32(), t0 = clock_ms();
            while (clock_ms() - t0 < ms)
                __asm__ volatile("wfi");   /* the 1 ms tick wakes us */
            break;
        }
        case 'P': {
            volatile float a = 1.5f, b = 2.25f;
            float r = a * b + a / b;
            union { float f; uint32_t u; } bits = { .f = r };
            put_u32(bits.u);
            break;
        }
        case 'D':
            semihost_puts("qemu-cam: semihosting debug print ok\n");
            uart_putc('D');
            break;
        case 'F':
            __asm__ volatile("udf #0");
            break;
        case 'Q':
            semihost_exit(get_byte());
        default:
            uart_putc('?');
        }
    }
}

static int is_bench(const char *s)
{
    /* The command line is "qemu-cam[ ARG...]"; look for a word "bench". */
    for (; *s; s++)
        if (s[0] == 'b' && s[1] == 'e' && s[2] == 'n' && s[3] == 'c' &&
            s[4] == 'h' && (s[5] == 0 || s[5] == ' '))
            return 1;
    return 0;
}
#endif

int main(void)
{
    uart_init();
    clock_init();
#ifdef ENGINE_MAIN
    return ENGINE_MAIN();
#else
    char cmdline[64];
    if (semihost_cmdline(cmdline, sizeof cmdline) >= 0 && is_bench(cmdline))
        bench_loop();
    echo_loop();
    return 0;
#endif
}
