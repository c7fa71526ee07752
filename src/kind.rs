//! Kinds of places a secret can be: every file, variable or process the audit looks at has
//! one, and the kind decides the finding's category, severity, message and available fixes.

use crate::finding::{Category, FixKind, Severity};
use serde::{Deserialize, Serialize};

/// What a scanned file is. Known locations get their kind from where they are; files met in
/// the home walk are classified by name.
/// Python source, whose string literals a fix can turn into environment lookups.
pub fn is_python_source(path: &std::path::Path) -> bool {
    path.extension().is_some_and(|e| e == "py" || e == "pyw")
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    /// The active Hugging Face token file (`$HF_TOKEN_PATH`, `$HF_HOME/token`).
    HfTokenFile,
    /// `stored_tokens`: every token saved by `hf auth login`.
    HfStoredTokens,
    /// `~/.cache/huggingface_staging/token`.
    HfStagingToken,
    /// `~/.huggingface/token`, written by huggingface_hub ≤ 0.11 and never deleted.
    HfLegacyToken,
    GitCredentials,
    Netrc,
    KaggleConfig,
    AwsCredentials,
    GcloudCredentials,
    DockerConfig,
    Pypirc,
    GhConfig,
    /// A private key file: in `~/.ssh`, or named by an `IdentityFile` of the SSH config.
    SshKey,
    /// `~/.ssh/config` and the files it includes.
    SshConfig,
    /// `~/.ssh/authorized_keys`: who may log in as the user.
    SshAuthorizedKeys,
    /// npm's user configuration (`$NPM_CONFIG_USERCONFIG`, `~/.npmrc`).
    Npmrc,
    /// pip's configuration files (`$PIP_CONFIG_FILE`, `~/.config/pip/pip.conf`, `~/.pip/pip.conf`).
    PipConfig,
    /// uv's user configuration (`$UV_CONFIG_FILE`, `~/.config/uv/uv.toml`).
    UvConfig,
    /// uv's plaintext credential store (`uv auth login`).
    UvCredentials,
    /// Poetry's `auth.toml`.
    PoetryAuth,
    /// conda's user configuration (`.condarc` in its search path, `$CONDARC`).
    Condarc,
    /// Modal's `~/.modal.toml` (`$MODAL_CONFIG_PATH`).
    ModalConfig,
    /// A project's package configuration met in the walk: `pyproject.toml`, `uv.toml`,
    /// `.npmrc`, `pip.conf`, `.condarc`, `poetry.toml`. Often committed.
    PackageManifest,
    /// Global git configuration (`~/.gitconfig`, `$XDG_CONFIG_HOME/git/config`).
    GitConfig,
    /// A file a shell reads at start-up (or one such a file sources).
    StartupFile,
    ShellHistory,
    ReplHistory,
    AiSessionLog,
    /// `.git/config` of a repository: remote URLs.
    GitRemote,
    Notebook,
    EnvFile,
    /// A compressed archive or other binary container whose text was searched.
    Archive,
    /// Any other file met in the walk: source, configs, logs.
    ProjectFile,
}

impl FileKind {
    pub const ALL: [FileKind; 33] = {
        use FileKind::*;
        [
            HfTokenFile,
            HfStoredTokens,
            HfStagingToken,
            HfLegacyToken,
            GitCredentials,
            Netrc,
            KaggleConfig,
            AwsCredentials,
            GcloudCredentials,
            DockerConfig,
            Pypirc,
            GhConfig,
            SshKey,
            SshConfig,
            SshAuthorizedKeys,
            Npmrc,
            PipConfig,
            UvConfig,
            UvCredentials,
            PoetryAuth,
            Condarc,
            ModalConfig,
            PackageManifest,
            GitConfig,
            StartupFile,
            ShellHistory,
            ReplHistory,
            AiSessionLog,
            GitRemote,
            Notebook,
            EnvFile,
            Archive,
            ProjectFile,
        ]
    };

    /// The kind of file a finding's rule (`<detector>-in-<slug>`, `<slug>-permissions`)
    /// names, if any.
    pub fn from_rule(rule: &str) -> Option<FileKind> {
        Self::ALL.into_iter().find(|k| {
            rule.ends_with(&format!("-in-{}", k.slug()))
                || rule == format!("{}-permissions", k.slug())
                || rule == format!("{}-owner", k.slug())
        })
    }

    /// The place part of rule ids: `hf-token-in-<slug>`.
    pub fn slug(self) -> &'static str {
        use FileKind::*;
        match self {
            HfTokenFile => "token-file",
            HfStoredTokens => "stored-tokens",
            HfStagingToken => "staging-token-file",
            HfLegacyToken => "legacy-token-file",
            GitCredentials => "git-credentials",
            Netrc => "netrc",
            KaggleConfig => "kaggle-config",
            AwsCredentials => "aws-credentials",
            GcloudCredentials => "gcloud-credentials",
            DockerConfig => "docker-config",
            Pypirc => "pypirc",
            GhConfig => "gh-config",
            SshKey => "ssh-key",
            SshConfig => "ssh-config",
            SshAuthorizedKeys => "ssh-authorized-keys",
            Npmrc => "npmrc",
            PipConfig => "pip-config",
            UvConfig => "uv-config",
            UvCredentials => "uv-credentials",
            PoetryAuth => "poetry-auth",
            Condarc => "condarc",
            ModalConfig => "modal-config",
            PackageManifest => "package-manifest",
            GitConfig => "git-config",
            StartupFile => "startup-file",
            ShellHistory => "shell-history",
            ReplHistory => "repl-history",
            AiSessionLog => "ai-session-log",
            GitRemote => "git-remote",
            Notebook => "notebook",
            EnvFile => "env-file",
            Archive => "archive",
            ProjectFile => "project-file",
        }
    }

    /// Words for messages: "in <description>".
    pub fn description(self) -> &'static str {
        use FileKind::*;
        match self {
            HfTokenFile => "the Hugging Face token file",
            HfStoredTokens => "Hugging Face's stored_tokens file",
            HfStagingToken => "the Hugging Face staging token file",
            HfLegacyToken => "the legacy Hugging Face token file (huggingface_hub ≤ 0.11 wrote it; logout never deletes it)",
            GitCredentials => "git's plaintext credential store",
            Netrc => ".netrc",
            KaggleConfig => "the Kaggle configuration",
            AwsCredentials => "the AWS credentials file",
            GcloudCredentials => "Google Cloud credentials",
            DockerConfig => "Docker's config.json",
            Pypirc => ".pypirc",
            GhConfig => "the GitHub CLI configuration",
            SshKey => "an SSH private key file",
            SshConfig => "the SSH client configuration",
            SshAuthorizedKeys => "SSH's authorized_keys",
            Npmrc => "npm's .npmrc",
            PipConfig => "pip's configuration",
            UvConfig => "uv's configuration",
            UvCredentials => "uv's plaintext credential store",
            PoetryAuth => "Poetry's auth.toml",
            Condarc => "conda's .condarc",
            ModalConfig => "Modal's .modal.toml",
            PackageManifest => "a project's package configuration",
            GitConfig => "the global git configuration",
            StartupFile => "a shell start-up file",
            ShellHistory => "a shell history",
            ReplHistory => "a REPL or tool history",
            AiSessionLog => "an AI coding assistant's session log",
            GitRemote => "a git remote URL",
            Notebook => "a Jupyter notebook",
            EnvFile => "a .env file",
            Archive => "an archive or binary file",
            ProjectFile => "a file",
        }
    }

    pub fn category(self) -> Category {
        use FileKind::*;
        match self {
            HfTokenFile | HfStoredTokens | HfStagingToken | HfLegacyToken => Category::TokenFile,
            GitCredentials | GitConfig | GitRemote => Category::Git,
            Netrc | KaggleConfig | AwsCredentials | GcloudCredentials | DockerConfig | Pypirc
            | GhConfig | SshKey | SshConfig | SshAuthorizedKeys | Npmrc | PipConfig | UvConfig
            | UvCredentials | PoetryAuth | Condarc | ModalConfig | StartupFile => Category::Dotfile,
            ShellHistory | ReplHistory | AiSessionLog => Category::History,
            Notebook | EnvFile | Archive | PackageManifest | ProjectFile => Category::Project,
        }
    }

    /// The provider whose own credential store this is: a secret of that provider here is
    /// where the provider's tool put it (`info`), anything else does not belong here.
    pub fn owner(self) -> Option<&'static str> {
        use FileKind::*;
        match self {
            Netrc => Some("wandb"),
            KaggleConfig => Some("kaggle"),
            AwsCredentials => Some("aws"),
            GcloudCredentials => Some("gcp"),
            DockerConfig => Some("docker"),
            Pypirc => Some("pypi"),
            GhConfig => Some("github"),
            SshKey => Some("ssh"),
            Npmrc => Some("npm"),
            ModalConfig => Some("modal"),
            _ => None,
        }
    }

    /// Files whose whole purpose is to hold credentials: they must be private (0600, owned by
    /// the user), and so should the folder that holds them (0700).
    pub fn is_credential_store(self) -> bool {
        use FileKind::*;
        matches!(
            self,
            HfTokenFile
                | HfStoredTokens
                | HfStagingToken
                | HfLegacyToken
                | GitCredentials
                | Netrc
                | KaggleConfig
                | AwsCredentials
                | GcloudCredentials
                | DockerConfig
                | Pypirc
                | GhConfig
                | SshKey
                | Npmrc
                | PipConfig
                | UvConfig
                | UvCredentials
                | PoetryAuth
                | Condarc
                | ModalConfig
        )
    }

    /// Files whose content is a secret whatever it looks like (`stored_tokens`, gcloud's
    /// token databases): non-empty means it holds one. (A token file's whole content is taken
    /// as a token unless it is a placeholder, so it needs no such rule.) Other credential files (`~/.aws/config`
    /// with only a region, a Docker config using `credsStore`) hold one only when a rule
    /// finds it.
    pub fn holds_secrets_by_nature(self) -> bool {
        use FileKind::*;
        matches!(
            self,
            HfStoredTokens | GcloudCredentials | KaggleConfig | UvCredentials | PoetryAuth
        )
    }

    /// Whether the Hugging Face token file formats apply (the whole file is one token).
    pub fn is_hf_token_file(self) -> bool {
        matches!(
            self,
            FileKind::HfTokenFile | FileKind::HfStagingToken | FileKind::HfLegacyToken
        )
    }

    /// Files that hold secrets by nature and so must not be readable by others when they do.
    pub fn should_be_private(self) -> bool {
        self.is_credential_store()
            || matches!(
                self,
                FileKind::ShellHistory | FileKind::ReplHistory | FileKind::AiSessionLog
            )
    }

    /// Severity of a secret found in this kind of file.
    pub fn secret_severity(self, provider: Option<&str>) -> Severity {
        use FileKind::*;
        match self {
            HfTokenFile | HfStoredTokens | HfStagingToken | HfLegacyToken | GitCredentials => {
                Severity::Medium
            }
            // A private key in its own file is where ssh keeps it, whatever its format.
            SshKey if matches!(provider, Some("ssh" | "private-key")) => Severity::Info,
            // `.netrc` is where pip, requests and curl read a host's login from: an entry for
            // any host but Hugging Face's is where its clients expect it.
            Netrc if provider != Some("huggingface") => Severity::Info,
            Netrc | KaggleConfig | AwsCredentials | GcloudCredentials | DockerConfig | Pypirc
            | GhConfig | SshKey | Npmrc | PipConfig | UvConfig | UvCredentials | PoetryAuth
            | Condarc | ModalConfig => {
                if provider.is_some() && provider == self.owner() {
                    Severity::Info
                } else {
                    Severity::Medium
                }
            }
            EnvFile | Archive => Severity::Medium,
            GitConfig | StartupFile | ShellHistory | ReplHistory | AiSessionLog | GitRemote
            | Notebook | SshConfig | SshAuthorizedKeys | PackageManifest | ProjectFile => {
                Severity::High
            }
        }
    }

    /// Fixes that apply to a secret in this kind of file, the recommended one first.
    pub fn secret_fixes(self) -> Vec<FixKind> {
        use FileKind::*;
        match self {
            HfTokenFile | HfStoredTokens | HfStagingToken | HfLegacyToken | GitCredentials
            | GitRemote => vec![FixKind::Keyring],
            StartupFile | Netrc | EnvFile => vec![FixKind::Keyring, FixKind::Redact],
            ShellHistory | ReplHistory | AiSessionLog | Notebook | ProjectFile | GitConfig => {
                vec![FixKind::Redact]
            }
            // The owning tool reads these files; rewriting them would break it. Their
            // permissions are checked (and chmod-fixable) separately. (ssh, npm, pip, uv,
            // Poetry, conda and Modal read theirs; a content fix for each waits for a
            // consumer that keeps the tool working: docs/checks/README.md.)
            Pypirc | GhConfig | KaggleConfig | AwsCredentials | GcloudCredentials
            | DockerConfig | SshKey | SshConfig | SshAuthorizedKeys | Npmrc | PipConfig
            | UvConfig | UvCredentials | PoetryAuth | Condarc | ModalConfig | PackageManifest
            | Archive => vec![],
        }
    }

    /// Fixes for a secret of `provider` in this kind of file at `path`, the recommended one
    /// first. A fix must leave the file's programs working: a marker is never left where a
    /// program would read it as the value (a start-up file, `.netrc`, `.env`, code).
    pub fn secret_fixes_at(self, path: &std::path::Path, provider: Option<&str>) -> Vec<FixKind> {
        use FileKind::*;
        match self {
            // The variable is set by `hfguard exec`; redacting comments the line out.
            EnvFile => vec![FixKind::Keyring, FixKind::Redact],
            StartupFile | Netrc | Notebook => vec![FixKind::Keyring],
            ProjectFile if is_python_source(path) => vec![FixKind::Keyring],
            // Another provider's secret in Docker's file (a token used as a registry
            // password): moved, and redacted inside its base64.
            DockerConfig if provider.is_some() && provider != self.owner() => {
                vec![FixKind::Keyring]
            }
            _ => self.secret_fixes(),
        }
    }

    /// Files a program reads its credential from (as opposed to histories and logs, which
    /// only record one).
    pub fn is_consumed(self) -> bool {
        use FileKind::*;
        matches!(
            self,
            HfTokenFile
                | HfStoredTokens
                | HfStagingToken
                | HfLegacyToken
                | GitCredentials
                | GitRemote
                | Netrc
                | StartupFile
                | EnvFile
        )
    }

    /// Whether line numbers mean anything for this kind of file.
    pub fn is_line_based(self) -> bool {
        !matches!(self, FileKind::Archive)
    }
}
