//! From chosen findings to the exact changes: new file contents, modes, removals and
//! keyring entries. Nothing is changed here.

use super::atomic::{self, Snapshot};
use crate::finding::{Finding, FixKind};
use crate::fsread;
use crate::home::Home;
use crate::kind::FileKind;
use crate::rules::{self, SecretMatch};
use crate::secret::Secret;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// A keyring entry the plan creates (name → secret).
#[derive(Debug)]
pub struct TokenToStore {
    pub name: String,
    pub secret: Secret,
}

/// One change to one file or folder.
pub enum Change {
    Chmod {
        from: u32,
        to: u32,
    },
    /// `original` holds secrets: never printed, never journaled as is.
    Rewrite {
        before: Snapshot,
        original: Zeroizing<Vec<u8>>,
        after: Vec<u8>,
    },
    Remove {
        before: Snapshot,
        original: Zeroizing<Vec<u8>>,
    },
    Create {
        after: Vec<u8>,
        mode: u32,
    },
}

pub struct FileChange {
    pub path: PathBuf,
    pub change: Change,
    /// The findings this change fixes.
    pub findings: Vec<String>,
    /// Applied only when the change to this file was: a credential line or remote URL goes
    /// only once git's config sends git to the keyring for it.
    pub needs: Option<PathBuf>,
}

/// Everything a fix run would do.
pub struct Plan {
    /// The journal id of this fix (`fix-…`).
    pub id: String,
    pub home: PathBuf,
    pub files: Vec<FileChange>,
    pub tokens: Vec<TokenToStore>,
    /// Finding ids this plan fixes.
    pub findings: Vec<String>,
    /// Things the user should know (open shells, how to keep using a token).
    pub notes: Vec<String>,
    /// Findings that cannot be fixed as asked, with the reason.
    pub refused: Vec<(String, String)>,
}

impl Plan {
    pub fn is_empty(&self) -> bool {
        self.files.is_empty() && self.tokens.is_empty()
    }
}

struct Edit {
    start: usize,
    end: usize,
    replacement: Vec<u8>,
}

struct FileState {
    data: Zeroizing<Vec<u8>>,
    snap: Snapshot,
    kind: FileKind,
    edits: Vec<Edit>,
    findings: Vec<String>,
}

/// The name a secret of `provider` gets in the keyring.
/// ` --name NAME` for `token get`/`exec`, nothing for the default name.
fn name_flag(name: &str) -> String {
    if name == "huggingface" {
        String::new()
    } else {
        format!(" --name {name}")
    }
}

pub fn token_name(provider: Option<&str>) -> String {
    provider.unwrap_or("token").to_string()
}

/// How a start-up file or git config calls hfguard: by this program's absolute path. A bare
/// `hfguard` would depend on `$PATH` where the lookup runs: a `.bashrc` that exports the
/// token above the line that adds `~/.cargo/bin` or `~/.local/bin` to `$PATH` (usual), or a
/// GUI that runs git with a shorter `$PATH`, would find no hfguard.
pub fn self_command() -> String {
    std::env::current_exe()
        .ok()
        .and_then(|p| p.canonicalize().ok())
        .map_or_else(
            || "hfguard".to_string(),
            |me| shell_quote(&me.to_string_lossy()),
        )
}

fn shell_quote(s: &str) -> String {
    if s.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"/._-+".contains(&b))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// The marker that replaces a redacted secret: says what was there, does not look like it.
pub fn marker(secret: &Secret) -> String {
    format!(
        "{}{}]",
        rules::REDACTED_MARKER,
        secret.redacted().replace('…', "...")
    )
}

fn line_of(data: &[u8], offset: usize) -> u64 {
    1 + memchr::memchr_iter(b'\n', &data[..offset]).count() as u64
}

fn line_bounds(data: &[u8], offset: usize) -> (usize, usize) {
    let start = memchr::memrchr(b'\n', &data[..offset]).map_or(0, |i| i + 1);
    let end = memchr::memchr(b'\n', &data[offset..]).map_or(data.len(), |i| offset + i + 1);
    (start, end)
}

/// Where in `data` the finding's secret sits (raw, not encoded): every occurrence on its
/// line, first first.
fn locate(
    data: &[u8],
    kind: FileKind,
    f: &Finding,
    container: bool,
) -> Result<Vec<SecretMatch>, String> {
    let mut matches = Vec::new();
    if container {
        rules::builtin().find_in_container(data, Some(kind), &mut matches);
    } else {
        rules::builtin().find(data, Some(kind), &mut matches);
    }
    let mut encoded = false;
    let mut found: Vec<SecretMatch> = Vec::new();
    for m in matches {
        if Some(m.secret.fingerprint()) != f.fingerprint {
            continue;
        }
        if f.line.is_some_and(|l| l != line_of(data, m.offset)) {
            continue;
        }
        if data[m.offset..].starts_with(m.secret.expose().as_bytes()) {
            if !found.iter().any(|x| x.offset == m.offset) {
                found.push(m);
            }
            continue;
        }
        encoded = true;
    }
    if !found.is_empty() {
        return Ok(found);
    }
    Err(if encoded {
        "the secret is stored encoded (base64) here; edit the file by hand".into()
    } else {
        "the secret is no longer where the scan saw it; scan again".into()
    })
}

/// The shell context at the end of `prefix` (a start-up file up to the token).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Quote {
    None,
    Single,
    /// Inside double quotes opened at this index of `prefix`.
    Double(usize),
    /// Somewhere a lookup cannot be reasoned about: inside `$(…)` or backticks, or a
    /// here-document.
    Other,
}

/// Follows the shell's quoting from the start of the file to the end of `prefix`: quotes
/// (a string may span lines), comments, `$(…)` and backtick substitutions (which nest their
/// own quotes), and here-documents. Fish has only quotes and comments here.
fn quote_at(prefix: &[u8], fish: bool) -> Quote {
    // A stack of contexts: `$(` opens a fresh unquoted one inside a string.
    let mut stack: Vec<Quote> = vec![Quote::None];
    let mut subst = 0usize; // open `$(…)` / backticks
    let mut heredoc: Option<(String, bool)> = None; // terminator, `<<-`
    let mut pending: Option<(String, bool)> = None;
    let mut i = 0;
    while i < prefix.len() {
        let b = prefix[i];
        let top = *stack.last().expect("never empty");
        if let Some((word, dash)) = &heredoc {
            // Whole lines until the terminator.
            let end = prefix[i..].iter().position(|&c| c == b'\n').map(|n| i + n);
            let Some(end) = end else {
                return Quote::Other;
            };
            let line = String::from_utf8_lossy(&prefix[i..end]);
            let line = if *dash {
                line.trim_start_matches('\t')
            } else {
                &line
            };
            if line == word.as_str() {
                heredoc = None;
            }
            i = end + 1;
            continue;
        }
        match top {
            Quote::None | Quote::Other => match b {
                b'\\' => i += 1,
                b'\'' => stack.push(Quote::Single),
                b'"' => stack.push(Quote::Double(i)),
                b'#' if i == 0 || prefix[i - 1].is_ascii_whitespace() => {
                    // A comment: to the end of the line.
                    match prefix[i..].iter().position(|&c| c == b'\n') {
                        Some(n) => i += n - 1,
                        None => return *stack.last().expect("never empty"),
                    }
                }
                b'$' if !fish && prefix.get(i + 1) == Some(&b'(') => {
                    stack.push(Quote::Other);
                    subst += 1;
                    i += 1;
                }
                b')' if !fish && top == Quote::Other && subst > 0 => {
                    stack.pop();
                    subst -= 1;
                }
                b'`' if !fish => {
                    if top == Quote::Other && subst > 0 {
                        stack.pop();
                        subst -= 1;
                    } else {
                        stack.push(Quote::Other);
                        subst += 1;
                    }
                }
                b'<' if !fish
                    && prefix.get(i + 1) == Some(&b'<')
                    && prefix.get(i + 2) != Some(&b'<')
                    && (i == 0 || prefix[i - 1] != b'<') =>
                {
                    let rest = &prefix[i + 2..];
                    let dash = rest.first() == Some(&b'-');
                    let rest = &rest[usize::from(dash)..];
                    let word: String = String::from_utf8_lossy(rest)
                        .trim_start()
                        .trim_start_matches(['\'', '"'])
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .collect();
                    if !word.is_empty() {
                        pending = Some((word, dash));
                    }
                    i += 1;
                }
                b'\n' => heredoc = pending.take(),
                _ => {}
            },
            // bash and zsh: no escapes inside '…'; fish: \' and \\.
            Quote::Single => match b {
                b'\\' if fish => i += 1,
                b'\'' => {
                    stack.pop();
                }
                _ => {}
            },
            Quote::Double(_) => match b {
                b'\\' => i += 1,
                b'"' => {
                    stack.pop();
                }
                b'$' if !fish && prefix.get(i + 1) == Some(&b'(') => {
                    stack.push(Quote::Other);
                    subst += 1;
                    i += 1;
                }
                b'`' if !fish => {
                    stack.push(Quote::Other);
                    subst += 1;
                }
                _ => {}
            },
        }
        i += 1;
    }
    if heredoc.is_some() || subst > 0 {
        return Quote::Other;
    }
    *stack.last().expect("never empty")
}

fn is_fish(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "fish")
}

/// Files that are read as plain `NAME=value` lists, where no command can run.
fn cannot_run_commands(path: &Path) -> bool {
    path.components().any(|c| c.as_os_str() == "environment.d")
        || path.file_name().is_some_and(|n| n == ".pam_environment")
}

struct Planner<'a> {
    home: &'a Home,
    plan: Plan,
    files: BTreeMap<PathBuf, FileState>,
    chmods: BTreeMap<PathBuf, (u32, u32, Vec<String>)>,
    /// Host → (keyring name, user name from the URL) for git's credential helper.
    helper_hosts: BTreeMap<String, (String, Option<String>)>,
    /// Names already in the keyring (from hfguard's index) → their secret's fingerprint.
    taken: BTreeMap<String, Option<String>>,
    /// A `~/.git-credentials` line is fixed: git's plaintext store is in use somewhere.
    store_in_use: bool,
    cmd: String,
    today: String,
}

/// Plans the fixes `choices` (finding, fix kind) on `home`.
pub fn plan(home: &Home, choices: &[(Finding, FixKind)]) -> Plan {
    let now = super::journal::now_rfc3339();
    let id = super::journal::new_id();
    let mut p = Planner {
        home,
        plan: Plan {
            id,
            home: home.dir.clone(),
            files: Vec::new(),
            tokens: Vec::new(),
            findings: Vec::new(),
            notes: Vec::new(),
            refused: Vec::new(),
        },
        files: BTreeMap::new(),
        chmods: BTreeMap::new(),
        helper_hosts: BTreeMap::new(),
        store_in_use: false,
        taken: crate::keystore::KeyStore::new(home)
            .fingerprints()
            .into_iter()
            .collect(),
        cmd: self_command(),
        today: now[..10].to_string(),
    };
    // The token file first: its token, the one huggingface_hub uses, gets the provider's
    // plain name (`huggingface`, what `token get` returns); a different token found elsewhere
    // gets `huggingface-2`, and the file it came from looks that name up.
    let mut order: Vec<&(Finding, FixKind)> = choices.iter().collect();
    order.sort_by_key(|(f, _)| FileKind::from_rule(&f.rule) != Some(FileKind::HfTokenFile));
    for (f, kind) in order {
        let r = match kind {
            FixKind::Chmod => p.chmod(f),
            FixKind::Redact => p.content(f, false),
            FixKind::Keyring => p.content(f, true),
        };
        match r {
            Ok(()) => p.plan.findings.push(f.id.clone()),
            Err(reason) => p.plan.refused.push((f.id.clone(), reason)),
        }
    }
    p.finish()
}

impl Planner<'_> {
    fn chmod(&mut self, f: &Finding) -> Result<(), String> {
        let path = f.path.clone().ok_or("no file to change")?;
        let from = f
            .mode
            .as_deref()
            .and_then(|m| u32::from_str_radix(m, 8).ok())
            .ok_or("the finding has no mode")?;
        let to = match f.rule.as_str() {
            "startup-file-writable" | "home-writable" => from & !0o022,
            "credential-folder-permissions" => from & !0o077 | 0o700,
            r if r.ends_with("-permissions") => (from & 0o100) | 0o600,
            _ => return Err("no permission change applies to this finding".into()),
        };
        if from == to {
            return Err("the mode is already right".into());
        }
        let e = self.chmods.entry(path).or_insert((from, to, Vec::new()));
        e.2.push(f.id.clone());
        Ok(())
    }

    fn load(&mut self, path: &Path, kind: FileKind) -> Result<&mut FileState, String> {
        if !self.files.contains_key(path) {
            let (data, snap) = atomic::read(path).map_err(|e| e.reason)?;
            self.files.insert(
                path.to_path_buf(),
                FileState {
                    data: Zeroizing::new(data),
                    snap,
                    kind,
                    edits: Vec::new(),
                    findings: Vec::new(),
                },
            );
        }
        Ok(self.files.get_mut(path).expect("just inserted"))
    }

    /// The keyring name `secret` gets: the provider's name, or `<provider>-2`, `-3`… when
    /// another secret has it, in this plan or already in the keyring (an earlier fix). A
    /// name the same secret already has is reused.
    fn name_for(&self, provider: Option<&str>, secret: &Secret) -> String {
        let base = token_name(provider);
        let fingerprint = secret.fingerprint();
        let mut name = base.clone();
        for n in 2.. {
            let free = match self.plan.tokens.iter().find(|t| t.name == name) {
                Some(t) => t.secret.expose() == secret.expose(),
                None => match self.taken.get(&name) {
                    Some(fp) => fp.as_deref() == Some(fingerprint.as_str()),
                    None => true,
                },
            };
            if free {
                break;
            }
            name = format!("{base}-{n}");
        }
        name
    }

    fn store(&mut self, provider: Option<&str>, secret: &Secret) -> String {
        let name = self.name_for(provider, secret);
        if !self.plan.tokens.iter().any(|t| t.name == name) {
            self.plan.tokens.push(TokenToStore {
                name: name.clone(),
                secret: secret.clone(),
            });
        }
        name
    }

    fn content(&mut self, f: &Finding, keyring: bool) -> Result<(), String> {
        let path = f.path.clone().ok_or("not in a file")?;
        let kind = FileKind::from_rule(&f.rule).ok_or("no content fix applies to this finding")?;
        let fix = if keyring {
            FixKind::Keyring
        } else {
            FixKind::Redact
        };
        if !kind.secret_fixes().contains(&fix) {
            return Err(format!(
                "the {} fix does not apply to {}",
                fix.as_str(),
                kind.description()
            ));
        }
        let today = self.today.clone();
        let cmd = self.cmd.clone();
        let plan_id = self.plan.id.clone();
        let st = self.load(&path, kind)?;
        let container = crate::probes::files::is_text_container(&path, &st.data);
        let all = locate(&st.data, kind, f, container)?;
        let m = &all[0];
        // Git decodes `%XX` in a URL's user and password; the keyring must hold what git
        // would have sent.
        let secret = if matches!(kind, FileKind::GitCredentials | FileKind::GitRemote) {
            Secret::new(percent_decode(m.secret.expose()), m.secret.prefix_len())
        } else {
            m.secret.clone()
        };
        // The name the keyring fix stores it under (store() below gives the same): what a
        // start-up file must look up, which is not the provider's name when another secret
        // of this plan took it first.
        let name = self.name_for(f.provider.as_deref(), &secret);
        let st = self.files.get_mut(&path).expect("loaded above");
        let (s, e) = (m.offset, m.offset + m.secret.expose().len());
        // Every occurrence of the secret on the line, replaced by the marker.
        let markers = || -> Vec<Edit> {
            all.iter()
                .map(|m| Edit {
                    start: m.offset,
                    end: m.offset + m.secret.expose().len(),
                    replacement: marker(&m.secret).into_bytes(),
                })
                .collect()
        };
        let data: &[u8] = &st.data;
        let mut edits = Vec::new();
        let mut note = None;
        let mut store = false;
        let mut helper_host = None;
        let mut helper_user = None;
        if !keyring && container {
            // A database or .pyc keeps every byte where it was: the secret becomes filler of
            // its own length (`hf_xxxx…`), not the longer marker, which would break the
            // record lengths. A write-ahead log's frames are checksummed: not edited at all.
            if crate::probes::files::is_sqlite_wal(data) {
                return Err("the secret is in a SQLite write-ahead log, whose frames are checksummed: open the program that owns it (atuin, IPython) so it moves the rows into the database, then scan and fix again".into());
            }
            // Only IPython's history is known to keep its text out of any index; in another
            // database an index could hold the text too, sorted, and an edit would break it.
            if data.starts_with(b"SQLite format 3\0")
                && path.file_name().is_none_or(|n| n != "history.sqlite")
            {
                return Err("the secret is in a SQLite database that may index its text, where an edit in place could break it: delete the entry with the program that owns the database".into());
            }
            for m in &all {
                let v = m.secret.expose();
                let keep = m.secret.prefix_len();
                edits.push(Edit {
                    start: m.offset,
                    end: m.offset + v.len(),
                    replacement: [&v.as_bytes()[..keep], &vec![b'x'; v.len() - keep]].concat(),
                });
            }
        } else if !keyring {
            edits.extend(markers());
            if kind == FileKind::ShellHistory {
                note = Some(
                    "Open shells keep their history in memory and may write the token back when they exit: close them, or run `history -c` (bash), `fc -p` (zsh) or `history clear-session` (fish) in each.".to_string(),
                );
            }
        } else {
            store = true;
            match kind {
                FileKind::HfTokenFile | FileKind::HfStagingToken | FileKind::HfLegacyToken => {
                    edits.push(Edit {
                        start: s,
                        end: e,
                        replacement: Vec::new(),
                    });
                    let name_arg = name_flag(&name);
                    note = Some(format!(
                        "Programs that read the token file will not find it any more: run them with `{cmd} exec{name_arg} -- CMD`, or put `export HF_TOKEN=\"$({cmd} token get{name_arg})\"` in your shell start-up file."
                    ));
                }
                FileKind::HfStoredTokens => {
                    // The whole `[name]` section goes.
                    let (ls, _) = line_bounds(data, s);
                    let start = data[..ls]
                        .split_inclusive(|&b| b == b'\n')
                        .scan(0usize, |pos, l| {
                            let at = *pos;
                            *pos += l.len();
                            Some((at, l))
                        })
                        .filter(|(_, l)| l.first() == Some(&b'['))
                        .map(|(at, _)| at)
                        .last()
                        .unwrap_or(ls);
                    let mut end = e;
                    loop {
                        let (_, le) = line_bounds(data, end.min(data.len().saturating_sub(1)));
                        if le >= data.len() || data[le] == b'[' {
                            end = le.min(data.len());
                            break;
                        }
                        end = le;
                    }
                    edits.push(Edit {
                        start,
                        end,
                        replacement: Vec::new(),
                    });
                }
                FileKind::GitCredentials => {
                    let (ls, le) = line_bounds(data, s);
                    helper_host = url_base(&data[ls..le]);
                    // Several accounts for one host: git's store picks by user name, hfguard's
                    // helper serves one secret per host.
                    let same_host = data
                        .split(|&b| b == b'\n')
                        .filter(|l| helper_host.is_some() && url_base(l) == helper_host)
                        .count();
                    if same_host > 1 {
                        return Err(format!(
                            "{} holds {same_host} credentials for {}, and git's helper serves one per host: move them by hand",
                            crate::report::display_path(&self.home.dir, &path),
                            helper_host.as_deref().unwrap_or("this host")
                        ));
                    }
                    // The line goes, and its user name with it: git is told it in the
                    // config. (A remote URL keeps its user name.)
                    helper_user = url_user(&data[ls..le], s - ls);
                    edits.push(Edit {
                        start: ls,
                        end: le,
                        replacement: Vec::new(),
                    });
                }
                FileKind::GitRemote => {
                    let (ls, le) = line_bounds(data, s);
                    helper_host = url_base(&data[ls..le]);
                    // https://user:TOKEN@host → https://user@host; https://TOKEN@host → https://host
                    let (start, end) = if s > 0 && data[s - 1] == b':' {
                        (s - 1, e)
                    } else if data.get(e) == Some(&b'@') {
                        (s, e + 1)
                    } else {
                        (s, e)
                    };
                    edits.push(Edit {
                        start,
                        end,
                        replacement: Vec::new(),
                    });
                }
                FileKind::StartupFile if !cannot_run_commands(&path) => {
                    let name_arg = name_flag(&name);
                    let fish = is_fish(&path);
                    let (ls, _) = line_bounds(data, s);
                    if ls >= 2 && data[ls - 2] == b'\\' && data[ls - 1] == b'\n' {
                        return Err("the line continues a command from the line before; move the token by hand, or redact it".into());
                    }
                    // Every copy of the token on the line (`export A=tok B=tok`), each replaced
                    // by a lookup that runs where it stands.
                    for m in &all {
                        let (s, e) = (m.offset, m.offset + m.secret.expose().len());
                        let word = if fish {
                            format!("({cmd} token get{name_arg})")
                        } else {
                            format!("\"$({cmd} token get{name_arg})\"")
                        };
                        let at = s - ls;
                        let edit = match quote_at(&data[..s], fish) {
                            Quote::None => Edit {
                                start: s,
                                end: e,
                                replacement: word.into_bytes(),
                            },
                            // 'tok' or "tok": the quoted word is the token, quotes and all.
                            Quote::Single
                                if at > 0
                                    && data[s - 1] == b'\''
                                    && data.get(e) == Some(&b'\'') =>
                            {
                                Edit {
                                    start: s - 1,
                                    end: e + 1,
                                    replacement: word.into_bytes(),
                                }
                            }
                            Quote::Double(open) if open + 1 == s && data.get(e) == Some(&b'"') => {
                                Edit {
                                    start: s - 1,
                                    end: e + 1,
                                    replacement: word.into_bytes(),
                                }
                            }
                            // Inside "…" with other text: bash and zsh run `$(…)` there too.
                            Quote::Double(_) if !fish => Edit {
                                start: s,
                                end: e,
                                replacement: format!("$({cmd} token get{name_arg})").into_bytes(),
                            },
                            _ => {
                                return Err("the token is inside a quoted string with other text, where no lookup would run; move it by hand, or redact it".into());
                            }
                        };
                        edits.push(edit);
                    }
                    let indent: Vec<u8> = data[ls..]
                        .iter()
                        .take_while(|b| **b == b' ' || **b == b'\t')
                        .copied()
                        .collect();
                    let mut comment = indent;
                    comment.extend_from_slice(
                        format!("# hfguard {today}: the token now lives in the OS keyring (undo: hfguard undo {plan_id})\n").as_bytes(),
                    );
                    edits.push(Edit {
                        start: ls,
                        end: ls,
                        replacement: comment,
                    });
                    note = Some("New shells look the token up in the OS keyring; open shells keep the old value until restarted.".into());
                }
                FileKind::StartupFile | FileKind::EnvFile | FileKind::Netrc => {
                    edits.extend(markers());
                    note = Some(format!(
                        "This file cannot look the token up itself; it is in the OS keyring as `{name}`: run programs that need it with `{cmd} exec --name {name} -- CMD`."
                    ));
                }
                _ => {
                    return Err(format!(
                        "the keyring fix does not apply to {}",
                        kind.description()
                    ))
                }
            }
        }
        // Git must be able to reach the keyring before the plaintext goes: checked now, so a
        // refusal leaves the file alone.
        if let Some(base) = &helper_host {
            self.check_git_helper(base, &name)?;
        }
        let st = self.files.get_mut(&path).expect("loaded above");
        st.edits.extend(edits);
        st.findings.push(f.id.clone());
        if store {
            let stored = self.store(f.provider.as_deref(), &secret);
            debug_assert_eq!(stored, name);
            if let Some(host) = helper_host {
                self.store_in_use |= kind == FileKind::GitCredentials;
                let entry = self.helper_hosts.entry(host).or_default();
                entry.0 = name;
                entry.1 = helper_user.or(entry.1.take());
            }
        }
        if let Some(n) = note {
            if !self.plan.notes.contains(&n) {
                self.plan.notes.push(n);
            }
        }
        Ok(())
    }

    /// The global git config hfguard adds its helper to: `~/.gitconfig`, or the XDG one when
    /// only that exists.
    fn git_config_path(&self) -> PathBuf {
        let home_cfg = self.home.dir.join(".gitconfig");
        let xdg_cfg = self.home.xdg_config().join("git/config");
        if !home_cfg.exists() && xdg_cfg.exists() {
            xdg_cfg
        } else {
            home_cfg
        }
    }

    /// Whether git can be pointed at the keyring for `base` with the secret named `name`;
    /// the reason why not, said for the user.
    fn check_git_helper(&mut self, base: &str, name: &str) -> Result<(), String> {
        if let Some((other, _)) = self.helper_hosts.get(base) {
            if other != name {
                return Err(format!("another credential for {base} in this fix already goes to the keyring, and git's helper serves one per host: fix this one on its own by hand, or redact it"));
            }
        }
        let path = self.git_config_path();
        if matches!(fsread::lstat(&path), Ok(fsread::Entry::Symlink)) {
            return Err(format!("{} is a symlink, which hfguard does not rewrite, so git could not reach the keyring: move the secret by hand, or redact it", crate::report::display_path(&self.home.dir, &path)));
        }
        let shown = crate::report::display_path(&self.home.dir, &path);
        if path.exists() {
            let st = self.load(&path, FileKind::GitConfig)?;
            let text = String::from_utf8_lossy(&st.data);
            if let Some(at) = text.find(&format!("[credential \"{base}\"]")) {
                // Ours from an earlier fix, for this very secret: nothing to add.
                let section = &text[at..];
                let section = &section[..section[1..].find('[').map_or(section.len(), |n| n + 1)];
                if !section.contains(&format!("git-credential --name {name}\"")) {
                    return Err(format!("git already has settings for {base} in {shown}, which hfguard does not change: move the secret by hand, or redact it"));
                }
            }
        }
        Ok(())
    }

    fn git_helper(&mut self) {
        let hosts = std::mem::take(&mut self.helper_hosts);
        if hosts.is_empty() {
            return;
        }
        let path = self.git_config_path();
        // Read when the git fixes were checked (an existing config is always loaded then).
        let existing = self
            .files
            .get(&path)
            .map(|st| String::from_utf8_lossy(&st.data).into_owned())
            .unwrap_or_default();
        // Git asks its helpers in order. Where the plaintext store is one of them, the list
        // is cleared for these hosts (or git would write the secret back) and the others are
        // listed again before hfguard's; otherwise hfguard's helper just comes last.
        // Git says which helpers are in force (every config file, includes, unescaped). When
        // it cannot be asked, the two global files are read, and a fixed ~/.git-credentials
        // line counts as the store being in use somewhere.
        let (helpers, reset) = match effective_helpers(self.home) {
            Some(h) => {
                let reset = h.iter().any(|x| is_store(x));
                (h, reset)
            }
            None => {
                // Read as hfguard reads its own files: a FIFO there must not hang the fix.
                let xdg =
                    crate::fsread::read_own(&self.home.xdg_config().join("git/config"), 16 << 20)
                        .ok()
                        .flatten()
                        .unwrap_or_default();
                let h = global_helpers(&format!("{}\n{existing}", String::from_utf8_lossy(&xdg)));
                let reset = self.store_in_use || h.iter().any(|x| is_store(x));
                (h, reset)
            }
        };
        let mut text = String::new();
        for (base, (name, user)) in hosts {
            let section = format!("[credential \"{base}\"]");
            if existing.contains(&section) {
                continue; // ours, for this secret (checked when planned)
            }
            let quote = |v: &str| v.replace('\\', "\\\\").replace('"', "\\\"");
            let helper = quote(&format!("!{} git-credential --name {name}", self.cmd));
            text.push_str(&format!(
                "\n# hfguard {}: git asks the OS keyring for {base} credentials (undo: hfguard undo {})\n{section}\n",
                self.today, self.plan.id
            ));
            if reset {
                text.push_str("\thelper =\n");
                for h in helpers.iter().filter(|h| !is_store(h)) {
                    text.push_str(&format!("\thelper = \"{}\"\n", quote(h)));
                }
            }
            text.push_str(&format!("\thelper = \"{helper}\"\n"));
            // The user name the removed line carried, so git still sends it.
            if let Some(user) = user {
                text.push_str(&format!("\tusername = \"{}\"\n", quote(&user)));
            }
        }
        if text.is_empty() {
            return;
        }
        if path.exists() {
            // Loaded and checked when the git fixes were planned.
            if let Some(st) = self.files.get_mut(&path) {
                let end = st.data.len();
                let mut add = Vec::new();
                if end > 0 && st.data[end - 1] != b'\n' {
                    add.push(b'\n');
                }
                add.extend_from_slice(text.as_bytes());
                st.edits.push(Edit {
                    start: end,
                    end,
                    replacement: add,
                });
            }
        } else {
            self.plan.files.push(FileChange {
                path,
                change: Change::Create {
                    after: text.trim_start().as_bytes().to_vec(),
                    mode: 0o644,
                },
                findings: Vec::new(),
                needs: None,
            });
        }
    }

    fn finish(mut self) -> Plan {
        self.git_helper();
        for (path, (from, to, findings)) in std::mem::take(&mut self.chmods) {
            self.plan.files.push(FileChange {
                path,
                change: Change::Chmod { from, to },
                findings,
                needs: None,
            });
        }
        for (path, mut st) in std::mem::take(&mut self.files) {
            if st.edits.is_empty() {
                continue; // read to check it (git's config), nothing to change
            }
            st.edits.sort_by_key(|e| (e.start, e.end));
            let mut after = Vec::with_capacity(st.data.len());
            let mut pos = 0;
            for e in &st.edits {
                if e.start < pos {
                    continue; // overlaps an edit already made (same secret twice)
                }
                after.extend_from_slice(&st.data[pos..e.start]);
                after.extend_from_slice(&e.replacement);
                pos = e.end;
            }
            after.extend_from_slice(&st.data[pos..]);
            if st.kind == FileKind::Notebook
                && serde_json::from_slice::<serde::de::IgnoredAny>(&st.data).is_ok()
                && serde_json::from_slice::<serde::de::IgnoredAny>(&after).is_err()
            {
                for id in st.findings {
                    self.plan.refused.push((
                        id,
                        "the redacted notebook would not be valid JSON; edit it by hand".into(),
                    ));
                }
                continue;
            }
            let empty = after.iter().all(u8::is_ascii_whitespace);
            let change = if empty && st.kind.is_credential_store() {
                Change::Remove {
                    before: st.snap,
                    original: st.data,
                }
            } else {
                Change::Rewrite {
                    before: st.snap,
                    original: st.data,
                    after,
                }
            };
            // A chmod of the same file: needless when the file goes, after the rewrite
            // (which keeps the mode) otherwise.
            let chmod = self
                .plan
                .files
                .iter()
                .position(|f| f.path == path && matches!(f.change, Change::Chmod { .. }))
                .map(|i| self.plan.files.remove(i));
            let removed = matches!(change, Change::Remove { .. });
            let needs = matches!(st.kind, FileKind::GitCredentials | FileKind::GitRemote)
                .then(|| self.git_config_path());
            self.plan.files.push(FileChange {
                path,
                change,
                findings: st.findings,
                needs,
            });
            if let Some(c) = chmod.filter(|_| !removed) {
                self.plan.files.push(c);
            }
        }
        // A change others need goes first; a need on a file the plan does not change (git's
        // config already sends git to the keyring) is no need.
        let changed: Vec<PathBuf> = self.plan.files.iter().map(|f| f.path.clone()).collect();
        for f in &mut self.plan.files {
            f.needs = f
                .needs
                .take()
                .filter(|n| changed.contains(n) && *n != f.path);
        }
        let needed: Vec<PathBuf> = self
            .plan
            .files
            .iter()
            .filter_map(|f| f.needs.clone())
            .collect();
        self.plan.files.sort_by_key(|f| !needed.contains(&f.path));
        self.plan.findings.sort();
        self.plan.findings.dedup();
        self.plan
    }
}

/// The host of the first URL on a line.
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
    fn shell_context_of_a_token() {
        let q = |s: &str| quote_at(s.as_bytes(), false);
        assert_eq!(q("export A="), Quote::None);
        assert_eq!(q("export A=\"Bearer "), Quote::Double(9));
        assert_eq!(q("export A='x "), Quote::Single);
        assert_eq!(q("# it's mine\nexport A="), Quote::None);
        assert_eq!(q("eval \"$(pyenv init -)\"\nexport A="), Quote::None);
        assert_eq!(q("export A=\"one\ntwo "), Quote::Double(9));
        assert_eq!(q("export B=\"$(printf '%s' '"), Quote::Other);
        assert_eq!(q("export B=`echo "), Quote::Other);
        assert_eq!(q("cat > f <<END\ntoken="), Quote::Other);
        assert_eq!(q("cat > f <<-'END'\nx\n\tEND\nexport A="), Quote::None);
        assert_eq!(q("grep x <<< 'y'\nexport A="), Quote::None);
        assert_eq!(quote_at(b"set -gx A 'x ", true), Quote::Single);
    }

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
    fn markers_do_not_look_like_tokens() {
        let s = Secret::new("hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh".into(), 3);
        let m = marker(&s);
        assert_eq!(m, "[hfguard:redacted:hf_...EfGh]");
        let mut out = Vec::new();
        rules::builtin().find(m.as_bytes(), None, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn quoting_for_shells() {
        assert_eq!(shell_quote("/usr/bin/hfguard"), "/usr/bin/hfguard");
        assert_eq!(
            shell_quote("/opt/my tools/hfguard"),
            "'/opt/my tools/hfguard'"
        );
    }
}
