//! The pages of the conventions: the register (filters, exports, and the table by
//! département that a map will draw), one convention (parties, status and its reason,
//! commitments per party with compliance, financial annex and totals, versions, amendments,
//! history, attachments, PDF), the text form (create, edit a draft, amendment), the report
//! on a commitment, the comparison of two versions, the cross-view of one organisation's
//! commitments and the late commitments.
//!
//! Every form posts here and is answered by a redirect; a refused form shows again with what
//! was typed, the errors next to the fields and in a summary that links to them (422), a
//! concurrent change as a message (409), a missing right as a message (403). Rights are the
//! core service's.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;

use askama::Template;
use axum::Router;
use axum::extract::{Form, Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use gouvernail_core::convention::service as conv;
use gouvernail_core::convention::*;
use gouvernail_core::db::Db;
use gouvernail_core::territory::service as territory;
use gouvernail_core::{CoreError, CoreResult, FieldError, money};
use serde::Deserialize;
use time::Date;

use super::api::ConventionsQuery;
use crate::pages::{Crumbs, PageCtx, PageError};
use crate::state::AppState;

/// The routes of the convention pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/conventions", get(register_page).post(create_convention))
        .route("/conventions/nouvelle", get(new_page))
        .route("/conventions/engagements", get(cross_view_page))
        .route("/conventions/retards", get(late_page))
        .route("/conventions/{id}", get(convention_page))
        .route(
            "/conventions/{id}/modifier",
            get(edit_page).post(update_convention),
        )
        .route(
            "/conventions/{id}/avenant",
            get(amendment_page).post(apply_amendment),
        )
        .route("/conventions/{id}/evenements", post(record_event))
        .route("/conventions/{id}/versions", get(versions_page))
        .route(
            "/conventions/{id}/pieces",
            post(upload_piece).layer(axum::extract::DefaultBodyLimit::max(super::api::UPLOAD_CEILING)),
        )
        .route("/conventions/{id}/pieces/{pid}/suppression", post(delete_piece))
        .route(
            "/conventions/{id}/engagements/{eid}",
            get(report_page).post(report_commitment),
        )
}

type PageResponse = Result<Response, PageError>;

// ---------------------------------------------------------------------------------------
// Départements: the register's table (and the map to come)

/// The départements of a party: its own for a DSDEN, a school or a commune, those of its
/// territory for a département or a région; none for an académie or an organisation.
async fn departements_of_party(db: &Db, reference: &str) -> CoreResult<Vec<String>> {
    let Ok(r) = PartyRef::parse(reference) else {
        return Ok(Vec::new());
    };
    let found = match r.kind {
        PartyKind::Departement => Ok(vec![r.code]),
        PartyKind::Etablissement => territory::get_etablissement(db, &r.code)
            .await
            .map(|e| vec![e.code_departement]),
        PartyKind::Collectivite => match territory::get_collectivite(db, &r.code).await {
            Ok(c) if !c.departements.is_empty() => Ok(c.departements),
            Ok(c) => match c.code_commune {
                Some(code) => territory::get_commune(db, &code)
                    .await
                    .map(|c| vec![c.code_departement]),
                None => Ok(Vec::new()),
            },
            Err(e) => Err(e),
        },
        PartyKind::Academie | PartyKind::Organisation | PartyKind::Entreprise => Ok(Vec::new()),
    };
    match found {
        Ok(v) => Ok(v),
        Err(CoreError::NotFound { .. }) => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

/// The départements of each convention of `items` (by the parties), in order.
async fn departements_of(db: &Db, items: &[ConventionSummary]) -> CoreResult<Vec<Vec<String>>> {
    let mut cache: HashMap<String, Vec<String>> = HashMap::new();
    let mut out = Vec::with_capacity(items.len());
    for s in items {
        let mut codes = Vec::new();
        for (reference, _) in &s.parties {
            if !cache.contains_key(reference) {
                let found = departements_of_party(db, reference).await?;
                cache.insert(reference.clone(), found);
            }
            codes.extend(cache.get(reference).into_iter().flatten().cloned());
        }
        codes.sort();
        codes.dedup();
        out.push(codes);
    }
    Ok(out)
}

/// Keeps the conventions with a party in the département `code`.
pub async fn in_departement(
    db: &Db,
    items: Vec<ConventionSummary>,
    code: &str,
) -> CoreResult<Vec<ConventionSummary>> {
    let code = gouvernail_core::territory::ids::CodeDepartement::parse(code.trim())
        .map_err(|e| CoreError::bad_request("departement", e.to_string()))?
        .into_string();
    let codes = departements_of(db, &items).await?;
    Ok(items
        .into_iter()
        .zip(codes)
        .filter(|(_, c)| c.contains(&code))
        .map(|(s, _)| s)
        .collect())
}

/// One département of the register's table: the conventions in force there and how their
/// commitments are kept. Shaped for a map: code, label, value (the % kept) and a status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeptRow {
    pub code: String,
    pub label: String,
    pub in_force: i64,
    pub compliance: Compliance,
    /// `en-retard` (some commitment late), `a-jour` (due ones kept or in time),
    /// `sans-echeance` (nothing due yet).
    pub status: &'static str,
}

impl DeptRow {
    /// The value a map shows: the share of due commitments kept.
    pub fn value(&self) -> Option<i64> {
        self.compliance.percent()
    }

    /// The tile of a map: (code, label, value, status).
    pub fn tile(&self) -> (String, String, Option<i64>, &'static str) {
        (self.code.clone(), self.label.clone(), self.value(), self.status)
    }
}

/// The conventions in force by département, and their compliance (the data of the map).
pub async fn by_departement(db: &Db, items: &[ConventionSummary]) -> CoreResult<Vec<DeptRow>> {
    let codes = departements_of(db, items).await?;
    let mut rows: BTreeMap<String, (i64, Compliance)> = BTreeMap::new();
    for (s, codes) in items.iter().zip(codes) {
        if !matches!(
            s.standing.status,
            ConventionStatus::EnVigueur | ConventionStatus::Renouvelee
        ) {
            continue;
        }
        for code in codes {
            let (n, c) = rows.entry(code).or_default();
            *n += 1;
            c.total += s.compliance.total;
            c.due += s.compliance.due;
            c.kept += s.compliance.kept;
            c.late += s.compliance.late;
        }
    }
    let names: HashMap<String, String> = territory::list_departements(db, None)
        .await?
        .into_iter()
        .map(|d| (d.code, d.nom))
        .collect();
    Ok(rows
        .into_iter()
        .map(|(code, (in_force, compliance))| DeptRow {
            label: names
                .get(&code)
                .map_or_else(|| code.clone(), |n| format!("{n} ({code})")),
            status: if compliance.late > 0 {
                "en-retard"
            } else if compliance.due > 0 {
                "a-jour"
            } else {
                "sans-echeance"
            },
            code,
            in_force,
            compliance,
        })
        .collect())
}

// ---------------------------------------------------------------------------------------
// Forms

/// A posted form as its pairs.
#[derive(Debug, Clone, Default)]
struct Fields(Vec<(String, String)>);

impl Fields {
    fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
    fn text(&self, name: &str) -> String {
        self.get(name).unwrap_or("").to_owned()
    }
    /// Trimmed, `None` when blank.
    fn opt(&self, name: &str) -> Option<String> {
        self.get(name)
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    }
    /// The version the form was read at (0 when missing: the save then gets 409).
    fn version(&self) -> i64 {
        self.get("version")
            .and_then(|v| v.trim().parse::<i64>().ok())
            .unwrap_or_default()
    }
    fn date(&self, name: &str, errors: &mut Vec<FieldError>) -> Option<Date> {
        let text = self.opt(name)?;
        match Date::parse(&text, time::macros::format_description!("[year]-[month]-[day]")) {
            Ok(d) => Some(d),
            Err(_) => {
                errors.push(FieldError::new(
                    name,
                    format!("« {text} » : date attendue (AAAA-MM-JJ)"),
                ));
                None
            }
        }
    }
    fn int(&self, name: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
        let text = self.opt(name)?;
        match text.parse::<i64>() {
            Ok(n) => Some(n),
            Err(_) => {
                errors.push(FieldError::new(
                    name,
                    format!("« {text} » : nombre entier attendu"),
                ));
                None
            }
        }
    }
    /// A rate typed in percent (`52,5`), as basis points.
    fn rate(&self, name: &str, errors: &mut Vec<FieldError>) -> Option<i64> {
        let text = self.opt(name)?;
        match money::parse_euros(text.trim_end_matches('%')) {
            Some(bp) => Some(bp),
            None => {
                errors.push(FieldError::new(name, format!("« {text} » : pourcentage attendu")));
                None
            }
        }
    }
}

/// How a field is typed.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Text,
    Date,
    Number,
    Area(u32),
    Select(Vec<(String, String)>),
}

/// One field of a form, with its value (as typed or stored) and its error.
#[derive(Debug, Clone)]
pub struct Input {
    pub id: String,
    pub name: String,
    pub label: String,
    pub hint: String,
    pub value: String,
    pub kind: Kind,
    pub required: bool,
    pub error: Option<String>,
    /// The error fields this input answers for (the core's names).
    keys: Vec<String>,
}

impl Input {
    /// True for a select.
    pub fn is_select(&self) -> bool {
        matches!(self.kind, Kind::Select(_))
    }
    /// The options of a select.
    pub fn options(&self) -> &[(String, String)] {
        match &self.kind {
            Kind::Select(o) => o,
            _ => &[],
        }
    }
    /// The rows of a textarea (0: not one).
    pub fn rows(&self) -> u32 {
        match self.kind {
            Kind::Area(n) => n,
            _ => 0,
        }
    }
    /// The `type` of an input.
    pub fn html_type(&self) -> &'static str {
        match self.kind {
            Kind::Date => "date",
            Kind::Number => "number",
            _ => "text",
        }
    }
}

/// A fieldset: a legend and its inputs.
#[derive(Debug, Clone)]
pub struct Group {
    pub id: String,
    pub legend: String,
    pub inputs: Vec<Input>,
    /// Hidden fields (a commitment's code, kept across edits).
    pub hidden: Vec<(String, String)>,
}

/// An error of the summary, with the input it links to.
#[derive(Debug, Clone)]
pub struct Summary {
    pub href: Option<String>,
    pub label: String,
    pub message: String,
}

/// Builds inputs from values and errors.
struct Builder<'a> {
    values: &'a HashMap<String, String>,
    errors: &'a [FieldError],
}

impl Builder<'_> {
    fn input(&self, name: &str, label: String, kind: Kind) -> Input {
        let id = format!(
            "f-{}",
            name.replace("].", "-")
                .replace(['[', ']', '.'], "-")
                .trim_end_matches('-')
        );
        let mut input = Input {
            id,
            name: name.to_owned(),
            label,
            hint: String::new(),
            value: self.values.get(name).cloned().unwrap_or_default(),
            kind,
            required: false,
            error: None,
            keys: vec![name.to_owned()],
        };
        self.attach(&mut input);
        input
    }
    fn keyed(&self, mut input: Input, keys: &[String]) -> Input {
        input.keys.extend(keys.iter().cloned());
        self.attach(&mut input);
        input
    }
    fn attach(&self, input: &mut Input) {
        let messages: Vec<String> = self
            .errors
            .iter()
            .filter(|e| input.keys.contains(&e.field))
            .map(|e| e.message.clone())
            .collect();
        input.error = (!messages.is_empty()).then(|| messages.join(" ; "));
    }
}

fn hint(mut input: Input, hint: String) -> Input {
    input.hint = hint;
    input
}

fn required(mut input: Input) -> Input {
    input.required = true;
    input
}

/// The error summary: each error linked to its input when one answers for it.
fn summary(groups: &[Group], errors: &[FieldError]) -> Vec<Summary> {
    errors
        .iter()
        .map(|e| {
            let found = groups
                .iter()
                .flat_map(|g| g.inputs.iter().map(move |i| (g, i)))
                .find(|(_, i)| i.keys.contains(&e.field));
            match found {
                Some((g, i)) => Summary {
                    href: Some(format!("#{}", i.id)),
                    label: if g.legend.is_empty() {
                        i.label.clone()
                    } else {
                        format!("{} — {}", g.legend, i.label)
                    },
                    message: e.message.clone(),
                },
                None => Summary {
                    href: None,
                    label: e.field.clone(),
                    message: e.message.clone(),
                },
            }
        })
        .collect()
}

fn options<T: Copy>(
    ctx: &PageCtx,
    prefix: &str,
    all: &[T],
    code: fn(T) -> &'static str,
    blank: bool,
) -> Kind {
    let mut out = Vec::new();
    if blank {
        out.push((String::new(), "—".to_owned()));
    }
    out.extend(
        all.iter()
            .map(|k| (code(*k).to_owned(), ctx.label(prefix, code(*k)))),
    );
    Kind::Select(out)
}

/// A refused form: what was typed, what to say.
struct Failure {
    values: HashMap<String, String>,
    message: String,
    errors: Vec<FieldError>,
    status: StatusCode,
}

fn failure(ctx: &PageCtx, fields: &Fields, e: CoreError) -> Result<Failure, PageError> {
    let text = e.to_string();
    let (message, errors, status) = match e {
        CoreError::Validation(f) | CoreError::BadRequest(f) => {
            (ctx.t("conv-invalid"), f, StatusCode::UNPROCESSABLE_ENTITY)
        }
        CoreError::Conflict(_) => (text, Vec::new(), StatusCode::CONFLICT),
        CoreError::Forbidden => (ctx.t("conv-forbidden"), Vec::new(), StatusCode::FORBIDDEN),
        other => return Err(ctx.error(other)),
    };
    Ok(Failure {
        values: fields.0.iter().cloned().collect(),
        message,
        errors,
        status,
    })
}

fn validation(errors: Vec<FieldError>) -> Result<(), CoreError> {
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CoreError::Validation(errors))
    }
}

// ---------------------------------------------------------------------------------------
// The text of a convention as a form

/// Blank rows offered beyond the filled ones.
const SPARE_PARTIES: usize = 1;
const SPARE_COMMITMENTS: usize = 2;
const SPARE_LINES: usize = 2;
const SPARE_RULES: usize = 1;

/// The form's values of a text.
fn text_values(input: &ConventionInput) -> HashMap<String, String> {
    let mut v = HashMap::new();
    let d = |d: Option<Date>| d.map(|d| d.to_string()).unwrap_or_default();
    let n = |n: Option<i64>| n.map(|n| n.to_string()).unwrap_or_default();
    let mut put = |k: String, val: String| {
        v.insert(k, val);
    };
    put("type".into(), input.kind.clone());
    put("titre".into(), input.title.clone());
    put("objet".into(), input.object.clone());
    put("visas".into(), input.visas.join("\n"));
    put(
        "conventionCadre".into(),
        input.parent_id.clone().unwrap_or_default(),
    );
    put("perimetre".into(), input.scope.join("\n"));
    put("dateEffet".into(), d(input.effective_date));
    put("dateFin".into(), d(input.end_date));
    put("dureeMois".into(), n(input.duration_months));
    put("reconduction".into(), input.renewal.clone());
    put("preavisMois".into(), n(input.notice_months));
    put(
        "instanceSuivi".into(),
        input.follow_up_body_id.clone().unwrap_or_default(),
    );
    for (i, p) in input.parties.iter().enumerate() {
        let f = |s: &str| format!("parties[{i}].{s}");
        put(f("reference"), p.reference.clone());
        put(f("representant"), p.representative.clone());
        put(f("qualite"), p.capacity.clone());
        put(f("deliberation"), p.deliberation_ref.clone().unwrap_or_default());
        put(f("dateDeliberation"), d(p.deliberation_date));
        put(f("dateSignature"), d(p.signature_date));
    }
    for (i, c) in input.commitments.iter().enumerate() {
        let f = |s: &str| format!("engagements[{i}].{s}");
        put(f("code"), c.code.clone().unwrap_or_default());
        put(f("partie"), c.party.clone());
        put(f("categorie"), c.category.clone());
        put(f("description"), c.description.clone());
        put(f("quantite"), n(c.quantity));
        put(
            f("montant"),
            c.amount
                .as_deref()
                .and_then(money::parse_euros)
                .map(|c| money::decimal(c).replace('.', ","))
                .unwrap_or_default(),
        );
        put(f("echeance"), d(c.due_date));
        put(f("recurrence"), c.recurrence.clone().unwrap_or_default());
        put(f("indicateur"), c.indicator.clone().unwrap_or_default());
    }
    for (i, l) in input.annex.iter().enumerate() {
        let f = |s: &str| format!("annexe[{i}].{s}");
        put(f("annee"), l.year.to_string());
        put(f("partie"), l.party.clone());
        put(f("nature"), l.nature.clone());
        put(
            f("montant"),
            money::parse_euros(&l.amount)
                .map(|c| money::decimal(c).replace('.', ","))
                .unwrap_or_default(),
        );
        put(f("libelle"), l.label.clone());
    }
    for (i, r) in input.cofinancing.iter().enumerate() {
        let f = |s: &str| format!("cofinancements[{i}].{s}");
        let pct = |bp: Option<i64>| {
            bp.map(|b| money::decimal(b).trim_end_matches(".00").replace('.', ","))
                .unwrap_or_default()
        };
        put(f("financeur"), r.funder.clone());
        put(f("type"), r.kind.clone());
        put(f("tauxMin"), pct(r.min_bp));
        put(f("tauxMax"), pct(r.max_bp));
        put(
            f("plafond"),
            r.cap
                .as_deref()
                .and_then(money::parse_euros)
                .map(|c| money::decimal(c).replace('.', ","))
                .unwrap_or_default(),
        );
        put(f("nature"), r.nature.clone().unwrap_or_default());
    }
    v
}

/// How many rows of `prefix` the values hold (`parties[3].…` → 4).
fn rows_of(values: &HashMap<String, String>, prefix: &str) -> usize {
    values
        .keys()
        .filter_map(|k| {
            k.strip_prefix(prefix)?
                .strip_prefix('[')?
                .split_once(']')?
                .0
                .parse::<usize>()
                .ok()
        })
        .map(|n| n + 1)
        .max()
        .unwrap_or(0)
}

/// The text's fieldsets.
fn text_groups(ctx: &PageCtx, b: &Builder<'_>, cadres: &[(String, String)]) -> Vec<Group> {
    let mut groups = Vec::new();
    let mut cadre_options = vec![(String::new(), ctx.t("conv-none"))];
    cadre_options.extend(cadres.iter().cloned());
    groups.push(Group {
        hidden: Vec::new(),
        id: "texte".into(),
        legend: ctx.t("conv-general"),
        inputs: vec![
            required(b.input(
                "type",
                ctx.t("conv-kind"),
                options(
                    ctx,
                    "conv-kind",
                    ConventionKind::ALL,
                    ConventionKind::as_str,
                    false,
                ),
            )),
            required(b.input("titre", ctx.t("conv-title"), Kind::Text)),
            b.input("objet", ctx.t("conv-object"), Kind::Area(4)),
            hint(
                b.keyed(
                    b.input("visas", ctx.t("conv-visas"), Kind::Area(3)),
                    &indexed("visas", 100),
                ),
                ctx.t("conv-visas-hint"),
            ),
            b.input(
                "conventionCadre",
                ctx.t("conv-parent"),
                Kind::Select(cadre_options),
            ),
            hint(
                b.keyed(
                    b.input("perimetre", ctx.t("conv-scope"), Kind::Area(3)),
                    &indexed("perimetre", 200),
                ),
                ctx.t("conv-scope-hint"),
            ),
        ],
    });
    groups.push(Group {
        hidden: Vec::new(),
        id: "duree".into(),
        legend: ctx.t("conv-duration-title"),
        inputs: vec![
            b.input("dateEffet", ctx.t("conv-effective-date"), Kind::Date),
            b.input("dateFin", ctx.t("conv-end-date"), Kind::Date),
            b.input("dureeMois", ctx.t("conv-duration-months"), Kind::Number),
            b.input(
                "reconduction",
                ctx.t("conv-renewal"),
                options(ctx, "conv-renewal", Renewal::ALL, Renewal::as_str, false),
            ),
            b.input("preavisMois", ctx.t("conv-notice-months"), Kind::Number),
            hint(
                b.input("instanceSuivi", ctx.t("conv-follow-up-body"), Kind::Text),
                ctx.t("conv-follow-up-body-hint"),
            ),
        ],
    });
    let parties = rows_of(b.values, "parties").max(2) + SPARE_PARTIES;
    for i in 0..parties {
        let f = |s: &str| format!("parties[{i}].{s}");
        let base = format!("parties[{i}]");
        groups.push(Group {
            hidden: Vec::new(),
            id: format!("partie-{i}"),
            legend: format!("{} {}", ctx.t("conv-party"), i + 1),
            inputs: vec![
                hint(
                    b.keyed(
                        b.input(&f("reference"), ctx.t("conv-reference"), Kind::Text),
                        &[base.clone(), format!("{base}.siren"), format!("{base}.uai")],
                    ),
                    ctx.t("conv-party-hint"),
                ),
                b.input(&f("representant"), ctx.t("conv-representative"), Kind::Text),
                b.input(&f("qualite"), ctx.t("conv-capacity"), Kind::Text),
                b.input(&f("deliberation"), ctx.t("conv-deliberation"), Kind::Text),
                b.input(
                    &f("dateDeliberation"),
                    ctx.t("conv-deliberation-date"),
                    Kind::Date,
                ),
                b.input(&f("dateSignature"), ctx.t("conv-signature-date"), Kind::Date),
            ],
        });
    }
    let commitments = rows_of(b.values, "engagements") + SPARE_COMMITMENTS;
    for i in 0..commitments {
        let f = |s: &str| format!("engagements[{i}].{s}");
        let code = b.values.get(&f("code")).cloned().unwrap_or_default();
        let legend = if code.is_empty() {
            format!("{} {}", ctx.t("conv-commitment"), i + 1)
        } else {
            format!("{} {code}", ctx.t("conv-commitment"))
        };
        groups.push(Group {
            id: format!("engagement-{i}"),
            legend,
            hidden: if code.is_empty() {
                Vec::new()
            } else {
                vec![(f("code"), code.clone())]
            },
            inputs: vec![
                b.keyed(
                    hint(
                        b.input(&f("partie"), ctx.t("conv-owed-by"), Kind::Text),
                        ctx.t("conv-owed-by-hint"),
                    ),
                    &[format!("engagements[{i}]"), f("code")],
                ),
                b.input(
                    &f("categorie"),
                    ctx.t("conv-category"),
                    options(
                        ctx,
                        "conv-category",
                        CommitmentCategory::ALL,
                        CommitmentCategory::as_str,
                        false,
                    ),
                ),
                b.input(&f("description"), ctx.t("conv-description"), Kind::Text),
                b.input(&f("quantite"), ctx.t("conv-quantity"), Kind::Number),
                hint(
                    b.input(&f("montant"), ctx.t("conv-amount"), Kind::Text),
                    ctx.t("conv-amount-hint"),
                ),
                b.input(&f("echeance"), ctx.t("conv-due"), Kind::Date),
                b.input(
                    &f("recurrence"),
                    ctx.t("conv-recurrence"),
                    options(ctx, "conv-recurrence", Recurrence::ALL, Recurrence::as_str, true),
                ),
                b.input(&f("indicateur"), ctx.t("conv-indicator"), Kind::Text),
            ],
        });
    }
    let lines = rows_of(b.values, "annexe") + SPARE_LINES;
    for i in 0..lines {
        let f = |s: &str| format!("annexe[{i}].{s}");
        groups.push(Group {
            hidden: Vec::new(),
            id: format!("annexe-{i}"),
            legend: format!("{} {}", ctx.t("conv-annex-line"), i + 1),
            inputs: vec![
                b.keyed(
                    b.input(&f("annee"), ctx.t("conv-year"), Kind::Number),
                    &[format!("annexe[{i}]")],
                ),
                hint(
                    b.input(&f("partie"), ctx.t("conv-funder"), Kind::Text),
                    ctx.t("conv-owed-by-hint"),
                ),
                b.input(
                    &f("nature"),
                    ctx.t("conv-nature"),
                    options(ctx, "conv-nature", Nature::ALL, Nature::as_str, false),
                ),
                hint(
                    b.input(&f("montant"), ctx.t("conv-amount"), Kind::Text),
                    ctx.t("conv-amount-hint"),
                ),
                b.input(&f("libelle"), ctx.t("conv-label"), Kind::Text),
            ],
        });
    }
    let rules = rows_of(b.values, "cofinancements") + SPARE_RULES;
    for i in 0..rules {
        let f = |s: &str| format!("cofinancements[{i}].{s}");
        groups.push(Group {
            hidden: Vec::new(),
            id: format!("cofinancement-{i}"),
            legend: format!("{} {}", ctx.t("conv-cofinancing-rule"), i + 1),
            inputs: vec![
                b.keyed(
                    hint(
                        b.input(&f("financeur"), ctx.t("conv-funder"), Kind::Text),
                        ctx.t("conv-owed-by-hint"),
                    ),
                    &[format!("cofinancements[{i}]")],
                ),
                b.input(
                    &f("type"),
                    ctx.t("conv-cofinancing-kind"),
                    options(
                        ctx,
                        "conv-cofinancing",
                        CofinancingKind::ALL,
                        CofinancingKind::as_str,
                        false,
                    ),
                ),
                b.keyed(
                    b.input(&f("tauxMin"), ctx.t("conv-rate-min"), Kind::Text),
                    &[f("taux")],
                ),
                b.input(&f("tauxMax"), ctx.t("conv-rate-max"), Kind::Text),
                hint(
                    b.input(&f("plafond"), ctx.t("conv-cap"), Kind::Text),
                    ctx.t("conv-amount-hint"),
                ),
                b.input(
                    &f("nature"),
                    ctx.t("conv-nature"),
                    options(ctx, "conv-nature", Nature::ALL, Nature::as_str, true),
                ),
            ],
        });
    }
    groups
}

/// `visas[0]`…`visas[n-1]`: the lines of a textarea, named by the core.
fn indexed(prefix: &str, n: usize) -> Vec<String> {
    (0..n).map(|i| format!("{prefix}[{i}]")).collect()
}

/// True when every field of the row is blank (a spare row left empty).
fn blank_row(fields: &Fields, prefix: &str, i: usize, names: &[&str]) -> bool {
    names.iter().all(|n| {
        fields
            .get(&format!("{prefix}[{i}].{n}"))
            .is_none_or(|v| v.trim().is_empty())
    })
}

/// Renames the core's `prefix[k]` as the form's row `rows[k]`.
fn renumber(errors: Vec<FieldError>, prefix: &str, rows: &[usize]) -> Vec<FieldError> {
    errors
        .into_iter()
        .map(|mut e| {
            if let Some(rest) = e.field.strip_prefix(prefix)
                && let Some((n, tail)) = rest.strip_prefix('[').and_then(|r| r.split_once(']'))
                && let Ok(k) = n.parse::<usize>()
                && let Some(row) = rows.get(k)
            {
                e.field = format!("{prefix}[{row}]{tail}");
            }
            e
        })
        .collect()
}

/// The rows of each list kept from the form (blank rows are left out).
#[derive(Debug, Default)]
struct Rows {
    parties: Vec<usize>,
    commitments: Vec<usize>,
    annex: Vec<usize>,
    rules: Vec<usize>,
}

impl Rows {
    fn renumber(&self, errors: Vec<FieldError>) -> Vec<FieldError> {
        let errors = renumber(errors, "parties", &self.parties);
        let errors = renumber(errors, "engagements", &self.commitments);
        let errors = renumber(errors, "annexe", &self.annex);
        renumber(errors, "cofinancements", &self.rules)
    }
}

/// Reads the text form; unreadable dates and numbers are named.
fn read_text(fields: &Fields) -> (Result<ConventionInput, CoreError>, Rows) {
    let mut errors = Vec::new();
    let mut rows = Rows::default();
    let lines = |name: &str| -> Vec<String> {
        fields
            .get(name)
            .unwrap_or("")
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_owned)
            .collect()
    };
    let mut input = ConventionInput {
        kind: fields.text("type"),
        title: fields.text("titre"),
        object: fields.text("objet"),
        visas: lines("visas"),
        parent_id: fields.opt("conventionCadre"),
        scope: lines("perimetre"),
        effective_date: fields.date("dateEffet", &mut errors),
        end_date: fields.date("dateFin", &mut errors),
        duration_months: fields.int("dureeMois", &mut errors),
        renewal: fields
            .opt("reconduction")
            .unwrap_or_else(|| Renewal::Aucune.as_str().to_owned()),
        notice_months: fields.int("preavisMois", &mut errors),
        follow_up_body_id: fields.opt("instanceSuivi"),
        ..Default::default()
    };
    let count = |prefix: &str| rows_of(&fields.0.iter().cloned().collect::<HashMap<_, _>>(), prefix);
    for i in 0..count("parties") {
        let names = [
            "reference",
            "representant",
            "qualite",
            "deliberation",
            "dateDeliberation",
            "dateSignature",
        ];
        if blank_row(fields, "parties", i, &names) {
            continue;
        }
        let f = |s: &str| format!("parties[{i}].{s}");
        rows.parties.push(i);
        input.parties.push(PartyInput {
            reference: fields.text(&f("reference")),
            representative: fields.text(&f("representant")),
            capacity: fields.text(&f("qualite")),
            deliberation_ref: fields.opt(&f("deliberation")),
            deliberation_date: fields.date(&f("dateDeliberation"), &mut errors),
            signature_date: fields.date(&f("dateSignature"), &mut errors),
        });
    }
    for i in 0..count("engagements") {
        let names = [
            "partie",
            "description",
            "quantite",
            "montant",
            "echeance",
            "recurrence",
            "indicateur",
        ];
        if blank_row(fields, "engagements", i, &names) {
            continue;
        }
        let f = |s: &str| format!("engagements[{i}].{s}");
        rows.commitments.push(i);
        input.commitments.push(CommitmentInput {
            code: fields.opt(&f("code")),
            party: fields.text(&f("partie")),
            category: fields.text(&f("categorie")),
            description: fields.text(&f("description")),
            quantity: fields.int(&f("quantite"), &mut errors),
            amount: fields.opt(&f("montant")),
            due_date: fields.date(&f("echeance"), &mut errors),
            recurrence: fields.opt(&f("recurrence")),
            indicator: fields.opt(&f("indicateur")),
        });
    }
    for i in 0..count("annexe") {
        if blank_row(fields, "annexe", i, &["annee", "partie", "montant", "libelle"]) {
            continue;
        }
        let f = |s: &str| format!("annexe[{i}].{s}");
        rows.annex.push(i);
        let year = fields.int(&f("annee"), &mut errors).unwrap_or_default();
        input.annex.push(AnnexLineInput {
            year,
            party: fields.text(&f("partie")),
            nature: fields.text(&f("nature")),
            amount: fields.text(&f("montant")),
            label: fields.text(&f("libelle")),
        });
    }
    for i in 0..count("cofinancements") {
        if blank_row(
            fields,
            "cofinancements",
            i,
            &["financeur", "tauxMin", "tauxMax", "plafond"],
        ) {
            continue;
        }
        let f = |s: &str| format!("cofinancements[{i}].{s}");
        rows.rules.push(i);
        input.cofinancing.push(CofinancingInput {
            funder: fields.text(&f("financeur")),
            kind: fields.text(&f("type")),
            min_bp: fields.rate(&f("tauxMin"), &mut errors),
            max_bp: fields.rate(&f("tauxMax"), &mut errors),
            cap: fields.opt(&f("plafond")),
            nature: fields.opt(&f("nature")),
        });
    }
    (validation(errors).map(|()| input), rows)
}

/// The conventions-cadres the person reads (to place a convention under one).
async fn cadres(
    state: &AppState,
    p: &gouvernail_core::identity::Principal,
) -> CoreResult<Vec<(String, String)>> {
    let filter = ConventionFilter {
        kind: Some(ConventionKind::ConventionCadre.as_str().to_owned()),
        ..Default::default()
    };
    Ok(conv::list_conventions(&state.db, p, &filter, conv::today())
        .await?
        .into_iter()
        .map(|s| (s.convention.id, s.convention.title))
        .collect())
}

/// What the text form is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Create,
    Edit,
    Amend,
}

#[derive(Template)]
#[template(path = "convention/form.html")]
struct FormPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    title: String,
    action: String,
    mode: Mode,
    version: i64,
    /// The amendment's own fields (date, object).
    amendment: Vec<Input>,
    groups: Vec<Group>,
    summary: Vec<Summary>,
    message: Option<String>,
}

async fn render_form(
    ctx: &PageCtx,
    state: &AppState,
    mode: Mode,
    id: Option<&str>,
    failure: Option<Failure>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let today = conv::today();
    let view = match id {
        Some(id) => Some(
            conv::get_convention(&state.db, p, id, today)
                .await
                .map_err(|e| ctx.error(e))?,
        ),
        None => None,
    };
    let values = match (&failure, &view) {
        (Some(f), _) => f.values.clone(),
        (None, Some(v)) => {
            let mut values = text_values(&v.to_input());
            if mode == Mode::Amend {
                values.insert("avenant.date".into(), today.to_string());
            }
            values
        }
        (None, None) => {
            let mut values = HashMap::new();
            values.insert("reconduction".into(), Renewal::Aucune.as_str().to_owned());
            values
        }
    };
    let errors = failure.as_ref().map(|f| f.errors.clone()).unwrap_or_default();
    let b = Builder {
        values: &values,
        errors: &errors,
    };
    let mut cadre_list = cadres(state, p).await.map_err(|e| ctx.error(e))?;
    if let Some(v) = &view {
        cadre_list.retain(|(cid, _)| *cid != v.convention.id);
    }
    let groups = text_groups(ctx, &b, &cadre_list);
    let amendment = if mode == Mode::Amend {
        vec![
            required(b.input("avenant.date", ctx.t("conv-amendment-date"), Kind::Date)),
            required(b.input("avenant.objet", ctx.t("conv-amendment-object"), Kind::Area(3))),
        ]
    } else {
        Vec::new()
    };
    let mut all = vec![Group {
        id: "avenant".into(),
        legend: String::new(),
        inputs: amendment.clone(),
        hidden: Vec::new(),
    }];
    all.extend(groups.iter().cloned());
    let summary = summary(&all, &errors);
    let (title, action, crumbs) = match (&view, mode) {
        (Some(v), Mode::Amend) => (
            format!("{} — {}", ctx.t("conv-amend"), v.convention.title),
            format!("/conventions/{}/avenant", v.convention.id),
            Crumbs::new(ctx.t("conv-amend"))
                .link("/conventions", ctx.t("conv-register"))
                .link(
                    format!("/conventions/{}", v.convention.id),
                    v.convention.title.clone(),
                ),
        ),
        (Some(v), _) => (
            format!("{} — {}", ctx.t("conv-edit"), v.convention.title),
            format!("/conventions/{}/modifier", v.convention.id),
            Crumbs::new(ctx.t("conv-edit"))
                .link("/conventions", ctx.t("conv-register"))
                .link(
                    format!("/conventions/{}", v.convention.id),
                    v.convention.title.clone(),
                ),
        ),
        (None, _) => (
            ctx.t("conv-new"),
            "/conventions".to_owned(),
            Crumbs::new(ctx.t("conv-new")).link("/conventions", ctx.t("conv-register")),
        ),
    };
    // The version the form was read at: kept from a failed post (so that a stale one stays
    // stale), the stored one otherwise.
    let version = failure
        .as_ref()
        .and_then(|f| f.values.get("version"))
        .and_then(|v| v.parse().ok())
        .or(view.as_ref().map(|v| v.convention.version))
        .unwrap_or_default();
    let status = failure.as_ref().map_or(StatusCode::OK, |f| f.status);
    let html = ctx.render(&FormPage {
        ctx: ctx.clone(),
        crumbs,
        title,
        action,
        mode,
        version,
        amendment,
        groups,
        summary,
        message: failure.map(|f| f.message),
    })?;
    Ok((status, html).into_response())
}

async fn new_page(ctx: PageCtx, State(state): State<AppState>) -> PageResponse {
    render_form(&ctx, &state, Mode::Create, None, None).await
}

async fn edit_page(ctx: PageCtx, State(state): State<AppState>, Path(id): Path<String>) -> PageResponse {
    render_form(&ctx, &state, Mode::Edit, Some(&id), None).await
}

async fn amendment_page(ctx: PageCtx, State(state): State<AppState>, Path(id): Path<String>) -> PageResponse {
    render_form(&ctx, &state, Mode::Amend, Some(&id), None).await
}

async fn create_convention(
    ctx: PageCtx,
    State(state): State<AppState>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let fields = Fields(pairs);
    let (input, rows) = read_text(&fields);
    let result = match input {
        Ok(input) => conv::create_convention(&state.db, p, &input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(v) => Ok(Redirect::to(&format!("/conventions/{}", v.convention.id)).into_response()),
        Err(e) => {
            let e = renumbered(e, &rows);
            let f = failure(&ctx, &fields, e)?;
            render_form(&ctx, &state, Mode::Create, None, Some(f)).await
        }
    }
}

fn renumbered(e: CoreError, rows: &Rows) -> CoreError {
    match e {
        CoreError::Validation(errors) => CoreError::Validation(rows.renumber(errors)),
        other => other,
    }
}

async fn update_convention(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let fields = Fields(pairs);
    let (input, rows) = read_text(&fields);
    let result = match input {
        Ok(input) => conv::update_convention(&state.db, p, &id, fields.version(), &input).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/conventions/{id}")).into_response()),
        Err(e) => {
            let e = renumbered(e, &rows);
            let f = failure(&ctx, &fields, e)?;
            render_form(&ctx, &state, Mode::Edit, Some(&id), Some(f)).await
        }
    }
}

async fn apply_amendment(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let fields = Fields(pairs);
    let (input, rows) = read_text(&fields);
    let mut errors = Vec::new();
    let date = fields.date("avenant.date", &mut errors);
    if date.is_none() && errors.is_empty() {
        errors.push(FieldError::new("avenant.date", "obligatoire"));
    }
    let result = match (input, date) {
        (Ok(content), Some(signed_on)) if errors.is_empty() => {
            let amendment = AmendmentInput {
                signed_on,
                object: fields.text("avenant.objet"),
                content,
            };
            conv::apply_amendment(&state.db, p, &id, fields.version(), &amendment).await
        }
        (Err(CoreError::Validation(more)), _) => {
            errors.extend(more);
            Err(CoreError::Validation(errors))
        }
        (Err(e), _) => Err(e),
        _ => Err(CoreError::Validation(errors)),
    };
    match result {
        Ok(_) => Ok(Redirect::to(&format!("/conventions/{id}#versions")).into_response()),
        Err(e) => {
            let e = renumbered(e, &rows);
            let f = failure(&ctx, &fields, e)?;
            render_form(&ctx, &state, Mode::Amend, Some(&id), Some(f)).await
        }
    }
}

// ---------------------------------------------------------------------------------------
// The register

#[derive(Template)]
#[template(path = "convention/list.html")]
struct RegisterPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    q: ConventionsQuery,
    items: Vec<ConventionSummary>,
    departements: Vec<DeptRow>,
    /// The SVG map of `departements` (its data is the table printed beside it).
    map_svg: String,
    all_departements: Vec<(String, String)>,
    kinds: &'static [ConventionKind],
    statuses: &'static [ConventionStatus],
    export_query: String,
    message: Option<String>,
}

/// The map of France of the conventions in force: each département coloured by whether a
/// commitment is late, the share kept written in its tile.
fn departements_map(ctx: &PageCtx, rows: &[DeptRow]) -> String {
    use crate::charts::Bucket;
    use crate::charts::map::{Tile, departement_map};
    let tiles: Vec<Tile> = rows
        .iter()
        .map(|d| Tile {
            code: d.code.clone(),
            label: format!(
                "{} : {} {}, {}",
                d.label,
                d.in_force,
                ctx.t("conv-in-force"),
                percent(&d.compliance)
            ),
            value_text: d
                .value()
                .map_or_else(|| d.in_force.to_string(), |p| format!("{p} %")),
            class: match d.status {
                "en-retard" => Bucket::Bad,
                "a-jour" => Bucket::Good,
                _ => Bucket::Neutral,
            },
        })
        .collect();
    let legend = [
        (Bucket::Good, ctx.t("conv-map-ok")),
        (Bucket::Bad, ctx.t("conv-map-late")),
        (Bucket::Neutral, ctx.t("conv-map-nodue")),
    ];
    departement_map(
        ctx.lang,
        &ctx.t("conv-map-title"),
        &ctx.t("conv-map-desc"),
        &tiles,
        &legend,
    )
}

/// The DSFR badge of a convention's status.
pub fn status_badge(status: &ConventionStatus) -> &'static str {
    match status {
        ConventionStatus::EnVigueur | ConventionStatus::Renouvelee => "fr-badge--success",
        ConventionStatus::Signee => "fr-badge--info",
        ConventionStatus::Echue | ConventionStatus::Resiliee => "fr-badge--warning",
        ConventionStatus::Projet | ConventionStatus::EnNegociation => "fr-badge--new",
    }
}

/// The DSFR badge of a commitment's status.
pub fn commitment_badge(status: &CommitmentStatus) -> &'static str {
    match status {
        CommitmentStatus::Tenu => "fr-badge--success",
        CommitmentStatus::EnRetard | CommitmentStatus::NonTenu => "fr-badge--error",
        CommitmentStatus::EnCours => "fr-badge--info",
        CommitmentStatus::Prevu => "fr-badge--new",
    }
}

/// A percentage, or a dash.
pub fn percent(c: &Compliance) -> String {
    c.percent().map_or_else(|| "—".to_owned(), |p| format!("{p} %"))
}

async fn register_page(
    ctx: PageCtx,
    State(state): State<AppState>,
    Query(q): Query<ConventionsQuery>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let today = conv::today();
    let listed = match conv::list_conventions(&state.db, p, &q.filter(), today).await {
        Ok(items) => match q.departement.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            Some(code) => in_departement(&state.db, items, code).await,
            None => Ok(items),
        },
        Err(e) => Err(e),
    };
    let (items, message) = match listed {
        Ok(items) => (items, None),
        Err(CoreError::BadRequest(f) | CoreError::Validation(f)) => (
            Vec::new(),
            Some(
                f.iter()
                    .map(|e| format!("{} : {}", e.field, e.message))
                    .collect::<Vec<_>>()
                    .join(" ; "),
            ),
        ),
        Err(e) => return Err(ctx.error(e)),
    };
    let departements = by_departement(&state.db, &items)
        .await
        .map_err(|e| ctx.error(e))?;
    let map_svg = departements_map(&ctx, &departements);
    let all_departements = territory::list_departements(&state.db, None)
        .await
        .map_err(|e| ctx.error(e))?
        .into_iter()
        .map(|d| (d.code.clone(), format!("{} ({})", d.nom, d.code)))
        .collect();
    let mut export_query = String::new();
    for (k, v) in [
        ("type", &q.kind),
        ("statut", &q.statut),
        ("partie", &q.partie),
        ("departement", &q.departement),
    ] {
        if let Some(v) = v.as_deref().filter(|v| !v.trim().is_empty()) {
            let _ = write!(export_query, "{k}={}&", crate::pages::url_encode(v));
        }
    }
    let status = if message.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let html = ctx.render(&RegisterPage {
        ctx: ctx.clone(),
        crumbs: Crumbs::new(ctx.t("conv-register")),
        q,
        items,
        departements,
        map_svg,
        all_departements,
        kinds: ConventionKind::ALL,
        statuses: ConventionStatus::ALL,
        export_query,
        message,
    })?;
    Ok((status, html).into_response())
}

// ---------------------------------------------------------------------------------------
// One convention

/// The commitments a party owes, with its compliance.
struct PartyBlock {
    reference: String,
    name: String,
    compliance: Compliance,
    commitments: Vec<CommitmentState>,
}

/// A line of the history.
struct HistoryRow {
    at: time::OffsetDateTime,
    actor: String,
    action: String,
    details: Vec<String>,
}

#[derive(Template)]
#[template(path = "convention/show.html")]
struct ConventionPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    v: ConventionView,
    reason: String,
    blocks: Vec<PartyBlock>,
    /// The years of the annex, and the rows of the totals (funder, amount per year, total).
    years: Vec<i64>,
    totals: Vec<(String, Vec<i64>, i64)>,
    versions: Vec<VersionInfo>,
    history: Vec<HistoryRow>,
    draft: bool,
    amendable: bool,
    event_inputs: Vec<Input>,
    event_summary: Vec<Summary>,
    pieces: Vec<gouvernail_core::convention::attachment::Attachment>,
    /// The upload's error, next to the file input.
    upload_error: Option<String>,
    max_upload_mib: usize,
    pdf: bool,
    message: Option<String>,
}

/// Why the convention stands where it does, in a sentence.
fn reason(ctx: &PageCtx, v: &ConventionView) -> String {
    let s = &v.standing;
    let date = |d: Date| ctx.date(d);
    let unsigned: Vec<&str> = v
        .parties
        .iter()
        .filter(|p| p.signature_date.is_none())
        .map(|p| p.name.as_str())
        .collect();
    match s.status {
        ConventionStatus::Projet | ConventionStatus::EnNegociation => {
            format!("{} {}", ctx.t("conv-reason-unsigned"), unsigned.join(", "))
        }
        ConventionStatus::Signee => format!(
            "{} {}",
            ctx.t("conv-reason-signed"),
            s.start.map(date).unwrap_or_default()
        ),
        ConventionStatus::EnVigueur => match s.end {
            Some(end) => format!(
                "{} {} {} {}",
                ctx.t("conv-reason-in-force-since"),
                s.start.map(date).unwrap_or_default(),
                ctx.t("conv-reason-until"),
                date(end)
            ),
            None => format!(
                "{} {} {}",
                ctx.t("conv-reason-in-force-since"),
                s.start.map(date).unwrap_or_default(),
                ctx.t("conv-reason-no-end")
            ),
        },
        ConventionStatus::Renouvelee => format!(
            "{} ({}) {} {}",
            ctx.t("conv-reason-renewed"),
            s.renewals.max(1),
            ctx.t("conv-reason-until"),
            s.end.map(date).unwrap_or_default()
        ),
        ConventionStatus::Echue => format!(
            "{} {}",
            ctx.t("conv-reason-expired"),
            s.end.map(date).unwrap_or_default()
        ),
        ConventionStatus::Resiliee => format!(
            "{} {}",
            ctx.t("conv-reason-terminated"),
            s.end.map(date).unwrap_or_default()
        ),
    }
}

fn event_groups(ctx: &PageCtx, values: &HashMap<String, String>, errors: &[FieldError]) -> Vec<Input> {
    let b = Builder { values, errors };
    vec![
        required(b.input(
            "type",
            ctx.t("conv-event-kind"),
            options(ctx, "conv-event", EventKind::ALL, EventKind::as_str, false),
        )),
        required(b.input("date", ctx.t("conv-event-date"), Kind::Date)),
        hint(
            b.input("nouvelleFin", ctx.t("conv-new-end"), Kind::Date),
            ctx.t("conv-new-end-hint"),
        ),
        b.input("note", ctx.t("conv-note"), Kind::Area(2)),
    ]
}

fn history_rows(entries: Vec<gouvernail_core::audit::AuditEntry>) -> Vec<HistoryRow> {
    entries
        .into_iter()
        .map(|e| {
            let after: Option<serde_json::Value> =
                e.after_json.as_deref().and_then(|s| serde_json::from_str(s).ok());
            let details = after
                .as_ref()
                .and_then(|a| a.get("changements"))
                .and_then(|c| c.as_array())
                .map(|changes| {
                    changes
                        .iter()
                        .map(|c| {
                            let s = |k: &str| c.get(k).and_then(|v| v.as_str()).unwrap_or("—").to_owned();
                            format!(
                                "{} · {} : {} → {}",
                                s("element"),
                                s("champ"),
                                s("avant"),
                                s("apres")
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            HistoryRow {
                at: e.at,
                actor: e.actor_label,
                action: format!("{} {}", e.action, e.object_kind),
                details,
            }
        })
        .collect()
}

async fn render_convention(
    ctx: &PageCtx,
    state: &AppState,
    id: &str,
    failure: Option<Failure>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let today = conv::today();
    let v = conv::get_convention(&state.db, p, id, today)
        .await
        .map_err(|e| ctx.error(e))?;
    let versions = conv::versions(&state.db, p, id).await.map_err(|e| ctx.error(e))?;
    let history = history_rows(conv::history(&state.db, p, id).await.map_err(|e| ctx.error(e))?);
    let blocks = v
        .parties
        .iter()
        .map(|party| PartyBlock {
            reference: party.reference.clone(),
            name: party.name.clone(),
            compliance: v
                .compliance_by_party
                .iter()
                .find(|c| c.party_ref == party.reference)
                .map(|c| c.compliance)
                .unwrap_or_default(),
            commitments: v
                .commitments
                .iter()
                .filter(|c| c.commitment.party_ref == party.reference)
                .cloned()
                .collect(),
        })
        .collect();
    let years: Vec<i64> = v.totals.by_year.iter().map(|(y, _)| *y).collect();
    let name_of = |r: &str| {
        v.parties
            .iter()
            .find(|p| p.reference == r)
            .map_or_else(|| r.to_owned(), |p| p.name.clone())
    };
    let totals = v
        .totals
        .by_funder
        .iter()
        .map(|(funder, total)| {
            let per_year = years
                .iter()
                .map(|y| {
                    v.totals
                        .by_funder_year
                        .iter()
                        .find(|(f, year, _)| f == funder && year == y)
                        .map_or(0, |(_, _, c)| *c)
                })
                .collect();
            (name_of(funder), per_year, *total)
        })
        .collect();
    let draft = matches!(
        v.standing.status,
        ConventionStatus::Projet | ConventionStatus::EnNegociation
    );
    let amendable = !draft && v.standing.status != ConventionStatus::Resiliee;
    let (values, errors, message, status) = match failure {
        Some(f) => (f.values, f.errors, Some(f.message), f.status),
        None => {
            let mut values = HashMap::new();
            values.insert("date".to_owned(), today.to_string());
            (values, Vec::new(), None, StatusCode::OK)
        }
    };
    let event_inputs = event_groups(ctx, &values, &errors);
    let file = Builder {
        values: &values,
        errors: &errors,
    }
    .input("fichier", ctx.t("conv-file"), Kind::Text);
    let upload_error = file.error.clone();
    let event_summary = summary(
        &[Group {
            id: "evenement".into(),
            legend: String::new(),
            inputs: event_inputs.iter().cloned().chain([file]).collect(),
            hidden: Vec::new(),
        }],
        &errors,
    );
    let pieces = gouvernail_core::convention::attachment::list(&state.db, p, id)
        .await
        .map_err(|e| ctx.error(e))?;
    let reason = reason(ctx, &v);
    let crumbs = Crumbs::new(v.convention.title.clone()).link("/conventions", ctx.t("conv-register"));
    let html = ctx.render(&ConventionPage {
        ctx: ctx.clone(),
        crumbs,
        reason,
        blocks,
        years,
        totals,
        versions,
        history,
        draft,
        amendable,
        event_inputs,
        event_summary,
        pieces,
        upload_error,
        max_upload_mib: state.config.storage.max_bytes / (1024 * 1024),
        pdf: cfg!(feature = "pdf"),
        message,
        v,
    })?;
    Ok((status, html).into_response())
}

async fn convention_page(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> PageResponse {
    render_convention(&ctx, &state, &id, None).await
}

async fn record_event(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let fields = Fields(pairs);
    let mut errors = Vec::new();
    let date = fields.date("date", &mut errors);
    let new_end = fields.date("nouvelleFin", &mut errors);
    if date.is_none() && errors.is_empty() {
        errors.push(FieldError::new("date", "obligatoire"));
    }
    let result = match (validation(errors), date) {
        (Ok(()), Some(date)) => {
            let event = EventInput {
                kind: fields.text("type"),
                date,
                new_end,
                note: fields.text("note"),
            };
            conv::record_event(&state.db, p, &id, fields.version(), &event)
                .await
                .map(|_| ())
        }
        (Err(e), _) => Err(e),
        (Ok(()), None) => Err(CoreError::Validation(vec![FieldError::new(
            "date",
            "obligatoire",
        )])),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/conventions/{id}")).into_response()),
        Err(e) => {
            let f = failure(&ctx, &fields, e)?;
            render_convention(&ctx, &state, &id, Some(f)).await
        }
    }
}

async fn upload_piece(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    form: Result<axum::extract::Multipart, axum::extract::multipart::MultipartRejection>,
) -> PageResponse {
    use gouvernail_core::convention::attachment;
    let p = ctx.require_user()?;
    let storage = &state.config.storage;
    let result = match form {
        Ok(form) => match super::api::read_file(form, storage.max_bytes).await {
            Ok((name, bytes)) => attachment::upload(&state.db, storage, p, &id, &name, &bytes)
                .await
                .map(|_| ()),
            Err(e) => Err(e),
        },
        Err(e) => Err(CoreError::Validation(vec![FieldError::new(
            "fichier",
            e.body_text(),
        )])),
    };
    match result {
        Ok(()) => Ok(Redirect::to(&format!("/conventions/{id}#pieces")).into_response()),
        Err(e) => {
            let f = failure(&ctx, &Fields::default(), e)?;
            render_convention(&ctx, &state, &id, Some(f)).await
        }
    }
}

async fn delete_piece(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path((id, pid)): Path<(String, String)>,
) -> PageResponse {
    let p = ctx.require_user()?;
    match gouvernail_core::convention::attachment::delete(&state.db, &state.config.storage, p, &id, &pid)
        .await
    {
        Ok(()) => Ok(Redirect::to(&format!("/conventions/{id}#pieces")).into_response()),
        Err(e) => {
            let f = failure(&ctx, &Fields::default(), e)?;
            render_convention(&ctx, &state, &id, Some(f)).await
        }
    }
}

// ---------------------------------------------------------------------------------------
// Versions and their comparison

#[derive(Template)]
#[template(path = "convention/versions.html")]
struct VersionsPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    id: String,
    title: String,
    versions: Vec<VersionInfo>,
    a: i64,
    b: i64,
    changes: Option<Vec<Change>>,
}

#[derive(Debug, Default, Deserialize)]
struct CompareQuery {
    a: Option<String>,
    b: Option<String>,
}

async fn versions_page(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(id): Path<String>,
    Query(q): Query<CompareQuery>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let v = conv::get_convention(&state.db, p, &id, conv::today())
        .await
        .map_err(|e| ctx.error(e))?;
    let versions = conv::versions(&state.db, p, &id)
        .await
        .map_err(|e| ctx.error(e))?;
    let number = |name: &str, text: Option<&str>| -> Result<Option<i64>, PageError> {
        match text.map(str::trim).filter(|t| !t.is_empty()) {
            None => Ok(None),
            Some(t) => t.parse::<i64>().map(Some).map_err(|_| {
                ctx.error(CoreError::bad_request(
                    name,
                    format!("« {t} » : numéro de version attendu"),
                ))
            }),
        }
    };
    let a = number("a", q.a.as_deref())?;
    let b = number("b", q.b.as_deref())?;
    let last = versions.last().map_or(0, |x| x.number);
    let (a, b, changes) = match (a, b) {
        (Some(a), Some(b)) => (
            a,
            b,
            Some(
                conv::compare_versions(&state.db, p, &id, a, b)
                    .await
                    .map_err(|e| ctx.error(e))?,
            ),
        ),
        _ => (last.saturating_sub(1).max(0), last, None),
    };
    let html = ctx.render(&VersionsPage {
        ctx: ctx.clone(),
        crumbs: Crumbs::new(ctx.t("conv-versions"))
            .link("/conventions", ctx.t("conv-register"))
            .link(format!("/conventions/{id}"), v.convention.title.clone()),
        title: v.convention.title,
        id,
        versions,
        a,
        b,
        changes,
    })?;
    Ok(html.into_response())
}

// ---------------------------------------------------------------------------------------
// Reporting on a commitment

#[derive(Template)]
#[template(path = "convention/report.html")]
struct ReportPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    convention_id: String,
    state: CommitmentState,
    can_report: bool,
    version: i64,
    inputs: Vec<Input>,
    summary: Vec<Summary>,
    message: Option<String>,
}

async fn render_report(
    ctx: &PageCtx,
    state: &AppState,
    id: &str,
    eid: &str,
    failure: Option<Failure>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let v = conv::get_convention(&state.db, p, id, conv::today())
        .await
        .map_err(|e| ctx.error(e))?;
    let Some(s) = v.commitments.iter().find(|c| c.commitment.id == eid).cloned() else {
        return Err(ctx.error(CoreError::not_found("engagement", eid)));
    };
    let c = &s.commitment;
    let can_report = v.can_write || v.can_report.contains(&c.party_ref);
    let (values, errors, message, status) = match failure {
        Some(f) => (f.values, f.errors, Some(f.message), f.status),
        None => {
            let mut values = HashMap::new();
            values.insert("statut".to_owned(), c.status.clone());
            values.insert("note".to_owned(), c.evidence_note.clone());
            values.insert("lien".to_owned(), c.evidence_link.clone().unwrap_or_default());
            values.insert(
                "document".to_owned(),
                c.evidence_document.clone().unwrap_or_default(),
            );
            values.insert(
                "valeurIndicateur".to_owned(),
                c.indicator_value.clone().unwrap_or_default(),
            );
            (values, Vec::new(), None, StatusCode::OK)
        }
    };
    let version = values
        .get("version")
        .and_then(|v| v.parse().ok())
        .unwrap_or(c.version);
    let b = Builder {
        values: &values,
        errors: &errors,
    };
    let inputs = vec![
        required(b.input(
            "statut",
            ctx.t("conv-status"),
            options(
                ctx,
                "conv-commitment-status",
                CommitmentStatus::ALL,
                CommitmentStatus::as_str,
                false,
            ),
        )),
        b.input("note", ctx.t("conv-evidence-note"), Kind::Area(3)),
        hint(
            b.input("lien", ctx.t("conv-evidence-link"), Kind::Text),
            ctx.t("conv-evidence-link-hint"),
        ),
        b.input("document", ctx.t("conv-evidence-document"), Kind::Text),
        b.input("valeurIndicateur", ctx.t("conv-indicator-value"), Kind::Text),
    ];
    let summary = summary(
        &[Group {
            id: "compte-rendu".into(),
            legend: String::new(),
            inputs: inputs.clone(),
            hidden: Vec::new(),
        }],
        &errors,
    );
    let crumbs = Crumbs::new(format!("{} {}", ctx.t("conv-commitment"), c.code()))
        .link("/conventions", ctx.t("conv-register"))
        .link(format!("/conventions/{id}"), v.convention.title.clone());
    let html = ctx.render(&ReportPage {
        ctx: ctx.clone(),
        crumbs,
        convention_id: id.to_owned(),
        state: s,
        can_report,
        version,
        inputs,
        summary,
        message,
    })?;
    Ok((status, html).into_response())
}

async fn report_page(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path((id, eid)): Path<(String, String)>,
) -> PageResponse {
    render_report(&ctx, &state, &id, &eid, None).await
}

async fn report_commitment(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path((id, eid)): Path<(String, String)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let fields = Fields(pairs);
    let clearable = |name: &str| {
        fields
            .get(name)
            .map(|v| Some(v.trim().to_owned()).filter(|v| !v.is_empty()))
    };
    let report = CommitmentReport {
        status: fields.opt("statut"),
        evidence_note: fields.get("note").map(str::to_owned),
        evidence_link: clearable("lien"),
        evidence_document: clearable("document"),
        indicator_value: clearable("valeurIndicateur"),
    };
    match conv::report_commitment(&state.db, p, &eid, fields.version(), &report).await {
        Ok(s) if s.commitment.convention_id == id => {
            Ok(Redirect::to(&format!("/conventions/{id}#engagements")).into_response())
        }
        Ok(s) => Ok(Redirect::to(&format!(
            "/conventions/{}#engagements",
            s.commitment.convention_id
        ))
        .into_response()),
        Err(e) => {
            let f = failure(&ctx, &fields, e)?;
            render_report(&ctx, &state, &id, &eid, Some(f)).await
        }
    }
}

// ---------------------------------------------------------------------------------------
// Cross-views: one organisation's commitments, the late ones

#[derive(Template)]
#[template(path = "convention/commitments.html")]
struct CommitmentsPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    title: String,
    /// The cross-view's form (absent on the late list).
    party: Option<String>,
    lines: Vec<CommitmentLine>,
    late: i64,
    export: String,
    message: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct PartyQuery {
    partie: Option<String>,
    academie: Option<String>,
}

fn late_count(lines: &[CommitmentLine]) -> i64 {
    i64::try_from(lines.iter().filter(|l| l.state.followed.late).count()).unwrap_or(i64::MAX)
}

async fn cross_view_page(
    ctx: PageCtx,
    State(state): State<AppState>,
    Query(q): Query<PartyQuery>,
) -> PageResponse {
    let p = ctx.require_user()?;
    let party = q.partie.as_deref().map(str::trim).unwrap_or("").to_owned();
    let (lines, message) = if party.is_empty() {
        (Vec::new(), None)
    } else {
        match conv::commitments_of(&state.db, p, &party, conv::today()).await {
            Ok(lines) => (lines, None),
            Err(CoreError::BadRequest(f) | CoreError::Validation(f)) => (
                Vec::new(),
                Some(
                    f.iter()
                        .map(|e| format!("{} : {}", e.field, e.message))
                        .collect::<Vec<_>>()
                        .join(" ; "),
                ),
            ),
            Err(e) => return Err(ctx.error(e)),
        }
    };
    let status = if message.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let html = ctx.render(&CommitmentsPage {
        ctx: ctx.clone(),
        crumbs: Crumbs::new(ctx.t("conv-cross-view")).link("/conventions", ctx.t("conv-register")),
        title: ctx.t("conv-cross-view"),
        late: late_count(&lines),
        export: format!("partie={}&", crate::pages::url_encode(&party)),
        party: Some(party),
        lines,
        message,
    })?;
    Ok((status, html).into_response())
}

async fn late_page(ctx: PageCtx, State(state): State<AppState>, Query(q): Query<PartyQuery>) -> PageResponse {
    let p = ctx.require_user()?;
    let academie = q.academie.as_deref().map(str::trim).filter(|a| !a.is_empty());
    let lines = conv::late_commitments(&state.db, p, academie, conv::today())
        .await
        .map_err(|e| ctx.error(e))?;
    let export = academie
        .map(|a| format!("academie={}&", crate::pages::url_encode(a)))
        .unwrap_or_default();
    let html = ctx.render(&CommitmentsPage {
        ctx: ctx.clone(),
        crumbs: Crumbs::new(ctx.t("conv-late")).link("/conventions", ctx.t("conv-register")),
        title: ctx.t("conv-late"),
        late: late_count(&lines),
        party: None,
        lines,
        export,
        message: None,
    })?;
    Ok(html.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_rows_are_skipped_and_errors_keep_the_form_row() {
        let fields = Fields(vec![
            ("type".into(), "bipartite".into()),
            ("parties[0].reference".into(), "academie:14".into()),
            ("parties[1].reference".into(), String::new()),
            ("parties[2].reference".into(), "collectivite:223500018".into()),
            ("engagements[0].partie".into(), String::new()),
            ("engagements[1].partie".into(), "academie:14".into()),
            ("engagements[1].echeance".into(), "demain".into()),
            ("cofinancements[0].financeur".into(), "academie:14".into()),
            ("cofinancements[0].tauxMin".into(), "52,5".into()),
        ]);
        let (input, rows) = read_text(&fields);
        assert_eq!(rows.parties, [0, 2]);
        assert_eq!(rows.commitments, [1]);
        match input {
            Err(CoreError::Validation(f)) => assert_eq!(f[0].field, "engagements[1].echeance"),
            other => panic!("{other:?}"),
        }
        let renamed = rows.renumber(vec![
            FieldError::new("parties[1].siren", "clé"),
            FieldError::new("engagements[0].partie", "absente"),
        ]);
        assert_eq!(renamed[0].field, "parties[2].siren");
        assert_eq!(renamed[1].field, "engagements[1].partie");
        let fields = Fields(vec![("cofinancements[0].tauxMin".into(), "52,5".into())]);
        assert_eq!(
            fields.rate("cofinancements[0].tauxMin", &mut Vec::new()),
            Some(5250)
        );
    }
}
