//! Property tests (bounded: they run in the normal `cargo test`): the output sanitiser, LSN
//! parsing and Patroni's JSON decoding take any input without a panic, and keep what each
//! promises. Failing seeds are kept in proptest-regressions/.

use failover_core::kinds::patroni::{Lag, cluster_view, history_entries, node};
use failover_core::kinds::postgres::Lsn;
use failover_core::text::{clean, is_unsafe, printable, printable_lines};
use proptest::prelude::*;
use serde_json::{Value, json};

fn config() -> ProptestConfig {
    ProptestConfig::with_cases(256)
}

/// Any text, weighted toward what matters here: controls, bidi controls, newlines.
fn hostile_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        any::<char>().prop_map(String::from),
        prop::sample::select(vec![
            "\u{202A}",
            "\u{202B}",
            "\u{202C}",
            "\u{202D}",
            "\u{202E}",
            "\u{2066}",
            "\u{2067}",
            "\u{2068}",
            "\u{2069}",
            "\u{1b}[2J",
            "\r",
            "\n",
            "\t",
            "\u{7}",
            "\u{8}",
            "\u{7f}",
            "\u{85}",
            "\u{9b}",
            "→",
            "é",
            "site A",
        ])
        .prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

/// Any JSON value, a few levels deep.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        ".{0,12}".prop_map(Value::String),
        prop::sample::select(vec![
            "leader", "replica", "unknown", "running", "true", "on"
        ])
        .prop_map(|s| Value::String(s.into())),
    ];
    leaf.prop_recursive(4, 64, 8, |inner| {
        let keys = prop::sample::select(vec![
            "members",
            "name",
            "role",
            "state",
            "lag",
            "receive_lag",
            "replay_lag",
            "tags",
            "nofailover",
            "pause",
            "scheduled_switchover",
            "at",
            "from",
            "to",
            "patroni",
            "timeline",
            "port",
            "x",
        ]);
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((keys, inner), 0..8).prop_map(|pairs| {
                Value::Object(pairs.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
            }),
        ]
    })
}

/// A member as Patroni lists it in /cluster, and what decoding it must give back.
fn member() -> impl Strategy<Value = (Value, String, Option<Lag>)> {
    let lag = prop_oneof![
        Just((None, None)),
        any::<u64>().prop_map(|b| (Some(json!(b)), Some(Lag::Bytes(b)))),
        (i64::MIN..0).prop_map(|b| (Some(json!(b)), Some(Lag::Bytes(0)))),
        Just((Some(json!("unknown")), Some(Lag::Unknown))),
    ];
    ("[a-z][a-z0-9_-]{0,10}", lag).prop_map(|(name, (raw, decoded))| {
        let mut m = json!({"name": name, "role": "replica", "state": "streaming"});
        if let Some(raw) = raw {
            m["lag"] = raw;
        }
        (m, name, decoded)
    })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn printable_leaves_no_control_or_bidi_and_changes_nothing_else(text in hostile_text()) {
        let out = printable(&text);
        prop_assert!(!out.chars().any(is_unsafe), "{out:?}");
        // One character for one: only the unsafe ones, each now a space.
        prop_assert_eq!(out.chars().count(), text.chars().count());
        for (a, b) in text.chars().zip(out.chars()) {
            prop_assert!(a == b || (is_unsafe(a) && b == ' '), "{a:?} -> {b:?}");
        }
        let lines = printable_lines(&text);
        prop_assert!(!lines.chars().any(|c| is_unsafe(c) && c != '\n'));
        prop_assert_eq!(lines.matches('\n').count(), text.matches('\n').count());
        prop_assert!(!clean(&text, false).chars().any(is_unsafe));
        prop_assert!(!clean(&text, true).chars().any(|c| is_unsafe(c) || !c.is_ascii()));
    }

    #[test]
    fn printable_text_is_unchanged(text in "\\PC{0,60}") {
        let text: String = text.chars().filter(|c| !is_unsafe(*c)).collect();
        prop_assert_eq!(printable(&text).into_owned(), text.clone());
        prop_assert_eq!(printable_lines(&text).into_owned(), text.clone());
        prop_assert_eq!(clean(&text, false).into_owned(), text);
    }

    #[test]
    fn every_lsn_round_trips_through_its_text(n in any::<u64>()) {
        let lsn = Lsn(n);
        prop_assert_eq!(Lsn::parse(&lsn.to_string()), Some(lsn));
        prop_assert_eq!(Lsn::parse(&failover_core::text::lsn(n)), Some(lsn));
        prop_assert_eq!(Lsn::parse(&lsn.to_string().to_lowercase()), Some(lsn));
    }

    #[test]
    fn lsn_parsing_takes_any_text(text in ".{0,24}") {
        // No panic; and what parses is exactly what its canonical text says.
        if let Some(lsn) = Lsn::parse(&text) {
            let (hi, lo) = text.split_once('/').expect("a slash");
            prop_assert!(hi.len() <= 8 && lo.len() <= 8);
            prop_assert_eq!(Lsn::parse(&lsn.to_string()), Some(lsn));
            prop_assert_eq!(lsn.0 >> 32, u64::from_str_radix(hi, 16).unwrap());
        }
    }

    #[test]
    fn lsn_halves_over_32_bits_are_refused(hi in 0x1_0000_0000u64.., lo in any::<u32>()) {
        prop_assert_eq!(Lsn::parse(&format!("{hi:X}/{lo:X}")), None);
        prop_assert_eq!(Lsn::parse(&format!("{lo:X}/{hi:X}")), None);
    }

    #[test]
    fn patroni_decoding_takes_any_json(v in json_value()) {
        let _ = node(&v);
        let history = history_entries(&v);
        prop_assert!(history.len() <= v.as_array().map_or(0, Vec::len));
        if let Ok(view) = cluster_view(&v) {
            let listed = v["members"].as_array().expect("members decoded from a list");
            prop_assert_eq!(view.members.len(), listed.len());
            for m in &view.members {
                let _ = (m.worst_lag(), m.is_leader());
            }
            let _ = view.leader();
        }
        if let Ok(text) = serde_json::to_string(&v) {
            // The same answer reparsed decodes the same way.
            let again: Value = serde_json::from_str(&text).expect("reparse");
            prop_assert_eq!(cluster_view(&again), cluster_view(&v));
        }
    }

    #[test]
    fn patroni_members_decode_as_listed(members in prop::collection::vec(member(), 0..6)) {
        let v = json!({"members": members.iter().map(|(m, _, _)| m.clone()).collect::<Vec<_>>()});
        let view = cluster_view(&v).expect("a well-formed /cluster");
        prop_assert_eq!(view.members.len(), members.len());
        for (decoded, (_, name, lag)) in view.members.iter().zip(&members) {
            prop_assert_eq!(&decoded.name, name);
            prop_assert_eq!(decoded.lag, *lag);
            prop_assert_eq!(decoded.worst_lag(), *lag);
            prop_assert!(!decoded.is_leader());
        }
    }

    #[test]
    fn patroni_history_keeps_every_well_formed_line(
        lines in prop::collection::vec((any::<u64>(), any::<u64>(), ".{0,10}"), 0..8)
    ) {
        let v = Value::Array(
            lines.iter().map(|(tl, lsn, reason)| json!([tl, lsn, reason])).collect(),
        );
        let entries = history_entries(&v);
        prop_assert_eq!(entries.len(), lines.len());
        for (e, (tl, lsn, reason)) in entries.iter().zip(&lines) {
            prop_assert_eq!((e.timeline, e.lsn, &e.reason), (*tl, *lsn, reason));
        }
    }
}

proptest! {
    #![proptest_config(config())]

    /// Route 53's values (and the DNS pane's answers) are normalised once: again changes
    /// nothing, for any text of any type.
    #[test]
    fn answers_normalise_once_and_for_all(text in ".{0,40}", kind in 0..4usize) {
        use failover_core::kinds::dns::{RecordType, normalise_answer};
        let record_type = [RecordType::A, RecordType::Aaaa, RecordType::Cname, RecordType::Txt][kind];
        let once = normalise_answer(record_type, &text);
        prop_assert_eq!(normalise_answer(record_type, &once), once.clone());
        prop_assert_eq!(once.trim(), once.as_str());
    }
}
