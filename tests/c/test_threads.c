/* Several threads calling one host handle at once while stream events arrive; the event
 * callback calls into the handle too. Then the main thread closes the handle under them:
 * every call before the close succeeds, every call after it fails cleanly. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

#include "common.h"

#define THREADS 4

typedef struct shared {
    omv_host *host;
    uint8_t config_id;
    pthread_mutex_t mu;
    int closing;      /* set just before omv_host_close */
    unsigned events, polls_in_callback, frames, ops;
} shared;

typedef struct worker {
    shared *sh;
    int index;
    int failed;
    unsigned after_close;
} worker;

static int is_closing(shared *sh)
{
    int c;
    pthread_mutex_lock(&sh->mu);
    c = sh->closing;
    pthread_mutex_unlock(&sh->mu);
    return c;
}

static void on_event(void *u, omv_event_kind kind, uint8_t channel, uint16_t code)
{
    shared *sh = (shared *)u;
    uint32_t bits = 0;
    (void)channel;
    (void)code;
    if (kind != OMV_EVENT_KIND_DEVICE) {
        return;
    }
    /* Calling the handle from its own callback is allowed (waits like any other thread). */
    omv_status s = omv_host_poll(sh->host, &bits);
    pthread_mutex_lock(&sh->mu);
    sh->events++;
    if (s == OMV_STATUS_OK) {
        sh->polls_in_callback++;
    }
    pthread_mutex_unlock(&sh->mu);
}

/* One round of mixed operations; returns the first error status, or OK. */
static omv_status round_of_ops(worker *w, unsigned i)
{
    shared *sh = w->sh;
    uint32_t bits = 0, size = 0;
    uint8_t back[64];
    omv_version v;
    omv_stats st;
    omv_frame *f = NULL;
    omv_status s;

    if ((s = omv_host_poll(sh->host, &bits)) != OMV_STATUS_OK) return s;
    if ((s = omv_host_size(sh->host, sh->config_id, &size)) != OMV_STATUS_OK) return s;
    if (size != 16) return OMV_STATUS_INTERNAL;
    if ((s = omv_host_read(sh->host, sh->config_id, 0, back, size)) != OMV_STATUS_OK) return s;
    if (memcmp(back, "shared-config-v1", 16) != 0) return OMV_STATUS_INTERNAL;
    if ((s = omv_host_version(sh->host, &v)) != OMV_STATUS_OK) return s;
    if ((s = omv_host_host_stats(sh->host, &st)) != OMV_STATUS_OK) return s;
    if ((s = omv_host_read_frame(sh->host, (i + (unsigned)w->index) % 2 ? OMV_FRAME_RGB888 : 0, &f)) != OMV_STATUS_OK) return s;
    if (f != NULL) {
        check_pattern(f, f->pixformat == OMV_PIXFORMAT_RGB888 ? 3 : 1);
        omv_frame_free(f);
        pthread_mutex_lock(&sh->mu);
        sh->frames++;
        pthread_mutex_unlock(&sh->mu);
    }
    pthread_mutex_lock(&sh->mu);
    sh->ops += 7;
    pthread_mutex_unlock(&sh->mu);
    return OMV_STATUS_OK;
}

static void *run(void *arg)
{
    worker *w = (worker *)arg;
    unsigned i;
    for (i = 0;; i++) {
        int closing_before = is_closing(w->sh);
        omv_status s = round_of_ops(w, i);
        if (s == OMV_STATUS_OK) {
            continue;
        }
        if (!closing_before && !is_closing(w->sh)) {
            fprintf(stderr, "thread %d: %s before close\n", w->index, status_name(s));
            print_last_error();
            w->failed = 1;
            return NULL;
        }
        /* After close: CLOSED, or DISCONNECTED for a call that was in flight. */
        if (s != OMV_STATUS_CLOSED && s != OMV_STATUS_DISCONNECTED) {
            fprintf(stderr, "thread %d: %s after close\n", w->index, status_name(s));
            print_last_error();
            w->failed = 1;
            return NULL;
        }
        if (s == OMV_STATUS_CLOSED && ++w->after_close >= 3) {
            return NULL;
        }
    }
}

int main(void)
{
    const char *args[] = {"--width", "32", "--height", "24", "--fps", "60", NULL};
    vcam cam;
    shared sh;
    worker w[THREADS];
    pthread_t t[THREADS];
    omv_options opts;
    int i, rc = vcam_start(&cam, args);
    if (rc != 0) {
        return rc;
    }
    memset(&sh, 0, sizeof sh);
    pthread_mutex_init(&sh.mu, NULL);
    CHECK(omv_options_default(&opts));
    opts.timeout_ms = 3000;
    CHECK(omv_host_open_tcp(cam.addr, &opts, &sh.host));
    CHECK(omv_host_channel_id(sh.host, "config", &sh.config_id));
    CHECK(omv_host_write(sh.host, sh.config_id, 0, (const uint8_t *)"shared-config-v1", 16));
    CHECK(omv_host_set_event_callback(sh.host, on_event, &sh));
    CHECK(omv_host_streaming(sh.host, true, false, 0, 0));

    for (i = 0; i < THREADS; i++) {
        w[i].sh = &sh;
        w[i].index = i;
        w[i].failed = 0;
        w[i].after_close = 0;
        REQUIRE(pthread_create(&t[i], NULL, run, &w[i]) == 0);
    }
    sleep_ms(2000);
    pthread_mutex_lock(&sh.mu);
    sh.closing = 1;
    pthread_mutex_unlock(&sh.mu);
    CHECK(omv_host_close(sh.host));
    for (i = 0; i < THREADS; i++) {
        pthread_join(t[i], NULL);
        REQUIRE(!w[i].failed);
    }
    printf("%u operations, %u frames, %u events (%u polls from the callback)\n", sh.ops, sh.frames,
           sh.events, sh.polls_in_callback);
    REQUIRE(sh.ops > 100 && sh.frames > 0 && sh.events > 0 && sh.polls_in_callback > 0);
    CHECK(omv_host_free(sh.host));
    vcam_stop(&cam);
    pthread_mutex_destroy(&sh.mu);
    printf("ok\n");
    return 0;
}
