//! apt texts bpfabi reads: sources (one-line and deb822), `apt-cache show`
//! stanzas and their dependency lists, Debian version ordering.
#![no_main]
use bpfabi::kernel::debian::{apt, sources, version};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let a = sources::parse_list(&text, "fuzz.list");
    let b = sources::parse_deb822(&text, "fuzz.sources");
    let _ = sources::derive(&[a, b].concat(), Some("bookworm"));
    for s in apt::parse_stanzas(&text) {
        let _ = s.depends_list();
        let _ = s.deb_file_name();
    }
    let mut words = text.split_whitespace();
    if let (Some(x), Some(y)) = (words.next(), words.next()) {
        let _ = version::compare(x, y);
    }
});
