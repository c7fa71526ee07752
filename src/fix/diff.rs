//! The preview of a plan for people: a unified diff of every rewritten file (secrets shown
//! redacted), every mode change, removal and keyring entry.

use super::plan::{Change, Plan};
use crate::report::display_path;
use crate::rules;
use std::fmt::Write;

/// A line for display: every secret in it replaced by its redacted form.
pub fn redact_line(line: &[u8]) -> String {
    let mut matches = Vec::new();
    rules::builtin().find_everywhere(line, &mut matches);
    matches.sort_by_key(|m| m.offset);
    let mut out = Vec::new();
    let mut pos = 0;
    for m in &matches {
        let s = m.offset;
        if s < pos {
            continue;
        }
        let e = if line[s..].starts_with(m.secret.expose().as_bytes()) {
            s + m.secret.expose().len()
        } else {
            line[s..]
                .iter()
                .position(|b| !(b.is_ascii_alphanumeric() || b"+/=-_".contains(b)))
                .map_or(line.len(), |i| s + i)
        };
        out.extend_from_slice(&line[pos..s]);
        out.extend_from_slice(m.secret.redacted().as_bytes());
        pos = e;
    }
    out.extend_from_slice(&line[pos..]);
    String::from_utf8_lossy(&out)
        .trim_end_matches(['\n', '\r'])
        .to_string()
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

/// The whole plan, as the user reviews it before saying yes.
pub fn preview(plan: &Plan) -> String {
    let home = &plan.home;
    let mut out = String::new();
    for t in &plan.tokens {
        let _ = writeln!(
            out,
            "keyring: store {} as `{}`",
            t.secret.redacted(),
            t.name
        );
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
            Change::Create { after, mode } => {
                let _ = writeln!(out, "create:  {p}  (mode {mode:04o})");
                let _ = writeln!(out, "--- /dev/null\n+++ {p}");
                for l in lines(after) {
                    let _ = writeln!(out, "+{}", redact_line(l));
                }
            }
            Change::Rewrite {
                original, after, ..
            } => {
                let _ = writeln!(out, "rewrite: {p}");
                let _ = writeln!(out, "--- {p}\n+++ {p} (after hfguard)");
                let (old, new) = (lines(original), lines(after));
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
                        let _ = writeln!(out, "-{}", redact_line(l));
                    }
                    for l in nl {
                        let _ = writeln!(out, "+{}", redact_line(l));
                    }
                }
            }
        }
    }
    for (id, why) in &plan.refused {
        let _ = writeln!(out, "skip:    {id}: {why}");
    }
    for n in &plan.notes {
        let _ = writeln!(out, "note:    {n}");
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
        let l = redact_line(b"export HF_TOKEN=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\n");
        assert_eq!(l, "export HF_TOKEN=hf_…KjHg");
    }
}
