//! The device receive path: any bytes, in any chunking, with the clock moving, must neither
//! panic nor corrupt the channels. The first input byte picks chunk size and capabilities.
#![no_main]

use libfuzzer_sys::fuzz_target;
use openmvproto::channels::{FrameChannel, RingChannel, ScriptChannel};
use openmvproto::device::{Device, DeviceConfig, Event, Registry};
use openmvproto::framing::payload::{CapFlags, Caps};
use openmvproto::framing::FastCrc;
use openmvproto::{ChannelId, Instant};

fuzz_target!(|data: &[u8]| {
    let Some((&knobs, bytes)) = data.split_first() else { return };
    let chunk = 1 + (knobs as usize & 0x3F) * 13;
    let mut caps = Caps::DEFAULT;
    if knobs & 0x40 != 0 {
        caps.flags.remove(CapFlags::CRC); // let arbitrary bytes reach the handlers
    }
    let config = DeviceConfig { caps, fragment_size: 50 + (knobs as u16) * 11, ..DeviceConfig::default() };
    let mut dev: Device<FastCrc, 1024> = Device::new(config, FastCrc);

    let (mut s, mut o, mut f) = ([0u8; 256], [0u8; 128], [0u8; 200]);
    let mut stdin = ScriptChannel::new(&mut s);
    let mut stdout = RingChannel::new(&mut o);
    let mut frame = FrameChannel::new(&mut f);
    stdout.push(b"some output");
    if let Some(px) = frame.pixels_mut() {
        px[..64].fill(7);
    }
    frame.publish(8, 8, openmvproto::framing::payload::PixFormat::GRAYSCALE, 64, 30.0).ok();
    let mut reg = Registry::new();
    reg.register_static(ChannelId::STDIN, "stdin", &mut stdin).unwrap();
    reg.register_static(ChannelId::STDOUT, "stdout", &mut stdout).unwrap();
    reg.register_static(ChannelId::STREAM, "stream", &mut frame).unwrap();

    let mut now = 0u64;
    for piece in bytes.chunks(chunk) {
        now += 37;
        let t = Instant::from_millis(now);
        let _ = dev.queue_event(Event { channel: ChannelId::STREAM, code: 0xFFFF, confirmed: knobs & 0x80 != 0 });
        let mut rest = piece;
        let mut spins = 0;
        while !rest.is_empty() {
            let used = dev.handle_input(t, rest, &mut reg);
            while let Some(p) = dev.poll_transmit(t, &mut reg) {
                assert!(p.len() >= 10 && p.len() <= 1024);
            }
            dev.handle_timeout(t);
            rest = &rest[used..];
            spins += 1;
            assert!(spins < 10_000, "device stopped taking input");
        }
    }
    drop(reg);
    assert!(stdout.len() <= stdout.capacity());
    assert!(stdin.script().len() <= 256);
});
