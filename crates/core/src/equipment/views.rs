//! Reads of the equipment pages that the API does not need: the readiness of a perimeter's
//! schools grouped by département (for the map of France or of an académie) or by commune
//! (beside the map of one département), computed by the same aggregates as the gap
//! analysis (`repo::gap_ctes`), never by loading the schools.

use time::Date;

use crate::db::Db;
use crate::error::{CoreError, CoreResult};
use crate::identity::{Capability, Principal};
use crate::territory::repo as territory_repo;

use super::model::Scope;
use super::repo::gap_ctes;
use super::service::scope_perimeter;

/// How the readiness of a perimeter is grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadinessLevel {
    Departement,
    Commune,
}

/// The readiness of a group of schools (a département, a commune) on a date.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
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
    let (select, from, group) = match level {
        ReadinessLevel::Departement => (
            "s.code_departement AS code, g.nom",
            "FROM standing s JOIN departement g ON g.code = s.code_departement",
            "GROUP BY s.code_departement, g.nom ORDER BY s.code_departement",
        ),
        ReadinessLevel::Commune => (
            "e.code_commune AS code, g.nom",
            "FROM standing s JOIN etablissement e ON e.uai = s.uai JOIN commune g ON g.code = e.code_commune",
            "GROUP BY e.code_commune, g.nom, g.search_key ORDER BY g.search_key, e.code_commune",
        ),
    };
    let q = gap_ctes(scope, date).push(&format!(
        "SELECT {select}, COUNT(*) AS schools, \
         CAST(SUM(CASE WHEN s.needs > 0 THEN 1 ELSE 0 END) AS BIGINT) AS targeted, \
         CAST(SUM(s.lack_today) AS BIGINT) AS lacking_today, \
         CAST(SUM(s.lack_after) AS BIGINT) AS lacking_after_plans, \
         CAST(SUM(CASE WHEN s.needs = 0 AND s.units + s.planned > 0 THEN 1 ELSE 0 END) AS BIGINT) \
           AS equipped_without_project, \
         CAST(SUM(CASE WHEN s.old > s.renewals THEN 1 ELSE 0 END) AS BIGINT) AS to_renew \
         {from} {group}"
    ));
    db.fetch_all(q).await
}
