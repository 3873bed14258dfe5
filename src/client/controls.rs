//! Typed controls over a controls channel (see [`crate::controls`]): list, read and set by name.

use crate::controls::{decode_controls, encode_updates_vec, Control, Error as ControlsError, Value, Widget};

use super::camera::Camera;
use super::channel::Chan;
use super::error::Result;

impl Camera {
    /// Every field of a controls channel (e.g. `"controls"`), in the cam's order.
    pub fn controls<'a>(&self, channel: impl Into<Chan<'a>>) -> Result<Vec<Control>> {
        let blob = self.read_available(channel)?;
        Ok(decode_controls(&blob).map_err(ControlsError::Decode)?)
    }

    /// One field by name; [`ControlsError::NoSuchControl`] if the channel has none.
    pub fn control<'a>(&self, channel: impl Into<Chan<'a>>, name: &str) -> Result<Control> {
        self.controls(channel)?.into_iter().find(|c| c.name == name).ok_or(ControlsError::NoSuchControl.into())
    }

    /// Sets one control after checking the value against its widget ([`Control::check`]).
    pub fn set_control<'a>(&self, channel: impl Into<Chan<'a>>, name: &str, value: impl Into<Value>) -> Result<()> {
        self.set_controls(channel, &[(name, value.into())])
    }

    /// Sets several controls in one write, all checked first: nothing is sent if one fails.
    ///
    /// A write that presses a push button is not repeated after a recovery (a lost answer
    /// gives [`super::Error::OutcomeUnknown`]), since a second press is a second action;
    /// values are, as setting one twice leaves it as set once.
    pub fn set_controls<'a>(&self, channel: impl Into<Chan<'a>>, values: &[(&str, Value)]) -> Result<()> {
        let channel = channel.into();
        let fields = self.controls(channel)?;
        let mut checked = Vec::with_capacity(values.len());
        let mut presses = false;
        for (name, v) in values {
            let c = fields.iter().find(|c| c.name == *name).ok_or(ControlsError::NoSuchControl)?;
            presses |= c.widget == Widget::PushButton;
            checked.push((*name, c.check(v.clone())?));
        }
        let blob = encode_updates_vec(&checked.iter().map(|(n, v)| (*n, v)).collect::<Vec<_>>())
            .map_err(ControlsError::Encode)?;
        self.write_as(channel, 0, &blob, presses.then_some("set_controls"))
    }

    /// Writes `{0: name, 2: value}` records as given, without reading the fields first (the cam
    /// ignores unknown names and values it cannot take). Not knowing the widgets, it takes any
    /// bool for a possible button press: such a write is not repeated after a recovery.
    pub fn set_controls_unchecked<'a>(&self, channel: impl Into<Chan<'a>>, values: &[(&str, &Value)]) -> Result<()> {
        let blob = encode_updates_vec(values).map_err(ControlsError::Encode)?;
        let presses = values.iter().any(|(_, v)| matches!(v, Value::Bool(_)));
        self.write_as(channel.into(), 0, &blob, presses.then_some("set_controls"))
    }
}
