//! Reading and writing `muster.lock` for the commands that use it.

use std::path::Path;

use muster_assess::Lock;

use crate::error::CliError;

/// The lock at `path`, or an empty one when there is no file yet.
pub fn read_lock(path: &Path) -> Result<Lock, CliError> {
    match std::fs::read_to_string(path) {
        Ok(text) => Lock::parse(&text).map_err(|e| {
            CliError::input(format!("{}: {e}", path.display()))
                .hint("muster.lock is written by `muster drill`; restore it from version control if it was edited")
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Lock::default()),
        Err(e) => Err(CliError::runtime(format!("cannot read {}: {e}", path.display()))),
    }
}

/// Writes the lock through a temporary file and a rename, so a crash never leaves half a lock.
pub fn write_lock(path: &Path, lock: &Lock) -> Result<(), CliError> {
    let text = lock
        .render()
        .map_err(|e| CliError::internal(e.to_string()))?;
    let tmp = path.with_extension("lock.tmp");
    std::fs::write(&tmp, text)
        .and_then(|()| std::fs::rename(&tmp, path))
        .map_err(|e| CliError::runtime(format!("cannot write {}: {e}", path.display())))
}

/// Today's date in UTC, unless pinned.
pub fn today(pinned: Option<jiff::civil::Date>) -> jiff::civil::Date {
    pinned.unwrap_or_else(|| {
        jiff::Timestamp::now()
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .date()
    })
}
