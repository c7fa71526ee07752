//! The subcommands beyond `scan`, as thin layers over the library.

pub mod fix;
pub mod guard;
pub mod rotate;
pub mod token;
pub mod watch;

/// A fatal error: printed as `hfguard: <message>`, exit code 2.
pub struct Fatal(pub String);

/// `--path` arguments as absolute paths, so findings and ids do not depend on the working
/// folder.
pub fn absolute_paths(paths: &[std::path::PathBuf]) -> Vec<std::path::PathBuf> {
    paths
        .iter()
        .map(|p| std::path::absolute(p).unwrap_or(p.clone()))
        .collect()
}
