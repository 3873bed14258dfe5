// camera_info ADDR: lists a cam's channels, runs a script, reads a frame, using omv.hpp.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "omv.hpp"

int main(int argc, char **argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s HOST:PORT\n", argv[0]);
        return 2;
    }
    try {
        omv::Host cam = omv::Host::tcp(argv[1]);
        std::atomic<unsigned> events{0};
        cam.on_event([&events](omv_event_kind, std::uint8_t, std::uint16_t) { ++events; });

        omv_version v = cam.version();
        std::printf("protocol %u.%u.%u\n", v.protocol[0], v.protocol[1], v.protocol[2]);
        for (const omv_channel_info &c : cam.channels()) {
            std::printf("  channel %2u %-14s flags 0x%02x\n", c.id, c.name, c.flags);
        }

        cam.exec("print('hello from C++')\n");
        std::string out;
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
        while (out.find("hello") == std::string::npos && std::chrono::steady_clock::now() < deadline) {
            try {
                out += cam.read_stdout();
            } catch (const omv::Error &e) {
                // The script's end soft-reboots the cam: a read in flight then has an unknown
                // outcome (never repeated, as it consumes); the next read meets the new engine.
                if (e.status() != OMV_STATUS_OUTCOME_UNKNOWN) throw;
                std::fprintf(stderr, "note: %s\n", e.what());
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        }
        std::printf("script said: %s", out.c_str());

        cam.streaming(true);
        omv::Frame frame = cam.wait_frame(10000, true);
        if (!frame) {
            std::fprintf(stderr, "no frame\n");
            return 1;
        }
        std::printf("frame %ux%u, %zu RGB888 bytes; %u events so far\n", frame->width, frame->height,
                    frame->len, events.load());
        cam.streaming(false);
        return out.find("hello from C++") == std::string::npos ? 1 : 0;
    } catch (const omv::Error &e) {
        std::fprintf(stderr, "error: %s\n", e.what());
        return 1;
    }
}
