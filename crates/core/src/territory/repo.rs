//! All the SQL of the territory, in the dialect both engines share.

use crate::db::{Db, MAX_BIND, Sql, Tx, Value};
use crate::error::CoreResult;
use crate::text::{like_escape, search_key};

use super::model::*;

const ACADEMIE_COLUMNS: &str = "a.code, a.nom, a.kind, a.code_region_academique, \
     ra.nom AS nom_region_academique, a.valid_from, a.valid_until, a.note";

const DEPARTEMENT_COLUMNS: &str = "d.code, d.nom, d.code_region, d.code_academie, \
     a.nom AS nom_academie, d.zone, \
     (SELECT COUNT(*) FROM commune c WHERE c.code_departement = d.code) AS nb_communes, \
     (SELECT COUNT(*) FROM etablissement e WHERE e.code_departement = d.code) AS nb_etablissements";

const COMMUNE_COLUMNS: &str = "c.code, c.nom, c.code_departement, d.nom AS nom_departement, \
     c.code_region, d.code_academie, c.siren, c.population, c.codes_postaux";

const COLLECTIVITE_COLUMNS: &str = "k.siren, k.kind, k.nom, k.code_territoire, \
     k.competence_ecoles, k.competence_colleges, k.competence_lycees";

const ETABLISSEMENT_COLUMNS: &str = "e.uai, e.nom, e.famille, e.code_nature, e.libelle_nature, \
     e.type_etablissement, e.statut, e.code_commune, c.nom AS nom_commune, e.code_departement, \
     d.nom AS nom_departement, e.code_academie, a.nom AS nom_academie, e.collectivite_siren, \
     k.nom AS collectivite_nom, e.siren_siret, e.adresse, e.code_postal, e.nombre_eleves, \
     e.latitude, e.longitude, e.date_ouverture, e.etat, e.education_prioritaire, e.fictif";

const ETABLISSEMENT_FROM: &str = " FROM etablissement e \
     JOIN commune c ON c.code = e.code_commune \
     JOIN departement d ON d.code = e.code_departement \
     LEFT JOIN academie a ON a.code = e.code_academie \
     LEFT JOIN collectivite k ON k.siren = e.collectivite_siren";

/// Appends ` AND <column> LIKE '%key%'` for a free-text filter.
fn push_like(q: &mut Sql, column: &str, text: &str) {
    let key = search_key(text);
    q.push_mut(" AND ");
    q.push_mut(column);
    q.push_mut(" LIKE ");
    q.bind_mut(format!("%{}%", like_escape(&key)));
    q.push_mut(" ESCAPE '\\'");
}

fn push_page(q: &mut Sql, page: PageRequest) {
    q.push_mut(" LIMIT ");
    q.bind_mut(i64::from(page.per_page));
    q.push_mut(" OFFSET ");
    q.bind_mut(page.offset());
}

pub async fn counts(db: &Db) -> CoreResult<Counts> {
    let q = Sql::new(
        "SELECT \
         (SELECT COUNT(*) FROM region_academique) AS regions_academiques, \
         (SELECT COUNT(*) FROM academie WHERE kind = 'academie') AS academies, \
         (SELECT COUNT(*) FROM departement) AS departements, \
         (SELECT COUNT(*) FROM commune) AS communes, \
         (SELECT COUNT(*) FROM collectivite) AS collectivites, \
         (SELECT COUNT(*) FROM etablissement) AS etablissements",
    );
    Ok(db.fetch_optional(q).await?.unwrap_or_default())
}

pub async fn list_regions(db: &Db) -> CoreResult<Vec<Region>> {
    db.fetch_all(Sql::new("SELECT code, nom FROM region ORDER BY code"))
        .await
}

pub async fn list_regions_academiques(db: &Db) -> CoreResult<Vec<RegionAcademique>> {
    db.fetch_all(Sql::new(
        "SELECT ra.code, ra.nom, \
         (SELECT COUNT(*) FROM academie a WHERE a.code_region_academique = ra.code AND a.kind = 'academie') AS nb_academies \
         FROM region_academique ra ORDER BY ra.nom",
    ))
    .await
}

pub async fn find_region_academique(db: &Db, code: &str) -> CoreResult<Option<RegionAcademique>> {
    db.fetch_optional(
        Sql::new(
            "SELECT ra.code, ra.nom, \
             (SELECT COUNT(*) FROM academie a WHERE a.code_region_academique = ra.code AND a.kind = 'academie') AS nb_academies \
             FROM region_academique ra WHERE ra.code = ",
        )
        .bind(code),
    )
    .await
}

pub async fn list_academies(
    db: &Db,
    include_historical: bool,
    code_region_academique: Option<&str>,
) -> CoreResult<Vec<Academie>> {
    let mut q = Sql::new(&format!(
        "SELECT {ACADEMIE_COLUMNS} FROM academie a \
         LEFT JOIN region_academique ra ON ra.code = a.code_region_academique WHERE 1 = 1"
    ));
    if !include_historical {
        q.push_mut(" AND a.kind <> 'historique'");
    }
    if let Some(code) = code_region_academique {
        q.push_mut(" AND a.code_region_academique = ");
        q.bind_mut(code);
    }
    q.push_mut(" ORDER BY a.code");
    db.fetch_all(q).await
}

pub async fn find_academie(db: &Db, code: &str) -> CoreResult<Option<Academie>> {
    db.fetch_optional(
        Sql::new(&format!(
            "SELECT {ACADEMIE_COLUMNS} FROM academie a \
             LEFT JOIN region_academique ra ON ra.code = a.code_region_academique WHERE a.code = "
        ))
        .bind(code),
    )
    .await
}

/// The départements an académie covers (through `academie_departement`, so that the
/// historical académies keep theirs).
pub async fn list_departements_of_academie(db: &Db, code: &str) -> CoreResult<Vec<Departement>> {
    db.fetch_all(
        Sql::new(&format!(
            "SELECT {DEPARTEMENT_COLUMNS} FROM academie_departement ad \
             JOIN departement d ON d.code = ad.code_departement \
             LEFT JOIN academie a ON a.code = d.code_academie \
             WHERE ad.code_academie = "
        ))
        .bind(code)
        .push(" ORDER BY d.code"),
    )
    .await
}

pub async fn count_etablissements_of_academie(db: &Db, code: &str) -> CoreResult<i64> {
    db.fetch_scalar_i64(Sql::new("SELECT COUNT(*) FROM etablissement WHERE code_academie = ").bind(code))
        .await
}

pub async fn list_departements(db: &Db, code_academie: Option<&str>) -> CoreResult<Vec<Departement>> {
    let mut q = Sql::new(&format!(
        "SELECT {DEPARTEMENT_COLUMNS} FROM departement d \
         LEFT JOIN academie a ON a.code = d.code_academie WHERE 1 = 1"
    ));
    if let Some(code) = code_academie {
        q.push_mut(" AND d.code_academie = ");
        q.bind_mut(code);
    }
    q.push_mut(" ORDER BY d.code");
    db.fetch_all(q).await
}

pub async fn find_departement(db: &Db, code: &str) -> CoreResult<Option<Departement>> {
    db.fetch_optional(
        Sql::new(&format!(
            "SELECT {DEPARTEMENT_COLUMNS} FROM departement d \
             LEFT JOIN academie a ON a.code = d.code_academie WHERE d.code = "
        ))
        .bind(code),
    )
    .await
}

/// The collectivités above the commune whose territory includes a département.
pub async fn list_collectivites_of_departement(db: &Db, code: &str) -> CoreResult<Vec<Collectivite>> {
    db.fetch_all(
        Sql::new(&format!(
            "SELECT {COLLECTIVITE_COLUMNS} FROM collectivite_departement cd \
             JOIN collectivite k ON k.siren = cd.siren WHERE cd.code_departement = "
        ))
        .bind(code)
        .push(" ORDER BY k.kind, k.search_key"),
    )
    .await
}

fn commune_where(filter: &CommuneFilter) -> Sql {
    let mut q = Sql::new(" FROM commune c JOIN departement d ON d.code = c.code_departement WHERE 1 = 1");
    if let Some(code) = &filter.code_departement {
        q.push_mut(" AND c.code_departement = ");
        q.bind_mut(code);
    }
    if let Some(code) = &filter.code_academie {
        q.push_mut(" AND d.code_academie = ");
        q.bind_mut(code);
    }
    if let Some(nom) = &filter.nom {
        push_like(&mut q, "c.search_key", nom);
    }
    q
}

pub async fn list_communes(db: &Db, filter: &CommuneFilter, page: PageRequest) -> CoreResult<Page<Commune>> {
    let total = db
        .fetch_scalar_i64(prefix("SELECT COUNT(*)", commune_where(filter)))
        .await?;
    let mut q = prefix(&format!("SELECT {COMMUNE_COLUMNS}"), commune_where(filter));
    q.push_mut(" ORDER BY c.search_key, c.code");
    push_page(&mut q, page);
    Ok(Page {
        items: db.fetch_all(q).await?,
        total,
        page: page.page,
        per_page: page.per_page,
    })
}

pub async fn find_commune(db: &Db, code: &str) -> CoreResult<Option<Commune>> {
    db.fetch_optional(
        Sql::new(&format!(
            "SELECT {COMMUNE_COLUMNS} FROM commune c JOIN departement d ON d.code = c.code_departement \
             WHERE c.code = "
        ))
        .bind(code),
    )
    .await
}

fn collectivite_where(filter: &CollectiviteFilter) -> Sql {
    let mut q = Sql::new(" FROM collectivite k WHERE 1 = 1");
    if let Some(kind) = &filter.kind {
        q.push_mut(" AND k.kind = ");
        q.bind_mut(kind);
    }
    if let Some(siren) = &filter.siren {
        q.push_mut(" AND k.siren = ");
        q.bind_mut(siren);
    }
    if let Some(nom) = &filter.nom {
        push_like(&mut q, "k.search_key", nom);
    }
    if let Some(code) = &filter.code_departement {
        q.push_mut(
            " AND (k.siren IN (SELECT cd.siren FROM collectivite_departement cd WHERE cd.code_departement = ",
        );
        q.bind_mut(code);
        q.push_mut(") OR k.siren IN (SELECT c.siren FROM commune c WHERE c.code_departement = ");
        q.bind_mut(code);
        q.push_mut("))");
    }
    q
}

pub async fn list_collectivites(
    db: &Db,
    filter: &CollectiviteFilter,
    page: PageRequest,
) -> CoreResult<Page<Collectivite>> {
    let total = db
        .fetch_scalar_i64(prefix("SELECT COUNT(*)", collectivite_where(filter)))
        .await?;
    let mut q = prefix(
        &format!("SELECT {COLLECTIVITE_COLUMNS}"),
        collectivite_where(filter),
    );
    q.push_mut(" ORDER BY k.search_key, k.siren");
    push_page(&mut q, page);
    Ok(Page {
        items: db.fetch_all(q).await?,
        total,
        page: page.page,
        per_page: page.per_page,
    })
}

pub async fn find_collectivite(db: &Db, siren: &str) -> CoreResult<Option<Collectivite>> {
    db.fetch_optional(
        Sql::new(&format!(
            "SELECT {COLLECTIVITE_COLUMNS} FROM collectivite k WHERE k.siren = "
        ))
        .bind(siren),
    )
    .await
}

#[derive(sqlx::FromRow)]
struct CodeRow {
    code: String,
}

pub async fn departements_of_collectivite(db: &Db, siren: &str) -> CoreResult<Vec<String>> {
    let rows: Vec<CodeRow> = db
        .fetch_all(
            Sql::new("SELECT code_departement AS code FROM collectivite_departement WHERE siren = ")
                .bind(siren)
                .push(" ORDER BY code_departement"),
        )
        .await?;
    Ok(rows.into_iter().map(|r| r.code).collect())
}

pub async fn commune_of_siren(db: &Db, siren: &str) -> CoreResult<Option<String>> {
    let row: Option<CodeRow> = db
        .fetch_optional(
            Sql::new("SELECT code FROM commune WHERE siren = ")
                .bind(siren)
                .push(" ORDER BY code LIMIT 1"),
        )
        .await?;
    Ok(row.map(|r| r.code))
}

pub async fn count_etablissements_of_collectivite(db: &Db, siren: &str) -> CoreResult<i64> {
    db.fetch_scalar_i64(
        Sql::new("SELECT COUNT(*) FROM etablissement WHERE collectivite_siren = ").bind(siren),
    )
    .await
}

fn etablissement_where(filter: &EtablissementFilter) -> Sql {
    let mut q = Sql::new(ETABLISSEMENT_FROM).push(" WHERE 1 = 1");
    if let Some(code) = &filter.code_commune {
        q.push_mut(" AND e.code_commune = ");
        q.bind_mut(code);
    }
    if let Some(nature) = &filter.nature {
        if nature.len() == 3 && nature.bytes().all(|b| b.is_ascii_digit()) {
            q.push_mut(" AND e.code_nature = ");
        } else {
            q.push_mut(" AND e.famille = ");
        }
        q.bind_mut(nature);
    }
    if let Some(code) = &filter.code_academie {
        q.push_mut(" AND e.code_academie = ");
        q.bind_mut(code);
    }
    if let Some(code) = &filter.code_departement {
        q.push_mut(" AND e.code_departement = ");
        q.bind_mut(code);
    }
    if let Some(siren) = &filter.collectivite_siren {
        q.push_mut(" AND e.collectivite_siren = ");
        q.bind_mut(siren);
    }
    if let Some(statut) = &filter.statut {
        q.push_mut(" AND e.statut = ");
        q.bind_mut(statut);
    }
    if let Some(text) = &filter.q {
        push_like(&mut q, "e.search_key", text);
    }
    q
}

pub async fn list_etablissements(
    db: &Db,
    filter: &EtablissementFilter,
    page: PageRequest,
) -> CoreResult<Page<Etablissement>> {
    let total = db
        .fetch_scalar_i64(prefix("SELECT COUNT(*)", etablissement_where(filter)))
        .await?;
    let mut q = prefix(
        &format!("SELECT {ETABLISSEMENT_COLUMNS}"),
        etablissement_where(filter),
    );
    q.push_mut(" ORDER BY e.search_key, e.uai");
    push_page(&mut q, page);
    Ok(Page {
        items: db.fetch_all(q).await?,
        total,
        page: page.page,
        per_page: page.per_page,
    })
}

pub async fn find_etablissement(db: &Db, uai: &str) -> CoreResult<Option<Etablissement>> {
    db.fetch_optional(
        Sql::new(&format!(
            "SELECT {ETABLISSEMENT_COLUMNS}{ETABLISSEMENT_FROM} WHERE e.uai = "
        ))
        .bind(uai),
    )
    .await
}

/// Puts `head` before the statement `tail` (whose placeholders are already numbered).
fn prefix(head: &str, tail: Sql) -> Sql {
    let mut q = tail;
    q.prepend(head);
    q
}

// ---------------------------------------------------------------------------------------
// Writes (used by the imports).

/// How a batch upsert treats a row whose key already exists.
pub enum OnConflict<'a> {
    /// Update these columns from the new row (optionally only where a condition holds).
    Update {
        columns: &'a [&'a str],
        only_where: Option<&'a str>,
    },
    /// Keep the existing row.
    Nothing,
}

/// Inserts rows in multi-row statements sized to the engines' placeholder limits.
pub async fn upsert_rows(
    tx: &mut Tx,
    table: &str,
    columns: &[&str],
    key: &[&str],
    on_conflict: OnConflict<'_>,
    rows: Vec<Vec<Value>>,
) -> CoreResult<u64> {
    let per_statement = (MAX_BIND / columns.len().max(1)).max(1);
    let mut affected = 0;
    let mut rows = rows.into_iter().peekable();
    while rows.peek().is_some() {
        let mut q = Sql::new(&format!("INSERT INTO {table} ({}) VALUES ", columns.join(", ")));
        for (i, row) in rows.by_ref().take(per_statement).enumerate() {
            if i > 0 {
                q.push_mut(", ");
            }
            q = q.bind_tuple(row);
        }
        q.push_mut(&format!(" ON CONFLICT ({}) DO ", key.join(", ")));
        match &on_conflict {
            OnConflict::Nothing => q.push_mut("NOTHING"),
            OnConflict::Update { columns, only_where } => {
                q.push_mut("UPDATE SET ");
                let sets: Vec<String> = columns.iter().map(|c| format!("{c} = excluded.{c}")).collect();
                q.push_mut(&sets.join(", "));
                if let Some(condition) = only_where {
                    q.push_mut(" WHERE ");
                    q.push_mut(condition);
                }
            }
        }
        affected += tx.execute(q).await?;
    }
    Ok(affected)
}

/// Deletes every row of `table` whose `column` equals `value` (used to refresh link tables).
pub async fn delete_where(tx: &mut Tx, table: &str, column: &str, value: &str) -> CoreResult<u64> {
    tx.execute(Sql::new(&format!("DELETE FROM {table} WHERE {column} = ")).bind(value))
        .await
}

/// Commune codes with their département and SIREN, for the annuaire import.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CommuneKey {
    pub code: String,
    pub code_departement: String,
    pub siren: Option<String>,
    pub code_academie: Option<String>,
}

pub async fn all_commune_keys(db: &Db) -> CoreResult<Vec<CommuneKey>> {
    db.fetch_all(Sql::new(
        "SELECT c.code, c.code_departement, c.siren, d.code_academie \
         FROM commune c JOIN departement d ON d.code = c.code_departement",
    ))
    .await
}

#[derive(sqlx::FromRow)]
struct LinkRow {
    code: String,
    code_commune: String,
}

/// Former, delegated and arrondissement codes with their current commune.
pub async fn all_commune_links(db: &Db) -> CoreResult<Vec<(String, String)>> {
    let rows: Vec<LinkRow> = db
        .fetch_all(Sql::new("SELECT code, code_commune FROM commune_rattachee"))
        .await?;
    Ok(rows.into_iter().map(|r| (r.code, r.code_commune)).collect())
}

/// A collectivité above the commune with the départements it covers, for the rules that
/// find the competent collectivité of a school.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CoverageRow {
    pub siren: String,
    pub kind: String,
    pub code_departement: String,
    pub competence_colleges: bool,
    pub competence_lycees: bool,
}

pub async fn all_coverages(db: &Db) -> CoreResult<Vec<CoverageRow>> {
    db.fetch_all(Sql::new(
        "SELECT k.siren, k.kind, cd.code_departement, k.competence_colleges, k.competence_lycees \
         FROM collectivite_departement cd JOIN collectivite k ON k.siren = cd.siren",
    ))
    .await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRow {
    pub siren_epci: String,
    pub code_commune: String,
}

pub async fn members_of(db: &Db, siren_epci: &str) -> CoreResult<Vec<MemberRow>> {
    db.fetch_all(
        Sql::new("SELECT siren_epci, code_commune FROM epci_membre WHERE siren_epci = ").bind(siren_epci),
    )
    .await
}

pub async fn count_table(db: &Db, table: &str) -> CoreResult<i64> {
    db.fetch_scalar_i64(Sql::new(&format!("SELECT COUNT(*) FROM {table}")))
        .await
}

/// UAIs already present among `uais` (to tell created from updated rows).
pub async fn existing_uais(db: &Db, uais: &[String]) -> CoreResult<Vec<String>> {
    let mut found = Vec::new();
    for chunk in uais.chunks(MAX_BIND) {
        let rows: Vec<UaiRow> = db
            .fetch_all(
                Sql::new("SELECT uai FROM etablissement WHERE uai IN ")
                    .bind_tuple(chunk.iter().map(String::as_str)),
            )
            .await?;
        found.extend(rows.into_iter().map(|r| r.uai));
    }
    Ok(found)
}

#[derive(sqlx::FromRow)]
struct UaiRow {
    uai: String,
}
