//! The gap analysis: one streamed read of the perimeter's schools (each with its current
//! figures from `equip_figures`, its latest pupil counts and the plan lines due by the date,
//! pivoted into one row), each school evaluated against the needs that target it, and the
//! evaluations folded into the answer as the rows arrive: the per-need and per-collectivité
//! summary, the readiness by département or commune, or one page of a list. Memory holds
//! the needs (a few hundred) and the answer, never the schools.
//!
//! The rules live here once, in Rust: what a need requires of a school, what the school has
//! today and after its plans, and when it lacks it. A requirement that cannot be computed
//! (pupils or classes unknown) counts as lacking: conservative, and visible.

use std::collections::{BTreeMap, HashMap};

use time::Date;

use crate::db::{Db, MAX_BIND, Sql};
use crate::error::CoreResult;
use crate::territory::model::{Page, PageRequest};

use super::model::*;
use super::repo;
use super::views::{Readiness, ReadinessLevel};

/// One school of the perimeter with everything the rules read.
#[derive(Debug, sqlx::FromRow)]
struct SchoolRow {
    uai: String,
    nom: String,
    famille: String,
    code_departement: String,
    code_academie: Option<String>,
    code_commune: String,
    collectivite_siren: String,
    collectivite_nom: Option<String>,
    collectivite_key: Option<String>,
    poste_fixe: Option<i64>,
    poste_mobile: Option<i64>,
    tablette: Option<i64>,
    equipement_individuel: Option<i64>,
    ecran_interactif: Option<i64>,
    videoprojecteur: Option<i64>,
    classe_mobile: Option<i64>,
    wifi: Option<i64>,
    debit: Option<i64>,
    ent: Option<i64>,
    old_units: Option<i64>,
    pupils: Option<i64>,
    classes: Option<i64>,
    pupils_cm: Option<i64>,
    p_poste_fixe: Option<i64>,
    p_poste_mobile: Option<i64>,
    p_tablette: Option<i64>,
    p_equipement_individuel: Option<i64>,
    p_ecran_interactif: Option<i64>,
    p_videoprojecteur: Option<i64>,
    p_classe_mobile: Option<i64>,
    p_wifi: Option<i64>,
    p_debit: Option<i64>,
    p_ent: Option<i64>,
    renewals: Option<i64>,
    budget: Option<i64>,
    cofunded: Option<i64>,
}

/// The count categories: (stored code, SQL column).
const COUNTS: [(&str, &str); 7] = [
    ("poste-fixe", "poste_fixe"),
    ("poste-mobile", "poste_mobile"),
    ("tablette", "tablette"),
    ("equipement-individuel", "equipement_individuel"),
    ("ecran-interactif", "ecran_interactif"),
    ("videoprojecteur", "videoprojecteur"),
    ("classe-mobile", "classe_mobile"),
];
/// The level categories (a value, not a count).
const LEVELS: [(&str, &str); 3] = [("wifi", "wifi"), ("debit", "debit"), ("ent", "ent")];

impl SchoolRow {
    /// A category's figure today and planned by the date (`None`: not a category).
    fn figure(&self, code: &str) -> Option<(Option<i64>, Option<i64>)> {
        Some(match code {
            "poste-fixe" => (self.poste_fixe, self.p_poste_fixe),
            "poste-mobile" => (self.poste_mobile, self.p_poste_mobile),
            "tablette" => (self.tablette, self.p_tablette),
            "equipement-individuel" => (self.equipement_individuel, self.p_equipement_individuel),
            "ecran-interactif" => (self.ecran_interactif, self.p_ecran_interactif),
            "videoprojecteur" => (self.videoprojecteur, self.p_videoprojecteur),
            "classe-mobile" => (self.classe_mobile, self.p_classe_mobile),
            "wifi" => (self.wifi, self.p_wifi),
            "debit" => (self.debit, self.p_debit),
            "ent" => (self.ent, self.p_ent),
            _ => return None,
        })
    }

    fn sum(&self, codes: &[&str], planned: bool) -> i64 {
        codes
            .iter()
            .filter_map(|c| self.figure(c))
            .map(|(today, plan)| if planned { plan } else { today }.unwrap_or(0))
            .fold(0_i64, i64::saturating_add)
    }

    fn terminals(&self) -> i64 {
        self.sum(&TERMINALS, false)
    }

    /// What the school has of `category` today and after its plans: counts add the planned
    /// acquisitions, levels take the larger of today's and the planned value, `terminaux`
    /// sums the four terminal kinds. `None` for a category that is not one.
    fn have(&self, category: &str) -> Option<(i64, i64)> {
        if category == TERMINAUX {
            let today = self.terminals();
            return Some((today, today.saturating_add(self.sum(&TERMINALS, true))));
        }
        let (today, planned) = self.figure(category)?;
        let today = today.unwrap_or(0);
        let planned = planned.unwrap_or(0);
        if LEVELS.iter().any(|(c, _)| *c == category) {
            Some((today, today.max(planned)))
        } else {
            Some((today, today.saturating_add(planned)))
        }
    }

    /// Units today and planned by the date (every count category).
    fn units(&self) -> (i64, i64) {
        let codes = COUNTS.map(|(c, _)| c);
        (self.sum(&codes, false), self.sum(&codes, true))
    }

    /// Units past renewal age, and the planned renewals.
    fn old(&self) -> (i64, i64) {
        (self.old_units.unwrap_or(0), self.renewals.unwrap_or(0))
    }

    fn needs_renewal(&self) -> bool {
        let (old, renewals) = self.old();
        old > renewals
    }
}

const TERMINALS: [&str; 4] = ["poste-fixe", "poste-mobile", "tablette", "equipement-individuel"];

/// `⌈n / per⌉`, unknown when `n` is unknown or `per` is zero.
fn per_unit(n: Option<i64>, per: i64) -> Option<i64> {
    let n = n?;
    (per > 0).then(|| n.saturating_add(per - 1) / per)
}

/// One need evaluated for one school.
#[derive(Debug, Clone, Copy)]
struct Evaluation {
    required: Option<i64>,
    have: Option<i64>,
    after_plans: Option<i64>,
    lack_today: bool,
    lack_after: bool,
}

fn evaluate(need: &Need, s: &SchoolRow) -> Evaluation {
    let t = need.threshold;
    let required = match need.rule.as_str() {
        "par-etablissement" | "minimum" => Some(t),
        "par-classe" => s.classes.and_then(|c| c.checked_mul(t)),
        "eleves-par-unite" => per_unit(s.pupils, t),
        "eleves-cm-par-unite" => per_unit(s.pupils_cm, t),
        _ => None,
    };
    let (have, after_plans) = match s.have(&need.category) {
        Some((today, after)) => (Some(today), Some(after)),
        None => (None, None),
    };
    let meets = |v: Option<i64>| matches!((v, required), (Some(v), Some(r)) if v >= r);
    Evaluation {
        required,
        have,
        after_plans,
        lack_today: !meets(have),
        lack_after: !meets(after_plans),
    }
}

/// The needs, indexed by what they target; each school finds its own in a few lookups.
struct NeedIndex {
    national: Vec<Need>,
    /// Target kind → target code → needs.
    targeted: HashMap<String, HashMap<String, Vec<Need>>>,
}

impl NeedIndex {
    async fn load(db: &Db) -> CoreResult<Self> {
        let mut national = Vec::new();
        let mut targeted: HashMap<String, HashMap<String, Vec<Need>>> = HashMap::new();
        let mut needs = repo::list_needs(db).await?;
        // The order of a school's lines in the lists: the need's label, then its id.
        needs.sort_by(|a, b| (&a.subject_label, &a.id).cmp(&(&b.subject_label, &b.id)));
        for n in needs {
            if n.target_kind == "national" {
                national.push(n);
            } else {
                targeted
                    .entry(n.target_kind.clone())
                    .or_default()
                    .entry(n.target_code.clone())
                    .or_default()
                    .push(n);
            }
        }
        Ok(Self { national, targeted })
    }

    /// The needs that target `s`, each evaluated, in the order of the lists.
    fn evaluate<'a>(&'a self, s: &SchoolRow, out: &mut Vec<(&'a Need, Evaluation)>) {
        out.clear();
        let keys = [
            ("academie", s.code_academie.as_deref()),
            ("departement", Some(s.code_departement.as_str())),
            ("collectivite", Some(s.collectivite_siren.as_str())),
            ("etablissement", Some(s.uai.as_str())),
        ];
        let mut found: Vec<&Need> = self.national.iter().collect();
        for (kind, code) in keys {
            if let Some(needs) = code.and_then(|code| self.targeted.get(kind)?.get(code)) {
                found.extend(needs);
            }
        }
        found.retain(|n| n.famille.as_deref().is_none_or(|f| f == s.famille));
        found.sort_by(|a, b| (&a.subject_label, &a.id).cmp(&(&b.subject_label, &b.id)));
        out.extend(found.into_iter().map(|n| (n, evaluate(n, s))));
    }
}

/// A school's standing: targeted by a need, lacking something today, after the plans.
#[derive(Debug, Clone, Copy)]
struct Standing {
    targeted: bool,
    lack_today: bool,
    lack_after: bool,
    equipped_without_project: bool,
    to_renew: bool,
}

fn standing(s: &SchoolRow, evaluations: &[(&Need, Evaluation)]) -> Standing {
    let (units, planned) = s.units();
    Standing {
        targeted: !evaluations.is_empty(),
        lack_today: evaluations.iter().any(|(_, e)| e.lack_today),
        lack_after: evaluations.iter().any(|(_, e)| e.lack_after),
        equipped_without_project: evaluations.is_empty() && units.saturating_add(planned) > 0,
        to_renew: s.needs_renewal(),
    }
}

/// The read of the perimeter's schools with a competent collectivité, their figures and
/// their plan lines due by `date`, ordered as the lists are when `ordered` (public for the
/// benchmark's query plans).
pub fn schools_sql(scope: &Scope, date: Date, ordered: bool) -> Sql {
    let mut figures = Vec::new();
    let mut planned = Vec::new();
    for (code, col) in COUNTS {
        figures.push(format!("f.{col}"));
        planned.push(format!(
            "CAST(SUM(CASE WHEN l.action = 'acquisition' AND l.category = '{code}' THEN l.quantity ELSE 0 END) AS BIGINT) AS p_{col}"
        ));
    }
    for (code, col) in LEVELS {
        figures.push(format!("f.{col}"));
        planned.push(format!(
            "MAX(CASE WHEN l.action = 'acquisition' AND l.category = '{code}' THEN l.quantity END) AS p_{col}"
        ));
    }
    let p_columns: Vec<String> = COUNTS
        .iter()
        .chain(LEVELS.iter())
        .map(|(_, col)| format!("pv.p_{col}"))
        .collect();
    let mut q = Sql::new(&format!(
        "SELECT e.uai, e.nom, e.famille, e.code_departement, e.code_academie, e.code_commune, e.collectivite_siren, \
         c.nom AS collectivite_nom, c.search_key AS collectivite_key, {}, f.old_units, \
         COALESCE(f.pupils, e.nombre_eleves) AS pupils, f.classes, f.pupils_cm, {}, pv.renewals, pv.budget, pv.cofunded \
         FROM etablissement e LEFT JOIN collectivite c ON c.siren = e.collectivite_siren \
         LEFT JOIN equip_figures f ON f.uai = e.uai \
         LEFT JOIN (SELECT l.uai, {}, \
           CAST(SUM(CASE WHEN l.action = 'renouvellement' AND l.category IN ({COUNT_CODES}) THEN l.quantity ELSE 0 END) AS BIGINT) AS renewals, \
           CAST(SUM(l.budget_cents) AS BIGINT) AS budget, CAST(SUM(l.cofunded_cents) AS BIGINT) AS cofunded \
           FROM equip_plan_line l JOIN etablissement le ON le.uai = l.uai \
           WHERE l.status = 'prevu' AND l.due_date <= ",
        figures.join(", "),
        p_columns.join(", "),
        planned.join(", "),
    ));
    q.bind_mut(date);
    push_scope(&mut q, scope, "le");
    q.push_mut(" GROUP BY l.uai) pv ON pv.uai = e.uai WHERE e.collectivite_siren IS NOT NULL");
    push_scope(&mut q, scope, "e");
    if ordered {
        q.push_mut(" ORDER BY c.search_key, e.search_key, e.uai");
    }
    q
}

fn push_scope(q: &mut Sql, scope: &Scope, alias: &str) {
    let (column, code) = match scope {
        Scope::National => return,
        Scope::Academie(code) => ("code_academie", code),
        Scope::Departement(code) => ("code_departement", code),
        Scope::Collectivite(siren) => ("collectivite_siren", siren),
    };
    q.push_mut(&format!(" AND {alias}.{column} = "));
    q.bind_mut(code.as_str());
}

/// Streams the perimeter's schools, each with the needs that target it evaluated.
async fn scan(
    db: &Db,
    scope: &Scope,
    date: Date,
    ordered: bool,
    mut each: impl FnMut(&SchoolRow, &[(&Need, Evaluation)]) -> CoreResult<()> + Send,
) -> CoreResult<()> {
    let index = NeedIndex::load(db).await?;
    let mut evaluations = Vec::new();
    db.for_each(schools_sql(scope, date, ordered), |s: SchoolRow| {
        index.evaluate(&s, &mut evaluations);
        each(&s, &evaluations)
    })
    .await
}

/// Per need: the schools targeted and those lacking the equipment today and after the
/// plans (needs that target no school of the perimeter are left out), ordered by label,
/// category and id; per collectivité: the summary a DAN brings to the territorial instance,
/// ordered by name.
pub async fn summary(db: &Db, scope: &Scope, date: Date) -> CoreResult<(Vec<NeedGap>, Vec<CollectiviteGap>)> {
    let mut needs: HashMap<String, NeedGap> = HashMap::new();
    let mut collectivites: HashMap<String, (String, CollectiviteGap)> = HashMap::new();
    scan(db, scope, date, false, |s, evaluations| {
        for (n, e) in evaluations {
            let g = needs.entry(n.id.clone()).or_insert_with(|| NeedGap {
                need_id: n.id.clone(),
                subject_label: n.subject_label.clone(),
                category: n.category.clone(),
                rule: n.rule.clone(),
                threshold: n.threshold,
                targeted: 0,
                lacking_today: 0,
                lacking_after_plans: 0,
            });
            g.targeted += 1;
            g.lacking_today += i64::from(e.lack_today);
            g.lacking_after_plans += i64::from(e.lack_after);
        }
        let st = standing(s, evaluations);
        let (_, c) = collectivites
            .entry(s.collectivite_siren.clone())
            .or_insert_with(|| {
                (
                    s.collectivite_key.clone().unwrap_or_default(),
                    CollectiviteGap {
                        siren: s.collectivite_siren.clone(),
                        nom: s.collectivite_nom.clone().unwrap_or_default(),
                        schools: 0,
                        targeted: 0,
                        lacking_today: 0,
                        lacking_after_plans: 0,
                        equipped_without_project: 0,
                        to_renew: 0,
                        old_units: 0,
                        terminals: 0,
                        pupils: 0,
                        planned_budget_cents: 0,
                        planned_cofunded_cents: 0,
                    },
                )
            });
        let (old, renewals) = s.old();
        c.schools += 1;
        c.targeted += i64::from(st.targeted);
        c.lacking_today += i64::from(st.lack_today);
        c.lacking_after_plans += i64::from(st.lack_after);
        c.equipped_without_project += i64::from(st.equipped_without_project);
        c.to_renew += i64::from(st.to_renew);
        c.old_units += (old - renewals).max(0);
        c.terminals += s.terminals();
        c.pupils += s.pupils.unwrap_or(0);
        c.planned_budget_cents += s.budget.unwrap_or(0);
        c.planned_cofunded_cents += s.cofunded.unwrap_or(0);
        Ok(())
    })
    .await?;
    let mut needs: Vec<NeedGap> = needs.into_values().collect();
    needs.sort_by(|a, b| {
        (&a.subject_label, &a.category, &a.need_id).cmp(&(&b.subject_label, &b.category, &b.need_id))
    });
    let mut collectivites: Vec<(String, CollectiviteGap)> = collectivites.into_values().collect();
    collectivites.sort_by(|(ka, a), (kb, b)| (ka, &a.siren).cmp(&(kb, &b.siren)));
    Ok((needs, collectivites.into_iter().map(|(_, c)| c).collect()))
}

/// The readiness of the perimeter's schools grouped by département or commune, ordered by
/// département code, or by commune name.
pub async fn readiness(
    db: &Db,
    scope: &Scope,
    date: Date,
    level: ReadinessLevel,
) -> CoreResult<Vec<Readiness>> {
    let mut groups: BTreeMap<String, Readiness> = BTreeMap::new();
    scan(db, scope, date, false, |s, evaluations| {
        let code = match level {
            ReadinessLevel::Departement => &s.code_departement,
            ReadinessLevel::Commune => &s.code_commune,
        };
        let st = standing(s, evaluations);
        let r = groups.entry(code.clone()).or_insert_with(|| Readiness {
            code: code.clone(),
            nom: String::new(),
            schools: 0,
            targeted: 0,
            lacking_today: 0,
            lacking_after_plans: 0,
            equipped_without_project: 0,
            to_renew: 0,
        });
        r.schools += 1;
        r.targeted += i64::from(st.targeted);
        r.lacking_today += i64::from(st.lack_today);
        r.lacking_after_plans += i64::from(st.lack_after);
        r.equipped_without_project += i64::from(st.equipped_without_project);
        r.to_renew += i64::from(st.to_renew);
        Ok(())
    })
    .await?;
    // Départements are ordered by code, communes by name.
    let (table, key) = match level {
        ReadinessLevel::Departement => ("departement", "code"),
        ReadinessLevel::Commune => ("commune", "search_key"),
    };
    let codes: Vec<String> = groups.keys().cloned().collect();
    let mut names: Vec<(String, String, String)> = Vec::with_capacity(codes.len());
    for chunk in codes.chunks(MAX_BIND) {
        let rows: Vec<PlaceName> = db
            .fetch_all(
                Sql::new(&format!(
                    "SELECT code, nom, {key} AS search_key FROM {table} WHERE code IN "
                ))
                .bind_tuple(chunk.iter().map(String::as_str)),
            )
            .await?;
        names.extend(rows.into_iter().map(|r| (r.code, r.nom, r.search_key)));
    }
    names.sort_by(|a, b| (&a.2, &a.0).cmp(&(&b.2, &b.0)));
    Ok(names
        .into_iter()
        .filter_map(|(code, nom, _)| {
            groups.remove(&code).map(|mut r| {
                r.nom = nom;
                r
            })
        })
        .collect())
}

#[derive(sqlx::FromRow)]
struct PlaceName {
    code: String,
    nom: String,
    search_key: String,
}

/// One page of a gap list, with the total count: the schools stream in the list's order
/// and only the page's lines are kept.
pub async fn lines(
    db: &Db,
    scope: &Scope,
    date: Date,
    kind: GapKind,
    page: PageRequest,
) -> CoreResult<Page<GapLine>> {
    let first = u64::try_from(page.offset()).unwrap_or(0);
    let last = first + u64::from(page.per_page);
    let mut seen: u64 = 0;
    let mut items = Vec::new();
    scan(db, scope, date, true, |s, evaluations| {
        let (units, planned) = s.units();
        let (old, renewals) = s.old();
        let mut keep = |need: Option<(&Need, &Evaluation)>| {
            if (first..last).contains(&seen) {
                items.push(GapLine {
                    uai: s.uai.clone(),
                    nom: s.nom.clone(),
                    famille: s.famille.clone(),
                    code_departement: s.code_departement.clone(),
                    collectivite_siren: Some(s.collectivite_siren.clone()),
                    collectivite_nom: s.collectivite_nom.clone(),
                    need_id: need.map(|(n, _)| n.id.clone()),
                    need_label: need.map(|(n, _)| n.subject_label.clone()),
                    category: need.map(|(n, _)| n.category.clone()),
                    required: need.and_then(|(_, e)| e.required),
                    have: need.and_then(|(_, e)| e.have),
                    after_plans: need.and_then(|(_, e)| e.after_plans),
                    units: Some(units),
                    planned_units: Some(planned),
                    old_units: Some(old),
                    renewals_planned: Some(renewals),
                    pupils: s.pupils,
                });
            }
            seen += 1;
        };
        match kind {
            GapKind::CibleSansEquipement | GapKind::EncoreApresPlans => {
                for (n, e) in evaluations {
                    let lacking = if kind == GapKind::CibleSansEquipement {
                        e.lack_today
                    } else {
                        e.lack_after
                    };
                    if lacking {
                        keep(Some((n, e)));
                    }
                }
            }
            GapKind::EquipeSansProjet => {
                if standing(s, evaluations).equipped_without_project {
                    keep(None);
                }
            }
            GapKind::ARenouveler => {
                if s.needs_renewal() {
                    keep(None);
                }
            }
        }
        Ok(())
    })
    .await?;
    Ok(Page {
        items,
        total: i64::try_from(seen).unwrap_or(i64::MAX),
        page: page.page,
        per_page: page.per_page,
    })
}
