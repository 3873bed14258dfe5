//! A host and a device engine joined back to back in memory, with a simulated clock
//! (the style of quinn-proto's test `Pair`). Bytes cross in chunks of a chosen size and can
//! be mangled on the way by a seeded fault injector.
#![allow(dead_code)]

use std::cell::Cell;
use std::collections::VecDeque;
use std::rc::Rc;

use openmvproto::channels::{Channel, ChannelFlags, FrameChannel, RingChannel, ScriptChannel};
use openmvproto::device::{Board, Device, DeviceConfig, Event, Registry};
use openmvproto::framing::payload::{
    Caps, MemoryEntry, PixFormat, ReadRequest, Semver, SysInfo, Version, WriteRequest,
};
use openmvproto::framing::{FastCrc, Status};
use openmvproto::host::{DeviceEvent, Host, HostConfig, Request, RequestError, Response};
use openmvproto::{ChannelId, Instant};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

/// A user channel over a Vec: every operation implemented, so every opcode can be exercised.
#[derive(Default)]
pub struct MemChannel {
    pub data: Vec<u8>,
    pub locked: bool,
    pub last_ioctl: Option<(u32, Vec<u8>)>,
}

impl Channel for MemChannel {
    fn flags(&self) -> ChannelFlags {
        ChannelFlags::READ | ChannelFlags::WRITE | ChannelFlags::LOCK
    }
    fn poll(&mut self) -> bool {
        !self.data.is_empty()
    }
    fn lock(&mut self) -> bool {
        !std::mem::replace(&mut self.locked, true)
    }
    fn unlock(&mut self) -> bool {
        std::mem::replace(&mut self.locked, false)
    }
    fn size(&mut self) -> Option<u32> {
        Some(self.data.len() as u32)
    }
    fn shape(&mut self, dims: &mut [u32; 4]) -> Option<usize> {
        dims[0] = self.data.len() as u32;
        dims[1] = 7;
        Some(2)
    }
    fn read(&mut self, offset: u32, buf: &mut [u8]) -> Result<(), Status> {
        let start = offset as usize;
        let src = self.data.get(start..start + buf.len()).ok_or(Status::Invalid)?;
        buf.copy_from_slice(src);
        Ok(())
    }
    fn write(&mut self, offset: u32, data: &[u8]) -> Result<(), Status> {
        let start = offset as usize;
        if start == 0 {
            self.data.clear();
        }
        if start > self.data.len() {
            return Err(Status::Failed);
        }
        self.data.truncate(start);
        self.data.extend_from_slice(data);
        Ok(())
    }
    fn ioctl(&mut self, request: u32, arg: &[u8]) -> Result<(), Status> {
        if request == 99 {
            return Err(Status::Failed);
        }
        self.last_ioctl = Some((request, arg.to_vec()));
        Ok(())
    }
}

/// A board that counts resets and boots.
pub struct TestBoard {
    pub resets: Rc<Cell<u32>>,
    pub boots: Rc<Cell<u32>>,
}

impl Board for TestBoard {
    fn version(&self) -> Version {
        Version { protocol: Version::PROTOCOL, bootloader: Semver(1, 2, 3), firmware: Semver(4, 7, 0) }
    }
    fn sys_info(&self) -> SysInfo {
        SysInfo { cpu_id: 0x411F_C271, usb_id: 0x37C5_9204, flash_kb: 2048, ram_kb: 1024, ..SysInfo::default() }
    }
    fn memory(&self, out: &mut [MemoryEntry]) -> usize {
        out[0] = MemoryEntry { kind: 0, total: 1000, used: 10, free: 990, ..MemoryEntry::default() };
        out[1] = MemoryEntry { kind: 1, total: 2000, used: 20, free: 1980, ..MemoryEntry::default() };
        2
    }
    fn reset(&mut self) {
        self.resets.set(self.resets.get() + 1);
    }
    fn boot(&mut self) {
        self.boots.set(self.boots.get() + 1);
    }
}

/// Seeded corruption of one direction of the link.
#[derive(Clone, Copy, Debug, Default)]
pub struct Faults {
    /// Probabilities per byte.
    pub drop: f64,
    pub flip: f64,
    pub dup: f64,
    /// Probability per chunk that the chunk's tail is cut off.
    pub truncate: f64,
}

impl Faults {
    fn apply(&self, rng: &mut SmallRng, chunk: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(chunk.len() + 4);
        for &b in chunk {
            if rng.gen_bool(self.drop) {
                continue;
            }
            let b = if rng.gen_bool(self.flip) { b ^ (1 << rng.gen_range(0..8)) } else { b };
            out.push(b);
            if rng.gen_bool(self.dup) {
                out.push(b);
            }
        }
        if !out.is_empty() && rng.gen_bool(self.truncate) {
            let keep = rng.gen_range(0..out.len());
            out.truncate(keep);
        }
        out
    }
}

pub const STDIN: ChannelId = ChannelId(1);
pub const STDOUT: ChannelId = ChannelId(2);
pub const STREAM: ChannelId = ChannelId(3);
pub const MEM: ChannelId = ChannelId(4);

pub struct Pair {
    pub now: Instant,
    pub host: Host,
    pub device: Device,
    /// Holds the only references to the channels; the test reaches them through it
    /// (`mem`, `stdout`, `frame`), never through a second reference of its own.
    pub reg: Registry<'static>,
    /// Where `new` put the channels of `LENT`: addresses, compared and never dereferenced, so
    /// the accessors cast only those channels (a test may replace `reg`).
    lent: [usize; LENT.len()],
    pub resets: Rc<Cell<u32>>,
    pub boots: Rc<Cell<u32>>,
    to_dev: VecDeque<u8>,
    to_host: VecDeque<u8>,
    /// Bytes handed over per delivery.
    pub chunk: usize,
    /// Queue this event on the device after each packet it sends.
    pub inject_event: Option<Event>,
    pub events: Vec<DeviceEvent>,
    pub faults_to_dev: Faults,
    pub faults_to_host: Faults,
    rng: SmallRng,
}

fn leak<T>(v: T) -> &'static mut T {
    Box::leak(Box::new(v))
}

/// The channels the test reaches through `Pair`'s accessors, in the order of `Pair::lent`.
const LENT: [ChannelId; 3] = [MEM, STDOUT, STREAM];

/// The channel registered at `id` as a pointer, and its address (to compare, never to
/// dereference).
fn lookup(reg: &mut Registry<'static>, id: ChannelId) -> Option<(*mut dyn Channel, usize)> {
    let c: *mut dyn Channel = reg.get(id)?;
    Some((c, c.cast::<u8>() as usize))
}

impl Pair {
    pub fn new(device_config: DeviceConfig, host_config: HostConfig) -> Pair {
        let resets = Rc::new(Cell::new(0));
        let boots = Rc::new(Cell::new(0));
        let mut reg = Registry::new();
        reg.set_board(leak(TestBoard { resets: resets.clone(), boots: boots.clone() }));
        let stdin = leak(ScriptChannel::new(leak([0u8; 8192])));
        reg.register_static(STDIN, "stdin", stdin).unwrap();
        reg.register_static(STDOUT, "stdout", leak(RingChannel::new(leak([0u8; 1024])))).unwrap();
        reg.register_static(STREAM, "stream", leak(FrameChannel::new(leak([0u8; 64 * 48 + 64])))).unwrap();
        assert_eq!(reg.register("mem", leak(MemChannel::default())).unwrap(), MEM);
        let lent = LENT.map(|id| lookup(&mut reg, id).expect("just registered").1);
        Pair {
            now: Instant::from_millis(1000),
            host: Host::new(host_config, FastCrc),
            device: Device::new(device_config, FastCrc),
            reg,
            lent,
            resets,
            boots,
            to_dev: VecDeque::new(),
            to_host: VecDeque::new(),
            chunk: usize::MAX,
            inject_event: None,
            events: Vec::new(),
            faults_to_dev: Faults::default(),
            faults_to_host: Faults::default(),
            rng: SmallRng::seed_from_u64(7),
        }
    }

    pub fn seeded(mut self, seed: u64) -> Self {
        self.rng = SmallRng::seed_from_u64(seed);
        self
    }

    /// The channel `new` registered at `id` (one of `LENT`), reborrowed from the registry's
    /// reference (a second `&mut` of the test's own would alias it, which Miri reports).
    /// Panics if the registry no longer holds that channel there.
    ///
    /// # Safety
    /// `T` is the type of the channel `new` registered at `id`.
    unsafe fn registered<T>(&mut self, id: ChannelId) -> &mut T {
        let at = LENT.iter().position(|&l| l == id).map(|i| self.lent[i]);
        let (c, addr) = lookup(&mut self.reg, id).expect("a channel at a lent id");
        assert_eq!(Some(addr), at, "{id:?} is not the channel Pair::new registered");
        // SAFETY: the channel at `id` is the one `new` registered (same address), whose type
        // the caller names; the result reborrows the registry's reference for as long as
        // `self` is borrowed.
        unsafe { &mut *c.cast::<T>() }
    }

    pub fn mem(&mut self) -> &mut MemChannel {
        // SAFETY: `new` registers a `MemChannel` at MEM.
        unsafe { self.registered(MEM) }
    }

    pub fn stdout(&mut self) -> &mut RingChannel<'static> {
        // SAFETY: `new` registers a `RingChannel` at STDOUT.
        unsafe { self.registered(STDOUT) }
    }

    pub fn frame(&mut self) -> &mut FrameChannel<'static> {
        // SAFETY: `new` registers a `FrameChannel` at STREAM.
        unsafe { self.registered(STREAM) }
    }

    /// Publishes a w x h grayscale frame numbered `n`.
    pub fn publish_frame(&mut self, w: u32, h: u32, n: u32) {
        let px = self.frame().pixels_mut().unwrap();
        for y in 0..h {
            for x in 0..w {
                px[(y * w + x) as usize] = ((x + y + n) % 256) as u8;
            }
        }
        self.frame().publish(w, h, PixFormat::GRAYSCALE, (w * h) as usize, 30.0).unwrap();
    }

    /// Moves bytes both ways until nothing moves; returns whether anything did.
    fn pump(&mut self) -> bool {
        let mut moved = false;
        if let Some(b) = self.host.poll_transmit() {
            let b = self.faults_to_dev.apply(&mut self.rng, &b);
            self.to_dev.extend(b);
            moved = true;
        }
        // Host -> device, `chunk` bytes at a time; the device may take fewer while answering.
        loop {
            self.drain_device();
            if self.to_dev.is_empty() {
                break;
            }
            let n = self.chunk.min(self.to_dev.len());
            let chunk: Vec<u8> = self.to_dev.iter().take(n).copied().collect();
            let used = self.device.handle_input(self.now, &chunk, &mut self.reg);
            self.to_dev.drain(..used);
            moved |= used > 0;
            if used == 0 {
                break;
            }
        }
        self.drain_device();
        while !self.to_host.is_empty() {
            let n = self.chunk.min(self.to_host.len());
            let chunk: Vec<u8> = self.to_host.drain(..n).collect();
            self.host.handle_input(self.now, &chunk);
            moved = true;
        }
        while let Some(e) = self.host.poll_event() {
            self.events.push(e);
        }
        moved
    }

    fn drain_device(&mut self) {
        while let Some(p) = self.device.poll_transmit(self.now, &mut self.reg) {
            let is_event = p[4] & openmvproto::framing::Flags::EVENT.bits() != 0;
            let p = self.faults_to_host.apply(&mut self.rng, p);
            self.to_host.extend(p);
            if let (Some(e), false) = (self.inject_event, is_event) {
                let _ = self.device.queue_event(e);
            }
        }
    }

    /// Runs the host until its request (or resync) completes; the clock jumps to the next
    /// deadline whenever the link is idle. Panics if it never completes (a hang).
    pub fn complete(&mut self) -> Result<Response, RequestError> {
        for _ in 0..1_000_000 {
            let moved = self.pump();
            if let Some(r) = self.host.poll_completion() {
                return r;
            }
            if !moved {
                let next = [self.host.poll_at(), self.device.poll_at()].into_iter().flatten().min();
                let Some(t) = next else { panic!("idle with no deadline and no completion") };
                self.now = self.now.max(t);
                self.device.handle_timeout(self.now);
                self.host.handle_timeout(self.now);
            }
        }
        panic!("request never completed");
    }

    pub fn request(
        &mut self,
        opcode: openmvproto::Opcode,
        channel: ChannelId,
        payload: Vec<u8>,
    ) -> Result<Response, RequestError> {
        self.host.start(self.now, &Request::new(opcode, channel, payload)).unwrap();
        self.complete()
    }

    pub fn connect(&mut self) -> Result<Response, RequestError> {
        self.host.resync(self.now);
        self.complete()
    }
}

/// Host wishes for a combination of the four capability flags.
pub fn wish(crc: bool, seq: bool, ack: bool, events: bool, max_payload: u16) -> HostConfig {
    use openmvproto::framing::payload::CapFlags;
    let mut flags = CapFlags::empty();
    flags.set(CapFlags::CRC, crc);
    flags.set(CapFlags::SEQ, seq);
    flags.set(CapFlags::ACK, ack);
    flags.set(CapFlags::EVENTS, events);
    HostConfig { wish: Caps { flags, max_payload }, ..HostConfig::default() }
}

/// A CHANNEL_READ request's payload.
pub fn read_req(offset: u32, length: u32) -> Vec<u8> {
    ReadRequest { offset, length }.to_bytes().to_vec()
}

/// A CHANNEL_WRITE request's payload: offset, length, the bytes.
pub fn write_req(offset: u32, bytes: &[u8]) -> Vec<u8> {
    let mut p = WriteRequest::prefix(offset, bytes.len() as u32).to_vec();
    p.extend_from_slice(bytes);
    p
}

/// `n` pseudo-random bytes, different for each seed.
pub fn pattern(n: usize, seed: u32) -> Vec<u8> {
    (0..n as u32).map(|i| (i.wrapping_mul(2654435761).wrapping_add(seed) >> 13) as u8).collect()
}
