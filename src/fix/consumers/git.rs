//! git: `~/.git-credentials` lines and credentials in remote URLs.
//!
//! git's credential helper (`hfguard git-credential --name SLOT`) serves each credential
//! from its slot. A line of the global plaintext store is served by a section of the global
//! config (`[credential "https://huggingface.co"]`, with the user name the line carried; a
//! second account for the same host gets its own `[credential "https://bob@huggingface.co"]`);
//! a token from one repository's remote URL is served by a section of *that repository's*
//! `.git/config`, which resets the helper list first, so each repository keeps its account
//! and every other repository keeps the global one. Where git's `store` helper is in force
//! for the host, the section clears the list (else git would write the token back) and lists
//! the user's other helpers again.

use super::super::locate::Located;
use super::super::plan::{line_bounds, Edit, Planner};
use crate::finding::Finding;
use crate::fsread;
use crate::home::Home;
use crate::kind::FileKind;
use crate::secret::Secret;
use crate::slots::Consumer;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// One `[credential "…"]` section to add.
struct Section {
    /// `scheme://host[:port]`, or `scheme://user@host[:port]` for a second account.
    url: String,
    user: Option<String>,
    slot: String,
    /// In one repository's own config: always clears the inherited helpers.
    local: bool,
}

/// The helper sections a plan adds, by config file.
#[derive(Default)]
pub struct Wiring {
    sections: BTreeMap<PathBuf, Vec<Section>>,
    /// A `~/.git-credentials` line is fixed: git's plaintext store is in use somewhere.
    store_in_use: bool,
}

fn quote(v: &str) -> String {
    v.replace('\\', "\\\\").replace('"', "\\\"")
}

/// The text of the section headed `header` in a git config, if there is one.
fn section_text<'t>(text: &'t str, header: &str) -> Option<&'t str> {
    let at = text.find(header)?;
    let rest = &text[at..];
    Some(&rest[..rest[1..].find("\n[").map_or(rest.len(), |n| n + 2)])
}

/// The global git config hfguard adds its helpers to: `~/.gitconfig`, or the XDG one when
/// only that exists.
fn global_config(p: &Planner) -> PathBuf {
    let home_cfg = p.home.dir.join(".gitconfig");
    let xdg_cfg = p.home.xdg_config().join("git/config");
    if !home_cfg.exists() && xdg_cfg.exists() {
        xdg_cfg
    } else {
        home_cfg
    }
}

/// A user name git can be told in a config value: no control character (a `%0A` in a URL
/// would become a raw newline in `~/.gitconfig`, and git would reject the whole file).
fn check_user(user: &Option<String>) -> Result<(), String> {
    match user {
        Some(u) if u.chars().any(char::is_control) => Err(
            "the user name in the URL holds a control character (such as an encoded newline), which git's config cannot carry: fix the URL by hand".into(),
        ),
        _ => Ok(()),
    }
}

/// Checks that git can be pointed at slot `slot` for `url` in `config`: the reason why not,
/// for the user. `Ok(true)`: a section of hfguard's for this slot is there already.
fn check_config(
    p: &mut Planner,
    config: &Path,
    header: &str,
    slot: &str,
    local: bool,
) -> Result<bool, String> {
    let shown = crate::report::display_path(&p.home.dir, config);
    if matches!(fsread::lstat(config), Ok(fsread::Entry::Symlink)) {
        return Err(format!("{shown} is a symlink, which hfguard does not rewrite, so git could not reach the keyring: move the secret by hand"));
    }
    if !config.exists() {
        return Ok(false);
    }
    let kind = if local {
        FileKind::GitRemote
    } else {
        FileKind::GitConfig
    };
    let st = p.load(config, kind)?;
    let text = String::from_utf8_lossy(&st.data);
    match section_text(&text, header) {
        Some(s) if s.contains(&format!("git-credential --name {slot}\"")) => Ok(true),
        Some(_) => Err(format!("git already has settings for {} in {shown}, which hfguard does not change: move the secret by hand", header.trim_start_matches("[credential \"").trim_end_matches("\"]"))),
        None => Ok(false),
    }
}

/// Plans a section for `url`, unless one for the same place is planned or there.
fn want_section(p: &mut Planner, config: &Path, section: Section) -> Result<(), String> {
    let header = format!("[credential \"{}\"]", section.url);
    if let Some(other) = p
        .git
        .sections
        .get(config)
        .and_then(|v| v.iter().find(|s| s.url == section.url))
    {
        if other.slot != section.slot {
            return Err(format!("another credential for {} in this fix already goes to the keyring, and git asks one helper per account: fix this one on its own, by hand", section.url));
        }
        return Ok(());
    }
    if check_config(p, config, &header, &section.slot, section.local)? {
        return Ok(());
    }
    p.git
        .sections
        .entry(config.to_path_buf())
        .or_default()
        .push(section);
    Ok(())
}

/// Whether hfguard (in this plan, or an earlier fix) already sends an account of `base` to
/// a slot in `config`. (A section of the user's own for the host is never added to: the fix
/// is refused there.)
fn host_taken(p: &Planner, config: &Path, base: &str) -> bool {
    let planned = p
        .git
        .sections
        .get(config)
        .is_some_and(|v| v.iter().any(|s| s.url == base));
    let there = read_config(config)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .and_then(|t| {
            section_text(&t, &format!("[credential \"{base}\"]"))
                .map(|s| s.contains(" git-credential --name "))
        })
        .unwrap_or(false);
    planned || there
}

/// `scheme://user@host` for a second account's section.
fn with_user(base: &str, user: &str) -> String {
    let (scheme, host) = base.split_once("://").unwrap_or(("https", base));
    let enc: String = user
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    format!("{scheme}://{enc}@{host}")
}

pub(in crate::fix) fn plan_store_line(
    p: &mut Planner,
    f: &Finding,
    path: &Path,
    loc: &Located,
) -> Result<(), String> {
    let ((s, _), (ls, le)) = p.secret_line(path, loc);
    let line = &p.file(path).data[ls..le];
    let base = url_base(line).ok_or("no URL on the credential line")?;
    let user = url_user(line, s - ls);
    check_user(&user)?;
    // git decodes `%XX` in a URL's password; the keyring must hold what git would send.
    let secret = Secret::new(percent_decode(loc.secret.expose()), loc.secret.prefix_len());
    let config = global_config(p);
    let want = p.want(
        f,
        format!("git:{base}:{}", user.as_deref().unwrap_or("")),
        user.clone().map(|u| {
            format!(
                "{u}@{}",
                base.split_once("://").map_or(base.as_str(), |x| x.1)
            )
        }),
        Consumer::Git {
            base: base.clone(),
            user: user.clone(),
            config: config.clone(),
        },
    );
    let slot = p.slot_name(&want, &secret);
    // The first account of a host gets the host's section; another account its own.
    let url = match &user {
        Some(u) if host_taken(p, &config, &base) && !host_served_by(p, &config, &base, &slot) => {
            with_user(&base, u)
        }
        _ => base.clone(),
    };
    want_section(
        p,
        &config,
        Section {
            url,
            user: user.clone(),
            slot: slot.clone(),
            local: false,
        },
    )?;
    p.git.store_in_use = true;
    let name = p.store(&want, &secret);
    debug_assert_eq!(name, slot);
    p.commit(path, vec![Edit::replace(ls, le, Vec::new())], &f.id);
    // The line goes only once git's config sends git to the keyring for it.
    p.file_mut(path).needs = Some(config);
    p.note("git now asks the OS keyring (through `hfguard git-credential`) for these credentials; `git credential approve` (as `hf auth login --add-to-git-credential` runs it) updates the keyring.");
    Ok(())
}

/// Whether the host's own section (planned or there) serves `slot`.
fn host_served_by(p: &Planner, config: &Path, base: &str, slot: &str) -> bool {
    let planned = p
        .git
        .sections
        .get(config)
        .and_then(|v| v.iter().find(|s| s.url == base))
        .map(|s| s.slot == slot);
    planned.unwrap_or_else(|| {
        read_config(config)
            .and_then(|b| {
                let text = String::from_utf8_lossy(&b).into_owned();
                section_text(&text, &format!("[credential \"{base}\"]"))
                    .map(|s| s.contains(&format!("git-credential --name {slot}\"")))
            })
            .unwrap_or(false)
    })
}

pub(in crate::fix) fn plan_remote(
    p: &mut Planner,
    f: &Finding,
    path: &Path,
    loc: &Located,
) -> Result<(), String> {
    let data: &[u8] = &p.file(path).data;
    let (s, e) = loc.first();
    let (ls, le) = line_bounds(data, s);
    let base = url_base(&data[ls..le]).ok_or("no URL on the line")?;
    let user = url_user(&data[ls..le], s - ls);
    check_user(&user)?;
    let secret = Secret::new(percent_decode(loc.secret.expose()), loc.secret.prefix_len());
    // https://user:TOKEN@host → https://user@host; https://TOKEN@host → https://host
    let (start, end) = if s > 0 && data[s - 1] == b':' {
        (s - 1, e)
    } else if data.get(e) == Some(&b'@') {
        (s, e + 1)
    } else {
        (s, e)
    };
    // `<repo>/.git/config`: the repository is the folder above `.git`.
    let repo = path
        .parent()
        .and_then(|g| {
            if g.file_name().is_some_and(|n| n == ".git") {
                g.parent()
            } else {
                Some(g)
            }
        })
        .unwrap_or(path);
    let repo_name = repo
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "repo".into());
    let want = p.want(
        f,
        format!(
            "git-remote:{}:{base}:{}",
            repo.display(),
            user.as_deref().unwrap_or("")
        ),
        Some(repo_name),
        Consumer::Git {
            base: base.clone(),
            user: user.clone(),
            config: path.to_path_buf(),
        },
    );
    let slot = p.slot_name(&want, &secret);
    want_section(
        p,
        path,
        Section {
            url: base.clone(),
            // A token that was the URL's user part leaves no user: the helper says one.
            user: None,
            slot: slot.clone(),
            local: true,
        },
    )?;
    let name = p.store(&want, &secret);
    debug_assert_eq!(name, slot);
    p.commit(path, vec![Edit::replace(start, end, Vec::new())], &f.id);
    p.note(format!(
        "The repository {} asks the OS keyring for its own credential (a section in its .git/config); other repositories keep git's global settings.",
        crate::report::display_path(&p.home.dir, repo)
    ));
    Ok(())
}

/// Writes the planned sections into their config files.
pub(in crate::fix) fn finish(p: &mut Planner) {
    let all = std::mem::take(&mut p.git.sections);
    let cmd = if all.is_empty() {
        String::new()
    } else {
        p.command()
    };
    for (config, sections) in all {
        let local = sections.iter().any(|s| s.local);
        let existing = if p.is_loaded(&config) {
            String::from_utf8_lossy(&p.file(&config).data).into_owned()
        } else {
            String::new()
        };
        // Git asks its helpers in order. Where the plaintext store is one of them, the list is
        // cleared for these hosts (or git would write the secret back) and the others are
        // listed again before hfguard's. Git says which helpers are in force (every config
        // file, includes, unescaped); when it cannot be asked, the two global files are read,
        // and a fixed ~/.git-credentials line counts as the store being in use.
        let (helpers, reset) = if local {
            (Vec::new(), true)
        } else {
            match effective_helpers(p.home) {
                Some(h) => {
                    let reset = h.iter().any(|x| is_store(x));
                    (h, reset)
                }
                None => {
                    let xdg =
                        read_config(&p.home.xdg_config().join("git/config")).unwrap_or_default();
                    let h =
                        global_helpers(&format!("{}\n{existing}", String::from_utf8_lossy(&xdg)));
                    let reset = p.git.store_in_use || h.iter().any(|x| is_store(x));
                    (h, reset)
                }
            }
        };
        let mut text = String::new();
        for s in &sections {
            let helper = quote(&format!("!{cmd} git-credential --name {}", s.slot));
            let why = if s.local {
                "this repository's"
            } else {
                "these"
            };
            text.push_str(&format!(
                "\n# hfguard {}: git asks the OS keyring for {why} {} credentials (undo: hfguard undo {})\n[credential \"{}\"]\n",
                p.today, s.url, p.plan.id, s.url
            ));
            if reset {
                text.push_str("\thelper =\n");
                for h in helpers.iter().filter(|h| !is_store(h)) {
                    text.push_str(&format!("\thelper = \"{}\"\n", quote(h)));
                }
            }
            text.push_str(&format!("\thelper = \"{helper}\"\n"));
            // The user name the removed line carried, so git still sends it.
            if let Some(user) = &s.user {
                text.push_str(&format!("\tusername = \"{}\"\n", quote(user)));
            }
            p.slots.serve(
                &s.slot,
                Consumer::Git {
                    base: s.url.clone(),
                    user: s.user.clone(),
                    config: config.clone(),
                },
            );
        }
        if p.is_loaded(&config) {
            let st = p.file_mut(&config);
            let end = st.data.len();
            if end > 0 && st.data[end - 1] != b'\n' {
                text.insert(0, '\n');
            }
            st.edits.push(Edit::insert(end, text));
        } else {
            p.plan.files.push(super::super::model::FileChange {
                path: config,
                change: super::super::model::Change::Create {
                    after: text.trim_start().as_bytes().to_vec(),
                    mode: 0o644,
                },
                findings: Vec::new(),
                needs: None,
                secrets: Vec::new(),
            });
        }
    }
}

/// The user name in the URL whose password or token starts at `secret_at` in `line`
/// (`https://user:SECRET@host`), percent-decoded; none when the secret is the user part.
fn url_user(line: &[u8], secret_at: usize) -> Option<String> {
    let before = String::from_utf8_lossy(&line[..secret_at.min(line.len())]);
    let user = before.strip_suffix(':')?.rsplit("://").next()?;
    let user = user.rsplit(['/', '"', ' ', '\t', '=']).next()?;
    (!user.is_empty()).then(|| percent_decode(user))
}

/// `%XX` sequences decoded (as git does for a URL's user and password); anything else, and
/// a sequence that does not decode to UTF-8, is kept as it is.
fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).and_then(|&c| hex(c)),
            b.get(i + 2).and_then(|&c| hex(c)),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_string())
}

/// `scheme://host[:port]` of the URL in `line` (host lowercased): what git matches a
/// `[credential "…"]` section against.
fn url_base(line: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(line);
    let (before, after) = text.split_once("://")?;
    let scheme = before
        .rsplit(|c: char| !c.is_ascii_alphanumeric() && c != '+' && c != '-' && c != '.')
        .next()?
        .to_ascii_lowercase();
    let authority = after
        .split(['/', '"', ' ', '\r', '\n', '\t', '?', '#'])
        .next()?;
    let host_port = authority.rsplit('@').next()?;
    if host_port.is_empty() || scheme.is_empty() {
        return None;
    }
    Some(format!("{scheme}://{}", host_port.to_ascii_lowercase()))
}

/// The credential helpers of git's plain `[credential]` sections in `config`, in order
/// (`helper =` clears the list, as in git).
fn global_helpers(config: &str) -> Vec<String> {
    let mut helpers = Vec::new();
    let mut in_credential = false;
    for line in config.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            let header = line.trim_start_matches('[').trim_end_matches(']').trim();
            in_credential = header.eq_ignore_ascii_case("credential");
            continue;
        }
        if !in_credential {
            continue;
        }
        if let Some((k, v)) = line.split_once('=') {
            if k.trim().eq_ignore_ascii_case("helper") {
                let v = v.trim().trim_matches('"').to_string();
                if v.is_empty() {
                    helpers.clear();
                } else {
                    helpers.push(v);
                }
            }
        }
    }
    helpers
}

/// A git configuration file's bytes, read as hfguard reads its own files (without blocking:
/// a FIFO there must not hang the fix; a regular file; at most 16 MiB); `None` when it
/// cannot be read.
fn read_config(path: &Path) -> Option<Vec<u8>> {
    crate::fsread::read_own(path, 16 << 20).ok().flatten()
}

/// How long `git config` may take.
const GIT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(5);

/// Git's own list of credential helpers for the home (every config file, includes, values
/// unescaped), or `None` when git cannot be run (or does not answer in time).
fn effective_helpers(home: &Home) -> Option<Vec<String>> {
    let mut cmd = std::process::Command::new("git");
    cmd.args(["config", "--get-all", "credential.helper"])
        .current_dir(&home.dir)
        .env_clear()
        .env("HOME", &home.dir)
        .stdin(std::process::Stdio::null());
    for var in [
        "PATH",
        "XDG_CONFIG_HOME",
        "GIT_CONFIG_GLOBAL",
        "GIT_CONFIG_NOSYSTEM",
    ] {
        if let Some(v) = home.var(var) {
            cmd.env(var, v);
        }
    }
    // Bounded: a FIFO as a config file would keep git waiting forever.
    let out = crate::child::output(&mut cmd, GIT_TIMEOUT).ok()?;
    // 1: the key is not set anywhere.
    match out.status.code() {
        Some(0) | Some(1) => {
            let mut helpers = Vec::new();
            for l in String::from_utf8_lossy(&out.stdout).lines() {
                if l.is_empty() {
                    helpers.clear(); // `helper =` clears the list
                } else {
                    helpers.push(l.to_string());
                }
            }
            Some(helpers)
        }
        _ => None,
    }
}

/// Whether a helper is git's plaintext store (`store`, `store --file …`, a path to
/// `git-credential-store`).
fn is_store(helper: &str) -> bool {
    let first = helper.split_whitespace().next().unwrap_or_default();
    first == "store" || first.ends_with("git-credential-store")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_of_credential_lines() {
        assert_eq!(
            url_base(b"https://u:secret@huggingface.co\n").as_deref(),
            Some("https://huggingface.co")
        );
        assert_eq!(
            url_base(b"\turl = https://tok@HF.co/x/y\n").as_deref(),
            Some("https://hf.co")
        );
        assert_eq!(
            url_base(b"http://bob:pw@Intranet.example.com:8443/r\n").as_deref(),
            Some("http://intranet.example.com:8443")
        );
        assert_eq!(
            url_base(b"https://alice:pw@huggingface.co\r\n").as_deref(),
            Some("https://huggingface.co")
        );
        assert_eq!(url_base(b"no url"), None);
    }
    #[test]
    fn global_helpers_follow_gits_rules() {
        let cfg = "[user]\n\tname = a\n[credential]\n\thelper = cache\n[credential \"https://x\"]\n\thelper = other\n[credential]\n\thelper = store --file ~/.c\n";
        assert_eq!(global_helpers(cfg), ["cache", "store --file ~/.c"]);
        assert!(is_store("store --file ~/.c") && !is_store("cache"));
        assert!(global_helpers("[credential]\nhelper = cache\nhelper =\n").is_empty());
    }

    #[test]
    fn second_accounts_get_a_section_of_their_own() {
        assert_eq!(
            with_user("https://huggingface.co", "bob"),
            "https://bob@huggingface.co"
        );
        assert_eq!(
            with_user("https://h.co:8443", "a b@c"),
            "https://a%20b%40c@h.co:8443"
        );
        assert!(check_user(&Some("a\nb".into())).is_err());
        let cfg = "[user]\n\tname = a\n[credential \"https://x\"]\n\thelper = y\n[core]\n";
        assert_eq!(
            section_text(cfg, "[credential \"https://x\"]"),
            Some("[credential \"https://x\"]\n\thelper = y\n")
        );
    }
}
