//! Accounts, roles and perimeters.

use std::fmt;

use time::{Date, OffsetDateTime};

use crate::error::{CoreError, CoreResult};

/// A role, held by a person on a perimeter for a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Role {
    AdministrateurNational,
    PiloteNational,
    Recteur,
    Dan,
    MembreDane,
    RepresentantCollectivite,
    Partenaire,
    Expert,
    Observateur,
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 9] = [
        Role::AdministrateurNational,
        Role::PiloteNational,
        Role::Recteur,
        Role::Dan,
        Role::MembreDane,
        Role::RepresentantCollectivite,
        Role::Partenaire,
        Role::Expert,
        Role::Observateur,
    ];

    /// The written form (`dan`, `administrateur-national`…).
    pub fn as_str(self) -> &'static str {
        match self {
            Role::AdministrateurNational => "administrateur-national",
            Role::PiloteNational => "pilote-national",
            Role::Recteur => "recteur",
            Role::Dan => "dan",
            Role::MembreDane => "membre-dane",
            Role::RepresentantCollectivite => "representant-collectivite",
            Role::Partenaire => "partenaire",
            Role::Expert => "expert",
            Role::Observateur => "observateur",
        }
    }

    /// Parses the written form.
    pub fn parse(text: &str) -> CoreResult<Self> {
        let text = text.trim();
        Role::ALL.into_iter().find(|r| r.as_str() == text).ok_or_else(|| {
            CoreError::bad_request(
                "role",
                format!(
                    "rôle « {text} » inconnu ; rôles possibles : {}",
                    Role::ALL.map(Role::as_str).join(", ")
                ),
            )
        })
    }

    /// How much the role may do, to check that a delegation never gives more.
    pub fn rank(self) -> u8 {
        match self {
            Role::AdministrateurNational => 100,
            Role::PiloteNational => 80,
            Role::Recteur => 70,
            Role::Dan => 60,
            Role::MembreDane | Role::RepresentantCollectivite => 40,
            Role::Expert => 30,
            Role::Partenaire => 20,
            Role::Observateur => 10,
        }
    }

    /// The roles this role may appoint on its own perimeter (delegation).
    pub fn may_appoint(self) -> &'static [Role] {
        match self {
            Role::AdministrateurNational => &Role::ALL,
            Role::Recteur => &[Role::Dan, Role::MembreDane, Role::Expert, Role::Observateur],
            Role::Dan => &[Role::MembreDane, Role::Expert, Role::Observateur],
            _ => &[],
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A node of the territory or an organisation: what a role applies to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Perimeter {
    National,
    RegionAcademique(String),
    Academie(String),
    Departement(String),
    Collectivite(String),
    Etablissement(String),
    Organisation(String),
}

impl Perimeter {
    /// Parses `national`, `academie:14`, `departement:35`, `collectivite:SIREN`,
    /// `etablissement:UAI`, `region-academique:53` or `organisation:ID`.
    pub fn parse(text: &str) -> CoreResult<Self> {
        let text = text.trim();
        if text == "national" {
            return Ok(Perimeter::National);
        }
        let bad = |why: &str| {
            CoreError::bad_request(
                "perimetre",
                format!(
                    "périmètre « {text} » invalide : {why} (national, region-academique:CODE, academie:CODE, \
                     departement:CODE, collectivite:SIREN, etablissement:UAI, organisation:ID)"
                ),
            )
        };
        let (kind, code) = text.split_once(':').ok_or_else(|| bad("type:code attendu"))?;
        let code = code.trim();
        use crate::territory::ids::{CodeDepartement, Siren, Uai};
        match kind {
            "region-academique" | "academie" => {
                if (2..=3).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit()) {
                    Ok(if kind == "academie" {
                        Perimeter::Academie(code.to_owned())
                    } else {
                        Perimeter::RegionAcademique(code.to_owned())
                    })
                } else {
                    Err(bad("code à deux chiffres attendu"))
                }
            }
            "departement" => CodeDepartement::parse(code)
                .map(|c| Perimeter::Departement(c.into_string()))
                .map_err(|e| bad(&e.to_string())),
            "collectivite" => Siren::parse(code)
                .map(|s| Perimeter::Collectivite(s.into_string()))
                .map_err(|e| bad(&e.to_string())),
            "etablissement" => Uai::parse(code)
                .map(|u| Perimeter::Etablissement(u.into_string()))
                .map_err(|e| bad(&e.to_string())),
            "organisation" if !code.is_empty() && code.len() <= 64 => {
                Ok(Perimeter::Organisation(code.to_owned()))
            }
            _ => Err(bad("type inconnu")),
        }
    }

    /// The kind part (`academie`).
    pub fn kind(&self) -> &'static str {
        match self {
            Perimeter::National => "national",
            Perimeter::RegionAcademique(_) => "region-academique",
            Perimeter::Academie(_) => "academie",
            Perimeter::Departement(_) => "departement",
            Perimeter::Collectivite(_) => "collectivite",
            Perimeter::Etablissement(_) => "etablissement",
            Perimeter::Organisation(_) => "organisation",
        }
    }

    /// The code part (empty for `national`).
    pub fn code(&self) -> &str {
        match self {
            Perimeter::National => "",
            Perimeter::RegionAcademique(c)
            | Perimeter::Academie(c)
            | Perimeter::Departement(c)
            | Perimeter::Collectivite(c)
            | Perimeter::Etablissement(c)
            | Perimeter::Organisation(c) => c,
        }
    }

    /// Rebuilds a perimeter from its stored kind and code.
    pub fn from_parts(kind: &str, code: &str) -> CoreResult<Self> {
        if kind == "national" {
            Ok(Perimeter::National)
        } else {
            Perimeter::parse(&format!("{kind}:{code}"))
        }
    }
}

impl fmt::Display for Perimeter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Perimeter::National => f.write_str("national"),
            other => write!(f, "{}:{}", other.kind(), other.code()),
        }
    }
}

/// An account.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct User {
    pub id: String,
    pub email: String,
    pub display_name: String,
    /// `active`, `pending` or `disabled`.
    pub status: String,
    pub oidc_subject: Option<String>,
    pub siret: Option<String>,
    pub erased_at: Option<OffsetDateTime>,
    pub version: i64,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

impl User {
    /// The audit view of an account (no password hash).
    pub fn audit_json(&self) -> serde_json::Value {
        serde_json::json!({
            "email": self.email,
            "nom": self.display_name,
            "statut": self.status,
            "siret": self.siret,
            "version": self.version,
        })
    }
}

/// A role assignment, as stored.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Assignment {
    pub id: String,
    pub user_id: String,
    pub user_email: String,
    pub user_name: String,
    pub role: String,
    pub perimeter_kind: String,
    pub perimeter_code: String,
    pub valid_from: Date,
    pub valid_until: Option<Date>,
    pub granted_by: Option<String>,
    pub ended_by: Option<String>,
}

impl Assignment {
    /// The perimeter, written `kind:code`.
    pub fn perimeter(&self) -> String {
        if self.perimeter_kind == "national" {
            "national".to_owned()
        } else {
            format!("{}:{}", self.perimeter_kind, self.perimeter_code)
        }
    }

    /// True when the assignment is in force on `day`.
    pub fn in_force(&self, day: Date) -> bool {
        self.valid_from <= day && self.valid_until.is_none_or(|end| day < end)
    }

    /// The audit view of an assignment.
    pub fn audit_json(&self) -> serde_json::Value {
        serde_json::json!({
            "utilisateur": self.user_id,
            "role": self.role,
            "perimetre": self.perimeter(),
            "debut": self.valid_from.to_string(),
            "fin": self.valid_until.map(|d| d.to_string()),
            "nommePar": self.granted_by,
        })
    }
}

/// A role in force, with its perimeter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    pub role: Role,
    pub perimeter: Perimeter,
    pub valid_until: Option<Date>,
}

/// An API token's description (never the secret).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ApiToken {
    pub id: String,
    pub user_id: String,
    pub name: String,
    pub read_only: bool,
    pub expires_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
    pub last_used_at: Option<OffsetDateTime>,
    pub created_at: OffsetDateTime,
}

/// An organisation that can be a perimeter (operator, INSPE, Canopé, company…).
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Organisation {
    pub id: String,
    pub nom: String,
    pub kind: String,
    pub siren: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn perimeters_parse_and_print_back() {
        for text in [
            "national",
            "academie:14",
            "region-academique:53",
            "departement:2A",
            "collectivite:223500018",
            "etablissement:0350122T",
            "organisation:canope",
        ] {
            assert_eq!(
                Perimeter::parse(text).map(|p| p.to_string()).ok().as_deref(),
                Some(text)
            );
        }
        for bad in [
            "academie",
            "academie:x",
            "collectivite:223500019",
            "etablissement:0350122A",
            "pays:fr",
        ] {
            assert!(Perimeter::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn roles_parse_and_delegation_never_gives_more() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()).ok(), Some(role));
            for appointed in role.may_appoint() {
                assert!(appointed.rank() <= role.rank(), "{role} appoints {appointed}");
            }
        }
        assert!(Role::parse("roi").is_err());
    }
}
