/* Cam A of the cam-to-cam test: the host role (omv_fw_host_*) on UART0, talking to cam B
 * (the emulated device cam, firmware/qemu-cam/cam.c) through a forwarding proxy. Reads cam
 * B's channel list, five stream frames pixel for pixel, a 4 KiB `config` round trip and a
 * script's stdout, and reports over semihosting; QEMU's exit status is the verdict
 * (0 pass, 1 a step failed after its attempts, 5 a wait ran past its guard, 6 over the
 * overall deadline).
 *
 * Semihosting command line: "qemu-cam clean" (any transport error fails the run) or
 * "qemu-cam faults" (a failed request is reported by its typed error, the link is
 * resynchronised and the step tried again, a bounded number of times). Every wait is bounded:
 * the engine ends each request by its timeout, and a guard here catches an engine that would
 * not. */
#include <stdint.h>
#include <string.h>

#include "clock.h"
#include "decimal.h"
#include "openmvproto_fw.h"
#include "semihost.h"
#include "stack.h"
#include "uart.h"

#define MAX_ATTEMPTS 60
#define WAIT_GUARD_MS 5000u
#define DEADLINE_MS 100000u
#define CONFIG_LEN 4096u
#define FRAME_W 64u
#define FRAME_H 48u

static union { uint64_t align; uint8_t bytes[4096]; } storage;
static omv_fw_host_t *host;
static int faults_mode;
static uint32_t t_start;

static int done;
static omv_fw_host_result_t res;
static uint32_t events, resyncs;
static uint32_t err_count[10];   /* by -result - 20 */


/* ---- output ---- */

static void put_u32(uint32_t v)
{
    char buf[11];
    semihost_puts(u32_decimal(v, buf));
}

static void say(const char *a, uint32_t v, const char *b)
{
    semihost_puts(a);
    put_u32(v);
    semihost_puts(b);
}

static const char *err_name(int32_t rc)
{
    switch (rc) {
    case OMV_FW_HOST_NAK: return "NAK";
    case OMV_FW_HOST_TIMEOUT: return "TIMEOUT";
    case OMV_FW_HOST_UNEXPECTED: return "UNEXPECTED";
    case OMV_FW_HOST_ABORTED: return "ABORTED";
    case OMV_FW_HOST_BAD_CAPS: return "BAD_CAPS";
    case OMV_FW_HOST_TOO_LONG: return "TOO_LONG";
    case OMV_FW_HOST_SEQUENCE: return "SEQUENCE";
    case OMV_FW_HOST_RESET: return "RESET";
    case OMV_FW_HOST_ANSWER_FULL: return "ANSWER_FULL";
    case OMV_FW_HOST_ERR_BUSY: return "BUSY";
    default: return "OTHER";
    }
}

static void finish(int code, const char *why)
{
    semihost_puts("cam2cam: typed errors:");
    for (int i = 1; i < 10; i++)
        if (err_count[i]) {
            semihost_puts(" ");
            semihost_puts(err_name(-20 - i));
            say("=", err_count[i], "");
        }
    say(" (resyncs ", resyncs, ")\n");
    say("cam2cam: events received ", events, "\n");
    say("cam2cam: ran ", clock_ms() - t_start, " ms\n");
    say("cam2cam: stack used by the main loop (host engine calls, callbacks, interrupts) ", stack_used(), " bytes\n");
    semihost_puts(code == 0 ? "cam2cam: PASS\n" : "cam2cam: FAIL ");
    if (code != 0) {
        semihost_puts(why);
        semihost_puts("\n");
    }
    semihost_exit(code);
}

/* ---- the engine's hooks and main loop ---- */

static int32_t link_write(void *user, const uint8_t *data, size_t len)
{
    (void)user;
    uart_write(data, len);
    return 0;
}

static void on_complete(void *user, const omv_fw_host_result_t *r)
{
    (void)user;
    done = 1;
    res = *r;
}

static void on_event(void *user, uint8_t channel, uint16_t code)
{
    (void)user;
    (void)channel;
    (void)code;
    events++;
}

static void pump(void)
{
    uint8_t b[256];
    size_t n = uart_read(b, sizeof b);
    if (n)
        omv_fw_host_input(host, b, n);
    omv_fw_host_poll(host, clock_ms());
    if (clock_ms() - t_start > DEADLINE_MS)
        finish(6, "overall deadline");
    if (!n && !done)
        uart_wait();   /* a byte or the 1 ms tick */
}

/* The result of a started request: 0, or OMV_FW_HOST_* / OMV_FW_ERR_* < 0. */
static int32_t wait_result(int32_t started)
{
    if (started != OMV_FW_OK)
        return started;
    uint32_t t0 = clock_ms();
    while (!done) {
        pump();
        if (clock_ms() - t0 > WAIT_GUARD_MS)
            finish(5, "a request outlived its guard");
    }
    done = 0;
    return res.result;
}

static void pause_ms(uint32_t ms)
{
    uint32_t t0 = clock_ms();
    while (clock_ms() - t0 < ms)
        pump();
}

static void resync(void)
{
    for (int i = 0; i < MAX_ATTEMPTS * 2; i++) {
        resyncs++;
        int32_t rc = wait_result(omv_fw_host_resync(host));
        if (rc == 0)
            return;
        if (rc <= -21 && rc >= -29)
            err_count[-rc - 20]++;
        pause_ms(50);
    }
    finish(1, "resync never succeeded");
}

/* ---- requests with the retry policy ---- */

enum { OP_LIST, OP_SIZE, OP_READ, OP_WRITE, OP_IOCTL, OP_LOCK, OP_UNLOCK };
typedef struct {
    int kind;
    uint8_t channel;
    uint32_t offset, len;
    const uint8_t *data;
    uint8_t *buf;
    size_t cap;
} op_t;

static int32_t start_op(const op_t *o)
{
    switch (o->kind) {
    case OP_LIST: return omv_fw_host_list(host, o->buf, o->cap);
    case OP_SIZE: return omv_fw_host_size(host, o->channel, o->buf, o->cap);
    case OP_READ: return omv_fw_host_read(host, o->channel, o->offset, o->len, o->buf, o->cap);
    case OP_WRITE: return omv_fw_host_write(host, o->channel, o->offset, o->data, o->len);
    case OP_IOCTL: return omv_fw_host_ioctl(host, o->channel, o->offset, o->data, o->len);
    case OP_LOCK: return omv_fw_host_lock(host, o->channel);
    default: return omv_fw_host_unlock(host, o->channel);
    }
}

/* Runs `o`: NAK BUSY is waited out; a NAK of another status is the caller's to judge; a
 * transport failure (timeout, sequence, ...) is counted, then the link is resynchronised and
 * the request sent again (faults mode) or the run fails (clean mode). */
static int32_t run_op(const op_t *o)
{
    for (int attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
        int32_t rc = wait_result(start_op(o));
        if (rc == 0)
            return 0;
        if (rc == OMV_FW_HOST_NAK && res.nak_status == OMV_FW_STATUS_BUSY) {
            pause_ms(5);
            continue;
        }
        /* NAK CHECKSUM (5) / SEQUENCE (6): cam B got a garbled request; the link's
         * fault, sent again like a lost one. Any other NAK is an answer. */
        if (rc == OMV_FW_HOST_NAK && res.nak_status != 5 && res.nak_status != 6)
            return rc;
        if (rc <= -21 && rc >= -29)
            err_count[-rc - 20]++;
        semihost_puts("cam2cam: typed error ");
        semihost_puts(err_name(rc));
        if (rc == OMV_FW_HOST_NAK)
            say(" status ", res.nak_status, "");
        say(" (opcode ", res.opcode, ")\n");
        if (!faults_mode)
            finish(1, "transport error on a clean link");
        resync();
    }
    finish(1, "a request failed all its attempts");
    return -1;
}

static uint32_t u32_at(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static int32_t channel_size(uint8_t ch, uint32_t *out)
{
    uint8_t b[4];
    op_t o = { .kind = OP_SIZE, .channel = ch, .buf = b, .cap = sizeof b };
    int32_t rc = run_op(&o);
    if (rc == 0 && res.len != 4)
        rc = -1;
    if (rc == 0)
        *out = u32_at(b);
    return rc;
}

/* ---- the steps ---- */

static uint8_t ch_stdin, ch_stdout, ch_stream, ch_config;

static void step_list(void)
{
    static uint8_t list[512];
    op_t o = { .kind = OP_LIST, .buf = list, .cap = sizeof list };
    if (run_op(&o) != 0 || res.len % 16 != 0)
        finish(1, "channel list");
    semihost_puts("cam2cam: channels");
    for (size_t i = 0; i < res.len; i += 16) {
        const char *name = (const char *)list + i + 2;
        char n[15];
        memcpy(n, name, 14);
        n[14] = 0;
        semihost_puts(" ");
        semihost_puts(n);
        say("=", list[i], "");
        if (memcmp(n, "stdin", 6) == 0) ch_stdin = list[i];
        if (memcmp(n, "stdout", 7) == 0) ch_stdout = list[i];
        if (memcmp(n, "stream", 7) == 0) ch_stream = list[i];
        if (memcmp(n, "config", 7) == 0) ch_config = list[i];
    }
    semihost_puts("\n");
    if (!ch_stdin || !ch_stdout || !ch_stream || !ch_config)
        finish(1, "a channel is missing from the list");
}

/* One frame: lock, size, read, check every pixel, unlock. Returns the frame number, or -1
 * when the frame was lost (a resync releases it) and the step must start over. */
static int32_t one_frame(void)
{
    static uint8_t frame[64 + FRAME_W * FRAME_H];
    uint32_t r0 = resyncs, size = 0;
    op_t lock = { .kind = OP_LOCK, .channel = ch_stream };
    if (run_op(&lock) != 0)
        return -1;
    if (channel_size(ch_stream, &size) != 0 || resyncs != r0 || size > sizeof frame || size < 20)
        return -1;
    op_t rd = { .kind = OP_READ, .channel = ch_stream, .len = size, .buf = frame, .cap = sizeof frame };
    if (run_op(&rd) != 0 || resyncs != r0 || res.len != size)
        return -1;
    uint32_t w = u32_at(frame), h = u32_at(frame + 4), off = u32_at(frame + 16);
    if (w != FRAME_W || h != FRAME_H || off < 20 || off + FRAME_W * FRAME_H > size)
        finish(1, "frame header");
    const uint8_t *px = frame + off;
    uint32_t n = px[0], bad = 0;
    for (uint32_t y = 0; y < FRAME_H; y++)
        for (uint32_t x = 0; x < FRAME_W; x++)
            bad += px[y * FRAME_W + x] != (uint8_t)(x + y + n);
    if (bad)
        finish(1, "frame pixels differ");
    op_t unlock = { .kind = OP_UNLOCK, .channel = ch_stream };
    if (run_op(&unlock) != 0 && resyncs == r0)
        finish(1, "unlock");
    return (int32_t)n;
}

static void step_frames(void)
{
    int32_t last = -1;
    for (uint32_t k = 0; k < 5;) {
        int32_t n = -1;
        for (int a = 0; a < MAX_ATTEMPTS && n < 0; a++)
            n = one_frame();
        if (n < 0)
            finish(1, "frame never read");
        if (n <= last && n != 0)   /* cam B numbers frames from 0 (again after a reset) */
            finish(1, "frames out of order");
        last = n;
        say("cam2cam: frame ", k, "");
        say(" (cam B frame ", (uint32_t)n, ") 64x48 GRAYSCALE, all 3072 pixels as expected\n");
        k++;
    }
}

static uint8_t cfg_out[CONFIG_LEN], cfg_in[CONFIG_LEN];

/* Writes all of config from offset 0 in link-sized pieces, then reads it back. A NAK of a
 * write (cam B restarted and lost the first pieces) or a short size starts over. */
static void step_config(void)
{
    for (uint32_t i = 0; i < CONFIG_LEN; i++)
        cfg_out[i] = (uint8_t)(i * 31u + (i >> 8));
    uint32_t piece = (uint32_t)omv_fw_host_link_max_payload(host) - 8u;
    for (int round = 0; round < MAX_ATTEMPTS; round++) {
        int ok = 1;
        for (uint32_t off = 0; off < CONFIG_LEN && ok; off += piece) {
            uint32_t n = CONFIG_LEN - off < piece ? CONFIG_LEN - off : piece;
            op_t w = { .kind = OP_WRITE, .channel = ch_config, .offset = off, .data = cfg_out + off, .len = n };
            ok = run_op(&w) == 0;
        }
        uint32_t size = 0;
        if (!ok || channel_size(ch_config, &size) != 0 || size != CONFIG_LEN)
            continue;
        memset(cfg_in, 0, sizeof cfg_in);
        for (uint32_t off = 0; off < CONFIG_LEN && ok; off += 1024) {
            op_t r = { .kind = OP_READ, .channel = ch_config, .offset = off, .len = 1024,
                       .buf = cfg_in + off, .cap = 1024 };
            ok = run_op(&r) == 0 && res.len == 1024;
        }
        if (!ok)
            continue;
        if (memcmp(cfg_in, cfg_out, CONFIG_LEN) != 0)
            finish(1, "config read back differs");
        say("cam2cam: config round trip of ", CONFIG_LEN, " bytes identical");
        say(" (", round + 1, " round)\n");
        return;
    }
    finish(1, "config round trip never completed");
}

static int contains(const uint8_t *hay, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return 1;
    return 0;
}

/* Drains stdout, runs a script on cam B, reads its stdout until the script's output is
 * there (cam B echoes the script: "exec N bytes:\n<script>\n"). */
static void step_script(void)
{
    static const char script[] = "print('hello from cam B')";
    static const char expect[] = "exec 25 bytes:\nprint('hello from cam B')\n";
    static uint8_t out[2048];
    for (int round = 0; round < MAX_ATTEMPTS; round++) {
        uint32_t size = 0, r0 = resyncs;
        size_t got = 0;
        /* what cam B printed before (boot line, frame counters) */
        while (channel_size(ch_stdout, &size) == 0 && size > 0) {
            uint32_t n = size > 1000 ? 1000 : size;
            op_t r = { .kind = OP_READ, .channel = ch_stdout, .len = n, .buf = out, .cap = sizeof out };
            if (run_op(&r) != 0)
                break;
        }
        op_t w = { .kind = OP_WRITE, .channel = ch_stdin, .data = (const uint8_t *)script, .len = sizeof script - 1 };
        op_t x = { .kind = OP_IOCTL, .channel = ch_stdin, .offset = 2 /* STDIN_EXEC */ };
        if (run_op(&w) != 0 || run_op(&x) != 0 || resyncs != r0)
            continue;
        uint32_t t0 = clock_ms();
        while (clock_ms() - t0 < 3000 && !contains(out, got, expect) && resyncs == r0) {
            if (channel_size(ch_stdout, &size) != 0 || size == 0) {
                pause_ms(5);
                continue;
            }
            uint32_t n = size;
            if (n > sizeof out - got)
                n = (uint32_t)(sizeof out - got);
            if (n == 0)
                break;
            op_t r = { .kind = OP_READ, .channel = ch_stdout, .len = n, .buf = out + got, .cap = n };
            if (run_op(&r) == 0)
                got += res.len;
        }
        if (contains(out, got, expect)) {
            semihost_puts("cam2cam: script stdout as expected: \"exec 25 bytes: print('hello from cam B')\"\n");
            return;
        }
    }
    finish(1, "script output never seen");
}

static int has_word(const char *s, const char *w)
{
    size_t m = strlen(w);
    for (; *s; s++)
        if (memcmp(s, w, m) == 0 && (s[m] == 0 || s[m] == ' '))
            return 1;
    return 0;
}

int host_cam_main(void)
{
    char cmdline[64] = { 0 };
    semihost_cmdline(cmdline, sizeof cmdline);
    faults_mode = has_word(cmdline, "faults");
    t_start = clock_ms();
    stack_paint();
    semihost_puts(faults_mode ? "cam2cam: cam A (host role), faults mode\n" : "cam2cam: cam A (host role), clean mode\n");
    say("cam2cam: host storage ", (uint32_t)omv_fw_host_storage_size(), " bytes\n");
    if (omv_fw_host_storage_size() > sizeof storage.bytes)
        finish(1, "storage too small");
    omv_fw_host_config_t cfg;
    omv_fw_host_config_default(&cfg);
    cfg.timeout_ms = 1000;   /* above cam B's 500 ms retransmission timeout: a lost fragment is sent again */
    omv_fw_host_hooks_t hooks = { .write = link_write, .on_complete = on_complete, .on_event = on_event };
    int32_t rc = omv_fw_host_init(storage.bytes, sizeof storage.bytes, &cfg, &hooks, &host);
    if (rc != OMV_FW_OK)
        finish(1, "omv_fw_host_init");
    resync();
    say("cam2cam: connected, max payload ", (uint32_t)omv_fw_host_link_max_payload(host), "\n");
    step_list();
    step_frames();
    step_config();
    step_script();
    finish(0, "");
    return 0;
}
