//! The home walk: every other file under the home and the `--path` roots, in parallel
//! (ripgrep's `ignore` walker), never following symlinks, skipping what a user would expect
//! (model blobs, `.git` internals, `node_modules`, virtualenv packages, caches, media).

use crate::collect::Collector;
use crate::home::AI_LOG_DIRS;
use crate::kind::FileKind;
use crate::probes::files::{scan_file, scan_walked_file};
use crate::probes::gitdirs;
use ignore::{DirEntry, WalkBuilder, WalkState};
use std::collections::HashSet;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Folder names never entered.
pub const SKIP_DIRS: [&str; 14] = [
    "node_modules",
    "site-packages",
    "dist-packages",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".rustup",
    ".svn",
    ".hg",
    ".Trash-0",
    "lost+found",
    ".venv-cache",
];

/// Home-relative folders never entered: package caches and model stores.
pub const SKIP_HOME_PATHS: [&str; 14] = [
    ".cache/pip",
    ".cache/uv",
    ".cache/pypoetry",
    ".cache/huggingface/xet",
    ".cache/torch/hub/checkpoints",
    ".cache/go-build",
    ".cache/bazel",
    ".cargo/registry",
    ".cargo/git",
    ".npm/_cacache",
    ".conda/pkgs",
    ".gradle/caches",
    ".m2/repository",
    "go/pkg/mod",
];

/// File endings never read: model weights, data sets, media, compiled objects.
pub const SKIP_EXTENSIONS: [&str; 52] = [
    "safetensors",
    "bin",
    "pt",
    "pth",
    "ckpt",
    "gguf",
    "ggml",
    "onnx",
    "h5",
    "hdf5",
    "keras",
    "npy",
    "npz",
    "parquet",
    "arrow",
    "msgpack",
    "tflite",
    "pb",
    "mlmodel",
    "joblib",
    "lance",
    "jpg",
    "jpeg",
    "png",
    "gif",
    "webp",
    "bmp",
    "ico",
    "tif",
    "tiff",
    "mp3",
    "mp4",
    "wav",
    "flac",
    "ogg",
    "avi",
    "mov",
    "mkv",
    "webm",
    "pdf",
    "so",
    "o",
    "a",
    "dylib",
    "dll",
    "exe",
    "woff",
    "woff2",
    "ttf",
    "otf",
    "iso",
    "qcow2",
];

/// What the walk leaves out: built-in folder names, home paths and file endings, and the
/// configured ones (`[scan] skip_dirs`, `skip_extensions`). The watcher uses the same.
pub struct Skips {
    pub dirs: Vec<String>,
    pub paths: Vec<PathBuf>,
    /// Lower case, without the dot.
    pub extensions: Vec<String>,
}

impl Skips {
    pub fn new(home: &crate::home::Home, cfg: &crate::config::ScanConfig) -> Skips {
        Skips {
            dirs: SKIP_DIRS
                .iter()
                .map(|s| s.to_string())
                .chain(cfg.skip_dirs.iter().cloned())
                .collect(),
            // hfguard's own state (journal, token index, fingerprint key) is not the user's:
            // it holds no secret by design, and walking it would count hfguard's files as
            // theirs.
            paths: SKIP_HOME_PATHS
                .iter()
                .map(|p| home.dir.join(p))
                .chain([home.xdg_state().join("hfguard")])
                .collect(),
            extensions: SKIP_EXTENSIONS
                .iter()
                .map(|s| s.to_string())
                .chain(
                    cfg.skip_extensions
                        .iter()
                        .map(|s| s.trim_start_matches('.').to_ascii_lowercase()),
                )
                .collect(),
        }
    }
}

/// Package managers' project files, where index credentials and registry tokens get
/// committed (and `requirements*.txt`/`.in`, `constraints*.txt`, whose `--index-url`
/// options do too).
pub const PACKAGE_MANIFESTS: [&str; 10] = [
    "pyproject.toml",
    "uv.toml",
    "poetry.toml",
    ".npmrc",
    "pip.conf",
    "pip.ini",
    ".condarc",
    "condarc",
    "environment.yml",
    "environment.yaml",
];

/// The names `ssh-keygen` gives private keys: a copy met outside `~/.ssh` is still one.
pub const SSH_KEY_NAMES: [&str; 6] = [
    "id_rsa",
    "id_dsa",
    "id_ecdsa",
    "id_ecdsa_sk",
    "id_ed25519",
    "id_ed25519_sk",
];

/// What a file met in the walk is, from its path.
pub fn classify(home: &Path, path: &Path) -> FileKind {
    let name = path
        .file_name()
        .map(OsStr::to_string_lossy)
        .unwrap_or_default();
    if gitdirs::is_repo_config(path) {
        return FileKind::GitRemote;
    }
    if name.ends_with(".ipynb") {
        return FileKind::Notebook;
    }
    if PACKAGE_MANIFESTS.contains(&name.as_ref())
        || ((name.starts_with("requirements") || name.starts_with("constraints"))
            && (name.ends_with(".txt") || name.ends_with(".in")))
    {
        return FileKind::PackageManifest;
    }
    if SSH_KEY_NAMES.contains(&name.as_ref()) {
        return FileKind::SshKey;
    }
    if name.starts_with(".env") || name.ends_with(".env") {
        return FileKind::EnvFile;
    }
    // The name test first: it is cheap, and few files end in `.json`/`.jsonl`.
    for (dir, ext) in AI_LOG_DIRS {
        if name.ends_with(ext)
            && path
                .strip_prefix(home)
                .is_ok_and(|rel| rel.starts_with(dir))
        {
            return FileKind::AiSessionLog;
        }
    }
    if name.ends_with("_history") || name.ends_with(".history") {
        return FileKind::ReplHistory;
    }
    FileKind::ProjectFile
}

fn is_model_blobs(entry: &DirEntry) -> bool {
    entry.file_name() == "blobs"
        && entry
            .path()
            .parent()
            .and_then(Path::file_name)
            .map(OsStr::to_string_lossy)
            .is_some_and(|p| {
                p.starts_with("models--")
                    || p.starts_with("datasets--")
                    || p.starts_with("spaces--")
            })
}

/// Walks the home and extra roots, scanning each file not already scanned as a known
/// location.
pub fn walk(c: &Collector) {
    let cfg = &c.options.config.scan;
    // Each root as the walks meet it: `..` and symlinks resolved, and under the home as
    // given when it lies in the home (the home walk reaches it through real folders only).
    let real_home = c.home.dir.canonicalize().ok();
    let as_met = |r: PathBuf| -> PathBuf {
        let Ok(real) = r.canonicalize() else {
            return std::path::absolute(&r).unwrap_or(r);
        };
        match real_home.as_ref().and_then(|h| real.strip_prefix(h).ok()) {
            Some(rel) if rel.as_os_str().is_empty() => c.home.dir.clone(),
            Some(rel) => c.home.dir.join(rel),
            None => real,
        }
    };
    let mut roots: Vec<PathBuf> = vec![c.home.dir.clone()];
    for r in c
        .options
        .extra_roots
        .iter()
        .cloned()
        .chain(cfg.paths.iter().map(|p| c.home.expand(p)))
    {
        let r = as_met(r);
        if !roots.contains(&r) {
            roots.push(r);
        }
    }
    // A root inside another (`--path ~/work`, or the home under `--path /data`) is walked
    // once, by its own walk: the outer walk does not enter it. Its own walk also reaches it
    // when the outer one would skip it (`--path ~/.cache/notes`).
    let mut nested: HashSet<PathBuf> = roots.iter().cloned().collect();
    // The home as an outer walk meets it, when its own path goes through a symlink.
    nested.extend(real_home.clone());
    let Skips {
        dirs: skip_dirs,
        paths: skip_paths,
        extensions: skip_ext,
    } = Skips::new(c.home, cfg);
    let git_dirs: Arc<Mutex<Vec<PathBuf>>> = Arc::default();

    let mut builder = WalkBuilder::new(&roots[0]);
    for r in &roots[1..] {
        builder.add(r);
    }
    builder
        .standard_filters(false)
        .hidden(false)
        .follow_links(false)
        .same_file_system(!cfg.cross_filesystems)
        .threads(
            std::thread::available_parallelism()
                .map_or(2, |n| n.get())
                .min(8),
        );
    let git_ref = Arc::clone(&git_dirs);
    builder.filter_entry(move |e| {
        let Some(ft) = e.file_type() else { return true };
        if !ft.is_dir() {
            return true;
        }
        let name = e.file_name().to_string_lossy();
        if name == ".git" {
            git_ref.lock().unwrap().push(e.path().to_path_buf());
            return false;
        }
        if skip_dirs.iter().any(|s| *s == name) || is_model_blobs(e) {
            return false;
        }
        if skip_paths.iter().any(|p| p == e.path()) {
            return false;
        }
        if e.depth() > 0 && nested.contains(e.path()) {
            return false;
        }
        // A bare repository (`git clone --bare`, a dotfiles repository in `~/.cfg`): its
        // config files are read with the other git directories', the rest never.
        if gitdirs::is_git_dir(e.path()) {
            git_ref.lock().unwrap().push(e.path().to_path_buf());
            return false;
        }
        // Cache folders tagged per https://bford.info/cachedir/ hold nothing of the user's.
        !e.path().join("CACHEDIR.TAG").is_file()
    });
    let max_size = c.options.config.max_file_size();
    // The known locations were all claimed before the walk and nothing claims during it: one
    // copy, read without a lock by every walker thread, and looked up (hashing every component)
    // only for files whose name is the name of one of them.
    let claimed = c.claimed_paths();
    let claimed_names: HashSet<&OsStr> = claimed.iter().filter_map(|p| p.file_name()).collect();
    builder.build_parallel().run(|| {
        let mut buf = Vec::with_capacity(64 * 1024);
        let skip_ext = &skip_ext;
        let (claimed, claimed_names) = (&claimed, &claimed_names);
        Box::new(move |entry| {
            let entry = match entry {
                Ok(e) => e,
                Err(err) => {
                    report_walk_error(c, &err);
                    return WalkState::Continue;
                }
            };
            let Some(ft) = entry.file_type() else {
                return WalkState::Continue;
            };
            if !ft.is_file() {
                return WalkState::Continue;
            }
            let path = entry.path();
            if claimed_names.contains(entry.file_name()) && claimed.contains(path) {
                return WalkState::Continue;
            }
            if let Some(ext) = path.extension().and_then(OsStr::to_str) {
                if skip_ext.iter().any(|s| s.eq_ignore_ascii_case(ext)) {
                    c.skipped.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    return WalkState::Continue;
                }
            }
            let kind = classify(&c.home.dir, path);
            // The size check happens on the open descriptor: no `stat` of the path first.
            scan_walked_file(c, path, kind, max_size, &mut buf);
            WalkState::Continue
        })
    });
    let mut buf = Vec::new();
    let mut dirs = std::mem::take(&mut *git_dirs.lock().unwrap());
    dirs.sort();
    for path in dirs.iter().flat_map(|d| gitdirs::config_files(d)) {
        if c.claim(&path) {
            scan_file(c, &path, FileKind::GitRemote, 16 << 20, &mut buf);
        }
    }
}

fn report_walk_error(c: &Collector, err: &ignore::Error) {
    let (path, io) = match err {
        ignore::Error::WithPath { path, err } => match err.as_ref() {
            ignore::Error::Io(io) => (Some(path.clone()), Some(io)),
            _ => (Some(path.clone()), None),
        },
        ignore::Error::WithDepth { err, .. } => return report_walk_error(c, err),
        ignore::Error::Io(io) => (None, Some(io)),
        _ => (None, None),
    };
    if io.is_some_and(crate::fsread::is_vanished) {
        return;
    }
    let reason = io
        .map(crate::fsread::reason)
        .unwrap_or_else(|| err.to_string());
    match path {
        Some(p) => c.warn(format!("unreadable: {} ({reason})", p.display())),
        None => c.warn(format!("walk error: {reason}")),
    }
}
