//! Names cut to a column's width so that two rows never read the same. A leaf: it imports
//! nothing of the project.

use std::collections::{HashMap, HashSet};

use unicode_width::{UnicodeWidthChar, UnicodeWidthStr};

/// Display columns of `text`.
pub fn width(text: &str) -> usize {
    text.width()
}

/// `text` padded with spaces to `width` columns (by display width, not chars).
pub fn pad(text: &str, width: usize) -> String {
    let pad = width.saturating_sub(text.width());
    format!("{text}{}", " ".repeat(pad))
}

/// The names of one column, each at most `width` columns wide. A name that fits is shown whole;
/// a name that does not is cut where the names differ, so distinct names stay distinct: by its
/// end when the names differ early ("api-a-lo…"), else by the middle of what they share
/// ("led…west-http" / "led…west-pgport"), else around where it differs ("…west-http-ch…"). When
/// no cut tells two names apart (the width is too small), the later one is numbered ("le…2").
/// Distinct names always stay distinct when `width` holds the ellipsis and two digits and there
/// are fewer than 50 names.
pub fn names(names: &[&str], width: usize, ellipsis: &str) -> Vec<String> {
    if names.iter().all(|n| n.width() <= width) {
        return names.iter().map(|n| n.to_string()).collect();
    }
    let options: Vec<Vec<String>> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            if n.width() <= width {
                vec![n.to_string()]
            } else {
                cuts(n, differs_at(names, i), width, ellipsis)
            }
        })
        .collect();
    let mut choice = vec![0; names.len()];
    loop {
        let clashes = clashing(names, &options, &choice);
        let mut moved = false;
        for &i in &clashes {
            if choice[i] + 1 < options[i].len() {
                choice[i] += 1;
                moved = true;
            }
        }
        if clashes.is_empty() || !moved {
            break;
        }
    }
    let mut shown: Vec<String> = (0..names.len())
        .map(|i| options[i][choice[i]].clone())
        .collect();
    number_clashes(names, &mut shown, width, ellipsis);
    shown
}

/// The char index where `names[i]` first differs from the name most like it.
fn differs_at(names: &[&str], i: usize) -> usize {
    names
        .iter()
        .enumerate()
        .filter(|(j, n)| *j != i && **n != names[i])
        .map(|(_, n)| {
            names[i]
                .chars()
                .zip(n.chars())
                .take_while(|(a, b)| a == b)
                .count()
        })
        .max()
        .unwrap_or(0)
}

/// The cut forms of one name that does not fit, best first, each at most `width` wide.
fn cuts(name: &str, at: usize, width: usize, ell: &str) -> Vec<String> {
    let chars: Vec<char> = name.chars().collect();
    let ell_w = ell.width();
    if width <= ell_w {
        return vec![front(&chars, width)];
    }
    let room = width - ell_w;
    let end_cut = format!("{}{ell}", front(&chars, room));
    let visible_in_end_cut = front(&chars, room).chars().count() > at;
    let head = front(&chars, (room + 2) / 4);
    let middle = format!("{head}{ell}{}", back(&chars, room - head.width()));
    let mut out = if visible_in_end_cut {
        vec![end_cut, middle]
    } else {
        vec![middle, end_cut]
    };
    // Windows around where the name differs, the differing char a third of the way in.
    if room > ell_w {
        let span = room - ell_w;
        let (lo, hi) = ((at + 1).saturating_sub(span), at.min(chars.len() - 1));
        let from = at.saturating_sub(span / 3).clamp(lo, hi.max(lo));
        let starts = (0..=span).flat_map(|d| [from.checked_sub(d), Some(from + d)]);
        for start in starts.flatten().filter(|s| (lo..=hi).contains(s)) {
            let body = front(&chars[start..], span);
            let end = start + body.chars().count();
            let lead = if start > 0 { ell } else { "" };
            let tail = if end < chars.len() { ell } else { "" };
            out.push(format!("{lead}{body}{tail}"));
        }
    }
    out.retain(|s| s.width() <= width);
    out.dedup();
    if out.is_empty() {
        out.push(front(&chars, width));
    }
    out
}

/// The first chars of `chars` that fit in `width` columns.
fn front(chars: &[char], width: usize) -> String {
    let mut out = String::new();
    for &c in chars {
        if out.width() + c.width().unwrap_or(0) > width {
            break;
        }
        out.push(c);
        // A char can change the width of the one before it (a variation selector).
        if out.width() > width {
            out.pop();
            break;
        }
    }
    out
}

/// The last chars of `chars` that fit in `width` columns.
fn back(chars: &[char], width: usize) -> String {
    let mut taken: Vec<char> = Vec::new();
    for &c in chars.iter().rev() {
        taken.push(c);
        let s: String = taken.iter().rev().collect();
        if s.width() > width {
            taken.pop();
            break;
        }
    }
    taken.iter().rev().collect()
}

/// The indexes of rows whose shown text equals that of a row of another name.
fn clashing(names: &[&str], options: &[Vec<String>], choice: &[usize]) -> Vec<usize> {
    let mut by_text: HashMap<&str, Vec<usize>> = HashMap::new();
    for i in 0..names.len() {
        by_text.entry(&options[i][choice[i]]).or_default().push(i);
    }
    let mut out: Vec<usize> = by_text
        .into_values()
        .filter(|rows| rows.iter().any(|&i| names[i] != names[rows[0]]))
        .flatten()
        .collect();
    out.sort_unstable();
    out
}

/// Rows that still read like a row of another name get a number after the ellipsis; the first
/// name of each text keeps it.
fn number_clashes(names: &[&str], shown: &mut [String], width: usize, ell: &str) {
    let mut owner: HashMap<String, &str> = HashMap::new();
    let mut taken: HashSet<String> = shown.iter().cloned().collect();
    for i in 0..names.len() {
        match owner.get(&shown[i]) {
            Some(name) if *name != names[i] => {
                let chars: Vec<char> = names[i].chars().collect();
                let numbered = (1..100).map(|n| n.to_string()).find_map(|n| {
                    let room = width.checked_sub(ell.width() + n.len())?;
                    let text = format!("{}{ell}{n}", front(&chars, room));
                    (!taken.contains(&text)).then_some(text)
                });
                if let Some(text) = numbered {
                    taken.insert(text.clone());
                    shown[i] = text;
                }
            }
            Some(_) => {}
            None => {
                owner.insert(shown[i].clone(), names[i]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn names_that_fit_stay_whole() {
        assert_eq!(
            names(&["ledger-west-http", "ledger-west-pgport"], 18, "…"),
            ["ledger-west-http", "ledger-west-pgport"]
        );
    }

    #[test]
    fn a_long_shared_prefix_loses_its_middle() {
        assert_eq!(
            names(&["ledger-west-http", "ledger-west-pgport"], 12, "…"),
            ["led…est-http", "led…t-pgport"]
        );
        assert_eq!(
            names(&["ledger-west-http", "ledger-west-pgport"], 12, "~"),
            ["led~est-http", "led~t-pgport"]
        );
    }

    #[test]
    fn names_that_differ_early_lose_their_end() {
        assert_eq!(
            names(&["api-a-health-check", "api-b-health-check"], 10, "…"),
            ["api-a-hea…", "api-b-hea…"]
        );
    }

    #[test]
    fn names_that_differ_in_the_middle_show_where() {
        let shown = names(
            &[
                "orders-west-replica-lag-check",
                "orders-east-replica-lag-check",
            ],
            12,
            "…",
        );
        assert_eq!(shown, ["orders-west…", "orders-east…"]);
        let shown = names(
            &["aaaaaaaa-one-zzzzzzzzzz", "aaaaaaaa-two-zzzzzzzzzz"],
            8,
            "…",
        );
        assert_ne!(shown[0], shown[1]);
        assert!(
            shown[0].contains("on") && shown[1].contains("tw"),
            "{shown:?}"
        );
    }

    #[test]
    fn wide_chars_count_by_their_columns() {
        let shown = names(
            &["日本語のチェック名前-http", "日本語のチェック名前-grpc"],
            10,
            "…",
        );
        assert!(shown.iter().all(|s| s.width() <= 10), "{shown:?}");
        assert_ne!(shown[0], shown[1]);
        assert_eq!(pad("日本", 6), "日本  ");
    }

    #[test]
    fn names_alike_to_the_end_still_differ() {
        let list = [
            "aaaaaaaaaaaa",
            "aaaaaaaaaaaaa",
            "aaaaaaaaaaaaaa",
            "aaaaaaaaaaaaaaa",
        ];
        let shown = names(&list, 4, "…");
        let distinct: HashSet<&String> = shown.iter().collect();
        assert_eq!(distinct.len(), 4, "{shown:?}");
        assert!(shown.iter().all(|s| s.width() <= 4), "{shown:?}");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        #[test]
        fn cut_names_fit_and_stay_distinct(
            set in proptest::collection::hash_set("[a-c-]{0,6}(-[a-c]{0,3}|日本|e\u{301}){0,4}", 1..12),
            width in 0usize..24,
            ascii in any::<bool>(),
        ) {
            let ell = if ascii { "~" } else { "…" };
            let list: Vec<&str> = set.iter().map(String::as_str).collect();
            let shown = names(&list, width, ell);
            prop_assert_eq!(shown.len(), list.len());
            for (name, s) in list.iter().zip(&shown) {
                prop_assert!(s.width() <= width, "{s:?} wider than {width}");
                if name.width() <= width {
                    prop_assert_eq!(s, name);
                }
            }
            if width >= ell.width() + 2 {
                let distinct: HashSet<&String> = shown.iter().collect();
                prop_assert_eq!(distinct.len(), shown.len(), "{:?} -> {:?}", list, shown);
            }
        }
    }
}
