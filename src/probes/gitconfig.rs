//! Git configuration files: which key a secret in one is set by (a remote URL, a URL
//! rewrite, an HTTP header), the files a global configuration includes, and
//! `credential.helper = store`, which keeps every credential git is given in plaintext (that
//! matters once a Hugging Face entry sits in the store).

use crate::collect::Collector;
use crate::finding::{Category, Finding, FixKind, Severity};
use crate::kind::FileKind;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The `store` helper lines of a git config text: (1-based line, helper value).
pub fn store_helpers(text: &str) -> Vec<(u64, String)> {
    let mut section = String::new();
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.starts_with('[') {
            section = line
                .trim_start_matches('[')
                .split([']', ' ', '"'])
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            continue;
        }
        if section != "credential" {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim().trim_matches('"');
        if key.trim().eq_ignore_ascii_case("helper")
            && (value == "store" || value.starts_with("store "))
        {
            out.push((i as u64 + 1, value.to_string()));
        }
    }
    out
}

fn global_configs(c: &Collector) -> Vec<PathBuf> {
    vec![
        c.home.dir.join(".gitconfig"),
        c.home.xdg_config().join("git/config"),
    ]
}

/// Reports the `store` helper when a Hugging Face credential is in git's store.
pub fn check_store_helper(c: &Collector) {
    let hf_in_store = c.any_finding(|f| {
        f.rule
            .ends_with(&format!("-in-{}", FileKind::GitCredentials.slug()))
            && f.provider.as_deref() == Some("huggingface")
    });
    if !hf_in_store {
        return;
    }
    for path in global_configs(c) {
        report_helpers(c, &path);
    }
}

fn report_helpers(c: &Collector, path: &Path) {
    let mut buf = Vec::new();
    if !matches!(
        crate::fsread::read_regular(path, 4 << 20, &mut buf),
        Ok(crate::fsread::ReadOutcome::Read { .. })
    ) {
        return;
    }
    let text = String::from_utf8_lossy(&buf);
    for (line, _) in store_helpers(&text) {
        let rule = "git-credential-helper-store".to_string();
        let legacy = Finding::legacy_id(&rule, path.as_os_str().as_bytes(), None, 1);
        c.add_legacy(
            Finding {
                id: Finding::compute_id(&rule, path.as_os_str().as_bytes(), None, 1),
                rule,
                category: Category::Git,
                severity: Severity::Medium,
                provider: Some("huggingface".into()),
                path: Some(path.to_path_buf()),
                line: Some(line),
                variable: None,
                pid: None,
                mode: None,
                secret: None,
                fingerprint: None,
                message: "git's credential.helper is `store`, which writes your Hugging Face token unencrypted to disk: the keyring fix moves the Hugging Face credentials out of the store and sends git to the OS keyring for huggingface.co (the setting stays for other hosts).".into(),
                fixes: vec![FixKind::Keyring],
                ignored: None,
                label: None,
                span: None,
            },
            legacy,
        );
    }
}

/// The git configuration key a byte of a git config file belongs to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GitKey {
    /// `remote.<name>.url` or `pushurl`: the remote's URL.
    RemoteUrl,
    /// `url.<base>.insteadOf` (or `pushInsteadOf`): the section header names the URL git
    /// rewrites matching URLs to, credentials included.
    InsteadOf,
    /// `http.extraHeader` or `http.<url>.extraHeader`: a header git sends with every request.
    ExtraHeader { scoped: bool },
    /// Any other key, as `section.key` (a subsection is never shown: it may hold a URL).
    Other(String),
}

impl GitKey {
    /// The key as the finding's `variable`; none for a remote URL, whose findings name no
    /// variable.
    pub fn variable(&self) -> Option<String> {
        match self {
            GitKey::RemoteUrl => None,
            GitKey::InsteadOf => Some("url.<base>.insteadOf".into()),
            GitKey::ExtraHeader { scoped: false } => Some("http.extraHeader".into()),
            GitKey::ExtraHeader { scoped: true } => Some("http.<url>.extraHeader".into()),
            GitKey::Other(k) => Some(k.clone()),
        }
    }

    /// Why a secret there matters, when it differs from the file kind's reason.
    pub fn why(&self) -> Option<&'static str> {
        match self {
            GitKey::InsteadOf => Some("git rewrites every matching URL to this one and sends the credential with each fetch and push; let a credential helper serve it"),
            GitKey::ExtraHeader { .. } => Some("git sends this header with every request, and anyone who can read the file can replay it; let a credential helper serve the credential (CI checkouts leave one behind unless told not to persist credentials)"),
            _ => None,
        }
    }

    /// Whether hfguard's content fixes may touch the secret: a header is sent as it is, so
    /// a marker in it breaks every fetch, and the keyring fix only knows URLs.
    pub fn fixable(&self) -> bool {
        !matches!(self, GitKey::ExtraHeader { .. })
    }
}

/// The key the byte at `offset` of a git config text belongs to (the last section header
/// before it, and the key on its line), if any.
pub fn key_at(data: &[u8], offset: usize) -> Option<GitKey> {
    let offset = offset.min(data.len());
    let line_start = memchr::memrchr(b'\n', &data[..offset]).map_or(0, |i| i + 1);
    let line_end = memchr::memchr(b'\n', &data[offset..]).map_or(data.len(), |i| offset + i);
    let line = String::from_utf8_lossy(&data[line_start..line_end]);
    let trimmed = line.trim_start();
    // The section in force: the last header that starts a line before this one, or this
    // line's own header (which may also set a key: `[url "…"] insteadOf = …`).
    let (section, rest) = if trimmed.starts_with('[') {
        let close = trimmed.find(']')?;
        (
            parse_header(&trimmed[1..close]),
            trimmed[close + 1..].to_string(),
        )
    } else {
        let before = String::from_utf8_lossy(&data[..line_start]);
        let header = before
            .lines()
            .rev()
            .map(str::trim_start)
            .find(|l| l.starts_with('['))?;
        let close = header.find(']')?;
        (parse_header(&header[1..close]), line.to_string())
    };
    let (name, sub) = section;
    let key = rest
        .trim()
        .split(['=', ' ', '\t'])
        .next()
        .unwrap_or("")
        .to_ascii_lowercase();
    Some(match (name.as_str(), key.as_str()) {
        ("remote", "url" | "pushurl") => GitKey::RemoteUrl,
        ("url", _) => GitKey::InsteadOf,
        ("http", "extraheader") => GitKey::ExtraHeader {
            scoped: sub.is_some(),
        },
        (_, "") => GitKey::Other(name),
        _ => GitKey::Other(format!("{name}.{key}")),
    })
}

/// The files a git config text includes (`[include]` and `[includeIf "…"]` `path = …`), as
/// git resolves them: `~/` from the home, a relative path from the including file's folder.
/// (Whether an `includeIf` condition holds is not evaluated: the file is audited either way.)
pub fn included_files(text: &str, config: &Path, home: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut in_include = false;
    for raw in text.lines() {
        let line = raw.trim();
        if line.starts_with('[') {
            let Some(close) = line.find(']') else {
                in_include = false;
                continue;
            };
            let (name, _) = parse_header(&line[1..close]);
            in_include = name == "include" || name == "includeif";
            continue;
        }
        if !in_include {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        if !key.trim().eq_ignore_ascii_case("path") {
            continue;
        }
        let value = value.trim().trim_matches('"');
        let path = match value.strip_prefix("~/") {
            Some(rest) => home.join(rest),
            None if value.starts_with('/') => PathBuf::from(value),
            None => match config.parent() {
                Some(dir) => dir.join(value),
                None => continue,
            },
        };
        if !value.is_empty() {
            out.push(path);
        }
    }
    out
}

/// `section "sub"` or `section.sub` → (lower-case section, subsection).
fn parse_header(inner: &str) -> (String, Option<String>) {
    let inner = inner.trim();
    if let Some((name, sub)) = inner.split_once(char::is_whitespace) {
        let sub = sub.trim().trim_matches('"');
        return (name.to_ascii_lowercase(), Some(sub.to_string()));
    }
    match inner.split_once('.') {
        Some((name, sub)) => (name.to_ascii_lowercase(), Some(sub.to_string())),
        None => (inner.to_ascii_lowercase(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_of_git_config_lines() {
        let text = "[remote \"origin\"]\n\turl = https://u:SECRET@h/x\n[url \"https://u:SECRET@h/\"]\n\tinsteadOf = https://h/\n[http]\n\textraHeader = AUTHORIZATION: basic SECRET\n[http \"https://h/\"]\n\textraheader = Authorization: Bearer SECRET\n[core]\n\tsshCommand = ssh -i SECRET\n";
        let keys: Vec<Option<GitKey>> = text
            .match_indices("SECRET")
            .map(|(i, _)| key_at(text.as_bytes(), i))
            .collect();
        assert_eq!(
            keys,
            vec![
                Some(GitKey::RemoteUrl),
                Some(GitKey::InsteadOf),
                Some(GitKey::ExtraHeader { scoped: false }),
                Some(GitKey::ExtraHeader { scoped: true }),
                Some(GitKey::Other("core.sshcommand".into())),
            ]
        );
        assert_eq!(key_at(b"no section = SECRET", 13), None);
    }

    #[test]
    fn includes_resolve_like_git() {
        let text = "[include]\n\tpath = ~/.gitconfig.local\n[includeIf \"gitdir:~/work/\"]\n\tpath = work.inc\n[user]\n\tpath = not-an-include\n";
        assert_eq!(
            included_files(text, Path::new("/h/.config/git/config"), Path::new("/h")),
            vec![
                PathBuf::from("/h/.gitconfig.local"),
                PathBuf::from("/h/.config/git/work.inc")
            ]
        );
    }

    #[test]
    fn finds_store_helper_in_credential_section_only() {
        let text = "[user]\n\thelper = store\n[credential]\n\thelper = store --file ~/.x\n[credential \"https://huggingface.co\"]\n\thelper=store\n";
        let h = store_helpers(text);
        assert_eq!(h.iter().map(|x| x.0).collect::<Vec<_>>(), vec![4, 6]);
    }
}
