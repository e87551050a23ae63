//! The lazy BTF parse (`Btf::parse_lazy`, used by `surface`) held to the
//! eager one on the same bytes: a layout error is the eager parse's error;
//! after every type is read, the deferred error is the eager parse's error
//! (none when that succeeds); a type that fails its check is never returned.
#![no_main]
use bpfabi::btf::Btf;
use bpfabi::bytes::Bytes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let eager = Btf::parse(Bytes::from_vec(data.to_vec()));
    let lazy = Btf::parse_lazy(Bytes::from_vec(data.to_vec()));
    match (&eager, lazy) {
        (_, Ok(l)) => {
            for t in l.types() {
                let _ = (t.name(), t.members().count(), t.params().count(), t.enumerators().count());
            }
            let _ = l.validate();
            match (&eager, l.deferred_error()) {
                (Ok(_), None) => {}
                (Err(e), Some(d)) => assert_eq!((d.offset, &d.what), (e.offset, &e.what)),
                (Ok(_), Some(d)) => panic!("lazy parse defers an error the eager one does not see: {d}"),
                (Err(e), None) => panic!("eager parse fails ({e}) but reading every lazy type finds nothing"),
            }
        }
        (Err(e), Err(l)) => assert_eq!((l.offset, &l.what), (e.offset, &e.what)),
        (Ok(_), Err(l)) => panic!("lazy parse fails where the eager one succeeds: {l}"),
    }
});
