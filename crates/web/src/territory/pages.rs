//! The referential as pages: France → région académique → académie → département →
//! commune → school, and the collectivités.

use askama::Template;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::routing::get;
use gouvernail_core::territory::model::*;
use gouvernail_core::territory::service;
use serde::Deserialize;

use crate::pages::{Crumbs, PageCtx, PageQuery, PageResult, Pager};
use crate::state::AppState;

/// The routes of the territory pages.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/regions-academiques/{code}", get(region_academique))
        .route("/academies/{code}", get(academie))
        .route("/departements/{code}", get(departement))
        .route("/communes/{code}", get(commune))
        .route("/collectivites", get(collectivites))
        .route("/collectivites/{siren}", get(collectivite))
        .route("/etablissements", get(etablissements))
        .route("/etablissements/{uai}", get(etablissement))
}

/// Rows per page on the pages.
const PER_PAGE: u32 = 50;

fn page_request(page: Option<u32>) -> PageRequest {
    PageRequest {
        page: page.unwrap_or(1).max(1),
        per_page: PER_PAGE,
    }
}

/// Label key of an établissement family.
pub fn famille_key(famille: &str) -> String {
    format!("famille-{famille}")
}

/// Label key of a collectivité kind.
pub fn kind_key(kind: &str) -> String {
    format!("kind-{kind}")
}

#[derive(Template)]
#[template(path = "territory/region_academique.html")]
struct RegionAcademiquePage {
    ctx: PageCtx,
    crumbs: Crumbs,
    region: RegionAcademique,
    academies: Vec<Academie>,
}

async fn region_academique(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(code): Path<String>,
) -> PageResult {
    let (region, academies) = service::get_region_academique(&state.db, &code)
        .await
        .map_err(|e| ctx.error(e))?;
    let crumbs = Crumbs::new(region.nom.clone());
    ctx.render(&RegionAcademiquePage {
        ctx: ctx.clone(),
        crumbs,
        region,
        academies,
    })
}

#[derive(Template)]
#[template(path = "territory/academie.html")]
struct AcademiePage {
    ctx: PageCtx,
    crumbs: Crumbs,
    detail: AcademieDetail,
}

async fn academie(ctx: PageCtx, State(state): State<AppState>, Path(code): Path<String>) -> PageResult {
    let detail = service::get_academie(&state.db, &code)
        .await
        .map_err(|e| ctx.error(e))?;
    let a = &detail.academie;
    let crumbs = Crumbs::new(a.nom.clone()).link_opt(a.code_region_academique.as_ref().map(|code| {
        (
            format!("/regions-academiques/{code}"),
            a.nom_region_academique.clone().unwrap_or_else(|| code.clone()),
        )
    }));
    ctx.render(&AcademiePage {
        ctx: ctx.clone(),
        crumbs,
        detail,
    })
}

#[derive(Debug, Default, Deserialize)]
struct DepartementQuery {
    page: Option<u32>,
    nom: Option<String>,
}

#[derive(Template)]
#[template(path = "territory/departement.html")]
struct DepartementPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    detail: DepartementDetail,
    communes: Page<Commune>,
    nom: String,
    pager: Pager,
}

async fn departement(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<DepartementQuery>,
) -> PageResult {
    let detail = service::get_departement(&state.db, &code)
        .await
        .map_err(|e| ctx.error(e))?;
    let filter = CommuneFilter {
        code_departement: Some(detail.departement.code.clone()),
        nom: q.nom.clone(),
        ..Default::default()
    };
    let communes = service::list_communes(&state.db, &filter, page_request(q.page))
        .await
        .map_err(|e| ctx.error(e))?;
    let nom = q.nom.unwrap_or_default();
    let pager = Pager::new(
        &format!("/departements/{}", detail.departement.code),
        &[("nom", Some(nom.as_str()))],
        communes.page,
        communes.page_count(),
        communes.total,
    );
    let d = &detail.departement;
    let crumbs = Crumbs::new(d.nom.clone()).link_opt(d.code_academie.as_ref().map(|code| {
        (
            format!("/academies/{code}"),
            d.nom_academie.clone().unwrap_or_else(|| code.clone()),
        )
    }));
    ctx.render(&DepartementPage {
        ctx: ctx.clone(),
        crumbs,
        detail,
        communes,
        nom,
        pager,
    })
}

#[derive(Template)]
#[template(path = "territory/commune.html")]
struct CommunePage {
    ctx: PageCtx,
    crumbs: Crumbs,
    commune: Commune,
    etablissements: Page<Etablissement>,
    pager: Pager,
}

async fn commune(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(code): Path<String>,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let commune = service::get_commune(&state.db, &code)
        .await
        .map_err(|e| ctx.error(e))?;
    let filter = EtablissementFilter {
        code_commune: Some(commune.code.clone()),
        ..Default::default()
    };
    let etablissements = service::list_etablissements(&state.db, &filter, page_request(q.page))
        .await
        .map_err(|e| ctx.error(e))?;
    let pager = Pager::new(
        &format!("/communes/{}", commune.code),
        &[],
        etablissements.page,
        etablissements.page_count(),
        etablissements.total,
    );
    let crumbs = Crumbs::new(commune.nom.clone()).link(
        format!("/departements/{}", commune.code_departement),
        commune.nom_departement.clone(),
    );
    ctx.render(&CommunePage {
        ctx: ctx.clone(),
        crumbs,
        commune,
        etablissements,
        pager,
    })
}

#[derive(Debug, Default, Deserialize)]
struct CollectivitesQuery {
    #[serde(rename = "type")]
    kind: Option<String>,
    nom: Option<String>,
    page: Option<u32>,
}

#[derive(Template)]
#[template(path = "territory/collectivites.html")]
struct CollectivitesPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    kinds: &'static [&'static str],
    kind: String,
    nom: String,
    list: Page<Collectivite>,
    pager: Pager,
}

async fn collectivites(
    ctx: PageCtx,
    State(state): State<AppState>,
    Query(q): Query<CollectivitesQuery>,
) -> PageResult {
    let filter = CollectiviteFilter {
        kind: q.kind.clone(),
        nom: q.nom.clone(),
        ..Default::default()
    };
    let list = service::list_collectivites(&state.db, &filter, page_request(q.page))
        .await
        .map_err(|e| ctx.error(e))?;
    let kind = q.kind.unwrap_or_default();
    let nom = q.nom.unwrap_or_default();
    let pager = Pager::new(
        "/collectivites",
        &[("type", Some(kind.as_str())), ("nom", Some(nom.as_str()))],
        list.page,
        list.page_count(),
        list.total,
    );
    ctx.render(&CollectivitesPage {
        ctx: ctx.clone(),
        crumbs: Crumbs::new(ctx.t("nav-collectivites")),
        kinds: service::COLLECTIVITE_KINDS,
        kind,
        nom,
        list,
        pager,
    })
}

#[derive(Template)]
#[template(path = "territory/collectivite.html")]
struct CollectivitePage {
    ctx: PageCtx,
    crumbs: Crumbs,
    detail: CollectiviteDetail,
    etablissements: Page<Etablissement>,
    pager: Pager,
}

async fn collectivite(
    ctx: PageCtx,
    State(state): State<AppState>,
    Path(siren): Path<String>,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let detail = service::get_collectivite(&state.db, &siren)
        .await
        .map_err(|e| ctx.error(e))?;
    let filter = EtablissementFilter {
        collectivite_siren: Some(detail.collectivite.siren.clone()),
        ..Default::default()
    };
    let etablissements = service::list_etablissements(&state.db, &filter, page_request(q.page))
        .await
        .map_err(|e| ctx.error(e))?;
    let pager = Pager::new(
        &format!("/collectivites/{}", detail.collectivite.siren),
        &[],
        etablissements.page,
        etablissements.page_count(),
        etablissements.total,
    );
    let crumbs =
        Crumbs::new(detail.collectivite.nom.clone()).link("/collectivites", ctx.t("nav-collectivites"));
    ctx.render(&CollectivitePage {
        ctx: ctx.clone(),
        crumbs,
        detail,
        etablissements,
        pager,
    })
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct EtablissementsQuery {
    nature: Option<String>,
    statut: Option<String>,
    q: Option<String>,
    code_academie: Option<String>,
    code_departement: Option<String>,
    page: Option<u32>,
}

#[derive(Template)]
#[template(path = "territory/etablissements.html")]
struct EtablissementsPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    familles: &'static [&'static str],
    nature: String,
    statut: String,
    q: String,
    code_academie: String,
    code_departement: String,
    list: Page<Etablissement>,
    pager: Pager,
    export_query: String,
}

async fn etablissements(
    ctx: PageCtx,
    State(state): State<AppState>,
    Query(q): Query<EtablissementsQuery>,
) -> PageResult {
    let filter = EtablissementFilter {
        nature: q.nature.clone(),
        statut: q.statut.clone(),
        q: q.q.clone(),
        code_academie: q.code_academie.clone(),
        code_departement: q.code_departement.clone(),
        ..Default::default()
    };
    let list = service::list_etablissements(&state.db, &filter, page_request(q.page))
        .await
        .map_err(|e| ctx.error(e))?;
    let nature = q.nature.unwrap_or_default();
    let statut = q.statut.unwrap_or_default();
    let text = q.q.unwrap_or_default();
    let code_academie = q.code_academie.unwrap_or_default();
    let code_departement = q.code_departement.unwrap_or_default();
    let params = [
        ("nature", Some(nature.as_str())),
        ("statut", Some(statut.as_str())),
        ("q", Some(text.as_str())),
        ("codeAcademie", Some(code_academie.as_str())),
        ("codeDepartement", Some(code_departement.as_str())),
    ];
    let pager = Pager::new(
        "/etablissements",
        &params,
        list.page,
        list.page_count(),
        list.total,
    );
    let export_query = params
        .iter()
        .filter_map(|(k, v)| {
            v.filter(|v| !v.is_empty())
                .map(|v| format!("{k}={}", crate::pages::url_encode(v)))
        })
        .collect::<Vec<_>>()
        .join("&");
    ctx.render(&EtablissementsPage {
        ctx: ctx.clone(),
        crumbs: Crumbs::new(ctx.t("nav-etablissements")),
        familles: service::FAMILLES,
        nature,
        statut,
        q: text,
        code_academie,
        code_departement,
        list,
        pager,
        export_query,
    })
}

#[derive(Template)]
#[template(path = "territory/etablissement.html")]
struct EtablissementPage {
    ctx: PageCtx,
    crumbs: Crumbs,
    e: Etablissement,
}

async fn etablissement(ctx: PageCtx, State(state): State<AppState>, Path(uai): Path<String>) -> PageResult {
    let e = service::get_etablissement(&state.db, &uai)
        .await
        .map_err(|e| ctx.error(e))?;
    let crumbs = Crumbs::new(e.nom.clone())
        .link_opt(e.code_academie.as_ref().map(|code| {
            (
                format!("/academies/{code}"),
                e.nom_academie.clone().unwrap_or_else(|| code.clone()),
            )
        }))
        .link(
            format!("/departements/{}", e.code_departement),
            e.nom_departement.clone(),
        )
        .link(format!("/communes/{}", e.code_commune), e.nom_commune.clone());
    ctx.render(&EtablissementPage {
        ctx: ctx.clone(),
        crumbs,
        e,
    })
}
