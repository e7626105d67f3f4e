//! Roles and the permissions each one carries (`shared/DESIGN.md`, "Roles and permissions").

use crate::scope::{Action, Object, Scope, ScopeSet};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A principal's role; its wire name is the snake_case form (`api_admin`, ...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Every scope; manages the organization, its people and its service-account clients.
    Admin,
    /// Service accounts only: every `*.read` scope, restricted fields included, no writes.
    ApiAdmin,
    /// Programs, controls, risks and tasks in full; audits without delete; the directory.
    ComplianceManager,
    /// Read-only access to everything but restricted fields.
    User,
    /// `audit.read audit.update`, on audits that list the principal as an auditor.
    ExternalAuditor,
}

impl Role {
    /// Every role, in the order the catalogue lists them.
    pub const ALL: [Role; 5] = [
        Role::Admin,
        Role::ApiAdmin,
        Role::ComplianceManager,
        Role::User,
        Role::ExternalAuditor,
    ];

    /// The wire identifier of the role.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::ApiAdmin => "api_admin",
            Role::ComplianceManager => "compliance_manager",
            Role::User => "user",
            Role::ExternalAuditor => "external_auditor",
        }
    }

    /// Whether a person may hold this role (API admin is for service accounts only).
    pub fn may_be_held_by_a_person(self) -> bool {
        self != Role::ApiAdmin
    }

    /// Whether this role sees restricted fields such as `internal_notes`.
    pub fn sees_restricted_fields(self) -> bool {
        matches!(self, Role::Admin | Role::ApiAdmin)
    }

    /// The scopes this role permits.
    pub fn permissions(self) -> ScopeSet {
        match self {
            Role::Admin => ScopeSet::all(),
            Role::ApiAdmin => ScopeSet::from_iter(
                Object::ALL
                    .iter()
                    .map(|&object| Scope::new(object, Action::Read).expect("read exists for all")),
            ),
            Role::ComplianceManager => {
                let mut set = ScopeSet::empty();
                for object in [Object::Program, Object::Control, Object::Risk, Object::Task] {
                    for action in Action::ALL {
                        set.insert(Scope::new(object, action).expect("all actions exist"));
                    }
                }
                for action in [Action::Read, Action::Create, Action::Update] {
                    set.insert(Scope::new(Object::Audit, action).expect("audit action exists"));
                }
                set.insert(Scope::new(Object::User, Action::Read).expect("user.read exists"));
                set
            }
            Role::User => ScopeSet::from_iter(
                [
                    Object::Program,
                    Object::Control,
                    Object::Risk,
                    Object::Task,
                    Object::Audit,
                    Object::User,
                ]
                .into_iter()
                .map(|object| Scope::new(object, Action::Read).expect("read exists for all")),
            ),
            Role::ExternalAuditor => ScopeSet::from_iter([
                Scope::new(Object::Audit, Action::Read).expect("audit.read exists"),
                Scope::new(Object::Audit, Action::Update).expect("audit.update exists"),
            ]),
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The text was not one of the five role identifiers.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role `{0}`: expected one of admin, api_admin, compliance_manager, user, external_auditor")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(role: Role) -> Vec<String> {
        role.permissions().iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn admin_holds_all_twenty_one_scopes() {
        assert_eq!(Role::Admin.permissions().len(), 21);
    }

    #[test]
    fn api_admin_holds_every_read_scope_and_nothing_else() {
        let scopes = names(Role::ApiAdmin);
        assert_eq!(scopes.len(), 6);
        assert!(scopes.iter().all(|s| s.ends_with(".read")));
    }

    #[test]
    fn compliance_manager_cannot_delete_audits_or_write_users() {
        let scopes = names(Role::ComplianceManager);
        assert_eq!(scopes.len(), 4 * 4 + 3 + 1);
        assert!(!scopes.contains(&"audit.delete".to_owned()));
        assert!(scopes.contains(&"audit.update".to_owned()));
    }

    #[test]
    fn user_reads_everything_and_writes_nothing() {
        assert_eq!(
            names(Role::User),
            [
                "program.read",
                "control.read",
                "risk.read",
                "task.read",
                "audit.read",
                "user.read"
            ]
        );
    }

    #[test]
    fn external_auditor_reads_and_updates_audits_only() {
        assert_eq!(names(Role::ExternalAuditor), ["audit.read", "audit.update"]);
    }

    #[test]
    fn roles_round_trip_through_their_wire_names() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert!("owner".parse::<Role>().is_err());
    }

    #[test]
    fn no_person_holds_api_admin() {
        assert!(!Role::ApiAdmin.may_be_held_by_a_person());
        assert!(Role::ExternalAuditor.may_be_held_by_a_person());
    }
}
