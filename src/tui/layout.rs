//! Where things are on the screen, as a pure function of the terminal's size and a few facts
//! of the state (is the details pane zoomed, how long is the message, where is the list
//! scrolled): the areas, the list's window, the popups' boxes, and which of them a mouse
//! position falls in. The state uses it to keep the selection in view and to map clicks;
//! drawing uses it to put things there. It knows neither: nothing here draws, or reads or
//! changes the state.

use super::text::{self, TLine};
use ratatui::layout::{Constraint, Direction, Layout, Rect};

/// The screen's areas, top to bottom.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Areas {
    /// Who, where, score, counts, and the view tabs on its last row.
    pub header: Rect,
    /// "Next step: …"
    pub next: Rect,
    /// The list (empty when the details are zoomed), with its border.
    pub list: Rect,
    /// The details, with its border.
    pub detail: Rect,
    /// The status line (a message may take up to three rows).
    pub status: Rect,
    pub keys: Rect,
}

/// Rows of the header.
pub const HEADER_ROWS: u16 = 3;
/// A message longer than this many rows is cut (it stays whole in `hfguard history`).
pub const STATUS_MAX_ROWS: u16 = 3;

/// The view tabs as the header shows them, in the views' order.
pub const TABS: [&str; 3] = ["1 Findings", "2 Tokens", "3 Checklist"];

/// What the layout depends on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Screen<'a> {
    /// Columns, rows.
    pub size: (u16, u16),
    /// The details fill the body.
    pub zoom: bool,
    /// The status message, if any.
    pub message: Option<&'a str>,
}

/// Rows the status message takes at `width`.
pub fn status_rows(message: Option<&str>, width: u16) -> u16 {
    match message {
        Some(msg) => {
            (text::wrap(&TLine::plain(msg), width as usize).len() as u16).clamp(1, STATUS_MAX_ROWS)
        }
        None => 1,
    }
}

pub fn areas(s: Screen) -> Areas {
    let area = Rect::new(0, 0, s.size.0, s.size.1);
    let status = status_rows(s.message, area.width);
    let outer = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Length(HEADER_ROWS),
            Constraint::Length(1),
            Constraint::Min(4),
            Constraint::Length(status),
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
        .split(outer[2]);
    let (list, detail) = if s.zoom {
        (Rect::default(), outer[2])
    } else {
        (body[0], body[1])
    };
    Areas {
        header: outer[0],
        next: outer[1],
        list,
        detail,
        status: outer[3],
        keys: outer[4],
    }
}

/// The inside of a bordered box.
pub fn inner(r: Rect) -> Rect {
    Rect {
        x: r.x.saturating_add(1),
        y: r.y.saturating_add(1),
        width: r.width.saturating_sub(2),
        height: r.height.saturating_sub(2),
    }
}

/// Rows of the list that fit on screen (a page).
pub fn list_height(s: Screen) -> usize {
    inner(areas(s).list).height as usize
}

/// The first line shown of a list of lines, so that line `sel` is in view, moving as little
/// as possible from `offset`.
pub fn list_window(sel: usize, height: usize, offset: usize) -> usize {
    if height == 0 {
        return 0;
    }
    if sel < offset {
        sel
    } else if sel >= offset + height {
        sel + 1 - height
    } else {
        offset
    }
}

/// Where each tab is on the tabs row: (first column, past the last), in [`TABS`]' order.
pub fn tab_spans() -> Vec<(u16, u16)> {
    let mut x = 0u16;
    TABS.iter()
        .map(|label| {
            let w = text::width(label) as u16 + 2;
            let span = (x, x + w);
            x += w + 1;
            span
        })
        .collect()
}

/// The tab (its index in [`TABS`]) at screen position (`x`, `y`), if any.
pub fn tab_at(s: Screen, x: u16, y: u16) -> Option<usize> {
    let a = areas(s);
    if y != a.header.y + HEADER_ROWS - 1 {
        return None;
    }
    tab_spans()
        .into_iter()
        .position(|(x0, x1)| (x0..x1).contains(&x))
}

/// What a mouse position is over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pane {
    /// A line of the list, by its index among the list's lines.
    ListLine(usize),
    /// The list's border or an empty part of it.
    List,
    Details,
    /// A view tab, by its index in [`TABS`].
    Tab(usize),
    Popup,
    Elsewhere,
}

fn contains(r: Rect, x: u16, y: u16) -> bool {
    x >= r.x && x < r.x + r.width && y >= r.y && y < r.y + r.height
}

/// What (`x`, `y`) is over, with a popup open or not, the list scrolled to `list_offset`.
pub fn pane_at(s: Screen, popup: bool, list_offset: usize, x: u16, y: u16) -> Pane {
    if popup {
        return Pane::Popup;
    }
    if let Some(v) = tab_at(s, x, y) {
        return Pane::Tab(v);
    }
    let a = areas(s);
    if contains(a.list, x, y) {
        let i = inner(a.list);
        if contains(i, x, y) {
            return Pane::ListLine(list_offset + (y - i.y) as usize);
        }
        return Pane::List;
    }
    if contains(a.detail, x, y) {
        return Pane::Details;
    }
    Pane::Elsewhere
}

/// A box centred in `area`, leaving a margin of two columns and one row, at most
/// `max_width` wide and as tall as its content (`rows` at the box's inner width) allows.
pub fn popup_box(area: Rect, max_width: u16, rows: &dyn Fn(usize) -> usize) -> Rect {
    let w = area
        .width
        .saturating_sub(4)
        .min(max_width)
        .max(area.width.min(20));
    let content = rows(w.saturating_sub(2) as usize) as u16;
    let h = (content + 2)
        .min(area.height.saturating_sub(2))
        .max(area.height.min(5));
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// The fix preview's box: as wide as the terminal allows (with a margin) and as tall as its
/// wrapped lines, at most the terminal's height less a margin.
pub fn preview_box(size: (u16, u16), lines: &[TLine]) -> Rect {
    let area = Rect::new(0, 0, size.0, size.1);
    popup_box(area, u16::MAX, &|w| text::wrap_all(lines, w).len())
}

/// The help's box.
pub fn help_box(size: (u16, u16), lines: &[TLine]) -> Rect {
    let area = Rect::new(0, 0, size.0, size.1);
    popup_box(area, 100, &|w| text::wrap_all(lines, w).len())
}

/// How far a box of `rows` inner rows showing `total` lines can scroll.
pub fn max_scroll(total: usize, rows: u16) -> usize {
    total.saturating_sub(rows as usize)
}
