//! Hugging Face's token files (`token`, the staging and legacy ones) and `stored_tokens`.
//!
//! The token leaves the file (a file left empty is removed) and goes to its slot: the token
//! huggingface_hub uses (by its own precedence) to the default slot that `token get`, `exec`
//! and the lookups use, a `stored_tokens` entry to a slot named after its display name.
//! Because huggingface_hub then finds no file, new shells get a lookup block exporting
//! `HF_TOKEN` (and `HUGGING_FACE_HUB_TOKEN`, which releases before 0.20 read) from the
//! keyring, and `hfguard exec` sets both.

use super::super::locate::Located;
use super::super::plan::{exec_consumer, line_bounds, name_flag, Edit, Planner};
use crate::finding::Finding;
use crate::kind::FileKind;
use crate::slots::Want;
use std::path::Path;

/// Which token file this is, for the slot's label.
fn role(p: &Planner, path: &Path, kind: FileKind) -> (&'static str, String) {
    match kind {
        FileKind::HfLegacyToken => ("legacy", "hf:legacy".into()),
        FileKind::HfStagingToken => ("staging", "hf:staging".into()),
        _ if path == p.home.hf_token_path() => {
            ("token-file", format!("hf:file:{}", path.display()))
        }
        // A token file at a place huggingface_hub no longer reads (HF_TOKEN_PATH or HF_HOME
        // moved it): an older token, left behind.
        _ => ("old-token-file", format!("hf:file:{}", path.display())),
    }
}

pub(in crate::fix) fn plan_file(
    p: &mut Planner,
    f: &Finding,
    path: &Path,
    kind: FileKind,
    loc: &Located,
) -> Result<(), String> {
    let (label, identity) = role(p, path, kind);
    let hub = p.is_hub(f);
    let want = Want {
        provider: Some("huggingface".into()),
        identity,
        label: Some(label.into()),
        hub,
        serves: Some(exec_consumer(path)),
    };
    let name = p.store(&want, &loc.secret);
    let edits = loc
        .spans
        .iter()
        .map(|&(s, e)| Edit::replace(s, e, Vec::new()))
        .collect();
    p.commit(path, edits, &f.id);
    if hub {
        p.lookups
            .want(&name, &["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"]);
    }
    let cmd = p.command();
    let flag = name_flag(&name);
    p.note(format!(
        "huggingface_hub will not find a token file any more: new shells look the token up (HF_TOKEN), and `{cmd} exec{flag} -- CMD` runs any program with it (HF_TOKEN and HUGGING_FACE_HUB_TOKEN set)."
    ));
    Ok(())
}

/// The whole `[name]` section of `stored_tokens` around `at`: (start, end).
fn section(data: &[u8], at: usize) -> (usize, usize) {
    let (ls, _) = line_bounds(data, at);
    let mut start = 0;
    let mut pos = 0;
    for l in data[..ls].split_inclusive(|&b| b == b'\n') {
        if l.first() == Some(&b'[') {
            start = pos;
        }
        pos += l.len();
    }
    let mut end = line_bounds(data, at).1;
    while end < data.len() && data[end] != b'[' {
        end = line_bounds(data, end).1;
    }
    (start, end)
}

/// The section's name (`[work]` → `work`).
fn section_name(data: &[u8], start: usize) -> Option<String> {
    let line = data[start..].split(|&b| b == b'\n').next()?;
    let text = String::from_utf8_lossy(line);
    let name = text.trim().strip_prefix('[')?.strip_suffix(']')?;
    Some(name.trim().to_string())
}

pub(in crate::fix) fn plan_stored(
    p: &mut Planner,
    f: &Finding,
    path: &Path,
    loc: &Located,
) -> Result<(), String> {
    let data: &[u8] = &p.file(path).data;
    let (start, end) = section(data, loc.first().0);
    let label = section_name(data, start);
    // An OAuth login's refresh token is a credential of its own, next to its access token.
    let refresh = f.rule.starts_with("hf-oauth-refresh-token");
    let suffix = if refresh { "-refresh" } else { "" };
    let want = Want {
        provider: Some("huggingface".into()),
        identity: format!("hf:stored:{}{suffix}", label.as_deref().unwrap_or("?")),
        label: label.as_ref().map(|l| format!("{l}{suffix}")),
        hub: p.is_hub(f),
        serves: Some(exec_consumer(path)),
    };
    let name = p.store(&want, &loc.secret);
    // The whole section goes: its token, and an OAuth login's refresh token and expiry with
    // it (the journal keeps them, cut out and backed up, for undo).
    p.commit(path, vec![Edit::replace(start, end, Vec::new())], &f.id);
    let cmd = p.command();
    p.note(format!(
        "`hf auth list` and `hf auth switch` no longer see the login{}; its token is in the OS keyring as `{name}`: `{cmd} exec{} -- CMD`.",
        label.map(|l| format!(" [{l}]")).unwrap_or_default(),
        name_flag(&name)
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_section_goes_whole() {
        let d = b"[work]\nhf_token = a\n\n[oauth-me]\nhf_token = b\nrefresh_token = c\nexpires_at = 1\n[x]\nhf_token = d\n";
        let at = d.windows(1).position(|w| w == b"b").unwrap();
        let (s, e) = section(d, at);
        assert_eq!(
            &d[s..e],
            b"[oauth-me]\nhf_token = b\nrefresh_token = c\nexpires_at = 1\n"
        );
        assert_eq!(section_name(d, s).as_deref(), Some("oauth-me"));
    }
}
