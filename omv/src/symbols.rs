//! Function names for profiler addresses, from a firmware ELF's symbol table and DWARF
//! (the `addr2line` crate, which reads the file with `object`).

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::Path;

use anyhow::{anyhow, Result};

/// Resolves addresses of one ELF; answers are cached.
pub struct Symbols {
    loader: addr2line::Loader,
    cache: RefCell<HashMap<u64, Option<String>>>,
}

impl Symbols {
    pub fn load(path: &Path) -> Result<Symbols> {
        let loader = addr2line::Loader::new(path)
            .map_err(|e| anyhow!("cannot read the firmware ELF {}: {e}", path.display()))?;
        Ok(Symbols { loader, cache: RefCell::default() })
    }

    /// The function containing `addr` (Thumb bit ignored), demangled; `None` if unknown.
    pub fn name(&self, addr: u64) -> Option<String> {
        let addr = addr & !1;
        self.cache.borrow_mut().entry(addr).or_insert_with(|| self.lookup(addr)).clone()
    }

    fn lookup(&self, addr: u64) -> Option<String> {
        // DWARF knows inlined functions; the outermost frame is the one the profiler timed.
        if let Ok(mut frames) = self.loader.find_frames(addr) {
            let mut last = None;
            while let Ok(Some(f)) = frames.next() {
                if let Some(func) = f.function {
                    if let Ok(name) = func.demangle() {
                        last = Some(name.into_owned());
                    }
                }
            }
            if last.is_some() {
                return last;
            }
        }
        let raw = self.loader.find_symbol(addr)?;
        Some(addr2line::demangle_auto(Cow::Borrowed(raw), None).into_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[inline(never)]
    #[no_mangle]
    pub extern "C" fn omv_symbols_test_marker(x: u32) -> u32 {
        x.wrapping_mul(2654435761).rotate_left(7)
    }

    #[test]
    fn resolves_a_function_of_this_test_binary() {
        let exe = std::env::current_exe().unwrap();
        let syms = Symbols::load(&exe).unwrap();
        // The binary is position independent: find the marker's link-time address in the
        // file's own symbol table by name, then ask for an address inside the function.
        let data = std::fs::read(&exe).unwrap();
        let file = object::File::parse(&*data).unwrap();
        use object::{Object, ObjectSymbol};
        let sym = file.symbols().find(|s| s.name() == Ok("omv_symbols_test_marker")).expect("marker symbol");
        assert_eq!(syms.name(sym.address() + 1).as_deref(), Some("omv_symbols_test_marker"));
        assert!(omv_symbols_test_marker(1) != 0);
        assert!(Symbols::load(Path::new("/nonexistent/firmware.elf")).is_err());
    }
}
