//! Tollgate's HTTP service: the management API (`/api/v1`), its OpenAPI document, and the
//! start-up that wires configuration, keys and storage together.
//!
//! Handlers decide authorization and validate input; rules that need no IO live in
//! `tollgate-domain`, and all SQL lives in `tollgate-store`.

pub mod auth;
pub mod bootstrap;
pub mod compliance;
pub mod config;
pub mod error;
pub mod extract;
pub mod keys;
pub mod management;
pub mod oauth;
pub mod openapi;
pub mod password;
pub mod startup;
pub mod state;

pub use config::Config;
pub use startup::Application;
