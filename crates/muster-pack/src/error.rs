use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum PackError {
    #[error("{0}")]
    Io(String),
    #[error("cannot encode the pack: {0}")]
    Encode(String),
    #[error("the signing key at {path} cannot be used: {why}")]
    Key { path: PathBuf, why: String },
    #[error("{dir} already holds files; the pack is written to a new or empty directory")]
    NotEmpty { dir: PathBuf },
    #[error("cannot render the PDF: {0}")]
    Pdf(String),
    #[error("{dir} is not a pack: {why}")]
    NotAPack { dir: PathBuf, why: String },
}
