//! Identity, access and audit, on the engine named by `GOUVERNAIL_TEST_DATABASE`.

use gouvernail_core::CoreError;
use gouvernail_core::audit::{self, Actor, Problem};
use gouvernail_core::db::{Db, Sql};
use gouvernail_core::identity::service::{
    self, LoginError, NewAssignment, SsoIdentity, SsoOutcome, UserPatch,
};
use gouvernail_core::identity::{Capability, Perimeter, Principal, Role};
use gouvernail_core::testkit::{Seed, TestDb};
use time::{Date, Duration, OffsetDateTime};

type R = Result<(), CoreError>;

fn today() -> Date {
    OffsetDateTime::now_utc().date()
}

async fn person(db: &Db, email: &str, role: &str, perimeter: &str) -> Result<Principal, CoreError> {
    let user = service::create_user(
        db,
        &Actor::cli(),
        email,
        email,
        Some("une phrase de passe assez longue"),
    )
    .await?;
    service::grant_role(
        db,
        None,
        &NewAssignment {
            user_id: user.id.clone(),
            role: Role::parse(role)?,
            perimeter: Perimeter::parse(perimeter)?,
            from: today() - Duration::days(1),
            until: None,
        },
    )
    .await?;
    service::principal(db, &user.id, false)
        .await?
        .ok_or_else(|| CoreError::Internal("principal missing".into()))
}

#[tokio::test]
async fn rights_flow_down_the_territory_and_stop_at_its_edges() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let dan14 = person(&t.db, "dan14@x.fr", "dan", "academie:14").await?;
    let can = |p: &Principal, cap, target: &str| {
        let db = t.db.clone();
        let p = p.clone();
        let target = Perimeter::parse(target);
        async move { p.can(&db, cap, &target?).await }
    };
    assert!(can(&dan14, Capability::Write, "academie:14").await?);
    assert!(can(&dan14, Capability::Write, "departement:35").await?);
    assert!(
        can(&dan14, Capability::Write, "collectivite:223500018").await?,
        "Département d'Ille-et-Vilaine"
    );
    assert!(
        can(&dan14, Capability::Write, "collectivite:233500016").await?,
        "Région Bretagne, one académie"
    );
    assert!(
        can(&dan14, Capability::Write, "collectivite:213502388").await?,
        "commune of Rennes"
    );
    assert!(!can(&dan14, Capability::Read, "academie:02").await?);
    assert!(
        !can(&dan14, Capability::Read, "region-academique:53").await?,
        "rights do not flow up"
    );
    assert!(!can(&dan14, Capability::Read, "national").await?);
    assert!(!can(&dan14, Capability::Administer, "academie:14").await?);

    // A région covering several académies is under the région académique only.
    let dan10 = person(&t.db, "dan10@x.fr", "dan", "academie:10").await?;
    assert!(!can(&dan10, Capability::Read, "collectivite:200053767").await?);
    let ra84 = person(&t.db, "ra84@x.fr", "recteur", "region-academique:84").await?;
    assert!(can(&ra84, Capability::Write, "collectivite:200053767").await?);
    assert!(can(&ra84, Capability::Write, "academie:10").await?);

    let obs = person(&t.db, "obs@x.fr", "observateur", "academie:14").await?;
    assert!(can(&obs, Capability::Read, "departement:35").await?);
    assert!(!can(&obs, Capability::Write, "departement:35").await?);
    let pilote = person(&t.db, "pilote@x.fr", "pilote-national", "national").await?;
    assert!(can(&pilote, Capability::Read, "academie:14").await?);
    assert!(!can(&pilote, Capability::Write, "academie:14").await?);
    assert!(can(&pilote, Capability::Write, "national").await?);
    // What one may not read is answered as if it did not exist.
    let err = dan14
        .check(
            &t.db,
            Capability::Read,
            &Perimeter::parse("academie:02")?,
            "académie",
            "02",
        )
        .await;
    assert!(matches!(err, Err(CoreError::NotFound { .. })));
    let err = obs
        .check(
            &t.db,
            Capability::Write,
            &Perimeter::parse("academie:14")?,
            "académie",
            "14",
        )
        .await;
    assert!(matches!(err, Err(CoreError::Forbidden)));
    Ok(())
}

#[tokio::test]
async fn delegation_never_gives_more_than_one_holds() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let dan14 = person(&t.db, "dan14@x.fr", "dan", "academie:14").await?;
    let target = service::create_user(&t.db, &Actor::cli(), "cm@x.fr", "Chargée de mission", None).await?;
    let appoint = |role: &str, perimeter: &str, until: Option<Date>| -> Result<NewAssignment, CoreError> {
        Ok(NewAssignment {
            user_id: target.id.clone(),
            role: Role::parse(role)?,
            perimeter: Perimeter::parse(perimeter)?,
            from: today(),
            until,
        })
    };
    let ok = service::grant_role(&t.db, Some(&dan14), &appoint("membre-dane", "academie:14", None)?).await?;
    assert_eq!(ok.granted_by.as_deref(), Some(dan14.user.id.as_str()));
    assert!(matches!(
        service::grant_role(&t.db, Some(&dan14), &appoint("recteur", "academie:14", None)?).await,
        Err(CoreError::Forbidden)
    ));
    assert!(matches!(
        service::grant_role(&t.db, Some(&dan14), &appoint("dan", "academie:14", None)?).await,
        Err(CoreError::Forbidden)
    ));
    assert!(matches!(
        service::grant_role(&t.db, Some(&dan14), &appoint("membre-dane", "academie:02", None)?).await,
        Err(CoreError::NotFound { .. })
    ));
    // A DAN whose own role ends cannot appoint beyond that end.
    let interim = service::create_user(&t.db, &Actor::cli(), "interim@x.fr", "DAN par intérim", None).await?;
    service::grant_role(
        &t.db,
        None,
        &NewAssignment {
            user_id: interim.id.clone(),
            role: Role::Dan,
            perimeter: Perimeter::parse("academie:14")?,
            from: today() - Duration::days(1),
            until: Some(today() + Duration::days(30)),
        },
    )
    .await?;
    let interim = service::principal(&t.db, &interim.id, false)
        .await?
        .ok_or(CoreError::Unauthenticated)?;
    assert!(matches!(
        service::grant_role(
            &t.db,
            Some(&interim),
            &appoint("observateur", "academie:14", None)?
        )
        .await,
        Err(CoreError::Forbidden)
    ));
    service::grant_role(
        &t.db,
        Some(&interim),
        &appoint("observateur", "academie:14", Some(today() + Duration::days(10)))?,
    )
    .await?;
    // Ending an appointment takes effect at once and is audited.
    service::end_role(&t.db, &dan14, &ok.id, Some(today())).await?;
    let p = service::principal(&t.db, &target.id, false)
        .await?
        .ok_or(CoreError::Unauthenticated)?;
    assert!(!p.grants.iter().any(|g| g.role == Role::MembreDane));
    let history = service::history(&t.db, &dan14, "nomination", &ok.id).await?;
    let actions: Vec<&str> = history.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(actions, ["fin-nomination", "nommer"]);
    Ok(())
}

#[tokio::test]
async fn passwords_follow_the_rules_and_failures_are_throttled_without_enumeration() -> R {
    let t = TestDb::new(Seed::Empty).await?;
    let short = service::create_user(&t.db, &Actor::cli(), "a@x.fr", "A", Some("court")).await;
    assert!(matches!(short, Err(CoreError::Validation(f)) if f[0].field == "motDePasse"));
    let common = service::create_user(&t.db, &Actor::cli(), "a@x.fr", "A", Some("123456789012")).await;
    assert!(matches!(common, Err(CoreError::Validation(f)) if f[0].message.contains("courants")));
    service::create_user(
        &t.db,
        &Actor::cli(),
        "a@x.fr",
        "A",
        Some("une phrase de passe assez longue"),
    )
    .await?;
    let dup = service::create_user(&t.db, &Actor::cli(), "A@X.FR", "A", None).await;
    assert!(matches!(dup, Err(CoreError::Conflict(_))));

    let ok =
        service::login_with_password(&t.db, "A@x.fr", "une phrase de passe assez longue", "10.0.0.1").await?;
    assert!(ok.is_ok());
    let wrong = service::login_with_password(&t.db, "a@x.fr", "mauvais mot de passe", "10.0.0.1").await?;
    let unknown =
        service::login_with_password(&t.db, "personne@x.fr", "mauvais mot de passe", "10.0.0.1").await?;
    assert_eq!(wrong.err(), Some(LoginError::Invalid));
    assert_eq!(
        unknown.err(),
        Some(LoginError::Invalid),
        "same answer for an unknown account"
    );
    for _ in 0..5 {
        let _ = service::login_with_password(&t.db, "a@x.fr", "mauvais mot de passe", "10.0.0.2").await?;
    }
    let throttled =
        service::login_with_password(&t.db, "a@x.fr", "une phrase de passe assez longue", "10.0.0.3").await?;
    assert_eq!(
        throttled.err(),
        Some(LoginError::Throttled),
        "even the right password waits"
    );
    Ok(())
}

#[tokio::test]
async fn sessions_time_out_and_disabling_ends_them_at_once() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let p = person(&t.db, "s@x.fr", "observateur", "academie:14").await?;
    let secret = service::open_session(&t.db, &p.user.id).await?;
    assert!(service::session_principal(&t.db, &secret).await?.is_some());
    // Idle for 31 minutes.
    t.db.execute(
        Sql::new("UPDATE user_session SET last_seen_at = ")
            .bind(OffsetDateTime::now_utc() - Duration::minutes(31)),
    )
    .await?;
    assert!(service::session_principal(&t.db, &secret).await?.is_none());
    // Past the absolute time-out.
    let secret = service::open_session(&t.db, &p.user.id).await?;
    t.db.execute(
        Sql::new("UPDATE user_session SET expires_at = ")
            .bind(OffsetDateTime::now_utc() - Duration::seconds(1)),
    )
    .await?;
    assert!(service::session_principal(&t.db, &secret).await?.is_none());

    let secret = service::open_session(&t.db, &p.user.id).await?;
    let (_, token) = service::create_token(
        &t.db,
        &Actor::cli(),
        &p.user.id,
        "t",
        false,
        today() + Duration::days(5),
    )
    .await?;
    assert!(service::token_principal(&t.db, &token).await?.is_some());
    service::disable_by_email(&t.db, "s@x.fr").await?;
    assert!(service::session_principal(&t.db, &secret).await?.is_none());
    assert!(service::token_principal(&t.db, &token).await?.is_none());
    Ok(())
}

#[tokio::test]
async fn tokens_are_hashed_expire_and_stop_when_revoked() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let p = person(&t.db, "t@x.fr", "dan", "academie:14").await?;
    let (info, secret) =
        service::create_token_as(&t.db, &p, None, "script", true, today() + Duration::days(30)).await?;
    assert!(secret.starts_with("gvt_"));
    let stored =
        t.db.fetch_scalar_i64(
            Sql::new("SELECT COUNT(*) FROM api_token WHERE token_hash = ").bind(secret.as_str()),
        )
        .await?;
    assert_eq!(stored, 0, "the secret itself is never stored");
    let via = service::token_principal(&t.db, &secret)
        .await?
        .ok_or(CoreError::Unauthenticated)?;
    assert!(via.read_only);
    assert!(
        !via.can(&t.db, Capability::Write, &Perimeter::parse("academie:14")?)
            .await?
    );
    service::revoke_token(&t.db, &p, &info.id).await?;
    assert!(service::token_principal(&t.db, &secret).await?.is_none());
    assert!(
        service::token_principal(&t.db, "gvt_not-a-token")
            .await?
            .is_none()
    );
    let too_long = service::create_token_as(&t.db, &p, None, "x", false, today() + Duration::days(400)).await;
    assert!(matches!(too_long, Err(CoreError::Validation(f)) if f[0].field == "expiration"));
    Ok(())
}

#[tokio::test]
async fn concurrent_edits_of_an_account_get_a_conflict() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let admin = person(&t.db, "admin@x.fr", "administrateur-national", "national").await?;
    let u = service::create_user(&t.db, &Actor::cli(), "u@x.fr", "Ursule", None).await?;
    let rename = |name: &str| UserPatch {
        display_name: Some(name.to_owned()),
        ..Default::default()
    };
    service::update_user_as(&t.db, &admin, &u.id, u.version, &rename("Ursule A")).await?;
    let second = service::update_user_as(&t.db, &admin, &u.id, u.version, &rename("Ursule B")).await;
    assert!(matches!(second, Err(CoreError::Conflict(m)) if m.contains("version actuelle 2")));
    assert_eq!(
        service::get_user(&t.db, &admin, &u.id).await?.display_name,
        "Ursule A"
    );
    Ok(())
}

#[tokio::test]
async fn sso_links_by_email_or_holds_newcomers_without_rights() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    person(&t.db, "marie.dupont@ac-rennes.fr", "dan", "academie:14").await?;
    let known = SsoIdentity {
        subject: "sub-1".into(),
        email: "Marie.Dupont@ac-rennes.fr".into(),
        siret: Some("13002802100014".into()),
        ..Default::default()
    };
    assert!(
        matches!(service::sso_login(&t.db, &known).await?, SsoOutcome::SignedIn(u) if u.oidc_subject.as_deref() == Some("sub-1"))
    );
    let newcomer = SsoIdentity {
        subject: "sub-2".into(),
        email: "nouveau@ille-et-vilaine.fr".into(),
        given_name: Some("Nouveau".into()),
        usual_name: Some("Venu".into()),
        ..Default::default()
    };
    let SsoOutcome::Pending(user) = service::sso_login(&t.db, &newcomer).await? else {
        return Err(CoreError::Internal("a newcomer must be pending".into()));
    };
    assert_eq!(user.display_name, "Nouveau Venu");
    assert!(
        service::principal(&t.db, &user.id, false).await?.is_none(),
        "a pending account has no session"
    );
    assert!(service::assignments_of(&t.db, &user.id).await?.is_empty());
    Ok(())
}

async fn seq_count(db: &Db) -> Result<i64, CoreError> {
    db.fetch_scalar_i64(Sql::new("SELECT COUNT(*) FROM audit_entry"))
        .await
}

async fn people(db: &Db, n: usize) -> R {
    for i in 0..n {
        service::create_user(
            db,
            &Actor::cli(),
            &format!("p{i}@x.fr"),
            &format!("Personne {i}"),
            None,
        )
        .await?;
    }
    Ok(())
}

#[tokio::test]
async fn the_audit_chain_detects_edits_deletions_insertions_and_reordering() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    // The referential's import wrote its own entry first.
    let start = seq_count(&t.db).await?;
    people(&t.db, 6).await?;
    assert_eq!(seq_count(&t.db).await?, start + 6);
    assert!(audit::verify(&t.db).await?.problems.is_empty());

    // Edited payload.
    t.db.execute(Sql::new(
        "UPDATE audit_entry SET after_json = '{\"email\":\"pirate@x.fr\"}' WHERE seq = 2",
    ))
    .await?;
    assert_eq!(
        audit::verify(&t.db).await?.problems,
        [Problem::PayloadEdited { seq: 2 }]
    );
    // Edited hashed field.
    t.db.execute(Sql::new(
        "UPDATE audit_entry SET action = 'supprimer' WHERE seq = 3",
    ))
    .await?;
    assert!(
        audit::verify(&t.db)
            .await?
            .problems
            .contains(&Problem::Edited { seq: 3 })
    );

    let t = TestDb::new(Seed::Referential).await?;
    people(&t.db, 6).await?;
    // Deleted in the middle, and at the end.
    t.db.execute(Sql::new("DELETE FROM audit_entry WHERE seq = 4"))
        .await?;
    assert_eq!(
        audit::verify(&t.db).await?.problems,
        [Problem::Missing {
            after_seq: 3,
            next_seq: 5
        }]
    );
    let last = seq_count(&t.db).await? + 1;
    t.db.execute(Sql::new("DELETE FROM audit_entry WHERE seq = ").bind(last))
        .await?;
    let problems = audit::verify(&t.db).await?.problems;
    assert!(
        problems.contains(&Problem::Truncated {
            last_seq: last - 1,
            head_seq: last
        }),
        "{problems:?}"
    );

    let t = TestDb::new(Seed::Referential).await?;
    people(&t.db, 4).await?;
    // Reordered: swap the sequence numbers of entries 2 and 3.
    t.db.execute(Sql::new("UPDATE audit_entry SET seq = 100 WHERE seq = 2"))
        .await?;
    t.db.execute(Sql::new("UPDATE audit_entry SET seq = 2 WHERE seq = 3"))
        .await?;
    t.db.execute(Sql::new("UPDATE audit_entry SET seq = 3 WHERE seq = 100"))
        .await?;
    let problems = audit::verify(&t.db).await?.problems;
    assert!(
        problems.contains(&Problem::Edited { seq: 2 }) && problems.contains(&Problem::Edited { seq: 3 }),
        "{problems:?}"
    );
    Ok(())
}

#[tokio::test]
async fn an_inserted_entry_breaks_the_chain() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    people(&t.db, 3).await?;
    // A forged entry, copied from the last one with the next sequence number and a made-up hash.
    let last = seq_count(&t.db).await?;
    t.db.execute(
        Sql::new(
            "INSERT INTO audit_entry (seq, at, actor_id, actor_label, action, object_kind, object_id, before_json, \
             after_json, payload_digest, prev_hash, hash, erased) SELECT seq + 1, at, actor_id, actor_label, \
             action, object_kind, object_id, before_json, after_json, payload_digest, hash, 'forged', erased \
             FROM audit_entry WHERE seq = ",
        )
        .bind(last),
    )
    .await?;
    assert!(
        audit::verify(&t.db)
            .await?
            .problems
            .contains(&Problem::Edited { seq: last + 1 })
    );
    Ok(())
}

#[tokio::test]
async fn erasing_a_person_pseudonymises_the_trail_and_keeps_the_chain() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let admin = person(&t.db, "admin@x.fr", "administrateur-national", "national").await?;
    let marie = person(&t.db, "marie@x.fr", "dan", "academie:14").await?;
    let someone = service::create_user(&t.db, &Actor::cli(), "o@x.fr", "O", None).await?;
    service::grant_role(
        &t.db,
        Some(&marie),
        &NewAssignment {
            user_id: someone.id.clone(),
            role: Role::Observateur,
            perimeter: Perimeter::parse("academie:14")?,
            from: today(),
            until: None,
        },
    )
    .await?;
    let erased = service::erase_user_as(&t.db, &admin, &marie.user.id).await?;
    assert!(erased.email.ends_with("@efface.invalid"));
    let leaks = t
        .db
        .fetch_scalar_i64(Sql::new(
            "SELECT COUNT(*) FROM audit_entry WHERE actor_label LIKE '%marie@x.fr%' OR after_json LIKE '%marie@x.fr%' \
             OR before_json LIKE '%marie@x.fr%'",
        ))
        .await?;
    assert_eq!(leaks, 0, "no trace of the e-mail in the trail");
    assert!(audit::verify(&t.db).await?.problems.is_empty());
    assert!(service::principal(&t.db, &marie.user.id, false).await?.is_none());
    Ok(())
}
