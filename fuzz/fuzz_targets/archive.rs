//! Any bytes behind a gzip or zip signature (the first byte picks which, or none): the
//! archive readers never panic and stay within their budgets.
#![no_main]

use hfguard::kind::FileKind;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let mut file = match pick % 3 {
        0 => vec![0x1f, 0x8b],
        1 => b"PK\x03\x04".to_vec(),
        _ => Vec::new(),
    };
    file.extend_from_slice(rest);
    let _ = hfguard::audit::scan_bytes(
        std::path::Path::new("/h/a.bin"),
        FileKind::ProjectFile,
        &file,
    );
});
