//! Integration tests of the whole service over real HTTP, on SQLite and PostgreSQL.

mod compliance_helpers;
mod helpers;
mod mgmt_helpers;
mod oauth_helpers;

mod audit_log;
mod clients;
mod compliance;
mod compliance_edges;
mod compliance_matrix;
mod drafts;
mod errors;
mod governance;
mod matrix;
mod oauth;
mod oauth_forgery;
mod oauth_hardening;
mod oauth_interop;
mod oauth_multiprocess;
mod openapi;
mod org;
mod people;
mod rechecks;
mod secrets;
mod sessions;
