/* Host-side unit tests of the firmware C API: builds packets with its own CRCs, feeds them
 * through the receive ring, and checks the engine's answers byte by byte.
 *   cc -std=c99 -Wall -Wextra -Werror -Iinclude tests/fw_api_test.c libopenmvproto_firmware.a */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "openmvproto_fw.h"

#include "check.h"

/* ---- the wire, from PROTOCOL.md: our own CRCs and packet builder ---- */
static uint16_t crc16(const uint8_t *d, size_t n)
{
    uint16_t c = 0xFFFF;
    for (size_t i = 0; i < n; i++) {
        c ^= (uint16_t)(d[i] << 8);
        for (int b = 0; b < 8; b++)
            c = (c & 0x8000) ? (uint16_t)((c << 1) ^ 0xF94F) : (uint16_t)(c << 1);
    }
    return c;
}

static uint32_t crc32(const uint8_t *d, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= (uint32_t)d[i] << 24;
        for (int b = 0; b < 8; b++)
            c = (c & 0x80000000u) ? (c << 1) ^ 0xFA567D89u : c << 1;
    }
    return c;
}

enum { F_ACK = 1, F_NAK = 2, F_RTX = 4, F_ACK_REQ = 8, F_FRAG = 16, F_EVENT = 32 };
enum {
    OP_SYNC = 0x00, OP_GET_CAPS = 0x01, OP_SET_CAPS = 0x02, OP_STATS = 0x03, OP_VERSION = 0x04,
    OP_SYS_INFO = 0x12, OP_SYS_EVENT = 0x13, OP_SYS_MEMORY = 0x14, OP_LIST = 0x20, OP_POLL = 0x21,
    OP_LOCK = 0x22, OP_UNLOCK = 0x23, OP_SHAPE = 0x24, OP_SIZE = 0x25, OP_READ = 0x26,
    OP_WRITE = 0x27, OP_IOCTL = 0x28, OP_CHANNEL_EVENT = 0x29,
};
enum { ST_INVALID = 2, ST_BUSY = 4, ST_CHECKSUM = 5, ST_SEQUENCE = 6 };

static void put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v; p[1] = (uint8_t)(v >> 8); }
static void put32(uint8_t *p, uint32_t v) { put16(p, (uint16_t)v); put16(p + 2, (uint16_t)(v >> 16)); }
static uint16_t get16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static uint32_t get32(const uint8_t *p) { return get16(p) | (uint32_t)get16(p + 2) << 16; }

/* Writes one packet (CRCs on) into out; returns its length. */
static size_t build(uint8_t *out, uint8_t seq, uint8_t chan, uint8_t flags, uint8_t op,
                    const uint8_t *payload, uint16_t len)
{
    out[0] = 0xAA; out[1] = 0xD5; out[2] = seq; out[3] = chan; out[4] = flags; out[5] = op;
    put16(out + 6, len);
    put16(out + 8, crc16(out, 8));
    if (len == 0)
        return 10;
    memcpy(out + 10, payload, len);
    put32(out + 10 + len, crc32(payload, len));
    return 14u + len;
}

/* ---- a test host around one engine instance ---- */
typedef struct {
    uint8_t buf[1 << 17];
    size_t len, rd;
    int fail;
} sink_t;

static int32_t sink_write(void *user, const uint8_t *d, size_t n)
{
    sink_t *s = user;
    if (s->fail || s->len + n > sizeof s->buf)
        return -1;
    memcpy(s->buf + s->len, d, n);
    s->len += n;
    return 0;
}

typedef struct {
    uint8_t seq, chan, flags, op;
    uint16_t len;
    const uint8_t *payload;
} pkt_t;

/* The next packet the engine wrote, CRCs verified; 0 if none is complete. */
static int next_pkt(sink_t *s, pkt_t *p)
{
    if (s->len - s->rd < 10)
        return 0;
    const uint8_t *b = s->buf + s->rd;
    CHECK(b[0] == 0xAA && b[1] == 0xD5);
    CHECK_EQ(get16(b + 8), crc16(b, 8));
    p->seq = b[2]; p->chan = b[3]; p->flags = b[4]; p->op = b[5];
    p->len = get16(b + 6);
    p->payload = b + 10;
    size_t total = p->len ? 14u + p->len : 10u;
    if (s->len - s->rd < total)
        return 0;
    if (p->len)
        CHECK_EQ(get32(b + 10 + p->len), crc32(p->payload, p->len));
    s->rd += total;
    return 1;
}

typedef struct {
    omv_fw_t *fw;
    sink_t *sink;
    uint8_t seq;       /* the host's counter */
    uint32_t now;      /* ms clock handed to the engine */
    int events;
    uint8_t ev_chan;
    uint16_t ev_code;
} host_t;

static void feed(host_t *h, const uint8_t *d, size_t n)
{
    while (n) {
        int k = omv_fw_rx_push(h->fw, d, n);
        CHECK(k >= 0);
        d += k;
        n -= (size_t)k;
        CHECK_EQ(omv_fw_poll(h->fw, h->now), OMV_FW_OK);
    }
    CHECK_EQ(omv_fw_poll(h->fw, h->now), OMV_FW_OK);
}

static void send_pkt(host_t *h, uint8_t seq, uint8_t chan, uint8_t flags, uint8_t op,
                     const uint8_t *payload, uint16_t len)
{
    static uint8_t pkt[4200];
    feed(h, pkt, build(pkt, seq, chan, flags, op, payload, len));
}

/* Collects the answer to the request just sent: fragments joined into out (if not NULL),
 * ACK_REQ packets ACKed, events counted. Returns the answer's flags (ACK, NAK or 0), or -1
 * if it did not come; *status gets a NAK's status. */
static int collect(host_t *h, uint8_t op, uint8_t chan, uint8_t *out, size_t *out_len, uint16_t *status)
{
    size_t n = 0;
    for (int idle = 0; idle < 3;) {
        pkt_t p;
        if (!next_pkt(h->sink, &p)) {
            idle++;
            CHECK_EQ(omv_fw_poll(h->fw, h->now), OMV_FW_OK);
            continue;
        }
        idle = 0;
        if (p.flags & F_EVENT) {
            h->events++;
            h->ev_chan = p.chan;
            h->ev_code = p.len >= 2 ? get16(p.payload) : 0xFFFF;
            if (p.flags & F_ACK_REQ)
                send_pkt(h, p.seq, p.chan, F_ACK, p.op, NULL, 0);
            continue;
        }
        CHECK_EQ(p.seq, h->seq);
        CHECK_EQ(p.op, op);
        CHECK_EQ(p.chan, chan);
        h->seq++;
        if (p.flags & F_ACK_REQ)
            send_pkt(h, p.seq, p.chan, F_ACK, p.op, NULL, 0);
        if (p.flags & F_NAK) {
            if (status)
                *status = p.len >= 2 ? get16(p.payload) : 0xFFFF;
            return F_NAK;
        }
        if (out)
            memcpy(out + n, p.payload, p.len);
        n += p.len;
        if (out_len)
            *out_len = n;
        if (!(p.flags & F_FRAG))
            return p.flags & (F_ACK | F_NAK);
    }
    return -1;
}

/* Reads what is left after an answer: only events may come. */
static void drain_events(host_t *h)
{
    pkt_t p;
    CHECK_EQ(omv_fw_poll(h->fw, h->now), OMV_FW_OK);
    while (next_pkt(h->sink, &p)) {
        CHECK(p.flags & F_EVENT);
        h->events++;
        h->ev_chan = p.chan;
        h->ev_code = p.len >= 2 ? get16(p.payload) : 0xFFFF;
        if (p.flags & F_ACK_REQ)
            send_pkt(h, p.seq, p.chan, F_ACK, p.op, NULL, 0);
    }
}

static int request(host_t *h, uint8_t chan, uint8_t op, const uint8_t *payload, uint16_t len,
                   uint8_t *out, size_t *out_len, uint16_t *status)
{
    send_pkt(h, h->seq, chan, 0, op, payload, len);
    int r = collect(h, op, chan, out, out_len, status);
    if (op == OP_SYNC)
        h->seq = 0;
    return r;
}

/* ---- C channels for the tests ---- */
static int32_t pattern_read(void *user, uint32_t off, uint8_t *buf, size_t len)
{
    (void)user;
    for (size_t i = 0; i < len; i++)
        buf[i] = (uint8_t)((off + i) * 7u);
    return OMV_FW_STATUS_SUCCESS;
}
static uint32_t pattern_size(void *user) { (void)user; return 1500; }
static const omv_fw_channel_ops_t pattern_ops = { .read = pattern_read, .size = pattern_size };

static uint8_t zc_data[3000];
static const uint8_t *zc_readp(void *user, uint32_t off, size_t len)
{
    (void)user;
    return off + len <= sizeof zc_data ? zc_data + off : NULL;
}
static uint32_t zc_size(void *user) { (void)user; return sizeof zc_data; }
static const omv_fw_channel_ops_t zc_ops = { .readp = zc_readp, .size = zc_size };

/* Bytes last written: writes at offset <= length, the length ends at the last write. */
typedef struct { uint8_t data[8192]; uint32_t len; } store_t;
static int32_t store_write(void *user, uint32_t off, const uint8_t *d, size_t len)
{
    store_t *s = user;
    if (off > s->len || off + len > sizeof s->data)
        return OMV_FW_STATUS_FAILED;
    memcpy(s->data + off, d, len);
    s->len = off + (uint32_t)len;
    return OMV_FW_STATUS_SUCCESS;
}
static int32_t store_read(void *user, uint32_t off, uint8_t *buf, size_t len)
{
    store_t *s = user;
    if (off + len > s->len)
        return OMV_FW_STATUS_INVALID;
    memcpy(buf, s->data + off, len);
    return OMV_FW_STATUS_SUCCESS;
}
static uint32_t store_size(void *user) { return ((store_t *)user)->len; }
static int32_t store_ioctl(void *user, uint32_t req, const uint8_t *arg, size_t len)
{
    (void)arg;
    if (req != 7 || len != 0)
        return OMV_FW_STATUS_INVALID;
    ((store_t *)user)->len = 0;
    return OMV_FW_STATUS_SUCCESS;
}
static const omv_fw_channel_ops_t store_ops = {
    .read = store_read, .write = store_write, .size = store_size, .ioctl = store_ioctl,
};

static omv_fw_t *reentry_fw;
static int reentry_rc = 1;
static uint32_t reentry_size(void *user)
{
    (void)user;
    reentry_rc = omv_fw_poll(reentry_fw, 0);
    return 1;
}
static const omv_fw_channel_ops_t reentry_ops = { .size = reentry_size };

static size_t board_memory(void *user, omv_fw_memory_pool_t *out, size_t max)
{
    (void)user;
    if (max < 1)
        return 0;
    memset(out, 0, sizeof *out);
    out->kind = 0; out->total = 4096; out->used = 1000; out->free = 3096; out->peak = 2000;
    return 1;
}

static unsigned hw_crc_calls;
static uint16_t hw_crc16(void *user, const uint8_t *d, size_t n) { (void)user; hw_crc_calls++; return crc16(d, n); }
static uint32_t hw_crc32(void *user, const uint8_t *d, size_t n) { (void)user; hw_crc_calls++; return crc32(d, n); }

/* Storage for two instances (64-bit hosts need more than the target's ~10 KiB). */
#define STORAGE_BYTES 32768
static union { uint64_t align; void *p; uint8_t b[STORAGE_BYTES + 8]; } storage[2];
static sink_t sinks[2];

static void make(host_t *h, int which, const omv_fw_hooks_t *extra)
{
    omv_fw_config_t cfg;
    CHECK_EQ(omv_fw_config_default(&cfg), OMV_FW_OK);
    omv_fw_hooks_t hooks = { .write = sink_write, .write_user = &sinks[which] };
    if (extra) {
        hooks.crc16 = extra->crc16;
        hooks.crc32 = extra->crc32;
    }
    memset(h, 0, sizeof *h);
    memset(&sinks[which], 0, sizeof sinks[which]);
    h->sink = &sinks[which];
    CHECK_EQ(omv_fw_init(storage[which].b, STORAGE_BYTES, &cfg, &hooks, &h->fw), OMV_FW_OK);
}

/* ---- the tests ---- */
static void test_init_errors(void)
{
    omv_fw_config_t cfg;
    omv_fw_hooks_t hooks = { .write = sink_write, .write_user = &sinks[0] };
    omv_fw_t *fw = NULL;
    CHECK(omv_fw_storage_size() <= STORAGE_BYTES);
    CHECK(omv_fw_storage_align() >= 1 && omv_fw_storage_align() <= 16);
    CHECK_EQ(omv_fw_config_default(NULL), OMV_FW_ERR_NULL);
    omv_fw_config_default(&cfg);
    CHECK_EQ(cfg.max_payload, 4082);
    CHECK_EQ(cfg.caps, 15);
    CHECK_EQ(omv_fw_init(NULL, STORAGE_BYTES, &cfg, &hooks, &fw), OMV_FW_ERR_NULL);
    CHECK_EQ(omv_fw_init(storage[0].b, STORAGE_BYTES, NULL, &hooks, &fw), OMV_FW_ERR_NULL);
    CHECK_EQ(omv_fw_init(storage[0].b, STORAGE_BYTES, &cfg, NULL, &fw), OMV_FW_ERR_NULL);
    CHECK_EQ(omv_fw_init(storage[0].b, STORAGE_BYTES, &cfg, &hooks, NULL), OMV_FW_ERR_NULL);
    CHECK_EQ(omv_fw_init(storage[0].b + 1, STORAGE_BYTES, &cfg, &hooks, &fw), OMV_FW_ERR_ALIGN);
    CHECK_EQ(omv_fw_init(storage[0].b, 100, &cfg, &hooks, &fw), OMV_FW_ERR_SIZE);
    omv_fw_hooks_t no_write = { .write = NULL };
    CHECK_EQ(omv_fw_init(storage[0].b, STORAGE_BYTES, &cfg, &no_write, &fw), OMV_FW_ERR_NULL);
    omv_fw_hooks_t half_crc = { .write = sink_write, .crc16 = hw_crc16 };
    CHECK_EQ(omv_fw_init(storage[0].b, STORAGE_BYTES, &cfg, &half_crc, &fw), OMV_FW_ERR_CONFIG);
    omv_fw_config_t bad = cfg;
    bad.max_payload = 49;
    CHECK_EQ(omv_fw_init(storage[0].b, STORAGE_BYTES, &bad, &hooks, &fw), OMV_FW_ERR_CONFIG);
    bad = cfg;
    bad.caps = 0x100;
    CHECK_EQ(omv_fw_init(storage[0].b, STORAGE_BYTES, &bad, &hooks, &fw), OMV_FW_ERR_CONFIG);
    CHECK(fw == NULL);

    /* NULL and foreign handles are refused by every function. */
    memset(storage[1].b, 0, sizeof storage[1].b);
    omv_fw_t *junk = (omv_fw_t *)(void *)storage[1].b;
    uint8_t byte = 0;
    size_t len = 0;
    omv_fw_stats_t st;
    omv_fw_stream_status_t ss;
    omv_fw_board_t board;
    memset(&board, 0, sizeof board);
    CHECK_EQ(omv_fw_poll(NULL, 0), OMV_FW_ERR_NULL);
    CHECK_EQ(omv_fw_poll(junk, 0), OMV_FW_ERR_HANDLE);
    CHECK_EQ(omv_fw_rx_push(NULL, &byte, 1), OMV_FW_ERR_NULL);
    CHECK_EQ(omv_fw_rx_push(junk, &byte, 1), OMV_FW_ERR_HANDLE);
    CHECK_EQ(omv_fw_rx_space(NULL), OMV_FW_ERR_NULL);
    CHECK_EQ(omv_fw_set_board(NULL, &board), OMV_FW_ERR_NULL);
    CHECK_EQ(omv_fw_channel_register(NULL, "x", &pattern_ops, NULL), OMV_FW_ERR_NULL);
    CHECK_EQ(omv_fw_channel_register_static(NULL, 4, "x", &pattern_ops, NULL, 0), OMV_FW_ERR_NULL);
    CHECK_EQ(omv_fw_channel_unregister(NULL, 5), OMV_FW_ERR_NULL);
    CHECK_EQ(omv_fw_send_event(NULL, 0, 0, false), OMV_FW_ERR_NULL);
    CHECK_EQ(omv_fw_stats(NULL, &st), OMV_FW_ERR_NULL);
    CHECK_EQ(omv_fw_stdin_register(NULL, &byte, 1), OMV_FW_ERR_NULL);
    CHECK_EQ(omv_fw_stdout_register(NULL, &byte, 1), OMV_FW_ERR_NULL);
    CHECK_EQ(omv_fw_stream_register(NULL, &byte, 1), OMV_FW_ERR_NULL);
    CHECK_EQ(omv_fw_stdin_take_command(NULL, NULL), OMV_FW_ERR_NULL);
    CHECK(omv_fw_stdin_script(NULL, &len) == NULL);
    CHECK_EQ(omv_fw_stdin_set_running(NULL, true), OMV_FW_ERR_NULL);
    CHECK_EQ(omv_fw_stdout_write(NULL, &byte, 1), OMV_FW_ERR_NULL);
    CHECK(omv_fw_stream_frame(NULL, &len) == NULL);
    CHECK_EQ(omv_fw_stream_publish(NULL, 1, 1, OMV_FW_PIXFORMAT_GRAYSCALE, 1, 0.0f), OMV_FW_ERR_NULL);
    CHECK_EQ(omv_fw_stream_status(NULL, &ss), OMV_FW_ERR_NULL);
}

/* User channel ids in these tests: the first free slots after the three built-ins. */
enum { U_PATTERN = 4, U_ZC = 5, U_STORE = 6, U_HIGH = 15 };

static void test_basics(host_t *h)
{
    uint8_t out[8192];
    size_t n = 0;
    uint16_t status = 0;
    omv_fw_t *fw = h->fw;

    /* NULL arguments with a live handle. */
    CHECK_EQ(omv_fw_channel_register(fw, NULL, &pattern_ops, NULL), OMV_FW_ERR_NULL);
    CHECK_EQ(omv_fw_channel_register(fw, "x", NULL, NULL), OMV_FW_ERR_NULL);
    CHECK_EQ(omv_fw_channel_register(fw, "fourteen_chars", &pattern_ops, NULL), OMV_FW_ERR_NAME);
    CHECK_EQ(omv_fw_channel_register(fw, "", &pattern_ops, NULL), OMV_FW_ERR_NAME);
    CHECK_EQ(omv_fw_channel_register(fw, "caf\xc3\xa9", &pattern_ops, NULL), OMV_FW_ERR_NAME); /* ASCII only */
    CHECK_EQ(omv_fw_rx_push(fw, NULL, 1), OMV_FW_ERR_NULL);
    CHECK_EQ(omv_fw_stats(fw, NULL), OMV_FW_ERR_NULL);
    CHECK_EQ(omv_fw_stdout_write(fw, (const uint8_t *)"x", 1), OMV_FW_ERR_STATE);

    static uint8_t out_ring[256];
    CHECK_EQ(omv_fw_stdout_register(fw, out_ring, sizeof out_ring), OMV_FW_ID_STDOUT);
    CHECK_EQ(omv_fw_stdout_register(fw, out_ring, sizeof out_ring), OMV_FW_ERR_ID);
    /* The other built-ins, as a cam registers them: user channels then start at id 4 (the
     * first free slot, as on the reference firmware without the profiler). */
    static uint8_t basics_script[16], basics_frame[64];
    CHECK_EQ(omv_fw_stdin_register(fw, basics_script, sizeof basics_script), OMV_FW_ID_STDIN);
    CHECK_EQ(omv_fw_stream_register(fw, basics_frame, sizeof basics_frame), OMV_FW_ID_STREAM);
    CHECK_EQ(omv_fw_channel_register(fw, "pattern", &pattern_ops, NULL), U_PATTERN);
    CHECK_EQ(omv_fw_channel_register(fw, "pattern", &pattern_ops, NULL), OMV_FW_ERR_NAME);
    CHECK_EQ(omv_fw_channel_register(fw, "zc", &zc_ops, NULL), U_ZC);
    static store_t store;
    CHECK_EQ(omv_fw_channel_register(fw, "store", &store_ops, &store), U_STORE);
    CHECK_EQ(omv_fw_channel_register_static(fw, 9, "bad", &store_ops, &store, 0), OMV_FW_ERR_ID);

    /* PROTO_SYNC: a bare ACK with the request's seq, counters back to 0. */
    h->seq = 77;
    CHECK_EQ(request(h, 0, OP_SYNC, NULL, 0, NULL, NULL, NULL), F_ACK);

    /* GET_CAPS: all four capabilities, max_payload 4082. */
    CHECK_EQ(request(h, 0, OP_GET_CAPS, NULL, 0, out, &n, NULL), 0);
    CHECK_EQ(n, 16);
    CHECK_EQ(get32(out), 15);
    CHECK_EQ(get16(out + 4), 4082);

    /* CHANNEL_LIST: stdin, stdout, stream, then the three user channels (DYNAMIC plus what
     * they implement). */
    CHECK_EQ(request(h, 0, OP_LIST, NULL, 0, out, &n, NULL), 0);
    CHECK_EQ(n, 6 * 16);
    CHECK_EQ(out[16], 2);
    CHECK_EQ(out[17], 0x01);
    CHECK(strcmp((const char *)out + 18, "stdout") == 0);
    CHECK_EQ(out[48], U_PATTERN);
    CHECK_EQ(out[49], 0x21);
    CHECK(strcmp((const char *)out + 50, "pattern") == 0);
    CHECK_EQ(out[65], 0x21);
    CHECK_EQ(out[80], U_STORE);
    CHECK_EQ(out[81], 0x23);

    /* A read in 512-byte fragments (the default read fragment size), each ACKed. */
    uint8_t rq[8];
    put32(rq, 0);
    put32(rq + 4, 1500);
    uint8_t seq0 = h->seq;
    CHECK_EQ(request(h, U_PATTERN, OP_READ, rq, 8, out, &n, NULL), 0);
    CHECK_EQ(n, 1500);
    CHECK_EQ((uint8_t)(h->seq - seq0), 3);
    int same = 1;
    for (size_t i = 0; i < 1500; i++)
        same &= out[i] == (uint8_t)(i * 7u);
    CHECK(same);
    /* Zero-copy channel, from an offset. */
    for (size_t i = 0; i < sizeof zc_data; i++)
        zc_data[i] = (uint8_t)(i ^ 0x5A);
    put32(rq, 100);
    put32(rq + 4, 2900);
    CHECK_EQ(request(h, U_ZC, OP_READ, rq, 8, out, &n, NULL), 0);
    CHECK_EQ(n, 2900);
    CHECK(memcmp(out, zc_data + 100, 2900) == 0);
    /* Past the end: NAK INVALID. */
    put32(rq, 1000);
    put32(rq + 4, 501);
    CHECK_EQ(request(h, U_PATTERN, OP_READ, rq, 8, NULL, NULL, &status), F_NAK);
    CHECK_EQ(status, ST_INVALID);

    /* Write in two pieces, read back; ioctl. */
    uint8_t wr[8 + 300];
    put32(wr, 0);
    put32(wr + 4, 300);
    for (int i = 0; i < 300; i++)
        wr[8 + i] = (uint8_t)(i + 1);
    CHECK_EQ(request(h, U_STORE, OP_WRITE, wr, sizeof wr, NULL, NULL, NULL), F_ACK);
    put32(wr, 300);
    CHECK_EQ(request(h, U_STORE, OP_WRITE, wr, sizeof wr, NULL, NULL, NULL), F_ACK);
    CHECK_EQ(request(h, U_STORE, OP_SIZE, NULL, 0, out, &n, NULL), 0);
    CHECK_EQ(get32(out), 600);
    put32(rq, 290);
    put32(rq + 4, 20);
    CHECK_EQ(request(h, U_STORE, OP_READ, rq, 8, out, &n, NULL), 0);
    CHECK_EQ(out[9], (uint8_t)300);
    CHECK_EQ(out[10], 1);
    uint8_t io[4];
    put32(io, 7);
    CHECK_EQ(request(h, U_STORE, OP_IOCTL, io, 4, NULL, NULL, NULL), F_ACK);
    CHECK_EQ(store.len, 0);
    /* Unsupported operations: NAK INVALID. */
    CHECK_EQ(request(h, U_PATTERN, OP_WRITE, wr, sizeof wr, NULL, NULL, &status), F_NAK);
    CHECK_EQ(status, ST_INVALID);
    CHECK_EQ(request(h, U_PATTERN, OP_LOCK, NULL, 0, NULL, NULL, &status), F_NAK);
    CHECK_EQ(request(h, 9, OP_SIZE, NULL, 0, NULL, NULL, &status), F_NAK);
    CHECK_EQ(status, ST_INVALID);
}

static void test_hostile(host_t *h)
{
    uint8_t out[256], p[64];
    size_t n = 0;
    uint16_t status = 0;

    /* CHANNEL_WRITE whose length field exceeds the payload. */
    put32(p, 0);
    put32(p + 4, 100);
    memset(p + 8, 0xEE, 10);
    CHECK_EQ(request(h, U_STORE, OP_WRITE, p, 18, NULL, NULL, &status), F_NAK);
    CHECK_EQ(status, ST_INVALID);
    /* ... and one shorter than the payload. */
    put32(p + 4, 2);
    CHECK_EQ(request(h, U_STORE, OP_WRITE, p, 18, NULL, NULL, &status), F_NAK);
    CHECK_EQ(status, ST_INVALID);
    /* CHANNEL_IOCTL with fewer than 4 bytes. */
    CHECK_EQ(request(h, U_STORE, OP_IOCTL, p, 2, NULL, NULL, &status), F_NAK);
    CHECK_EQ(status, ST_INVALID);
    CHECK_EQ(request(h, U_STORE, OP_IOCTL, NULL, 0, NULL, NULL, &status), F_NAK);
    CHECK_EQ(status, ST_INVALID);
    /* CHANNEL_READ without (or with half) its 8-byte request. */
    CHECK_EQ(request(h, U_PATTERN, OP_READ, NULL, 0, NULL, NULL, &status), F_NAK);
    CHECK_EQ(status, ST_INVALID);
    CHECK_EQ(request(h, U_PATTERN, OP_READ, p, 4, NULL, NULL, &status), F_NAK);
    CHECK_EQ(status, ST_INVALID);
    /* A system opcode on a channel. */
    CHECK_EQ(request(h, U_PATTERN, OP_GET_CAPS, NULL, 0, NULL, NULL, &status), F_NAK);
    CHECK_EQ(status, ST_INVALID);

    /* Payload CRC broken: NAK CHECKSUM. */
    uint8_t pkt[64];
    put32(p, 0);
    put32(p + 4, 4);
    size_t len = build(pkt, h->seq, 5, 0, OP_READ, p, 8);
    pkt[len - 1] ^= 0x40;
    feed(h, pkt, len);
    CHECK_EQ(collect(h, OP_READ, 5, NULL, NULL, &status), F_NAK);
    CHECK_EQ(status, ST_CHECKSUM);
    /* Wrong seq: NAK SEQUENCE echoing the request's seq; the counter stays. */
    send_pkt(h, (uint8_t)(h->seq + 5), 0, 0, OP_GET_CAPS, NULL, 0);
    pkt_t a;
    CHECK(next_pkt(h->sink, &a));
    CHECK_EQ(a.seq, (uint8_t)(h->seq + 5));
    CHECK_EQ(a.flags & F_NAK, F_NAK);
    CHECK_EQ(get16(a.payload), ST_SEQUENCE);
    CHECK_EQ(request(h, 0, OP_GET_CAPS, NULL, 0, out, &n, NULL), 0);

    /* Garbage, then a truncated packet (header promises 200 bytes, 30 come), then SYNC:
     * the SYNC inside the stalled bytes must still be answered. */
    uint8_t junk[] = { 0x00, 0xAA, 0x13, 0xAA, 0xD5, 0x01 };
    feed(h, junk, sizeof junk);
    uint8_t big[200];
    memset(big, 0x33, sizeof big);
    len = build(pkt, h->seq, 7, 0, OP_WRITE, big, 50);   /* a real packet, cut below */
    put16(pkt + 6, 200);
    put16(pkt + 8, crc16(pkt, 8));
    feed(h, pkt, 40);
    CHECK(!next_pkt(h->sink, &a));
    h->seq = 9;
    CHECK_EQ(request(h, 0, OP_SYNC, NULL, 0, NULL, NULL, NULL), F_ACK);
    CHECK_EQ(request(h, 0, OP_GET_CAPS, NULL, 0, out, &n, NULL), 0);
    CHECK_EQ(n, 16);
}

static void test_high_slot(host_t *h)
{
    uint8_t out[1024];
    size_t n = 0;
    static const char *names[] = { "f8", "f9", "f10", "f11", "f12", "f13", "f14", "f15" };
    for (int i = 0; i < 8; i++)
        CHECK_EQ(omv_fw_channel_register(h->fw, names[i], &pattern_ops, NULL), U_STORE + 1 + i);
    CHECK_EQ(omv_fw_channel_register(h->fw, "high", &pattern_ops, NULL), U_HIGH);
    /* Drop every user channel below it, so the count of channels is far below its id. */
    for (int id = U_PATTERN; id < U_HIGH; id++)
        CHECK_EQ(omv_fw_channel_unregister(h->fw, (uint8_t)id), OMV_FW_OK);
    CHECK_EQ(omv_fw_channel_unregister(h->fw, U_PATTERN), OMV_FW_ERR_ID);
    CHECK_EQ(omv_fw_channel_unregister(h->fw, 0), OMV_FW_ERR_ID);
    CHECK_EQ(request(h, U_HIGH, OP_SIZE, NULL, 0, out, &n, NULL), 0);
    CHECK_EQ(get32(out), 1500);
    uint8_t rq[8];
    put32(rq, 10);
    put32(rq + 4, 3);
    CHECK_EQ(request(h, U_HIGH, OP_READ, rq, 8, out, &n, NULL), 0);
    CHECK_EQ(n, 3);
    CHECK_EQ(out[0], 70);
    CHECK_EQ(request(h, 0, OP_LIST, NULL, 0, out, &n, NULL), 0);
    CHECK_EQ(n, 4 * 16);
    CHECK_EQ(out[48], U_HIGH);
    /* The next registration takes the lowest free slot again. */
    CHECK_EQ(omv_fw_channel_register(h->fw, "again", &zc_ops, NULL), U_PATTERN);
    /* Fill every slot, then one more. */
    char name[8];
    int id = 0;
    for (int i = 0; i < 40 && id >= 0; i++) {
        snprintf(name, sizeof name, "n%d", i);
        id = omv_fw_channel_register(h->fw, name, &zc_ops, NULL);
    }
    CHECK_EQ(id, OMV_FW_ERR_FULL);
    /* A refused registration keeps no glue entry: after many, one freed slot still takes one. */
    CHECK_EQ(omv_fw_channel_unregister(h->fw, U_PATTERN), OMV_FW_OK);
    drain_events(h); /* so the registration below is the last event, as the next test expects */
    for (int i = 0; i < 40; i++)
        CHECK_EQ(omv_fw_channel_register(h->fw, "n0", &zc_ops, NULL), OMV_FW_ERR_NAME);
    CHECK_EQ(omv_fw_channel_register(h->fw, "again", &zc_ops, NULL), U_PATTERN);
}

static void test_builtins_and_events(host_t *h)
{
    uint8_t out[1024], p[64];
    size_t n = 0;
    uint16_t status = 0;
    omv_fw_t *fw = h->fw;

    /* Events: (un)registering a user channel tells the host (events are on after SYNC). */
    drain_events(h);
    CHECK_EQ(h->ev_code, OMV_FW_EVENT_CHANNEL_REGISTERED);
    CHECK_EQ(omv_fw_channel_unregister(fw, 6), OMV_FW_OK);
    h->events = 0;
    drain_events(h);
    CHECK_EQ(h->events, 1);
    CHECK_EQ(h->ev_chan, 0);
    CHECK_EQ(h->ev_code, OMV_FW_EVENT_CHANNEL_UNREGISTERED);
    CHECK_EQ(omv_fw_send_event(fw, 7, 0x1234, true), OMV_FW_OK);
    drain_events(h);
    CHECK_EQ(h->events, 2);
    CHECK_EQ(h->ev_chan, 7);
    CHECK_EQ(h->ev_code, 0x1234);

    /* stdout: text, size, consuming read, NOTIFY within 50 ms. */
    CHECK_EQ(omv_fw_stdout_write(fw, (const uint8_t *)"hello", 5), 5);
    h->now += 60;
    CHECK_EQ(request(h, 2, OP_SIZE, NULL, 0, out, &n, NULL), 0);
    CHECK_EQ(get32(out), 5);
    drain_events(h);
    CHECK_EQ(h->ev_chan, 2);
    CHECK_EQ(h->ev_code, 0xFFFF);
    put32(p, 0);
    put32(p + 4, 5);
    CHECK_EQ(request(h, 2, OP_READ, p, 8, out, &n, NULL), 0);
    CHECK(n == 5 && memcmp(out, "hello", 5) == 0);
    /* NOTIFY when a write fills the 256-byte ring past half, once, as the firmware: the
     * next write within the 50 ms period sends none. */
    uint8_t text[100];
    memset(text, 'a', sizeof text);
    CHECK_EQ(omv_fw_stdout_write(fw, text, 100), 100);
    h->events = 0;
    drain_events(h);
    CHECK_EQ(h->events, 0);
    CHECK_EQ(omv_fw_stdout_write(fw, text, 40), 40);
    drain_events(h);
    CHECK_EQ(h->events, 1);
    CHECK(h->ev_chan == 2 && h->ev_code == 0xFFFF);
    CHECK_EQ(omv_fw_stdout_write(fw, text, 10), 10);
    drain_events(h);
    CHECK_EQ(h->events, 1);
    put32(p, 0);
    put32(p + 4, 150);
    CHECK_EQ(request(h, 2, OP_READ, p, 8, out, &n, NULL), 0);
    CHECK_EQ(n, 150);

    /* stdin: upload, EXEC (no argument bytes allowed), command taken by the cam. */
    static uint8_t script[64];
    CHECK_EQ(omv_fw_channel_unregister(fw, OMV_FW_ID_STDIN), OMV_FW_OK);
    CHECK_EQ(omv_fw_stdin_register(fw, script, sizeof script), OMV_FW_ID_STDIN);
    put32(p, 0);
    put32(p + 4, 8);
    memcpy(p + 8, "print(1)", 8);
    CHECK_EQ(request(h, 1, OP_WRITE, p, 16, NULL, NULL, NULL), F_ACK);
    put32(p, 2);
    CHECK_EQ(request(h, 1, OP_IOCTL, p, 8, NULL, NULL, &status), F_NAK);
    CHECK_EQ(status, ST_INVALID);
    CHECK_EQ(request(h, 1, OP_IOCTL, p, 4, NULL, NULL, NULL), F_ACK);
    uint32_t slen = 0;
    CHECK_EQ(omv_fw_stdin_take_command(fw, &slen), OMV_FW_STDIN_EXEC);
    CHECK_EQ(slen, 8);
    CHECK_EQ(omv_fw_stdin_take_command(fw, &slen), OMV_FW_STDIN_NONE);
    size_t sl = 0;
    const uint8_t *s = omv_fw_stdin_script(fw, &sl);
    CHECK(s != NULL && sl == 8 && memcmp(s, "print(1)", 8) == 0);
    CHECK_EQ(omv_fw_stdin_set_running(fw, true), OMV_FW_OK);
    CHECK_EQ(request(h, 0, OP_POLL, NULL, 0, out, &n, NULL), 0);
    CHECK_EQ(get32(out) & 0x2, 0x2);
    drain_events(h);
    CHECK_EQ(h->ev_chan, 1);
    CHECK_EQ(h->ev_code, 1);

    /* stream: publish, lock, read, unlock; no new frame while the host holds it. */
    static uint8_t frame[32 + 16];
    size_t cap = 0;
    CHECK_EQ(omv_fw_channel_unregister(fw, OMV_FW_ID_STREAM), OMV_FW_OK);
    CHECK(omv_fw_stream_frame(fw, &cap) == NULL);
    CHECK_EQ(omv_fw_stream_register(fw, frame, sizeof frame), OMV_FW_ID_STREAM);
    CHECK_EQ(request(h, 3, OP_LOCK, NULL, 0, NULL, NULL, &status), F_NAK);
    CHECK_EQ(status, ST_BUSY);
    uint8_t *px = omv_fw_stream_frame(fw, &cap);
    CHECK(px != NULL && cap == 16);
    for (int i = 0; i < 16; i++)
        px[i] = (uint8_t)(200 + i);
    CHECK_EQ(omv_fw_stream_publish(fw, 4, 4, OMV_FW_PIXFORMAT_GRAYSCALE, 17, 0.0f), OMV_FW_ERR_STATE);
    CHECK_EQ(omv_fw_stream_publish(fw, 4, 4, OMV_FW_PIXFORMAT_GRAYSCALE, 16, 30.0f), OMV_FW_OK);
    h->now += 20;
    CHECK_EQ(request(h, 3, OP_LOCK, NULL, 0, NULL, NULL, NULL), F_ACK);
    CHECK(omv_fw_stream_frame(fw, &cap) == NULL);
    omv_fw_stream_status_t ss;
    CHECK_EQ(omv_fw_stream_status(fw, &ss), OMV_FW_OK);
    CHECK(ss.ready && ss.locked && !ss.streaming);
    CHECK_EQ(request(h, 3, OP_SIZE, NULL, 0, out, &n, NULL), 0);
    CHECK_EQ(get32(out), 48);
    put32(p, 0);
    put32(p + 4, 48);
    CHECK_EQ(request(h, 3, OP_READ, p, 8, out, &n, NULL), 0);
    CHECK_EQ(n, 48);
    CHECK_EQ(get32(out), 4);
    CHECK_EQ(get32(out + 8), OMV_FW_PIXFORMAT_GRAYSCALE);
    CHECK_EQ(get32(out + 16), 32);
    CHECK_EQ(out[32], 200);
    CHECK_EQ(out[47], 215);
    CHECK_EQ(request(h, 3, OP_UNLOCK, NULL, 0, NULL, NULL, NULL), F_ACK);
    put32(p, 0);
    put32(p + 4, 1);
    CHECK_EQ(request(h, 3, OP_IOCTL, p, 8, NULL, NULL, NULL), F_ACK);
    CHECK_EQ(omv_fw_stream_status(fw, &ss), OMV_FW_OK);
    CHECK(!ss.ready && !ss.locked && ss.streaming);
    CHECK(omv_fw_stream_frame(fw, &cap) != NULL);

    /* Board: SYS_INFO, PROTO_VERSION 1.0.2, SYS_MEMORY. */
    omv_fw_board_t b;
    memset(&b, 0, sizeof b);
    b.info.usb_id = 0x37C51234u;
    b.info.flash_kb = 4096;
    b.firmware_version[0] = 5;
    b.memory = board_memory;
    CHECK_EQ(omv_fw_set_board(fw, &b), OMV_FW_OK);
    CHECK_EQ(request(h, 0, OP_SYS_INFO, NULL, 0, out, &n, NULL), 0);
    CHECK_EQ(n, 76);
    CHECK_EQ(get32(out + 16), 0x37C51234u);
    CHECK_EQ(get32(out + 40) & 0x40, 0);
    CHECK_EQ(get32(out + 48), 4096);
    CHECK_EQ(request(h, 0, OP_VERSION, NULL, 0, out, &n, NULL), 0);
    CHECK(n == 16 && out[0] == 1 && out[1] == 0 && out[2] == 2 && out[6] == 5);
    CHECK_EQ(request(h, 0, OP_SYS_MEMORY, NULL, 0, out, &n, NULL), 0);
    CHECK_EQ(n, 4 + 24);
    CHECK_EQ(out[0], 1);
    CHECK_EQ(get32(out + 4 + 4), 4096);

    /* Stats count what went both ways. */
    omv_fw_stats_t st;
    CHECK_EQ(omv_fw_stats(fw, &st), OMV_FW_OK);
    CHECK(st.sent > 20 && st.received > 20 && st.checksum_errors == 1 && st.events_sent >= 4);
    CHECK_EQ(request(h, 0, OP_STATS, NULL, 0, out, &n, NULL), 0);
    CHECK_EQ(n, 32);
    CHECK_EQ(get32(out + 8), 1);
}

static void test_reentry_and_transport(host_t *h)
{
    uint8_t out[64];
    size_t n = 0;
    reentry_fw = h->fw;
    int id = omv_fw_channel_register(h->fw, "reentry", &reentry_ops, NULL);
    CHECK(id > 0);
    CHECK_EQ(request(h, (uint8_t)id, OP_SIZE, NULL, 0, out, &n, NULL), 0);
    CHECK_EQ(reentry_rc, OMV_FW_ERR_REENTERED);

    /* A failing transport write counts as a transport error. */
    omv_fw_stats_t before, after;
    omv_fw_stats(h->fw, &before);
    h->sink->fail = 1;
    send_pkt(h, h->seq, 0, 0, OP_GET_CAPS, NULL, 0);
    h->sink->fail = 0;
    omv_fw_stats(h->fw, &after);
    CHECK_EQ(after.transport_errors, before.transport_errors + 1);
    /* The host resynchronises. */
    CHECK_EQ(request(h, 0, OP_SYNC, NULL, 0, NULL, NULL, NULL), F_ACK);
}

/* Retransmission across the wrap of the u32 millisecond clock. */
static void test_clock_wrap(host_t *h)
{
    pkt_t a, b;
    h->now = 0xFFFFFF00u;
    CHECK_EQ(request(h, 0, OP_SYNC, NULL, 0, NULL, NULL, NULL), F_ACK);
    send_pkt(h, h->seq, 0, 0, OP_GET_CAPS, NULL, 0);
    CHECK(next_pkt(h->sink, &a));
    CHECK_EQ(a.flags, F_ACK_REQ);
    h->now += 300;   /* wrapped: 0x2C */
    CHECK_EQ(omv_fw_poll(h->fw, h->now), OMV_FW_OK);
    CHECK(!next_pkt(h->sink, &b));
    h->now += 250;   /* 550 ms after sending: past the 500 ms timeout */
    CHECK_EQ(omv_fw_poll(h->fw, h->now), OMV_FW_OK);
    CHECK(next_pkt(h->sink, &b));
    CHECK_EQ(b.flags, F_ACK_REQ | F_RTX);
    CHECK_EQ(b.seq, a.seq);
    send_pkt(h, a.seq, 0, F_ACK, OP_GET_CAPS, NULL, 0);
    h->seq++;
    omv_fw_stats_t st;
    omv_fw_stats(h->fw, &st);
    CHECK_EQ(st.retransmits, 1);
    uint8_t out[32];
    size_t n = 0;
    CHECK_EQ(request(h, 0, OP_GET_CAPS, NULL, 0, out, &n, NULL), 0);
}

/* A second instance beside the first, with hardware CRC hooks. */
static void test_second_instance(host_t *first)
{
    host_t h2;
    omv_fw_hooks_t crc = { .crc16 = hw_crc16, .crc32 = hw_crc32 };
    make(&h2, 1, &crc);
    uint8_t out[128];
    size_t n = 0;
    CHECK_EQ(request(&h2, 0, OP_SYNC, NULL, 0, NULL, NULL, NULL), F_ACK);
    CHECK(hw_crc_calls > 0);
    CHECK_EQ(request(&h2, 0, OP_LIST, NULL, 0, out, &n, NULL), 0);
    CHECK_EQ(n, 0);
    CHECK_EQ(request(&h2, 0, OP_SYS_INFO, NULL, 0, out, &n, NULL), 0);
    CHECK_EQ(get32(out + 40) & 0x40, 0x40);
    /* The first instance is untouched. */
    CHECK_EQ(request(first, 0, OP_GET_CAPS, NULL, 0, out, &n, NULL), 0);
    CHECK_EQ(n, 16);
}

int main(void)
{
    static host_t h;
    test_init_errors();
    make(&h, 0, NULL);
    test_basics(&h);
    test_hostile(&h);
    test_high_slot(&h);
    test_builtins_and_events(&h);
    test_reentry_and_transport(&h);
    test_clock_wrap(&h);
    test_second_instance(&h);
    printf("fw_api_test: %d checks, %d failed (storage %zu bytes on this host)\n", checks,
           failures, omv_fw_storage_size());
    return failures ? 1 : 0;
}
