//! Typed controls for C firmware (feature `controls`): a controls channel in caller storage,
//! the OpenMV firmware's `CBORChannel` format (`openmvproto::controls`).
//!
//! ```c
//! static union { uint64_t align; uint8_t b[2048]; } st;        // omv_fw_controls_storage_size(8)
//! static uint8_t out[1024], in[256];
//! static const char *const patterns[] = { "gradient", "checkers", NULL };
//! omv_fw_controls_hooks_t hooks = { .on_write = apply_setting, .user = &cam };
//! omv_fw_controls_t *ctl;
//! omv_fw_controls_init(st.b, sizeof st.b, 8, out, sizeof out, in, sizeof in, &hooks, &ctl);
//! int thr = omv_fw_controls_add_range(ctl, "threshold", OMV_FW_CONTROL_SLIDER, 0, 255, 1, 128, true, NULL);
//! omv_fw_controls_add_toggle(ctl, "mirror", false);
//! omv_fw_controls_add_choice(ctl, "pattern", OMV_FW_CONTROL_SELECT, patterns, 0);
//! omv_fw_controls_start(ctl);
//! omv_fw_channel_register(fw, "controls", omv_fw_controls_ops(), ctl);
//! // in apply_setting(user, ctl, index): omv_fw_controls_get_number(ctl, thr, &v) ...
//! ```
//!
//! Names, units, option lists and typecodes must stay valid (static) while the channel is
//! used. Texts and samples live in caller buffers given when a field is added. Everything runs
//! on the main loop; the hooks run inside `omv_fw_poll` and may use the getters and setters.

use core::ffi::{c_char, c_void, CStr};
use core::mem::{align_of, size_of};
use core::ptr::{addr_of_mut, null_mut};

use openmvproto::channels::{Channel, ControlsChannel, ControlsHandler, Field, Store};
use openmvproto::controls::{DepthShape, Number, Range, StrList, WaveformRef};

use crate::api::static_buf;
use crate::types::{
    ChannelOps, OMV_FW_ERR_ALIGN, OMV_FW_ERR_FULL, OMV_FW_ERR_NULL, OMV_FW_ERR_SIZE, OMV_FW_ERR_STATE, OMV_FW_OK,
};

/// A value a field cannot take (wrong type, not an option, text or data too long, no such
/// field, or a name or option that is not UTF-8). -13, after the device codes: the host
/// role's codes start at -20, so no two codes of this header share a value.
pub const OMV_FW_ERR_CONTROL: i32 = -13;

/// Widget of `omv_fw_controls_add_range`.
pub const OMV_FW_CONTROL_SLIDER: u8 = 0;
pub const OMV_FW_CONTROL_SPINBOX: u8 = 1;
/// Widget of `omv_fw_controls_add_choice`.
pub const OMV_FW_CONTROL_SELECT: u8 = 0;
pub const OMV_FW_CONTROL_RADIO: u8 = 1;
/// Widget of `omv_fw_controls_add_text`.
pub const OMV_FW_CONTROL_TEXT: u8 = 0;
pub const OMV_FW_CONTROL_LINEEDIT: u8 = 1;
pub const OMV_FW_CONTROL_LABEL_TEXT: u8 = 2;

/// Longest option list of a select or radio.
const MAX_OPTIONS: usize = 32;

/// Called before the fields are encoded for the host (refresh live values), and after each
/// host write to field `index` that the field accepted, also one that left its value as it
/// was (a push button pressed twice). Either may be NULL.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct ControlsHooks {
    pub on_read: Option<unsafe extern "C" fn(user: *mut c_void, ctl: *mut Controls)>,
    pub on_write: Option<unsafe extern "C" fn(user: *mut c_void, ctl: *mut Controls, index: usize)>,
    pub user: *mut c_void,
}

/// Calls the C hooks; lends the fields to the getters and setters while they run.
#[derive(Debug)]
struct CHooks {
    hooks: ControlsHooks,
    ctl: *mut Controls,
}

impl CHooks {
    fn lend(&mut self, fields: &mut [Field<'_>], f: impl FnOnce(&ControlsHooks, *mut Controls)) {
        let lent = core::ptr::slice_from_raw_parts_mut(fields.as_mut_ptr().cast::<Field<'static>>(), fields.len());
        // SAFETY: `ctl` is the live handle this handler belongs to; only its `lent` field is
        // written, which the channel (borrowed now) does not contain.
        unsafe { addr_of_mut!((*self.ctl).lent).write(lent) };
        f(&self.hooks, self.ctl);
        // SAFETY: as above.
        unsafe { addr_of_mut!((*self.ctl).lent).write(core::ptr::slice_from_raw_parts_mut(null_mut(), 0)) };
    }
}

impl ControlsHandler for CHooks {
    fn on_read(&mut self, fields: &mut [Field<'_>]) {
        if let Some(f) = self.hooks.on_read {
            // SAFETY: a C hook called with its user pointer and the handle, as the header says.
            self.lend(fields, |h, ctl| unsafe { f(h.user, ctl) });
        }
    }

    fn on_write(&mut self, fields: &mut [Field<'_>], index: usize) {
        if let Some(f) = self.hooks.on_write {
            // SAFETY: as in `on_read`.
            self.lend(fields, |h, ctl| unsafe { f(h.user, ctl, index) });
        }
    }
}

/// A controls channel in caller storage (`omv_fw_controls_t`). Opaque.
#[derive(Debug)]
pub struct Controls {
    fields: *mut Field<'static>,
    cap: usize,
    count: usize,
    out: *mut u8,
    out_len: usize,
    input: *mut u8,
    in_len: usize,
    hooks: ControlsHooks,
    channel: Option<ControlsChannel<'static, CHooks>>,
    /// The fields while a hook runs (their channel is borrowed then).
    lent: *mut [Field<'static>],
}

const fn fields_offset() -> usize {
    let a = align_of::<Field<'static>>();
    size_of::<Controls>().div_ceil(a) * a
}

/// Bytes of storage for a controls channel of up to `max_fields` fields.
#[no_mangle]
pub extern "C" fn omv_fw_controls_storage_size(max_fields: usize) -> usize {
    max_fields
        .checked_mul(size_of::<Field<'static>>())
        .and_then(|f| f.checked_add(fields_offset()))
        .unwrap_or(usize::MAX)
}

/// Alignment the storage needs.
#[no_mangle]
pub extern "C" fn omv_fw_controls_storage_align() -> usize {
    align_of::<Controls>().max(align_of::<Field<'static>>())
}

/// Sets up a controls channel in `storage`: `out` holds the encoded fields (size it for every
/// field at its longest), `input` the largest write the host may send.
///
/// # Safety
/// `storage` valid for `size` bytes, and `out`, `input` for their lengths, used by nobody
/// else while the channel exists; `hooks` NULL or readable (copied); `ctl` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_controls_init(
    storage: *mut u8,
    size: usize,
    max_fields: usize,
    out: *mut u8,
    out_len: usize,
    input: *mut u8,
    input_len: usize,
    hooks: *const ControlsHooks,
    ctl: *mut *mut Controls,
) -> i32 {
    if storage.is_null() || out.is_null() || input.is_null() || ctl.is_null() {
        return OMV_FW_ERR_NULL;
    }
    if (storage as usize) % omv_fw_controls_storage_align() != 0 || (ctl as usize) % align_of::<*mut Controls>() != 0 {
        return OMV_FW_ERR_ALIGN;
    }
    if size < omv_fw_controls_storage_size(max_fields) || out_len == 0 || input_len == 0 {
        return OMV_FW_ERR_SIZE;
    }
    let hooks = if hooks.is_null() {
        ControlsHooks { on_read: None, on_write: None, user: null_mut() }
    } else {
        // SAFETY: non-NULL and readable by the caller's contract.
        unsafe { hooks.read_unaligned() }
    };
    let c = storage.cast::<Controls>();
    // SAFETY: storage is aligned and large enough for the header and `max_fields` fields
    // (checked above); it is the caller's for as long as the channel is used.
    unsafe {
        c.write(Controls {
            fields: storage.add(fields_offset()).cast(),
            cap: max_fields,
            count: 0,
            out,
            out_len,
            input,
            in_len: input_len,
            hooks,
            channel: None,
            lent: core::ptr::slice_from_raw_parts_mut(null_mut(), 0),
        });
        ctl.write(c);
    }
    OMV_FW_OK
}

/// # Safety
/// `p` is NULL or a NUL-terminated string that stays valid while the channel is used.
unsafe fn text(p: *const c_char) -> Result<&'static str, i32> {
    if p.is_null() {
        return Err(OMV_FW_ERR_NULL);
    }
    // SAFETY: caller contract.
    unsafe { CStr::from_ptr(p) }.to_str().map_err(|_| OMV_FW_ERR_CONTROL)
}

/// # Safety
/// As [`text`], NULL meaning none.
unsafe fn opt_text(p: *const c_char) -> Result<Option<&'static str>, i32> {
    if p.is_null() {
        Ok(None)
    } else {
        // SAFETY: forwarded.
        unsafe { text(p) }.map(Some)
    }
}

/// # Safety
/// `ctl` NULL or a live handle from `omv_fw_controls_init`.
unsafe fn handle<'a>(ctl: *mut Controls) -> Result<&'a mut Controls, i32> {
    if ctl.is_null() {
        return Err(OMV_FW_ERR_NULL);
    }
    // SAFETY: a live handle, used from the main loop only (not concurrently).
    Ok(unsafe { &mut *ctl })
}

/// Appends a field before `omv_fw_controls_start`; returns its index.
///
/// # Safety
/// `ctl` NULL or live.
unsafe fn add(ctl: *mut Controls, make: impl FnOnce() -> Result<Field<'static>, i32>) -> i32 {
    // SAFETY: forwarded.
    let c = match unsafe { handle(ctl) } {
        Ok(c) => c,
        Err(e) => return e,
    };
    if c.channel.is_some() {
        return OMV_FW_ERR_STATE;
    }
    if c.count == c.cap {
        return OMV_FW_ERR_FULL;
    }
    match make() {
        Ok(f) => {
            // SAFETY: `count < cap`, so the slot lies in the fields area of the storage.
            unsafe { c.fields.add(c.count).write(f) };
            c.count += 1;
            (c.count - 1) as i32
        }
        Err(e) => e,
    }
}

fn number(v: f64, integral: bool) -> Number {
    if integral {
        Number::Int(v as i64)
    } else {
        Number::Float(v)
    }
}

/// A read-only number label (`unit` may be NULL).
///
/// # Safety
/// `ctl` NULL or live; `name`, `unit` NULL or static NUL-terminated UTF-8.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_controls_add_label(
    ctl: *mut Controls,
    name: *const c_char,
    value: f64,
    integral: bool,
    unit: *const c_char,
) -> i32 {
    // SAFETY: caller contract.
    unsafe {
        add(ctl, || {
            let f = Field::label(text(name)?, number(value, integral));
            Ok(match opt_text(unit)? {
                Some(u) => f.with_unit(u),
                None => f,
            })
        })
    }
}

/// A slider or spin box (`widget` OMV_FW_CONTROL_SLIDER / _SPINBOX); `integral` makes every
/// number an integer.
///
/// # Safety
/// As `omv_fw_controls_add_label`.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_controls_add_range(
    ctl: *mut Controls,
    name: *const c_char,
    widget: u8,
    min: f64,
    max: f64,
    step: f64,
    value: f64,
    integral: bool,
    unit: *const c_char,
) -> i32 {
    // SAFETY: caller contract.
    unsafe {
        add(ctl, || {
            let name = text(name)?;
            let r = Range { min: number(min, integral), max: number(max, integral), step: number(step, integral) };
            let v = number(value, integral);
            let f = match widget {
                OMV_FW_CONTROL_SLIDER => Field::slider(name, r, v),
                OMV_FW_CONTROL_SPINBOX => Field::spinbox(name, r, v),
                _ => return Err(OMV_FW_ERR_CONTROL),
            };
            Ok(match opt_text(unit)? {
                Some(u) => f.with_unit(u),
                None => f,
            })
        })
    }
}

/// A toggle.
///
/// # Safety
/// `ctl` NULL or live; `name` NULL or static NUL-terminated UTF-8.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_controls_add_toggle(ctl: *mut Controls, name: *const c_char, on: bool) -> i32 {
    // SAFETY: caller contract.
    unsafe { add(ctl, || Ok(Field::toggle(text(name)?, on))) }
}

/// A push button (the host sets it true; the cam sets it back).
///
/// # Safety
/// As `omv_fw_controls_add_toggle`.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_controls_add_pushbutton(ctl: *mut Controls, name: *const c_char) -> i32 {
    // SAFETY: caller contract.
    unsafe { add(ctl, || Ok(Field::push_button(text(name)?))) }
}

/// A select or radio (`widget` OMV_FW_CONTROL_SELECT / _RADIO) of the NULL-terminated list
/// `options` (at most 32), `index` chosen. The list is kept in spare field slots of the
/// storage (each slot holds a few options), so fewer than `max_fields` fields may then fit
/// (OMV_FW_ERR_FULL); a refused choice takes none.
///
/// # Safety
/// `ctl` NULL or live; `name` and `options` (the array and its strings) static.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_controls_add_choice(
    ctl: *mut Controls,
    name: *const c_char,
    widget: u8,
    options: *const *const c_char,
    index: usize,
) -> i32 {
    // SAFETY: caller contract.
    let c = match unsafe { handle(ctl) } {
        Ok(c) => c,
        Err(e) => return e,
    };
    if options.is_null() {
        return OMV_FW_ERR_NULL;
    }
    // Every check `add` makes, before the option list takes its slots: a refused field must
    // leave the capacity as it was.
    if c.channel.is_some() {
        return OMV_FW_ERR_STATE;
    }
    if !matches!(widget, OMV_FW_CONTROL_SELECT | OMV_FW_CONTROL_RADIO) {
        return OMV_FW_ERR_CONTROL;
    }
    // SAFETY: caller contract: NULL or a static NUL-terminated string.
    let name = match unsafe { text(name) } {
        Ok(n) => n,
        Err(e) => return e,
    };
    let mut n = 0;
    // SAFETY: the list is NULL-terminated (caller contract); at most MAX_OPTIONS + 1 are read.
    while n <= MAX_OPTIONS && !unsafe { *options.add(n) }.is_null() {
        n += 1;
    }
    if n > MAX_OPTIONS || index >= n.max(1) {
        return OMV_FW_ERR_CONTROL;
    }
    // The option texts as `&str`s, in the storage's fields area after the used fields: they
    // must live as long as the channel, and a C array of pointers is not a slice of `&str`.
    let need = n * size_of::<&str>();
    let spare = (c.cap - c.count.min(c.cap)) * size_of::<Field<'static>>();
    // One field slot for the field itself, the rest of the spare area for the list.
    if c.count == c.cap || need > spare - size_of::<Field<'static>>() {
        return OMV_FW_ERR_FULL;
    }
    // The list goes at the end of the fields area, growing down; the slots it covers are
    // taken from the capacity.
    let slots = need.div_ceil(size_of::<Field<'static>>());
    c.cap -= slots;
    // SAFETY: the last `slots` field slots are inside the storage and no longer used for fields;
    // `&str` needs at most the alignment of `Field`, whose slots are aligned.
    let list: &'static mut [&'static str] = unsafe {
        let p = c.fields.add(c.cap).cast::<&'static str>();
        for i in 0..n {
            match text(*options.add(i)) {
                Ok(s) => p.add(i).write(s),
                Err(e) => {
                    c.cap += slots;
                    return e;
                }
            }
        }
        core::slice::from_raw_parts_mut(p, n)
    };
    let list: &'static [&'static str] = list;
    // SAFETY: caller contract.
    unsafe {
        add(ctl, || {
            Ok(match widget {
                OMV_FW_CONTROL_SELECT => Field::select(name, list, index),
                _ => Field::radio(name, list, index),
            })
        })
    }
}

/// A text (read-only), line edit or text label (`widget` OMV_FW_CONTROL_TEXT / _LINEEDIT /
/// _LABEL_TEXT) holding at most `cap` bytes of UTF-8 in `buf`.
///
/// # Safety
/// `ctl` NULL or live; `name` static; `buf` valid for `cap` bytes while the channel is used.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_controls_add_text(
    ctl: *mut Controls,
    name: *const c_char,
    widget: u8,
    buf: *mut u8,
    cap: usize,
) -> i32 {
    // SAFETY: caller contract.
    unsafe {
        add(ctl, || {
            let (name, buf) = (text(name)?, static_buf(buf, cap)?);
            match widget {
                OMV_FW_CONTROL_TEXT => Ok(Field::text(name, buf)),
                OMV_FW_CONTROL_LINEEDIT => Ok(Field::line_edit(name, buf)),
                OMV_FW_CONTROL_LABEL_TEXT => Ok(Field::label_text(name, buf)),
                _ => Err(OMV_FW_ERR_CONTROL),
            }
        })
    }
}

/// A depth image of `width` x `height` 16-bit values between `min` and `max`, up to `cap`
/// bytes in `buf` (set with `omv_fw_controls_set_bytes`).
///
/// # Safety
/// As `omv_fw_controls_add_text`.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_controls_add_depth(
    ctl: *mut Controls,
    name: *const c_char,
    width: u32,
    height: u32,
    min: i32,
    max: i32,
    buf: *mut u8,
    cap: usize,
) -> i32 {
    // SAFETY: caller contract.
    unsafe {
        add(ctl, || {
            let shape = DepthShape { width, height, min: Number::Int(min.into()), max: Number::Int(max.into()) };
            Ok(Field::depth(text(name)?, shape, static_buf(buf, cap)?))
        })
    }
}

/// A waveform of `series` interleaved series of samples of `typecode` (NULL: "H") between
/// `min` and `max` at `sample_rate` per second (0: unknown), up to `cap` bytes in `buf` (set
/// with `omv_fw_controls_set_waveform`).
///
/// # Safety
/// As `omv_fw_controls_add_text`; `unit` and `typecode` NULL or static.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_controls_add_waveform(
    ctl: *mut Controls,
    name: *const c_char,
    series: u32,
    min: i32,
    max: i32,
    sample_rate: f64,
    typecode: *const c_char,
    unit: *const c_char,
    buf: *mut u8,
    cap: usize,
) -> i32 {
    // SAFETY: caller contract.
    unsafe {
        add(ctl, || {
            let shape = WaveformRef {
                samples: 0,
                series: series.max(1),
                min: Number::Int(min.into()),
                max: Number::Int(max.into()),
                typecode: opt_text(typecode)?,
                sample_period: (sample_rate > 0.0).then(|| 1.0 / sample_rate),
                series_names: None::<StrList<'static>>,
                time_us: None,
            };
            let f = Field::waveform(text(name)?, shape, static_buf(buf, cap)?);
            Ok(match opt_text(unit)? {
                Some(u) => f.with_unit(u),
                None => f,
            })
        })
    }
}

/// Ends the declarations: the channel is ready for `omv_fw_channel_register(fw, name,
/// omv_fw_controls_ops(), ctl)`.
///
/// # Safety
/// `ctl` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_controls_start(ctl: *mut Controls) -> i32 {
    // SAFETY: caller contract.
    let c = match unsafe { handle(ctl) } {
        Ok(c) => c,
        Err(e) => return e,
    };
    if c.channel.is_some() {
        return OMV_FW_ERR_STATE;
    }
    // SAFETY: the first `count` field slots were written by `add`; the buffers were checked
    // in init and are the caller's for as long as the channel is used.
    let (fields, out, input) = unsafe {
        (
            core::slice::from_raw_parts_mut(c.fields, c.count),
            core::slice::from_raw_parts_mut(c.out, c.out_len),
            core::slice::from_raw_parts_mut(c.input, c.in_len),
        )
    };
    let hooks = CHooks { hooks: c.hooks, ctl };
    c.channel =
        Some(ControlsChannel::new(Store::Borrowed(fields), Store::Borrowed(out), Store::Borrowed(input), hooks));
    OMV_FW_OK
}

/// The field `index`: lent to a running hook, or the channel's (or, before start, the
/// declared ones).
///
/// # Safety
/// `ctl` NULL or live; main loop or hooks only.
unsafe fn with_field<T>(
    ctl: *mut Controls,
    index: usize,
    f: impl FnOnce(&mut Field<'static>) -> Result<T, i32>,
) -> Result<T, i32> {
    if ctl.is_null() {
        return Err(OMV_FW_ERR_NULL);
    }
    // SAFETY: a live handle; `lent` is written only by the handler around hook calls.
    let lent = unsafe { addr_of_mut!((*ctl).lent).read() };
    let field = if !lent.is_null() && lent.len() > 0 {
        // SAFETY: the hook's fields, lent by the handler for the duration of the hook, which
        // does not use them itself meanwhile.
        unsafe { (&mut *lent).get_mut(index) }
    } else {
        // SAFETY: not inside a hook, so nothing else borrows the handle.
        let c = unsafe { &mut *ctl };
        match c.channel.as_mut() {
            Some(ch) => ch.fields_mut().get_mut(index),
            // SAFETY: the first `count` slots are declared fields.
            None => unsafe { core::slice::from_raw_parts_mut(c.fields, c.count) }.get_mut(index),
        }
    };
    f(field.ok_or(OMV_FW_ERR_CONTROL)?)
}

fn code(r: Result<(), i32>) -> i32 {
    r.err().unwrap_or(OMV_FW_OK)
}

fn ctl_err(_: openmvproto::controls::Error) -> i32 {
    OMV_FW_ERR_CONTROL
}

/// The index of the field called `name`, or OMV_FW_ERR_CONTROL.
///
/// # Safety
/// `ctl` NULL or live; `name` NULL or NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_controls_find(ctl: *mut Controls, name: *const c_char) -> i32 {
    if name.is_null() {
        return OMV_FW_ERR_NULL;
    }
    // SAFETY: caller contract.
    let Ok(name) = unsafe { CStr::from_ptr(name) }.to_str() else { return OMV_FW_ERR_CONTROL };
    // SAFETY: caller contract.
    let n = match unsafe { handle(ctl) } {
        Ok(c) => c.count,
        Err(e) => return e,
    };
    for i in 0..n {
        // SAFETY: caller contract.
        if unsafe { with_field(ctl, i, |f| Ok(f.name() == name)) } == Ok(true) {
            return i as i32;
        }
    }
    OMV_FW_ERR_CONTROL
}

/// A toggle's or push button's state.
///
/// # Safety
/// `ctl` NULL or live; `out` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_controls_get_bool(ctl: *mut Controls, index: usize, out: *mut bool) -> i32 {
    if out.is_null() {
        return OMV_FW_ERR_NULL;
    }
    // SAFETY: caller contract.
    code(unsafe { with_field(ctl, index, |f| f.as_bool().ok_or(OMV_FW_ERR_CONTROL)) }.map(|b| unsafe { out.write(b) }))
}

/// A label's, slider's or spin box's number.
///
/// # Safety
/// As `omv_fw_controls_get_bool`.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_controls_get_number(ctl: *mut Controls, index: usize, out: *mut f64) -> i32 {
    if out.is_null() {
        return OMV_FW_ERR_NULL;
    }
    // SAFETY: caller contract.
    code(unsafe { with_field(ctl, index, |f| f.as_f64().ok_or(OMV_FW_ERR_CONTROL)) }.map(|v| unsafe { out.write(v) }))
}

/// A select's or radio's chosen index.
///
/// # Safety
/// As `omv_fw_controls_get_bool`.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_controls_get_choice(ctl: *mut Controls, index: usize, out: *mut usize) -> i32 {
    if out.is_null() {
        return OMV_FW_ERR_NULL;
    }
    // SAFETY: caller contract.
    code(unsafe { with_field(ctl, index, |f| f.choice().ok_or(OMV_FW_ERR_CONTROL)) }.map(|v| unsafe { out.write(v) }))
}

/// A text field's bytes (UTF-8, not NUL-terminated): `*text` points into its buffer.
///
/// # Safety
/// `ctl` NULL or live; `text`, `len` NULL or writable.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_controls_get_text(
    ctl: *mut Controls,
    index: usize,
    text: *mut *const u8,
    len: *mut usize,
) -> i32 {
    if text.is_null() || len.is_null() {
        return OMV_FW_ERR_NULL;
    }
    // SAFETY: caller contract; the buffer is the caller's own.
    code(unsafe {
        with_field(ctl, index, |f| f.as_text().map(|s| (s.as_ptr(), s.len())).ok_or(OMV_FW_ERR_CONTROL)).map(
            |(p, n)| {
                text.write(p);
                len.write(n);
            },
        )
    })
}

/// Sets a toggle or push button.
///
/// # Safety
/// `ctl` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_controls_set_bool(ctl: *mut Controls, index: usize, value: bool) -> i32 {
    // SAFETY: caller contract.
    code(unsafe { with_field(ctl, index, |f| f.set_bool(value).map_err(ctl_err)) })
}

/// Sets a label, slider or spin box (an integer field keeps integers).
///
/// # Safety
/// `ctl` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_controls_set_number(ctl: *mut Controls, index: usize, value: f64) -> i32 {
    // SAFETY: caller contract.
    code(unsafe {
        with_field(ctl, index, |f| {
            let n = number(value, f.as_number().is_some_and(Number::is_int));
            f.set_number(n).map_err(ctl_err)
        })
    })
}

/// Picks a select's or radio's option.
///
/// # Safety
/// `ctl` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_controls_set_choice(ctl: *mut Controls, index: usize, choice: usize) -> i32 {
    // SAFETY: caller contract.
    code(unsafe { with_field(ctl, index, |f| f.set_choice(choice).map_err(ctl_err)) })
}

/// Sets a text field from `len` bytes of UTF-8.
///
/// # Safety
/// `ctl` NULL or live; `text` NULL or `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_controls_set_text(
    ctl: *mut Controls,
    index: usize,
    text: *const u8,
    len: usize,
) -> i32 {
    if text.is_null() && len > 0 {
        return OMV_FW_ERR_NULL;
    }
    // SAFETY: caller contract.
    let bytes = if len == 0 { &[][..] } else { unsafe { core::slice::from_raw_parts(text, len) } };
    let Ok(s) = core::str::from_utf8(bytes) else { return OMV_FW_ERR_CONTROL };
    // SAFETY: caller contract.
    code(unsafe { with_field(ctl, index, |f| f.set_text(s).map_err(ctl_err)) })
}

/// Sets a depth image's data.
///
/// # Safety
/// `ctl` NULL or live; `data` NULL or `len` readable bytes.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_controls_set_bytes(
    ctl: *mut Controls,
    index: usize,
    data: *const u8,
    len: usize,
) -> i32 {
    if data.is_null() && len > 0 {
        return OMV_FW_ERR_NULL;
    }
    // SAFETY: caller contract.
    let bytes = if len == 0 { &[][..] } else { unsafe { core::slice::from_raw_parts(data, len) } };
    // SAFETY: caller contract.
    code(unsafe { with_field(ctl, index, |f| f.set_bytes(bytes).map_err(ctl_err)) })
}

/// Sets a waveform's samples (interleaved series) and their clock in microseconds.
///
/// # Safety
/// As `omv_fw_controls_set_bytes`.
#[no_mangle]
pub unsafe extern "C" fn omv_fw_controls_set_waveform(
    ctl: *mut Controls,
    index: usize,
    data: *const u8,
    len: usize,
    time_us: u64,
) -> i32 {
    if data.is_null() && len > 0 {
        return OMV_FW_ERR_NULL;
    }
    // SAFETY: caller contract.
    let bytes = if len == 0 { &[][..] } else { unsafe { core::slice::from_raw_parts(data, len) } };
    // SAFETY: caller contract.
    code(unsafe { with_field(ctl, index, |f| f.set_waveform(bytes, time_us).map_err(ctl_err)) })
}

// ---- the channel's C vtable ----

/// # Safety
/// `user` is a started handle (the registration's user pointer).
unsafe fn chan<'a>(user: *mut c_void) -> Option<&'a mut ControlsChannel<'static, CHooks>> {
    if user.is_null() {
        return None;
    }
    // SAFETY: caller contract: the engine calls a registered channel from the main loop.
    unsafe { (*user.cast::<Controls>()).channel.as_mut() }
}

unsafe extern "C" fn op_read(user: *mut c_void, offset: u32, buf: *mut u8, len: usize) -> i32 {
    // SAFETY: the engine passes its transmit buffer of `len` bytes and our user pointer.
    let (Some(ch), false) = (unsafe { chan(user) }, buf.is_null()) else { return 1 };
    // SAFETY: as above.
    let dst = unsafe { core::slice::from_raw_parts_mut(buf, len) };
    match ch.read(offset, dst) {
        Ok(()) => 0,
        Err(_) => 2,
    }
}

unsafe extern "C" fn op_readp(user: *mut c_void, offset: u32, len: usize) -> *const u8 {
    // SAFETY: our user pointer.
    match unsafe { chan(user) }.and_then(|ch| ch.readp(offset, len)) {
        Some(s) => s.as_ptr(),
        None => core::ptr::null(),
    }
}

unsafe extern "C" fn op_write(user: *mut c_void, offset: u32, data: *const u8, len: usize) -> i32 {
    // SAFETY: our user pointer; the engine passes `len` received bytes.
    let (Some(ch), false) = (unsafe { chan(user) }, data.is_null() && len > 0) else { return 1 };
    let src = if len == 0 { &[][..] } else { unsafe { core::slice::from_raw_parts(data, len) } };
    match ch.write(offset, src) {
        Ok(()) => 0,
        Err(openmvproto::framing::Status::Invalid) => 2,
        Err(_) => 1,
    }
}

unsafe extern "C" fn op_size(user: *mut c_void) -> u32 {
    // SAFETY: our user pointer.
    unsafe { chan(user) }.and_then(|ch| ch.size()).unwrap_or(0)
}

unsafe extern "C" fn op_poll(user: *mut c_void) -> bool {
    // SAFETY: our user pointer.
    unsafe { chan(user) }.is_some_and(|ch| ch.poll())
}

static OPS: ChannelOps = ChannelOps {
    read: Some(op_read),
    write: Some(op_write),
    readp: Some(op_readp),
    size: Some(op_size),
    shape: None,
    poll: Some(op_poll),
    lock: None,
    unlock: None,
    ioctl: None,
};

/// The channel operations of a started controls channel, for `omv_fw_channel_register`
/// with the handle as its user pointer.
#[no_mangle]
pub extern "C" fn omv_fw_controls_ops() -> *const ChannelOps {
    &OPS
}

#[cfg(test)]
mod tests {
    use super::*;
    use openmvproto::controls::{encode_updates, Controls as Blob, Update, ValueRef, WidgetKind};

    /// A NUL-terminated literal as a C string pointer.
    macro_rules! cs {
        ($s:literal) => {
            concat!($s, "\0").as_ptr().cast::<c_char>()
        };
    }

    struct Seen {
        writes: [usize; 8],
        n: usize,
        reads: u32,
    }

    unsafe extern "C" fn on_read(user: *mut c_void, ctl: *mut Controls) {
        // SAFETY: the test's own `Seen`.
        let seen = unsafe { &mut *user.cast::<Seen>() };
        seen.reads += 1;
        // SAFETY: a hook may use the setters on its handle.
        assert_eq!(unsafe { omv_fw_controls_set_number(ctl, 0, f64::from(seen.reads)) }, OMV_FW_OK);
        let samples = [1u8, 0, 2, 0, 3, 0, 4, 0];
        assert_eq!(unsafe { omv_fw_controls_set_waveform(ctl, 6, samples.as_ptr(), 8, 99) }, OMV_FW_OK);
    }

    unsafe extern "C" fn on_write(user: *mut c_void, _ctl: *mut Controls, index: usize) {
        // SAFETY: the test's own `Seen`.
        let seen = unsafe { &mut *user.cast::<Seen>() };
        seen.writes[seen.n] = index;
        seen.n += 1;
    }

    #[test]
    fn api_controls_serve_and_take_writes() {
        #[repr(C, align(16))]
        struct St([u8; 4096]);
        let mut st = St([0; 4096]);
        let (mut out, mut input, mut note, mut wave, mut depth) =
            ([0u8; 1024], [0u8; 256], [0u8; 16], [0u8; 64], [0u8; 8]);
        let mut seen = Seen { writes: [0; 8], n: 0, reads: 0 };
        let hooks =
            ControlsHooks { on_read: Some(on_read), on_write: Some(on_write), user: (&mut seen as *mut Seen).cast() };
        let mut ctl = null_mut();
        let opts: [*const c_char; 3] = [cs!("a"), cs!("b"), core::ptr::null()];
        // SAFETY: every pointer is to live locals or statics; the handle lives in `st`.
        unsafe {
            assert!(omv_fw_controls_storage_size(10) <= st.0.len());
            assert_eq!(
                omv_fw_controls_init(
                    st.0.as_mut_ptr(),
                    st.0.len(),
                    10,
                    out.as_mut_ptr(),
                    1024,
                    input.as_mut_ptr(),
                    256,
                    &hooks,
                    &mut ctl
                ),
                OMV_FW_OK
            );
            assert_eq!(omv_fw_controls_add_label(ctl, cs!("reads"), 0.0, true, cs!("n")), 0);
            assert_eq!(
                omv_fw_controls_add_range(
                    ctl,
                    cs!("thr"),
                    OMV_FW_CONTROL_SLIDER,
                    0.0,
                    255.0,
                    1.0,
                    10.0,
                    true,
                    core::ptr::null()
                ),
                1
            );
            assert_eq!(omv_fw_controls_add_toggle(ctl, cs!("mirror"), false), 2);
            // Refused choices take none of the slots their option list would use.
            for _ in 0..20 {
                assert_eq!(omv_fw_controls_add_choice(ctl, cs!("bad"), 99, opts.as_ptr(), 1), OMV_FW_ERR_CONTROL);
                let no_name = core::ptr::null();
                assert_eq!(
                    omv_fw_controls_add_choice(ctl, no_name, OMV_FW_CONTROL_RADIO, opts.as_ptr(), 1),
                    OMV_FW_ERR_NULL
                );
            }
            assert_eq!(omv_fw_controls_add_choice(ctl, cs!("pat"), OMV_FW_CONTROL_RADIO, opts.as_ptr(), 1), 3);
            assert_eq!(omv_fw_controls_add_text(ctl, cs!("note"), OMV_FW_CONTROL_LINEEDIT, note.as_mut_ptr(), 16), 4);
            assert_eq!(omv_fw_controls_add_pushbutton(ctl, cs!("go")), 5);
            assert_eq!(
                omv_fw_controls_add_waveform(
                    ctl,
                    cs!("w"),
                    2,
                    0,
                    10,
                    50.0,
                    core::ptr::null(),
                    core::ptr::null(),
                    wave.as_mut_ptr(),
                    64
                ),
                6
            );
            assert_eq!(omv_fw_controls_add_depth(ctl, cs!("d"), 2, 2, 0, 100, depth.as_mut_ptr(), 8), 7);
            assert_eq!(
                omv_fw_controls_add_label(ctl, core::ptr::null(), 0.0, true, core::ptr::null()),
                OMV_FW_ERR_NULL
            );
            assert_eq!(omv_fw_controls_start(ctl), OMV_FW_OK);
            assert_eq!(omv_fw_controls_add_toggle(ctl, cs!("late"), false), OMV_FW_ERR_STATE);
            assert_eq!(omv_fw_controls_find(ctl, cs!("note")), 4);

            let ops = &*omv_fw_controls_ops();
            let user = ctl.cast::<c_void>();
            let n = (ops.size.unwrap())(user) as usize;
            let mut blob = [0u8; 1024];
            assert_eq!((ops.read.unwrap())(user, 0, blob.as_mut_ptr(), n), 0);
            let b = Blob::parse(&blob[..n]).unwrap();
            let kinds: [Option<WidgetKind>; 8] =
                core::array::from_fn(|i| b.iter().nth(i).and_then(|c| c.widget.kind()));
            assert_eq!(kinds[3], Some(WidgetKind::Radio));
            assert_eq!(b.get("reads").unwrap().value, ValueRef::Int(1));
            assert_eq!(b.get("pat").unwrap().value, ValueRef::Text("b"));
            let w = b.get("w").unwrap();
            assert_eq!(w.value, ValueRef::Bytes(&[1, 0, 2, 0, 3, 0, 4, 0]));
            let openmvproto::controls::WidgetRef::Waveform(shape) = w.widget else { panic!() };
            assert_eq!((shape.samples, shape.series, shape.time_us), (2, 2, Some(99)));

            let ups = [
                Update { name: "thr", value: ValueRef::Int(200) },
                Update { name: "mirror", value: ValueRef::Bool(true) },
                Update { name: "pat", value: ValueRef::Text("a") },
                Update { name: "note", value: ValueRef::Text("hey") },
                Update { name: "reads", value: ValueRef::Int(7) },
            ];
            let mut wbuf = [0u8; 128];
            let len = encode_updates(&mut wbuf, &ups).unwrap();
            assert_eq!((ops.write.unwrap())(user, 0, wbuf.as_ptr(), len), 0);
            assert_eq!(&seen.writes[..seen.n], &[1, 2, 3, 4]);
            let (mut v, mut on, mut choice) = (0.0, false, 9usize);
            assert_eq!(omv_fw_controls_get_number(ctl, 1, &mut v), OMV_FW_OK);
            assert_eq!(omv_fw_controls_get_bool(ctl, 2, &mut on), OMV_FW_OK);
            assert_eq!(omv_fw_controls_get_choice(ctl, 3, &mut choice), OMV_FW_OK);
            let (mut p, mut l) = (core::ptr::null(), 0usize);
            assert_eq!(omv_fw_controls_get_text(ctl, 4, &mut p, &mut l), OMV_FW_OK);
            assert_eq!((v, on, choice, core::slice::from_raw_parts(p, l)), (200.0, true, 0, &b"hey"[..]));
            assert_eq!(omv_fw_controls_get_bool(ctl, 1, &mut on), OMV_FW_ERR_CONTROL);
            assert_eq!(omv_fw_controls_get_bool(ctl, 99, &mut on), OMV_FW_ERR_CONTROL);
            // A malformed write answers INVALID (2).
            assert_eq!((ops.write.unwrap())(user, 0, [0x81u8, 0x01].as_ptr(), 2), 2);
        }
    }
}
