//! `hfguard token`, `exec`, `git-credential` and `install`: keep using the credentials that
//! live in keyring slots.

use super::Fatal;
use clap::{Args, Subcommand};
use hfguard::fix::{self, Journal};
use hfguard::home::Home;
use hfguard::keystore::{KeyError, KeyStore};
use hfguard::report::display_path;
use hfguard::secret::Secret;
use hfguard::slots::{self, Consumer, Slot, HF_DEFAULT};
use hfguard::term::{self, safe_line};
use std::io::{BufRead, IsTerminal, Read};
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum TokenCmd {
    /// Print a slot's token (for `$(hfguard token get)`; on a terminal only with --reveal).
    ///
    /// In a lookup (standard output not a terminal) a failure prints one short line when
    /// standard error is a terminal and nothing otherwise, and exits 1, so a start-up file
    /// can leave its variable unset.
    Get {
        #[arg(long, default_value = HF_DEFAULT)]
        name: String,
        #[arg(long)]
        reveal: bool,
    },
    /// Store a token, read from a no-echo prompt or standard input (never an argument). A
    /// slot that holds another value has it replaced (journaled: `hfguard undo` brings it
    /// back).
    Set {
        #[arg(long, default_value = HF_DEFAULT)]
        name: String,
    },
    /// Remove a slot from the keyring.
    Rm {
        #[arg(long, default_value = HF_DEFAULT)]
        name: String,
    },
    /// The slots hfguard keeps: each token (redacted), what it serves, and which one
    /// huggingface_hub uses.
    List,
}

fn key_fatal(e: KeyError) -> Fatal {
    Fatal(e.to_string())
}

pub fn prompt_no_echo(prompt: &str) -> std::io::Result<String> {
    use nix::sys::termios::{tcgetattr, tcsetattr, LocalFlags, SetArg};
    let stdin = std::io::stdin();
    let saved = tcgetattr(&stdin).map_err(std::io::Error::from)?;
    let mut quiet = saved.clone();
    quiet.local_flags.remove(LocalFlags::ECHO);
    term::prompt(prompt);
    tcsetattr(&stdin, SetArg::TCSANOW, &quiet).map_err(std::io::Error::from)?;
    let mut line = String::new();
    let r = stdin.lock().read_line(&mut line);
    let _ = tcsetattr(&stdin, SetArg::TCSANOW, &saved);
    term::warn("");
    r.map(|_| line)
}

/// The slot huggingface_hub gets its token from after the fixes: the one a start-up lookup
/// exports as `HF_TOKEN`, else the default.
fn hub_slot(list: &[Slot]) -> Option<&Slot> {
    list.iter()
        .find(|s| {
            s.serves
                .iter()
                .any(|c| matches!(c, Consumer::Shell { variable, .. } if variable == "HF_TOKEN"))
        })
        .or_else(|| list.iter().find(|s| s.name == HF_DEFAULT))
}

fn describe(home: &Home, c: &Consumer) -> String {
    match c {
        Consumer::Shell { path, variable } => {
            format!(
                "new shells ({variable} in {})",
                display_path(&home.dir, path)
            )
        }
        Consumer::Git { base, user, config } => format!(
            "git for {}{base} ({})",
            user.as_deref()
                .map(|u| format!("{u} at "))
                .unwrap_or_default(),
            display_path(&home.dir, config)
        ),
        Consumer::Exec { path } => {
            format!("`exec`, for what read {}", display_path(&home.dir, path))
        }
    }
}

pub fn token(home: &Home, cmd: TokenCmd) -> Result<ExitCode, Fatal> {
    let keys = KeyStore::new(home);
    match cmd {
        TokenCmd::Get { name, reveal } => {
            let lookup = !term::stdout_is_terminal();
            if !lookup && !reveal {
                return Err(Fatal(
                    "not printing a token to the terminal; use it as `$(hfguard token get)`, or pass --reveal".into(),
                ));
            }
            let t = match keys.get(&name) {
                Ok(t) => t,
                // In a start-up file: a shell must not break, nor a script's output fill up.
                Err(e) if lookup => {
                    if term::stderr_is_terminal() {
                        let why = match e {
                            KeyError::NotFound(_) => format!("no slot `{name}`"),
                            _ => "no keyring answers".into(),
                        };
                        term::warn(&format!(
                            "hfguard: token `{name}` not available ({why}); left unset"
                        ));
                    }
                    return Ok(ExitCode::from(1));
                }
                Err(e) => return Err(key_fatal(e)),
            };
            // The value, for a program (`$(hfguard token get)`): data, not text for people.
            let mut value = zeroize::Zeroizing::new(t.expose().as_bytes().to_vec());
            if !lookup {
                value.push(b'\n');
            }
            let _ = term::data(&value);
            Ok(ExitCode::SUCCESS)
        }
        TokenCmd::Set { name } => {
            let raw = if std::io::stdin().is_terminal() {
                prompt_no_echo(&format!("Token for `{name}` (input hidden): "))
            } else {
                let mut s = String::new();
                std::io::stdin().read_to_string(&mut s).map(|_| s)
            }
            .map_err(|e| Fatal(format!("cannot read the token: {e}")))?;
            let raw = zeroize::Zeroizing::new(raw);
            let value = raw.trim();
            if value.is_empty() {
                return Err(Fatal("empty token; nothing stored".into()));
            }
            let secret = Secret::new(
                value.to_string(),
                hfguard::rules::builtin().prefix_of(value),
            );
            let provider = provider_of(&name, &secret);
            let meta = Slot {
                provider,
                ..Slot::default()
            };
            let journal = Journal::new(home);
            match fix::store_slot(home, &keys, &journal, &name, &secret, meta) {
                Ok(None) => term::warn(&format!("`{name}` already holds {}.", secret.redacted())),
                Ok(Some((id, None))) => term::warn(&format!(
                    "Stored {} as `{name}` in the OS keyring (undo: hfguard undo {id}).",
                    secret.redacted()
                )),
                Ok(Some((id, Some(old)))) => term::warn(&format!(
                    "`{name}` now holds {} instead of {}: everything that looks `{name}` up gets the new token (undo: hfguard undo {id}). Revoke the old one{}.",
                    secret.redacted(),
                    old.redacted,
                    revoke_hint(&name)
                )),
                Err(fix::ApplyError::Key(e)) => return Err(key_fatal(e)),
                Err(e) => return Err(Fatal(e.to_string())),
            }
            Ok(ExitCode::SUCCESS)
        }
        TokenCmd::Rm { name } => {
            keys.delete(&name).map_err(key_fatal)?;
            let _ = slots::update(home, |list| list.retain(|s| s.name != name));
            term::warn(&format!("Removed `{name}` from the OS keyring."));
            Ok(ExitCode::SUCCESS)
        }
        TokenCmd::List => {
            slots::migrate_fingerprints(home, &keys);
            let list = slots::load(home);
            if list.is_empty() {
                term::say("No tokens stored by hfguard. `hfguard fix` moves exposed tokens here; `hfguard token set` adds one.");
                return Ok(ExitCode::SUCCESS);
            }
            let hub = hub_slot(&list).map(|s| s.name.clone());
            for s in &list {
                let value = match keys.get(&s.name) {
                    Ok(t) => t.redacted(),
                    Err(KeyError::NotFound(_)) => "(gone from the keyring)".into(),
                    Err(_) => s
                        .redacted
                        .clone()
                        .map(|r| format!("{r} (keyring not reachable)"))
                        .unwrap_or_else(|| "(keyring not reachable)".into()),
                };
                let label = s
                    .label
                    .as_deref()
                    .map(|l| format!("  [{}]", safe_line(l)))
                    .unwrap_or_default();
                let mark = if hub.as_deref() == Some(s.name.as_str()) {
                    "  ← huggingface_hub uses this one"
                } else {
                    ""
                };
                term::say(&format!("{:<28} {value}{label}{mark}", s.name));
                for c in &s.serves {
                    term::say(&format!("    serves {}", safe_line(&describe(home, c))));
                }
                let flag = if s.name == HF_DEFAULT {
                    String::new()
                } else {
                    format!(" --name {}", s.name)
                };
                term::say(&format!(
                    "    exec: hfguard exec{flag} -- CMD   (sets {})",
                    s.variables().join(", ")
                ));
                for p in &s.previous {
                    let state = match &p.revoked_at {
                        Some(at) => format!("revoked {at}"),
                        None => "revoke it".into(),
                    };
                    term::say(&format!(
                        "    replaced {} on {}: {state}{}",
                        p.redacted,
                        &p.replaced_at[..p.replaced_at.len().min(10)],
                        if p.revoked_at.is_none() {
                            revoke_hint(&s.name)
                        } else {
                            String::new()
                        }
                    ));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

/// The provider of a slot: from the index, else from the token's shape, else the name.
fn provider_of(name: &str, secret: &Secret) -> Option<String> {
    let mut found = Vec::new();
    hfguard::rules::builtin().find(secret.expose().as_bytes(), None, &mut found);
    found
        .into_iter()
        .find_map(|m| m.provider)
        .or_else(|| name.split('-').next().map(str::to_string))
}

fn revoke_hint(name: &str) -> String {
    let provider = name.split('-').next().unwrap_or(name);
    hfguard::rules::builtin()
        .rotation_url(provider)
        .map(|u| format!(" at {u}"))
        .unwrap_or_default()
}

#[derive(Args, Debug)]
pub struct ExecArgs {
    /// The slot to use (repeatable: `--name huggingface --name openai`). Default:
    /// `huggingface`, or the only Hugging Face slot there is.
    #[arg(long = "name")]
    names: Vec<String>,
    /// The variable to set, instead of those the provider's clients read (HF_TOKEN and
    /// HUGGING_FACE_HUB_TOKEN for Hugging Face, OPENAI_API_KEY for OpenAI, …). Only with one
    /// --name.
    #[arg(long)]
    var: Option<String>,
    /// The command and its arguments.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "CMD"
    )]
    command: Vec<std::ffi::OsString>,
}

pub fn exec(home: &Home, args: ExecArgs) -> Result<ExitCode, Fatal> {
    use std::os::unix::process::CommandExt;
    if args.var.is_some() && args.names.len() > 1 {
        return Err(Fatal(
            "--var names one variable: use it with one --name".into(),
        ));
    }
    let keys = KeyStore::new(home);
    let list = slots::load(home);
    let mut names = args.names.clone();
    if names.is_empty() {
        // The default slot; where there is none, the one Hugging Face slot there is (a lone
        // legacy token file, a .env): what a user typing plain `hfguard exec` means.
        let hf: Vec<&Slot> = list
            .iter()
            .filter(|s| s.provider.as_deref() == Some("huggingface"))
            .collect();
        names.push(match hf.as_slice() {
            [only] if !list.iter().any(|s| s.name == HF_DEFAULT) => only.name.clone(),
            _ => HF_DEFAULT.to_string(),
        });
    }
    let mut cmd = std::process::Command::new(&args.command[0]);
    cmd.args(&args.command[1..]);
    for name in &names {
        let t = keys.get(name).map_err(|e| match e {
            KeyError::NotFound(_) => {
                let names: Vec<&str> = list.iter().map(|s| s.name.as_str()).collect();
                Fatal(if names.is_empty() {
                    format!("no slot `{name}` in the OS keyring (hfguard keeps none yet: `hfguard fix` or `hfguard token set --name {name}`)")
                } else {
                    format!("no slot `{name}` in the OS keyring; hfguard keeps: {}", names.join(", "))
                })
            }
            e => key_fatal(e),
        })?;
        let vars = match &args.var {
            Some(v) => vec![v.clone()],
            None => list
                .iter()
                .find(|s| &s.name == name)
                .map(Slot::variables)
                .unwrap_or_else(|| slots::variables_for(name.split('-').next().unwrap_or(name))),
        };
        for v in vars {
            cmd.env(v, t.expose());
        }
    }
    // exec replaces hfguard: exit status and signals are the command's own. No keyring request
    // may be cut off by it.
    hfguard::keystore::settle(hfguard::keystore::TIMEOUT);
    let e = cmd.exec();
    Err(Fatal(format!(
        "cannot run {}: {e}",
        safe_line(&args.command[0].to_string_lossy())
    )))
}

#[derive(Args, Debug)]
pub struct GitCredentialArgs {
    /// The slot that holds the credential.
    #[arg(long, default_value = HF_DEFAULT)]
    name: String,
    /// What git asks: get, store or erase.
    #[arg(value_parser = ["get", "store", "erase"])]
    operation: String,
}

/// The user names a slot serves git for, from the index (none known: any).
fn git_users(list: &[Slot], name: &str) -> Vec<String> {
    list.iter()
        .filter(|s| s.name == name)
        .flat_map(|s| s.serves.iter())
        .filter_map(|c| match c {
            Consumer::Git { user: Some(u), .. } => Some(u.clone()),
            _ => None,
        })
        .collect()
}

/// git's credential helper protocol (`git help credential`): `key=value` lines on stdin.
pub fn git_credential(home: &Home, args: GitCredentialArgs) -> Result<ExitCode, Fatal> {
    let keys = KeyStore::new(home);
    let mut fields = std::collections::BTreeMap::new();
    for line in std::io::stdin().lock().lines() {
        let line = zeroize::Zeroizing::new(
            line.map_err(|e| Fatal(format!("reading git's request: {e}")))?,
        );
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once('=') {
            fields.insert(k.to_string(), zeroize::Zeroizing::new(v.to_string()));
        }
    }
    let list = slots::load(home);
    let users = git_users(&list, &args.name);
    // A request for another account than the slot's is not this slot's to answer: git goes
    // on to its other helpers, or asks.
    let other_account = fields
        .get("username")
        .is_some_and(|u| !users.is_empty() && !users.iter().any(|x| x == u.as_str()));
    match args.operation.as_str() {
        "get" if other_account => Ok(ExitCode::SUCCESS),
        "get" => match keys.get(&args.name) {
            Ok(t) => {
                let user = fields
                    .get("username")
                    .map(|u| u.to_string())
                    .or_else(|| users.first().cloned())
                    .unwrap_or_else(|| "hf_user".into());
                // git's protocol: data for git, not text for people.
                let reply =
                    zeroize::Zeroizing::new(format!("username={user}\npassword={}\n", t.expose()));
                let _ = term::data(reply.as_bytes());
                Ok(ExitCode::SUCCESS)
            }
            // Nothing to offer: git goes on to its other helpers or asks the user.
            Err(KeyError::NotFound(_)) => Ok(ExitCode::SUCCESS),
            Err(e) => {
                term::warn(&format!("hfguard git-credential: {e}"));
                Ok(ExitCode::SUCCESS)
            }
        },
        "store" if other_account => Ok(ExitCode::SUCCESS),
        "store" => {
            // As git-credential-libsecret does: the credential git used successfully replaces
            // what the slot held (a re-login, `hf auth login --add-to-git-credential`). The
            // old value is kept for `hfguard undo`, and the user hears it.
            let Some(pw) = fields.get("password") else {
                return Ok(ExitCode::SUCCESS);
            };
            let secret = Secret::new(pw.to_string(), hfguard::rules::builtin().prefix_of(pw));
            let host = fields
                .get("host")
                .map(|h| h.to_string())
                .unwrap_or_default();
            let meta = Slot {
                provider: hfguard::rules::builtin()
                    .provider_for_host(&host)
                    .or_else(|| provider_of(&args.name, &secret)),
                ..Slot::default()
            };
            let journal = Journal::new(home);
            match fix::store_slot(home, &keys, &journal, &args.name, &secret, meta) {
                Ok(None) => {}
                Ok(Some((id, replaced))) => term::warn(&format!(
                    "hfguard: the keyring's `{}` now holds {}{} for {}; everything that looks `{}` up gets it (undo: hfguard undo {id})",
                    args.name,
                    secret.redacted(),
                    replaced
                        .map(|r| format!(" instead of {}", r.redacted))
                        .unwrap_or_default(),
                    safe_line(&host),
                    args.name
                )),
                Err(e) => term::warn(&format!("hfguard git-credential: could not store the credential: {e}")),
            }
            Ok(ExitCode::SUCCESS)
        }
        _ => {
            // erase: git says the credential was rejected. The slot is shared with start-up
            // files and `exec`, and a rejection can be a permission error rather than a dead
            // token: it stays, and the user hears what to do.
            if let Some(pw) = fields.get("password") {
                if keys
                    .get(&args.name)
                    .is_ok_and(|t| t.expose() == pw.as_str())
                {
                    term::warn(&format!(
                        "hfguard: the server rejected the keyring's `{}`; if the token was revoked, store a new one with `hfguard token set --name {}`",
                        args.name, args.name
                    ));
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[derive(Args, Debug)]
pub struct InstallArgs {
    /// The folder to copy hfguard into (default: ~/.local/bin of the home).
    #[arg(long, value_name = "DIR")]
    dir: Option<std::path::PathBuf>,
}

/// Copies the running hfguard to a folder that stays, so start-up lookups and git's helper
/// can name it.
pub fn install(home: &Home, args: InstallArgs) -> Result<ExitCode, Fatal> {
    let dir = args
        .dir
        .map(|d| home.expand(&d))
        .unwrap_or_else(|| fix::binary::install_dir(home));
    let me = std::env::current_exe()
        .and_then(|p| p.canonicalize())
        .map_err(|e| Fatal(format!("cannot tell where hfguard runs from: {e}")))?;
    let to = dir.join("hfguard");
    let bytes = std::fs::read(&me).map_err(|e| {
        Fatal(format!(
            "{}: {}",
            safe_line(&me.display().to_string()),
            hfguard::fsread::reason(&e)
        ))
    })?;
    if std::fs::read(&to).is_ok_and(|b| b == bytes) {
        term::say(&format!(
            "{} is this hfguard already.",
            display_path(&home.dir, &to)
        ));
        return Ok(ExitCode::SUCCESS);
    }
    std::fs::create_dir_all(&dir).map_err(|e| {
        Fatal(format!(
            "{}: {}",
            display_path(&home.dir, &dir),
            hfguard::fsread::reason(&e)
        ))
    })?;
    fix::atomic::write_new(&to, &bytes, 0o755).map_err(|e| Fatal(e.to_string()))?;
    term::say(&format!(
        "Installed hfguard at {}.",
        display_path(&home.dir, &to)
    ));
    let on_path = home
        .var("PATH")
        .is_some_and(|p| std::env::split_paths(p).any(|d| d == dir));
    if !on_path {
        term::say(&format!(
            "{} is not on your PATH: add `export PATH=\"{}:$PATH\"` to your shell start-up file to run it by name.",
            display_path(&home.dir, &dir),
            dir.display()
        ));
    }
    Ok(ExitCode::SUCCESS)
}
