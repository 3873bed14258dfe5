/* fw_cam [PORT]: a cam written against the firmware C API (openmvproto_fw.h), run on Linux
 * over TCP instead of a UART, so the book's hosts can talk to it. The same calls run on a
 * bare-metal cam: firmware/qemu-cam/cam.c is that version.
 * Channels: stdin (EXEC echoes the script to stdout), stdout, a 64x48 grayscale stream with
 * pixel (x, y) = (x + y + n) % 256, and `config`, a user channel written here in C.
 * Prints "listening on 127.0.0.1:PORT", then serves one host after the other.
 * Built by scripts/test-docs.sh with -Wall -Wextra -Werror against libopenmvproto_firmware.a. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "openmvproto_fw.h"

#define FRAME_W 64
#define FRAME_H 48

static omv_fw_t *fw;
static int host_fd = -1;

static uint32_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint32_t)(t.tv_sec * 1000u + t.tv_nsec / 1000000); /* wraps: the engine allows it */
}

/* ANCHOR: write_hook */
/* The engine's only way out: write a packet to the link. */
static int32_t link_write(void *user, const uint8_t *data, size_t len)
{
    (void)user;
    while (len > 0) {
        ssize_t n = send(host_fd, data, len, MSG_NOSIGNAL);
        if (n <= 0)
            return -1; /* counted as a transport error */
        data += n;
        len -= (size_t)n;
    }
    return 0;
}
/* ANCHOR_END: write_hook */

/* ANCHOR: config */
/* config: exactly the bytes last written; a write at offset 0 starts over. */
static uint8_t config_buf[1024];
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

static uint32_t config_size(void *user)
{
    (void)user;
    return config_len;
}

/* NULL entries are operations the channel does not have: no lock, no ioctl, ... */
static const omv_fw_channel_ops_t config_ops = {
    .read = config_read, .write = config_write, .size = config_size,
};
/* ANCHOR_END: config */

/* ANCHOR: frame */
/* A new frame whenever the host has taken the last one. */
static void produce_frame(uint32_t *n)
{
    omv_fw_stream_status_t st;
    size_t cap = 0;
    if (omv_fw_stream_status(fw, &st) != OMV_FW_OK || st.ready || st.locked)
        return;
    uint8_t *px = omv_fw_stream_frame(fw, &cap);
    if (px == NULL || cap < FRAME_W * FRAME_H)
        return;
    for (uint32_t y = 0; y < FRAME_H; y++)
        for (uint32_t x = 0; x < FRAME_W; x++)
            px[y * FRAME_W + x] = (uint8_t)(x + y + *n);
    /* Publishing also queues the stream's NOTIFY event. */
    omv_fw_stream_publish(fw, FRAME_W, FRAME_H, OMV_FW_PIXFORMAT_GRAYSCALE, FRAME_W * FRAME_H, 30.0f);
    (*n)++;
}
/* ANCHOR_END: frame */

/* EXEC "runs" a script by echoing it to stdout. */
static void serve_stdin(void)
{
    uint32_t len = 0;
    if (omv_fw_stdin_take_command(fw, &len) != OMV_FW_STDIN_EXEC)
        return;
    size_t n = 0;
    const uint8_t *script = omv_fw_stdin_script(fw, &n);
    omv_fw_stdin_set_running(fw, true);
    if (script != NULL)
        omv_fw_stdout_write(fw, script, n);
    omv_fw_stdin_set_running(fw, false);
}

/* ANCHOR: init */
static union { uint64_t align; uint8_t bytes[16384]; } storage;
static uint8_t stdin_buf[4096], stdout_buf[1024], frame_buf[32 + FRAME_W * FRAME_H];

/* A fresh engine for each host, as a cam has after a reset. */
static int start_engine(void)
{
    omv_fw_config_t cfg;
    omv_fw_hooks_t hooks = { .write = link_write };
    int rc;
    if (omv_fw_storage_size() > sizeof storage.bytes)
        return OMV_FW_ERR_SIZE;
    omv_fw_config_default(&cfg); /* the reference firmware's settings */
    if ((rc = omv_fw_init(storage.bytes, sizeof storage.bytes, &cfg, &hooks, &fw)) != OMV_FW_OK)
        return rc;
    if ((rc = omv_fw_stdin_register(fw, stdin_buf, sizeof stdin_buf)) < 0 ||
        (rc = omv_fw_stdout_register(fw, stdout_buf, sizeof stdout_buf)) < 0 ||
        (rc = omv_fw_stream_register(fw, frame_buf, sizeof frame_buf)) < 0 ||
        (rc = omv_fw_channel_register(fw, "config", &config_ops, NULL)) < 0) /* id 4 */
        return rc;
    return OMV_FW_OK;
}
/* ANCHOR_END: init */

/* ANCHOR: loop */
/* Bytes in (what an interrupt handler does with omv_fw_rx_push), then the main loop's poll. */
static void serve_host(void)
{
    uint8_t buf[2048];
    size_t have = 0, used = 0;
    uint32_t frame_no = 0;
    for (;;) {
        struct pollfd p = { .fd = host_fd, .events = POLLIN };
        if (have == used && poll(&p, 1, 2) > 0) {
            ssize_t n = recv(host_fd, buf, sizeof buf, 0);
            if (n <= 0)
                return; /* the host hung up */
            have = (size_t)n;
            used = 0;
        }
        if (used < have) { /* only what the receive ring has room for, the rest later */
            int32_t space = omv_fw_rx_space(fw);
            size_t n = have - used;
            if (space >= 0 && (size_t)space < n)
                n = (size_t)space;
            int32_t took = omv_fw_rx_push(fw, buf + used, n);
            if (took > 0)
                used += (size_t)took;
        }
        omv_fw_poll(fw, now_ms());
        produce_frame(&frame_no);
        serve_stdin();
    }
}
/* ANCHOR_END: loop */

int main(int argc, char **argv)
{
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t alen = sizeof addr;
    int one = 1, rc;
    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    addr.sin_port = htons((uint16_t)(argc > 1 ? atoi(argv[1]) : 0));
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(lfd, 1) != 0 ||
        getsockname(lfd, (struct sockaddr *)&addr, &alen) != 0)
        return perror("fw_cam: listen"), 1;
    printf("listening on 127.0.0.1:%u\n", ntohs(addr.sin_port));
    fflush(stdout);
    for (;;) {
        host_fd = accept(lfd, NULL, NULL);
        if (host_fd < 0)
            return perror("fw_cam: accept"), 1;
        setsockopt(host_fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        if ((rc = start_engine()) != OMV_FW_OK)
            return fprintf(stderr, "fw_cam: engine start failed: %d\n", rc), 1;
        serve_host();
        close(host_fd);
    }
}
