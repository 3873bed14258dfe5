//! Typed controls (`openmvproto::controls`) as Python values: a field becomes a dict with its
//! name, widget, value, unit and the widget's parameters; Python values become control values.

use openmvproto::controls::{Control, Number, Value, Widget};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyByteArray, PyBytes, PyDict, PyFloat, PyInt, PyList, PyString, PyTuple};
use pyo3::IntoPyObjectExt;

fn number(py: Python<'_>, n: Number) -> PyResult<Py<PyAny>> {
    match n {
        Number::Int(i) => i.into_py_any(py),
        Number::Float(f) => f.into_py_any(py),
    }
}

/// A control value as the Python value it reads as.
pub fn value_to_py(py: Python<'_>, v: &Value) -> PyResult<Py<PyAny>> {
    match v {
        Value::Null => Ok(py.None()),
        Value::Bool(b) => b.into_py_any(py),
        Value::Int(i) => i.into_py_any(py),
        Value::Float(f) => f.into_py_any(py),
        Value::Text(s) => s.into_py_any(py),
        Value::Bytes(b) => PyBytes::new(py, b).into_py_any(py),
        Value::List(l) => {
            let items = l.iter().map(|i| value_to_py(py, i)).collect::<PyResult<Vec<_>>>()?;
            PyList::new(py, items)?.into_py_any(py)
        }
    }
}

/// A Python value as a control value: None, bool, int, float, str, bytes, list or tuple.
pub fn value_from_py(obj: &Bound<'_, PyAny>) -> PyResult<Value> {
    if obj.is_none() {
        Ok(Value::Null)
    } else if obj.is_instance_of::<PyBool>() {
        Ok(Value::Bool(obj.extract()?))
    } else if obj.is_instance_of::<PyInt>() {
        Ok(Value::Int(obj.extract()?))
    } else if obj.is_instance_of::<PyFloat>() {
        Ok(Value::Float(obj.extract()?))
    } else if obj.is_instance_of::<PyString>() {
        Ok(Value::Text(obj.extract()?))
    } else if obj.is_instance_of::<PyBytes>() || obj.is_instance_of::<PyByteArray>() {
        Ok(Value::Bytes(obj.extract()?))
    } else if obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>() {
        obj.try_iter()?.map(|i| value_from_py(&i?)).collect::<PyResult<Vec<_>>>().map(Value::List)
    } else {
        Err(PyTypeError::new_err(format!(
            "a control takes None, bool, int, float, str, bytes or a list, not {}",
            obj.get_type().name()?
        )))
    }
}

/// One field: name, widget (its type name), value, unit, input (whether a host may set it),
/// and the widget's parameters (min/max/step, options, width/height, waveform layout).
pub fn control_to_py<'py>(py: Python<'py>, c: &Control) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("name", &c.name)?;
    d.set_item("widget", c.widget.type_name())?;
    d.set_item("value", value_to_py(py, &c.value)?)?;
    d.set_item("unit", c.unit.as_deref())?;
    d.set_item("input", c.is_input())?;
    match &c.widget {
        Widget::Slider(r) | Widget::Spinbox(r) => {
            d.set_item("min", number(py, r.min)?)?;
            d.set_item("max", number(py, r.max)?)?;
            d.set_item("step", number(py, r.step)?)?;
        }
        Widget::Select(o) | Widget::Radio(o) => d.set_item("options", o.clone())?,
        Widget::Depth(s) => {
            d.set_item("width", s.width)?;
            d.set_item("height", s.height)?;
            d.set_item("min", number(py, s.min)?)?;
            d.set_item("max", number(py, s.max)?)?;
        }
        Widget::Waveform(w) => {
            d.set_item("samples", w.samples)?;
            d.set_item("series", w.series)?;
            d.set_item("min", number(py, w.min)?)?;
            d.set_item("max", number(py, w.max)?)?;
            d.set_item("typecode", w.typecode())?;
            d.set_item("sample_rate", w.sample_rate())?;
            d.set_item("series_names", w.series_names.clone())?;
            d.set_item("time_us", w.time_us)?;
            // The samples as numbers, series interleaved (None for an unknown typecode).
            d.set_item("data", c.value.as_bytes().and_then(|b| w.samples_f64(b)))?;
        }
        _ => {}
    }
    Ok(d)
}
