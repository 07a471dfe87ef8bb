//! `/api/v1/indicateurs`, `/api/v1/valeurs`, `/api/v1/campagnes`: the indicator dictionary,
//! values and their workflow, consolidation with drill-down, imports, campaigns; and the
//! open data of the public indicators under `/donnees/indicateurs` (no sign-in).
//!
//! Numbers travel as decimal strings (`"12.5"`): they are exact decimals in the core.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use gouvernail_core::indicator::campaign as camp;
use gouvernail_core::indicator::consolidate::{self, ConsolidationQuery};
use gouvernail_core::indicator::import::{self as imp, Mapping};
use gouvernail_core::indicator::service as ind;
use gouvernail_core::indicator::{opendata, *};
use gouvernail_core::{CoreError, FieldError};
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::{IntoParams, ToSchema};

use crate::api::{ApiJson, ApiQuery};
use crate::auth::User;
use crate::error::{ApiResult, ErrorBody};
use crate::export::{Cell, ExportFormat, Tabular, file_response};
use crate::state::AppState;

fn dec(v: Option<i64>) -> Option<String> {
    v.map(|v| Dec(v).machine())
}

fn dec_cell(v: &Option<String>) -> Cell {
    v.as_deref()
        .and_then(Dec::parse)
        .map_or(Cell::Empty, |d| Cell::Float(d.0 as f64 / 10_000.0))
}

// --- Indicators -------------------------------------------------------------------------------

/// An indicator of the dictionary.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct IndicateurDto {
    pub code: String,
    /// `national` or `academie:CODE`.
    pub proprietaire: String,
    pub libelle: String,
    pub definition: String,
    pub unite: String,
    /// `hausse` (higher is better) or `baisse`.
    pub sens: String,
    /// `nombre`, `montant`, `pourcentage` or `ratio`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `somme`, `ratio-des-sommes`, `moyenne-ponderee`, `min`, `max` or `derniere`.
    pub agregation: String,
    /// `annee` (2025), `annee-scolaire` (2025-2026), `trimestre` (2025-T3) or `mois` (2025-09).
    pub periodicite: String,
    pub source: String,
    /// `etablissement`, `commune`, `departement`, `academie`, `region-academique`, `national`.
    pub niveau_saisie: String,
    /// A ratio's value is facteur × numérateur ÷ dénominateur.
    pub facteur: i64,
    pub seuil_vert: Option<String>,
    pub seuil_rouge: Option<String>,
    pub public: bool,
    /// Computed by the platform from the collectivités' inventories:
    /// `terminaux-pour-100-eleves`, `salles-wifi` or `socle-numerique-ecoles`.
    pub formule: Option<String>,
    pub version: i64,
    /// `projet:ID` and `action:ID` (detail only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub liens: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cibles: Option<Vec<CibleDto>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peut_modifier: Option<bool>,
}

impl From<Indicator> for IndicateurDto {
    fn from(i: Indicator) -> Self {
        Self {
            proprietaire: i.owner_text(),
            code: i.code,
            libelle: i.label,
            definition: i.definition,
            unite: i.unit,
            sens: i.direction,
            kind: i.kind,
            agregation: i.aggregation,
            periodicite: i.periodicity,
            source: i.source,
            niveau_saisie: i.capture_level,
            facteur: i.factor,
            seuil_vert: dec(i.green_e4),
            seuil_rouge: dec(i.red_e4),
            public: i.public,
            formule: i.formula,
            version: i.version,
            liens: None,
            cibles: None,
            peut_modifier: None,
        }
    }
}

impl Tabular for IndicateurDto {
    fn headers() -> &'static [&'static str] {
        &[
            "code",
            "proprietaire",
            "libelle",
            "unite",
            "sens",
            "type",
            "agregation",
            "periodicite",
            "source",
            "niveauSaisie",
            "seuilVert",
            "seuilRouge",
            "public",
        ]
    }
    fn cells(&self) -> Vec<Cell> {
        vec![
            self.code.as_str().into(),
            self.proprietaire.as_str().into(),
            self.libelle.as_str().into(),
            self.unite.as_str().into(),
            self.sens.as_str().into(),
            self.kind.as_str().into(),
            self.agregation.as_str().into(),
            self.periodicite.as_str().into(),
            self.source.as_str().into(),
            self.niveau_saisie.as_str().into(),
            dec_cell(&self.seuil_vert),
            dec_cell(&self.seuil_rouge),
            self.public.into(),
        ]
    }
}

/// A baseline or a target.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CibleDto {
    pub perimetre: String,
    pub periode: String,
    /// `reference` (baseline) or `cible` (target).
    #[serde(rename = "type")]
    pub kind: String,
    /// Empty to remove it.
    pub valeur: String,
}

impl From<IndicatorView> for IndicateurDto {
    fn from(v: IndicatorView) -> Self {
        let mut dto = IndicateurDto::from(v.indicator);
        dto.liens = Some(
            v.links
                .into_iter()
                .map(|l| format!("{}:{}", l.ref_kind, l.ref_id))
                .collect(),
        );
        dto.cibles = Some(
            v.targets
                .into_iter()
                .map(|t| CibleDto {
                    perimetre: if t.perimeter_code.is_empty() {
                        t.perimeter_kind
                    } else {
                        format!("{}:{}", t.perimeter_kind, t.perimeter_code)
                    },
                    periode: t.period,
                    kind: t.kind,
                    valeur: Dec(t.value_e4).machine(),
                })
                .collect(),
        );
        dto.peut_modifier = Some(v.can_write);
        dto
    }
}

/// Filters of the dictionary.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct IndicateursQuery {
    /// `national` or `academie:CODE`.
    pub proprietaire: Option<String>,
    /// `json` (default), `csv` or `xlsx`.
    #[param(value_type = Option<String>)]
    pub format: Option<ExportFormat>,
}

/// The dictionary: national indicators and the académies' own that the caller reads.
#[utoipa::path(get, path = "/api/v1/indicateurs", tag = "indicateurs", params(IndicateursQuery),
    responses(
        (status = 200, description = "Les indicateurs.", body = Vec<IndicateurDto>),
        (status = 401, description = "Non authentifié.", body = ErrorBody)
    ))]
pub async fn list_indicators(
    State(state): State<AppState>,
    User(p): User,
    ApiQuery(q): ApiQuery<IndicateursQuery>,
) -> ApiResult<Response> {
    let all: Vec<IndicateurDto> = ind::indicators(&state.db, &p, q.proprietaire.as_deref())
        .await?
        .into_iter()
        .map(IndicateurDto::from)
        .collect();
    match q.format.unwrap_or_default() {
        ExportFormat::Json => Ok(Json(all).into_response()),
        f => Ok(file_response(f, "indicateurs", &all)?),
    }
}

/// A new indicator, or a change to one.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct IndicateurInputDto {
    /// Required to change an indicator.
    pub version: Option<i64>,
    pub code: Option<String>,
    /// `national` (default) or `academie:CODE`.
    pub proprietaire: Option<String>,
    pub libelle: Option<String>,
    pub definition: Option<String>,
    pub unite: Option<String>,
    pub sens: Option<String>,
    #[serde(rename = "type")]
    pub kind: Option<String>,
    pub agregation: Option<String>,
    pub periodicite: Option<String>,
    pub source: Option<String>,
    pub niveau_saisie: Option<String>,
    pub facteur: Option<i64>,
    /// A decimal; empty removes it.
    pub seuil_vert: Option<String>,
    pub seuil_rouge: Option<String>,
    pub public: Option<bool>,
    /// `terminaux-pour-100-eleves`, `salles-wifi` or `socle-numerique-ecoles` (a ratio captured
    /// by school, per school year); empty: entered again.
    pub formule: Option<String>,
}

impl IndicateurInputDto {
    fn input(&self) -> IndicatorInput {
        IndicatorInput {
            code: self.code.clone(),
            owner: self.proprietaire.clone(),
            label: self.libelle.clone(),
            definition: self.definition.clone(),
            unit: self.unite.clone(),
            direction: self.sens.clone(),
            kind: self.kind.clone(),
            aggregation: self.agregation.clone(),
            periodicity: self.periodicite.clone(),
            source: self.source.clone(),
            capture_level: self.niveau_saisie.clone(),
            factor: self.facteur,
            green: self.seuil_vert.clone(),
            red: self.seuil_rouge.clone(),
            public: self.public,
            formula: self.formule.clone(),
        }
    }
}

/// Creates an indicator (national: national administrators and project leads; an
/// académie's own: its writers).
#[utoipa::path(post, path = "/api/v1/indicateurs", tag = "indicateurs", request_body = IndicateurInputDto,
    responses(
        (status = 201, description = "L'indicateur.", body = IndicateurDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Pas d'écriture pour ce propriétaire.", body = ErrorBody),
        (status = 422, description = "Données invalides (champ nommé).", body = ErrorBody)
    ))]
pub async fn create_indicator(
    State(state): State<AppState>,
    User(p): User,
    ApiJson(input): ApiJson<IndicateurInputDto>,
) -> ApiResult<(StatusCode, Json<IndicateurDto>)> {
    let i = ind::create_indicator(&state.db, &p, &input.input()).await?;
    Ok((
        StatusCode::CREATED,
        Json(ind::indicator(&state.db, &p, &i.code).await?.into()),
    ))
}

/// An indicator with its links and targets.
#[utoipa::path(get, path = "/api/v1/indicateurs/{code}", tag = "indicateurs",
    params(("code" = String, Path, description = "Code de l'indicateur.")),
    responses(
        (status = 200, description = "L'indicateur.", body = IndicateurDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Inconnu (ou non visible).", body = ErrorBody)
    ))]
pub async fn get_indicator(
    State(state): State<AppState>,
    User(p): User,
    Path(code): Path<String>,
) -> ApiResult<Json<IndicateurDto>> {
    Ok(Json(ind::indicator(&state.db, &p, &code).await?.into()))
}

/// Changes an indicator; 409 on a stale `version`.
#[utoipa::path(patch, path = "/api/v1/indicateurs/{code}", tag = "indicateurs", request_body = IndicateurInputDto,
    params(("code" = String, Path, description = "Code de l'indicateur.")),
    responses(
        (status = 200, description = "L'indicateur.", body = IndicateurDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Pas d'écriture.", body = ErrorBody),
        (status = 404, description = "Inconnu (ou non visible).", body = ErrorBody),
        (status = 409, description = "Modifié entre-temps.", body = ErrorBody),
        (status = 422, description = "Données invalides (champ nommé).", body = ErrorBody)
    ))]
pub async fn update_indicator(
    State(state): State<AppState>,
    User(p): User,
    Path(code): Path<String>,
    ApiJson(input): ApiJson<IndicateurInputDto>,
) -> ApiResult<Json<IndicateurDto>> {
    let version = input.version.ok_or_else(|| {
        CoreError::Validation(vec![FieldError::new("version", "la version lue est requise")])
    })?;
    ind::update_indicator(&state.db, &p, &code, version, &input.input()).await?;
    Ok(Json(ind::indicator(&state.db, &p, &code).await?.into()))
}

/// What an indicator measures.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LiensDto {
    /// `projet:ID` and `action:ID` (the whole list).
    pub liens: Vec<String>,
}

/// Sets the national projects and roadmap actions an indicator measures.
#[utoipa::path(put, path = "/api/v1/indicateurs/{code}/liens", tag = "indicateurs", request_body = LiensDto,
    params(("code" = String, Path, description = "Code de l'indicateur.")),
    responses(
        (status = 200, description = "Les liens.", body = LiensDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Pas d'écriture.", body = ErrorBody),
        (status = 404, description = "Inconnu (ou non visible).", body = ErrorBody),
        (status = 422, description = "Lien inconnu (champ nommé).", body = ErrorBody)
    ))]
pub async fn set_links(
    State(state): State<AppState>,
    User(p): User,
    Path(code): Path<String>,
    ApiJson(input): ApiJson<LiensDto>,
) -> ApiResult<Json<LiensDto>> {
    let links = ind::set_links(&state.db, &p, &code, &input.liens).await?;
    Ok(Json(LiensDto {
        liens: links
            .into_iter()
            .map(|l| format!("{}:{}", l.ref_kind, l.ref_id))
            .collect(),
    }))
}

/// Sets (or removes) a baseline or a target for a perimeter and a period.
#[utoipa::path(put, path = "/api/v1/indicateurs/{code}/cibles", tag = "indicateurs", request_body = CibleDto,
    params(("code" = String, Path, description = "Code de l'indicateur.")),
    responses(
        (status = 200, description = "La cible (null si retirée).", body = Option<CibleDto>),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Pas d'écriture sur ce périmètre.", body = ErrorBody),
        (status = 404, description = "Inconnu (ou non visible).", body = ErrorBody),
        (status = 422, description = "Données invalides (champ nommé).", body = ErrorBody)
    ))]
pub async fn set_target(
    State(state): State<AppState>,
    User(p): User,
    Path(code): Path<String>,
    ApiJson(input): ApiJson<CibleDto>,
) -> ApiResult<Json<Option<CibleDto>>> {
    let t = ind::set_target(
        &state.db,
        &p,
        &code,
        &input.perimetre,
        &input.periode,
        &input.kind,
        &input.valeur,
    )
    .await?;
    Ok(Json(t.map(|t| CibleDto {
        perimetre: input.perimetre.trim().to_owned(),
        periode: t.period,
        kind: t.kind,
        valeur: Dec(t.value_e4).machine(),
    })))
}

/// A period to lock.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct VerrouillageDto {
    pub periode: String,
    /// `national` or `academie:CODE`.
    pub perimetre: String,
}

/// How many values were locked.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerrouillageResultDto {
    pub valeurs_verrouillees: u64,
}

/// Locks a period of an indicator nationally or in an académie (DAN, recteur, national
/// administrator).
#[utoipa::path(post, path = "/api/v1/indicateurs/{code}/verrouillage", tag = "indicateurs", request_body = VerrouillageDto,
    params(("code" = String, Path, description = "Code de l'indicateur.")),
    responses(
        (status = 200, description = "Période verrouillée.", body = VerrouillageResultDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Ni DAN, ni recteur, ni administrateur.", body = ErrorBody),
        (status = 404, description = "Inconnu (ou non visible).", body = ErrorBody),
        (status = 422, description = "Données invalides (champ nommé).", body = ErrorBody)
    ))]
pub async fn lock_period(
    State(state): State<AppState>,
    User(p): User,
    Path(code): Path<String>,
    ApiJson(input): ApiJson<VerrouillageDto>,
) -> ApiResult<Json<VerrouillageResultDto>> {
    let n = ind::lock_period(&state.db, &p, &code, &input.periode, &input.perimetre).await?;
    Ok(Json(VerrouillageResultDto {
        valeurs_verrouillees: n,
    }))
}

/// What a computation wrote.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CalculResultDto {
    /// The school year computed (the current one).
    pub periode: String,
    /// Values written (those unchanged are left as they are).
    pub valeurs_ecrites: u64,
}

/// Computes an indicator with a formula for every school whose collectivité declared its
/// inventory, for the current school year (the indicator's writers). Values follow each
/// declaration on their own; this computes them all, e.g. after giving an indicator its
/// formula.
#[utoipa::path(post, path = "/api/v1/indicateurs/{code}/calcul", tag = "indicateurs",
    params(("code" = String, Path, description = "Code de l'indicateur.")),
    responses(
        (status = 200, description = "Valeurs calculées.", body = CalculResultDto),
        (status = 400, description = "L'indicateur n'a pas de formule.", body = ErrorBody),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Ne peut pas modifier l'indicateur.", body = ErrorBody),
        (status = 404, description = "Inconnu (ou non visible).", body = ErrorBody)
    ))]
pub async fn compute(
    State(state): State<AppState>,
    User(p): User,
    Path(code): Path<String>,
) -> ApiResult<Json<CalculResultDto>> {
    let day = ind::today();
    let n = gouvernail_core::indicator::computed::recompute(&state.db, &p, &code, day).await?;
    Ok(Json(CalculResultDto {
        periode: gouvernail_core::indicator::school_year_of(day),
        valeurs_ecrites: n,
    }))
}

// --- Consolidation ----------------------------------------------------------------------------

/// How complete a figure is.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CompletudeDto {
    pub sous_perimetres_renseignes: i64,
    pub sous_perimetres_attendus: i64,
    pub sources_renseignees: i64,
    pub sources_attendues: i64,
    /// Share of the sources with data, whole percent.
    pub pourcentage_sources: i64,
    /// « 27 académies sur 30, 84 % des établissements ».
    pub texte: String,
}

/// A consolidated figure (or, at the capture level, a source value).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ChiffreDto {
    pub perimetre: String,
    pub libelle: String,
    pub niveau: String,
    pub valeur: Option<String>,
    pub numerateur: Option<String>,
    pub denominateur: Option<String>,
    /// `vert`, `orange`, `rouge`.
    pub statut_seuil: Option<String>,
    pub sources: i64,
    pub completude: CompletudeDto,
    /// At the capture level: the value (`/api/v1/valeurs/{id}`).
    pub valeur_id: Option<String>,
    pub statut: Option<String>,
}

fn plural(level: Level) -> &'static str {
    match level {
        Level::Etablissement => "établissements",
        Level::Commune => "communes",
        Level::Departement => "départements",
        Level::Academie => "académies",
        Level::RegionAcademique => "régions académiques",
        Level::National => "niveau national",
    }
}

fn chiffre(f: Figure, child: Option<Level>, capture: Level) -> ChiffreDto {
    let c = f.completeness;
    let texte = match child {
        Some(child) if child != capture => format!(
            "{} {} sur {}, {} % des {}",
            c.children_with_data,
            plural(child),
            c.children_expected,
            c.percent(),
            plural(capture)
        ),
        _ => format!(
            "{} sur {} {}",
            c.sources_with_data,
            c.sources_expected,
            plural(capture)
        ),
    };
    ChiffreDto {
        perimetre: f.perimeter,
        libelle: f.label,
        niveau: f.level.as_str().to_owned(),
        valeur: f.value.map(Dec::machine),
        numerateur: f.numerator.map(Dec::machine),
        denominateur: f.denominator.map(Dec::machine),
        statut_seuil: f.rag.map(|r| r.as_str().to_owned()),
        sources: f.sources,
        completude: CompletudeDto {
            sous_perimetres_renseignes: c.children_with_data,
            sous_perimetres_attendus: c.children_expected,
            sources_renseignees: c.sources_with_data,
            sources_attendues: c.sources_expected,
            pourcentage_sources: c.percent(),
            texte,
        },
        valeur_id: f.value_id,
        statut: f.status,
    }
}

impl Tabular for ChiffreDto {
    fn headers() -> &'static [&'static str] {
        &[
            "perimetre",
            "libelle",
            "niveau",
            "valeur",
            "numerateur",
            "denominateur",
            "statutSeuil",
            "sources",
            "sourcesAttendues",
            "statut",
        ]
    }
    fn cells(&self) -> Vec<Cell> {
        vec![
            self.perimetre.as_str().into(),
            self.libelle.as_str().into(),
            self.niveau.as_str().into(),
            dec_cell(&self.valeur),
            dec_cell(&self.numerateur),
            dec_cell(&self.denominateur),
            self.statut_seuil.clone().into(),
            self.sources.into(),
            self.completude.sources_attendues.into(),
            self.statut.clone().into(),
        ]
    }
}

/// A consolidated figure and the figures beneath it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConsolidationDto {
    pub indicateur: String,
    pub periode: String,
    pub unite: String,
    pub agregation: String,
    pub valeurs_validees_seulement: bool,
    pub chiffre: ChiffreDto,
    /// The level of `detail` (absent at the capture level).
    pub niveau_detail: Option<String>,
    /// One level down; open each with its `perimetre` (drill-down).
    pub detail: Vec<ChiffreDto>,
}

/// What to consolidate.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ConsolidationParams {
    pub periode: String,
    /// `national` (default), `region-academique:CODE`, `academie:CODE`, `departement:CODE`,
    /// `commune:INSEE`, `etablissement:UAI`.
    pub perimetre: Option<String>,
    /// The level of the detail (default: the level just below).
    pub niveau: Option<String>,
    /// Only validated and locked values (default: all).
    pub validees: Option<bool>,
    /// `json` (default), `csv` or `xlsx` (the detail rows, the figure first).
    #[param(value_type = Option<String>)]
    pub format: Option<ExportFormat>,
}

/// The consolidated figure of an indicator for a period and a perimeter, by the indicator's
/// rule (a ratio is Σnumerators ÷ Σdenominators), with its completeness and the figures one
/// level down, to the source values.
#[utoipa::path(get, path = "/api/v1/indicateurs/{code}/consolidation", tag = "indicateurs",
    params(("code" = String, Path, description = "Code de l'indicateur."), ConsolidationParams),
    responses(
        (status = 200, description = "Le chiffre consolidé et son détail.", body = ConsolidationDto),
        (status = 400, description = "Paramètre mal formé.", body = ErrorBody),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Indicateur ou périmètre inconnu (ou non visible).", body = ErrorBody)
    ))]
pub async fn consolidation(
    State(state): State<AppState>,
    User(p): User,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<ConsolidationParams>,
) -> ApiResult<Response> {
    let c = consolidate::consolidate(
        &state.db,
        &p,
        &ConsolidationQuery {
            indicator: code,
            period: q.periode,
            perimeter: q.perimetre,
            child_level: q.niveau,
            validated_only: q.validees.unwrap_or(false),
        },
    )
    .await?;
    let capture = c.indicator.capture_level();
    let child = c.children_level;
    let dto = ConsolidationDto {
        indicateur: c.indicator.code.clone(),
        periode: c.period,
        unite: c.indicator.unit.clone(),
        agregation: c.indicator.aggregation.clone(),
        valeurs_validees_seulement: c.validated_only,
        chiffre: chiffre(c.figure, child, capture),
        niveau_detail: child.map(|l| l.as_str().to_owned()),
        detail: c
            .children
            .into_iter()
            .map(|f| chiffre(f, child.and_then(Level::below), capture))
            .collect(),
    };
    match q.format.unwrap_or_default() {
        ExportFormat::Json => Ok(Json(dto).into_response()),
        f => {
            let mut rows = vec![dto.chiffre];
            rows.extend(dto.detail);
            Ok(file_response(
                f,
                &format!("consolidation-{}", dto.indicateur),
                &rows,
            )?)
        }
    }
}

/// One point of a time series.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PointDto {
    pub periode: String,
    pub chiffre: ChiffreDto,
}

/// The perimeter of a series.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct SerieParams {
    pub perimetre: Option<String>,
    pub validees: Option<bool>,
}

/// The consolidated figure of every period with values, most recent first.
#[utoipa::path(get, path = "/api/v1/indicateurs/{code}/serie", tag = "indicateurs",
    params(("code" = String, Path, description = "Code de l'indicateur."), SerieParams),
    responses(
        (status = 200, description = "La série.", body = Vec<PointDto>),
        (status = 400, description = "Paramètre mal formé.", body = ErrorBody),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Indicateur ou périmètre inconnu (ou non visible).", body = ErrorBody)
    ))]
pub async fn series(
    State(state): State<AppState>,
    User(p): User,
    Path(code): Path<String>,
    ApiQuery(q): ApiQuery<SerieParams>,
) -> ApiResult<Json<Vec<PointDto>>> {
    let capture = ind::load_indicator(&state.db, &p, &code).await?.capture_level();
    let points = consolidate::series(
        &state.db,
        &p,
        &code,
        q.perimetre.as_deref(),
        q.validees.unwrap_or(false),
    )
    .await?;
    Ok(Json(
        points
            .into_iter()
            .map(|(periode, f)| PointDto {
                periode,
                chiffre: chiffre(f, None, capture),
            })
            .collect(),
    ))
}

// --- Values -----------------------------------------------------------------------------------

/// A value of an indicator.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ValeurDto {
    pub id: String,
    pub indicateur: String,
    pub perimetre: String,
    pub periode: String,
    pub valeur: String,
    pub numerateur: Option<String>,
    pub denominateur: Option<String>,
    /// `saisie`, `validee` or `verrouillee`.
    pub statut: String,
    /// `vert`, `orange` or `rouge` from the thresholds.
    pub statut_seuil: Option<String>,
    /// `saisie`, `import`, `calcul` or `api`.
    pub provenance: String,
    pub commentaire: String,
    pub saisi_par: String,
    pub saisi_le: String,
    pub valide_le: Option<String>,
    pub motif_reouverture: Option<String>,
    pub version: i64,
}

fn rfc3339(t: time::OffsetDateTime) -> String {
    crate::governance::api::show_instant(t)
}

impl From<ValueRow> for ValeurDto {
    fn from(r: ValueRow) -> Self {
        let v = r.value;
        Self {
            perimetre: v.perimeter_text(),
            id: v.id,
            indicateur: r.indicator_code,
            periode: v.period,
            valeur: Dec(v.value_e4).machine(),
            numerateur: dec(v.numerator_e4),
            denominateur: dec(v.denominator_e4),
            statut: v.status,
            statut_seuil: r.rag.map(|r| r.as_str().to_owned()),
            provenance: v.provenance,
            commentaire: v.comment,
            saisi_par: v.entered_label,
            saisi_le: rfc3339(v.entered_at),
            valide_le: v.validated_at.map(rfc3339),
            motif_reouverture: v.reopen_reason,
            version: v.version,
        }
    }
}

impl Tabular for ValeurDto {
    fn headers() -> &'static [&'static str] {
        &[
            "indicateur",
            "perimetre",
            "periode",
            "valeur",
            "numerateur",
            "denominateur",
            "statut",
            "statutSeuil",
            "provenance",
            "commentaire",
            "saisiPar",
            "saisiLe",
        ]
    }
    fn cells(&self) -> Vec<Cell> {
        vec![
            self.indicateur.as_str().into(),
            self.perimetre.as_str().into(),
            self.periode.as_str().into(),
            dec_cell(&Some(self.valeur.clone())),
            dec_cell(&self.numerateur),
            dec_cell(&self.denominateur),
            self.statut.as_str().into(),
            self.statut_seuil.clone().into(),
            self.provenance.as_str().into(),
            self.commentaire.as_str().into(),
            self.saisi_par.as_str().into(),
            self.saisi_le.as_str().into(),
        ]
    }
}

/// Filters of the values.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ValeursQuery {
    pub indicateur: Option<String>,
    pub periode: Option<String>,
    /// Required unless the caller reads the whole nation.
    pub perimetre: Option<String>,
    pub statut: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    /// `json` (default), `csv` or `xlsx`.
    #[param(value_type = Option<String>)]
    pub format: Option<ExportFormat>,
}

/// Values, filtered; CSV or XLSX with `format`.
#[utoipa::path(get, path = "/api/v1/valeurs", tag = "indicateurs", params(ValeursQuery),
    responses(
        (status = 200, description = "Les valeurs.", body = crate::api::ListDto<ValeurDto>),
        (status = 400, description = "Paramètre mal formé.", body = ErrorBody),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Indicateur ou périmètre inconnu (ou non visible).", body = ErrorBody)
    ))]
pub async fn list_values(
    State(state): State<AppState>,
    User(p): User,
    ApiQuery(q): ApiQuery<ValeursQuery>,
) -> ApiResult<Response> {
    let format = q.format.unwrap_or_default();
    let page = crate::api::page_for(format, q.page, q.per_page)?;
    let filter = ValueFilter {
        indicator: q.indicateur,
        period: q.periode,
        perimeter: q.perimetre,
        status: q.statut,
    };
    let values = ind::values(&state.db, &p, &filter, page).await?;
    crate::api::respond_list(format, "valeurs", crate::api::map_page(values, ValeurDto::from))
}

/// A value as sent.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ValeurInputDto {
    pub indicateur: String,
    pub perimetre: String,
    pub periode: String,
    /// Decimal (`12.5` or `12,5`).
    pub valeur: Option<String>,
    /// A ratio's parts (and a weighted mean's weight as the denominator).
    pub numerateur: Option<String>,
    pub denominateur: Option<String>,
    pub commentaire: Option<String>,
    /// The version read, when correcting.
    pub version: Option<i64>,
}

/// Enters or corrects a value (provenance `api`); it goes (back) to `saisie`.
#[utoipa::path(post, path = "/api/v1/valeurs", tag = "indicateurs", request_body = ValeurInputDto,
    responses(
        (status = 200, description = "La valeur.", body = ValeurDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Pas de saisie sur ce périmètre.", body = ErrorBody),
        (status = 404, description = "Indicateur ou périmètre inconnu (ou non visible).", body = ErrorBody),
        (status = 409, description = "Modifiée entre-temps.", body = ErrorBody),
        (status = 422, description = "Données invalides (champ nommé), période verrouillée.", body = ErrorBody)
    ))]
pub async fn record_value(
    State(state): State<AppState>,
    User(p): User,
    ApiJson(input): ApiJson<ValeurInputDto>,
) -> ApiResult<Json<ValeurDto>> {
    let v = ind::record_value(
        &state.db,
        &p,
        &ValueInput {
            indicator: input.indicateur,
            perimeter: input.perimetre,
            period: input.periode,
            value: input.valeur,
            numerator: input.numerateur,
            denominator: input.denominateur,
            comment: input.commentaire,
        },
        Provenance::Api,
        input.version,
    )
    .await?;
    Ok(Json(ind::value(&state.db, &p, &v.id).await?.into()))
}

/// A value.
#[utoipa::path(get, path = "/api/v1/valeurs/{id}", tag = "indicateurs",
    params(("id" = String, Path, description = "Identifiant de la valeur.")),
    responses(
        (status = 200, description = "La valeur.", body = ValeurDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody)
    ))]
pub async fn get_value(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
) -> ApiResult<Json<ValeurDto>> {
    Ok(Json(ind::value(&state.db, &p, &id).await?.into()))
}

/// A change of a value's status.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct StatutValeurDto {
    pub version: i64,
    /// Required to reopen.
    pub motif: Option<String>,
}

/// Validates a value (DAN or delegate); a red value needs a comment.
#[utoipa::path(post, path = "/api/v1/valeurs/{id}/validation", tag = "indicateurs", request_body = StatutValeurDto,
    params(("id" = String, Path, description = "Identifiant de la valeur.")),
    responses(
        (status = 200, description = "La valeur.", body = ValeurDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Ni DAN ni délégué.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody),
        (status = 409, description = "Déjà validée, ou modifiée entre-temps.", body = ErrorBody),
        (status = 422, description = "Commentaire requis (statut rouge).", body = ErrorBody)
    ))]
pub async fn validate_value(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<StatutValeurDto>,
) -> ApiResult<Json<ValeurDto>> {
    ind::validate_value(&state.db, &p, &id, input.version).await?;
    Ok(Json(ind::value(&state.db, &p, &id).await?.into()))
}

/// Reopens a validated or locked value, with a reason (audited).
#[utoipa::path(post, path = "/api/v1/valeurs/{id}/reouverture", tag = "indicateurs", request_body = StatutValeurDto,
    params(("id" = String, Path, description = "Identifiant de la valeur.")),
    responses(
        (status = 200, description = "La valeur.", body = ValeurDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Ni DAN ni délégué.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody),
        (status = 409, description = "Déjà ouverte, ou modifiée entre-temps.", body = ErrorBody),
        (status = 422, description = "Motif requis.", body = ErrorBody)
    ))]
pub async fn reopen_value(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<StatutValeurDto>,
) -> ApiResult<Json<ValeurDto>> {
    ind::reopen_value(
        &state.db,
        &p,
        &id,
        input.version,
        input.motif.as_deref().unwrap_or(""),
    )
    .await?;
    Ok(Json(ind::value(&state.db, &p, &id).await?.into()))
}

/// The column mapping of an import.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ColonnesDto {
    /// Column of the perimeter, or of a bare code of the capture level (a UAI).
    pub perimetre: Option<String>,
    pub indicateur: Option<String>,
    pub periode: Option<String>,
    pub valeur: Option<String>,
    pub numerateur: Option<String>,
    pub denominateur: Option<String>,
    pub commentaire: Option<String>,
}

/// A file to import.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ImportDto {
    /// The CSV text (`;` or `,`, decimal commas accepted).
    pub contenu: Option<String>,
    /// An XLSX file, base64 (its first sheet is read).
    pub contenu_xlsx_base64: Option<String>,
    /// Column names (default: `perimetre`, `indicateur`, `periode`, `valeur`, `numerateur`,
    /// `denominateur`, `commentaire`).
    pub colonnes: Option<ColonnesDto>,
    /// The indicator of every line (instead of a column).
    pub indicateur: Option<String>,
    /// The period of every line (instead of a column).
    pub periode: Option<String>,
}

/// A rejected line.
#[derive(Debug, Serialize, ToSchema)]
pub struct LigneRejeteeDto {
    pub ligne: usize,
    pub champ: String,
    pub message: String,
}

/// What an import did.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ImportResultDto {
    pub lignes: usize,
    pub ecrites: u64,
    pub rejetees: Vec<LigneRejeteeDto>,
}

/// Imports values from a CSV or XLSX file with a column mapping; every rejected line is
/// named with its field, the good lines are written.
#[utoipa::path(post, path = "/api/v1/valeurs/import", tag = "indicateurs", request_body = ImportDto,
    responses(
        (status = 200, description = "Le compte rendu, ligne par ligne.", body = ImportResultDto),
        (status = 400, description = "Fichier illisible.", body = ErrorBody),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 422, description = "Colonnes absentes (champ nommé).", body = ErrorBody)
    ))]
pub async fn import_values(
    State(state): State<AppState>,
    User(p): User,
    ApiJson(input): ApiJson<ImportDto>,
) -> ApiResult<Json<ImportResultDto>> {
    let table = match (&input.contenu, &input.contenu_xlsx_base64) {
        (Some(text), None) => imp::read_csv(text.as_bytes())?,
        (None, Some(b64)) => crate::indicator::xlsx::read_first_sheet(b64)?,
        _ => {
            return Err(CoreError::Validation(vec![FieldError::new(
                "contenu",
                "un fichier : contenu (CSV) ou contenuXlsxBase64",
            )])
            .into());
        }
    };
    let mut mapping = Mapping::default();
    if let Some(c) = input.colonnes {
        if let Some(v) = c.perimetre {
            mapping.perimeter = v;
        }
        let set = |target: &mut Option<String>, v: Option<String>| {
            if let Some(v) = v {
                *target = Some(v);
            }
        };
        set(&mut mapping.indicator, c.indicateur);
        set(&mut mapping.period, c.periode);
        set(&mut mapping.value, c.valeur);
        set(&mut mapping.numerator, c.numerateur);
        set(&mut mapping.denominator, c.denominateur);
        set(&mut mapping.comment, c.commentaire);
    }
    if input.indicateur.is_some() {
        mapping.indicator = None;
        mapping.fixed_indicator = input.indicateur;
    }
    if input.periode.is_some() {
        mapping.period = None;
        mapping.fixed_period = input.periode;
    }
    let report = imp::import_values(&state.db, &p, &table, &mapping, Provenance::Import).await?;
    Ok(Json(ImportResultDto {
        lignes: report.lines,
        ecrites: report.written,
        rejetees: report
            .rejected
            .into_iter()
            .map(|e| LigneRejeteeDto {
                ligne: e.line,
                champ: e.field,
                message: e.message,
            })
            .collect(),
    }))
}

// --- Campaigns --------------------------------------------------------------------------------

/// One académie's answers (a row of the heatmap).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AvancementDto {
    pub academie: String,
    pub libelle: String,
    pub renseignes: i64,
    pub attendus: i64,
    pub pourcentage: i64,
    /// Per indicator: `[code, renseignés, attendus]`.
    pub indicateurs: Vec<(String, i64, i64)>,
}

/// A campaign.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CampagneDto {
    pub id: String,
    pub titre: String,
    pub proprietaire: String,
    pub periode: String,
    pub ouverture: Date,
    pub cloture: Date,
    pub delai_grace: i64,
    /// `ouverte` or `close`.
    pub statut: String,
    pub consignes: String,
    pub version: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub indicateurs: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avancement: Option<Vec<AvancementDto>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peut_gerer: Option<bool>,
    /// Mails queued by this request.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub courriels_en_file: Option<usize>,
}

impl From<Campaign> for CampagneDto {
    fn from(c: Campaign) -> Self {
        Self {
            proprietaire: c.owner_text(),
            id: c.id,
            titre: c.title,
            periode: c.period,
            ouverture: c.opens_on,
            cloture: c.closes_on,
            delai_grace: c.grace_days,
            statut: c.status,
            consignes: c.instructions,
            version: c.version,
            indicateurs: None,
            avancement: None,
            peut_gerer: None,
            courriels_en_file: None,
        }
    }
}

impl From<CampaignView> for CampagneDto {
    fn from(v: CampaignView) -> Self {
        let mut dto = CampagneDto::from(v.campaign);
        dto.indicateurs = Some(v.indicators.into_iter().map(|i| i.code).collect());
        dto.avancement = Some(
            v.progress
                .into_iter()
                .map(|p| AvancementDto {
                    pourcentage: p.percent(),
                    academie: p.academie,
                    libelle: p.label,
                    renseignes: p.filled,
                    attendus: p.expected,
                    indicateurs: p.cells,
                })
                .collect(),
        );
        dto.peut_gerer = Some(v.can_manage);
        dto
    }
}

/// The campaigns the caller sees.
#[utoipa::path(get, path = "/api/v1/campagnes", tag = "indicateurs",
    responses(
        (status = 200, description = "Les campagnes.", body = Vec<CampagneDto>),
        (status = 401, description = "Non authentifié.", body = ErrorBody)
    ))]
pub async fn list_campaigns(
    State(state): State<AppState>,
    User(p): User,
) -> ApiResult<Json<Vec<CampagneDto>>> {
    Ok(Json(
        camp::campaigns(&state.db, &p)
            .await?
            .into_iter()
            .map(CampagneDto::from)
            .collect(),
    ))
}

/// A new campaign.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CampagneInputDto {
    pub titre: String,
    /// `national` (default) or `academie:CODE`.
    pub proprietaire: Option<String>,
    pub indicateurs: Vec<String>,
    /// Académie codes; empty: every académie of the owner's perimeter.
    #[serde(default)]
    pub academies: Vec<String>,
    pub periode: String,
    /// Today by default.
    pub ouverture: Option<Date>,
    pub cloture: Option<Date>,
    pub delai_grace: Option<i64>,
    pub consignes: Option<String>,
}

/// Opens a campaign; the DAN and DANE members of its académies get an e-mail.
#[utoipa::path(post, path = "/api/v1/campagnes", tag = "indicateurs", request_body = CampagneInputDto,
    responses(
        (status = 201, description = "La campagne.", body = CampagneDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Pas d'écriture pour ce propriétaire.", body = ErrorBody),
        (status = 422, description = "Données invalides (champ nommé).", body = ErrorBody)
    ))]
pub async fn open_campaign(
    State(state): State<AppState>,
    User(p): User,
    ApiJson(input): ApiJson<CampagneInputDto>,
) -> ApiResult<(StatusCode, Json<CampagneDto>)> {
    let (c, queued) = camp::open_campaign(
        &state.db,
        &p,
        &CampaignInput {
            title: input.titre,
            owner: input.proprietaire.unwrap_or_else(|| "national".into()),
            indicators: input.indicateurs,
            academies: input.academies,
            period: input.periode,
            opens_on: input.ouverture,
            closes_on: input.cloture,
            grace_days: input.delai_grace,
            instructions: input.consignes.unwrap_or_default(),
        },
    )
    .await?;
    let mut dto = CampagneDto::from(camp::campaign(&state.db, &p, &c.id).await?);
    dto.courriels_en_file = Some(queued);
    Ok((StatusCode::CREATED, Json(dto)))
}

/// A campaign with its completeness by académie (the heatmap's data).
#[utoipa::path(get, path = "/api/v1/campagnes/{id}", tag = "indicateurs",
    params(("id" = String, Path, description = "Identifiant de la campagne.")),
    responses(
        (status = 200, description = "La campagne.", body = CampagneDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody)
    ))]
pub async fn get_campaign(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
) -> ApiResult<Json<CampagneDto>> {
    Ok(Json(camp::campaign(&state.db, &p, &id).await?.into()))
}

/// Queues today's reminders to the académies that have not answered in full (never twice
/// for the same stage).
#[utoipa::path(post, path = "/api/v1/campagnes/{id}/relances", tag = "indicateurs",
    params(("id" = String, Path, description = "Identifiant de la campagne.")),
    responses(
        (status = 200, description = "La campagne, avec le nombre de courriels mis en file.", body = CampagneDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Pas gestionnaire de la campagne.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody),
        (status = 409, description = "Campagne close.", body = ErrorBody)
    ))]
pub async fn remind(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
) -> ApiResult<Json<CampagneDto>> {
    let queued = camp::send_reminders(&state.db, &p, &id, ind::today()).await?;
    let mut dto = CampagneDto::from(camp::campaign(&state.db, &p, &id).await?);
    dto.courriels_en_file = Some(queued);
    Ok(Json(dto))
}

/// The version read, to close a campaign.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VersionDto {
    pub version: i64,
}

/// Closes a campaign and locks its period in its académies.
#[utoipa::path(post, path = "/api/v1/campagnes/{id}/cloture", tag = "indicateurs", request_body = VersionDto,
    params(("id" = String, Path, description = "Identifiant de la campagne.")),
    responses(
        (status = 200, description = "La campagne close.", body = CampagneDto),
        (status = 401, description = "Non authentifié.", body = ErrorBody),
        (status = 403, description = "Pas gestionnaire de la campagne.", body = ErrorBody),
        (status = 404, description = "Inconnue (ou non visible).", body = ErrorBody),
        (status = 409, description = "Déjà close, ou modifiée entre-temps.", body = ErrorBody)
    ))]
pub async fn close_campaign(
    State(state): State<AppState>,
    User(p): User,
    Path(id): Path<String>,
    ApiJson(input): ApiJson<VersionDto>,
) -> ApiResult<Json<CampagneDto>> {
    camp::close_campaign(&state.db, &p, &id, input.version).await?;
    Ok(Json(camp::campaign(&state.db, &p, &id).await?.into()))
}

// --- Open data --------------------------------------------------------------------------------

/// A public indicator and its files.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct JeuDto {
    pub code: String,
    pub libelle: String,
    pub definition: String,
    pub unite: String,
    pub periodicite: String,
    pub csv: String,
    pub json: String,
    pub schema: String,
}

/// The catalogue of the public indicators (no sign-in).
#[utoipa::path(get, path = "/donnees/indicateurs", tag = "donnees-ouvertes",
    responses((status = 200, description = "Les indicateurs publics et leurs fichiers.", body = Vec<JeuDto>)))]
pub async fn open_catalogue(State(state): State<AppState>) -> ApiResult<Json<Vec<JeuDto>>> {
    Ok(Json(
        opendata::public_indicators(&state.db)
            .await?
            .into_iter()
            .map(|i| JeuDto {
                csv: format!("/donnees/indicateurs/{}.csv", i.code),
                json: format!("/donnees/indicateurs/{}.json", i.code),
                schema: format!("/donnees/indicateurs/{}/schema.json", i.code),
                code: i.code,
                libelle: i.label,
                definition: i.definition,
                unite: i.unit,
                periodicite: i.periodicity,
            })
            .collect(),
    ))
}

/// A public indicator's figures (validated values, nation and académies, every period) as
/// `CODE.csv` (`,`, decimal point, UTF-8) or `CODE.json` (records); no sign-in.
#[utoipa::path(get, path = "/donnees/indicateurs/{fichier}", tag = "donnees-ouvertes",
    params(("fichier" = String, Path, description = "`CODE.csv` ou `CODE.json`.")),
    responses(
        (status = 200, description = "Le fichier."),
        (status = 404, description = "Indicateur inconnu ou non public.", body = ErrorBody)
    ))]
pub async fn open_file(State(state): State<AppState>, Path(file): Path<String>) -> ApiResult<Response> {
    let (code, csv) = if let Some(c) = file.strip_suffix(".csv") {
        (c, true)
    } else if let Some(c) = file.strip_suffix(".json") {
        (c, false)
    } else {
        return Err(CoreError::not_found("fichier", &file).into());
    };
    let (_, rows) = opendata::rows(&state.db, code).await?;
    let mut response = if csv {
        let mut w = csv::WriterBuilder::new().from_writer(Vec::new());
        let write = |w: &mut csv::Writer<Vec<u8>>, r: &[String]| {
            w.write_record(r)
                .map_err(|e| CoreError::Internal(format!("CSV : {e}")))
        };
        write(
            &mut w,
            &opendata::COLUMNS
                .iter()
                .map(|c| (*c).to_owned())
                .collect::<Vec<_>>(),
        )?;
        for r in &rows {
            write(&mut w, &opendata::cells(r))?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| CoreError::Internal(format!("CSV : {e}")))?;
        ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], bytes).into_response()
    } else {
        let records: Vec<serde_json::Map<String, serde_json::Value>> = rows
            .iter()
            .map(|r| {
                opendata::COLUMNS
                    .iter()
                    .zip(opendata::cells(r))
                    .map(|(k, v)| {
                        let v = match *k {
                            "valeur"
                            | "numerateur"
                            | "denominateur"
                            | "sources_renseignees"
                            | "sources_attendues" => {
                                if v.is_empty() {
                                    serde_json::Value::Null
                                } else {
                                    // Exact decimal text as a JSON number (no float round-trip).
                                    serde_json::from_str(&v).unwrap_or(serde_json::Value::String(v))
                                }
                            }
                            _ => serde_json::Value::String(v),
                        };
                        ((*k).to_owned(), v)
                    })
                    .collect()
            })
            .collect();
        Json(records).into_response()
    };
    response
        .headers_mut()
        .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    Ok(response)
}

/// The TableSchema (frictionless) of a public indicator's files; no sign-in.
#[utoipa::path(get, path = "/donnees/indicateurs/{code}/schema.json", tag = "donnees-ouvertes",
    params(("code" = String, Path, description = "Code de l'indicateur.")),
    responses(
        (status = 200, description = "Le schéma."),
        (status = 404, description = "Indicateur inconnu ou non public.", body = ErrorBody)
    ))]
pub async fn open_schema(State(state): State<AppState>, Path(code): Path<String>) -> ApiResult<Response> {
    let ind = opendata::public_indicator(&state.db, &code).await?;
    let mut response = Json(opendata::table_schema(&ind)).into_response();
    response
        .headers_mut()
        .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    Ok(response)
}
