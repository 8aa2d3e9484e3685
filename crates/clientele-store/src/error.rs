use thiserror::Error;

/// A failure of the store itself (not a refused command).
#[derive(Debug, Error)]
pub enum StoreError {
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("configuration error: {0}")]
    Config(String),
}

/// Why a command did not take effect.
#[derive(Debug, Error)]
pub enum CommandError<E: std::error::Error> {
    /// The aggregate refused the command.
    #[error(transparent)]
    Rejected(E),
    /// Another aggregate of the tenant already holds this unique value.
    #[error("another customer already has this {field}")]
    Duplicate { field: &'static str },
    /// No such aggregate in the caller's tenant.
    #[error("not found")]
    NotFound,
    /// Other writers kept changing the aggregate; the command was tried several times.
    #[error("the aggregate kept changing concurrently; try again")]
    Contended,
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl<E: std::error::Error> From<sqlx::Error> for CommandError<E> {
    fn from(error: sqlx::Error) -> Self {
        CommandError::Store(StoreError::Database(error))
    }
}
