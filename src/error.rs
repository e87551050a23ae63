//! Error type shared by every reader: which input, at which byte offset, and
//! what was expected there. Readers produce [`ReadError`] (no file name, they
//! only see bytes); the layer that opened the file attaches the name with
//! [`ReadError::in_file`].

use std::fmt;

/// A problem found while decoding bytes, before the file name is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    /// Byte offset inside the decoded object (e.g. the BTF blob), if it applies.
    pub offset: Option<u64>,
    /// What was expected / what is wrong, in words.
    pub what: String,
}

impl ReadError {
    pub fn at(offset: usize, what: impl Into<String>) -> Self {
        ReadError { offset: Some(offset as u64), what: what.into() }
    }
    pub fn msg(what: impl Into<String>) -> Self {
        ReadError { offset: None, what: what.into() }
    }
    /// Attach the name of the input this came from.
    pub fn in_file(self, file: impl Into<String>) -> Error {
        Error { file: file.into(), offset: self.offset, what: self.what }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(o) => write!(f, "at offset {o:#x}: {}", self.what),
            None => f.write_str(&self.what),
        }
    }
}

impl std::error::Error for ReadError {}

/// An error about a named input: `FILE: at offset 0x..: expected ...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Error {
    pub file: String,
    pub offset: Option<u64>,
    pub what: String,
}

impl Error {
    pub fn new(file: impl Into<String>, what: impl Into<String>) -> Self {
        Error { file: file.into(), offset: None, what: what.into() }
    }
    pub fn io(file: impl Into<String>, e: std::io::Error) -> Self {
        Error::new(file, e.to_string())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(o) => write!(f, "{}: at offset {o:#x}: {}", self.file, self.what),
            None => write!(f, "{}: {}", self.file, self.what),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;
