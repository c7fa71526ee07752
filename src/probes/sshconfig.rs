//! What an SSH client configuration points to: the private keys its `IdentityFile` lines
//! name and the files its `Include` lines pull in, resolved as `ssh` resolves them
//! (ssh_config(5)): `~` and `%d` are the home, `${HOME}` too; an `Include` path that is not
//! absolute is relative to `~/.ssh`, and may hold `*` and `?` wildcards.

use std::path::{Path, PathBuf};

/// The files an SSH config text points to.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Pointed {
    pub identity_files: Vec<PathBuf>,
    pub includes: Vec<PathBuf>,
}

/// Reads the `IdentityFile` and `Include` lines of `text` (keywords in any case, `=` or
/// spaces before the arguments, quotes allowed). A path with a token hfguard cannot know
/// (`%h`, `%r`, `${OTHER}`) or a relative identity file is left out.
pub fn pointed(text: &str, home: &Path) -> Pointed {
    let mut out = Pointed::default();
    for raw in text.lines() {
        let line = raw.trim();
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let split = line
            .find(|c: char| c.is_whitespace() || c == '=')
            .unwrap_or(line.len());
        let (keyword, rest) = line.split_at(split);
        let args = rest.trim_start_matches(|c: char| c.is_whitespace() || c == '=');
        if keyword.eq_ignore_ascii_case("IdentityFile") {
            if let Some(p) = words(args).next().and_then(|w| expand(&w, home)) {
                if p.is_absolute() {
                    out.identity_files.push(p);
                }
            }
        } else if keyword.eq_ignore_ascii_case("Include") {
            for w in words(args) {
                let Some(p) = expand(&w, home) else { continue };
                let p = if p.is_absolute() {
                    p
                } else {
                    home.join(".ssh").join(p)
                };
                out.includes.extend(glob(&p));
            }
        }
    }
    out
}

/// Arguments, with double quotes grouping.
fn words(args: &str) -> impl Iterator<Item = String> + '_ {
    let mut rest = args.trim();
    std::iter::from_fn(move || {
        rest = rest.trim_start();
        if rest.is_empty() || rest.starts_with('#') {
            return None;
        }
        let (word, next) = match rest.strip_prefix('"') {
            Some(q) => {
                let end = q.find('"').unwrap_or(q.len());
                (&q[..end], q.get(end + 1..).unwrap_or(""))
            }
            None => {
                let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
                (&rest[..end], &rest[end..])
            }
        };
        rest = next;
        Some(word.to_string())
    })
}

/// `~`, `%d`, `${HOME}` and `%%`; `None` for any other token.
fn expand(word: &str, home: &Path) -> Option<PathBuf> {
    let home_s = home.to_string_lossy();
    let mut s = word.replace("${HOME}", &home_s).replace("%d", &home_s);
    if let Some(rest) = s.strip_prefix("~/") {
        s = format!("{home_s}/{rest}");
    } else if s == "~" {
        s = home_s.to_string();
    }
    let without_escapes = s.replace("%%", "");
    if without_escapes.contains('%') || without_escapes.contains("${") || s.starts_with('~') {
        return None;
    }
    Some(PathBuf::from(s.replace("%%", "%")))
}

/// The files a path with `*`/`?` in its last component names (in sorted order); the path
/// itself when it has none.
fn glob(p: &Path) -> Vec<PathBuf> {
    let Some(name) = p.file_name().map(|n| n.to_string_lossy().into_owned()) else {
        return Vec::new();
    };
    if !name.contains(['*', '?']) {
        return vec![p.to_path_buf()];
    }
    let Some(dir) = p.parent() else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .filter(|e| wildcard(&name, &e.file_name().to_string_lossy()))
                .map(|e| e.path())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// `*` and `?` matching, as ssh's glob(3) does for a file name.
fn wildcard(pattern: &str, name: &str) -> bool {
    fn m(p: &[u8], n: &[u8]) -> bool {
        match (p.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) => m(&p[1..], n) || (!n.is_empty() && m(p, &n[1..])),
            (Some(b'?'), Some(_)) => m(&p[1..], &n[1..]),
            (Some(a), Some(b)) if a == b => m(&p[1..], &n[1..]),
            _ => false,
        }
    }
    !name.starts_with('.') && m(pattern.as_bytes(), name.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_files_and_includes_resolve_like_ssh() {
        let t = tempfile::tempdir().unwrap();
        let home = t.path();
        std::fs::create_dir_all(home.join(".ssh/config.d")).unwrap();
        for f in ["work", "lab", ".hidden"] {
            std::fs::write(home.join(".ssh/config.d").join(f), "").unwrap();
        }
        let text = "Host gpu\n  IdentityFile ~/.ssh/id_gpu\n  identityfile=\"%d/keys/lab key\"\n  IdentityFile %d/.ssh/%h\n  IdentityFile relative/key\nInclude config.d/* /etc/ssh/extra\n# IdentityFile ~/commented\n";
        let p = pointed(text, home);
        assert_eq!(
            p.identity_files,
            [home.join(".ssh/id_gpu"), home.join("keys/lab key")]
        );
        assert_eq!(
            p.includes,
            [
                home.join(".ssh/config.d/lab"),
                home.join(".ssh/config.d/work"),
                PathBuf::from("/etc/ssh/extra")
            ]
        );
    }
}
