//! The preview of a plan for people: a unified diff of every rewritten text file (secrets
//! shown redacted, every line one line of output with its control characters escaped), a
//! count for a binary file (never its bytes), every mode change, removal and keyring entry.

use super::model::{Change, Plan};
use crate::report::display_path;
use crate::rules;
use std::fmt::Write;

/// `data` with every secret replaced by its redacted form. The search runs over the whole
/// buffer, not line by line: a `.netrc` password is only a password next to its `machine`.
pub fn redact_all(data: &[u8]) -> Vec<u8> {
    redact_known(data, &[])
}

/// [`redact_all`], and the `known` spans too (secrets found by where they are).
fn redact_known(data: &[u8], known: &[(usize, usize)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len());
    let mut pos = 0;
    for (s, e) in super::journal::secret_spans(data, known) {
        let text = String::from_utf8_lossy(&data[s..e]);
        let prefix = rules::builtin().prefix_of(&text);
        out.extend_from_slice(&data[pos..s]);
        out.extend_from_slice(crate::secret::redact_str(&text, prefix).as_bytes());
        pos = e;
    }
    out.extend_from_slice(&data[pos..]);
    out
}

/// Line `line` (1-based) of a file's content, redacted and cut to 200 characters: the
/// dashboard's view of where a secret is.
pub fn context_line(data: &[u8], line: u64) -> Option<String> {
    shown_line(&redact_all(data), line)
}

/// Line `line` (1-based) of a buffer [`redact_all`] already redacted, cut to 200 characters
/// (the dashboard redacts a file once and shows many of its lines).
pub fn shown_line(shown: &[u8], line: u64) -> Option<String> {
    let l = shown
        .split(|&b| b == b'\n')
        .nth(line.checked_sub(1)? as usize)?;
    let mut text = show(l);
    if text.chars().count() > 200 {
        text = text.chars().take(199).collect::<String>() + "…";
    }
    Some(text)
}

/// A line of a redacted buffer, for display: one line, whatever bytes it holds (control
/// characters escaped, bytes that are not UTF-8 as `\xNN`).
fn show(line: &[u8]) -> String {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    crate::term::safe_bytes(line)
}

fn lines(data: &[u8]) -> Vec<&[u8]> {
    data.split_inclusive(|&b| b == b'\n').collect()
}

/// One hunk of a line diff: old start, old lines, new start, new lines.
type Hunk<'a> = (usize, Vec<&'a [u8]>, usize, Vec<&'a [u8]>);

/// Hunks of a line diff, greedy with a look-ahead window (the changes hfguard makes are
/// small and local).
fn hunks<'a>(old: &[&'a [u8]], new: &[&'a [u8]]) -> Vec<Hunk<'a>> {
    const WINDOW: usize = 200;
    let (mut i, mut j) = (0, 0);
    let mut out = Vec::new();
    while i < old.len() || j < new.len() {
        if i < old.len() && j < new.len() && old[i] == new[j] {
            i += 1;
            j += 1;
            continue;
        }
        // Find the nearest resynchronisation point.
        let mut best = None;
        'search: for k in 1..=WINDOW * 2 {
            for a in 0..=k.min(WINDOW) {
                let b = k - a;
                if b > WINDOW {
                    continue;
                }
                let (oi, nj) = (i + a, j + b);
                if oi <= old.len()
                    && nj <= new.len()
                    && (oi == old.len() && nj == new.len()
                        || (oi < old.len() && nj < new.len() && old[oi] == new[nj]))
                {
                    best = Some((oi, nj));
                    break 'search;
                }
            }
        }
        let (oi, nj) = best.unwrap_or((old.len(), new.len()));
        out.push((i, old[i..oi].to_vec(), j, new[j..nj].to_vec()));
        i = oi;
        j = nj;
    }
    out
}

/// Whether bytes are a binary file's (NUL in the head, or not UTF-8): never shown as text.
fn is_binary(data: &[u8]) -> bool {
    memchr::memchr(0, &data[..data.len().min(8192)]).is_some() || std::str::from_utf8(data).is_err()
}

/// How many secrets of `before` are no longer in `after`, by where they start.
fn secrets_replaced(before: &[u8], after: &[u8]) -> usize {
    let starts = |data: &[u8]| {
        let mut m = Vec::new();
        rules::builtin().find_everywhere(data, &mut m);
        m.into_iter()
            .map(|m| (m.offset, m.secret.fingerprint()))
            .collect::<std::collections::BTreeSet<_>>()
    };
    starts(before).difference(&starts(after)).count()
}

/// The whole plan, as the user reviews it before saying yes: what changes for the user
/// first, then every keyring step and file change.
pub fn preview(plan: &Plan) -> String {
    let home = &plan.home;
    let mut out = String::new();
    // Names, notes and reasons hold paths and slot names from the home: one line each.
    let one = |s: &str| crate::term::safe_line(s).into_owned();
    for n in &plan.notes {
        let _ = writeln!(out, "note:    {}", one(n));
    }
    for t in &plan.tokens {
        let name = one(&t.name);
        let line = match &t.replaces {
            Some(r) => format!(
                "keyring: replace `{}`: {} → {} (the old value is kept for undo)",
                name,
                r.redacted,
                t.secret.redacted()
            ),
            None if t.held => {
                format!("keyring: `{}` already holds {}", name, t.secret.redacted())
            }
            None => format!("keyring: store {} as `{name}`", t.secret.redacted()),
        };
        let _ = writeln!(out, "{line}");
    }
    for fc in &plan.files {
        let p = display_path(home, &fc.path);
        match &fc.change {
            Change::Chmod { from, to } => {
                let _ = writeln!(out, "chmod:   {p}  {from:04o} → {to:04o}");
            }
            Change::Remove { .. } => {
                let _ = writeln!(out, "remove:  {p}  (its secret is kept in the OS keyring)");
            }
            Change::Mkdir { mode } => {
                let _ = writeln!(out, "mkdir:   {p}  (mode {mode:04o})");
            }
            Change::Create { after, mode } if is_binary(after) => {
                let _ = writeln!(
                    out,
                    "create:  {p}  (mode {mode:04o}, a program of {} bytes)",
                    after.len()
                );
            }
            Change::Create { after, mode } => {
                let _ = writeln!(out, "create:  {p}  (mode {mode:04o})");
                let _ = writeln!(out, "--- /dev/null\n+++ {p}");
                let after = redact_all(after);
                for l in lines(&after) {
                    let _ = writeln!(out, "+{}", show(l));
                }
            }
            Change::Rewrite {
                original, after, ..
            } if is_binary(original)
                || is_binary(after)
                || crate::probes::files::is_text_container(&fc.path, original) =>
            {
                let n = match secrets_replaced(original, after) {
                    0 => fc.secrets.len(),
                    n => n,
                };
                let layout = if original.len() == after.len() {
                    ", layout kept"
                } else {
                    ""
                };
                let _ = writeln!(
                    out,
                    "rewrite: {p}  (binary file: {n} secret{} replaced in place{layout})",
                    if n == 1 { "" } else { "s" }
                );
            }
            Change::Rewrite {
                original, after, ..
            } => {
                let original = redact_known(original, &fc.secrets);
                let _ = writeln!(out, "rewrite: {p}");
                let _ = writeln!(out, "--- {p}\n+++ {p} (after hfguard)");
                // Redacted as whole files first; the same secret gives the same text on both
                // sides, so the diff is the same.
                let after = redact_all(after);
                let (old, new) = (lines(&original), lines(&after));
                for (os, ol, ns, nl) in hunks(&old, &new) {
                    let _ = writeln!(
                        out,
                        "@@ -{},{} +{},{} @@",
                        os + 1,
                        ol.len(),
                        ns + 1,
                        nl.len()
                    );
                    for l in ol {
                        let _ = writeln!(out, "-{}", show(l));
                    }
                    for l in nl {
                        let _ = writeln!(out, "+{}", show(l));
                    }
                }
            }
        }
    }
    for (id, why) in &plan.refused {
        match plan.places.get(id) {
            Some(place) => {
                let _ = writeln!(out, "skip:    {} ({id}): {}", one(place), one(why));
            }
            None => {
                let _ = writeln!(out, "skip:    {id}: {}", one(why));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hunks_of_local_changes() {
        let old: Vec<&[u8]> = vec![b"a\n", b"b\n", b"c\n", b"d\n"];
        let new: Vec<&[u8]> = vec![b"a\n", b"# note\n", b"B\n", b"c\n", b"d\n"];
        let h = hunks(&old, &new);
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].0, 1);
        assert_eq!(h[0].1, vec![b"b\n" as &[u8]]);
        assert_eq!(h[0].3, vec![b"# note\n" as &[u8], b"B\n"]);
    }

    #[test]
    fn displayed_lines_are_redacted() {
        let l = context_line(
            b"export HF_TOKEN=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\n",
            1,
        );
        assert_eq!(l.as_deref(), Some("export HF_TOKEN=hf_…KjHg"));
        // A .netrc password is a password only next to its `machine` line.
        let netrc = b"machine example.org\n  login me\n  password Passw0rdXq9Z7kLm\n";
        let l = context_line(netrc, 3).unwrap();
        assert!(!l.contains("Passw0rdXq9Z7kLm"), "{l}");
    }
}
