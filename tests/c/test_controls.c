/* Typed controls through the C API against the virtual cam: list every field with its widget,
 * set a slider, a toggle and a select, read them back, refusals, and a frame that shows it. */
#define _POSIX_C_SOURCE 200809L
#include "common.h"

/* 1 + the index of the control called `name` (viewed into `out`), 0 if there is none. */
static size_t find(omv_controls *c, const char *name, omv_control *out)
{
    size_t n = 0, i;
    if (omv_controls_count(c, &n) != OMV_STATUS_OK) {
        return 0;
    }
    for (i = 0; i < n; i++) {
        if (omv_controls_get(c, i, out) == OMV_STATUS_OK && strcmp(out->name, name) == 0) {
            return i + 1;
        }
    }
    return 0;
}

int main(void)
{
    const char *args[] = {"--width", "32", "--height", "24", "--fps", "60", "--format", "grayscale", NULL};
    vcam cam;
    omv_options opts;
    omv_host *host = NULL;
    omv_controls *c = NULL;
    omv_control f;
    size_t n = 0, i;
    unsigned kinds = 0;
    const char *opt = NULL;
    int rc = vcam_start(&cam, args);
    if (rc != 0) {
        return rc;
    }
    CHECK(omv_options_default(&opts));
    CHECK(omv_host_open_tcp(cam.addr, &opts, &host));

    CHECK(omv_host_controls(host, "controls", &c));
    CHECK(omv_controls_count(c, &n));
    REQUIRE(n >= 11);
    for (i = 0; i < n; i++) {
        CHECK(omv_controls_get(c, i, &f));
        REQUIRE(f.widget != OMV_WIDGET_OTHER);
        kinds |= 1u << f.widget;
    }
    REQUIRE(kinds == (1u << 11) - 1); /* all 11 widget types */
    REQUIRE(find(c, "threshold", &f));
    REQUIRE(f.widget == OMV_WIDGET_SLIDER && f.min == 0.0 && f.max == 255.0 && f.integral);
    REQUIRE(f.value_type == OMV_VALUE_TYPE_INT && f.value_int == 0);
    i = find(c, "pattern", &f);
    REQUIRE(i > 0);
    REQUIRE(f.option_count == 3 && f.value_type == OMV_VALUE_TYPE_TEXT && strcmp(f.value_text, "gradient") == 0);
    CHECK(omv_controls_option(c, i - 1, 2, &opt));
    REQUIRE(strcmp(opt, "solid") == 0);
    EXPECT_STATUS(omv_controls_option(c, i - 1, 3, &opt), OMV_STATUS_INVALID_ARGUMENT);
    REQUIRE(find(c, "brightness", &f));
    REQUIRE(f.widget == OMV_WIDGET_WAVEFORM && f.sample_rate == 60.0 && strcmp(f.typecode, "H") == 0);
    REQUIRE(find(c, "fps", &f) && f.unit != NULL && strcmp(f.unit, "Hz") == 0);
    EXPECT_STATUS(omv_controls_get(c, n, &f), OMV_STATUS_INVALID_ARGUMENT);
    CHECK(omv_controls_free(c));
    c = NULL;

    CHECK(omv_host_set_control_int(host, "controls", "threshold", 100));
    CHECK(omv_host_set_control_bool(host, "controls", "mirror", true));
    CHECK(omv_host_set_control_text(host, "controls", "pattern", "solid"));
    CHECK(omv_host_set_control_float(host, "controls", "roi w", 8.0));
    EXPECT_STATUS(omv_host_set_control_int(host, "controls", "threshold", 256), OMV_STATUS_INVALID_ARGUMENT);
    EXPECT_STATUS(omv_host_set_control_text(host, "controls", "pattern", "plaid"), OMV_STATUS_INVALID_ARGUMENT);
    EXPECT_STATUS(omv_host_set_control_bool(host, "controls", "no such", true), OMV_STATUS_INVALID_ARGUMENT);
    EXPECT_STATUS(omv_host_set_control_int(host, "controls", "fps", 1), OMV_STATUS_INVALID_ARGUMENT);
    EXPECT_STATUS(omv_host_controls(host, "controls", NULL), OMV_STATUS_NULL_ARGUMENT);

    CHECK(omv_host_controls(host, "controls", &c));
    REQUIRE(find(c, "threshold", &f) && f.value_int == 100);
    REQUIRE(find(c, "mirror", &f) && f.value_type == OMV_VALUE_TYPE_BOOL && f.value_bool);
    REQUIRE(find(c, "pattern", &f) && strcmp(f.value_text, "solid") == 0);
    CHECK(omv_controls_free(c));

    /* A solid 128 pattern thresholded at 100 is white inside the 8-column region, black out. */
    {
        omv_frame *fr = NULL;
        uint64_t deadline = now_ms() + 10000;
        int seen = 0;
        CHECK(omv_host_streaming(host, true, false, 0, 0));
        while (!seen && now_ms() < deadline) {
            CHECK(omv_host_read_frame(host, 0, &fr));
            if (fr == NULL) {
                sleep_ms(2);
                continue;
            }
            {
                unsigned x, y, ok = fr->len == (size_t)fr->width * fr->height;
                for (y = 0; ok && y < fr->height; y++) {
                    for (x = 0; x < fr->width; x++) {
                        ok &= fr->data[y * fr->width + x] == (x < 8 ? 255 : 0);
                    }
                }
                seen = (int)ok;
            }
            CHECK(omv_frame_free(fr));
            fr = NULL;
        }
        REQUIRE(seen);
        CHECK(omv_host_streaming(host, false, false, 0, 0));
    }
    printf("controls: %u fields, sets visible in the frames\n", (unsigned)n);
    CHECK(omv_host_free(host));
    vcam_stop(&cam);
    return 0;
}
