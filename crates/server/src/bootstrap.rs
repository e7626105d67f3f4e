//! Creating an organization and its first Admin (CLI `init`, and `serve` on an empty database).

use crate::management::now;
use crate::management::people::{parse_email, parse_person_name};
use crate::password;
use anyhow::{anyhow, bail};
use tollgate_domain::ids::{new_id, ORG_PREFIX, PERSON_PREFIX};
use tollgate_domain::Role;
use tollgate_store::{AuditEvent, NewPerson, Store, WriteError};

/// What `init` created.
pub struct Bootstrapped {
    /// The organization's id.
    pub org_id: String,
    /// The Admin's id.
    pub admin_id: String,
}

/// Creates an organization with one Admin.
pub async fn create_org(
    store: &Store,
    org_name: &str,
    admin_email: &str,
    admin_name: &str,
    admin_password: &str,
) -> anyhow::Result<Bootstrapped> {
    let org_name = parse_person_name(org_name)
        .map_err(|_| anyhow!("the organization name must be 1-100 characters"))?;
    let email =
        parse_email(admin_email).map_err(|_| anyhow!("`{admin_email}` is not an email address"))?;
    let name = parse_person_name(admin_name)
        .map_err(|_| anyhow!("the admin name must be 1-100 characters"))?;
    if admin_password.chars().count() < password::MIN_PASSWORD_CHARS {
        bail!(
            "the password must be at least {} characters",
            password::MIN_PASSWORD_CHARS
        );
    }
    let org_id = new_id(ORG_PREFIX, &mut rand::rngs::OsRng);
    let admin = NewPerson {
        id: new_id(PERSON_PREFIX, &mut rand::rngs::OsRng),
        org_id: org_id.clone(),
        name,
        email,
        password_hash: password::hash(admin_password.to_owned()).await?,
        role: Role::Admin,
        now: now(),
    };
    let audit = AuditEvent {
        id: 0,
        org_id: Some(org_id.clone()),
        at: admin.now,
        actor_type: "system".into(),
        actor_id: None,
        action: "org.create".into(),
        target_type: Some("org".into()),
        target_id: Some(org_id.clone()),
        source_ip: None,
        outcome: "success".into(),
        details: serde_json::json!({ "name": org_name, "admin_id": admin.id, "admin_email": admin.email }),
    };
    match store.create_org(&org_id, &org_name, &admin, &audit).await {
        Ok(()) => Ok(Bootstrapped {
            org_id,
            admin_id: admin.id,
        }),
        Err(WriteError::EmailTaken) => bail!("a person with email {} already exists", admin.email),
        Err(e) => Err(anyhow::Error::new(e).context("creating the organization")),
    }
}
