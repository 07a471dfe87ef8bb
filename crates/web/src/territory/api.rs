//! `/api/v1/…` for the referential, named after geo.api.gouv.fr (`code`, `nom`,
//! `codeDepartement`, `codeRegion`, `siren`, `population`…).

use axum::Json;
use axum::extract::{Path, State};
use axum::response::Response;
use gouvernail_core::territory::model::*;
use gouvernail_core::territory::service;
use serde::{Deserialize, Serialize};
use time::Date;
use utoipa::{IntoParams, ToSchema};

use crate::api::{ApiQuery, ListDto, map_page, page_for, paginate, respond_list};
use crate::error::{ApiResult, ErrorBody};
use crate::export::{Cell, ExportFormat, Tabular};
use crate::state::AppState;

// ---------------------------------------------------------------------------------------
// DTOs

/// A région (INSEE code).
#[derive(Debug, Serialize, ToSchema)]
pub struct RegionDto {
    /// INSEE code, e.g. `53`.
    pub code: String,
    pub nom: String,
}

impl From<Region> for RegionDto {
    fn from(r: Region) -> Self {
        Self {
            code: r.code,
            nom: r.nom,
        }
    }
}

impl Tabular for RegionDto {
    fn headers() -> &'static [&'static str] {
        &["code", "nom"]
    }
    fn cells(&self) -> Vec<Cell> {
        vec![self.code.as_str().into(), self.nom.as_str().into()]
    }
}

/// A région académique, coded by the INSEE code of its région.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegionAcademiqueDto {
    pub code: String,
    pub nom: String,
    pub nb_academies: i64,
}

impl From<RegionAcademique> for RegionAcademiqueDto {
    fn from(r: RegionAcademique) -> Self {
        Self {
            code: r.code,
            nom: r.nom,
            nb_academies: r.nb_academies,
        }
    }
}

impl Tabular for RegionAcademiqueDto {
    fn headers() -> &'static [&'static str] {
        &["code", "nom", "nbAcademies"]
    }
    fn cells(&self) -> Vec<Cell> {
        vec![
            self.code.as_str().into(),
            self.nom.as_str().into(),
            self.nb_academies.into(),
        ]
    }
}

/// An académie (or vice-rectorat, or historical académie).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcademieDto {
    /// Official code (`code_academie` of the Annuaire de l'éducation), e.g. `14`.
    pub code: String,
    pub nom: String,
    /// `academie`, `vice-rectorat`, `service-education-nationale` or `historique`.
    #[serde(rename = "type")]
    pub kind: String,
    pub code_region_academique: Option<String>,
    pub nom_region_academique: Option<String>,
    /// First day in force, when known.
    pub date_debut: Option<Date>,
    /// Last day in force (historical académies).
    pub date_fin: Option<Date>,
    pub note: Option<String>,
}

impl From<Academie> for AcademieDto {
    fn from(a: Academie) -> Self {
        Self {
            code: a.code,
            nom: a.nom,
            kind: a.kind,
            code_region_academique: a.code_region_academique,
            nom_region_academique: a.nom_region_academique,
            date_debut: a.valid_from,
            date_fin: a.valid_until,
            note: a.note,
        }
    }
}

impl Tabular for AcademieDto {
    fn headers() -> &'static [&'static str] {
        &[
            "code",
            "nom",
            "type",
            "codeRegionAcademique",
            "nomRegionAcademique",
            "dateDebut",
            "dateFin",
        ]
    }
    fn cells(&self) -> Vec<Cell> {
        vec![
            self.code.as_str().into(),
            self.nom.as_str().into(),
            self.kind.as_str().into(),
            self.code_region_academique.clone().into(),
            self.nom_region_academique.clone().into(),
            self.date_debut.into(),
            self.date_fin.into(),
        ]
    }
}

/// An académie with its départements.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AcademieDetailDto {
    #[serde(flatten)]
    pub academie: AcademieDto,
    pub departements: Vec<DepartementDto>,
    pub nb_etablissements: i64,
}

/// A département.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DepartementDto {
    /// COG code, e.g. `35`, `2A`, `974`.
    pub code: String,
    pub nom: String,
    pub code_region: Option<String>,
    pub code_academie: Option<String>,
    pub nom_academie: Option<String>,
    /// `metro`, `drom` or `com`.
    pub zone: Option<String>,
    pub nb_communes: i64,
    pub nb_etablissements: i64,
}

impl From<Departement> for DepartementDto {
    fn from(d: Departement) -> Self {
        Self {
            code: d.code,
            nom: d.nom,
            code_region: d.code_region,
            code_academie: d.code_academie,
            nom_academie: d.nom_academie,
            zone: d.zone,
            nb_communes: d.nb_communes,
            nb_etablissements: d.nb_etablissements,
        }
    }
}

impl Tabular for DepartementDto {
    fn headers() -> &'static [&'static str] {
        &[
            "code",
            "nom",
            "codeRegion",
            "codeAcademie",
            "nomAcademie",
            "zone",
            "nbCommunes",
            "nbEtablissements",
        ]
    }
    fn cells(&self) -> Vec<Cell> {
        vec![
            self.code.as_str().into(),
            self.nom.as_str().into(),
            self.code_region.clone().into(),
            self.code_academie.clone().into(),
            self.nom_academie.clone().into(),
            self.zone.clone().into(),
            self.nb_communes.into(),
            self.nb_etablissements.into(),
        ]
    }
}

/// A département with the collectivités above the commune that cover it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DepartementDetailDto {
    #[serde(flatten)]
    pub departement: DepartementDto,
    pub collectivites: Vec<CollectiviteDto>,
}

/// A commune.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CommuneDto {
    /// COG (INSEE) code, e.g. `35238`.
    pub code: String,
    pub nom: String,
    pub code_departement: String,
    pub nom_departement: String,
    pub code_region: Option<String>,
    pub code_academie: Option<String>,
    pub siren: Option<String>,
    pub population: Option<i64>,
    pub codes_postaux: Vec<String>,
}

impl From<Commune> for CommuneDto {
    fn from(c: Commune) -> Self {
        Self {
            code: c.code,
            nom: c.nom,
            code_departement: c.code_departement,
            nom_departement: c.nom_departement,
            code_region: c.code_region,
            code_academie: c.code_academie,
            siren: c.siren,
            population: c.population,
            codes_postaux: c
                .codes_postaux
                .map(|s| {
                    s.split(' ')
                        .filter(|p| !p.is_empty())
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
        }
    }
}

impl Tabular for CommuneDto {
    fn headers() -> &'static [&'static str] {
        &[
            "code",
            "nom",
            "codeDepartement",
            "nomDepartement",
            "codeRegion",
            "codeAcademie",
            "siren",
            "population",
            "codesPostaux",
        ]
    }
    fn cells(&self) -> Vec<Cell> {
        vec![
            self.code.as_str().into(),
            self.nom.as_str().into(),
            self.code_departement.as_str().into(),
            self.nom_departement.as_str().into(),
            self.code_region.clone().into(),
            self.code_academie.clone().into(),
            self.siren.clone().into(),
            self.population.into(),
            self.codes_postaux.join(" ").into(),
        ]
    }
}

/// A collectivité territoriale (or EPCI) and its school competences.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CollectiviteDto {
    pub siren: String,
    pub nom: String,
    /// `commune`, `departement`, `region`, `collectivite-unique`, `ville-de-paris`,
    /// `metropole-de-lyon`, `collectivite-europeenne-alsace` or `epci`.
    #[serde(rename = "type")]
    pub kind: String,
    pub code_territoire: Option<String>,
    /// Competent for the écoles of its territory (communes, Ville de Paris).
    pub competence_ecoles: bool,
    /// Competent for the collèges.
    pub competence_colleges: bool,
    /// Competent for the lycées (and EREA).
    pub competence_lycees: bool,
}

impl From<Collectivite> for CollectiviteDto {
    fn from(c: Collectivite) -> Self {
        Self {
            siren: c.siren,
            nom: c.nom,
            kind: c.kind,
            code_territoire: c.code_territoire,
            competence_ecoles: c.competence_ecoles,
            competence_colleges: c.competence_colleges,
            competence_lycees: c.competence_lycees,
        }
    }
}

impl Tabular for CollectiviteDto {
    fn headers() -> &'static [&'static str] {
        &[
            "siren",
            "nom",
            "type",
            "codeTerritoire",
            "competenceEcoles",
            "competenceColleges",
            "competenceLycees",
        ]
    }
    fn cells(&self) -> Vec<Cell> {
        vec![
            self.siren.as_str().into(),
            self.nom.as_str().into(),
            self.kind.as_str().into(),
            self.code_territoire.clone().into(),
            self.competence_ecoles.into(),
            self.competence_colleges.into(),
            self.competence_lycees.into(),
        ]
    }
}

/// A collectivité with its territory and the number of schools it equips.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CollectiviteDetailDto {
    #[serde(flatten)]
    pub collectivite: CollectiviteDto,
    /// Départements covered (for a collectivité above the commune).
    pub departements: Vec<String>,
    /// The commune's COG code (for a commune).
    pub code_commune: Option<String>,
    /// Schools whose equipment it is legally competent for.
    pub nb_etablissements: i64,
}

/// A school or establishment of the Annuaire de l'éducation.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct EtablissementDto {
    /// UAI (7 digits and a check letter), e.g. `0350122T`.
    pub uai: String,
    pub nom: String,
    /// `ecole`, `college`, `lycee`, `erea` or `autre`.
    pub famille: String,
    pub code_nature: String,
    pub libelle_nature: Option<String>,
    pub type_etablissement: Option<String>,
    /// `public` or `prive`.
    pub statut: String,
    pub code_commune: String,
    pub nom_commune: String,
    pub code_departement: String,
    pub nom_departement: String,
    pub code_academie: Option<String>,
    pub nom_academie: Option<String>,
    /// SIREN of the collectivité legally competent for its equipment and maintenance
    /// (commune for an école, département for a collège, région for a lycée; none for a
    /// private school).
    pub siren_collectivite: Option<String>,
    pub nom_collectivite: Option<String>,
    pub siret: Option<String>,
    pub adresse: Option<String>,
    pub code_postal: Option<String>,
    pub nombre_eleves: Option<i64>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub date_ouverture: Option<Date>,
    pub etat: Option<String>,
    pub education_prioritaire: Option<String>,
    /// True for the demo's made-up schools.
    pub fictif: bool,
}

impl From<Etablissement> for EtablissementDto {
    fn from(e: Etablissement) -> Self {
        Self {
            uai: e.uai,
            nom: e.nom,
            famille: e.famille,
            code_nature: e.code_nature,
            libelle_nature: e.libelle_nature,
            type_etablissement: e.type_etablissement,
            statut: e.statut,
            code_commune: e.code_commune,
            nom_commune: e.nom_commune,
            code_departement: e.code_departement,
            nom_departement: e.nom_departement,
            code_academie: e.code_academie,
            nom_academie: e.nom_academie,
            siren_collectivite: e.collectivite_siren,
            nom_collectivite: e.collectivite_nom,
            siret: e.siren_siret,
            adresse: e.adresse,
            code_postal: e.code_postal,
            nombre_eleves: e.nombre_eleves,
            latitude: e.latitude,
            longitude: e.longitude,
            date_ouverture: e.date_ouverture,
            etat: e.etat,
            education_prioritaire: e.education_prioritaire,
            fictif: e.fictif,
        }
    }
}

impl Tabular for EtablissementDto {
    fn headers() -> &'static [&'static str] {
        &[
            "uai",
            "nom",
            "famille",
            "codeNature",
            "libelleNature",
            "statut",
            "codeCommune",
            "nomCommune",
            "codeDepartement",
            "codeAcademie",
            "sirenCollectivite",
            "nomCollectivite",
            "siret",
            "adresse",
            "codePostal",
            "nombreEleves",
            "latitude",
            "longitude",
            "dateOuverture",
            "educationPrioritaire",
            "fictif",
        ]
    }
    fn cells(&self) -> Vec<Cell> {
        vec![
            self.uai.as_str().into(),
            self.nom.as_str().into(),
            self.famille.as_str().into(),
            self.code_nature.as_str().into(),
            self.libelle_nature.clone().into(),
            self.statut.as_str().into(),
            self.code_commune.as_str().into(),
            self.nom_commune.as_str().into(),
            self.code_departement.as_str().into(),
            self.code_academie.clone().into(),
            self.siren_collectivite.clone().into(),
            self.nom_collectivite.clone().into(),
            self.siret.clone().into(),
            self.adresse.clone().into(),
            self.code_postal.clone().into(),
            self.nombre_eleves.into(),
            self.latitude.into(),
            self.longitude.into(),
            self.date_ouverture.into(),
            self.education_prioritaire.clone().into(),
            self.fictif.into(),
        ]
    }
}

// ---------------------------------------------------------------------------------------
// Query parameters

/// Pagination and format, shared by every list.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct ListQuery {
    /// Page number, from 1.
    pub page: Option<u32>,
    /// Items per page, 1 to 500 (default 50). Ignored by file exports.
    pub per_page: Option<u32>,
    /// `json` (default), `csv` (`;`, UTF-8 with BOM) or `xlsx`.
    #[param(value_type = Option<String>)]
    pub format: Option<ExportFormat>,
}

/// Filters of `/api/v1/academies`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct AcademiesQuery {
    /// Also list the historical académies (Caen, Rouen, merged into Normandie on 2020-01-01).
    pub historique: Option<bool>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    #[param(value_type = Option<String>)]
    pub format: Option<ExportFormat>,
}

/// Filters of `/api/v1/departements`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct DepartementsQuery {
    /// Only the départements of this académie.
    pub code_academie: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    #[param(value_type = Option<String>)]
    pub format: Option<ExportFormat>,
}

/// Filters of `/api/v1/communes`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct CommunesQuery {
    /// COG code of the département, e.g. `35`.
    pub code_departement: Option<String>,
    /// Code of the académie, e.g. `14`.
    pub code_academie: Option<String>,
    /// Part of the name (accents and case ignored).
    pub nom: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    #[param(value_type = Option<String>)]
    pub format: Option<ExportFormat>,
}

/// Filters of `/api/v1/collectivites`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct CollectivitesQuery {
    /// `commune`, `departement`, `region`, `collectivite-unique`, `ville-de-paris`,
    /// `metropole-de-lyon`, `collectivite-europeenne-alsace` or `epci`.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub kind: Option<String>,
    /// SIREN (9 digits).
    pub siren: Option<String>,
    /// Part of the name.
    pub nom: Option<String>,
    /// Collectivités on this département (the commune ones and those above).
    pub code_departement: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    #[param(value_type = Option<String>)]
    pub format: Option<ExportFormat>,
}

/// Filters of `/api/v1/etablissements`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(rename_all = "camelCase")]
pub struct EtablissementsQuery {
    /// COG code of the commune.
    pub code_commune: Option<String>,
    /// `ecole`, `college`, `lycee`, `erea`, `autre`, or a 3-digit nature code (`340`).
    pub nature: Option<String>,
    pub code_academie: Option<String>,
    pub code_departement: Option<String>,
    /// SIREN of the competent collectivité.
    pub siren_collectivite: Option<String>,
    /// `public` or `prive`.
    pub statut: Option<String>,
    /// Part of the name, or the UAI.
    pub q: Option<String>,
    pub page: Option<u32>,
    pub per_page: Option<u32>,
    #[param(value_type = Option<String>)]
    pub format: Option<ExportFormat>,
}

// ---------------------------------------------------------------------------------------
// Handlers

/// Lists the 18 régions (and the COM pseudo-régions of the COG).
#[utoipa::path(get, path = "/api/v1/regions", tag = "territoire", params(ListQuery),
    responses(
        (status = 200, description = "Les régions.", body = ListDto<RegionDto>),
        (status = 400, description = "Paramètre invalide.", body = ErrorBody)
    ))]
pub async fn list_regions(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Response> {
    let format = q.format.unwrap_or_default();
    let page = page_for(format, q.page, q.per_page)?;
    let all = service::list_regions(&state.db).await?;
    respond_list(format, "regions", map_page(paginate(all, page), RegionDto::from))
}

/// Lists the régions académiques.
#[utoipa::path(get, path = "/api/v1/regions-academiques", tag = "territoire", params(ListQuery),
    responses(
        (status = 200, description = "Les régions académiques.", body = ListDto<RegionAcademiqueDto>),
        (status = 400, description = "Paramètre invalide.", body = ErrorBody)
    ))]
pub async fn list_regions_academiques(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<Response> {
    let format = q.format.unwrap_or_default();
    let page = page_for(format, q.page, q.per_page)?;
    let all = service::list_regions_academiques(&state.db).await?;
    respond_list(
        format,
        "regions-academiques",
        map_page(paginate(all, page), RegionAcademiqueDto::from),
    )
}

/// Lists the académies, vice-rectorats and services (the historical ones on demand).
#[utoipa::path(get, path = "/api/v1/academies", tag = "territoire", params(AcademiesQuery),
    responses(
        (status = 200, description = "Les académies.", body = ListDto<AcademieDto>),
        (status = 400, description = "Paramètre invalide.", body = ErrorBody)
    ))]
pub async fn list_academies(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<AcademiesQuery>,
) -> ApiResult<Response> {
    let format = q.format.unwrap_or_default();
    let page = page_for(format, q.page, q.per_page)?;
    let all = service::list_academies(&state.db, q.historique.unwrap_or(false)).await?;
    respond_list(
        format,
        "academies",
        map_page(paginate(all, page), AcademieDto::from),
    )
}

/// One académie with its départements.
#[utoipa::path(get, path = "/api/v1/academies/{code}", tag = "territoire",
    params(("code" = String, Path, description = "Code de l'académie, par exemple 14 (Rennes) ou 70 (Normandie).")),
    responses(
        (status = 200, description = "L'académie.", body = AcademieDetailDto),
        (status = 400, description = "Code mal formé.", body = ErrorBody),
        (status = 404, description = "Académie inconnue.", body = ErrorBody)
    ))]
pub async fn get_academie(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<Json<AcademieDetailDto>> {
    let detail = service::get_academie(&state.db, &code).await?;
    Ok(Json(AcademieDetailDto {
        academie: detail.academie.into(),
        departements: detail.departements.into_iter().map(Into::into).collect(),
        nb_etablissements: detail.nb_etablissements,
    }))
}

/// Lists the départements (and COM), with their académie.
#[utoipa::path(get, path = "/api/v1/departements", tag = "territoire", params(DepartementsQuery),
    responses(
        (status = 200, description = "Les départements.", body = ListDto<DepartementDto>),
        (status = 400, description = "Paramètre invalide.", body = ErrorBody)
    ))]
pub async fn list_departements(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<DepartementsQuery>,
) -> ApiResult<Response> {
    let format = q.format.unwrap_or_default();
    let page = page_for(format, q.page, q.per_page)?;
    let all = service::list_departements(&state.db, q.code_academie.as_deref()).await?;
    respond_list(
        format,
        "departements",
        map_page(paginate(all, page), DepartementDto::from),
    )
}

/// One département with the collectivités that cover it.
#[utoipa::path(get, path = "/api/v1/departements/{code}", tag = "territoire",
    params(("code" = String, Path, description = "Code COG du département, par exemple 35, 2A ou 974.")),
    responses(
        (status = 200, description = "Le département.", body = DepartementDetailDto),
        (status = 400, description = "Code mal formé.", body = ErrorBody),
        (status = 404, description = "Département inconnu.", body = ErrorBody)
    ))]
pub async fn get_departement(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<Json<DepartementDetailDto>> {
    let detail = service::get_departement(&state.db, &code).await?;
    Ok(Json(DepartementDetailDto {
        departement: detail.departement.into(),
        collectivites: detail.collectivites.into_iter().map(Into::into).collect(),
    }))
}

/// Lists communes, by département, académie or name.
#[utoipa::path(get, path = "/api/v1/communes", tag = "territoire", params(CommunesQuery),
    responses(
        (status = 200, description = "Les communes.", body = ListDto<CommuneDto>),
        (status = 400, description = "Paramètre invalide.", body = ErrorBody)
    ))]
pub async fn list_communes(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<CommunesQuery>,
) -> ApiResult<Response> {
    let format = q.format.unwrap_or_default();
    let page = page_for(format, q.page, q.per_page)?;
    let filter = CommuneFilter {
        code_departement: q.code_departement,
        code_academie: q.code_academie,
        nom: q.nom,
    };
    let result = service::list_communes(&state.db, &filter, page).await?;
    respond_list(format, "communes", map_page(result, CommuneDto::from))
}

/// One commune, with its académie.
#[utoipa::path(get, path = "/api/v1/communes/{code}", tag = "territoire",
    params(("code" = String, Path, description = "Code COG (INSEE) de la commune, par exemple 35238.")),
    responses(
        (status = 200, description = "La commune.", body = CommuneDto),
        (status = 400, description = "Code mal formé.", body = ErrorBody),
        (status = 404, description = "Commune inconnue.", body = ErrorBody)
    ))]
pub async fn get_commune(
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> ApiResult<Json<CommuneDto>> {
    Ok(Json(service::get_commune(&state.db, &code).await?.into()))
}

/// Lists collectivités, by type, SIREN, name or département.
#[utoipa::path(get, path = "/api/v1/collectivites", tag = "territoire", params(CollectivitesQuery),
    responses(
        (status = 200, description = "Les collectivités.", body = ListDto<CollectiviteDto>),
        (status = 400, description = "Paramètre invalide.", body = ErrorBody)
    ))]
pub async fn list_collectivites(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<CollectivitesQuery>,
) -> ApiResult<Response> {
    let format = q.format.unwrap_or_default();
    let page = page_for(format, q.page, q.per_page)?;
    let filter = CollectiviteFilter {
        kind: q.kind,
        siren: q.siren,
        nom: q.nom,
        code_departement: q.code_departement,
    };
    let result = service::list_collectivites(&state.db, &filter, page).await?;
    respond_list(format, "collectivites", map_page(result, CollectiviteDto::from))
}

/// One collectivité, with its territory.
#[utoipa::path(get, path = "/api/v1/collectivites/{siren}", tag = "territoire",
    params(("siren" = String, Path, description = "SIREN de la collectivité, par exemple 223500018.")),
    responses(
        (status = 200, description = "La collectivité.", body = CollectiviteDetailDto),
        (status = 400, description = "SIREN mal formé.", body = ErrorBody),
        (status = 404, description = "Collectivité inconnue.", body = ErrorBody)
    ))]
pub async fn get_collectivite(
    State(state): State<AppState>,
    Path(siren): Path<String>,
) -> ApiResult<Json<CollectiviteDetailDto>> {
    let detail = service::get_collectivite(&state.db, &siren).await?;
    Ok(Json(CollectiviteDetailDto {
        collectivite: detail.collectivite.into(),
        departements: detail.departements,
        code_commune: detail.code_commune,
        nb_etablissements: detail.nb_etablissements,
    }))
}

/// Lists schools and establishments, by commune, nature, académie, département,
/// collectivité, status or name.
#[utoipa::path(get, path = "/api/v1/etablissements", tag = "territoire", params(EtablissementsQuery),
    responses(
        (status = 200, description = "Les établissements.", body = ListDto<EtablissementDto>),
        (status = 400, description = "Paramètre invalide.", body = ErrorBody)
    ))]
pub async fn list_etablissements(
    State(state): State<AppState>,
    ApiQuery(q): ApiQuery<EtablissementsQuery>,
) -> ApiResult<Response> {
    let format = q.format.unwrap_or_default();
    let page = page_for(format, q.page, q.per_page)?;
    let filter = EtablissementFilter {
        code_commune: q.code_commune,
        nature: q.nature,
        code_academie: q.code_academie,
        code_departement: q.code_departement,
        collectivite_siren: q.siren_collectivite,
        statut: q.statut,
        q: q.q,
    };
    let result = service::list_etablissements(&state.db, &filter, page).await?;
    respond_list(format, "etablissements", map_page(result, EtablissementDto::from))
}

/// One school, with its competent collectivité.
#[utoipa::path(get, path = "/api/v1/etablissements/{uai}", tag = "territoire",
    params(("uai" = String, Path, description = "UAI : 7 chiffres et une lettre de contrôle, par exemple 0350122T.")),
    responses(
        (status = 200, description = "L'établissement.", body = EtablissementDto),
        (status = 400, description = "UAI mal formé.", body = ErrorBody),
        (status = 404, description = "Établissement inconnu.", body = ErrorBody)
    ))]
pub async fn get_etablissement(
    State(state): State<AppState>,
    Path(uai): Path<String>,
) -> ApiResult<Json<EtablissementDto>> {
    Ok(Json(service::get_etablissement(&state.db, &uai).await?.into()))
}
