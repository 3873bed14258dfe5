//! Finding cams: serial ports whose USB vendor id is one a cam uses (PROTOCOL.md 4.1).

use std::io;

/// USB vendor ids seen on cams: OpenMV, Arduino, early OpenMV (pid.codes).
pub const CAM_VENDOR_IDS: [u16; 3] = [0x37C5, 0x2341, 0x1209];

/// A serial port that looks like a cam.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CamPort {
    /// What to open ("/dev/ttyACM0", "COM3").
    pub path: String,
    /// USB vendor id, one of [`CAM_VENDOR_IDS`].
    pub vid: u16,
    /// USB product id.
    pub pid: u16,
    /// USB serial number string, if the device reports one.
    pub serial_number: Option<String>,
    /// USB manufacturer string, if the device reports one.
    pub manufacturer: Option<String>,
    /// USB product string, if the device reports one.
    pub product: Option<String>,
}

/// Serial ports of USB devices with a cam's vendor id, sorted by path.
pub fn discover() -> io::Result<Vec<CamPort>> {
    let ports = serialport::available_ports().map_err(io::Error::from)?;
    let mut cams: Vec<CamPort> = ports
        .into_iter()
        .filter_map(|p| match p.port_type {
            serialport::SerialPortType::UsbPort(u) if CAM_VENDOR_IDS.contains(&u.vid) => Some(CamPort {
                path: p.port_name,
                vid: u.vid,
                pid: u.pid,
                serial_number: u.serial_number,
                manufacturer: u.manufacturer,
                product: u.product,
            }),
            _ => None,
        })
        .collect();
    cams.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(cams)
}

/// The cam with this USB serial number (compared without regard to case), if plugged in.
pub fn find_by_serial_number(serial: &str) -> io::Result<Option<CamPort>> {
    Ok(pick_serial(discover()?, serial))
}

fn pick_serial(cams: Vec<CamPort>, serial: &str) -> Option<CamPort> {
    cams.into_iter().find(|c| c.serial_number.as_deref().is_some_and(|s| s.trim().eq_ignore_ascii_case(serial.trim())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cam(path: &str, sn: Option<&str>) -> CamPort {
        CamPort {
            path: path.into(),
            vid: 0x37C5,
            pid: 0x9206,
            serial_number: sn.map(Into::into),
            manufacturer: None,
            product: None,
        }
    }

    #[test]
    fn serial_numbers_match_without_case() {
        let cams = vec![cam("/dev/ttyACM0", None), cam("/dev/ttyACM1", Some("3A0B1C"))];
        assert_eq!(pick_serial(cams.clone(), "3a0b1c").unwrap().path, "/dev/ttyACM1");
        assert!(pick_serial(cams, "nope").is_none());
    }

    #[test]
    fn discover_does_not_fail_without_cams() {
        // Enumeration works on a machine with no cam (and no udev): an empty list.
        let found = discover().unwrap_or_default();
        assert!(found.iter().all(|c| CAM_VENDOR_IDS.contains(&c.vid)));
    }
}
