//! Use-cases of the conventions.
//!
//! Who sees a convention: the readers of any party's perimeter (the national level sees them
//! all; an académie's people see those where the académie, or an organisation of its
//! territory, is a party; a collectivité's representative sees its own). Who changes it
//! (text, events, amendments, every commitment's follow-up): the writers of a party académie
//! (recteur, DAN, membre de la DANE — the académie of a party DSDEN counts too) and the
//! national administrators. A collectivité's representative reports on the commitments its
//! collectivité owes, and on no other. Unreadable: `NotFound`; readable but not allowed:
//! `Forbidden`.
//!
//! The text is edited freely while the convention is unsigned (version 0 follows it); once
//! every party has signed, it changes only by amendment, each one a new numbered version.
//! Every change is audited in its transaction.

use std::collections::{BTreeSet, HashMap};

use time::{Date, OffsetDateTime};

use crate::audit::{self, AuditEntry};
use crate::db::Db;
use crate::error::{CoreError, CoreResult, FieldError};
use crate::governance::repo as governance_repo;
use crate::identity::policy::ancestors;
use crate::identity::service::new_id;
use crate::identity::{Capability, Perimeter, Principal, Role, repo as identity_repo};
use crate::money;
use crate::territory::repo as territory_repo;
use crate::text::search_key;

use super::model::*;
use super::repo;

fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// Today in Paris: the day statuses and lateness are computed for.
pub fn today() -> Date {
    crate::paris::local(now()).date()
}

fn stale(what: &str) -> CoreError {
    CoreError::Conflict(format!(
        "{what} a été modifié(e) par quelqu'un d'autre entre-temps : rechargez et recommencez"
    ))
}

/// Field errors gathered while checking an input, to name them all at once.
#[derive(Debug, Default)]
struct Errors(Vec<FieldError>);

impl Errors {
    fn push(&mut self, field: impl Into<String>, message: impl Into<String>) {
        self.0.push(FieldError::new(field, message));
    }

    /// A trimmed text of at most `max` characters; empty is an error when `required`.
    fn text(&mut self, field: &str, value: &str, max: usize, required: bool) -> String {
        let value = value.trim();
        if required && value.is_empty() {
            self.push(field, "obligatoire");
        } else if value.chars().count() > max {
            self.push(field, format!("{max} caractères au plus"));
        }
        value.to_owned()
    }

    /// An optional text: blank is `None`.
    fn optional(&mut self, field: &str, value: Option<&str>, max: usize) -> Option<String> {
        let value = self.text(field, value.unwrap_or(""), max, false);
        (!value.is_empty()).then_some(value)
    }

    /// An amount in euros, as typed, into cents.
    fn amount(&mut self, field: &str, value: &str) -> Option<i64> {
        match money::parse_euros(value) {
            Some(cents) if cents <= MAX_AMOUNT_CENTS => Some(cents),
            Some(_) => {
                self.push(field, "montant trop élevé");
                None
            }
            None => {
                self.push(
                    field,
                    format!(
                        "« {} » n'est pas un montant en euros (par exemple 12 000,50)",
                        value.trim()
                    ),
                );
                None
            }
        }
    }

    /// A value of a closed list.
    fn parse<T>(&mut self, result: CoreResult<T>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.0.extend(e.fields().iter().cloned());
                None
            }
        }
    }

    fn has(&self, prefix: &str) -> bool {
        self.0.iter().any(|e| e.field.starts_with(prefix))
    }

    fn finish(self) -> CoreResult<()> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(CoreError::Validation(self.0))
        }
    }
}

/// A web link people may follow.
fn is_link(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() <= 500
        && !url.contains(char::is_whitespace)
}

// --- The referential ------------------------------------------------------------------------

/// A party found in the referential: its name and the perimeter whose readers see it.
struct Found {
    name: String,
    perimeter: Perimeter,
}

async fn find_party(db: &Db, r: &PartyRef) -> CoreResult<Option<Found>> {
    let code = r.code.clone();
    Ok(match r.kind {
        PartyKind::Academie => territory_repo::find_academie(db, &code).await?.map(|a| Found {
            name: format!("Académie de {}", a.nom),
            perimeter: Perimeter::Academie(code),
        }),
        PartyKind::Departement => territory_repo::find_departement(db, &code).await?.map(|d| Found {
            name: format!("DSDEN — {} ({})", d.nom, d.code),
            perimeter: Perimeter::Departement(code),
        }),
        PartyKind::Collectivite => territory_repo::find_collectivite(db, &code)
            .await?
            .map(|c| Found {
                name: c.nom,
                perimeter: Perimeter::Collectivite(code),
            }),
        PartyKind::Etablissement => territory_repo::find_etablissement(db, &code)
            .await?
            .map(|e| Found {
                name: e.nom,
                perimeter: Perimeter::Etablissement(code),
            }),
        PartyKind::Organisation => identity_repo::find_organisation(db, &code).await?.map(|o| Found {
            name: o.nom,
            perimeter: Perimeter::Organisation(code),
        }),
        PartyKind::Entreprise => repo::organisation_by_siren(db, &code).await?.map(|o| Found {
            name: o.nom,
            perimeter: Perimeter::Organisation(o.id),
        }),
    })
}

async fn find_place(db: &Db, s: &ScopeRef) -> CoreResult<Option<String>> {
    let code = s.code.as_str();
    Ok(match s.kind {
        ScopeKind::Etablissement => territory_repo::find_etablissement(db, code)
            .await?
            .map(|e| format!("{} ({code})", e.nom)),
        ScopeKind::Commune => territory_repo::find_commune(db, code)
            .await?
            .map(|c| format!("{} ({code})", c.nom)),
        ScopeKind::Collectivite => territory_repo::find_collectivite(db, code).await?.map(|c| c.nom),
        ScopeKind::Departement => territory_repo::find_departement(db, code)
            .await?
            .map(|d| format!("{} ({code})", d.nom)),
        ScopeKind::Academie => territory_repo::find_academie(db, code)
            .await?
            .map(|a| format!("Académie de {}", a.nom)),
        ScopeKind::RegionAcademique => territory_repo::find_region_academique(db, code)
            .await?
            .map(|r| r.nom),
    })
}

// --- Rights ---------------------------------------------------------------------------------

/// What one person may do with one convention (they may read it).
#[derive(Debug, Clone, Default)]
struct Access {
    write: bool,
    /// The parties whose commitments they may report on.
    report: Vec<String>,
}

/// Whether `by` reads any party's perimeter; `cache` remembers perimeters across conventions.
async fn can_read(
    db: &Db,
    by: &Principal,
    parties: &[Party],
    cache: &mut HashMap<String, bool>,
) -> CoreResult<bool> {
    for p in parties {
        let readable = match cache.get(&p.perimeter) {
            Some(known) => *known,
            None => {
                let perimeter = Perimeter::parse(&p.perimeter)?;
                let readable = by.can(db, Capability::Read, &perimeter).await?;
                cache.insert(p.perimeter.clone(), readable);
                readable
            }
        };
        if readable {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The académies on the State side: party académies, and the académies of party DSDEN.
async fn party_academies(db: &Db, parties: &[Party]) -> CoreResult<Vec<String>> {
    let mut out = Vec::new();
    for p in parties {
        match PartyRef::parse(&p.reference) {
            Ok(r) if r.kind == PartyKind::Academie => out.push(r.code),
            Ok(r) if r.kind == PartyKind::Departement => {
                if let Some(code) = territory_repo::find_departement(db, &r.code)
                    .await?
                    .and_then(|d| d.code_academie)
                {
                    out.push(code);
                }
            }
            _ => {}
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Whether `by` writes the convention: a national administrator, or a recteur, DAN or
/// membre de la DANE of a party académie (held on it or on its région académique).
async fn can_write(db: &Db, by: &Principal, parties: &[Party]) -> CoreResult<bool> {
    if by.read_only {
        return Ok(false);
    }
    if by.is_admin() {
        return Ok(true);
    }
    let held: Vec<&Perimeter> = by
        .grants
        .iter()
        .filter(|g| {
            matches!(g.role, Role::Recteur | Role::Dan | Role::MembreDane)
                && g.perimeter != Perimeter::National
        })
        .map(|g| &g.perimeter)
        .collect();
    if held.is_empty() {
        return Ok(false);
    }
    for code in party_academies(db, parties).await? {
        let chain = ancestors(db, &Perimeter::Academie(code)).await?;
        if held.iter().any(|p| chain.contains(p)) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The parties a collectivité's representative speaks for.
fn reportable(by: &Principal, parties: &[Party]) -> Vec<String> {
    if by.read_only {
        return Vec::new();
    }
    parties
        .iter()
        .filter(|p| {
            by.grants
                .iter()
                .any(|g| g.role == Role::RepresentantCollectivite && g.perimeter.to_string() == p.perimeter)
        })
        .map(|p| p.reference.clone())
        .collect()
}

async fn access(db: &Db, by: &Principal, id: &str, parties: &[Party]) -> CoreResult<Access> {
    if !can_read(db, by, parties, &mut HashMap::new()).await? {
        return Err(CoreError::not_found("convention", id));
    }
    Ok(Access {
        write: can_write(db, by, parties).await?,
        report: reportable(by, parties),
    })
}

/// A convention, its parties and what `by` may do with it; `NotFound` when unreadable.
async fn load(db: &Db, by: &Principal, id: &str) -> CoreResult<(Convention, Vec<Party>, Access)> {
    let convention = repo::find_convention(db, id)
        .await?
        .ok_or_else(|| CoreError::not_found("convention", id))?;
    let parties = repo::parties_of(db, id).await?;
    let access = access(db, by, id, &parties).await?;
    Ok((convention, parties, access))
}

fn require(allowed: bool) -> CoreResult<()> {
    if allowed {
        Ok(())
    } else {
        Err(CoreError::Forbidden)
    }
}

/// Whether `by` may read the convention `id` (or the convention of the commitment `id`), for
/// the history of an object.
pub async fn visible(db: &Db, by: &Principal, kind: &str, id: &str) -> CoreResult<bool> {
    let convention_id = match kind {
        "convention" => Some(id.to_owned()),
        "engagement" => repo::find_commitment(db, id).await?.map(|c| c.convention_id),
        _ => None,
    };
    let Some(convention_id) = convention_id else {
        return Ok(false);
    };
    match load(db, by, &convention_id).await {
        Ok(_) => Ok(true),
        Err(CoreError::NotFound { .. }) => Ok(false),
        Err(e) => Err(e),
    }
}

// --- Status ---------------------------------------------------------------------------------

fn standing_of(c: &Convention, parties: &[Party], events: &[Event], today: Date) -> Standing {
    let signatures: Vec<Option<Date>> = parties.iter().map(|p| p.signature_date).collect();
    let facts: Vec<EventFact> = events.iter().filter_map(Event::fact).collect();
    standing(
        &Timeline {
            signatures: &signatures,
            effective_date: c.effective_date,
            end_date: c.end_date,
            duration_months: c.duration_months,
            renewal: c.renewal_rule(),
            notice_months: c.notice_months,
            events: &facts,
        },
        today,
    )
}

/// True once every party has a signature date: the text then changes only by amendment.
fn fully_signed(parties: &[Party]) -> bool {
    !parties.is_empty() && parties.iter().all(|p| p.signature_date.is_some())
}

// --- Checking a text ------------------------------------------------------------------------

/// What a text is checked against.
struct Base<'a> {
    /// The convention row to fill (id, creation, version kept).
    convention: Convention,
    /// The current commitments (matched by code).
    existing: &'a [Commitment],
    /// The highest commitment number ever used (numbers are never reused).
    max_number: i64,
    /// For an amendment: its date, which is the signature of parties added without one.
    amendment_date: Option<Date>,
}

/// A checked text, ready to be written.
struct Draft {
    convention: Convention,
    visas: Vec<String>,
    parties: Vec<Party>,
    scope: Vec<ScopeItem>,
    /// Each commitment, with the version it was read at when it already exists.
    commitments: Vec<(Commitment, Option<i64>)>,
    removed: Vec<Commitment>,
    annex: Vec<AnnexLine>,
    rules: Vec<CofinancingRule>,
}

impl Draft {
    fn snapshot(&self) -> Snapshot {
        let commitments: Vec<Commitment> = self.commitments.iter().map(|(c, _)| c.clone()).collect();
        snapshot(
            &self.convention,
            &self.visas,
            &self.parties,
            &self.scope,
            &commitments,
            &self.annex,
            &self.rules,
        )
    }
}

/// Whether `convention` sits, directly or not, under the convention `id`.
async fn under(db: &Db, convention: &Convention, id: &str) -> CoreResult<bool> {
    let mut parent = convention.parent_id.clone();
    // A chain of cadres is short; the bound only guards against a cycle already stored.
    for _ in 0..100 {
        match parent {
            Some(p) if p == id => return Ok(true),
            Some(p) => parent = repo::find_convention(db, &p).await?.and_then(|c| c.parent_id),
            None => return Ok(false),
        }
    }
    Ok(false)
}

/// Checks a whole text against the referential and the rules, naming every bad field.
async fn check(
    db: &Db,
    by: &Principal,
    input: &ConventionInput,
    base: Base<'_>,
    day: Date,
) -> CoreResult<Draft> {
    let mut e = Errors::default();
    let mut c = base.convention;
    let stamp = now();

    if let Some(kind) = e.parse(ConventionKind::parse(&input.kind, "type")) {
        c.kind = kind.as_str().to_owned();
    }
    let kind = ConventionKind::from_code(&c.kind);
    c.title = e.text("titre", &input.title, 300, true);
    c.object = e.text("objet", &input.object, 10_000, false);
    c.search_key = search_key(&c.title);

    let mut visas = Vec::new();
    for (i, v) in input.visas.iter().enumerate() {
        let v = e.text(&format!("visas[{i}]"), v, 500, false);
        if !v.is_empty() {
            visas.push(v);
        }
    }
    if visas.len() > 100 {
        e.push("visas", "cent visas au plus");
    }
    c.visas = serde_json::to_string(&visas).map_err(|err| CoreError::Internal(err.to_string()))?;

    c.parent_id = None;
    if let Some(parent) = input
        .parent_id
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
    {
        let found = match repo::find_convention(db, parent).await? {
            Some(p) => {
                let parties = repo::parties_of(db, &p.id).await?;
                can_read(db, by, &parties, &mut HashMap::new())
                    .await?
                    .then_some(p)
            }
            None => None,
        };
        match found {
            None => e.push("conventionCadre", format!("convention « {parent} » introuvable")),
            Some(p) if p.id == c.id => {
                e.push("conventionCadre", "une convention ne peut être son propre cadre")
            }
            Some(p) if p.kind != ConventionKind::ConventionCadre.as_str() => e.push(
                "conventionCadre",
                format!(
                    "« {} » ({}) n'est pas une convention-cadre",
                    p.title,
                    p.kind_label().to_lowercase()
                ),
            ),
            Some(p) if under(db, &p, &c.id).await? => e.push(
                "conventionCadre",
                format!("« {} » est elle-même placée sous cette convention", p.title),
            ),
            Some(p) => c.parent_id = Some(p.id),
        }
    }

    // Parties.
    let mut parties: Vec<Party> = Vec::new();
    let mut refs: Vec<Option<PartyRef>> = Vec::new();
    let count = input.parties.len();
    if count < 2 {
        e.push("parties", "une convention lie deux parties au moins");
    } else if count > MAX_LINES {
        e.push("parties", format!("{MAX_LINES} parties au plus"));
    } else if kind == Some(ConventionKind::Bipartite) && count != 2 {
        e.push(
            "parties",
            format!("une convention bipartite lie deux parties, pas {count}"),
        );
    } else if kind == Some(ConventionKind::Tripartite) && count != 3 {
        e.push(
            "parties",
            format!("une convention tripartite lie trois parties, pas {count}"),
        );
    }
    for (i, p) in input.parties.iter().enumerate() {
        let field = format!("parties[{i}]");
        // An unknown party is still counted as one below, so that only `parties[i]` is named.
        let (typed, found) = match PartyRef::parse(&p.reference) {
            Ok(r) if refs.iter().flatten().any(|x| *x == r) => {
                e.push(&field, format!("« {r} » figure déjà parmi les parties"));
                (None, None)
            }
            Ok(r) => {
                let found = find_party(db, &r).await?;
                if found.is_none() {
                    e.push(&field, format!("« {r} » est absent du référentiel"));
                }
                (Some(r), found)
            }
            Err(err) => {
                e.push(format!("{field}{}", err.suffix), err.message);
                (None, None)
            }
        };
        let representative = e.text(&format!("{field}.representant"), &p.representative, 200, false);
        let capacity = e.text(&format!("{field}.qualite"), &p.capacity, 200, false);
        let deliberation_ref = e.optional(
            &format!("{field}.deliberation"),
            p.deliberation_ref.as_deref(),
            200,
        );
        if deliberation_ref.is_some() && p.deliberation_date.is_none() {
            e.push(
                format!("{field}.dateDeliberation"),
                "la date de la délibération est attendue avec sa référence",
            );
        }
        if deliberation_ref.is_none() && p.deliberation_date.is_some() {
            e.push(
                format!("{field}.deliberation"),
                "la référence de la délibération est attendue avec sa date",
            );
        }
        let signature_date = p.signature_date.or(base.amendment_date);
        if let Some(signed) = signature_date {
            if signed > day {
                e.push(
                    format!("{field}.dateSignature"),
                    "une signature ne peut être datée du futur",
                );
            }
            if p.deliberation_date.is_some_and(|d| d > signed) {
                e.push(
                    format!("{field}.dateSignature"),
                    "la signature précède la délibération qui l'autorise",
                );
            }
            if representative.is_empty() {
                e.push(
                    format!("{field}.representant"),
                    "obligatoire pour une partie qui a signé",
                );
            }
        }
        if let (Some(r), Some(found)) = (&typed, found) {
            parties.push(Party {
                id: new_id(),
                convention_id: c.id.clone(),
                position: i64::try_from(i).unwrap_or(i64::MAX),
                reference: r.to_string(),
                perimeter: found.perimeter.to_string(),
                name: found.name,
                representative,
                capacity,
                deliberation_ref,
                deliberation_date: p.deliberation_date,
                signature_date,
            });
        }
        refs.push(typed);
    }
    // A reference typed in a list below, as a party of this text.
    let party_of = |text: &str| -> Option<String> {
        let r = PartyRef::parse(text).ok()?;
        refs.iter().flatten().any(|x| *x == r).then(|| r.to_string())
    };
    let not_a_party = |text: &str| format!("« {} » n'est pas partie à la convention", text.trim());

    // Places.
    let mut scope: Vec<ScopeItem> = Vec::new();
    for (i, s) in input.scope.iter().enumerate() {
        let field = format!("perimetre[{i}]");
        match ScopeRef::parse(s) {
            Ok(r) if scope.iter().any(|x| x.reference == r.to_string()) => {
                e.push(&field, format!("« {r} » figure déjà dans le périmètre"));
            }
            Ok(r) => match find_place(db, &r).await? {
                Some(label) => scope.push(ScopeItem {
                    convention_id: c.id.clone(),
                    position: i64::try_from(i).unwrap_or(i64::MAX),
                    reference: r.to_string(),
                    label,
                }),
                None => e.push(&field, format!("« {r} » est absent du référentiel")),
            },
            Err(message) => e.push(&field, message),
        }
    }
    if scope.len() > 10 * MAX_LINES {
        e.push("perimetre", "dix mille lieux au plus");
    }

    // Dates and renewal.
    c.effective_date = input.effective_date;
    c.end_date = input.end_date;
    if let (Some(start), Some(end)) = (c.effective_date, c.end_date)
        && end < start
    {
        e.push(
            "dateFin",
            format!("la fin ({end}) précède l'entrée en vigueur ({start})"),
        );
    } else if let Some(end) = c.end_date
        && c.effective_date.is_none()
        && let Some(signed) = parties.iter().filter_map(|p| p.signature_date).max()
        && end < signed
    {
        e.push(
            "dateFin",
            format!("la fin ({end}) précède la signature ({signed})"),
        );
    }
    c.duration_months = input.duration_months;
    if input.duration_months.is_some_and(|m| !(1..=1_200).contains(&m)) {
        e.push("dureeMois", "une durée de 1 à 1 200 mois");
    }
    let renewal = if input.renewal.trim().is_empty() {
        Some(Renewal::Aucune)
    } else {
        e.parse(Renewal::parse(&input.renewal, "reconduction"))
    };
    if let Some(renewal) = renewal {
        c.renewal = renewal.as_str().to_owned();
        if renewal == Renewal::Tacite && c.end_date.is_none() && c.duration_months.is_none() {
            e.push(
                "reconduction",
                "une reconduction tacite suppose une date de fin ou une durée",
            );
        }
    }
    c.notice_months = input.notice_months;
    if input.notice_months.is_some_and(|m| !(0..=120).contains(&m)) {
        e.push("preavisMois", "un préavis de 0 à 120 mois");
    }
    c.follow_up_body_id = None;
    if let Some(body) = input
        .follow_up_body_id
        .as_deref()
        .map(str::trim)
        .filter(|b| !b.is_empty())
    {
        if governance_repo::find_body(db, body).await?.is_some() {
            c.follow_up_body_id = Some(body.to_owned());
        } else {
            e.push("instanceSuivi", format!("instance « {body} » introuvable"));
        }
    }

    // Commitments: existing ones keep their number, follow-up and version.
    let mut next = base
        .max_number
        .max(base.existing.iter().map(|x| x.number).max().unwrap_or(0));
    let mut commitments: Vec<(Commitment, Option<i64>)> = Vec::new();
    if input.commitments.len() > MAX_LINES {
        e.push("engagements", format!("{MAX_LINES} engagements au plus"));
    }
    for (i, x) in input.commitments.iter().enumerate() {
        let field = format!("engagements[{i}]");
        let mut current: Option<Commitment> = None;
        if let Some(code) = x.code.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            let code = code.to_uppercase();
            match base.existing.iter().find(|c| c.code() == code) {
                Some(_) if commitments.iter().any(|(c, _)| c.code() == code) => {
                    e.push(
                        format!("{field}.code"),
                        format!("l'engagement {code} figure deux fois"),
                    );
                }
                Some(found) => current = Some(found.clone()),
                None => e.push(
                    format!("{field}.code"),
                    format!("engagement {code} inconnu dans cette convention"),
                ),
            }
        }
        let party = party_of(&x.party);
        if party.is_none() {
            e.push(format!("{field}.partie"), not_a_party(&x.party));
        }
        let category = e.parse(CommitmentCategory::parse(
            &x.category,
            &format!("{field}.categorie"),
        ));
        let description = e.text(&format!("{field}.description"), &x.description, 2_000, true);
        if x.quantity.is_some_and(|q| q < 0) {
            e.push(format!("{field}.quantite"), "une quantité positive ou nulle");
        }
        let amount = x
            .amount
            .as_deref()
            .filter(|a| !a.trim().is_empty())
            .and_then(|a| e.amount(&format!("{field}.montant"), a));
        let recurrence = match x.recurrence.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
            Some(r) => e.parse(Recurrence::parse(r, &format!("{field}.recurrence"))),
            None => None,
        };
        if recurrence.is_some() && x.due_date.is_none() {
            e.push(
                format!("{field}.echeance"),
                "la première échéance d'un engagement récurrent est attendue",
            );
        }
        let indicator = e.optional(&format!("{field}.indicateur"), x.indicator.as_deref(), 100);
        let (Some(party), Some(category)) = (party, category) else {
            continue;
        };
        let expected = current.as_ref().map(|c| c.version);
        let mut commitment = current.unwrap_or_else(|| {
            next += 1;
            Commitment {
                id: new_id(),
                convention_id: c.id.clone(),
                number: next,
                party_ref: String::new(),
                category: String::new(),
                description: String::new(),
                quantity: None,
                amount_cents: None,
                due_date: None,
                recurrence: None,
                indicator: None,
                status: CommitmentStatus::Prevu.as_str().to_owned(),
                kept_through: None,
                evidence_note: String::new(),
                evidence_link: None,
                evidence_document: None,
                indicator_value: None,
                reported_at: None,
                reported_by: None,
                version: 1,
                created_at: stamp,
                updated_at: stamp,
            }
        });
        commitment.party_ref = party;
        commitment.category = category.as_str().to_owned();
        commitment.description = description;
        commitment.quantity = x.quantity;
        commitment.amount_cents = amount;
        commitment.due_date = x.due_date;
        commitment.recurrence = recurrence.map(|r| r.as_str().to_owned());
        commitment.indicator = indicator;
        commitment.updated_at = stamp;
        commitments.push((commitment, expected));
    }
    let removed: Vec<Commitment> = base
        .existing
        .iter()
        .filter(|old| !commitments.iter().any(|(c, _)| c.id == old.id))
        .cloned()
        .collect();

    // Financial annex.
    let mut annex: Vec<AnnexLine> = Vec::new();
    let mut facts: Vec<LineFact> = Vec::new();
    if input.annex.len() > MAX_LINES {
        e.push("annexe", format!("{MAX_LINES} lignes au plus"));
    }
    for (i, l) in input.annex.iter().enumerate() {
        let field = format!("annexe[{i}]");
        if !(2000..=2100).contains(&l.year) {
            e.push(
                format!("{field}.annee"),
                format!("année « {} » invalide (2000 à 2100)", l.year),
            );
        }
        let party = party_of(&l.party);
        if party.is_none() {
            e.push(format!("{field}.partie"), not_a_party(&l.party));
        }
        let nature = e.parse(Nature::parse(&l.nature, &format!("{field}.nature")));
        let amount = e.amount(&format!("{field}.montant"), &l.amount);
        let label = e.text(&format!("{field}.libelle"), &l.label, 200, false);
        let (Some(party), Some(nature), Some(amount)) = (party, nature, amount) else {
            continue;
        };
        if annex
            .iter()
            .any(|x| x.year == l.year && x.party_ref == party && x.nature == nature.as_str())
        {
            e.push(
                &field,
                format!("une ligne {} {} {party} figure déjà", l.year, nature.as_str()),
            );
            continue;
        }
        facts.push(LineFact {
            index: i,
            year: l.year,
            party: party.clone(),
            nature,
            amount,
        });
        annex.push(AnnexLine {
            id: new_id(),
            convention_id: c.id.clone(),
            position: i64::try_from(i).unwrap_or(i64::MAX),
            year: l.year,
            party_ref: party,
            nature: nature.as_str().to_owned(),
            amount_cents: amount,
            label,
        });
    }

    // Co-financing rules, then the annex against them.
    let mut rules: Vec<CofinancingRule> = Vec::new();
    let mut rule_facts: Vec<RuleFact> = Vec::new();
    for (i, r) in input.cofinancing.iter().enumerate() {
        let field = format!("cofinancements[{i}]");
        let funder = party_of(&r.funder);
        if funder.is_none() {
            e.push(format!("{field}.financeur"), not_a_party(&r.funder));
        }
        let kind = e.parse(CofinancingKind::parse(&r.kind, &format!("{field}.type")));
        let (min_bp, max_bp) = match (kind, r.min_bp, r.max_bp) {
            (Some(CofinancingKind::Parite), _, _) => (0, 5_000),
            (Some(CofinancingKind::Taux), Some(min), Some(max))
                if 0 <= min && min <= max && max <= 10_000 =>
            {
                (min, max)
            }
            (Some(CofinancingKind::Taux), Some(_), Some(_)) => {
                e.push(
                    format!("{field}.taux"),
                    "un taux minimal et un taux maximal entre 0 et 10 000 points de base, le minimal d'abord",
                );
                (0, 0)
            }
            (Some(CofinancingKind::Taux), _, _) => {
                e.push(
                    format!("{field}.taux"),
                    "un taux minimal et un taux maximal sont attendus (5 000 = 50 %)",
                );
                (0, 0)
            }
            (None, _, _) => (0, 0),
        };
        let cap = r
            .cap
            .as_deref()
            .filter(|a| !a.trim().is_empty())
            .and_then(|a| e.amount(&format!("{field}.plafond"), a));
        let nature = match r.nature.as_deref().map(str::trim).filter(|n| !n.is_empty()) {
            Some(n) => e.parse(Nature::parse(n, &format!("{field}.nature"))).map(Some),
            None => Some(None),
        };
        let (Some(funder), Some(kind), Some(nature)) = (funder, kind, nature) else {
            continue;
        };
        if rules
            .iter()
            .any(|x| x.funder_ref == funder && x.nature.as_deref() == nature.map(Nature::as_str))
        {
            e.push(
                &field,
                format!("une règle de cofinancement de {funder} figure déjà"),
            );
            continue;
        }
        rule_facts.push(RuleFact {
            index: i,
            funder: funder.clone(),
            kind,
            min_bp,
            max_bp,
            cap,
            nature,
        });
        rules.push(CofinancingRule {
            id: new_id(),
            convention_id: c.id.clone(),
            position: i64::try_from(i).unwrap_or(i64::MAX),
            funder_ref: funder,
            kind: kind.as_str().to_owned(),
            min_bp,
            max_bp,
            cap_cents: cap,
            nature: nature.map(|n| n.as_str().to_owned()),
        });
    }
    if !e.has("annexe") && !e.has("cofinancements") {
        e.0.extend(check_cofinancing(&facts, &rule_facts));
    }

    e.finish()?;
    c.updated_at = stamp;
    Ok(Draft {
        convention: c,
        visas,
        parties,
        scope,
        commitments,
        removed,
        annex,
        rules,
    })
}

/// Writes a checked text over the convention read at `expected`; false when something changed
/// in between (the convention or one of its commitments).
async fn write(tx: &mut crate::db::Tx, d: &Draft, expected: i64) -> CoreResult<bool> {
    if !repo::update_convention(tx, &d.convention, expected).await? {
        return Ok(false);
    }
    let id = d.convention.id.as_str();
    repo::replace_parties(tx, id, &d.parties).await?;
    repo::replace_scope(tx, id, &d.scope).await?;
    for old in &d.removed {
        if !repo::delete_commitment(tx, &old.id, old.version).await? {
            return Ok(false);
        }
    }
    for (c, version) in &d.commitments {
        match version {
            Some(v) => {
                if !repo::update_commitment(tx, c, *v).await? {
                    return Ok(false);
                }
            }
            None => repo::insert_commitment(tx, c).await?,
        }
    }
    repo::replace_annex(tx, id, &d.annex).await?;
    repo::replace_cofinancing(tx, id, &d.rules).await?;
    Ok(true)
}

fn to_json(snapshot: &Snapshot) -> CoreResult<String> {
    serde_json::to_string(snapshot).map_err(|e| CoreError::Internal(format!("version illisible : {e}")))
}

fn from_json(number: i64, text: &str) -> CoreResult<Snapshot> {
    serde_json::from_str(text).map_err(|e| CoreError::Internal(format!("version {number} illisible : {e}")))
}

/// The changes, as the audit trail keeps them.
fn changes_json(changes: &[Change]) -> serde_json::Value {
    serde_json::Value::Array(
        changes
            .iter()
            .map(|c| serde_json::json!({ "element": c.element, "champ": c.field, "avant": c.before, "apres": c.after }))
            .collect(),
    )
}

/// The highest commitment number in any version (so that a dropped `E3` is never reused).
fn max_number(versions: &[Version]) -> i64 {
    versions
        .iter()
        .filter_map(|v| serde_json::from_str::<Snapshot>(&v.snapshot).ok())
        .flat_map(|s| {
            s.keys()
                .filter_map(|k| k.strip_prefix("engagement E").and_then(|n| n.parse::<i64>().ok()))
                .collect::<Vec<_>>()
        })
        .max()
        .unwrap_or(0)
}

// --- Conventions ----------------------------------------------------------------------------

/// Records a new convention (a writer of a party académie, or a national administrator).
/// Commitment codes in `input` are ignored: a new convention numbers its own (so that another
/// convention's text, from [`ConventionView::to_input`], may serve as a model).
pub async fn create_convention(
    db: &Db,
    by: &Principal,
    input: &ConventionInput,
) -> CoreResult<ConventionView> {
    if by.read_only {
        return Err(CoreError::Forbidden);
    }
    let mut input = input.clone();
    for c in &mut input.commitments {
        c.code = None;
    }
    let stamp = now();
    let base = Convention {
        id: new_id(),
        kind: String::new(),
        title: String::new(),
        object: String::new(),
        visas: "[]".into(),
        parent_id: None,
        effective_date: None,
        end_date: None,
        duration_months: None,
        renewal: Renewal::Aucune.as_str().to_owned(),
        notice_months: None,
        follow_up_body_id: None,
        search_key: String::new(),
        created_by: Some(by.user.id.clone()),
        version: 1,
        created_at: stamp,
        updated_at: stamp,
    };
    let draft = check(
        db,
        by,
        &input,
        Base {
            convention: base,
            existing: &[],
            max_number: 0,
            amendment_date: None,
        },
        today(),
    )
    .await?;
    require(can_write(db, by, &draft.parties).await?)?;
    let c = &draft.convention;
    let snapshot = draft.snapshot();
    let text = to_json(&snapshot)?;
    let mut tx = db.begin().await?;
    repo::insert_convention(&mut tx, c).await?;
    repo::replace_parties(&mut tx, &c.id, &draft.parties).await?;
    repo::replace_scope(&mut tx, &c.id, &draft.scope).await?;
    for (commitment, _) in &draft.commitments {
        repo::insert_commitment(&mut tx, commitment).await?;
    }
    repo::replace_annex(&mut tx, &c.id, &draft.annex).await?;
    repo::replace_cofinancing(&mut tx, &c.id, &draft.rules).await?;
    repo::insert_version(
        &mut tx,
        &new_id(),
        &c.id,
        0,
        None,
        &text,
        Some(&by.user.id),
        stamp,
    )
    .await?;
    let after = serde_json::to_value(&snapshot).map_err(|e| CoreError::Internal(e.to_string()))?;
    audit::record(
        &mut tx,
        &by.actor(),
        "creer",
        "convention",
        &c.id,
        None,
        Some(&after),
    )
    .await?;
    tx.commit().await?;
    get_convention(db, by, &draft.convention.id, today()).await
}

/// Changes the text of a convention that not every party has signed yet (after that, an
/// amendment is needed). `input` is the whole new text.
pub async fn update_convention(
    db: &Db,
    by: &Principal,
    id: &str,
    version: i64,
    input: &ConventionInput,
) -> CoreResult<ConventionView> {
    let (current, parties, access) = load(db, by, id).await?;
    require(access.write)?;
    if current.version != version {
        return Err(stale("La convention"));
    }
    if fully_signed(&parties) {
        return Err(CoreError::Conflict(
            "toutes les parties ont signé : la convention ne change plus que par avenant".to_owned(),
        ));
    }
    let existing = repo::commitments_of(db, id).await?;
    let versions = repo::versions_of(db, id).await?;
    let draft = check(
        db,
        by,
        input,
        Base {
            convention: current.clone(),
            existing: &existing,
            max_number: max_number(&versions),
            amendment_date: None,
        },
        today(),
    )
    .await?;
    // Nobody moves a convention out of their own reach.
    require(can_write(db, by, &draft.parties).await?)?;
    let before = match versions.last() {
        Some(v) => from_json(v.number, &v.snapshot)?,
        None => Snapshot::new(),
    };
    let after = draft.snapshot();
    let changes = compare(&before, &after);
    let stamp = now();
    let mut tx = db.begin().await?;
    if !write(&mut tx, &draft, version).await? {
        return Err(stale("La convention"));
    }
    repo::rewrite_initial_version(&mut tx, id, &to_json(&after)?, stamp).await?;
    audit::record(
        &mut tx,
        &by.actor(),
        "modifier",
        "convention",
        id,
        Some(&serde_json::json!({ "version": current.version })),
        Some(&serde_json::json!({ "version": version + 1, "changements": changes_json(&changes) })),
    )
    .await?;
    tx.commit().await?;
    get_convention(db, by, id, today()).await
}

/// Applies an amendment: its number is the next one, `input.content` the whole new text
/// (commitments are matched by code, so their follow-up stays). Produces the next version.
/// Parties added without a signature date sign on the amendment's date.
pub async fn apply_amendment(
    db: &Db,
    by: &Principal,
    id: &str,
    version: i64,
    input: &AmendmentInput,
) -> CoreResult<ConventionView> {
    let (current, parties, access) = load(db, by, id).await?;
    require(access.write)?;
    if current.version != version {
        return Err(stale("La convention"));
    }
    let day = today();
    let events = repo::events_of(db, id).await?;
    let standing = standing_of(&current, &parties, &events, day);
    match standing.status {
        ConventionStatus::Projet | ConventionStatus::EnNegociation => {
            return Err(CoreError::Conflict(
                "la convention n'est pas encore signée par toutes les parties : modifiez son texte directement"
                    .to_owned(),
            ));
        }
        ConventionStatus::Resiliee => {
            return Err(CoreError::Conflict(
                "la convention est résiliée : elle ne se modifie plus".to_owned(),
            ));
        }
        _ => {}
    }
    let mut errors = Errors::default();
    let object = errors.text("avenant.objet", &input.object, 2_000, true);
    if input.signed_on > day {
        errors.push("avenant.date", "un avenant ne peut être daté du futur");
    }
    if let Some(signed) = standing.signed_on
        && input.signed_on < signed
    {
        errors.push(
            "avenant.date",
            format!("l'avenant précède la signature de la convention ({signed})"),
        );
    }
    let existing = repo::commitments_of(db, id).await?;
    let versions = repo::versions_of(db, id).await?;
    let checked = check(
        db,
        by,
        &input.content,
        Base {
            convention: current.clone(),
            existing: &existing,
            max_number: max_number(&versions),
            amendment_date: Some(input.signed_on),
        },
        day,
    )
    .await;
    let draft = match checked {
        Ok(d) => {
            errors.finish()?;
            d
        }
        Err(CoreError::Validation(more)) => {
            errors.0.extend(more);
            return Err(CoreError::Validation(errors.0));
        }
        Err(other) => return Err(other),
    };
    require(can_write(db, by, &draft.parties).await?)?;
    let before = match versions.last() {
        Some(v) => from_json(v.number, &v.snapshot)?,
        None => Snapshot::new(),
    };
    let after = draft.snapshot();
    let changes = compare(&before, &after);
    let stamp = now();
    let mut tx = db.begin().await?;
    let number = repo::next_amendment_number(&mut tx, id).await?;
    let amendment = Amendment {
        id: new_id(),
        convention_id: id.to_owned(),
        number,
        signed_on: input.signed_on,
        object,
        created_by: Some(by.user.id.clone()),
        created_at: stamp,
    };
    repo::insert_amendment(&mut tx, &amendment).await?;
    if !write(&mut tx, &draft, version).await? {
        return Err(stale("La convention"));
    }
    repo::insert_version(
        &mut tx,
        &new_id(),
        id,
        number,
        Some(&amendment.id),
        &to_json(&after)?,
        Some(&by.user.id),
        stamp,
    )
    .await?;
    audit::record(
        &mut tx,
        &by.actor(),
        "avenant",
        "convention",
        id,
        Some(&serde_json::json!({ "version": number - 1 })),
        Some(&serde_json::json!({
            "version": number, "avenant": number, "date": amendment.signed_on.to_string(),
            "objet": amendment.object, "changements": changes_json(&changes),
        })),
    )
    .await?;
    tx.commit().await?;
    get_convention(db, by, id, today()).await
}

/// Records an event of the convention's life: the opening of the negotiation, an express
/// renewal (with its new end), a denunciation against the tacit renewal, a termination (its
/// date is the first day without the convention).
pub async fn record_event(
    db: &Db,
    by: &Principal,
    id: &str,
    version: i64,
    input: &EventInput,
) -> CoreResult<ConventionView> {
    let (current, parties, access) = load(db, by, id).await?;
    require(access.write)?;
    if current.version != version {
        return Err(stale("La convention"));
    }
    let events = repo::events_of(db, id).await?;
    let standing = standing_of(&current, &parties, &events, today());
    let mut e = Errors::default();
    let kind = e.parse(EventKind::parse(&input.kind, "type"));
    let note = e.text("note", &input.note, 2_000, false);
    let in_force = matches!(
        standing.status,
        ConventionStatus::Signee | ConventionStatus::EnVigueur | ConventionStatus::Renouvelee
    );
    let status = standing.status.label().to_lowercase();
    match kind {
        Some(EventKind::Negociation) if standing.status != ConventionStatus::Projet => {
            return Err(CoreError::Conflict(format!(
                "la convention est {status} : la négociation n'est plus à ouvrir"
            )));
        }
        Some(EventKind::Renouvellement | EventKind::Denonciation | EventKind::Resiliation) if !in_force => {
            return Err(CoreError::Conflict(format!(
                "la convention est {status} : elle n'est pas en vigueur"
            )));
        }
        Some(EventKind::Renouvellement) => {
            if current.renewal_rule() == Renewal::Aucune {
                e.push(
                    "type",
                    "la convention ne prévoit pas de renouvellement : prolongez-la par avenant",
                );
            }
            match (input.new_end, standing.end) {
                (None, _) => e.push("nouvelleFin", "la nouvelle date de fin est attendue"),
                (Some(new_end), Some(end)) if new_end <= end => {
                    e.push(
                        "nouvelleFin",
                        format!("la nouvelle fin doit suivre la fin actuelle ({end})"),
                    );
                }
                _ => {}
            }
        }
        Some(EventKind::Denonciation) if current.renewal_rule() != Renewal::Tacite => {
            e.push("type", "seule une reconduction tacite se dénonce");
        }
        Some(EventKind::Resiliation) if standing.start.is_some_and(|s| input.date < s) => {
            e.push("date", "la résiliation précède l'entrée en vigueur");
        }
        _ => {}
    }
    e.finish()?;
    let Some(kind) = kind else {
        return Err(CoreError::Internal("type d'événement perdu".into()));
    };
    let event = Event {
        id: new_id(),
        convention_id: id.to_owned(),
        kind: kind.as_str().to_owned(),
        event_date: input.date,
        new_end: if kind == EventKind::Renouvellement {
            input.new_end
        } else {
            None
        },
        note,
        created_by: Some(by.user.id.clone()),
        created_at: now(),
    };
    let mut touched = current.clone();
    touched.updated_at = event.created_at;
    let mut tx = db.begin().await?;
    if !repo::update_convention(&mut tx, &touched, version).await? {
        return Err(stale("La convention"));
    }
    repo::insert_event(&mut tx, &event).await?;
    audit::record(
        &mut tx,
        &by.actor(),
        "evenement",
        "convention",
        id,
        Some(&serde_json::json!({ "statut": standing.status.as_str() })),
        Some(&serde_json::json!({
            "type": event.kind, "date": event.event_date.to_string(),
            "nouvelleFin": event.new_end.map(|d| d.to_string()), "note": event.note,
        })),
    )
    .await?;
    tx.commit().await?;
    get_convention(db, by, id, today()).await
}

/// Builds the page of a convention, with statuses as they stand on `today`.
async fn view(
    db: &Db,
    by: &Principal,
    convention: Convention,
    parties: Vec<Party>,
    access: Access,
    today: Date,
) -> CoreResult<ConventionView> {
    let id = convention.id.clone();
    let scope = repo::scope_of(db, &id).await?;
    let commitments = repo::commitments_of(db, &id).await?;
    let annex = repo::annex_of(db, &id).await?;
    let cofinancing = repo::cofinancing_of(db, &id).await?;
    let events = repo::events_of(db, &id).await?;
    let amendments = repo::amendments_of(db, &id).await?;
    let standing = standing_of(&convention, &parties, &events, today);
    let name_of = |reference: &str| {
        parties
            .iter()
            .find(|p| p.reference == reference)
            .map_or_else(|| reference.to_owned(), |p| p.name.clone())
    };
    let mut compliance = Compliance::default();
    let mut by_party: Vec<PartyCompliance> = parties
        .iter()
        .map(|p| PartyCompliance {
            party_ref: p.reference.clone(),
            party_name: p.name.clone(),
            compliance: Compliance::default(),
        })
        .collect();
    let commitments: Vec<CommitmentState> = commitments
        .into_iter()
        .map(|c| {
            let followed = c.follow(today);
            compliance.add(&followed);
            if let Some(p) = by_party.iter_mut().find(|p| p.party_ref == c.party_ref) {
                p.compliance.add(&followed);
            }
            CommitmentState {
                party_name: name_of(&c.party_ref),
                commitment: c,
                followed,
            }
        })
        .collect();
    let order: Vec<String> = parties.iter().map(|p| p.reference.clone()).collect();
    let totals = totals(&annex, &order);
    let mut cache = HashMap::new();
    let parent = match convention.parent_id.as_deref() {
        Some(parent_id) => match repo::find_convention(db, parent_id).await? {
            Some(p) if can_read(db, by, &repo::parties_of(db, &p.id).await?, &mut cache).await? => {
                Some((p.id, p.title))
            }
            _ => None,
        },
        None => None,
    };
    let mut children = Vec::new();
    for child in repo::children_of(db, &id).await? {
        if can_read(db, by, &repo::parties_of(db, &child.id).await?, &mut cache).await? {
            children.push((child.id, child.title));
        }
    }
    Ok(ConventionView {
        visas: convention.visas(),
        current_version: amendments.iter().map(|a| a.number).max().unwrap_or(0),
        convention,
        parties,
        scope,
        commitments,
        annex,
        cofinancing,
        events,
        amendments,
        parent,
        children,
        standing,
        compliance,
        compliance_by_party: by_party,
        totals,
        can_write: access.write,
        can_report: access.report,
    })
}

/// A convention as it stands on `today` (statuses and lateness are computed for that day).
pub async fn get_convention(db: &Db, by: &Principal, id: &str, today: Date) -> CoreResult<ConventionView> {
    let (convention, parties, access) = load(db, by, id).await?;
    view(db, by, convention, parties, access, today).await
}

fn bad_request(e: CoreError) -> CoreError {
    match e {
        CoreError::Validation(fields) => CoreError::BadRequest(fields),
        other => other,
    }
}

/// An académie code given as a filter.
fn academie_code(code: &str) -> CoreResult<String> {
    let code = code.trim();
    if (2..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit()) {
        Ok(code.to_owned())
    } else {
        Err(CoreError::bad_request(
            "academie",
            format!("code d'académie « {code} » invalide"),
        ))
    }
}

/// Whether the académie, or an organisation of its territory, is a party.
async fn concerns(
    db: &Db,
    parties: &[Party],
    academie: &str,
    cache: &mut HashMap<String, Vec<Perimeter>>,
) -> CoreResult<bool> {
    let target = Perimeter::Academie(academie.to_owned());
    for p in parties {
        let chain = match cache.get(&p.perimeter) {
            Some(chain) => chain.clone(),
            None => {
                let chain = ancestors(db, &Perimeter::parse(&p.perimeter)?).await?;
                cache.insert(p.perimeter.clone(), chain.clone());
                chain
            }
        };
        if chain.contains(&target) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// The register: the conventions `by` may read, filtered, with their status on `today`.
pub async fn list_conventions(
    db: &Db,
    by: &Principal,
    filter: &ConventionFilter,
    today: Date,
) -> CoreResult<Vec<ConventionSummary>> {
    let kind = match filter.kind.as_deref().filter(|k| !k.trim().is_empty()) {
        Some(k) => Some(ConventionKind::parse(k, "type").map_err(bad_request)?),
        None => None,
    };
    let status = match filter.status.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(s) => Some(ConventionStatus::parse(s, "statut").map_err(bad_request)?),
        None => None,
    };
    let academie = match filter.academie.as_deref().filter(|a| !a.trim().is_empty()) {
        Some(a) => Some(academie_code(a)?),
        None => None,
    };
    let conventions = match filter.party.as_deref().filter(|p| !p.trim().is_empty()) {
        Some(p) => {
            let r = PartyRef::parse(p)
                .map_err(|e| CoreError::bad_request(format!("partie{}", e.suffix), e.message))?;
            repo::conventions_with_party(db, &r.to_string()).await?
        }
        None => repo::list_conventions(db).await?,
    };
    let mut parties: HashMap<String, Vec<Party>> = HashMap::new();
    for p in repo::all_parties(db).await? {
        parties.entry(p.convention_id.clone()).or_default().push(p);
    }
    let mut events: HashMap<String, Vec<Event>> = HashMap::new();
    for e in repo::all_events(db).await? {
        events.entry(e.convention_id.clone()).or_default().push(e);
    }
    let mut commitments: HashMap<String, Vec<Commitment>> = HashMap::new();
    for c in repo::all_commitments(db).await? {
        commitments.entry(c.convention_id.clone()).or_default().push(c);
    }
    let totals: HashMap<String, i64> = repo::annex_totals(db).await?.into_iter().collect();
    let (mut readable, mut chains) = (HashMap::new(), HashMap::new());
    let mut out = Vec::new();
    for c in conventions {
        let these = parties.remove(&c.id).unwrap_or_default();
        if kind.is_some_and(|k| k.as_str() != c.kind) || !can_read(db, by, &these, &mut readable).await? {
            continue;
        }
        if let Some(code) = &academie
            && !concerns(db, &these, code, &mut chains).await?
        {
            continue;
        }
        let standing = standing_of(
            &c,
            &these,
            events.get(&c.id).map(Vec::as_slice).unwrap_or_default(),
            today,
        );
        if status.is_some_and(|s| s != standing.status) {
            continue;
        }
        let mut compliance = Compliance::default();
        for commitment in commitments.get(&c.id).map(Vec::as_slice).unwrap_or_default() {
            compliance.add(&commitment.follow(today));
        }
        out.push(ConventionSummary {
            total_cents: totals.get(&c.id).copied().unwrap_or(0),
            parties: these.into_iter().map(|p| (p.reference, p.name)).collect(),
            convention: c,
            standing,
            compliance,
        });
    }
    Ok(out)
}

// --- Commitments ----------------------------------------------------------------------------

/// Reports on a commitment: its status and evidence. The writers of the convention report on
/// every commitment; a collectivité's representative on its collectivité's own.
///
/// A recurring commitment reported `tenu` covers its first occurrence not yet kept, if that
/// one falls at most one period ahead, and only when the status becomes `tenu` or when that
/// occurrence has already come (so that reporting again, to add evidence, does not cover the
/// next year in advance).
pub async fn report_commitment(
    db: &Db,
    by: &Principal,
    commitment_id: &str,
    version: i64,
    report: &CommitmentReport,
) -> CoreResult<CommitmentState> {
    let current = repo::find_commitment(db, commitment_id)
        .await?
        .ok_or_else(|| CoreError::not_found("engagement", commitment_id))?;
    let parties = repo::parties_of(db, &current.convention_id).await?;
    let access = access(db, by, &current.convention_id, &parties)
        .await
        .map_err(|e| match e {
            CoreError::NotFound { .. } => CoreError::not_found("engagement", commitment_id),
            other => other,
        })?;
    require(access.write || access.report.contains(&current.party_ref))?;
    if current.version != version {
        return Err(stale("L'engagement"));
    }
    let day = today();
    let mut c = current.clone();
    let mut e = Errors::default();
    if let Some(status) = &report.status
        && let Some(status) = e.parse(CommitmentStatus::parse(status, "statut"))
    {
        let was_kept = c.status == CommitmentStatus::Tenu.as_str();
        c.status = status.as_str().to_owned();
        let recurrence = c.recurrence.as_deref().and_then(Recurrence::from_code);
        if let (CommitmentStatus::Tenu, Some(recurrence), Some(anchor)) = (status, recurrence, c.due_date)
            && let Some(next) = next_occurrence(anchor, recurrence, c.kept_through)
            && add_months(day, recurrence.months()).is_some_and(|limit| next <= limit)
            && (!was_kept || next <= day)
        {
            c.kept_through = Some(next);
        }
    }
    if let Some(note) = &report.evidence_note {
        c.evidence_note = e.text("note", note, 4_000, false);
    }
    if let Some(link) = &report.evidence_link {
        c.evidence_link = e.optional("lien", link.as_deref(), 500);
        if c.evidence_link.as_deref().is_some_and(|l| !is_link(l)) {
            e.push("lien", "une adresse web (https://…) est attendue");
        }
    }
    if let Some(document) = &report.evidence_document {
        c.evidence_document = e.optional("document", document.as_deref(), 255);
    }
    if let Some(value) = &report.indicator_value {
        c.indicator_value = e.optional("valeurIndicateur", value.as_deref(), 100);
    }
    e.finish()?;
    let stamp = now();
    c.reported_at = Some(stamp);
    c.reported_by = Some(by.user.id.clone());
    c.updated_at = stamp;
    let follow_up = |c: &Commitment| {
        serde_json::json!({
            "engagement": c.code(), "statut": c.status, "tenuJusquAu": c.kept_through.map(|d| d.to_string()),
            "note": c.evidence_note, "lien": c.evidence_link, "document": c.evidence_document,
            "valeurIndicateur": c.indicator_value,
        })
    };
    let mut tx = db.begin().await?;
    if !repo::update_commitment(&mut tx, &c, version).await? {
        return Err(stale("L'engagement"));
    }
    c.version = version + 1;
    audit::record(
        &mut tx,
        &by.actor(),
        "rendre-compte",
        "engagement",
        &c.id,
        Some(&follow_up(&current)),
        Some(&follow_up(&c)),
    )
    .await?;
    tx.commit().await?;
    let party_name = parties
        .iter()
        .find(|p| p.reference == c.party_ref)
        .map_or_else(|| c.party_ref.clone(), |p| p.name.clone());
    Ok(CommitmentState {
        followed: c.follow(day),
        party_name,
        commitment: c,
    })
}

/// Commitments with their conventions, keeping those `by` may read.
async fn lines(
    db: &Db,
    by: &Principal,
    commitments: Vec<Commitment>,
    academie: Option<&str>,
    today: Date,
    late_only: bool,
) -> CoreResult<Vec<CommitmentLine>> {
    struct Known {
        convention: Convention,
        parties: Vec<Party>,
        status: ConventionStatus,
    }
    let mut known: HashMap<String, Option<Known>> = HashMap::new();
    let (mut readable, mut chains) = (HashMap::new(), HashMap::new());
    let mut out = Vec::new();
    for c in commitments {
        if !known.contains_key(&c.convention_id) {
            let entry = match repo::find_convention(db, &c.convention_id).await? {
                Some(convention) => {
                    let parties = repo::parties_of(db, &convention.id).await?;
                    let mut keep = can_read(db, by, &parties, &mut readable).await?;
                    if let Some(code) = academie {
                        keep = keep && concerns(db, &parties, code, &mut chains).await?;
                    }
                    if keep {
                        let events = repo::events_of(db, &convention.id).await?;
                        let status = standing_of(&convention, &parties, &events, today).status;
                        Some(Known {
                            convention,
                            parties,
                            status,
                        })
                    } else {
                        None
                    }
                }
                None => None,
            };
            known.insert(c.convention_id.clone(), entry);
        }
        let Some(Some(k)) = known.get(&c.convention_id) else {
            continue;
        };
        let followed = c.follow(today);
        if late_only && !followed.late {
            continue;
        }
        let party_name = k
            .parties
            .iter()
            .find(|p| p.reference == c.party_ref)
            .map_or_else(|| c.party_ref.clone(), |p| p.name.clone());
        out.push(CommitmentLine {
            state: CommitmentState {
                commitment: c,
                party_name,
                followed,
            },
            convention_id: k.convention.id.clone(),
            convention_title: k.convention.title.clone(),
            convention_status: k.status,
        });
    }
    sort_lines(&mut out);
    Ok(out)
}

/// Everything one organisation has promised, in every convention `by` may read, the late
/// commitments first: `collectivite:223500018` for the Département d'Ille-et-Vilaine.
pub async fn commitments_of(
    db: &Db,
    by: &Principal,
    party: &str,
    today: Date,
) -> CoreResult<Vec<CommitmentLine>> {
    let r = PartyRef::parse(party)
        .map_err(|e| CoreError::bad_request(format!("partie{}", e.suffix), e.message))?;
    let commitments = repo::commitments_of_party(db, &r.to_string()).await?;
    lines(db, by, commitments, None, today, false).await
}

/// The late commitments of the conventions `by` may read (for a DAN: those where the
/// académie, or an organisation of its territory, is a party), optionally of one académie.
pub async fn late_commitments(
    db: &Db,
    by: &Principal,
    academie: Option<&str>,
    today: Date,
) -> CoreResult<Vec<CommitmentLine>> {
    let academie = match academie.filter(|a| !a.trim().is_empty()) {
        Some(a) => Some(academie_code(a)?),
        None => None,
    };
    let candidates = repo::late_candidates(db, today).await?;
    lines(db, by, candidates, academie.as_deref(), today, true).await
}

// --- Versions and history -------------------------------------------------------------------

/// The versions of a convention's text: 0 the initial convention, `n` after amendment `n`.
pub async fn versions(db: &Db, by: &Principal, id: &str) -> CoreResult<Vec<VersionInfo>> {
    load(db, by, id).await?;
    let amendments = repo::amendments_of(db, id).await?;
    Ok(repo::versions_of(db, id)
        .await?
        .into_iter()
        .map(|v| VersionInfo {
            number: v.number,
            amendment: v
                .amendment_id
                .as_deref()
                .and_then(|a| amendments.iter().find(|x| x.id == a).cloned()),
            created_by: v.created_by,
            created_at: v.created_at,
        })
        .collect())
}

/// What changed from version `a` to version `b` of a convention's text.
pub async fn compare_versions(db: &Db, by: &Principal, id: &str, a: i64, b: i64) -> CoreResult<Vec<Change>> {
    load(db, by, id).await?;
    let all = repo::versions_of(db, id).await?;
    let get = |n: i64| {
        all.iter()
            .find(|v| v.number == n)
            .ok_or_else(|| CoreError::not_found("version", n))
            .and_then(|v| from_json(n, &v.snapshot))
    };
    Ok(compare(&get(a)?, &get(b)?))
}

/// Who changed what: the trail of the convention and of its current commitments, the most
/// recent first.
pub async fn history(db: &Db, by: &Principal, id: &str) -> CoreResult<Vec<AuditEntry>> {
    load(db, by, id).await?;
    let mut objects = vec![("convention", id.to_owned())];
    objects.extend(
        repo::commitments_of(db, id)
            .await?
            .into_iter()
            .map(|c| ("engagement", c.id)),
    );
    let mut entries = Vec::new();
    let mut seen = BTreeSet::new();
    for (kind, object) in objects {
        let filter = audit::AuditFilter {
            object_kind: Some(kind.to_owned()),
            object_id: Some(object),
            ..Default::default()
        };
        for entry in audit::list(db, &filter, 1_000, 0).await?.0 {
            if seen.insert(entry.seq) {
                entries.push(entry);
            }
        }
    }
    entries.sort_by_key(|e| std::cmp::Reverse(e.seq));
    Ok(entries)
}
