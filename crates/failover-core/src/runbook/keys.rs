//! Which keys each step table holds, and where: read from the file a second time, since the
//! step's struct knows which fields are set but not where they were written.

use std::cell::OnceCell;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::schema::{Checker, ConfigError};

/// The config's `[[runbook]]` tables as written, read on the first question (a config without
/// runbooks never reads its text twice).
pub struct StepKeys<'i> {
    text: &'i str,
    doc: OnceCell<Option<Spanned<DeTable<'i>>>>,
}

fn get<'a, 'i>(table: &'a DeTable<'i>, key: &str) -> Option<&'a Spanned<DeValue<'i>>> {
    table
        .iter()
        .find(|(k, _)| k.get_ref() == key)
        .map(|(_, v)| v)
}

fn nth_table<'a, 'i>(value: &'a DeValue<'i>, n: usize) -> Option<&'a DeTable<'i>> {
    match value {
        DeValue::Array(items) => items.get(n)?.get_ref().as_table(),
        _ => None,
    }
}

impl<'i> StepKeys<'i> {
    pub fn new(text: &'i str) -> StepKeys<'i> {
        StepKeys {
            text,
            doc: OnceCell::new(),
        }
    }

    /// Each key of the step at `path` (runbook, step, and a third number for its rollback),
    /// with where its value stands.
    fn keys(&self, path: &[usize]) -> Vec<(String, Range<usize>)> {
        let table = (|| {
            // The text already parsed once as the config: this cannot fail where that did not.
            let doc = self
                .doc
                .get_or_init(|| DeTable::parse(self.text).ok())
                .as_ref()?
                .get_ref();
            let runbook = nth_table(get(doc, "runbook")?.get_ref(), *path.first()?)?;
            let step = nth_table(get(runbook, "step")?.get_ref(), *path.get(1)?)?;
            match path.get(2) {
                Some(_) => get(step, "rollback")?.get_ref().as_table(),
                None => Some(step),
            }
        })();
        table
            .map(|t| {
                t.iter()
                    .map(|(k, v)| (k.get_ref().to_string(), v.span()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Refuses the first key of the step (in the file's order) that is not one of `allowed`,
    /// pointing at its value: `"ttl" is not a key of a patroni-switchover step (ttl does not
    /// apply to action = "patroni-switchover"; keys: ...)`. `how`: the step's own key and value,
    /// or empty.
    pub fn refuse_others(
        &self,
        c: &Checker<'_>,
        path: &[usize],
        allowed: &[&str],
        what: &str,
        how: &str,
    ) -> Result<(), ConfigError> {
        let misplaced = self
            .keys(path)
            .into_iter()
            .filter(|(key, _)| !allowed.contains(&key.as_str()))
            .min_by_key(|(_, span)| span.start);
        let Some((key, span)) = misplaced else {
            return Ok(());
        };
        let keys = allowed.join(", ");
        let why = if how.is_empty() {
            format!("keys: {keys}")
        } else {
            format!("{key} does not apply to {how}; keys: {keys}")
        };
        Err(c.error(
            Some(span),
            format!("{key:?} is not a key of {what} ({why})"),
        ))
    }
}
