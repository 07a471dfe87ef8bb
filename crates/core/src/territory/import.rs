//! Loading the referential and the Annuaire de l'éducation into the database.
//!
//! Every import is an upsert: running it again updates rows in place and never duplicates
//! them. Bad entries are reported one by one (line, field, reason) and the good ones are
//! kept. Each import runs in one write transaction, so a failure leaves the database as
//! it was.

use std::collections::{HashMap, HashSet};
use std::io::Read;
use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use crate::db::{Db, Tx, Value};
use crate::error::{CoreError, CoreResult};
use crate::text::search_key;

use super::repo::{self, CommuneKey, CoverageRow, OnConflict};
use super::sources::{
    self, AcademieKind, AnnuaireRecord, LineError, NatureFamily, Parsed, SourceError, Statut,
};

/// The referential files shipped with the application (see `data/referential/README.md`).
pub mod bundled {
    pub const REGIONS: &[u8] = include_bytes!("../../../../data/referential/regions.json");
    pub const DEPARTEMENTS: &[u8] = include_bytes!("../../../../data/referential/departements.json");
    pub const COMMUNES: &[u8] = include_bytes!("../../../../data/referential/communes.json");
    pub const EPCI: &[u8] = include_bytes!("../../../../data/referential/epci.json");
    pub const ACADEMIES: &[u8] = include_bytes!("../../../../data/referential/academies.csv");
    pub const DEPARTEMENTS_ACADEMIES: &[u8] =
        include_bytes!("../../../../data/referential/departements_academies.csv");
    pub const COLLECTIVITES: &[u8] =
        include_bytes!("../../../../data/referential/collectivites_competentes.csv");
}

/// Reports the progress of a long import (the CLI draws a bar; tests ignore it).
pub trait Progress: Send + Sync {
    /// A new stage of `total` units starts.
    fn begin(&self, label: &str, total: u64);
    /// `n` more units are done.
    fn advance(&self, n: u64);
    /// The stage is over.
    fn end(&self);
}

/// A [`Progress`] that shows nothing.
pub struct NoProgress;

impl Progress for NoProgress {
    fn begin(&self, _label: &str, _total: u64) {}
    fn advance(&self, _n: u64) {}
    fn end(&self) {}
}

/// A rejected entry, with the file it comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    pub file: String,
    pub error: LineError,
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} : {}", self.file, self.error)
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    /// Entries read from the source(s).
    pub read: u64,
    /// Entries written (created or updated).
    pub imported: u64,
    /// Of those, how many did not exist before (when known).
    pub created: u64,
    /// Entries rejected, each with its reason.
    pub rejected: Vec<Rejected>,
    /// Extra lines of an entry already read (sites of a multi-site establishment).
    pub merged: u64,
}

impl ImportReport {
    /// Of the imported entries, how many existed before.
    pub fn updated(&self) -> u64 {
        self.imported.saturating_sub(self.created)
    }

    fn absorb<T>(&mut self, file: &str, parsed: &Parsed<T>) {
        self.read += (parsed.records.len() + parsed.errors.len()) as u64;
        self.rejected.extend(parsed.errors.iter().map(|e| Rejected {
            file: file.to_owned(),
            error: e.clone(),
        }));
    }
}

/// Where the referential comes from.
#[derive(Debug, Clone)]
pub enum ReferentialSource {
    /// The copy shipped with the application.
    Bundled,
    /// A folder holding the etalab `@etalab/decoupage-administratif` files
    /// (`regions.json`, `departements.json`, `communes.json`, optionally `epci.json`) and,
    /// optionally, newer copies of the project's tables (`academies.csv`,
    /// `departements_academies.csv`, `collectivites_competentes.csv`).
    Dir(PathBuf),
}

fn source_error(file: &str, e: SourceError) -> CoreError {
    CoreError::Validation(vec![crate::FieldError::new(file, e.to_string())])
}

fn read_file(dir: &Path, name: &str) -> CoreResult<Vec<u8>> {
    std::fs::read(dir.join(name)).map_err(|e| {
        CoreError::Validation(vec![crate::FieldError::new(
            name,
            format!("lecture de {} impossible : {e}", dir.join(name).display()),
        )])
    })
}

fn read_optional(dir: &Path, name: &str, fallback: &'static [u8]) -> CoreResult<Vec<u8>> {
    if dir.join(name).exists() {
        read_file(dir, name)
    } else {
        Ok(fallback.to_vec())
    }
}

struct ReferentialFiles {
    regions: Vec<u8>,
    departements: Vec<u8>,
    communes: Vec<u8>,
    epci: Option<Vec<u8>>,
    academies: Vec<u8>,
    departements_academies: Vec<u8>,
    collectivites: Vec<u8>,
}

impl ReferentialFiles {
    fn load(source: &ReferentialSource) -> CoreResult<Self> {
        match source {
            ReferentialSource::Bundled => Ok(Self {
                regions: bundled::REGIONS.to_vec(),
                departements: bundled::DEPARTEMENTS.to_vec(),
                communes: bundled::COMMUNES.to_vec(),
                epci: Some(bundled::EPCI.to_vec()),
                academies: bundled::ACADEMIES.to_vec(),
                departements_academies: bundled::DEPARTEMENTS_ACADEMIES.to_vec(),
                collectivites: bundled::COLLECTIVITES.to_vec(),
            }),
            ReferentialSource::Dir(dir) => Ok(Self {
                regions: read_file(dir, "regions.json")?,
                departements: read_file(dir, "departements.json")?,
                communes: read_file(dir, "communes.json")?,
                epci: if dir.join("epci.json").exists() {
                    Some(read_file(dir, "epci.json")?)
                } else {
                    None
                },
                academies: read_optional(dir, "academies.csv", bundled::ACADEMIES)?,
                departements_academies: read_optional(
                    dir,
                    "departements_academies.csv",
                    bundled::DEPARTEMENTS_ACADEMIES,
                )?,
                collectivites: read_optional(dir, "collectivites_competentes.csv", bundled::COLLECTIVITES)?,
            }),
        }
    }
}

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// Storage code of an académie kind.
fn academie_kind(kind: AcademieKind) -> &'static str {
    match kind {
        AcademieKind::Academie => "academie",
        AcademieKind::ViceRectorat => "vice-rectorat",
        AcademieKind::ServiceEducationNationale => "service-education-nationale",
        AcademieKind::Historique => "historique",
    }
}

/// Loads (or refreshes) the whole territory referential: régions, régions académiques,
/// académies, départements, communes, collectivités and EPCI.
#[tracing::instrument(skip_all)]
pub async fn import_referential(
    db: &Db,
    source: &ReferentialSource,
    progress: &dyn Progress,
) -> CoreResult<ImportReport> {
    let files = ReferentialFiles::load(source)?;
    let mut report = ImportReport::default();

    let regions = sources::parse_regions(&files.regions).map_err(|e| source_error("regions.json", e))?;
    let departements =
        sources::parse_departements(&files.departements).map_err(|e| source_error("departements.json", e))?;
    let communes = sources::parse_communes(&files.communes).map_err(|e| source_error("communes.json", e))?;
    let links =
        sources::parse_commune_links(&files.communes).map_err(|e| source_error("communes.json", e))?;
    let epci = files
        .epci
        .as_deref()
        .map(sources::parse_epci)
        .transpose()
        .map_err(|e| source_error("epci.json", e))?;
    let academies =
        sources::parse_academies(files.academies.as_slice()).map_err(|e| source_error("academies.csv", e))?;
    let dep_academies = sources::parse_departements_academies(files.departements_academies.as_slice())
        .map_err(|e| source_error("departements_academies.csv", e))?;
    let collectivites = sources::parse_collectivites(files.collectivites.as_slice())
        .map_err(|e| source_error("collectivites_competentes.csv", e))?;

    report.absorb("regions.json", &regions);
    report.absorb("departements.json", &departements);
    report.absorb("communes.json", &communes);
    report.absorb("communes.json", &links);
    if let Some(epci) = &epci {
        report.absorb("epci.json", epci);
    }
    report.absorb("academies.csv", &academies);
    report.absorb("departements_academies.csv", &dep_academies);
    report.absorb("collectivites_competentes.csv", &collectivites);

    let before = referential_rows(db).await?;
    let stamp = now();
    let mut tx = db.begin().await?;
    progress.begin("référentiel", communes.records.len() as u64 + 1_000);

    // Régions.
    let rows = regions
        .records
        .iter()
        .map(|(_, r)| vec![Value::from(r.code.as_str()), r.nom.as_str().into(), stamp.into()])
        .collect();
    report.imported += repo::upsert_rows(
        &mut tx,
        "region",
        &["code", "nom", "updated_at"],
        &["code"],
        OnConflict::Update {
            columns: &["nom", "updated_at"],
            only_where: None,
        },
        rows,
    )
    .await?;

    // Régions académiques, from the académies table (coded by the INSEE région code).
    let mut ra: Vec<(String, String)> = Vec::new();
    for (_, a) in &academies.records {
        if let (Some(code), Some(nom)) = (&a.code_region_academique, &a.nom_region_academique)
            && !ra.iter().any(|(c, _)| c == code)
        {
            ra.push((code.clone(), nom.clone()));
        }
    }
    let rows = ra
        .iter()
        .map(|(code, nom)| vec![Value::from(code.as_str()), nom.as_str().into(), stamp.into()])
        .collect();
    report.imported += repo::upsert_rows(
        &mut tx,
        "region_academique",
        &["code", "nom", "updated_at"],
        &["code"],
        OnConflict::Update {
            columns: &["nom", "updated_at"],
            only_where: None,
        },
        rows,
    )
    .await?;

    // Académies.
    let rows = academies
        .records
        .iter()
        .map(|(_, a)| {
            vec![
                Value::from(a.code.as_str()),
                a.nom.as_str().into(),
                academie_kind(a.kind).into(),
                a.code_region_academique.as_deref().into(),
                a.valid_from.into(),
                a.valid_until.into(),
                a.note.as_deref().into(),
                stamp.into(),
            ]
        })
        .collect();
    report.imported += repo::upsert_rows(
        &mut tx,
        "academie",
        &[
            "code",
            "nom",
            "kind",
            "code_region_academique",
            "valid_from",
            "valid_until",
            "note",
            "updated_at",
        ],
        &["code"],
        OnConflict::Update {
            columns: &[
                "nom",
                "kind",
                "code_region_academique",
                "valid_from",
                "valid_until",
                "note",
                "updated_at",
            ],
            only_where: None,
        },
        rows,
    )
    .await?;
    let known_academies: HashSet<&str> = academies.records.iter().map(|(_, a)| a.code.as_str()).collect();

    // Départements: etalab names and régions, with the project's académie mapping.
    let by_dep: HashMap<&str, &sources::DepartementAcademieRecord> = dep_academies
        .records
        .iter()
        .map(|(_, d)| (d.code_departement.as_str(), d))
        .collect();
    let rows = departements
        .records
        .iter()
        .map(|(_, d)| {
            let extra = by_dep.get(d.code.as_str());
            let academie = extra
                .and_then(|x| x.code_academie.as_ref())
                .map(|c| c.as_str())
                .filter(|c| known_academies.contains(c));
            vec![
                Value::from(d.code.as_str()),
                d.nom.as_str().into(),
                d.region.as_str().into(),
                academie.into(),
                extra.map(|x| x.zone.as_str()).into(),
                extra.and_then(|x| x.uai_prefix.as_deref()).into(),
                stamp.into(),
            ]
        })
        .collect();
    report.imported += repo::upsert_rows(
        &mut tx,
        "departement",
        &[
            "code",
            "nom",
            "code_region",
            "code_academie",
            "zone",
            "uai_prefix",
            "updated_at",
        ],
        &["code"],
        OnConflict::Update {
            columns: &[
                "nom",
                "code_region",
                "code_academie",
                "zone",
                "uai_prefix",
                "updated_at",
            ],
            only_where: None,
        },
        rows,
    )
    .await?;
    let known_deps: HashSet<&str> = departements
        .records
        .iter()
        .map(|(_, d)| d.code.as_str())
        .collect();

    // Which départements each académie covers (history included).
    let mut rows = Vec::new();
    for (line, a) in &academies.records {
        for dep in &a.departements {
            if known_deps.contains(dep.as_str()) {
                rows.push(vec![Value::from(a.code.as_str()), dep.as_str().into()]);
            } else {
                report.rejected.push(Rejected {
                    file: "academies.csv".into(),
                    error: line_error(*line, "departements", format!("département inconnu « {dep} »")),
                });
            }
        }
    }
    repo::upsert_rows(
        &mut tx,
        "academie_departement",
        &["code_academie", "code_departement"],
        &["code_academie", "code_departement"],
        OnConflict::Nothing,
        rows,
    )
    .await?;
    progress.advance(500);

    // Communes.
    let mut rows = Vec::with_capacity(communes.records.len());
    for (line, c) in &communes.records {
        if !known_deps.contains(c.departement.as_str()) {
            report.rejected.push(Rejected {
                file: "communes.json".into(),
                error: line_error(
                    *line,
                    "departement",
                    format!("département inconnu « {} »", c.departement),
                ),
            });
            continue;
        }
        let postaux = if c.codes_postaux.is_empty() {
            None
        } else {
            Some(c.codes_postaux.join(" "))
        };
        rows.push(vec![
            Value::from(c.code.as_str()),
            c.nom.as_str().into(),
            c.departement.as_str().into(),
            c.region.as_str().into(),
            c.siren.as_deref().into(),
            c.population.into(),
            postaux.into(),
            search_key(&c.nom).into(),
            stamp.into(),
        ]);
    }
    report.imported += upsert_in_chunks(
        &mut tx,
        progress,
        "commune",
        &[
            "code",
            "nom",
            "code_departement",
            "code_region",
            "siren",
            "population",
            "codes_postaux",
            "search_key",
            "updated_at",
        ],
        &["code"],
        &[
            "nom",
            "code_departement",
            "code_region",
            "siren",
            "population",
            "codes_postaux",
            "search_key",
            "updated_at",
        ],
        None,
        rows,
    )
    .await?;

    // Former and delegated communes, and arrondissements, pointing to the current commune.
    let known_communes: HashSet<&str> = communes.records.iter().map(|(_, c)| c.code.as_str()).collect();
    let mut rows = Vec::with_capacity(links.records.len());
    for (line, l) in &links.records {
        if known_communes.contains(l.code.as_str()) {
            // A delegated commune that kept the code of the current one: nothing to map.
            continue;
        }
        if !known_communes.contains(l.parent.as_str()) {
            report.rejected.push(Rejected {
                file: "communes.json".into(),
                error: line_error(
                    *line,
                    "chefLieu",
                    format!("commune de rattachement inconnue « {} »", l.parent),
                ),
            });
            continue;
        }
        rows.push(vec![
            Value::from(l.code.as_str()),
            l.nom.as_str().into(),
            l.kind.as_str().into(),
            l.parent.as_str().into(),
            stamp.into(),
        ]);
    }
    repo::upsert_rows(
        &mut tx,
        "commune_rattachee",
        &["code", "nom", "kind", "code_commune", "updated_at"],
        &["code"],
        OnConflict::Update {
            columns: &["nom", "kind", "code_commune", "updated_at"],
            only_where: None,
        },
        rows,
    )
    .await?;

    // Collectivités above the commune, with their territory.
    let rows = collectivites
        .records
        .iter()
        .map(|(_, k)| {
            vec![
                Value::from(k.siren.as_str()),
                k.kind.as_str().into(),
                k.nom.as_str().into(),
                k.code_territoire.as_str().into(),
                k.competence_ecoles.into(),
                k.competence_colleges.into(),
                k.competence_lycees.into(),
                search_key(&k.nom).into(),
                stamp.into(),
            ]
        })
        .collect();
    const COLLECTIVITE_COLUMNS: &[&str] = &[
        "siren",
        "kind",
        "nom",
        "code_territoire",
        "competence_ecoles",
        "competence_colleges",
        "competence_lycees",
        "search_key",
        "updated_at",
    ];
    const COLLECTIVITE_UPDATE: &[&str] = &[
        "kind",
        "nom",
        "code_territoire",
        "competence_ecoles",
        "competence_colleges",
        "competence_lycees",
        "search_key",
        "updated_at",
    ];
    report.imported += repo::upsert_rows(
        &mut tx,
        "collectivite",
        COLLECTIVITE_COLUMNS,
        &["siren"],
        OnConflict::Update {
            columns: COLLECTIVITE_UPDATE,
            only_where: None,
        },
        rows,
    )
    .await?;
    let mut rows = Vec::new();
    for (line, k) in &collectivites.records {
        repo::delete_where(&mut tx, "collectivite_departement", "siren", k.siren.as_str()).await?;
        for dep in &k.departements {
            if known_deps.contains(dep.as_str()) {
                rows.push(vec![Value::from(k.siren.as_str()), dep.as_str().into()]);
            } else {
                report.rejected.push(Rejected {
                    file: "collectivites_competentes.csv".into(),
                    error: line_error(
                        *line,
                        "departements_couverts",
                        format!("département inconnu « {dep} »"),
                    ),
                });
            }
        }
    }
    repo::upsert_rows(
        &mut tx,
        "collectivite_departement",
        &["siren", "code_departement"],
        &["siren", "code_departement"],
        OnConflict::Nothing,
        rows,
    )
    .await?;

    // Every commune with a SIREN is a collectivité competent for its écoles. A SIREN already
    // held by a collectivité of another kind (Ville de Paris) keeps that kind.
    let rows = communes
        .records
        .iter()
        .filter_map(|(_, c)| {
            let siren = c.siren.as_deref()?;
            Some(vec![
                Value::from(siren),
                "commune".into(),
                c.nom.as_str().into(),
                c.code.as_str().into(),
                true.into(),
                false.into(),
                false.into(),
                search_key(&c.nom).into(),
                stamp.into(),
            ])
        })
        .collect();
    report.imported += repo::upsert_rows(
        &mut tx,
        "collectivite",
        COLLECTIVITE_COLUMNS,
        &["siren"],
        OnConflict::Update {
            columns: COLLECTIVITE_UPDATE,
            only_where: Some("collectivite.kind = 'commune'"),
        },
        rows,
    )
    .await?;
    progress.advance(250);

    // EPCI and their members (the Métropole de Lyon among them).
    if let Some(epci) = &epci {
        let known_communes: HashSet<&str> = communes.records.iter().map(|(_, c)| c.code.as_str()).collect();
        let rows = epci
            .records
            .iter()
            .map(|(_, e)| {
                vec![
                    Value::from(e.siren.as_str()),
                    "epci".into(),
                    e.nom.as_str().into(),
                    e.kind.as_str().into(),
                    false.into(),
                    false.into(),
                    false.into(),
                    search_key(&e.nom).into(),
                    stamp.into(),
                ]
            })
            .collect();
        report.imported += repo::upsert_rows(
            &mut tx,
            "collectivite",
            COLLECTIVITE_COLUMNS,
            &["siren"],
            OnConflict::Update {
                columns: COLLECTIVITE_UPDATE,
                only_where: Some("collectivite.kind = 'epci'"),
            },
            rows,
        )
        .await?;
        tx.execute(crate::db::Sql::new("DELETE FROM epci_membre")).await?;
        let mut rows = Vec::new();
        for (line, e) in &epci.records {
            for m in &e.membres {
                if known_communes.contains(m.as_str()) {
                    rows.push(vec![Value::from(e.siren.as_str()), m.as_str().into()]);
                } else {
                    report.rejected.push(Rejected {
                        file: "epci.json".into(),
                        error: line_error(*line, "membres", format!("commune membre inconnue « {m} »")),
                    });
                }
            }
        }
        repo::upsert_rows(
            &mut tx,
            "epci_membre",
            &["siren_epci", "code_commune"],
            &["siren_epci", "code_commune"],
            OnConflict::Nothing,
            rows,
        )
        .await?;
    }
    progress.advance(250);
    crate::audit::record(
        &mut tx,
        &import_actor(),
        "importer",
        "referentiel",
        match source {
            ReferentialSource::Bundled => "embarque",
            ReferentialSource::Dir(_) => "dossier",
        },
        None,
        Some(&serde_json::json!({ "lues": report.read, "ecrites": report.imported, "rejetees": report.rejected.len() })),
    )
    .await?;
    // School values carry their school's location: follow the schools that moved.
    crate::indicator::repo::relocate_school_values(&mut tx).await?;
    tx.commit().await?;
    progress.end();
    report.created = referential_rows(db).await?.saturating_sub(before);
    Ok(report)
}

/// Rows of the tables an import of the referential upserts, to tell created from updated.
async fn referential_rows(db: &Db) -> CoreResult<u64> {
    let mut total = 0;
    for table in [
        "region",
        "region_academique",
        "academie",
        "departement",
        "commune",
        "collectivite",
    ] {
        total += u64::try_from(repo::count_table(db, table).await?).unwrap_or(0);
    }
    Ok(total)
}

/// The author of imports in the audit trail (one entry per import run, with its counts).
fn import_actor() -> crate::audit::Actor {
    crate::audit::Actor {
        id: None,
        label: "import".to_owned(),
    }
}

fn line_error(line: u64, field: &str, reason: String) -> LineError {
    LineError {
        line,
        field: field.to_owned(),
        reason,
    }
}

/// Rows per upsert statement for the big tables, so the progress bar moves.
const CHUNK: usize = 2_000;

#[expect(clippy::too_many_arguments, reason = "a private helper mirroring upsert_rows")]
async fn upsert_in_chunks(
    tx: &mut Tx,
    progress: &dyn Progress,
    table: &str,
    columns: &[&str],
    key: &[&str],
    update: &[&str],
    only_where: Option<&str>,
    rows: Vec<Vec<Value>>,
) -> CoreResult<u64> {
    let mut done = 0;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let chunk: Vec<_> = rows.by_ref().take(CHUNK).collect();
        let n = chunk.len() as u64;
        done += repo::upsert_rows(
            tx,
            table,
            columns,
            key,
            OnConflict::Update {
                columns: update,
                only_where,
            },
            chunk,
        )
        .await?;
        progress.advance(n);
    }
    Ok(done)
}

// ---------------------------------------------------------------------------------------
// The Annuaire de l'éducation.

/// Options of an annuaire import.
#[derive(Debug, Clone, Copy, Default)]
pub struct AnnuaireOptions {
    /// Marks every imported school as fictitious (the demo's own schools).
    pub fictitious: bool,
}

/// SIREN of the Métropole de Lyon, competent for the collèges of its member communes.
pub const SIREN_METROPOLE_LYON: &str = "200046977";

/// Finds the collectivité legally competent for the equipment of a school.
pub struct CompetenceIndex {
    by_departement: HashMap<String, Vec<CoverageRow>>,
    departement_count: HashMap<String, usize>,
    lyon_members: HashSet<String>,
}

impl CompetenceIndex {
    /// Builds the index from the database's collectivités.
    pub async fn load(db: &Db) -> CoreResult<Self> {
        let coverages = repo::all_coverages(db).await?;
        let members = repo::members_of(db, SIREN_METROPOLE_LYON).await?;
        Ok(Self::new(
            coverages,
            members.into_iter().map(|m| m.code_commune).collect(),
        ))
    }

    /// Builds the index from coverage rows and the Métropole de Lyon's member communes.
    pub fn new(coverages: Vec<CoverageRow>, lyon_members: HashSet<String>) -> Self {
        let mut by_departement: HashMap<String, Vec<CoverageRow>> = HashMap::new();
        let mut departement_count: HashMap<String, usize> = HashMap::new();
        for c in coverages {
            *departement_count.entry(c.siren.clone()).or_default() += 1;
            by_departement
                .entry(c.code_departement.clone())
                .or_default()
                .push(c);
        }
        Self {
            by_departement,
            departement_count,
            lyon_members,
        }
    }

    /// The SIREN of the competent collectivité: the commune for a public école, the
    /// département (or its substitute) for a collège, the région (or its substitute) for a
    /// lycée or an EREA; none for a private school or another kind of establishment.
    pub fn competent(&self, famille: NatureFamily, statut: Statut, commune: &CommuneKey) -> Option<String> {
        if statut == Statut::Prive {
            return None;
        }
        let wants_colleges = match famille {
            NatureFamily::Ecole => return commune.siren.clone(),
            NatureFamily::College => true,
            NatureFamily::Lycee | NatureFamily::Erea => false,
            NatureFamily::Autre => return None,
        };
        let in_lyon = self.lyon_members.contains(&commune.code);
        let mut candidates: Vec<&CoverageRow> = self
            .by_departement
            .get(&commune.code_departement)?
            .iter()
            .filter(|c| {
                if wants_colleges {
                    c.competence_colleges
                } else {
                    c.competence_lycees
                }
            })
            .filter(|c| c.kind != "metropole-de-lyon" || in_lyon)
            .collect();
        candidates.sort_by_key(|c| {
            (
                // Inside the Métropole de Lyon, the Métropole comes first.
                c.kind != "metropole-de-lyon",
                self.departement_count
                    .get(&c.siren)
                    .copied()
                    .unwrap_or(usize::MAX),
                c.siren.clone(),
            )
        });
        candidates.first().map(|c| c.siren.clone())
    }
}

/// Imports an Annuaire de l'éducation CSV export (either column schema).
#[tracing::instrument(skip_all)]
pub async fn import_annuaire<R: Read>(
    db: &Db,
    reader: R,
    options: AnnuaireOptions,
    progress: &dyn Progress,
) -> CoreResult<ImportReport> {
    let parsed = sources::parse_annuaire(reader).map_err(|e| source_error("annuaire", e))?;
    let mut report = ImportReport::default();
    report.absorb("annuaire", &parsed);

    let communes: HashMap<String, CommuneKey> = repo::all_commune_keys(db)
        .await?
        .into_iter()
        .map(|c| (c.code.clone(), c))
        .collect();
    if communes.is_empty() {
        return Err(CoreError::Validation(vec![crate::FieldError::new(
            "référentiel",
            "le référentiel territorial est vide : lancez d'abord « gouvernail import referential »",
        )]));
    }
    let links: HashMap<String, String> = repo::all_commune_links(db).await?.into_iter().collect();
    let index = CompetenceIndex::load(db).await?;
    let stamp = now();

    let mut rows = Vec::with_capacity(parsed.records.len());
    let mut uais = Vec::with_capacity(parsed.records.len());
    let mut seen: HashSet<String> = HashSet::with_capacity(parsed.records.len());
    for (line, record) in parsed.records {
        match school_row(&record, &communes, &links, &index, options, stamp) {
            Ok(row) => {
                let uai = record.uai.as_str().to_owned();
                if !seen.insert(uai.clone()) {
                    // A multi-site establishment has one line per site under one UAI: the
                    // first line describes it, the others are counted, not rejected.
                    report.merged += 1;
                    continue;
                }
                uais.push(uai);
                rows.push(row);
            }
            Err((field, reason)) => report.rejected.push(Rejected {
                file: "annuaire".into(),
                error: line_error(line, field, reason),
            }),
        }
    }
    report.rejected.sort_by_key(|r| r.error.line);

    let before = repo::count_table(db, "etablissement").await?;
    progress.begin("établissements", rows.len() as u64);
    let mut tx = db.begin().await?;
    let written = upsert_in_chunks(
        &mut tx,
        progress,
        "etablissement",
        SCHOOL_COLUMNS,
        &["uai"],
        &SCHOOL_COLUMNS[1..],
        None,
        rows,
    )
    .await?;
    crate::audit::record(
        &mut tx,
        &import_actor(),
        "importer",
        "annuaire",
        if options.fictitious {
            "demonstration"
        } else {
            "fichier"
        },
        None,
        Some(&serde_json::json!({
            "lues": report.read, "ecrites": written, "rejetees": report.rejected.len(),
            "multiSites": report.merged,
        })),
    )
    .await?;
    // School values carry their school's location: follow the schools that moved.
    crate::indicator::repo::relocate_school_values(&mut tx).await?;
    tx.commit().await?;
    progress.end();
    report.imported = written;
    let after = repo::count_table(db, "etablissement").await?;
    report.created = u64::try_from(after - before).unwrap_or(0);
    Ok(report)
}

const SCHOOL_COLUMNS: &[&str] = &[
    "uai",
    "nom",
    "famille",
    "code_nature",
    "libelle_nature",
    "type_etablissement",
    "statut",
    "code_commune",
    "code_departement",
    "code_academie",
    "collectivite_siren",
    "siren_siret",
    "adresse",
    "code_postal",
    "nombre_eleves",
    "latitude",
    "longitude",
    "date_ouverture",
    "date_maj",
    "etat",
    "education_prioritaire",
    "fictif",
    "search_key",
    "updated_at",
];

fn school_row(
    r: &AnnuaireRecord,
    communes: &HashMap<String, CommuneKey>,
    links: &HashMap<String, String>,
    index: &CompetenceIndex,
    options: AnnuaireOptions,
    stamp: OffsetDateTime,
) -> Result<Vec<Value>, (&'static str, String)> {
    let code = links
        .get(r.code_commune.as_str())
        .map_or(r.code_commune.as_str(), String::as_str);
    let commune = communes.get(code).ok_or_else(|| {
        (
            "code_commune",
            format!(
                "commune « {} » inconnue du référentiel (code officiel géographique en vigueur)",
                r.code_commune
            ),
        )
    })?;
    let famille = r.nature_family();
    // The annuaire leaves the status empty for administrative services, which are public.
    let statut = r.statut.unwrap_or(Statut::Public);
    let competent = index.competent(famille, statut, commune);
    let key = format!("{} {}", search_key(&r.nom), r.uai.as_str().to_ascii_lowercase());
    Ok(vec![
        Value::from(r.uai.as_str()),
        r.nom.as_str().into(),
        famille.as_str().into(),
        r.code_nature.as_str().into(),
        r.libelle_nature.as_deref().into(),
        r.type_etablissement.as_deref().into(),
        statut.as_str().into(),
        commune.code.as_str().into(),
        commune.code_departement.as_str().into(),
        commune.code_academie.as_deref().into(),
        competent.into(),
        r.siren_siret.as_deref().into(),
        r.adresse.as_deref().into(),
        r.code_postal.as_deref().into(),
        r.nombre_eleves.into(),
        r.latitude.into(),
        r.longitude.into(),
        r.date_ouverture.into(),
        r.date_maj.into(),
        r.etat.as_deref().into(),
        r.education_prioritaire.as_deref().into(),
        options.fictitious.into(),
        key.into(),
        stamp.into(),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cov(siren: &str, kind: &str, dep: &str, colleges: bool, lycees: bool) -> CoverageRow {
        CoverageRow {
            siren: siren.into(),
            kind: kind.into(),
            code_departement: dep.into(),
            competence_colleges: colleges,
            competence_lycees: lycees,
        }
    }

    fn commune(code: &str, dep: &str, siren: &str) -> CommuneKey {
        CommuneKey {
            code: code.into(),
            code_departement: dep.into(),
            siren: Some(siren.into()),
            code_academie: None,
        }
    }

    fn index() -> CompetenceIndex {
        CompetenceIndex::new(
            vec![
                cov("226900012", "departement", "69", true, false),
                cov(SIREN_METROPOLE_LYON, "metropole-de-lyon", "69", true, false),
                cov("200053767", "region", "69", false, true),
                cov("200053767", "region", "01", false, true),
                cov("223500018", "departement", "35", true, false),
                cov("233500016", "region", "35", false, true),
            ],
            HashSet::from(["69123".to_owned()]),
        )
    }

    #[test]
    fn ecole_belongs_to_its_commune_college_to_departement_lycee_to_region() {
        let idx = index();
        let rennes = commune("35238", "35", "213502388");
        assert_eq!(
            idx.competent(NatureFamily::Ecole, Statut::Public, &rennes)
                .as_deref(),
            Some("213502388")
        );
        assert_eq!(
            idx.competent(NatureFamily::College, Statut::Public, &rennes)
                .as_deref(),
            Some("223500018")
        );
        assert_eq!(
            idx.competent(NatureFamily::Lycee, Statut::Public, &rennes)
                .as_deref(),
            Some("233500016")
        );
        assert_eq!(
            idx.competent(NatureFamily::Erea, Statut::Public, &rennes)
                .as_deref(),
            Some("233500016")
        );
        assert_eq!(idx.competent(NatureFamily::College, Statut::Prive, &rennes), None);
        assert_eq!(idx.competent(NatureFamily::Autre, Statut::Public, &rennes), None);
    }

    #[test]
    fn lyon_colleges_belong_to_the_metropole_and_the_rest_of_rhone_to_the_departement() {
        let idx = index();
        let lyon = commune("69123", "69", "216901231");
        let villefranche = commune("69264", "69", "216902643");
        assert_eq!(
            idx.competent(NatureFamily::College, Statut::Public, &lyon)
                .as_deref(),
            Some(SIREN_METROPOLE_LYON)
        );
        assert_eq!(
            idx.competent(NatureFamily::College, Statut::Public, &villefranche)
                .as_deref(),
            Some("226900012")
        );
        assert_eq!(
            idx.competent(NatureFamily::Lycee, Statut::Public, &lyon)
                .as_deref(),
            Some("200053767")
        );
    }
}
