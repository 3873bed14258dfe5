/* Misuse: NULL handles and pointers, wrong struct sizes, small buffers, bad names and ids,
 * re-entry from callbacks, and calls after close. Every call must return an error status
 * (with a last-error message), never crash. */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

typedef struct peer {
    omv_device *dev;
    omv_host *host;
    omv_status reentry, free_inside;
} peer;

static int32_t device_write(void *u, const uint8_t *data, size_t len)
{
    peer *p = (peer *)u;
    return omv_host_feed(p->host, data, len) == OMV_STATUS_OK ? 0 : -1;
}

/* Single-threaded use of the device here: the host's reader thread only sends ACKs, and the
 * test waits for each answer, so no two device calls overlap except the ones below that
 * must fail with BUSY. */
static int32_t host_write(void *u, const uint8_t *data, size_t len)
{
    peer *p = (peer *)u;
    return omv_device_feed(p->dev, now_ms(), data, len) == OMV_STATUS_OK ? 0 : -1;
}

/* A channel whose size callback calls back into its own device: both must be refused. */
static int32_t reentrant_size(void *u, uint32_t *size)
{
    peer *p = (peer *)u;
    omv_stats st;
    p->reentry = omv_device_stats(p->dev, &st);
    p->free_inside = omv_device_free(p->dev);
    *size = 0;
    return 0;
}

static int32_t noop_write(void *u, const uint8_t *data, size_t len)
{
    (void)u;
    (void)data;
    (void)len;
    return 0;
}

static void noop_event(void *u, omv_event_kind kind, uint8_t channel, uint16_t code)
{
    (void)u;
    (void)kind;
    (void)channel;
    (void)code;
}

/* Every host operation on `h`, each expected to return `want`. */
static void all_host_ops(omv_host *h, omv_status want)
{
    uint8_t buf[16];
    char text[16];
    uint32_t u32 = 0;
    size_t n = 4;
    bool b = false;
    omv_channel_info list[4];
    omv_frame *frame = NULL;
    omv_frame info;
    omv_version v;
    omv_system_info si;
    omv_stats st;
    omv_memory_pool pools[2];
    omv_options opts;
    uint32_t dims[4];

    memset(buf, 0x5A, sizeof buf);
    CHECK(omv_options_default(&opts));
    EXPECT_STATUS(omv_host_list(h, list, &n), want);
    EXPECT_STATUS(omv_host_channel_id(h, "stdin", buf), want);
    EXPECT_STATUS(omv_host_poll(h, &u32), want);
    EXPECT_STATUS(omv_host_size(h, 5, &u32), want);
    n = 4;
    EXPECT_STATUS(omv_host_shape(h, 5, dims, &n), want);
    EXPECT_STATUS(omv_host_read(h, 5, 0, buf, 4), want);
    EXPECT_STATUS(omv_host_write(h, 5, 0, buf, 4), want);
    EXPECT_STATUS(omv_host_lock(h, 5, &b), want);
    EXPECT_STATUS(omv_host_unlock(h, 5, &b), want);
    EXPECT_STATUS(omv_host_ioctl(h, 5, 1, NULL, 0), want);
    EXPECT_STATUS(omv_host_exec(h, "x"), want);
    EXPECT_STATUS(omv_host_stop(h), want);
    EXPECT_STATUS(omv_host_streaming(h, true, false, 0, 0), want);
    EXPECT_STATUS(omv_host_read_frame(h, 0, &frame), want);
    EXPECT_STATUS(omv_host_read_frame_into(h, 0, buf, sizeof buf, &info, &b), want);
    EXPECT_STATUS(omv_host_read_stdout(h, text, sizeof text, &n), want);
    EXPECT_STATUS(omv_host_version(h, &v), want);
    EXPECT_STATUS(omv_host_system_info(h, &si), want);
    EXPECT_STATUS(omv_host_device_stats(h, &st), want);
    EXPECT_STATUS(omv_host_host_stats(h, &st), want);
    n = 2;
    EXPECT_STATUS(omv_host_memory(h, pools, &n), want);
    EXPECT_STATUS(omv_host_is_connected(h, &b), want);
    EXPECT_STATUS(omv_host_reset(h), want);
    EXPECT_STATUS(omv_host_boot(h), want);
    EXPECT_STATUS(omv_host_close(h), want);
    EXPECT_STATUS(omv_host_connect(h, &opts), want);
    EXPECT_STATUS(omv_host_feed(h, buf, 1), want);
    EXPECT_STATUS(omv_host_feed_close(h, "x"), want);
    EXPECT_STATUS(omv_host_set_event_callback(h, noop_event, NULL), want);
}

int main(void)
{
    peer p;
    omv_options opts;
    omv_device_config cfg;
    omv_channel_vtable vt;
    omv_host *h = NULL;
    omv_device *d = NULL;
    char msg[8];
    size_t n = 0;
    const char *name = NULL;
    uint8_t id = 0;
    uint8_t buf[64];
    uint32_t u32 = 0;
    bool b;

    memset(&p, 0, sizeof p);
    memset(buf, 0xA5, sizeof buf);

    /* Library-level calls. */
    EXPECT_STATUS(omv_options_default(NULL), OMV_STATUS_NULL_ARGUMENT);
    EXPECT_STATUS(omv_device_config_default(NULL), OMV_STATUS_NULL_ARGUMENT);
    EXPECT_STATUS(omv_status_str(1000, &name), OMV_STATUS_INVALID_ARGUMENT);
    REQUIRE(strcmp(name, "OMV_STATUS_<unknown>") == 0);
    EXPECT_STATUS(omv_status_str(0, NULL), OMV_STATUS_NULL_ARGUMENT);
    CHECK(omv_status_str(OMV_STATUS_CLOSED, &name));
    REQUIRE(strcmp(name, "OMV_STATUS_CLOSED") == 0);
    /* The last error is long; an 8-byte buffer truncates it (NUL-terminated). */
    REQUIRE(omv_last_error(msg, sizeof msg, &n) == OMV_STATUS_BUFFER_TOO_SMALL);
    REQUIRE(n == 7 && msg[7] == '\0');
    REQUIRE(omv_last_error(msg, 0, &n) == OMV_STATUS_BUFFER_TOO_SMALL);
    REQUIRE(omv_last_error(NULL, 8, &n) == OMV_STATUS_NULL_ARGUMENT);

    /* NULL handles everywhere. */
    all_host_ops(NULL, OMV_STATUS_NULL_ARGUMENT);
    EXPECT_STATUS(omv_host_free(NULL), OMV_STATUS_NULL_ARGUMENT);
    EXPECT_STATUS(omv_frame_free(NULL), OMV_STATUS_NULL_ARGUMENT);
    EXPECT_STATUS(omv_device_register(NULL, 0, "x", &vt, NULL, NULL), OMV_STATUS_NULL_ARGUMENT);
    EXPECT_STATUS(omv_device_unregister(NULL, 5), OMV_STATUS_NULL_ARGUMENT);
    EXPECT_STATUS(omv_device_send_event(NULL, 0, 1), OMV_STATUS_NULL_ARGUMENT);
    EXPECT_STATUS(omv_device_feed(NULL, 0, buf, 1), OMV_STATUS_NULL_ARGUMENT);
    EXPECT_STATUS(omv_device_poll(NULL, 0, NULL), OMV_STATUS_NULL_ARGUMENT);
    EXPECT_STATUS(omv_device_stats(NULL, NULL), OMV_STATUS_NULL_ARGUMENT);
    EXPECT_STATUS(omv_device_free(NULL), OMV_STATUS_NULL_ARGUMENT);

    /* Opening: NULL pointers, wrong struct sizes, bad values, nothing listening. */
    CHECK(omv_options_default(&opts));
    EXPECT_STATUS(omv_host_open_tcp(NULL, &opts, &h), OMV_STATUS_NULL_ARGUMENT);
    EXPECT_STATUS(omv_host_open_tcp("127.0.0.1:1", &opts, NULL), OMV_STATUS_NULL_ARGUMENT);
    EXPECT_STATUS(omv_host_open_udp(NULL, NULL, &h), OMV_STATUS_NULL_ARGUMENT);
    EXPECT_STATUS(omv_host_open_serial(NULL, 0, NULL, &h), OMV_STATUS_NULL_ARGUMENT);
    opts.struct_size = sizeof opts - 1;
    EXPECT_STATUS(omv_host_open_tcp("127.0.0.1:1", &opts, &h), OMV_STATUS_INVALID_ARGUMENT);
    CHECK(omv_options_default(&opts));
    opts.max_payload = 10;
    EXPECT_STATUS(omv_host_open_tcp("127.0.0.1:1", &opts, &h), OMV_STATUS_INVALID_ARGUMENT);
    CHECK(omv_options_default(&opts));
    opts.timeout_ms = 0;
    EXPECT_STATUS(omv_host_open_tcp("127.0.0.1:1", &opts, &h), OMV_STATUS_INVALID_ARGUMENT);
    CHECK(omv_options_default(&opts));
    REQUIRE(omv_host_open_tcp("127.0.0.1:1", &opts, &h) != OMV_STATUS_OK && h == NULL);
    REQUIRE(omv_host_open_serial("/nonexistent/tty", 0, &opts, &h) != OMV_STATUS_OK && h == NULL);
    EXPECT_STATUS(omv_host_open_tcp("\xff\xfe", &opts, &h), OMV_STATUS_INVALID_ARGUMENT);
    EXPECT_STATUS(omv_host_new_callback(NULL, NULL, &h), OMV_STATUS_NULL_ARGUMENT);
    EXPECT_STATUS(omv_host_new_callback(noop_write, NULL, NULL), OMV_STATUS_NULL_ARGUMENT);

    /* Device creation and registration. */
    CHECK(omv_device_config_default(&cfg));
    EXPECT_STATUS(omv_device_new(&cfg, NULL, NULL, &d), OMV_STATUS_NULL_ARGUMENT);
    EXPECT_STATUS(omv_device_new(&cfg, noop_write, NULL, NULL), OMV_STATUS_NULL_ARGUMENT);
    cfg.struct_size = 3;
    EXPECT_STATUS(omv_device_new(&cfg, noop_write, NULL, &d), OMV_STATUS_INVALID_ARGUMENT);
    CHECK(omv_device_config_default(&cfg));
    cfg.max_payload = 20;
    EXPECT_STATUS(omv_device_new(&cfg, noop_write, NULL, &d), OMV_STATUS_INVALID_ARGUMENT);
    CHECK(omv_device_config_default(&cfg));
    CHECK(omv_device_new(&cfg, device_write, &p, &p.dev));
    memset(&vt, 0, sizeof vt);
    vt.struct_size = sizeof vt;
    vt.size = reentrant_size;
    EXPECT_STATUS(omv_device_register(p.dev, 0, NULL, &vt, &p, &id), OMV_STATUS_NULL_ARGUMENT);
    EXPECT_STATUS(omv_device_register(p.dev, 0, "x", NULL, &p, &id), OMV_STATUS_NULL_ARGUMENT);
    EXPECT_STATUS(omv_device_register(p.dev, 0, "", &vt, &p, &id), OMV_STATUS_INVALID_ARGUMENT);
    EXPECT_STATUS(omv_device_register(p.dev, 0, "fourteen_chars", &vt, &p, &id),
                  OMV_STATUS_INVALID_ARGUMENT);
    EXPECT_STATUS(omv_device_register(p.dev, 9, "x", &vt, &p, &id), OMV_STATUS_INVALID_ARGUMENT);
    vt.struct_size = 8;
    EXPECT_STATUS(omv_device_register(p.dev, 0, "x", &vt, &p, &id), OMV_STATUS_INVALID_ARGUMENT);
    vt.struct_size = sizeof vt;
    /* Built-ins first: user channels take the first free id from 1. */
    CHECK(omv_device_register(p.dev, OMV_CHANNEL_ID_STDIN, "stdin", &vt, &p, NULL));
    EXPECT_STATUS(omv_device_register(p.dev, OMV_CHANNEL_ID_STDIN, "stdin2", &vt, &p, NULL),
                  OMV_STATUS_INVALID_ARGUMENT);
    CHECK(omv_device_register(p.dev, 0, "reentrant", &vt, &p, &id));
    EXPECT_STATUS(omv_device_register(p.dev, 0, "reentrant", &vt, &p, &id),
                  OMV_STATUS_INVALID_ARGUMENT);
    EXPECT_STATUS(omv_device_unregister(p.dev, 17), OMV_STATUS_INVALID_ARGUMENT);
    EXPECT_STATUS(omv_device_unregister(p.dev, 200), OMV_STATUS_INVALID_ARGUMENT);
    EXPECT_STATUS(omv_device_send_event(p.dev, 40, 1), OMV_STATUS_INVALID_ARGUMENT);
    EXPECT_STATUS(omv_device_feed(p.dev, 0, NULL, 5), OMV_STATUS_NULL_ARGUMENT);
    EXPECT_STATUS(omv_device_stats(p.dev, NULL), OMV_STATUS_NULL_ARGUMENT);

    /* A host on the device; before connect, operations are refused. */
    CHECK(omv_host_new_callback(host_write, &p, &p.host));
    EXPECT_STATUS(omv_host_poll(p.host, &u32), OMV_STATUS_DISCONNECTED);
    opts.struct_size = 0;
    EXPECT_STATUS(omv_host_connect(p.host, &opts), OMV_STATUS_INVALID_ARGUMENT);
    CHECK(omv_options_default(&opts));
    CHECK(omv_host_connect(p.host, &opts));
    EXPECT_STATUS(omv_host_connect(p.host, &opts), OMV_STATUS_INVALID_ARGUMENT);

    /* Connected: NULL out-pointers, small arrays, unknown channels and names, bad flags. */
    {
        omv_channel_info one[1];
        omv_frame *frame = NULL;
        char text[4];
        n = 1;
        EXPECT_STATUS(omv_host_list(p.host, one, &n), OMV_STATUS_BUFFER_TOO_SMALL);
        REQUIRE(n == 2 && one[0].id == 1);
        n = 0;
        EXPECT_STATUS(omv_host_list(p.host, NULL, &n), OMV_STATUS_BUFFER_TOO_SMALL);
        REQUIRE(n == 2);
        n = 1;
        EXPECT_STATUS(omv_host_list(p.host, NULL, &n), OMV_STATUS_NULL_ARGUMENT);
        EXPECT_STATUS(omv_host_list(p.host, one, NULL), OMV_STATUS_NULL_ARGUMENT);
        EXPECT_STATUS(omv_host_poll(p.host, NULL), OMV_STATUS_NULL_ARGUMENT);
        EXPECT_STATUS(omv_host_size(p.host, 5, NULL), OMV_STATUS_NULL_ARGUMENT);
        EXPECT_STATUS(omv_host_lock(p.host, 5, NULL), OMV_STATUS_NULL_ARGUMENT);
        EXPECT_STATUS(omv_host_version(p.host, NULL), OMV_STATUS_NULL_ARGUMENT);
        EXPECT_STATUS(omv_host_read_frame(p.host, 0, NULL), OMV_STATUS_NULL_ARGUMENT);
        EXPECT_STATUS(omv_host_read(p.host, 5, 0, NULL, 4), OMV_STATUS_NULL_ARGUMENT);
        EXPECT_STATUS(omv_host_write(p.host, 5, 0, NULL, 4), OMV_STATUS_NULL_ARGUMENT);
        EXPECT_STATUS(omv_host_exec(p.host, NULL), OMV_STATUS_NULL_ARGUMENT);
        EXPECT_STATUS(omv_host_read_stdout(p.host, text, 0, &n), OMV_STATUS_BUFFER_TOO_SMALL);
        EXPECT_STATUS(omv_host_channel_id(p.host, "nope", &id), OMV_STATUS_NO_SUCH_CHANNEL);
        EXPECT_STATUS(omv_host_channel_id(p.host, "\xc3\x28", &id), OMV_STATUS_INVALID_ARGUMENT);
        EXPECT_STATUS(omv_host_read(p.host, 30, 0, buf, 4), OMV_STATUS_NAK_INVALID);
        EXPECT_STATUS(omv_host_write(p.host, 5, 0, buf, 4), OMV_STATUS_NAK_INVALID);
        EXPECT_STATUS(omv_host_read_frame(p.host, 0x80, &frame), OMV_STATUS_INVALID_ARGUMENT);
        EXPECT_STATUS(omv_host_read_frame(p.host, 0, &frame), OMV_STATUS_NO_SUCH_CHANNEL);
        EXPECT_STATUS(omv_host_streaming(p.host, true, true, 0, 0), OMV_STATUS_INVALID_ARGUMENT);
        EXPECT_STATUS(omv_host_feed(p.host, NULL, 3), OMV_STATUS_NULL_ARGUMENT);
        /* The device's callback re-enters its device: refused, and the answer still arrives. */
        CHECK(omv_host_size(p.host, id, &u32)); /* the "reentrant" channel */
        REQUIRE(p.reentry == OMV_STATUS_BUSY && p.free_inside == OMV_STATUS_BUSY);
    }

    /* Close: every later call returns CLOSED; free still works once. */
    CHECK(omv_host_close(p.host));
    all_host_ops(p.host, OMV_STATUS_CLOSED);
    CHECK(omv_host_free(p.host));
    p.host = NULL;

    /* The device after its host went away: input is still taken; its write callback now
     * fails (omv_host_feed on NULL), which the device reports as IO. */
    CHECK(omv_device_feed(p.dev, now_ms(), (const uint8_t *)"\xaa\xd5", 2));
    CHECK(omv_device_send_event(p.dev, id, 1));
    EXPECT_STATUS(omv_device_poll(p.dev, now_ms(), NULL), OMV_STATUS_IO);
    CHECK(omv_device_free(p.dev));

    /* A host whose link never answers: connect times out; then free without close. */
    CHECK(omv_host_new_callback(noop_write, NULL, &h));
    CHECK(omv_options_default(&opts));
    opts.timeout_ms = 50;
    opts.sync_attempts = 1;
    EXPECT_STATUS(omv_host_connect(h, &opts), OMV_STATUS_TIMEOUT);
    EXPECT_STATUS(omv_host_is_connected(h, &b), OMV_STATUS_DISCONNECTED);
    CHECK(omv_host_free(h));
    printf("ok\n");
    return 0;
}
