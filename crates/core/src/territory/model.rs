//! The territory's types, as the services return them.

use time::Date;

/// A région (INSEE code).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Region {
    pub code: String,
    pub nom: String,
}

/// A région académique (coded by the INSEE code of its région).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct RegionAcademique {
    pub code: String,
    pub nom: String,
    pub nb_academies: i64,
}

/// An académie, vice-rectorat or service, current or historical.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Academie {
    pub code: String,
    pub nom: String,
    /// `academie`, `vice-rectorat`, `service-education-nationale` or `historique`.
    pub kind: String,
    pub code_region_academique: Option<String>,
    pub nom_region_academique: Option<String>,
    pub valid_from: Option<Date>,
    pub valid_until: Option<Date>,
    pub note: Option<String>,
}

impl Academie {
    /// True for the historical académies (Caen, Rouen), no longer in force.
    pub fn is_historical(&self) -> bool {
        self.kind == "historique"
    }
}

/// An académie with the départements it covers.
#[derive(Debug, Clone, PartialEq)]
pub struct AcademieDetail {
    pub academie: Academie,
    pub departements: Vec<Departement>,
    pub nb_etablissements: i64,
}

/// A département (COG code) and its current académie.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Departement {
    pub code: String,
    pub nom: String,
    pub code_region: Option<String>,
    pub code_academie: Option<String>,
    pub nom_academie: Option<String>,
    pub zone: Option<String>,
    pub nb_communes: i64,
    pub nb_etablissements: i64,
}

/// A département with the collectivités competent on its schools.
#[derive(Debug, Clone, PartialEq)]
pub struct DepartementDetail {
    pub departement: Departement,
    pub collectivites: Vec<Collectivite>,
}

/// A commune (COG code) with its SIREN, population and académie.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Commune {
    pub code: String,
    pub nom: String,
    pub code_departement: String,
    pub nom_departement: String,
    pub code_region: Option<String>,
    pub code_academie: Option<String>,
    pub siren: Option<String>,
    pub population: Option<i64>,
    pub codes_postaux: Option<String>,
}

/// A collectivité territoriale (or EPCI) by SIREN, with its school competences.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Collectivite {
    pub siren: String,
    /// See [`crate::territory::sources::CollectiviteKind`] for the values.
    pub kind: String,
    pub nom: String,
    pub code_territoire: Option<String>,
    pub competence_ecoles: bool,
    pub competence_colleges: bool,
    pub competence_lycees: bool,
}

/// A collectivité with its territory and the schools it equips.
#[derive(Debug, Clone, PartialEq)]
pub struct CollectiviteDetail {
    pub collectivite: Collectivite,
    /// Départements covered (empty for a commune or an EPCI).
    pub departements: Vec<String>,
    /// For a commune: its COG code.
    pub code_commune: Option<String>,
    pub nb_etablissements: i64,
}

/// A school or other establishment of the Annuaire de l'éducation, by UAI.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Etablissement {
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
    /// The collectivité legally competent for its equipment and maintenance.
    pub collectivite_siren: Option<String>,
    pub collectivite_nom: Option<String>,
    pub siren_siret: Option<String>,
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

/// One page of a list, with the total count of matching rows.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub total: i64,
    pub page: u32,
    pub per_page: u32,
}

impl<T> Page<T> {
    /// Number of pages for the total.
    pub fn page_count(&self) -> u32 {
        if self.per_page == 0 {
            return 0;
        }
        let pages = (self.total.max(0) as u64).div_ceil(u64::from(self.per_page));
        u32::try_from(pages).unwrap_or(u32::MAX)
    }
}

/// Which slice of a list to return. `per_page` is capped by the service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageRequest {
    /// 1-based page number.
    pub page: u32,
    pub per_page: u32,
}

impl PageRequest {
    /// The largest page a client may ask for.
    pub const MAX_PER_PAGE: u32 = 500;
    /// The page size when none is given.
    pub const DEFAULT_PER_PAGE: u32 = 50;
    /// The largest number of rows one export (CSV, XLSX) returns.
    pub const EXPORT_MAX: u32 = 100_000;

    /// A page request for an export: everything, up to [`Self::EXPORT_MAX`] rows.
    pub fn export() -> Self {
        Self {
            page: 1,
            per_page: Self::EXPORT_MAX,
        }
    }

    pub(crate) fn offset(&self) -> i64 {
        i64::from(self.page.saturating_sub(1)) * i64::from(self.per_page)
    }
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            page: 1,
            per_page: Self::DEFAULT_PER_PAGE,
        }
    }
}

/// Filters of the commune list.
#[derive(Debug, Clone, Default)]
pub struct CommuneFilter {
    pub code_departement: Option<String>,
    pub code_academie: Option<String>,
    pub nom: Option<String>,
}

/// Filters of the collectivité list.
#[derive(Debug, Clone, Default)]
pub struct CollectiviteFilter {
    /// A kind such as `region`, `departement`, `commune`, `epci`…
    pub kind: Option<String>,
    pub siren: Option<String>,
    pub nom: Option<String>,
    pub code_departement: Option<String>,
}

/// Filters of the establishment list.
#[derive(Debug, Clone, Default)]
pub struct EtablissementFilter {
    pub code_commune: Option<String>,
    /// A family (`ecole`, `college`, `lycee`, `erea`, `autre`) or a 3-digit nature code.
    pub nature: Option<String>,
    pub code_academie: Option<String>,
    pub code_departement: Option<String>,
    pub collectivite_siren: Option<String>,
    /// `public` or `prive`.
    pub statut: Option<String>,
    /// Free text on the name or the UAI.
    pub q: Option<String>,
}

/// What a search box finds, by kind.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchResults {
    pub etablissements: Vec<Etablissement>,
    pub communes: Vec<Commune>,
    pub collectivites: Vec<Collectivite>,
    pub academies: Vec<Academie>,
}

impl SearchResults {
    /// True when nothing was found.
    pub fn is_empty(&self) -> bool {
        self.etablissements.is_empty()
            && self.communes.is_empty()
            && self.collectivites.is_empty()
            && self.academies.is_empty()
    }
}

/// Counts of the referential, for the home page and the health checks.
#[derive(Debug, Clone, Default, PartialEq, Eq, sqlx::FromRow)]
pub struct Counts {
    pub regions_academiques: i64,
    pub academies: i64,
    pub departements: i64,
    pub communes: i64,
    pub collectivites: i64,
    pub etablissements: i64,
}
