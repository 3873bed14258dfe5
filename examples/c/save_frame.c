/* save_frame ADDR OUT.ppm: connects to a cam over TCP and saves one frame as a PPM image. */
#include <stdio.h>
#include "openmvproto.h"

static int fail(const char *what)
{
    char msg[256];
    omv_last_error(msg, sizeof msg, NULL);
    fprintf(stderr, "%s failed: %s\n", what, msg);
    return 1;
}

int main(int argc, char **argv)
{
    omv_host *cam = NULL;
    omv_frame *frame = NULL;
    FILE *out;
    if (argc != 3) return fprintf(stderr, "usage: %s HOST:PORT OUT.ppm\n", argv[0]), 2;
    if (omv_host_open_tcp(argv[1], NULL, &cam) != OMV_STATUS_OK) return fail("connect");
    if (omv_host_streaming(cam, true, false, 0, 0) != OMV_STATUS_OK) return fail("streaming");
    /* Sleeps until the cam announces a frame; NULL if none came within 10 s. */
    if (omv_host_wait_frame(cam, OMV_FRAME_RGB888, 10000, &frame) != OMV_STATUS_OK) return fail("wait");
    if (frame == NULL) return fprintf(stderr, "no frame within 10 s\n"), 1;
    out = fopen(argv[2], "wb");
    if (out == NULL) return perror(argv[2]), 1;
    fprintf(out, "P6\n%u %u\n255\n", (unsigned)frame->width, (unsigned)frame->height);
    fwrite(frame->data, 1, frame->len, out);
    fclose(out);
    printf("saved frame #%llu, %ux%u, to %s\n", (unsigned long long)frame->counter,
           (unsigned)frame->width, (unsigned)frame->height, argv[2]);
    omv_frame_free(frame);
    omv_host_free(cam);
    return 0;
}
