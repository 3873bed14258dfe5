//! A cam written with the device role (`openmvproto::device`): the engine, three channels
//! (stdout, a 64x48 grayscale stream, a `config` user channel implemented here, whose
//! threshold and region of interest change the frames) and one TCP host at a time. Any host of the book (Rust, C, Python, Kotlin) talks to it as to a real cam.
//!
//! ```text
//! cargo run --release -p openmvproto-docs --example rust_cam -- 127.0.0.1:0   # prints "listening on ADDR"
//! ```

use std::io::{self, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::{Duration, Instant as StdInstant};

use openmvproto::channels::{Channel, ChannelFlags, FrameChannel, RingChannel};
use openmvproto::device::{Device, Event, EventError, Registry};
use openmvproto::framing::payload::{event, PixFormat};
use openmvproto::{ChannelId, Instant, Status};
use openmvproto_docs::Settings;

const W: u32 = 64;
const H: u32 = 48;

// ANCHOR: channel
/// `config`: holds exactly the bytes last written; a write at offset 0 starts over.
struct Config {
    buf: [u8; 1024],
    len: usize,
}

impl Channel for Config {
    // READ and WRITE: the host may read and write it, no lock needed.
    fn flags(&self) -> ChannelFlags {
        ChannelFlags::READ | ChannelFlags::WRITE
    }

    fn size(&mut self) -> Option<u32> {
        Some(self.len as u32)
    }

    fn read(&mut self, offset: u32, out: &mut [u8]) -> Result<(), Status> {
        let start = offset as usize;
        let bytes = self.buf[..self.len].get(start..start + out.len()).ok_or(Status::Invalid)?;
        out.copy_from_slice(bytes);
        Ok(())
    }

    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), Status> {
        let start = offset as usize;
        if start > self.len {
            return Err(Status::Invalid); // no holes
        }
        let end = start + data.len();
        self.buf.get_mut(start..end).ok_or(Status::Failed)?.copy_from_slice(data);
        self.len = end;
        Ok(())
    }
}
// ANCHOR_END: channel

// ANCHOR: registry
/// The cam's channels. The registry borrows them only for one engine call, so between calls
/// the cam's own code can publish frames and print.
struct Channels<'a> {
    stdout: RingChannel<'a>,
    stream: FrameChannel<'a>,
    config: Config,
}

impl<'a> Channels<'a> {
    fn registry(&mut self) -> Registry<'_> {
        let mut reg = Registry::new();
        // Fixed ids for the built-ins; a user channel takes the first free id from 1
        // (no stdin here, so `config` gets id 1).
        let ok = reg.register_static(ChannelId::STDOUT, "stdout", &mut self.stdout).is_ok()
            && reg.register_static(ChannelId::STREAM, "stream", &mut self.stream).is_ok()
            && reg.register("config", &mut self.config).is_ok();
        debug_assert!(ok, "fixed registrations cannot fail");
        reg
    }
}
// ANCHOR_END: registry

/// Queues an event, unless the host did not turn events on.
fn send_event(device: &mut Device, channel: ChannelId, code: u16) {
    match device.queue_event(Event { channel, code, confirmed: false }) {
        Ok(()) | Err(EventError::Disabled) => {}
        Err(EventError::QueueFull) => eprintln!("event queue full, dropped"),
    }
}

// ANCHOR: frame
/// Makes frame `n` when the host has taken the last one: pixel (x, y) = (x + y + n) mod 256,
/// thresholded inside the region of interest the operator last wrote into `config`.
fn produce_frame(ch: &mut Channels, device: &mut Device, n: &mut u32) {
    if ch.stream.is_ready() || ch.stream.is_locked() {
        return;
    }
    let settings = Settings::parse(&ch.config.buf[..ch.config.len]);
    let Some(px) = ch.stream.pixels_mut() else { return };
    for (i, p) in px[..(W * H) as usize].iter_mut().enumerate() {
        *p = settings.pixel(i as u32 % W, i as u32 / W, *n);
    }
    if ch.stream.publish(W, H, PixFormat::GRAYSCALE, (W * H) as usize, 30.0).is_ok() {
        send_event(device, ChannelId::STREAM, event::NOTIFY);
        *n = n.wrapping_add(1);
    }
}
// ANCHOR_END: frame

// ANCHOR: serve
/// Serves one host until it hangs up: bytes in, packets out, timers.
fn serve(sock: &mut TcpStream, device: &mut Device, ch: &mut Channels, epoch: StdInstant) -> io::Result<()> {
    sock.set_read_timeout(Some(Duration::from_millis(5)))?;
    sock.set_nodelay(true)?;
    let mut frame_no = 0;
    let mut buf = [0u8; 4096];
    let mut pending = Vec::new(); // bytes the engine has not taken yet
    loop {
        produce_frame(ch, device, &mut frame_no);
        match sock.read(&mut buf) {
            Ok(0) => return Ok(()), // the host hung up
            Ok(n) => pending.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut) => {}
            Err(e) => return Err(e),
        }
        let now = Instant::since(epoch);
        if device.poll_at().is_some_and(|at| at <= now) {
            device.handle_timeout(now); // retransmit, or give up
        }
        loop {
            // The engine takes no new request while an answer is still going out.
            let used = device.handle_input(now, &pending, &mut ch.registry());
            pending.drain(..used);
            let mut sent = false;
            let mut reg = ch.registry();
            while let Some(packet) = device.poll_transmit(now, &mut reg) {
                sock.write_all(packet)?;
                sent = true;
            }
            if pending.is_empty() || (used == 0 && !sent) {
                break;
            }
        }
    }
}
// ANCHOR_END: serve

fn main() -> io::Result<()> {
    let listener = TcpListener::bind(std::env::args().nth(1).as_deref().unwrap_or("127.0.0.1:0"))?;
    println!("listening on {}", listener.local_addr()?);
    // ANCHOR: storage
    // The engine and the channels use only this storage: no heap, as on a cam.
    let mut stdout_buf = [0u8; 1024];
    let mut frame_buf = [0u8; 32 + (W * H) as usize];
    let mut ch = Channels {
        stdout: RingChannel::new(&mut stdout_buf),
        stream: FrameChannel::new(&mut frame_buf),
        config: Config { buf: [0; 1024], len: 0 },
    };
    let mut device: Device = Device::default();
    // ANCHOR_END: storage
    ch.stdout.push(b"rust_cam: up\n");
    let epoch = StdInstant::now();
    for conn in listener.incoming() {
        let mut sock = conn?;
        if let Err(e) = serve(&mut sock, &mut device, &mut ch, epoch) {
            eprintln!("host link down: {e}");
        }
        device = Device::default(); // a new host starts from a fresh engine
    }
    Ok(())
}
