//! Tollgate's domain: the rules of organizations, people, API clients, secrets and scopes.
//!
//! This crate owns every rule that can be decided without IO. It must not touch a database,
//! the network or an async runtime; time and randomness come in as arguments so that tests
//! are deterministic.

pub mod client;
pub mod compliance;
pub mod ids;
pub mod role;
pub mod scope;
pub mod secret;

pub use client::{
    check_grant, name_key, secret_expiry, ClientName, ClientType, Description, ExpiryError,
    GrantError, SecretLifetimeCap, TextError,
};
pub use ids::{ClientId, PrincipalKind};
pub use role::Role;
pub use scope::{Scope, ScopeSet};
pub use secret::{SecretHash, SecretPepper, SecretValue};
