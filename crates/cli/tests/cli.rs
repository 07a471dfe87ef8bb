//! The `gouvernail` binary as an operator runs it: exit codes, messages, and a real server.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use gouvernail_core::db::Sql;
use gouvernail_core::testkit::{Seed, TestDb, shared_data_dir};

type R = Result<(), Box<dyn std::error::Error>>;

fn gouvernail() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_gouvernail"));
    cmd.env("RUST_LOG", "warn").env_remove("GOUVERNAIL_DATABASE_URL");
    cmd
}

#[test]
fn an_unknown_database_scheme_is_refused_clearly() -> R {
    let out = gouvernail()
        .args(["migrate", "--database", "mysql://root:secret@localhost/x"])
        .output()?;
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("sqlite://") && err.contains("postgres://"), "{err}");
    assert!(!err.contains("secret"), "{err}");
    Ok(())
}

#[tokio::test]
async fn a_damaged_annuaire_exits_2_naming_each_bad_line_and_keeps_the_rest() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let dir = shared_data_dir().ok_or("../shared/data is missing")?;
    let original = std::fs::read_to_string(dir.join("annuaire_education_35_extrait_2023-06.csv"))?;
    let mut lines: Vec<String> = original.lines().map(str::to_owned).collect();
    lines[4] = lines[4].replacen(";Public;", ";Publique ou pas;", 1);
    let file = tempfile::NamedTempFile::new()?;
    std::fs::write(file.path(), lines.join("\n"))?;

    let out = gouvernail()
        .args(["import", "annuaire"])
        .arg(file.path())
        .args(["--database", t.url.expose()])
        .output()?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("ligne 5") && stderr.contains("statut_public_prive"),
        "{stderr}"
    );
    assert!(stdout.contains("1 rejetées"), "{stdout}");
    let n =
        t.db.fetch_scalar_i64(Sql::new("SELECT COUNT(*) FROM etablissement"))
            .await?;
    assert_eq!(n, 992, "993 establishments less the rejected line");
    Ok(())
}

#[tokio::test]
async fn a_clean_import_exits_0_and_a_missing_file_exits_1() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let out = gouvernail()
        .args(["import", "referential", "--database", t.url.expose()])
        .output()?;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("0 créées"));
    let out = gouvernail()
        .args([
            "import",
            "annuaire",
            "/nonexistent/annuaire.csv",
            "--database",
            t.url.expose(),
        ])
        .output()?;
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/annuaire.csv"));
    Ok(())
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn http_get(port: u16, path: &str) -> std::io::Result<String> {
    http(port, "GET", path, None, None)
}

fn http(
    port: u16,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&str>,
) -> std::io::Result<String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    let auth = token
        .map(|t| format!("Authorization: Bearer {t}\r\n"))
        .unwrap_or_default();
    let body = body.unwrap_or("");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n{auth}Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer)
}

fn run_ok(args: &[&str], stdin: Option<&str>) -> Result<String, Box<dyn std::error::Error>> {
    let mut child = gouvernail()
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()?;
    if let Some(text) = stdin
        && let Some(mut input) = child.stdin.take()
    {
        input.write_all(text.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    if !out.status.success() {
        return Err(format!("{args:?}: {}", String::from_utf8_lossy(&out.stderr)).into());
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_owned())
}

fn wait_ready(port: u16) -> bool {
    let start = Instant::now();
    while start.elapsed() < Duration::from_secs(60) {
        if http_get(port, "/readyz").is_ok_and(|a| a.starts_with("HTTP/1.1 200")) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[tokio::test]
async fn two_serve_processes_share_one_database() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let mut servers = Vec::new();
    let mut ports = Vec::new();
    for _ in 0..2 {
        let port = free_port()?;
        let child = gouvernail()
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--database",
                t.url.expose(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?;
        servers.push(child);
        ports.push(port);
    }
    let ready = ports.iter().all(|p| wait_ready(*p));
    let a = http_get(ports[0], "/api/v1/communes/35238");
    t.db.execute(Sql::new(
        "UPDATE commune SET population = 42 WHERE code = '35238'",
    ))
    .await?;
    let b = http_get(ports[1], "/api/v1/communes/35238");
    for mut s in servers {
        let _ = s.kill();
        let _ = s.wait();
    }
    assert!(ready, "both servers answer /readyz");
    assert!(a?.contains("\"nom\":\"Rennes\""));
    assert!(
        b?.contains("\"population\":42"),
        "the second instance reads the shared database"
    );
    Ok(())
}

#[tokio::test]
async fn the_cli_sets_up_accounts_roles_and_tokens_that_the_api_honours() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let db = t.url.expose().to_owned();
    let db = db.as_str();
    run_ok(
        &[
            "user",
            "create",
            "--email",
            "dan@ac-rennes.fr",
            "--name",
            "Damien Dan",
            "--password-stdin",
            "--database",
            db,
        ],
        Some("une phrase de passe assez longue\n"),
    )?;
    run_ok(
        &[
            "user",
            "create",
            "--email",
            "obs@ac-rennes.fr",
            "--name",
            "Odile",
            "--database",
            db,
        ],
        None,
    )?;
    run_ok(
        &[
            "user",
            "create",
            "--email",
            "cm@ac-rennes.fr",
            "--name",
            "Chloé",
            "--database",
            db,
        ],
        None,
    )?;
    run_ok(
        &[
            "role",
            "grant",
            "--email",
            "dan@ac-rennes.fr",
            "--role",
            "dan",
            "--perimeter",
            "academie:14",
            "--database",
            db,
        ],
        None,
    )?;
    run_ok(
        &[
            "role",
            "grant",
            "--email",
            "obs@ac-rennes.fr",
            "--role",
            "observateur",
            "--perimeter",
            "academie:14",
            "--database",
            db,
        ],
        None,
    )?;
    let bad = gouvernail()
        .args([
            "role",
            "grant",
            "--email",
            "obs@ac-rennes.fr",
            "--role",
            "roi",
            "--perimeter",
            "academie:14",
            "--database",
            db,
        ])
        .output()?;
    assert_eq!(bad.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("rôle « roi » inconnu"));
    let dan = run_ok(
        &["token", "create", "--email", "dan@ac-rennes.fr", "--database", db],
        None,
    )?;
    let obs = run_ok(
        &[
            "token",
            "create",
            "--email",
            "obs@ac-rennes.fr",
            "--read-only",
            "--database",
            db,
        ],
        None,
    )?;
    assert!(
        dan.starts_with("gvt_") && !dan.contains(char::is_whitespace),
        "only the token is printed: {dan}"
    );
    let list = run_ok(&["user", "list", "--database", db], None)?;
    assert!(
        list.contains("dan@ac-rennes.fr\tactive\tDamien Dan\tdan@academie:14"),
        "{list}"
    );

    let port = free_port()?;
    let mut server = gouvernail()
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--database",
            db,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let ready = wait_ready(port);
    let appoint =
        |p: &str| format!(r#"{{"email":"cm@ac-rennes.fr","role":"membre-dane","perimetre":"{p}"}}"#);
    let results = (|| -> std::io::Result<Vec<String>> {
        Ok(vec![
            http(
                port,
                "GET",
                "/api/v1/nominations?perimetre=academie:14",
                Some(&dan),
                None,
            )?,
            http(
                port,
                "POST",
                "/api/v1/nominations",
                Some(&dan),
                Some(&appoint("academie:14")),
            )?,
            http(
                port,
                "GET",
                "/api/v1/nominations?perimetre=academie:02",
                Some(&dan),
                None,
            )?,
            http(
                port,
                "POST",
                "/api/v1/nominations",
                Some(&dan),
                Some(&appoint("academie:02")),
            )?,
            http(
                port,
                "GET",
                "/api/v1/nominations?perimetre=academie:14",
                Some(&obs),
                None,
            )?,
            http(
                port,
                "POST",
                "/api/v1/nominations",
                Some(&obs),
                Some(&appoint("academie:14")),
            )?,
        ])
    })();
    let _ = server.kill();
    let _ = server.wait();
    assert!(ready);
    let results = results?;
    let status = |i: usize| results[i].lines().next().unwrap_or_default().to_owned();
    assert_eq!(status(0), "HTTP/1.1 200 OK");
    assert_eq!(status(1), "HTTP/1.1 201 Created");
    assert_eq!(status(2), "HTTP/1.1 404 Not Found");
    assert_eq!(status(3), "HTTP/1.1 404 Not Found");
    assert_eq!(status(4), "HTTP/1.1 200 OK");
    assert_eq!(status(5), "HTTP/1.1 403 Forbidden");

    // Disabling the DAN ends their token at once.
    run_ok(
        &["user", "disable", "--email", "dan@ac-rennes.fr", "--database", db],
        None,
    )?;
    let p = gouvernail_core::identity::service::token_principal(&t.db, &dan).await?;
    assert!(p.is_none());
    Ok(())
}

#[tokio::test]
async fn audit_verify_finds_a_tampered_entry() -> R {
    let t = TestDb::new(Seed::Referential).await?;
    let db = t.url.expose().to_owned();
    for i in 0..4 {
        run_ok(
            &[
                "user",
                "create",
                "--email",
                &format!("p{i}@x.fr"),
                "--name",
                "P",
                "--database",
                &db,
            ],
            None,
        )?;
    }
    let clean = run_ok(&["audit", "verify", "--database", &db], None)?;
    assert!(clean.contains("entrées vérifiées, 0 problème"), "{clean}");
    // Tamper with a copy when the database is a file, else with the test database itself.
    let tampered = if db.starts_with("sqlite:") {
        let original = db.trim_start_matches("sqlite://");
        let copy = format!("{original}.copie");
        t.db.execute(Sql::new("PRAGMA wal_checkpoint(TRUNCATE)")).await?;
        std::fs::copy(original, &copy)?;
        let copy_db = gouvernail_core::db::Db::connect(
            &gouvernail_core::db::DatabaseUrl::parse(&format!("sqlite://{copy}"))?,
            &Default::default(),
        )
        .await?;
        copy_db
            .execute(Sql::new(
                "UPDATE audit_entry SET object_id = 'autre' WHERE seq = 3",
            ))
            .await?;
        copy_db.close().await;
        format!("sqlite://{copy}")
    } else {
        t.db.execute(Sql::new(
            "UPDATE audit_entry SET object_id = 'autre' WHERE seq = 3",
        ))
        .await?;
        db.clone()
    };
    let out = gouvernail()
        .args(["audit", "verify", "--database", &tampered])
        .output()?;
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("entrée 3"), "{err}");
    if db.starts_with("sqlite:") {
        assert!(run_ok(&["audit", "verify", "--database", &db], None)?.contains("0 problème"));
    }
    Ok(())
}
