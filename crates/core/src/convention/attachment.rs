//! Attachments of a convention: signed scans and annexes, stored on the filesystem under a
//! data directory (`conventions/<convention id>/<attachment id>`), described by a row (name,
//! type, size, SHA-256). The writers of the convention add and remove them; its readers list
//! and download them. The type is found from the first bytes, never from the name or from
//! what the client declares; the name is reduced to a safe file name. Every change is audited.
//!
//! The file is written before the row and removed if the row cannot be; a removal deletes
//! the row (audited) then the file, so that a crash leaves at worst an orphan file, never a
//! row without its file.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use time::OffsetDateTime;

use crate::audit;
use crate::db::Db;
use crate::error::{CoreError, CoreResult, FieldError};
use crate::identity::Principal;
use crate::identity::service::new_id;

use super::{repo, service};

/// Where attachments are kept, and how large one may be.
#[derive(Debug, Clone)]
pub struct Storage {
    /// The data directory (attachments go under `conventions/`).
    pub dir: PathBuf,
    /// The largest file accepted, in bytes.
    pub max_bytes: usize,
}

/// The default largest file: 20 MiB.
pub const DEFAULT_MAX_BYTES: usize = 20 * 1024 * 1024;

impl Storage {
    fn folder(&self, convention_id: &str) -> PathBuf {
        self.dir.join("conventions").join(convention_id)
    }
    fn path(&self, convention_id: &str, id: &str) -> PathBuf {
        self.folder(convention_id).join(id)
    }
}

/// An attachment, as stored.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Attachment {
    pub id: String,
    pub convention_id: String,
    /// The sanitised file name.
    pub name: String,
    /// Found from the first bytes.
    pub content_type: String,
    pub size_bytes: i64,
    /// Lowercase hexadecimal.
    pub sha256: String,
    pub created_by: Option<String>,
    pub created_at: OffsetDateTime,
}

/// The type of a file from its first bytes (and, for plain text, its name): PDF, PNG, JPEG,
/// OpenDocument text or spreadsheet, Word or Excel (OOXML), CSV or text. `None`: refused.
pub fn detect(bytes: &[u8], name: &str) -> Option<&'static str> {
    let head = &bytes[..bytes.len().min(8192)];
    let contains = |needle: &[u8]| head.windows(needle.len()).any(|w| w == needle);
    if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else if bytes.starts_with(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a]) {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"PK\x03\x04") {
        // OpenDocument: an uncompressed `mimetype` entry first; OOXML: its parts' names.
        if contains(b"mimetypeapplication/vnd.oasis.opendocument.text") {
            Some("application/vnd.oasis.opendocument.text")
        } else if contains(b"mimetypeapplication/vnd.oasis.opendocument.spreadsheet") {
            Some("application/vnd.oasis.opendocument.spreadsheet")
        } else if contains(b"word/") {
            Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        } else if contains(b"xl/") {
            Some("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        } else {
            None
        }
    } else if !bytes.is_empty() && !bytes.contains(&0) && std::str::from_utf8(bytes).is_ok() {
        if name.to_lowercase().ends_with(".csv") {
            Some("text/csv")
        } else {
            Some("text/plain")
        }
    } else {
        None
    }
}

/// A safe file name: the last component of what was sent, letters, digits, `.`, `-`, `_` and
/// spaces kept, anything else replaced; no leading dot; at most 120 characters.
pub fn sanitize_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = last
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, '.' | '-' | '_' | ' ') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let trimmed = cleaned.trim().trim_start_matches(['.', ' ']);
    let short: String = trimmed.chars().take(120).collect();
    if short.is_empty() {
        "piece".to_owned()
    } else {
        short
    }
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

fn invalid(message: impl Into<String>) -> CoreError {
    CoreError::Validation(vec![FieldError::new("fichier", message)])
}

fn io(e: std::io::Error) -> CoreError {
    CoreError::Internal(format!("pièce jointe : {e}"))
}

/// The convention, readable by `by` (else `NotFound`); whether they write it.
async fn writer(db: &Db, by: &Principal, convention_id: &str) -> CoreResult<bool> {
    Ok(service::get_convention(db, by, convention_id, service::today())
        .await?
        .can_write)
}

/// Adds an attachment to a convention: its writers only; the size and the type are checked.
pub async fn upload(
    db: &Db,
    storage: &Storage,
    by: &Principal,
    convention_id: &str,
    name: &str,
    bytes: &[u8],
) -> CoreResult<Attachment> {
    if !writer(db, by, convention_id).await? {
        return Err(CoreError::Forbidden);
    }
    if bytes.is_empty() {
        return Err(invalid("le fichier est vide"));
    }
    if bytes.len() > storage.max_bytes {
        return Err(invalid(format!(
            "le fichier dépasse la taille maximale ({} Mio)",
            storage.max_bytes / (1024 * 1024)
        )));
    }
    let name = sanitize_name(name);
    // To the microsecond, as both engines store it.
    let now = OffsetDateTime::now_utc();
    let now = now.replace_microsecond(now.microsecond()).unwrap_or(now);
    let Some(content_type) = detect(bytes, &name) else {
        return Err(invalid(
            "type de fichier refusé : PDF, PNG, JPEG, ODT, ODS, DOCX, XLSX, CSV ou texte attendu",
        ));
    };
    let attachment = Attachment {
        id: new_id(),
        convention_id: convention_id.to_owned(),
        name,
        content_type: content_type.to_owned(),
        size_bytes: i64::try_from(bytes.len()).map_err(|_| invalid("fichier trop grand"))?,
        sha256: hex(&Sha256::digest(bytes)),
        created_by: Some(by.user.id.clone()),
        created_at: now,
    };
    // The file first (written aside, then renamed), the row after.
    let folder = storage.folder(convention_id);
    let path = storage.path(convention_id, &attachment.id);
    let data = bytes.to_vec();
    let (tmp, target) = (folder.join(format!(".{}.part", attachment.id)), path.clone());
    tokio::task::spawn_blocking(move || -> std::io::Result<()> {
        std::fs::create_dir_all(&folder)?;
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(&data)?;
        file.sync_all()?;
        std::fs::rename(&tmp, &target)
    })
    .await
    .map_err(|e| CoreError::Internal(format!("pièce jointe : {e}")))?
    .map_err(io)?;
    match record(db, by, &attachment).await {
        Ok(()) => Ok(attachment),
        Err(e) => {
            if let Err(rm) = std::fs::remove_file(&path) {
                tracing::warn!("orphan attachment {}: {rm}", path.display());
            }
            Err(e)
        }
    }
}

async fn record(db: &Db, by: &Principal, a: &Attachment) -> CoreResult<()> {
    let mut tx = db.begin().await?;
    repo::insert_attachment(&mut tx, a).await?;
    audit::record(
        &mut tx,
        &by.actor(),
        "joindre",
        "convention",
        &a.convention_id,
        None,
        Some(&serde_json::json!({
            "piece": a.id, "nom": a.name, "type": a.content_type, "taille": a.size_bytes, "sha256": a.sha256,
        })),
    )
    .await?;
    tx.commit().await
}

/// The attachments of a convention its readers see, the most recent first.
pub async fn list(db: &Db, by: &Principal, convention_id: &str) -> CoreResult<Vec<Attachment>> {
    writer(db, by, convention_id).await?;
    repo::attachments_of(db, convention_id).await
}

async fn find(db: &Db, convention_id: &str, id: &str) -> CoreResult<Attachment> {
    repo::find_attachment(db, convention_id, id)
        .await?
        .ok_or_else(|| CoreError::not_found("pièce jointe", id))
}

/// An attachment and its bytes, for a reader of the convention.
pub async fn download(
    db: &Db,
    storage: &Storage,
    by: &Principal,
    convention_id: &str,
    id: &str,
) -> CoreResult<(Attachment, Vec<u8>)> {
    writer(db, by, convention_id).await?;
    let a = find(db, convention_id, id).await?;
    let path = storage.path(convention_id, &a.id);
    let bytes = tokio::fs::read(&path).await.map_err(io)?;
    Ok((a, bytes))
}

/// Removes an attachment: the convention's writers only.
pub async fn delete(
    db: &Db,
    storage: &Storage,
    by: &Principal,
    convention_id: &str,
    id: &str,
) -> CoreResult<()> {
    if !writer(db, by, convention_id).await? {
        return Err(CoreError::Forbidden);
    }
    let a = find(db, convention_id, id).await?;
    let mut tx = db.begin().await?;
    repo::delete_attachment(&mut tx, &a.id).await?;
    audit::record(
        &mut tx,
        &by.actor(),
        "retirer-piece",
        "convention",
        convention_id,
        Some(&serde_json::json!({ "piece": a.id, "nom": a.name, "sha256": a.sha256 })),
        None,
    )
    .await?;
    tx.commit().await?;
    remove(&storage.path(convention_id, &a.id));
    Ok(())
}

fn remove(path: &Path) {
    match std::fs::remove_file(path) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => tracing::warn!("cannot remove attachment {}: {e}", path.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_come_from_the_first_bytes() {
        assert_eq!(detect(b"%PDF-1.7\n...", "x.txt"), Some("application/pdf"));
        assert_eq!(
            detect(&[0x89, b'P', b'N', b'G', 0x0d, 0x0a, 0x1a, 0x0a, 0], "a.png"),
            Some("image/png")
        );
        assert_eq!(detect(&[0xff, 0xd8, 0xff, 0xe0], "a.jpg"), Some("image/jpeg"));
        assert_eq!(
            detect(
                b"PK\x03\x04....mimetypeapplication/vnd.oasis.opendocument.text",
                "a.odt"
            ),
            Some("application/vnd.oasis.opendocument.text")
        );
        assert_eq!(
            detect(
                b"PK\x03\x04....[Content_Types].xml....word/document.xml",
                "a.docx"
            ),
            Some("application/vnd.openxmlformats-officedocument.wordprocessingml.document")
        );
        assert_eq!(detect(b"PK\x03\x04 random zip", "a.zip"), None);
        assert_eq!(
            detect(b"uai;nom\n0350001A;Coll\xc3\xa8ge", "liste.CSV"),
            Some("text/csv")
        );
        assert_eq!(detect(b"notes", "notes.txt"), Some("text/plain"));
        assert_eq!(detect(b"MZ\x90\x00\x03", "setup.pdf"), None);
        assert_eq!(detect(b"", "vide.txt"), None);
    }

    #[test]
    fn names_are_reduced_to_a_safe_file_name() {
        assert_eq!(sanitize_name("../../etc/passwd"), "passwd");
        assert_eq!(
            sanitize_name("C:\\scans\\convention signée.pdf"),
            "convention signée.pdf"
        );
        assert_eq!(sanitize_name(".htaccess"), "htaccess");
        assert_eq!(sanitize_name("a<b>\"c\".pdf"), "a_b__c_.pdf");
        assert_eq!(sanitize_name("   "), "piece");
        assert_eq!(sanitize_name(&"x".repeat(300)).len(), 120);
    }
}
