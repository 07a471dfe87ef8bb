//! The authorization matrix, built from the OpenAPI document: every operation × every
//! role × a subject that is the caller's own perimeter, a child, a parent, a sibling, an
//! unrelated one, or an anonymous caller. The expectations below are written from the
//! rules of the issue, independently of the policy code; the test fails when an operation
//! of the document has none. Every refused request must leave the database unchanged.

use std::collections::BTreeMap;

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode};
use gouvernail_core::audit::Actor;
use gouvernail_core::db::{Db, Sql};
use gouvernail_core::identity::model::Organisation;
use gouvernail_core::identity::service::{self, NewAssignment};
use gouvernail_core::identity::{Perimeter, Role};
use gouvernail_core::territory::import::{self, AnnuaireOptions, NoProgress};
use gouvernail_core::testkit::{Seed, TestDb, shared_data_dir};
use gouvernail_web::{AppState, WebConfig};
use http_body_util::BodyExt;
use serde_json::{Value, json};
use time::{Duration, OffsetDateTime};
use tower::ServiceExt;

type E = Box<dyn std::error::Error>;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Relation {
    Own,
    Child,
    Parent,
    Sibling,
    Unrelated,
}

const RELATIONS: [Relation; 5] = [
    Relation::Own,
    Relation::Child,
    Relation::Parent,
    Relation::Sibling,
    Relation::Unrelated,
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Exp {
    Ok,
    Unauthenticated,
    Forbidden,
    NotFound,
}

impl Exp {
    fn matches(self, status: StatusCode) -> bool {
        match self {
            Exp::Ok => status.is_success(),
            Exp::Unauthenticated => status == StatusCode::UNAUTHORIZED,
            Exp::Forbidden => status == StatusCode::FORBIDDEN,
            Exp::NotFound => status == StatusCode::NOT_FOUND,
        }
    }
}

/// The perimeters around a caller's own.
fn subjects(own: &str) -> BTreeMap<Relation, &'static str> {
    let mut m = BTreeMap::new();
    match own {
        "academie:14" => {
            m.insert(Relation::Own, "academie:14");
            m.insert(Relation::Child, "departement:35");
            m.insert(Relation::Parent, "region-academique:53");
            m.insert(Relation::Sibling, "academie:02");
            m.insert(Relation::Unrelated, "collectivite:200053767");
        }
        "collectivite:223500018" => {
            m.insert(Relation::Own, "collectivite:223500018");
            m.insert(Relation::Child, "etablissement:0351849V");
            m.insert(Relation::Parent, "departement:35");
            m.insert(Relation::Sibling, "collectivite:222200016");
            m.insert(Relation::Unrelated, "academie:02");
        }
        "organisation:canope" => {
            m.insert(Relation::Own, "organisation:canope");
            m.insert(Relation::Parent, "national");
            m.insert(Relation::Sibling, "organisation:cned");
            m.insert(Relation::Unrelated, "academie:02");
        }
        // National roles: everything is below them.
        _ => {
            m.insert(Relation::Own, "national");
            m.insert(Relation::Child, "academie:14");
        }
    }
    m
}

const ROLES: &[(&str, &str)] = &[
    ("administrateur-national", "national"),
    ("pilote-national", "national"),
    ("recteur", "academie:14"),
    ("dan", "academie:14"),
    ("membre-dane", "academie:14"),
    ("representant-collectivite", "collectivite:223500018"),
    ("partenaire", "organisation:canope"),
    ("expert", "national"),
    ("observateur", "academie:14"),
];

fn is_national(role: &str) -> bool {
    matches!(role, "administrateur-national" | "pilote-national" | "expert")
}

/// Independent statement of the rules: may `role` (held on its perimeter) see `rel`?
fn reads(role: &str, rel: Relation) -> bool {
    is_national(role) || matches!(rel, Relation::Own | Relation::Child)
}

fn appoints_observers(role: &str, rel: Relation) -> bool {
    match role {
        "administrateur-national" => true,
        "recteur" | "dan" => matches!(rel, Relation::Own | Relation::Child),
        _ => false,
    }
}

/// Read a subject, or 404.
fn read_rule(role: Option<&str>, rel: Relation) -> Exp {
    match role {
        None => Exp::Unauthenticated,
        Some(r) if reads(r, rel) => Exp::Ok,
        Some(_) => Exp::NotFound,
    }
}

/// Appoint (or end the appointment of) an observer on a subject.
fn appoint_rule(role: Option<&str>, rel: Relation) -> Exp {
    match role {
        None => Exp::Unauthenticated,
        Some(r) if !reads(r, rel) => Exp::NotFound,
        Some(r) if appoints_observers(r, rel) => Exp::Ok,
        Some(_) => Exp::Forbidden,
    }
}

fn admin_only(role: Option<&str>) -> Exp {
    match role {
        None => Exp::Unauthenticated,
        Some("administrateur-national") => Exp::Ok,
        Some(_) => Exp::Forbidden,
    }
}

fn any_account(role: Option<&str>) -> Exp {
    if role.is_some() {
        Exp::Ok
    } else {
        Exp::Unauthenticated
    }
}

/// One's own object (account, token, history) or, for an administrator, anyone's;
/// someone else's is answered as not found.
fn own_object(role: Option<&str>, rel: Relation) -> Exp {
    match role {
        None => Exp::Unauthenticated,
        Some("administrateur-national") => Exp::Ok,
        Some(_) if rel == Relation::Own => Exp::Ok,
        Some(_) => Exp::NotFound,
    }
}

struct World {
    router: Router,
    db: Db,
    /// role → (user id, token)
    callers: BTreeMap<&'static str, (String, String)>,
    /// An account to appoint people to.
    target_email: String,
    /// perimeter → an observer's appointment there (to end).
    appointments: BTreeMap<&'static str, String>,
    /// A published strategy, one of its objectives, and a national project under it.
    strategy_id: String,
    objective_id: String,
    project_id: String,
    /// Declensions of that project in académies 14 and 02.
    declension_14: String,
    declension_02: String,
    /// A comment of the consultation of académie 14.
    comment_14: String,
    /// An action of each roadmap, and an objective of académie 14's own.
    action_14: String,
    action_02: String,
    objective_14: String,
    /// Per académie (14, 02): a comité de pilotage, a member, a planned meeting and a
    /// decision taken at it.
    gov: BTreeMap<&'static str, GovIds>,
    /// Per académie (14, 02): the value of the académie-level indicator `ACC-FORM` for 2025.
    ind_values: BTreeMap<&'static str, String>,
    /// A national campaign on académies 14 and 02.
    campaign: String,
    /// Equipment: a lycée of the Région Bretagne (the collège 0351849V is the Département's),
    /// a plan of each, a need of the national project and one of each académie's action.
    equip: EquipIds,
    /// Per académie (14, 02): a signed convention with its collectivité, and the commitment
    /// that collectivité owes.
    conv: BTreeMap<&'static str, ConvIds>,
    /// Where the attachments of the world are kept.
    storage: gouvernail_core::convention::attachment::Storage,
    _files: tempfile::TempDir,
    _t: TestDb,
}

#[derive(Debug, Clone)]
struct EquipIds {
    lycee: String,
    plan_cd35: String,
    plan_region: String,
    need_project: String,
    need_14: String,
    need_02: String,
}

const COLLEGE_CD35: &str = "0351849V";

async fn equip_world(
    db: &Db,
    admin: &gouvernail_core::identity::Principal,
    action_14: &str,
    action_02: &str,
) -> Result<EquipIds, E> {
    use gouvernail_core::equipment::{service as equip, *};
    #[derive(sqlx::FromRow)]
    struct U {
        uai: String,
    }
    let lycee: U = db
        .fetch_optional(Sql::new(
            "SELECT uai FROM etablissement WHERE code_departement = '35' AND famille = 'lycee' \
             AND collectivite_siren = '233500016' ORDER BY uai LIMIT 1",
        ))
        .await?
        .ok_or("no lycée")?;
    let year = i64::from(equip::today().year());
    let mut plans = Vec::new();
    for (siren, uai) in [("223500018", COLLEGE_CD35), ("233500016", lycee.uai.as_str())] {
        let saved = equip::create_plan(
            db,
            admin,
            &PlanInput {
                collectivite_siren: Some(siren.into()),
                title: Some("Plan de la matrice".into()),
                first_year: Some(year),
                last_year: Some(year + 1),
                lines: vec![PlanLineInput {
                    year: Some(year),
                    uai: Some(uai.into()),
                    category: Some("tablette".into()),
                    quantity: Some(5),
                    budget: Some("2000".into()),
                    ..PlanLineInput::default()
                }],
                ..PlanInput::default()
            },
        )
        .await?;
        plans.push(saved.value.plan.id);
    }
    let need = |subject: String| NeedInput {
        subject: Some(subject),
        category: Some("tablette".into()),
        rule: Some("par-etablissement".into()),
        threshold: Some(1),
        ..NeedInput::default()
    };
    let need_project = equip::create_need(db, admin, &need("projet:PN-MATRICE".into()))
        .await?
        .id;
    let need_14 = equip::create_need(db, admin, &need(format!("action:{action_14}")))
        .await?
        .id;
    let need_02 = equip::create_need(db, admin, &need(format!("action:{action_02}")))
        .await?
        .id;
    Ok(EquipIds {
        lycee: lycee.uai,
        plan_region: plans.pop().ok_or("no plan")?,
        plan_cd35: plans.pop().ok_or("no plan")?,
        need_project,
        need_14,
        need_02,
    })
}

/// Read a school: national readers, the académie's people, the competent collectivité.
fn school_read(role: Option<&str>, lycee: bool) -> Exp {
    match role {
        None => Exp::Unauthenticated,
        Some("partenaire") => Exp::NotFound,
        Some("representant-collectivite") if lycee => Exp::NotFound,
        Some(_) => Exp::Ok,
    }
}

/// Declare a school's inventory or plan for it: its competent collectivité, administrators.
fn school_declare(role: Option<&str>, lycee: bool) -> Exp {
    match (role, school_read(role, lycee)) {
        (None, _) => Exp::Unauthenticated,
        (_, Exp::NotFound) => Exp::NotFound,
        (Some("administrateur-national" | "representant-collectivite"), _) => Exp::Ok,
        (Some(_), _) => Exp::Forbidden,
    }
}

/// Comment on a school or a plan: the writers of its perimeter (rectorat, DAN, collectivité).
fn school_comment(role: Option<&str>, lycee: bool) -> Exp {
    match (role, school_read(role, lycee)) {
        (None, _) => Exp::Unauthenticated,
        (_, Exp::NotFound) => Exp::NotFound,
        (
            Some("administrateur-national" | "recteur" | "dan" | "membre-dane" | "representant-collectivite"),
            _,
        ) => Exp::Ok,
        (Some(_), _) => Exp::Forbidden,
    }
}

/// Import a file: needs a role that writes (per line, the lines out of reach are refused).
fn import_rule(role: Option<&str>, roles: &[&str]) -> Exp {
    match role {
        None => Exp::Unauthenticated,
        Some(r) if roles.contains(&r) => Exp::Ok,
        Some(_) => Exp::Forbidden,
    }
}

#[derive(Debug, Clone)]
struct GovIds {
    body: String,
    member: String,
    meeting: String,
    decision: String,
}

/// Write the minutes: the body's secretary or delegates only (no role of the matrix is);
/// readers get 403, others 404.
fn minutes_rule(role: Option<&str>, academie: &str) -> Exp {
    match (role, academie_read(role, academie)) {
        (None, _) => Exp::Unauthenticated,
        (_, Exp::NotFound) => Exp::NotFound,
        (Some(_), _) => Exp::Forbidden,
    }
}

#[derive(Debug, Clone)]
struct ConvIds {
    convention: String,
    commitment: String,
    /// An attachment of the convention.
    piece: String,
}

/// The collectivité party of each académie's conventions: the Département d'Ille-et-Vilaine
/// (the representative's own) for Rennes, the Bouches-du-Rhône for Aix-Marseille.
fn conv_collectivite(academie: &str) -> &'static str {
    if academie == "14" {
        "collectivite:223500018"
    } else {
        "collectivite:221300015"
    }
}

/// The text of a convention between académie `a` and its collectivité, signed when `signed`.
fn conv_text(a: &str, signed: bool, title: &str) -> Value {
    let signature = |d: &str| if signed { Some(d.to_owned()) } else { None };
    json!({
        "type": "bipartite",
        "titre": title,
        "parties": [
            { "reference": format!("academie:{a}"), "representant": "Recteur", "qualite": "Recteur d'académie", "dateSignature": signature("2025-01-10") },
            { "reference": conv_collectivite(a), "representant": "Président", "qualite": "Président du Département", "dateSignature": signature("2025-01-20") }
        ],
        "dateEffet": "2025-02-01",
        "dateFin": "2029-01-31",
        "engagements": [{ "partie": conv_collectivite(a), "categorie": "equipement", "description": "Équiper les collèges", "echeance": "2099-09-01" }],
    })
}

/// The core input of [`conv_text`].
fn conv_input(a: &str, signed: bool, title: &str) -> Result<gouvernail_core::convention::ConventionInput, E> {
    let dto: gouvernail_web::convention::api::ConventionInputDto =
        serde_json::from_value(conv_text(a, signed, title))?;
    Ok(dto.input())
}

async fn conv_world(
    db: &Db,
    admin: &gouvernail_core::identity::Principal,
    storage: &gouvernail_core::convention::attachment::Storage,
) -> Result<BTreeMap<&'static str, ConvIds>, E> {
    use gouvernail_core::convention::service as conv;
    let mut out = BTreeMap::new();
    for a in ["14", "02"] {
        let v = conv::create_convention(db, admin, &conv_input(a, true, &format!("Convention {a}"))?).await?;
        let commitment = v
            .commitments
            .first()
            .ok_or("no commitment")?
            .commitment
            .id
            .clone();
        let piece = gouvernail_core::convention::attachment::upload(
            db,
            storage,
            admin,
            &v.convention.id,
            "convention-signee.pdf",
            b"%PDF-1.7\n",
        )
        .await?
        .id;
        out.insert(
            a,
            ConvIds {
                convention: v.convention.id,
                commitment,
                piece,
            },
        );
    }
    Ok(out)
}

/// A fresh draft convention of académie `a` (for the cases that change a draft).
async fn conv_draft(w: &World, a: &str) -> Result<(String, i64), E> {
    let admin = admin_principal(&w.db, &w.callers).await?;
    let v = gouvernail_core::convention::service::create_convention(
        &w.db,
        &admin,
        &conv_input(a, false, "Projet")?,
    )
    .await?;
    Ok((v.convention.id, v.convention.version))
}

/// Read a convention: the readers of any party's perimeter (the collectivité's
/// representative reads those of its collectivité).
fn conv_read(role: Option<&str>, academie: &str) -> Exp {
    match role {
        None => Exp::Unauthenticated,
        Some("administrateur-national" | "pilote-national" | "expert") => Exp::Ok,
        Some("recteur" | "dan" | "membre-dane" | "observateur" | "representant-collectivite")
            if academie == "14" =>
        {
            Exp::Ok
        }
        Some(_) => Exp::NotFound,
    }
}

/// Change a convention (text, events, amendments): a national administrator, or the
/// recteur, DAN or DANE of a party académie; its other readers get 403.
fn conv_write(role: Option<&str>, academie: &str) -> Exp {
    match (role, conv_read(role, academie)) {
        (None, _) => Exp::Unauthenticated,
        (_, Exp::NotFound) => Exp::NotFound,
        (Some("administrateur-national"), _) => Exp::Ok,
        (Some("recteur" | "dan" | "membre-dane"), _) if academie == "14" => Exp::Ok,
        (Some(_), _) => Exp::Forbidden,
    }
}

/// Create a convention: only who would be one of its writers; no reading is involved.
fn conv_create(role: Option<&str>, academie: &str) -> Exp {
    match role {
        None => Exp::Unauthenticated,
        Some("administrateur-national") => Exp::Ok,
        Some("recteur" | "dan" | "membre-dane") if academie == "14" => Exp::Ok,
        Some(_) => Exp::Forbidden,
    }
}

/// Report on the collectivité's commitment: the convention's writers, and that
/// collectivité's representative.
fn conv_report(role: Option<&str>, academie: &str) -> Exp {
    match (role, conv_write(role, academie)) {
        (Some("representant-collectivite"), Exp::Forbidden) => Exp::Ok,
        (_, exp) => exp,
    }
}

async fn gov_world(
    db: &Db,
    admin: &gouvernail_core::identity::Principal,
) -> Result<BTreeMap<&'static str, GovIds>, E> {
    use gouvernail_core::governance::{service as gov, *};
    let mut out = BTreeMap::new();
    for a in ["14", "02"] {
        let body = gov::create_body(
            db,
            admin,
            &BodyPatch {
                kind: Some("comite-pilotage-academique".into()),
                name: Some(format!("Comité de pilotage {a}")),
                perimeter: Some(format!("academie:{a}")),
                mandate: None,
            },
        )
        .await?;
        let member = gov::add_member(
            db,
            admin,
            &body.id,
            &MemberPatch {
                name: Some("Membre de la matrice".into()),
                email: Some(format!("membre{a}@matrice.fr")),
                position: Some("membre".into()),
                ..Default::default()
            },
        )
        .await?;
        let meeting = gov_meeting(db, admin, &body.id).await?;
        let decision = gov::create_decision(
            db,
            admin,
            &meeting,
            &DecisionPatch {
                title: Some("Décision de la matrice".into()),
                owner: Some("Membre de la matrice".into()),
                ..Default::default()
            },
        )
        .await?;
        out.insert(
            a,
            GovIds {
                body: body.id,
                member: member.id,
                meeting,
                decision: decision.id,
            },
        );
    }
    Ok(out)
}

/// A new planned meeting of a body, in ten days.
async fn gov_meeting(db: &Db, admin: &gouvernail_core::identity::Principal, body: &str) -> Result<String, E> {
    use gouvernail_core::governance::{service as gov, *};
    let start = OffsetDateTime::now_utc() + Duration::days(10);
    Ok(gov::create_meeting(
        db,
        admin,
        body,
        &MeetingPatch {
            starts_at: Some(start),
            ends_at: Some(start + Duration::hours(2)),
            place: Some("Rectorat".into()),
            ..Default::default()
        },
    )
    .await?
    .id)
}

/// Two national indicators (a school ratio, public; an académie-level count), a value of
/// the latter in académies 14 and 02, and a national campaign on both.
async fn ind_world(
    db: &Db,
    admin: &gouvernail_core::identity::Principal,
) -> Result<(BTreeMap<&'static str, String>, String), E> {
    use gouvernail_core::indicator::{campaign, service as ind, *};
    for (code, kind, agg, level, periodicity) in [
        (
            "ACC-TERM",
            "ratio",
            "ratio-des-sommes",
            "etablissement",
            "annee-scolaire",
        ),
        ("ACC-FORM", "nombre", "somme", "academie", "annee"),
    ] {
        ind::create_indicator(
            db,
            admin,
            &IndicatorInput {
                code: Some(code.into()),
                label: Some(format!("Indicateur {code}")),
                direction: Some("hausse".into()),
                kind: Some(kind.into()),
                aggregation: Some(agg.into()),
                periodicity: Some(periodicity.into()),
                capture_level: Some(level.into()),
                factor: Some(100),
                public: Some(true),
                // The school ratio is computed from the inventories (its `calcul` operation).
                formula: (code == "ACC-TERM").then(|| "terminaux-pour-100-eleves".into()),
                ..Default::default()
            },
        )
        .await?;
    }
    let mut values = BTreeMap::new();
    for a in ["14", "02"] {
        let v = ind::record_value(db, admin, &form_value(a, "10"), Provenance::Saisie, None).await?;
        values.insert(a, v.id);
    }
    let (c, _) = campaign::open_campaign(db, admin, &campaign_input("2025")).await?;
    Ok((values, c.id))
}

fn form_value(academie: &str, value: &str) -> gouvernail_core::indicator::ValueInput {
    gouvernail_core::indicator::ValueInput {
        indicator: "ACC-FORM".into(),
        perimeter: format!("academie:{academie}"),
        period: "2025".into(),
        value: Some(value.into()),
        ..Default::default()
    }
}

fn campaign_input(period: &str) -> gouvernail_core::indicator::CampaignInput {
    let today = OffsetDateTime::now_utc().date();
    gouvernail_core::indicator::CampaignInput {
        title: "Campagne de la matrice".into(),
        owner: "national".into(),
        indicators: vec!["ACC-FORM".into()],
        academies: vec!["14".into(), "02".into()],
        period: period.into(),
        opens_on: Some(today),
        closes_on: Some(today + Duration::days(3)),
        grace_days: Some(2),
        instructions: String::new(),
    }
}

/// Validate, lock or reopen an académie's values: its DAN or recteur (who may appoint
/// there), or a national administrator.
fn validates_values(role: Option<&str>, academie: &str) -> Exp {
    match (role, academie_read(role, academie)) {
        (None, _) => Exp::Unauthenticated,
        (_, Exp::NotFound) => Exp::NotFound,
        (Some("administrateur-national"), _) => Exp::Ok,
        (Some("recteur" | "dan"), _) if academie == "14" => Exp::Ok,
        (Some(_), _) => Exp::Forbidden,
    }
}

/// Validate an académie's roadmap: its recteur, or a national administrator.
fn validate_rule(role: Option<&str>, academie: &str) -> Exp {
    match (role, academie_read(role, academie)) {
        (None, _) => Exp::Unauthenticated,
        (_, Exp::NotFound) => Exp::NotFound,
        (Some("administrateur-national"), _) => Exp::Ok,
        (Some("recteur"), _) if academie == "14" => Exp::Ok,
        (Some(_), _) => Exp::Forbidden,
    }
}

async fn roadmap_version(w: &World, academie: &str) -> Result<i64, E> {
    let admin = admin_principal(&w.db, &w.callers).await?;
    Ok(
        gouvernail_core::roadmap::service::roadmap(&w.db, &admin, academie, None)
            .await?
            .roadmap
            .ok_or("no roadmap")?
            .version,
    )
}

/// Read an académie's objects.
fn academie_read(role: Option<&str>, academie: &str) -> Exp {
    match role {
        None => Exp::Unauthenticated,
        Some("administrateur-national" | "pilote-national" | "expert") => Exp::Ok,
        Some("recteur" | "dan" | "membre-dane" | "observateur") if academie == "14" => Exp::Ok,
        Some(_) => Exp::NotFound,
    }
}

/// Change an académie's objects (its roadmap).
fn academie_write(role: Option<&str>, academie: &str) -> Exp {
    match (role, academie_read(role, academie)) {
        (None, _) => Exp::Unauthenticated,
        (_, Exp::NotFound) => Exp::NotFound,
        (Some("administrateur-national"), _) => Exp::Ok,
        (Some("recteur" | "dan" | "membre-dane"), _) => Exp::Ok,
        (Some(_), _) => Exp::Forbidden,
    }
}

fn national_reader(role: Option<&str>) -> Exp {
    match role {
        None => Exp::Unauthenticated,
        Some("administrateur-national" | "pilote-national" | "expert") => Exp::Ok,
        Some(_) => Exp::Forbidden,
    }
}

/// A new national project, published for declension, under the world's objective.
async fn fresh_project(
    w: &World,
    code: &str,
) -> Result<gouvernail_core::strategy::model::NationalProject, E> {
    use gouvernail_core::strategy::{model, service as strategy};
    let admin = admin_principal(&w.db, &w.callers).await?;
    let p = strategy::create_project(
        &w.db,
        &admin,
        &model::NewProject {
            objective_id: w.objective_id.clone(),
            code: code.into(),
            title: format!("Projet {code}"),
            pilote_team: "DNE".into(),
            ..Default::default()
        },
    )
    .await?;
    let patch = model::ProjectPatch {
        status: Some("publie".into()),
        ..Default::default()
    };
    Ok(
        strategy::update_project(&w.db, &admin, &p.project.id, p.project.version, &patch)
            .await?
            .project,
    )
}

fn writes_national(role: Option<&str>) -> Exp {
    match role {
        None => Exp::Unauthenticated,
        Some("administrateur-national" | "pilote-national") => Exp::Ok,
        Some(_) => Exp::Forbidden,
    }
}

async fn admin_principal(
    db: &Db,
    w_callers: &BTreeMap<&'static str, (String, String)>,
) -> Result<gouvernail_core::identity::Principal, E> {
    let id = &w_callers.get("administrateur-national").ok_or("no admin")?.0;
    Ok(service::principal(db, id, false).await?.ok_or("admin inactive")?)
}

async fn draft_strategy(
    db: &Db,
    by: &gouvernail_core::identity::Principal,
    code: &str,
) -> Result<gouvernail_core::strategy::model::StrategyTree, E> {
    use gouvernail_core::strategy::model::{NewAxis, NewObjective, NewStrategy};
    Ok(gouvernail_core::strategy::service::create_strategy(
        db,
        by,
        &NewStrategy {
            code: code.into(),
            title: format!("Stratégie {code}"),
            summary: String::new(),
            period_start: Some(time::macros::date!(2023 - 01 - 01)),
            period_end: None,
            axes: vec![NewAxis {
                title: "Axe".into(),
                description: String::new(),
                objectives: vec![NewObjective {
                    code: "1".into(),
                    title: "Objectif".into(),
                    description: String::new(),
                }],
            }],
        },
    )
    .await?)
}

async fn world() -> Result<World, E> {
    let t = TestDb::new(Seed::Referential).await?;
    let db = t.db.clone();
    let dir = shared_data_dir().ok_or("../shared/data is missing")?;
    let bytes = std::fs::read(dir.join("annuaire_education_35_extrait_2023-06.csv"))?;
    import::import_annuaire(&db, bytes.as_slice(), AnnuaireOptions::default(), &NoProgress).await?;
    let mut tx = db.begin().await?;
    for (id, nom) in [("canope", "Réseau Canopé"), ("cned", "CNED")] {
        let org = Organisation {
            id: id.into(),
            nom: nom.into(),
            kind: "operateur".into(),
            siren: None,
        };
        gouvernail_core::identity::repo::upsert_organisation(&mut tx, &org, OffsetDateTime::now_utc())
            .await?;
    }
    tx.commit().await?;
    let yesterday = OffsetDateTime::now_utc().date() - Duration::days(1);
    let expires = OffsetDateTime::now_utc().date() + Duration::days(30);
    let mut callers = BTreeMap::new();
    for (role, perimeter) in ROLES {
        let user =
            service::create_user(&db, &Actor::cli(), &format!("{role}@matrice.fr"), role, None).await?;
        service::grant_role(
            &db,
            None,
            &NewAssignment {
                user_id: user.id.clone(),
                role: Role::parse(role)?,
                perimeter: Perimeter::parse(perimeter)?,
                from: yesterday,
                until: None,
            },
        )
        .await?;
        let (_, token) =
            service::create_token(&db, &Actor::cli(), &user.id, "matrice", false, expires).await?;
        callers.insert(*role, (user.id, token));
    }
    let target = service::create_user(&db, &Actor::cli(), "cible@matrice.fr", "Cible", None).await?;
    let mut appointments = BTreeMap::new();
    for (_, own) in ROLES {
        for subject in subjects(own).values() {
            if appointments.contains_key(subject) {
                continue;
            }
            let a = service::grant_role(
                &db,
                None,
                &NewAssignment {
                    user_id: target.id.clone(),
                    role: Role::Observateur,
                    perimeter: Perimeter::parse(subject)?,
                    from: yesterday,
                    until: None,
                },
            )
            .await?;
            appointments.insert(*subject, a.id);
        }
    }
    let admin = admin_principal(&db, &callers).await?;
    let tree = draft_strategy(&db, &admin, "matrice").await?;
    gouvernail_core::strategy::service::publish_strategy(
        &db,
        &admin,
        &tree.strategy.id,
        tree.strategy.version,
    )
    .await?;
    let objective_id = tree.axes[0].objectives[0].objective.id.clone();
    let project = gouvernail_core::strategy::service::create_project(
        &db,
        &admin,
        &gouvernail_core::strategy::model::NewProject {
            objective_id: objective_id.clone(),
            code: "PN-MATRICE".into(),
            title: "Projet de la matrice".into(),
            pilote_team: "DNE".into(),
            ..Default::default()
        },
    )
    .await?;
    let project = gouvernail_core::strategy::service::update_project(
        &db,
        &admin,
        &project.project.id,
        project.project.version,
        &gouvernail_core::strategy::model::ProjectPatch {
            status: Some("publie".into()),
            ..Default::default()
        },
    )
    .await?;
    let declension_14 =
        gouvernail_core::roadmap::service::decline(&db, &admin, "14", &project.project.id).await?;
    let declension_02 =
        gouvernail_core::roadmap::service::decline(&db, &admin, "02", &project.project.id).await?;
    use gouvernail_core::roadmap::lifecycle;
    for a in ["14", "02"] {
        lifecycle::invite(&db, &admin, a, &Perimeter::parse("organisation:cned")?).await?;
    }
    let comment = lifecycle::comment(&db, &admin, "14", None, "Avis", None).await?;
    for date in [
        time::macros::date!(2025 - 01 - 10),
        time::macros::date!(2025 - 06 - 10),
    ] {
        let version = gouvernail_core::roadmap::service::roadmap(&db, &admin, "14", None)
            .await?
            .roadmap
            .ok_or("no roadmap")?
            .version;
        lifecycle::validate(&db, &admin, "14", date, version).await?;
    }
    // Back to consultation, for the comment cases.
    lifecycle::invite(&db, &admin, "14", &Perimeter::parse("organisation:cned")?).await?;
    use gouvernail_core::roadmap::{actions, model as rm};
    let objective_14 = actions::create_objective(
        &db,
        &admin,
        "14",
        &rm::ObjectivePatch {
            axis_title: Some("Territoires".into()),
            title: Some("Objectif de la matrice".into()),
            ..Default::default()
        },
    )
    .await?;
    let mut action_ids = Vec::new();
    for a in ["14", "02"] {
        let action = actions::create_action(
            &db,
            &admin,
            a,
            &rm::ActionPatch {
                parent: Some(rm::ActionParent::Declension("PN-MATRICE".into())),
                title: Some(format!("Action de la matrice {a}")),
                ..Default::default()
            },
        )
        .await?;
        action_ids.push(action.action.id);
    }
    let gov = gov_world(&db, &admin).await?;
    let (ind_values, campaign) = ind_world(&db, &admin).await?;
    let equip = equip_world(&db, &admin, &action_ids[0], &action_ids[1]).await?;
    let files = tempfile::tempdir()?;
    let storage = gouvernail_core::convention::attachment::Storage {
        dir: files.path().to_owned(),
        max_bytes: gouvernail_core::convention::attachment::DEFAULT_MAX_BYTES,
    };
    let conv = conv_world(&db, &admin, &storage).await?;
    let config = WebConfig {
        storage: storage.clone(),
        ..WebConfig::default()
    };
    let router = gouvernail_web::router(AppState::new(db.clone(), config));
    Ok(World {
        gov,
        conv,
        ind_values,
        campaign,
        equip,
        comment_14: comment.id,
        action_02: action_ids.pop().ok_or("no action")?,
        action_14: action_ids.pop().ok_or("no action")?,
        objective_14: objective_14.id,
        declension_14: declension_14.declension.id,
        declension_02: declension_02.declension.id,
        router,
        db,
        callers,
        target_email: target.email,
        appointments,
        strategy_id: tree.strategy.id,
        objective_id,
        project_id: project.project.id,
        storage,
        _files: files,
        _t: t,
    })
}

#[derive(sqlx::FromRow, Debug, PartialEq, Eq)]
struct Snapshot {
    audit: i64,
    users: i64,
    roles: i64,
    open_roles: i64,
    tokens: i64,
    live_tokens: i64,
    versions: i64,
}

async fn snapshot(db: &Db) -> Result<Snapshot, E> {
    Ok(db
        .fetch_optional(Sql::new(
            "SELECT (SELECT COUNT(*) FROM audit_entry) AS audit, (SELECT COUNT(*) FROM app_user) AS users, \
             (SELECT COUNT(*) FROM role_assignment) AS roles, \
             (SELECT COUNT(*) FROM role_assignment WHERE valid_until IS NULL) AS open_roles, \
             (SELECT COUNT(*) FROM api_token) AS tokens, \
             (SELECT COUNT(*) FROM api_token WHERE revoked_at IS NULL) AS live_tokens, \
             (SELECT CAST(COALESCE(SUM(version), 0) AS BIGINT) FROM app_user) AS versions",
        ))
        .await?
        .ok_or("no snapshot")?)
}

async fn call(
    w: &World,
    method: &Method,
    uri: &str,
    token: Option<&str>,
    body: Option<&Value>,
) -> Result<(StatusCode, Value), E> {
    let mut req = Request::builder().method(method.clone()).uri(uri);
    if let Some(token) = token {
        req = req.header("authorization", format!("Bearer {token}"));
    }
    let req = match body {
        // A string is sent as a CSV file.
        Some(Value::String(csv)) => req
            .header("content-type", "text/csv")
            .body(Body::from(csv.clone()))?,
        // A file upload: `{"$multipart": {"nom": …, "contenu": …}}` is sent as a form.
        Some(b) if b.get("$multipart").is_some() => {
            let file = &b["$multipart"];
            let form = format!(
                "--matrice\r\nContent-Disposition: form-data; name=\"fichier\"; filename=\"{}\"\r\n\
                 Content-Type: application/octet-stream\r\n\r\n{}\r\n--matrice--\r\n",
                file["nom"].as_str().unwrap_or("piece"),
                file["contenu"].as_str().unwrap_or("")
            );
            req.header("content-type", "multipart/form-data; boundary=matrice")
                .body(Body::from(form))?
        }
        Some(b) => req
            .header("content-type", "application/json")
            .body(Body::from(b.to_string()))?,
        None => req.body(Body::empty())?,
    };
    let response = w.router.clone().oneshot(req).await?;
    let status = response.status();
    let bytes = response.into_body().collect().await?.to_bytes();
    Ok((status, serde_json::from_slice(&bytes).unwrap_or(Value::Null)))
}

/// One request of the matrix: what to send and what to expect.
struct Case {
    uri: String,
    body: Option<Value>,
    expect: Exp,
    label: String,
}

/// The same request on académie 14 (the académie callers' own) and 02 (a sibling), each
/// expected as `rule` says for the role.
fn per_academie(
    role: Option<&str>,
    rule: fn(Option<&str>, &str) -> Exp,
    request: impl Fn(&str) -> (String, Option<Value>),
) -> Vec<Case> {
    ["14", "02"]
        .into_iter()
        .map(|a| {
            let (uri, body) = request(a);
            Case {
                uri,
                body,
                expect: rule(role, a),
                label: a.into(),
            }
        })
        .collect()
}

/// The requests for operation `op` by `role` (None: anonymous) on every subject.
async fn cases(w: &World, op: &str, role: Option<&'static str>) -> Result<Option<Vec<Case>>, E> {
    let own = role
        .and_then(|r| ROLES.iter().find(|(name, _)| *name == r))
        .map_or("national", |(_, p)| *p);
    let subjects = subjects(own);
    let me = role.and_then(|r| w.callers.get(r)).map(|(id, _)| id.clone());
    let other_user = w
        .callers
        .get("observateur")
        .map(|(id, _)| id.clone())
        .unwrap_or_default();
    let other_user = if me.as_deref() == Some(other_user.as_str()) {
        w.callers.get("dan").map(|(id, _)| id.clone()).unwrap_or_default()
    } else {
        other_user
    };
    let per_subject = |f: &dyn Fn(Relation, &str) -> Case| -> Vec<Case> {
        let rels: Vec<(Relation, &str)> = if role.is_none() {
            vec![(Relation::Own, "academie:14")]
        } else {
            RELATIONS
                .iter()
                .filter_map(|r| subjects.get(r).map(|s| (*r, *s)))
                .collect()
        };
        rels.into_iter().map(|(rel, s)| f(rel, s)).collect()
    };
    let one = |uri: &str, body: Option<Value>, expect: Exp| {
        vec![Case {
            uri: uri.to_owned(),
            body,
            expect,
            label: String::new(),
        }]
    };
    let territory = |uri: &str| one(uri, None, Exp::Ok);
    Ok(Some(match op {
        "GET /healthz" => territory("/healthz"),
        "GET /readyz" => territory("/readyz"),
        "GET /api/v1/regions" => territory("/api/v1/regions"),
        "GET /api/v1/regions-academiques" => territory("/api/v1/regions-academiques"),
        "GET /api/v1/academies" => territory("/api/v1/academies"),
        "GET /api/v1/academies/{code}" => territory("/api/v1/academies/14"),
        "GET /api/v1/departements" => territory("/api/v1/departements"),
        "GET /api/v1/departements/{code}" => territory("/api/v1/departements/35"),
        "GET /api/v1/communes" => territory("/api/v1/communes?codeDepartement=35"),
        "GET /api/v1/communes/{code}" => territory("/api/v1/communes/35238"),
        "GET /api/v1/collectivites" => territory("/api/v1/collectivites?type=region"),
        "GET /api/v1/collectivites/{siren}" => territory("/api/v1/collectivites/223500018"),
        "GET /api/v1/etablissements" => territory("/api/v1/etablissements?codeDepartement=35"),
        "GET /api/v1/etablissements/{uai}" => territory("/api/v1/etablissements/0351849V"),
        "GET /api/v1/me" => one("/api/v1/me", None, any_account(role)),
        "GET /api/v1/instances" => one("/api/v1/instances", None, any_account(role)),
        "GET /api/v1/decisions" => one("/api/v1/decisions", None, any_account(role)),
        "POST /api/v1/moi/agenda" | "DELETE /api/v1/moi/agenda" => {
            one("/api/v1/moi/agenda", None, any_account(role))
        }
        "POST /api/v1/instances" => per_academie(role, academie_write, |a| {
            (
                "/api/v1/instances".into(),
                Some(
                    json!({ "type": "autre", "nom": "Instance de la matrice", "perimetre": format!("academie:{a}") }),
                ),
            )
        }),
        "GET /api/v1/instances/{id}" => per_academie(role, academie_read, |a| {
            (format!("/api/v1/instances/{}", w.gov[a].body), None)
        }),
        "GET /api/v1/instances/{id}/composition" => per_academie(role, academie_read, |a| {
            (
                format!("/api/v1/instances/{}/composition?date=2026-01-01", w.gov[a].body),
                None,
            )
        }),
        "POST /api/v1/instances/{id}/membres" => per_academie(role, academie_write, |a| {
            (
                format!("/api/v1/instances/{}/membres", w.gov[a].body),
                Some(json!({ "nom": "Invitée", "email": "invitee@matrice.fr", "fonction": "invite" })),
            )
        }),
        "POST /api/v1/instances/{id}/reunions" => per_academie(role, academie_write, |a| {
            (
                format!("/api/v1/instances/{}/reunions", w.gov[a].body),
                Some(json!({ "debut": "2027-01-14T14:00", "fin": "2027-01-14T16:00", "lieu": "Rectorat" })),
            )
        }),
        "GET /api/v1/reunions/{id}" | "GET /api/v1/reunions/{id}/compte-rendu" => {
            let suffix = if op.ends_with("compte-rendu") {
                "/compte-rendu"
            } else {
                ""
            };
            per_academie(role, academie_read, |a| {
                (format!("/api/v1/reunions/{}{suffix}", w.gov[a].meeting), None)
            })
        }
        "GET /api/v1/reunions/{id}/ics" => per_academie(role, academie_read, |a| {
            (format!("/api/v1/reunions/{}/ics", w.gov[a].meeting), None)
        }),
        "GET /api/v1/reunions/{id}/compte-rendu/pdf" => per_academie(role, academie_read, |a| {
            (
                format!("/api/v1/reunions/{}/compte-rendu/pdf", w.gov[a].meeting),
                None,
            )
        }),
        "POST /api/v1/reunions/{id}/invitations" => per_academie(role, academie_write, |a| {
            (format!("/api/v1/reunions/{}/invitations", w.gov[a].meeting), None)
        }),
        "POST /api/v1/reunions/{id}/decisions" => per_academie(role, academie_write, |a| {
            (
                format!("/api/v1/reunions/{}/decisions", w.gov[a].meeting),
                Some(json!({ "titre": "Nouvelle décision", "responsable": "Membre de la matrice" })),
            )
        }),
        "PUT /api/v1/reunions/{id}/compte-rendu" => per_academie(role, minutes_rule, |a| {
            (
                format!("/api/v1/reunions/{}/compte-rendu", w.gov[a].meeting),
                Some(json!({ "texte": "Relevé" })),
            )
        }),
        "POST /api/v1/reunions/{id}/compte-rendu/approbation" => per_academie(role, minutes_rule, |a| {
            (
                format!("/api/v1/reunions/{}/compte-rendu/approbation", w.gov[a].meeting),
                Some(json!({ "version": 1 })),
            )
        }),
        "POST /api/v1/reunions/{id}/compte-rendu/correction" => per_academie(role, minutes_rule, |a| {
            (
                format!("/api/v1/reunions/{}/compte-rendu/correction", w.gov[a].meeting),
                Some(json!({ "motif": "Erreur" })),
            )
        }),
        "GET /api/v1/decisions/{id}" => per_academie(role, academie_read, |a| {
            (format!("/api/v1/decisions/{}", w.gov[a].decision), None)
        }),
        "PATCH /api/v1/instances/{id}"
        | "PATCH /api/v1/reunions/{id}"
        | "PATCH /api/v1/decisions/{id}"
        | "PATCH /api/v1/instances/{id}/membres/{membre}"
        | "PUT /api/v1/reunions/{id}/ordre-du-jour" => {
            use gouvernail_core::governance::service as gov;
            let admin = admin_principal(&w.db, &w.callers).await?;
            let who = role.unwrap_or("anonyme");
            let mut v = Vec::new();
            for a in ["14", "02"] {
                let ids = &w.gov[a];
                let (uri, body) = match op {
                    "PATCH /api/v1/instances/{id}" => {
                        let version = gov::body(&w.db, &admin, &ids.body).await?.body.version;
                        (
                            format!("/api/v1/instances/{}", ids.body),
                            json!({ "version": version, "mandat": format!("Mandat écrit par {who}") }),
                        )
                    }
                    "PATCH /api/v1/reunions/{id}" => {
                        let version = gov::meeting(&w.db, &admin, &ids.meeting).await?.meeting.version;
                        (
                            format!("/api/v1/reunions/{}", ids.meeting),
                            json!({ "version": version, "lieu": format!("Salle de {who}") }),
                        )
                    }
                    "PUT /api/v1/reunions/{id}/ordre-du-jour" => {
                        let version = gov::meeting(&w.db, &admin, &ids.meeting).await?.meeting.version;
                        (
                            format!("/api/v1/reunions/{}/ordre-du-jour", ids.meeting),
                            json!({ "version": version, "points": [{ "titre": format!("Point de {who}") }] }),
                        )
                    }
                    "PATCH /api/v1/decisions/{id}" => {
                        let version = gov::decision(&w.db, &admin, &ids.decision)
                            .await?
                            .decision
                            .version;
                        (
                            format!("/api/v1/decisions/{}", ids.decision),
                            json!({ "version": version, "suivi": format!("Suivi de {who}") }),
                        )
                    }
                    _ => {
                        let version = gov::body(&w.db, &admin, &ids.body)
                            .await?
                            .members
                            .iter()
                            .find(|m| m.id == ids.member)
                            .ok_or("no member")?
                            .version;
                        (
                            format!("/api/v1/instances/{}/membres/{}", ids.body, ids.member),
                            json!({ "version": version, "organisation": format!("Organisation de {who}") }),
                        )
                    }
                };
                v.push(Case {
                    uri,
                    body: Some(body),
                    expect: academie_write(role, a),
                    label: a.into(),
                });
            }
            v
        }
        "POST /api/v1/reunions/{id}/annulation" | "PUT /api/v1/reunions/{id}/presences" => {
            let admin = admin_principal(&w.db, &w.callers).await?;
            let mut v = Vec::new();
            for a in ["14", "02"] {
                let meeting = gov_meeting(&w.db, &admin, &w.gov[a].body).await?;
                let (uri, body) = if op.ends_with("annulation") {
                    (
                        format!("/api/v1/reunions/{meeting}/annulation"),
                        json!({ "version": 1 }),
                    )
                } else {
                    (
                        format!("/api/v1/reunions/{meeting}/presences"),
                        json!({ "version": 1, "presences": [{ "membre": w.gov[a].member, "statut": "present" }] }),
                    )
                };
                v.push(Case {
                    uri,
                    body: Some(body),
                    expect: academie_write(role, a),
                    label: a.into(),
                });
            }
            v
        }
        "DELETE /api/v1/instances/{id}/membres/{membre}" => {
            use gouvernail_core::governance::{MemberPatch, service as gov};
            let admin = admin_principal(&w.db, &w.callers).await?;
            let mut v = Vec::new();
            for a in ["14", "02"] {
                let member = gov::add_member(
                    &w.db,
                    &admin,
                    &w.gov[a].body,
                    &MemberPatch {
                        name: Some("Erreur de saisie".into()),
                        email: Some("erreur@matrice.fr".into()),
                        ..Default::default()
                    },
                )
                .await?;
                v.push(Case {
                    uri: format!("/api/v1/instances/{}/membres/{}", w.gov[a].body, member.id),
                    body: None,
                    expect: academie_write(role, a),
                    label: a.into(),
                });
            }
            v
        }
        "GET /api/v1/conventions" => one("/api/v1/conventions", None, any_account(role)),
        "GET /api/v1/engagements" => {
            let mut v = one("/api/v1/engagements", None, any_account(role));
            v.extend(one(
                "/api/v1/engagements?partie=collectivite:223500018",
                None,
                any_account(role),
            ));
            v
        }
        "POST /api/v1/conventions" => per_academie(role, conv_create, |a| {
            (
                "/api/v1/conventions".into(),
                Some(conv_text(a, false, "Nouvelle convention")),
            )
        }),
        "GET /api/v1/conventions/{id}/pieces/{piece}" => per_academie(role, conv_read, |a| {
            (
                format!(
                    "/api/v1/conventions/{}/pieces/{}",
                    w.conv[a].convention, w.conv[a].piece
                ),
                None,
            )
        }),
        "POST /api/v1/conventions/{id}/pieces" => per_academie(role, conv_write, |a| {
            (
                format!("/api/v1/conventions/{}/pieces", w.conv[a].convention),
                Some(json!({ "$multipart": { "nom": "annexe.txt", "contenu": "Annexe technique" } })),
            )
        }),
        "DELETE /api/v1/conventions/{id}/pieces/{piece}" => {
            let admin = admin_principal(&w.db, &w.callers).await?;
            let mut v = Vec::new();
            for a in ["14", "02"] {
                let piece = gouvernail_core::convention::attachment::upload(
                    &w.db,
                    &w.storage,
                    &admin,
                    &w.conv[a].convention,
                    "a-retirer.txt",
                    b"Erreur de fichier",
                )
                .await?;
                v.push(Case {
                    uri: format!("/api/v1/conventions/{}/pieces/{}", w.conv[a].convention, piece.id),
                    body: None,
                    expect: conv_write(role, a),
                    label: a.into(),
                });
            }
            v
        }
        "GET /api/v1/conventions/{id}"
        | "GET /api/v1/conventions/{id}/pieces"
        | "GET /api/v1/conventions/{id}/versions"
        | "GET /api/v1/conventions/{id}/historique"
        | "GET /api/v1/conventions/{id}/comparaison"
        | "GET /api/v1/conventions/{id}/pdf" => {
            let suffix = match op {
                "GET /api/v1/conventions/{id}/versions" => "/versions",
                "GET /api/v1/conventions/{id}/historique" => "/historique",
                "GET /api/v1/conventions/{id}/comparaison" => "/comparaison?a=0&b=0",
                "GET /api/v1/conventions/{id}/pdf" => "/pdf",
                "GET /api/v1/conventions/{id}/pieces" => "/pieces",
                _ => "",
            };
            per_academie(role, conv_read, |a| {
                (
                    format!("/api/v1/conventions/{}{suffix}", w.conv[a].convention),
                    None,
                )
            })
        }
        "PUT /api/v1/conventions/{id}" | "POST /api/v1/conventions/{id}/evenements" => {
            let mut v = Vec::new();
            for a in ["14", "02"] {
                let (id, version) = conv_draft(w, a).await?;
                let (uri, body) = if op.starts_with("PUT") {
                    let mut text = conv_text(a, false, "Projet revu");
                    text["version"] = json!(version);
                    (format!("/api/v1/conventions/{id}"), text)
                } else {
                    (
                        format!("/api/v1/conventions/{id}/evenements"),
                        json!({ "version": version, "type": "negociation", "date": "2026-01-05" }),
                    )
                };
                v.push(Case {
                    uri,
                    body: Some(body),
                    expect: conv_write(role, a),
                    label: a.into(),
                });
            }
            v
        }
        "POST /api/v1/conventions/{id}/avenants" | "PATCH /api/v1/engagements/{id}" => {
            use gouvernail_core::convention::service as conv;
            let admin = admin_principal(&w.db, &w.callers).await?;
            let mut v = Vec::new();
            for a in ["14", "02"] {
                let ids = &w.conv[a];
                let current = conv::get_convention(&w.db, &admin, &ids.convention, conv::today()).await?;
                let case = if op.starts_with("POST") {
                    // The same text, its commitment kept by its code (the report cases use it).
                    let mut text = conv_text(a, true, &format!("Convention {a}"));
                    text["engagements"][0]["code"] = json!("E1");
                    Case {
                        uri: format!("/api/v1/conventions/{}/avenants", ids.convention),
                        body: Some(json!({
                            "version": current.convention.version, "date": "2026-01-15",
                            "objet": format!("Avenant de {}", role.unwrap_or("anonyme")),
                            "texte": text,
                        })),
                        expect: conv_write(role, a),
                        label: a.into(),
                    }
                } else {
                    let version = current
                        .commitments
                        .iter()
                        .find(|c| c.commitment.id == ids.commitment)
                        .ok_or("no commitment")?
                        .commitment
                        .version;
                    Case {
                        uri: format!("/api/v1/engagements/{}", ids.commitment),
                        body: Some(
                            json!({ "version": version, "statut": "en-cours", "note": format!("Par {}", role.unwrap_or("anonyme")) }),
                        ),
                        expect: conv_report(role, a),
                        label: a.into(),
                    }
                };
                v.push(case);
            }
            v
        }
        "GET /api/v1/feuilles-de-route/{academie}" => per_academie(role, academie_read, |a| {
            (format!("/api/v1/feuilles-de-route/{a}"), None)
        }),
        "POST /api/v1/feuilles-de-route/{academie}/declinaisons" => {
            let mut v = Vec::new();
            for a in ["14", "02"] {
                let p = fresh_project(w, &format!("PN-D{a}-{}", role.unwrap_or("anonyme"))).await?;
                v.push(Case {
                    uri: format!("/api/v1/feuilles-de-route/{a}/declinaisons"),
                    body: Some(json!({ "projet": p.code })),
                    expect: academie_write(role, a),
                    label: a.into(),
                });
            }
            v
        }
        "GET /api/v1/declinaisons/{id}" => vec![
            Case {
                uri: format!("/api/v1/declinaisons/{}", w.declension_14),
                body: None,
                expect: academie_read(role, "14"),
                label: "14".into(),
            },
            Case {
                uri: format!("/api/v1/declinaisons/{}", w.declension_02),
                body: None,
                expect: academie_read(role, "02"),
                label: "02".into(),
            },
        ],
        "PATCH /api/v1/declinaisons/{id}" => {
            let admin = admin_principal(&w.db, &w.callers).await?;
            let version = gouvernail_core::roadmap::service::get_declension(&w.db, &admin, &w.declension_14)
                .await?
                .declension
                .version;
            one(
                &format!("/api/v1/declinaisons/{}", w.declension_14),
                Some(
                    json!({ "version": version, "pilote": format!("Pilote de {}", role.unwrap_or("anonyme")) }),
                ),
                academie_write(role, "14"),
            )
        }
        "POST /api/v1/declinaisons/{id}/revue" => {
            let admin = admin_principal(&w.db, &w.callers).await?;
            let p = fresh_project(w, &format!("PN-R-{}", role.unwrap_or("anonyme"))).await?;
            let d = gouvernail_core::roadmap::service::decline(&w.db, &admin, "14", &p.id).await?;
            let patch = gouvernail_core::strategy::model::ProjectPatch {
                title: Some("Titre national revu".into()),
                ..Default::default()
            };
            gouvernail_core::strategy::service::update_project(&w.db, &admin, &p.id, p.version, &patch)
                .await?;
            one(
                &format!("/api/v1/declinaisons/{}/revue", d.declension.id),
                Some(json!({ "version": d.declension.version, "decision": "accepter" })),
                academie_write(role, "14"),
            )
        }
        "GET /api/v1/projets-nationaux/{id}/declinaisons" => one(
            &format!("/api/v1/projets-nationaux/{}/declinaisons", w.project_id),
            None,
            national_reader(role),
        ),
        "POST /api/v1/feuilles-de-route/{academie}/invitations" => per_academie(role, academie_write, |a| {
            (
                format!("/api/v1/feuilles-de-route/{a}/invitations"),
                Some(json!({ "perimetre": "organisation:cned" })),
            )
        }),
        "GET /api/v1/feuilles-de-route/{academie}/commentaires" => per_academie(role, academie_read, |a| {
            (format!("/api/v1/feuilles-de-route/{a}/commentaires"), None)
        }),
        "POST /api/v1/feuilles-de-route/{academie}/commentaires" => {
            let admin = admin_principal(&w.db, &w.callers).await?;
            let mut v = Vec::new();
            for a in ["14", "02"] {
                // Other cases move the roadmap on: open the consultation again.
                gouvernail_core::roadmap::lifecycle::invite(
                    &w.db,
                    &admin,
                    a,
                    &Perimeter::parse("organisation:cned")?,
                )
                .await?;
                v.push(Case {
                    uri: format!("/api/v1/feuilles-de-route/{a}/commentaires"),
                    body: Some(json!({ "texte": format!("Avis de {}", role.unwrap_or("anonyme")) })),
                    expect: academie_write(role, a),
                    label: a.into(),
                });
            }
            v
        }
        "POST /api/v1/commentaires/{id}/reponse" => one(
            &format!("/api/v1/commentaires/{}/reponse", w.comment_14),
            Some(json!({ "statut": "acceptee" })),
            academie_write(role, "14"),
        ),
        "POST /api/v1/feuilles-de-route/{academie}/validations" => {
            let mut v = Vec::new();
            for a in ["14", "02"] {
                let version = roadmap_version(w, a).await?;
                v.push(Case {
                    uri: format!("/api/v1/feuilles-de-route/{a}/validations"),
                    body: Some(json!({ "dateComite": "2026-06-11", "version": version })),
                    expect: validate_rule(role, a),
                    label: a.into(),
                });
            }
            v
        }
        "GET /api/v1/feuilles-de-route/{academie}/versions/{a}/comparaison/{b}" => one(
            "/api/v1/feuilles-de-route/14/versions/1/comparaison/2",
            None,
            academie_read(role, "14"),
        ),
        "GET /api/v1/actions" => {
            let mut v = Vec::new();
            for a in ["14", "02"] {
                v.push(Case {
                    uri: format!("/api/v1/actions?academie={a}"),
                    body: None,
                    expect: academie_read(role, a),
                    label: a.into(),
                });
            }
            v.push(Case {
                uri: "/api/v1/actions?mes=true".into(),
                body: None,
                expect: any_account(role),
                label: "mes".into(),
            });
            v
        }
        "POST /api/v1/feuilles-de-route/{academie}/actions" => {
            let mut v = Vec::new();
            for a in ["14", "02"] {
                v.push(Case {
                    uri: format!("/api/v1/feuilles-de-route/{a}/actions"),
                    body: Some(
                        json!({ "declinaison": "PN-MATRICE", "titre": format!("Action de {}", role.unwrap_or("anonyme")) }),
                    ),
                    expect: academie_write(role, a),
                    label: a.into(),
                });
            }
            v
        }
        "GET /api/v1/actions/{id}" => vec![
            Case {
                uri: format!("/api/v1/actions/{}", w.action_14),
                body: None,
                expect: academie_read(role, "14"),
                label: "14".into(),
            },
            Case {
                uri: format!("/api/v1/actions/{}", w.action_02),
                body: None,
                expect: academie_read(role, "02"),
                label: "02".into(),
            },
        ],
        "PATCH /api/v1/actions/{id}" => {
            let admin = admin_principal(&w.db, &w.callers).await?;
            let mut v = Vec::new();
            for (a, id) in [("14", &w.action_14), ("02", &w.action_02)] {
                let version = gouvernail_core::roadmap::actions::get_action(&w.db, &admin, id)
                    .await?
                    .action
                    .version;
                v.push(Case {
                    uri: format!("/api/v1/actions/{id}"),
                    body: Some(json!({ "version": version, "equipePilote": format!("Équipe de {}", role.unwrap_or("anonyme")) })),
                    expect: academie_write(role, a),
                    label: a.into(),
                });
            }
            v
        }
        "DELETE /api/v1/actions/{id}" => {
            let admin = admin_principal(&w.db, &w.callers).await?;
            let mut v = Vec::new();
            for a in ["14", "02"] {
                let action = gouvernail_core::roadmap::actions::create_action(
                    &w.db,
                    &admin,
                    a,
                    &gouvernail_core::roadmap::model::ActionPatch {
                        parent: Some(gouvernail_core::roadmap::model::ActionParent::Declension(
                            "PN-MATRICE".into(),
                        )),
                        title: Some("À supprimer".into()),
                        ..Default::default()
                    },
                )
                .await?;
                v.push(Case {
                    uri: format!(
                        "/api/v1/actions/{}?version={}",
                        action.action.id, action.action.version
                    ),
                    body: None,
                    expect: academie_write(role, a),
                    label: a.into(),
                });
            }
            v
        }
        "GET /api/v1/feuilles-de-route/{academie}/objectifs" => per_academie(role, academie_read, |a| {
            (format!("/api/v1/feuilles-de-route/{a}/objectifs"), None)
        }),
        "POST /api/v1/feuilles-de-route/{academie}/objectifs" => per_academie(role, academie_write, |a| {
            (
                format!("/api/v1/feuilles-de-route/{a}/objectifs"),
                Some(
                    json!({ "axe": "Territoires", "titre": format!("Objectif de {}", role.unwrap_or("anonyme")) }),
                ),
            )
        }),
        "PATCH /api/v1/objectifs/{id}" => {
            let admin = admin_principal(&w.db, &w.callers).await?;
            let version = gouvernail_core::roadmap::actions::objectives(&w.db, &admin, "14")
                .await?
                .into_iter()
                .find(|o| o.id == w.objective_14)
                .ok_or("no objective")?
                .version;
            one(
                &format!("/api/v1/objectifs/{}", w.objective_14),
                Some(
                    json!({ "version": version, "description": format!("Par {}", role.unwrap_or("anonyme")) }),
                ),
                academie_write(role, "14"),
            )
        }
        "POST /api/v1/feuilles-de-route/{academie}/publication" => {
            let admin = admin_principal(&w.db, &w.callers).await?;
            let mut v = Vec::new();
            for a in ["14", "02"] {
                let version = roadmap_version(w, a).await?;
                gouvernail_core::roadmap::lifecycle::validate(
                    &w.db,
                    &admin,
                    a,
                    time::macros::date!(2026 - 06 - 11),
                    version,
                )
                .await?;
                v.push(Case {
                    uri: format!("/api/v1/feuilles-de-route/{a}/publication"),
                    body: Some(json!({ "version": roadmap_version(w, a).await? })),
                    expect: academie_write(role, a),
                    label: a.into(),
                });
            }
            v
        }
        "POST /api/v1/feuilles-de-route/{academie}/periode-suivante" => {
            // Académie 03 is used by no other case: each call starts it on a new strategy.
            let admin = admin_principal(&w.db, &w.callers).await?;
            if gouvernail_core::roadmap::service::roadmap(&w.db, &admin, "03", None)
                .await?
                .roadmap
                .is_none()
            {
                gouvernail_core::roadmap::service::decline(&w.db, &admin, "03", &w.project_id).await?;
            }
            let code = format!("S-{}", role.unwrap_or("anonyme"));
            let next = draft_strategy(&w.db, &admin, &code).await?;
            gouvernail_core::strategy::service::publish_strategy(
                &w.db,
                &admin,
                &next.strategy.id,
                next.strategy.version,
            )
            .await?;
            one(
                "/api/v1/feuilles-de-route/03/periode-suivante",
                Some(json!({ "strategie": code })),
                academie_write(role, "03"),
            )
        }
        "GET /api/v1/feuilles-de-route/{academie}/pdf" => per_academie(role, academie_read, |a| {
            (format!("/api/v1/feuilles-de-route/{a}/pdf"), None)
        }),
        "GET /api/v1/feuilles-de-route/{academie}/bilans" => per_academie(role, academie_read, |a| {
            (format!("/api/v1/feuilles-de-route/{a}/bilans"), None)
        }),
        "POST /api/v1/feuilles-de-route/{academie}/bilans" => {
            let admin = admin_principal(&w.db, &w.callers).await?;
            let year = 2030
                + ROLES
                    .iter()
                    .position(|(r, _)| Some(*r) == role)
                    .map_or(0, |i| i + 1) as i64;
            let mut v = Vec::new();
            for a in ["14", "02"] {
                let version = roadmap_version(w, a).await?;
                gouvernail_core::roadmap::lifecycle::validate(
                    &w.db,
                    &admin,
                    a,
                    time::macros::date!(2026 - 06 - 11),
                    version,
                )
                .await?;
                gouvernail_core::roadmap::actions::publish(&w.db, &admin, a, roadmap_version(w, a).await?)
                    .await?;
                v.push(Case {
                    uri: format!("/api/v1/feuilles-de-route/{a}/bilans"),
                    body: Some(json!({ "annee": year, "synthese": "Bilan de l'année" })),
                    expect: academie_write(role, a),
                    label: a.into(),
                });
            }
            v
        }
        "GET /api/v1/strategies" => territory("/api/v1/strategies"),
        "GET /api/v1/strategies/{id}" => territory(&format!("/api/v1/strategies/{}", w.strategy_id)),
        "GET /api/v1/projets-nationaux" => territory("/api/v1/projets-nationaux"),
        "GET /api/v1/projets-nationaux/{id}" => {
            territory(&format!("/api/v1/projets-nationaux/{}", w.project_id))
        }
        "POST /api/v1/strategies" => one(
            "/api/v1/strategies",
            Some(
                json!({ "code": format!("M-{}", role.unwrap_or("anonyme")), "titre": "T", "debut": "2024-01-01",
                         "axes": [{ "titre": "A", "objectifs": [{ "code": "1", "titre": "O" }] }] }),
            ),
            writes_national(role),
        ),
        "POST /api/v1/strategies/{id}/publication" => {
            let admin = admin_principal(&w.db, &w.callers).await?;
            let draft = draft_strategy(&w.db, &admin, &format!("P-{}", role.unwrap_or("anonyme"))).await?;
            one(
                &format!("/api/v1/strategies/{}/publication", draft.strategy.id),
                Some(json!({ "version": draft.strategy.version })),
                writes_national(role),
            )
        }
        "POST /api/v1/projets-nationaux" => one(
            "/api/v1/projets-nationaux",
            Some(
                json!({ "objectif": w.objective_id, "code": format!("PN-{}", role.unwrap_or("anonyme")),
                         "titre": "Projet", "pilote": "DNE", "budgetCentimes": 100 }),
            ),
            writes_national(role),
        ),
        "PATCH /api/v1/projets-nationaux/{id}" => {
            let version = gouvernail_core::strategy::service::get_project(&w.db, None, &w.project_id)
                .await?
                .project
                .version;
            one(
                &format!("/api/v1/projets-nationaux/{}", w.project_id),
                Some(
                    json!({ "version": version, "titre": format!("Projet revu par {}", role.unwrap_or("anonyme")) }),
                ),
                writes_national(role),
            )
        }
        "GET /api/v1/utilisateurs" => one("/api/v1/utilisateurs", None, admin_only(role)),
        "POST /api/v1/utilisateurs" => one(
            "/api/v1/utilisateurs",
            Some(
                json!({ "email": format!("nouveau-{}@matrice.fr", role.unwrap_or("anonyme")), "nom": "Nouveau" }),
            ),
            admin_only(role),
        ),
        "GET /api/v1/utilisateurs/{id}" => {
            let mut v = Vec::new();
            if let Some(me) = &me {
                v.push(Case {
                    uri: format!("/api/v1/utilisateurs/{me}"),
                    body: None,
                    expect: own_object(role, Relation::Own),
                    label: "own".into(),
                });
            }
            v.push(Case {
                uri: format!("/api/v1/utilisateurs/{other_user}"),
                body: None,
                expect: own_object(role, Relation::Unrelated),
                label: "other".into(),
            });
            v
        }
        "PATCH /api/v1/utilisateurs/{id}" => {
            // An administrator renames the target; others are refused, even on their own account.
            let target = &w.target_email;
            let version = snapshot_user_version(&w.db, target).await?;
            let id = user_id(&w.db, target).await?;
            one(
                &format!("/api/v1/utilisateurs/{id}"),
                Some(json!({ "version": version, "nom": "Cible renommée" })),
                admin_only(role),
            )
        }
        "POST /api/v1/utilisateurs/{id}/effacement" => {
            let victim = service::create_user(
                &w.db,
                &Actor::cli(),
                &format!("victime-{}@matrice.fr", role.unwrap_or("anonyme")),
                "Victime",
                None,
            )
            .await?;
            one(
                &format!("/api/v1/utilisateurs/{}/effacement", victim.id),
                None,
                admin_only(role),
            )
        }
        "GET /api/v1/nominations" => per_subject(&|rel, s| Case {
            uri: format!("/api/v1/nominations?perimetre={s}"),
            body: None,
            expect: read_rule(role, rel),
            label: format!("{rel:?} {s}"),
        }),
        "POST /api/v1/nominations" => per_subject(&|rel, s| Case {
            uri: "/api/v1/nominations".into(),
            body: Some(json!({ "email": w.target_email, "role": "observateur", "perimetre": s })),
            expect: appoint_rule(role, rel),
            label: format!("{rel:?} {s}"),
        }),
        "POST /api/v1/nominations/{id}/fin" => per_subject(&|rel, s| Case {
            uri: format!(
                "/api/v1/nominations/{}/fin",
                w.appointments.get(s).cloned().unwrap_or_default()
            ),
            body: Some(json!({})),
            expect: appoint_rule(role, rel),
            label: format!("{rel:?} {s}"),
        }),
        "GET /api/v1/jetons" => one("/api/v1/jetons", None, any_account(role)),
        "POST /api/v1/jetons" => one(
            "/api/v1/jetons",
            Some(
                json!({ "nom": "matrice", "expiration": (OffsetDateTime::now_utc().date() + Duration::days(3)).to_string() }),
            ),
            any_account(role),
        ),
        "DELETE /api/v1/jetons/{id}" => {
            // Someone else's token: never revocable but by an administrator.
            let victim = w
                .callers
                .get("membre-dane")
                .map(|(id, _)| id.clone())
                .unwrap_or_default();
            let (token, _) = service::create_token(
                &w.db,
                &Actor::cli(),
                &victim,
                "à révoquer",
                false,
                OffsetDateTime::now_utc().date() + Duration::days(3),
            )
            .await?;
            let rel = if role == Some("membre-dane") {
                Relation::Own
            } else {
                Relation::Unrelated
            };
            one(
                &format!("/api/v1/jetons/{}", token.id),
                None,
                own_object(role, rel),
            )
        }
        "GET /api/v1/journal" => one("/api/v1/journal", None, admin_only(role)),
        "GET /api/v1/journal-verification" => one("/api/v1/journal-verification", None, admin_only(role)),
        "GET /api/v1/journal/{objet}/{id}" => {
            let mut v = Vec::new();
            if let Some(me) = &me {
                v.push(Case {
                    uri: format!("/api/v1/journal/utilisateur/{me}"),
                    body: None,
                    expect: own_object(role, Relation::Own),
                    label: "own".into(),
                });
            }
            v.push(Case {
                uri: format!("/api/v1/journal/utilisateur/{other_user}"),
                body: None,
                expect: own_object(role, Relation::Unrelated),
                label: "other".into(),
            });
            v
        }
        // Indicators (issue 5).
        "GET /api/v1/indicateurs" => one("/api/v1/indicateurs?format=csv", None, any_account(role)),
        "GET /api/v1/campagnes" => one("/api/v1/campagnes", None, any_account(role)),
        "GET /api/v1/indicateurs/{code}" => one("/api/v1/indicateurs/ACC-TERM", None, any_account(role)),
        "GET /api/v1/indicateurs/rapport.pdf" => {
            one("/api/v1/indicateurs/rapport.pdf", None, national_reader(role))
        }
        "GET /donnees/indicateurs" => territory("/donnees/indicateurs"),
        "GET /donnees/indicateurs/{fichier}" => territory("/donnees/indicateurs/ACC-FORM.csv"),
        "GET /donnees/indicateurs/{code}/schema.json" => {
            territory("/donnees/indicateurs/ACC-TERM/schema.json")
        }
        "POST /api/v1/indicateurs" => {
            let n =
                w.db.fetch_scalar_i64(Sql::new("SELECT COUNT(*) FROM ind_indicator"))
                    .await?;
            one(
                "/api/v1/indicateurs",
                Some(json!({
                    "code": format!("ACC-NEW-{n}"), "libelle": "Nouvel indicateur", "sens": "hausse",
                    "type": "nombre", "agregation": "somme", "periodicite": "annee", "niveauSaisie": "academie"
                })),
                writes_national(role),
            )
        }
        "PATCH /api/v1/indicateurs/{code}" => {
            let admin = admin_principal(&w.db, &w.callers).await?;
            let version = gouvernail_core::indicator::service::load_indicator(&w.db, &admin, "ACC-TERM")
                .await?
                .version;
            one(
                "/api/v1/indicateurs/ACC-TERM",
                Some(
                    json!({ "version": version, "definition": format!("Définition de {}", role.unwrap_or("-")) }),
                ),
                writes_national(role),
            )
        }
        "POST /api/v1/indicateurs/{code}/calcul" => {
            one("/api/v1/indicateurs/ACC-TERM/calcul", None, writes_national(role))
        }
        "PUT /api/v1/indicateurs/{code}/liens" => one(
            "/api/v1/indicateurs/ACC-TERM/liens",
            Some(json!({ "liens": [format!("projet:{}", w.project_id)] })),
            writes_national(role),
        ),
        "PUT /api/v1/indicateurs/{code}/cibles" => per_academie(role, academie_write, |a| {
            (
                "/api/v1/indicateurs/ACC-FORM/cibles".into(),
                Some(
                    json!({ "perimetre": format!("academie:{a}"), "periode": "2027", "type": "cible", "valeur": "150" }),
                ),
            )
        }),
        "POST /api/v1/indicateurs/{code}/verrouillage" => per_academie(role, validates_values, |a| {
            (
                "/api/v1/indicateurs/ACC-FORM/verrouillage".into(),
                Some(json!({ "perimetre": format!("academie:{a}"), "periode": "2019" })),
            )
        }),
        "GET /api/v1/indicateurs/{code}/consolidation" => per_academie(role, academie_read, |a| {
            (
                format!(
                    "/api/v1/indicateurs/ACC-TERM/consolidation?periode=2025-2026&perimetre=academie:{a}"
                ),
                None,
            )
        }),
        "GET /api/v1/indicateurs/{code}/serie" => per_academie(role, academie_read, |a| {
            (
                format!("/api/v1/indicateurs/ACC-FORM/serie?perimetre=academie:{a}"),
                None,
            )
        }),
        "GET /api/v1/valeurs" => per_academie(role, academie_read, |a| {
            (
                format!("/api/v1/valeurs?perimetre=academie:{a}&format=xlsx"),
                None,
            )
        }),
        "GET /api/v1/valeurs/{id}" => per_academie(role, academie_read, |a| {
            (format!("/api/v1/valeurs/{}", w.ind_values[a]), None)
        }),
        "POST /api/v1/valeurs" => per_academie(role, academie_write, |a| {
            (
                "/api/v1/valeurs".into(),
                Some(
                    json!({ "indicateur": "ACC-FORM", "perimetre": format!("academie:{a}"), "periode": "2024", "valeur": "12,5" }),
                ),
            )
        }),
        // Every line is checked: lines the caller may not write are named, not written.
        "POST /api/v1/valeurs/import" => one(
            "/api/v1/valeurs/import",
            Some(
                json!({ "contenu": "perimetre;valeur\nacademie:14;3\nacademie:02;4\n", "indicateur": "ACC-FORM", "periode": "2023" }),
            ),
            any_account(role),
        ),
        "POST /api/v1/valeurs/{id}/validation" | "POST /api/v1/valeurs/{id}/reouverture" => {
            use gouvernail_core::indicator::{Provenance, service as ind};
            let admin = admin_principal(&w.db, &w.callers).await?;
            let mut v = Vec::new();
            for a in ["14", "02"] {
                // Back to `saisie` (then validated, to be reopened).
                let mut value =
                    ind::record_value(&w.db, &admin, &form_value(a, "11"), Provenance::Saisie, None).await?;
                let action = if op.ends_with("validation") {
                    "validation"
                } else {
                    value = ind::validate_value(&w.db, &admin, &value.id, value.version).await?;
                    "reouverture"
                };
                v.push(Case {
                    uri: format!("/api/v1/valeurs/{}/{action}", value.id),
                    body: Some(json!({ "version": value.version, "motif": "Correction demandée" })),
                    expect: validates_values(role, a),
                    label: a.into(),
                });
            }
            v
        }
        "POST /api/v1/campagnes" => one(
            "/api/v1/campagnes",
            Some(json!({
                "titre": "Campagne", "indicateurs": ["ACC-FORM"], "academies": ["14"], "periode": "2025",
                "cloture": (OffsetDateTime::now_utc().date() + Duration::days(10)).to_string()
            })),
            writes_national(role),
        ),
        "GET /api/v1/campagnes/{id}" => one(
            &format!("/api/v1/campagnes/{}", w.campaign),
            None,
            any_account(role),
        ),
        "POST /api/v1/campagnes/{id}/relances" => one(
            &format!("/api/v1/campagnes/{}/relances", w.campaign),
            None,
            writes_national(role),
        ),
        "POST /api/v1/campagnes/{id}/cloture" => {
            let admin = admin_principal(&w.db, &w.callers).await?;
            let (c, _) =
                gouvernail_core::indicator::campaign::open_campaign(&w.db, &admin, &campaign_input("2022"))
                    .await?;
            one(
                &format!("/api/v1/campagnes/{}/cloture", c.id),
                Some(json!({ "version": c.version })),
                writes_national(role),
            )
        }
        "GET /api/v1/equipements" => per_academie(role, academie_read, |a| {
            (format!("/api/v1/equipements?perimetre=academie:{a}"), None)
        }),
        "GET /api/v1/equipements/taux" => per_academie(role, academie_read, |a| {
            (
                format!("/api/v1/equipements/taux?perimetre=academie:{a}&niveau=etablissement"),
                None,
            )
        }),
        "GET /api/v1/ecarts" => per_academie(role, academie_read, |a| {
            (format!("/api/v1/ecarts?perimetre=academie:{a}"), None)
        }),
        "GET /api/v1/ecarts/etablissements" => per_academie(role, academie_read, |a| {
            (
                format!("/api/v1/ecarts/etablissements?perimetre=academie:{a}&type=equipe-sans-projet"),
                None,
            )
        }),
        "GET /api/v1/equipements/{uai}" | "POST /api/v1/equipements/{uai}/commentaires" => {
            let comment = op.starts_with("POST");
            [(COLLEGE_CD35.to_owned(), false), (w.equip.lycee.clone(), true)]
                .into_iter()
                .map(|(uai, lycee)| Case {
                    uri: if comment {
                        format!("/api/v1/equipements/{uai}/commentaires")
                    } else {
                        format!("/api/v1/equipements/{uai}")
                    },
                    body: comment.then(|| json!({ "texte": "Avis de la matrice" })),
                    expect: if comment {
                        school_comment(role, lycee)
                    } else {
                        school_read(role, lycee)
                    },
                    label: uai,
                })
                .collect()
        }
        "PUT /api/v1/equipements/{uai}" => {
            let admin = admin_principal(&w.db, &w.callers).await?;
            let mut v = Vec::new();
            for (uai, lycee) in [(COLLEGE_CD35.to_owned(), false), (w.equip.lycee.clone(), true)] {
                let version = gouvernail_core::equipment::service::inventory(&w.db, &admin, &uai)
                    .await?
                    .version;
                v.push(Case {
                    uri: format!("/api/v1/equipements/{uai}"),
                    body: Some(json!({ "version": version, "valeurs": [{ "categorie": "tablette", "quantite": 3 }] })),
                    expect: school_declare(role, lycee),
                    label: uai,
                });
            }
            v
        }
        "POST /api/v1/equipements/import" => one(
            "/api/v1/equipements/import",
            Some(Value::String(format!("uai;categorie\n{COLLEGE_CD35};tablette\n"))),
            import_rule(role, &["administrateur-national", "representant-collectivite"]),
        ),
        "POST /api/v1/equipements/effectifs" => one(
            "/api/v1/equipements/effectifs",
            Some(Value::String(format!(
                "\u{feff}Rentrée scolaire;Numéro de l'école;Nombre total de classes;Nombre total d'élèves\r\n2024;{COLLEGE_CD35};20;500\r\n"
            ))),
            import_rule(
                role,
                &["administrateur-national", "recteur", "dan", "membre-dane", "representant-collectivite"],
            ),
        ),
        "GET /api/v1/plans-equipement" | "GET /api/v1/besoins" => one(
            if op.contains("plans") {
                "/api/v1/plans-equipement"
            } else {
                "/api/v1/besoins"
            },
            None,
            any_account(role),
        ),
        "POST /api/v1/plans-equipement" => [("223500018", false), ("233500016", true)]
            .into_iter()
            .map(|(siren, region)| Case {
                uri: "/api/v1/plans-equipement".into(),
                body: Some(json!({ "collectivite": siren, "titre": "Plan", "premiereAnnee": 2026, "derniereAnnee": 2027 })),
                expect: school_declare(role, region),
                label: siren.into(),
            })
            .collect(),
        "GET /api/v1/plans-equipement/{id}" | "POST /api/v1/plans-equipement/{id}/commentaires" => {
            let comment = op.starts_with("POST");
            [(w.equip.plan_cd35.clone(), false), (w.equip.plan_region.clone(), true)]
                .into_iter()
                .map(|(id, region)| Case {
                    uri: if comment {
                        format!("/api/v1/plans-equipement/{id}/commentaires")
                    } else {
                        format!("/api/v1/plans-equipement/{id}")
                    },
                    body: comment.then(|| json!({ "texte": "Avis" })),
                    expect: if comment {
                        school_comment(role, region)
                    } else {
                        school_read(role, region)
                    },
                    label: if region { "region".into() } else { "cd35".into() },
                })
                .collect()
        }
        "PUT /api/v1/plans-equipement/{id}" => {
            let admin = admin_principal(&w.db, &w.callers).await?;
            let mut v = Vec::new();
            for (id, region) in [(w.equip.plan_cd35.clone(), false), (w.equip.plan_region.clone(), true)] {
                let version = gouvernail_core::equipment::service::plan(&w.db, &admin, &id)
                    .await?
                    .plan
                    .version;
                v.push(Case {
                    uri: format!("/api/v1/plans-equipement/{id}"),
                    body: Some(json!({ "version": version, "titre": "Plan révisé" })),
                    expect: school_declare(role, region),
                    label: if region { "region".into() } else { "cd35".into() },
                });
            }
            v
        }
        "POST /api/v1/besoins" => {
            let mut v = vec![Case {
                uri: "/api/v1/besoins".into(),
                body: Some(json!({ "sujet": "projet:PN-MATRICE", "categorie": "tablette", "regle": "par-etablissement", "seuil": 1 })),
                expect: writes_national(role),
                label: "projet".into(),
            }];
            v.extend(per_academie(role, academie_write, |a| {
                let action = if a == "14" { &w.action_14 } else { &w.action_02 };
                (
                    "/api/v1/besoins".into(),
                    Some(json!({ "sujet": format!("action:{action}"), "categorie": "tablette", "regle": "par-etablissement", "seuil": 1 })),
                )
            }));
            v
        }
        "GET /api/v1/besoins/{id}" | "PATCH /api/v1/besoins/{id}" => {
            let patch = op.starts_with("PATCH");
            let admin = admin_principal(&w.db, &w.callers).await?;
            let mut v = Vec::new();
            for (id, academie) in [
                (&w.equip.need_project, None),
                (&w.equip.need_14, Some("14")),
                (&w.equip.need_02, Some("02")),
            ] {
                let version = gouvernail_core::equipment::service::need(&w.db, &admin, id).await?.version;
                let expect = match (academie, patch) {
                    (None, false) => any_account(role),
                    (None, true) => writes_national(role),
                    (Some(a), false) => academie_read(role, a),
                    (Some(a), true) => academie_write(role, a),
                };
                v.push(Case {
                    uri: format!("/api/v1/besoins/{id}"),
                    body: patch.then(|| json!({ "version": version, "seuil": 2 })),
                    expect,
                    label: academie.unwrap_or("projet").into(),
                });
            }
            v
        }
        _ => return Ok(None),
    }))
}

async fn user_id(db: &Db, email: &str) -> Result<String, E> {
    Ok(service::user_by_email(db, email).await?.id)
}

async fn snapshot_user_version(db: &Db, email: &str) -> Result<i64, E> {
    Ok(service::user_by_email(db, email).await?.version)
}

#[tokio::test]
async fn every_operation_of_the_openapi_document_obeys_the_matrix() -> Result<(), E> {
    let w = world().await?;
    let (_, doc) = call(&w, &Method::GET, "/api/v1/openapi.json", None, None).await?;
    let paths = doc["paths"].as_object().ok_or("no paths")?;
    let mut operations = Vec::new();
    for (path, item) in paths {
        for method in ["get", "post", "put", "patch", "delete"] {
            if item[method].is_object() {
                operations.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    assert!(operations.len() >= 49, "{} operations", operations.len());
    let mut missing = Vec::new();
    let mut failures = Vec::new();
    let mut checked = 0;
    for (method, path) in &operations {
        let op = format!("{method} {path}");
        let m = Method::from_bytes(method.as_bytes())?;
        let mut callers: Vec<Option<&'static str>> = ROLES.iter().map(|(r, _)| Some(*r)).collect();
        callers.push(None);
        for role in callers {
            let Some(list) = cases(&w, &op, role).await? else {
                missing.push(op.clone());
                break;
            };
            let token = role.and_then(|r| w.callers.get(r)).map(|(_, t)| t.as_str());
            for case in list {
                let before = snapshot(&w.db).await?;
                let (status, body) = call(&w, &m, &case.uri, token, case.body.as_ref()).await?;
                checked += 1;
                if !case.expect.matches(status) {
                    failures.push(format!(
                        "{op} as {role:?} [{}]: expected {:?}, got {status} {body}",
                        case.label, case.expect
                    ));
                }
                if !status.is_success() {
                    let after = snapshot(&w.db).await?;
                    if after != before {
                        failures.push(format!("{op} as {role:?} [{}]: refused ({status}) but the database changed: {before:?} → {after:?}", case.label));
                    }
                    if status != StatusCode::UNAUTHORIZED {
                        assert!(
                            body["error"]["code"].is_string(),
                            "{op}: error envelope expected, got {body}"
                        );
                    }
                }
            }
        }
    }
    eprintln!("matrix: {checked} requests over {} operations", operations.len());
    assert!(missing.is_empty(), "operations without expectations: {missing:?}");
    assert!(checked > 300, "only {checked} requests");
    assert!(
        failures.is_empty(),
        "{} of {checked} requests wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
    Ok(())
}

#[tokio::test]
async fn a_dan_token_changes_its_academie_and_not_another_and_an_observer_only_reads() -> Result<(), E> {
    let w = world().await?;
    let dan = w.callers.get("dan").map(|(_, t)| t.clone()).ok_or("no dan")?;
    let obs = w
        .callers
        .get("observateur")
        .map(|(_, t)| t.clone())
        .ok_or("no observer")?;
    let appoint = |p: &str| json!({ "email": w.target_email, "role": "membre-dane", "perimetre": p });
    let (s, _) = call(
        &w,
        &Method::POST,
        "/api/v1/nominations",
        Some(&dan),
        Some(&appoint("academie:14")),
    )
    .await?;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = call(
        &w,
        &Method::GET,
        "/api/v1/nominations?perimetre=academie:14",
        Some(&dan),
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = call(
        &w,
        &Method::GET,
        "/api/v1/nominations?perimetre=academie:02",
        Some(&dan),
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = call(
        &w,
        &Method::POST,
        "/api/v1/nominations",
        Some(&dan),
        Some(&appoint("academie:02")),
    )
    .await?;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _) = call(
        &w,
        &Method::GET,
        "/api/v1/nominations?perimetre=academie:14",
        Some(&obs),
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = call(
        &w,
        &Method::POST,
        "/api/v1/nominations",
        Some(&obs),
        Some(&appoint("academie:14")),
    )
    .await?;
    assert_eq!(s, StatusCode::FORBIDDEN);
    Ok(())
}

#[tokio::test]
async fn a_revoked_token_or_an_ended_role_stops_working_at_once() -> Result<(), E> {
    let w = world().await?;
    let (dan_id, dan) = w.callers.get("dan").cloned().ok_or("no dan")?;
    let (s, _) = call(
        &w,
        &Method::GET,
        "/api/v1/nominations?perimetre=academie:14",
        Some(&dan),
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::OK);
    // The administrator ends the DAN's role: the next request no longer sees académie 14.
    let admin = w
        .callers
        .get("administrateur-national")
        .map(|(_, t)| t.clone())
        .ok_or("no admin")?;
    let (_, list) = call(
        &w,
        &Method::GET,
        "/api/v1/nominations?perimetre=academie:14",
        Some(&admin),
        None,
    )
    .await?;
    let id = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["utilisateur"] == dan_id.as_str() && a["role"] == "dan")
        .and_then(|a| a["id"].as_str())
        .ok_or("the DAN's appointment")?
        .to_owned();
    let today = OffsetDateTime::now_utc().date().to_string();
    let (s, _) = call(
        &w,
        &Method::POST,
        &format!("/api/v1/nominations/{id}/fin"),
        Some(&admin),
        Some(&json!({ "date": today })),
    )
    .await?;
    assert_eq!(s, StatusCode::OK);
    let (s, _) = call(
        &w,
        &Method::GET,
        "/api/v1/nominations?perimetre=academie:14",
        Some(&dan),
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::NOT_FOUND);

    // A token revoked by its owner fails on the next request.
    let (_, obs) = w.callers.get("observateur").cloned().ok_or("no observer")?;
    let (_, tokens) = call(&w, &Method::GET, "/api/v1/jetons", Some(&obs), None).await?;
    let token_id = tokens["items"][0]["id"].as_str().ok_or("a token")?.to_owned();
    let (s, _) = call(
        &w,
        &Method::DELETE,
        &format!("/api/v1/jetons/{token_id}"),
        Some(&obs),
        None,
    )
    .await?;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, body) = call(&w, &Method::GET, "/api/v1/me", Some(&obs), None).await?;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(body["error"]["code"], "unauthenticated");
    Ok(())
}

#[tokio::test]
async fn fields_that_may_not_be_set_are_refused_never_applied() -> Result<(), E> {
    let w = world().await?;
    let (obs_id, obs) = w.callers.get("observateur").cloned().ok_or("no observer")?;
    let admin = w
        .callers
        .get("administrateur-national")
        .map(|(_, t)| t.clone())
        .ok_or("no admin")?;
    let before = snapshot(&w.db).await?;
    // A token for someone else, smuggled through the body.
    let expiration = (OffsetDateTime::now_utc().date() + Duration::days(3)).to_string();
    let (s, body) = call(
        &w,
        &Method::POST,
        "/api/v1/jetons",
        Some(&obs),
        Some(&json!({ "nom": "x", "expiration": expiration, "utilisateur": "quelqu-un-d-autre" })),
    )
    .await?;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["fields"][0]["field"], "utilisateur");
    // Roles or e-mail through an account change; an appointer smuggled into a nomination.
    let (s, _) = call(
        &w,
        &Method::PATCH,
        &format!("/api/v1/utilisateurs/{obs_id}"),
        Some(&admin),
        Some(&json!({ "version": 1, "email": "pirate@x.fr" })),
    )
    .await?;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = call(
        &w,
        &Method::PATCH,
        &format!("/api/v1/utilisateurs/{obs_id}"),
        Some(&admin),
        Some(&json!({ "version": 1, "roles": ["administrateur-national"] })),
    )
    .await?;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    let (s, _) = call(
        &w,
        &Method::POST,
        "/api/v1/nominations",
        Some(&admin),
        Some(&json!({ "email": w.target_email, "role": "observateur", "perimetre": "academie:14", "nommePar": obs_id })),
    )
    .await?;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(snapshot(&w.db).await?, before);
    Ok(())
}

#[tokio::test]
async fn a_concurrent_account_change_gets_409_with_the_current_version() -> Result<(), E> {
    let w = world().await?;
    let admin = w
        .callers
        .get("administrateur-national")
        .map(|(_, t)| t.clone())
        .ok_or("no admin")?;
    let id = user_id(&w.db, &w.target_email).await?;
    let version = snapshot_user_version(&w.db, &w.target_email).await?;
    let uri = format!("/api/v1/utilisateurs/{id}");
    let (s, _) = call(
        &w,
        &Method::PATCH,
        &uri,
        Some(&admin),
        Some(&json!({ "version": version, "nom": "Premier" })),
    )
    .await?;
    assert_eq!(s, StatusCode::OK);
    let (s, body) = call(
        &w,
        &Method::PATCH,
        &uri,
        Some(&admin),
        Some(&json!({ "version": version, "nom": "Second" })),
    )
    .await?;
    assert_eq!(s, StatusCode::CONFLICT);
    assert_eq!(body["error"]["code"], "conflict");
    let (_, now) = call(&w, &Method::GET, &uri, Some(&admin), None).await?;
    assert_eq!(now["nom"], "Premier");
    // Its history shows who changed what.
    let (_, history) = call(
        &w,
        &Method::GET,
        &format!("/api/v1/journal/utilisateur/{id}"),
        Some(&admin),
        None,
    )
    .await?;
    assert_eq!(history[0]["action"], "modifier");
    assert_eq!(history[0]["avant"]["nom"], "Cible");
    assert_eq!(history[0]["apres"]["nom"], "Premier");
    Ok(())
}

#[tokio::test]
async fn actions_over_the_api_name_bad_fields_refuse_stale_saves_and_export_to_a_spreadsheet() -> Result<(), E>
{
    let w = world().await?;
    let dan = w.callers.get("dan").map(|(_, t)| t.clone()).ok_or("no dan")?;
    let partner = w
        .callers
        .get("partenaire")
        .map(|(_, t)| t.clone())
        .ok_or("no partner")?;
    let (s, created) = call(
        &w,
        &Method::POST,
        "/api/v1/feuilles-de-route/14/actions",
        Some(&dan),
        Some(&json!({
            "declinaison": "PN-MATRICE", "titre": "Équiper les écoles", "debut": "2025-01-06", "fin": "2027-06-30",
            "budget": [
                { "financeur": "etat", "libelle": "État", "annee": 2025, "montant": "0.10" },
                { "financeur": "collectivite", "libelle": "Département", "annee": 2025, "montant": "0.20" }
            ],
            "perimetre": [{ "type": "departement", "code": "35" }],
            "jalons": [{ "libelle": "Lancement", "echeance": "2025-02-01", "atteint": true }]
        })),
    )
    .await?;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    assert_eq!(
        created["budgetTotal"], "0.30",
        "exact decimals: 0.10 + 0.20 = 0.30"
    );
    assert_eq!(created["departements"], json!(["35"]));
    let id = created["id"].as_str().ok_or("no id")?.to_owned();

    // A bad amount is named by its line; nothing is saved.
    let (s, body) = call(
        &w,
        &Method::PATCH,
        &format!("/api/v1/actions/{id}"),
        Some(&dan),
        Some(
            &json!({ "version": 1, "budget": [{ "financeur": "etat", "annee": 2025, "montant": "12,5,0" }] }),
        ),
    )
    .await?;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(body["error"]["fields"][0]["field"], "budget[0].montant", "{body}");

    // Two people saved from version 1: the second gets 409.
    let first = json!({ "version": 1, "avancement": 30 });
    let (s, _) = call(
        &w,
        &Method::PATCH,
        &format!("/api/v1/actions/{id}"),
        Some(&dan),
        Some(&first),
    )
    .await?;
    assert_eq!(s, StatusCode::OK);
    let (s, body) = call(
        &w,
        &Method::PATCH,
        &format!("/api/v1/actions/{id}"),
        Some(&dan),
        Some(&json!({ "version": 1, "titre": "Autre titre" })),
    )
    .await?;
    assert_eq!(s, StatusCode::CONFLICT, "{body}");
    let (_, now) = call(
        &w,
        &Method::GET,
        &format!("/api/v1/actions/{id}"),
        Some(&dan),
        None,
    )
    .await?;
    assert_eq!(
        (now["titre"].as_str(), now["avancement"].as_i64()),
        (Some("Équiper les écoles"), Some(30))
    );

    // A partner cannot change it.
    let (s, _) = call(
        &w,
        &Method::PATCH,
        &format!("/api/v1/actions/{id}"),
        Some(&partner),
        Some(&json!({ "version": 2, "titre": "Par le partenaire" })),
    )
    .await?;
    assert!(matches!(s, StatusCode::NOT_FOUND | StatusCode::FORBIDDEN));

    // The list exports to CSV in the French convention and to XLSX.
    let req = Request::builder()
        .uri("/api/v1/actions?academie=14&departement=35&format=csv")
        .header("authorization", format!("Bearer {dan}"))
        .body(Body::empty())?;
    let response = w.router.clone().oneshot(req).await?;
    assert_eq!(response.status(), StatusCode::OK);
    let csv = String::from_utf8(response.into_body().collect().await?.to_bytes().to_vec())?;
    assert!(csv.starts_with('\u{feff}'));
    let lines: Vec<&str> = csv.trim_start_matches('\u{feff}').lines().collect();
    assert!(
        lines[0].starts_with("academie;code;axe;rattachement;titre;"),
        "{}",
        lines[0]
    );
    assert_eq!(lines.len(), 2, "only the action reaching département 35: {csv}");
    assert!(lines[1].contains(";0,30;"), "{}", lines[1]);
    let req = Request::builder()
        .uri("/api/v1/actions?academie=14&format=xlsx")
        .header("authorization", format!("Bearer {dan}"))
        .body(Body::empty())?;
    let response = w.router.clone().oneshot(req).await?;
    assert_eq!(response.status(), StatusCode::OK);
    let bytes = response.into_body().collect().await?.to_bytes();
    assert!(bytes.starts_with(b"PK"), "an XLSX is a zip");

    // The roadmap as a PDF for the comité de pilotage: tagged PDF/UA, titled.
    let req = Request::builder()
        .uri("/api/v1/feuilles-de-route/14/pdf")
        .header("authorization", format!("Bearer {dan}"))
        .body(Body::empty())?;
    let response = w.router.clone().oneshot(req).await?;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("application/pdf")
    );
    let bytes = response.into_body().collect().await?.to_bytes();
    assert!(bytes.starts_with(b"%PDF-"));
    let text = String::from_utf8_lossy(&bytes);
    assert!(text.contains("pdfuaid:part"), "declares PDF/UA");
    assert!(
        text.contains("Feuille de route académique"),
        "the title is in the metadata"
    );
    Ok(())
}
