//! Indicators computed from the collectivités' inventories: an indicator with a
//! [`Formula`] gets, for each school whose figures allow it, a value of the current school
//! year with the provenance `calcul` — a numerator and a denominator, so that it rolls up
//! school → commune → … → national as the ratio of the sums, like any ratio.
//!
//! The values follow the inventory: the transaction that declares or imports a school's
//! figures, or its pupil counts, recomputes that school's values (`refresh_schools`); an
//! indicator given a formula is computed for every school at once (`recompute`). A value
//! that did not change is left alone (its validation stays); a locked period is never
//! written; a school whose figures do not allow the computation gets no value (no figure is
//! guessed).
//!
//! The formulas (per school):
//! - `terminaux-pour-100-eleves`: 100 × terminals (fixed, mobile, tablets, individual) ÷
//!   pupils (the latest imported count, else the directory's); needs a terminal figure.
//! - `salles-wifi`: the share of classrooms covered by Wi-Fi, weighted by the classes
//!   (numerator: covered % × classes ÷ 100; denominator: classes); needs the Wi-Fi figure
//!   and the classes.
//! - `socle-numerique-ecoles` (écoles only): 1 when the school has the socle numérique de
//!   base as this platform reads the SNEE recommended kit (domain notes §1.4): one projection
//!   system (interactive display or video projector) and one terminal per class, one mobile
//!   class for four classes, Wi-Fi in every classroom, an ENT; 0 otherwise; denominator 1.
//!   Needs the classes and at least one equipment figure.

use std::collections::{HashMap, HashSet};

use time::Date;

use crate::audit;
use crate::db::{Db, MAX_BIND, Sql, Tx};
use crate::error::{CoreError, CoreResult};
use crate::identity::Principal;

use super::model::*;
use super::repo::{self, BulkValue};
use super::service::{check_owner_write, load_indicator, now, owner_perimeter};

/// What the formulas read of a school.
#[derive(Debug, Clone, Default, sqlx::FromRow)]
pub struct SchoolFigures {
    pub uai: String,
    pub famille: String,
    pub code_academie: Option<String>,
    pub poste_fixe: Option<i64>,
    pub poste_mobile: Option<i64>,
    pub tablette: Option<i64>,
    pub equipement_individuel: Option<i64>,
    pub ecran_interactif: Option<i64>,
    pub videoprojecteur: Option<i64>,
    pub classe_mobile: Option<i64>,
    pub wifi: Option<i64>,
    pub ent: Option<i64>,
    pub classes: Option<i64>,
    pub pupils: Option<i64>,
}

impl SchoolFigures {
    fn terminals(&self) -> Option<i64> {
        let parts = [
            self.poste_fixe,
            self.poste_mobile,
            self.tablette,
            self.equipement_individuel,
        ];
        parts.iter().any(Option::is_some).then(|| {
            parts
                .iter()
                .map(|p| p.unwrap_or(0))
                .fold(0_i64, i64::saturating_add)
        })
    }

    fn any_equipment(&self) -> bool {
        self.terminals().is_some()
            || [
                self.ecran_interactif,
                self.videoprojecteur,
                self.classe_mobile,
                self.wifi,
                self.ent,
            ]
            .iter()
            .any(Option::is_some)
    }
}

/// A school's value of a formula: (value, numerator, denominator), scaled by 10⁴; `None`
/// when its figures do not allow it.
pub fn compute(formula: Formula, s: &SchoolFigures) -> Option<(i64, i64, i64)> {
    let e4 = |n: i64| n.checked_mul(SCALE);
    match formula {
        Formula::Terminaux100 => {
            let terminals = s.terminals()?;
            let pupils = s.pupils.filter(|p| *p > 0)?;
            let value = Dec::ratio(terminals, pupils, 100)?;
            Some((value.0, e4(terminals)?, e4(pupils)?))
        }
        Formula::SallesWifi => {
            let wifi = s.wifi?.clamp(0, 100);
            let classes = s.classes.filter(|c| *c > 0)?;
            // covered % × classes ÷ 100, at scale 10⁴: wifi × classes × 100.
            Some((
                e4(wifi)?,
                wifi.checked_mul(classes)?.checked_mul(100)?,
                e4(classes)?,
            ))
        }
        Formula::SocleEcoles => {
            if s.famille != "ecole" || !s.any_equipment() {
                return None;
            }
            let classes = s.classes.filter(|c| *c > 0)?;
            let n = |v: Option<i64>| v.unwrap_or(0);
            let projection = n(s.ecran_interactif).saturating_add(n(s.videoprojecteur));
            let at = projection >= classes
                && s.terminals().unwrap_or(0) >= classes
                && n(s.classe_mobile) >= (classes + 3) / 4
                && n(s.wifi) >= 100
                && n(s.ent) >= 1;
            let at = i64::from(at);
            Some((e4(100 * at)?, e4(at)?, e4(1)?))
        }
    }
}

const FIGURES_SELECT: &str = "SELECT f.uai, e.famille, e.code_academie, f.poste_fixe, f.poste_mobile, f.tablette, \
     f.equipement_individuel, f.ecran_interactif, f.videoprojecteur, f.classe_mobile, f.wifi, f.ent, f.classes, \
     COALESCE(f.pupils, e.nombre_eleves) AS pupils FROM equip_figures f JOIN etablissement e ON e.uai = f.uai";

/// The label of the values' author.
const AUTHOR: &str = "Calcul depuis les inventaires";

/// Computes the values of `indicators` for `schools` in `period` and writes those that
/// changed (locked periods and other académies' schools for an académie's indicator left
/// out). Returns the values written.
async fn write(
    tx: &mut Tx,
    indicators: &[Indicator],
    schools: &[SchoolFigures],
    period: &str,
) -> CoreResult<u64> {
    let mut written = 0;
    for ind in indicators {
        let Some(formula) = ind.formula.as_deref().and_then(Formula::from_code) else {
            continue;
        };
        let locks: HashSet<String> = repo::locks_in(tx, &ind.id, period).await?.into_iter().collect();
        if locks.contains("") {
            continue;
        }
        let mut rows = Vec::new();
        for s in schools {
            let academie = s.code_academie.as_deref().unwrap_or("");
            if (ind.owner_kind == "academie" && academie != ind.owner_code) || locks.contains(academie) {
                continue;
            }
            if let Some((value_e4, num, den)) = compute(formula, s) {
                rows.push(BulkValue {
                    indicator_id: ind.id.clone(),
                    period: period.to_owned(),
                    perimeter_kind: Level::Etablissement.as_str().to_owned(),
                    perimeter_code: s.uai.clone(),
                    value_e4,
                    numerator_e4: Some(num),
                    denominator_e4: Some(den),
                    comment: String::new(),
                });
            }
        }
        let current = current_values(tx, &ind.id, period, &rows).await?;
        rows.retain(|r| {
            current.get(&r.perimeter_code) != Some(&(r.value_e4, r.numerator_e4, r.denominator_e4))
        });
        written += repo::upsert_values(tx, &rows, Provenance::Calcul.as_str(), None, AUTHOR, now()).await?;
    }
    Ok(written)
}

#[derive(sqlx::FromRow)]
struct Current {
    perimeter_code: String,
    value_e4: i64,
    numerator_e4: Option<i64>,
    denominator_e4: Option<i64>,
}

/// The figures already stored for the rows' schools.
async fn current_values(
    tx: &mut Tx,
    indicator_id: &str,
    period: &str,
    rows: &[BulkValue],
) -> CoreResult<HashMap<String, (i64, Option<i64>, Option<i64>)>> {
    let mut out = HashMap::with_capacity(rows.len());
    for chunk in rows.chunks(MAX_BIND / 2) {
        let found: Vec<Current> = tx
            .fetch_all(
                Sql::new(
                    "SELECT perimeter_code, value_e4, numerator_e4, denominator_e4 FROM ind_value \
                     WHERE perimeter_kind = 'etablissement' AND indicator_id = ",
                )
                .bind(indicator_id)
                .push(" AND period = ")
                .bind(period)
                .push(" AND perimeter_code IN ")
                .bind_tuple(chunk.iter().map(|r| r.perimeter_code.as_str())),
            )
            .await?;
        out.extend(
            found
                .into_iter()
                .map(|c| (c.perimeter_code, (c.value_e4, c.numerator_e4, c.denominator_e4))),
        );
    }
    Ok(out)
}

/// Recomputes the computed indicators' values of the schools `uais` for the school year of
/// `day`, in the transaction that changed their figures (declaration, import, pupil counts).
pub async fn refresh_schools(tx: &mut Tx, uais: &[String], day: Date) -> CoreResult<u64> {
    let indicators = repo::computed_indicators(tx).await?;
    if indicators.is_empty() || uais.is_empty() {
        return Ok(0);
    }
    let period = school_year_of(day);
    let mut written = 0;
    for chunk in uais.chunks(MAX_BIND) {
        let schools: Vec<SchoolFigures> = tx
            .fetch_all(
                Sql::new(&format!("{FIGURES_SELECT} WHERE f.uai IN "))
                    .bind_tuple(chunk.iter().map(String::as_str)),
            )
            .await?;
        written += write(tx, &indicators, &schools, &period).await?;
    }
    Ok(written)
}

/// How many schools one transaction of [`recompute`] reads and writes.
const BATCH: i64 = 2_000;

/// Computes an indicator's values for every school with figures, for the school year of
/// `day` (its owner's writers; `BadRequest` for an indicator without formula). Batches of
/// schools in UAI order, one transaction each; one audit entry with the count.
pub async fn recompute(db: &Db, by: &Principal, code: &str, day: Date) -> CoreResult<u64> {
    let ind = load_indicator(db, by, code).await?;
    check_owner_write(db, by, &owner_perimeter(&ind)?).await?;
    if ind.formula.is_none() {
        return Err(CoreError::bad_request(
            "formule",
            "cet indicateur n'est pas calculé depuis les inventaires",
        ));
    }
    let period = school_year_of(day);
    let indicators = [ind.clone()];
    let mut after = String::new();
    let mut written = 0;
    loop {
        let mut tx = db.begin().await?;
        let schools: Vec<SchoolFigures> = tx
            .fetch_all(
                Sql::new(&format!("{FIGURES_SELECT} WHERE f.uai > "))
                    .bind(after.as_str())
                    .push(" ORDER BY f.uai LIMIT ")
                    .bind(BATCH),
            )
            .await?;
        let Some(last) = schools.last() else {
            break;
        };
        after = last.uai.clone();
        written += write(&mut tx, &indicators, &schools, &period).await?;
        tx.commit().await?;
    }
    let mut tx = db.begin().await?;
    audit::record(
        &mut tx,
        &by.actor(),
        "valeur.calcul",
        "indicateur",
        &ind.id,
        None,
        Some(&serde_json::json!({"indicateur": ind.code, "periode": period, "valeurs": written})),
    )
    .await?;
    tx.commit().await?;
    Ok(written)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn school(famille: &str) -> SchoolFigures {
        SchoolFigures {
            uai: "0350000A".into(),
            famille: famille.into(),
            ..SchoolFigures::default()
        }
    }

    #[test]
    fn terminals_per_100_pupils_needs_a_terminal_figure_and_pupils() {
        let mut s = school("college");
        s.pupils = Some(400);
        assert_eq!(compute(Formula::Terminaux100, &s), None);
        s.poste_fixe = Some(60);
        s.tablette = Some(30);
        assert_eq!(
            compute(Formula::Terminaux100, &s),
            Some((22_5000, 90 * SCALE, 400 * SCALE))
        );
        s.pupils = Some(0);
        assert_eq!(compute(Formula::Terminaux100, &s), None);
    }

    #[test]
    fn wifi_share_is_weighted_by_classes() {
        let mut s = school("ecole");
        s.wifi = Some(50);
        assert_eq!(compute(Formula::SallesWifi, &s), None, "classes unknown");
        s.classes = Some(6);
        // 3 classrooms of 6: numerator 3, denominator 6, value 50 %.
        assert_eq!(
            compute(Formula::SallesWifi, &s),
            Some((50 * SCALE, 3 * SCALE, 6 * SCALE))
        );
    }

    #[test]
    fn socle_numerique_reads_the_kit_per_class() {
        let mut s = school("ecole");
        s.classes = Some(5);
        assert_eq!(compute(Formula::SocleEcoles, &s), None, "nothing declared");
        s.ecran_interactif = Some(3);
        s.videoprojecteur = Some(2);
        s.poste_fixe = Some(5);
        s.classe_mobile = Some(2);
        s.wifi = Some(100);
        s.ent = Some(1);
        assert_eq!(
            compute(Formula::SocleEcoles, &s),
            Some((100 * SCALE, SCALE, SCALE))
        );
        s.classe_mobile = Some(1); // 5 classes need two mobile classes
        assert_eq!(compute(Formula::SocleEcoles, &s), Some((0, 0, SCALE)));
        assert_eq!(compute(Formula::SocleEcoles, &school("college")), None);
    }
}
