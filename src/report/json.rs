//! The `hfguard.report/v1` JSON document (docs/report-schema.md).

use crate::audit::Report;

pub fn render(report: &Report) -> String {
    let mut out = serde_json::to_string_pretty(report).expect("a report always serializes");
    out.push('\n');
    out
}
