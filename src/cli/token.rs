//! `hfguard token`, `exec` and `git-credential`: keep using a token that lives in the keyring.

use super::Fatal;
use clap::{Args, Subcommand};
use hfguard::home::Home;
use hfguard::keystore::{KeyError, KeyStore};
use hfguard::secret::Secret;
use hfguard::term;
use std::io::{BufRead, IsTerminal, Read};
use std::process::ExitCode;

#[derive(Subcommand, Debug)]
pub enum TokenCmd {
    /// Print the token (for `$(hfguard token get)`; on a terminal only with --reveal).
    Get {
        #[arg(long, default_value = "huggingface")]
        name: String,
        #[arg(long)]
        reveal: bool,
    },
    /// Store a token, read from a no-echo prompt or standard input (never an argument).
    Set {
        #[arg(long, default_value = "huggingface")]
        name: String,
    },
    /// Remove a token from the keyring.
    Rm {
        #[arg(long, default_value = "huggingface")]
        name: String,
    },
    /// The tokens hfguard keeps, redacted.
    List,
}

fn key_fatal(e: KeyError) -> Fatal {
    Fatal(e.to_string())
}

fn prompt_no_echo(prompt: &str) -> std::io::Result<String> {
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

pub fn token(home: &Home, cmd: TokenCmd) -> Result<ExitCode, Fatal> {
    let keys = KeyStore::new(home);
    match cmd {
        TokenCmd::Get { name, reveal } => {
            if term::stdout_is_terminal() && !reveal {
                return Err(Fatal(
                    "not printing a token to the terminal; use it as `$(hfguard token get)`, or pass --reveal".into(),
                ));
            }
            let t = keys.get(&name).map_err(key_fatal)?;
            // The value, for a program (`$(hfguard token get)`): data, not text for people.
            let mut value = zeroize::Zeroizing::new(t.expose().as_bytes().to_vec());
            if term::stdout_is_terminal() {
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
            keys.set(&name, &secret).map_err(key_fatal)?;
            term::warn(&format!(
                "Stored {} as `{}` in the OS keyring.",
                secret.redacted(),
                term::safe_line(&name)
            ));
            Ok(ExitCode::SUCCESS)
        }
        TokenCmd::Rm { name } => {
            keys.delete(&name).map_err(key_fatal)?;
            term::warn(&format!(
                "Removed `{}` from the OS keyring.",
                term::safe_line(&name)
            ));
            Ok(ExitCode::SUCCESS)
        }
        TokenCmd::List => {
            let names = keys.names();
            if names.is_empty() {
                term::say("No tokens stored by hfguard. Add one with `hfguard token set`.");
            }
            // Names come from the index in the home: one line each, through the gate.
            for n in names {
                let shown = term::safe_line(&n);
                match keys.get(&n) {
                    Ok(t) => term::say(&format!("{shown:<20} {}", t.redacted())),
                    Err(KeyError::NotFound(_)) => {
                        term::say(&format!("{shown:<20} (gone from the keyring)"))
                    }
                    Err(e) => return Err(key_fatal(e)),
                }
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

#[derive(Args, Debug)]
pub struct ExecArgs {
    /// The keyring entry to use.
    #[arg(long, default_value = "huggingface")]
    name: String,
    /// The variable to set (default: HF_TOKEN for huggingface, OPENAI_API_KEY for openai, …).
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

/// The variable a provider's tools read their key from.
pub fn variable_for(name: &str) -> String {
    match name.split('-').next().unwrap_or(name) {
        "huggingface" => "HF_TOKEN".into(),
        "openai" => "OPENAI_API_KEY".into(),
        "anthropic" => "ANTHROPIC_API_KEY".into(),
        "wandb" => "WANDB_API_KEY".into(),
        "replicate" => "REPLICATE_API_TOKEN".into(),
        "groq" => "GROQ_API_KEY".into(),
        "github" => "GITHUB_TOKEN".into(),
        other => format!("{}_TOKEN", other.to_ascii_uppercase().replace('-', "_")),
    }
}

pub fn exec(home: &Home, args: ExecArgs) -> Result<ExitCode, Fatal> {
    use std::os::unix::process::CommandExt;
    let keys = KeyStore::new(home);
    let t = keys.get(&args.name).map_err(key_fatal)?;
    let var = args.var.unwrap_or_else(|| variable_for(&args.name));
    let mut cmd = std::process::Command::new(&args.command[0]);
    cmd.args(&args.command[1..]).env(&var, t.expose());
    drop(t);
    // exec replaces hfguard: exit status and signals are the command's own.
    let e = cmd.exec();
    Err(Fatal(format!(
        "cannot run {}: {e}",
        args.command[0].to_string_lossy()
    )))
}

#[derive(Args, Debug)]
pub struct GitCredentialArgs {
    /// The keyring entry that holds the token.
    #[arg(long, default_value = "huggingface")]
    name: String,
    /// What git asks: get, store or erase.
    #[arg(value_parser = ["get", "store", "erase"])]
    operation: String,
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
    match args.operation.as_str() {
        "get" => match keys.get(&args.name) {
            Ok(t) => {
                let user = fields
                    .get("username")
                    .map(|u| u.to_string())
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
        "store" => {
            // Kept only when the name is free: the entry is shared with start-up files and
            // `exec`, and a password git got elsewhere (typed at a prompt for another account)
            // must not replace it behind their back.
            if let Some(pw) = fields.get("password") {
                match keys.get(&args.name) {
                    Ok(t) if t.expose() == pw.as_str() => {}
                    Ok(_) => term::warn(&format!(
                        "hfguard: git used another credential than the keyring's `{}`; the keyring keeps its own (replace it with `hfguard token set --name {}`)",
                        args.name, args.name
                    )),
                    Err(_) => {
                        let secret =
                            Secret::new(pw.to_string(), hfguard::rules::builtin().prefix_of(pw));
                        keys.set(&args.name, &secret).map_err(key_fatal)?;
                    }
                }
            }
            Ok(ExitCode::SUCCESS)
        }
        _ => {
            // erase: git says the credential was rejected. The entry is shared with start-up
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
