//! The one registry of keys: the key bar, the `?` help and the dispatch in
//! [`super::app::App::update`] all read it, so they cannot disagree. Each binding says in which
//! [`Context`]s it works; the key bar shows the bindings of the context the user is in, and
//! always `? help` and `q quit`.

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
    Zoom,
    Back,
    NextView,
    PrevView,
    ViewFindings,
    ViewTokens,
    ViewChecklist,
    Mark,
    MarkAll,
    Fix,
    FixNoKeyring,
    Chmod,
    Keyring,
    Redact,
    Undo,
    Ignore,
    Filter,
    Severity,
    Rescan,
    Watch,
    /// Ask the selected secret's provider whether it is live and what it can do.
    Verify,
    /// Rotate the selected secret (or confirm that a replaced one is revoked).
    Rotate,
    DetailsDown,
    DetailsUp,
    /// In the fix preview and the quit question: yes.
    Apply,
    /// In the fix preview and the quit question: no.
    Cancel,
    /// In the "this place / all places" question.
    ThisPlace,
    AllPlaces,
    /// In the verification and revocation questions: yes.
    Yes,
    /// In the verification and revocation questions: no.
    No,
    Help,
    Quit,
}

/// Where the user is: which keys work, and what the key bar shows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Context {
    Findings,
    Tokens,
    Checklist,
    /// The details pane zoomed over the list.
    Zoom,
    /// Typing a filter.
    Filter,
    /// The fix preview.
    Confirm,
    /// "Fix this place or all places of this secret?"
    Scope,
    /// Waiting for a plan.
    Planning,
    Help,
    /// Typing why a finding is ignored.
    Ignore,
    /// "A fix is running: quit anyway?"
    QuitConfirm,
    /// "Send this one request to the provider?" (before the first verification).
    Consent,
    /// "Did you revoke the replaced token?"
    Revoked,
    /// Pasting a new token for a slot (masked).
    NewToken,
}

impl Context {
    pub const ALL: [Context; 14] = [
        Context::Findings,
        Context::Tokens,
        Context::Checklist,
        Context::Zoom,
        Context::Filter,
        Context::Confirm,
        Context::Scope,
        Context::Planning,
        Context::Help,
        Context::Ignore,
        Context::QuitConfirm,
        Context::Consent,
        Context::Revoked,
        Context::NewToken,
    ];

    const fn bit(self) -> u16 {
        1 << self as u16
    }

    /// Whether typed characters are text here (so `q` and `?` are letters).
    pub fn is_text_entry(self) -> bool {
        matches!(self, Context::Filter | Context::Ignore | Context::NewToken)
    }
}

const LISTS: u16 = Context::Findings.bit() | Context::Tokens.bit() | Context::Checklist.bit();
const MAIN: u16 = LISTS | Context::Zoom.bit();
const SCROLLS: u16 = MAIN | Context::Confirm.bit() | Context::Help.bit();
const FINDINGS: u16 = Context::Findings.bit() | Context::Zoom.bit();
const MARKS: u16 = Context::Findings.bit() | Context::Tokens.bit();
const FIXES: u16 = MAIN;
/// Where a secret is selected: a finding's, or a row of Tokens.
const SECRETS: u16 = FINDINGS | Context::Tokens.bit();
const QUESTIONS: u16 = Context::Consent.bit() | Context::Revoked.bit();
const POPUPS: u16 = Context::Confirm.bit()
    | Context::Scope.bit()
    | Context::Planning.bit()
    | Context::Help.bit()
    | Context::QuitConfirm.bit()
    | QUESTIONS;
const EVERYWHERE_BUT_TEXT: u16 = MAIN | POPUPS;

pub struct Binding {
    pub keys: &'static [&'static str],
    pub command: Command,
    pub help: &'static str,
    /// In the key bar: the label, and a shorter one for narrow terminals. `None`: only in
    /// the help.
    pub bar: Option<(&'static str, &'static str)>,
    contexts: u16,
}

impl Binding {
    pub fn works_in(&self, c: Context) -> bool {
        self.contexts & c.bit() != 0
    }
}

const fn b(
    keys: &'static [&'static str],
    command: Command,
    contexts: u16,
    help: &'static str,
    bar: Option<(&'static str, &'static str)>,
) -> Binding {
    Binding {
        keys,
        command,
        help,
        bar,
        contexts,
    }
}

/// Every binding, in the order the key bar and the help show them.
pub const BINDINGS: &[Binding] = &[
    b(&["j", "↓"], Command::Down, SCROLLS, "next row; in a popup, scroll down", None),
    b(&["k", "↑"], Command::Up, SCROLLS, "previous row; in a popup, scroll up", None),
    b(&["g", "Home"], Command::Top, SCROLLS, "first row, top", None),
    b(&["G", "End"], Command::Bottom, SCROLLS, "last row, end", None),
    b(&["PgDn"], Command::PageDown, SCROLLS, "a page down", None),
    b(&["PgUp"], Command::PageUp, SCROLLS, "a page up", None),
    b(&["y", "Enter"], Command::Apply, Context::Confirm.bit() | Context::QuitConfirm.bit(), "yes: apply the fix shown / quit", Some(("apply", "yes"))),
    b(&["n", "Esc"], Command::Cancel, Context::Confirm.bit() | Context::QuitConfirm.bit(), "no: change nothing", Some(("cancel", "no"))),
    b(&["t", "Enter"], Command::ThisPlace, Context::Scope.bit(), "fix only the place selected", Some(("this place", "this"))),
    b(&["a"], Command::AllPlaces, Context::Scope.bit(), "fix every place of the secret", Some(("all places", "all"))),
    b(&["y"], Command::Yes, QUESTIONS, "yes: send the one request / the old token is revoked", Some(("yes", "yes"))),
    b(&["n", "Esc"], Command::No, QUESTIONS, "no: send nothing / not yet", Some(("no", "no"))),
    b(&["f"], Command::Fix, FIXES, "fix the marked findings, or the selected one (its recommended fix), after one preview; in Tokens every place of the secret, in the Checklist the item's findings", Some(("fix", "fix"))),
    b(&["F"], Command::FixNoKeyring, FIXES, "fix every finding whose fix needs no keyring (chmod, redact), after one preview; like `hfguard fix --all --only chmod` and `--only redact`", Some(("fix all w/o keyring", "fix all"))),
    b(&["space"], Command::Mark, MARKS, "mark or unmark the selected finding (a secret: all its places)", Some(("mark", "mark"))),
    b(&["a"], Command::MarkAll, MARKS, "mark every finding shown (after a filter: those it shows); again to unmark", Some(("mark all", "all"))),
    b(&["/"], Command::Filter, MARKS, "filter by what the rows show (path, line, secret's last four, severity, provider, category, variable, name) or id", Some(("filter", "filter"))),
    b(&["Enter"], Command::Zoom, LISTS | Context::Zoom.bit(), "zoom the details pane (and back)", Some(("zoom", "zoom"))),
    b(&["u"], Command::Undo, MAIN, "undo the last fix of this session", Some(("undo", "undo"))),
    b(&["v"], Command::Verify, SECRETS, "verify the selected secret: ask its provider whether it is live and what it can do (one request, asked before the first)", Some(("verify", "verify"))),
    b(&["R"], Command::Rotate, SECRETS, "rotate the selected secret: paste a new token for its keyring slot, see every change, apply; on a replaced token, say it is revoked", Some(("rotate", "rotate"))),
    b(&["i"], Command::Ignore, FINDINGS, "ignore the finding with a reason (saved in the config); again to stop", Some(("ignore", "ignore"))),
    b(&["Tab", "BackTab"], Command::NextView, MAIN, "next view (Shift-Tab: previous)", Some(("views", "view"))),
    b(&["J"], Command::DetailsDown, MAIN, "scroll the details down", Some(("scroll details", "details"))),
    b(&["Esc"], Command::Back, MAIN | Context::Planning.bit() | Context::Scope.bit() | Context::Help.bit(), "back: close the popup, clear the filter, leave the zoom, go to Findings", Some(("back", "back"))),
    b(&["c"], Command::Chmod, FIXES, "chmod the selected finding's file", None),
    b(&["m"], Command::Keyring, FIXES, "move the selected secret into the OS keyring", None),
    b(&["x"], Command::Redact, FIXES, "redact the selected secret in place", None),
    b(&["K"], Command::DetailsUp, MAIN, "scroll the details up", None),
    b(&["BackTab"], Command::PrevView, MAIN, "previous view", None),
    b(&["1"], Command::ViewFindings, MAIN, "Findings", None),
    b(&["2"], Command::ViewTokens, MAIN, "Tokens: one row per secret", None),
    b(&["3"], Command::ViewChecklist, MAIN, "Checklist", None),
    b(&["s"], Command::Severity, MARKS, "raise the lowest severity shown (and back)", None),
    b(&["r"], Command::Rescan, MAIN, "audit the whole home again", None),
    b(&["w"], Command::Watch, MAIN, "watch for regressions on/off", None),
    b(&["?", "F1"], Command::Help, EVERYWHERE_BUT_TEXT, "this help", Some(("help", "help"))),
    b(&["q"], Command::Quit, EVERYWHERE_BUT_TEXT, "quit (asks only while a fix runs); Ctrl-c quits at once", Some(("quit", "quit"))),
];

fn key_name(k: &KeyEvent) -> Option<String> {
    Some(match k.code {
        KeyCode::Char(' ') => "space".into(),
        KeyCode::Char(c) => c.to_string(),
        KeyCode::Down => "↓".into(),
        KeyCode::Up => "↑".into(),
        KeyCode::Home => "Home".into(),
        KeyCode::End => "End".into(),
        KeyCode::PageDown => "PgDn".into(),
        KeyCode::PageUp => "PgUp".into(),
        KeyCode::Enter => "Enter".into(),
        KeyCode::Tab => "Tab".into(),
        KeyCode::BackTab => "BackTab".into(),
        KeyCode::Esc => "Esc".into(),
        KeyCode::F(1) => "F1".into(),
        _ => return None,
    })
}

/// The command a key asks for in `context`. Ctrl-C quits everywhere; in text entry, only
/// Enter, Esc and F1 are commands (the rest is typed).
pub fn lookup(key: &KeyEvent, context: Context) -> Option<Command> {
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        return matches!(key.code, KeyCode::Char('c')).then_some(Command::Quit);
    }
    if context.is_text_entry() {
        return match key.code {
            KeyCode::F(1) => Some(Command::Help),
            _ => None,
        };
    }
    let name = key_name(key)?;
    // BackTab is the previous view, whatever else lists it.
    if name == "BackTab" {
        return Some(Command::PrevView).filter(|_| {
            BINDINGS
                .iter()
                .any(|b| b.command == Command::PrevView && b.works_in(context))
        });
    }
    BINDINGS
        .iter()
        .find(|b| b.works_in(context) && b.keys.contains(&name.as_str()))
        .map(|b| b.command)
}

/// One item of the key bar: the key as shown, and its label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BarItem {
    pub key: String,
    pub label: String,
}

/// The key bar for `context`, fitted to `width` columns: long labels, else short ones, else
/// fewer items (the last of the context's own first); `? help` and `q quit` always stay. In
/// text entry, where `?` and `q` are letters, `F1 help` and `^C quit` stand in for them.
/// `extra` comes first (such as "3 marked").
pub fn bar(context: Context, width: usize, extra: Option<&str>) -> Vec<BarItem> {
    let mut own: Vec<(String, &str, &str)> = Vec::new();
    if context.is_text_entry() {
        let enter = if context == Context::NewToken {
            "check it"
        } else {
            "done"
        };
        own.push(("Enter".into(), enter, enter));
        own.push((
            "Esc".into(),
            if context == Context::Filter {
                "clear"
            } else {
                "cancel"
            },
            if context == Context::Filter {
                "clear"
            } else {
                "esc"
            },
        ));
    } else {
        if matches!(
            context,
            Context::Findings | Context::Tokens | Context::Checklist
        ) {
            own.push(("j/k".into(), "move", "move"));
        }
        if matches!(context, Context::Confirm | Context::Help | Context::Zoom) {
            own.push(("j/k".into(), "scroll", "scroll"));
        }
        // Where Esc is the way out (a zoom, a question), it comes first.
        let back_first = matches!(context, Context::Zoom | Context::Scope | Context::Planning);
        if back_first {
            own.push(("Esc".into(), "back", "back"));
        }
        for b in BINDINGS
            .iter()
            .filter(|b| b.works_in(context))
            .filter(|b| !(back_first && b.command == Command::Back))
        {
            let Some((long, short)) = b.bar else { continue };
            if matches!(b.command, Command::Help | Command::Quit) {
                continue;
            }
            let key = match b.command {
                Command::Apply => "Enter/y".to_string(),
                Command::Cancel => "Esc/n".to_string(),
                Command::No => "n/Esc".to_string(),
                Command::ThisPlace => "t".to_string(),
                Command::DetailsDown => "J/K".to_string(),
                _ => b.keys[0].to_string(),
            };
            own.push((key, long, short));
        }
        // Tokens is where secrets are verified and rotated: those keys come right after
        // moving, before the fixes the other views share.
        if context == Context::Tokens {
            let firsts = ["v", "R"];
            let (mut front, rest): (Vec<_>, Vec<_>) = own
                .drain(..)
                .partition(|(k, _, _)| k == "j/k" || firsts.contains(&k.as_str()));
            front.extend(rest);
            own = front;
        }
    }
    let fixed: [(String, &str); 2] = if context.is_text_entry() {
        [("F1".into(), "help"), ("^C".into(), "quit")]
    } else {
        [("?".into(), "help"), ("q".into(), "quit")]
    };
    let len = |items: &[BarItem]| -> usize {
        items
            .iter()
            .map(|i| super::text::width(&i.key) + 1 + super::text::width(&i.label) + 2)
            .sum()
    };
    let build = |n: usize, short: bool| -> Vec<BarItem> {
        let mut v: Vec<BarItem> = extra
            .map(|e| BarItem {
                key: String::new(),
                label: e.to_string(),
            })
            .into_iter()
            .collect();
        v.extend(own.iter().take(n).map(|(k, long, s)| BarItem {
            key: k.clone(),
            label: (if short { *s } else { *long }).to_string(),
        }));
        v.extend(fixed.iter().map(|(k, l)| BarItem {
            key: k.clone(),
            label: l.to_string(),
        }));
        v
    };
    for n in (0..=own.len()).rev() {
        for short in [false, true] {
            let items = build(n, short);
            if len(&items) <= width {
                return items;
            }
        }
    }
    build(0, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v_and_r_verify_and_rotate_where_a_secret_is_selected() {
        let v = KeyEvent::new(KeyCode::Char('v'), KeyModifiers::NONE);
        let r = KeyEvent::new(KeyCode::Char('R'), KeyModifiers::SHIFT);
        for c in [Context::Findings, Context::Tokens, Context::Zoom] {
            assert_eq!(lookup(&v, c), Some(Command::Verify), "{c:?}");
            assert_eq!(lookup(&r, c), Some(Command::Rotate), "{c:?}");
        }
        // Typed into a filter or a token, they are letters.
        for c in [Context::Checklist, Context::Filter, Context::NewToken] {
            assert_eq!(lookup(&v, c), None, "{c:?}");
            assert_eq!(lookup(&r, c), None, "{c:?}");
        }
        let tokens = bar(Context::Tokens, 80, None);
        let keys: Vec<&str> = tokens.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(&keys[..3], ["j/k", "v", "R"], "{tokens:?}");
        assert_eq!(tokens[1].label, "verify");
        assert_eq!(tokens[2].label, "rotate");
    }

    #[test]
    fn a_key_means_one_thing_per_context() {
        for c in Context::ALL.into_iter().filter(|c| !c.is_text_entry()) {
            let mut seen: Vec<(&str, Command)> = Vec::new();
            for b in BINDINGS.iter().filter(|b| b.works_in(c)) {
                for k in b.keys {
                    if let Some((_, other)) = seen.iter().find(|(s, _)| s == k) {
                        // BackTab is listed under Tab's binding for the help only.
                        assert!(
                            *k == "BackTab",
                            "{k} means both {other:?} and {:?} in {c:?}",
                            b.command
                        );
                    }
                    seen.push((k, b.command));
                }
            }
        }
    }

    #[test]
    fn help_and_quit_are_always_in_the_bar() {
        for c in Context::ALL {
            for width in [40, 60, 80, 200] {
                let items = bar(c, width, Some("3 marked"));
                let labels: Vec<&str> = items.iter().map(|i| i.label.as_str()).collect();
                assert!(
                    labels.contains(&"help") && labels.contains(&"quit"),
                    "{c:?} at {width}: {labels:?}"
                );
            }
        }
    }
}
