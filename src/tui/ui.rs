//! Drawing: a pure function of the [`App`] state — it reads the state, the model and the
//! layout and never changes them. Works from 60×20 up; with `NO_COLOR` only bold and reverse
//! mark things.

use super::app::{help_lines, App, Popup, ToastLevel, View};
use super::keys;
use super::layout::{self, Areas};
use super::model::{self, ListLine};
use super::text::{self, TLine, Tone};
use crate::finding::{Finding, Severity};
use crate::term::safe_line;
use ratatui::layout::{Margin, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Borders, Clear, Paragraph, Scrollbar, ScrollbarOrientation, ScrollbarState,
};
use ratatui::Frame;

/// Tones to styles: colours only with colour on.
struct Theme {
    color: bool,
}

impl Theme {
    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }

    fn severity(&self, s: Severity) -> Style {
        let c = match s {
            Severity::Critical => Color::Magenta,
            Severity::High => Color::Red,
            Severity::Medium => Color::Yellow,
            Severity::Low => Color::Cyan,
            Severity::Info => Color::Reset,
        };
        self.fg(c).add_modifier(Modifier::BOLD)
    }

    fn tone(&self, t: Tone) -> Style {
        match t {
            Tone::Plain => Style::default(),
            Tone::Strong => Style::default().add_modifier(Modifier::BOLD),
            Tone::Muted => {
                if self.color {
                    Style::default().add_modifier(Modifier::DIM)
                } else {
                    Style::default()
                }
            }
            Tone::Good => self.fg(Color::Green),
            Tone::Warn => self.fg(Color::Yellow),
            Tone::Bad => self.fg(Color::Red),
            Tone::Severity(s) => self.severity(s),
        }
    }

    fn selected(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
    }

    fn line(&self, l: &TLine) -> Line<'static> {
        Line::from(
            l.0.iter()
                .map(|(t, s)| Span::styled(s.clone(), self.tone(*t)))
                .collect::<Vec<_>>(),
        )
    }
}

pub fn draw(app: &App, f: &mut Frame) {
    let t = Theme { color: app.color };
    let a = layout::areas(app.screen());
    header(app, &t, f, &a);
    next_step(app, &t, f, a.next);
    if !app.zoom {
        match app.view {
            View::Findings => findings_list(app, &t, f, a.list),
            View::Tokens => tokens_list(app, &t, f, a.list),
            View::Checklist => checklist(app, &t, f, a.list),
        }
    }
    detail(app, &t, f, a.detail);
    status(app, &t, f, a.status);
    keybar(app, &t, f, a.keys);
    popup(app, &t, f);
}

fn header(app: &App, t: &Theme, f: &mut Frame, a: &Areas) {
    let counts = app.counts();
    let score = app.score();
    let score_style = t.fg(if score >= 90 {
        Color::Green
    } else if score >= 60 {
        Color::Yellow
    } else {
        Color::Red
    });
    let filled = (score as usize * 10).div_ceil(100);
    let gauge = format!("{}{}", "█".repeat(filled), "░".repeat(10 - filled));
    let mut l2 = vec![
        Span::styled(
            format!("hygiene {score:>3}/100 "),
            score_style.add_modifier(Modifier::BOLD),
        ),
        Span::styled(gauge, score_style),
        Span::raw("  "),
    ];
    let narrow = a.header.width < 100;
    let clean = counts.values().all(|n| *n == 0);
    if clean {
        l2.push(Span::styled("nothing open", t.tone(Tone::Good)));
    }
    for s in Severity::ALL_DESC {
        if clean || narrow && counts[&s] == 0 {
            continue;
        }
        l2.push(Span::styled(
            format!("{} {}", counts[&s], s.as_str()),
            t.severity(s),
        ));
        l2.push(Span::raw("  "));
    }
    let watch = if !app.watching {
        Span::styled("watch: off", t.tone(Tone::Muted))
    } else {
        match &app.watched {
            None => Span::styled("watch: starting", t.tone(Tone::Muted)),
            Some(w) => {
                let mut s = format!(
                    "watch: {} folder{}",
                    w.folders,
                    if w.folders == 1 { "" } else { "s" }
                );
                if !w.projects.is_empty() {
                    let names: Vec<String> = w
                        .projects
                        .iter()
                        .map(|p| {
                            safe_line(&crate::report::display_path(&app.home.dir, p)).into_owned()
                        })
                        .collect();
                    s.push_str(&format!(" incl. {}", names.join(" ")));
                }
                if w.polled > 0 {
                    s.push_str(&format!(", {} polled", w.polled));
                }
                if w.unwatched > 0 {
                    s.push_str(&format!(", {} not watched", w.unwatched));
                }
                Span::styled(s, t.fg(Color::Green))
            }
        }
    };
    let l1 = Line::from(vec![
        Span::styled("hfguard", Style::default().add_modifier(Modifier::BOLD)),
        Span::raw(format!(
            "  {}  {}  ",
            safe_line(&app.who),
            safe_line(&app.home.dir.display().to_string())
        )),
        watch,
    ]);
    let mut l3: Vec<Span> = Vec::new();
    for (i, label) in layout::TABS.iter().enumerate() {
        let style = if i == app.view as usize {
            t.selected()
        } else {
            Style::default()
        };
        l3.push(Span::styled(format!(" {label} "), style));
        l3.push(Span::raw(" "));
    }
    let progress = if app.scanning {
        format!(" scanning… {} files", app.files)
    } else {
        match app.scan_secs {
            Some(s) => format!(" scanned {} files, {s:.1} s", app.files),
            None => " starting…".into(),
        }
    };
    l3.push(Span::styled(progress, t.tone(Tone::Muted)));
    if app.filter_editing || !app.filter.is_empty() {
        l3.push(Span::raw(format!(
            "  filter: {}{}",
            safe_line(&app.filter),
            if app.filter_editing { "▏" } else { "" }
        )));
    }
    if app.min_severity > Severity::Info {
        l3.push(Span::raw(format!("  ≥{}", app.min_severity)));
    }
    f.render_widget(
        Paragraph::new(vec![l1, Line::from(l2), Line::from(l3)]),
        a.header,
    );
}

fn next_step(app: &App, t: &Theme, f: &mut Frame, area: Rect) {
    let (tone, msg) = super::next::next_step_fitted(app, area.width as usize);
    f.render_widget(Paragraph::new(Line::styled(msg, t.tone(tone))), area);
}

/// A scrollbar over the right border of a list block at `area` when its `total` lines do not
/// fit in `shown`, the first shown being `start`: where the view is, and how much is hidden.
fn scrollbar(f: &mut Frame, area: Rect, total: usize, shown: usize, start: usize) {
    if total <= shown {
        return;
    }
    let mut state = ScrollbarState::new(total - shown + 1)
        .viewport_content_length(shown)
        .position(start);
    f.render_stateful_widget(
        Scrollbar::new(ScrollbarOrientation::VerticalRight)
            .begin_symbol(None)
            .end_symbol(None),
        area.inner(Margin {
            vertical: 1,
            horizontal: 0,
        }),
        &mut state,
    );
}

fn list_block(app: &App, title: &str) -> Block<'static> {
    Block::default()
        .borders(Borders::ALL)
        .title(format!(" {title} {} ", app.position()))
}

fn finding_row(app: &App, t: &Theme, fi: &Finding, selected: bool, width: usize) -> Line<'static> {
    let r = model::row_text(&app.facts(), &app.model, fi);
    let marked = app.marked.contains(&fi.id);
    let mark = if marked { "●" } else { " " };
    let fixmark = match r.state {
        Some("fixed") => "✓",
        Some(_) => "·",
        None if fi.fixes.is_empty() => " ",
        None => "⚒",
    };
    let mut spans = vec![
        Span::styled(mark, Style::default().add_modifier(Modifier::BOLD)),
        Span::styled(format!("{:<4}", r.badge), t.severity(fi.severity)),
        Span::raw(format!(" {fixmark} ")),
    ];
    let rest = r.joined();
    let rest = text::truncate(&rest, width.saturating_sub(8));
    let style = match r.state {
        Some("fixed") => t.tone(Tone::Good),
        Some(_) => t.tone(Tone::Muted),
        None => Style::default(),
    };
    spans.push(Span::styled(rest, style));
    let line = Line::from(spans);
    if selected {
        line.style(t.selected())
    } else {
        line
    }
}

/// What an empty list says: never that nothing exists when a filter hides it.
fn empty_message(app: &App, what: &str, total: usize) -> (Tone, String) {
    let mut why = Vec::new();
    if !app.filter.is_empty() {
        why.push(format!("the filter `{}`", safe_line(&app.filter)));
    }
    if app.min_severity > Severity::Info {
        why.push(format!("severity ≥ {}", app.min_severity));
    }
    (
        Tone::Warn,
        format!(
            "{total} {what}{}, none matches {} (Esc clears it).",
            if total == 1 { "" } else { "s" },
            why.join(" and ")
        ),
    )
}

fn findings_list(app: &App, t: &Theme, f: &mut Frame, area: Rect) {
    let block = list_block(app, "Findings");
    let inner = block.inner(area);
    f.render_widget(block, area);
    if app.model.rows.is_empty() {
        let (tone, msg) = if app.scanning && app.findings.is_empty() {
            (Tone::Muted, "Looking…".to_string())
        } else if app.findings.is_empty() {
            (
                Tone::Good,
                "No exposed credentials found. Nice.".to_string(),
            )
        } else {
            empty_message(app, "finding", app.findings.len())
        };
        wrapped_text(t, f, inner, &[TLine::new(tone, msg)]);
        return;
    }
    let h = inner.height as usize;
    let start = app.list_offset();
    let lines: Vec<Line> = app
        .model
        .lines
        .iter()
        .skip(start)
        .take(h)
        .map(|l| match l {
            ListLine::Heading {
                category,
                shown,
                total,
            } => Line::styled(
                if shown == total {
                    format!("{} ({total})", category.title())
                } else {
                    format!("{} ({shown} of {total})", category.title())
                },
                Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            ),
            ListLine::Row(r) => finding_row(
                app,
                t,
                &app.findings[app.model.rows[*r]],
                *r == app.cursor(),
                inner.width as usize,
            ),
        })
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
    scrollbar(f, area, app.model.lines.len(), h, start);
}

fn tokens_list(app: &App, t: &Theme, f: &mut Frame, area: Rect) {
    let block = list_block(app, "Tokens: one row per secret");
    let inner = block.inner(area);
    f.render_widget(block, area);
    if app.model.groups.is_empty() {
        let (tone, msg) = if app.model.secrets == 0 {
            if app.scanning {
                (Tone::Muted, "Looking…".to_string())
            } else {
                (
                    Tone::Good,
                    "No secrets found in files, variables or processes.".to_string(),
                )
            }
        } else {
            empty_message(app, "secret", app.model.secrets)
        };
        wrapped_text(t, f, inner, &[TLine::new(tone, msg)]);
        return;
    }
    let h = inner.height as usize;
    let start = app.list_offset();
    let facts = app.facts();
    // Each column as wide as its widest cell in the whole list (not only the rows on screen,
    // so scrolling does not shift them), within a bound: the status column keeps its room.
    let width_of = |cell: &dyn Fn(&model::Group) -> String, max: usize| {
        app.model
            .groups
            .iter()
            .map(|g| text::width(&cell(g)))
            .max()
            .unwrap_or(0)
            .min(max)
    };
    let secret_w = width_of(&|g| safe_line(&g.secret).into_owned(), 12);
    let name_w = width_of(&|g| model::group_name(&facts, g).unwrap_or_default(), 12);
    let places_w = width_of(&model::places_text, 17);
    let lines: Vec<Line> = app
        .model
        .groups
        .iter()
        .enumerate()
        .skip(start)
        .take(h)
        .map(|(n, g)| {
            let marked = g
                .places
                .iter()
                .any(|&i| app.marked.contains(&app.findings[i].id));
            let (status, _) = model::group_status(&facts, &app.model, g);
            // Columns: mark, severity, secret, name, places, then the status: the rotation's,
            // and what the provider said when it was asked. The provider is in the details
            // (and the filter matches it).
            let pad = |s: String, w: usize| {
                let s = text::truncate(&s, w);
                let room = w.saturating_sub(text::width(&s));
                format!("{s}{}", " ".repeat(room))
            };
            let cols = format!(
                "{}  {}  {}  {}{}{}",
                pad(safe_line(&g.secret).into_owned(), secret_w),
                pad(model::group_name(&facts, g).unwrap_or_default(), name_w),
                pad(model::places_text(g), places_w),
                status,
                model::verification_word(&facts, &g.fingerprint)
                    .map(|w| format!("  {w}"))
                    .unwrap_or_default(),
                if model::is_hub_group(&app.model, g) {
                    format!("  {}", model::HUB_TAG)
                } else {
                    String::new()
                }
            );
            let l = Line::from(vec![
                Span::styled(
                    if marked { "●" } else { " " },
                    Style::default().add_modifier(Modifier::BOLD),
                ),
                Span::styled(
                    format!("{:<4} ", model::badge(g.worst)),
                    t.severity(g.worst),
                ),
                Span::styled(
                    text::truncate(&cols, (inner.width as usize).saturating_sub(6)),
                    match status {
                        "fixed" | "rotated" | "keyring" => t.tone(Tone::Good),
                        _ => Style::default(),
                    },
                ),
            ]);
            if n == app.cursor() {
                l.style(t.selected())
            } else {
                l
            }
        })
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
    scrollbar(f, area, app.model.groups.len(), h, start);
}

fn checklist(app: &App, t: &Theme, f: &mut Frame, area: Rect) {
    let block = list_block(app, "Onboarding checklist");
    let inner = block.inner(area);
    f.render_widget(block, area);
    let h = inner.height as usize;
    let start = app.list_offset();
    let lines: Vec<Line> = app
        .model
        .checks
        .iter()
        .enumerate()
        .skip(start)
        .take(h)
        .map(|(n, c)| {
            let (mark, style) = if c.pass {
                ("[x]", t.tone(Tone::Good))
            } else {
                ("[ ]", t.tone(Tone::Bad))
            };
            let extra = if c.findings.is_empty() {
                String::new()
            } else {
                format!(" ({})", c.findings.len())
            };
            let l = Line::from(vec![
                Span::styled(format!(" {mark} "), style.add_modifier(Modifier::BOLD)),
                Span::raw(text::truncate(
                    &format!("{}{extra}", c.title),
                    (inner.width as usize).saturating_sub(5),
                )),
            ]);
            if n == app.cursor() {
                l.style(t.selected())
            } else {
                l
            }
        })
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
    scrollbar(f, area, app.model.checks.len(), h, start);
}

fn detail(app: &App, t: &Theme, f: &mut Frame, area: Rect) {
    let content = app.details();
    scrolled(
        t,
        f,
        area,
        &content,
        app.detail_scroll,
        " Details ",
        &|below, _| {
            if below > 0 {
                " ↓ more: J/K ".to_string()
            } else {
                String::new()
            }
        },
    );
}

fn status(app: &App, t: &Theme, f: &mut Frame, area: Rect) {
    let lines: Vec<Line> = match &app.toast {
        Some((level, msg)) => {
            let tone = match level {
                ToastLevel::Info => Tone::Plain,
                ToastLevel::Success => Tone::Good,
                ToastLevel::Error => Tone::Bad,
            };
            let mut style = t.tone(tone);
            if *level != ToastLevel::Info {
                style = style.add_modifier(Modifier::BOLD);
            }
            text::wrap(
                &TLine::plain(safe_line(msg).into_owned()),
                area.width as usize,
            )
            .iter()
            .take(area.height as usize)
            .map(|l| Line::styled(l.text(), style))
            .collect()
        }
        None if !app.warnings.is_empty() => vec![Line::styled(
            format!(
                "{} warning{}; `hfguard scan` lists {}",
                app.warnings.len(),
                if app.warnings.len() == 1 { "" } else { "s" },
                if app.warnings.len() == 1 {
                    "it"
                } else {
                    "them"
                }
            ),
            t.tone(Tone::Muted),
        )],
        None => vec![Line::from("")],
    };
    f.render_widget(Paragraph::new(lines), area);
}

fn keybar(app: &App, t: &Theme, f: &mut Frame, area: Rect) {
    let marked = (!app.marked.is_empty()).then(|| format!("{} marked", app.marked.len()));
    let items = keys::bar(app.context(), area.width as usize, marked.as_deref());
    let mut spans = Vec::new();
    for i in items {
        if i.key.is_empty() {
            spans.push(Span::styled(
                format!("{}  ", i.label),
                Style::default().add_modifier(Modifier::BOLD),
            ));
            continue;
        }
        spans.push(Span::styled(
            i.key,
            Style::default().add_modifier(Modifier::BOLD | Modifier::REVERSED),
        ));
        spans.push(Span::styled(format!(" {}  ", i.label), t.tone(Tone::Muted)));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn popup(app: &App, t: &Theme, f: &mut Frame) {
    let area = f.area();
    match &app.popup {
        Some(Popup::Help { scroll, .. }) => {
            let lines = help_lines();
            scrolled_box(
                t,
                f,
                layout::help_box(app.size, &lines),
                &lines,
                *scroll,
                " Keys ",
                "Esc closes",
            );
        }
        Some(Popup::Planning {
            count, rotating, ..
        }) => match rotating {
            Some(slot) => {
                let msg = format!(
                    "Checking the new token{} and working out the changes for `{}`… (Esc cancels)",
                    if app.may_verify {
                        " with its provider"
                    } else {
                        ""
                    },
                    safe_line(slot)
                );
                small_box(t, f, area, " Rotate ", &[TLine::plain(msg)]);
            }
            None => {
                let msg = format!(
                    "Working out the exact changes for {}… (Esc cancels)",
                    model::findings_word(*count)
                );
                small_box(t, f, area, " Fix ", &[TLine::plain(msg)]);
            }
        },
        Some(Popup::Confirm {
            plan,
            lines,
            scroll,
            rotation,
        }) => {
            let r = layout::preview_box(app.size, lines);
            let title = match rotation {
                Some(rot) => format!(
                    " Rotate `{}`: {} → {}? Enter/y applies · Esc/n cancels ",
                    safe_line(&rot.slot),
                    safe_line(&rot.old),
                    safe_line(&rot.new)
                ),
                None => format!(
                    " Fix {}? Enter/y applies · Esc/n cancels ",
                    model::findings_word(plan.findings.len())
                ),
            };
            scrolled_box(t, f, r, lines, *scroll, &title, "Enter/y applies");
        }
        Some(Popup::Consent(c)) => {
            small_box(
                t,
                f,
                area,
                " Verify with its provider? ",
                &consent_lines(app, c),
            );
        }
        Some(Popup::Revoked { slot, chosen }) => {
            small_box(
                t,
                f,
                area,
                " Old token revoked? ",
                &revoked_lines(app, slot, chosen),
            );
        }
        Some(Popup::NewToken {
            slot,
            old,
            url,
            opened,
            input,
        }) => {
            let title = format!(
                " Rotate `{}` · Enter checks · Esc cancels ",
                safe_line(slot)
            );
            let r = layout::popup_box(area, 76, &|w| {
                text::wrap_all(&new_token_lines(app, slot, old, url, *opened, input, w), w).len()
            });
            let inner = layout::inner(r);
            let lines = new_token_lines(app, slot, old, url, *opened, input, inner.width as usize);
            f.render_widget(Clear, r);
            f.render_widget(Block::default().borders(Borders::ALL).title(title), r);
            wrapped_text(t, f, inner, &lines);
        }
        Some(Popup::Scope { id, places }) => {
            let secret = app
                .findings
                .iter()
                .find(|f| f.id == *id)
                .and_then(|f| f.secret.clone())
                .unwrap_or_default();
            small_box(
                t,
                f,
                area,
                " Fix which places? ",
                &[
                    TLine::plain(format!(
                        "This secret ({}) is open in {}.",
                        safe_line(&secret),
                        model::places(*places)
                    )),
                    TLine::new(Tone::Strong, "t").push(Tone::Plain, "  this place only (Enter)"),
                    TLine::new(Tone::Strong, "a")
                        .push(Tone::Plain, format!("  all {}", model::places(*places))),
                    TLine::new(Tone::Muted, "Esc cancels"),
                ],
            );
        }
        Some(Popup::IgnoreReason { id, input }) => {
            small_box(
                t,
                f,
                area,
                " Ignore · Enter saves · Esc cancels ",
                &[
                    TLine::plain(format!("Why is {id} acceptable? (saved in the config)")),
                    TLine::plain("> ").push(Tone::Strong, format!("{}▏", safe_line(input))),
                ],
            );
        }
        Some(Popup::QuitConfirm) => {
            small_box(
                t,
                f,
                area,
                " Quit? ",
                &[
                    TLine::plain("A fix or undo is still running. Quit anyway?"),
                    TLine::new(
                        Tone::Muted,
                        "What it changed is in the journal: `hfguard history`, `hfguard undo`.",
                    ),
                    yes_no("quit", "stay"),
                ],
            );
        }
        None => {}
    }
}

/// The answers of a y/n question, with what each does.
fn yes_no(yes: &str, no: &str) -> TLine {
    TLine::new(Tone::Strong, "y")
        .push(Tone::Plain, format!(" {yes}   "))
        .push(Tone::Strong, "n")
        .push(Tone::Plain, format!(" {no}"))
}

/// What the verification question says: exactly what is sent, where, and nothing else.
fn consent_lines(app: &App, c: &crate::tui::app::Chosen) -> Vec<TLine> {
    let endpoint = crate::verify::Settings::for_home(&app.home).hf_endpoint;
    let secret = safe_line(&c.secret).into_owned();
    vec![
        TLine::plain(format!(
            "hfguard asks Hugging Face whether {secret} is live and what it can do. It sends exactly one request:"
        )),
        TLine::new(
            Tone::Strong,
            format!("  GET {}/api/whoami-v2", safe_line(&endpoint)),
        ),
        TLine::new(Tone::Strong, format!("  Authorization: Bearer {secret}"))
            .push(Tone::Muted, "  (the token, only in this header)"),
        TLine::plain(
            "and nothing else: no other token, file or name. At most 5 s, no redirect followed, never retried.",
        ),
        TLine::new(
            Tone::Muted,
            "Asked once per session; `[verify] enabled = true` in the configuration means yes.",
        ),
        yes_no("send it", "send nothing"),
    ]
}

/// What the revocation question says.
fn revoked_lines(app: &App, slot: &str, c: &crate::tui::app::Chosen) -> Vec<TLine> {
    let secret = safe_line(&c.secret).into_owned();
    let url = c
        .provider
        .as_deref()
        .and_then(|p| crate::rules::builtin().rotation_url(p))
        .map(|u| format!(" at {u}"))
        .unwrap_or_default();
    vec![
        TLine::plain(format!(
            "{secret} was `{}`'s token until a rotation replaced it.",
            safe_line(slot)
        )),
        TLine::new(Tone::Strong, format!("Did you revoke {secret}{url}?")),
        TLine::new(
            Tone::Muted,
            if app.may_verify {
                "Its provider is asked first (one request with the old token): it must answer that the token is dead."
            } else {
                "Nothing is sent: hfguard takes your word for it."
            },
        ),
        yes_no("yes: the rotation is done", "not yet"),
    ]
}

/// What the new token's popup says, at `width` columns: where to create the token, the input
/// as bullets (never the text), and what happens next.
fn new_token_lines(
    app: &App,
    slot: &str,
    old: &str,
    url: &Option<String>,
    opened: bool,
    input: &crate::tui::app::Masked,
    width: usize,
) -> Vec<TLine> {
    let old = safe_line(old).into_owned();
    let create = match url {
        Some(u) => format!(
            "1. Create a new token at {u}{} — with the same permissions as {old} if that one did the job.",
            if opened { " (opened in your browser)" } else { "" }
        ),
        None => "1. Create a new token with its provider.".to_string(),
    };
    // The bullets fit on one line: past that, their count is in words.
    let n = input.chars();
    let room = width.saturating_sub(4);
    let bullets = if n <= room {
        "•".repeat(n)
    } else {
        format!("{} ({n} characters)", "•".repeat(room.saturating_sub(18)))
    };
    vec![
        TLine::plain(create),
        TLine::plain("2. Paste it here (it is never shown), then Enter:"),
        TLine::plain("> ").push(Tone::Strong, format!("{bullets}▏")),
        TLine::new(
            Tone::Muted,
            format!(
                "It is checked{} and a preview shows every change before anything is applied: `{}` gets the new token, and each place still holding {old} is rewired or redacted. u undoes it.",
                if app.may_verify {
                    " (with its provider too: live, the same account)"
                } else {
                    ""
                },
                safe_line(slot)
            ),
        ),
    ]
}

/// `lines` wrapped to `area` and drawn there.
fn wrapped_text(t: &Theme, f: &mut Frame, area: Rect, lines: &[TLine]) {
    let wrapped: Vec<Line> = text::wrap_all(lines, area.width as usize)
        .iter()
        .map(|l| t.line(l))
        .collect();
    f.render_widget(Paragraph::new(wrapped), area);
}

/// A box of a few lines in the middle of the screen.
fn small_box(t: &Theme, f: &mut Frame, area: Rect, title: &str, lines: &[TLine]) {
    let r = layout::popup_box(area, 76, &|w| text::wrap_all(lines, w).len());
    let inner = layout::inner(r);
    f.render_widget(Clear, r);
    f.render_widget(
        Block::default()
            .borders(Borders::ALL)
            .title(title.to_string()),
        r,
    );
    let wrapped: Vec<Line> = text::wrap_all(lines, inner.width as usize)
        .iter()
        .map(|l| t.line(l))
        .collect();
    f.render_widget(Paragraph::new(wrapped), inner);
}

/// A popup whose wrapped `lines` scroll: says at the bottom how much more there is, or that
/// this is the end (and `end_hint`).
fn scrolled_box(
    t: &Theme,
    f: &mut Frame,
    r: Rect,
    lines: &[TLine],
    scroll: usize,
    title: &str,
    end_hint: &str,
) {
    f.render_widget(Clear, r);
    scrolled(t, f, r, lines, scroll, title, &|below, max| {
        if below > 0 {
            format!(" ↓ {below} more below · j/k PgDn G ")
        } else if max > 0 {
            format!(" end · {end_hint} ")
        } else {
            String::new()
        }
    });
}

/// A bordered box of `lines`, wrapped to its width and scrolled by `scroll` (at most to the
/// end); `bottom(lines below, furthest scroll)` is written on its bottom border.
fn scrolled(
    t: &Theme,
    f: &mut Frame,
    r: Rect,
    lines: &[TLine],
    scroll: usize,
    title: &str,
    bottom: &dyn Fn(usize, usize) -> String,
) {
    let inner = layout::inner(r);
    let wrapped = text::wrap_all(lines, inner.width as usize);
    let max = layout::max_scroll(wrapped.len(), inner.height);
    let scroll = scroll.min(max);
    let below = wrapped.len().saturating_sub(scroll + inner.height as usize);
    let mut block = Block::default()
        .borders(Borders::ALL)
        .title(title.to_string());
    let hint = bottom(below, max);
    if !hint.is_empty() {
        block = block.title_bottom(Line::from(hint).right_aligned());
    }
    f.render_widget(block, r);
    let shown: Vec<Line> = wrapped
        .iter()
        .skip(scroll)
        .take(inner.height as usize)
        .map(|l| t.line(l))
        .collect();
    f.render_widget(Paragraph::new(shown), inner);
}
