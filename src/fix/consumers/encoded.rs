//! Secrets stored base64-encoded (a Kubernetes `Secret`'s `data:` value, a Docker `auth`):
//! the run is decoded, the secret replaced by a marker inside it, and the run encoded again
//! the same way, so the file keeps its layout (valid YAML, valid JSON) and only that value
//! changes.

use super::super::locate::Located;
use super::super::plan::{exec_consumer, marker, Edit, Planner};
use crate::finding::Finding;
use base64::Engine;
use std::path::Path;

/// The base64 flavours a run may be written in, tried in this order.
fn engines(run: &str) -> Vec<&'static base64::engine::GeneralPurpose> {
    use base64::engine::general_purpose::*;
    let url = run.contains(['-', '_']);
    // A run whose length is a multiple of four may have been written either way: the usual
    // padded form (Kubernetes, Docker) first.
    let padded = run.ends_with('=') || run.len() % 4 == 0;
    match (url, padded) {
        (false, true) => vec![&STANDARD, &STANDARD_NO_PAD],
        (false, false) => vec![&STANDARD_NO_PAD, &STANDARD],
        (true, true) => vec![&URL_SAFE, &URL_SAFE_NO_PAD],
        (true, false) => vec![&URL_SAFE_NO_PAD, &URL_SAFE],
    }
}

/// `run` (base64) with `secret` replaced by `with` in its decoded text, encoded the same way.
pub fn reencode(run: &str, secret: &str, with: &str) -> Option<String> {
    for engine in engines(run) {
        let Ok(decoded) = engine.decode(run) else {
            continue;
        };
        // Only a run that encodes back to exactly itself is understood.
        if engine.encode(&decoded) != run {
            continue;
        }
        let at = memchr::memmem::find(&decoded, secret.as_bytes())?;
        let mut out = decoded[..at].to_vec();
        out.extend_from_slice(with.as_bytes());
        out.extend_from_slice(&decoded[at + secret.len()..]);
        return Some(engine.encode(out));
    }
    None
}

pub(in crate::fix) fn plan(
    p: &mut Planner,
    f: &Finding,
    path: &Path,
    loc: &Located,
    keyring: bool,
) -> Result<(), String> {
    let (s, e) = loc.encoded.expect("an encoded secret");
    let data: &[u8] = &p.file(path).data;
    let run = std::str::from_utf8(&data[s..e]).map_err(|_| "the encoded value is not text")?;
    let new = reencode(run, loc.secret.expose(), &marker(&loc.secret))
        .ok_or("the secret is encoded in a way hfguard cannot write back; edit the file by hand")?;
    let mut edits = vec![Edit::replace(s, e, new.into_bytes())];
    if keyring {
        let want = p.want(
            f,
            format!("file:{}", path.display()),
            path.file_stem().map(|n| n.to_string_lossy().into_owned()),
            exec_consumer(path),
        );
        let name = p.store(&want, &loc.secret);
        p.note(format!(
            "{} kept the secret base64-encoded; it is now a marker there, and the secret is in the OS keyring as `{name}`. A program that needs it gets it from `hfguard exec --name {name} -- CMD` (Docker: log in again, ideally with a credential store).",
            crate::report::display_path(&p.home.dir, path)
        ));
    }
    // A marker's base64 never looks like the secret's: nothing else on the line changes.
    edits.dedup_by_key(|e| e.start);
    p.commit(path, edits, &f.id);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_are_written_back_in_their_own_encoding() {
        let b64 = base64::engine::general_purpose::STANDARD;
        let run = b64.encode("user: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");
        let new = reencode(&run, "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", "[x]").unwrap();
        assert_eq!(b64.decode(new).unwrap(), b"user:[x]");
        let unpadded = base64::engine::general_purpose::STANDARD_NO_PAD.encode("ab:hf_toke");
        let new = reencode(&unpadded, "hf_toke", "M").unwrap();
        assert!(!new.ends_with('='));
        assert!(reencode("not base64!", "x", "y").is_none());
    }
}
