//! The organization and its settings (`/api/v1/org`).

use crate::auth::SignedIn;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::extract::ApiJson;
use crate::state::AppState;
use axum::extract::State;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use tollgate_domain::SecretLifetimeCap;
use tollgate_store::{CapChange, Org};
use utoipa::ToSchema;

/// The longest maximum secret lifetime an organization may set (ten years).
pub const MAX_SECRET_LIFETIME_DAYS: i64 = 3650;

/// An organization.
#[derive(Serialize, ToSchema)]
pub struct OrgDto {
    /// `org_…`
    pub id: String,
    /// Name.
    pub name: String,
    /// The "M2M API authentication" switch.
    pub m2m_enabled: bool,
    /// The longest lifetime a new client secret may have, in days, when an Admin set one;
    /// `null` when the maximum is in calendar months (`secret_max_lifetime_months`).
    pub secret_max_lifetime_days: Option<i64>,
    /// The longest lifetime a new client secret may have, in calendar months: 24 by
    /// default (counted like the six-month default lifetime, so a secret created on
    /// 31 August may expire at most on 31 August two years later); `null` when an Admin
    /// set a number of days instead.
    pub secret_max_lifetime_months: Option<u32>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<Org> for OrgDto {
    fn from(o: Org) -> Self {
        OrgDto {
            id: o.id,
            name: o.name,
            m2m_enabled: o.m2m_enabled,
            secret_max_lifetime_days: match o.secret_max_lifetime {
                SecretLifetimeCap::Days(d) => Some(d),
                SecretLifetimeCap::CalendarMonths(_) => None,
            },
            secret_max_lifetime_months: match o.secret_max_lifetime {
                SecretLifetimeCap::CalendarMonths(m) => Some(m),
                SecretLifetimeCap::Days(_) => None,
            },
            created_at: o.created_at,
            updated_at: o.updated_at,
        }
    }
}

/// Settings to change; absent fields stay as they are.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateOrgRequest {
    /// Turns M2M API authentication on or off.
    pub m2m_enabled: Option<bool>,
    /// The longest lifetime of new secrets in days, 1–3650; `null` restores the default
    /// of 24 calendar months. Secrets that already exist keep their expiry.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<i64>, nullable)]
    pub secret_max_lifetime_days: Option<Option<i64>>,
}

/// Tells a field sent as `null` (`Some(None)`) from one not sent (`None`, by `default`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// The caller's organization.
#[utoipa::path(get, path = "/api/v1/org", tag = "organization",
    responses((status = 200, body = OrgDto), (status = 401, body = ErrorBody)))]
pub async fn get_org(State(state): State<AppState>, me: SignedIn) -> ApiResult<Json<OrgDto>> {
    let org = state
        .store
        .get_org(me.org_id())
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Json(org.into()))
}

/// Changes the organization's settings (Admin).
#[utoipa::path(patch, path = "/api/v1/org", tag = "organization", request_body = UpdateOrgRequest,
    responses((status = 200, body = OrgDto), (status = 403, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn update_org(
    State(state): State<AppState>,
    me: SignedIn,
    ApiJson(req): ApiJson<UpdateOrgRequest>,
) -> ApiResult<Json<OrgDto>> {
    me.require_admin()?;
    if let Some(Some(days)) = req.secret_max_lifetime_days {
        if !(1..=MAX_SECRET_LIFETIME_DAYS).contains(&days) {
            return Err(ApiError::invalid(
                "invalid_secret_max_lifetime",
                "secret_max_lifetime_days",
                "secret_max_lifetime_days must be between 1 and 3650.",
            ));
        }
    }
    if req.m2m_enabled.is_none() && req.secret_max_lifetime_days.is_none() {
        return Err(ApiError::bad_request(
            "Nothing to change: send m2m_enabled and/or secret_max_lifetime_days.",
        ));
    }
    let cap = match req.secret_max_lifetime_days {
        None => CapChange::Keep,
        Some(None) => CapChange::Set(SecretLifetimeCap::DEFAULT),
        Some(Some(days)) => CapChange::Set(SecretLifetimeCap::Days(days)),
    };
    let mut audit = me.audit("org.update", "org", me.org_id());
    audit.details = serde_json::json!({
        "m2m_enabled": req.m2m_enabled,
        "secret_max_lifetime": match cap {
            CapChange::Keep => None,
            CapChange::Set(c) => Some(c.to_string()),
        },
    });
    let org = state
        .store
        .update_org(me.org_id(), req.m2m_enabled, cap, &audit)
        .await?;
    Ok(Json(org.into()))
}
