/* omv_host_wait_frame against the virtual cam: argument checks, the "no frame within the
 * timeout" answer (OK with NULL) in bounded time while streaming is off, frames checked against
 * the test pattern while it is on, and a wait on another thread ended by omv_host_close. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>

#include "common.h"

typedef struct waiter {
    omv_host *host;
    pthread_mutex_t mu;
    int started;
    omv_status status;
    omv_frame *frame;
} waiter;

static void *wait_long(void *arg)
{
    waiter *w = (waiter *)arg;
    omv_frame *f = NULL;
    omv_status s;
    pthread_mutex_lock(&w->mu);
    w->started = 1;
    pthread_mutex_unlock(&w->mu);
    s = omv_host_wait_frame(w->host, 0, 20000, &f);
    pthread_mutex_lock(&w->mu);
    w->status = s;
    w->frame = f;
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

int main(void)
{
    const char *args[] = {"--width", "64", "--height", "48", "--fps", "30", NULL};
    vcam cam;
    omv_options opts;
    omv_host *host = NULL;
    omv_frame *f = NULL;
    int rc = vcam_start(&cam, args);
    if (rc != 0) {
        return rc;
    }
    CHECK(omv_options_default(&opts));
    opts.timeout_ms = 2000;
    CHECK(omv_host_open_tcp(cam.addr, &opts, &host));

    /* Bad arguments are statuses with a message. */
    EXPECT_STATUS(omv_host_wait_frame(NULL, 0, 10, &f), OMV_STATUS_NULL_ARGUMENT);
    EXPECT_STATUS(omv_host_wait_frame(host, 0, 10, NULL), OMV_STATUS_NULL_ARGUMENT);
    EXPECT_STATUS(omv_host_wait_frame(host, 0x80, 10, &f), OMV_STATUS_INVALID_ARGUMENT);

    /* Streaming off: no frame within 100 ms is OK with NULL, after the timeout and not long
     * after it; timeout 0 answers at once. */
    CHECK(omv_host_streaming(host, false, false, 0, 0));
    {
        uint64_t t0 = now_ms(), waited;
        f = (omv_frame *)&f; /* must be overwritten with NULL */
        CHECK(omv_host_wait_frame(host, 0, 100, &f));
        waited = now_ms() - t0;
        REQUIRE(f == NULL);
        printf("no frame within 100 ms: OK + NULL after %llu ms\n", (unsigned long long)waited);
        REQUIRE(waited >= 99 && waited < 2000);
        t0 = now_ms();
        f = (omv_frame *)&f;
        CHECK(omv_host_wait_frame(host, 0, 0, &f));
        REQUIRE(f == NULL);
        REQUIRE(now_ms() - t0 < 1000);
    }

    /* Streaming on: every wait brings a frame, newer than the last, pixel-exact. */
    CHECK(omv_host_streaming(host, true, false, 0, 0));
    {
        unsigned got;
        uint64_t last_counter = 0, t0 = now_ms();
        double c0 = cpu_ms();
        for (got = 0; got < 12; got++) {
            f = NULL;
            CHECK(omv_host_wait_frame(host, got % 2 ? OMV_FRAME_RGB888 : 0, 3000, &f));
            REQUIRE(f != NULL);
            check_stream_frame(f, got % 2, &last_counter);
            CHECK(omv_frame_free(f));
        }
        printf("12 frames by wait_frame in %llu ms, %.2f ms of process CPU per frame\n",
               (unsigned long long)(now_ms() - t0), (cpu_ms() - c0) / 12.0);
    }

    /* A wait on another thread ends soon after omv_host_close (DISCONNECTED if it was
     * waiting, CLOSED if the close came first), with no frame. */
    CHECK(omv_host_streaming(host, false, false, 0, 0));
    {
        waiter w;
        pthread_t t;
        int started = 0;
        uint64_t t0, deadline = now_ms() + 5000;
        memset(&w, 0, sizeof w);
        w.host = host;
        w.status = OMV_STATUS_OK;
        w.frame = (omv_frame *)&w;
        pthread_mutex_init(&w.mu, NULL);
        REQUIRE(pthread_create(&t, NULL, wait_long, &w) == 0);
        while (!started && now_ms() < deadline) {
            pthread_mutex_lock(&w.mu);
            started = w.started;
            pthread_mutex_unlock(&w.mu);
        }
        REQUIRE(started);
        t0 = now_ms();
        CHECK(omv_host_close(host));
        REQUIRE(pthread_join(t, NULL) == 0);
        printf("wait ended by close after %llu ms: %s\n", (unsigned long long)(now_ms() - t0),
               status_name(w.status));
        REQUIRE(w.status == OMV_STATUS_DISCONNECTED || w.status == OMV_STATUS_CLOSED);
        REQUIRE(w.frame == NULL || w.frame == (omv_frame *)&w);
        REQUIRE(now_ms() - t0 < 5000);
        pthread_mutex_destroy(&w.mu);
    }
    EXPECT_STATUS(omv_host_wait_frame(host, 0, 10, &f), OMV_STATUS_CLOSED);

    CHECK(omv_host_free(host));
    vcam_stop(&cam);
    printf("ok\n");
    return 0;
}
