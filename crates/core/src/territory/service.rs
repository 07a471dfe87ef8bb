//! The territory's use-cases: validate the identifiers people type, then read.
//!
//! The referential is public data: these reads need no account. A malformed identifier
//! is a [`CoreError::BadRequest`] naming the parameter; a well-formed one that matches
//! nothing is a [`CoreError::NotFound`].

use crate::db::Db;
use crate::error::{CoreError, CoreResult};

use super::ids::{CodeCommune, CodeDepartement, Siren, Uai};
use super::model::*;
use super::repo;

/// Checks an académie (or région académique) code: two or three digits.
pub(crate) fn check_code_academie(field: &str, code: &str) -> CoreResult<String> {
    let code = code.trim();
    if (2..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(code.to_owned())
    } else {
        Err(CoreError::bad_request(
            field,
            format!("« {code} » n'est pas un code d'académie (deux chiffres, par exemple 14)"),
        ))
    }
}

fn check_departement(field: &str, code: &str) -> CoreResult<String> {
    CodeDepartement::parse(code)
        .map(|c| c.as_str().to_owned())
        .map_err(|e| CoreError::bad_request(field, e.to_string()))
}

fn check_commune(field: &str, code: &str) -> CoreResult<String> {
    CodeCommune::parse(code)
        .map(|c| c.as_str().to_owned())
        .map_err(|e| CoreError::bad_request(field, e.to_string()))
}

fn check_siren(field: &str, siren: &str) -> CoreResult<String> {
    Siren::parse(siren)
        .map(|s| s.as_str().to_owned())
        .map_err(|e| CoreError::bad_request(field, e.to_string()))
}

fn check_uai(field: &str, uai: &str) -> CoreResult<String> {
    Uai::parse(uai)
        .map(|u| u.as_str().to_owned())
        .map_err(|e| CoreError::bad_request(field, e.to_string()))
}

/// Checks a page request: page from 1, at most [`PageRequest::MAX_PER_PAGE`] rows (or
/// [`PageRequest::EXPORT_MAX`] for an export).
pub fn check_page(page: Option<u32>, per_page: Option<u32>) -> CoreResult<PageRequest> {
    let page = page.unwrap_or(1);
    let per_page = per_page.unwrap_or(PageRequest::DEFAULT_PER_PAGE);
    if page == 0 {
        return Err(CoreError::bad_request(
            "page",
            "la numérotation des pages commence à 1",
        ));
    }
    if per_page == 0 || per_page > PageRequest::MAX_PER_PAGE {
        return Err(CoreError::bad_request(
            "per_page",
            format!("entre 1 et {} lignes par page", PageRequest::MAX_PER_PAGE),
        ));
    }
    Ok(PageRequest { page, per_page })
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Counts of the whole referential.
pub async fn counts(db: &Db) -> CoreResult<Counts> {
    repo::counts(db).await
}

pub async fn list_regions(db: &Db) -> CoreResult<Vec<Region>> {
    repo::list_regions(db).await
}

pub async fn list_regions_academiques(db: &Db) -> CoreResult<Vec<RegionAcademique>> {
    repo::list_regions_academiques(db).await
}

/// A région académique and its académies.
pub async fn get_region_academique(db: &Db, code: &str) -> CoreResult<(RegionAcademique, Vec<Academie>)> {
    let code = check_code_academie("code", code)?;
    let region = repo::find_region_academique(db, &code)
        .await?
        .ok_or_else(|| CoreError::not_found("région académique", &code))?;
    let academies = repo::list_academies(db, false, Some(&code)).await?;
    Ok((region, academies))
}

/// Académies, vice-rectorats and services; the historical ones only when asked.
pub async fn list_academies(db: &Db, include_historical: bool) -> CoreResult<Vec<Academie>> {
    repo::list_academies(db, include_historical, None).await
}

/// One académie with its départements.
pub async fn get_academie(db: &Db, code: &str) -> CoreResult<AcademieDetail> {
    let code = check_code_academie("code", code)?;
    let academie = repo::find_academie(db, &code)
        .await?
        .ok_or_else(|| CoreError::not_found("académie", &code))?;
    let departements = repo::list_departements_of_academie(db, &code).await?;
    let nb_etablissements = repo::count_etablissements_of_academie(db, &code).await?;
    Ok(AcademieDetail {
        academie,
        departements,
        nb_etablissements,
    })
}

pub async fn list_departements(db: &Db, code_academie: Option<&str>) -> CoreResult<Vec<Departement>> {
    let code = code_academie
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| check_code_academie("codeAcademie", c))
        .transpose()?;
    repo::list_departements(db, code.as_deref()).await
}

/// One département with the collectivités covering it.
pub async fn get_departement(db: &Db, code: &str) -> CoreResult<DepartementDetail> {
    let code = check_departement("code", code)?;
    let departement = repo::find_departement(db, &code)
        .await?
        .ok_or_else(|| CoreError::not_found("département", &code))?;
    let collectivites = repo::list_collectivites_of_departement(db, &code).await?;
    Ok(DepartementDetail {
        departement,
        collectivites,
    })
}

pub async fn list_communes(db: &Db, filter: &CommuneFilter, page: PageRequest) -> CoreResult<Page<Commune>> {
    let filter = CommuneFilter {
        code_departement: non_empty(&filter.code_departement)
            .map(|c| check_departement("codeDepartement", c))
            .transpose()?,
        code_academie: non_empty(&filter.code_academie)
            .map(|c| check_code_academie("codeAcademie", c))
            .transpose()?,
        nom: non_empty(&filter.nom).map(str::to_owned),
    };
    repo::list_communes(db, &filter, page).await
}

pub async fn get_commune(db: &Db, code: &str) -> CoreResult<Commune> {
    let code = check_commune("code", code)?;
    repo::find_commune(db, &code)
        .await?
        .ok_or_else(|| CoreError::not_found("commune", &code))
}

/// The kinds of collectivité a client may filter on.
pub const COLLECTIVITE_KINDS: &[&str] = &[
    "commune",
    "departement",
    "region",
    "collectivite-unique",
    "ville-de-paris",
    "metropole-de-lyon",
    "collectivite-europeenne-alsace",
    "epci",
];

pub async fn list_collectivites(
    db: &Db,
    filter: &CollectiviteFilter,
    page: PageRequest,
) -> CoreResult<Page<Collectivite>> {
    let kind = match non_empty(&filter.kind) {
        Some(kind) if COLLECTIVITE_KINDS.contains(&kind) => Some(kind.to_owned()),
        Some(kind) => {
            return Err(CoreError::bad_request(
                "type",
                format!(
                    "type « {kind} » inconnu ; valeurs possibles : {}",
                    COLLECTIVITE_KINDS.join(", ")
                ),
            ));
        }
        None => None,
    };
    let filter = CollectiviteFilter {
        kind,
        siren: non_empty(&filter.siren)
            .map(|s| check_siren("siren", s))
            .transpose()?,
        nom: non_empty(&filter.nom).map(str::to_owned),
        code_departement: non_empty(&filter.code_departement)
            .map(|c| check_departement("codeDepartement", c))
            .transpose()?,
    };
    repo::list_collectivites(db, &filter, page).await
}

pub async fn get_collectivite(db: &Db, siren: &str) -> CoreResult<CollectiviteDetail> {
    let siren = check_siren("siren", siren)?;
    let collectivite = repo::find_collectivite(db, &siren)
        .await?
        .ok_or_else(|| CoreError::not_found("collectivité", &siren))?;
    let departements = repo::departements_of_collectivite(db, &siren).await?;
    let code_commune = if collectivite.kind == "commune" || collectivite.kind == "ville-de-paris" {
        repo::commune_of_siren(db, &siren).await?
    } else {
        None
    };
    let nb_etablissements = repo::count_etablissements_of_collectivite(db, &siren).await?;
    Ok(CollectiviteDetail {
        collectivite,
        departements,
        code_commune,
        nb_etablissements,
    })
}

/// The natures a client may filter on, besides 3-digit nature codes.
pub const FAMILLES: &[&str] = &["ecole", "college", "lycee", "erea", "autre"];

pub async fn list_etablissements(
    db: &Db,
    filter: &EtablissementFilter,
    page: PageRequest,
) -> CoreResult<Page<Etablissement>> {
    let nature = match non_empty(&filter.nature) {
        Some(n) if FAMILLES.contains(&n) || (n.len() == 3 && n.bytes().all(|b| b.is_ascii_digit())) => {
            Some(n.to_owned())
        }
        Some(n) => {
            return Err(CoreError::bad_request(
                "nature",
                format!(
                    "nature « {n} » inconnue : {} ou un code nature à 3 chiffres",
                    FAMILLES.join(", ")
                ),
            ));
        }
        None => None,
    };
    let statut = match non_empty(&filter.statut) {
        Some(s @ ("public" | "prive")) => Some(s.to_owned()),
        Some(s) => {
            return Err(CoreError::bad_request(
                "statut",
                format!("statut « {s} » inconnu : public ou prive"),
            ));
        }
        None => None,
    };
    let filter = EtablissementFilter {
        code_commune: non_empty(&filter.code_commune)
            .map(|c| check_commune("codeCommune", c))
            .transpose()?,
        nature,
        code_academie: non_empty(&filter.code_academie)
            .map(|c| check_code_academie("codeAcademie", c))
            .transpose()?,
        code_departement: non_empty(&filter.code_departement)
            .map(|c| check_departement("codeDepartement", c))
            .transpose()?,
        collectivite_siren: non_empty(&filter.collectivite_siren)
            .map(|s| check_siren("siren", s))
            .transpose()?,
        statut,
        q: non_empty(&filter.q).map(str::to_owned),
    };
    repo::list_etablissements(db, &filter, page).await
}

pub async fn get_etablissement(db: &Db, uai: &str) -> CoreResult<Etablissement> {
    let uai = check_uai("uai", uai)?;
    repo::find_etablissement(db, &uai)
        .await?
        .ok_or_else(|| CoreError::not_found("établissement", &uai))
}

/// How many results of each kind the search box shows.
pub const SEARCH_LIMIT: u32 = 20;

/// The search box: a UAI, an INSEE code, a SIREN or an académie code goes straight to its
/// object; any other text is matched on names (accents and case ignored).
pub async fn search(db: &Db, text: &str) -> CoreResult<SearchResults> {
    let text = text.trim();
    let mut results = SearchResults::default();
    if text.chars().count() < 2 {
        return Ok(results);
    }
    if let Ok(uai) = Uai::parse(text) {
        results
            .etablissements
            .extend(repo::find_etablissement(db, uai.as_str()).await?);
        return Ok(results);
    }
    if let Ok(siren) = Siren::parse(text) {
        results
            .collectivites
            .extend(repo::find_collectivite(db, siren.as_str()).await?);
        return Ok(results);
    }
    if let Ok(code) = CodeCommune::parse(text) {
        results
            .communes
            .extend(repo::find_commune(db, code.as_str()).await?);
        if !results.communes.is_empty() {
            return Ok(results);
        }
    }
    let page = PageRequest {
        page: 1,
        per_page: SEARCH_LIMIT,
    };
    let key = crate::text::search_key(text);
    if key.chars().count() < 2 {
        // Only punctuation or wildcards: nothing to look for.
        return Ok(results);
    }
    results.academies = repo::list_academies(db, false, None)
        .await?
        .into_iter()
        .filter(|a| crate::text::search_key(&a.nom).contains(&key) || a.code == text)
        .collect();
    results.communes = repo::list_communes(
        db,
        &CommuneFilter {
            nom: Some(text.to_owned()),
            ..Default::default()
        },
        page,
    )
    .await?
    .items;
    results.collectivites = repo::list_collectivites(
        db,
        &CollectiviteFilter {
            nom: Some(text.to_owned()),
            ..Default::default()
        },
        page,
    )
    .await?
    .items;
    results.etablissements = repo::list_etablissements(
        db,
        &EtablissementFilter {
            q: Some(text.to_owned()),
            ..Default::default()
        },
        page,
    )
    .await?
    .items;
    Ok(results)
}
