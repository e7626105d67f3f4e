//! Integration tests of the whole service over real HTTP, on SQLite and PostgreSQL.

mod helpers;

mod openapi;
mod sessions;
