// placeholder so the crate builds while this module is written
use super::{ActionSpec, Outcome};
pub fn describe(method: &str, url: &str, _b: Option<&str>, _e: u16) -> Vec<String> { vec![format!("{method} {url}")] }
pub fn preflight(_s: &ActionSpec) -> Vec<String> { vec!["not built yet".into()] }
pub async fn execute(_s: &ActionSpec) -> Outcome { Outcome::Failed("not built yet".into()) }
