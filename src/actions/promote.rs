// placeholder so the crate builds while this module is written
use super::{ActionSpec, Outcome, ReadBack};
pub fn describe(member: &str, _dsn: &str) -> Vec<String> { vec![format!("promote {member}")] }
pub async fn preflight(_s: &ActionSpec) -> Vec<String> { vec!["not built yet".into()] }
pub async fn execute(_s: &ActionSpec) -> Outcome { Outcome::Failed("not built yet".into()) }
pub async fn read_back(_s: &ActionSpec) -> ReadBack { ReadBack::Unreadable("not built yet".into()) }
