//! `omv info` and `omv ports`.

use anyhow::Result;
use serde_json::{json, Value};

use openmvproto::framing::payload::{HwCaps, MemoryEntry, ProtoStats, Semver, SysInfo};
use openmvproto::transport::discover;

use crate::cli::LinkArgs;

fn semver(v: Semver) -> String {
    format!("{}.{}.{}", v.0, v.1, v.2)
}

fn stats_json(s: &ProtoStats) -> Value {
    json!({
        "sent": s.sent, "received": s.received, "checksum_errors": s.checksum_errors,
        "sequence_errors": s.sequence_errors, "retransmits": s.retransmits,
        "transport_errors": s.transport_errors, "events": s.events,
    })
}

/// Names of the set capability bits, PMU counter count aside.
pub fn hw_cap_names(caps: HwCaps) -> Vec<String> {
    caps.iter_names().map(|(n, _)| n.to_ascii_lowercase()).collect()
}

fn memory_kind(kind: u8) -> String {
    match kind {
        0 => "gc_heap".into(),
        1 => "uma_pool".into(),
        k => format!("type_{k}"),
    }
}

fn sysinfo_json(i: &SysInfo) -> Value {
    json!({
        "cpu_id": format!("0x{:08X}", i.cpu_id),
        "device_id": i.dev_id.iter().map(|w| format!("{w:08X}")).collect::<String>(),
        "usb_vid": format!("0x{:04X}", i.usb_vid()),
        "usb_pid": format!("0x{:04X}", i.usb_pid()),
        "sensor_chip_ids": i.chip_id.iter().filter(|&&c| c != 0).map(|c| format!("0x{c:X}")).collect::<Vec<_>>(),
        "hw_caps": format!("0x{:08X}", i.hw_caps[0]),
        "capabilities": hw_cap_names(i.hw_caps()),
        "pmu_counters": i.pmu_counters(),
        "flash_kb": i.flash_kb, "ram_kb": i.ram_kb,
        "framebuffer_kb": i.framebuffer_kb, "stream_buffer_kb": i.stream_buffer_kb,
    })
}

fn memory_json(m: &[MemoryEntry]) -> Value {
    m.iter()
        .map(|e| {
            json!({"type": memory_kind(e.kind), "flags": e.flags, "total": e.total, "used": e.used,
                   "free": e.free, "persistent": e.persistent, "peak": e.peak})
        })
        .collect()
}

pub fn info(link: &LinkArgs) -> Result<()> {
    let s = link.connect()?;
    let cam = &s.cam;
    let version = cam.version()?;
    let sys = cam.system_info()?;
    let memory = cam.memory()?;
    let device = cam.device_stats()?;
    let channels = cam.list()?;
    let caps = cam.caps();
    let host = cam.host_stats();
    let v = json!({
        "target": s.target,
        "version": {"protocol": semver(version.protocol), "bootloader": semver(version.bootloader),
                    "firmware": semver(version.firmware)},
        "system": sysinfo_json(&sys),
        "link": {"crc": caps.crc(), "seq": caps.seq(), "ack": caps.ack(), "events": caps.events(),
                 "max_payload": caps.max_payload},
        "memory": memory_json(&memory),
        "device_stats": stats_json(&device),
        "host_stats": stats_json(&host),
        "channels": channels.iter().map(|c| json!({"id": c.id.0, "name": c.name})).collect::<Vec<_>>(),
    });
    if link.json {
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    println!("cam        {}", s.target);
    println!(
        "versions   protocol {}, firmware {}, bootloader {}",
        v["version"]["protocol"].as_str().unwrap_or(""),
        v["version"]["firmware"].as_str().unwrap_or(""),
        v["version"]["bootloader"].as_str().unwrap_or("")
    );
    println!("cpu        0x{:08X}, USB {:04X}:{:04X}", sys.cpu_id, sys.usb_vid(), sys.usb_pid());
    println!("sensors    {}", v["system"]["sensor_chip_ids"]);
    println!(
        "caps       0x{:08X} [{}], {} PMU counters",
        sys.hw_caps[0],
        hw_cap_names(sys.hw_caps()).join(", "),
        sys.pmu_counters()
    );
    println!(
        "memory     flash {} KiB, RAM {} KiB, frame buffer {} KiB, stream buffer {} KiB",
        sys.flash_kb, sys.ram_kb, sys.framebuffer_kb, sys.stream_buffer_kb
    );
    for e in &memory {
        println!("  {:<9} {} of {} bytes used, {} free, peak {}", memory_kind(e.kind), e.used, e.total, e.free, e.peak);
    }
    println!(
        "link       crc {}, seq {}, ack {}, events {}, max payload {}",
        caps.crc(),
        caps.seq(),
        caps.ack(),
        caps.events(),
        caps.max_payload
    );
    for (who, st) in [("cam", &device), ("host", &host)] {
        println!(
            "{who:<10} sent {}, received {}, checksum errors {}, sequence errors {}, retransmits {}, transport errors {}, events {}",
            st.sent, st.received, st.checksum_errors, st.sequence_errors, st.retransmits, st.transport_errors, st.events
        );
    }
    let names: Vec<String> = channels.iter().map(|c| format!("{} {}", c.id.0, c.name)).collect();
    println!("channels   {}", names.join(", "));
    Ok(())
}

pub fn ports(link: &LinkArgs) -> Result<()> {
    let cams = discover()?;
    if link.json {
        let v: Vec<Value> = cams
            .iter()
            .map(|c| {
                json!({"path": c.path, "vid": format!("0x{:04X}", c.vid), "pid": format!("0x{:04X}", c.pid),
                       "serial_number": c.serial_number, "manufacturer": c.manufacturer, "product": c.product})
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(());
    }
    if cams.is_empty() {
        eprintln!("no cam plugged in (USB vendor ids 37C5, 2341, 1209)");
    }
    for c in cams {
        println!(
            "{}  {:04X}:{:04X}  serial {}  {}",
            c.path,
            c.vid,
            c.pid,
            c.serial_number.as_deref().unwrap_or("-"),
            c.product.as_deref().unwrap_or("")
        );
    }
    Ok(())
}
