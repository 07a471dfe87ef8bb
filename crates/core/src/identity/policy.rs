//! Who may do what, where: every check is made here, on the server, for pages, API,
//! exports and search alike.
//!
//! Rights flow down the territory: a role held on an académie applies to its départements,
//! its communes' collectivités and its schools. A person who may not read an object gets
//! the same answer as for an object that does not exist (`NotFound`); one who may read it
//! but not change it gets `Forbidden`.

use crate::audit::Actor;
use crate::db::{Db, Sql};
use crate::error::{CoreError, CoreResult};

use super::model::{Grant, Perimeter, Role, User};

/// What a request wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    /// See the object.
    Read,
    /// Change the object.
    Write,
    /// Appoint people on the perimeter (delegation).
    Appoint,
    /// Administer accounts and read the whole audit trail.
    Administer,
}

/// An authenticated person and the roles they hold today.
#[derive(Debug, Clone, PartialEq)]
pub struct Principal {
    pub user: User,
    pub grants: Vec<Grant>,
    /// True when the request came with a read-only API token.
    pub read_only: bool,
}

fn role_allows(role: Role, capability: Capability, held_on: &Perimeter, target_is_held: bool) -> bool {
    match capability {
        Capability::Read => true,
        Capability::Write => match role {
            Role::AdministrateurNational => true,
            // A national project lead changes national objects, not the académies'.
            Role::PiloteNational => target_is_held && *held_on == Perimeter::National,
            Role::Recteur | Role::Dan | Role::MembreDane | Role::RepresentantCollectivite => true,
            Role::Partenaire | Role::Expert | Role::Observateur => false,
        },
        Capability::Appoint => matches!(role, Role::AdministrateurNational | Role::Recteur | Role::Dan),
        Capability::Administer => role == Role::AdministrateurNational,
    }
}

impl Principal {
    /// The author of the changes this person makes.
    pub fn actor(&self) -> Actor {
        Actor {
            id: Some(self.user.id.clone()),
            label: format!("{} <{}>", self.user.display_name, self.user.email),
        }
    }

    /// True for a national administrator.
    pub fn is_admin(&self) -> bool {
        self.grants.iter().any(|g| g.role == Role::AdministrateurNational)
    }

    /// Whether this person may do `capability` on `target`.
    pub async fn can(&self, db: &Db, capability: Capability, target: &Perimeter) -> CoreResult<bool> {
        if self.read_only && capability != Capability::Read {
            return Ok(false);
        }
        let ancestors = ancestors(db, target).await?;
        Ok(self.grants.iter().any(|g| {
            ancestors.contains(&g.perimeter)
                && role_allows(g.role, capability, &g.perimeter, g.perimeter == *target)
        }))
    }

    /// Checks a capability: `NotFound` when the person may not even read the object (so
    /// that its existence is not revealed), `Forbidden` when they may read but not do.
    pub async fn check(
        &self,
        db: &Db,
        capability: Capability,
        target: &Perimeter,
        entity: &'static str,
        id: &str,
    ) -> CoreResult<()> {
        if !self.can(db, Capability::Read, target).await? {
            return Err(CoreError::not_found(entity, id));
        }
        if capability != Capability::Read && !self.can(db, capability, target).await? {
            return Err(CoreError::Forbidden);
        }
        Ok(())
    }

    /// Checks that the person is a national administrator (`Forbidden` otherwise).
    pub fn require_admin(&self) -> CoreResult<()> {
        if self.is_admin() && !self.read_only {
            Ok(())
        } else {
            Err(CoreError::Forbidden)
        }
    }
}

#[derive(sqlx::FromRow)]
struct Codes {
    a: Option<String>,
    b: Option<String>,
}

async fn academie_chain(db: &Db, academie: &str, out: &mut Vec<Perimeter>) -> CoreResult<()> {
    out.push(Perimeter::Academie(academie.to_owned()));
    let row: Option<Codes> = db
        .fetch_optional(
            Sql::new("SELECT code_region_academique AS a, NULL AS b FROM academie WHERE code = ")
                .bind(academie),
        )
        .await?;
    if let Some(ra) = row.and_then(|r| r.a) {
        out.push(Perimeter::RegionAcademique(ra));
    }
    Ok(())
}

async fn departement_chain(db: &Db, departement: &str, out: &mut Vec<Perimeter>) -> CoreResult<()> {
    out.push(Perimeter::Departement(departement.to_owned()));
    let row: Option<Codes> = db
        .fetch_optional(
            Sql::new("SELECT code_academie AS a, NULL AS b FROM departement WHERE code = ").bind(departement),
        )
        .await?;
    if let Some(academie) = row.and_then(|r| r.a) {
        academie_chain(db, &academie, out).await?;
    }
    Ok(())
}

/// The perimeter itself and every perimeter above it, up to `national`.
pub async fn ancestors(db: &Db, target: &Perimeter) -> CoreResult<Vec<Perimeter>> {
    let mut out = Vec::with_capacity(6);
    match target {
        Perimeter::National => {}
        Perimeter::RegionAcademique(code) => out.push(Perimeter::RegionAcademique(code.clone())),
        Perimeter::Academie(code) => academie_chain(db, code, &mut out).await?,
        Perimeter::Departement(code) => departement_chain(db, code, &mut out).await?,
        Perimeter::Organisation(id) => out.push(Perimeter::Organisation(id.clone())),
        Perimeter::Etablissement(uai) => {
            out.push(target.clone());
            let row: Option<Codes> = db
                .fetch_optional(
                    Sql::new(
                        "SELECT code_departement AS a, collectivite_siren AS b FROM etablissement WHERE uai = ",
                    )
                    .bind(uai.as_str()),
                )
                .await?;
            if let Some(row) = row {
                if let Some(siren) = row.b {
                    out.push(Perimeter::Collectivite(siren));
                }
                if let Some(dep) = row.a {
                    departement_chain(db, &dep, &mut out).await?;
                }
            }
        }
        Perimeter::Collectivite(siren) => {
            out.push(target.clone());
            // The départements of its territory: its commune's, or those it covers.
            let deps: Vec<Codes> = db
                .fetch_all(
                    Sql::new("SELECT code_departement AS a, NULL AS b FROM commune WHERE siren = ")
                        .bind(siren.as_str())
                        .push(" UNION SELECT code_departement AS a, NULL AS b FROM collectivite_departement WHERE siren = ")
                        .bind(siren.as_str()),
                )
                .await?;
            let deps: Vec<String> = deps.into_iter().filter_map(|d| d.a).collect();
            if let [only] = deps.as_slice() {
                departement_chain(db, only, &mut out).await?;
            } else if !deps.is_empty() {
                // Above one département: the académie, or the région académique, that holds
                // all of them.
                let mut chains = Vec::new();
                for dep in &deps {
                    let mut chain = Vec::new();
                    departement_chain(db, dep, &mut chain).await?;
                    chains.push(chain);
                }
                if let Some(first) = chains.first() {
                    for p in first.iter().skip(1) {
                        if chains.iter().all(|c| c.contains(p)) {
                            out.push(p.clone());
                        }
                    }
                }
            }
        }
    }
    out.push(Perimeter::National);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pilote_national_writes_national_objects_only() {
        assert!(role_allows(
            Role::PiloteNational,
            Capability::Write,
            &Perimeter::National,
            true
        ));
        assert!(!role_allows(
            Role::PiloteNational,
            Capability::Write,
            &Perimeter::National,
            false
        ));
        assert!(role_allows(
            Role::PiloteNational,
            Capability::Read,
            &Perimeter::National,
            false
        ));
    }

    #[test]
    fn observers_experts_and_partners_never_write() {
        for role in [Role::Observateur, Role::Expert, Role::Partenaire] {
            assert!(!role_allows(
                role,
                Capability::Write,
                &Perimeter::Academie("14".into()),
                true
            ));
            assert!(!role_allows(
                role,
                Capability::Appoint,
                &Perimeter::Academie("14".into()),
                true
            ));
        }
    }
}
