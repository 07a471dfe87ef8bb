//! Alerts on conventions, in the platform and by a weekly e-mail digest: a convention whose
//! end approaches, a notice deadline against a tacit renewal, a commitment that falls due
//! soon, a commitment that is late.
//!
//! A person is alerted on the conventions they act on: those they may change (a DAN for the
//! conventions of the académie, an administrator for all) and those where they report for a
//! party (a collectivité's representative); reading a convention is not enough, so that an
//! observer is not flooded. The digest goes, once per ISO week, to every active account
//! holding the role of DAN or of collectivité representative with at least one alert; it is
//! queued in the job queue with the dedupe key `alertes-conventions:{user}:{year}-S{week}`,
//! so that any number of instances may ask for it any number of times in the week.

use time::{Date, Duration};

use crate::db::Db;
use crate::error::CoreResult;
use crate::identity::{Principal, Role};
use crate::jobs::{self, BASE_URL, MailMessage, Recipient};

use super::model::*;
use super::service as conv;

/// How far ahead the end of a convention is announced.
pub const END_AHEAD_DAYS: i64 = 90;
/// How far ahead a notice deadline is announced.
pub const NOTICE_AHEAD_DAYS: i64 = 60;
/// How far ahead a commitment's due date is announced.
pub const DUE_AHEAD_DAYS: i64 = 30;

text_enum!(
    /// What an alert is about, the most pressing first.
    AlertKind {
        EngagementEnRetard = "engagement-en-retard" / "Engagement en retard",
        Preavis = "preavis" / "Date limite de dénonciation",
        Echeance = "echeance" / "Fin de convention proche",
        EngagementAEcheance = "engagement-a-echeance" / "Engagement à échéance",
    }
);

/// One alert.
#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub kind: AlertKind,
    /// The day it is about (end, deadline, due date).
    pub date: Date,
    pub convention_id: String,
    pub convention_title: String,
    /// The commitment (`E3`), its id and the party that owes it, for commitment alerts.
    pub commitment: Option<(String, String, String)>,
    /// One sentence, in French.
    pub text: String,
}

fn fr(d: Date) -> String {
    format!("{:02}/{:02}/{}", d.day(), u8::from(d.month()), d.year())
}

fn rank(kind: AlertKind) -> usize {
    AlertKind::ALL
        .iter()
        .position(|k| *k == kind)
        .unwrap_or(usize::MAX)
}

/// The alerts of `by` on `today`: late commitments first, then the nearest dates.
pub async fn alerts(db: &Db, by: &Principal, today: Date) -> CoreResult<Vec<Alert>> {
    let mut out = Vec::new();
    let summaries = conv::list_conventions(db, by, &ConventionFilter::default(), today).await?;
    for summary in summaries {
        let status = summary.standing.status;
        if !matches!(
            status,
            ConventionStatus::Signee | ConventionStatus::EnVigueur | ConventionStatus::Renouvelee
        ) {
            continue;
        }
        let view = conv::get_convention(db, by, &summary.convention.id, today).await?;
        if !view.can_write && view.can_report.is_empty() {
            continue;
        }
        let title = view.convention.title.clone();
        let id = view.convention.id.clone();
        if view.can_write {
            if let Some(end) = view.standing.end
                && end >= today
                && end <= today + Duration::days(END_AHEAD_DAYS)
            {
                out.push(Alert {
                    kind: AlertKind::Echeance,
                    date: end,
                    convention_id: id.clone(),
                    convention_title: title.clone(),
                    commitment: None,
                    text: format!(
                        "« {title} » prend fin le {} : renouveler, prolonger par avenant ou clore.",
                        fr(end)
                    ),
                });
            }
            if let Some(deadline) = view.standing.notice_deadline
                && deadline >= today
                && deadline <= today + Duration::days(NOTICE_AHEAD_DAYS)
            {
                out.push(Alert {
                    kind: AlertKind::Preavis,
                    date: deadline,
                    convention_id: id.clone(),
                    convention_title: title.clone(),
                    commitment: None,
                    text: format!(
                        "« {title} » sera reconduite tacitement si elle n'est pas dénoncée au plus tard le {}.",
                        fr(deadline)
                    ),
                });
            }
        }
        for state in &view.commitments {
            let c = &state.commitment;
            if !view.can_write && !view.can_report.contains(&c.party_ref) {
                continue;
            }
            let Some(next) = state.followed.next_due else {
                continue;
            };
            let code = c.code();
            let (kind, text) = if state.followed.late {
                (
                    AlertKind::EngagementEnRetard,
                    format!(
                        "{code} de « {title} » ({}) était attendu le {} : {}",
                        state.party_name,
                        fr(next),
                        c.description
                    ),
                )
            } else if matches!(
                state.followed.status,
                CommitmentStatus::Prevu | CommitmentStatus::EnCours
            ) && next >= today
                && next <= today + Duration::days(DUE_AHEAD_DAYS)
            {
                (
                    AlertKind::EngagementAEcheance,
                    format!(
                        "{code} de « {title} » ({}) est attendu le {} : {}",
                        state.party_name,
                        fr(next),
                        c.description
                    ),
                )
            } else {
                continue;
            };
            out.push(Alert {
                kind,
                date: next,
                convention_id: id.clone(),
                convention_title: title.clone(),
                commitment: Some((code, c.id.clone(), state.party_name.clone())),
                text,
            });
        }
    }
    out.sort_by(|a, b| {
        rank(a.kind)
            .cmp(&rank(b.kind))
            .then(a.date.cmp(&b.date))
            .then(a.convention_title.cmp(&b.convention_title))
    });
    Ok(out)
}

/// The digest mail of a list of alerts (links through [`BASE_URL`]).
pub fn digest_message(to: Recipient, alerts: &[Alert], today: Date) -> MailMessage {
    let late = alerts
        .iter()
        .filter(|a| a.kind == AlertKind::EngagementEnRetard)
        .count();
    let subject = if late > 0 {
        format!(
            "Conventions : {} alerte(s), dont {late} engagement(s) en retard",
            alerts.len()
        )
    } else {
        format!("Conventions : {} alerte(s) cette semaine", alerts.len())
    };
    let mut text = format!(
        "Bonjour {},\n\nVoici les alertes sur les conventions que vous suivez, au {} :\n",
        to.name,
        fr(today)
    );
    let mut html = format!(
        "<p>Bonjour {},</p><p>Voici les alertes sur les conventions que vous suivez, au {} :</p>",
        crate::text::escape_html(&to.name),
        fr(today)
    );
    for kind in AlertKind::ALL.iter().copied() {
        let of_kind: Vec<&Alert> = alerts.iter().filter(|a| a.kind == kind).collect();
        if of_kind.is_empty() {
            continue;
        }
        text.push_str(&format!("\n{} ({})\n", kind.label(), of_kind.len()));
        html.push_str(&format!(
            "<h2>{} ({})</h2><ul>",
            crate::text::escape_html(kind.label()),
            of_kind.len()
        ));
        for a in of_kind {
            let link = format!("{BASE_URL}/conventions/{}", a.convention_id);
            text.push_str(&format!("- {}\n  {link}\n", a.text));
            html.push_str(&format!(
                "<li>{} <a href=\"{link}\">Ouvrir la convention</a></li>",
                crate::text::escape_html(&a.text)
            ));
        }
        html.push_str("</ul>");
    }
    text.push_str(&format!(
        "\nToutes vos alertes : {BASE_URL}/conventions/alertes\n\nCe message est envoyé chaque semaine par Gouvernail tant que des alertes demeurent.\n"
    ));
    html.push_str(&format!(
        "<p><a href=\"{BASE_URL}/conventions/alertes\">Toutes vos alertes</a></p><p>Ce message est envoyé chaque semaine par Gouvernail tant que des alertes demeurent.</p>"
    ));
    MailMessage {
        to: vec![to],
        subject,
        text,
        html: Some(html),
        attachments: Vec::new(),
    }
}

/// The dedupe key of a person's digest for the ISO week of `today`.
pub fn digest_key(user_id: &str, today: Date) -> String {
    let (year, week, _) = today.to_iso_week_date();
    format!("alertes-conventions:{user_id}:{year}-S{week:02}")
}

/// What [`queue_digests`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DigestReport {
    /// Accounts looked at (active DANs and collectivité representatives).
    pub people: usize,
    /// Digests queued now (not counting those already queued this week).
    pub queued: usize,
}

/// Queues this week's digest for every active DAN and collectivité representative who has
/// alerts; a digest already queued this week is not queued again.
pub async fn queue_digests(db: &Db, today: Date) -> CoreResult<DigestReport> {
    let mut report = DigestReport::default();
    for user in crate::identity::repo::list_users(db, Some("active")).await? {
        let Some(principal) = crate::identity::service::principal(db, &user.id, false).await? else {
            continue;
        };
        if !principal
            .grants
            .iter()
            .any(|g| matches!(g.role, Role::Dan | Role::RepresentantCollectivite))
        {
            continue;
        }
        report.people += 1;
        let key = digest_key(&user.id, today);
        if jobs::find_by_dedupe_key(db, &key).await?.is_some() {
            continue;
        }
        let found = alerts(db, &principal, today).await?;
        if found.is_empty() {
            continue;
        }
        let message = digest_message(
            Recipient {
                name: user.display_name.clone(),
                email: user.email.clone(),
            },
            &found,
            today,
        );
        let mut tx = db.begin().await?;
        if jobs::enqueue_mail(&mut tx, &message, &key).await? {
            report.queued += 1;
        }
        tx.commit().await?;
    }
    Ok(report)
}
