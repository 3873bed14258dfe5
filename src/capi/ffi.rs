//! The boundary: every exported function runs its body through [`guard`] (no panic crosses
//! into C; failures become a status plus a last-error message), and turns raw arguments into
//! references with the checked helpers below (NULL, misaligned or oversized arguments are
//! errors, never dereferenced).

use std::ffi::{c_char, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use super::error::{set_last_error, Fail};
use super::omv_status;

/// Runs `body`, catching panics. Returns `OMV_STATUS_OK`, or the failure's status after
/// recording it as this thread's last error under `function`'s name.
pub(crate) fn guard(function: &str, body: impl FnOnce() -> Result<(), Fail>) -> omv_status {
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(())) => omv_status::Ok,
        Ok(Err(fail)) => {
            set_last_error(function, &fail);
            fail.status
        }
        Err(payload) => {
            let what = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            // Dropping a panic payload can itself panic; keep that inside the boundary too.
            let _ = catch_unwind(AssertUnwindSafe(move || drop(payload)));
            let fail = Fail::new(omv_status::Panic, format!("panic inside the library: {what}"));
            set_last_error(function, &fail);
            omv_status::Panic
        }
    }
}

/// Checks a pointer argument: not NULL and aligned for `T`.
fn check<T>(p: *const T, what: &str) -> Result<(), Fail> {
    if p.is_null() {
        return Err(Fail::null(what));
    }
    if !p.is_aligned() {
        return Err(Fail::invalid(format!("`{what}` is not aligned for its type")));
    }
    Ok(())
}

/// A shared reference from a pointer argument.
///
/// # Safety
/// If non-NULL and aligned, `p` must point to a valid `T` that stays valid and unmodified by
/// others for `'a`.
pub(crate) unsafe fn arg_ref<'a, T>(p: *const T, what: &str) -> Result<&'a T, Fail> {
    check(p, what)?;
    // SAFETY: non-NULL and aligned (checked); validity is the caller's contract.
    Ok(unsafe { &*p })
}

/// An out-pointer, checked now and written later with [`Out::set`].
#[derive(Debug)]
pub(crate) struct Out<T>(*mut T);

impl<T> Out<T> {
    /// # Safety
    /// If non-NULL and aligned, `p` must be valid for writing a `T` until [`Out::set`] is done.
    pub unsafe fn new(p: *mut T, what: &str) -> Result<Out<T>, Fail> {
        check(p, what)?;
        Ok(Out(p))
    }

    /// Writes the result. `T` is plain data here (numbers, bools, pointers, `repr(C)`
    /// structs of those), so the old value is overwritten without being dropped.
    pub fn set(self, v: T) {
        // SAFETY: checked non-NULL and aligned in `new`; writable by `new`'s contract.
        unsafe { self.0.write(v) }
    }

    /// [`Out::set`] as the successful end of a call body.
    pub fn put(self, v: T) -> Result<(), Fail> {
        self.set(v);
        Ok(())
    }
}

/// An optional out-pointer: NULL means "not wanted".
pub(crate) unsafe fn opt_out<T>(p: *mut T, what: &str) -> Result<Option<Out<T>>, Fail> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: forwarded contract.
    unsafe { Out::new(p, what) }.map(Some)
}

fn check_len(len: usize, what: &str) -> Result<(), Fail> {
    if len > isize::MAX as usize {
        return Err(Fail::invalid(format!("`{what}` length {len} is too large")));
    }
    Ok(())
}

/// A byte slice argument; NULL is allowed when `len` is 0.
///
/// # Safety
/// If non-NULL, `p` must point to `len` readable bytes that stay valid and unmodified for `'a`.
pub(crate) unsafe fn arg_bytes<'a>(p: *const u8, len: usize, what: &str) -> Result<&'a [u8], Fail> {
    if len == 0 {
        return Ok(&[]);
    }
    if p.is_null() {
        return Err(Fail::null(what));
    }
    check_len(len, what)?;
    // SAFETY: non-NULL, u8 needs no alignment, length bounded; validity is the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts(p, len) })
}

/// A mutable byte buffer argument; NULL is allowed when `len` is 0.
///
/// # Safety
/// If non-NULL, `p` must point to `len` writable bytes that nothing else accesses for `'a`.
pub(crate) unsafe fn arg_bytes_mut<'a>(p: *mut u8, len: usize, what: &str) -> Result<&'a mut [u8], Fail> {
    if len == 0 {
        return Ok(&mut []);
    }
    if p.is_null() {
        return Err(Fail::null(what));
    }
    check_len(len, what)?;
    // SAFETY: non-NULL, u8 needs no alignment, length bounded; exclusivity is the caller's contract.
    Ok(unsafe { std::slice::from_raw_parts_mut(p, len) })
}

/// A caller array of `T` with room for `cap` elements; NULL is allowed when `cap` is 0.
///
/// # Safety
/// If non-NULL, `p` must point to `cap` writable `T`s that nothing else accesses for `'a`.
/// `T` must be plain data (any bit pattern the caller left there is only overwritten).
pub(crate) unsafe fn arg_array_out<'a, T>(p: *mut T, cap: usize, what: &str) -> Result<&'a mut [T], Fail> {
    if cap == 0 {
        return Ok(&mut []);
    }
    check(p, what)?;
    if cap.checked_mul(std::mem::size_of::<T>()).is_none_or(|b| b > isize::MAX as usize) {
        return Err(Fail::invalid(format!("`{what}` capacity {cap} is too large")));
    }
    // SAFETY: non-NULL, aligned, size bounded; the elements are plain data the caller owns
    // (the C side initialises or zeroes them; we only overwrite them).
    Ok(unsafe { std::slice::from_raw_parts_mut(p, cap) })
}

/// A NUL-terminated UTF-8 string argument.
///
/// # Safety
/// If non-NULL, `p` must point to a NUL-terminated string valid for `'a`.
pub(crate) unsafe fn arg_str<'a>(p: *const c_char, what: &str) -> Result<&'a str, Fail> {
    if p.is_null() {
        return Err(Fail::null(what));
    }
    // SAFETY: non-NULL; NUL termination and lifetime are the caller's contract.
    let s = unsafe { CStr::from_ptr(p) };
    s.to_str().map_err(|_| Fail::invalid(format!("`{what}` is not valid UTF-8")))
}

/// Checks the `struct_size` field C callers set from `sizeof`: a mismatch means the caller
/// was compiled against another version of the header (or forgot to initialise the struct).
pub(crate) fn check_struct_size(got: usize, want: usize, what: &str) -> Result<(), Fail> {
    if got != want {
        return Err(Fail::invalid(format!(
            "`{what}.struct_size` is {got}, this library expects {want} (initialise it with its *_default function)"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_become_a_status() {
        let s = guard("t", || panic!("boom"));
        assert_eq!(s, omv_status::Panic);
        let mut b = [0u8; 128];
        let (n, _) = super::super::error::copy_last_error(&mut b);
        let msg = std::str::from_utf8(&b[..n]).unwrap();
        assert!(msg.contains("boom") && msg.contains("OMV_STATUS_PANIC"), "{msg}");
    }

    #[test]
    fn null_and_misaligned_arguments_are_refused() {
        // SAFETY: NULL and a misaligned pointer are refused before any dereference.
        unsafe {
            assert_eq!(arg_ref::<u32>(std::ptr::null(), "x").unwrap_err().status, omv_status::NullArgument);
            let word = [0u32; 2];
            let odd = (word.as_ptr() as *const u8).wrapping_add(1) as *const u32;
            assert_eq!(arg_ref(odd, "x").unwrap_err().status, omv_status::InvalidArgument);
            assert!(arg_bytes(std::ptr::null(), 0, "x").unwrap().is_empty());
            assert_eq!(arg_bytes(std::ptr::null(), 1, "x").unwrap_err().status, omv_status::NullArgument);
            assert_eq!(arg_str(std::ptr::null(), "x").unwrap_err().status, omv_status::NullArgument);
            assert_eq!(arg_str(b"\xff\0".as_ptr().cast(), "x").unwrap_err().status, omv_status::InvalidArgument);
        }
    }
}
