//! The `hfguard` command line: a thin front end over the library.

mod cli;
use cli::Fatal;

use clap::{Args, CommandFactory, Parser, Subcommand, ValueEnum};
use hfguard::audit::{self, ScanOptions, Sink};
use hfguard::config::Config;
use hfguard::finding::Severity;
use hfguard::home::Home;
use hfguard::report::{self, Format, TextStyle};
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// `hfguard --version`: the release and the git commit it was built from (build.rs).
const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("HFGUARD_COMMIT"),
    ")"
);

/// Audit this machine for exposed Hugging Face (and OpenAI, W&B, Kaggle, AWS, GitHub, …)
/// credentials, and fix them.
///
/// Without a command on a terminal, hfguard opens the dashboard: findings stream in, `f`
/// fixes the selected one after showing the exact change, `?` lists the keys. Off a terminal
/// it prints the report. `hfguard scan` is the audit for scripts and onboarding checklists,
/// with JSON, SARIF and Markdown output.
///
/// Exit codes: 0 nothing at or above --fail-on, 1 findings at or above it, 2 usage or fatal
/// error.
#[derive(Parser, Debug)]
#[command(
    name = "hfguard",
    version = VERSION,
    propagate_version = true,
    max_term_width = 100
)]
struct Cli {
    /// Audit DIR as if it were your home (default: your home; $HOME is honoured).
    #[arg(long, global = true, value_name = "DIR")]
    home: Option<PathBuf>,

    /// Configuration file (default: $XDG_CONFIG_HOME/hfguard/config.toml under the home).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,

    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Audit the home and print a report (never changes anything).
    Scan(ScanArgs),
    /// Fix findings: chmod, move into the OS keyring, redact. Shows the plan first.
    Fix(cli::fix::FixArgs),
    /// Undo a fix (default: the last one), restoring files byte for byte.
    Undo(cli::fix::UndoArgs),
    /// The journal of fixes: what was changed, when, and how to undo it.
    History,
    /// Credential slots in the OS keyring: get, set, rm, and list (what each serves, which one
    /// huggingface_hub uses).
    #[command(subcommand)]
    Token(cli::token::TokenCmd),
    /// Run a command with a slot's token in its environment (HF_TOKEN and
    /// HUGGING_FACE_HUB_TOKEN by default).
    Exec(cli::token::ExecArgs),
    /// git credential helper serving tokens and passwords from the keyring (set up by `fix`).
    GitCredential(cli::token::GitCredentialArgs),
    /// Replace a slot's token with a new one: opens the provider's token page, reads the new
    /// token, replaces the slot's value and every plaintext copy of the old one, and says
    /// where to revoke it (`--done` once it is revoked).
    Rotate(cli::rotate::RotateArgs),
    /// Copy this hfguard to a folder that stays (default ~/.local/bin), for the lookups `fix`
    /// writes into start-up files and git's config.
    Install(cli::token::InstallArgs),
    /// Watch for regressions: report a re-exposed token the moment it lands.
    Watch(cli::watch::WatchArgs),
    /// Keep secrets out of shell histories from now on (bash, zsh, fish, atuin).
    ///
    /// Installs, in each shell's start-up file (atuin: its config), a marked block with a
    /// filter generated from hfguard's rules that keeps a command line holding a secret out of
    /// the history: bash a `PROMPT_COMMAND` hook in ~/.bashrc, zsh a `zshaddhistory` hook in
    /// ~/.zshrc, fish `fish_should_add_to_history` (fish 4) or a `fish_postexec` handler
    /// (fish 3) in config.fish, atuin `history_filter` regexes. Journaled like every fix:
    /// `hfguard undo` reverts it, `--remove` takes the block out and leaves each file byte for
    /// byte as before. Secrets already in a history stay there: `hfguard fix` redacts them.
    /// More in docs/tokens.md.
    ///
    /// Exit codes: 0 done (or nothing to do), 1 a shell's file could not be changed (the
    /// reason is printed), 2 usage or fatal error.
    Guard(cli::guard::GuardArgs),
    /// Print a completion script for SHELL: `source <(hfguard completions bash)` (the README
    /// says where to install it for good).
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff): `hfguard man | man -l -`. With --dir, write one page per
    /// command there (hfguard.1, hfguard-scan.1, …) to install under a man path.
    Man {
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

#[derive(Args, Debug, Default)]
struct ScanArgs {
    /// Also walk P (repeatable): project folders outside the home.
    #[arg(long = "path", value_name = "P")]
    paths: Vec<PathBuf>,

    /// Check only the known locations, the environment and processes (no walk of the home).
    #[arg(long)]
    quick: bool,

    /// Report format.
    #[arg(long, value_enum, default_value_t = FormatArg::Text)]
    format: FormatArg,

    /// Write the report to FILE instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    output: Option<PathBuf>,

    /// Exit with 1 when a finding at or above this severity remains.
    #[arg(long, value_enum, default_value_t = FailOn::Low, value_name = "SEVERITY")]
    fail_on: FailOn,

    /// Leave out a probe (repeatable).
    #[arg(long, value_enum, value_name = "PROBE")]
    skip: Vec<Probe>,

    /// List `info` findings one by one in the text report.
    #[arg(long, short)]
    verbose: bool,

    /// Ask each secret's provider whether it is live and what it can do: one request per
    /// distinct Hugging Face token to $HF_ENDPOINT/api/whoami-v2 (default
    /// https://huggingface.co), the token in a header. Off unless given here or set with
    /// `[verify] enabled = true` in the configuration (docs/tokens.md).
    #[arg(long, conflicts_with = "no_verify")]
    verify: bool,

    /// Do not verify, even when the configuration turns verification on.
    #[arg(long)]
    no_verify: bool,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
enum FormatArg {
    #[default]
    Text,
    Json,
    Sarif,
    Markdown,
}

#[derive(Clone, Copy, Debug, Default, ValueEnum)]
enum FailOn {
    Critical,
    High,
    Medium,
    #[default]
    Low,
    /// Findings at `info` (a tool's own credential file, a token in a process environment).
    Info,
    /// Always exit 0 unless something fails.
    Never,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Probe {
    /// Command lines and environments of running processes.
    Processes,
    /// This process's environment variables.
    Environment,
    /// The walk of the home and --path roots.
    Walk,
}

impl FailOn {
    fn threshold(self) -> Option<Severity> {
        match self {
            FailOn::Critical => Some(Severity::Critical),
            FailOn::High => Some(Severity::High),
            FailOn::Medium => Some(Severity::Medium),
            FailOn::Low => Some(Severity::Low),
            FailOn::Info => Some(Severity::Info),
            FailOn::Never => None,
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let code = match run(cli) {
        Ok(code) => code,
        // Every error leaves through the output gate: a path or name in it is masked and
        // escaped.
        Err(Fatal(msg)) => {
            hfguard::term::warn(&format!("hfguard: {msg}"));
            ExitCode::from(2)
        }
    };
    hfguard::keystore::settle(hfguard::keystore::TIMEOUT);
    code
}

fn run(cli: Cli) -> Result<ExitCode, Fatal> {
    // Generated from the command-line definition itself; they need no home.
    match &cli.command {
        Some(Command::Completions { shell }) => return completions(*shell),
        Some(Command::Man { dir }) => return man(dir.as_deref()),
        _ => {}
    }
    let home = resolve_home(cli.home.as_ref())?;
    // Fingerprints and ids are keyed with the audited home's key (read, or made once, when
    // the first one is needed).
    hfguard::fingerprint::use_home(&home);
    // Read only by the commands that use it: `token`, `exec`, `git-credential`, `undo` and
    // `history` never open it, so a broken (or hostile: a FIFO) config.toml cannot stop the
    // lookups new shells and git run, or the way back.
    let config = || -> Result<Config, Fatal> {
        match &cli.config {
            Some(path) => Config::load(path, true),
            None => Config::load(&home.config_file(), false),
        }
        .map_err(Fatal)
    };
    match cli.command {
        Some(Command::Scan(ref args)) => scan(&home, config()?, args, false),
        Some(Command::Fix(args)) => cli::fix::fix(&home, config()?, args),
        Some(Command::Undo(args)) => cli::fix::undo(&home, args),
        Some(Command::History) => cli::fix::history(&home),
        Some(Command::Token(cmd)) => cli::token::token(&home, cmd),
        Some(Command::Exec(args)) => cli::token::exec(&home, args),
        Some(Command::GitCredential(args)) => cli::token::git_credential(&home, args),
        Some(Command::Install(args)) => cli::token::install(&home, args),
        Some(Command::Rotate(args)) => cli::rotate::rotate(&home, config()?, args),
        Some(Command::Watch(args)) => cli::watch::watch(&home, config()?, args),
        Some(Command::Guard(args)) => cli::guard::guard(&home, args),
        Some(Command::Completions { .. } | Command::Man { .. }) => unreachable!("handled above"),
        None if hfguard::term::stdout_is_terminal() && std::io::stdin().is_terminal() => {
            let config_path = cli.config.clone().unwrap_or_else(|| home.config_file());
            let options = ScanOptions {
                config: config()?,
                ..Default::default()
            };
            hfguard::tui::run(home, options, config_path)
                .map_err(|e| Fatal(format!("the dashboard failed: {e}")))?;
            Ok(ExitCode::SUCCESS)
        }
        // The dashboard needs a terminal; anywhere else the report is what helps.
        None => scan(&home, config()?, &ScanArgs::default(), true),
    }
}

fn completions(shell: clap_complete::Shell) -> Result<ExitCode, Fatal> {
    let mut out = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "hfguard", &mut out);
    write_stdout(&out)
}

fn man(dir: Option<&std::path::Path>) -> Result<ExitCode, Fatal> {
    let cmd = Cli::command();
    match dir {
        Some(dir) => {
            clap_mangen::generate_to(cmd, dir).map_err(|e| {
                Fatal(format!(
                    "{}: cannot write the manual pages: {}",
                    show(dir),
                    hfguard::fsread::reason(&e)
                ))
            })?;
            hfguard::term::warn(&format!("hfguard: manual pages written to {}", show(dir)));
            Ok(ExitCode::SUCCESS)
        }
        None => {
            let mut out = Vec::new();
            clap_mangen::Man::new(cmd)
                .render(&mut out)
                .map_err(|e| Fatal(format!("cannot render the manual page: {e}")))?;
            write_stdout(&out)
        }
    }
}

/// Writes a completion script or a manual page: bytes for a program (the shell, `man`), so
/// they go out as they are (`term::data`); a closed pipe (`| head`) is not an error.
fn write_stdout(bytes: &[u8]) -> Result<ExitCode, Fatal> {
    match hfguard::term::data(bytes) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Fatal(format!("cannot write to standard output: {e}")))
        }
        _ => Ok(ExitCode::SUCCESS),
    }
}

/// A path for an error message: one line, masked, escaped.
fn show(p: &std::path::Path) -> String {
    hfguard::redact::show_path(p)
}

fn resolve_home(dir: Option<&PathBuf>) -> Result<Home, Fatal> {
    let home = Home::from_process(dir.cloned()).ok_or_else(|| {
        Fatal("cannot tell where your home is: set $HOME or pass --home DIR".into())
    })?;
    match std::fs::metadata(&home.dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => return Err(Fatal(format!("{}: not a folder", show(&home.dir)))),
        Err(e) => {
            return Err(Fatal(format!(
                "{}: {}",
                show(&home.dir),
                hfguard::fsread::reason(&e)
            )))
        }
    }
    Ok(home)
}

fn scan(home: &Home, config: Config, args: &ScanArgs, bare: bool) -> Result<ExitCode, Fatal> {
    for p in &args.paths {
        if !p.is_dir() {
            return Err(Fatal(format!("--path {}: not a folder", show(p))));
        }
    }
    let verify = args.verify || (config.verify.enabled && !args.no_verify);
    let options = ScanOptions {
        quick: args.quick,
        extra_roots: cli::absolute_paths(&args.paths),
        keep_secrets: verify,
        config,
        skip_probes: args
            .skip
            .iter()
            .map(|p| {
                p.to_possible_value()
                    .expect("no skipped variants")
                    .get_name()
                    .to_string()
            })
            .collect(),
    };
    let stderr_tty = hfguard::term::stderr_is_terminal();
    let progress = Progress::new(stderr_tty && std::env::var_os("NO_PROGRESS").is_none());
    let mut report = audit::run(home, &options, &progress);
    progress.clear();
    if verify {
        verify_secrets(home, &mut report, stderr_tty);
    }

    let format = args.format.into_format();
    let to_terminal = args.output.is_none() && hfguard::term::stdout_is_terminal();
    let style = TextStyle {
        color: to_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        verbose: args.verbose,
    };
    let mut text = report::render(&report, format, style);
    if bare && args.format == FormatArg::Text {
        text.push(&hfguard::term::text(
            "\nThe interactive dashboard opens when `hfguard` runs on a terminal; `hfguard scan --help` lists report options.\n",
        ));
    }
    match &args.output {
        Some(path) => {
            write_output(path, text.as_str()).map_err(|e| {
                Fatal(format!(
                    "{}: cannot write the report: {}",
                    show(path),
                    hfguard::fsread::reason(&e)
                ))
            })?;
            hfguard::term::warn(&format!("hfguard: report written to {}", show(path)));
        }
        None => match hfguard::term::out(&text) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                return Err(Fatal(format!("cannot write to standard output: {e}")));
            }
            _ => {}
        },
    }
    Ok(if report.fails_at(args.fail_on.threshold()) {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Asks the providers about the report's secrets (and the replaced values waiting to be
/// revoked), then lets severity follow power.
fn verify_secrets(home: &Home, report: &mut audit::Report, tell: bool) {
    let mut candidates = report.candidates();
    candidates.extend(hfguard::inventory::replaced_values(home, &report.secrets));
    let settings = hfguard::verify::Settings::for_home(home);
    if tell && !candidates.is_empty() {
        hfguard::term::warn(&format!(
            "hfguard: verifying {} secret(s) with their providers (--verify)…",
            candidates.len()
        ));
    }
    let results = hfguard::verify::verify_all(&settings, &candidates);
    report.kept.clear();
    report.inventory(home, &results);
}

impl FormatArg {
    fn into_format(self) -> Format {
        match self {
            FormatArg::Text => Format::Text,
            FormatArg::Json => Format::Json,
            FormatArg::Sarif => Format::Sarif,
            FormatArg::Markdown => Format::Markdown,
        }
    }
}

/// Reports hold paths and redacted secrets: private (0600) whether the file is new or was
/// already there (made 0600 before a byte is written), and never written through a symlink
/// or into anything but a regular file.
fn write_output(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .mode(0o600)
        .custom_flags(nix::libc::O_NOFOLLOW | nix::libc::O_NONBLOCK | nix::libc::O_NOCTTY)
        .open(path)
        .map_err(|e| match e.raw_os_error() {
            Some(nix::libc::ELOOP) => std::io::Error::other(
                "it is a symlink; hfguard does not write a report through a link",
            ),
            Some(nix::libc::ENXIO) => std::io::Error::other("it is a FIFO or a device"),
            _ => e,
        })?;
    if !f.metadata()?.is_file() {
        return Err(std::io::Error::other("it is not a regular file"));
    }
    f.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    f.set_len(0)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

/// A one-line progress indicator on standard error while the walk runs (only on a terminal).
struct Progress {
    enabled: bool,
    last: Mutex<Option<Instant>>,
    started: Instant,
}

impl Progress {
    fn new(enabled: bool) -> Self {
        Progress {
            enabled,
            last: Mutex::new(None),
            started: Instant::now(),
        }
    }

    fn clear(&self) {
        if self.enabled && self.last.lock().unwrap().is_some() {
            hfguard::term::progress(None);
        }
    }
}

impl Sink for Progress {
    fn progress(&self, files: u64) {
        if !self.enabled || self.started.elapsed() < Duration::from_millis(300) {
            return;
        }
        let mut last = self.last.lock().unwrap();
        if last.is_some_and(|t| t.elapsed() < Duration::from_millis(100)) {
            return;
        }
        *last = Some(Instant::now());
        hfguard::term::progress(Some(&format!("hfguard: scanning… {files} files")));
    }
}
