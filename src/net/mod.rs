//! The clients the kinds and actions share, written once: AWS's SDK setup and error meaning, and
//! HTTP errors as text.

pub mod aws;
pub mod http;
