//! The home being audited and where things live in it.
//!
//! [`Home`] pairs the home folder with the environment that was in force (so `--home DIR`
//! audits DIR while `HF_HOME`, `XDG_*`, `NETRC`, … still apply), and [`Home::known_files`]
//! resolves every known credential, start-up and history location exactly as the owning
//! tools do (see docs/checks/).

use crate::kind::FileKind;
use std::collections::HashMap;
use std::ffi::OsString;
use std::path::{Path, PathBuf};

/// The home folder under audit and the environment variables that steer tool locations.
#[derive(Clone, Debug)]
pub struct Home {
    pub dir: PathBuf,
    env: HashMap<String, OsString>,
}

/// A file at a known location, and what it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownFile {
    pub path: PathBuf,
    pub kind: FileKind,
}

/// Folders whose files are AI assistant session logs, relative to home, and the file name
/// endings that count.
pub const AI_LOG_DIRS: [(&str, &str); 4] = [
    (".claude/projects", ".jsonl"),
    (".codex/sessions", ".jsonl"),
    (".gemini/tmp", ".json"),
    (".cursor/chats", ".json"),
];

/// History files at fixed places relative to home (beyond the shells' own).
const REPL_HISTORIES: [&str; 16] = [
    ".python_history",
    ".node_repl_history",
    ".psql_history",
    ".mysql_history",
    ".sqlite_history",
    ".rediscli_history",
    ".irb_history",
    ".Rhistory",
    ".julia/logs/repl_history.jl",
    ".lesshst",
    ".local/share/atuin/history.db",
    // atuin keeps its database in WAL mode: recent commands sit here until a checkpoint.
    ".local/share/atuin/history.db-wal",
    ".aider.input.history",
    ".aider.chat.history.md",
    ".claude.json",
    ".codex/history.jsonl",
];

/// Files bash, zsh, sh and login sessions read at start-up, relative to home.
const STARTUP_FILES: [&str; 15] = [
    ".bashrc",
    ".bash_profile",
    ".bash_login",
    ".bash_logout",
    ".bash_aliases",
    ".profile",
    ".zshrc",
    ".zshenv",
    ".zprofile",
    ".zlogin",
    ".zlogout",
    ".envrc",
    ".pam_environment",
    ".xprofile",
    ".xsessionrc",
];

/// Every variable that moves a known location: what a start-up file may set to send a tool's
/// files elsewhere (see [`crate::shellvars`]).
pub const LOCATION_VARIABLES: [&str; 26] = [
    "HF_HOME",
    "HF_TOKEN_PATH",
    "XDG_CACHE_HOME",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_STATE_HOME",
    "NETRC",
    "KAGGLE_CONFIG_DIR",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
    "CLOUDSDK_CONFIG",
    "GOOGLE_APPLICATION_CREDENTIALS",
    "DOCKER_CONFIG",
    "GH_CONFIG_DIR",
    "ZDOTDIR",
    "HISTFILE",
    "PYTHON_HISTORY",
    "IPYTHONDIR",
    "GIT_CONFIG_GLOBAL",
    // npm reads its `npm_config_*` variables in any case.
    "NPM_CONFIG_USERCONFIG",
    "npm_config_userconfig",
    "PIP_CONFIG_FILE",
    "UV_CONFIG_FILE",
    "POETRY_CONFIG_DIR",
    "CONDARC",
    "MODAL_CONFIG_PATH",
];

/// Files in `~/.ssh` that are not private keys (by name).
const SSH_NOT_KEYS: [&str; 6] = [
    "config",
    "known_hosts",
    "authorized_keys",
    "authorized_keys2",
    "environment",
    "rc",
];

impl Home {
    /// A home with an explicit environment (tests, `--home`).
    pub fn new(dir: impl Into<PathBuf>, env: impl IntoIterator<Item = (String, OsString)>) -> Self {
        Home {
            dir: dir.into(),
            env: env.into_iter().collect(),
        }
    }

    /// `dir` (or the user's home from `dirs`, which honours `$HOME`) with this process's
    /// environment.
    pub fn from_process(dir: Option<PathBuf>) -> Option<Self> {
        let dir = dir.or_else(dirs::home_dir)?;
        // Absolute, so reports and finding ids do not depend on the working folder.
        let dir = std::path::absolute(&dir).unwrap_or(dir);
        let env = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v)))
            .collect::<Vec<_>>();
        Some(Home::new(dir, env))
    }

    /// A non-empty environment variable.
    pub fn var(&self, name: &str) -> Option<&OsString> {
        self.env.get(name).filter(|v| !v.is_empty())
    }

    /// Every variable, for the environment probe.
    pub fn vars(&self) -> impl Iterator<Item = (&String, &OsString)> {
        self.env.iter()
    }

    /// A path from a variable, with `~` expanded against the audited home (as
    /// `os.path.expanduser` would).
    fn var_path(&self, name: &str) -> Option<PathBuf> {
        debug_assert!(
            LOCATION_VARIABLES.contains(&name),
            "{name} moves a known location: list it in LOCATION_VARIABLES"
        );
        self.var(name).map(|v| self.expand(Path::new(v)))
    }

    /// The same home with some variables set (`Some`) or unset (`None`): the environment
    /// another program would have.
    pub fn with_vars<'a>(
        &self,
        vars: impl IntoIterator<Item = (&'a str, Option<&'a OsString>)>,
    ) -> Home {
        let mut env = self.env.clone();
        for (name, value) in vars {
            match value {
                Some(v) => env.insert(name.to_string(), v.clone()),
                None => env.remove(name),
            };
        }
        Home {
            dir: self.dir.clone(),
            env,
        }
    }

    /// Expands a leading `~` and makes relative paths home-relative.
    pub fn expand(&self, p: &Path) -> PathBuf {
        match p.strip_prefix("~") {
            Ok(rest) => self.dir.join(rest),
            Err(_) if p.is_relative() => self.dir.join(p),
            Err(_) => p.to_path_buf(),
        }
    }

    fn xdg(&self, var: &str, default: &str) -> PathBuf {
        self.var_path(var).unwrap_or_else(|| self.dir.join(default))
    }

    pub fn xdg_config(&self) -> PathBuf {
        self.xdg("XDG_CONFIG_HOME", ".config")
    }

    pub fn xdg_cache(&self) -> PathBuf {
        self.xdg("XDG_CACHE_HOME", ".cache")
    }

    pub fn xdg_data(&self) -> PathBuf {
        self.xdg("XDG_DATA_HOME", ".local/share")
    }

    pub fn xdg_state(&self) -> PathBuf {
        self.xdg("XDG_STATE_HOME", ".local/state")
    }

    /// `$HF_HOME`, else `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`.
    pub fn hf_home(&self) -> PathBuf {
        self.var_path("HF_HOME")
            .unwrap_or_else(|| self.xdg_cache().join("huggingface"))
    }

    /// The active token file: `$HF_TOKEN_PATH`, else `<HF home>/token`.
    pub fn hf_token_path(&self) -> PathBuf {
        self.var_path("HF_TOKEN_PATH")
            .unwrap_or_else(|| self.hf_home().join("token"))
    }

    /// hfguard's own configuration file.
    pub fn config_file(&self) -> PathBuf {
        self.xdg_config().join("hfguard/config.toml")
    }

    /// Where zsh keeps its dotfiles.
    fn zdotdir(&self) -> PathBuf {
        self.var_path("ZDOTDIR").unwrap_or_else(|| self.dir.clone())
    }

    /// Every known location, whether or not it exists. Paths may repeat with the same kind
    /// (callers deduplicate); the first kind given for a path wins.
    pub fn known_files(&self) -> Vec<KnownFile> {
        let mut out = Vec::new();
        let mut add = |path: PathBuf, kind: FileKind| out.push(KnownFile { path, kind });

        // Hugging Face, as huggingface_hub resolves it.
        let token = self.hf_token_path();
        let token_dir = token.parent().map(Path::to_path_buf).unwrap_or_default();
        add(token.clone(), FileKind::HfTokenFile);
        add(token_dir.join("stored_tokens"), FileKind::HfStoredTokens);
        // Token files left where huggingface_hub looked before HF_TOKEN_PATH or HF_HOME moved
        // it: still token files (a client run without those variables reads them).
        let mut defaults = vec![self.hf_home()];
        for d in [
            self.xdg_cache().join("huggingface"),
            self.dir.join(".cache/huggingface"),
        ] {
            if !defaults.contains(&d) {
                defaults.push(d);
            }
        }
        for d in defaults {
            if d.join("token") != token {
                add(d.join("token"), FileKind::HfTokenFile);
                add(d.join("stored_tokens"), FileKind::HfStoredTokens);
            }
        }
        add(
            self.dir.join(".cache/huggingface_staging/token"),
            FileKind::HfStagingToken,
        );
        add(self.dir.join(".huggingface/token"), FileKind::HfLegacyToken);

        // Git.
        add(self.dir.join(".git-credentials"), FileKind::GitCredentials);
        add(
            self.xdg_config().join("git/credentials"),
            FileKind::GitCredentials,
        );
        if let Some(p) = self.var_path("GIT_CONFIG_GLOBAL") {
            add(p, FileKind::GitConfig);
        }
        add(self.dir.join(".gitconfig"), FileKind::GitConfig);
        add(self.xdg_config().join("git/config"), FileKind::GitConfig);

        // SSH: ssh reads `~/.ssh` of the user's own home, whatever the environment says.
        let ssh = self.dir.join(".ssh");
        add(ssh.join("config"), FileKind::SshConfig);
        add(ssh.join("authorized_keys"), FileKind::SshAuthorizedKeys);
        add(ssh.join("authorized_keys2"), FileKind::SshAuthorizedKeys);
        for p in ssh_key_candidates(&ssh) {
            add(p, FileKind::SshKey);
        }

        // The ecosystem's credential files.
        add(
            self.var_path("NETRC")
                .unwrap_or_else(|| self.dir.join(".netrc")),
            FileKind::Netrc,
        );
        add(self.dir.join("_netrc"), FileKind::Netrc);
        let mut kaggle_dirs = vec![self.dir.join(".kaggle"), self.xdg_config().join("kaggle")];
        if let Some(d) = self.var_path("KAGGLE_CONFIG_DIR") {
            kaggle_dirs.insert(0, d);
        }
        for d in kaggle_dirs {
            for f in ["kaggle.json", "access_token", "credentials.json"] {
                add(d.join(f), FileKind::KaggleConfig);
            }
        }
        add(
            self.var_path("AWS_SHARED_CREDENTIALS_FILE")
                .unwrap_or_else(|| self.dir.join(".aws/credentials")),
            FileKind::AwsCredentials,
        );
        add(
            self.var_path("AWS_CONFIG_FILE")
                .unwrap_or_else(|| self.dir.join(".aws/config")),
            FileKind::AwsCredentials,
        );
        let gcloud = self
            .var_path("CLOUDSDK_CONFIG")
            // gcloud ignores XDG_CONFIG_HOME: always ~/.config/gcloud.
            .unwrap_or_else(|| self.dir.join(".config/gcloud"));
        add(
            gcloud.join("application_default_credentials.json"),
            FileKind::GcloudCredentials,
        );
        add(gcloud.join("credentials.db"), FileKind::GcloudCredentials);
        add(gcloud.join("access_tokens.db"), FileKind::GcloudCredentials);
        if let Some(p) = self.var_path("GOOGLE_APPLICATION_CREDENTIALS") {
            add(p, FileKind::GcloudCredentials);
        }
        add(
            self.var_path("DOCKER_CONFIG")
                .unwrap_or_else(|| self.dir.join(".docker"))
                .join("config.json"),
            FileKind::DockerConfig,
        );
        add(self.dir.join(".pypirc"), FileKind::Pypirc);

        // Package managers.
        add(
            self.var_path("NPM_CONFIG_USERCONFIG")
                .or_else(|| self.var_path("npm_config_userconfig"))
                .unwrap_or_else(|| self.dir.join(".npmrc")),
            FileKind::Npmrc,
        );
        if let Some(p) = self.var_path("PIP_CONFIG_FILE") {
            add(p, FileKind::PipConfig);
        }
        add(self.xdg_config().join("pip/pip.conf"), FileKind::PipConfig);
        add(self.dir.join(".pip/pip.conf"), FileKind::PipConfig);
        if let Some(p) = self.var_path("UV_CONFIG_FILE") {
            add(p, FileKind::UvConfig);
        }
        add(self.xdg_config().join("uv/uv.toml"), FileKind::UvConfig);
        add(
            self.xdg_data().join("uv/credentials/credentials.toml"),
            FileKind::UvCredentials,
        );
        add(
            self.var_path("POETRY_CONFIG_DIR")
                .unwrap_or_else(|| self.xdg_config().join("pypoetry"))
                .join("auth.toml"),
            FileKind::PoetryAuth,
        );
        // conda's user search path (conda/base/constants.py SEARCH_PATH), then $CONDARC.
        let conda_dirs = [
            self.xdg_config().join("conda"),
            self.dir.join(".config/conda"),
            self.dir.join(".conda"),
        ];
        for d in &conda_dirs {
            add(d.join(".condarc"), FileKind::Condarc);
            add(d.join("condarc"), FileKind::Condarc);
            for p in list_dir(&d.join("condarc.d")) {
                if p.extension().is_some_and(|e| e == "yml" || e == "yaml") {
                    add(p, FileKind::Condarc);
                }
            }
        }
        add(self.dir.join(".condarc"), FileKind::Condarc);
        if let Some(p) = self.var_path("CONDARC") {
            add(p, FileKind::Condarc);
        }

        // ML platforms with a credential file of their own.
        add(
            self.var_path("MODAL_CONFIG_PATH")
                .unwrap_or_else(|| self.dir.join(".modal.toml")),
            FileKind::ModalConfig,
        );
        add(
            self.var_path("GH_CONFIG_DIR")
                .unwrap_or_else(|| self.xdg_config().join("gh"))
                .join("hosts.yml"),
            FileKind::GhConfig,
        );

        // Start-up files.
        let zdot = self.zdotdir();
        for f in STARTUP_FILES {
            let dir = if f.starts_with(".z") {
                &zdot
            } else {
                &self.dir
            };
            add(dir.join(f), FileKind::StartupFile);
        }
        add(
            self.xdg_config().join("fish/config.fish"),
            FileKind::StartupFile,
        );
        for (dir, ext) in [
            (self.xdg_config().join("fish/conf.d"), "fish"),
            (self.xdg_config().join("environment.d"), "conf"),
        ] {
            for p in list_dir(&dir) {
                if p.extension().is_some_and(|e| e == ext) {
                    add(p, FileKind::StartupFile);
                }
            }
        }

        // Histories.
        add(
            self.var_path("HISTFILE")
                .unwrap_or_else(|| self.dir.join(".bash_history")),
            FileKind::ShellHistory,
        );
        add(self.dir.join(".bash_history"), FileKind::ShellHistory);
        add(zdot.join(".zsh_history"), FileKind::ShellHistory);
        add(zdot.join(".zhistory"), FileKind::ShellHistory);
        add(zdot.join(".histfile"), FileKind::ShellHistory);
        add(self.dir.join(".sh_history"), FileKind::ShellHistory);
        add(
            self.xdg_data().join("fish/fish_history"),
            FileKind::ShellHistory,
        );
        if let Some(p) = self.var_path("PYTHON_HISTORY") {
            add(p, FileKind::ReplHistory);
        }
        for f in REPL_HISTORIES {
            add(self.dir.join(f), FileKind::ReplHistory);
        }
        let ipython = self
            .var_path("IPYTHONDIR")
            .unwrap_or_else(|| self.dir.join(".ipython"));
        for profile in list_dir(&ipython) {
            if profile
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("profile_"))
            {
                add(profile.join("history.sqlite"), FileKind::ReplHistory);
            }
        }
        out
    }
}

/// Files in `~/.ssh` that may be private keys: regular files (or links) whose names are not
/// those of ssh's other files, public keys or sockets.
fn ssh_key_candidates(dir: &Path) -> Vec<PathBuf> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut v: Vec<PathBuf> = rd
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file() || t.is_symlink()))
        .filter(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            !(name.ends_with(".pub")
                || name.starts_with("known_hosts")
                || SSH_NOT_KEYS.contains(&name.as_ref()))
        })
        .map(|e| e.path())
        .collect();
    v.sort();
    v
}

/// Entries of a folder, or nothing when it cannot be read.
fn list_dir(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn home(env: &[(&str, &str)]) -> Home {
        Home::new(
            "/h",
            env.iter().map(|(k, v)| (k.to_string(), OsString::from(v))),
        )
    }

    #[test]
    fn hf_locations_follow_huggingface_hub() {
        assert_eq!(
            home(&[]).hf_token_path(),
            PathBuf::from("/h/.cache/huggingface/token")
        );
        assert_eq!(
            home(&[("XDG_CACHE_HOME", "/x")]).hf_token_path(),
            PathBuf::from("/x/huggingface/token")
        );
        let h = home(&[("HF_HOME", "~/hf"), ("XDG_CACHE_HOME", "/x")]);
        assert_eq!(h.hf_token_path(), PathBuf::from("/h/hf/token"));
        let h = home(&[("HF_TOKEN_PATH", "/t/tok")]);
        let known = h.known_files();
        assert!(known.contains(&KnownFile {
            path: "/t/stored_tokens".into(),
            kind: FileKind::HfStoredTokens
        }));
        assert!(known.contains(&KnownFile {
            path: "/h/.cache/huggingface/token".into(),
            kind: FileKind::HfTokenFile
        }));
    }
}
