//! The one registry of keys: the key bar, the `?` help overlay and the dispatch in
//! [`super::app::App::update`] all read it, so they cannot disagree.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// Something the user can ask for with a key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    Down,
    Up,
    Top,
    Bottom,
    PageDown,
    PageUp,
    Details,
    NextView,
    Fix,
    Chmod,
    Keyring,
    Redact,
    Undo,
    Ignore,
    Filter,
    Severity,
    Rescan,
    Watch,
    Help,
    Quit,
}

/// Where a key applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    /// The findings list and token view.
    Main,
}

pub struct Binding {
    pub keys: &'static [&'static str],
    pub command: Command,
    pub help: &'static str,
    /// The word in the bottom key bar; `None`: only in the `?` overlay.
    pub bar: Option<&'static str>,
}

pub const BINDINGS: &[Binding] = &[
    Binding {
        keys: &["j", "↓"],
        command: Command::Down,
        help: "next finding",
        bar: None,
    },
    Binding {
        keys: &["k", "↑"],
        command: Command::Up,
        help: "previous finding",
        bar: None,
    },
    Binding {
        keys: &["g", "Home"],
        command: Command::Top,
        help: "first",
        bar: None,
    },
    Binding {
        keys: &["G", "End"],
        command: Command::Bottom,
        help: "last",
        bar: None,
    },
    Binding {
        keys: &["PgDn"],
        command: Command::PageDown,
        help: "page down",
        bar: None,
    },
    Binding {
        keys: &["PgUp"],
        command: Command::PageUp,
        help: "page up",
        bar: None,
    },
    Binding {
        keys: &["Enter"],
        command: Command::Details,
        help: "zoom the details pane",
        bar: Some("zoom"),
    },
    Binding {
        keys: &["Tab"],
        command: Command::NextView,
        help: "findings/tokens/checklist",
        bar: Some("views"),
    },
    Binding {
        keys: &["f"],
        command: Command::Fix,
        help: "fix (recommended)",
        bar: Some("fix"),
    },
    Binding {
        keys: &["c"],
        command: Command::Chmod,
        help: "chmod",
        bar: None,
    },
    Binding {
        keys: &["K"],
        command: Command::Keyring,
        help: "move to keyring",
        bar: None,
    },
    Binding {
        keys: &["x"],
        command: Command::Redact,
        help: "redact",
        bar: None,
    },
    Binding {
        keys: &["u"],
        command: Command::Undo,
        help: "undo last fix",
        bar: Some("undo"),
    },
    Binding {
        keys: &["i"],
        command: Command::Ignore,
        help: "ignore / un-ignore",
        bar: Some("ignore"),
    },
    Binding {
        keys: &["/"],
        command: Command::Filter,
        help: "filter",
        bar: Some("filter"),
    },
    Binding {
        keys: &["s"],
        command: Command::Severity,
        help: "minimum severity",
        bar: None,
    },
    Binding {
        keys: &["r"],
        command: Command::Rescan,
        help: "rescan",
        bar: None,
    },
    Binding {
        keys: &["w"],
        command: Command::Watch,
        help: "watch for regressions on/off",
        bar: None,
    },
    Binding {
        keys: &["?"],
        command: Command::Help,
        help: "help",
        bar: Some("help"),
    },
    Binding {
        keys: &["q", "Esc"],
        command: Command::Quit,
        help: "quit",
        bar: Some("quit"),
    },
];

fn key_name(k: &KeyEvent) -> Option<String> {
    Some(match k.code {
        KeyCode::Char(c) => c.to_string(),
        KeyCode::Down => "↓".into(),
        KeyCode::Up => "↑".into(),
        KeyCode::Home => "Home".into(),
        KeyCode::End => "End".into(),
        KeyCode::PageDown => "PgDn".into(),
        KeyCode::PageUp => "PgUp".into(),
        KeyCode::Enter => "Enter".into(),
        KeyCode::Tab => "Tab".into(),
        KeyCode::Esc => "Esc".into(),
        _ => return None,
    })
}

/// The command a key asks for in `context`; Ctrl-C always quits.
pub fn lookup(key: &KeyEvent, _context: Context) -> Option<Command> {
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        return matches!(key.code, KeyCode::Char('c')).then_some(Command::Quit);
    }
    let name = key_name(key)?;
    BINDINGS
        .iter()
        .find(|b| b.keys.contains(&name.as_str()))
        .map(|b| b.command)
}
