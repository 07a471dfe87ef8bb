//! The roadmap's life: consultation of invited organisations (comments and answers), and
//! validation by the recteur, which freezes a numbered version that can be compared with
//! any other.

use std::collections::BTreeMap;

use time::{Date, OffsetDateTime};

use crate::audit;
use crate::db::{Db, Sql, Value};
use crate::error::{CoreError, CoreResult, FieldError};
use crate::identity::policy::ancestors;
use crate::identity::service::new_id;
use crate::identity::{Capability, Perimeter, Principal, Role};

use super::model::{ActionFilter, ActionView, DeclensionView, LocalObjective, Roadmap};
use super::{repo, service};

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// A comment of the consultation, with its answer.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Comment {
    pub id: String,
    pub roadmap_id: String,
    pub declension_id: Option<String>,
    pub author_id: String,
    pub author_name: String,
    pub body: String,
    pub proposed_wording: Option<String>,
    /// `en-attente`, `acceptee`, `partielle` or `rejetee`.
    pub answer_status: String,
    pub answer_text: Option<String>,
}

/// A validated version of a roadmap.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Version {
    pub number: i64,
    pub committee_date: Date,
    pub validated_by: String,
    pub snapshot: String,
}

/// One difference between two versions.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// The national project's code.
    pub project: String,
    /// The field (`declinaison` when the whole declension was added or removed).
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

async fn latest_roadmap(db: &Db, academie: &str) -> CoreResult<Roadmap> {
    repo::roadmaps_of(db, academie)
        .await?
        .into_iter()
        .next()
        .ok_or_else(|| CoreError::not_found("feuille de route", academie))
}

/// True when the person holds a role on a perimeter invited to the consultation.
pub(crate) async fn is_invited(db: &Db, by: &Principal, roadmap_id: &str) -> CoreResult<bool> {
    #[derive(sqlx::FromRow)]
    struct Row {
        perimeter_kind: String,
        perimeter_code: String,
    }
    let invited: Vec<Row> = db
        .fetch_all(
            Sql::new("SELECT perimeter_kind, perimeter_code FROM roadmap_invitation WHERE roadmap_id = ")
                .bind(roadmap_id),
        )
        .await?;
    for row in invited {
        let invited = Perimeter::from_parts(&row.perimeter_kind, &row.perimeter_code)?;
        for g in &by.grants {
            if ancestors(db, &g.perimeter).await?.contains(&invited) {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// Opens (or widens) the consultation: the members of `perimeter` may read and comment.
pub async fn invite(db: &Db, by: &Principal, academie: &str, perimeter: &Perimeter) -> CoreResult<()> {
    by.check(
        db,
        Capability::Write,
        &Perimeter::Academie(academie.to_owned()),
        "académie",
        academie,
    )
    .await?;
    let roadmap = latest_roadmap(db, academie).await?;
    let mut tx = db.begin().await?;
    tx.execute(
        Sql::new(
            "INSERT INTO roadmap_invitation (roadmap_id, perimeter_kind, perimeter_code, created_at) VALUES ",
        )
        .bind_tuple([
            Value::from(roadmap.id.as_str()),
            perimeter.kind().into(),
            perimeter.code().into(),
            now().into(),
        ])
        .push(" ON CONFLICT (roadmap_id, perimeter_kind, perimeter_code) DO NOTHING"),
    )
    .await?;
    tx.execute(
        Sql::new("UPDATE roadmap SET status = 'consultation', version = version + 1, updated_at = ")
            .bind(now())
            .push(" WHERE id = ")
            .bind(roadmap.id.as_str()),
    )
    .await?;
    audit::record(
        &mut tx,
        &by.actor(),
        "inviter",
        "feuille-de-route",
        &roadmap.id,
        Some(&serde_json::json!({ "statut": roadmap.status })),
        Some(&serde_json::json!({ "statut": "consultation", "invite": perimeter.to_string() })),
    )
    .await?;
    tx.commit().await
}

/// The consultation's comments, for the académie's readers and the invited.
pub async fn comments(db: &Db, by: &Principal, academie: &str) -> CoreResult<Vec<Comment>> {
    let roadmap = latest_roadmap(db, academie).await?;
    if !by
        .can(db, Capability::Read, &Perimeter::Academie(academie.to_owned()))
        .await?
        && !is_invited(db, by, &roadmap.id).await?
    {
        return Err(CoreError::not_found("feuille de route", academie));
    }
    db.fetch_all(
        Sql::new(
            "SELECT c.id, c.roadmap_id, c.declension_id, c.author_id, u.display_name AS author_name, c.body, \
             c.proposed_wording, c.answer_status, c.answer_text FROM roadmap_comment c \
             JOIN app_user u ON u.id = c.author_id WHERE c.roadmap_id = ",
        )
        .bind(roadmap.id.as_str())
        .push(" ORDER BY c.created_at, c.id"),
    )
    .await
}

/// Comments during the consultation (invited members and the académie's writers).
pub async fn comment(
    db: &Db,
    by: &Principal,
    academie: &str,
    declension_id: Option<&str>,
    body: &str,
    proposed: Option<&str>,
) -> CoreResult<Comment> {
    let roadmap = latest_roadmap(db, academie).await?;
    let writer = by
        .can(db, Capability::Write, &Perimeter::Academie(academie.to_owned()))
        .await?;
    let invited = is_invited(db, by, &roadmap.id).await?;
    if !writer && !invited {
        return if by
            .can(db, Capability::Read, &Perimeter::Academie(academie.to_owned()))
            .await?
        {
            Err(CoreError::Forbidden)
        } else {
            Err(CoreError::not_found("feuille de route", academie))
        };
    }
    if by.read_only {
        return Err(CoreError::Forbidden);
    }
    if roadmap.status != "consultation" {
        return Err(CoreError::Validation(vec![FieldError::new(
            "statut",
            "la consultation n'est pas ouverte",
        )]));
    }
    let body = body.trim();
    if body.is_empty() || body.chars().count() > 5_000 {
        return Err(CoreError::Validation(vec![FieldError::new(
            "texte",
            "entre 1 et 5 000 caractères",
        )]));
    }
    if let Some(d) = declension_id
        && !repo::declensions_of(db, &roadmap.id)
            .await?
            .iter()
            .any(|x| x.id == d)
    {
        return Err(CoreError::Validation(vec![FieldError::new(
            "declinaison",
            "élément inconnu de cette feuille de route",
        )]));
    }
    let id = new_id();
    let stamp = now();
    let mut tx = db.begin().await?;
    tx.execute(
        Sql::new(
            "INSERT INTO roadmap_comment (id, roadmap_id, declension_id, author_id, body, proposed_wording, \
             answer_status, created_at, updated_at) VALUES ",
        )
        .bind_tuple([
            Value::from(id.as_str()),
            roadmap.id.as_str().into(),
            declension_id.into(),
            by.user.id.as_str().into(),
            body.into(),
            proposed.map(str::trim).filter(|p| !p.is_empty()).into(),
            "en-attente".into(),
            stamp.into(),
            stamp.into(),
        ]),
    )
    .await?;
    audit::record(
        &mut tx,
        &by.actor(),
        "commenter",
        "commentaire",
        &id,
        None,
        Some(&serde_json::json!({ "texte": body })),
    )
    .await?;
    tx.commit().await?;
    comments(db, by, academie)
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(|| CoreError::not_found("commentaire", &id))
}

/// Answers a comment: `acceptee`, `partielle` or `rejetee` (with a reason).
pub async fn answer(
    db: &Db,
    by: &Principal,
    comment_id: &str,
    status: &str,
    text: Option<&str>,
) -> CoreResult<()> {
    #[derive(sqlx::FromRow)]
    struct Row {
        academie_code: String,
        answer_status: String,
    }
    let row: Row = db
        .fetch_optional(
            Sql::new(
                "SELECT r.academie_code, c.answer_status FROM roadmap_comment c JOIN roadmap r ON r.id = c.roadmap_id \
                 WHERE c.id = ",
            )
            .bind(comment_id),
        )
        .await?
        .ok_or_else(|| CoreError::not_found("commentaire", comment_id))?;
    by.check(
        db,
        Capability::Write,
        &Perimeter::Academie(row.academie_code.clone()),
        "commentaire",
        comment_id,
    )
    .await?;
    if !matches!(status, "acceptee" | "partielle" | "rejetee") {
        return Err(CoreError::Validation(vec![FieldError::new(
            "statut",
            "acceptee, partielle ou rejetee",
        )]));
    }
    let text = text.map(str::trim).filter(|t| !t.is_empty());
    if status == "rejetee" && text.is_none() {
        return Err(CoreError::Validation(vec![FieldError::new(
            "reponse",
            "un refus doit être motivé",
        )]));
    }
    let mut tx = db.begin().await?;
    tx.execute(
        Sql::new("UPDATE roadmap_comment SET answer_status = ")
            .bind(status)
            .push(", answer_text = ")
            .bind(text)
            .push(", answered_by = ")
            .bind(by.user.id.as_str())
            .push(", updated_at = ")
            .bind(now())
            .push(" WHERE id = ")
            .bind(comment_id),
    )
    .await?;
    audit::record(
        &mut tx,
        &by.actor(),
        "repondre",
        "commentaire",
        comment_id,
        Some(&serde_json::json!({ "statut": row.answer_status })),
        Some(&serde_json::json!({ "statut": status, "reponse": text })),
    )
    .await?;
    tx.commit().await
}

/// The roadmap as a version keeps it: declined projects by code, the académie's objectives
/// (`objectif O1`) and actions (`action A01`).
fn snapshot_of(
    declensions: &[DeclensionView],
    objectives: &[LocalObjective],
    actions: &[ActionView],
) -> String {
    let mut map: BTreeMap<String, serde_json::Value> = declensions
        .iter()
        .map(|d| {
            (
                d.project.code.clone(),
                serde_json::json!({
                    "titre": d.title, "pilote": d.declension.local_pilote.clone().unwrap_or_else(|| d.project.pilote_team.clone()),
                    "cible": d.declension.local_target, "debut": d.declension.start_date.map(|x| x.to_string()),
                    "fin": d.declension.end_date.map(|x| x.to_string()), "nonApplicable": d.declension.not_applicable,
                    "statut": d.declension.status, "avancement": d.declension.progress,
                }),
            )
        })
        .collect();
    for o in objectives {
        map.insert(
            format!("objectif {}", o.code),
            serde_json::json!({ "titre": o.title, "axe": o.axis_title, "description": o.description }),
        );
    }
    for a in actions {
        map.insert(
            format!("action {}", a.action.code),
            super::actions::action_snapshot(a),
        );
    }
    serde_json::to_string(&map).unwrap_or_default()
}

/// Validates the roadmap (the recteur, or a national administrator), on the date of the
/// comité de pilotage: freezes the next numbered version.
pub async fn validate(
    db: &Db,
    by: &Principal,
    academie: &str,
    committee: Date,
    version: i64,
) -> CoreResult<Version> {
    let perimeter = Perimeter::Academie(academie.to_owned());
    by.check(db, Capability::Write, &perimeter, "académie", academie)
        .await?;
    let chain = ancestors(db, &perimeter).await?;
    if by.read_only
        || !by.grants.iter().any(|g| {
            g.role == Role::AdministrateurNational
                || (g.role == Role::Recteur && chain.contains(&g.perimeter))
        })
    {
        return Err(CoreError::Forbidden);
    }
    let view = service::roadmap(db, by, academie, None).await?;
    let roadmap = view
        .roadmap
        .clone()
        .ok_or_else(|| CoreError::not_found("feuille de route", academie))?;
    let number = db
        .fetch_scalar_i64(
            Sql::new("SELECT COUNT(*) FROM roadmap_version WHERE roadmap_id = ").bind(roadmap.id.as_str()),
        )
        .await?
        + 1;
    let objectives = repo::objectives_of(db, &roadmap.id).await?;
    let actions = super::actions::list_actions(
        db,
        by,
        &ActionFilter {
            academie: Some(academie.to_owned()),
            ..ActionFilter::default()
        },
    )
    .await?;
    let snapshot = snapshot_of(&view.declensions, &objectives, &actions);
    let stamp = now();
    let mut tx = db.begin().await?;
    let n = tx
        .execute(
            Sql::new("UPDATE roadmap SET status = 'validee', version = version + 1, updated_at = ")
                .bind(stamp)
                .push(" WHERE id = ")
                .bind(roadmap.id.as_str())
                .push(" AND version = ")
                .bind(version),
        )
        .await?;
    if n != 1 {
        return Err(CoreError::Conflict(format!(
            "la feuille de route a été modifiée entre-temps (version actuelle {})",
            roadmap.version
        )));
    }
    tx.execute(
        Sql::new(
            "INSERT INTO roadmap_version (id, roadmap_id, number, committee_date, validated_by, snapshot, created_at) VALUES ",
        )
        .bind_tuple([
            Value::from(new_id()),
            roadmap.id.as_str().into(),
            number.into(),
            committee.into(),
            by.user.id.as_str().into(),
            snapshot.as_str().into(),
            stamp.into(),
        ]),
    )
    .await?;
    audit::record(
        &mut tx,
        &by.actor(),
        "valider",
        "feuille-de-route",
        &roadmap.id,
        Some(&serde_json::json!({ "statut": roadmap.status })),
        Some(&serde_json::json!({ "statut": "validee", "numero": number, "comite": committee.to_string() })),
    )
    .await?;
    tx.commit().await?;
    Ok(Version {
        number,
        committee_date: committee,
        validated_by: by.user.id.clone(),
        snapshot,
    })
}

/// The validated versions of an académie's roadmap.
pub async fn versions(db: &Db, by: &Principal, academie: &str) -> CoreResult<Vec<Version>> {
    by.check(
        db,
        Capability::Read,
        &Perimeter::Academie(academie.to_owned()),
        "académie",
        academie,
    )
    .await?;
    let roadmap = latest_roadmap(db, academie).await?;
    db.fetch_all(
        Sql::new(
            "SELECT number, committee_date, validated_by, snapshot FROM roadmap_version WHERE roadmap_id = ",
        )
        .bind(roadmap.id.as_str())
        .push(" ORDER BY number"),
    )
    .await
}

/// What changed from version `a` to version `b`: declensions added or removed, and every
/// field whose value differs.
pub async fn compare(db: &Db, by: &Principal, academie: &str, a: i64, b: i64) -> CoreResult<Vec<Change>> {
    let all = versions(db, by, academie).await?;
    let get = |n: i64| {
        all.iter()
            .find(|v| v.number == n)
            .ok_or_else(|| CoreError::not_found("version", n))
            .and_then(|v| {
                serde_json::from_str::<BTreeMap<String, BTreeMap<String, serde_json::Value>>>(&v.snapshot)
                    .map_err(|e| CoreError::Internal(format!("version {n} illisible : {e}")))
            })
    };
    let (before, after) = (get(a)?, get(b)?);
    let text = |v: &serde_json::Value| match v {
        serde_json::Value::Null => None,
        serde_json::Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    };
    // What a whole added or removed element is called.
    let element = |key: &str| {
        if key.starts_with("action ") {
            "action"
        } else if key.starts_with("objectif ") {
            "objectif"
        } else {
            "declinaison"
        }
    };
    let mut changes = Vec::new();
    for (code, old) in &before {
        match after.get(code) {
            None => changes.push(Change {
                project: code.clone(),
                field: element(code).into(),
                before: Some("présente".into()),
                after: None,
            }),
            Some(new) => {
                for (field, value) in old {
                    let other = new.get(field).unwrap_or(&serde_json::Value::Null);
                    if other != value {
                        changes.push(Change {
                            project: code.clone(),
                            field: field.clone(),
                            before: text(value),
                            after: text(other),
                        });
                    }
                }
            }
        }
    }
    for code in after.keys().filter(|c| !before.contains_key(*c)) {
        changes.push(Change {
            project: code.clone(),
            field: element(code).into(),
            before: None,
            after: Some("ajoutée".into()),
        });
    }
    Ok(changes)
}
