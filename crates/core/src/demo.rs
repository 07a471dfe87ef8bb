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
    load_demo_strategy(db).await?;
    crate::governance::demo::load(db).await?;
    crate::convention::demo::load(db).await?;
    crate::equipment::demo::load(db).await?;
    Ok(DemoReport { referential, schools })
}

/// The principal of a demo account, to load the demo through the services.
pub(crate) async fn principal(db: &Db, email: &str) -> CoreResult<crate::identity::Principal> {
    let user = crate::identity::repo::find_user_by_email(db, email)
        .await?
        .ok_or_else(|| crate::CoreError::Internal(format!("{email} absent de la démonstration")))?;
    crate::identity::service::principal(db, &user.id, false)
        .await?
        .ok_or_else(|| crate::CoreError::Internal(format!("{email} inactif")))
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

/// A demo national project: code, objective code, title, lead team, budget in cents,
/// indicator codes.
type DemoProject<'a> = (&'a str, &'a str, &'a str, &'a str, i64, &'a [&'a str]);

/// The demo's strategies: the 2013 one as the seed describes it, and the 2023-2027 one with
/// its 4 axes and 16 objectives, with national projects (published).
pub async fn load_demo_strategy(db: &Db) -> CoreResult<()> {
    use crate::strategy::model::{NewAxis, NewObjective, NewProject, NewStrategy};
    use crate::strategy::service;
    if !service::list_strategies(db, None).await?.is_empty() {
        return Ok(());
    }
    let admin = crate::identity::repo::find_user_by_email(db, DEMO_ACCOUNTS[0].0)
        .await?
        .ok_or_else(|| crate::CoreError::Internal("compte administrateur de démonstration absent".into()))?;
    let by = crate::identity::service::principal(db, &admin.id, false)
        .await?
        .ok_or_else(|| crate::CoreError::Internal("administrateur de démonstration inactif".into()))?;
    let axis = |title: &str, objectives: &[(&str, &str)]| NewAxis {
        title: title.to_owned(),
        description: String::new(),
        objectives: objectives
            .iter()
            .map(|(code, title)| NewObjective {
                code: (*code).to_owned(),
                title: (*title).to_owned(),
                description: String::new(),
            })
            .collect(),
    };
    let s2013 = service::create_strategy(
        db,
        &by,
        &NewStrategy {
            code: "2013".into(),
            title: "Faire entrer l'École dans l'ère du numérique".into(),
            summary: "Stratégie lancée le 13 décembre 2012 et déclinée dans les académies en 2013 : feuilles de route \
                      académiques, délégués académiques au numérique, gouvernance territoriale avec les collectivités."
                .into(),
            period_start: Some(time::macros::date!(2013 - 01 - 01)),
            period_end: Some(time::macros::date!(2017 - 12 - 31)),
            axes: vec![
                axis("Développer les ressources et services numériques", &[
                    ("2013-1", "Définir une politique éditoriale des contenus et services numériques"),
                    ("2013-2", "Coordonner les acteurs de la production, de l'édition et de la diffusion"),
                ]),
                axis("Former et accompagner les enseignants au et par le numérique", &[
                    ("2013-3", "Construire des parcours de formation et suivre les personnels formés"),
                ]),
                axis("Piloter avec les académies, les collectivités et les partenaires", &[
                    ("2013-4", "Décliner la stratégie en feuilles de route académiques"),
                    ("2013-5", "Conventionner avec les collectivités"),
                ]),
            ],
        },
    )
    .await?;
    service::publish_strategy(db, &by, &s2013.strategy.id, s2013.strategy.version).await?;
    let s = service::create_strategy(
        db,
        &by,
        &NewStrategy {
            code: "2023-2027".into(),
            title: "Stratégie du numérique pour l'éducation 2023-2027".into(),
            summary: "Quatre axes et seize objectifs pour une politique publique partagée du numérique éducatif.".into(),
            period_start: Some(time::macros::date!(2023 - 01 - 01)),
            period_end: Some(time::macros::date!(2027 - 12 - 31)),
            axes: vec![
                axis("Un écosystème engagé au service d'une politique publique partagée", &[
                    ("1", "Renforcer la gouvernance nationale et locale"),
                    ("2", "Partager des indicateurs de pilotage et d'évaluation"),
                    ("3", "Définir un équipement individuel type pour l'élève"),
                ]),
                axis("Un enseignement du numérique qui développe la citoyenneté et les compétences numériques", &[
                    ("4", "Développer les compétences numériques tout au long du parcours"),
                    ("5", "Former des citoyens éclairés"),
                ]),
                axis("Une communauté éducative soutenue par une offre numérique raisonnée, pérenne et inclusive", &[
                    ("6", "Développer les communs numériques"),
                    ("7", "Mettre en place un compte ressources"),
                    ("8", "Servir l'école inclusive"),
                    ("9", "Former les équipes"),
                    ("10", "Accompagner les enseignants"),
                    ("11", "Construire une plateforme interopérable"),
                    ("12", "Mettre les données au service de l'École"),
                ]),
                axis("De nouvelles règles du jeu pour le système d'information ministériel", &[
                    ("13", "Transformer le système d'information"),
                    ("14", "Mutualiser"),
                    ("15", "Garantir fluidité et qualité de service"),
                    ("16", "Sobriété et sécurité"),
                ]),
            ],
        },
    )
    .await?;
    let objective = |code: &str| {
        s.axes
            .iter()
            .flat_map(|a| a.objectives.iter())
            .find(|o| o.objective.code == code)
            .map(|o| o.objective.id.clone())
            .unwrap_or_default()
    };
    let projects: &[DemoProject<'_>] = &[
        (
            "PN-GOUV",
            "1",
            "Gouvernance partagée État–collectivités",
            "DNE — département de la stratégie et des partenariats",
            0,
            &["conventions-actives"],
        ),
        (
            "PN-TDB",
            "2",
            "Tableau de bord du numérique pour l'éducation",
            "DNE — sous-direction du socle numérique",
            120_000_000,
            &["terminaux-100-eleves", "debit-ecoles"],
        ),
        (
            "PN-SNEE",
            "3",
            "Socle numérique dans les écoles élémentaires",
            "DNE — TN1",
            11_500_000_000,
            &["ecoles-socle-numerique"],
        ),
        (
            "PN-PIX",
            "4",
            "Certification Pix des élèves (3e et terminale)",
            "DGESCO et GIP Pix",
            800_000_000,
            &["eleves-certifies-pix"],
        ),
        (
            "PN-FORM",
            "9",
            "Former les enseignants au et par le numérique (Pix+Édu)",
            "DNE — TN3",
            1_500_000_000,
            &["enseignants-formes"],
        ),
        (
            "PN-TNE",
            "6",
            "Territoires numériques éducatifs",
            "DNE avec la Banque des Territoires et Réseau Canopé",
            17_200_000_000,
            &["enseignants-formes", "terminaux-100-eleves"],
        ),
    ];
    for (code, obj, title, pilote, budget, indicators) in projects {
        let detail = service::create_project(
            db,
            &by,
            &NewProject {
                objective_id: objective(obj),
                code: (*code).to_owned(),
                title: (*title).to_owned(),
                description: format!(
                    "{title} : projet national décliné dans les feuilles de route académiques."
                ),
                goals: "Déploiement dans toutes les académies ; suivi par indicateurs partagés.".into(),
                pilote_team: (*pilote).to_owned(),
                audiences: "Académies, collectivités, établissements".into(),
                budget_cents: Some(*budget),
                indicator_codes: indicators.iter().map(|i| (*i).to_owned()).collect(),
                milestones: vec![
                    ("Cadrage national".into(), time::macros::date!(2024 - 06 - 30)),
                    (
                        "Déclinaison dans les académies".into(),
                        time::macros::date!(2025 - 06 - 30),
                    ),
                    ("Bilan".into(), time::macros::date!(2027 - 06 - 30)),
                ],
            },
        )
        .await?;
        service::update_project(
            db,
            &by,
            &detail.project.id,
            detail.project.version,
            &crate::strategy::model::ProjectPatch {
                status: Some("publie".into()),
                ..Default::default()
            },
        )
        .await?;
    }
    service::publish_strategy(db, &by, &s.strategy.id, s.strategy.version).await?;
    load_demo_roadmaps(db, &by).await
}

/// The demo's roadmaps: Rennes, Aix-Marseille and Normandie decline national projects,
/// adapt them, and a national change awaits their review.
async fn load_demo_roadmaps(db: &Db, admin: &crate::identity::Principal) -> CoreResult<()> {
    use crate::roadmap::model::DeclensionPatch;
    use crate::roadmap::service as roadmap;
    let principal_of = |email: &'static str| async move {
        let user = crate::identity::repo::find_user_by_email(db, email)
            .await?
            .ok_or_else(|| crate::CoreError::Internal(format!("{email} absent")))?;
        crate::identity::service::principal(db, &user.id, false)
            .await?
            .ok_or_else(|| crate::CoreError::Internal(format!("{email} inactif")))
    };
    let dan14 = principal_of("dan.rennes@demo.gouvernail.fr").await?;
    let dan02 = principal_of("dan.aix@demo.gouvernail.fr").await?;
    for code in ["PN-SNEE", "PN-PIX", "PN-FORM", "PN-TDB"] {
        roadmap::decline(db, &dan14, "14", code).await?;
    }
    roadmap::decline(db, &dan02, "02", "PN-SNEE").await?;
    roadmap::decline(db, &dan02, "02", "PN-PIX").await?;
    roadmap::decline(db, admin, "70", "PN-SNEE").await?;
    let tne = roadmap::decline(db, admin, "70", "PN-TNE").await?;
    roadmap::adapt(
        db,
        admin,
        &tne.declension.id,
        tne.declension.version,
        &DeclensionPatch {
            not_applicable: Some(true),
            justification: Some(Some(
                "Aucun département de l'académie n'est territoire numérique éducatif".into(),
            )),
            ..Default::default()
        },
    )
    .await?;
    let view = roadmap::roadmap(db, &dan14, "14", None).await?;
    for (i, d) in view.declensions.iter().enumerate() {
        let (status, progress) = match i {
            0 => ("en-cours", 45),
            1 => ("en-cours", 70),
            2 => ("en-retard", 20),
            _ => ("termine", 100),
        };
        roadmap::adapt(
            db,
            &dan14,
            &d.declension.id,
            d.declension.version,
            &DeclensionPatch {
                local_pilote: Some(Some("DANE de Rennes".into())),
                status: Some(status.into()),
                progress: Some(progress),
                start_date: Some(Some(time::macros::date!(2024 - 01 - 08))),
                end_date: Some(Some(time::macros::date!(2026 - 06 - 30))),
                ..Default::default()
            },
        )
        .await?;
    }
    load_demo_actions(db, &dan14, &dan02, admin).await?;
    // Rennes consults the Département d'Ille-et-Vilaine, which has commented.
    crate::roadmap::lifecycle::invite(
        db,
        &dan14,
        "14",
        &crate::identity::Perimeter::parse("collectivite:223500018")?,
    )
    .await?;
    let cd35 = principal_of("cd35@demo.gouvernail.fr").await?;
    crate::roadmap::lifecycle::comment(
        db,
        &cd35,
        "14",
        None,
        "Le Département souhaite être associé au pilotage de l'équipement numérique des collèges.",
        Some("Pilotage conjoint DANE – Département d'Ille-et-Vilaine"),
    )
    .await?;
    // A national change that every académie having declined the project must review.
    let snee = crate::strategy::service::get_project(db, Some(admin), "PN-SNEE").await?;
    crate::strategy::service::update_project(db, admin, &snee.project.id, snee.project.version, &crate::strategy::model::ProjectPatch {
        goals: Some("Équiper toutes les écoles élémentaires du socle numérique de base d'ici 2027 ; priorité aux communes rurales.".into()),
        ..Default::default()
    })
    .await?;
    Ok(())
}

/// The demo's actions: Rennes' roadmap in detail (objectives of its own, pilotes, partners,
/// perimeters, milestones, budget lines by funder, dependencies, some late), a few in
/// Aix-Marseille and Normandie.
async fn load_demo_actions(
    db: &Db,
    dan14: &crate::identity::Principal,
    dan02: &crate::identity::Principal,
    admin: &crate::identity::Principal,
) -> CoreResult<()> {
    use crate::roadmap::actions;
    use crate::roadmap::model::*;
    use time::macros::date;
    let objective = actions::create_objective(
        db,
        dan14,
        "14",
        &ObjectivePatch {
            axis_title: Some("Territoires et partenariats".into()),
            title: Some("Coordonner l'équipement avec les collectivités bretonnes".into()),
            description: Some(
                "Un plan partagé par département, revu chaque année en instance académique.".into(),
            ),
            ..Default::default()
        },
    )
    .await?;
    let m = |label: &str, due: time::Date, done: bool| ActionMilestone {
        label: label.into(),
        due_date: due,
        done,
    };
    let b = |kind: &str, label: &str, year: i64, euros: i64| BudgetLine {
        funder_kind: kind.into(),
        funder_label: label.into(),
        year,
        amount_cents: euros * 100,
    };
    let dep = |code: &str| ScopeItem {
        kind: "departement".into(),
        code: code.into(),
    };
    #[allow(clippy::type_complexity)]
    let rennes: Vec<(
        ActionParent,
        &str,
        &str,
        Option<&str>,
        (time::Date, time::Date),
        &str,
        i64,
        Vec<ActionMilestone>,
        Vec<BudgetLine>,
        Vec<&str>,
        Vec<ScopeItem>,
        Vec<&str>,
        &str,
    )> = vec![
        (
            ActionParent::Declension("PN-SNEE".into()),
            "Équiper les écoles rurales d'Ille-et-Vilaine",
            "Appel à projets SNEE auprès des communes de moins de 3 500 habitants, accompagnement des dossiers.",
            Some("dan.rennes@demo.gouvernail.fr"),
            (date!(2024 - 01 - 08), date!(2026 - 12 - 31)),
            "en-cours",
            60,
            vec![
                m("Appel à projets lancé", date!(2024 - 02 - 15), true),
                m("Dossiers instruits", date!(2024 - 06 - 30), true),
                m("Livraisons terminées", date!(2026 - 09 - 01), false),
            ],
            vec![
                b("etat", "État (plan SNEE)", 2024, 420_000),
                b("collectivite", "Communes bénéficiaires", 2024, 280_000),
                b("etat", "État (plan SNEE)", 2025, 310_000),
            ],
            vec!["canope"],
            vec![dep("35")],
            vec![],
            "Capacité des petites communes à porter le reste à charge.",
        ),
        (
            ActionParent::Declension("PN-SNEE".into()),
            "Équiper les écoles du Finistère et du Morbihan",
            "Seconde vague du socle numérique de base.",
            Some("dane.rennes@demo.gouvernail.fr"),
            (date!(2025 - 01 - 06), date!(2027 - 06 - 30)),
            "en-retard",
            15,
            vec![m(
                "Conventions signées avec les communes",
                date!(2025 - 06 - 30),
                false,
            )],
            vec![
                b("etat", "État (plan SNEE)", 2025, 250_000),
                b("ue", "FEDER Bretagne", 2026, 120_000),
            ],
            vec![],
            vec![dep("29"), dep("56")],
            vec!["A01"],
            "Retard de signature des conventions communales.",
        ),
        (
            ActionParent::Declension("PN-PIX".into()),
            "Certifier Pix tous les élèves de 3e",
            "Organisation des sessions de certification dans les 160 collèges publics.",
            Some("dane.rennes@demo.gouvernail.fr"),
            (date!(2024 - 09 - 02), date!(2027 - 06 - 30)),
            "en-cours",
            70,
            vec![
                m("Session 2025", date!(2025 - 05 - 30), true),
                m("Session 2026", date!(2026 - 05 - 29), true),
            ],
            vec![],
            vec![],
            vec![dep("22"), dep("29"), dep("35"), dep("56")],
            vec![],
            "",
        ),
        (
            ActionParent::Declension("PN-FORM".into()),
            "Former 2 000 enseignants au numérique en classe",
            "Parcours M@gistère hybrides avec l'INSPE de Bretagne et l'Atelier Canopé.",
            None,
            (date!(2024 - 09 - 02), date!(2026 - 07 - 07)),
            "en-retard",
            35,
            vec![m("1 000 enseignants formés", date!(2025 - 07 - 04), false)],
            vec![b("etat", "Crédits de formation académiques", 2025, 95_000)],
            vec!["inspe-bretagne", "canope"],
            vec![],
            vec![],
            "Disponibilité des formateurs ; remplacement des enseignants en formation.",
        ),
        (
            ActionParent::Declension("PN-TDB".into()),
            "Publier le tableau de bord académique du numérique",
            "",
            Some("dan.rennes@demo.gouvernail.fr"),
            (date!(2024 - 01 - 08), date!(2025 - 06 - 30)),
            "termine",
            100,
            vec![m("Première publication", date!(2025 - 06 - 30), true)],
            vec![],
            vec![],
            vec![],
            vec![],
            "",
        ),
        (
            ActionParent::Objective(objective.code.clone()),
            "Plan d'équipement partagé avec le Département d'Ille-et-Vilaine",
            "Mise en regard des projets pédagogiques et du plan collèges du Département.",
            Some("dan.rennes@demo.gouvernail.fr"),
            (date!(2025 - 09 - 01), date!(2027 - 08 - 31)),
            "en-cours",
            30,
            vec![
                m("Diagnostic partagé", date!(2026 - 03 - 31), true),
                m("Plan voté", date!(2027 - 01 - 31), false),
            ],
            vec![b(
                "collectivite",
                "Département d'Ille-et-Vilaine",
                2026,
                1_500_000,
            )],
            vec![],
            vec![dep("35")],
            vec!["A01"],
            "",
        ),
        (
            ActionParent::Objective(objective.code.clone()),
            "Référents numériques dans chaque circonscription",
            "",
            None,
            (date!(2026 - 09 - 01), date!(2027 - 06 - 30)),
            "non-commence",
            0,
            vec![],
            vec![],
            vec![],
            vec![],
            vec!["A04"],
            "",
        ),
    ];
    for (
        parent,
        title,
        description,
        pilote,
        (start, end),
        status,
        progress,
        milestones,
        budget,
        partners,
        scope,
        depends,
        risks,
    ) in rennes
    {
        actions::create_action(
            db,
            dan14,
            "14",
            &ActionPatch {
                parent: Some(parent),
                title: Some(title.into()),
                description: Some(description.into()),
                pilote_user: pilote.map(|p| Some(p.to_owned())),
                pilote_team: Some(Some("DRANE de Rennes".into())),
                start_date: Some(Some(start)),
                end_date: Some(Some(end)),
                status: Some(status.into()),
                progress: Some(progress),
                risks: Some(risks.into()),
                milestones: Some(milestones),
                budget: Some(budget),
                partners: Some(partners.into_iter().map(str::to_owned).collect()),
                scope: Some(scope),
                depends_on: Some(depends.into_iter().map(str::to_owned).collect()),
            },
        )
        .await?;
    }
    for (who, academie, project, title, status, progress) in [
        (
            dan02,
            "02",
            "PN-SNEE",
            "Socle numérique dans les écoles des Alpes-de-Haute-Provence",
            "en-cours",
            40,
        ),
        (
            dan02,
            "02",
            "PN-PIX",
            "Certification Pix en lycée professionnel",
            "non-commence",
            0,
        ),
        (
            admin,
            "70",
            "PN-SNEE",
            "Socle numérique dans les écoles de l'Orne",
            "termine",
            100,
        ),
    ] {
        actions::create_action(
            db,
            who,
            academie,
            &ActionPatch {
                parent: Some(ActionParent::Declension(project.into())),
                title: Some(title.into()),
                start_date: Some(Some(date!(2024 - 09 - 02))),
                end_date: Some(Some(date!(2027 - 06 - 30))),
                status: Some(status.into()),
                progress: Some(progress),
                ..Default::default()
            },
        )
        .await?;
    }
    Ok(())
}
