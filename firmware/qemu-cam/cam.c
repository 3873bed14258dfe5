/* The emulated cam: the openmvproto engine (firmware staticlib, C API) on UART0.
 *
 * Built by `make ENGINE_LIB=.../libopenmvproto_firmware.a` (main.c hands over to
 * openmvproto_board_main). Channels:
 *   1 stdin   built-in; EXEC echoes the script to stdout between stdin events 1 and 0
 *   2 stdout  built-in 1 KiB ring fed by the cam's own prints
 *   3 stream  built-in; 64x48 GRAYSCALE, frame n has pixel(x, y) = (x + y + n) % 256.
 *             A new frame is produced whenever the previous one was released (the host
 *             unlocked it, or a SYNC did), whether or not streaming is enabled, so a host can
 *             lock and read without any ioctl; frame numbers count produced frames from 0.
 *   4 config  user channel (C vtable): holds exactly the bytes last written (up to 32 KiB),
 *             written in pieces by offset; a write at offset 0 starts over.
 * SYS_RESET resets the core (AIRCR.SYSRESETREQ); SYS_BOOT ends QEMU with exit status 0,
 * which the test uses to stop the emulation cleanly. */
#include <stdint.h>
#include <string.h>

#include "clock.h"
#include "decimal.h"
#include "openmvproto_fw.h"
#include "semihost.h"
#include "stack.h"
#include "uart.h"

/* UART0 registers used by the receive interrupt (uart.c keeps the rest). */
#define UART0_DATA     (*(volatile uint32_t *)0x40004000u)
#define UART0_STATE    (*(volatile uint32_t *)0x40004004u)
#define UART0_CTRL     (*(volatile uint32_t *)0x40004008u)
#define UART0_INTCLEAR (*(volatile uint32_t *)0x4000400Cu)
#define STATE_RXFULL   (1u << 1)
#define CTRL_RX_INTEN  (1u << 3)
#define INT_RX         (1u << 1)
#define SCB_AIRCR      (*(volatile uint32_t *)0xE000ED0Cu)

#define FRAME_W 64
#define FRAME_H 48
#define STORAGE_BYTES 10240   /* the engine needs omv_fw_storage_size(), checked at boot */

static union { uint64_t align; uint8_t bytes[STORAGE_BYTES]; } storage;
static omv_fw_t *volatile fw;              /* read by the interrupt handler */
static volatile uint32_t rx_bytes;         /* bytes the interrupt moved, ever */
static volatile uint8_t rx_masked;         /* the ring was full: byte left in DATA */

static uint8_t stdin_buf[4096];
static uint8_t stdout_buf[1024];
static uint8_t frame_buf[32 + FRAME_W * FRAME_H];
static uint32_t frame_no;

/* ---- receive path: the interrupt is the single producer of the engine's ring ---- */

/* Moves bytes from the UART into the ring while it has room; otherwise leaves the byte in
 * DATA (QEMU then stops reading the socket: back-pressure, no loss) and masks the
 * interrupt until the main loop has made room. Runs in the handler or with IRQs off. */
static void rx_pull(void)
{
    while (UART0_STATE & STATE_RXFULL) {
        if (omv_fw_rx_space(fw) <= 0) {   /* also while fw is still NULL at boot */
            UART0_CTRL &= ~CTRL_RX_INTEN;
            rx_masked = 1;
            return;
        }
        uint8_t b = (uint8_t)UART0_DATA;
        omv_fw_rx_push(fw, &b, 1);
        rx_bytes++;
    }
}

void UART0RX_Handler(void)
{
    UART0_INTCLEAR = INT_RX;   /* first: a byte landing during rx_pull raises it again */
    rx_pull();
}

static void rx_unmask_if_room(void)
{
    if (!rx_masked)
        return;
    __asm__ volatile("cpsid i" ::: "memory");
    rx_masked = 0;
    UART0_CTRL |= CTRL_RX_INTEN;
    rx_pull();   /* the byte left in DATA raises no new interrupt */
    __asm__ volatile("cpsie i" ::: "memory");
}

/* ---- engine hooks ---- */

static int32_t transport_write(void *user, const uint8_t *data, size_t len)
{
    (void)user;
    uart_write(data, len);
    return 0;
}

static void print(const char *s)
{
    omv_fw_stdout_write(fw, (const uint8_t *)s, strlen(s));
}

static void print_u32(uint32_t v)
{
    char buf[11];
    print(u32_decimal(v, buf));
}

/* config: exactly the bytes last written. */
static uint8_t config_buf[32768];
static uint32_t config_len;

static int32_t config_write(void *user, uint32_t off, const uint8_t *data, size_t len)
{
    (void)user;
    if (off > config_len || len > sizeof config_buf - off)
        return OMV_FW_STATUS_FAILED;
    memcpy(config_buf + off, data, len);
    config_len = off + (uint32_t)len;
    return OMV_FW_STATUS_SUCCESS;
}

static int32_t config_read(void *user, uint32_t off, uint8_t *buf, size_t len)
{
    (void)user;
    if (off > config_len || len > config_len - off)
        return OMV_FW_STATUS_INVALID;
    memcpy(buf, config_buf + off, len);
    return OMV_FW_STATUS_SUCCESS;
}

static const uint8_t *config_readp(void *user, uint32_t off, size_t len)
{
    (void)user;
    return off <= config_len && len <= config_len - off ? config_buf + off : NULL;
}

static uint32_t config_size(void *user)
{
    (void)user;
    return config_len;
}

static const omv_fw_channel_ops_t config_ops = {
    .read = config_read, .write = config_write, .readp = config_readp, .size = config_size,
};

extern uint32_t _sdata, _ebss, _estack;


static size_t board_memory(void *user, omv_fw_memory_pool_t *out, size_t max)
{
    (void)user;
    if (max < 1)
        return 0;
    uint32_t total = (uint32_t)((uintptr_t)&_estack - (uintptr_t)&_sdata);
    uint32_t used = (uint32_t)((uintptr_t)&_ebss - (uintptr_t)&_sdata);
    memset(out, 0, sizeof *out);
    out->kind = 1;   /* UMA pool */
    out->total = total;
    out->used = used;
    out->free = total - used;
    out->peak = used;
    return 1;
}

static void board_reset(void *user)
{
    (void)user;
    SCB_AIRCR = 0x05FA0004u;   /* VECTKEY | SYSRESETREQ */
    for (;;) { }
}

static void board_boot(void *user)
{
    (void)user;
    semihost_put_hex("qemu-cam: stack used by the main loop (engine calls, interrupts) ", stack_used());
    semihost_puts("qemu-cam: SYS_BOOT, ending the emulation\n");
    semihost_exit(0);
}

static void setup_board(void)
{
    omv_fw_board_t b;
    memset(&b, 0, sizeof b);
    b.info.cpu_id = 0x411FC271u;        /* Cortex-M7 r1p1 */
    b.info.dev_id[0] = 0x00500043u;
    b.info.dev_id[1] = 0x33385108u;
    b.info.dev_id[2] = 0x30383734u;
    b.info.usb_id = 0x37C59204u;        /* OpenMV VID */
    b.info.chip_id[0] = 0x5640u;        /* a plausible sensor id */
    b.info.flash_kb = 4096;
    b.info.ram_kb = 4096;
    b.info.framebuffer_kb = (sizeof frame_buf + 1023) / 1024;
    b.info.stream_buffer_kb = (sizeof frame_buf + 1023) / 1024;
    b.bootloader_version[0] = 1;
    b.firmware_version[0] = 5;
    b.memory = board_memory;
    b.reset = board_reset;
    b.boot = board_boot;
    omv_fw_set_board(fw, &b);
}

/* ---- the cam's own work ---- */

/* A new frame whenever the last one was released. Returns 1 if one was made. */
static int produce_frame(void)
{
    omv_fw_stream_status_t st;
    if (omv_fw_stream_status(fw, &st) != OMV_FW_OK || st.ready || st.locked)
        return 0;
    size_t cap = 0;
    uint8_t *px = omv_fw_stream_frame(fw, &cap);
    if (px == NULL || cap < FRAME_W * FRAME_H)
        return 0;
    for (uint32_t y = 0; y < FRAME_H; y++)
        for (uint32_t x = 0; x < FRAME_W; x++)
            px[y * FRAME_W + x] = (uint8_t)(x + y + frame_no);
    omv_fw_stream_publish(fw, FRAME_W, FRAME_H, OMV_FW_PIXFORMAT_GRAYSCALE, FRAME_W * FRAME_H, 0.0f);
    if (frame_no % 16 == 0) {
        print("frame ");
        print_u32(frame_no);
        print("\n");
    }
    frame_no++;
    return 1;
}

/* EXEC "runs" the script by echoing it; STOP just reports. Returns 1 if there was work. */
static int serve_stdin(void)
{
    uint32_t len = 0;
    int cmd = omv_fw_stdin_take_command(fw, &len);
    if (cmd == OMV_FW_STDIN_EXEC) {
        size_t n = 0;
        const uint8_t *script = omv_fw_stdin_script(fw, &n);
        omv_fw_stdin_set_running(fw, true);
        print("exec ");
        print_u32(len);
        print(" bytes:\n");
        if (script)
            omv_fw_stdout_write(fw, script, n);
        print("\n");
        omv_fw_stdin_set_running(fw, false);
        return 1;
    }
    if (cmd == OMV_FW_STDIN_STOP) {
        print("stop\n");
        return 1;
    }
    return 0;
}

static void fail(const char *what, int rc)
{
    semihost_puts("qemu-cam: ");
    semihost_puts(what);
    semihost_put_hex(" failed: ", (uint32_t)rc);
    semihost_exit(3);
}

int openmvproto_board_main(void)
{
    semihost_put_hex("qemu-cam: engine storage bytes ", (uint32_t)omv_fw_storage_size());
    omv_fw_config_t cfg;
    omv_fw_config_default(&cfg);
    omv_fw_hooks_t hooks = { .write = transport_write };
    omv_fw_t *h = NULL;
    stack_paint();
    int rc = omv_fw_init(storage.bytes, sizeof storage.bytes, &cfg, &hooks, &h);
    if (rc != OMV_FW_OK)
        fail("omv_fw_init", rc);
    semihost_put_hex("qemu-cam: stack used by omv_fw_init ", stack_used());
    stack_paint();
    if ((rc = omv_fw_stdin_register(h, stdin_buf, sizeof stdin_buf)) < 0 ||
        (rc = omv_fw_stdout_register(h, stdout_buf, sizeof stdout_buf)) < 0 ||
        (rc = omv_fw_stream_register(h, frame_buf, sizeof frame_buf)) < 0 ||
        (rc = omv_fw_channel_register(h, "config", &config_ops, NULL)) < 0)
        fail("channel registration", rc);
    fw = h;
    setup_board();
    print("qemu-cam: openmvproto engine up\n");
    rx_unmask_if_room();   /* bytes may have waited since uart_init */

    for (;;) {
        uint32_t seen = rx_bytes;
        omv_fw_poll(fw, clock_ms());
        rx_unmask_if_room();
        int busy = produce_frame() | serve_stdin();
        if (busy)
            continue;
        /* Sleep until the next interrupt (a byte, or the 1 ms tick) unless one came while
         * polling; WFI wakes on a pending interrupt even with IRQs masked. */
        __asm__ volatile("cpsid i" ::: "memory");
        if (rx_bytes == seen && !rx_masked)
            __asm__ volatile("wfi" ::: "memory");
        __asm__ volatile("cpsie i" ::: "memory");
    }
}
