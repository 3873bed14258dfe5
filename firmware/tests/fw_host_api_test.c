/* Host-side tests of the firmware's host-role C API (omv_fw_host_*): a device instance
 * (omv_fw_*) and a host instance in one process, joined back to back through the two C
 * APIs with a simulated millisecond clock. Every opcode family the host API starts, events
 * between fragments, an answer larger than the caller's buffer, timeouts, garbled bytes,
 * two pairs at once (no globals in the library).
 *   cc -std=c99 -Wall -Wextra -Werror -DOMV_FW_HOST -Iinclude tests/fw_host_api_test.c \
 *      libopenmvproto_firmware.a   (built with --features host) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openmvproto_fw.h"

#include "check.h"

#define QCAP 65536
typedef struct {
    uint8_t b[QCAP];
    size_t len;
} queue_t;

static void q_push(queue_t *q, const uint8_t *d, size_t n)
{
    if (n > QCAP - q->len) {
        fprintf(stderr, "queue overflow\n");
        exit(2);
    }
    memcpy(q->b + q->len, d, n);
    q->len += n;
}

static void q_pop(queue_t *q, size_t n)
{
    memmove(q->b, q->b + n, q->len - n);
    q->len -= n;
}

/* One device and one host joined back to back; `drop_every` > 0 drops every n-th byte
 * towards the host, `flip_every` > 0 flips a bit in every n-th. */
typedef struct {
    union { uint64_t align; uint8_t b[16384]; } dev_storage, host_storage;
    omv_fw_t *dev;
    omv_fw_host_t *host;
    queue_t to_dev, to_host;
    uint32_t now;
    int connected;   /* 0: link cut (nothing crosses) */
    unsigned drop_every, flip_every, byte_no;
    uint8_t stdin_buf[2048], stdout_buf[1024], frame_buf[32 + 64 * 48];
    uint8_t config[8192];
    uint32_t config_len;
    int config_id;
    /* last completion and events */
    int done;
    omv_fw_host_result_t res;
    int events, stream_events;
} pair_t;

static int32_t dev_write(void *user, const uint8_t *d, size_t n)
{
    pair_t *p = user;
    for (size_t i = 0; i < n; i++) {
        uint8_t b = d[i];
        p->byte_no++;
        if (p->drop_every && p->byte_no % p->drop_every == 0)
            continue;
        if (p->flip_every && p->byte_no % p->flip_every == 0)
            b ^= 0x10;
        q_push(&p->to_host, &b, 1);
    }
    return 0;
}

static int32_t host_write(void *user, const uint8_t *d, size_t n)
{
    q_push(&((pair_t *)user)->to_dev, d, n);
    return 0;
}

static void on_complete(void *user, const omv_fw_host_result_t *r)
{
    pair_t *p = user;
    p->done = 1;
    p->res = *r;
}

static void on_event(void *user, uint8_t channel, uint16_t code)
{
    pair_t *p = user;
    p->events++;
    if (channel == OMV_FW_ID_STREAM && code == OMV_FW_EVENT_NOTIFY)
        p->stream_events++;
}

static int32_t config_write(void *user, uint32_t off, const uint8_t *data, size_t len)
{
    pair_t *p = user;
    if (off > p->config_len || len > sizeof p->config - off)
        return OMV_FW_STATUS_FAILED;
    memcpy(p->config + off, data, len);
    p->config_len = off + (uint32_t)len;
    return OMV_FW_STATUS_SUCCESS;
}

static int32_t config_read(void *user, uint32_t off, uint8_t *buf, size_t len)
{
    pair_t *p = user;
    if (off > p->config_len || len > p->config_len - off)
        return OMV_FW_STATUS_INVALID;
    memcpy(buf, p->config + off, len);
    return OMV_FW_STATUS_SUCCESS;
}

static uint32_t config_size(void *user)
{
    return ((pair_t *)user)->config_len;
}

static const omv_fw_channel_ops_t config_ops = {
    .read = config_read, .write = config_write, .size = config_size,
};

static void pair_init(pair_t *p, uint16_t max_payload, uint16_t fragment)
{
    memset(p, 0, sizeof *p);
    p->connected = 1;
    omv_fw_config_t dc;
    omv_fw_config_default(&dc);
    dc.read_fragment_size = fragment;
    omv_fw_hooks_t dh = { .write = dev_write, .write_user = p };
    CHECK_EQ(omv_fw_init(p->dev_storage.b, sizeof p->dev_storage.b, &dc, &dh, &p->dev), OMV_FW_OK);
    CHECK_EQ(omv_fw_stdin_register(p->dev, p->stdin_buf, sizeof p->stdin_buf) >= 0, 1);
    CHECK_EQ(omv_fw_stdout_register(p->dev, p->stdout_buf, sizeof p->stdout_buf) >= 0, 1);
    CHECK_EQ(omv_fw_stream_register(p->dev, p->frame_buf, sizeof p->frame_buf) >= 0, 1);
    p->config_id = omv_fw_channel_register(p->dev, "config", &config_ops, p);
    CHECK_EQ(p->config_id >= 4, 1);

    omv_fw_host_config_t hc;
    CHECK_EQ(omv_fw_host_config_default(&hc), OMV_FW_OK);
    hc.max_payload = max_payload;
    hc.timeout_ms = 300;
    omv_fw_host_hooks_t hh = {
        .write = host_write, .write_user = p, .on_complete = on_complete, .on_event = on_event, .user = p,
    };
    CHECK_EQ(omv_fw_host_init(p->host_storage.b, sizeof p->host_storage.b, &hc, &hh, &p->host), OMV_FW_OK);
}

/* One pass of both main loops; returns whether any byte moved. */
static int pair_step(pair_t *p)
{
    int moved = 0;
    if (!p->connected) {
        p->to_dev.len = p->to_host.len = 0;
    }
    while (p->to_dev.len > 0) {
        int space = omv_fw_rx_space(p->dev);
        if (space <= 0)
            break;
        size_t n = (size_t)space < p->to_dev.len ? (size_t)space : p->to_dev.len;
        CHECK_EQ(omv_fw_rx_push(p->dev, p->to_dev.b, n), (int)n);
        q_pop(&p->to_dev, n);
        omv_fw_poll(p->dev, p->now);
        moved = 1;
    }
    omv_fw_poll(p->dev, p->now);
    if (p->to_host.len > 0) {
        /* uneven chunks, as a UART driver hands them over */
        size_t n = p->to_host.len < 37 ? p->to_host.len : 37;
        CHECK_EQ(omv_fw_host_input(p->host, p->to_host.b, n), OMV_FW_OK);
        q_pop(&p->to_host, n);
        moved = 1;
    }
    omv_fw_host_poll(p->host, p->now);
    return moved;
}

/* Runs until the request completes; the clock moves 1 ms per idle pass. Bounded. */
static omv_fw_host_result_t wait_done(pair_t *p)
{
    for (long i = 0; i < 2000000 && !p->done; i++)
        if (!pair_step(p))
            p->now++;
    if (!p->done) {
        fprintf(stderr, "request never completed\n");
        exit(2);
    }
    p->done = 0;
    return p->res;
}

static void connect(pair_t *p)
{
    CHECK_EQ(omv_fw_host_resync(p->host), OMV_FW_OK);
    CHECK_EQ(wait_done(p).result, 0);
}

static uint32_t u32_at(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void publish_frame(pair_t *p, uint32_t n)
{
    size_t cap = 0;
    uint8_t *px = omv_fw_stream_frame(p->dev, &cap);
    CHECK_EQ(px != NULL && cap >= 64 * 48, 1);
    if (!px)
        return;
    for (uint32_t y = 0; y < 48; y++)
        for (uint32_t x = 0; x < 64; x++)
            px[y * 64 + x] = (uint8_t)(x + y + n);
    CHECK_EQ(omv_fw_stream_publish(p->dev, 64, 48, OMV_FW_PIXFORMAT_GRAYSCALE, 64 * 48, 0.0f), OMV_FW_OK);
}

static void every_request(uint16_t max_payload, uint16_t fragment)
{
    static pair_t p;
    static uint8_t buf[8192];
    pair_init(&p, max_payload, fragment);
    connect(&p);
    int link_max = omv_fw_host_link_max_payload(p.host);
    CHECK_EQ(link_max, max_payload ? max_payload : (int)omv_fw_host_max_payload());

    /* list and info */
    CHECK_EQ(omv_fw_host_list(p.host, buf, sizeof buf), OMV_FW_OK);
    omv_fw_host_result_t r = wait_done(&p);
    CHECK_EQ(r.result, 0);
    CHECK_EQ(r.len, 4 * 16);
    CHECK_EQ(buf[4 * 16 - 16], p.config_id);
    CHECK_EQ(memcmp(buf + 4 * 16 - 14, "config", 7), 0);
    CHECK_EQ(omv_fw_host_info(p.host, buf, sizeof buf), OMV_FW_OK);
    r = wait_done(&p);
    CHECK_EQ(r.result, 0);
    CHECK_EQ(r.len, 76);

    /* a 4 KiB config round trip, written in pieces */
    uint8_t cfg[4096];
    for (size_t i = 0; i < sizeof cfg; i++)
        cfg[i] = (uint8_t)(i * 7 + i / 251);
    size_t piece = (size_t)link_max - 8;
    for (size_t off = 0; off < sizeof cfg; off += piece) {
        size_t n = sizeof cfg - off < piece ? sizeof cfg - off : piece;
        CHECK_EQ(omv_fw_host_write(p.host, (uint8_t)p.config_id, (uint32_t)off, cfg + off, n), OMV_FW_OK);
        CHECK_EQ(omv_fw_host_busy(p.host), 1);
        CHECK_EQ(omv_fw_host_lock(p.host, 3), OMV_FW_HOST_ERR_BUSY);   /* one at a time */
        CHECK_EQ(wait_done(&p).result, 0);
    }
    CHECK_EQ(p.config_len, sizeof cfg);
    CHECK_EQ(omv_fw_host_size(p.host, (uint8_t)p.config_id, buf, 4), OMV_FW_OK);
    r = wait_done(&p);
    CHECK_EQ(r.len, 4);
    CHECK_EQ(u32_at(buf), sizeof cfg);
    memset(buf, 0, sizeof buf);
    CHECK_EQ(omv_fw_host_read(p.host, (uint8_t)p.config_id, 0, sizeof cfg, buf, sizeof buf), OMV_FW_OK);
    r = wait_done(&p);
    CHECK_EQ(r.result, 0);
    CHECK_EQ(r.len, sizeof cfg);
    CHECK_EQ(r.data == buf, 1);
    CHECK_EQ(memcmp(buf, cfg, sizeof cfg), 0);

    /* an answer larger than the caller's buffer: a typed error, nothing past the buffer */
    buf[100] = 0xA5;
    CHECK_EQ(omv_fw_host_read(p.host, (uint8_t)p.config_id, 0, 2000, buf, 100), OMV_FW_OK);
    r = wait_done(&p);
    CHECK_EQ(r.result, OMV_FW_HOST_ANSWER_FULL);
    CHECK_EQ(r.len <= 100, 1);
    CHECK_EQ(buf[100], 0xA5);
    connect(&p);

    /* lock, read and unlock five frames, pixel for pixel, with NOTIFY events between the
     * fragments */
    for (uint32_t n = 0; n < 5; n++) {
        publish_frame(&p, n);
        CHECK_EQ(omv_fw_send_event(p.dev, OMV_FW_ID_STREAM, OMV_FW_EVENT_NOTIFY, false), OMV_FW_OK);
        CHECK_EQ(omv_fw_host_lock(p.host, 3), OMV_FW_OK);
        CHECK_EQ(wait_done(&p).result, 0);
        CHECK_EQ(omv_fw_host_size(p.host, 3, buf, 4), OMV_FW_OK);
        wait_done(&p);
        uint32_t size = u32_at(buf);
        CHECK_EQ(size >= 20 + 64 * 48 && size <= sizeof p.frame_buf, 1);
        CHECK_EQ(omv_fw_send_event(p.dev, OMV_FW_ID_STREAM, OMV_FW_EVENT_NOTIFY, false), OMV_FW_OK);
        CHECK_EQ(omv_fw_host_read(p.host, 3, 0, size, buf, sizeof buf), OMV_FW_OK);
        r = wait_done(&p);
        CHECK_EQ(r.len, size);
        uint32_t off = u32_at(buf + 16), bad = 0;
        CHECK_EQ(off >= 20 && off + 64 * 48 <= size, 1);
        for (uint32_t i = 0; i < 64 * 48; i++)
            bad += buf[off + i] != (uint8_t)(i % 64 + i / 64 + n);
        CHECK_EQ(u32_at(buf), 64);
        CHECK_EQ(bad, 0);
        CHECK_EQ(omv_fw_host_unlock(p.host, 3), OMV_FW_OK);
        CHECK_EQ(wait_done(&p).result, 0);
        p.now += 20;   /* past the lock interval */
    }
    CHECK_EQ(p.stream_events >= 10, 1);

    /* a script: write stdin, EXEC, the cam prints, read stdout */
    const char *script = "print('hello from cam B')";
    CHECK_EQ(omv_fw_host_write(p.host, 1, 0, (const uint8_t *)script, strlen(script)), OMV_FW_OK);
    CHECK_EQ(wait_done(&p).result, 0);
    CHECK_EQ(omv_fw_host_ioctl(p.host, 1, 2 /* STDIN_EXEC */, NULL, 0), OMV_FW_OK);
    CHECK_EQ(wait_done(&p).result, 0);
    uint32_t len = 0;
    CHECK_EQ(omv_fw_stdin_take_command(p.dev, &len), OMV_FW_STDIN_EXEC);
    size_t slen = 0;
    const uint8_t *s = omv_fw_stdin_script(p.dev, &slen);
    CHECK_EQ(slen, strlen(script));
    CHECK_EQ(s != NULL && memcmp(s, script, slen) == 0, 1);
    CHECK_EQ(omv_fw_stdout_write(p.dev, (const uint8_t *)"hello from cam B\n", 17), 17);
    CHECK_EQ(omv_fw_host_size(p.host, 2, buf, 4), OMV_FW_OK);
    wait_done(&p);
    CHECK_EQ(u32_at(buf), 17);
    CHECK_EQ(omv_fw_host_read(p.host, 2, 0, 17, buf, sizeof buf), OMV_FW_OK);
    r = wait_done(&p);
    CHECK_EQ(r.len, 17);
    CHECK_EQ(memcmp(buf, "hello from cam B\n", 17), 0);

    /* NAKs carry the device's status */
    CHECK_EQ(omv_fw_host_write(p.host, 2, 0, (const uint8_t *)"x", 1), OMV_FW_OK);   /* stdout */
    r = wait_done(&p);
    CHECK_EQ(r.result, OMV_FW_HOST_NAK);
    CHECK_EQ(r.nak_status, OMV_FW_STATUS_INVALID);
    CHECK_EQ(omv_fw_host_request(p.host, 0x77, 0, NULL, 0, buf, sizeof buf), OMV_FW_OK);
    CHECK_EQ(wait_done(&p).result, OMV_FW_HOST_NAK);

    /* the link cut: a timeout at the configured 300 ms, then recovery */
    p.connected = 0;
    uint32_t t0 = p.now;
    CHECK_EQ(omv_fw_host_list(p.host, buf, sizeof buf), OMV_FW_OK);
    CHECK_EQ(wait_done(&p).result, OMV_FW_HOST_TIMEOUT);
    CHECK_EQ(p.now - t0 >= 300 && p.now - t0 <= 302, 1);
    p.connected = 1;
    connect(&p);
    CHECK_EQ(omv_fw_host_list(p.host, buf, sizeof buf), OMV_FW_OK);
    CHECK_EQ(wait_done(&p).len, 64);

    /* a resync cuts a request short: its completion names it, then the resync's says 0 */
    p.connected = 0;
    CHECK_EQ(omv_fw_host_size(p.host, (uint8_t)p.config_id, buf, 4), OMV_FW_OK);
    pair_step(&p);
    CHECK_EQ(omv_fw_host_resync(p.host), OMV_FW_OK);
    p.connected = 1;
    r = wait_done(&p);
    CHECK_EQ(r.result, OMV_FW_HOST_ABORTED);
    CHECK_EQ(r.opcode, 0x25 /* CHANNEL_SIZE */);
    CHECK_EQ(r.channel, p.config_id);
    r = wait_done(&p);
    CHECK_EQ(r.result, 0);
    CHECK_EQ(r.opcode, 0);
    CHECK_EQ(r.channel, 0);
}

/* Garbled bytes towards the host: every request ends (data intact, or a typed error), the
 * link recovers with a resync. */
static void garbled_link(void)
{
    static pair_t p;
    static uint8_t buf[8192];
    pair_init(&p, 0, 256);
    connect(&p);
    uint8_t cfg[4096];
    for (size_t i = 0; i < sizeof cfg; i++)
        cfg[i] = (uint8_t)(i ^ (i >> 5));
    memcpy(p.config, cfg, sizeof cfg);
    p.config_len = sizeof cfg;
    int ok = 0, typed = 0, ok_by_mode[2] = { 0, 0 };
    for (unsigned mode = 0; mode < 2; mode++) {
        for (int i = 0; i < 20; i++) {
            p.drop_every = mode == 0 ? 7919 : 0;
            p.flip_every = mode == 1 ? 8191 : 0;
            CHECK_EQ(omv_fw_host_read(p.host, (uint8_t)p.config_id, 0, sizeof cfg, buf, sizeof buf), OMV_FW_OK);
            omv_fw_host_result_t r = wait_done(&p);
            if (r.result == 0) {
                ok++;
                ok_by_mode[mode]++;
                CHECK_EQ(r.len, sizeof cfg);
                CHECK_EQ(memcmp(buf, cfg, sizeof cfg), 0);
            } else {
                typed++;
                CHECK_EQ(r.result <= OMV_FW_HOST_NAK && r.result >= OMV_FW_HOST_ANSWER_FULL, 1);
                p.drop_every = p.flip_every = 0;
                connect(&p);
            }
        }
    }
    p.drop_every = p.flip_every = 0;
    connect(&p);
    CHECK_EQ(omv_fw_host_read(p.host, (uint8_t)p.config_id, 0, sizeof cfg, buf, sizeof buf), OMV_FW_OK);
    CHECK_EQ(wait_done(&p).len, sizeof cfg);
    CHECK_EQ(ok + typed, 40);
    CHECK_EQ(typed > 0, 1);   /* the faults did hit */
    printf("  garbled link: %d reads intact (%d with drops, %d with flips), %d typed errors, all recovered\n",
           ok, ok_by_mode[0], ok_by_mode[1], typed);
}

/* Two pairs at once, interleaved: instances share nothing. */
static void two_pairs(void)
{
    static pair_t a, b;
    static uint8_t ba[64], bb[64];
    pair_init(&a, 0, 0);
    pair_init(&b, 200, 100);
    CHECK_EQ(omv_fw_host_resync(a.host), OMV_FW_OK);
    CHECK_EQ(omv_fw_host_resync(b.host), OMV_FW_OK);
    for (int i = 0; i < 10000 && !(a.done && b.done); i++) {
        pair_step(&a);
        pair_step(&b);
        a.now++;
        b.now++;
    }
    CHECK_EQ(a.done && b.done, 1);
    a.done = b.done = 0;
    CHECK_EQ(omv_fw_host_link_max_payload(a.host), (int)omv_fw_host_max_payload());
    CHECK_EQ(omv_fw_host_link_max_payload(b.host), 200);
    CHECK_EQ(omv_fw_host_list(a.host, ba, sizeof ba), OMV_FW_OK);
    CHECK_EQ(omv_fw_host_list(b.host, bb, sizeof bb), OMV_FW_OK);
    omv_fw_host_result_t ra = wait_done(&a), rb = wait_done(&b);
    CHECK_EQ(ra.len, 64);
    CHECK_EQ(rb.len, 64);
    CHECK_EQ(memcmp(ba, bb, 64), 0);
}

static void bad_arguments(void)
{
    static union { uint64_t align; uint8_t b[16384]; } st;
    omv_fw_host_config_t c;
    omv_fw_host_config_default(&c);
    omv_fw_host_hooks_t hk = { .write = host_write };
    omv_fw_host_t *h = NULL;
    CHECK_EQ(omv_fw_host_config_default(NULL), OMV_FW_ERR_NULL);
    CHECK_EQ(omv_fw_host_init(NULL, sizeof st.b, &c, &hk, &h), OMV_FW_ERR_NULL);
    CHECK_EQ(omv_fw_host_init(st.b, omv_fw_host_storage_size() - 1, &c, &hk, &h), OMV_FW_ERR_SIZE);
    CHECK_EQ(omv_fw_host_init(st.b + 1, sizeof st.b - 1, &c, &hk, &h), OMV_FW_ERR_ALIGN);
    omv_fw_host_hooks_t nowrite = { 0 };
    CHECK_EQ(omv_fw_host_init(st.b, sizeof st.b, &c, &nowrite, &h), OMV_FW_ERR_NULL);
    c.max_payload = (uint16_t)(omv_fw_host_max_payload() + 1);
    CHECK_EQ(omv_fw_host_init(st.b, sizeof st.b, &c, &hk, &h), OMV_FW_ERR_CONFIG);
    c.max_payload = 0;
    c.timeout_ms = 0;
    CHECK_EQ(omv_fw_host_init(st.b, sizeof st.b, &c, &hk, &h), OMV_FW_ERR_CONFIG);
    c.timeout_ms = 100;
    c.caps = 0x100;
    CHECK_EQ(omv_fw_host_init(st.b, sizeof st.b, &c, &hk, &h), OMV_FW_ERR_CONFIG);
    CHECK_EQ(omv_fw_host_list(NULL, NULL, 0), OMV_FW_ERR_NULL);
    CHECK_EQ(omv_fw_host_poll(NULL, 0), OMV_FW_ERR_NULL);
    CHECK_EQ(omv_fw_host_input((omv_fw_host_t *)(void *)st.b, NULL, 0), OMV_FW_ERR_HANDLE);
    c.caps = 0xF;
    CHECK_EQ(omv_fw_host_init(st.b, sizeof st.b, &c, &hk, &h), OMV_FW_OK);
    CHECK_EQ(omv_fw_host_input(h, NULL, 3), OMV_FW_ERR_NULL);
    static uint8_t big[8192];
    CHECK_EQ(omv_fw_host_write(h, 5, 0, big, omv_fw_host_max_payload() - 7), OMV_FW_ERR_SIZE);
    CHECK_EQ(omv_fw_host_busy(h), 0);
}

int main(void)
{
    printf("host storage %zu bytes (align %zu), max payload %zu\n", omv_fw_host_storage_size(),
           omv_fw_host_storage_align(), omv_fw_host_max_payload());
    bad_arguments();
    const uint16_t sizes[][2] = { { 0, 0 }, { 0, 512 }, { 50, 50 }, { 200, 73 }, { 1010, 1010 }, { 600, 0 } };
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        every_request(sizes[i][0], sizes[i][1]);
    garbled_link();
    two_pairs();
    printf("%d passed, %d failed\n", checks - failures, failures);
    return failures != 0;
}
