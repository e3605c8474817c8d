//! A column of names as the rows show it: as wide as its longest name up to a cap, each name
//! cut by `fit::names` so that two rows never read the same.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use crate::fit;
use crate::text::clean;
use crate::theme::Glyphs;

/// The name columns the panes were drawn with, by what each was made for. The names come from
/// the config and do not change while it runs: making the column of ten thousand names for
/// every frame cost more than drawing the frame.
#[derive(Debug, Default)]
pub struct NameColumns(Mutex<Vec<(ColumnKey, Arc<NameColumn>)>>);

/// What a column is made for: its pane, its bounds and the view's character set.
pub type ColumnKey = (super::Section, usize, usize, bool);

impl NameColumns {
    /// The column made for `key`, made by `make` the first time.
    pub fn get(&self, key: ColumnKey, make: impl FnOnce() -> NameColumn) -> Arc<NameColumn> {
        // A few keys at most (three panes, a width or two); a resize adds one.
        const KEPT: usize = 8;
        let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, column)) = kept.iter().find(|(k, _)| *k == key) {
            return column.clone();
        }
        let column = Arc::new(make());
        if kept.len() == KEPT {
            kept.remove(0);
        }
        kept.push((key, column.clone()));
        column
    }
}

#[derive(Debug, Clone, Default)]
pub struct NameColumn {
    pub width: usize,
    shown: HashMap<String, String>,
    ellipsis: &'static str,
    ascii: bool,
}

impl NameColumn {
    /// The column of `names`: as wide as the longest, between `min` and `max` columns.
    pub fn new(names: &[&str], min: usize, max: usize, ascii: bool) -> Self {
        let cleaned: Vec<String> = names.iter().map(|n| clean(n, ascii).into_owned()).collect();
        let longest = cleaned.iter().map(|n| fit::width(n)).max().unwrap_or(0);
        Self::fixed(names, longest.clamp(min, max.max(min)), ascii)
    }

    /// The column of `names` at exactly `width` columns.
    pub fn fixed(names: &[&str], width: usize, ascii: bool) -> Self {
        let ellipsis = Glyphs::new(ascii).ellipsis;
        let cleaned: Vec<String> = names.iter().map(|n| clean(n, ascii).into_owned()).collect();
        let refs: Vec<&str> = cleaned.iter().map(String::as_str).collect();
        let shown = names
            .iter()
            .map(|n| n.to_string())
            .zip(fit::names(&refs, width, ellipsis))
            .collect();
        NameColumn {
            width,
            shown,
            ellipsis,
            ascii,
        }
    }

    /// `name` as its row shows it, padded to the column; a name not in the column is cut alone.
    pub fn cell(&self, name: &str) -> String {
        let shown = match self.shown.get(name) {
            Some(s) => s.clone(),
            None => {
                let cleaned = clean(name, self.ascii);
                fit::names(&[&cleaned], self.width, self.ellipsis).remove(0)
            }
        };
        fit::pad(&shown, self.width)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_column_is_as_wide_as_its_longest_name_up_to_its_cap() {
        let names = ["ledger-west-http", "ledger-west-pgport"];
        assert_eq!(NameColumn::new(&names, 4, 40, false).width, 18);
        let narrow = NameColumn::new(&names, 4, 12, false);
        assert_eq!(narrow.width, 12);
        assert_eq!(narrow.cell("ledger-west-http"), "led…est-http");
        assert_eq!(narrow.cell("ledger-west-pgport"), "led…t-pgport");
        assert_eq!(narrow.cell("api"), "api         ");
    }
}
