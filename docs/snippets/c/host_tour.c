/* host_tour HOST:PORT: the host side in C, as the book teaches it: connect, list the
 * channels, push a command, pull data, count the cam's events.
 * Built by scripts/test-docs.sh with -Wall -Wextra -Werror against libopenmvproto. */
#define _POSIX_C_SOURCE 200809L /* nanosleep */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "openmvproto.h"

static int fail(const char *what)
{
    char msg[256];
    omv_last_error(msg, sizeof msg, NULL);
    fprintf(stderr, "%s failed: %s\n", what, msg);
    return 1;
}

static void pause_ms(long ms)
{
    struct timespec t = { 0, ms * 1000000L };
    nanosleep(&t, NULL);
}

/* ANCHOR: events */
static atomic_int stream_notifies;

/* Runs on the library's event thread. */
static void on_event(void *user, omv_event_kind kind, uint8_t channel, uint16_t code)
{
    (void)user;
    if (kind == OMV_EVENT_KIND_DEVICE && channel == OMV_CHANNEL_ID_STREAM && code == OMV_EVENT_NOTIFY)
        atomic_fetch_add(&stream_notifies, 1);
}
/* ANCHOR_END: events */

int main(int argc, char **argv)
{
    if (argc != 2)
        return fprintf(stderr, "usage: %s HOST:PORT\n", argv[0]), 2;

    /* ANCHOR: open */
    omv_host *cam = NULL;
    omv_version v;
    if (omv_host_open_tcp(argv[1], NULL, &cam) != OMV_STATUS_OK) /* NULL: default options */
        return fail("connect");
    if (omv_host_version(cam, &v) != OMV_STATUS_OK)
        return fail("version");
    printf("protocol %u.%u.%u\n", v.protocol[0], v.protocol[1], v.protocol[2]);
    /* ANCHOR_END: open */
    if (omv_host_set_event_callback(cam, on_event, NULL) != OMV_STATUS_OK)
        return fail("event callback");

    /* ANCHOR: list */
    omv_channel_info channels[32];
    size_t count = 32;
    if (omv_host_list(cam, channels, &count) != OMV_STATUS_OK)
        return fail("list");
    for (size_t i = 0; i < count; i++)
        printf("channel %2u %-14s flags 0x%02x\n", channels[i].id, channels[i].name, channels[i].flags);
    /* ANCHOR_END: list */

    /* ANCHOR: push */
    static const char setting[] = "threshold=60\n";
    uint8_t config, back[64];
    uint32_t size = 0;
    if (omv_host_channel_id(cam, "config", &config) != OMV_STATUS_OK)
        return fail("config channel");
    if (omv_host_write(cam, config, 0, (const uint8_t *)setting, strlen(setting)) != OMV_STATUS_OK)
        return fail("write");
    if (omv_host_size(cam, config, &size) != OMV_STATUS_OK || size > sizeof back)
        return fail("size");
    if (omv_host_read(cam, config, 0, back, size) != OMV_STATUS_OK)
        return fail("read");
    printf("config holds %.*s", (int)size, (const char *)back);
    /* ANCHOR_END: push */
    if (size != strlen(setting) || memcmp(back, setting, size) != 0)
        return fprintf(stderr, "config read back differs\n"), 1;

    /* ANCHOR: pull */
    omv_frame *frame = NULL;
    if (omv_host_streaming(cam, true, false, 0, 0) != OMV_STATUS_OK)
        return fail("streaming");
    /* Sleeps until the cam announces a frame; NULL if none came within 10 s. */
    if (omv_host_wait_frame(cam, 0, 10000, &frame) != OMV_STATUS_OK) /* 0: pixels as sent */
        return fail("wait frame");
    if (frame == NULL)
        return fprintf(stderr, "no frame within 10 s\n"), 1;
    printf("frame #%llu: %ux%u format 0x%08x, %zu bytes\n", (unsigned long long)frame->counter,
           frame->width, frame->height, frame->pixformat, frame->len);
    omv_frame_free(frame);
    /* ANCHOR_END: pull */
    for (int i = 0; i < 2500 && atomic_load(&stream_notifies) == 0; i++)
        pause_ms(2);
    if (atomic_load(&stream_notifies) == 0)
        return fprintf(stderr, "no stream NOTIFY event\n"), 1;
    omv_host_streaming(cam, false, false, 0, 0);

    omv_host_free(cam);
    printf("host_tour.c: ok\n");
    return 0;
}
