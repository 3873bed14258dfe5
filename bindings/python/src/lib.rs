//! `openmvproto._native`: the PyO3 extension behind the `openmvproto` Python package.

mod camera;
mod controls;
mod errors;
mod events;
mod frame;

use openmvproto::framing::payload::Version;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// Serial ports of USB devices with a cam's vendor id, sorted by path.
#[pyfunction]
fn list_ports(py: Python<'_>) -> PyResult<Vec<Bound<'_, PyDict>>> {
    let ports =
        py.detach(openmvproto::transport::discover).map_err(|e| errors::OMVException::new_err(e.to_string()))?;
    ports
        .into_iter()
        .map(|p| {
            let d = PyDict::new(py);
            d.set_item("path", p.path)?;
            d.set_item("vid", p.vid)?;
            d.set_item("pid", p.pid)?;
            d.set_item("serial_number", p.serial_number)?;
            d.set_item("manufacturer", p.manufacturer)?;
            d.set_item("product", p.product)?;
            Ok(d)
        })
        .collect()
}

/// "GRAY", "RGB565", "JPEG" or the code in hex.
#[pyfunction]
fn format_name(code: u32) -> String {
    frame::format_name(code)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add_class::<camera::NativeCamera>()?;
    m.add_class::<frame::Frame>()?;
    m.add_class::<events::Event>()?;
    m.add_function(wrap_pyfunction!(list_ports, m)?)?;
    m.add_function(wrap_pyfunction!(format_name, m)?)?;
    m.add("OMVException", py.get_type::<errors::OMVException>())?;
    m.add("TimeoutException", py.get_type::<errors::TimeoutException>())?;
    m.add("ChecksumException", py.get_type::<errors::ChecksumException>())?;
    m.add("SequenceException", py.get_type::<errors::SequenceException>())?;
    m.add("DisconnectedException", py.get_type::<errors::DisconnectedException>())?;
    m.add("ControlException", py.get_type::<errors::ControlException>())?;
    m.add("OutcomeUnknownException", py.get_type::<errors::OutcomeUnknownException>())?;
    m.add("VERSION", env!("CARGO_PKG_VERSION"))?;
    let p = Version::PROTOCOL;
    m.add("PROTOCOL_VERSION", (p.0, p.1, p.2))?;
    Ok(())
}
