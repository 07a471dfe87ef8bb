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
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(10)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n"
    )?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer)?;
    Ok(answer)
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
