//! The demo's equipment, in Ille-et-Vilaine: the demo's own made-up schools of the
//! département (all marked « (fictif) » by the demo's annuaire), with inventories declared
//! by their competent collectivités (the Département for the collèges, the Région Bretagne
//! for the lycées, two communes and the administrator for the écoles), pupil counts
//! imported in the ministry's format, a three-year renewal plan of the Département with a
//! maintenance contract, plans of the Région and of a commune, needs of national projects
//! and of an action of the Rennes roadmap, and a comment of the DAN. Gaps show both ways:
//! collèges targeted without a mobile class (some covered by the plan, some not), lycées
//! equipped without any project. Dates are relative to the day the demo is loaded.

use time::{Date, Duration, Month};

use crate::db::{Db, Sql};
use crate::error::{CoreError, CoreResult};
use crate::identity::Principal;

use super::model::*;
use super::service;

const CD35: &str = "223500018";
const REGION_BRETAGNE: &str = "233500016";

async fn principal(db: &Db, email: &str) -> CoreResult<Principal> {
    let user = crate::identity::repo::find_user_by_email(db, email)
        .await?
        .ok_or_else(|| CoreError::Internal(format!("{email} absent de la démonstration")))?;
    crate::identity::service::principal(db, &user.id, false)
        .await?
        .ok_or_else(|| CoreError::Internal(format!("{email} inactif")))
}

/// A made-up school of the demo in Ille-et-Vilaine.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DemoSchool {
    pub uai: String,
    pub famille: String,
    pub collectivite_siren: String,
    pub nombre_eleves: Option<i64>,
}

/// The demo's public schools of Ille-et-Vilaine, by family then UAI.
pub async fn schools_35(db: &Db) -> CoreResult<Vec<DemoSchool>> {
    db.fetch_all(
        Sql::new(
            "SELECT uai, famille, collectivite_siren, nombre_eleves FROM etablissement \
             WHERE code_departement = '35' AND fictif = ",
        )
        .bind(true)
        .push(
            " AND collectivite_siren IS NOT NULL AND famille IN ('ecole', 'college', 'lycee') \
             ORDER BY famille, uai",
        ),
    )
    .await
}

#[derive(sqlx::FromRow)]
struct IdRow {
    id: String,
}

fn figure(category: Category, quantity: i64, old: Option<i64>) -> FigureInput {
    FigureInput {
        category: category.as_str().into(),
        quantity: Some(quantity),
        quantity_old: old,
        ..FigureInput::default()
    }
}

fn band(code: &str) -> FigureInput {
    FigureInput {
        category: Category::Debit.as_str().into(),
        band: Some(code.into()),
        ..FigureInput::default()
    }
}

fn maintenance(who: Maintainer, level: &str, hours: i64) -> FigureInput {
    FigureInput {
        category: Category::Maintenance.as_str().into(),
        maintainer: Some(who.as_str().into()),
        service_level: Some(level.into()),
        response_hours: Some(hours),
        ..FigureInput::default()
    }
}

async fn declare(
    db: &Db,
    by: &Principal,
    uai: &str,
    as_of: Date,
    figures: Vec<FigureInput>,
) -> CoreResult<()> {
    let version = super::repo::inventory_version(db, uai).await?;
    service::declare(
        db,
        by,
        uai,
        version,
        &DeclarationInput {
            as_of: Some(as_of),
            source: Some("déclaration de la collectivité (démonstration)".into()),
            figures,
        },
    )
    .await?;
    Ok(())
}

fn line(
    year: i32,
    month: Month,
    uai: &str,
    action: PlanAction,
    category: Category,
    quantity: i64,
    budget: &str,
) -> PlanLineInput {
    PlanLineInput {
        year: Some(i64::from(year)),
        due_date: Date::from_calendar_date(year, month, 30).ok(),
        uai: Some(uai.into()),
        action: Some(action.as_str().into()),
        category: Some(category.as_str().into()),
        quantity: Some(quantity),
        budget: Some(budget.into()),
        ..PlanLineInput::default()
    }
}

/// Communes of Ille-et-Vilaine where the demo places its own schools: code, name.
const COMMUNES_35: &[(&str, &str)] = &[
    ("35238", "Rennes"),
    ("35288", "Saint-Malo"),
    ("35115", "Fougères"),
    ("35360", "Vitré"),
    ("35047", "Bruz"),
    ("35051", "Cesson-Sévigné"),
    ("35236", "Redon"),
    ("35093", "Dinard"),
];

/// Makes the département's made-up public collèges, lycées and écoles (UAIs numbered from
/// 8000, names marked « (fictif) »), loaded through the annuaire import, when the demo's
/// spread of schools left Ille-et-Vilaine without public ones (its generator gives every
/// school of a département the same status and few kinds).
async fn ensure_schools_35(db: &Db) -> CoreResult<()> {
    let colleges = db
        .fetch_scalar_i64(
            Sql::new(
                "SELECT COUNT(*) FROM etablissement WHERE code_departement = '35' AND famille = 'college' \
                 AND collectivite_siren IS NOT NULL AND fictif = ",
            )
            .bind(true),
        )
        .await?;
    if colleges >= 6 {
        return Ok(());
    }
    let kinds: [(&str, &str, &str, &str, usize, i64); 3] = [
        ("340", "COLLEGE", "Collège", "Collège public", 9, 520),
        (
            "300",
            "LYCEE ENSEIGNT GENERAL ET TECHNOLOGIQUE",
            "Lycée",
            "Lycée public",
            4,
            1150,
        ),
        (
            "151",
            "ECOLE DE NIVEAU ELEMENTAIRE",
            "Ecole",
            "École élémentaire publique",
            12,
            200,
        ),
    ];
    let mut csv = String::from(
        "\u{feff}identifiant_de_l_etablissement;nom_etablissement;type_etablissement;statut_public_prive;adresse_1;\
         code_postal;code_commune;nom_commune;code_departement;code_nature;libelle_nature;nombre_d_eleves;etat\r\n",
    );
    let mut number = 8000_u32;
    let mut n = 0_usize;
    for (code_nature, libelle, kind, label, count, pupils) in kinds {
        for k in 0..count {
            let (uai, letter) = loop {
                let digits = format!("035{number:04}");
                number += 1;
                if let Some(letter) = crate::territory::ids::Uai::check_letter(&digits) {
                    break (digits, letter);
                }
            };
            let (code, nom) = COMMUNES_35[n % COMMUNES_35.len()];
            n += 1;
            let k = i64::try_from(k).unwrap_or(0);
            csv.push_str(&format!(
                "{uai}{letter};{label} {nom} {} (fictif);{kind};Public;1 place de l'École;;{code};{nom};035;{code_nature};{libelle};{};OUVERT\r\n",
                k + 1,
                pupils + 13 * k
            ));
        }
    }
    crate::territory::import::import_annuaire(
        db,
        csv.as_bytes(),
        crate::territory::import::AnnuaireOptions { fictitious: true },
        &crate::territory::import::NoProgress,
    )
    .await?;
    Ok(())
}

/// Loads the equipment part of the demo (once).
pub async fn load(db: &Db) -> CoreResult<()> {
    if db
        .fetch_scalar_i64(Sql::new("SELECT COUNT(*) FROM equip_need"))
        .await?
        > 0
    {
        return Ok(());
    }
    ensure_schools_35(db).await?;
    let schools = schools_35(db).await?;
    let of = |f: &str| {
        schools
            .iter()
            .filter(|s| s.famille == f)
            .cloned()
            .collect::<Vec<_>>()
    };
    let (ecoles, colleges, lycees) = (of("ecole"), of("college"), of("lycee"));
    if colleges.is_empty() || lycees.is_empty() || ecoles.is_empty() {
        return Ok(());
    }
    let admin = principal(db, "admin@demo.gouvernail.fr").await?;
    let cd35 = principal(db, "cd35@demo.gouvernail.fr").await?;
    let region = principal(db, "region.bretagne@demo.gouvernail.fr").await?;
    let dan = principal(db, "dan.rennes@demo.gouvernail.fr").await?;
    let today = service::today();
    let as_of = today - Duration::days(30);
    let year = today.year();

    // Two communes' representatives, for the écoles of their commune.
    let mut mayors = Vec::new();
    for (n, school) in ecoles.iter().take(2).enumerate() {
        let email = format!("mairie{}@demo.gouvernail.fr", n + 1);
        if crate::identity::repo::find_user_by_email(db, &email)
            .await?
            .is_none()
        {
            let user = crate::identity::service::create_user(
                db,
                &crate::audit::Actor::system(),
                &email,
                &format!("Service des écoles de la commune {} (fictif)", n + 1),
                Some(crate::demo::DEMO_PASSWORD),
            )
            .await?;
            crate::identity::service::grant_role(
                db,
                None,
                &crate::identity::service::NewAssignment {
                    user_id: user.id,
                    role: crate::identity::Role::RepresentantCollectivite,
                    perimeter: crate::identity::Perimeter::Collectivite(school.collectivite_siren.clone()),
                    from: today - Duration::days(400),
                    until: None,
                },
            )
            .await?;
        }
        mayors.push((school.collectivite_siren.clone(), principal(db, &email).await?));
    }

    // Inventories. The last collège declares nothing.
    let last = colleges.len() - 1;
    for (i, c) in colleges.iter().enumerate().take(last) {
        let i = i64::try_from(i).unwrap_or(0);
        let mut figures = vec![
            figure(
                Category::PosteFixe,
                30 + 5 * i,
                Some(if i % 2 == 0 { 20 } else { 5 }),
            ),
            figure(Category::Tablette, if i % 3 == 0 { 0 } else { 60 }, Some(0)),
            figure(Category::ClasseMobile, i64::from(i % 3 == 1), Some(0)),
            figure(Category::EcranInteractif, 10 + i, Some(2)),
            figure(Category::Wifi, (50 + 10 * i).min(100), None),
            band(if i % 2 == 0 { "100-1000" } else { "30-100" }),
            figure(
                Category::Ent,
                i64::from(i + 1 != i64::try_from(last).unwrap_or(0)),
                None,
            ),
            maintenance(Maintainer::Prestataire, "Niveau 2 (sur site)", 48),
        ];
        if i == 0 {
            figures.push(figure(Category::Videoprojecteur, 12, Some(6)));
        }
        declare(db, &cd35, &c.uai, as_of, figures).await?;
    }
    for (i, l) in lycees.iter().enumerate() {
        let i = i64::try_from(i).unwrap_or(0);
        declare(
            db,
            &region,
            &l.uai,
            as_of,
            vec![
                figure(Category::PosteFixe, 120 + 10 * i, Some(60)),
                figure(Category::PosteMobile, 40, Some(10)),
                figure(Category::EcranInteractif, 20 + i, Some(4)),
                figure(Category::Videoprojecteur, 15, Some(8)),
                figure(Category::Wifi, 80, None),
                band(if i % 2 == 0 { "100-1000" } else { "30-100" }),
                figure(Category::Ent, 1, None),
                maintenance(Maintainer::Collectivite, "Équipe régionale, astreinte", 24),
            ],
        )
        .await?;
    }
    for (i, e) in ecoles.iter().enumerate() {
        if i % 4 == 0 {
            continue; // No inventory yet.
        }
        let by = mayors
            .iter()
            .find(|(siren, _)| *siren == e.collectivite_siren)
            .map_or(&admin, |(_, p)| p);
        let n = i64::try_from(i).unwrap_or(0);
        declare(
            db,
            by,
            &e.uai,
            as_of,
            vec![
                figure(Category::PosteMobile, (5 * n) % 20, Some(n % 3)),
                figure(Category::Tablette, if i % 4 == 2 { 16 } else { 0 }, Some(0)),
                figure(Category::Videoprojecteur, 3, Some(1)),
                figure(Category::Ent, 1, None),
                maintenance(Maintainer::Collectivite, "Service informatique municipal", 72),
            ],
        )
        .await?;
    }

    // Pupil counts of the écoles, in the ministry's open-data format.
    let mut csv = String::from(
        "\u{feff}Rentrée scolaire;Région académique;Académie;Département;Commune;Numéro de l'école;Dénomination principale;\
         Patronyme;Secteur;REP;REP +;Nombre total de classes;Nombre total d'élèves;\
         Nombre d'élèves en pré-élémentaire hors ULIS;Nombre d'élèves en élémentaire hors ULIS;Nombre d'élèves en ULIS;\
         Nombre d'élèves en CP hors ULIS;Nombre d'élèves en CE1 hors ULIS;Nombre d'élèves en CE2 hors ULIS;\
         Nombre d'élèves en CM1 hors ULIS;Nombre d'élèves en CM2 hors ULIS;tri;Code Postal\r\n",
    );
    for (i, e) in ecoles.iter().enumerate() {
        let n = i64::try_from(i).unwrap_or(0);
        let classes = 4 + n % 6;
        let pupils = classes * 24;
        let (cm1, cm2) = (pupils / 5, pupils / 5 - 2);
        csv.push_str(&format!(
            "{};BRETAGNE;RENNES;ILLE-ET-VILAINE;;{};ECOLE PUBLIQUE;(FICTIF);PUBLIC;0;0;{classes};{pupils};0;{pupils};0;0;0;0;{cm1};{cm2};;\r\n",
            year - 1,
            e.uai
        ));
    }
    service::import_pupils(db, &admin, csv.as_bytes()).await?;

    // The Département's three-year renewal plan for its collèges, with its maintenance contract.
    let mut lines = Vec::new();
    for (i, c) in colleges.iter().enumerate().take(last) {
        if i % 3 == 0 {
            lines.push(PlanLineInput {
                funding: Some(Funding::Etat.as_str().into()),
                programme: Some("Territoires numériques éducatifs".into()),
                cofunded: Some("9 000".into()),
                ..line(
                    year + 1,
                    Month::June,
                    &c.uai,
                    PlanAction::Acquisition,
                    Category::ClasseMobile,
                    1,
                    "18 000",
                )
            });
        }
        if i % 2 == 0 {
            lines.push(line(
                year,
                Month::November,
                &c.uai,
                PlanAction::Renouvellement,
                Category::PosteFixe,
                20,
                "16 000",
            ));
        }
    }
    lines.push(line(
        year + 2,
        Month::June,
        &colleges[last].uai,
        PlanAction::Acquisition,
        Category::PosteFixe,
        40,
        "32 000",
    ));
    lines.push(PlanLineInput {
        year: Some(i64::from(year)),
        group_label: Some("Tous les collèges publics d'Ille-et-Vilaine".into()),
        action: Some(PlanAction::Maintenance.as_str().into()),
        category: Some(Category::Maintenance.as_str().into()),
        quantity: Some(0),
        budget: Some("120 000".into()),
        ..PlanLineInput::default()
    });
    let plan = service::create_plan(
        db,
        &cd35,
        &PlanInput {
            collectivite_siren: Some(CD35.into()),
            title: Some(format!("Plan de renouvellement des collèges {year}-{}", year + 2)),
            first_year: Some(i64::from(year)),
            last_year: Some(i64::from(year) + 2),
            note: Some(
                "Classes mobiles cofinancées par l'État (TNE), renouvellement des postes de plus de 5 ans."
                    .into(),
            ),
            lines,
            contracts: vec![ContractInput {
                contractor: Some("Société bretonne de maintenance informatique (fictive)".into()),
                object: Some("Maintenance sur site des équipements des collèges".into()),
                start_date: Date::from_calendar_date(year, Month::January, 1).ok(),
                end_date: Date::from_calendar_date(year + 2, Month::December, 31).ok(),
                service_level: Some("Niveau 2, intervention sur site".into()),
                response_hours: Some(48),
                annual: Some("95 000".into()),
                commitment_id: None,
            }],
        },
    )
    .await?;
    service::comment_plan(
        db,
        &dan,
        &plan.value.plan.id,
        "Les classes mobiles de 2027 répondent au projet TNE ; il en manque encore pour un tiers des collèges.",
    )
    .await?;

    // The Région raises the bandwidth of one lycée; a commune buys tablets.
    if let Some(slow) = lycees.iter().skip(1).step_by(2).next() {
        service::create_plan(
            db,
            &region,
            &PlanInput {
                collectivite_siren: Some(REGION_BRETAGNE.into()),
                title: Some(format!("Très haut débit des lycées {year}-{}", year + 1)),
                first_year: Some(i64::from(year)),
                last_year: Some(i64::from(year) + 1),
                lines: vec![PlanLineInput {
                    funding: Some(Funding::Ue.as_str().into()),
                    programme: Some("FEDER Bretagne".into()),
                    cofunded: Some("20 000".into()),
                    ..line(
                        year + 1,
                        Month::March,
                        &slow.uai,
                        PlanAction::Acquisition,
                        Category::Debit,
                        1000,
                        "40 000",
                    )
                }],
                ..PlanInput::default()
            },
        )
        .await?;
    }
    if let Some((siren, mayor)) = mayors.first()
        && let Some(e) = ecoles.iter().find(|e| e.collectivite_siren == *siren)
    {
        service::create_plan(
            db,
            mayor,
            &PlanInput {
                collectivite_siren: Some(siren.clone()),
                title: Some(format!("Socle numérique de l'école {year}")),
                first_year: Some(i64::from(year)),
                last_year: Some(i64::from(year) + 1),
                lines: vec![PlanLineInput {
                    funding: Some(Funding::Etat.as_str().into()),
                    programme: Some("Socle numérique dans les écoles élémentaires".into()),
                    cofunded: Some("5 600".into()),
                    ..line(
                        year + 1,
                        Month::April,
                        &e.uai,
                        PlanAction::Acquisition,
                        Category::Tablette,
                        32,
                        "8 000",
                    )
                }],
                ..PlanInput::default()
            },
        )
        .await?;
    }

    // Needs: national projects and an action of the Rennes roadmap.
    let action: Option<IdRow> = db
        .fetch_optional(Sql::new(
            "SELECT a.id FROM roadmap_action a JOIN roadmap r ON r.id = a.roadmap_id \
             WHERE r.academie_code = '14' ORDER BY a.code LIMIT 1",
        ))
        .await?;
    let mut needs = vec![
        NeedInput {
            subject: Some("projet:PN-TNE".into()),
            target: Some("departement:35".into()),
            famille: Some("college".into()),
            category: Some(Category::ClasseMobile.as_str().into()),
            rule: Some(NeedRule::ParEtablissement.as_str().into()),
            threshold: Some(1),
            training: Some(
                "Parcours M@gistère « Enseigner avec une classe mobile » pour deux enseignants par collège"
                    .into(),
            ),
            ..NeedInput::default()
        },
        NeedInput {
            subject: Some("projet:PN-TNE".into()),
            target: Some("departement:35".into()),
            famille: Some("college".into()),
            category: Some(Category::Ent.as_str().into()),
            rule: Some(NeedRule::Minimum.as_str().into()),
            threshold: Some(1),
            ..NeedInput::default()
        },
    ];
    if let Some(action) = action {
        needs.push(NeedInput {
            subject: Some(format!("action:{}", action.id)),
            target: Some("departement:35".into()),
            famille: Some("ecole".into()),
            category: Some(TERMINAUX.into()),
            rule: Some(NeedRule::ElevesCmParUnite.as_str().into()),
            threshold: Some(3),
            training: Some("Animations pédagogiques de circonscription sur les usages des tablettes".into()),
            ..NeedInput::default()
        });
        needs.push(NeedInput {
            subject: Some(format!("action:{}", action.id)),
            target: Some(format!("etablissement:{}", lycees[lycees.len().min(2) - 1].uai)),
            category: Some(Category::Debit.as_str().into()),
            rule: Some(NeedRule::Minimum.as_str().into()),
            threshold: Some(100),
            training: Some("Formation des référents numériques aux usages en ligne".into()),
            ..NeedInput::default()
        });
    }
    for need in &needs {
        let by = if need.subject.as_deref().is_some_and(|s| s.starts_with("action:")) {
            &dan
        } else {
            &admin
        };
        service::create_need(db, by, need).await?;
    }
    service::comment_school(
        db,
        &dan,
        &colleges[last].uai,
        "Aucun inventaire déclaré : la classe mobile du projet TNE ne peut pas être planifiée.",
    )
    .await?;
    Ok(())
}
