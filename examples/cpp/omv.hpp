// A small C++17 RAII wrapper over the openmvproto C API: handles are freed by destructors,
// failures throw omv::Error carrying the status and the library's message.
#ifndef OMV_HPP
#define OMV_HPP

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "openmvproto.h"

namespace omv {

class Error : public std::runtime_error {
public:
    Error(omv_status status, const std::string &msg) : std::runtime_error(msg), status_(status) {}
    omv_status status() const noexcept { return status_; }

private:
    omv_status status_;
};

inline void check(omv_status s)
{
    if (s != OMV_STATUS_OK) {
        char msg[512] = {0};
        omv_last_error(msg, sizeof msg, nullptr);
        throw Error(s, msg);
    }
}

struct FrameDeleter {
    void operator()(omv_frame *f) const noexcept { omv_frame_free(f); }
};
// A frame owned by the caller; empty when no frame was ready.
using Frame = std::unique_ptr<omv_frame, FrameDeleter>;

using EventHandler = std::function<void(omv_event_kind, std::uint8_t channel, std::uint16_t code)>;

// One cam connection, movable, not copyable. Its methods (on_event included) may be called
// from many threads at once, like the handle it owns; moving it, assigning to it and
// destroying it may not, and never from inside its own event handler. A moved-from Host may
// only be destroyed or assigned to.
class Host {
public:
    Host(Host &&) noexcept = default;
    // Frees the old handle first (which waits for its event thread), then takes the other's:
    // the old handle's handler outlives every call of it.
    Host &operator=(Host &&other) noexcept
    {
        if (this != &other) {
            host_.reset();
            events_ = std::move(other.events_);
            host_ = std::move(other.host_);
        }
        return *this;
    }

    static Host tcp(const std::string &address, const omv_options *options = nullptr)
    {
        omv_host *h = nullptr;
        check(omv_host_open_tcp(address.c_str(), options, &h));
        return Host(h);
    }

    static Host serial(const std::string &path, std::uint32_t baud = 0)
    {
        omv_host *h = nullptr;
        check(omv_host_open_serial(path.c_str(), baud, nullptr, &h));
        return Host(h);
    }

    // Runs `handler` on the client's event thread (an empty one removes it); exceptions it
    // throws are swallowed. Allowed from inside a handler: the running call finishes with
    // the old handler, which is destroyed after its last call. Called from another thread,
    // it returns once the old handler is not running; either way it is not called again.
    void on_event(EventHandler handler)
    {
        std::shared_ptr<const EventHandler> next;
        if (handler) next = std::make_shared<const EventHandler>(std::move(handler));
        {
            std::lock_guard<std::mutex> lock(events_->mutex);
            events_->handler.swap(next);
        }
        // (Re)registers the trampoline; outside the event thread this also waits for a
        // running call to end. `next` now holds the old handler, released when this returns
        // unless a running call still holds it.
        check(omv_host_set_event_callback(host_.get(), &Host::trampoline, events_.get()));
    }

    std::vector<omv_channel_info> channels()
    {
        std::size_t n = 0;
        omv_status s = omv_host_list(host_.get(), nullptr, &n);
        if (s != OMV_STATUS_BUFFER_TOO_SMALL) check(s);
        std::vector<omv_channel_info> list(n);
        check(omv_host_list(host_.get(), list.data(), &n));
        list.resize(n);
        return list;
    }

    std::uint8_t channel_id(const std::string &name)
    {
        std::uint8_t id = 0;
        check(omv_host_channel_id(host_.get(), name.c_str(), &id));
        return id;
    }

    std::vector<std::uint8_t> read(std::uint8_t channel, std::uint32_t offset, std::size_t len)
    {
        std::vector<std::uint8_t> buf(len);
        check(omv_host_read(host_.get(), channel, offset, buf.data(), buf.size()));
        return buf;
    }

    void write(std::uint8_t channel, std::uint32_t offset, const std::string &data)
    {
        check(omv_host_write(host_.get(), channel, offset,
                             reinterpret_cast<const std::uint8_t *>(data.data()), data.size()));
    }

    std::uint32_t size(std::uint8_t channel)
    {
        std::uint32_t n = 0;
        check(omv_host_size(host_.get(), channel, &n));
        return n;
    }

    void exec(const std::string &script) { check(omv_host_exec(host_.get(), script.c_str())); }

    std::string read_stdout()
    {
        char buf[1024];
        std::size_t n = 0;
        check(omv_host_read_stdout(host_.get(), buf, sizeof buf, &n));
        return std::string(buf, n);
    }

    void streaming(bool on) { check(omv_host_streaming(host_.get(), on, false, 0, 0)); }

    Frame read_frame(bool rgb888 = false)
    {
        omv_frame *f = nullptr;
        check(omv_host_read_frame(host_.get(), rgb888 ? OMV_FRAME_RGB888 : 0, &f));
        return Frame(f);
    }

    /* Sleeps until the cam announces a frame (with options.events on, the default); an empty
     * Frame if none came within timeout_ms. */
    Frame wait_frame(std::uint32_t timeout_ms, bool rgb888 = false)
    {
        omv_frame *f = nullptr;
        check(omv_host_wait_frame(host_.get(), rgb888 ? OMV_FRAME_RGB888 : 0, timeout_ms, &f));
        return Frame(f);
    }

    omv_version version()
    {
        omv_version v{};
        check(omv_host_version(host_.get(), &v));
        return v;
    }

    void close() { check(omv_host_close(host_.get())); }

    omv_host *get() const noexcept { return host_.get(); }

private:
    struct HostDeleter {
        void operator()(omv_host *h) const noexcept { omv_host_free(h); }
    };

    // The current handler, shared with the calls running it, so replacing it (even from
    // inside it) never destroys a handler in use. Its address is the callback's user data.
    struct Events {
        std::mutex mutex;
        std::shared_ptr<const EventHandler> handler;
    };

    // host_ first, so a failed allocation still frees the handle.
    explicit Host(omv_host *h) : host_(h) { events_ = std::make_unique<Events>(); }

    static void trampoline(void *user, omv_event_kind kind, std::uint8_t channel, std::uint16_t code)
    {
        try {
            auto *events = static_cast<Events *>(user);
            std::shared_ptr<const EventHandler> handler;
            {
                std::lock_guard<std::mutex> lock(events->mutex);
                handler = events->handler;
            }
            if (handler) (*handler)(kind, channel, code);
        } catch (...) {
            // Never let an exception unwind into the library.
        }
    }

    // Declared before host_, so destroyed after it: the handlers outlive the handle.
    std::unique_ptr<Events> events_;
    std::unique_ptr<omv_host, HostDeleter> host_;
};

} // namespace omv

#endif
