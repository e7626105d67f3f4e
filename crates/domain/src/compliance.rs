//! The rules of the compliance resource API (`/v1`): which objects exist, who may own or be
//! assigned them, which records a role may see, restricted fields, text limits and list cursors.
//!
//! This module owns every decision of the `/v1` API that needs no IO: the server looks the
//! named principals up and hands the facts in, this module says yes or why not. It must not
//! touch the store, HTTP or the clock.
//!
//! The ownership rule (`shared/DESIGN.md`, "Ownership rule"): owners and assignees are always
//! active people of the caller's organization; a service principal never owns or is assigned
//! work. Auditors of an audit are a *listing*, not ownership: any active principal of the
//! organization may be listed, service principals included (an External-auditor service
//! account reads and updates the audits that list it).

use crate::ids::PrincipalKind;
use crate::role::Role;
use crate::scope::{Action, Object, Scope};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use unicode_normalization::UnicodeNormalization;

/// The five kinds of object with responsibilities attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ObjectKind {
    /// A compliance program (framework implementation); controls belong to one.
    Program,
    /// A control of a program.
    Control,
    /// A risk.
    Risk,
    /// A task, with an owner and an assignee.
    Task,
    /// An audit, with an owner and a list of auditors.
    Audit,
}

impl ObjectKind {
    /// Every kind, in catalogue order.
    pub const ALL: [ObjectKind; 5] = [
        ObjectKind::Program,
        ObjectKind::Control,
        ObjectKind::Risk,
        ObjectKind::Task,
        ObjectKind::Audit,
    ];

    /// The stored and wire name (`program`, …).
    pub fn as_str(self) -> &'static str {
        self.scope_object().as_str()
    }

    /// Parses the stored name.
    pub fn parse(s: &str) -> Option<ObjectKind> {
        ObjectKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The path segment of its collection (`programs`, …).
    pub fn collection(self) -> &'static str {
        match self {
            ObjectKind::Program => "programs",
            ObjectKind::Control => "controls",
            ObjectKind::Risk => "risks",
            ObjectKind::Task => "tasks",
            ObjectKind::Audit => "audits",
        }
    }

    /// The prefix of its ids, so an id says what it names (`ctl_…`).
    pub fn id_prefix(self) -> &'static str {
        match self {
            ObjectKind::Program => "prg",
            ObjectKind::Control => "ctl",
            ObjectKind::Risk => "rsk",
            ObjectKind::Task => "tsk",
            ObjectKind::Audit => "aud",
        }
    }

    /// The object its scopes protect.
    pub fn scope_object(self) -> Object {
        match self {
            ObjectKind::Program => Object::Program,
            ObjectKind::Control => Object::Control,
            ObjectKind::Risk => Object::Risk,
            ObjectKind::Task => Object::Task,
            ObjectKind::Audit => Object::Audit,
        }
    }

    /// The scope an operation on this kind needs (every kind has all four actions).
    pub fn scope(self, action: Action) -> Scope {
        Scope::new(self.scope_object(), action).expect("compliance objects have every action")
    }
}

/// The fields that name a responsible person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponsibleField {
    /// `owner_id`: every object has one.
    Owner,
    /// `assignee_id`: tasks only.
    Assignee,
}

impl ResponsibleField {
    /// The request field's name.
    pub fn as_str(self) -> &'static str {
        match self {
            ResponsibleField::Owner => "owner_id",
            ResponsibleField::Assignee => "assignee_id",
        }
    }
}

/// What the store knows about a principal of the caller's organization named by a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrincipalFacts {
    /// Person or service principal.
    pub kind: PrincipalKind,
    /// Whether it is active.
    pub active: bool,
}

/// Why a principal cannot be an owner, assignee or auditor. Each variant names the field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResponsibilityError {
    /// A service principal was named as owner or assignee, or a service-account client left
    /// `owner_id` out (which would make its own service principal the owner).
    #[error("a service principal cannot own or be assigned work")]
    ServicePrincipalCannotOwn {
        /// The field at fault.
        field: &'static str,
        /// True when the field was omitted by a service-account client.
        omitted: bool,
    },
    /// No principal with this id exists in the caller's organization (other organizations'
    /// principals look exactly the same).
    #[error("no such principal in this organization")]
    UnknownPrincipal {
        /// The field at fault.
        field: &'static str,
    },
    /// The principal is deactivated.
    #[error("the principal is deactivated")]
    Inactive {
        /// The field at fault.
        field: &'static str,
    },
}

/// The owner of a new object: the one named, or, when none is named, the acting person.
///
/// A personal client acts as its person, so its person is the default owner. A service-account
/// client must name a person: leaving `owner_id` out would make its service principal the owner.
pub fn default_owner(
    actor_kind: PrincipalKind,
    actor_id: &str,
    requested: Option<&str>,
) -> Result<String, ResponsibilityError> {
    match (requested, actor_kind) {
        (Some(id), _) => Ok(id.to_owned()),
        (None, PrincipalKind::Person) => Ok(actor_id.to_owned()),
        (None, PrincipalKind::ServicePrincipal) => {
            Err(ResponsibilityError::ServicePrincipalCannotOwn {
                field: ResponsibleField::Owner.as_str(),
                omitted: true,
            })
        }
    }
}

/// Checks that the principal named in `field` may own or be assigned work: it exists in the
/// caller's organization (`found` is `None` otherwise), is a person, and is active.
pub fn check_responsible(
    field: ResponsibleField,
    found: Option<PrincipalFacts>,
) -> Result<(), ResponsibilityError> {
    let field = field.as_str();
    match found {
        None => Err(ResponsibilityError::UnknownPrincipal { field }),
        Some(PrincipalFacts {
            kind: PrincipalKind::ServicePrincipal,
            ..
        }) => Err(ResponsibilityError::ServicePrincipalCannotOwn {
            field,
            omitted: false,
        }),
        Some(PrincipalFacts { active: false, .. }) => Err(ResponsibilityError::Inactive { field }),
        Some(_) => Ok(()),
    }
}

/// Checks that a principal may be listed as an auditor: it exists in the caller's organization
/// and is active. Service principals may be listed: a listing grants access, not ownership.
pub fn check_auditor(found: Option<PrincipalFacts>) -> Result<(), ResponsibilityError> {
    const FIELD: &str = "auditor_ids";
    match found {
        None => Err(ResponsibilityError::UnknownPrincipal { field: FIELD }),
        Some(PrincipalFacts { active: false, .. }) => {
            Err(ResponsibilityError::Inactive { field: FIELD })
        }
        Some(_) => Ok(()),
    }
}

/// The most auditors one audit may list.
pub const MAX_AUDITORS: usize = 50;

/// Whether `role`'s record rules limit it to the audits that list it as an auditor.
///
/// Only External auditors are limited; every other role sees every record its scopes reach.
pub fn only_listed_audits(role: Role) -> bool {
    role == Role::ExternalAuditor
}

/// Whether the principal `actor_id` with `role` may see (and so act on) a record of `kind`
/// whose auditors are `auditor_ids`. A record it may not see is answered 404, like a missing
/// one, so its existence does not leak.
pub fn may_see_record(
    role: Role,
    actor_id: &str,
    kind: ObjectKind,
    auditor_ids: &[String],
) -> bool {
    if !only_listed_audits(role) {
        return true;
    }
    kind == ObjectKind::Audit && auditor_ids.iter().any(|a| a == actor_id)
}

/// Fields an External auditor may not change on the audits it can update: who owns the audit
/// and who else may see it are the organization's decisions, not the auditor's.
pub const AUDITOR_LOCKED_FIELDS: [&str; 2] = ["owner_id", "auditor_ids"];

/// Whether `role` may write restricted fields (`internal_notes`): only roles that can read them
/// may write them, so no one writes what they could not read back.
pub fn may_write_restricted_fields(role: Role) -> bool {
    role.sees_restricted_fields()
}

/// The longest object name, in characters.
pub const NAME_MAX_CHARS: usize = 200;
/// The longest description or internal note, in characters.
pub const TEXT_MAX_CHARS: usize = 10_000;

/// Why a text field was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ObjectTextError {
    /// The name is empty after trimming.
    #[error("name must not be empty")]
    EmptyName,
    /// The field is too long.
    #[error("{field} must be at most {max} characters")]
    TooLong {
        /// The field.
        field: &'static str,
        /// Its limit.
        max: usize,
    },
    /// The field holds control characters (newlines and tabs are allowed in long texts).
    #[error("{field} must not contain control characters")]
    ControlCharacters {
        /// The field.
        field: &'static str,
    },
}

impl ObjectTextError {
    /// The request field at fault.
    pub fn field(&self) -> &'static str {
        match self {
            ObjectTextError::EmptyName => "name",
            ObjectTextError::TooLong { field, .. }
            | ObjectTextError::ControlCharacters { field } => field,
        }
    }
}

/// An object's name: trimmed, NFC-normalised, 1–200 characters, no control characters.
pub fn parse_object_name(raw: &str) -> Result<String, ObjectTextError> {
    let name: String = raw.trim().nfc().collect();
    if name.is_empty() {
        return Err(ObjectTextError::EmptyName);
    }
    if name.chars().count() > NAME_MAX_CHARS {
        return Err(ObjectTextError::TooLong {
            field: "name",
            max: NAME_MAX_CHARS,
        });
    }
    if name.chars().any(char::is_control) {
        return Err(ObjectTextError::ControlCharacters { field: "name" });
    }
    Ok(name)
}

/// A long text (`description`, `internal_notes`): NFC-normalised, at most 10,000 characters,
/// no control characters but newline, carriage return and tab.
pub fn parse_long_text(field: &'static str, raw: &str) -> Result<String, ObjectTextError> {
    let text: String = raw.nfc().collect();
    if text.chars().count() > TEXT_MAX_CHARS {
        return Err(ObjectTextError::TooLong {
            field,
            max: TEXT_MAX_CHARS,
        });
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(ObjectTextError::ControlCharacters { field });
    }
    Ok(text)
}

/// Page size when a list request names none.
pub const DEFAULT_LIMIT: i64 = 100;
/// The largest page a list request may ask for.
pub const MAX_LIMIT: i64 = 500;

/// The `limit` query parameter was not an integer from 1 to 500.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("limit must be an integer from 1 to 500")]
pub struct InvalidLimit;

/// The page size a list request asked for (default 100, at most 500).
pub fn parse_limit(raw: Option<&str>) -> Result<i64, InvalidLimit> {
    match raw {
        None => Ok(DEFAULT_LIMIT),
        Some(text) => match text.parse::<i64>() {
            Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
            _ => Err(InvalidLimit),
        },
    }
}

/// Where a list continues: after `last_id`, in `collection` of `org`.
///
/// On the wire it is opaque: the three values and an HMAC-SHA-256 tag (truncated to 128 bits)
/// over them with a server key, so a cursor cannot be forged or edited to start elsewhere, and
/// one issued to one organization or collection is refused by another.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListCursor {
    /// The collection it was issued for (`controls`, `users`, …).
    pub collection: String,
    /// The organization it was issued to.
    pub org: String,
    /// The last id of the page it follows.
    pub last_id: String,
}

/// The cursor is malformed, forged, or was issued for another organization or collection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid cursor")]
pub struct InvalidCursor;

const CURSOR_TAG_LEN: usize = 16;
const CURSOR_MAX_LEN: usize = 512;

impl ListCursor {
    fn payload(&self) -> String {
        format!("v1\n{}\n{}\n{}", self.collection, self.org, self.last_id)
    }

    fn tag(key: &[u8; 32], payload: &[u8]) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key");
        mac.update(payload);
        mac
    }

    /// The opaque wire form.
    pub fn encode(&self, key: &[u8; 32]) -> String {
        let payload = self.payload();
        let tag = Self::tag(key, payload.as_bytes()).finalize().into_bytes();
        format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(&tag[..CURSOR_TAG_LEN])
        )
    }

    /// Reads a cursor, checking its tag (in constant time) and that it was issued for this
    /// `collection` of this `org`; returns the id to continue after.
    pub fn decode(
        text: &str,
        key: &[u8; 32],
        collection: &str,
        org: &str,
    ) -> Result<String, InvalidCursor> {
        if text.len() > CURSOR_MAX_LEN {
            return Err(InvalidCursor);
        }
        let (payload, tag) = text.split_once('.').ok_or(InvalidCursor)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| InvalidCursor)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| InvalidCursor)?;
        if tag.len() != CURSOR_TAG_LEN {
            return Err(InvalidCursor);
        }
        Self::tag(key, &payload)
            .verify_truncated_left(&tag)
            .map_err(|_| InvalidCursor)?;
        let payload = String::from_utf8(payload).map_err(|_| InvalidCursor)?;
        let mut parts = payload.split('\n');
        let (Some("v1"), Some(c), Some(o), Some(last), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(InvalidCursor);
        };
        if c != collection || o != org || last.is_empty() {
            return Err(InvalidCursor);
        }
        Ok(last.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PERSON: PrincipalFacts = PrincipalFacts {
        kind: PrincipalKind::Person,
        active: true,
    };
    const SERVICE_PRINCIPAL: PrincipalFacts = PrincipalFacts {
        kind: PrincipalKind::ServicePrincipal,
        active: true,
    };

    #[test]
    fn a_personal_client_that_names_no_owner_owns_through_its_person() {
        assert_eq!(
            default_owner(PrincipalKind::Person, "usr_a", None),
            Ok("usr_a".to_owned())
        );
        assert_eq!(
            default_owner(PrincipalKind::Person, "usr_a", Some("usr_b")),
            Ok("usr_b".to_owned())
        );
    }

    #[test]
    fn a_service_account_must_name_an_owner() {
        assert_eq!(
            default_owner(PrincipalKind::ServicePrincipal, "sp_a", None),
            Err(ResponsibilityError::ServicePrincipalCannotOwn {
                field: "owner_id",
                omitted: true
            })
        );
        assert_eq!(
            default_owner(PrincipalKind::ServicePrincipal, "sp_a", Some("usr_b")),
            Ok("usr_b".to_owned())
        );
    }

    #[test]
    fn only_active_people_of_the_organization_own_or_are_assigned_work() {
        assert_eq!(
            check_responsible(ResponsibleField::Owner, Some(PERSON)),
            Ok(())
        );
        assert_eq!(
            check_responsible(ResponsibleField::Assignee, Some(SERVICE_PRINCIPAL)),
            Err(ResponsibilityError::ServicePrincipalCannotOwn {
                field: "assignee_id",
                omitted: false
            })
        );
        assert_eq!(
            check_responsible(
                ResponsibleField::Owner,
                Some(PrincipalFacts {
                    kind: PrincipalKind::Person,
                    active: false
                })
            ),
            Err(ResponsibilityError::Inactive { field: "owner_id" })
        );
        assert_eq!(
            check_responsible(ResponsibleField::Owner, None),
            Err(ResponsibilityError::UnknownPrincipal { field: "owner_id" })
        );
    }

    #[test]
    fn a_deactivated_service_principal_is_refused_as_a_service_principal() {
        let inactive_sp = PrincipalFacts {
            kind: PrincipalKind::ServicePrincipal,
            active: false,
        };
        assert!(matches!(
            check_responsible(ResponsibleField::Owner, Some(inactive_sp)),
            Err(ResponsibilityError::ServicePrincipalCannotOwn { .. })
        ));
    }

    #[test]
    fn service_principals_may_be_listed_as_auditors_but_not_deactivated_ones() {
        assert_eq!(check_auditor(Some(SERVICE_PRINCIPAL)), Ok(()));
        assert_eq!(check_auditor(Some(PERSON)), Ok(()));
        assert!(check_auditor(None).is_err());
        assert!(check_auditor(Some(PrincipalFacts {
            kind: PrincipalKind::Person,
            active: false
        }))
        .is_err());
    }

    #[test]
    fn external_auditors_see_only_audits_that_list_them() {
        let listed = vec!["sp_x".to_owned(), "usr_y".to_owned()];
        assert!(may_see_record(
            Role::ExternalAuditor,
            "sp_x",
            ObjectKind::Audit,
            &listed
        ));
        assert!(!may_see_record(
            Role::ExternalAuditor,
            "usr_z",
            ObjectKind::Audit,
            &listed
        ));
        assert!(!may_see_record(
            Role::ExternalAuditor,
            "sp_x",
            ObjectKind::Control,
            &listed
        ));
        for role in [
            Role::Admin,
            Role::ApiAdmin,
            Role::ComplianceManager,
            Role::User,
        ] {
            assert!(may_see_record(role, "usr_z", ObjectKind::Audit, &[]));
        }
    }

    #[test]
    fn only_admins_and_api_admins_touch_restricted_fields() {
        assert!(may_write_restricted_fields(Role::Admin));
        assert!(may_write_restricted_fields(Role::ApiAdmin));
        assert!(!may_write_restricted_fields(Role::ComplianceManager));
        assert!(!may_write_restricted_fields(Role::User));
        assert!(!may_write_restricted_fields(Role::ExternalAuditor));
    }

    #[test]
    fn every_kind_needs_its_own_scopes() {
        assert_eq!(
            ObjectKind::Control.scope(Action::Create).to_string(),
            "control.create"
        );
        assert_eq!(
            ObjectKind::Audit.scope(Action::Delete).to_string(),
            "audit.delete"
        );
        for kind in ObjectKind::ALL {
            assert_eq!(ObjectKind::parse(kind.as_str()), Some(kind));
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(parse_object_name("  SOC 2  "), Ok("SOC 2".to_owned()));
        assert_eq!(parse_object_name("   "), Err(ObjectTextError::EmptyName));
        assert!(parse_object_name(&"x".repeat(201)).is_err());
        assert!(parse_object_name("a\u{0}b").is_err());
        assert_eq!(
            parse_long_text("description", "line 1\nline 2\t!"),
            Ok("line 1\nline 2\t!".to_owned())
        );
        assert!(parse_long_text("internal_notes", "\u{7}").is_err());
        assert_eq!(
            parse_long_text("description", &"y".repeat(10_001))
                .unwrap_err()
                .field(),
            "description"
        );
    }

    #[test]
    fn limits_run_from_one_to_five_hundred() {
        assert_eq!(parse_limit(None), Ok(100));
        assert_eq!(parse_limit(Some("500")), Ok(500));
        for bad in ["0", "501", "-1", "ten", "", "1.5"] {
            assert_eq!(parse_limit(Some(bad)), Err(InvalidLimit), "{bad}");
        }
    }

    fn cursor() -> ListCursor {
        ListCursor {
            collection: "controls".into(),
            org: "org_a".into(),
            last_id: "ctl_123".into(),
        }
    }

    #[test]
    fn a_cursor_round_trips_for_its_own_collection_and_organization() {
        let key = [7; 32];
        let text = cursor().encode(&key);
        assert_eq!(
            ListCursor::decode(&text, &key, "controls", "org_a"),
            Ok("ctl_123".to_owned())
        );
    }

    #[test]
    fn a_cursor_is_refused_by_another_organization_collection_or_key() {
        let key = [7; 32];
        let text = cursor().encode(&key);
        assert!(ListCursor::decode(&text, &key, "controls", "org_b").is_err());
        assert!(ListCursor::decode(&text, &key, "risks", "org_a").is_err());
        assert!(ListCursor::decode(&text, &[8; 32], "controls", "org_a").is_err());
    }

    #[test]
    fn an_edited_or_forged_cursor_is_refused() {
        let key = [7; 32];
        let text = cursor().encode(&key);
        let (_, tag) = text.split_once('.').unwrap();
        let forged_payload = URL_SAFE_NO_PAD.encode("v1\ncontrols\norg_a\nctl_000");
        assert!(ListCursor::decode(
            &format!("{forged_payload}.{tag}"),
            &key,
            "controls",
            "org_a"
        )
        .is_err());
        for bad in [
            "",
            ".",
            "abc",
            "abc.def",
            &format!("{text}x"),
            &"a".repeat(600),
        ] {
            assert!(
                ListCursor::decode(bad, &key, "controls", "org_a").is_err(),
                "{bad}"
            );
        }
    }
}
