//! Any text as hfguard's configuration and as a git configuration: parsed or refused,
//! never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = toml::from_str::<hfguard::config::Config>(&text);
    let _ = hfguard::probes::gitconfig::store_helpers(&text);
});
