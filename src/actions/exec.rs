// placeholder so the crate builds while this module is written
use std::path::Path;
use std::time::Duration;
use super::{ActionSpec, Outcome, OutputSink};
pub fn describe(argv: &[String], _cwd: Option<&Path>, _t: Duration) -> Vec<String> { vec![argv.join(" ")] }
pub fn preflight(_s: &ActionSpec) -> Vec<String> { vec!["not built yet".into()] }
pub async fn execute(_s: &ActionSpec, _o: &OutputSink) -> Outcome { Outcome::Failed("not built yet".into()) }
