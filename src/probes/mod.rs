//! Where to look. Each probe is one small module: the known file locations and the home walk
//! feed files to [`files::scan_file`]; environment, processes and git configuration have
//! their own sources. All report through the [`crate::collect::Collector`], which lives below them.

pub mod archive;
pub mod content;
pub mod environment;
pub mod files;
pub mod gitconfig;
pub mod gitdirs;
pub mod permissions;
pub mod process;
pub mod sshconfig;
pub mod utf16;
pub mod walk;
