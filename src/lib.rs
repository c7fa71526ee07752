//! hfguard: audit a workstation for exposed Hugging Face (and other ML) credentials.
//!
//! The data flow is visible in the modules: [`probes`] (where to look) feed file contents,
//! variables and command lines to [`rules`] (what a secret looks like, data in `assets/`),
//! which produce [`finding::Finding`]s (one model), gathered by [`audit`] into a
//! [`audit::Report`] that [`report`] renders as text, JSON, SARIF or Markdown.

pub mod audit;
pub mod child;
pub mod collect;
pub mod config;
pub mod confined;
pub mod finding;
pub mod fingerprint;
pub mod fix;
pub mod fsread;
pub mod guard;
pub mod home;
pub mod inventory;
pub mod keystore;
pub mod kind;
pub mod plaintext;
pub mod probes;
pub mod raw_path;
pub mod redact;
pub mod report;
pub mod rotation;
pub mod rules;
pub mod secret;
pub mod shellvars;
pub mod slots;
pub mod term;
pub mod time;
pub mod tui;
pub mod verify;
pub mod watch;
