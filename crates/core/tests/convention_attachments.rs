//! Attachments of a convention (signed scans, annexes), on the engine named by
//! `GOUVERNAIL_TEST_DATABASE`: stored on the filesystem with their SHA-256, type found from
//! the first bytes, size bounded, name made safe; writers add and remove, readers download,
//! others see nothing; every change is in the audit trail.

use gouvernail_core::CoreError;
use gouvernail_core::audit::{self, Actor, AuditFilter};
use gouvernail_core::convention::attachment::{self, Storage};
use gouvernail_core::convention::service as conv;
use gouvernail_core::convention::*;
use gouvernail_core::db::Db;
use gouvernail_core::identity::service::{self as identity, NewAssignment};
use gouvernail_core::identity::{Perimeter, Principal, Role};
use gouvernail_core::testkit::{Seed, TestDb};
use time::macros::date;

type R = Result<(), Box<dyn std::error::Error>>;

async fn person(db: &Db, email: &str, role: Role, perimeter: &str) -> Result<Principal, CoreError> {
    let user = identity::create_user(db, &Actor::cli(), email, email, None).await?;
    identity::grant_role(
        db,
        None,
        &NewAssignment {
            user_id: user.id.clone(),
            role,
            perimeter: Perimeter::parse(perimeter)?,
            from: date!(2020 - 01 - 01),
            until: None,
        },
    )
    .await?;
    identity::principal(db, &user.id, false)
        .await?
        .ok_or(CoreError::Unauthenticated)
}

fn party(reference: &str) -> PartyInput {
    PartyInput {
        reference: reference.into(),
        representative: "Signataire".into(),
        capacity: "Signataire habilité".into(),
        signature_date: Some(date!(2025 - 01 - 10)),
        ..Default::default()
    }
}

fn field(result: Result<impl std::fmt::Debug, CoreError>) -> String {
    match result {
        Err(CoreError::Validation(f)) => f.iter().map(|e| e.field.clone()).collect::<Vec<_>>().join(","),
        other => format!("expected a validation error, got {other:?}"),
    }
}

#[tokio::test]
async fn writers_attach_readers_download_and_others_see_nothing() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let db = &t.db;
    let dir = tempfile::tempdir()?;
    let storage = Storage {
        dir: dir.path().to_owned(),
        max_bytes: 1024,
    };
    let dan = person(db, "dan@ac-rennes.fr", Role::Dan, "academie:14").await?;
    let cd35 = person(
        db,
        "numerique@ille-et-vilaine.fr",
        Role::RepresentantCollectivite,
        "collectivite:223500018",
    )
    .await?;
    let stranger = person(db, "dan@ac-aix-marseille.fr", Role::Dan, "academie:02").await?;
    let v = conv::create_convention(
        db,
        &dan,
        &ConventionInput {
            kind: "bipartite".into(),
            title: "Convention avec pièces".into(),
            parties: vec![party("academie:14"), party("collectivite:223500018")],
            ..Default::default()
        },
    )
    .await?;
    let id = v.convention.id.as_str();

    // A signed scan: stored under the data directory, with its SHA-256 and a safe name.
    let pdf = b"%PDF-1.7\n% convention signee\n".to_vec();
    let a = attachment::upload(db, &storage, &dan, id, "../../scans/convention signée.pdf", &pdf).await?;
    assert_eq!(a.name, "convention signée.pdf");
    assert_eq!(a.content_type, "application/pdf");
    assert_eq!(a.size_bytes, i64::try_from(pdf.len())?);
    assert_eq!(a.sha256.len(), 64);
    let stored = dir.path().join("conventions").join(id).join(&a.id);
    assert_eq!(std::fs::read(&stored)?, pdf);

    // Refused: an executable named .pdf, an empty file, a file too large.
    assert_eq!(
        field(attachment::upload(db, &storage, &dan, id, "setup.pdf", b"MZ\x90\x00\x03\x00").await),
        "fichier"
    );
    assert_eq!(
        field(attachment::upload(db, &storage, &dan, id, "vide.txt", b"").await),
        "fichier"
    );
    let big = [b'a'; 2048];
    assert_eq!(
        field(attachment::upload(db, &storage, &dan, id, "long.txt", &big).await),
        "fichier"
    );

    // The collectivité reads and downloads, but does not attach nor remove.
    let listed = attachment::list(db, &cd35, id).await?;
    assert_eq!(listed, std::slice::from_ref(&a));
    let (got, bytes) = attachment::download(db, &storage, &cd35, id, &a.id).await?;
    assert_eq!((got.name.as_str(), bytes), ("convention signée.pdf", pdf.clone()));
    assert!(matches!(
        attachment::upload(db, &storage, &cd35, id, "annexe.txt", b"annexe").await,
        Err(CoreError::Forbidden)
    ));
    assert!(matches!(
        attachment::delete(db, &storage, &cd35, id, &a.id).await,
        Err(CoreError::Forbidden)
    ));
    // Another académie's DAN sees nothing.
    assert!(matches!(
        attachment::list(db, &stranger, id).await,
        Err(CoreError::NotFound { .. })
    ));
    assert!(matches!(
        attachment::download(db, &storage, &stranger, id, &a.id).await,
        Err(CoreError::NotFound { .. })
    ));
    // An attachment of another convention is not found through this one.
    let other = conv::create_convention(
        db,
        &dan,
        &ConventionInput {
            kind: "bipartite".into(),
            title: "Autre convention".into(),
            parties: vec![party("academie:14"), party("collectivite:223500018")],
            ..Default::default()
        },
    )
    .await?;
    assert!(matches!(
        attachment::download(db, &storage, &dan, &other.convention.id, &a.id).await,
        Err(CoreError::NotFound { .. })
    ));

    // Removed by the DAN: row and file gone, both changes audited.
    attachment::delete(db, &storage, &dan, id, &a.id).await?;
    assert!(attachment::list(db, &dan, id).await?.is_empty());
    assert!(!stored.exists());
    let filter = AuditFilter {
        object_kind: Some("convention".into()),
        object_id: Some(id.to_owned()),
        ..Default::default()
    };
    let actions: Vec<String> = audit::list(db, &filter, 100, 0)
        .await?
        .0
        .into_iter()
        .map(|e| e.action)
        .collect();
    assert!(actions.contains(&"joindre".to_owned()), "{actions:?}");
    assert!(actions.contains(&"retirer-piece".to_owned()), "{actions:?}");
    Ok(())
}
