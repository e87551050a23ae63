//! What a command does, end to end, as library functions that return typed
//! results; each result implements [`crate::report::Render`] (the formats
//! it writes, one `render` that hands it to the printers of
//! [`crate::report`]). The binary parses arguments, calls one of these and
//! renders what comes back: `check` with `--policy`, `--load` and
//! `--config` ([`check`]), `vmtest` matrices and `--compare`
//! ([`vmtest`]), the census, its impact and the report site ([`census`]).

pub mod census;
pub mod check;
pub mod inspect;
pub mod kernel;
pub mod kernels;
pub mod policy;
#[cfg(feature = "deb")]
pub mod vmtest;
