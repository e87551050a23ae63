//! Error type shared by every reader: which input, at which byte offset, what
//! was expected there, and a [`ErrorKind`] a caller can match on. Readers
//! produce [`ReadError`] (no file name, they only see bytes); the layer that
//! opened the file attaches the name with [`ReadError::in_file`]. Nothing in
//! the crate inspects message text: decisions are made on the kind.

use std::fmt;
use std::sync::Arc;

/// What went wrong, for callers that react differently to different errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The input could not be read (open, read, mmap).
    Io,
    /// The bytes are not BTF (no magic, unknown version).
    NotBtf,
    /// An ELF file (kernel, module, object) without a `.BTF` section.
    NoBtfSection,
    /// The input is not of the kind expected here (e.g. a BPF object given as
    /// a kernel, a package without a kernel).
    WrongInput,
    /// The format is recognised but the content breaks its rules.
    Malformed,
    /// Split (module) BTF read without the base BTF it continues.
    SplitBtf,
    /// A valid input using something this version does not read.
    Unsupported,
    /// A size limit was reached (decompression, nesting, member size).
    TooLarge,
    /// Inputs that contradict each other (a `.BTF_ids` of another kernel, a
    /// probe file of another kernel, a second vmlinux).
    Mismatch,
    /// A name (type, kernel, release) that does not exist or does not parse.
    NotFound,
    /// Writing output failed.
    Write,
    /// Downloading from a package archive failed (the package is listed but
    /// the mirror does not serve it, or the network is down).
    Fetch,
}

impl ErrorKind {
    /// Stable lower-case name, as printed in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Io => "io",
            ErrorKind::NotBtf => "not_btf",
            ErrorKind::NoBtfSection => "no_btf_section",
            ErrorKind::WrongInput => "wrong_input",
            ErrorKind::Malformed => "malformed",
            ErrorKind::SplitBtf => "split_btf",
            ErrorKind::Unsupported => "unsupported",
            ErrorKind::TooLarge => "too_large",
            ErrorKind::Mismatch => "mismatch",
            ErrorKind::NotFound => "not_found",
            ErrorKind::Write => "write",
            ErrorKind::Fetch => "fetch",
        }
    }
}

/// A problem found while decoding bytes, before the file name is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError {
    /// What kind of problem.
    pub kind: ErrorKind,
    /// Byte offset inside the decoded object (e.g. the BTF blob), if it applies.
    pub offset: Option<u64>,
    /// What was expected / what is wrong, in words.
    pub what: String,
}

impl ReadError {
    /// A malformed input at `offset`.
    pub fn at(offset: usize, what: impl Into<String>) -> Self {
        ReadError { kind: ErrorKind::Malformed, offset: Some(offset as u64), what: what.into() }
    }
    /// A malformed input, no particular offset.
    pub fn msg(what: impl Into<String>) -> Self {
        ReadError { kind: ErrorKind::Malformed, offset: None, what: what.into() }
    }
    /// The same error with another kind.
    pub fn with_kind(mut self, kind: ErrorKind) -> Self {
        self.kind = kind;
        self
    }
    /// Attach the name of the input this came from.
    pub fn in_file(self, file: impl Into<String>) -> Error {
        Error { kind: self.kind, file: file.into(), offset: self.offset, what: self.what, source: None }
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
#[derive(Debug, Clone)]
pub struct Error {
    /// What kind of problem.
    pub kind: ErrorKind,
    /// The input (path, `package.deb:member`, `/sys/kernel/btf/vmlinux`).
    pub file: String,
    /// Byte offset in that input, if it applies.
    pub offset: Option<u64>,
    /// What was expected / what is wrong, in words.
    pub what: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl PartialEq for Error {
    fn eq(&self, o: &Self) -> bool {
        self.kind == o.kind && self.file == o.file && self.offset == o.offset && self.what == o.what
    }
}

impl Error {
    /// An error of `kind` about `file`.
    pub fn of(kind: ErrorKind, file: impl Into<String>, what: impl Into<String>) -> Self {
        Error { kind, file: file.into(), offset: None, what: what.into(), source: None }
    }
    /// A malformed-input error about `file` (the common case for readers).
    pub fn new(file: impl Into<String>, what: impl Into<String>) -> Self {
        Error::of(ErrorKind::Malformed, file, what)
    }
    /// An I/O error while reading `file`; the `io::Error` stays reachable
    /// through [`std::error::Error::source`].
    pub fn io(file: impl Into<String>, e: std::io::Error) -> Self {
        let what = e.to_string();
        Error { kind: ErrorKind::Io, file: file.into(), offset: None, what, source: Some(Arc::new(e)) }
    }
    /// The same error at byte `offset`.
    pub fn at(mut self, offset: u64) -> Self {
        self.offset = Some(offset);
        self
    }
    /// The same error with a cause attached.
    pub fn with_source(mut self, e: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Arc::new(e));
        self
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            // An error about no input in particular (a usage error).
            None if self.file.is_empty() => f.write_str(&self.what),
            Some(o) => write!(f, "{}: at offset {o:#x}: {}", self.file, self.what),
            None => write!(f, "{}: {}", self.file, self.what),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source.as_deref().map(|e| e as &(dyn std::error::Error + 'static))
    }
}

/// `Result` with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    #[test]
    fn io_errors_keep_their_source_and_kind() {
        let e = Error::io("x", std::io::Error::new(std::io::ErrorKind::NotFound, "gone"));
        assert_eq!(e.kind, ErrorKind::Io);
        let src = e.source().and_then(|s| s.downcast_ref::<std::io::Error>()).map(|s| s.kind());
        assert_eq!(src, Some(std::io::ErrorKind::NotFound));
        assert_eq!(e.to_string(), "x: gone");
    }

    #[test]
    fn read_errors_carry_kind_into_file_errors() {
        let e = ReadError::at(16, "no .BTF").with_kind(ErrorKind::NoBtfSection).in_file("m.ko");
        assert_eq!((e.kind, e.offset), (ErrorKind::NoBtfSection, Some(16)));
        assert_eq!(e.to_string(), "m.ko: at offset 0x10: no .BTF");
    }
}
