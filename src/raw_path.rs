//! Paths in JSON (the journal, the slot index), byte for byte: a string when the path is
//! UTF-8 — as every file written before this existed — and `{"bytes": BASE64}` when it is
//! not, so that no file name stops a fix. Use with `#[serde(with = "crate::raw_path")]`.

use base64::Engine;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::PathBuf;

/// The two forms in JSON.
#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum Repr {
    Text(String),
    Raw { bytes: String },
}

/// A path as a string, or as `{"bytes": BASE64}` when it is not UTF-8.
pub fn serialize<S: Serializer>(p: &std::path::Path, s: S) -> Result<S::Ok, S::Error> {
    match p.to_str() {
        Some(t) => Repr::Text(t.to_string()),
        None => Repr::Raw {
            bytes: base64::engine::general_purpose::STANDARD.encode(p.as_os_str().as_bytes()),
        },
    }
    .serialize(s)
}

/// Either form back to the path, byte for byte.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<PathBuf, D::Error> {
    match Repr::deserialize(d)? {
        Repr::Text(t) => Ok(PathBuf::from(t)),
        Repr::Raw { bytes } => base64::engine::general_purpose::STANDARD
            .decode(bytes)
            .map(|b| PathBuf::from(std::ffi::OsString::from_vec(b)))
            .map_err(serde::de::Error::custom),
    }
}
