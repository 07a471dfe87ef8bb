//! Use-cases of the indicators: the dictionary, targets, values and their workflow.
//!
//! Who sees an indicator: everyone signed in for a national one, the readers of the académie
//! for an académie's own. Who changes it: the writers of its owner's perimeter. Who enters a
//! value: the writers of the value's perimeter. Who validates, locks and reopens: the people
//! who may appoint there (DAN, recteur, national administrator), i.e. the DAN or the person
//! the DAN delegated the role to. Every change is audited, except the lines of a bulk import,
//! which are audited once per file.

use time::{Date, OffsetDateTime};

use crate::audit;
use crate::db::{Db, Tx};
use crate::error::{CoreError, CoreResult, FieldError};
use crate::identity::{Capability, Perimeter, Principal};
use crate::territory::ids::{CodeCommune, CodeDepartement, Uai};
use crate::territory::model::{Page, PageRequest};

use super::model::*;
use super::repo;

pub(crate) fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

/// Today in Paris (campaign windows).
pub fn today() -> Date {
    crate::paris::local(now()).date()
}

pub(crate) fn invalid(field: &str, message: impl Into<String>) -> CoreError {
    CoreError::Validation(vec![FieldError::new(field, message)])
}

fn stale(what: &str) -> CoreError {
    CoreError::Conflict(format!(
        "{what} a été modifié(e) par quelqu'un d'autre entre-temps : rechargez et recommencez"
    ))
}

fn collect<T>(errors: &mut Vec<FieldError>, r: CoreResult<T>) -> CoreResult<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(CoreError::Validation(mut e) | CoreError::BadRequest(mut e)) => {
            errors.append(&mut e);
            Ok(None)
        }
        Err(e) => Err(e),
    }
}

fn text(field: &str, value: &str, max: usize) -> CoreResult<String> {
    let value = value.trim();
    if value.is_empty() {
        return Err(invalid(field, "obligatoire"));
    }
    if value.chars().count() > max {
        return Err(invalid(field, format!("{max} caractères au plus")));
    }
    Ok(value.to_owned())
}

// --- Places -----------------------------------------------------------------------------------

/// A place of the territory where a value is measured: a level and a code (`""` for
/// national).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Place {
    pub level: Level,
    pub code: String,
}

impl Place {
    /// The nation.
    pub fn national() -> Self {
        Place {
            level: Level::National,
            code: String::new(),
        }
    }

    /// Parses `etablissement:UAI`, `commune:INSEE`, `departement:35`, `academie:14`,
    /// `region-academique:53` or `national`; `field` names the input in the error.
    pub fn parse(text: &str, field: &str) -> CoreResult<Self> {
        let text = text.trim();
        if text == "national" {
            return Ok(Place::national());
        }
        let bad = |why: String| {
            invalid(
                field,
                format!(
                    "périmètre « {text} » invalide : {why} (etablissement:UAI, commune:INSEE, departement:CODE, \
                     academie:CODE, region-academique:CODE, national)"
                ),
            )
        };
        let (kind, code) = text
            .split_once(':')
            .ok_or_else(|| bad("type:code attendu".into()))?;
        let code = code.trim();
        let level = Level::from_code(kind).ok_or_else(|| bad("type inconnu".into()))?;
        let code = match level {
            Level::Etablissement => Uai::parse(code)
                .map(Uai::into_string)
                .map_err(|e| bad(e.to_string()))?,
            Level::Commune => CodeCommune::parse(code)
                .map(CodeCommune::into_string)
                .map_err(|e| bad(e.to_string()))?,
            Level::Departement => CodeDepartement::parse(code)
                .map(CodeDepartement::into_string)
                .map_err(|e| bad(e.to_string()))?,
            Level::Academie | Level::RegionAcademique => {
                if (2..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit()) {
                    code.to_owned()
                } else {
                    return Err(bad("code à deux chiffres attendu".into()));
                }
            }
            Level::National => String::new(),
        };
        Ok(Place { level, code })
    }

    /// `academie:14`, `national`.
    pub fn text(&self) -> String {
        if self.level == Level::National {
            "national".to_owned()
        } else {
            format!("{}:{}", self.level.as_str(), self.code)
        }
    }
}

/// The perimeters of the rights model that stand for a place (a commune is read through its
/// département, or by its own collectivité).
async fn rights_of(db: &Db, place: &Place) -> CoreResult<Vec<Perimeter>> {
    Ok(match place.level {
        Level::National => vec![Perimeter::National],
        Level::RegionAcademique => vec![Perimeter::RegionAcademique(place.code.clone())],
        Level::Academie => vec![Perimeter::Academie(place.code.clone())],
        Level::Departement => vec![Perimeter::Departement(place.code.clone())],
        Level::Etablissement => vec![Perimeter::Etablissement(place.code.clone())],
        Level::Commune => {
            let mut out = Vec::new();
            if let Some(c) = crate::territory::repo::find_commune(db, &place.code).await? {
                out.push(Perimeter::Departement(c.code_departement.clone()));
                if let Some(siren) = c.siren {
                    out.push(Perimeter::Collectivite(siren));
                }
            }
            out
        }
    })
}

async fn can_at(db: &Db, by: &Principal, capability: Capability, place: &Place) -> CoreResult<bool> {
    for p in rights_of(db, place).await? {
        if by.can(db, capability, &p).await? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether the caller reads a place.
pub async fn can_read_place(db: &Db, by: &Principal, place: &Place) -> CoreResult<bool> {
    can_at(db, by, Capability::Read, place).await
}

/// Whether the caller may enter values for a place.
pub async fn can_write_place(db: &Db, by: &Principal, place: &Place) -> CoreResult<bool> {
    can_at(db, by, Capability::Write, place).await
}

/// Checks `capability` on a place: `NotFound` when the caller may not even read it.
async fn check_at(
    db: &Db,
    by: &Principal,
    capability: Capability,
    place: &Place,
    entity: &'static str,
    id: &str,
) -> CoreResult<()> {
    if !can_at(db, by, Capability::Read, place).await? {
        return Err(CoreError::not_found(entity, id));
    }
    if capability != Capability::Read && !can_at(db, by, capability, place).await? {
        return Err(CoreError::Forbidden);
    }
    Ok(())
}

/// Checks that a place exists in the referential.
pub(crate) async fn check_place_exists(db: &Db, place: &Place, field: &str) -> CoreResult<()> {
    use crate::territory::repo as t;
    let exists = match place.level {
        Level::National => true,
        Level::RegionAcademique => t::find_region_academique(db, &place.code).await?.is_some(),
        Level::Academie => t::find_academie(db, &place.code).await?.is_some(),
        Level::Departement => t::find_departement(db, &place.code).await?.is_some(),
        Level::Commune => t::find_commune(db, &place.code).await?.is_some(),
        Level::Etablissement => t::find_etablissement(db, &place.code).await?.is_some(),
    };
    if exists {
        Ok(())
    } else {
        Err(invalid(
            field,
            format!("« {} » est absent du référentiel", place.text()),
        ))
    }
}

/// The readable name of a place.
pub async fn place_label(db: &Db, place: &Place) -> CoreResult<String> {
    use crate::territory::repo as t;
    Ok(match place.level {
        Level::Commune => t::find_commune(db, &place.code)
            .await?
            .map_or_else(|| format!("Commune {}", place.code), |c| c.nom),
        _ => {
            let p = match place.level {
                Level::National => Perimeter::National,
                Level::RegionAcademique => Perimeter::RegionAcademique(place.code.clone()),
                Level::Academie => Perimeter::Academie(place.code.clone()),
                Level::Departement => Perimeter::Departement(place.code.clone()),
                _ => Perimeter::Etablissement(place.code.clone()),
            };
            crate::governance::service::perimeter_label(db, &p).await?
        }
    })
}

/// Checks that the caller writes for an owner (`national` or an académie): the national
/// level is known to everyone (`Forbidden`), an unreadable académie is `NotFound`.
pub(crate) async fn check_owner_write(db: &Db, by: &Principal, owner: &Perimeter) -> CoreResult<()> {
    if *owner == Perimeter::National {
        if by.can(db, Capability::Write, owner).await? {
            return Ok(());
        }
        return Err(CoreError::Forbidden);
    }
    by.check(db, Capability::Write, owner, "perimetre", &owner.to_string())
        .await
}

// --- Dictionary -------------------------------------------------------------------------------

pub(crate) fn owner_perimeter(ind: &Indicator) -> CoreResult<Perimeter> {
    Perimeter::from_parts(&ind.owner_kind, &ind.owner_code)
}

async fn can_read_indicator(db: &Db, by: &Principal, ind: &Indicator) -> CoreResult<bool> {
    if ind.owner_kind == "national" {
        return Ok(true);
    }
    by.can(db, Capability::Read, &owner_perimeter(ind)?).await
}

/// The indicator `code`, if the caller may see it (`NotFound` otherwise).
pub async fn load_indicator(db: &Db, by: &Principal, code: &str) -> CoreResult<Indicator> {
    let ind = repo::find_indicator(db, code.trim())
        .await?
        .ok_or_else(|| CoreError::not_found("indicateur", code))?;
    if !can_read_indicator(db, by, &ind).await? {
        return Err(CoreError::not_found("indicateur", code));
    }
    Ok(ind)
}

/// The indicators the caller sees: the national dictionary and the académies' own that
/// they read. `owner` filters on `national` or `academie:CODE`.
pub async fn indicators(db: &Db, by: &Principal, owner: Option<&str>) -> CoreResult<Vec<Indicator>> {
    let owner = owner.map(str::trim).filter(|o| !o.is_empty());
    let mut out = Vec::new();
    for ind in repo::list_indicators(db).await? {
        if owner.is_some_and(|o| o != ind.owner_text()) {
            continue;
        }
        if can_read_indicator(db, by, &ind).await? {
            out.push(ind);
        }
    }
    Ok(out)
}

/// An indicator with its links and targets.
pub async fn indicator(db: &Db, by: &Principal, code: &str) -> CoreResult<IndicatorView> {
    let ind = load_indicator(db, by, code).await?;
    let links = repo::links_of(db, &ind.id).await?;
    let targets = repo::targets_of(db, &ind.id).await?;
    let can_write = by.can(db, Capability::Write, &owner_perimeter(&ind)?).await?;
    Ok(IndicatorView {
        indicator: ind,
        links,
        targets,
        can_write,
    })
}

/// The indicators that measure a national project (`projet`) or a roadmap action (`action`).
pub async fn indicators_of(
    db: &Db,
    by: &Principal,
    ref_kind: &str,
    ref_id: &str,
) -> CoreResult<Vec<Indicator>> {
    let mut out = Vec::new();
    for ind in repo::indicators_of(db, ref_kind, ref_id).await? {
        if can_read_indicator(db, by, &ind).await? {
            out.push(ind);
        }
    }
    Ok(out)
}

fn audit_indicator(i: &Indicator) -> serde_json::Value {
    serde_json::json!({
        "code": i.code, "proprietaire": i.owner_text(), "libelle": i.label, "unite": i.unit,
        "sens": i.direction, "type": i.kind, "agregation": i.aggregation, "periodicite": i.periodicity,
        "source": i.source, "niveauSaisie": i.capture_level, "facteur": i.factor,
        "seuilVert": i.green_e4.map(|v| Dec(v).machine()), "seuilRouge": i.red_e4.map(|v| Dec(v).machine()),
        "public": i.public, "formule": i.formula,
    })
}

fn threshold(field: &str, text: &str) -> CoreResult<Option<i64>> {
    if text.trim().is_empty() {
        Ok(None)
    } else {
        parse_dec(field, text).map(|d| Some(d.0))
    }
}

/// Applies an input to an indicator, collecting every field error.
fn apply_indicator(ind: &mut Indicator, input: &IndicatorInput, creating: bool) -> CoreResult<()> {
    let mut errors = Vec::new();
    if creating {
        let code = input.code.clone().unwrap_or_default();
        let code = code.trim();
        if code.is_empty()
            || code.len() > 40
            || !code
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'-' || b == b'_')
        {
            errors.push(FieldError::new(
                "code",
                "de 1 à 40 majuscules, chiffres, tirets ou soulignés (TERM-100-ELEVES)",
            ));
        } else {
            ind.code = code.to_owned();
        }
    }
    if let Some(v) = &input.label {
        if let Some(x) = collect(&mut errors, text("libelle", v, 200))? {
            ind.label = x;
        }
    } else if creating {
        errors.push(FieldError::new("libelle", "obligatoire"));
    }
    if let Some(v) = &input.definition {
        ind.definition = v.trim().chars().take(5_000).collect();
    }
    if let Some(v) = &input.unit {
        ind.unit = v.trim().chars().take(40).collect();
    }
    let enum_field = |errors: &mut Vec<FieldError>,
                      value: &Option<String>,
                      target: &mut String,
                      parse: &dyn Fn(&str) -> CoreResult<&'static str>,
                      name: &str|
     -> CoreResult<()> {
        match value {
            Some(v) => {
                if let Some(x) = collect(errors, parse(v))? {
                    *target = x.to_owned();
                }
            }
            None if creating && target.is_empty() => errors.push(FieldError::new(name, "obligatoire")),
            None => {}
        }
        Ok(())
    };
    enum_field(
        &mut errors,
        &input.direction,
        &mut ind.direction,
        &|v| Direction::parse(v, "sens").map(Direction::as_str),
        "sens",
    )?;
    enum_field(
        &mut errors,
        &input.kind,
        &mut ind.kind,
        &|v| Kind::parse(v, "type").map(Kind::as_str),
        "type",
    )?;
    enum_field(
        &mut errors,
        &input.aggregation,
        &mut ind.aggregation,
        &|v| Aggregation::parse(v, "agregation").map(Aggregation::as_str),
        "agregation",
    )?;
    enum_field(
        &mut errors,
        &input.periodicity,
        &mut ind.periodicity,
        &|v| Periodicity::parse(v, "periodicite").map(Periodicity::as_str),
        "periodicite",
    )?;
    enum_field(
        &mut errors,
        &input.source,
        &mut ind.source,
        &|v| Source::parse(v, "source").map(Source::as_str),
        "source",
    )?;
    enum_field(
        &mut errors,
        &input.capture_level,
        &mut ind.capture_level,
        &|v| Level::parse(v, "niveauSaisie").map(Level::as_str),
        "niveauSaisie",
    )?;
    if let Some(f) = input.factor {
        if (1..=1_000_000).contains(&f) {
            ind.factor = f;
        } else {
            errors.push(FieldError::new("facteur", "un entier de 1 à 1 000 000"));
        }
    }
    if let Some(v) = &input.green
        && let Some(x) = collect(&mut errors, threshold("seuilVert", v))?
    {
        ind.green_e4 = x;
    }
    if let Some(v) = &input.red
        && let Some(x) = collect(&mut errors, threshold("seuilRouge", v))?
    {
        ind.red_e4 = x;
    }
    if ind.green_e4.is_some() != ind.red_e4.is_some() {
        errors.push(FieldError::new(
            "seuilRouge",
            "les deux seuils vont ensemble (ou aucun)",
        ));
    } else if let (Some(g), Some(r)) = (ind.green_e4, ind.red_e4) {
        let higher = ind.direction != Direction::Baisse.as_str();
        if (higher && r > g) || (!higher && r < g) {
            errors.push(FieldError::new(
                "seuilRouge",
                "le seuil rouge doit être en deçà du seuil vert dans le sens de l'indicateur",
            ));
        }
    }
    if let Some(p) = input.public {
        ind.public = p;
    }
    match input.formula.as_deref().map(str::trim) {
        Some("") => ind.formula = None,
        Some(f) => {
            if let Some(x) = collect(&mut errors, Formula::parse(f, "formule"))? {
                ind.formula = Some(x.as_str().to_owned());
            }
        }
        None => {}
    }
    // A ratio rolls up as a ratio of sums; a ratio of sums needs a numerator and a denominator.
    if errors.is_empty() {
        let kind = ind.kind();
        let agg = ind.aggregation();
        if kind == Kind::Ratio && agg != Aggregation::RatioDesSommes {
            errors.push(FieldError::new(
                "agregation",
                "un ratio se consolide par le ratio des sommes (jamais par une moyenne de ratios)",
            ));
        }
        if agg == Aggregation::RatioDesSommes && kind != Kind::Ratio {
            errors.push(FieldError::new(
                "type",
                "le ratio des sommes s'applique aux indicateurs de type ratio",
            ));
        }
        if ind.formula.is_some()
            && (kind != Kind::Ratio
                || ind.capture_level() != Level::Etablissement
                || ind.periodicity() != Periodicity::AnneeScolaire)
        {
            errors.push(FieldError::new(
                "formule",
                "un indicateur calculé depuis les inventaires est un ratio saisi par établissement, par année scolaire",
            ));
        }
        if ind.owner_kind == "academie"
            && matches!(ind.capture_level(), Level::RegionAcademique | Level::National)
        {
            errors.push(FieldError::new(
                "niveauSaisie",
                "un indicateur académique se saisit dans l'académie ou en dessous",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(CoreError::Validation(errors))
    }
}

/// Creates an indicator: national (national administrators and project leads) or an
/// académie's own (its writers).
pub async fn create_indicator(db: &Db, by: &Principal, input: &IndicatorInput) -> CoreResult<Indicator> {
    let owner_text = input.owner.as_deref().unwrap_or("national");
    let owner = match Perimeter::parse(owner_text) {
        Ok(p @ (Perimeter::National | Perimeter::Academie(_))) => p,
        _ => return Err(invalid("proprietaire", "national ou academie:CODE")),
    };
    if let Perimeter::Academie(code) = &owner
        && crate::territory::repo::find_academie(db, code).await?.is_none()
    {
        return Err(invalid("proprietaire", format!("académie « {code} » inconnue")));
    }
    check_owner_write(db, by, &owner).await?;
    let at = now();
    let mut ind = Indicator {
        id: crate::identity::service::new_id(),
        code: String::new(),
        owner_kind: owner.kind().to_owned(),
        owner_code: owner.code().to_owned(),
        label: String::new(),
        definition: String::new(),
        unit: String::new(),
        direction: String::new(),
        kind: String::new(),
        aggregation: String::new(),
        periodicity: String::new(),
        source: Source::Saisie.as_str().to_owned(),
        capture_level: Level::Etablissement.as_str().to_owned(),
        factor: 1,
        green_e4: None,
        red_e4: None,
        public: false,
        formula: None,
        version: 1,
        created_at: at,
        updated_at: at,
    };
    apply_indicator(&mut ind, input, true)?;
    if repo::find_indicator(db, &ind.code).await?.is_some() {
        return Err(invalid("code", format!("le code « {} » est déjà pris", ind.code)));
    }
    let mut tx = db.begin().await?;
    repo::insert_indicator(&mut tx, &ind).await?;
    audit::record(
        &mut tx,
        &by.actor(),
        "indicateur.creation",
        "indicateur",
        &ind.id,
        None,
        Some(&audit_indicator(&ind)),
    )
    .await?;
    tx.commit().await?;
    Ok(ind)
}

/// Changes an indicator (its code and owner stay); `Conflict` when `version` is stale.
pub async fn update_indicator(
    db: &Db,
    by: &Principal,
    code: &str,
    version: i64,
    input: &IndicatorInput,
) -> CoreResult<Indicator> {
    let before = load_indicator(db, by, code).await?;
    check_owner_write(db, by, &owner_perimeter(&before)?).await?;
    if before.version != version {
        return Err(stale("L'indicateur"));
    }
    let mut ind = before.clone();
    apply_indicator(&mut ind, input, false)?;
    ind.updated_at = now();
    let mut tx = db.begin().await?;
    if !repo::update_indicator(&mut tx, &ind, version).await? {
        return Err(stale("L'indicateur"));
    }
    audit::record(
        &mut tx,
        &by.actor(),
        "indicateur.modification",
        "indicateur",
        &ind.id,
        Some(&audit_indicator(&before)),
        Some(&audit_indicator(&ind)),
    )
    .await?;
    tx.commit().await?;
    ind.version += 1;
    Ok(ind)
}

/// Sets what an indicator measures: `projet:<id>` and `action:<id>` references (the whole
/// list).
pub async fn set_links(db: &Db, by: &Principal, code: &str, refs: &[String]) -> CoreResult<Vec<Link>> {
    let ind = load_indicator(db, by, code).await?;
    check_owner_write(db, by, &owner_perimeter(&ind)?).await?;
    let mut links = Vec::new();
    let mut errors = Vec::new();
    for (i, r) in refs.iter().enumerate() {
        let field = format!("liens[{i}]");
        match r.trim().split_once(':') {
            Some((kind @ ("projet" | "action"), id)) if !id.trim().is_empty() => {
                if repo::ref_exists(db, kind, id.trim()).await? {
                    let link = Link {
                        ref_kind: kind.to_owned(),
                        ref_id: id.trim().to_owned(),
                    };
                    if !links.contains(&link) {
                        links.push(link);
                    }
                } else {
                    errors.push(FieldError::new(field, format!("« {r} » introuvable")));
                }
            }
            _ => errors.push(FieldError::new(field, "projet:ID ou action:ID attendu")),
        }
    }
    if !errors.is_empty() {
        return Err(CoreError::Validation(errors));
    }
    let before = repo::links_of(db, &ind.id).await?;
    let mut tx = db.begin().await?;
    repo::replace_links(&mut tx, &ind.id, &links).await?;
    let as_json = |l: &[Link]| {
        serde_json::json!(
            l.iter()
                .map(|l| format!("{}:{}", l.ref_kind, l.ref_id))
                .collect::<Vec<_>>()
        )
    };
    audit::record(
        &mut tx,
        &by.actor(),
        "indicateur.liens",
        "indicateur",
        &ind.id,
        Some(&as_json(&before)),
        Some(&as_json(&links)),
    )
    .await?;
    tx.commit().await?;
    Ok(links)
}

/// Sets (or removes, with an empty value) a baseline or a target for a perimeter and a
/// period. The writers of that perimeter may.
pub async fn set_target(
    db: &Db,
    by: &Principal,
    code: &str,
    perimeter: &str,
    period: &str,
    kind: &str,
    value: &str,
) -> CoreResult<Option<Target>> {
    let ind = load_indicator(db, by, code).await?;
    let mut errors = Vec::new();
    let place = collect(&mut errors, Place::parse(perimeter, "perimetre"))?;
    let kind = collect(&mut errors, TargetKind::parse(kind, "type"))?;
    let period_ok = check_period(ind.periodicity(), period);
    if period_ok.is_none() {
        errors.push(period_error("periode", ind.periodicity(), period));
    }
    let value = if value.trim().is_empty() {
        None
    } else {
        collect(&mut errors, parse_dec("valeur", value))?
    };
    let (Some(place), Some(kind), Some(period), true) = (place, kind, period_ok, errors.is_empty()) else {
        return Err(CoreError::Validation(errors));
    };
    check_place_exists(db, &place, "perimetre").await?;
    check_at(db, by, Capability::Write, &place, "perimetre", &place.text()).await?;
    let mut target = Target {
        perimeter_kind: place.level.as_str().to_owned(),
        perimeter_code: place.code.clone(),
        period,
        kind: kind.as_str().to_owned(),
        value_e4: 0,
    };
    let mut tx = db.begin().await?;
    let out = match value {
        Some(v) => {
            target.value_e4 = v.0;
            repo::upsert_target(&mut tx, &ind.id, &target, now()).await?;
            Some(target.clone())
        }
        None => {
            repo::delete_target(&mut tx, &ind.id, &target).await?;
            None
        }
    };
    audit::record(
        &mut tx,
        &by.actor(),
        "indicateur.cible",
        "indicateur",
        &ind.id,
        None,
        Some(&serde_json::json!({
            "perimetre": place.text(), "periode": target.period, "type": target.kind,
            "valeur": value.map(Dec::machine),
        })),
    )
    .await?;
    tx.commit().await?;
    Ok(out)
}

// --- Values -----------------------------------------------------------------------------------

fn audit_value(v: &Value) -> serde_json::Value {
    serde_json::json!({
        "perimetre": v.perimeter_text(), "periode": v.period, "valeur": Dec(v.value_e4).machine(),
        "numerateur": v.numerator_e4.map(|n| Dec(n).machine()),
        "denominateur": v.denominator_e4.map(|n| Dec(n).machine()),
        "statut": v.status, "provenance": v.provenance, "commentaire": v.comment,
    })
}

/// The figures of a value as typed, checked against its indicator: `(value, num, den)`.
pub(crate) fn figures(
    ind: &Indicator,
    value: Option<&str>,
    numerator: Option<&str>,
    denominator: Option<&str>,
) -> Result<(i64, Option<i64>, Option<i64>), Vec<FieldError>> {
    let mut errors = Vec::new();
    let mut dec = |field: &str, t: Option<&str>| -> Option<Dec> {
        let t = t.map(str::trim).filter(|t| !t.is_empty())?;
        match Dec::parse(t) {
            Some(d) => Some(d),
            None => {
                errors.push(FieldError::new(
                    field,
                    format!("« {t} » n'est pas un nombre (12,5 ou 12.5 ; 4 décimales au plus)"),
                ));
                None
            }
        }
    };
    let v = dec("valeur", value);
    let n = dec("numerateur", numerator);
    let d = dec("denominateur", denominator);
    if !errors.is_empty() {
        return Err(errors);
    }
    if ind.has_parts() {
        let (Some(n), Some(d)) = (n, d) else {
            let field = if n.is_none() { "numerateur" } else { "denominateur" };
            return Err(vec![FieldError::new(
                field,
                "un ratio se saisit par son numérateur et son dénominateur",
            )]);
        };
        if d.0 <= 0 {
            return Err(vec![FieldError::new(
                "denominateur",
                "doit être strictement positif",
            )]);
        }
        if n.0 < 0 {
            return Err(vec![FieldError::new("numerateur", "doit être positif ou nul")]);
        }
        let value = Dec::ratio(n.0, d.0, ind.factor.max(1))
            .ok_or_else(|| vec![FieldError::new("denominateur", "ratio impossible")])?;
        return Ok((value.0, Some(n.0), Some(d.0)));
    }
    let Some(v) = v else {
        return Err(vec![FieldError::new("valeur", "obligatoire")]);
    };
    if ind.aggregation() == Aggregation::MoyennePonderee {
        let Some(w) = d else {
            return Err(vec![FieldError::new(
                "denominateur",
                "une moyenne pondérée a besoin du poids de chaque valeur (dénominateur)",
            )]);
        };
        if w.0 <= 0 {
            return Err(vec![FieldError::new(
                "denominateur",
                "doit être strictement positif",
            )]);
        }
        return Ok((v.0, None, Some(w.0)));
    }
    Ok((v.0, None, None))
}

/// Whether the period is locked where the place is (nationally or in its académie).
pub(crate) async fn period_locked(db: &Db, ind: &Indicator, period: &str, place: &Place) -> CoreResult<bool> {
    let locks = repo::locks(db, &ind.id, period).await?;
    if locks.is_empty() {
        return Ok(false);
    }
    if locks.iter().any(String::is_empty) {
        return Ok(true);
    }
    let academie = repo::academie_of(db, place.level.as_str(), &place.code).await?;
    Ok(academie.is_some_and(|a| locks.contains(&a)))
}

/// Enters (or corrects) the value of an indicator for a perimeter and a period; the value
/// goes (back) to `saisie`. `expected` is the version read, when correcting.
pub async fn record_value(
    db: &Db,
    by: &Principal,
    input: &ValueInput,
    provenance: Provenance,
    expected: Option<i64>,
) -> CoreResult<Value> {
    let ind = load_indicator(db, by, &input.indicator).await?;
    let mut errors = Vec::new();
    let place = collect(&mut errors, Place::parse(&input.perimeter, "perimetre"))?;
    let period = check_period(ind.periodicity(), &input.period);
    if period.is_none() {
        errors.push(period_error("periode", ind.periodicity(), &input.period));
    }
    if let Some(p) = &place
        && p.level != ind.capture_level()
    {
        errors.push(FieldError::new(
            "perimetre",
            format!(
                "l'indicateur se saisit au niveau « {} », pas « {} »",
                ind.capture_level,
                p.level.as_str()
            ),
        ));
    }
    let figures = match figures(
        &ind,
        input.value.as_deref(),
        input.numerator.as_deref(),
        input.denominator.as_deref(),
    ) {
        Ok(f) => Some(f),
        Err(mut e) => {
            errors.append(&mut e);
            None
        }
    };
    let comment = input.comment.as_deref().unwrap_or("").trim().to_owned();
    if comment.chars().count() > 2_000 {
        errors.push(FieldError::new("commentaire", "2 000 caractères au plus"));
    }
    let (Some(place), Some(period), Some((value_e4, numerator_e4, denominator_e4)), true) =
        (place, period, figures, errors.is_empty())
    else {
        return Err(CoreError::Validation(errors));
    };
    check_place_exists(db, &place, "perimetre").await?;
    check_at(db, by, Capability::Write, &place, "perimetre", &place.text()).await?;
    let existing = repo::find_value_at(db, &ind.id, &period, place.level.as_str(), &place.code).await?;
    if let Some(v) = &existing {
        if v.locked() {
            return Err(invalid(
                "periode",
                "valeur verrouillée avec sa période : rouvrez-la (avec un motif) pour la modifier",
            ));
        }
        if expected.is_some_and(|e| e != v.version) {
            return Err(stale("La valeur"));
        }
    }
    let reopened = existing.as_ref().is_some_and(|v| v.reopen_reason.is_some());
    if !reopened && period_locked(db, &ind, &period, &place).await? {
        return Err(invalid(
            "periode",
            format!("la période {period} est verrouillée pour ce périmètre"),
        ));
    }
    let at = now();
    let actor = by.actor();
    let mut value = Value {
        id: existing
            .as_ref()
            .map_or_else(|| uuid::Uuid::now_v7().to_string(), |v| v.id.clone()),
        indicator_id: ind.id.clone(),
        period,
        perimeter_kind: place.level.as_str().to_owned(),
        perimeter_code: place.code.clone(),
        value_e4,
        numerator_e4,
        denominator_e4,
        status: ValueStatus::Saisie.as_str().to_owned(),
        provenance: provenance.as_str().to_owned(),
        comment,
        entered_by: actor.id.clone(),
        entered_label: actor.label.clone(),
        entered_at: at,
        validated_by: None,
        validated_at: None,
        reopen_reason: existing.as_ref().and_then(|v| v.reopen_reason.clone()),
        version: existing.as_ref().map_or(1, |v| v.version),
        updated_at: at,
    };
    let mut tx = db.begin().await?;
    match &existing {
        Some(before) => {
            if !repo::update_value(&mut tx, &value, before.version).await? {
                return Err(stale("La valeur"));
            }
            value.version += 1;
        }
        None => repo::insert_value(&mut tx, &value).await?,
    }
    audit::record(
        &mut tx,
        &actor,
        if existing.is_some() {
            "valeur.correction"
        } else {
            "valeur.saisie"
        },
        "valeur",
        &value.id,
        existing.as_ref().map(audit_value).as_ref(),
        Some(&audit_value(&value)),
    )
    .await?;
    tx.commit().await?;
    Ok(value)
}

async fn load_value(db: &Db, by: &Principal, id: &str) -> CoreResult<(Value, Indicator, Place)> {
    let value = repo::find_value(db, id)
        .await?
        .ok_or_else(|| CoreError::not_found("valeur", id))?;
    let ind = repo::find_indicator_by_id(db, &value.indicator_id)
        .await?
        .ok_or_else(|| CoreError::not_found("valeur", id))?;
    let place = Place {
        level: Level::from_code(&value.perimeter_kind).unwrap_or(Level::National),
        code: value.perimeter_code.clone(),
    };
    if !can_read_indicator(db, by, &ind).await? || !can_at(db, by, Capability::Read, &place).await? {
        return Err(CoreError::not_found("valeur", id));
    }
    Ok((value, ind, place))
}

/// A value, if the caller reads its perimeter.
pub async fn value(db: &Db, by: &Principal, id: &str) -> CoreResult<ValueRow> {
    let (value, ind, _) = load_value(db, by, id).await?;
    Ok(ValueRow {
        rag: ind.rag(Dec(value.value_e4)),
        value,
        indicator_code: ind.code,
    })
}

/// Values, filtered; only those the caller reads. A perimeter filter is needed for people
/// whose rights do not cover the nation (`national` readers see everything).
pub async fn values(
    db: &Db,
    by: &Principal,
    filter: &ValueFilter,
    page: PageRequest,
) -> CoreResult<Page<ValueRow>> {
    let mut scope = repo::ValueScope::default();
    let mut errors = Vec::new();
    let mut indicators = Vec::new();
    if let Some(code) = filter.indicator.as_deref().filter(|c| !c.trim().is_empty()) {
        let ind = load_indicator(db, by, code).await?;
        scope.indicator_ids = Some(vec![ind.id.clone()]);
        indicators.push(ind);
    } else {
        indicators = self::indicators(db, by, None).await?;
        scope.indicator_ids = Some(indicators.iter().map(|i| i.id.clone()).collect());
    }
    scope.period = filter
        .period
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned);
    if let Some(s) = filter.status.as_deref().filter(|s| !s.trim().is_empty()) {
        scope.status = collect(&mut errors, ValueStatus::parse(s, "statut"))?.map(|s| s.as_str().to_owned());
    }
    let place = match filter.perimeter.as_deref().filter(|p| !p.trim().is_empty()) {
        Some(p) => collect(&mut errors, Place::parse(p, "perimetre"))?,
        None => None,
    };
    if !errors.is_empty() {
        return Err(CoreError::BadRequest(errors));
    }
    match &place {
        Some(p) => {
            if !can_at(db, by, Capability::Read, p).await? {
                return Err(CoreError::not_found("perimetre", p.text()));
            }
            scope.perimeter = Some((p.level.as_str().to_owned(), p.code.clone()));
        }
        None => {
            if !by.can(db, Capability::Read, &Perimeter::National).await? {
                return Err(CoreError::bad_request(
                    "perimetre",
                    "précisez le périmètre (etablissement:UAI, academie:CODE…) dont vous lisez les valeurs",
                ));
            }
        }
    }
    let page = repo::list_values(db, &scope, page).await?;
    let codes: std::collections::HashMap<&str, &Indicator> =
        indicators.iter().map(|i| (i.id.as_str(), i)).collect();
    Ok(Page {
        items: page
            .items
            .into_iter()
            .map(|r| ValueRow {
                rag: codes
                    .get(r.value.indicator_id.as_str())
                    .and_then(|i| i.rag(Dec(r.value.value_e4))),
                value: r.value,
                indicator_code: r.indicator_code,
            })
            .collect(),
        total: page.total,
        page: page.page,
        per_page: page.per_page,
    })
}

async fn change_status(
    db: &Db,
    by: &Principal,
    id: &str,
    version: i64,
    action: &str,
    change: impl FnOnce(&mut Value, &Indicator, bool) -> CoreResult<()>,
) -> CoreResult<Value> {
    let (before, ind, place) = load_value(db, by, id).await?;
    check_at(db, by, Capability::Appoint, &place, "valeur", id).await?;
    if before.version != version {
        return Err(stale("La valeur"));
    }
    let locked_period = period_locked(db, &ind, &before.period, &place).await?;
    let mut value = before.clone();
    change(&mut value, &ind, locked_period)?;
    value.updated_at = now();
    let mut tx = db.begin().await?;
    if !repo::update_value(&mut tx, &value, version).await? {
        return Err(stale("La valeur"));
    }
    audit::record(
        &mut tx,
        &by.actor(),
        action,
        "valeur",
        &value.id,
        Some(&audit_value(&before)),
        Some(&audit_value(&value)),
    )
    .await?;
    tx.commit().await?;
    value.version += 1;
    Ok(value)
}

/// Validates a value (the DAN or their delegate). A red value needs a comment. In a locked
/// period (a reopened value), validating locks it again.
pub async fn validate_value(db: &Db, by: &Principal, id: &str, version: i64) -> CoreResult<Value> {
    let actor = by.actor();
    change_status(
        db,
        by,
        id,
        version,
        "valeur.validation",
        |v, ind, locked_period| {
            if v.status != ValueStatus::Saisie.as_str() {
                return Err(CoreError::Conflict(format!(
                    "la valeur est déjà « {} »",
                    v.status
                )));
            }
            if ind.rag(Dec(v.value_e4)) == Some(Rag::Rouge) && v.comment.trim().is_empty() {
                return Err(invalid(
                    "commentaire",
                    "une valeur au statut rouge ne se valide qu'avec un commentaire",
                ));
            }
            v.status = if locked_period {
                ValueStatus::Verrouillee
            } else {
                ValueStatus::Validee
            }
            .as_str()
            .to_owned();
            v.validated_by = actor.id.clone();
            v.validated_at = Some(now());
            Ok(())
        },
    )
    .await
}

/// Reopens a locked (or validated) value so that it can be corrected; the reason is kept on
/// the value and in the audit trail.
pub async fn reopen_value(
    db: &Db,
    by: &Principal,
    id: &str,
    version: i64,
    reason: &str,
) -> CoreResult<Value> {
    let reason = text("motif", reason, 2_000)?;
    change_status(db, by, id, version, "valeur.reouverture", |v, _, _| {
        if v.status == ValueStatus::Saisie.as_str() {
            return Err(CoreError::Conflict("la valeur est déjà ouverte".into()));
        }
        v.status = ValueStatus::Saisie.as_str().to_owned();
        v.validated_by = None;
        v.validated_at = None;
        v.reopen_reason = Some(reason);
        Ok(())
    })
    .await
}

/// Locks a period of an indicator nationally (`national`) or in an académie
/// (`academie:CODE`): the values there are locked, and no new value is accepted. Returns
/// how many values were locked.
pub async fn lock_period(
    db: &Db,
    by: &Principal,
    code: &str,
    period: &str,
    perimeter: &str,
) -> CoreResult<u64> {
    let ind = load_indicator(db, by, code).await?;
    let Some(period) = check_period(ind.periodicity(), period) else {
        return Err(CoreError::Validation(vec![period_error(
            "periode",
            ind.periodicity(),
            period,
        )]));
    };
    let place = Place::parse(perimeter, "perimetre")?;
    if !matches!(place.level, Level::National | Level::Academie) {
        return Err(invalid("perimetre", "national ou academie:CODE"));
    }
    check_place_exists(db, &place, "perimetre").await?;
    check_at(db, by, Capability::Appoint, &place, "perimetre", &place.text()).await?;
    let actor = by.actor();
    let mut tx = db.begin().await?;
    let n = lock_in_tx(&mut tx, &ind, &period, &place.code, None, &actor.label).await?;
    audit::record(
        &mut tx,
        &actor,
        "indicateur.verrouillage",
        "indicateur",
        &ind.id,
        None,
        Some(&serde_json::json!({"periode": period, "perimetre": place.text(), "valeurs": n})),
    )
    .await?;
    tx.commit().await?;
    Ok(n)
}

/// Records the lock and locks the values, in the caller's transaction.
pub(crate) async fn lock_in_tx(
    tx: &mut Tx,
    ind: &Indicator,
    period: &str,
    academie: &str,
    campaign: Option<&str>,
    by: &str,
) -> CoreResult<u64> {
    let at = now();
    repo::insert_lock(tx, &ind.id, period, academie, campaign, by, at).await?;
    repo::lock_values(tx, ind, period, Some(academie).filter(|a| !a.is_empty()), at).await
}
