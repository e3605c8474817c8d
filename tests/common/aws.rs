//! The AWS side of the lab (moto on LAB_MOTO_PORT): credentials the real default chain finds,
//! the endpoint, the seeded ids, and SDK clients for the tests' own changes to moto.

use std::path::PathBuf;
use std::sync::Once;
use std::time::Duration;

use failover_core::kinds::aws::AwsSettings;

pub const PROFILE: &str = "lab";
/// A profile whose secrets are distinctive enough to search a log for.
pub const SECRET_PROFILE: &str = "lab-secrets";
pub const SECRET_KEY: &str = "SecretKeyMustNotBeLogged0123456789abcdef";
pub const SESSION_TOKEN: &str = "SessionTokenMustNotBeLogged0123456789abcdef";

/// The fake credentials moto accepts, as the profile `lab` of a private credentials file, found
/// through aws-config's default chain like a real one. Environment variables are process-wide, so
/// they are set once, before any client is built. Real AWS_* credentials in the environment are
/// removed so they can never be used or shown, and IMDS is off so a missing profile fails at once.
pub fn aws_env() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let dir = std::env::temp_dir().join(format!(
            "failover-console-aws-{}-{}",
            std::env::args()
                .next()
                .and_then(|a| a.rsplit('/').next().map(str::to_string))
                .unwrap_or_default(),
            std::process::id()
        ));
        std::fs::create_dir_all(&dir).expect("create the credentials dir");
        let credentials = dir.join("credentials");
        std::fs::write(
            &credentials,
            format!(
                "[{PROFILE}]\naws_access_key_id = testing\naws_secret_access_key = testing\n\
                 [{SECRET_PROFILE}]\naws_access_key_id = AKIALOGTEST\n\
                 aws_secret_access_key = {SECRET_KEY}\naws_session_token = {SESSION_TOKEN}\n"
            ),
        )
        .expect("write the credentials file");
        let config = dir.join("config");
        std::fs::write(
            &config,
            format!(
                "[profile {PROFILE}]\nregion = us-east-1\n\
                 [profile {SECRET_PROFILE}]\nregion = us-east-1\n"
            ),
        )
        .expect("write the config file");
        unsafe {
            for var in [
                "AWS_ACCESS_KEY_ID",
                "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN",
                "AWS_PROFILE",
                "AWS_DEFAULT_PROFILE",
                "AWS_REGION",
                "AWS_DEFAULT_REGION",
                "AWS_ROLE_ARN",
                "AWS_WEB_IDENTITY_TOKEN_FILE",
                "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
                "AWS_CONTAINER_CREDENTIALS_FULL_URI",
            ] {
                std::env::remove_var(var);
            }
            std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", &credentials);
            std::env::set_var("AWS_CONFIG_FILE", &config);
            std::env::set_var("AWS_EC2_METADATA_DISABLED", "true");
        }
    });
}

pub fn moto_url() -> String {
    format!(
        "http://127.0.0.1:{}",
        super::env_port("LAB_MOTO_PORT", 15055)
    )
}

/// The lab profile against moto, as the tests' own SDK clients use it.
pub fn lab_settings() -> AwsSettings {
    AwsSettings {
        region: Some("us-east-1".into()),
        profile: Some(PROFILE.into()),
        endpoint_url: Some(moto_url()),
    }
}

pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_env();
    failover_console::net::aws::sdk_config(&lab_settings(), Duration::from_secs(5), None).await
}

/// A value of the last seed ($LAB_DIR/aws.env): ids change on every `scripts/lab reset`.
pub fn seeded(key: &str) -> String {
    let dir = std::env::var("LAB_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| super::repo().join("target/lab"));
    let text = std::fs::read_to_string(dir.join("aws.env")).expect("read $LAB_DIR/aws.env");
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("{key} missing from aws.env:\n{text}"))
        .trim()
        .to_string()
}

/// A port nothing listens on: bind, note it, close.
pub fn closed_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// Waits for the next whole second. With `period = "1s"` CloudWatch (and moto) aggregate the
/// datapoints of one second into one bucket: a new value has to land in a new second to be the
/// latest datapoint on its own.
pub async fn next_second() {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let into = Duration::from_nanos(u64::from(now.subsec_nanos()));
    tokio::time::sleep(Duration::from_secs(1) - into + Duration::from_millis(20)).await;
}
