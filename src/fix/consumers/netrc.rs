//! `.netrc` (`$NETRC`): requests, pip, curl and git read a host's login from it — and
//! requests lets a `.netrc` entry override an explicit `Authorization` header, so anything
//! left in an entry (a redaction marker included) is sent instead of the real token.
//!
//! The keyring fix takes a machine entry out *whole* (`machine`, `login`, `password`,
//! `account`), into a slot; Hugging Face's clients then get the token from `hfguard exec`
//! and the shell lookups. Entries for other hosts (a private package index) are where their
//! clients expect them: the audit reports them as `info`, the file's permissions are what
//! gets fixed (0600), and they move only when the user asks for it by id.

use super::super::locate::Located;
use super::super::plan::{exec_consumer, name_flag, Edit, Planner};
use crate::finding::Finding;
use std::path::Path;

/// A word of a `.netrc` and where it starts.
fn words(data: &[u8]) -> Vec<(usize, &[u8])> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < data.len() {
        while i < data.len() && data[i].is_ascii_whitespace() {
            i += 1;
        }
        let start = i;
        while i < data.len() && !data[i].is_ascii_whitespace() {
            i += 1;
        }
        if i > start {
            out.push((start, &data[start..i]));
        }
    }
    out
}

/// The entry holding `at`: (start, end, machine, login). A `macdef` body runs to the next
/// blank line.
fn entry_at(data: &[u8], at: usize) -> Option<(usize, usize, String, Option<String>)> {
    let w = words(data);
    let mut starts: Vec<usize> = Vec::new();
    let mut i = 0;
    while i < w.len() {
        match w[i].1 {
            b"machine" | b"default" => starts.push(i),
            b"macdef" => {
                starts.push(i);
                // Skip to the blank line that ends the macro.
                let from = w[i].0;
                let end = memchr::memmem::find(&data[from..], b"\n\n")
                    .map_or(data.len(), |n| from + n + 2);
                while i + 1 < w.len() && w[i + 1].0 < end {
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    let k = starts.iter().rposition(|&s| w[s].0 <= at)?;
    let first = starts[k];
    let last = starts.get(k + 1).copied().unwrap_or(w.len());
    if w[first].1 != b"machine" {
        return None;
    }
    let field = |name: &[u8]| {
        (first..last)
            .find(|&j| w[j].1 == name)
            .and_then(|j| w.get(j + 1))
            .map(|x| String::from_utf8_lossy(x.1).into_owned())
    };
    let machine = field(b"machine")?;
    let start = w[first].0;
    let end = w.get(last).map_or(data.len(), |x| x.0);
    Some((start, end, machine, field(b"login")))
}

/// `start..end` widened to whole lines when nothing else shares them.
fn whole_lines(data: &[u8], start: usize, end: usize) -> (usize, usize) {
    let ls = memchr::memrchr(b'\n', &data[..start]).map_or(0, |i| i + 1);
    let s = if data[ls..start].iter().all(u8::is_ascii_whitespace) {
        ls
    } else {
        start
    };
    (s, end)
}

pub(in crate::fix) fn plan(
    p: &mut Planner,
    f: &Finding,
    path: &Path,
    loc: &Located,
) -> Result<(), String> {
    let data: &[u8] = &p.file(path).data;
    let (start, end, machine, login) = entry_at(data, loc.first().0)
        .ok_or("the secret is not in a machine entry; edit the file by hand")?;
    let (start, end) = whole_lines(data, start, end);
    let want = p.want(
        f,
        format!("netrc:{machine}:{}", login.as_deref().unwrap_or("")),
        Some(machine.clone()),
        exec_consumer(path),
    );
    let name = p.store(&want, &loc.secret);
    p.commit(path, vec![Edit::replace(start, end, Vec::new())], &f.id);
    let cmd = p.command();
    p.note(format!(
        "{} no longer has an entry for {machine}, so requests sends no .netrc password there; the token is in the OS keyring as `{name}`: `{cmd} exec{} -- CMD`.",
        crate::report::display_path(&p.home.dir, path),
        name_flag(&name)
    ));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_go_whole() {
        let d = b"machine api.wandb.ai\n  login user\n  password abc\nmachine huggingface.co login me password hf_x\nmachine pypi.example.org\n login u\n password p\n";
        let at = memchr::memmem::find(d, b"hf_x").unwrap();
        let (s, e, m, l) = entry_at(d, at).unwrap();
        assert_eq!(&d[s..e], b"machine huggingface.co login me password hf_x\n");
        assert_eq!((m.as_str(), l.as_deref()), ("huggingface.co", Some("me")));
        let at = memchr::memmem::find(d, b"abc").unwrap();
        let (s, e, _, _) = entry_at(d, at).unwrap();
        assert_eq!(
            &d[s..e],
            b"machine api.wandb.ai\n  login user\n  password abc\n"
        );
    }
}
