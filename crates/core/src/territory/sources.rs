//! Parsers of the territory sources: the etalab referential (JSON), the project's compiled
//! CSV tables and the ministry's Annuaire de l'éducation (CSV).
//!
//! Pure parsing, no database. A file that cannot be read or is not the expected format at
//! all gives a [`SourceError`]; otherwise every entry is checked on its own, good entries
//! are kept in [`Parsed::records`] and each bad one gives one [`LineError`].

use std::fmt;
use std::io::Read;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::{Date, Month};

use super::ids::{CodeAcademie, CodeCommune, CodeDepartement, CodeRegion, IdError, Siren, Siret, Uai};

// ---------------------------------------------------------------------------------------------
// Common types

/// One rejected entry of a source file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineError {
    /// 1-based physical line of the file (the header is line 1); for JSON arrays, the
    /// 1-based index of the entry.
    pub line: u64,
    /// The first wrong field (column or JSON field name), or `ligne` / `entrée` when the
    /// entry as a whole is malformed.
    pub field: String,
    /// What is wrong, in French.
    pub reason: String,
}

impl LineError {
    fn new(line: u64, field: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            line,
            field: field.into(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ligne {}, champ « {} » : {}",
            self.line, self.field, self.reason
        )
    }
}

/// The outcome of parsing a source: the good entries with their line, and the rejected ones.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed<T> {
    /// `(line, record)` for every accepted entry, in file order.
    pub records: Vec<(u64, T)>,
    /// One error per rejected entry, in file order.
    pub errors: Vec<LineError>,
}

impl<T> Default for Parsed<T> {
    fn default() -> Self {
        Self {
            records: Vec::new(),
            errors: Vec::new(),
        }
    }
}

impl<T> Parsed<T> {
    fn push(&mut self, line: u64, result: Result<Option<T>, LineError>) {
        match result {
            Ok(Some(record)) => self.records.push((line, record)),
            Ok(None) => {}
            Err(e) => self.errors.push(e),
        }
    }

    /// The accepted records, without their line numbers.
    pub fn into_records(self) -> Vec<T> {
        self.records.into_iter().map(|(_, r)| r).collect()
    }
}

/// A source that cannot be used at all.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The file could not be read.
    #[error("lecture du fichier impossible : {0}")]
    Io(#[from] std::io::Error),
    /// The file is not valid JSON.
    #[error("le fichier n'est pas un JSON valide : {0}")]
    Json(#[from] serde_json::Error),
    /// The CSV reader failed.
    #[error("le fichier CSV est illisible : {0}")]
    Csv(#[from] csv::Error),
    /// The file has no header line.
    #[error("le fichier est vide : aucune ligne d'en-tête")]
    Empty,
    /// A required column is missing from the header.
    #[error("colonne obligatoire absente : « {0} »")]
    MissingColumn(String),
    /// The file is not the expected kind of document.
    #[error("format inattendu : {0}")]
    Format(String),
}

/// Reason text for an identifier error, quoting the rejected value.
fn id_reason(e: &IdError) -> String {
    if e.value.is_empty() {
        e.to_string()
    } else {
        format!("{e} (valeur « {} »)", e.value)
    }
}

fn line_no(index: usize) -> u64 {
    u64::try_from(index).unwrap_or(u64::MAX).saturating_add(1)
}

// ---------------------------------------------------------------------------------------------
// Etalab JSON (@etalab/decoupage-administratif)

/// A région (or a COM used as its own pseudo-région) of `regions.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EtalabRegion {
    pub code: CodeRegion,
    pub nom: String,
}

/// A département (or COM) of `departements.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EtalabDepartement {
    pub code: CodeDepartement,
    pub nom: String,
    pub region: CodeRegion,
}

/// A current commune (`type` = `commune-actuelle`) of `communes.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EtalabCommune {
    pub code: CodeCommune,
    pub nom: String,
    pub departement: CodeDepartement,
    pub region: CodeRegion,
    /// A Luhn-checked SIREN; absent for some COM communes.
    pub siren: Option<String>,
    /// INSEE legal population, as shipped in the package.
    pub population: Option<i64>,
    pub codes_postaux: Vec<String>,
}

/// An EPCI à fiscalité propre of `epci.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EtalabEpci {
    /// The SIREN of the EPCI (its `code` in the etalab file).
    pub siren: Siren,
    pub nom: String,
    /// `CC`, `CA`, `CU`, `METRO` or `MET69` (Métropole de Lyon).
    pub kind: String,
    /// COG codes of the member communes.
    pub membres: Vec<String>,
}

#[derive(Deserialize)]
struct RawRegion {
    code: String,
    nom: String,
}

#[derive(Deserialize)]
struct RawDepartement {
    code: String,
    nom: String,
    region: String,
}

#[derive(Deserialize)]
struct RawCommune {
    code: String,
    nom: String,
    #[serde(rename = "type", alias = "typeCommune", default)]
    type_commune: Option<String>,
    departement: String,
    #[serde(default)]
    region: String,
    #[serde(default)]
    siren: Option<String>,
    #[serde(default)]
    population: Option<i64>,
    #[serde(rename = "codesPostaux", default)]
    codes_postaux: Vec<String>,
}

#[derive(Deserialize)]
struct RawEpci {
    code: String,
    nom: String,
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    membres: Vec<RawMembre>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawMembre {
    Code(String),
    Commune { code: String },
}

/// Parses a JSON array, deserialising each entry into `Raw` then checking it with `check`.
fn parse_json_array<Raw, T>(
    bytes: &[u8],
    check: impl Fn(u64, Raw) -> Result<Option<T>, LineError>,
) -> Result<Parsed<T>, SourceError>
where
    Raw: for<'de> Deserialize<'de>,
{
    let value: Value = serde_json::from_slice(bytes)?;
    let Value::Array(items) = value else {
        return Err(SourceError::Format(
            "un tableau JSON d'objets était attendu".into(),
        ));
    };
    let mut parsed = Parsed::default();
    for (index, item) in items.iter().enumerate() {
        let line = line_no(index);
        let result = if item.is_object() {
            match Raw::deserialize(item) {
                Ok(raw) => check(line, raw),
                Err(e) => Err(json_shape_error(line, &e)),
            }
        } else {
            Err(LineError::new(line, "entrée", "un objet JSON était attendu"))
        };
        parsed.push(line, result);
    }
    Ok(parsed)
}

/// Turns a serde error on one entry into a line error, naming the field when serde does.
fn json_shape_error(line: u64, e: &serde_json::Error) -> LineError {
    let msg = e.to_string();
    if let Some(rest) = msg.strip_prefix("missing field `")
        && let Some(end) = rest.find('`')
    {
        let field = rest.get(..end).unwrap_or("entrée");
        return LineError::new(line, field, "champ obligatoire absent");
    }
    LineError::new(line, "entrée", format!("entrée mal formée : {msg}"))
}

/// Checks one identifier field of a JSON entry.
fn json_id<T>(
    line: u64,
    field: &str,
    value: &str,
    parse: fn(&str) -> Result<T, IdError>,
) -> Result<T, LineError> {
    parse(value).map_err(|e| LineError::new(line, field, id_reason(&e)))
}

fn json_name(line: u64, field: &str, value: String) -> Result<String, LineError> {
    let value = value.trim().to_owned();
    if value.is_empty() {
        Err(LineError::new(line, field, "valeur vide"))
    } else {
        Ok(value)
    }
}

/// Parses etalab `regions.json`.
pub fn parse_regions(bytes: &[u8]) -> Result<Parsed<EtalabRegion>, SourceError> {
    parse_json_array(bytes, |line, raw: RawRegion| {
        Ok(Some(EtalabRegion {
            code: json_id(line, "code", &raw.code, CodeRegion::parse)?,
            nom: json_name(line, "nom", raw.nom)?,
        }))
    })
}

/// Parses etalab `departements.json`.
pub fn parse_departements(bytes: &[u8]) -> Result<Parsed<EtalabDepartement>, SourceError> {
    parse_json_array(bytes, |line, raw: RawDepartement| {
        Ok(Some(EtalabDepartement {
            code: json_id(line, "code", &raw.code, CodeDepartement::parse)?,
            nom: json_name(line, "nom", raw.nom)?,
            region: json_id(line, "region", &raw.region, CodeRegion::parse)?,
        }))
    })
}

/// Parses etalab `communes.json`, keeping only current communes (entries whose `type` is
/// `commune-actuelle`; communes déléguées/associées and arrondissements are skipped).
pub fn parse_communes(bytes: &[u8]) -> Result<Parsed<EtalabCommune>, SourceError> {
    parse_json_array(bytes, |line, raw: RawCommune| {
        if raw
            .type_commune
            .as_deref()
            .is_some_and(|t| t != "commune-actuelle")
        {
            return Ok(None);
        }
        let code = json_id(line, "code", &raw.code, CodeCommune::parse)?;
        let nom = json_name(line, "nom", raw.nom)?;
        let departement = json_id(line, "departement", &raw.departement, CodeDepartement::parse)?;
        if code.departement() != departement {
            return Err(LineError::new(
                line,
                "departement",
                format!("le département {departement} ne correspond pas au code commune {code}"),
            ));
        }
        let region = json_id(line, "region", &raw.region, CodeRegion::parse)?;
        let siren = match raw.siren.as_deref().map(str::trim) {
            None | Some("") => None,
            Some(s) => Some(json_id(line, "siren", s, Siren::parse)?.into_string()),
        };
        if let Some(p) = raw.population
            && p < 0
        {
            return Err(LineError::new(
                line,
                "population",
                "la population ne peut pas être négative",
            ));
        }
        Ok(Some(EtalabCommune {
            code,
            nom,
            departement,
            region,
            siren,
            population: raw.population,
            codes_postaux: raw.codes_postaux,
        }))
    })
}

/// A commune déléguée or associée, or a municipal arrondissement, of `communes.json`,
/// with the current commune it belongs to. Older files (the Annuaire de l'éducation among
/// them) still use these codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EtalabCommuneLink {
    pub code: CodeCommune,
    pub nom: String,
    /// `commune-deleguee`, `commune-associee` or `arrondissement-municipal`.
    pub kind: String,
    /// The current commune (`chefLieu`, or `commune` for an arrondissement).
    pub parent: CodeCommune,
}

#[derive(Deserialize)]
struct RawCommuneLink {
    code: String,
    #[serde(default)]
    nom: String,
    #[serde(rename = "type", alias = "typeCommune", default)]
    type_commune: Option<String>,
    #[serde(rename = "chefLieu", default)]
    chef_lieu: Option<String>,
    #[serde(default)]
    commune: Option<String>,
}

/// Parses the entries of etalab `communes.json` that are not current communes: communes
/// déléguées and associées (parent in `chefLieu`) and municipal arrondissements (parent
/// in `commune`). Entries that point to themselves are skipped.
pub fn parse_commune_links(bytes: &[u8]) -> Result<Parsed<EtalabCommuneLink>, SourceError> {
    parse_json_array(bytes, |line, raw: RawCommuneLink| {
        let kind = match raw.type_commune.as_deref() {
            Some(k @ ("commune-deleguee" | "commune-associee" | "arrondissement-municipal")) => k.to_owned(),
            _ => return Ok(None),
        };
        let code = json_id(line, "code", &raw.code, CodeCommune::parse)?;
        let (field, parent) = match (&raw.chef_lieu, &raw.commune) {
            (Some(p), _) => ("chefLieu", p.as_str()),
            (None, Some(p)) => ("commune", p.as_str()),
            (None, None) => {
                return Err(LineError::new(
                    line,
                    "chefLieu",
                    "commune de rattachement absente",
                ));
            }
        };
        let parent = json_id(line, field, parent, CodeCommune::parse)?;
        if parent == code {
            return Ok(None);
        }
        Ok(Some(EtalabCommuneLink {
            code,
            nom: raw.nom,
            kind,
            parent,
        }))
    })
}

/// Parses etalab `epci.json` (members given as `{code, siren, …}` objects or plain codes).
pub fn parse_epci(bytes: &[u8]) -> Result<Parsed<EtalabEpci>, SourceError> {
    parse_json_array(bytes, |line, raw: RawEpci| {
        let siren = json_id(line, "code", &raw.code, Siren::parse)?;
        let nom = json_name(line, "nom", raw.nom)?;
        let kind = json_name(line, "type", raw.kind)?;
        let membres = raw
            .membres
            .into_iter()
            .map(|m| {
                let code = match m {
                    RawMembre::Code(c) | RawMembre::Commune { code: c } => c,
                };
                json_id(line, "membres", &code, CodeCommune::parse).map(CodeCommune::into_string)
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some(EtalabEpci {
            siren,
            nom,
            kind,
            membres,
        }))
    })
}

// ---------------------------------------------------------------------------------------------
// CSV reading shared by the project tables and the annuaire

/// Windows-1252 characters for bytes 0x80–0x9F (undefined bytes map to the C1 control).
const CP1252_HIGH: [char; 32] = [
    '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}', '\u{90}',
    '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
];

/// Decodes a field: UTF-8 when valid, Windows-1252 otherwise.
fn decode(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_owned(),
        Err(_) => bytes
            .iter()
            .map(|&b| match b {
                0x80..=0x9f => CP1252_HIGH
                    .get(usize::from(b - 0x80))
                    .copied()
                    .unwrap_or('\u{fffd}'),
                _ => char::from(b),
            })
            .collect(),
    }
}

/// Normalises a header name: no BOM, trimmed, lower-case, spaces and dashes as `_`.
fn normalise_header(h: &str) -> String {
    h.trim_start_matches('\u{feff}')
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| if c == ' ' || c == '-' { '_' } else { c })
        .collect()
}

/// A CSV file being read row by row, with its normalised header.
///
/// The whole file is held in memory so that physical line numbers can be computed exactly
/// (the `csv` crate's record positions are off by one after CRLF line ends and blank lines).
struct CsvSource {
    reader: csv::Reader<std::io::Cursor<Vec<u8>>>,
    header: Vec<String>,
    record: csv::ByteRecord,
    /// Byte offset up to which newlines have been counted, and the line number there.
    counted_to: usize,
    line: u64,
}

/// One data row: its physical line and its decoded, trimmed fields.
struct Row {
    line: u64,
    fields: Vec<String>,
}

impl Row {
    /// The non-empty value of a column, if the column exists.
    fn get(&self, col: Option<usize>) -> Option<&str> {
        col.and_then(|i| self.fields.get(i))
            .map(String::as_str)
            .filter(|s| !s.is_empty())
    }
}

impl CsvSource {
    fn open(mut r: impl Read, delimiter: u8) -> Result<Self, SourceError> {
        let mut data = Vec::new();
        r.read_to_end(&mut data)?;
        if data.starts_with(b"\xEF\xBB\xBF") {
            data.drain(..3);
        }
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .has_headers(false)
            .flexible(true)
            .from_reader(std::io::Cursor::new(data));
        let mut record = csv::ByteRecord::new();
        if !reader.read_byte_record(&mut record)? {
            return Err(SourceError::Empty);
        }
        let header: Vec<String> = record.iter().map(|f| normalise_header(&decode(f))).collect();
        if header.iter().all(String::is_empty) {
            return Err(SourceError::Empty);
        }
        Ok(Self {
            reader,
            header,
            record,
            counted_to: 0,
            line: 1,
        })
    }

    /// The physical line (1-based) of the record the `csv` reader places at byte `pos`.
    ///
    /// `pos` may point at the line end that precedes the record, or at blank lines the
    /// reader skipped: those are passed over before counting newlines. Calls must come in
    /// file order.
    fn line_at(&mut self, pos: u64) -> u64 {
        let data = self.reader.get_ref().get_ref();
        let mut start = usize::try_from(pos).unwrap_or(data.len()).min(data.len());
        while matches!(data.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if start > self.counted_to {
            let newlines = data
                .get(self.counted_to..start)
                .map_or(0, |chunk| chunk.iter().filter(|&&b| b == b'\n').count());
            self.line = self
                .line
                .saturating_add(u64::try_from(newlines).unwrap_or(u64::MAX));
            self.counted_to = start;
        }
        self.line
    }

    /// The index of the first column matching one of `names` (already normalised).
    fn column(&self, names: &[&str]) -> Option<usize> {
        names.iter().find_map(|n| self.header.iter().position(|h| h == n))
    }

    /// Like [`Self::column`], but a missing column is an error naming `names[0]`.
    fn require(&self, names: &[&str]) -> Result<usize, SourceError> {
        self.column(names)
            .ok_or_else(|| SourceError::MissingColumn(names.first().copied().unwrap_or("?").to_owned()))
    }

    /// The next row, or a line error when it does not have as many fields as the header.
    fn next_row(&mut self) -> Result<Option<Result<Row, LineError>>, SourceError> {
        if !self.reader.read_byte_record(&mut self.record)? {
            return Ok(None);
        }
        let pos = self.record.position().map_or(0, csv::Position::byte);
        let line = self.line_at(pos);
        if self.record.len() != self.header.len() {
            return Ok(Some(Err(LineError::new(
                line,
                "ligne",
                format!(
                    "{} champs au lieu de {} (ligne tronquée ou séparateur en trop)",
                    self.record.len(),
                    self.header.len()
                ),
            ))));
        }
        let fields = self.record.iter().map(|f| decode(f).trim().to_owned()).collect();
        Ok(Some(Ok(Row { line, fields })))
    }

    /// Reads every row, checking each with `check`.
    fn parse_rows<T>(
        mut self,
        mut check: impl FnMut(&Row) -> Result<T, LineError>,
    ) -> Result<Parsed<T>, SourceError> {
        let mut parsed = Parsed::default();
        while let Some(row) = self.next_row()? {
            match row {
                Ok(row) => parsed.push(row.line, check(&row).map(Some)),
                Err(e) => parsed.errors.push(e),
            }
        }
        Ok(parsed)
    }
}

/// Small helpers to check one field of a row, naming the field in the error.
struct FieldCheck<'a> {
    row: &'a Row,
}

impl<'a> FieldCheck<'a> {
    fn err(&self, field: &str, reason: impl Into<String>) -> LineError {
        LineError::new(self.row.line, field, reason)
    }

    fn required(&self, field: &str, col: Option<usize>) -> Result<&'a str, LineError> {
        self.row
            .get(col)
            .ok_or_else(|| self.err(field, "valeur manquante"))
    }

    fn optional(&self, col: Option<usize>) -> Option<String> {
        self.row.get(col).map(str::to_owned)
    }

    fn id<T>(&self, field: &str, value: &str, parse: fn(&str) -> Result<T, IdError>) -> Result<T, LineError> {
        parse(value).map_err(|e| self.err(field, id_reason(&e)))
    }

    fn optional_id<T>(
        &self,
        field: &str,
        col: Option<usize>,
        parse: fn(&str) -> Result<T, IdError>,
    ) -> Result<Option<T>, LineError> {
        self.row.get(col).map(|v| self.id(field, v, parse)).transpose()
    }

    /// A `;`-separated list of département codes.
    fn departements(&self, field: &str, col: Option<usize>) -> Result<Vec<String>, LineError> {
        self.row
            .get(col)
            .unwrap_or("")
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|d| {
                self.id(field, d, CodeDepartement::parse)
                    .map(CodeDepartement::into_string)
            })
            .collect()
    }

    fn date(&self, field: &str, col: Option<usize>) -> Result<Option<Date>, LineError> {
        self.row
            .get(col)
            .map(|v| {
                parse_date(v).ok_or_else(|| {
                    self.err(field, format!("date attendue au format AAAA-MM-JJ, « {v} » reçu"))
                })
            })
            .transpose()
    }
}

/// Parses `YYYY-MM-DD` (optionally followed by a time) or `DD/MM/YYYY`.
fn parse_date(s: &str) -> Option<Date> {
    let s = s.trim();
    let num = |a: usize, b: usize| -> Option<u32> {
        let part = s.get(a..b)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let bytes = s.as_bytes();
    let (y, m, d) = if s.len() >= 10
        && bytes.get(4) == Some(&b'-')
        && bytes.get(7) == Some(&b'-')
        && (s.len() == 10 || matches!(bytes.get(10), Some(b'T' | b' ')))
    {
        (num(0, 4)?, num(5, 7)?, num(8, 10)?)
    } else if s.len() == 10 && bytes.get(2) == Some(&b'/') && bytes.get(5) == Some(&b'/') {
        (num(6, 10)?, num(3, 5)?, num(0, 2)?)
    } else {
        return None;
    };
    let month = Month::try_from(u8::try_from(m).ok()?).ok()?;
    Date::from_calendar_date(i32::try_from(y).ok()?, month, u8::try_from(d).ok()?).ok()
}

// ---------------------------------------------------------------------------------------------
// Project CSV tables (data/referential/*.csv)

/// The kind of an entry of `academies.csv`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum AcademieKind {
    /// A current académie.
    Academie,
    /// A vice-rectorat (Nouvelle-Calédonie, Polynésie française, Wallis-et-Futuna).
    ViceRectorat,
    /// The service de l'éducation nationale of Saint-Pierre-et-Miquelon.
    ServiceEducationNationale,
    /// A former académie (Caen, Rouen), merged into another one.
    Historique,
}

impl AcademieKind {
    /// The code used in `academies.csv` (and for storage).
    pub fn as_str(self) -> &'static str {
        match self {
            AcademieKind::Academie => "academie",
            AcademieKind::ViceRectorat => "vice-rectorat",
            AcademieKind::ServiceEducationNationale => "service-education-nationale",
            AcademieKind::Historique => "academie-historique",
        }
    }

    /// Parses the code written by [`Self::as_str`] (`-` or `_` as separator).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "academie" => Some(AcademieKind::Academie),
            "vice-rectorat" => Some(AcademieKind::ViceRectorat),
            "service-education-nationale" => Some(AcademieKind::ServiceEducationNationale),
            "academie-historique" | "historique" => Some(AcademieKind::Historique),
            _ => None,
        }
    }
}

/// One row of `academies.csv`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AcademieRecord {
    pub code: CodeAcademie,
    pub nom: String,
    pub kind: AcademieKind,
    pub code_region_academique: Option<String>,
    pub nom_region_academique: Option<String>,
    /// COG codes of the départements covered.
    pub departements: Vec<String>,
    pub valid_from: Option<Date>,
    /// Last day of existence, for historical académies (2019-12-31 for Caen and Rouen).
    pub valid_until: Option<Date>,
    pub note: Option<String>,
}

/// Last day of the académies merged into Normandie (décret 2019-1056).
const END_OF_HISTORICAL_ACADEMIES: Date = time::macros::date!(2019 - 12 - 31);

/// Parses `academies.csv` (comma-separated, header row).
pub fn parse_academies<R: Read>(r: R) -> Result<Parsed<AcademieRecord>, SourceError> {
    let src = CsvSource::open(r, b',')?;
    let c_code = src.require(&["code_academie"])?;
    let c_nom = src.require(&["libelle_academie"])?;
    let c_type = src.require(&["type"])?;
    let c_deps = src.require(&["departements"])?;
    let c_region = src.column(&["code_region_academique_insee", "code_region_academique"]);
    let c_nom_region = src.column(&["libelle_region_academique"]);
    let c_from = src.column(&["en_vigueur_depuis", "valid_from"]);
    let c_until = src.column(&["en_vigueur_jusqu_au", "valid_until"]);
    let c_note = src.column(&["note"]);
    src.parse_rows(|row| {
        let f = FieldCheck { row };
        let code = f.id(
            "code_academie",
            f.required("code_academie", Some(c_code))?,
            CodeAcademie::parse,
        )?;
        let nom = f.required("libelle_academie", Some(c_nom))?.to_owned();
        let type_value = f.required("type", Some(c_type))?;
        let kind = AcademieKind::parse(type_value).ok_or_else(|| {
            f.err(
                "type",
                format!("type inconnu « {type_value} » (academie, vice-rectorat, service-education-nationale, academie-historique)"),
            )
        })?;
        let code_region_academique = f
            .optional_id("code_region_academique_insee", c_region, CodeRegion::parse)?
            .map(CodeRegion::into_string);
        let departements = f.departements("departements", Some(c_deps))?;
        let valid_from = f.date("en_vigueur_depuis", c_from)?;
        let mut valid_until = f.date("en_vigueur_jusqu_au", c_until)?;
        if kind == AcademieKind::Historique && valid_until.is_none() {
            valid_until = Some(END_OF_HISTORICAL_ACADEMIES);
        }
        Ok(AcademieRecord {
            code,
            nom,
            kind,
            code_region_academique,
            nom_region_academique: f.optional(c_nom_region),
            departements,
            valid_from,
            valid_until,
            note: f.optional(c_note),
        })
    })
}

/// One row of `departements_academies.csv`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DepartementAcademieRecord {
    pub code_departement: CodeDepartement,
    pub nom_departement: Option<String>,
    pub code_region: Option<CodeRegion>,
    /// `metro`, `drom` or `com`.
    pub zone: String,
    pub code_academie: Option<CodeAcademie>,
    pub nom_academie: Option<String>,
    /// The 3-digit prefix of UAIs in this département (`035`, `620`…), when known.
    pub uai_prefix: Option<String>,
}

/// Parses `departements_academies.csv` (comma-separated, header row).
pub fn parse_departements_academies<R: Read>(r: R) -> Result<Parsed<DepartementAcademieRecord>, SourceError> {
    let src = CsvSource::open(r, b',')?;
    let c_code = src.require(&["code_departement"])?;
    let c_zone = src.require(&["zone"])?;
    let c_academie = src.require(&["code_academie"])?;
    let c_nom = src.column(&["libelle_departement"]);
    let c_region = src.column(&["code_region_insee", "code_region"]);
    let c_nom_academie = src.column(&["libelle_academie"]);
    let c_prefix = src.column(&["uai_prefix"]);
    src.parse_rows(|row| {
        let f = FieldCheck { row };
        let code_departement = f.id(
            "code_departement",
            f.required("code_departement", Some(c_code))?,
            CodeDepartement::parse,
        )?;
        let code_region = f.optional_id("code_region_insee", c_region, CodeRegion::parse)?;
        let zone = f.required("zone", Some(c_zone))?;
        if !matches!(zone, "metro" | "drom" | "com") {
            return Err(f.err("zone", format!("zone inconnue « {zone} » (metro, drom ou com)")));
        }
        let code_academie = f.optional_id("code_academie", Some(c_academie), CodeAcademie::parse)?;
        let uai_prefix = f.optional(c_prefix);
        if let Some(p) = &uai_prefix
            && (p.len() != 3 || !p.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(f.err("uai_prefix", format!("3 chiffres attendus, « {p} » reçu")));
        }
        Ok(DepartementAcademieRecord {
            code_departement,
            nom_departement: f.optional(c_nom),
            code_region,
            zone: zone.to_owned(),
            code_academie,
            nom_academie: f.optional(c_nom_academie),
            uai_prefix,
        })
    })
}

/// The kind of a collectivité carrying school competences.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum CollectiviteKind {
    Commune,
    Departement,
    Region,
    /// Collectivité territoriale unique (Corse, Martinique, Guyane).
    CollectiviteUnique,
    VilleDeParis,
    MetropoleLyon,
    CollectiviteEuropeenneAlsace,
    Epci,
}

impl CollectiviteKind {
    /// The storage code: `commune`, `departement`, `region`, `collectivite-unique`,
    /// `ville-de-paris`, `metropole-de-lyon`, `collectivite-europeenne-alsace`, `epci`.
    pub fn as_str(self) -> &'static str {
        match self {
            CollectiviteKind::Commune => "commune",
            CollectiviteKind::Departement => "departement",
            CollectiviteKind::Region => "region",
            CollectiviteKind::CollectiviteUnique => "collectivite-unique",
            CollectiviteKind::VilleDeParis => "ville-de-paris",
            CollectiviteKind::MetropoleLyon => "metropole-de-lyon",
            CollectiviteKind::CollectiviteEuropeenneAlsace => "collectivite-europeenne-alsace",
            CollectiviteKind::Epci => "epci",
        }
    }

    /// Parses a kind written with `-` or `_` (`metropole_lyon` and `metropole-de-lyon` alike).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().replace('_', "-").as_str() {
            "commune" => Some(CollectiviteKind::Commune),
            "departement" => Some(CollectiviteKind::Departement),
            "region" => Some(CollectiviteKind::Region),
            "collectivite-unique" => Some(CollectiviteKind::CollectiviteUnique),
            "ville-de-paris" => Some(CollectiviteKind::VilleDeParis),
            "metropole-de-lyon" | "metropole-lyon" => Some(CollectiviteKind::MetropoleLyon),
            "collectivite-europeenne-alsace" | "collectivite-europeenne-d-alsace" => {
                Some(CollectiviteKind::CollectiviteEuropeenneAlsace)
            }
            "epci" => Some(CollectiviteKind::Epci),
            _ => None,
        }
    }
}

impl fmt::Display for CollectiviteKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One row of `collectivites_competentes.csv`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CollectiviteRecord {
    pub siren: Siren,
    pub kind: CollectiviteKind,
    /// The territory code as written in the table: a département code for départements and
    /// Ville de Paris, a région code for régions and collectivités uniques, `67A` for the
    /// Collectivité européenne d'Alsace, `69M` for the Métropole de Lyon.
    pub code_territoire: String,
    pub nom: String,
    /// COG codes of the départements (wholly or partly) covered.
    pub departements: Vec<String>,
    pub competence_colleges: bool,
    pub competence_lycees: bool,
    pub competence_ecoles: bool,
    pub note: Option<String>,
}

/// Parses `collectivites_competentes.csv` (comma-separated, header row).
///
/// The `type` column uses snake_case codes; `departement_mayotte` is read as a
/// [`CollectiviteKind::Departement`] (its regional competence is in `competence_scolaire`).
/// `competence_scolaire` is a `+`-separated list of `ecoles`, `colleges`, `lycees`, possibly
/// followed by a comment in parentheses.
pub fn parse_collectivites<R: Read>(r: R) -> Result<Parsed<CollectiviteRecord>, SourceError> {
    let src = CsvSource::open(r, b',')?;
    let c_siren = src.require(&["siren"])?;
    let c_type = src.require(&["type"])?;
    let c_code = src.require(&["code_territoire"])?;
    let c_nom = src.require(&["nom"])?;
    let c_deps = src.require(&["departements_couverts", "departements"])?;
    let c_comp = src.require(&["competence_scolaire"])?;
    let c_note = src.column(&["note"]);
    src.parse_rows(|row| {
        let f = FieldCheck { row };
        let siren = f.id("siren", f.required("siren", Some(c_siren))?, Siren::parse)?;
        let type_value = f.required("type", Some(c_type))?;
        let kind = if type_value == "departement_mayotte" {
            Some(CollectiviteKind::Departement)
        } else {
            CollectiviteKind::parse(type_value)
        }
        .ok_or_else(|| f.err("type", format!("type de collectivité inconnu « {type_value} »")))?;
        let code_territoire = f.required("code_territoire", Some(c_code))?.to_owned();
        let nom = f.required("nom", Some(c_nom))?.to_owned();
        let departements = f.departements("departements_couverts", Some(c_deps))?;
        let competence = f.required("competence_scolaire", Some(c_comp))?;
        let list = competence.split('(').next().unwrap_or("");
        let (mut ecoles, mut colleges, mut lycees) = (false, false, false);
        for item in list.split('+').map(str::trim).filter(|s| !s.is_empty()) {
            match item.to_lowercase().replace(['é', 'è'], "e").as_str() {
                "ecoles" | "ecole" => ecoles = true,
                "colleges" | "college" => colleges = true,
                "lycees" | "lycee" => lycees = true,
                other => {
                    return Err(f.err(
                        "competence_scolaire",
                        format!("compétence inconnue « {other} » (ecoles, colleges, lycees)"),
                    ));
                }
            }
        }
        Ok(CollectiviteRecord {
            siren,
            kind,
            code_territoire,
            nom,
            departements,
            competence_colleges: colleges,
            competence_lycees: lycees,
            competence_ecoles: ecoles,
            note: f.optional(c_note),
        })
    })
}

// ---------------------------------------------------------------------------------------------
// Annuaire de l'éducation

/// Public or private status of an establishment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Statut {
    Public,
    Prive,
}

impl Statut {
    /// The storage code: `public` or `prive`.
    pub fn as_str(self) -> &'static str {
        match self {
            Statut::Public => "public",
            Statut::Prive => "prive",
        }
    }

    /// The French label: `Public` or `Privé`.
    pub fn label(self) -> &'static str {
        match self {
            Statut::Public => "Public",
            Statut::Prive => "Privé",
        }
    }

    /// Parses `Public` / `Privé` (any case, accent optional).
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_lowercase().replace('é', "e").as_str() {
            "public" => Some(Statut::Public),
            "prive" => Some(Statut::Prive),
            _ => None,
        }
    }
}

/// Broad family of an establishment, from its `code_nature`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum NatureFamily {
    Ecole,
    College,
    Lycee,
    Erea,
    Autre,
}

impl NatureFamily {
    /// `1xx` → école; 340 collège, 346 collège expérimental, 350 collège climatique, 352
    /// collège spécialisé → collège; the lycée natures (300–339 listed below) → lycée;
    /// 370 → EREA; anything else (médico-social, services, CIO…) → autre.
    pub fn from_code_nature(code: &str) -> Self {
        let code = code.trim();
        if code.len() == 3 && code.starts_with('1') && code.bytes().all(|b| b.is_ascii_digit()) {
            return NatureFamily::Ecole;
        }
        match code {
            "340" | "346" | "350" | "352" => NatureFamily::College,
            "300" | "301" | "302" | "306" | "307" | "310" | "312" | "315" | "320" | "332" | "334" | "335"
            | "339" => NatureFamily::Lycee,
            "370" => NatureFamily::Erea,
            _ => NatureFamily::Autre,
        }
    }

    /// The storage code: `ecole`, `college`, `lycee`, `erea`, `autre`.
    pub fn as_str(self) -> &'static str {
        match self {
            NatureFamily::Ecole => "ecole",
            NatureFamily::College => "college",
            NatureFamily::Lycee => "lycee",
            NatureFamily::Erea => "erea",
            NatureFamily::Autre => "autre",
        }
    }
}

/// One establishment of the Annuaire de l'éducation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AnnuaireRecord {
    pub uai: Uai,
    pub nom: String,
    pub type_etablissement: Option<String>,
    /// Empty in the annuaire for administrative services (rectorat, DSDEN, circonscriptions).
    pub statut: Option<Statut>,
    pub adresse: Option<String>,
    pub code_postal: Option<String>,
    pub code_commune: CodeCommune,
    pub nom_commune: Option<String>,
    /// Normalised to the COG form (`035` → `35`, `02A`/`620` → `2A`).
    pub code_departement: Option<CodeDepartement>,
    pub code_academie: Option<String>,
    /// A Luhn-checked SIRET (14 digits) or SIREN (9 digits).
    pub siren_siret: Option<String>,
    pub nombre_eleves: Option<i64>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub date_ouverture: Option<Date>,
    pub date_maj: Option<Date>,
    pub etat: Option<String>,
    /// 3 digits, e.g. `151` école élémentaire, `340` collège.
    pub code_nature: String,
    pub libelle_nature: Option<String>,
    /// `REP`, `REP+` or absent.
    pub education_prioritaire: Option<String>,
}

impl AnnuaireRecord {
    /// The family of the establishment, from its `code_nature`.
    pub fn nature_family(&self) -> NatureFamily {
        NatureFamily::from_code_nature(&self.code_nature)
    }
}

/// Column names of the annuaire (normalised header; the first one names the column in
/// errors). The old export capitalised them and wrote `Code postal`, which normalises alike.
mod col {
    pub const UAI: &[&str] = &["identifiant_de_l_etablissement", "uai"];
    pub const NOM: &[&str] = &["nom_etablissement"];
    pub const TYPE: &[&str] = &["type_etablissement"];
    pub const STATUT: &[&str] = &["statut_public_prive"];
    pub const ADRESSE: &[&str] = &["adresse_1"];
    pub const CODE_POSTAL: &[&str] = &["code_postal"];
    pub const CODE_COMMUNE: &[&str] = &["code_commune"];
    pub const NOM_COMMUNE: &[&str] = &["nom_commune"];
    pub const DEPARTEMENT: &[&str] = &["code_departement"];
    pub const ACADEMIE: &[&str] = &["code_academie"];
    pub const SIREN_SIRET: &[&str] = &["siren_siret"];
    pub const ELEVES: &[&str] = &["nombre_d_eleves"];
    pub const LATITUDE: &[&str] = &["latitude"];
    pub const LONGITUDE: &[&str] = &["longitude"];
    pub const OUVERTURE: &[&str] = &["date_ouverture"];
    pub const MAJ: &[&str] = &["date_maj_ligne"];
    pub const ETAT: &[&str] = &["etat"];
    pub const NATURE: &[&str] = &["code_nature"];
    pub const LIBELLE_NATURE: &[&str] = &["libelle_nature"];
    pub const EP: &[&str] = &["appartenance_education_prioritaire"];
}

/// Column positions of one annuaire file.
struct AnnuaireColumns {
    uai: usize,
    nom: usize,
    type_etablissement: Option<usize>,
    statut: usize,
    adresse: Option<usize>,
    code_postal: Option<usize>,
    code_commune: usize,
    nom_commune: Option<usize>,
    code_departement: Option<usize>,
    code_academie: Option<usize>,
    siren_siret: Option<usize>,
    nombre_eleves: Option<usize>,
    latitude: Option<usize>,
    longitude: Option<usize>,
    date_ouverture: Option<usize>,
    date_maj: Option<usize>,
    etat: Option<usize>,
    code_nature: usize,
    libelle_nature: Option<usize>,
    education_prioritaire: Option<usize>,
}

/// Parses an Annuaire de l'éducation CSV export (`;`-separated, UTF-8 with or without BOM,
/// Windows-1252 tolerated, CRLF or LF), in the old capitalised schema or the current
/// lower-case one.
///
/// Required columns: `identifiant_de_l_etablissement`, `nom_etablissement`, `code_commune`,
/// `code_nature`, `statut_public_prive`. Each line is checked field by field in file order;
/// the first wrong field gives the line's [`LineError`].
pub fn parse_annuaire<R: Read>(r: R) -> Result<Parsed<AnnuaireRecord>, SourceError> {
    let src = CsvSource::open(r, b';')?;
    let cols = AnnuaireColumns {
        uai: src.require(col::UAI)?,
        nom: src.require(col::NOM)?,
        type_etablissement: src.column(col::TYPE),
        statut: src.require(col::STATUT)?,
        adresse: src.column(col::ADRESSE),
        code_postal: src.column(col::CODE_POSTAL),
        code_commune: src.require(col::CODE_COMMUNE)?,
        nom_commune: src.column(col::NOM_COMMUNE),
        code_departement: src.column(col::DEPARTEMENT),
        code_academie: src.column(col::ACADEMIE),
        siren_siret: src.column(col::SIREN_SIRET),
        nombre_eleves: src.column(col::ELEVES),
        latitude: src.column(col::LATITUDE),
        longitude: src.column(col::LONGITUDE),
        date_ouverture: src.column(col::OUVERTURE),
        date_maj: src.column(col::MAJ),
        etat: src.column(col::ETAT),
        code_nature: src.require(col::NATURE)?,
        libelle_nature: src.column(col::LIBELLE_NATURE),
        education_prioritaire: src.column(col::EP),
    };
    src.parse_rows(|row| annuaire_row(&cols, row))
}

fn annuaire_row(c: &AnnuaireColumns, row: &Row) -> Result<AnnuaireRecord, LineError> {
    let f = FieldCheck { row };
    let name = |names: &[&'static str]| names.first().copied().unwrap_or("?");

    let uai = f.id(
        name(col::UAI),
        f.required(name(col::UAI), Some(c.uai))?,
        Uai::parse,
    )?;
    let nom = f.required(name(col::NOM), Some(c.nom))?.to_owned();
    let type_etablissement = f.optional(c.type_etablissement);
    let statut = row
        .get(Some(c.statut))
        .map(|v| {
            Statut::parse(v).ok_or_else(|| {
                f.err(
                    name(col::STATUT),
                    format!("« Public » ou « Privé » attendu, « {v} » reçu"),
                )
            })
        })
        .transpose()?;
    let adresse = f.optional(c.adresse);
    let code_postal = f.optional(c.code_postal);
    let code_commune = f.id(
        name(col::CODE_COMMUNE),
        f.required(name(col::CODE_COMMUNE), Some(c.code_commune))?,
        CodeCommune::parse,
    )?;
    let nom_commune = f.optional(c.nom_commune);
    let code_departement = f.optional_id(
        name(col::DEPARTEMENT),
        c.code_departement,
        CodeDepartement::from_annuaire,
    )?;
    let code_academie = f
        .optional_id(name(col::ACADEMIE), c.code_academie, CodeAcademie::parse)?
        .map(CodeAcademie::into_string);
    let siren_siret = row
        .get(c.siren_siret)
        .map(|v| {
            let field = name(col::SIREN_SIRET);
            match v.len() {
                14 => f.id(field, v, Siret::parse).map(Siret::into_string),
                9 => f.id(field, v, Siren::parse).map(Siren::into_string),
                _ => Err(f.err(
                    field,
                    format!("SIRET (14 chiffres) ou SIREN (9 chiffres) attendu, « {v} » reçu"),
                )),
            }
        })
        .transpose()?;
    let nombre_eleves = row
        .get(c.nombre_eleves)
        .map(|v| match v.parse::<i64>() {
            Ok(n) if n >= 0 => Ok(n),
            _ => Err(f.err(
                name(col::ELEVES),
                format!("nombre entier positif attendu, « {v} » reçu"),
            )),
        })
        .transpose()?;
    let coordinate = |names: &[&'static str], col: Option<usize>, max: f64| {
        row.get(col)
            .map(|v| match v.replace(',', ".").parse::<f64>() {
                Ok(x) if x.is_finite() && x.abs() <= max => Ok(x),
                _ => Err(f.err(
                    name(names),
                    format!("nombre décimal entre -{max} et {max} attendu, « {v} » reçu"),
                )),
            })
            .transpose()
    };
    let latitude = coordinate(col::LATITUDE, c.latitude, 90.0)?;
    let longitude = coordinate(col::LONGITUDE, c.longitude, 180.0)?;
    let date_ouverture = f.date(name(col::OUVERTURE), c.date_ouverture)?;
    let date_maj = f.date(name(col::MAJ), c.date_maj)?;
    let etat = f.optional(c.etat);
    let code_nature = f.required(name(col::NATURE), Some(c.code_nature))?;
    if code_nature.len() != 3 || !code_nature.bytes().all(|b| b.is_ascii_digit()) {
        return Err(f.err(
            name(col::NATURE),
            format!("code nature à 3 chiffres attendu, « {code_nature} » reçu"),
        ));
    }
    Ok(AnnuaireRecord {
        uai,
        nom,
        type_etablissement,
        statut,
        adresse,
        code_postal,
        code_commune,
        nom_commune,
        code_departement,
        code_academie,
        siren_siret,
        nombre_eleves,
        latitude,
        longitude,
        date_ouverture,
        date_maj,
        etat,
        code_nature: code_nature.to_owned(),
        libelle_nature: f.optional(c.libelle_nature),
        education_prioritaire: f.optional(c.education_prioritaire),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    const ANNUAIRE_35: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/data/annuaire_education_35_extrait_2023-06.csv"
    );
    const REFERENTIAL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/referential/");

    fn referential(name: &str) -> Vec<u8> {
        std::fs::read(format!("{REFERENTIAL}{name}")).unwrap()
    }

    fn read_extract() -> Option<Vec<u8>> {
        match std::fs::read(ANNUAIRE_35) {
            Ok(bytes) => Some(bytes),
            Err(e) => {
                eprintln!("extrait de l'annuaire absent ({ANNUAIRE_35}) : test ignoré ({e})");
                None
            }
        }
    }

    fn errors_of<T>(parsed: &Parsed<T>) -> Vec<(u64, &str)> {
        parsed.errors.iter().map(|e| (e.line, e.field.as_str())).collect()
    }

    // -- etalab ---------------------------------------------------------------------------

    #[test]
    fn bundled_etalab_files_parse_cleanly() {
        let regions = parse_regions(&referential("regions.json")).unwrap();
        assert_eq!((regions.records.len(), regions.errors.len()), (26, 0));
        let deps = parse_departements(&referential("departements.json")).unwrap();
        assert_eq!((deps.records.len(), deps.errors.len()), (109, 0));
        let communes = parse_communes(&referential("communes.json")).unwrap();
        assert_eq!(communes.errors, vec![]);
        assert_eq!(communes.records.len(), 34_969);
        let (_, rennes) = communes
            .records
            .iter()
            .find(|(_, c)| c.code.as_str() == "35238")
            .unwrap();
        assert_eq!(rennes.nom, "Rennes");
        assert_eq!(rennes.departement.as_str(), "35");
        assert_eq!(rennes.region.as_str(), "53");
        assert_eq!(rennes.siren.as_deref(), Some("213502388"));
        assert!(rennes.population.unwrap_or(0) > 200_000);
        let epci = parse_epci(&referential("epci.json")).unwrap();
        assert_eq!((epci.records.len(), epci.errors.len()), (1255, 0));
        let (_, lyon) = epci.records.iter().find(|(_, e)| e.kind == "MET69").unwrap();
        assert_eq!(lyon.siren.as_str(), "200046977");
        assert!(lyon.membres.iter().any(|m| m == "69123"));
    }

    #[test]
    fn etalab_bad_entries_become_line_errors() {
        let json = r#"[
            {"code":"35238","nom":"Rennes","type":"commune-actuelle","departement":"35","region":"53","siren":"213502388","population":227830,"codesPostaux":["35000"],"zone":"metro"},
            {"code":"35238","nom":"Rennes déléguée","type":"commune-deleguee","departement":"35","region":"53"},
            {"code":"3523","nom":"Trop court","type":"commune-actuelle","departement":"35","region":"53"},
            {"code":"35001","nom":"Acigné","type":"commune-actuelle","departement":"35","region":"53","siren":"213500019"},
            {"code":"35002","type":"commune-actuelle","departement":"35","region":"53"},
            {"code":"35003","nom":"Mauvais département","type":"commune-actuelle","departement":"22","region":"53"},
            "pas un objet",
            {"code":"2A004","nom":"Ajaccio","type":"commune-actuelle","departement":"2A","region":"94"}
        ]"#;
        let parsed = parse_communes(json.as_bytes()).unwrap();
        let codes: Vec<_> = parsed
            .records
            .iter()
            .map(|(l, c)| (*l, c.code.as_str()))
            .collect();
        assert_eq!(codes, vec![(1, "35238"), (8, "2A004")]);
        assert_eq!(parsed.records[0].1.codes_postaux, vec!["35000".to_owned()]);
        assert_eq!(
            errors_of(&parsed),
            vec![
                (3, "code"),
                (4, "siren"),
                (5, "nom"),
                (6, "departement"),
                (7, "entrée")
            ]
        );
        assert!(parsed.errors[1].reason.starts_with("SIREN invalide"));
    }

    #[test]
    fn etalab_not_an_array() {
        assert!(matches!(
            parse_regions(br#"{"code":"53"}"#),
            Err(SourceError::Format(_))
        ));
        assert!(matches!(parse_regions(b"[{"), Err(SourceError::Json(_))));
    }

    #[test]
    fn epci_members_objects_or_codes() {
        let json = r#"[
            {"code":"243500139","nom":"Rennes Métropole","type":"METRO","membres":[{"code":"35238","siren":"213502388","nom":"Rennes"},"35001"]},
            {"code":"243500130","nom":"Mauvais SIREN","type":"CC","membres":[]},
            {"code":"200000172","nom":"Mauvais membre","type":"CC","membres":["7404"]}
        ]"#;
        let parsed = parse_epci(json.as_bytes()).unwrap();
        assert_eq!(parsed.records.len(), 1);
        assert_eq!(parsed.records[0].1.membres, vec!["35238", "35001"]);
        assert_eq!(errors_of(&parsed), vec![(2, "code"), (3, "membres")]);
    }

    // -- project CSVs ---------------------------------------------------------------------

    #[test]
    fn bundled_academies() {
        let parsed = parse_academies(referential("academies.csv").as_slice()).unwrap();
        assert_eq!(parsed.errors, vec![]);
        assert_eq!(parsed.records.len(), 36);
        let get = |code: &str| {
            parsed
                .records
                .iter()
                .map(|(_, a)| a)
                .find(|a| a.code.as_str() == code)
                .unwrap()
        };
        let dec31 = Date::from_calendar_date(2019, Month::December, 31).unwrap();
        let jan1 = Date::from_calendar_date(2020, Month::January, 1).unwrap();
        for historical in ["05", "21"] {
            assert_eq!(get(historical).kind, AcademieKind::Historique);
            assert_eq!(get(historical).valid_until, Some(dec31));
        }
        assert_eq!(get("70").valid_from, Some(jan1));
        assert_eq!(get("43").valid_from, Some(jan1));
        assert_eq!(get("70").valid_until, None);
        assert_eq!(get("14").departements, vec!["22", "29", "35", "56"]);
        assert_eq!(get("14").code_region_academique.as_deref(), Some("53"));
        assert_eq!(get("40").kind, AcademieKind::ViceRectorat);
        assert_eq!(get("40").code_region_academique, None);
        assert_eq!(get("44").kind, AcademieKind::ServiceEducationNationale);
        assert_eq!(get("27").departements, vec!["2A", "2B"]);
        let current = parsed
            .records
            .iter()
            .filter(|(_, a)| a.kind == AcademieKind::Academie)
            .count();
        assert_eq!(current, 30);
    }

    #[test]
    fn bundled_departements_academies() {
        let parsed =
            parse_departements_academies(referential("departements_academies.csv").as_slice()).unwrap();
        assert_eq!(parsed.errors, vec![]);
        assert_eq!(parsed.records.len(), 109);
        let get = |code: &str| {
            parsed
                .records
                .iter()
                .map(|(_, d)| d)
                .find(|d| d.code_departement.as_str() == code)
                .unwrap()
        };
        assert_eq!(get("2A").uai_prefix.as_deref(), Some("620"));
        assert_eq!(get("35").code_academie.as_ref().unwrap().as_str(), "14");
        assert_eq!(get("984").code_academie, None);
        assert_eq!(get("984").uai_prefix, None);
        assert_eq!(get("974").zone, "drom");
    }

    #[test]
    fn bundled_collectivites() {
        let parsed = parse_collectivites(referential("collectivites_competentes.csv").as_slice()).unwrap();
        assert_eq!(parsed.errors, vec![]);
        assert_eq!(parsed.records.len(), 114);
        let get = |siren: &str| {
            parsed
                .records
                .iter()
                .map(|(_, c)| c)
                .find(|c| c.siren.as_str() == siren)
                .unwrap()
        };
        let paris = get("217500016");
        assert_eq!(paris.kind, CollectiviteKind::VilleDeParis);
        assert!(paris.competence_ecoles && paris.competence_colleges && !paris.competence_lycees);
        let corse = get("200076958");
        assert_eq!(corse.kind, CollectiviteKind::CollectiviteUnique);
        assert_eq!(corse.departements, vec!["2A", "2B"]);
        assert!(corse.competence_colleges && corse.competence_lycees);
        let lyon = get("200046977");
        assert_eq!(lyon.kind, CollectiviteKind::MetropoleLyon);
        assert_eq!(lyon.code_territoire, "69M");
        let mayotte = get("229850003");
        assert_eq!(mayotte.kind, CollectiviteKind::Departement);
        assert!(mayotte.competence_colleges && mayotte.competence_lycees);
        let bretagne = get("233500016");
        assert_eq!(bretagne.kind, CollectiviteKind::Region);
        assert!(bretagne.competence_lycees && !bretagne.competence_colleges);
        let count = |k: CollectiviteKind| parsed.records.iter().filter(|(_, c)| c.kind == k).count();
        assert_eq!(count(CollectiviteKind::Departement), 94);
        assert_eq!(count(CollectiviteKind::Region), 14);
        assert_eq!(count(CollectiviteKind::CollectiviteUnique), 3);
    }

    #[test]
    fn collectivite_kind_round_trip() {
        for kind in [
            CollectiviteKind::Commune,
            CollectiviteKind::Departement,
            CollectiviteKind::Region,
            CollectiviteKind::CollectiviteUnique,
            CollectiviteKind::VilleDeParis,
            CollectiviteKind::MetropoleLyon,
            CollectiviteKind::CollectiviteEuropeenneAlsace,
            CollectiviteKind::Epci,
        ] {
            assert_eq!(CollectiviteKind::parse(kind.as_str()), Some(kind));
            assert_eq!(
                CollectiviteKind::parse(&kind.as_str().replace('-', "_")),
                Some(kind)
            );
        }
        assert_eq!(
            CollectiviteKind::parse("metropole_lyon"),
            Some(CollectiviteKind::MetropoleLyon)
        );
        assert_eq!(CollectiviteKind::parse("canton"), None);
        for kind in [
            AcademieKind::Academie,
            AcademieKind::ViceRectorat,
            AcademieKind::ServiceEducationNationale,
            AcademieKind::Historique,
        ] {
            assert_eq!(AcademieKind::parse(kind.as_str()), Some(kind));
        }
    }

    #[test]
    fn csv_line_errors_and_missing_columns() {
        let csv = "siren,type,code_territoire,nom,departements_couverts,competence_scolaire\n\
                   220100010,departement,01,Département de l'Ain,01,colleges\n\
                   220100011,departement,01,Mauvais SIREN,01,colleges\n\
                   233500016,region,53,Région Bretagne,22;29;35;56,lycees (L214-6)\n\
                   233500016,canton,53,Type inconnu,35,lycees\n\
                   220100010,departement,01,Mauvaise compétence,01,piscines\n";
        let parsed = parse_collectivites(csv.as_bytes()).unwrap();
        assert_eq!(parsed.records.len(), 2);
        assert_eq!(parsed.records[1].0, 4);
        assert_eq!(
            errors_of(&parsed),
            vec![(3, "siren"), (5, "type"), (6, "competence_scolaire")]
        );
        let err = parse_collectivites("siren,type,nom\n".as_bytes()).unwrap_err();
        assert!(matches!(&err, SourceError::MissingColumn(c) if c == "code_territoire"));
        assert!(matches!(parse_academies("".as_bytes()), Err(SourceError::Empty)));
    }

    // -- annuaire -------------------------------------------------------------------------

    #[test]
    fn annuaire_35_extract() {
        let Some(bytes) = read_extract() else { return };
        let parsed = parse_annuaire(bytes.as_slice()).unwrap();
        assert_eq!(parsed.errors, vec![]);
        assert_eq!(parsed.records.len(), 996);
        let count = |fam: NatureFamily| {
            parsed
                .records
                .iter()
                .filter(|(_, r)| r.nature_family() == fam)
                .count()
        };
        assert_eq!(count(NatureFamily::Ecole), 685);
        assert_eq!(count(NatureFamily::College), 117);
        assert_eq!(count(NatureFamily::Erea), 2);
        let (line, first) = &parsed.records[0];
        assert_eq!(*line, 2);
        assert_eq!(first.uai.as_str(), "0350122T");
        assert_eq!(first.nom, "Ecole primaire publique les Lucioles");
        assert_eq!(first.statut, Some(Statut::Public));
        assert_eq!(first.code_postal.as_deref(), Some("35580"));
        assert_eq!(first.code_commune.as_str(), "35016");
        assert_eq!(first.code_departement.as_ref().unwrap().as_str(), "35");
        assert_eq!(first.code_academie.as_deref(), Some("14"));
        assert_eq!(first.siren_siret.as_deref(), Some("21350016800025"));
        assert_eq!(first.nombre_eleves, Some(143));
        assert_eq!(
            first.date_ouverture,
            Some(Date::from_calendar_date(1965, Month::October, 1).unwrap())
        );
        assert_eq!(first.code_nature, "151");
        assert!((first.latitude.unwrap() - 47.986_144_9).abs() < 1e-6);
        assert_eq!(parsed.records.last().unwrap().0, 997);
        let services = parsed.records.iter().filter(|(_, r)| r.statut.is_none()).count();
        assert_eq!(services, 42);
    }

    #[test]
    fn annuaire_damaged_copy() {
        let Some(bytes) = read_extract() else { return };
        let text = String::from_utf8(bytes).unwrap();
        let mut lines: Vec<String> = text.split("\r\n").map(str::to_owned).collect();
        let header: Vec<&str> = lines[0].split(';').collect();
        let eleves = header.iter().position(|h| *h == "Nombre_d_eleves").unwrap();
        // Line 2: wrong UAI check letter.
        assert!(lines[1].starts_with("0350122T;"));
        lines[1] = lines[1].replacen("0350122T;", "0350122U;", 1);
        // Line 10: non-numeric number of pupils.
        let mut fields: Vec<String> = lines[9].split(';').map(str::to_owned).collect();
        fields[eleves] = "beaucoup".into();
        lines[9] = fields.join(";");
        // Line 500: truncated.
        let truncated: Vec<&str> = lines[499].split(';').take(30).collect();
        lines[499] = truncated.join(";");
        let damaged = lines.join("\r\n");

        let parsed = parse_annuaire(damaged.as_bytes()).unwrap();
        assert_eq!(parsed.records.len(), 993);
        assert_eq!(
            errors_of(&parsed),
            vec![
                (2, "identifiant_de_l_etablissement"),
                (10, "nombre_d_eleves"),
                (500, "ligne")
            ]
        );
        assert_eq!(
            parsed.errors[0].reason,
            "UAI invalide : la lettre de contrôle devrait être T (valeur « 0350122U »)"
        );
        assert!(parsed.errors[1].reason.contains("beaucoup"));
        assert!(parsed.errors[2].reason.starts_with("30 champs au lieu de 69"));
        assert!(parsed.records.iter().all(|(l, _)| ![2, 10, 500].contains(l)));
        assert_eq!(parsed.records[0].0, 3);
    }

    const CURRENT_HEADER: &str = "identifiant_de_l_etablissement;nom_etablissement;type_etablissement;statut_public_prive;adresse_1;adresse_2;code_postal;code_commune;nom_commune;code_departement;code_academie;code_region;siren_siret;nombre_d_eleves;latitude;longitude;date_ouverture;date_maj_ligne;etat;ministere_tutelle;code_nature;libelle_nature;appartenance_education_prioritaire";

    #[test]
    fn annuaire_current_schema() {
        let csv = format!(
            "{CURRENT_HEADER}\n\
             6200088B;Ecole primaire Bonifacio;Ecole;Public;Place Castellettu;;20169;2A041;Bonifacio;02A;27;94;21200041800047;191;41,3864931;9,1569603;26/04/1969;2021-07-21;OUVERT;MINISTERE DE L'EDUCATION NATIONALE;151;ECOLE DE NIVEAU ELEMENTAIRE;\n\
             \n\
             0750655e;Lycée Louis-le-Grand;Lycée;public;123 rue Saint-Jacques;;75005;75105;Paris 5e;075;01;11;;;48.8479;2.3443;1965-05-01;2024-01-01T10:00:00;OUVERT;MINISTERE DE L'EDUCATION NATIONALE;302;LYCEE D ENSEIGNEMENT GENERAL;\n\
             9710003B;Collège;Collège;PRIVE;;;97110;97120;Pointe-à-Pitre;971;32;01;;12;;;;;OUVERT;;340;COLLEGE;REP+\n\
             0350122T;Ecole;Ecole;Public;;;35580;35016;Baulon;035;14;53;21350016800025;143;95.0;0;;;;;151;;\n"
        );
        let parsed = parse_annuaire(csv.as_bytes()).unwrap();
        assert_eq!(errors_of(&parsed), vec![(6, "latitude")]);
        assert_eq!(parsed.records.len(), 3);
        let (line, corse) = &parsed.records[0];
        assert_eq!(*line, 2);
        assert_eq!(corse.code_departement.as_ref().unwrap().as_str(), "2A");
        assert_eq!(corse.code_commune.as_str(), "2A041");
        assert!((corse.latitude.unwrap() - 41.386_493_1).abs() < 1e-9);
        assert_eq!(
            corse.date_ouverture,
            Some(Date::from_calendar_date(1969, Month::April, 26).unwrap())
        );
        assert_eq!(corse.education_prioritaire, None);
        let (line, llg) = &parsed.records[1];
        assert_eq!(*line, 4, "the blank line still counts");
        assert_eq!(llg.uai.as_str(), "0750655E");
        assert_eq!(llg.statut, Some(Statut::Public));
        assert_eq!(llg.code_departement.as_ref().unwrap().as_str(), "75");
        assert_eq!(llg.nature_family(), NatureFamily::Lycee);
        assert_eq!(llg.siren_siret, None);
        assert_eq!(
            llg.date_maj,
            Some(Date::from_calendar_date(2024, Month::January, 1).unwrap())
        );
        let (_, gp) = &parsed.records[2];
        assert_eq!(gp.statut, Some(Statut::Prive));
        assert_eq!(gp.code_departement.as_ref().unwrap().as_str(), "971");
        assert_eq!(gp.education_prioritaire.as_deref(), Some("REP+"));
        assert_eq!(gp.nature_family(), NatureFamily::College);
    }

    #[test]
    fn annuaire_first_bad_field_in_file_order() {
        let csv = format!(
            "{CURRENT_HEADER}\n\
             0350122T;;Ecole;Public;;;35580;35016;Baulon;035;14;53;;;;;;;;;151;;\n\
             0350122T;Ecole;Ecole;Publique;;;35580;35016;Baulon;035;14;53;;;;;;;;;151;;\n\
             0350122T;Ecole;Ecole;Public;;;35580;3501;Baulon;035;14;53;;;;;;;;;151;;\n\
             0350122T;Ecole;Ecole;Public;;;35580;35016;Baulon;096;14;53;;;;;;;;;151;;\n\
             0350122T;Ecole;Ecole;Public;;;35580;35016;Baulon;035;1;53;;;;;;;;;151;;\n\
             0350122T;Ecole;Ecole;Public;;;35580;35016;Baulon;035;14;53;21350016800026;;;;;;;;151;;\n\
             0350122T;Ecole;Ecole;Public;;;35580;35016;Baulon;035;14;53;2135001680;;;;;;;;151;;\n\
             0350122T;Ecole;Ecole;Public;;;35580;35016;Baulon;035;14;53;213500168;-3;;;;;;;151;;\n\
             0350122T;Ecole;Ecole;Public;;;35580;35016;Baulon;035;14;53;;;;200;;;;;151;;\n\
             0350122T;Ecole;Ecole;Public;;;35580;35016;Baulon;035;14;53;;;;;2023-02-30;;;;151;;\n\
             0350122T;Ecole;Ecole;Public;;;35580;35016;Baulon;035;14;53;;;;;;08/06/23;;;151;;\n\
             0350122T;Ecole;Ecole;Public;;;35580;35016;Baulon;035;14;53;;;;;;;;;15;;\n\
             ;Ecole;Ecole;Public;;;35580;35016;Baulon;035;14;53;;;;;;;;;ABC;;\n\
             0350122T;Ecole;Ecole;;;;35580;35016;Baulon;035;14;53;213500168;;;;;;;;151;;\n"
        );
        let parsed = parse_annuaire(csv.as_bytes()).unwrap();
        assert_eq!(
            errors_of(&parsed),
            vec![
                (2, "nom_etablissement"),
                (3, "statut_public_prive"),
                (4, "code_commune"),
                (5, "code_departement"),
                (6, "code_academie"),
                (7, "siren_siret"),
                (8, "siren_siret"),
                (9, "nombre_d_eleves"),
                (10, "longitude"),
                (11, "date_ouverture"),
                (12, "date_maj_ligne"),
                (13, "code_nature"),
                (14, "identifiant_de_l_etablissement"),
            ]
        );
        assert_eq!(parsed.records.len(), 1);
        assert_eq!(parsed.records[0].0, 15);
        assert_eq!(parsed.records[0].1.statut, None);
        assert_eq!(parsed.records[0].1.siren_siret.as_deref(), Some("213500168"));
        assert_eq!(parsed.errors[12].reason, "valeur manquante");
    }

    #[test]
    fn annuaire_missing_required_column() {
        let csv = "Identifiant_de_l_etablissement;Nom_etablissement;Statut_public_prive;Code_commune\n\
                   0350122T;Ecole;Public;35016\n";
        let err = parse_annuaire(csv.as_bytes()).unwrap_err();
        assert!(matches!(&err, SourceError::MissingColumn(c) if c == "code_nature"));
        assert_eq!(err.to_string(), "colonne obligatoire absente : « code_nature »");
        assert!(matches!(parse_annuaire("".as_bytes()), Err(SourceError::Empty)));
    }

    #[test]
    fn annuaire_bom_crlf_code_postal_and_windows_1252() {
        let mut bytes = b"\xEF\xBB\xBFIdentifiant_de_l_etablissement;Nom_etablissement;Statut_public_prive;Code postal;Code_commune;code_nature\r\n".to_vec();
        bytes.extend_from_slice(b"0350122T;\xC9cole des Lucioles;Priv\xE9;35580;35016;151\r\n");
        let parsed = parse_annuaire(bytes.as_slice()).unwrap();
        assert_eq!(parsed.errors, vec![]);
        let record = &parsed.records[0].1;
        assert_eq!(record.nom, "École des Lucioles");
        assert_eq!(record.statut, Some(Statut::Prive));
        assert_eq!(record.code_postal.as_deref(), Some("35580"));
    }

    #[test]
    fn nature_families() {
        assert_eq!(NatureFamily::from_code_nature("101"), NatureFamily::Ecole);
        assert_eq!(NatureFamily::from_code_nature("151"), NatureFamily::Ecole);
        assert_eq!(NatureFamily::from_code_nature("340"), NatureFamily::College);
        assert_eq!(NatureFamily::from_code_nature("352"), NatureFamily::College);
        assert_eq!(NatureFamily::from_code_nature("306"), NatureFamily::Lycee);
        assert_eq!(NatureFamily::from_code_nature("334"), NatureFamily::Lycee);
        assert_eq!(NatureFamily::from_code_nature("370"), NatureFamily::Erea);
        assert_eq!(NatureFamily::from_code_nature("380"), NatureFamily::Autre);
        assert_eq!(NatureFamily::from_code_nature("809"), NatureFamily::Autre);
        assert_eq!(NatureFamily::from_code_nature("1"), NatureFamily::Autre);
        assert_eq!(Statut::parse("PRIVÉ"), Some(Statut::Prive));
        assert_eq!(Statut::parse("Privé sous contrat"), None);
    }

    #[test]
    fn dates() {
        let d = |y, m, day| Some(Date::from_calendar_date(y, m, day).unwrap());
        assert_eq!(parse_date("2023-06-08"), d(2023, Month::June, 8));
        assert_eq!(parse_date("08/06/2023"), d(2023, Month::June, 8));
        assert_eq!(parse_date("2023-06-08T00:00:00+00:00"), d(2023, Month::June, 8));
        assert_eq!(parse_date("2023-6-8"), None);
        assert_eq!(parse_date("2023-02-29"), None);
        assert_eq!(parse_date("2023-06-08x"), None);
    }
}
