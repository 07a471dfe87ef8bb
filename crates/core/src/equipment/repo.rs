//! SQL of the equipment domain: inventories, pupil counts, plans, needs, comments, and the
//! gap analysis, computed by aggregates over the perimeter's schools (never loaded whole).

use time::OffsetDateTime;

use crate::db::{Db, MAX_BIND, Sql, Tx, Value};
use crate::error::CoreResult;
use crate::territory::model::{Page, PageRequest};

use super::model::*;

// --- Schools ----------------------------------------------------------------------------------

/// What the equipment rules need to know of a school.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SchoolRef {
    pub uai: String,
    pub nom: String,
    pub famille: String,
    pub statut: String,
    pub code_departement: String,
    pub code_academie: Option<String>,
    pub collectivite_siren: Option<String>,
    pub collectivite_nom: Option<String>,
    pub nombre_eleves: Option<i64>,
}

const SCHOOL_SELECT: &str = "SELECT e.uai, e.nom, e.famille, e.statut, e.code_departement, e.code_academie, \
     e.collectivite_siren, c.nom AS collectivite_nom, e.nombre_eleves \
     FROM etablissement e LEFT JOIN collectivite c ON c.siren = e.collectivite_siren";

pub async fn find_school(db: &Db, uai: &str) -> CoreResult<Option<SchoolRef>> {
    db.fetch_optional(Sql::new(&format!("{SCHOOL_SELECT} WHERE e.uai = ")).bind(uai))
        .await
}

/// The schools among `uais` that exist.
pub async fn find_schools(db: &Db, uais: &[String]) -> CoreResult<Vec<SchoolRef>> {
    let mut out = Vec::with_capacity(uais.len());
    for chunk in uais.chunks(MAX_BIND / 2) {
        out.extend(
            db.fetch_all::<SchoolRef>(
                Sql::new(&format!("{SCHOOL_SELECT} WHERE e.uai IN "))
                    .bind_tuple(chunk.iter().map(String::as_str)),
            )
            .await?,
        );
    }
    Ok(out)
}

// --- Inventory --------------------------------------------------------------------------------

#[derive(sqlx::FromRow)]
struct VersionRow {
    version: i64,
}

/// The inventory's version (0 when nothing was ever declared).
pub async fn inventory_version(db: &Db, uai: &str) -> CoreResult<i64> {
    let row: Option<VersionRow> = db
        .fetch_optional(Sql::new("SELECT version FROM equip_school WHERE uai = ").bind(uai))
        .await?;
    Ok(row.map_or(0, |r| r.version))
}

/// Moves the inventory from version `expected` to the next; false when someone else did.
pub async fn bump_inventory(tx: &mut Tx, uai: &str, expected: i64, now: OffsetDateTime) -> CoreResult<bool> {
    let changed = if expected == 0 {
        tx.execute(
            Sql::insert(
                "equip_school",
                vec![
                    ("uai", uai.into()),
                    ("version", 1_i64.into()),
                    ("created_at", now.into()),
                    ("updated_at", now.into()),
                ],
            )
            .push(" ON CONFLICT (uai) DO NOTHING"),
        )
        .await?
    } else {
        tx.execute(
            Sql::new("UPDATE equip_school SET version = version + 1, updated_at = ")
                .bind(now)
                .push(" WHERE uai = ")
                .bind(uai)
                .push(" AND version = ")
                .bind(expected),
        )
        .await?
    };
    Ok(changed == 1)
}

/// Moves the inventory to its next version whatever it was (an import).
pub async fn touch_inventory(tx: &mut Tx, uai: &str, now: OffsetDateTime) -> CoreResult<()> {
    tx.execute(
        Sql::insert(
            "equip_school",
            vec![
                ("uai", uai.into()),
                ("version", 1_i64.into()),
                ("created_at", now.into()),
                ("updated_at", now.into()),
            ],
        )
        .push(
            " ON CONFLICT (uai) DO UPDATE SET version = equip_school.version + 1, updated_at = excluded.updated_at",
        ),
    )
    .await?;
    Ok(())
}

const DECLARATION_COLUMNS: &str = "id, uai, category, quantity, quantity_old, maintainer, service_level, \
     response_hours, as_of, source, note, declared_by, created_at, superseded_at";

/// The current figure of a category, if any.
pub async fn current_declaration(tx: &mut Tx, uai: &str, category: &str) -> CoreResult<Option<Declaration>> {
    tx.fetch_optional(
        Sql::new(&format!(
            "SELECT {DECLARATION_COLUMNS} FROM equip_declaration WHERE uai = "
        ))
        .bind(uai)
        .push(" AND category = ")
        .bind(category)
        .push(" AND superseded_at IS NULL"),
    )
    .await
}

/// Marks the current figure of a category as superseded.
pub async fn supersede(tx: &mut Tx, uai: &str, category: &str, now: OffsetDateTime) -> CoreResult<()> {
    tx.execute(
        Sql::new("UPDATE equip_declaration SET superseded_at = ")
            .bind(now)
            .push(" WHERE uai = ")
            .bind(uai)
            .push(" AND category = ")
            .bind(category)
            .push(" AND superseded_at IS NULL"),
    )
    .await?;
    Ok(())
}

pub async fn insert_declaration(tx: &mut Tx, d: &Declaration) -> CoreResult<()> {
    tx.execute(Sql::insert(
        "equip_declaration",
        vec![
            ("id", d.id.as_str().into()),
            ("uai", d.uai.as_str().into()),
            ("category", d.category.as_str().into()),
            ("quantity", d.quantity.into()),
            ("quantity_old", d.quantity_old.into()),
            ("maintainer", d.maintainer.as_deref().into()),
            ("service_level", d.service_level.as_deref().into()),
            ("response_hours", d.response_hours.into()),
            ("as_of", d.as_of.into()),
            ("source", d.source.as_str().into()),
            ("note", d.note.as_str().into()),
            ("declared_by", d.declared_by.as_deref().into()),
            ("created_at", d.created_at.into()),
            ("superseded_at", d.superseded_at.into()),
        ],
    ))
    .await?;
    Ok(())
}

/// Every figure of a school, current first, then the superseded ones, newest first.
pub async fn declarations(db: &Db, uai: &str) -> CoreResult<Vec<Declaration>> {
    db.fetch_all(
        Sql::new(&format!(
            "SELECT {DECLARATION_COLUMNS} FROM equip_declaration WHERE uai = "
        ))
        .bind(uai)
        .push(
            " ORDER BY CASE WHEN superseded_at IS NULL THEN 0 ELSE 1 END, category, as_of DESC, created_at DESC",
        ),
    )
    .await
}

// --- Pupils -----------------------------------------------------------------------------------

/// Writes pupil counts (one row per school and year, replaced when imported again).
pub async fn upsert_pupils(
    tx: &mut Tx,
    rows: &[Pupils],
    by: Option<&str>,
    now: OffsetDateTime,
) -> CoreResult<()> {
    for chunk in rows.chunks(1_000) {
        let mut q = Sql::new(
            "INSERT INTO equip_pupils (uai, school_year, classes, pupils, pupils_cm, source, imported_by, updated_at) VALUES ",
        );
        for (i, r) in chunk.iter().enumerate() {
            if i > 0 {
                q.push_mut(", ");
            }
            q = q.bind_tuple([
                Value::from(r.uai.as_str()),
                r.school_year.into(),
                r.classes.into(),
                r.pupils.into(),
                r.pupils_cm.into(),
                r.source.as_str().into(),
                by.into(),
                now.into(),
            ]);
        }
        q.push_mut(
            " ON CONFLICT (uai, school_year) DO UPDATE SET classes = excluded.classes, pupils = excluded.pupils, \
             pupils_cm = excluded.pupils_cm, source = excluded.source, imported_by = excluded.imported_by, \
             updated_at = excluded.updated_at",
        );
        tx.execute(q).await?;
    }
    Ok(())
}

/// The latest pupil counts of a school.
pub async fn latest_pupils(db: &Db, uai: &str) -> CoreResult<Option<Pupils>> {
    db.fetch_optional(
        Sql::new(
            "SELECT uai, school_year, classes, pupils, pupils_cm, source FROM equip_pupils WHERE uai = ",
        )
        .bind(uai)
        .push(" ORDER BY school_year DESC LIMIT 1"),
    )
    .await
}

// --- Current figures (`equip_figures`) ---------------------------------------------------------

/// The pivot of the current declarations of the schools `d` reads (one row per school).
const FIGURES_PIVOT: &str = "SELECT uai, \
     MAX(CASE WHEN category = 'poste-fixe' THEN quantity END) AS poste_fixe, \
     MAX(CASE WHEN category = 'poste-mobile' THEN quantity END) AS poste_mobile, \
     MAX(CASE WHEN category = 'tablette' THEN quantity END) AS tablette, \
     MAX(CASE WHEN category = 'equipement-individuel' THEN quantity END) AS equipement_individuel, \
     MAX(CASE WHEN category = 'ecran-interactif' THEN quantity END) AS ecran_interactif, \
     MAX(CASE WHEN category = 'videoprojecteur' THEN quantity END) AS videoprojecteur, \
     MAX(CASE WHEN category = 'classe-mobile' THEN quantity END) AS classe_mobile, \
     MAX(CASE WHEN category = 'wifi' THEN quantity END) AS wifi, \
     MAX(CASE WHEN category = 'debit' THEN quantity END) AS debit, \
     MAX(CASE WHEN category = 'ent' THEN quantity END) AS ent, \
     CAST(SUM(CASE WHEN category IN (";

/// Rewrites the `equip_figures` rows of `uais` from their current declarations and latest
/// pupil counts, in the transaction that changed them (a school with neither loses its row).
pub async fn refresh_figures(tx: &mut Tx, uais: &[String]) -> CoreResult<()> {
    // Each chunk binds its list three times.
    for chunk in uais.chunks(MAX_BIND / 3) {
        let list = || chunk.iter().map(String::as_str);
        tx.execute(Sql::new("DELETE FROM equip_figures WHERE uai IN ").bind_tuple(list()))
            .await?;
        let q = Sql::new(
            "INSERT INTO equip_figures (uai, poste_fixe, poste_mobile, tablette, equipement_individuel, \
             ecran_interactif, videoprojecteur, classe_mobile, wifi, debit, ent, old_units, school_year, classes, \
             pupils, pupils_cm) \
             SELECT u.uai, d.poste_fixe, d.poste_mobile, d.tablette, d.equipement_individuel, d.ecran_interactif, \
             d.videoprojecteur, d.classe_mobile, d.wifi, d.debit, d.ent, COALESCE(d.old_units, 0), \
             p.school_year, p.classes, p.pupils, p.pupils_cm \
             FROM (SELECT uai FROM equip_declaration WHERE superseded_at IS NULL AND uai IN ",
        )
        .bind_tuple(list())
        .push(" UNION SELECT uai FROM equip_pupils WHERE uai IN ")
        .bind_tuple(list())
        .push(&format!(
            ") u LEFT JOIN ({FIGURES_PIVOT}{COUNT_CODES}) THEN COALESCE(quantity_old, 0) ELSE 0 END) AS BIGINT) AS old_units \
             FROM equip_declaration WHERE superseded_at IS NULL AND uai IN "
        ))
        .bind_tuple(list())
        .push(&format!(
            " GROUP BY uai) d ON d.uai = u.uai LEFT JOIN equip_pupils p ON p.uai = u.uai AND {LATEST_PUPILS_OF_U}"
        ));
        tx.execute(q).await?;
    }
    Ok(())
}

/// The latest pupil row of the school `u`.
const LATEST_PUPILS_OF_U: &str =
    "p.school_year = (SELECT MAX(q.school_year) FROM equip_pupils q WHERE q.uai = u.uai)";

// --- Scopes -----------------------------------------------------------------------------------

/// ` AND e.code_academie = $n` (or nothing for France), on the school alias `alias`.
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

fn push_page(q: &mut Sql, page: PageRequest) {
    q.push_mut(" LIMIT ");
    q.bind_mut(i64::from(page.per_page));
    q.push_mut(" OFFSET ");
    q.bind_mut(page.offset());
}

/// The latest pupil row of each school (a correlated subquery on the primary key).
const LATEST_PUPILS: &str =
    "p.school_year = (SELECT MAX(q.school_year) FROM equip_pupils q WHERE q.uai = p.uai)";

// --- Inventory lists and ratios ---------------------------------------------------------------

const INVENTORY_SCHOOLS: &str =
    " FROM etablissement e WHERE e.famille IN ('ecole', 'college', 'lycee', 'erea')";

/// One page of the schools of a scope with their current figures.
pub async fn inventory_rows(db: &Db, scope: &Scope, page: PageRequest) -> CoreResult<Page<InventoryRow>> {
    let mut count = Sql::new(&format!("SELECT COUNT(*){INVENTORY_SCHOOLS}"));
    push_scope(&mut count, scope, "e");
    let total = db.fetch_scalar_i64(count).await?;
    let mut q = Sql::new(&format!(
        "SELECT s.uai, s.nom, s.famille, s.code_departement, s.collectivite_siren, c.nom AS collectivite_nom, \
         CAST(COALESCE(SUM(CASE WHEN d.category IN ({TERMINAL_CODES}) THEN d.quantity END), 0) AS BIGINT) AS terminals, \
         CAST(COALESCE(SUM(CASE WHEN d.category IN ({TERMINAL_CODES}) THEN d.quantity_old END), 0) AS BIGINT) AS terminals_old, \
         CAST(COALESCE(SUM(CASE WHEN d.category = 'ecran-interactif' THEN d.quantity END), 0) AS BIGINT) AS interactive, \
         CAST(COALESCE(SUM(CASE WHEN d.category = 'videoprojecteur' THEN d.quantity END), 0) AS BIGINT) AS projectors, \
         CAST(COALESCE(SUM(CASE WHEN d.category = 'classe-mobile' THEN d.quantity END), 0) AS BIGINT) AS mobile_classes, \
         MAX(CASE WHEN d.category = 'wifi' THEN d.quantity END) AS wifi, \
         MAX(CASE WHEN d.category = 'debit' THEN d.quantity END) AS bandwidth, \
         MAX(CASE WHEN d.category = 'ent' THEN d.quantity END) AS ent, \
         MAX(p.pupils) AS pupils, MAX(p.classes) AS classes, MAX(d.as_of) AS as_of \
         FROM (SELECT e.uai, e.nom, e.famille, e.code_departement, e.collectivite_siren, e.search_key{INVENTORY_SCHOOLS}"
    ));
    push_scope(&mut q, scope, "e");
    q.push_mut(" ORDER BY e.search_key, e.uai");
    push_page(&mut q, page);
    q.push_mut(&format!(
        ") s LEFT JOIN collectivite c ON c.siren = s.collectivite_siren \
         LEFT JOIN equip_declaration d ON d.uai = s.uai AND d.superseded_at IS NULL \
         LEFT JOIN equip_pupils p ON p.uai = s.uai AND {LATEST_PUPILS} \
         GROUP BY s.uai, s.nom, s.famille, s.code_departement, s.collectivite_siren, c.nom, s.search_key \
         ORDER BY s.search_key, s.uai"
    ));
    Ok(Page {
        items: db.fetch_all(q).await?,
        total,
        page: page.page,
        per_page: page.per_page,
    })
}

/// Terminals and pupils per school, département or académie, over the schools of the scope
/// where both are known (a terminal figure declared, a pupil count imported).
pub async fn ratios(db: &Db, scope: &Scope, level: RatioLevel) -> CoreResult<Vec<Ratio>> {
    let (code, nom, join) = match level {
        RatioLevel::Etablissement => ("e.uai", "e.nom", ""),
        RatioLevel::Departement => (
            "e.code_departement",
            "g.nom",
            " JOIN departement g ON g.code = e.code_departement",
        ),
        RatioLevel::Academie => (
            "e.code_academie",
            "g.nom",
            " JOIN academie g ON g.code = e.code_academie",
        ),
    };
    let mut q = Sql::new(&format!(
        "SELECT {code} AS code, {nom} AS nom, COUNT(*) AS schools, CAST(SUM(t.n) AS BIGINT) AS terminals, \
         CAST(SUM(p.pupils) AS BIGINT) AS pupils \
         FROM etablissement e{join} \
         JOIN equip_pupils p ON p.uai = e.uai AND {LATEST_PUPILS} \
         JOIN (SELECT d.uai, CAST(SUM(d.quantity) AS BIGINT) AS n FROM equip_declaration d \
               WHERE d.superseded_at IS NULL AND d.category IN ({TERMINAL_CODES}) GROUP BY d.uai) t ON t.uai = e.uai \
         WHERE 1 = 1"
    ));
    push_scope(&mut q, scope, "e");
    q.push_mut(&format!(" GROUP BY {code}, {nom} ORDER BY {code}"));
    db.fetch_all(q).await
}

// --- Plans ------------------------------------------------------------------------------------

const PLAN_COLUMNS: &str =
    "id, collectivite_siren, title, first_year, last_year, note, created_by, version, created_at, updated_at";

fn plan_values(p: &Plan) -> Vec<(&'static str, Value)> {
    vec![
        ("title", p.title.as_str().into()),
        ("first_year", p.first_year.into()),
        ("last_year", p.last_year.into()),
        ("note", p.note.as_str().into()),
        ("updated_at", p.updated_at.into()),
    ]
}

pub async fn insert_plan(tx: &mut Tx, p: &Plan) -> CoreResult<()> {
    let mut cols = vec![
        ("id", p.id.as_str().into()),
        ("collectivite_siren", p.collectivite_siren.as_str().into()),
        ("created_by", p.created_by.as_deref().into()),
        ("created_at", p.created_at.into()),
    ];
    cols.extend(plan_values(p));
    tx.execute(Sql::insert("equip_plan", cols)).await?;
    Ok(())
}

/// Writes `p` over the version `expected`; false when someone changed it in between.
pub async fn update_plan(tx: &mut Tx, p: &Plan, expected: i64) -> CoreResult<bool> {
    Ok(tx
        .execute(Sql::update_versioned(
            "equip_plan",
            &p.id,
            expected,
            plan_values(p),
        ))
        .await?
        == 1)
}

pub async fn find_plan(db: &Db, id: &str) -> CoreResult<Option<Plan>> {
    db.fetch_optional(Sql::new(&format!("SELECT {PLAN_COLUMNS} FROM equip_plan WHERE id = ")).bind(id))
        .await
}

/// The plans of one collectivité, or of all.
pub async fn list_plans(db: &Db, siren: Option<&str>) -> CoreResult<Vec<Plan>> {
    let mut q = Sql::new(&format!("SELECT {PLAN_COLUMNS} FROM equip_plan"));
    if let Some(siren) = siren {
        q.push_mut(" WHERE collectivite_siren = ");
        q.bind_mut(siren);
    }
    q.push_mut(" ORDER BY collectivite_siren, first_year, title");
    db.fetch_all(q).await
}

const LINE_COLUMNS: &str = "id, plan_id, position, year, due_date, uai, group_label, action, category, quantity, \
     budget_cents, funding, programme, cofunded_cents, commitment_id, status, delivered_on";

pub async fn plan_lines(db: &Db, plan_id: &str) -> CoreResult<Vec<PlanLine>> {
    db.fetch_all(
        Sql::new(&format!(
            "SELECT {LINE_COLUMNS} FROM equip_plan_line WHERE plan_id = "
        ))
        .bind(plan_id)
        .push(" ORDER BY position"),
    )
    .await
}

/// The lines of every plan for one school, by due date.
pub async fn lines_for_school(db: &Db, uai: &str) -> CoreResult<Vec<PlanLine>> {
    db.fetch_all(
        Sql::new(&format!(
            "SELECT {LINE_COLUMNS} FROM equip_plan_line WHERE uai = "
        ))
        .bind(uai)
        .push(" ORDER BY due_date, position"),
    )
    .await
}

const CONTRACT_COLUMNS: &str = "id, plan_id, position, contractor, object, start_date, end_date, service_level, \
     response_hours, annual_cents, commitment_id";

pub async fn plan_contracts(db: &Db, plan_id: &str) -> CoreResult<Vec<Contract>> {
    db.fetch_all(
        Sql::new(&format!(
            "SELECT {CONTRACT_COLUMNS} FROM equip_contract WHERE plan_id = "
        ))
        .bind(plan_id)
        .push(" ORDER BY position"),
    )
    .await
}

/// Replaces a plan's lines and contracts.
pub async fn replace_children(
    tx: &mut Tx,
    plan_id: &str,
    lines: &[PlanLine],
    contracts: &[Contract],
) -> CoreResult<()> {
    tx.execute(Sql::new("DELETE FROM equip_plan_line WHERE plan_id = ").bind(plan_id))
        .await?;
    tx.execute(Sql::new("DELETE FROM equip_contract WHERE plan_id = ").bind(plan_id))
        .await?;
    for l in lines {
        tx.execute(Sql::insert(
            "equip_plan_line",
            vec![
                ("id", l.id.as_str().into()),
                ("plan_id", plan_id.into()),
                ("position", l.position.into()),
                ("year", l.year.into()),
                ("due_date", l.due_date.into()),
                ("uai", l.uai.as_deref().into()),
                ("group_label", l.group_label.as_deref().into()),
                ("action", l.action.as_str().into()),
                ("category", l.category.as_str().into()),
                ("quantity", l.quantity.into()),
                ("budget_cents", l.budget_cents.into()),
                ("funding", l.funding.as_str().into()),
                ("programme", l.programme.as_str().into()),
                ("cofunded_cents", l.cofunded_cents.into()),
                ("commitment_id", l.commitment_id.as_deref().into()),
                ("status", l.status.as_str().into()),
                ("delivered_on", l.delivered_on.into()),
            ],
        ))
        .await?;
    }
    for c in contracts {
        tx.execute(Sql::insert(
            "equip_contract",
            vec![
                ("id", c.id.as_str().into()),
                ("plan_id", plan_id.into()),
                ("position", c.position.into()),
                ("contractor", c.contractor.as_str().into()),
                ("object", c.object.as_str().into()),
                ("start_date", c.start_date.into()),
                ("end_date", c.end_date.into()),
                ("service_level", c.service_level.as_str().into()),
                ("response_hours", c.response_hours.into()),
                ("annual_cents", c.annual_cents.into()),
                ("commitment_id", c.commitment_id.as_deref().into()),
            ],
        ))
        .await?;
    }
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Count {
    n: i64,
}

/// Whether a convention commitment exists and is owed by, or given to, a convention where
/// the collectivité is a party.
pub async fn commitment_of_party(db: &Db, commitment_id: &str, siren: &str) -> CoreResult<bool> {
    let row: Option<Count> = db
        .fetch_optional(
            Sql::new(
                "SELECT COUNT(*) AS n FROM convention_commitment k JOIN convention_party p \
                 ON p.convention_id = k.convention_id WHERE k.id = ",
            )
            .bind(commitment_id)
            .push(" AND p.reference = ")
            .bind(format!("collectivite:{siren}")),
        )
        .await?;
    Ok(row.is_some_and(|r| r.n > 0))
}

// --- Needs ------------------------------------------------------------------------------------

const NEED_COLUMNS: &str = "id, subject_kind, subject_id, subject_label, academie_code, target_kind, target_code, \
     famille, category, rule, threshold, needed_by, training, note, created_by, version, created_at, updated_at";

fn need_values(n: &Need) -> Vec<(&'static str, Value)> {
    vec![
        ("subject_label", n.subject_label.as_str().into()),
        ("target_kind", n.target_kind.as_str().into()),
        ("target_code", n.target_code.as_str().into()),
        ("famille", n.famille.as_deref().into()),
        ("category", n.category.as_str().into()),
        ("rule", n.rule.as_str().into()),
        ("threshold", n.threshold.into()),
        ("needed_by", n.needed_by.into()),
        ("training", n.training.as_str().into()),
        ("note", n.note.as_str().into()),
        ("updated_at", n.updated_at.into()),
    ]
}

pub async fn insert_need(tx: &mut Tx, n: &Need) -> CoreResult<()> {
    let mut cols = vec![
        ("id", n.id.as_str().into()),
        ("subject_kind", n.subject_kind.as_str().into()),
        ("subject_id", n.subject_id.as_str().into()),
        ("academie_code", n.academie_code.as_deref().into()),
        ("created_by", n.created_by.as_deref().into()),
        ("created_at", n.created_at.into()),
    ];
    cols.extend(need_values(n));
    tx.execute(Sql::insert("equip_need", cols)).await?;
    Ok(())
}

pub async fn update_need(tx: &mut Tx, n: &Need, expected: i64) -> CoreResult<bool> {
    Ok(tx
        .execute(Sql::update_versioned(
            "equip_need",
            &n.id,
            expected,
            need_values(n),
        ))
        .await?
        == 1)
}

pub async fn find_need(db: &Db, id: &str) -> CoreResult<Option<Need>> {
    db.fetch_optional(Sql::new(&format!("SELECT {NEED_COLUMNS} FROM equip_need WHERE id = ")).bind(id))
        .await
}

pub async fn list_needs(db: &Db) -> CoreResult<Vec<Need>> {
    db.fetch_all(Sql::new(&format!(
        "SELECT {NEED_COLUMNS} FROM equip_need ORDER BY subject_label, category, id"
    )))
    .await
}

/// A roadmap action's title and its roadmap's académie.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ActionRef {
    pub id: String,
    pub code: String,
    pub title: String,
    pub academie_code: String,
}

pub async fn find_action(db: &Db, id: &str) -> CoreResult<Option<ActionRef>> {
    db.fetch_optional(
        Sql::new(
            "SELECT a.id, a.code, a.title, r.academie_code FROM roadmap_action a \
             JOIN roadmap r ON r.id = a.roadmap_id WHERE a.id = ",
        )
        .bind(id),
    )
    .await
}

// --- Comments ---------------------------------------------------------------------------------

pub async fn insert_comment(tx: &mut Tx, c: &Comment) -> CoreResult<()> {
    tx.execute(Sql::insert(
        "equip_comment",
        vec![
            ("id", c.id.as_str().into()),
            ("uai", c.uai.as_deref().into()),
            ("plan_id", c.plan_id.as_deref().into()),
            ("body", c.body.as_str().into()),
            ("author_id", c.author_id.as_deref().into()),
            ("author_label", c.author_label.as_str().into()),
            ("created_at", c.created_at.into()),
        ],
    ))
    .await?;
    Ok(())
}

/// The comments on a school (`uai`) or a plan (`plan_id`), oldest first.
pub async fn comments(db: &Db, column: CommentOn<'_>) -> CoreResult<Vec<Comment>> {
    let (name, value) = match column {
        CommentOn::School(uai) => ("uai", uai),
        CommentOn::Plan(id) => ("plan_id", id),
    };
    db.fetch_all(
        Sql::new(&format!(
            "SELECT id, uai, plan_id, body, author_id, author_label, created_at FROM equip_comment WHERE {name} = "
        ))
        .bind(value)
        .push(" ORDER BY created_at, id"),
    )
    .await
}

/// What a comment is about.
#[derive(Debug, Clone, Copy)]
pub enum CommentOn<'a> {
    School(&'a str),
    Plan(&'a str),
}
