//! The `hfguard.report/v1` JSON document (docs/report-schema.md).

use crate::audit::Report;
use crate::term::Text;

/// The document, pretty-printed, with every character a terminal acts on escaped.
pub fn render(report: &Report) -> Text {
    crate::term::json(report)
}
