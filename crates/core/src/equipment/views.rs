//! Reads of the equipment pages that the API does not need: the readiness of a perimeter's
//! schools grouped by département (for the map of France or of an académie) or by commune
//! (beside the map of one département), computed by the same streamed evaluation as the
//! gap analysis (`gaps`), never by loading the schools.

use time::Date;

use crate::db::Db;
use crate::error::{CoreError, CoreResult};
use crate::identity::{Capability, Principal};
use crate::territory::repo as territory_repo;

use super::model::Scope;
use super::service::scope_perimeter;

/// How the readiness of a perimeter is grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadinessLevel {
    Departement,
    Commune,
}

/// The readiness of a group of schools (a département, a commune) on a date.
#[derive(Debug, Clone, PartialEq)]
pub struct Readiness {
    /// The département's or the commune's code.
    pub code: String,
    pub nom: String,
    /// Schools with a competent collectivité.
    pub schools: i64,
    /// Schools targeted by at least one need.
    pub targeted: i64,
    /// Targeted schools lacking something today, and still after the plans due by the date.
    pub lacking_today: i64,
    pub lacking_after_plans: i64,
    pub equipped_without_project: i64,
    pub to_renew: i64,
}

impl Readiness {
    /// The share of targeted schools that have what their projects need today (`None`
    /// when no school is targeted).
    pub fn ready_share(&self) -> Option<f64> {
        share(self.targeted - self.lacking_today, self.targeted)
    }

    /// The same after the plans due by the date.
    pub fn ready_after_plans_share(&self) -> Option<f64> {
        share(self.targeted - self.lacking_after_plans, self.targeted)
    }
}

fn share(part: i64, whole: i64) -> Option<f64> {
    // Counts of schools stay far below 2^52: the conversions are exact.
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// The readiness of the schools of `scope` on `date`, per département or per commune,
/// for a reader of the perimeter (`NotFound` for an unknown or unreadable one).
pub async fn readiness(
    db: &Db,
    by: &Principal,
    scope: &Scope,
    date: Date,
    level: ReadinessLevel,
) -> CoreResult<Vec<Readiness>> {
    let perimeter = scope_perimeter(scope);
    let exists = match scope {
        Scope::National => true,
        Scope::Academie(c) => territory_repo::find_academie(db, c).await?.is_some(),
        Scope::Departement(c) => territory_repo::find_departement(db, c).await?.is_some(),
        Scope::Collectivite(s) => territory_repo::find_collectivite(db, s).await?.is_some(),
    };
    if !exists {
        return Err(CoreError::not_found("périmètre", &perimeter));
    }
    by.check(
        db,
        Capability::Read,
        &perimeter,
        "périmètre",
        &perimeter.to_string(),
    )
    .await?;
    super::gaps::readiness(db, scope, date, level).await
}
