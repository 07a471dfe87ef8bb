//! The demo's indicators: terminals per 100 pupils, connection speed, schools at the
//! "socle numérique", teachers trained, pupils certified by Pix; values for every académie
//! (and every demo school) over five school years, made up but deterministic and realistic
//! (rising over the years, spread between académies); past years validated and locked; a
//! national ETIC campaign in progress for the current year, about two thirds answered.

use time::Duration;

use crate::db::{Db, Sql};
use crate::error::{CoreError, CoreResult};
use crate::identity::Principal;

use super::campaign;
use super::model::*;
use super::repo::{self, BulkValue};
use super::service::{self, lock_in_tx, now, today};

/// The five school years of the demo on `day`, oldest first; the last one, the current
/// school year, is being collected.
pub fn years(day: time::Date) -> Vec<String> {
    (0..5)
        .rev()
        .map(|back| school_year_of(day - Duration::days(365 * back)))
        .collect()
}

async fn principal(db: &Db, email: &str) -> CoreResult<Principal> {
    let user = crate::identity::repo::find_user_by_email(db, email)
        .await?
        .ok_or_else(|| CoreError::Internal(format!("{email} absent de la démonstration")))?;
    crate::identity::service::principal(db, &user.id, false)
        .await?
        .ok_or_else(|| CoreError::Internal(format!("{email} inactif")))
}

/// A deterministic number in `0..n` from a text and a salt (FNV-1a).
fn noise(text: &str, salt: u64, n: u64) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ salt.wrapping_mul(0x9e37_79b9_7f4a_7c15);
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    i64::try_from(h % n.max(1)).unwrap_or(0)
}

#[expect(
    clippy::too_many_arguments,
    reason = "one line per indicator of the demo's dictionary"
)]
fn input(
    code: &str,
    label: &str,
    definition: &str,
    unit: &str,
    kind: &str,
    aggregation: &str,
    source: &str,
    level: &str,
    factor: i64,
    thresholds: (&str, &str),
) -> IndicatorInput {
    IndicatorInput {
        code: Some(code.into()),
        owner: Some("national".into()),
        label: Some(label.into()),
        definition: Some(definition.into()),
        unit: Some(unit.into()),
        direction: Some("hausse".into()),
        kind: Some(kind.into()),
        aggregation: Some(aggregation.into()),
        periodicity: Some("annee-scolaire".into()),
        source: Some(source.into()),
        capture_level: Some(level.into()),
        factor: Some(factor),
        green: Some(thresholds.0.into()),
        red: Some(thresholds.1.into()),
        public: Some(true),
        formula: None,
    }
}

async fn by_code(db: &Db, code: &str) -> CoreResult<Indicator> {
    repo::find_indicator(db, code)
        .await?
        .ok_or_else(|| CoreError::Internal(format!("indicateur {code} absent")))
}

#[derive(sqlx::FromRow)]
struct School {
    uai: String,
    famille: String,
    nombre_eleves: Option<i64>,
    code_academie: Option<String>,
}

/// Loads the demo's indicators, values and campaign (once: nothing happens when indicators
/// exist).
pub async fn load(db: &Db) -> CoreResult<()> {
    if !repo::list_indicators(db).await?.is_empty() {
        return Ok(());
    }
    let admin = principal(db, "admin@demo.gouvernail.fr").await?;
    let defs = [
        input(
            "TERM-100-ELEVES",
            "Terminaux pour 100 élèves",
            "Ordinateurs et tablettes à usage pédagogique pour 100 élèves (enquête ETIC) : 100 × Σ terminaux ÷ Σ élèves.",
            "terminaux pour 100 élèves",
            "ratio",
            "ratio-des-sommes",
            "etic",
            "etablissement",
            100,
            ("30", "15"),
        ),
        input(
            "DEBIT-MBPS",
            "Débit internet moyen",
            "Débit descendant de l'accès internet de l'établissement, moyenne pondérée par les effectifs.",
            "Mb/s",
            "nombre",
            "moyenne-ponderee",
            "etic",
            "etablissement",
            1,
            ("100", "30"),
        ),
        input(
            "SOCLE-ECOLES",
            "Part d'écoles au socle numérique de base",
            "Écoles élémentaires équipées selon le socle numérique de base (SNEE) : 100 × écoles au socle ÷ écoles.",
            "%",
            "ratio",
            "ratio-des-sommes",
            "inventaire-collectivite",
            "etablissement",
            100,
            ("70", "40"),
        ),
        input(
            "ENS-FORMES",
            "Enseignants formés au numérique",
            "Enseignants ayant suivi au moins un parcours M@gistère ou une action du plan de formation sur le numérique.",
            "enseignants",
            "nombre",
            "somme",
            "magistere",
            "academie",
            1,
            ("1000", "300"),
        ),
        input(
            "PIX-CERTIFIES",
            "Élèves de 3e certifiés Pix",
            "Part des élèves de 3e ayant obtenu la certification Pix : 100 × certifiés ÷ élèves de 3e.",
            "%",
            "ratio",
            "ratio-des-sommes",
            "pix",
            "academie",
            100,
            ("80", "50"),
        ),
    ];
    for d in &defs {
        let mut d = d.clone();
        if d.code.as_deref() == Some("SOCLE-ECOLES") {
            d.formula = Some(Formula::SocleEcoles.as_str().into());
        }
        service::create_indicator(db, &admin, &d).await?;
    }
    // Computed from the collectivités' inventories (`computed.rs`): the schools whose
    // collectivité declares its equipment here (Ille-et-Vilaine in the demo) get their
    // values of the current school year as they declare; SOCLE-ECOLES mixes them with the
    // surveyed values of the other écoles.
    let computed = [
        input(
            "INV-TERM-100",
            "Terminaux pour 100 élèves (inventaires des collectivités)",
            "Calculé depuis les inventaires déclarés par les collectivités : 100 × Σ terminaux (postes fixes et \
             mobiles, tablettes, équipements individuels) ÷ Σ élèves (effectifs importés, sinon l'annuaire).",
            "terminaux pour 100 élèves",
            "ratio",
            "ratio-des-sommes",
            "inventaire-collectivite",
            "etablissement",
            100,
            ("30", "15"),
        ),
        input(
            "INV-SALLES-WIFI",
            "Salles de classe couvertes par le Wi-Fi",
            "Calculé depuis les inventaires : part des salles de classe couvertes, pondérée par le nombre de classes.",
            "%",
            "ratio",
            "ratio-des-sommes",
            "inventaire-collectivite",
            "etablissement",
            100,
            ("80", "50"),
        ),
    ];
    for (mut d, formula) in computed
        .into_iter()
        .zip([Formula::Terminaux100, Formula::SallesWifi])
    {
        d.formula = Some(formula.as_str().into());
        service::create_indicator(db, &admin, &d).await?;
    }
    let schools: Vec<School> = db
        .fetch_all(Sql::new(
            "SELECT uai, famille, nombre_eleves, code_academie FROM etablissement WHERE code_academie IS NOT NULL ORDER BY uai",
        ))
        .await?;
    let academies = repo::academies_under(db, "national", "").await?;
    let term = by_code(db, "TERM-100-ELEVES").await?;
    let debit = by_code(db, "DEBIT-MBPS").await?;
    let socle = by_code(db, "SOCLE-ECOLES").await?;
    let formes = by_code(db, "ENS-FORMES").await?;
    let pix = by_code(db, "PIX-CERTIFIES").await?;
    let e4 = |n: i64| n.saturating_mul(SCALE);
    let years = years(today());
    let mut rows = Vec::new();
    for (y, year) in years.iter().enumerate() {
        let y = i64::try_from(y).unwrap_or(0);
        let current = y == 4;
        for s in &schools {
            let academie = s.code_academie.as_deref().unwrap_or("");
            // The current year is two thirds answered, unevenly by académie.
            if current && noise(&s.uai, 7, 100) >= 40 + noise(academie, 3, 50) {
                continue;
            }
            let pupils = s.nombre_eleves.unwrap_or(150).max(20);
            let base = match s.famille.as_str() {
                "ecole" => 10,
                "college" => 25,
                _ => 38,
            };
            let per100 = base + 3 * y + noise(academie, 11, 8) + noise(&s.uai, y as u64 + 1, 10);
            rows.push(BulkValue {
                indicator_id: term.id.clone(),
                period: (*year).to_owned(),
                perimeter_kind: "etablissement".into(),
                perimeter_code: s.uai.clone(),
                value_e4: Dec::ratio(pupils * per100 / 100, pupils, 100).map_or(0, |d| d.0),
                numerator_e4: Some(e4(pupils * per100 / 100)),
                denominator_e4: Some(e4(pupils)),
                comment: String::new(),
            });
            let mbps =
                8 + 22 * y + noise(&s.uai, 100 + y as u64, 60) + if s.famille == "ecole" { 0 } else { 60 };
            rows.push(BulkValue {
                indicator_id: debit.id.clone(),
                period: (*year).to_owned(),
                perimeter_kind: "etablissement".into(),
                perimeter_code: s.uai.clone(),
                value_e4: e4(mbps),
                numerator_e4: None,
                denominator_e4: Some(e4(pupils)),
                comment: String::new(),
            });
            if s.famille == "ecole" {
                let at_socle = i64::from(noise(&s.uai, 200, 100) < 25 + 12 * y + noise(academie, 5, 15));
                rows.push(BulkValue {
                    indicator_id: socle.id.clone(),
                    period: (*year).to_owned(),
                    perimeter_kind: "etablissement".into(),
                    perimeter_code: s.uai.clone(),
                    value_e4: e4(100 * at_socle),
                    numerator_e4: Some(e4(at_socle)),
                    denominator_e4: Some(e4(1)),
                    comment: String::new(),
                });
            }
        }
        if current {
            continue;
        }
        for a in &academies {
            let trained = 400 + 180 * y + noise(a, 300 + y as u64, 500);
            rows.push(BulkValue {
                indicator_id: formes.id.clone(),
                period: (*year).to_owned(),
                perimeter_kind: "academie".into(),
                perimeter_code: a.clone(),
                value_e4: e4(trained),
                numerator_e4: None,
                denominator_e4: None,
                comment: String::new(),
            });
            let cohort = 8_000 + noise(a, 400, 30_000);
            let certified = cohort * (45 + 6 * y + noise(a, 500 + y as u64, 20)) / 100;
            rows.push(BulkValue {
                indicator_id: pix.id.clone(),
                period: (*year).to_owned(),
                perimeter_kind: "academie".into(),
                perimeter_code: a.clone(),
                value_e4: Dec::ratio(certified, cohort, 100).map_or(0, |d| d.0),
                numerator_e4: Some(e4(certified)),
                denominator_e4: Some(e4(cohort)),
                comment: String::new(),
            });
        }
    }
    let actor = admin.actor();
    let mut tx = db.begin().await?;
    repo::upsert_values(
        &mut tx,
        &rows,
        Provenance::Import.as_str(),
        actor.id.as_deref(),
        &actor.label,
        now(),
    )
    .await?;
    // Past years: validated, then locked nationally.
    tx.execute(
        Sql::new("UPDATE ind_value SET status = 'validee', validated_by = ")
            .bind(actor.id.as_deref())
            .push(", validated_at = ")
            .bind(now())
            .push(" WHERE period <> ")
            .bind(years[4].as_str()),
    )
    .await?;
    repo::rebuild_rollup(&mut tx).await?;
    for ind in [&term, &debit, &socle, &formes, &pix] {
        for year in &years[..4] {
            lock_in_tx(&mut tx, ind, year, "", None, &actor.label).await?;
        }
    }
    crate::audit::record(
        &mut tx,
        &actor,
        "valeur.import",
        "import-valeurs",
        "demonstration",
        None,
        Some(&serde_json::json!({"valeurs": rows.len(), "origine": "démonstration"})),
    )
    .await?;
    tx.commit().await?;
    // The campaign of the current year, open for three weeks, closing in three weeks.
    let day = today();
    campaign::open_campaign(
        db,
        &admin,
        &CampaignInput {
            title: format!("Enquête ETIC {}", years[4]),
            owner: "national".into(),
            indicators: vec!["TERM-100-ELEVES".into(), "DEBIT-MBPS".into(), "SOCLE-ECOLES".into()],
            academies: Vec::new(),
            period: years[4].clone(),
            opens_on: Some(day - Duration::days(21)),
            closes_on: Some(day + Duration::days(21)),
            grace_days: Some(7),
            instructions: "Équipement et connectivité de chaque établissement au 1er octobre : terminaux à usage \
                           pédagogique, élèves, débit descendant ; pour les écoles, socle numérique de base atteint \
                           (1) ou non (0). Saisie par formulaire ou dépôt de tableur (CSV ou XLSX)."
                .into(),
        },
    )
    .await?;
    Ok(())
}
