//! Rendering: a pure function of the [`App`] state. Works from 80×24 up; with `NO_COLOR`
//! only bold and reverse mark things.

use super::app::{App, Popup, ToastLevel, View};
use super::keys::BINDINGS;
use crate::finding::{Category, Finding, Severity};
use crate::report::{self, CheckStatus};
use ratatui::layout::{Constraint, Direction, Layout, Margin, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, Borders, Clear, Paragraph, Scrollbar, ScrollbarOrientation, ScrollbarState, Wrap,
};
use ratatui::Frame;

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
    fn selected(&self) -> Style {
        Style::default().add_modifier(Modifier::REVERSED | Modifier::BOLD)
    }
    fn dim(&self) -> Style {
        if self.color {
            Style::default().add_modifier(Modifier::DIM)
        } else {
            Style::default()
        }
    }
}

fn badge(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "CRIT",
        Severity::High => "HIGH",
        Severity::Medium => "MED ",
        Severity::Low => "LOW ",
        Severity::Info => "INFO",
    }
}

/// For each line of the findings list, the selection index it shows (None: a heading).
pub fn finding_lines(app: &App) -> Vec<Option<usize>> {
    let mut out = Vec::new();
    let mut last: Option<Category> = None;
    for (sel, &i) in app.visible().iter().enumerate() {
        let cat = app.findings[i].category;
        if last != Some(cat) {
            out.push(None);
            last = Some(cat);
        }
        out.push(Some(sel));
    }
    out
}

/// The screen's areas: header, list, details, status line, key bar.
pub struct Areas {
    pub header: Rect,
    pub list: Rect,
    pub detail: Rect,
    pub status: Rect,
    pub keys: Rect,
}

pub fn areas(area: Rect, zoom: bool) -> Areas {
    let outer = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Length(3),
            Constraint::Min(5),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .split(area);
    let wide = area.width >= 110;
    let body = Layout::default()
        .direction(if wide {
            Direction::Horizontal
        } else {
            Direction::Vertical
        })
        .constraints([Constraint::Percentage(55), Constraint::Percentage(45)])
        .split(outer[1]);
    let (list, detail) = if zoom {
        (Rect::default(), outer[1])
    } else {
        (body[0], body[1])
    };
    Areas {
        header: outer[0],
        list,
        detail,
        status: outer[2],
        keys: outer[3],
    }
}

/// The first line of the list shown, so that the selection is in view.
pub fn list_start(app: &App, inner_height: usize) -> usize {
    let sel_line = match app.view {
        View::Findings => finding_lines(app)
            .iter()
            .position(|l| *l == Some(app.selected))
            .unwrap_or(0),
        _ => app.selected,
    };
    list_window(sel_line, inner_height, 0)
}

/// The list row under screen position (`x`, `y`) in a terminal of `size`, if any.
pub fn row_at(app: &App, size: (u16, u16), x: u16, y: u16) -> Option<usize> {
    let a = areas(Rect::new(0, 0, size.0, size.1), app.details);
    let inner = Block::default().borders(Borders::ALL).inner(a.list);
    if x < inner.x || x >= inner.x + inner.width || y < inner.y || y >= inner.y + inner.height {
        return None;
    }
    Some(list_start(app, inner.height as usize) + (y - inner.y) as usize)
}

pub fn draw(app: &App, f: &mut Frame) {
    let t = Theme { color: app.color };
    let area = f.area();
    let a = areas(area, app.details);
    header(app, &t, f, a.header);
    if !app.details {
        match app.view {
            View::Findings => findings_list(app, &t, f, a.list),
            View::Tokens => tokens_list(app, &t, f, a.list),
            View::Checklist => checklist(app, &t, f, a.list),
        }
    }
    detail(app, &t, f, a.detail);
    status(app, &t, f, a.status);
    keybar(&t, f, a.keys);
    match &app.popup {
        Some(Popup::Help) => help(&t, f, area),
        Some(Popup::Planning) => {
            let r = centered(area, 50, 3);
            f.render_widget(Clear, r);
            f.render_widget(
                Paragraph::new("Working out the exact changes…")
                    .block(Block::default().borders(Borders::ALL).title(" Fix ")),
                r,
            );
        }
        Some(Popup::Confirm {
            preview,
            findings,
            scroll,
            ..
        }) => {
            let height =
                (preview.lines().count() as u16 + 2).clamp(5, area.height.saturating_sub(2));
            let r = centered(area, area.width.saturating_sub(4).min(110), height);
            f.render_widget(Clear, r);
            let mut text: Vec<Line> = Vec::new();
            for l in preview.lines() {
                let style = if l.starts_with('+') && !l.starts_with("+++") {
                    t.fg(Color::Green)
                } else if l.starts_with('-') && !l.starts_with("---") {
                    t.fg(Color::Red)
                } else {
                    Style::default()
                };
                text.push(Line::styled(l.to_string(), style));
            }
            let title = format!(
                " Fix {} finding(s)? y apply · n cancel · j/k scroll ",
                findings.len()
            );
            f.render_widget(
                Paragraph::new(text)
                    .scroll((*scroll, 0))
                    .block(Block::default().borders(Borders::ALL).title(title)),
                r,
            );
        }
        Some(Popup::IgnoreReason { id, input }) => {
            let r = centered(area, 70.min(area.width), 5);
            f.render_widget(Clear, r);
            f.render_widget(
                Paragraph::new(vec![
                    Line::from(format!("Why is {id} acceptable? (saved in the config)")),
                    Line::from(vec![
                        Span::raw("> "),
                        Span::styled(input.clone(), t.selected()),
                    ]),
                ])
                .block(
                    Block::default()
                        .borders(Borders::ALL)
                        .title(" Ignore · Enter: save · Esc: cancel "),
                ),
                r,
            );
        }
        None => {}
    }
}

fn header(app: &App, t: &Theme, f: &mut Frame, area: Rect) {
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
    for s in Severity::ALL_DESC {
        l2.push(Span::styled(
            format!("{} {}", counts[&s], s.as_str()),
            t.severity(s),
        ));
        l2.push(Span::raw("  "));
    }
    let progress = if app.scanning {
        format!("scanning… {} files", app.files)
    } else {
        match app.scan_secs {
            Some(s) => format!("scanned {} files in {s:.1} s", app.files),
            None => "starting…".into(),
        }
    };
    let view = match app.view {
        View::Findings => "[Findings] Tokens  Checklist",
        View::Tokens => " Findings [Tokens] Checklist",
        View::Checklist => " Findings  Tokens [Checklist]",
    };
    let filter = if app.filter_editing || !app.filter.is_empty() {
        format!(
            "  filter: {}{}",
            app.filter,
            if app.filter_editing { "▏" } else { "" }
        )
    } else {
        String::new()
    };
    let min = if app.min_severity > Severity::Info {
        format!("  ≥{}", app.min_severity)
    } else {
        String::new()
    };
    let lines = vec![
        Line::from(vec![
            Span::styled("hfguard", Style::default().add_modifier(Modifier::BOLD)),
            Span::raw(format!("  {}  {}  ", app.who, app.home.display())),
            if app.watching && app.watch_ready {
                Span::styled("watch: on", t.fg(Color::Green))
            } else if app.watching {
                Span::styled("watch: starting", t.dim())
            } else {
                Span::styled("watch: off", t.dim())
            },
        ]),
        Line::from(l2),
        Line::from(vec![
            Span::styled(view, Style::default().add_modifier(Modifier::BOLD)),
            Span::raw(format!("  {progress}{filter}{min}")),
        ]),
    ];
    f.render_widget(Paragraph::new(lines), area);
}

fn list_window(selected_line: usize, height: usize, offset: usize) -> usize {
    if height == 0 {
        return 0;
    }
    if selected_line < offset {
        selected_line
    } else if selected_line >= offset + height {
        selected_line + 1 - height
    } else {
        offset
    }
}

/// A scrollbar over the right border of a list block at `area` when its `total` lines do not
/// fit in `shown`, the first shown being `start`: where the view is, and how much is hidden.
fn scrollbar(f: &mut Frame, area: Rect, total: usize, shown: usize, start: usize) {
    if total <= shown {
        return;
    }
    // Positions run from 0 to the last first-line; the thumb spans what is shown.
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

fn finding_row(app: &App, t: &Theme, fi: &Finding, selected: bool, width: usize) -> Line<'static> {
    let fixed = app.fixed.contains(&fi.id);
    let mut spans = vec![
        Span::raw(" "),
        Span::styled(badge(fi.severity), t.severity(fi.severity)),
        Span::raw(" "),
    ];
    let mark = if fixed {
        "✓"
    } else if fi.ignored.is_some() {
        "·"
    } else if fi.fixes.is_empty() {
        " "
    } else {
        "⚒"
    };
    spans.push(Span::raw(format!("{mark} ")));
    let mut text = report::location(&app.home, fi);
    if let Some(s) = &fi.secret {
        text.push_str("  ");
        text.push_str(s);
    }
    if fixed {
        text.push_str("  fixed");
    } else if fi.ignored.is_some() {
        text.push_str("  ignored");
    }
    let max = width.saturating_sub(9);
    if text.chars().count() > max {
        text = text.chars().take(max.saturating_sub(1)).collect::<String>() + "…";
    }
    let style = if fixed {
        t.fg(Color::Green)
    } else if fi.ignored.is_some() {
        t.dim()
    } else {
        Style::default()
    };
    spans.push(Span::styled(text, style));
    let line = Line::from(spans);
    if selected {
        line.style(t.selected())
    } else {
        line
    }
}

fn findings_list(app: &App, t: &Theme, f: &mut Frame, area: Rect) {
    let block = Block::default().borders(Borders::ALL).title(" Findings ");
    let inner = block.inner(area);
    f.render_widget(block, area);
    let vis = app.visible();
    if vis.is_empty() {
        let msg = if app.scanning {
            "Looking…"
        } else if app.findings.is_empty() {
            "No exposed credentials found. Nice."
        } else {
            "Nothing matches the filter."
        };
        f.render_widget(Paragraph::new(msg).style(t.fg(Color::Green)), inner);
        return;
    }
    let lines = finding_lines(app);
    let sel_line = lines
        .iter()
        .position(|l| *l == Some(app.selected))
        .unwrap_or(0);
    let h = inner.height as usize;
    let start = list_window(sel_line, h, app.offset.min(lines.len()));
    let mut out = Vec::new();
    let mut cat_of_line = None;
    let mut idx = 0;
    for (n, l) in lines.iter().enumerate() {
        match l {
            None => {
                cat_of_line = Some(app.findings[vis[idx]].category);
            }
            Some(_) => idx += 1,
        }
        if n < start || n >= start + h {
            continue;
        }
        match l {
            None => out.push(Line::styled(
                cat_of_line
                    .map(|c| c.title())
                    .unwrap_or_default()
                    .to_string(),
                Style::default().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            )),
            Some(sel) => out.push(finding_row(
                app,
                t,
                &app.findings[vis[*sel]],
                *sel == app.selected,
                inner.width as usize,
            )),
        }
    }
    f.render_widget(Paragraph::new(out), inner);
    scrollbar(f, area, lines.len(), h, start);
}

fn tokens_list(app: &App, t: &Theme, f: &mut Frame, area: Rect) {
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" Tokens: one row per secret ");
    let inner = block.inner(area);
    f.render_widget(block, area);
    let groups = app.tokens();
    if groups.is_empty() {
        f.render_widget(
            Paragraph::new("No secrets found in files, variables or processes."),
            inner,
        );
        return;
    }
    let h = inner.height as usize;
    let start = list_start(app, h);
    let lines: Vec<Line> = groups
        .iter()
        .enumerate()
        .skip(start)
        .take(h)
        .map(|(n, (_, idx))| {
            let fi = &app.findings[idx[0]];
            let worst = idx
                .iter()
                .map(|&i| app.findings[i].severity)
                .max()
                .unwrap_or(Severity::Info);
            let all_fixed = idx.iter().all(|&i| app.fixed.contains(&app.findings[i].id));
            let text = format!(
                " {} {}  {}  {} place{}{}",
                badge(worst),
                fi.secret.clone().unwrap_or_default(),
                fi.provider.clone().unwrap_or_else(|| "unknown".into()),
                idx.len(),
                if idx.len() == 1 { "" } else { "s" },
                if all_fixed { "  fixed" } else { "" }
            );
            let l = Line::styled(
                text,
                if all_fixed {
                    t.fg(Color::Green)
                } else {
                    Style::default()
                },
            );
            if n == app.selected {
                l.style(t.selected())
            } else {
                l
            }
        })
        .collect();
    f.render_widget(Paragraph::new(lines), inner);
    scrollbar(f, area, groups.len(), h, start);
}

fn checklist(app: &App, t: &Theme, f: &mut Frame, area: Rect) {
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" Onboarding checklist ");
    let inner = block.inner(area);
    f.render_widget(block, area);
    let report = app.report();
    let checks = report::checklist(&report);
    let lines: Vec<Line> = checks
        .iter()
        .enumerate()
        .map(|(n, c)| {
            let (mark, style) = match c.status {
                CheckStatus::Pass => ("[x]", t.fg(Color::Green)),
                CheckStatus::Fail => ("[ ]", t.fg(Color::Red)),
            };
            let extra = if c.findings.is_empty() {
                String::new()
            } else {
                format!(" ({})", c.findings.len())
            };
            let l = Line::from(vec![
                Span::styled(format!(" {mark} "), style.add_modifier(Modifier::BOLD)),
                Span::raw(format!("{}{extra}", c.title)),
            ]);
            if n == app.selected {
                l.style(t.selected())
            } else {
                l
            }
        })
        .collect();
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

fn detail(app: &App, t: &Theme, f: &mut Frame, area: Rect) {
    let block = Block::default().borders(Borders::ALL).title(" Details ");
    let inner = block.inner(area);
    f.render_widget(block, area);
    let mut lines: Vec<Line> = Vec::new();
    match app.view {
        View::Checklist => {
            let report = app.report();
            if let Some(c) = report::checklist(&report).get(app.selected) {
                lines.push(Line::styled(
                    c.title.to_string(),
                    Style::default().add_modifier(Modifier::BOLD),
                ));
                if c.status == CheckStatus::Pass {
                    lines.push(Line::styled("Passes.", t.fg(Color::Green)));
                }
                for n in &c.notes {
                    lines.push(Line::from(format!("• {n}")));
                }
                for &i in &c.findings {
                    let fi = &report.findings[i];
                    lines.push(Line::from(format!(
                        "• {} {}",
                        fi.severity,
                        report::location(&app.home, fi)
                    )));
                }
            }
        }
        View::Tokens => {
            if let Some((_, idx)) = app.tokens().get(app.selected) {
                let fi = &app.findings[idx[0]];
                lines.push(Line::styled(
                    format!(
                        "{} ({})",
                        fi.secret.clone().unwrap_or_default(),
                        fi.provider.clone().unwrap_or_else(|| "unknown".into())
                    ),
                    Style::default().add_modifier(Modifier::BOLD),
                ));
                lines.push(Line::from("Found in:"));
                for &i in idx {
                    lines.push(Line::from(format!(
                        "  • {}",
                        report::location(&app.home, &app.findings[i])
                    )));
                }
                lines.push(Line::from(""));
                lines.push(Line::from("f: fix all places of this secret."));
                lines.push(Line::styled(
                    format!(
                        "If it was ever readable by others, in a history or shared, {}.",
                        report::rotate_hint(fi.provider.as_deref())
                    ),
                    t.fg(Color::Yellow),
                ));
            }
        }
        View::Findings => {
            if let Some(fi) = app.current() {
                lines.push(Line::from(vec![
                    Span::styled(
                        format!("{} ", fi.severity.as_str().to_uppercase()),
                        t.severity(fi.severity),
                    ),
                    Span::styled(
                        fi.rule.clone(),
                        Style::default().add_modifier(Modifier::BOLD),
                    ),
                ]));
                lines.push(Line::from(report::location(&app.home, fi)));
                if let Some(ctx) = app.context.get(&fi.id) {
                    lines.push(Line::styled(format!("│ {ctx}"), t.dim()));
                }
                lines.push(Line::from(""));
                lines.push(Line::from(fi.message.clone()));
                lines.push(Line::from(""));
                lines.push(Line::styled(
                    "Why it matters",
                    Style::default().add_modifier(Modifier::BOLD),
                ));
                lines.push(Line::from(report::advice(fi.category)));
                lines.push(Line::from(""));
                if app.fixed.contains(&fi.id) {
                    lines.push(Line::styled(
                        "Fixed in this session (u undoes the last fix).",
                        t.fg(Color::Green),
                    ));
                } else if let Some(reason) = &fi.ignored {
                    lines.push(Line::from(format!(
                        "Ignored: {reason} (i to stop ignoring)"
                    )));
                } else if fi.fixes.is_empty() {
                    lines.push(Line::from("No automatic fix: follow the message above."));
                } else {
                    let names: Vec<&str> = fi.fixes.iter().map(|k| k.as_str()).collect();
                    lines.push(Line::from(format!(
                        "Fix: {} (f) — the exact change is shown before anything is applied. Also: {}",
                        names[0],
                        names.join(", ")
                    )));
                }
                lines.push(Line::styled(format!("id {}", fi.id), t.dim()));
            } else if !app.scanning {
                lines.push(Line::from("Nothing selected."));
            }
        }
    }
    f.render_widget(Paragraph::new(lines).wrap(Wrap { trim: false }), inner);
}

fn status(app: &App, t: &Theme, f: &mut Frame, area: Rect) {
    let line = match &app.toast {
        Some((level, msg)) => {
            let style = match level {
                ToastLevel::Info => Style::default(),
                ToastLevel::Success => t.fg(Color::Green).add_modifier(Modifier::BOLD),
                ToastLevel::Error => t.fg(Color::Red).add_modifier(Modifier::BOLD),
            };
            Line::styled(msg.clone(), style)
        }
        None if !app.warnings.is_empty() => Line::styled(
            format!(
                "{} warning(s); `hfguard scan` lists them",
                app.warnings.len()
            ),
            t.dim(),
        ),
        None => Line::from(""),
    };
    f.render_widget(Paragraph::new(line), area);
}

fn keybar(t: &Theme, f: &mut Frame, area: Rect) {
    let mut spans = Vec::new();
    spans.push(Span::styled(
        "j/k",
        Style::default().add_modifier(Modifier::BOLD | Modifier::REVERSED),
    ));
    spans.push(Span::styled(" move ", t.dim()));
    for b in BINDINGS.iter() {
        if let Some(word) = b.bar {
            spans.push(Span::styled(
                b.keys[0].to_string(),
                Style::default().add_modifier(Modifier::BOLD | Modifier::REVERSED),
            ));
            spans.push(Span::styled(format!(" {word} "), t.dim()));
        }
    }
    f.render_widget(Paragraph::new(Line::from(spans)), area);
}

fn help(t: &Theme, f: &mut Frame, area: Rect) {
    let r = centered(
        area,
        60.min(area.width),
        (BINDINGS.len() as u16 + 4).min(area.height),
    );
    f.render_widget(Clear, r);
    let mut lines: Vec<Line> = BINDINGS
        .iter()
        .map(|b| {
            Line::from(vec![
                Span::styled(
                    format!("{:>12}  ", b.keys.join(" ")),
                    Style::default().add_modifier(Modifier::BOLD),
                ),
                Span::raw(b.help),
            ])
        })
        .collect();
    lines.push(Line::styled(
        "Ctrl-c quits anywhere; the mouse selects and scrolls.",
        t.dim(),
    ));
    f.render_widget(
        Paragraph::new(lines).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Keys (any key closes) "),
        ),
        r,
    );
}

fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}
