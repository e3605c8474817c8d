//! The post-mortem: the journal as a Markdown incident timeline.

use std::collections::BTreeSet;
use std::fmt::Write;

use time::format_description::FormatItem;
use time::macros::format_description;

use super::{Entry, Kind};

const STAMP: &[FormatItem<'static>] =
    format_description!("[year]-[month]-[day] [hour]:[minute]:[second]");

/// `summary`: the Markdown that opens the export after its header (the runs in numbers, made
/// by `runbook::numbers::export_summary`); empty for none. `label`: a site's label for its key
/// (the journal's run events name sites by key; people read labels).
pub fn markdown(
    title: &str,
    journal: &str,
    entries: &[Entry],
    unreadable: usize,
    summary: &str,
    label: &dyn Fn(&str) -> String,
) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Incident timeline: {}\n", escape(title));
    let stamp = |e: &Entry| e.at.format(STAMP).unwrap_or_default();
    match (entries.first(), entries.last()) {
        (Some(first), Some(last)) => {
            let _ = writeln!(out, "- Journal: `{journal}`");
            let _ = writeln!(out, "- Entries: {}", entries.len());
            let _ = writeln!(out, "- From {} to {} (UTC)", stamp(first), stamp(last));
        }
        _ => {
            let _ = writeln!(out, "- Journal: `{journal}` (no entries)");
        }
    }
    let operators: BTreeSet<&str> = entries
        .iter()
        .filter_map(|e| e.operator.as_deref())
        .collect();
    if !operators.is_empty() {
        let _ = writeln!(
            out,
            "- Operators: {}",
            operators.into_iter().collect::<Vec<_>>().join(", ")
        );
    }
    if unreadable > 0 {
        let _ = writeln!(out, "- {unreadable} unreadable journal line(s) skipped");
    }
    out.push_str(summary);
    let notes: Vec<&Entry> = entries.iter().filter(|e| e.kind == Kind::Note).collect();
    if !notes.is_empty() {
        let _ = writeln!(out, "\n## Operator notes\n");
        for n in notes {
            let who = n.operator.as_deref().unwrap_or("?");
            let _ = writeln!(
                out,
                "- {} {}: {}",
                stamp(n),
                escape(who),
                escape(&n.message)
            );
        }
    }
    runs(&mut out, entries, &stamp, label);
    let _ = writeln!(out, "\n## Timeline\n");
    let _ = writeln!(out, "| Time (UTC) | Severity | Source | Event | Operator |");
    let _ = writeln!(out, "|---|---|---|---|---|");
    for e in entries {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            stamp(e),
            e.severity.label(),
            escape(&e.source),
            escape(&e.message),
            escape(e.operator.as_deref().unwrap_or(""))
        );
    }
    // Names, messages and notes come from outside: no control or bidi character is written.
    crate::text::printable_lines(&out).into_owned()
}

fn escape(text: &str) -> String {
    text.replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// One section per runbook run: who, why, and each step's events with times and outcomes.
fn runs(
    out: &mut String,
    entries: &[Entry],
    stamp: &dyn Fn(&Entry) -> String,
    label: &dyn Fn(&str) -> String,
) {
    let mut ids: Vec<&str> = Vec::new();
    for e in entries {
        if let Some(r) = &e.run
            && !ids.contains(&r.id.as_str())
        {
            ids.push(&r.id);
        }
    }
    if ids.is_empty() {
        return;
    }
    let _ = writeln!(out, "\n## Runs");
    for id in ids {
        let events: Vec<&Entry> = entries
            .iter()
            .filter(|e| e.run.as_ref().is_some_and(|r| r.id == id))
            .collect();
        let Some(first) = events.first() else {
            continue;
        };
        let runbook = first
            .run
            .as_ref()
            .map(|r| r.runbook.as_str())
            .unwrap_or("?");
        let _ = writeln!(out, "\n### {} `{id}`\n", escape(runbook));
        match first.run.as_ref().map(|r| &r.event) {
            Some(super::Event::Armed {
                target,
                reason,
                expected_primaries,
                ..
            }) => {
                let primaries: Vec<String> = expected_primaries
                    .iter()
                    .map(|p| {
                        let member = p.member.as_deref().map(label);
                        format!("{}: {}", p.database, member.as_deref().unwrap_or("none"))
                    })
                    .collect();
                let _ = writeln!(
                    out,
                    "- Armed {} by {} toward {}",
                    stamp(first),
                    escape(first.operator.as_deref().unwrap_or("?")),
                    escape(&label(target))
                );
                let _ = writeln!(out, "- Reason: {}", escape(reason));
                let _ = writeln!(out, "- Primary at arming: {}", primaries.join(", "));
            }
            Some(super::Event::DryRun { .. }) => {
                let _ = writeln!(
                    out,
                    "- Dry run {} by {} (nothing executed)",
                    stamp(first),
                    escape(first.operator.as_deref().unwrap_or("?"))
                );
            }
            _ => {
                let _ = writeln!(out, "- (the arming entry is not in this journal)");
            }
        }
        let _ = writeln!(out, "\n| Time (UTC) | Operator | Event |");
        let _ = writeln!(out, "|---|---|---|");
        for e in events {
            let _ = writeln!(
                out,
                "| {} | {} | {} |",
                stamp(e),
                escape(e.operator.as_deref().unwrap_or("")),
                escape(&e.message)
            );
        }
    }
}
