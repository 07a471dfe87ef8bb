//! The demo's conventions, around the académie de Rennes: a convention-cadre with the
//! Département d'Ille-et-Vilaine and two operational conventions beneath it, a tripartite
//! ENT convention with collèges, a private partnership, a convention with the Région
//! Bretagne that expired and was extended by an avenant; commitments kept, in progress and
//! late. Dates are relative to the day the demo is loaded, so that the statuses stay alive.

use time::{Date, Duration, OffsetDateTime};

use crate::db::{Db, Sql};
use crate::error::{CoreError, CoreResult};
use crate::identity::Principal;
use crate::identity::model::Organisation;

use super::model::*;
use super::service as conv;

const RENNES: &str = "academie:14";
const DSDEN35: &str = "departement:35";
const CD35: &str = "collectivite:223500018";
const REGION_BRETAGNE: &str = "collectivite:233500016";
const CANOPE: &str = "organisation:canope";
/// A made-up company (its SIREN passes the Luhn check and belongs to no one).
const COMPANY_SIREN: &str = "900000001";

fn day(days: i64) -> Date {
    crate::paris::local(OffsetDateTime::now_utc()).date() + Duration::days(days)
}

fn party(reference: &str, representative: &str, capacity: &str, signed: Option<Date>) -> PartyInput {
    PartyInput {
        reference: reference.into(),
        representative: representative.into(),
        capacity: capacity.into(),
        deliberation_ref: None,
        deliberation_date: None,
        signature_date: signed,
    }
}

/// A collectivité signs on the strength of a deliberation of its assembly.
fn deliberating(mut p: PartyInput, reference: &str, date: Date) -> PartyInput {
    p.deliberation_ref = Some(reference.into());
    p.deliberation_date = Some(date);
    p
}

struct Promise<'a> {
    party: &'a str,
    category: CommitmentCategory,
    description: &'a str,
    quantity: Option<i64>,
    amount: Option<&'a str>,
    due: Option<Date>,
    recurrence: Option<Recurrence>,
}

impl Promise<'_> {
    fn input(&self) -> CommitmentInput {
        CommitmentInput {
            code: None,
            party: self.party.into(),
            category: self.category.as_str().into(),
            description: self.description.into(),
            quantity: self.quantity,
            amount: self.amount.map(str::to_owned),
            due_date: self.due,
            recurrence: self.recurrence.map(|r| r.as_str().to_owned()),
            indicator: None,
        }
    }
}

fn promise<'a>(party: &'a str, category: CommitmentCategory, description: &'a str, due: i64) -> Promise<'a> {
    Promise {
        party,
        category,
        description,
        quantity: None,
        amount: None,
        due: Some(day(due)),
        recurrence: None,
    }
}

fn annex(year: i64, party: &str, nature: Nature, amount: &str, label: &str) -> AnnexLineInput {
    AnnexLineInput {
        year,
        party: party.into(),
        nature: nature.as_str().into(),
        amount: amount.into(),
        label: label.into(),
    }
}

/// The first collèges of Ille-et-Vilaine in the referential (made-up in the demo).
async fn colleges_35(db: &Db, n: i64) -> CoreResult<Vec<String>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        uai: String,
    }
    let rows: Vec<Row> = db
        .fetch_all(
            Sql::new(
                "SELECT uai FROM etablissement WHERE famille = 'college' AND code_departement = '35' ORDER BY uai LIMIT ",
            )
            .bind(n),
        )
        .await?;
    Ok(rows.into_iter().map(|r| r.uai).collect())
}

async fn company(db: &Db) -> CoreResult<()> {
    let mut tx = db.begin().await?;
    crate::identity::repo::upsert_organisation(
        &mut tx,
        &Organisation {
            id: "numerilab".into(),
            nom: "Numérilab SAS (entreprise fictive de démonstration)".into(),
            kind: "entreprise".into(),
            siren: Some(COMPANY_SIREN.into()),
        },
        OffsetDateTime::now_utc(),
    )
    .await?;
    tx.commit().await
}

/// Reports on the commitment `number` of a convention.
async fn report(
    db: &Db,
    by: &Principal,
    view: &ConventionView,
    number: i64,
    status: CommitmentStatus,
    note: &str,
    link: Option<&str>,
) -> CoreResult<()> {
    let c = view
        .commitments
        .iter()
        .find(|c| c.commitment.number == number)
        .ok_or_else(|| CoreError::Internal(format!("démonstration : engagement E{number} absent")))?;
    conv::report_commitment(
        db,
        by,
        &c.commitment.id,
        c.commitment.version,
        &CommitmentReport {
            status: Some(status.as_str().into()),
            evidence_note: Some(note.into()),
            evidence_link: link.map(|l| Some(l.to_owned())),
            evidence_document: None,
            indicator_value: None,
        },
    )
    .await?;
    Ok(())
}

/// Loads the demo's conventions (called by [`crate::demo::load_demo`] after the accounts).
pub async fn load(db: &Db) -> CoreResult<()> {
    if !super::repo::list_conventions(db).await?.is_empty() {
        return Ok(());
    }
    let dan = crate::demo::principal(db, "dan.rennes@demo.gouvernail.fr").await?;
    let cd35 = crate::demo::principal(db, "cd35@demo.gouvernail.fr").await?;
    let region = crate::demo::principal(db, "region.bretagne@demo.gouvernail.fr").await?;
    company(db).await?;
    let colleges = colleges_35(db, 6).await?;
    let this_year = i64::from(day(0).year());

    let rectrice = |signed| {
        party(
            RENNES,
            "Rectrice de la région académique Bretagne",
            "Rectrice d'académie, chancelière des universités",
            signed,
        )
    };
    let president_cd35 = |signed| {
        deliberating(
            party(
                CD35,
                "Président du Conseil départemental d'Ille-et-Vilaine",
                "Président du conseil départemental",
                signed,
            ),
            "Délibération de la commission permanente n° CP-2024-118",
            day(-760),
        )
    };

    // 1. The convention-cadre with the Département, and the operational ones beneath it.
    let cadre_promises = [
        Promise {
            quantity: Some(2_400),
            ..promise(
                CD35,
                CommitmentCategory::Equipement,
                "Doter les collèges publics de 2 400 tablettes pour les classes de 5e",
                -200,
            )
        },
        promise(
            CD35,
            CommitmentCategory::Connectivite,
            "Raccorder tous les collèges publics au très haut débit (≥ 100 Mb/s)",
            120,
        ),
        Promise {
            recurrence: Some(Recurrence::Annuelle),
            ..promise(
                CD35,
                CommitmentCategory::Maintenance,
                "Assurer la maintenance de premier niveau des équipements (délai d'intervention : 48 h ouvrées)",
                -330,
            )
        },
        Promise {
            quantity: Some(300),
            ..promise(
                RENNES,
                CommitmentCategory::Formation,
                "Former 300 enseignants de collège aux usages pédagogiques des tablettes",
                -30,
            )
        },
        Promise {
            recurrence: Some(Recurrence::Annuelle),
            ..promise(
                RENNES,
                CommitmentCategory::Referent,
                "Désigner un référent numérique dans chaque collège et réunir le réseau chaque année",
                -300,
            )
        },
        promise(
            RENNES,
            CommitmentCategory::DonneesPersonnelles,
            "Mettre à jour le registre des traitements et l'analyse d'impact pour les tablettes",
            60,
        ),
    ];
    let cadre = conv::create_convention(
        db,
        &dan,
        &ConventionInput {
            kind: ConventionKind::ConventionCadre.as_str().into(),
            title: "Convention-cadre pour le numérique éducatif dans les collèges d'Ille-et-Vilaine".into(),
            object: "La présente convention fixe le cadre du partenariat entre l'académie de Rennes et le Département d'Ille-et-Vilaine pour le développement des usages numériques dans les collèges publics : équipement, connectivité, maintenance, formation des enseignants et protection des données. Elle est déclinée en conventions opérationnelles.".into(),
            visas: vec![
                "Vu le code de l'éducation, notamment ses articles L. 131-2, L. 213-2 et L. 312-9".into(),
                "Vu la loi n° 2013-595 du 8 juillet 2013 d'orientation et de programmation pour la refondation de l'École de la République".into(),
                "Vu la délibération de la commission permanente du Conseil départemental d'Ille-et-Vilaine n° CP-2024-118".into(),
            ],
            parent_id: None,
            parties: vec![rectrice(Some(day(-740))), president_cd35(Some(day(-735)))],
            scope: vec![DSDEN35.into()],
            effective_date: Some(day(-730)),
            end_date: None,
            duration_months: Some(48),
            renewal: Renewal::Expresse.as_str().into(),
            notice_months: None,
            follow_up_body_id: None,
            commitments: cadre_promises.iter().map(Promise::input).collect(),
            annex: vec![
                annex(this_year - 1, CD35, Nature::Investissement, "960 000", "Tablettes et valises de recharge"),
                annex(this_year - 1, CD35, Nature::Fonctionnement, "180 000", "Maintenance de premier niveau"),
                annex(this_year - 1, RENNES, Nature::Fonctionnement, "95 000", "Formation des enseignants"),
                annex(this_year, CD35, Nature::Investissement, "1 250 000", "Très haut débit des collèges"),
                annex(this_year, CD35, Nature::Fonctionnement, "185 400", "Maintenance de premier niveau"),
                annex(this_year, RENNES, Nature::Fonctionnement, "110 000", "Formation et ressources"),
            ],
            cofinancing: Vec::new(),
        },
    )
    .await?;
    report(
        db,
        &cd35,
        &cadre,
        1,
        CommitmentStatus::Tenu,
        "2 412 tablettes livrées et inventoriées à la rentrée.",
        Some("https://www.ille-et-vilaine.fr/"),
    )
    .await?;
    report(
        db,
        &cd35,
        &cadre,
        2,
        CommitmentStatus::EnCours,
        "78 collèges raccordés sur 99 ; marché de raccordement en cours d'exécution.",
        None,
    )
    .await?;
    report(
        db,
        &cd35,
        &cadre,
        3,
        CommitmentStatus::Tenu,
        "Contrat de maintenance reconduit avec le prestataire départemental.",
        None,
    )
    .await?;
    report(
        db,
        &dan,
        &cadre,
        5,
        CommitmentStatus::Tenu,
        "Réseau des référents réuni le 3 octobre ; liste tenue par la DRANE.",
        None,
    )
    .await?;
    // E4 (training) is past due and not reported: it shows as late.

    let mobile_classes = conv::create_convention(
        db,
        &dan,
        &ConventionInput {
            kind: ConventionKind::Operationnelle.as_str().into(),
            title: "Convention opérationnelle : classes mobiles dans douze collèges d'Ille-et-Vilaine".into(),
            object: "Déploiement de douze classes mobiles et accompagnement pédagogique des équipes des collèges concernés.".into(),
            visas: vec!["Vu la convention-cadre pour le numérique éducatif dans les collèges d'Ille-et-Vilaine".into()],
            parent_id: Some(cadre.convention.id.clone()),
            parties: vec![rectrice(Some(day(-400))), president_cd35(Some(day(-395)))],
            scope: colleges.iter().take(4).map(|uai| format!("etablissement:{uai}")).collect(),
            effective_date: None,
            end_date: Some(day(330)),
            duration_months: None,
            renewal: Renewal::Aucune.as_str().into(),
            notice_months: None,
            follow_up_body_id: None,
            commitments: vec![
                Promise {
                    quantity: Some(12),
                    amount: Some("216 000"),
                    ..promise(CD35, CommitmentCategory::Equipement, "Livrer douze classes mobiles (16 tablettes, valise, borne Wi-Fi)", -60)
                }
                .input(),
                Promise {
                    quantity: Some(48),
                    ..promise(RENNES, CommitmentCategory::Formation, "Accompagner 48 enseignants (quatre par collège) par des formations en établissement", 90)
                }
                .input(),
                promise(RENNES, CommitmentCategory::Ressources, "Mettre à disposition des scénarios pédagogiques via Éduthèque et Canopé", -20).input(),
            ],
            annex: vec![
                annex(this_year, CD35, Nature::Investissement, "144 000", "Classes mobiles"),
                annex(this_year, RENNES, Nature::Investissement, "72 000", "Crédits d'État (plan numérique)"),
            ],
            cofinancing: vec![CofinancingInput {
                funder: RENNES.into(),
                kind: CofinancingKind::Taux.as_str().into(),
                min_bp: Some(0),
                max_bp: Some(5_000),
                cap: Some("100 000".into()),
                nature: Some(Nature::Investissement.as_str().into()),
            }],
        },
    )
    .await?;
    report(
        db,
        &dan,
        &mobile_classes,
        3,
        CommitmentStatus::Tenu,
        "Douze scénarios publiés sur le site de la DRANE.",
        Some("https://www.ac-rennes.fr/"),
    )
    .await?;
    report(
        db,
        &cd35,
        &mobile_classes,
        1,
        CommitmentStatus::EnCours,
        "Marché notifié ; livraison décalée par le fournisseur.",
        None,
    )
    .await?;

    conv::create_convention(
        db,
        &dan,
        &ConventionInput {
            kind: ConventionKind::Operationnelle.as_str().into(),
            title: "Convention opérationnelle : très haut débit des collèges (tranche 2)".into(),
            object: "Raccordement de la seconde tranche de collèges au très haut débit et mesure du débit effectif.".into(),
            visas: vec!["Vu la convention-cadre pour le numérique éducatif dans les collèges d'Ille-et-Vilaine".into()],
            parent_id: Some(cadre.convention.id.clone()),
            parties: vec![rectrice(None), president_cd35(None)],
            scope: vec![DSDEN35.into()],
            effective_date: None,
            end_date: Some(day(700)),
            duration_months: None,
            renewal: Renewal::Aucune.as_str().into(),
            notice_months: None,
            follow_up_body_id: None,
            commitments: vec![
                Promise {
                    quantity: Some(21),
                    ..promise(CD35, CommitmentCategory::Connectivite, "Raccorder les 21 collèges de la tranche 2", 400)
                }
                .input(),
                promise(RENNES, CommitmentCategory::Autre, "Publier chaque trimestre le débit mesuré par collège", 180).input(),
            ],
            annex: Vec::new(),
            cofinancing: Vec::new(),
        },
    )
    .await?;

    // 2. The tripartite ENT convention: académie, Département and the collèges.
    let mut ent_parties = vec![rectrice(Some(day(-500))), president_cd35(Some(day(-498)))];
    for uai in colleges.iter().take(2) {
        ent_parties.push(party(
            &format!("etablissement:{uai}"),
            "Principal du collège",
            "Chef d'établissement, sur délibération du conseil d'administration",
            Some(day(-490)),
        ));
    }
    let ent_college = colleges.first().map(|uai| format!("etablissement:{uai}"));
    let mut ent_commitments = vec![
        Promise {
            amount: Some("85 000"),
            recurrence: Some(Recurrence::Annuelle),
            ..promise(
                CD35,
                CommitmentCategory::Ent,
                "Financer l'abonnement à l'ENT des collèges publics",
                -480,
            )
        }
        .input(),
        promise(
            RENNES,
            CommitmentCategory::DonneesPersonnelles,
            "Assurer le rôle de responsable de traitement conjoint et la conformité RGPD de l'ENT",
            -470,
        )
        .input(),
        promise(
            RENNES,
            CommitmentCategory::Formation,
            "Former les administrateurs ENT de chaque collège",
            -150,
        )
        .input(),
    ];
    if let Some(college) = &ent_college {
        ent_commitments.push(
            promise(
                college,
                CommitmentCategory::Referent,
                "Désigner un administrateur ENT et ouvrir les comptes des familles",
                -400,
            )
            .input(),
        );
    }
    let ent = conv::create_convention(
        db,
        &dan,
        &ConventionInput {
            kind: ConventionKind::Ent.as_str().into(),
            title: "Convention tripartite relative à l'espace numérique de travail des collèges".into(),
            object: "Déploiement, financement et gouvernance de l'ENT dans les collèges publics d'Ille-et-Vilaine, dans le respect du schéma directeur des ENT (SDET).".into(),
            visas: vec![
                "Vu le schéma directeur des espaces numériques de travail (SDET)".into(),
                "Vu le règlement (UE) 2016/679 du 27 avril 2016 (RGPD)".into(),
            ],
            parent_id: Some(cadre.convention.id.clone()),
            parties: ent_parties,
            scope: colleges.iter().take(2).map(|uai| format!("etablissement:{uai}")).collect(),
            effective_date: Some(day(-485)),
            end_date: None,
            duration_months: Some(36),
            renewal: Renewal::Tacite.as_str().into(),
            notice_months: Some(3),
            follow_up_body_id: None,
            commitments: ent_commitments,
            annex: vec![
                annex(this_year - 1, CD35, Nature::Fonctionnement, "85 000", "Abonnement ENT"),
                annex(this_year, CD35, Nature::Fonctionnement, "85 000", "Abonnement ENT"),
            ],
            cofinancing: Vec::new(),
        },
    )
    .await?;
    // A yearly commitment: each year kept is reported.
    report(
        db,
        &cd35,
        &ent,
        1,
        CommitmentStatus::Tenu,
        "Abonnement payé pour l'année scolaire.",
        None,
    )
    .await?;
    let ent = conv::get_convention(db, &dan, &ent.convention.id, conv::today()).await?;
    report(
        db,
        &cd35,
        &ent,
        1,
        CommitmentStatus::Tenu,
        "Abonnement renouvelé pour la seconde année.",
        None,
    )
    .await?;
    report(
        db,
        &dan,
        &ent,
        3,
        CommitmentStatus::Tenu,
        "Deux sessions au printemps, 31 administrateurs formés.",
        None,
    )
    .await?;
    report(
        db,
        &dan,
        &ent,
        2,
        CommitmentStatus::Tenu,
        "Registre et AIPD validés par le DPD académique.",
        None,
    )
    .await?;
    report(
        db,
        &dan,
        &ent,
        4,
        CommitmentStatus::Tenu,
        "Administrateur désigné en conseil d'administration.",
        None,
    )
    .await?;

    // 3. A private partnership, with Canopé.
    let partnership = conv::create_convention(
        db,
        &dan,
        &ConventionInput {
            kind: ConventionKind::PartenariatPrive.as_str().into(),
            title: "Partenariat « Code et robotique au collège » (entreprise fictive)".into(),
            object: "Mise à disposition gracieuse de kits de robotique et d'ateliers de programmation pour les collèges, sans contrepartie commerciale ni collecte de données des élèves.".into(),
            visas: vec!["Vu la charte des partenariats du ministère de l'éducation nationale".into()],
            parent_id: None,
            parties: vec![
                rectrice(Some(day(-200))),
                party(&format!("entreprise:{COMPANY_SIREN}"), "Directrice générale de Numérilab SAS", "Représentante légale", Some(day(-205))),
                party(CANOPE, "Directrice territoriale de Canopé Bretagne", "Par délégation du directeur général", Some(day(-198))),
            ],
            scope: vec![RENNES.into()],
            effective_date: None,
            end_date: None,
            duration_months: Some(24),
            renewal: Renewal::Aucune.as_str().into(),
            notice_months: None,
            follow_up_body_id: None,
            commitments: vec![
                Promise {
                    quantity: Some(60),
                    ..promise(&format!("entreprise:{COMPANY_SIREN}"), CommitmentCategory::Equipement, "Prêter 60 kits de robotique aux collèges volontaires", -120)
                }
                .input(),
                promise(&format!("entreprise:{COMPANY_SIREN}"), CommitmentCategory::DonneesPersonnelles, "Ne collecter aucune donnée personnelle d'élève", -190).input(),
                promise(CANOPE, CommitmentCategory::Formation, "Animer six ateliers de prise en main dans les ateliers Canopé", 25).input(),
                promise(RENNES, CommitmentCategory::Referent, "Désigner un chargé de mission de la DRANE pour le suivi", -180).input(),
            ],
            annex: Vec::new(),
            cofinancing: Vec::new(),
        },
    )
    .await?;

    report(
        db,
        &dan,
        &partnership,
        1,
        CommitmentStatus::Tenu,
        "60 kits livrés à l'atelier Canopé de Rennes.",
        None,
    )
    .await?;
    report(
        db,
        &dan,
        &partnership,
        2,
        CommitmentStatus::Tenu,
        "Vérifié par le DPD académique : aucune inscription nominative.",
        None,
    )
    .await?;
    report(
        db,
        &dan,
        &partnership,
        4,
        CommitmentStatus::Tenu,
        "Chargée de mission désignée par la DRANE.",
        None,
    )
    .await?;

    // 4. The Région's convention that expired, then extended by an avenant.
    let region_party = |signed| {
        deliberating(
            party(
                REGION_BRETAGNE,
                "Président du Conseil régional de Bretagne",
                "Président du conseil régional",
                signed,
            ),
            "Délibération n° 21_0301_05 de la commission permanente",
            day(-1_120),
        )
    };
    let lycees = conv::create_convention(
        db,
        &dan,
        &ConventionInput {
            kind: ConventionKind::Bipartite.as_str().into(),
            title: "Convention Région Bretagne – académie de Rennes : lycées connectés".into(),
            object: "Équipement des lycées publics en réseaux Wi-Fi et en terminaux pour les enseignants, et formation associée.".into(),
            visas: vec!["Vu le code de l'éducation, notamment son article L. 214-6".into()],
            parent_id: None,
            parties: vec![rectrice(Some(day(-1_100))), region_party(Some(day(-1_095)))],
            scope: vec![RENNES.into()],
            effective_date: Some(day(-1_090)),
            end_date: Some(day(-40)),
            duration_months: None,
            renewal: Renewal::Aucune.as_str().into(),
            notice_months: None,
            follow_up_body_id: None,
            commitments: vec![
                Promise {
                    quantity: Some(90),
                    ..promise(REGION_BRETAGNE, CommitmentCategory::Connectivite, "Couvrir en Wi-Fi les salles de 90 lycées publics", -100)
                }
                .input(),
                Promise {
                    amount: Some("400 000"),
                    ..promise(REGION_BRETAGNE, CommitmentCategory::Financement, "Financer les terminaux des enseignants", -365)
                }
                .input(),
                promise(RENNES, CommitmentCategory::Formation, "Former les référents numériques des lycées", -500).input(),
            ],
            annex: vec![
                annex(this_year - 2, REGION_BRETAGNE, Nature::Investissement, "400 000", "Terminaux des enseignants"),
                annex(this_year - 1, REGION_BRETAGNE, Nature::Investissement, "650 000", "Wi-Fi des lycées"),
            ],
            cofinancing: Vec::new(),
        },
    )
    .await?;
    report(
        db,
        &region,
        &lycees,
        2,
        CommitmentStatus::Tenu,
        "Crédits votés et mandatés.",
        None,
    )
    .await?;
    report(
        db,
        &dan,
        &lycees,
        3,
        CommitmentStatus::Tenu,
        "Trois journées de formation par bassin.",
        None,
    )
    .await?;
    report(
        db,
        &region,
        &lycees,
        1,
        CommitmentStatus::EnCours,
        "71 lycées couverts sur 90.",
        None,
    )
    .await?;
    // The avenant: extended by a year, the Wi-Fi commitment moved and the annex completed.
    let lycees = conv::get_convention(db, &dan, &lycees.convention.id, conv::today()).await?;
    let mut content = lycees.to_input();
    content.end_date = Some(day(325));
    if let Some(wifi) = content
        .commitments
        .iter_mut()
        .find(|c| c.category == CommitmentCategory::Connectivite.as_str())
    {
        wifi.description = "Couvrir en Wi-Fi les salles des 90 lycées publics, dont les 19 restants avant la fin de la prolongation".into();
        wifi.due_date = Some(day(240));
    }
    content.annex.push(annex(
        this_year,
        REGION_BRETAGNE,
        Nature::Investissement,
        "210 000",
        "Wi-Fi des 19 derniers lycées",
    ));
    conv::apply_amendment(
        db,
        &dan,
        &lycees.convention.id,
        lycees.convention.version,
        &AmendmentInput {
            signed_on: day(-20),
            object: "Prolongation d'un an et achèvement de la couverture Wi-Fi".into(),
            content,
        },
    )
    .await?;
    Ok(())
}
