//! Use-cases of the equipment domain.
//!
//! Who declares a school's inventory: the representative of the collectivité competent for
//! it (commune for an école, département for a collège, région for a lycée; or a
//! representative named on the school itself), and national administrators. Who reads it:
//! the readers of the school (its académie, its collectivité, the national level). Who
//! comments: the writers of the school's perimeter (the DAN and the rectorat, the
//! collectivité). Plans: read by the readers of the collectivité, written by its
//! representatives. Needs: a national project's by the national writers, an action's by its
//! académie's writers. Pupil counts: anyone who writes on the school. Every change is
//! audited in its transaction; a write over a stale version is a `Conflict`.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use time::{Date, OffsetDateTime};

use crate::audit;
use crate::db::Db;
use crate::error::{CoreError, CoreResult, FieldError};
use crate::identity::service::new_id;
use crate::identity::{Capability, Perimeter, Principal, Role};
use crate::money;
use crate::territory::ids::{Siren, Uai};
use crate::territory::model::{Page, PageRequest};
use crate::territory::repo as territory_repo;

use super::import;
use super::model::*;
use super::repo::{self, CommentOn, SchoolRef};
use crate::indicator::computed;

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// Today, in Paris.
pub fn today() -> Date {
    crate::paris::local(now()).date()
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> CoreError {
    CoreError::Validation(vec![FieldError::new(field, message)])
}

fn stale(what: &str) -> CoreError {
    CoreError::Conflict(format!(
        "{what} a été modifié(e) par quelqu'un d'autre entre-temps : rechargez et recommencez"
    ))
}

fn trimmed(field: &str, value: Option<&str>, max: usize, errors: &mut Vec<FieldError>) -> String {
    let value = value.unwrap_or("").trim();
    if value.chars().count() > max {
        errors.push(FieldError::new(field, format!("{max} caractères au plus")));
    }
    value.to_owned()
}

// --- Perimeters and rights --------------------------------------------------------------------

/// Reads a perimeter of analysis: `national`, `academie:14`, `departement:35` or
/// `collectivite:SIREN` (`BadRequest` naming `perimetre` otherwise).
pub fn parse_scope(text: &str) -> CoreResult<Scope> {
    match Perimeter::parse(text)? {
        Perimeter::National => Ok(Scope::National),
        Perimeter::Academie(c) => Ok(Scope::Academie(c)),
        Perimeter::Departement(c) => Ok(Scope::Departement(c)),
        Perimeter::Collectivite(s) => Ok(Scope::Collectivite(s)),
        _ => Err(CoreError::bad_request(
            "perimetre",
            "national, academie:CODE, departement:CODE ou collectivite:SIREN",
        )),
    }
}

/// The perimeter of a scope, for the rights.
pub fn scope_perimeter(scope: &Scope) -> Perimeter {
    match scope {
        Scope::National => Perimeter::National,
        Scope::Academie(c) => Perimeter::Academie(c.clone()),
        Scope::Departement(c) => Perimeter::Departement(c.clone()),
        Scope::Collectivite(s) => Perimeter::Collectivite(s.clone()),
    }
}

async fn check_scope(db: &Db, by: &Principal, scope: &Scope) -> CoreResult<()> {
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
    .await
}

/// Whether `by` may declare the inventory of `school` and plan for it: a national
/// administrator, or a representative of the competent collectivité (or of the school).
pub fn may_declare(by: &Principal, school: &SchoolRef) -> bool {
    !by.read_only
        && by.grants.iter().any(|g| match g.role {
            Role::AdministrateurNational => true,
            Role::RepresentantCollectivite => match &g.perimeter {
                Perimeter::Collectivite(s) => school.collectivite_siren.as_deref() == Some(s.as_str()),
                Perimeter::Etablissement(u) => *u == school.uai,
                _ => false,
            },
            _ => false,
        })
}

/// Whether `by` may edit the plans of the collectivité `siren`.
fn may_plan(by: &Principal, siren: &str) -> bool {
    !by.read_only
        && by.grants.iter().any(|g| match g.role {
            Role::AdministrateurNational => true,
            Role::RepresentantCollectivite => g.perimeter == Perimeter::Collectivite(siren.to_owned()),
            _ => false,
        })
}

fn parse_uai(field: &str, text: &str) -> CoreResult<String> {
    Uai::parse(text)
        .map(Uai::into_string)
        .map_err(|e| CoreError::bad_request(field, e.to_string()))
}

async fn readable_school(db: &Db, by: &Principal, uai: &str) -> CoreResult<SchoolRef> {
    let uai = parse_uai("uai", uai)?;
    let school = repo::find_school(db, &uai)
        .await?
        .ok_or_else(|| CoreError::not_found("établissement", &uai))?;
    by.check(
        db,
        Capability::Read,
        &Perimeter::Etablissement(uai.clone()),
        "établissement",
        &uai,
    )
    .await?;
    Ok(school)
}

// --- Inventory --------------------------------------------------------------------------------

/// A school's inventory: current figures, history, pupils, ratio, planned lines, comments.
pub async fn inventory(db: &Db, by: &Principal, uai: &str) -> CoreResult<Inventory> {
    let school = readable_school(db, by, uai).await?;
    let all = repo::declarations(db, &school.uai).await?;
    let (current, history): (Vec<_>, Vec<_>) = all.into_iter().partition(|d| d.superseded_at.is_none());
    let terminals: i64 = current
        .iter()
        .filter(|d| Category::from_code(&d.category).is_some_and(Category::is_terminal))
        .filter_map(|d| d.quantity)
        .sum();
    let pupils = repo::latest_pupils(db, &school.uai).await?;
    let has_terminals = current
        .iter()
        .any(|d| Category::from_code(&d.category).is_some_and(Category::is_terminal));
    let ratio = pupils
        .as_ref()
        .filter(|_| has_terminals)
        .and_then(|p| per_100_x100(terminals, p.pupils));
    let can_comment = may_comment_school(db, by, &school).await?;
    Ok(Inventory {
        version: repo::inventory_version(db, &school.uai).await?,
        planned: repo::lines_for_school(db, &school.uai).await?,
        comments: repo::comments(db, CommentOn::School(&school.uai)).await?,
        can_declare: may_declare(by, &school),
        can_comment,
        uai: school.uai,
        nom: school.nom,
        famille: school.famille,
        collectivite_siren: school.collectivite_siren,
        collectivite_nom: school.collectivite_nom,
        current,
        history,
        pupils,
        terminals,
        terminals_per_100_pupils_x100: ratio,
    })
}

/// One page of the schools of a perimeter with their current figures.
pub async fn list_inventory(
    db: &Db,
    by: &Principal,
    scope: &Scope,
    page: PageRequest,
) -> CoreResult<Page<InventoryRow>> {
    check_scope(db, by, scope).await?;
    repo::inventory_rows(db, scope, page).await
}

/// A checked figure.
struct Figure {
    category: Category,
    quantity: Option<i64>,
    quantity_old: Option<i64>,
    maintainer: Option<String>,
    service_level: Option<String>,
    response_hours: Option<i64>,
    note: String,
}

fn check_figure(prefix: &str, f: &FigureInput, errors: &mut Vec<FieldError>) -> Option<Figure> {
    let before = errors.len();
    let field = |name: &str| format!("{prefix}.{name}");
    let category = match Category::parse(&f.category, &field("categorie")) {
        Ok(c) => Some(c),
        Err(CoreError::Validation(mut e)) => {
            errors.append(&mut e);
            None
        }
        Err(_) => None,
    };
    let negative = |q: Option<i64>| q.is_some_and(|q| q < 0);
    if negative(f.quantity) {
        errors.push(FieldError::new(
            field("quantite"),
            "une quantité ne peut pas être négative",
        ));
    }
    if negative(f.quantity_old) {
        errors.push(FieldError::new(
            field("quantitePlusDe5Ans"),
            "une quantité ne peut pas être négative",
        ));
    }
    if negative(f.response_hours) {
        errors.push(FieldError::new(
            field("delaiHeures"),
            "un délai ne peut pas être négatif",
        ));
    }
    let note = trimmed(&field("note"), f.note.as_deref(), 2_000, errors);
    let category = category?;
    let mut quantity = f.quantity;
    match category {
        c if c.is_count() => {
            if quantity.is_none() {
                errors.push(FieldError::new(field("quantite"), "obligatoire"));
            }
            if let (Some(q), Some(old)) = (quantity, f.quantity_old)
                && old > q
            {
                errors.push(FieldError::new(
                    field("quantitePlusDe5Ans"),
                    format!("{old} unités anciennes sur {q} au total : impossible"),
                ));
            }
        }
        Category::Wifi => {
            if !quantity.is_some_and(|q| (0..=100).contains(&q)) {
                errors.push(FieldError::new(
                    field("quantite"),
                    "part des salles couvertes, de 0 à 100 (%)",
                ));
            }
        }
        Category::Debit => {
            if let Some(band) = f.band.as_deref().filter(|b| !b.trim().is_empty()) {
                match BandwidthBand::parse(band, &field("tranche")) {
                    Ok(b) => quantity = Some(b.floor_mbps()),
                    Err(CoreError::Validation(mut e)) => errors.append(&mut e),
                    Err(_) => {}
                }
            } else if quantity.is_none() {
                errors.push(FieldError::new(
                    field("quantite"),
                    "débit en Mb/s (ou une tranche) obligatoire",
                ));
            }
        }
        Category::Ent => {
            if !matches!(quantity, Some(0 | 1)) {
                errors.push(FieldError::new(field("quantite"), "1 (ENT actif) ou 0"));
            }
        }
        _ => {
            // Maintenance: the arrangement, no count.
            quantity = None;
            match f.maintainer.as_deref() {
                None => errors.push(FieldError::new(field("mainteneur"), "obligatoire")),
                Some(m) => {
                    if let Err(CoreError::Validation(mut e)) = Maintainer::parse(m, &field("mainteneur")) {
                        errors.append(&mut e);
                    }
                }
            }
        }
    }
    let service_level = trimmed(&field("niveauService"), f.service_level.as_deref(), 200, errors);
    if errors.len() > before {
        return None;
    }
    let is_maintenance = category == Category::Maintenance;
    Some(Figure {
        category,
        quantity,
        quantity_old: if category.is_count() { f.quantity_old } else { None },
        maintainer: if is_maintenance {
            f.maintainer.as_deref().map(|m| m.trim().to_owned())
        } else {
            None
        },
        service_level: (is_maintenance && !service_level.is_empty()).then_some(service_level),
        response_hours: if is_maintenance { f.response_hours } else { None },
        note,
    })
}

fn check_as_of(field: &str, as_of: Option<Date>) -> CoreResult<Date> {
    let day = as_of.unwrap_or_else(today);
    if day > today() {
        return Err(invalid(
            field,
            format!("{day} est dans le futur : un inventaire décrit ce qui existe"),
        ));
    }
    Ok(day)
}

/// Declares figures of a school's inventory over the version read (`0` for a school that
/// has none yet). Each figure supersedes the current one of its category, which stays in
/// the history. The whole declaration is refused when one figure is wrong (field named
/// `valeurs[i].quantite`…).
pub async fn declare(
    db: &Db,
    by: &Principal,
    uai: &str,
    version: i64,
    input: &DeclarationInput,
) -> CoreResult<Inventory> {
    let school = readable_school(db, by, uai).await?;
    if !may_declare(by, &school) {
        return Err(CoreError::Forbidden);
    }
    let mut errors = Vec::new();
    let as_of = match check_as_of("date", input.as_of) {
        Ok(d) => d,
        Err(CoreError::Validation(mut e)) => {
            errors.append(&mut e);
            today()
        }
        Err(e) => return Err(e),
    };
    let source = trimmed("source", input.source.as_deref(), 200, &mut errors);
    let source = if source.is_empty() {
        "déclaration".to_owned()
    } else {
        source
    };
    if input.figures.is_empty() {
        errors.push(FieldError::new("valeurs", "au moins une valeur"));
    }
    let mut figures = Vec::new();
    let mut seen = BTreeSet::new();
    for (i, f) in input.figures.iter().enumerate() {
        if let Some(figure) = check_figure(&format!("valeurs[{i}]"), f, &mut errors) {
            if !seen.insert(figure.category) {
                errors.push(FieldError::new(
                    format!("valeurs[{i}].categorie"),
                    "catégorie déjà déclarée plus haut",
                ));
            }
            figures.push(figure);
        }
    }
    if !errors.is_empty() {
        return Err(CoreError::Validation(errors));
    }
    if repo::inventory_version(db, &school.uai).await? != version {
        return Err(stale("L'inventaire"));
    }
    let stamp = now();
    let mut tx = db.begin().await?;
    if !repo::bump_inventory(&mut tx, &school.uai, version, stamp).await? {
        return Err(stale("L'inventaire"));
    }
    for f in figures {
        let d = Declaration {
            id: new_id(),
            uai: school.uai.clone(),
            category: f.category.as_str().to_owned(),
            quantity: f.quantity,
            quantity_old: f.quantity_old,
            maintainer: f.maintainer,
            service_level: f.service_level,
            response_hours: f.response_hours,
            as_of,
            source: source.clone(),
            note: f.note,
            declared_by: Some(by.user.id.clone()),
            created_at: stamp,
            superseded_at: None,
        };
        write_declaration(&mut tx, &by.actor(), "declarer", &d, stamp).await?;
    }
    repo::refresh_figures(&mut tx, std::slice::from_ref(&school.uai)).await?;
    computed::refresh_schools(&mut tx, std::slice::from_ref(&school.uai), today()).await?;
    tx.commit().await?;
    inventory(db, by, &school.uai).await
}

/// Supersedes the current figure of the category and writes `d`, with its audit entry.
async fn write_declaration(
    tx: &mut crate::db::Tx,
    actor: &audit::Actor,
    action: &str,
    d: &Declaration,
    stamp: OffsetDateTime,
) -> CoreResult<()> {
    let before = repo::current_declaration(tx, &d.uai, &d.category).await?;
    repo::supersede(tx, &d.uai, &d.category, stamp).await?;
    repo::insert_declaration(tx, d).await?;
    audit::record(
        tx,
        actor,
        action,
        "equipement",
        &format!("{}/{}", d.uai, d.category),
        before.as_ref().map(Declaration::audit_json).as_ref(),
        Some(&d.audit_json()),
    )
    .await?;
    Ok(())
}

/// Whether `by` may comment on a school's equipment: the writers of its perimeter (DAN,
/// rectorat, collectivité), never a read-only token.
async fn may_comment_school(db: &Db, by: &Principal, school: &SchoolRef) -> CoreResult<bool> {
    Ok(!by.read_only
        && by
            .can(
                db,
                Capability::Write,
                &Perimeter::Etablissement(school.uai.clone()),
            )
            .await?)
}

/// Comments on a school's equipment (those [`Inventory::can_comment`] lets).
pub async fn comment_school(db: &Db, by: &Principal, uai: &str, body: &str) -> CoreResult<Comment> {
    let school = readable_school(db, by, uai).await?;
    if !may_comment_school(db, by, &school).await? {
        return Err(CoreError::Forbidden);
    }
    add_comment(db, by, Some(school.uai), None, body).await
}

async fn add_comment(
    db: &Db,
    by: &Principal,
    uai: Option<String>,
    plan_id: Option<String>,
    body: &str,
) -> CoreResult<Comment> {
    let body = body.trim();
    if body.is_empty() {
        return Err(invalid("texte", "obligatoire"));
    }
    if body.chars().count() > 5_000 {
        return Err(invalid("texte", "5000 caractères au plus"));
    }
    let c = Comment {
        id: new_id(),
        uai,
        plan_id,
        body: body.to_owned(),
        author_id: Some(by.user.id.clone()),
        author_label: by.user.display_name.clone(),
        created_at: now(),
    };
    let object = c.uai.clone().or_else(|| c.plan_id.clone()).unwrap_or_default();
    let mut tx = db.begin().await?;
    repo::insert_comment(&mut tx, &c).await?;
    audit::record(
        &mut tx,
        &by.actor(),
        "commenter",
        if c.uai.is_some() {
            "equipement"
        } else {
            "plan-equipement"
        },
        &object,
        None,
        Some(&serde_json::json!({ "commentaire": c.id, "texte": c.body })),
    )
    .await?;
    tx.commit().await?;
    Ok(c)
}

/// Whether `by` may write anything at all (an import needs some writing role).
fn writes_somewhere(by: &Principal, roles: &[Role]) -> bool {
    !by.read_only && by.grants.iter().any(|g| roles.contains(&g.role))
}

/// Imports an itemised inventory (one line per device, CSV): lines are refused with their
/// number and column (unknown UAI, school outside the caller's competence, unknown type,
/// negative quantity, impossible or future purchase date); the good ones are aggregated
/// into counts per school and category (units, and units older than 5 years on `as_of`),
/// each superseding the school's current figure of that category.
pub async fn import_itemised(
    db: &Db,
    by: &Principal,
    bytes: &[u8],
    as_of: Option<Date>,
    source: Option<&str>,
) -> CoreResult<ImportReport> {
    if !writes_somewhere(
        by,
        &[Role::AdministrateurNational, Role::RepresentantCollectivite],
    ) {
        return Err(CoreError::Forbidden);
    }
    let as_of = check_as_of("date", as_of)?;
    let source = source
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .unwrap_or("import d'inventaire détaillé");
    if source.chars().count() > 200 {
        return Err(invalid("source", "200 caractères au plus"));
    }
    let parsed = import::parse_itemised(bytes, as_of).map_err(|e| CoreError::Validation(vec![e]))?;
    let mut report = ImportReport {
        lines: parsed.lines,
        rejected: parsed.rejected,
        ..ImportReport::default()
    };
    let schools = schools_of(db, parsed.rows.iter().map(|r| r.uai.clone())).await?;
    let mut kept = Vec::with_capacity(parsed.rows.len());
    for item in parsed.rows {
        match schools.get(&item.uai) {
            None => report.rejected.push(FieldError::new(
                format!("ligne {} : uai", item.line),
                format!("{} est inconnu du référentiel", item.uai),
            )),
            Some(school) if !may_declare(by, school) => report.rejected.push(FieldError::new(
                format!("ligne {} : uai", item.line),
                format!(
                    "{} ({}) n'est pas de la compétence de votre collectivité",
                    school.uai, school.nom
                ),
            )),
            Some(_) => kept.push(item),
        }
    }
    report.rejected.sort_by_key(|e| line_of(&e.field));
    report.accepted = u64::try_from(kept.len()).unwrap_or(u64::MAX);
    let counts = import::aggregate(&kept, as_of);
    let stamp = now();
    let actor = by.actor();
    let mut tx = db.begin().await?;
    let mut schools_written = BTreeSet::new();
    for ((uai, category), (quantity, old)) in counts {
        if schools_written.insert(uai.clone()) {
            repo::touch_inventory(&mut tx, &uai, stamp).await?;
        }
        let d = Declaration {
            id: new_id(),
            uai,
            category: category.as_str().to_owned(),
            quantity: Some(quantity),
            quantity_old: Some(old),
            maintainer: None,
            service_level: None,
            response_hours: None,
            as_of,
            source: source.to_owned(),
            note: String::new(),
            declared_by: Some(by.user.id.clone()),
            created_at: stamp,
            superseded_at: None,
        };
        write_declaration(&mut tx, &actor, "importer", &d, stamp).await?;
    }
    let written: Vec<String> = schools_written.iter().cloned().collect();
    repo::refresh_figures(&mut tx, &written).await?;
    computed::refresh_schools(&mut tx, &written, today()).await?;
    tx.commit().await?;
    report.schools = u64::try_from(schools_written.len()).unwrap_or(u64::MAX);
    Ok(report)
}

fn line_of(field: &str) -> u64 {
    field
        .strip_prefix("ligne ")
        .and_then(|r| r.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

async fn schools_of(db: &Db, uais: impl Iterator<Item = String>) -> CoreResult<HashMap<String, SchoolRef>> {
    let distinct: Vec<String> = uais.collect::<BTreeSet<_>>().into_iter().collect();
    Ok(repo::find_schools(db, &distinct)
        .await?
        .into_iter()
        .map(|s| (s.uai.clone(), s))
        .collect())
}

/// Imports pupil and class counts in the ministry's open-data format. A line is refused
/// (number and column named) for an unknown UAI, a school the caller does not write on, a
/// malformed or negative count; the good ones are written (replacing the same school and
/// year).
pub async fn import_pupils(db: &Db, by: &Principal, bytes: &[u8]) -> CoreResult<ImportReport> {
    if !writes_somewhere(
        by,
        &[
            Role::AdministrateurNational,
            Role::Recteur,
            Role::Dan,
            Role::MembreDane,
            Role::RepresentantCollectivite,
        ],
    ) {
        return Err(CoreError::Forbidden);
    }
    let parsed = import::parse_pupils(bytes).map_err(|e| CoreError::Validation(vec![e]))?;
    let mut report = ImportReport {
        lines: parsed.lines,
        rejected: parsed.rejected,
        ..ImportReport::default()
    };
    let schools = schools_of(db, parsed.rows.iter().map(|r| r.uai.clone())).await?;
    let mut departement_writes: HashMap<String, bool> = HashMap::new();
    let mut rows = Vec::with_capacity(parsed.rows.len());
    let mut seen = BTreeSet::new();
    for row in parsed.rows {
        let field = format!("ligne {} : Numéro de l'école", row.line);
        let Some(school) = schools.get(&row.uai) else {
            report.rejected.push(FieldError::new(
                field,
                format!("{} est inconnu du référentiel", row.uai),
            ));
            continue;
        };
        let allowed = if may_declare(by, school) {
            true
        } else if let Some(&known) = departement_writes.get(&school.code_departement) {
            known
        } else {
            let can = by
                .can(
                    db,
                    Capability::Write,
                    &Perimeter::Departement(school.code_departement.clone()),
                )
                .await?;
            departement_writes.insert(school.code_departement.clone(), can);
            can
        };
        if !allowed {
            report.rejected.push(FieldError::new(
                field,
                format!("{} ({}) est hors de votre périmètre", school.uai, school.nom),
            ));
            continue;
        }
        if !seen.insert((row.uai.clone(), row.school_year)) {
            report.rejected.push(FieldError::new(
                format!("ligne {} : Rentrée scolaire", row.line),
                format!("{} {} figure déjà plus haut", row.uai, row.school_year),
            ));
            continue;
        }
        rows.push(Pupils {
            uai: row.uai,
            school_year: row.school_year,
            classes: row.classes,
            pupils: row.pupils,
            pupils_cm: row.pupils_cm,
            source: "fr-en-ecoles-effectifs-nb_classes".to_owned(),
        });
    }
    report.rejected.sort_by_key(|e| line_of(&e.field));
    report.accepted = u64::try_from(rows.len()).unwrap_or(u64::MAX);
    report.schools = u64::try_from(rows.iter().map(|r| &r.uai).collect::<BTreeSet<_>>().len()).unwrap_or(0);
    let years: BTreeSet<i64> = rows.iter().map(|r| r.school_year).collect();
    let stamp = now();
    let mut tx = db.begin().await?;
    repo::upsert_pupils(&mut tx, &rows, Some(&by.user.id), stamp).await?;
    let uais: Vec<String> = rows
        .iter()
        .map(|r| r.uai.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    repo::refresh_figures(&mut tx, &uais).await?;
    computed::refresh_schools(&mut tx, &uais, today()).await?;
    audit::record(
        &mut tx,
        &by.actor(),
        "importer",
        "effectifs",
        &format!("{}", stamp.unix_timestamp()),
        None,
        Some(&serde_json::json!({
            "lignes": report.accepted, "etablissements": report.schools, "rentrees": years,
            "refusees": report.rejected.len(),
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(report)
}

/// Terminals per 100 pupils per school, département or académie of a perimeter, over the
/// schools where both figures are known.
pub async fn ratios(db: &Db, by: &Principal, scope: &Scope, level: RatioLevel) -> CoreResult<Vec<Ratio>> {
    check_scope(db, by, scope).await?;
    repo::ratios(db, scope, level).await
}

// --- Plans ------------------------------------------------------------------------------------

fn plan_audit(p: &Plan, lines: &[PlanLine], contracts: &[Contract]) -> serde_json::Value {
    serde_json::json!({
        "collectivite": p.collectivite_siren, "titre": p.title, "annees": [p.first_year, p.last_year],
        "note": p.note,
        "lignes": lines.iter().map(|l| serde_json::json!({
            "annee": l.year, "echeance": l.due_date.to_string(), "uai": l.uai, "groupe": l.group_label,
            "action": l.action, "categorie": l.category, "quantite": l.quantity,
            "budget": money::decimal(l.budget_cents), "financement": l.funding, "programme": l.programme,
            "cofinance": money::decimal(l.cofunded_cents), "engagement": l.commitment_id, "statut": l.status,
            "livreLe": l.delivered_on.map(|d| d.to_string()),
        })).collect::<Vec<_>>(),
        "contrats": contracts.iter().map(|c| serde_json::json!({
            "prestataire": c.contractor, "objet": c.object, "debut": c.start_date.to_string(),
            "fin": c.end_date.to_string(), "niveauService": c.service_level, "delaiHeures": c.response_hours,
            "montantAnnuel": money::decimal(c.annual_cents), "engagement": c.commitment_id,
        })).collect::<Vec<_>>(),
    })
}

fn amount(field: &str, text: Option<&str>, errors: &mut Vec<FieldError>) -> i64 {
    match text.map(str::trim).filter(|t| !t.is_empty()) {
        None => 0,
        Some(t) => match money::parse_euros(t) {
            Some(c) if c <= 100_000_000_000_000 => c,
            _ => {
                errors.push(FieldError::new(
                    field,
                    format!("« {t} » : montant en euros positif attendu (12 000,50)"),
                ));
                0
            }
        },
    }
}

async fn check_line(
    db: &Db,
    plan: &Plan,
    i: usize,
    l: &PlanLineInput,
    schools: &HashMap<String, SchoolRef>,
) -> CoreResult<Result<PlanLine, Vec<FieldError>>> {
    let mut errors = Vec::new();
    let f = |name: &str| format!("lignes[{i}].{name}");
    let year = match l.year {
        Some(y) if (plan.first_year..=plan.last_year).contains(&y) => y,
        Some(y) => {
            errors.push(FieldError::new(
                f("annee"),
                format!(
                    "{y} hors des années du plan ({}-{})",
                    plan.first_year, plan.last_year
                ),
            ));
            y
        }
        None => {
            errors.push(FieldError::new(f("annee"), "obligatoire"));
            plan.first_year
        }
    };
    let due_date = match l.due_date {
        Some(d) if i64::from(d.year()) != year => {
            errors.push(FieldError::new(
                f("echeance"),
                format!("{d} n'est pas dans l'année {year} de la ligne"),
            ));
            d
        }
        Some(d) => d,
        None => i32::try_from(year)
            .ok()
            .and_then(|y| Date::from_calendar_date(y, time::Month::December, 31).ok())
            .unwrap_or_else(today),
    };
    let uai = l.uai.as_deref().map(str::trim).filter(|u| !u.is_empty());
    let group = l.group_label.as_deref().map(str::trim).filter(|g| !g.is_empty());
    let uai = match (uai, group) {
        (Some(_), Some(_)) => {
            errors.push(FieldError::new(
                f("uai"),
                "un établissement ou un groupe, pas les deux",
            ));
            None
        }
        (None, None) => {
            errors.push(FieldError::new(
                f("uai"),
                "un établissement (UAI) ou un groupe est obligatoire",
            ));
            None
        }
        (Some(u), None) => match Uai::parse(u) {
            Err(e) => {
                errors.push(FieldError::new(f("uai"), e.to_string()));
                None
            }
            Ok(u) => {
                let u = u.into_string();
                match schools.get(&u) {
                    None => errors.push(FieldError::new(
                        f("uai"),
                        format!("{u} est inconnu du référentiel"),
                    )),
                    Some(s) if s.collectivite_siren.as_deref() != Some(plan.collectivite_siren.as_str()) => {
                        errors.push(FieldError::new(
                            f("uai"),
                            format!(
                                "{u} ({}) n'est pas de la compétence de la collectivité du plan",
                                s.nom
                            ),
                        ))
                    }
                    Some(_) => {}
                }
                Some(u)
            }
        },
        (None, Some(g)) => {
            if g.chars().count() > 200 {
                errors.push(FieldError::new(f("groupe"), "200 caractères au plus"));
            }
            None
        }
    };
    let mut parse_into = |r: CoreResult<()>| {
        if let Err(CoreError::Validation(mut e)) = r {
            errors.append(&mut e);
        }
    };
    let action = l.action.as_deref().unwrap_or("acquisition");
    parse_into(PlanAction::parse(action, &f("action")).map(|_| ()));
    let category = l.category.as_deref().unwrap_or("");
    parse_into(Category::parse(category, &f("categorie")).map(|_| ()));
    let funding = l.funding.as_deref().unwrap_or("fonds-propres");
    parse_into(Funding::parse(funding, &f("financement")).map(|_| ()));
    let status = l.status.as_deref().unwrap_or("prevu");
    parse_into(LineStatus::parse(status, &f("statut")).map(|_| ()));
    let quantity = match l.quantity {
        Some(q) if q < 0 => {
            errors.push(FieldError::new(
                f("quantite"),
                "une quantité ne peut pas être négative",
            ));
            0
        }
        Some(q) => q,
        None => {
            errors.push(FieldError::new(f("quantite"), "obligatoire"));
            0
        }
    };
    let budget = amount(&f("budget"), l.budget.as_deref(), &mut errors);
    let cofunded = amount(&f("cofinance"), l.cofunded.as_deref(), &mut errors);
    if cofunded > budget {
        errors.push(FieldError::new(
            f("cofinance"),
            "la part cofinancée dépasse le budget",
        ));
    }
    if status == "livre" && l.delivered_on.is_none() {
        errors.push(FieldError::new(f("livreLe"), "obligatoire pour une ligne livrée"));
    }
    if let Some(d) = l.delivered_on {
        if status != "livre" {
            errors.push(FieldError::new(f("livreLe"), "seulement pour une ligne livrée"));
        } else if d > today() {
            errors.push(FieldError::new(f("livreLe"), format!("{d} est dans le futur")));
        }
    }
    let programme = trimmed(&f("programme"), l.programme.as_deref(), 200, &mut errors);
    let commitment = l
        .commitment_id
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    if let Some(c) = commitment
        && !repo::commitment_of_party(db, c, &plan.collectivite_siren).await?
    {
        errors.push(FieldError::new(
            f("engagement"),
            "engagement inconnu, ou d'une convention dont la collectivité n'est pas partie",
        ));
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    Ok(Ok(PlanLine {
        id: new_id(),
        plan_id: plan.id.clone(),
        position: 0,
        year,
        due_date,
        uai,
        group_label: group.map(str::to_owned),
        action: action.trim().to_owned(),
        category: category.trim().to_owned(),
        quantity,
        budget_cents: budget,
        funding: funding.trim().to_owned(),
        programme,
        cofunded_cents: cofunded,
        commitment_id: commitment.map(str::to_owned),
        status: status.trim().to_owned(),
        delivered_on: l.delivered_on,
    }))
}

async fn check_contract(
    db: &Db,
    plan: &Plan,
    i: usize,
    c: &ContractInput,
) -> CoreResult<Result<Contract, Vec<FieldError>>> {
    let mut errors = Vec::new();
    let f = |name: &str| format!("contrats[{i}].{name}");
    let contractor = trimmed(&f("prestataire"), c.contractor.as_deref(), 200, &mut errors);
    if contractor.is_empty() {
        errors.push(FieldError::new(f("prestataire"), "obligatoire"));
    }
    let object = trimmed(&f("objet"), c.object.as_deref(), 500, &mut errors);
    if object.is_empty() {
        errors.push(FieldError::new(f("objet"), "obligatoire"));
    }
    let (start, end) = match (c.start_date, c.end_date) {
        (Some(s), Some(e)) if e < s => {
            errors.push(FieldError::new(f("fin"), format!("{e} est avant le début ({s})")));
            (s, e)
        }
        (Some(s), Some(e)) => (s, e),
        (s, e) => {
            if s.is_none() {
                errors.push(FieldError::new(f("debut"), "obligatoire"));
            }
            if e.is_none() {
                errors.push(FieldError::new(f("fin"), "obligatoire"));
            }
            (today(), today())
        }
    };
    if c.response_hours.is_some_and(|h| h < 0) {
        errors.push(FieldError::new(
            f("delaiHeures"),
            "un délai ne peut pas être négatif",
        ));
    }
    let service_level = trimmed(&f("niveauService"), c.service_level.as_deref(), 200, &mut errors);
    let annual = amount(&f("montantAnnuel"), c.annual.as_deref(), &mut errors);
    let commitment = c
        .commitment_id
        .as_deref()
        .map(str::trim)
        .filter(|c| !c.is_empty());
    if let Some(k) = commitment
        && !repo::commitment_of_party(db, k, &plan.collectivite_siren).await?
    {
        errors.push(FieldError::new(
            f("engagement"),
            "engagement inconnu, ou d'une convention dont la collectivité n'est pas partie",
        ));
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    Ok(Ok(Contract {
        id: new_id(),
        plan_id: plan.id.clone(),
        position: 0,
        contractor,
        object,
        start_date: start,
        end_date: end,
        service_level,
        response_hours: c.response_hours,
        annual_cents: annual,
        commitment_id: commitment.map(str::to_owned),
    }))
}

/// Applies the plan's own fields (all-or-nothing) and checks its lines and contracts one by
/// one (the good ones kept, the others named in `rejected`).
async fn apply_plan(
    db: &Db,
    plan: &mut Plan,
    input: &PlanInput,
) -> CoreResult<(Vec<PlanLine>, Vec<Contract>, Vec<FieldError>)> {
    let mut errors = Vec::new();
    if let Some(title) = &input.title {
        plan.title = trimmed("titre", Some(title), 200, &mut errors);
    }
    if plan.title.is_empty() {
        errors.push(FieldError::new("titre", "obligatoire"));
    }
    if let Some(note) = &input.note {
        plan.note = trimmed("note", Some(note), 10_000, &mut errors);
    }
    if let Some(y) = input.first_year {
        plan.first_year = y;
    }
    if let Some(y) = input.last_year {
        plan.last_year = y;
    }
    if !(2000..=2100).contains(&plan.first_year) {
        errors.push(FieldError::new("premiereAnnee", "année entre 2000 et 2100"));
    }
    if plan.last_year < plan.first_year || plan.last_year > plan.first_year + 20 {
        errors.push(FieldError::new(
            "derniereAnnee",
            "après la première année, sur 20 ans au plus",
        ));
    }
    if input.lines.len() > 5_000 {
        errors.push(FieldError::new("lignes", "5000 lignes au plus"));
    }
    if input.contracts.len() > 200 {
        errors.push(FieldError::new("contrats", "200 contrats au plus"));
    }
    if !errors.is_empty() {
        return Err(CoreError::Validation(errors));
    }
    let schools = schools_of(
        db,
        input
            .lines
            .iter()
            .filter_map(|l| l.uai.as_deref().and_then(|u| Uai::parse(u).ok()))
            .map(Uai::into_string),
    )
    .await?;
    let mut rejected = Vec::new();
    let mut lines = Vec::new();
    for (i, l) in input.lines.iter().enumerate() {
        match check_line(db, plan, i, l, &schools).await? {
            Ok(mut line) => {
                line.position = i64::try_from(lines.len()).unwrap_or(i64::MAX);
                lines.push(line);
            }
            Err(mut e) => rejected.append(&mut e),
        }
    }
    let mut contracts = Vec::new();
    for (i, c) in input.contracts.iter().enumerate() {
        match check_contract(db, plan, i, c).await? {
            Ok(mut contract) => {
                contract.position = i64::try_from(contracts.len()).unwrap_or(i64::MAX);
                contracts.push(contract);
            }
            Err(mut e) => rejected.append(&mut e),
        }
    }
    Ok((lines, contracts, rejected))
}

/// Creates a collectivité's plan. Lines for a school outside its competence, an unknown
/// UAI, a negative quantity or budget, an impossible date are refused and named
/// (`lignes[3].uai`); the others are kept.
pub async fn create_plan(db: &Db, by: &Principal, input: &PlanInput) -> CoreResult<Saved<PlanView>> {
    let siren = input
        .collectivite_siren
        .as_deref()
        .ok_or_else(|| invalid("collectivite", "obligatoire"))?;
    let siren = Siren::parse(siren)
        .map_err(|e| CoreError::bad_request("collectivite", e.to_string()))?
        .into_string();
    if territory_repo::find_collectivite(db, &siren).await?.is_none() {
        return Err(invalid(
            "collectivite",
            format!("{siren} est absente du référentiel"),
        ));
    }
    by.check(
        db,
        Capability::Read,
        &Perimeter::Collectivite(siren.clone()),
        "collectivité",
        &siren,
    )
    .await?;
    if !may_plan(by, &siren) {
        return Err(CoreError::Forbidden);
    }
    let stamp = now();
    let year = i64::from(today().year());
    let mut plan = Plan {
        id: new_id(),
        collectivite_siren: siren,
        title: String::new(),
        first_year: year,
        last_year: year,
        note: String::new(),
        created_by: Some(by.user.id.clone()),
        version: 1,
        created_at: stamp,
        updated_at: stamp,
    };
    let (lines, contracts, rejected) = apply_plan(db, &mut plan, input).await?;
    let mut tx = db.begin().await?;
    repo::insert_plan(&mut tx, &plan).await?;
    repo::replace_children(&mut tx, &plan.id, &lines, &contracts).await?;
    audit::record(
        &mut tx,
        &by.actor(),
        "creer",
        "plan-equipement",
        &plan.id,
        None,
        Some(&plan_audit(&plan, &lines, &contracts)),
    )
    .await?;
    tx.commit().await?;
    Ok(Saved {
        value: plan_view(db, by, plan).await?,
        rejected,
    })
}

async fn readable_plan(db: &Db, by: &Principal, id: &str) -> CoreResult<Plan> {
    let plan = repo::find_plan(db, id)
        .await?
        .ok_or_else(|| CoreError::not_found("plan", id))?;
    by.check(
        db,
        Capability::Read,
        &Perimeter::Collectivite(plan.collectivite_siren.clone()),
        "plan",
        id,
    )
    .await?;
    Ok(plan)
}

/// Rewrites a plan whole over the version read (lines and contracts replaced; the bad lines
/// refused and named, the good ones kept).
pub async fn update_plan(
    db: &Db,
    by: &Principal,
    id: &str,
    version: i64,
    input: &PlanInput,
) -> CoreResult<Saved<PlanView>> {
    let current = readable_plan(db, by, id).await?;
    if !may_plan(by, &current.collectivite_siren) {
        return Err(CoreError::Forbidden);
    }
    if current.version != version {
        return Err(stale("Le plan"));
    }
    if input
        .collectivite_siren
        .as_deref()
        .is_some_and(|s| s.trim() != current.collectivite_siren)
    {
        return Err(invalid("collectivite", "un plan ne change pas de collectivité"));
    }
    let before_lines = repo::plan_lines(db, id).await?;
    let before_contracts = repo::plan_contracts(db, id).await?;
    let mut plan = current.clone();
    let (lines, contracts, rejected) = apply_plan(db, &mut plan, input).await?;
    plan.updated_at = now();
    let mut tx = db.begin().await?;
    if !repo::update_plan(&mut tx, &plan, version).await? {
        return Err(stale("Le plan"));
    }
    plan.version = version + 1;
    repo::replace_children(&mut tx, &plan.id, &lines, &contracts).await?;
    audit::record(
        &mut tx,
        &by.actor(),
        "modifier",
        "plan-equipement",
        &plan.id,
        Some(&plan_audit(&current, &before_lines, &before_contracts)),
        Some(&plan_audit(&plan, &lines, &contracts)),
    )
    .await?;
    tx.commit().await?;
    Ok(Saved {
        value: plan_view(db, by, plan).await?,
        rejected,
    })
}

async fn plan_view(db: &Db, by: &Principal, plan: Plan) -> CoreResult<PlanView> {
    let lines = repo::plan_lines(db, &plan.id).await?;
    let contracts = repo::plan_contracts(db, &plan.id).await?;
    let mut totals: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for l in lines.iter().filter(|l| l.status != LineStatus::Annule.as_str()) {
        let t = totals.entry(l.year).or_default();
        t.0 = t.0.saturating_add(l.budget_cents);
        t.1 = t.1.saturating_add(l.cofunded_cents);
    }
    let collectivite_nom = territory_repo::find_collectivite(db, &plan.collectivite_siren)
        .await?
        .map_or_else(|| plan.collectivite_siren.clone(), |c| c.nom);
    Ok(PlanView {
        comments: repo::comments(db, CommentOn::Plan(&plan.id)).await?,
        can_edit: may_plan(by, &plan.collectivite_siren),
        can_comment: may_comment_plan(db, by, &plan).await?,
        collectivite_nom,
        lines,
        contracts,
        totals: totals
            .into_iter()
            .map(|(year, (budget_cents, cofunded_cents))| YearTotal {
                year,
                budget_cents,
                cofunded_cents,
            })
            .collect(),
        plan,
    })
}

/// A plan with its lines, contracts, totals per year and comments.
pub async fn plan(db: &Db, by: &Principal, id: &str) -> CoreResult<PlanView> {
    let plan = readable_plan(db, by, id).await?;
    plan_view(db, by, plan).await
}

/// The plans `by` may read (of one collectivité, or all), with their collectivité's name.
pub async fn plans(db: &Db, by: &Principal, siren: Option<&str>) -> CoreResult<Vec<(Plan, String)>> {
    let siren = match siren.map(str::trim).filter(|s| !s.is_empty()) {
        Some(s) => Some(
            Siren::parse(s)
                .map_err(|e| CoreError::bad_request("collectivite", e.to_string()))?
                .into_string(),
        ),
        None => None,
    };
    let mut readable: HashMap<String, Option<String>> = HashMap::new();
    let mut out = Vec::new();
    for plan in repo::list_plans(db, siren.as_deref()).await? {
        if !readable.contains_key(&plan.collectivite_siren) {
            let can = by
                .can(
                    db,
                    Capability::Read,
                    &Perimeter::Collectivite(plan.collectivite_siren.clone()),
                )
                .await?;
            let name = if can {
                Some(
                    territory_repo::find_collectivite(db, &plan.collectivite_siren)
                        .await?
                        .map_or_else(|| plan.collectivite_siren.clone(), |c| c.nom),
                )
            } else {
                None
            };
            readable.insert(plan.collectivite_siren.clone(), name);
        }
        if let Some(Some(name)) = readable.get(&plan.collectivite_siren) {
            let name = name.clone();
            out.push((plan, name));
        }
    }
    Ok(out)
}

/// Whether `by` may comment on a plan: the writers of its collectivité's perimeter (its
/// representatives, the DAN and the rectorat of its académie), never a read-only token.
async fn may_comment_plan(db: &Db, by: &Principal, plan: &Plan) -> CoreResult<bool> {
    Ok(!by.read_only
        && by
            .can(
                db,
                Capability::Write,
                &Perimeter::Collectivite(plan.collectivite_siren.clone()),
            )
            .await?)
}

/// Comments on a plan (those [`PlanView::can_comment`] lets).
pub async fn comment_plan(db: &Db, by: &Principal, id: &str, body: &str) -> CoreResult<Comment> {
    let plan = readable_plan(db, by, id).await?;
    if !may_comment_plan(db, by, &plan).await? {
        return Err(CoreError::Forbidden);
    }
    add_comment(db, by, None, Some(plan.id), body).await
}

// --- Needs ------------------------------------------------------------------------------------

/// The perimeter whose writers write a need: the nation for a project's, its académie for
/// an action's.
fn need_perimeter(need: &Need) -> Perimeter {
    match need.academie_code.as_deref() {
        Some(academie) => Perimeter::Academie(academie.to_owned()),
        None => Perimeter::National,
    }
}

/// Whether `by` may write a need (a project's: the national writers; an action's: its
/// académie's writers), never with a read-only token.
pub async fn may_write_need(db: &Db, by: &Principal, need: &Need) -> CoreResult<bool> {
    by.can(db, Capability::Write, &need_perimeter(need)).await
}

/// Checks that `by` may write the needs of a subject: `NotFound` when an action's
/// académie is not even readable, `Forbidden` when it is read only.
async fn check_need_writer(db: &Db, by: &Principal, need: &Need) -> CoreResult<()> {
    if need.academie_code.is_some() {
        by.check(db, Capability::Write, &need_perimeter(need), "besoin", &need.id)
            .await
    } else if may_write_need(db, by, need).await? {
        Ok(())
    } else {
        Err(CoreError::Forbidden)
    }
}

async fn can_read_need(db: &Db, by: &Principal, need: &Need) -> CoreResult<bool> {
    match need.academie_code.as_deref() {
        Some(academie) => {
            by.can(db, Capability::Read, &Perimeter::Academie(academie.to_owned()))
                .await
        }
        None => Ok(true),
    }
}

async fn apply_need(db: &Db, need: &mut Need, input: &NeedInput) -> CoreResult<()> {
    let mut errors = Vec::new();
    if let Some(target) = &input.target {
        match Perimeter::parse(target) {
            Ok(p) => {
                let exists = match &p {
                    Perimeter::National => true,
                    Perimeter::Academie(c) => territory_repo::find_academie(db, c).await?.is_some(),
                    Perimeter::Departement(c) => territory_repo::find_departement(db, c).await?.is_some(),
                    Perimeter::Collectivite(s) => territory_repo::find_collectivite(db, s).await?.is_some(),
                    Perimeter::Etablissement(u) => repo::find_school(db, u).await?.is_some(),
                    _ => false,
                };
                if !exists {
                    errors.push(FieldError::new("cible", format!("« {p} » est absent du référentiel")));
                } else if let Some(academie) = &need.academie_code {
                    // An action's need stays within its académie.
                    let inside = match &p {
                        Perimeter::Academie(c) => c == academie,
                        Perimeter::Departement(c) => territory_repo::find_departement(db, c)
                            .await?
                            .is_some_and(|d| d.code_academie.as_deref() == Some(academie.as_str())),
                        Perimeter::Etablissement(u) => repo::find_school(db, u)
                            .await?
                            .is_some_and(|s| s.code_academie.as_deref() == Some(academie.as_str())),
                        Perimeter::Collectivite(_) => true,
                        _ => false,
                    };
                    if !inside {
                        errors.push(FieldError::new(
                            "cible",
                            format!("« {p} » dépasse l'académie {academie} de l'action"),
                        ));
                    }
                }
                need.target_kind = p.kind().to_owned();
                need.target_code = p.code().to_owned();
            }
            Err(_) => errors.push(FieldError::new(
                "cible",
                format!("« {target} » : national, academie:CODE, departement:CODE, collectivite:SIREN ou etablissement:UAI"),
            )),
        }
    }
    if let Some(famille) = &input.famille {
        let famille = famille.trim();
        if famille.is_empty() {
            need.famille = None;
        } else if matches!(famille, "ecole" | "college" | "lycee" | "erea") {
            need.famille = Some(famille.to_owned());
        } else {
            errors.push(FieldError::new(
                "famille",
                "ecole, college, lycee, erea (ou vide)",
            ));
        }
    }
    if let Some(category) = &input.category {
        need.category = category.trim().to_owned();
    }
    if let Some(rule) = &input.rule {
        need.rule = rule.trim().to_owned();
    }
    if let Some(threshold) = input.threshold {
        need.threshold = threshold;
    }
    if let Some(needed_by) = input.needed_by {
        need.needed_by = needed_by;
    }
    if let Some(training) = &input.training {
        need.training = trimmed("formation", Some(training), 2_000, &mut errors);
    }
    if let Some(note) = &input.note {
        need.note = trimmed("note", Some(note), 2_000, &mut errors);
    }
    let category = if need.category == TERMINAUX {
        None
    } else {
        match Category::parse(&need.category, "categorie") {
            Ok(Category::Maintenance) => {
                errors.push(FieldError::new(
                    "categorie",
                    "la maintenance n'est pas un besoin chiffré",
                ));
                None
            }
            Ok(c) => Some(c),
            Err(_) => {
                errors.push(FieldError::new(
                    "categorie",
                    format!(
                        "« {} » : terminaux, une catégorie comptée, wifi, debit ou ent",
                        need.category
                    ),
                ));
                None
            }
        }
    };
    match NeedRule::parse(&need.rule, "regle") {
        Ok(rule) => {
            let level = category.is_some_and(|c| !c.is_count());
            if (rule == NeedRule::Minimum) != level && (need.category == TERMINAUX || category.is_some()) {
                errors.push(FieldError::new(
                    "regle",
                    if level {
                        "wifi, débit et ENT se comparent à un minimum"
                    } else {
                        "« minimum » vaut pour wifi, debit ou ent"
                    },
                ));
            }
            if need.threshold < 0 {
                errors.push(FieldError::new("seuil", "un seuil ne peut pas être négatif"));
            } else if matches!(rule, NeedRule::ElevesParUnite | NeedRule::ElevesCmParUnite)
                && need.threshold < 1
            {
                errors.push(FieldError::new("seuil", "au moins 1 élève par unité"));
            } else if category == Some(Category::Wifi) && need.threshold > 100 {
                errors.push(FieldError::new("seuil", "100 % au plus"));
            } else if category == Some(Category::Ent) && need.threshold > 1 {
                errors.push(FieldError::new("seuil", "1 (ENT actif)"));
            }
        }
        Err(CoreError::Validation(mut e)) => errors.append(&mut e),
        Err(e) => return Err(e),
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CoreError::Validation(errors))
    }
}

/// Declares what a national project (`projet:CODE`) or a roadmap action (`action:ID`) needs
/// in the schools it targets.
pub async fn create_need(db: &Db, by: &Principal, input: &NeedInput) -> CoreResult<Need> {
    let subject = input.subject.as_deref().map(str::trim).unwrap_or("");
    let (kind, id) = subject
        .split_once(':')
        .ok_or_else(|| invalid("sujet", "projet:CODE ou action:ID"))?;
    let kind = NeedSubject::parse(kind, "sujet")?;
    let (subject_id, label, academie) = match kind {
        NeedSubject::Projet => {
            let p = crate::strategy::repo::find_project(db, id.trim())
                .await?
                .ok_or_else(|| invalid("sujet", format!("projet « {id} » inconnu")))?;
            (p.id, format!("{} — {}", p.code, p.title), None)
        }
        NeedSubject::Action => {
            let a = repo::find_action(db, id.trim())
                .await?
                .ok_or_else(|| invalid("sujet", format!("action « {id} » inconnue")))?;
            (a.id, format!("{} — {}", a.code, a.title), Some(a.academie_code))
        }
    };
    let stamp = now();
    let mut need = Need {
        id: new_id(),
        subject_kind: kind.as_str().to_owned(),
        subject_id,
        subject_label: label,
        target_kind: String::new(),
        target_code: String::new(),
        famille: None,
        category: String::new(),
        rule: NeedRule::ParEtablissement.as_str().to_owned(),
        threshold: 1,
        needed_by: None,
        training: String::new(),
        note: String::new(),
        created_by: Some(by.user.id.clone()),
        version: 1,
        created_at: stamp,
        updated_at: stamp,
        academie_code: academie.clone(),
    };
    check_need_writer(db, by, &need).await?;
    if input.target.is_none() {
        // An action's need targets its académie unless told otherwise; a project's, France.
        match &academie {
            Some(a) => {
                need.target_kind = "academie".into();
                need.target_code = a.clone();
            }
            None => need.target_kind = "national".into(),
        }
    }
    apply_need(db, &mut need, input).await?;
    let mut tx = db.begin().await?;
    repo::insert_need(&mut tx, &need).await?;
    audit::record(
        &mut tx,
        &by.actor(),
        "creer",
        "besoin",
        &need.id,
        None,
        Some(&need.audit_json()),
    )
    .await?;
    tx.commit().await?;
    Ok(need)
}

/// Changes a need over the version read.
pub async fn update_need(
    db: &Db,
    by: &Principal,
    id: &str,
    version: i64,
    input: &NeedInput,
) -> CoreResult<Need> {
    let current = repo::find_need(db, id)
        .await?
        .ok_or_else(|| CoreError::not_found("besoin", id))?;
    if !can_read_need(db, by, &current).await? {
        return Err(CoreError::not_found("besoin", id));
    }
    check_need_writer(db, by, &current).await?;
    if current.version != version {
        return Err(stale("Le besoin"));
    }
    if input.subject.is_some() {
        return Err(invalid("sujet", "un besoin ne change pas de projet ou d'action"));
    }
    let mut need = current.clone();
    apply_need(db, &mut need, input).await?;
    need.updated_at = now();
    let mut tx = db.begin().await?;
    if !repo::update_need(&mut tx, &need, version).await? {
        return Err(stale("Le besoin"));
    }
    need.version = version + 1;
    audit::record(
        &mut tx,
        &by.actor(),
        "modifier",
        "besoin",
        &need.id,
        Some(&current.audit_json()),
        Some(&need.audit_json()),
    )
    .await?;
    tx.commit().await?;
    Ok(need)
}

/// The needs `by` may read: every project's, and the actions' of readable académies.
pub async fn needs(db: &Db, by: &Principal) -> CoreResult<Vec<Need>> {
    let mut readable: HashMap<String, bool> = HashMap::new();
    let mut out = Vec::new();
    for need in repo::list_needs(db).await? {
        let can = match &need.academie_code {
            None => true,
            Some(a) => match readable.get(a) {
                Some(&c) => c,
                None => {
                    let c = can_read_need(db, by, &need).await?;
                    readable.insert(a.clone(), c);
                    c
                }
            },
        };
        if can {
            out.push(need);
        }
    }
    Ok(out)
}

/// The needs `by` may read, each with whether they may change it (the needs page).
pub async fn needs_with_rights(db: &Db, by: &Principal) -> CoreResult<Vec<(Need, bool)>> {
    let mut writable: HashMap<Option<String>, bool> = HashMap::new();
    let mut out = Vec::new();
    for need in needs(db, by).await? {
        let can = match writable.get(&need.academie_code) {
            Some(&can) => can,
            None => {
                let can = may_write_need(db, by, &need).await?;
                writable.insert(need.academie_code.clone(), can);
                can
            }
        };
        out.push((need, can));
    }
    Ok(out)
}

/// One need, to be changed by `by`: `NotFound` when they may not read it, `Forbidden` when
/// they may not write it (as [`update_need`] answers).
pub async fn need_to_edit(db: &Db, by: &Principal, id: &str) -> CoreResult<Need> {
    let need = need(db, by, id).await?;
    check_need_writer(db, by, &need).await?;
    Ok(need)
}

/// One need.
pub async fn need(db: &Db, by: &Principal, id: &str) -> CoreResult<Need> {
    let need = repo::find_need(db, id)
        .await?
        .ok_or_else(|| CoreError::not_found("besoin", id))?;
    if !can_read_need(db, by, &need).await? {
        return Err(CoreError::not_found("besoin", id));
    }
    Ok(need)
}

// --- Gap analysis -----------------------------------------------------------------------------

/// The gap analysis of a perimeter on a date: per need, the targeted schools and those
/// lacking the equipment today and after the plans due by `date`; per collectivité, the
/// schools targeted, lacking, equipped without project, with equipment past renewal age,
/// terminals, pupils and the planned budget. One streamed read of the perimeter (`gaps`).
pub async fn gap_summary(db: &Db, by: &Principal, scope: &Scope, date: Date) -> CoreResult<GapSummary> {
    check_scope(db, by, scope).await?;
    let (needs, collectivites) = super::gaps::summary(db, scope, date).await?;
    let mut totals = CollectiviteGap {
        siren: String::new(),
        nom: "Total".to_owned(),
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
    };
    for c in &collectivites {
        totals.schools += c.schools;
        totals.targeted += c.targeted;
        totals.lacking_today += c.lacking_today;
        totals.lacking_after_plans += c.lacking_after_plans;
        totals.equipped_without_project += c.equipped_without_project;
        totals.to_renew += c.to_renew;
        totals.old_units += c.old_units;
        totals.terminals += c.terminals;
        totals.pupils += c.pupils;
        totals.planned_budget_cents += c.planned_budget_cents;
        totals.planned_cofunded_cents += c.planned_cofunded_cents;
    }
    let scope_label = crate::governance::service::perimeter_label(db, &scope_perimeter(scope)).await?;
    Ok(GapSummary {
        scope: scope.clone(),
        scope_label,
        date,
        needs,
        collectivites,
        totals,
    })
}

/// One page of a gap list (`cible-sans-equipement`, `encore-apres-plans`: one line per school
/// and unmet need; `equipe-sans-projet`, `a-renouveler`: one line per school).
pub async fn gap_list(
    db: &Db,
    by: &Principal,
    scope: &Scope,
    date: Date,
    kind: GapKind,
    page: PageRequest,
) -> CoreResult<Page<GapLine>> {
    check_scope(db, by, scope).await?;
    super::gaps::lines(db, scope, date, kind, page).await
}
