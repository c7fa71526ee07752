//! Any bytes, as any kind of file the audit reads (the first byte picks the kind): the
//! audit never panics, always ends, and every text field it produces is one inert line.
#![no_main]

use hfguard::kind::FileKind;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let kind = FileKind::ALL[pick as usize % FileKind::ALL.len()];
    let r = hfguard::audit::scan_bytes(std::path::Path::new("/h/f"), kind, rest);
    for f in &r.findings {
        for field in [Some(&f.message), f.variable.as_ref(), f.secret.as_ref()]
            .into_iter()
            .flatten()
        {
            assert!(
                !field.chars().any(|c| c.is_control() && c != '\t'),
                "{field:?}"
            );
        }
    }
});
