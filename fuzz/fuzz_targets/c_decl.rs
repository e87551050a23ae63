//! C declaration text (kfunc prototypes as surfaces print them and policy
//! manifests store them): the reader, then the writer on what it read, and
//! the reader again on that text.
#![no_main]
use bpfabi::ctype::Decl;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(d) = text.parse::<Decl>() {
        let _ = d.tagged();
        let _ = d.takes_args();
        let _ = d.to_string().parse::<Decl>();
    }
});
