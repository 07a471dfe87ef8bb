//! Indicator types and their pure rules: exact decimals, periods, statuses, ratios.

use std::fmt;

use time::{Date, OffsetDateTime};

use crate::error::{CoreError, CoreResult, FieldError};

text_enum!(
    /// Whether a higher or a lower value is better.
    Direction {
        Hausse = "hausse" / "Plus haut est mieux",
        Baisse = "baisse" / "Plus bas est mieux",
    }
);

text_enum!(
    /// What a value is.
    Kind {
        Nombre = "nombre" / "Nombre",
        Montant = "montant" / "Montant",
        Pourcentage = "pourcentage" / "Pourcentage",
        Ratio = "ratio" / "Ratio (numérateur ÷ dénominateur)",
    }
);

text_enum!(
    /// How values roll up from one level of the territory to the next.
    Aggregation {
        Somme = "somme" / "Somme",
        RatioDesSommes = "ratio-des-sommes" / "Ratio des sommes",
        MoyennePonderee = "moyenne-ponderee" / "Moyenne pondérée",
        Min = "min" / "Minimum",
        Max = "max" / "Maximum",
        Derniere = "derniere" / "Dernière valeur connue",
    }
);

text_enum!(
    /// How often an indicator is measured; each has its period format.
    Periodicity {
        Annee = "annee" / "Année civile (2025)",
        AnneeScolaire = "annee-scolaire" / "Année scolaire (2025-2026)",
        Trimestre = "trimestre" / "Trimestre (2025-T3)",
        Mois = "mois" / "Mois (2025-09)",
    }
);

text_enum!(
    /// Where the figures come from.
    Source {
        Etic = "etic" / "Enquête ETIC",
        Pix = "pix" / "Pix",
        Magistere = "magistere" / "M@gistère",
        InventaireCollectivite = "inventaire-collectivite" / "Inventaire de collectivité",
        Saisie = "saisie" / "Saisie manuelle",
        Calcul = "calcul" / "Calculé",
    }
);

text_enum!(
    /// The levels of the territory, from the school up.
    Level {
        Etablissement = "etablissement" / "Établissement",
        Commune = "commune" / "Commune",
        Departement = "departement" / "Département",
        Academie = "academie" / "Académie",
        RegionAcademique = "region-academique" / "Région académique",
        National = "national" / "National",
    }
);

text_enum!(
    /// Where a value stands in its workflow.
    ValueStatus {
        Saisie = "saisie" / "Saisie",
        Validee = "validee" / "Validée",
        Verrouillee = "verrouillee" / "Verrouillée",
    }
);

text_enum!(
    /// How a value arrived.
    Provenance {
        Saisie = "saisie" / "Saisie",
        Import = "import" / "Import de fichier",
        Calcul = "calcul" / "Calculée",
        Api = "api" / "Envoyée par l'API",
    }
);

text_enum!(
    /// What the platform computes from the collectivités' inventories, school by school
    /// (`computed.rs`); each is a ratio (numerator and denominator per school) that rolls up
    /// as the ratio of the sums.
    Formula {
        Terminaux100 = "terminaux-pour-100-eleves" / "Terminaux pour 100 élèves (terminaux ÷ élèves)",
        SallesWifi = "salles-wifi" / "Part des salles de classe couvertes par le Wi-Fi",
        SocleEcoles = "socle-numerique-ecoles" / "Part des écoles au socle numérique de base",
    }
);

text_enum!(
    /// The status a value gets from its indicator's thresholds.
    Rag {
        Vert = "vert" / "Vert",
        Orange = "orange" / "Orange",
        Rouge = "rouge" / "Rouge",
    }
);

text_enum!(
    /// Baseline or target.
    TargetKind {
        Reference = "reference" / "Valeur de référence",
        Cible = "cible" / "Cible",
    }
);

text_enum!(
    /// Where a campaign stands.
    CampaignStatus {
        Ouverte = "ouverte" / "Ouverte",
        Close = "close" / "Close",
    }
);

impl Level {
    /// The level's rank, from 0 (school) to 5 (national).
    pub fn rank(self) -> usize {
        Level::ALL.iter().position(|l| *l == self).unwrap_or(0)
    }

    /// The level just below, if any.
    pub fn below(self) -> Option<Level> {
        self.rank()
            .checked_sub(1)
            .and_then(|r| Level::ALL.get(r).copied())
    }
}

// --- Exact decimals ---------------------------------------------------------------------------

/// How many units of storage make one unit of value (4 decimals).
pub const SCALE: i64 = 10_000;

/// The largest magnitude a stored number may have (10¹⁴ units of storage, i.e. 10¹⁰): sums
/// over a million values stay far from `i64`'s limit.
pub const MAX_E4: i64 = 100_000_000_000_000;

/// An exact decimal with 4 places, stored as an integer (`12.5` is `Dec(125_000)`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Dec(pub i64);

impl Dec {
    /// Parses what people type: `12,5`, `12.5`, `-3`, `1 234,5`; at most 4 decimals.
    pub fn parse(text: &str) -> Option<Dec> {
        let cleaned: String = text
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '\u{a0}' | '\u{202f}' | '%'))
            .collect();
        let (negative, digits) = match cleaned.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, cleaned.strip_prefix('+').unwrap_or(&cleaned)),
        };
        let (units, decimals) = match digits.split_once([',', '.']) {
            Some((u, d)) => (u, d),
            None => (digits, ""),
        };
        if units.is_empty()
            || units.len() > 11
            || decimals.len() > 4
            || !units.bytes().all(|b| b.is_ascii_digit())
            || !decimals.bytes().all(|b| b.is_ascii_digit())
        {
            return None;
        }
        let units: i64 = units.parse().ok()?;
        let mut frac: i64 = 0;
        for (i, b) in decimals.bytes().enumerate() {
            frac += i64::from(b - b'0') * 10_i64.pow(3 - u32::try_from(i).ok()?);
        }
        let v = units.checked_mul(SCALE)?.checked_add(frac)?;
        if v > MAX_E4 {
            return None;
        }
        Some(Dec(if negative { -v } else { v }))
    }

    /// A whole number.
    pub fn from_int(n: i64) -> Dec {
        Dec(n.saturating_mul(SCALE))
    }

    /// `factor × num ÷ den`, rounded half away from zero to 4 decimals; `None` when `den`
    /// is zero.
    pub fn ratio(num: i64, den: i64, factor: i64) -> Option<Dec> {
        if den == 0 {
            return None;
        }
        let n = i128::from(num) * i128::from(factor) * i128::from(SCALE);
        let d = i128::from(den);
        let q = n / d;
        let r = n % d;
        let q = if 2 * r.abs() >= d.abs() {
            q + if (n < 0) ^ (d < 0) { -1 } else { 1 }
        } else {
            q
        };
        i64::try_from(q).ok().map(Dec)
    }

    /// The machine form: `12.5`, `-3`, `0.0001` (no trailing zeros).
    pub fn machine(self) -> String {
        let sign = if self.0 < 0 { "-" } else { "" };
        let v = self.0.unsigned_abs();
        let units = v / 10_000;
        let frac = v % 10_000;
        if frac == 0 {
            format!("{sign}{units}")
        } else {
            let f = format!("{frac:04}");
            format!("{sign}{units}.{}", f.trim_end_matches('0'))
        }
    }

    /// The French form: `12,5`, `1 234,25` (narrow no-break space between thousands).
    pub fn french(self) -> String {
        let machine = self.machine();
        let (sign, rest) = match machine.strip_prefix('-') {
            Some(r) => ("-", r),
            None => ("", machine.as_str()),
        };
        let (units, frac) = rest.split_once('.').unwrap_or((rest, ""));
        let mut grouped = String::new();
        for (i, ch) in units.chars().enumerate() {
            if i > 0 && (units.len() - i).is_multiple_of(3) {
                grouped.push('\u{202f}');
            }
            grouped.push(ch);
        }
        if frac.is_empty() {
            format!("{sign}{grouped}")
        } else {
            format!("{sign}{grouped},{frac}")
        }
    }
}

impl fmt::Display for Dec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.machine())
    }
}

/// Parses a decimal typed in `field`, naming the field when it is not one.
pub fn parse_dec(field: &str, text: &str) -> CoreResult<Dec> {
    Dec::parse(text).ok_or_else(|| {
        CoreError::Validation(vec![FieldError::new(
            field,
            format!(
                "« {} » n'est pas un nombre (12,5 ou 12.5 ; 4 décimales au plus)",
                text.trim()
            ),
        )])
    })
}

// --- Periods ----------------------------------------------------------------------------------

/// The school year (`2026-2027`) that `day` falls in; a school year starts on 1 September.
pub fn school_year_of(day: Date) -> String {
    let start = if u8::from(day.month()) >= 9 {
        day.year()
    } else {
        day.year() - 1
    };
    format!("{start}-{}", start + 1)
}

/// Checks that `period` is written as `periodicity` wants (`2025`, `2025-2026`, `2025-T3`,
/// `2025-09`); returns the trimmed text.
pub fn check_period(periodicity: Periodicity, period: &str) -> Option<String> {
    let p = period.trim();
    let year = |s: &str| -> Option<i32> {
        (s.len() == 4 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse::<i32>().ok())
            .flatten()
            .filter(|y| (1990..=2100).contains(y))
    };
    let ok = match periodicity {
        Periodicity::Annee => year(p).is_some(),
        Periodicity::AnneeScolaire => p
            .split_once('-')
            .and_then(|(a, b)| Some((year(a)?, year(b)?)))
            .is_some_and(|(a, b)| b == a + 1),
        Periodicity::Trimestre => p
            .split_once("-T")
            .is_some_and(|(a, q)| year(a).is_some() && matches!(q, "1" | "2" | "3" | "4")),
        Periodicity::Mois => p.split_once('-').is_some_and(|(a, m)| {
            year(a).is_some() && m.len() == 2 && m.parse::<u8>().is_ok_and(|m| (1..=12).contains(&m))
        }),
    };
    ok.then(|| p.to_owned())
}

/// The period as a field error when it does not fit the periodicity.
pub fn period_error(field: &str, periodicity: Periodicity, period: &str) -> FieldError {
    FieldError::new(
        field,
        format!(
            "« {} » ne correspond pas à la périodicité « {} » de l'indicateur",
            period.trim(),
            periodicity.label()
        ),
    )
}

// --- Rows -------------------------------------------------------------------------------------

/// An indicator of the dictionary.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Indicator {
    pub id: String,
    pub code: String,
    pub owner_kind: String,
    pub owner_code: String,
    pub label: String,
    pub definition: String,
    pub unit: String,
    pub direction: String,
    pub kind: String,
    pub aggregation: String,
    pub periodicity: String,
    pub source: String,
    pub capture_level: String,
    pub factor: i64,
    pub green_e4: Option<i64>,
    pub red_e4: Option<i64>,
    pub public: bool,
    /// The code of a [`Formula`] when the platform computes the values from the
    /// inventories (provenance `calcul`).
    pub formula: Option<String>,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl Indicator {
    /// The owner as a perimeter text (`national`, `academie:14`).
    pub fn owner_text(&self) -> String {
        if self.owner_code.is_empty() {
            self.owner_kind.clone()
        } else {
            format!("{}:{}", self.owner_kind, self.owner_code)
        }
    }

    /// What the platform computes the values from, for an indicator with a formula.
    pub fn formula_label(&self) -> Option<&'static str> {
        self.formula
            .as_deref()
            .and_then(Formula::from_code)
            .map(Formula::label)
    }

    /// The parsed periodicity (stored values are always valid).
    pub fn periodicity(&self) -> Periodicity {
        Periodicity::from_code(&self.periodicity).unwrap_or(Periodicity::Annee)
    }

    /// The parsed aggregation rule.
    pub fn aggregation(&self) -> Aggregation {
        Aggregation::from_code(&self.aggregation).unwrap_or(Aggregation::Somme)
    }

    /// The parsed kind.
    pub fn kind(&self) -> Kind {
        Kind::from_code(&self.kind).unwrap_or(Kind::Nombre)
    }

    /// The parsed capture level.
    pub fn capture_level(&self) -> Level {
        Level::from_code(&self.capture_level).unwrap_or(Level::Etablissement)
    }

    /// Whether values carry a numerator and a denominator (ratios, and weights of a
    /// weighted mean).
    pub fn has_parts(&self) -> bool {
        self.kind() == Kind::Ratio || self.aggregation() == Aggregation::RatioDesSommes
    }

    /// The status of a value against the thresholds (`None` without thresholds).
    pub fn rag(&self, value: Dec) -> Option<Rag> {
        let (green, red) = (self.green_e4?, self.red_e4?);
        let higher = self.direction != Direction::Baisse.as_str();
        let v = value.0;
        Some(if higher {
            if v >= green {
                Rag::Vert
            } else if v < red {
                Rag::Rouge
            } else {
                Rag::Orange
            }
        } else if v <= green {
            Rag::Vert
        } else if v > red {
            Rag::Rouge
        } else {
            Rag::Orange
        })
    }
}

/// A new indicator, or a change to one: absent fields stay as they are.
#[derive(Debug, Clone, Default)]
pub struct IndicatorInput {
    pub code: Option<String>,
    /// `national` or `academie:CODE`.
    pub owner: Option<String>,
    pub label: Option<String>,
    pub definition: Option<String>,
    pub unit: Option<String>,
    pub direction: Option<String>,
    pub kind: Option<String>,
    pub aggregation: Option<String>,
    pub periodicity: Option<String>,
    pub source: Option<String>,
    pub capture_level: Option<String>,
    pub factor: Option<i64>,
    /// Decimal texts; an empty text removes the threshold.
    pub green: Option<String>,
    pub red: Option<String>,
    pub public: Option<bool>,
    /// A [`Formula`] code; an empty text makes the indicator entered again.
    pub formula: Option<String>,
}

/// What an indicator measures: `projet:<id>` or `action:<id>`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Link {
    pub ref_kind: String,
    pub ref_id: String,
}

/// A baseline or a target.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Target {
    pub perimeter_kind: String,
    pub perimeter_code: String,
    pub period: String,
    pub kind: String,
    pub value_e4: i64,
}

/// An indicator with what it measures and its targets.
#[derive(Debug, Clone, PartialEq)]
pub struct IndicatorView {
    pub indicator: Indicator,
    pub links: Vec<Link>,
    pub targets: Vec<Target>,
    /// Whether the caller may change it.
    pub can_write: bool,
}

/// A value of an indicator.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Value {
    pub id: String,
    pub indicator_id: String,
    pub period: String,
    pub perimeter_kind: String,
    pub perimeter_code: String,
    pub value_e4: i64,
    pub numerator_e4: Option<i64>,
    pub denominator_e4: Option<i64>,
    pub status: String,
    pub provenance: String,
    pub comment: String,
    pub entered_by: Option<String>,
    pub entered_label: String,
    pub entered_at: OffsetDateTime,
    pub validated_by: Option<String>,
    pub validated_at: Option<OffsetDateTime>,
    pub reopen_reason: Option<String>,
    pub version: i64,
    pub updated_at: OffsetDateTime,
}

impl Value {
    /// The perimeter as text (`etablissement:0350001A`, `national`).
    pub fn perimeter_text(&self) -> String {
        if self.perimeter_code.is_empty() {
            self.perimeter_kind.clone()
        } else {
            format!("{}:{}", self.perimeter_kind, self.perimeter_code)
        }
    }

    /// True once locked with its period.
    pub fn locked(&self) -> bool {
        self.status == ValueStatus::Verrouillee.as_str()
    }
}

/// A value with its indicator's code and status, for lists.
#[derive(Debug, Clone, PartialEq)]
pub struct ValueRow {
    pub value: Value,
    pub indicator_code: String,
    pub rag: Option<Rag>,
}

/// A value as typed (form, API, or one line of a file).
#[derive(Debug, Clone, Default)]
pub struct ValueInput {
    pub indicator: String,
    /// `etablissement:UAI`, `commune:INSEE`, `departement:35`, `academie:14`,
    /// `region-academique:53`, `national`.
    pub perimeter: String,
    pub period: String,
    /// Decimal texts (the value, or a ratio's parts).
    pub value: Option<String>,
    pub numerator: Option<String>,
    pub denominator: Option<String>,
    pub comment: Option<String>,
}

/// Filters of the value lists.
#[derive(Debug, Clone, Default)]
pub struct ValueFilter {
    pub indicator: Option<String>,
    pub period: Option<String>,
    pub perimeter: Option<String>,
    pub status: Option<String>,
}

// --- Consolidation ----------------------------------------------------------------------------

/// How complete a consolidated figure is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Completeness {
    /// Perimeters of the level just below with at least one value (27 académies…).
    pub children_with_data: i64,
    /// Perimeters of that level in the referential (30 académies…).
    pub children_expected: i64,
    /// Perimeters of the capture level with a value (schools…).
    pub sources_with_data: i64,
    /// Perimeters of the capture level in the referential.
    pub sources_expected: i64,
}

impl Completeness {
    /// Share of the sources with data, in whole percent (rounded down).
    pub fn percent(&self) -> i64 {
        if self.sources_expected == 0 {
            0
        } else {
            self.sources_with_data * 100 / self.sources_expected
        }
    }
}

/// One consolidated figure (or one source value, at the capture level).
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// `national`, `academie:14`, `etablissement:0350001A`…
    pub perimeter: String,
    pub label: String,
    pub level: Level,
    /// `None` when no value feeds it.
    pub value: Option<Dec>,
    pub numerator: Option<Dec>,
    pub denominator: Option<Dec>,
    pub rag: Option<Rag>,
    /// How many source values it comes from.
    pub sources: i64,
    pub completeness: Completeness,
    /// At the capture level: the value's id and status (drill-down ends there).
    pub value_id: Option<String>,
    pub status: Option<String>,
}

/// A consolidated figure and the figures it comes from, one level down.
#[derive(Debug, Clone, PartialEq)]
pub struct Consolidation {
    pub indicator: Indicator,
    pub period: String,
    pub figure: Figure,
    /// The level of `children`.
    pub children_level: Option<Level>,
    pub children: Vec<Figure>,
    /// Only validated and locked values were counted.
    pub validated_only: bool,
}

/// One row of an aggregate, straight from SQL (sums of the `_e4` columns).
#[derive(Debug, Clone, Default, PartialEq, sqlx::FromRow)]
pub struct Partial {
    pub code: Option<String>,
    pub n: i64,
    pub s_value: Option<i64>,
    pub s_num: Option<i64>,
    pub s_den: Option<i64>,
    pub min_value: Option<i64>,
    pub max_value: Option<i64>,
    /// Σ value × weight, in units of 10⁻⁸ (both factors scaled by 10⁴).
    pub s_weighted: Option<i64>,
}

impl Partial {
    /// Adds another partial (for the level above).
    pub fn merge(&mut self, o: &Partial) {
        let add = |a: Option<i64>, b: Option<i64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.saturating_add(b)),
            (a, b) => a.or(b),
        };
        self.n += o.n;
        self.s_value = add(self.s_value, o.s_value);
        self.s_num = add(self.s_num, o.s_num);
        self.s_den = add(self.s_den, o.s_den);
        self.s_weighted = add(self.s_weighted, o.s_weighted);
        self.min_value = match (self.min_value, o.min_value) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        self.max_value = match (self.max_value, o.max_value) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
    }

    /// The figure's value by the indicator's rule: a ratio is Σnum ÷ Σden (× factor), never
    /// a mean of ratios.
    pub fn value(&self, ind: &Indicator) -> Option<Dec> {
        if self.n == 0 {
            return None;
        }
        match (ind.kind(), ind.aggregation()) {
            (Kind::Ratio, _) | (_, Aggregation::RatioDesSommes) => {
                Dec::ratio(self.s_num?, self.s_den?, ind.factor.max(1))
            }
            (_, Aggregation::MoyennePonderee) => {
                // Σ(v×w) is scaled by 10⁸; Σw by 10⁴: the quotient is scaled by 10⁴.
                let (w, sw) = (self.s_den?, self.s_weighted?);
                (w != 0).then(|| Dec(i64::try_from(i128::from(sw) / i128::from(w)).unwrap_or(0)))
            }
            (_, Aggregation::Min) => self.min_value.map(Dec),
            (_, Aggregation::Max) => self.max_value.map(Dec),
            (_, Aggregation::Somme | Aggregation::Derniere) => self.s_value.map(Dec),
        }
    }
}

// --- Campaigns --------------------------------------------------------------------------------

/// A reporting campaign.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Campaign {
    pub id: String,
    pub title: String,
    pub owner_kind: String,
    pub owner_code: String,
    pub period: String,
    pub opens_on: Date,
    pub closes_on: Date,
    pub grace_days: i64,
    pub status: String,
    pub instructions: String,
    pub created_by: Option<String>,
    pub closed_at: Option<OffsetDateTime>,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl Campaign {
    /// The owner as a perimeter text.
    pub fn owner_text(&self) -> String {
        if self.owner_code.is_empty() {
            self.owner_kind.clone()
        } else {
            format!("{}:{}", self.owner_kind, self.owner_code)
        }
    }

    /// The last day values are accepted: the close plus the grace.
    pub fn last_day(&self) -> Date {
        self.closes_on + time::Duration::days(self.grace_days.clamp(0, 365))
    }
}

/// A new campaign.
#[derive(Debug, Clone, Default)]
pub struct CampaignInput {
    pub title: String,
    /// `national` or `academie:CODE`.
    pub owner: String,
    /// Indicator codes.
    pub indicators: Vec<String>,
    /// Académie codes; empty: every académie of the owner's perimeter.
    pub academies: Vec<String>,
    pub period: String,
    pub opens_on: Option<Date>,
    pub closes_on: Option<Date>,
    pub grace_days: Option<i64>,
    pub instructions: String,
}

/// How far one académie has answered one campaign (a cell row of the heatmap).
#[derive(Debug, Clone, PartialEq)]
pub struct AcademieProgress {
    pub academie: String,
    pub label: String,
    /// Per indicator code: (perimeters with a value, perimeters expected).
    pub cells: Vec<(String, i64, i64)>,
    pub filled: i64,
    pub expected: i64,
}

impl AcademieProgress {
    /// Share filled, in whole percent.
    pub fn percent(&self) -> i64 {
        if self.expected == 0 {
            0
        } else {
            self.filled * 100 / self.expected
        }
    }
}

/// A campaign with its indicators and the completeness by académie.
#[derive(Debug, Clone, PartialEq)]
pub struct CampaignView {
    pub campaign: Campaign,
    pub indicators: Vec<Indicator>,
    pub progress: Vec<AcademieProgress>,
    pub can_manage: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_parse_exactly_with_commas_and_points() {
        assert_eq!(Dec::parse("12,5"), Some(Dec(125_000)));
        assert_eq!(Dec::parse("12.5"), Some(Dec(125_000)));
        assert_eq!(Dec::parse("-0,0001"), Some(Dec(-1)));
        assert_eq!(Dec::parse("1 234,25"), Some(Dec(12_342_500)));
        assert_eq!(Dec::parse("84 %"), Some(Dec(840_000)));
        for bad in ["", "abc", "1,2,3", "1.23456", "1e5", ",5", "--1"] {
            assert_eq!(Dec::parse(bad), None, "{bad}");
        }
        assert_eq!(Dec(125_000).machine(), "12.5");
        assert_eq!(Dec(-1).machine(), "-0.0001");
        assert_eq!(Dec(12_342_500).french(), "1\u{202f}234,25");
        assert_eq!(Dec::from_int(7).machine(), "7");
    }

    #[test]
    fn ratios_round_half_away_from_zero() {
        assert_eq!(Dec::ratio(1, 3, 1), Some(Dec(3_333)));
        assert_eq!(Dec::ratio(2, 3, 1), Some(Dec(6_667)));
        assert_eq!(Dec::ratio(27, 30, 100), Some(Dec(900_000)));
        assert_eq!(Dec::ratio(1, 0, 1), None);
    }

    #[test]
    fn periods_follow_their_periodicity() {
        assert!(check_period(Periodicity::Annee, "2025").is_some());
        assert!(check_period(Periodicity::Annee, "2025-2026").is_none());
        assert!(check_period(Periodicity::AnneeScolaire, "2025-2026").is_some());
        assert!(check_period(Periodicity::AnneeScolaire, "2025-2027").is_none());
        assert!(check_period(Periodicity::Trimestre, "2025-T3").is_some());
        assert!(check_period(Periodicity::Trimestre, "2025-T5").is_none());
        assert!(check_period(Periodicity::Mois, "2025-09").is_some());
        assert!(check_period(Periodicity::Mois, "2025-13").is_none());
        assert!(check_period(Periodicity::Mois, "2025-9").is_none());
    }
}
