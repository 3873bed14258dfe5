/* A cam made with the C device API, and a host handle talking to it in the same process over
 * application-driven links on both sides: the host's write callback feeds the device, the
 * device's write callback feeds the host. Channels: stdin (1) and stdout (2) so exec and
 * read_stdout work, a user channel "sensor" with every callback, and a lockable "snap". */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

#include "common.h"

typedef struct pipe_pair {
    pthread_mutex_t mu; /* the device is single-threaded: every device call holds this */
    omv_device *dev;
    omv_host *host;
} pipe_pair;

/* ---- the device side ---- */

typedef struct sensor {
    uint8_t value[256];
    uint32_t len;
    uint32_t gain;
    int destroyed;
} sensor;

static int32_t sensor_read(void *u, uint32_t offset, uint8_t *buf, size_t len)
{
    sensor *s = (sensor *)u;
    if ((size_t)offset + len > s->len) {
        return OMV_PROTO_INVALID;
    }
    memcpy(buf, s->value + offset, len);
    return OMV_PROTO_SUCCESS;
}

static int32_t sensor_write(void *u, uint32_t offset, const uint8_t *data, size_t len)
{
    sensor *s = (sensor *)u;
    if ((size_t)offset + len > sizeof s->value) {
        return OMV_PROTO_OVERFLOW;
    }
    memcpy(s->value + offset, data, len);
    if (offset + len > s->len) {
        s->len = (uint32_t)(offset + len);
    }
    return OMV_PROTO_SUCCESS;
}

static int32_t sensor_size(void *u, uint32_t *size)
{
    *size = ((sensor *)u)->len;
    return 0;
}

static bool sensor_poll(void *u)
{
    return ((sensor *)u)->len > 0;
}

static int32_t sensor_ioctl(void *u, uint32_t request, const uint8_t *arg, size_t len)
{
    sensor *s = (sensor *)u;
    if (request != 7 || len != 4) {
        return OMV_PROTO_INVALID;
    }
    s->gain = (uint32_t)arg[0] | (uint32_t)arg[1] << 8 | (uint32_t)arg[2] << 16 | (uint32_t)arg[3] << 24;
    return OMV_PROTO_SUCCESS;
}

static int32_t sensor_shape(void *u, uint32_t *dims, size_t *count)
{
    dims[0] = ((sensor *)u)->len;
    dims[1] = 1;
    *count = 2;
    return 0;
}

static void sensor_destroy(void *u)
{
    ((sensor *)u)->destroyed++;
}

typedef struct snap {
    int locked, locks, destroyed;
} snap;

static bool snap_lock(void *u)
{
    snap *s = (snap *)u;
    if (s->locked) {
        return false;
    }
    s->locked = 1;
    s->locks++;
    return true;
}

static bool snap_unlock(void *u)
{
    ((snap *)u)->locked = 0;
    return true;
}

static int32_t snap_read(void *u, uint32_t offset, uint8_t *buf, size_t len)
{
    size_t i;
    (void)u;
    for (i = 0; i < len; i++) {
        buf[i] = (uint8_t)((offset + i) * 3u);
    }
    return OMV_PROTO_SUCCESS;
}

static int32_t snap_size(void *u, uint32_t *size)
{
    (void)u;
    *size = 10000; /* bigger than one packet: fragments, each ACKed */
    return 0;
}

static void snap_destroy(void *u)
{
    ((snap *)u)->destroyed++;
}

typedef struct script {
    char text[1024];
    size_t len;
    int execs;
    char out[256];
    size_t out_len;
} script;

static int32_t stdin_write(void *u, uint32_t offset, const uint8_t *data, size_t len)
{
    script *s = (script *)u;
    if ((size_t)offset + len >= sizeof s->text) {
        return OMV_PROTO_FAILED;
    }
    memcpy(s->text + offset, data, len);
    s->len = offset + len;
    s->text[s->len] = '\0';
    return OMV_PROTO_SUCCESS;
}

static int32_t stdin_ioctl(void *u, uint32_t request, const uint8_t *arg, size_t len)
{
    script *s = (script *)u;
    (void)arg;
    if (len != 0) {
        return OMV_PROTO_INVALID;
    }
    if (request == 3) { /* RESET */
        s->len = 0;
    } else if (request == 2) { /* EXEC: "run" it by echoing it to stdout */
        s->execs++;
        s->out_len = (size_t)snprintf(s->out, sizeof s->out, "ran %u bytes\n", (unsigned)s->len);
    } else if (request != 1) {
        return OMV_PROTO_INVALID;
    }
    return OMV_PROTO_SUCCESS;
}

static int32_t stdout_size(void *u, uint32_t *size)
{
    *size = (uint32_t)((script *)u)->out_len;
    return 0;
}

static int32_t stdout_read(void *u, uint32_t offset, uint8_t *buf, size_t len)
{
    script *s = (script *)u;
    if ((size_t)offset + len > s->out_len) {
        return OMV_PROTO_INVALID;
    }
    memcpy(buf, s->out + offset, len);
    if (offset + len == s->out_len) {
        s->out_len = 0; /* reads consume */
    }
    return OMV_PROTO_SUCCESS;
}

/* Device -> host. */
static int32_t device_write(void *u, const uint8_t *data, size_t len)
{
    pipe_pair *l = (pipe_pair *)u;
    return omv_host_feed(l->host, data, len) == OMV_STATUS_OK ? 0 : -1;
}

/* Host -> device: runs on the requesting thread or the host's reader thread (ACKs). */
static int32_t host_write(void *u, const uint8_t *data, size_t len)
{
    pipe_pair *l = (pipe_pair *)u;
    omv_status s;
    pthread_mutex_lock(&l->mu);
    s = omv_device_feed(l->dev, now_ms(), data, len);
    pthread_mutex_unlock(&l->mu);
    return s == OMV_STATUS_OK ? 0 : -1;
}

/* ---- the host side ---- */

typedef struct seen {
    pthread_mutex_t mu;
    unsigned sensor_events, registered, unregistered;
    uint8_t sensor_id;
} seen;

static void on_event(void *u, omv_event_kind kind, uint8_t channel, uint16_t code)
{
    seen *s = (seen *)u;
    pthread_mutex_lock(&s->mu);
    if (kind == OMV_EVENT_KIND_DEVICE && channel == s->sensor_id && code == 0x1234) {
        s->sensor_events++;
    }
    if (kind == OMV_EVENT_KIND_DEVICE && channel == 0 && code == OMV_EVENT_CHANNEL_REGISTERED) {
        s->registered++;
    }
    if (kind == OMV_EVENT_KIND_DEVICE && channel == 0 && code == OMV_EVENT_CHANNEL_UNREGISTERED) {
        s->unregistered++;
    }
    pthread_mutex_unlock(&s->mu);
}

static unsigned seen_count(seen *s, const unsigned *field)
{
    unsigned v;
    pthread_mutex_lock(&s->mu);
    v = *field;
    pthread_mutex_unlock(&s->mu);
    return v;
}

/* Runs the device's timers and queued events (main loop duty). */
static void device_poll(pipe_pair *l)
{
    uint64_t next = 0;
    pthread_mutex_lock(&l->mu);
    CHECK(omv_device_poll(l->dev, now_ms(), &next));
    pthread_mutex_unlock(&l->mu);
}

int main(void)
{
    pipe_pair l;
    sensor sens;
    snap sn;
    script scr;
    seen ev;
    omv_device_config cfg;
    omv_channel_vtable vt;
    omv_options opts;
    uint8_t sensor_id = 0, snap_id = 0;

    memset(&l, 0, sizeof l);
    memset(&sens, 0, sizeof sens);
    memset(&sn, 0, sizeof sn);
    memset(&scr, 0, sizeof scr);
    memset(&ev, 0, sizeof ev);
    pthread_mutex_init(&l.mu, NULL);
    pthread_mutex_init(&ev.mu, NULL);

    /* The device: board info, then channels. */
    CHECK(omv_device_config_default(&cfg));
    cfg.version.firmware[0] = 5;
    cfg.system_info.cpu_id = 0xC27u;
    cfg.system_info.usb_id = 0x37C50001u;
    cfg.lock_interval_ms = 0;
    CHECK(omv_device_new(&cfg, device_write, &l, &l.dev));

    memset(&vt, 0, sizeof vt);
    vt.struct_size = sizeof vt;
    vt.write = stdin_write;
    vt.ioctl = stdin_ioctl;
    vt.extra_flags = OMV_CHANNEL_EXEC;
    CHECK(omv_device_register(l.dev, OMV_CHANNEL_ID_STDIN, "stdin", &vt, &scr, NULL));
    memset(&vt, 0, sizeof vt);
    vt.struct_size = sizeof vt;
    vt.read = stdout_read;
    vt.size = stdout_size;
    CHECK(omv_device_register(l.dev, OMV_CHANNEL_ID_STDOUT, "stdout", &vt, &scr, NULL));
    memset(&vt, 0, sizeof vt);
    vt.struct_size = sizeof vt;
    vt.read = sensor_read;
    vt.write = sensor_write;
    vt.size = sensor_size;
    vt.poll = sensor_poll;
    vt.ioctl = sensor_ioctl;
    vt.shape = sensor_shape;
    vt.destroy = sensor_destroy;
    CHECK(omv_device_register(l.dev, 0, "sensor", &vt, &sens, &sensor_id));
    /* User channels take the first free id from 1, as on the firmware: stdin 1, stdout 2. */
    REQUIRE(sensor_id == 3);
    memset(&vt, 0, sizeof vt);
    vt.struct_size = sizeof vt;
    vt.read = snap_read;
    vt.size = snap_size;
    vt.lock = snap_lock;
    vt.unlock = snap_unlock;
    vt.destroy = snap_destroy;
    CHECK(omv_device_register(l.dev, 0, "snap", &vt, &sn, &snap_id));
    REQUIRE(snap_id == 4);
    ev.sensor_id = sensor_id;

    /* The host, over the callback pipe_pair. */
    CHECK(omv_host_new_callback(host_write, &l, &l.host));
    CHECK(omv_host_set_event_callback(l.host, on_event, &ev));
    CHECK(omv_options_default(&opts));
    CHECK(omv_host_connect(l.host, &opts));

    {
        omv_channel_info list[8];
        size_t n = 8;
        omv_version v;
        omv_system_info info;
        CHECK(omv_host_list(l.host, list, &n));
        REQUIRE(n == 4);
        REQUIRE(strcmp(list[2].name, "sensor") == 0 && list[2].id == sensor_id);
        REQUIRE(list[2].flags == (OMV_CHANNEL_READ | OMV_CHANNEL_WRITE | OMV_CHANNEL_DYNAMIC));
        REQUIRE(list[3].flags == (OMV_CHANNEL_READ | OMV_CHANNEL_LOCK | OMV_CHANNEL_DYNAMIC));
        REQUIRE(list[0].flags == (OMV_CHANNEL_WRITE | OMV_CHANNEL_EXEC));
        CHECK(omv_host_version(l.host, &v));
        REQUIRE(v.protocol[0] == 1 && v.protocol[2] == 2 && v.firmware[0] == 5);
        CHECK(omv_host_system_info(l.host, &info));
        REQUIRE(info.cpu_id == 0xC27u && info.usb_id == 0x37C50001u);
    }

    /* The sensor channel: write, size, shape, poll, read, ioctl. */
    {
        const char *msg = "exposure=12ms";
        char back[32];
        uint32_t size = 0, bits = 0, dims[4];
        size_t nd = 4;
        uint8_t gain[4] = {0x78, 0x56, 0x34, 0x12};
        CHECK(omv_host_poll(l.host, &bits));
        REQUIRE((bits & (1u << sensor_id)) == 0);
        CHECK(omv_host_write(l.host, sensor_id, 0, (const uint8_t *)msg, strlen(msg)));
        CHECK(omv_host_size(l.host, sensor_id, &size));
        REQUIRE(size == strlen(msg));
        CHECK(omv_host_shape(l.host, sensor_id, dims, &nd));
        REQUIRE(nd == 2 && dims[0] == size && dims[1] == 1);
        CHECK(omv_host_poll(l.host, &bits));
        REQUIRE((bits & (1u << sensor_id)) != 0);
        CHECK(omv_host_read(l.host, sensor_id, 0, (uint8_t *)back, size));
        REQUIRE(memcmp(back, msg, size) == 0);
        REQUIRE(memcmp(sens.value, msg, size) == 0);
        CHECK(omv_host_ioctl(l.host, sensor_id, 7, gain, 4));
        REQUIRE(sens.gain == 0x12345678u);
        EXPECT_STATUS(omv_host_ioctl(l.host, sensor_id, 8, gain, 4), OMV_STATUS_NAK_INVALID);
        /* A read past the end: the C callback's NAK comes back. */
        EXPECT_STATUS(omv_host_read(l.host, sensor_id, 8, (uint8_t *)back, 20), OMV_STATUS_NAK_INVALID);
        /* Not supported (NULL entry): lock on a channel without a lock callback. */
        {
            bool taken = true;
            EXPECT_STATUS(omv_host_lock(l.host, sensor_id, &taken), OMV_STATUS_NAK_INVALID);
        }
    }

    /* The lockable channel: lock, a fragmented read, unlock, BUSY when held. */
    {
        static uint8_t big[10000];
        size_t i;
        bool taken = false, released = false;
        CHECK(omv_host_lock(l.host, snap_id, &taken));
        REQUIRE(taken && sn.locked);
        CHECK(omv_host_lock(l.host, snap_id, &taken));
        REQUIRE(!taken); /* BUSY is a plain "no" */
        CHECK(omv_host_read(l.host, snap_id, 0, big, sizeof big));
        for (i = 0; i < sizeof big; i++) {
            REQUIRE(big[i] == (uint8_t)(i * 3u));
        }
        CHECK(omv_host_unlock(l.host, snap_id, &released));
        REQUIRE(released && !sn.locked && sn.locks == 1);
    }

    /* exec and stdout through C channels. */
    {
        char out[64];
        size_t n = 0;
        CHECK(omv_host_exec(l.host, "print('hi')\n"));
        REQUIRE(scr.execs == 1 && strcmp(scr.text, "print('hi')\n") == 0);
        CHECK(omv_host_read_stdout(l.host, out, sizeof out, &n));
        REQUIRE(n > 0 && strcmp(out, "ran 12 bytes\n") == 0);
        CHECK(omv_host_read_stdout(l.host, out, sizeof out, &n));
        REQUIRE(n == 0 && out[0] == '\0');
    }

    /* Events from the device reach the host's callback. */
    {
        uint64_t deadline = now_ms() + 3000;
        pthread_mutex_lock(&l.mu);
        CHECK(omv_device_send_event(l.dev, sensor_id, 0x1234));
        pthread_mutex_unlock(&l.mu);
        device_poll(&l);
        while (seen_count(&ev, &ev.sensor_events) == 0 && now_ms() < deadline) {
            sleep_ms(5);
            device_poll(&l);
        }
        REQUIRE(seen_count(&ev, &ev.sensor_events) == 1);
    }

    /* Unregister: destroy runs, the host hears of it and no longer lists the channel. */
    {
        omv_channel_info list[8];
        size_t n = 8;
        uint64_t deadline = now_ms() + 3000;
        pthread_mutex_lock(&l.mu);
        CHECK(omv_device_unregister(l.dev, snap_id));
        pthread_mutex_unlock(&l.mu);
        REQUIRE(sn.destroyed == 1);
        device_poll(&l);
        while (seen_count(&ev, &ev.unregistered) == 0 && now_ms() < deadline) {
            sleep_ms(5);
            device_poll(&l);
        }
        REQUIRE(seen_count(&ev, &ev.unregistered) == 1);
        CHECK(omv_host_list(l.host, list, &n));
        REQUIRE(n == 3);
    }

    {
        omv_stats st;
        pthread_mutex_lock(&l.mu);
        CHECK(omv_device_stats(l.dev, &st));
        pthread_mutex_unlock(&l.mu);
        REQUIRE(st.received > 10 && st.sent > 10 && st.checksum_errors == 0);
        printf("device: %u packets in, %u out, %u events\n", (unsigned)st.received,
               (unsigned)st.sent, (unsigned)st.events);
    }

    /* The application's pipe_pair goes away: requests fail with LINK_LOST. */
    {
        uint32_t bits = 0;
        CHECK(omv_host_feed_close(l.host, "cable pulled"));
        EXPECT_STATUS(omv_host_poll(l.host, &bits), OMV_STATUS_LINK_LOST);
    }

    CHECK(omv_host_close(l.host));
    CHECK(omv_host_free(l.host));
    CHECK(omv_device_free(l.dev));
    REQUIRE(sens.destroyed == 1 && sn.destroyed == 1);
    pthread_mutex_destroy(&l.mu);
    pthread_mutex_destroy(&ev.mu);
    printf("ok\n");
    return 0;
}
