//! The out-of-the-box demonstration: the real referential plus made-up schools, clearly
//! marked as fictitious, written in the annuaire format and loaded through the same import
//! as real files. (The ministry's real school directory is not shipped with the project.)

use std::fmt::Write as _;

use crate::db::{Db, Sql};
use crate::error::CoreResult;

use crate::territory::ids::Uai;
use crate::territory::import::{self, AnnuaireOptions, ImportReport, Progress, ReferentialSource};

/// A commune the generator may place schools in.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SeedCommune {
    pub code: String,
    pub nom: String,
    pub code_departement: String,
    pub uai_prefix: String,
    pub population: i64,
}

/// Communes with a known UAI prefix, most populated first within each département.
pub async fn seed_communes(db: &Db) -> CoreResult<Vec<SeedCommune>> {
    db.fetch_all(Sql::new(
        "SELECT c.code, c.nom, c.code_departement, d.uai_prefix, COALESCE(c.population, 0) AS population \
         FROM commune c JOIN departement d ON d.code = c.code_departement \
         WHERE d.uai_prefix IS NOT NULL AND d.code_academie IS NOT NULL \
         ORDER BY c.code_departement, COALESCE(c.population, 0) DESC, c.code",
    ))
    .await
}

const PATRONYMES: &[&str] = &[
    "Jules-Ferry",
    "Jean-Moulin",
    "Marie-Curie",
    "Victor-Hugo",
    "Jacques-Prévert",
    "Louise-Michel",
    "Simone-Veil",
    "Jean-Jaurès",
    "Condorcet",
    "Albert-Camus",
    "George-Sand",
    "Olympe-de-Gouges",
    "Paul-Éluard",
    "Jean-de-la-Fontaine",
    "Les Tilleuls",
    "Le Petit-Prince",
    "Colette",
    "Pierre-Brossolette",
    "Germaine-Tillion",
    "Joséphine-Baker",
];

/// One made-up school, before it is written as an annuaire line.
struct FakeSchool {
    uai: String,
    nom: String,
    code_nature: &'static str,
    libelle_nature: &'static str,
    type_etablissement: &'static str,
    statut: &'static str,
    commune: usize,
    eleves: i64,
}

/// Writes `count` made-up schools in the current annuaire CSV format (`;`, BOM), spread
/// over `communes` (most populated first in each département): about 80 % écoles, 13 %
/// collèges, 7 % lycées, one in six private. UAIs carry a valid check letter and are
/// numbered from 5000 in each département.
pub fn fictitious_annuaire(communes: &[SeedCommune], count: usize) -> String {
    let mut by_dep: Vec<(usize, usize)> = Vec::new(); // (first index, len) per département
    let mut i = 0;
    while i < communes.len() {
        let dep = &communes[i].code_departement;
        let start = i;
        while i < communes.len() && &communes[i].code_departement == dep {
            i += 1;
        }
        by_dep.push((start, i - start));
    }
    let mut sequence = vec![5000_u32; by_dep.len()];
    let mut schools = Vec::with_capacity(count);
    let mut n = 0_usize;
    'outer: for round in 0.. {
        let mut placed = false;
        for (d, (start, len)) in by_dep.iter().enumerate() {
            // Bigger départements and communes get more schools: commune `round` of each
            // département in turn, then back to the biggest ones.
            let commune = start + (round % len.max(&1));
            if sequence[d] > 9999 {
                continue;
            }
            let digits = format!("{}{:04}", communes[commune].uai_prefix, sequence[d]);
            sequence[d] += 1;
            let Some(letter) = Uai::check_letter(&digits) else {
                continue;
            };
            let (code_nature, libelle_nature, type_etablissement, eleves) = match n % 15 {
                0 | 8 => ("340", "COLLEGE", "Collège", 450),
                4 => ("300", "LYCEE ENSEIGNT GENERAL ET TECHNOLOGIQUE", "Lycée", 1100),
                11 => ("320", "LYCEE PROFESSIONNEL", "Lycée", 500),
                1 | 5 | 9 | 13 => ("101", "ECOLE MATERNELLE", "Ecole", 90),
                _ => ("151", "ECOLE DE NIVEAU ELEMENTAIRE", "Ecole", 180),
            };
            let statut = if n % 6 == 5 { "Privé" } else { "Public" };
            let patronyme = PATRONYMES[n % PATRONYMES.len()];
            let kind = match code_nature {
                "340" => "Collège",
                "300" => "Lycée",
                "320" => "Lycée professionnel",
                "101" => "École maternelle",
                _ => "École élémentaire",
            };
            let public = if statut == "Public" { "publique" } else { "privée" };
            let public = if code_nature == "340" || code_nature.starts_with('3') {
                if statut == "Public" { "public" } else { "privé" }
            } else {
                public
            };
            schools.push(FakeSchool {
                uai: format!("{digits}{letter}"),
                nom: format!("{kind} {public} {patronyme} (fictif)"),
                code_nature,
                libelle_nature,
                type_etablissement,
                statut,
                commune,
                eleves: eleves + i64::try_from(n % 97).unwrap_or(0),
            });
            n += 1;
            placed = true;
            if n >= count {
                break 'outer;
            }
        }
        if !placed {
            break;
        }
    }

    let mut out = String::with_capacity(schools.len() * 200);
    out.push('\u{FEFF}');
    out.push_str(
        "identifiant_de_l_etablissement;nom_etablissement;type_etablissement;statut_public_prive;adresse_1;\
         code_postal;code_commune;nom_commune;code_departement;code_nature;libelle_nature;nombre_d_eleves;etat\r\n",
    );
    for s in &schools {
        let c = &communes[s.commune];
        let dep3 = if c.code_departement.len() == 2 && c.code_departement.bytes().all(|b| b.is_ascii_digit())
        {
            format!("0{}", c.code_departement)
        } else {
            c.code_departement.clone()
        };
        let _ = write!(
            out,
            "{};{};{};{};1 place de l'École;;{};{};{};{};{};{};OUVERT\r\n",
            s.uai,
            s.nom,
            s.type_etablissement,
            s.statut,
            c.code,
            c.nom,
            dep3,
            s.code_nature,
            s.libelle_nature,
            s.eleves
        );
    }
    out
}

/// How many made-up schools the demo creates.
pub const DEMO_SCHOOLS: usize = 6_000;

/// What `gouvernail demo` loads.
#[derive(Debug, Clone, Default)]
pub struct DemoReport {
    pub referential: ImportReport,
    pub schools: ImportReport,
}

/// Loads the bundled referential and the made-up schools.
pub async fn load_demo(db: &Db, progress: &dyn Progress) -> CoreResult<DemoReport> {
    let referential = import::import_referential(db, &ReferentialSource::Bundled, progress).await?;
    let communes = seed_communes(db).await?;
    let csv = fictitious_annuaire(&communes, DEMO_SCHOOLS);
    let schools =
        import::import_annuaire(db, csv.as_bytes(), AnnuaireOptions { fictitious: true }, progress).await?;
    load_demo_accounts(db).await?;
    Ok(DemoReport { referential, schools })
}

/// The password of every demo account (shown on the demo's sign-in page only).
pub const DEMO_PASSWORD: &str = "gouvernail-demo-2026";

/// A demo account: e-mail, name, role, perimeter.
pub const DEMO_ACCOUNTS: &[(&str, &str, &str, &str)] = &[
    (
        "admin@demo.gouvernail.fr",
        "Alice Administratrice",
        "administrateur-national",
        "national",
    ),
    (
        "pilote@demo.gouvernail.fr",
        "Paul Pilote (DNE)",
        "pilote-national",
        "national",
    ),
    (
        "recteur.rennes@demo.gouvernail.fr",
        "Rose Rectrice",
        "recteur",
        "academie:14",
    ),
    (
        "dan.rennes@demo.gouvernail.fr",
        "Damien Dan",
        "dan",
        "academie:14",
    ),
    (
        "dane.rennes@demo.gouvernail.fr",
        "Chloé Chargée-de-mission",
        "membre-dane",
        "academie:14",
    ),
    (
        "dan.aix@demo.gouvernail.fr",
        "Anaïs Dan-Aix",
        "dan",
        "academie:02",
    ),
    (
        "cd35@demo.gouvernail.fr",
        "Claire Collectivité (Ille-et-Vilaine)",
        "representant-collectivite",
        "collectivite:223500018",
    ),
    (
        "region.bretagne@demo.gouvernail.fr",
        "Ronan Région",
        "representant-collectivite",
        "collectivite:233500016",
    ),
    (
        "canope@demo.gouvernail.fr",
        "Paula Partenaire (Canopé)",
        "partenaire",
        "organisation:canope",
    ),
    ("expert@demo.gouvernail.fr", "Émile Expert", "expert", "national"),
    (
        "observateur@demo.gouvernail.fr",
        "Odile Observatrice",
        "observateur",
        "academie:14",
    ),
];

/// The demo's organisations (perimeters of partners).
pub const DEMO_ORGANISATIONS: &[(&str, &str, &str)] = &[
    ("canope", "Réseau Canopé", "operateur"),
    ("cned", "CNED", "operateur"),
    ("inspe-bretagne", "INSPE de Bretagne", "inspe"),
];

/// Creates the demo's organisations and accounts (idempotent).
pub async fn load_demo_accounts(db: &Db) -> CoreResult<()> {
    use crate::identity::model::{Organisation, Perimeter, Role};
    use crate::identity::service::{self, NewAssignment};
    let stamp = time::OffsetDateTime::now_utc();
    let mut tx = db.begin().await?;
    for (id, nom, kind) in DEMO_ORGANISATIONS {
        let org = Organisation {
            id: (*id).to_owned(),
            nom: (*nom).to_owned(),
            kind: (*kind).to_owned(),
            siren: None,
        };
        crate::identity::repo::upsert_organisation(&mut tx, &org, stamp).await?;
        crate::audit::record(
            &mut tx,
            &crate::audit::Actor::system(),
            "creer",
            "organisation",
            &org.id,
            None,
            Some(&serde_json::json!({ "nom": org.nom, "type": org.kind })),
        )
        .await?;
    }
    tx.commit().await?;
    let from = time::macros::date!(2025 - 09 - 01);
    for (email, name, role, perimeter) in DEMO_ACCOUNTS {
        if crate::identity::repo::find_user_by_email(db, email)
            .await?
            .is_some()
        {
            continue;
        }
        let user = service::create_user(
            db,
            &crate::audit::Actor::system(),
            email,
            name,
            Some(DEMO_PASSWORD),
        )
        .await?;
        service::grant_role(
            db,
            None,
            &NewAssignment {
                user_id: user.id,
                role: Role::parse(role)?,
                perimeter: Perimeter::parse(perimeter)?,
                from,
                until: None,
            },
        )
        .await?;
    }
    Ok(())
}
