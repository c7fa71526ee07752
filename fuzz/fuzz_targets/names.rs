//! Any bytes as a file name: shown on one inert line, a token in it masked.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::os::unix::ffi::OsStrExt;

fuzz_target!(|data: &[u8]| {
    let p = std::path::Path::new(std::ffi::OsStr::from_bytes(data));
    let shown = hfguard::redact::show_path(p);
    assert!(
        !shown.chars().any(|c| c.is_control() && c != '\t'),
        "{shown:?}"
    );
    let _ = hfguard::term::text(&String::from_utf8_lossy(data));
});
