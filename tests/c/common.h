/* Helpers shared by the C tests: status checks, clocks, and starting the virtual cam. */
#ifndef OMV_TEST_COMMON_H
#define OMV_TEST_COMMON_H

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "openmvproto.h"

/* CTest treats this exit code as "skipped" (SKIP_RETURN_CODE). */
#define TEST_SKIP 77

static inline const char *status_name(omv_status s)
{
    const char *name = "?";
    omv_status_str((int32_t)s, &name);
    return name;
}

static inline void print_last_error(void)
{
    char msg[512];
    size_t n = 0;
    omv_last_error(msg, sizeof msg, &n);
    fprintf(stderr, "    last error: %s\n", msg);
}

/* Fails the test unless `expr` returns OMV_STATUS_OK. */
#define CHECK(expr)                                                                          \
    do {                                                                                     \
        omv_status check_s_ = (expr);                                                        \
        if (check_s_ != OMV_STATUS_OK) {                                                     \
            fprintf(stderr, "%s:%d: %s -> %s\n", __FILE__, __LINE__, #expr,                  \
                    status_name(check_s_));                                                  \
            print_last_error();                                                              \
            exit(1);                                                                         \
        }                                                                                    \
    } while (0)

/* Fails the test unless `expr` returns `want`; an error status must come with a message. */
#define EXPECT_STATUS(expr, want)                                                            \
    do {                                                                                     \
        omv_status expect_s_ = (expr);                                                       \
        if (expect_s_ != (want)) {                                                           \
            fprintf(stderr, "%s:%d: %s -> %s, expected %s\n", __FILE__, __LINE__, #expr,     \
                    status_name(expect_s_), status_name(want));                              \
            print_last_error();                                                              \
            exit(1);                                                                         \
        }                                                                                    \
        if ((want) != OMV_STATUS_OK) {                                                       \
            char expect_msg_[256];                                                           \
            size_t expect_n_ = 0;                                                            \
            omv_last_error(expect_msg_, sizeof expect_msg_, &expect_n_);                     \
            if (expect_n_ == 0) {                                                            \
                fprintf(stderr, "%s:%d: %s: no last-error message\n", __FILE__, __LINE__,    \
                        #expr);                                                              \
                exit(1);                                                                     \
            }                                                                                \
        }                                                                                    \
    } while (0)

#define REQUIRE(cond)                                                                        \
    do {                                                                                     \
        if (!(cond)) {                                                                       \
            fprintf(stderr, "%s:%d: requirement failed: %s\n", __FILE__, __LINE__, #cond);   \
            exit(1);                                                                         \
        }                                                                                    \
    } while (0)

static inline uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static inline void sleep_ms(unsigned ms)
{
    struct timespec ts;
    ts.tv_sec = (time_t)(ms / 1000u);
    ts.tv_nsec = (long)(ms % 1000u) * 1000000L;
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* A running `omv-vcam --tcp 127.0.0.1:0`. */
typedef struct vcam {
    pid_t pid;
    char addr[128];
} vcam;

/* Starts the virtual cam named by $OMV_VCAM with `extra` arguments (NULL-terminated, at
 * most 8) and reads the address it prints. Returns 0, or TEST_SKIP if $OMV_VCAM is unset. */
static inline int vcam_start(vcam *cam, const char *const *extra)
{
    const char *exe = getenv("OMV_VCAM");
    const char *argv[16];
    int fds[2];
    int n = 0;
    FILE *f;
    char line[256];

    if (exe == NULL || exe[0] == '\0' || access(exe, X_OK) != 0) {
        fprintf(stderr, "OMV_VCAM not set or not executable: skipping\n");
        return TEST_SKIP;
    }
    argv[n++] = exe;
    argv[n++] = "--tcp";
    argv[n++] = "127.0.0.1:0";
    argv[n++] = "--log-level";
    argv[n++] = "warn";
    while (extra != NULL && *extra != NULL && n < 14) {
        argv[n++] = *extra++;
    }
    argv[n] = NULL;
    REQUIRE(pipe(fds) == 0);
    cam->pid = fork();
    REQUIRE(cam->pid >= 0);
    if (cam->pid == 0) {
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execv(exe, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    f = fdopen(fds[0], "r");
    REQUIRE(f != NULL);
    cam->addr[0] = '\0';
    while (fgets(line, sizeof line, f) != NULL) {
        if (sscanf(line, "listening on %127s", cam->addr) == 1) {
            break;
        }
    }
    fclose(f);
    if (cam->addr[0] == '\0') {
        fprintf(stderr, "omv-vcam did not print its address\n");
        exit(1);
    }
    return 0;
}

static inline void vcam_stop(vcam *cam)
{
    int st = 0;
    kill(cam->pid, SIGTERM);
    waitpid(cam->pid, &st, 0);
}

/* Frame check: the virtual cam's grayscale pattern is pixel(x, y) = (x + y + n) % 256 with
 * n = pixel(0, 0). `bpp` 1 for GRAYSCALE, 3 for RGB888 (all three components equal). */
static inline void check_pattern(const omv_frame *f, unsigned bpp)
{
    uint32_t x, y;
    unsigned c, n;
    REQUIRE(f->width > 0 && f->height > 0);
    REQUIRE(f->len == (size_t)f->width * f->height * bpp);
    n = f->data[0];
    for (y = 0; y < f->height; y++) {
        for (x = 0; x < f->width; x++) {
            for (c = 0; c < bpp; c++) {
                unsigned got = f->data[((size_t)y * f->width + x) * bpp + c];
                if (got != (x + y + n) % 256u) {
                    fprintf(stderr, "pixel (%u, %u)[%u] = %u, expected %u\n", (unsigned)x,
                            (unsigned)y, c, got, (x + y + n) % 256u);
                    exit(1);
                }
            }
        }
    }
}

/* One frame of the test cam's 64x48 stream: newer than `*last` (updated), in the format asked
 * for (RGB888 or the cam's GRAYSCALE), the pattern in every pixel. */
static inline void check_stream_frame(const omv_frame *f, int rgb888, uint64_t *last)
{
    REQUIRE(f->width == 64 && f->height == 48);
    REQUIRE(f->counter > *last);
    *last = f->counter;
    if (rgb888) {
        REQUIRE(f->pixformat == OMV_PIXFORMAT_RGB888);
        check_pattern(f, 3);
    } else {
        REQUIRE(f->pixformat == OMV_PIXFORMAT_GRAYSCALE);
        check_pattern(f, 1);
    }
}

#endif
