//! The sites a config names, in the file's order: everything else points at one by index.

use std::ops::Deref;

/// Index into the config's sites.
pub type SiteId = usize;

#[derive(Debug, Clone)]
pub struct Site {
    pub key: String,
    pub label: String,
}

#[derive(Debug, Clone, Default)]
pub struct Sites(pub Vec<Site>);

impl Sites {
    /// The site's label, "?" for an index that is not one.
    pub fn label(&self, site: SiteId) -> &str {
        self.0.get(site).map(|s| s.label.as_str()).unwrap_or("?")
    }

    pub fn by_key(&self, key: &str) -> Option<SiteId> {
        self.0.iter().position(|s| s.key == key)
    }
}

impl Deref for Sites {
    type Target = [Site];

    fn deref(&self) -> &[Site] {
        &self.0
    }
}
