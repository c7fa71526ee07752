//! The subcommands beyond `scan`, as thin layers over the library.

pub mod fix;
pub mod token;
pub mod watch;

/// A fatal error: printed as `hfguard: <message>`, exit code 2.
pub struct Fatal(pub String);
