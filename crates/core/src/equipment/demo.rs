//! The demo (filled in below).
use crate::db::Db;
use crate::error::CoreResult;

/// Loads the equipment part of the demo.
pub async fn load(_db: &Db) -> CoreResult<()> {
    Ok(())
}
