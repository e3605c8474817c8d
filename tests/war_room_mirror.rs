//! Without the lab: two war-room consoles on one host cannot share a journal as their mirror
//! (each would write the other's entries again). etcd is not needed for the refusal: the
//! endpoint here answers nothing, and the first console starts on its mirror.

use std::sync::Arc;

use failover_console::engine::{Engine, Live, Watch};
use failover_core::theme::{Theme, View};

fn view() -> View {
    View {
        theme: Theme::mono(),
        ascii: true,
    }
}

#[tokio::test]
async fn a_second_console_on_the_same_mirror_is_refused_with_what_to_do() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("config.toml");
    std::fs::write(
        &path,
        r#"
[console]
title = "mirror test"
journal = "journal.jsonl"

[sites.primary]
label = "site A"
[sites.secondary]
label = "site B"

[[health]]
name = "nothing"
site = "primary"
tcp = "127.0.0.1:9"

[war-room]
etcd = ["http://127.0.0.1:9"]
prefix = "/failover-console/mirror-test"
"#,
    )
    .expect("write the config");
    let config = Arc::new(failover_console::config::load(&path).expect("config loads"));
    let first = Engine::<Live>::start(config.clone(), "alice".into(), view())
        .await
        .expect("the first console starts, on its mirror");
    let second = Engine::<Watch>::start(config.clone(), "bob".into(), view()).await;
    let Err(why) = second else {
        panic!("a second console on the same mirror started");
    };
    assert!(
        why.contains("already the war-room mirror of another console")
            && why.contains("give each console its own journal"),
        "{why}"
    );
    first.shutdown("test").await;
    // Once the first has stopped, the journal is free again.
    let again = Engine::<Watch>::start(config, "bob".into(), view())
        .await
        .expect("the journal is free once the first console stopped");
    again.shutdown("test").await;
}
