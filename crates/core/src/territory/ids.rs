//! Identifiers of the territory referential: UAI, SIREN/SIRET and the INSEE COG codes.
//!
//! Each identifier is a newtype over its normalised text. `parse` trims its input, checks it
//! by hand (no regex) and returns an [`IdError`] whose `Display` is a French sentence for a
//! person, e.g. « UAI invalide : la lettre de contrôle devrait être E ». All identifiers
//! serialise as plain strings and are checked again when deserialised.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Which identifier an [`IdError`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IdKind {
    Uai,
    Siren,
    Siret,
    CodeCommune,
    CodeDepartement,
    CodeAcademie,
    CodeRegion,
}

impl IdKind {
    /// The French name of the identifier, as shown to users.
    pub fn label(self) -> &'static str {
        match self {
            IdKind::Uai => "UAI",
            IdKind::Siren => "SIREN",
            IdKind::Siret => "SIRET",
            IdKind::CodeCommune => "code commune",
            IdKind::CodeDepartement => "code département",
            IdKind::CodeAcademie => "code académie",
            IdKind::CodeRegion => "code région",
        }
    }
}

/// A value that is not a valid identifier of the given kind.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdError {
    /// The kind of identifier that was expected.
    pub kind: IdKind,
    /// The rejected input, trimmed.
    pub value: String,
    /// What is wrong, in French.
    pub reason: String,
}

impl IdError {
    fn new(kind: IdKind, value: &str, reason: impl Into<String>) -> Self {
        Self {
            kind,
            value: value.to_owned(),
            reason: reason.into(),
        }
    }
}

impl fmt::Display for IdError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} invalide : {}", self.kind.label(), self.reason)
    }
}

impl std::error::Error for IdError {}

/// True when `s` is non-empty and made of ASCII digits only.
fn all_digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// Luhn check of a string of ASCII digits (callers check the digits first).
fn luhn_ok(digits: &str) -> bool {
    let mut sum = 0u32;
    for (i, b) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(b.wrapping_sub(b'0'));
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum.is_multiple_of(10)
}

/// Common error for "empty" and "wrong length of digits" inputs.
fn check_digits(kind: IdKind, s: &str, len: usize) -> Result<(), IdError> {
    if s.is_empty() {
        return Err(IdError::new(kind, s, "valeur vide"));
    }
    if !all_digits(s) || s.len() != len {
        return Err(IdError::new(
            kind,
            s,
            format!("{len} chiffres attendus, « {s} » reçu"),
        ));
    }
    Ok(())
}

/// Implements the string plumbing shared by every identifier newtype.
macro_rules! string_id {
    ($t:ident) => {
        impl $t {
            /// The normalised text of the identifier.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// The normalised text of the identifier, by value.
            pub fn into_string(self) -> String {
                self.0
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl From<$t> for String {
            fn from(id: $t) -> String {
                id.0
            }
        }

        impl FromStr for $t {
            type Err = IdError;

            fn from_str(s: &str) -> Result<Self, IdError> {
                Self::parse(s)
            }
        }

        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let s = String::deserialize(deserializer)?;
                Self::parse(&s).map_err(serde::de::Error::custom)
            }
        }
    };
}

// ---------------------------------------------------------------------------------------------
// UAI

/// The 23 check letters of the UAI (the alphabet without I, O and Q).
const UAI_LETTERS: &[u8; 23] = b"ABCDEFGHJKLMNPRSTUVWXYZ";

/// Unité administrative immatriculée: 7 digits and a check letter, e.g. `0750655E`.
///
/// The check letter is `UAI_LETTERS[int(7 digits) mod 23]`. Lower-case input is accepted and
/// stored upper-case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uai(String);

impl Uai {
    /// Parses and checks a UAI.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = input.trim().to_ascii_uppercase();
        let err = |reason: String| Err(IdError::new(IdKind::Uai, &s, reason));
        if s.is_empty() {
            return err("valeur vide".into());
        }
        let n = s.chars().count();
        if n != 8 || !s.is_ascii() {
            return err(format!(
                "8 caractères attendus (7 chiffres et une lettre de contrôle), {n} reçus"
            ));
        }
        let (digits, letter) = s.split_at(7);
        if !all_digits(digits) {
            return err("les 7 premiers caractères doivent être des chiffres".into());
        }
        let Some(expected) = Self::check_letter(digits) else {
            return err("les 7 premiers caractères doivent être des chiffres".into());
        };
        let letter = letter.chars().next().unwrap_or(' ');
        if !letter.is_ascii_uppercase() {
            return err("le dernier caractère doit être une lettre de contrôle".into());
        }
        if letter != expected {
            return err(format!("la lettre de contrôle devrait être {expected}"));
        }
        Ok(Self(s))
    }

    /// The check letter of the 7 digits of a UAI, or `None` if `digits` is not 7 digits.
    pub fn check_letter(digits: &str) -> Option<char> {
        if digits.len() != 7 || !all_digits(digits) {
            return None;
        }
        let value: u32 = digits.parse().ok()?;
        let index = usize::try_from(value % 23).ok()?;
        UAI_LETTERS.get(index).map(|&b| char::from(b))
    }

    /// The 3-character département prefix (`035`, `620` for Corse-du-Sud, `974`…).
    pub fn departement_prefix(&self) -> &str {
        self.0.get(..3).unwrap_or("")
    }

    /// The département the UAI was registered in, read from its prefix, if it is one.
    pub fn code_departement(&self) -> Option<CodeDepartement> {
        CodeDepartement::from_annuaire(self.departement_prefix()).ok()
    }
}

string_id!(Uai);

// ---------------------------------------------------------------------------------------------
// SIREN / SIRET

/// SIREN: 9 digits whose last one is a Luhn check digit (e.g. `217500016`, Ville de Paris).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Siren(String);

impl Siren {
    /// Parses and checks a SIREN.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = input.trim();
        check_digits(IdKind::Siren, s, 9)?;
        if !luhn_ok(s) {
            return Err(IdError::new(
                IdKind::Siren,
                s,
                "clé de contrôle incorrecte (algorithme de Luhn)",
            ));
        }
        Ok(Self(s.to_owned()))
    }
}

string_id!(Siren);

/// SIRET: the SIREN, a 4-digit NIC and a Luhn check digit over the 14 digits.
///
/// Both the SIREN part and the whole number must pass the Luhn check. (La Poste's
/// establishments, which follow another rule, are not accepted; no school needs them.)
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Siret(String);

impl Siret {
    /// Parses and checks a SIRET.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = input.trim();
        check_digits(IdKind::Siret, s, 14)?;
        let siren = s.get(..9).unwrap_or("");
        if !luhn_ok(siren) {
            return Err(IdError::new(
                IdKind::Siret,
                s,
                "le SIREN (9 premiers chiffres) a une clé de contrôle incorrecte",
            ));
        }
        if !luhn_ok(s) {
            return Err(IdError::new(
                IdKind::Siret,
                s,
                "clé de contrôle incorrecte (algorithme de Luhn)",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The SIREN of the legal unit this establishment belongs to.
    pub fn siren(&self) -> Siren {
        Siren(self.0.get(..9).unwrap_or("").to_owned())
    }

    /// The NIC: the 5 last digits (4-digit number and check digit).
    pub fn nic(&self) -> &str {
        self.0.get(9..).unwrap_or("")
    }
}

string_id!(Siret);

// ---------------------------------------------------------------------------------------------
// COG codes

/// The 3-character overseas département and COM codes of the COG.
const OVERSEAS_DEPARTEMENTS: [&str; 13] = [
    "971", "972", "973", "974", "975", "976", "977", "978", "984", "986", "987", "988", "989",
];

fn is_departement(s: &str) -> bool {
    match s.len() {
        2 if s == "2A" || s == "2B" => true,
        2 if all_digits(s) => matches!(s.parse::<u8>(), Ok(n) if (1..=95).contains(&n) && n != 20),
        3 => OVERSEAS_DEPARTEMENTS.contains(&s),
        _ => false,
    }
}

/// Département (or COM) code of the INSEE COG: `01`–`19`, `21`–`95`, `2A`, `2B`, `971`–`976`,
/// and the COM codes `975`, `977`, `978`, `984`, `986`–`989`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CodeDepartement(String);

impl CodeDepartement {
    /// Parses a COG département code (`35`, `2A`, `974`; `2a` is accepted).
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = input.trim().to_ascii_uppercase();
        if s.is_empty() {
            return Err(IdError::new(IdKind::CodeDepartement, &s, "valeur vide"));
        }
        if !is_departement(&s) {
            return Err(IdError::new(
                IdKind::CodeDepartement,
                &s,
                format!("« {s} » n'est pas un code de département du COG (01 à 95, 2A, 2B, 971 à 989)"),
            ));
        }
        Ok(Self(s))
    }

    /// Parses the 3-character form used by the Annuaire de l'éducation and by UAI prefixes:
    /// `035` → `35`, `02A`/`620` → `2A`, `02B`/`720` → `2B`, `974` → `974`. The COG form
    /// (`35`, `2A`) is accepted too.
    pub fn from_annuaire(input: &str) -> Result<Self, IdError> {
        let s = input.trim().to_ascii_uppercase();
        match s.as_str() {
            "620" => Ok(Self("2A".to_owned())),
            "720" => Ok(Self("2B".to_owned())),
            _ if s.len() == 3 && s.starts_with('0') => {
                Self::parse(s.get(1..).unwrap_or("")).map_err(|e| IdError { value: s, ..e })
            }
            _ => Self::parse(&s),
        }
    }

    /// True for the overseas départements and collectivités (3-character codes).
    pub fn is_overseas(&self) -> bool {
        self.0.len() == 3
    }
}

string_id!(CodeDepartement);

/// Commune code of the INSEE COG: 5 characters, digits or `2A`/`2B` followed by 3 digits
/// (`35238`, `2A004`, `97411`). Its first 2 (or 3, overseas) characters must be a valid
/// département code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CodeCommune(String);

impl CodeCommune {
    /// Parses a COG commune code (`2a004` is accepted and stored as `2A004`).
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = input.trim().to_ascii_uppercase();
        let err = |reason: String| Err(IdError::new(IdKind::CodeCommune, &s, reason));
        if s.is_empty() {
            return err("valeur vide".into());
        }
        let shape_ok = s.len() == 5
            && s.is_ascii()
            && (all_digits(&s)
                || ((s.starts_with("2A") || s.starts_with("2B")) && all_digits(s.get(2..).unwrap_or(""))));
        if !shape_ok {
            return err(format!(
                "5 caractères attendus (chiffres, ou 2A/2B suivi de 3 chiffres), « {s} » reçu"
            ));
        }
        if !is_departement(Self::departement_part(&s)) {
            return err(format!(
                "« {s} » ne commence pas par un code de département du COG"
            ));
        }
        Ok(Self(s))
    }

    fn departement_part(s: &str) -> &str {
        let n = if s.starts_with("97") || s.starts_with("98") {
            3
        } else {
            2
        };
        s.get(..n).unwrap_or("")
    }

    /// The département (or COM) the commune belongs to.
    pub fn departement(&self) -> CodeDepartement {
        CodeDepartement(Self::departement_part(&self.0).to_owned())
    }
}

string_id!(CodeCommune);

/// Académie code as used by the Annuaire de l'éducation: 2 digits (`14` Rennes, `70`
/// Normandie, `40` vice-rectorat de Nouvelle-Calédonie…).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CodeAcademie(String);

impl CodeAcademie {
    /// Parses a 2-digit académie code.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = input.trim();
        check_digits(IdKind::CodeAcademie, s, 2)?;
        Ok(Self(s.to_owned()))
    }
}

string_id!(CodeAcademie);

/// The COM codes that the etalab referential also uses as région codes.
const COM_REGIONS: [&str; 8] = ["975", "977", "978", "984", "986", "987", "988", "989"];

/// Région code as in the etalab referential: 2 digits (`01`–`06` overseas, `11`–`94`), or
/// the 3-digit code of a COM, used as its own pseudo-région (`975`, `977`, `978`, `984`,
/// `986`–`989`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CodeRegion(String);

impl CodeRegion {
    /// Parses a région code.
    pub fn parse(input: &str) -> Result<Self, IdError> {
        let s = input.trim();
        if s.is_empty() {
            return Err(IdError::new(IdKind::CodeRegion, s, "valeur vide"));
        }
        let ok = (s.len() == 2 && all_digits(s)) || COM_REGIONS.contains(&s);
        if !ok {
            return Err(IdError::new(
                IdKind::CodeRegion,
                s,
                format!(
                    "2 chiffres (ou le code à 3 chiffres d'une collectivité d'outre-mer) attendus, « {s} » reçu"
                ),
            ));
        }
        Ok(Self(s.to_owned()))
    }
}

string_id!(CodeRegion);

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn uai_valid_examples() {
        for uai in [
            "0750654D", "0750655E", "0690026D", "6200001G", "7200009X", "9710003B", "0350122T", "0130040Y",
            "0310036W", "0590117G", "0381778B", "0783774D", "0781977A",
        ] {
            let parsed = Uai::parse(uai).unwrap();
            assert_eq!(parsed.as_str(), uai);
        }
    }

    #[test]
    fn uai_normalises_case_and_space() {
        let uai = Uai::parse("  0750655e ").unwrap();
        assert_eq!(uai.as_str(), "0750655E");
        assert_eq!(uai.to_string(), "0750655E");
    }

    #[test]
    fn uai_wrong_letter_says_which_one() {
        let err = Uai::parse("0750655F").unwrap_err();
        assert_eq!(err.kind, IdKind::Uai);
        assert_eq!(
            err.to_string(),
            "UAI invalide : la lettre de contrôle devrait être E"
        );
        // A placeholder seen in web forms does not pass.
        assert!(Uai::parse("0950009E").is_err());
    }

    #[test]
    fn uai_bad_shapes() {
        for bad in ["", "075065E", "07506555E", "A750655E", "07506555", "0750655É"] {
            assert!(Uai::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Uai::check_letter("0750655"), Some('E'));
        assert_eq!(Uai::check_letter("075065"), None);
    }

    #[test]
    fn uai_departement() {
        let d = |s: &str| Uai::parse(s).unwrap().code_departement().unwrap().into_string();
        assert_eq!(d("0350122T"), "35");
        assert_eq!(d("6200001G"), "2A");
        assert_eq!(d("7200009X"), "2B");
        assert_eq!(d("9710003B"), "971");
    }

    #[test]
    fn siren_luhn() {
        for ok in ["223500018", "217500016", "200046977", "356000000"] {
            assert_eq!(Siren::parse(ok).unwrap().as_str(), ok);
        }
        let err = Siren::parse("223500019").unwrap_err();
        assert!(err.to_string().starts_with("SIREN invalide : clé de contrôle"));
        assert!(Siren::parse("22350001").is_err());
        assert!(Siren::parse("22350001A").is_err());
        assert!(Siren::parse("").is_err());
    }

    #[test]
    fn siret_luhn_and_siren() {
        let siret = Siret::parse("21350016800025").unwrap();
        assert_eq!(siret.siren().as_str(), "213500168");
        assert_eq!(siret.nic(), "00025");
        assert!(Siret::parse("21350016800026").is_err());
        assert!(Siret::parse("2135001680002").is_err());
        // Luhn-valid as a whole, but the SIREN part is not.
        let err = Siret::parse("12345678910006").unwrap_err();
        assert!(err.reason.contains("SIREN"), "{err}");
    }

    #[test]
    fn code_commune() {
        for ok in ["35238", "2A004", "2B033", "97411", "97501", "98411", "01001"] {
            assert_eq!(CodeCommune::parse(ok).unwrap().as_str(), ok);
        }
        assert_eq!(CodeCommune::parse("2a004").unwrap().as_str(), "2A004");
        for bad in [
            "3523", "352388", "2C004", "2A04X", "20004", "00001", "96001", "98501",
        ] {
            assert!(CodeCommune::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(CodeCommune::parse("2A004").unwrap().departement().as_str(), "2A");
        assert_eq!(CodeCommune::parse("97411").unwrap().departement().as_str(), "974");
        assert_eq!(CodeCommune::parse("35238").unwrap().departement().as_str(), "35");
    }

    #[test]
    fn code_departement() {
        for ok in [
            "01", "19", "21", "95", "2A", "2B", "971", "976", "975", "977", "978", "984", "986", "989",
        ] {
            assert_eq!(CodeDepartement::parse(ok).unwrap().as_str(), ok);
        }
        for bad in ["00", "20", "96", "1", "970", "979", "985", "990", "2C", "035"] {
            assert!(CodeDepartement::parse(bad).is_err(), "{bad}");
        }
        assert!(CodeDepartement::parse("974").unwrap().is_overseas());
        assert!(!CodeDepartement::parse("2A").unwrap().is_overseas());
    }

    #[test]
    fn code_departement_from_annuaire() {
        let f = |s: &str| CodeDepartement::from_annuaire(s).unwrap().into_string();
        assert_eq!(f("035"), "35");
        assert_eq!(f("001"), "01");
        assert_eq!(f("02A"), "2A");
        assert_eq!(f("02b"), "2B");
        assert_eq!(f("620"), "2A");
        assert_eq!(f("720"), "2B");
        assert_eq!(f("971"), "971");
        assert_eq!(f("988"), "988");
        assert_eq!(f("35"), "35");
        let err = CodeDepartement::from_annuaire("096").unwrap_err();
        assert_eq!(err.value, "096");
        assert!(CodeDepartement::from_annuaire("520").is_err());
    }

    #[test]
    fn code_academie_and_region() {
        assert_eq!(CodeAcademie::parse(" 14 ").unwrap().as_str(), "14");
        assert!(CodeAcademie::parse("1").is_err());
        assert!(CodeAcademie::parse("1A").is_err());
        for ok in ["01", "06", "53", "94", "975", "977", "978", "984", "986", "989"] {
            assert_eq!(CodeRegion::parse(ok).unwrap().as_str(), ok);
        }
        for bad in ["", "5", "971", "976", "985", "ABC", "1234"] {
            assert!(CodeRegion::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn serde_as_string() {
        let uai = Uai::parse("0750655E").unwrap();
        assert_eq!(serde_json::to_string(&uai).unwrap(), "\"0750655E\"");
        let back: Uai = serde_json::from_str("\"0750655e\"").unwrap();
        assert_eq!(back, uai);
        let err = serde_json::from_str::<Uai>("\"0750655F\"").unwrap_err();
        assert!(err.to_string().contains("la lettre de contrôle devrait être E"));
        let commune: CodeCommune = serde_json::from_str("\"2A004\"").unwrap();
        assert_eq!(commune.as_str(), "2A004");
        assert!(serde_json::from_str::<Siren>("\"123456789\"").is_err());
    }
}
