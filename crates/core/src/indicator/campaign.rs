//! Reporting campaigns: the national level (or an académie for its own perimeter) asks for
//! indicators × académies × one period in a window with a grace period. Opening mails the
//! people answerable (DAN and DANE members of each académie); reminders go to the académies
//! that have not answered in full; closing locks the period. Mails are queued in the job
//! queue in the same transaction, with deduplication keys (`campagne:ID:STAGE:EMAIL`), so a
//! reminder sent twice on the same stage is queued once. [`run_due_work`] is the scheduled
//! part (hourly in every server): the reminders due, and the close, by the system, of the
//! campaigns whose grace period is over.

use std::collections::HashMap;

use time::Date;

use crate::audit;
use crate::db::{Db, Tx};
use crate::error::{CoreError, CoreResult, FieldError};
use crate::identity::{Capability, Perimeter, Principal};
use crate::jobs::{self, BASE_URL, MailMessage, Recipient};

use super::model::*;
use super::repo;
use super::service::{check_owner_write, invalid, load_indicator, lock_in_tx, now, today};

fn owner_of(c: &Campaign) -> CoreResult<Perimeter> {
    Perimeter::from_parts(&c.owner_kind, &c.owner_code)
}

async fn can_read(db: &Db, by: &Principal, c: &Campaign) -> CoreResult<bool> {
    if c.owner_kind == "national" {
        return Ok(true);
    }
    by.can(db, Capability::Read, &owner_of(c)?).await
}

async fn load(db: &Db, by: &Principal, id: &str) -> CoreResult<Campaign> {
    let c = repo::find_campaign(db, id)
        .await?
        .ok_or_else(|| CoreError::not_found("campagne", id))?;
    if !can_read(db, by, &c).await? {
        return Err(CoreError::not_found("campagne", id));
    }
    Ok(c)
}

fn audit_campaign(c: &Campaign, indicators: &[String], academies: &[String]) -> serde_json::Value {
    serde_json::json!({
        "titre": c.title, "proprietaire": c.owner_text(), "periode": c.period,
        "ouverture": c.opens_on.to_string(), "cloture": c.closes_on.to_string(), "delaiGrace": c.grace_days,
        "statut": c.status, "indicateurs": indicators, "academies": academies,
    })
}

/// What a mail of a campaign says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    Opening,
    /// Seven days or less before the close.
    Week,
    /// The last day of the window.
    LastDay,
    /// In the grace period.
    Grace,
}

impl Stage {
    fn key(self) -> &'static str {
        match self {
            Stage::Opening => "ouverture",
            Stage::Week => "relance-j7",
            Stage::LastDay => "relance-j0",
            Stage::Grace => "relance-grace",
        }
    }

    /// The reminder due on `day`, if any.
    pub fn due(c: &Campaign, day: Date) -> Option<Stage> {
        if day < c.opens_on || day > c.last_day() {
            None
        } else if day > c.closes_on {
            Some(Stage::Grace)
        } else if day == c.closes_on {
            Some(Stage::LastDay)
        } else if (c.closes_on - day).whole_days() <= 7 {
            Some(Stage::Week)
        } else {
            None
        }
    }
}

fn fr_date(d: Date) -> String {
    format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year())
}

/// Queues one mail per responsible person; returns how many were queued (0 for the ones
/// already queued at this stage).
async fn queue_mails(
    tx: &mut Tx,
    c: &Campaign,
    indicators: &[Indicator],
    people: &[repo::Responsible],
    stage: Stage,
) -> CoreResult<usize> {
    let list: String = indicators
        .iter()
        .map(|i| format!("  - {} ({})\n", i.label, i.code))
        .collect();
    let subject = match stage {
        Stage::Opening => format!("Campagne ouverte : {} ({})", c.title, c.period),
        Stage::Week | Stage::LastDay => format!("Rappel : {} — clôture le {}", c.title, fr_date(c.closes_on)),
        Stage::Grace => format!(
            "Dernier rappel : {} — délai de grâce jusqu'au {}",
            c.title,
            fr_date(c.last_day())
        ),
    };
    let lead = match stage {
        Stage::Opening => "Une campagne de remontée d'indicateurs est ouverte pour votre académie.",
        Stage::Week | Stage::LastDay => {
            "Les indicateurs de votre académie ne sont pas encore tous renseignés."
        }
        Stage::Grace => {
            "La campagne est close ; ses valeurs sont encore acceptées pendant le délai de grâce, ensuite la période est verrouillée."
        }
    };
    let mut queued = 0;
    let mut seen = std::collections::BTreeSet::new();
    for p in people {
        if !seen.insert((p.email.clone(), p.academie.clone())) {
            continue;
        }
        let text = format!(
            "Bonjour {name},\n\n{lead}\n\nCampagne : {title}\nPériode : {period}\nFenêtre : du {open} au {close} \
             (délai de grâce : {grace} jour(s))\nIndicateurs :\n{list}\n{instructions}Saisie et dépôt de fichier : \
             {BASE_URL}/campagnes/{id}\n\n— Gouvernail\n",
            name = p.display_name,
            title = c.title,
            period = c.period,
            open = fr_date(c.opens_on),
            close = fr_date(c.closes_on),
            grace = c.grace_days,
            instructions = if c.instructions.is_empty() {
                String::new()
            } else {
                format!("{}\n\n", c.instructions)
            },
            id = c.id,
        );
        let message = MailMessage {
            to: vec![Recipient {
                name: p.display_name.clone(),
                email: p.email.clone(),
            }],
            subject: subject.clone(),
            text,
            html: None,
            attachments: Vec::new(),
        };
        let key = format!("campagne:{}:{}:{}", c.id, stage.key(), p.email);
        if jobs::enqueue_mail(tx, &message, &key).await? {
            queued += 1;
        }
    }
    Ok(queued)
}

/// Opens a campaign and queues its opening mails; returns it with the number of mails
/// queued. National campaigns: national writers; an académie's: its writers.
pub async fn open_campaign(db: &Db, by: &Principal, input: &CampaignInput) -> CoreResult<(Campaign, usize)> {
    let mut errors = Vec::new();
    let owner = match Perimeter::parse(&input.owner) {
        Ok(p @ (Perimeter::National | Perimeter::Academie(_))) => Some(p),
        _ => {
            errors.push(FieldError::new("proprietaire", "national ou academie:CODE"));
            None
        }
    };
    let title = input.title.trim();
    if title.is_empty() || title.chars().count() > 200 {
        errors.push(FieldError::new("titre", "obligatoire, 200 caractères au plus"));
    }
    if input.indicators.is_empty() {
        errors.push(FieldError::new("indicateurs", "au moins un indicateur"));
    }
    let mut indicators = Vec::new();
    for (i, code) in input.indicators.iter().enumerate() {
        match load_indicator(db, by, code).await {
            Ok(ind) => {
                if check_period(ind.periodicity(), &input.period).is_none() {
                    errors.push(period_error("periode", ind.periodicity(), &input.period));
                }
                if indicators.iter().any(|x: &Indicator| x.id == ind.id) {
                    errors.push(FieldError::new(format!("indicateurs[{i}]"), "en double"));
                } else {
                    indicators.push(ind);
                }
            }
            Err(CoreError::NotFound { .. }) => {
                errors.push(FieldError::new(
                    format!("indicateurs[{i}]"),
                    format!("« {code} » inconnu"),
                ));
            }
            Err(e) => return Err(e),
        }
    }
    let opens_on = input.opens_on.unwrap_or_else(today);
    let closes_on = match input.closes_on {
        Some(d) if d >= opens_on => Some(d),
        Some(_) => {
            errors.push(FieldError::new("cloture", "après l'ouverture"));
            None
        }
        None => {
            errors.push(FieldError::new("cloture", "obligatoire"));
            None
        }
    };
    let grace = input.grace_days.unwrap_or(0);
    if !(0..=90).contains(&grace) {
        errors.push(FieldError::new("delaiGrace", "de 0 à 90 jours"));
    }
    let (Some(owner), Some(closes_on), true) = (owner, closes_on, errors.is_empty()) else {
        return Err(CoreError::Validation(errors));
    };
    check_owner_write(db, by, &owner).await?;
    let under = repo::academies_under(db, owner.kind(), owner.code()).await?;
    let academies = if input.academies.is_empty() {
        under
    } else {
        let mut out = Vec::new();
        for (i, a) in input.academies.iter().enumerate() {
            let a = a.trim().to_owned();
            if !under.contains(&a) {
                errors.push(FieldError::new(
                    format!("academies[{i}]"),
                    format!("« {a} » n'est pas une académie du périmètre de la campagne"),
                ));
            } else if !out.contains(&a) {
                out.push(a);
            }
        }
        out
    };
    if academies.is_empty() {
        errors.push(FieldError::new("academies", "au moins une académie"));
    }
    if !errors.is_empty() {
        return Err(CoreError::Validation(errors));
    }
    let at = now();
    let c = Campaign {
        id: uuid::Uuid::now_v7().to_string(),
        title: title.to_owned(),
        owner_kind: owner.kind().to_owned(),
        owner_code: owner.code().to_owned(),
        period: input.period.trim().to_owned(),
        opens_on,
        closes_on,
        grace_days: grace,
        status: CampaignStatus::Ouverte.as_str().to_owned(),
        instructions: input.instructions.trim().chars().take(5_000).collect(),
        created_by: by.actor().id,
        closed_at: None,
        version: 1,
        created_at: at,
        updated_at: at,
    };
    let ids: Vec<String> = indicators.iter().map(|i| i.id.clone()).collect();
    let codes: Vec<String> = indicators.iter().map(|i| i.code.clone()).collect();
    let people = repo::responsibles(db, &academies, today()).await?;
    let mut tx = db.begin().await?;
    repo::insert_campaign(&mut tx, &c, &ids, &academies).await?;
    audit::record(
        &mut tx,
        &by.actor(),
        "campagne.ouverture",
        "campagne",
        &c.id,
        None,
        Some(&audit_campaign(&c, &codes, &academies)),
    )
    .await?;
    let queued = if opens_on <= today() {
        queue_mails(&mut tx, &c, &indicators, &people, Stage::Opening).await?
    } else {
        0
    };
    tx.commit().await?;
    Ok((c, queued))
}

/// The campaigns the caller sees, most recent first.
pub async fn campaigns(db: &Db, by: &Principal) -> CoreResult<Vec<Campaign>> {
    let mut out = Vec::new();
    for c in repo::list_campaigns(db).await? {
        if can_read(db, by, &c).await? {
            out.push(c);
        }
    }
    Ok(out)
}

/// Completeness by académie and indicator (the heatmap), without rights check.
async fn progress(db: &Db, c: &Campaign, indicators: &[Indicator]) -> CoreResult<Vec<AcademieProgress>> {
    let academies = repo::campaign_academies(db, &c.id).await?;
    let mut expected_by_level: HashMap<&'static str, HashMap<String, i64>> = HashMap::new();
    let mut filled: Vec<HashMap<String, i64>> = Vec::new();
    for ind in indicators {
        let level = ind.capture_level();
        if !expected_by_level.contains_key(level.as_str()) {
            let counts = repo::expected_sources(db, level, (Level::National, ""), Level::Academie).await?;
            expected_by_level.insert(
                level.as_str(),
                counts.into_iter().filter_map(|c| Some((c.code?, c.n))).collect(),
            );
        }
        filled.push(
            repo::filled_by_academie(db, ind, &c.period)
                .await?
                .into_iter()
                .filter_map(|f| Some((f.academie?, f.n)))
                .collect(),
        );
    }
    let mut out = Vec::new();
    for a in academies {
        let code = a.code.unwrap_or_default();
        let mut row = AcademieProgress {
            label: a.label.unwrap_or_else(|| code.clone()),
            academie: code.clone(),
            cells: Vec::new(),
            filled: 0,
            expected: 0,
        };
        for (ind, f) in indicators.iter().zip(&filled) {
            let level = ind.capture_level();
            let expected = match level {
                Level::RegionAcademique | Level::National => 1,
                _ => expected_by_level
                    .get(level.as_str())
                    .and_then(|m| m.get(&code))
                    .copied()
                    .unwrap_or(0),
            };
            let n = f.get(&code).copied().unwrap_or(0).min(expected);
            row.cells.push((ind.code.clone(), n, expected));
            row.filled += n;
            row.expected += expected;
        }
        out.push(row);
    }
    Ok(out)
}

/// A campaign with its indicators and its completeness by académie.
pub async fn campaign(db: &Db, by: &Principal, id: &str) -> CoreResult<CampaignView> {
    let c = load(db, by, id).await?;
    let indicators = repo::campaign_indicators(db, &c.id).await?;
    let progress = progress(db, &c, &indicators).await?;
    let can_manage = by.can(db, Capability::Write, &owner_of(&c)?).await?;
    Ok(CampaignView {
        campaign: c,
        indicators,
        progress,
        can_manage,
    })
}

async fn remind(db: &Db, c: &Campaign, day: Date) -> CoreResult<usize> {
    let Some(stage) = Stage::due(c, day) else {
        return Ok(0);
    };
    if c.status != CampaignStatus::Ouverte.as_str() {
        return Ok(0);
    }
    let indicators = repo::campaign_indicators(db, &c.id).await?;
    let late: Vec<String> = progress(db, c, &indicators)
        .await?
        .into_iter()
        .filter(|p| p.filled < p.expected)
        .map(|p| p.academie)
        .collect();
    let people = repo::responsibles(db, &late, day).await?;
    let mut tx = db.begin().await?;
    let n = queue_mails(&mut tx, c, &indicators, &people, stage).await?;
    tx.commit().await?;
    Ok(n)
}

/// Queues the reminders due on `day` for one campaign (its managers may ask); returns how
/// many mails were queued (none twice for the same stage).
pub async fn send_reminders(db: &Db, by: &Principal, id: &str, day: Date) -> CoreResult<usize> {
    let c = load(db, by, id).await?;
    check_owner_write(db, by, &owner_of(&c)?).await?;
    if c.status != CampaignStatus::Ouverte.as_str() {
        return Err(CoreError::Conflict("la campagne est close".into()));
    }
    remind(db, &c, day).await
}

/// Queues the reminders due on `day` for every open campaign (part of [`run_due_work`]);
/// returns how many mails were queued.
pub async fn send_due_reminders(db: &Db, day: Date) -> CoreResult<usize> {
    let mut n = 0;
    for c in repo::list_campaigns(db).await? {
        n += remind(db, &c, day).await?;
    }
    Ok(n)
}

/// Closes a campaign read at `before` (its version), as `actor`: one conditional update of
/// its status over that version, the locks of its period in each of its académies and the
/// audit entry, in one transaction. `None` when the campaign changed since it was read
/// (another instance or person closed or edited it): nothing is written then.
async fn close_as(db: &Db, before: &Campaign, actor: &audit::Actor) -> CoreResult<Option<(Campaign, u64)>> {
    let indicators = repo::campaign_indicators(db, &before.id).await?;
    let academies: Vec<String> = repo::campaign_academies(db, &before.id)
        .await?
        .into_iter()
        .filter_map(|a| a.code)
        .collect();
    let mut c = before.clone();
    c.status = CampaignStatus::Close.as_str().to_owned();
    c.closed_at = Some(now());
    c.updated_at = now();
    let mut tx = db.begin().await?;
    // `UPDATE … WHERE id = … AND version = …`: of several instances closing the same
    // campaign at once, one matches the row; the others match none and stop here.
    if !repo::update_campaign(&mut tx, &c, before.version).await? {
        return Ok(None);
    }
    let mut locked = 0;
    for ind in &indicators {
        for a in &academies {
            locked += lock_in_tx(&mut tx, ind, &c.period, a, Some(&c.id), &actor.label).await?;
        }
    }
    let codes: Vec<String> = indicators.iter().map(|i| i.code.clone()).collect();
    audit::record(
        &mut tx,
        actor,
        "campagne.cloture",
        "campagne",
        &c.id,
        Some(&audit_campaign(before, &codes, &academies)),
        Some(&serde_json::json!({"statut": c.status, "valeursVerrouillees": locked})),
    )
    .await?;
    tx.commit().await?;
    c.version += 1;
    Ok(Some((c, locked)))
}

/// Closes a campaign: locks its period for its indicators in each of its académies.
/// Returns the campaign and how many values were locked.
pub async fn close_campaign(db: &Db, by: &Principal, id: &str, version: i64) -> CoreResult<(Campaign, u64)> {
    let before = load(db, by, id).await?;
    check_owner_write(db, by, &owner_of(&before)?).await?;
    if before.status == CampaignStatus::Close.as_str() {
        return Err(CoreError::Conflict("la campagne est déjà close".into()));
    }
    if before.version != version {
        return Err(CoreError::Conflict(
            "la campagne a été modifiée entre-temps : rechargez et recommencez".into(),
        ));
    }
    close_as(db, &before, &by.actor())
        .await?
        .ok_or_else(|| invalid("version", "la campagne a été modifiée entre-temps"))
}

/// Closes, as the system, every open campaign whose window and grace period are over on
/// `day` (its last day, [`Campaign::last_day`], is before `day`), locking its period as a
/// close by its managers does. Idempotent (a closed campaign is left alone) and safe when
/// several instances run it at once (each close is a conditional update over the version
/// read: one instance closes, the others skip). Returns the campaigns closed and how many
/// values were locked.
pub async fn close_expired_campaigns(db: &Db, day: Date) -> CoreResult<(Vec<Campaign>, u64)> {
    let actor = audit::Actor::system();
    let mut closed = Vec::new();
    let mut locked = 0;
    for c in repo::list_campaigns(db).await? {
        if c.status != CampaignStatus::Ouverte.as_str() || c.last_day() >= day {
            continue;
        }
        if let Some((c, n)) = close_as(db, &c, &actor).await? {
            locked += n;
            closed.push(c);
        }
    }
    Ok((closed, locked))
}

/// What one run of the campaigns' scheduled work did.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DueWork {
    /// Reminder mails queued.
    pub reminders: usize,
    /// The campaigns closed at the end of their grace period.
    pub closed: Vec<Campaign>,
    /// The values those closes locked.
    pub locked: u64,
}

/// The campaigns' scheduled work on `day` (run hourly by every server, and by
/// `gouvernail campagnes echeances`): the reminders due, then the closes of the campaigns
/// whose grace period is over. Running it again on the same day does nothing more.
pub async fn run_due_work(db: &Db, day: Date) -> CoreResult<DueWork> {
    let reminders = send_due_reminders(db, day).await?;
    let (closed, locked) = close_expired_campaigns(db, day).await?;
    Ok(DueWork {
        reminders,
        closed,
        locked,
    })
}
