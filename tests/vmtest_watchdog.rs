//! The VM runner's watchdogs and restarts, against a fake QEMU (a shell
//! script that plays the guest's side of the protocol): a KVM boot that
//! stays silent falls back to TCG, a unit that hangs becomes `timeout`, a VM
//! that dies during a unit becomes `vm_crashed`, and each restart skips what
//! is done. No VM, no root needed.

use bpfabi::vmtest::package::BootKernel;
use bpfabi::vmtest::record::Status;
use bpfabi::vmtest::vm::{self, Accel, VmConfig};
use std::path::Path;
use std::time::Duration;

const FAKE: &str = r#"#!/usr/bin/env bash
# Fake qemu-system-x86_64: boot N behaves as $STATE/plan says.
results=""; accel=""; initrd=""
prev=""
for a in "$@"; do
  case "$prev" in
    -serial) case "$a" in file:*results.log) results="${a#file:}";; esac;;
    -machine) accel="${a#*accel=}";;
    -initrd) initrd="$a";;
  esac
  prev="$a"
done
n=$(cat "$STATE/boots" 2>/dev/null || echo 0); n=$((n+1)); echo $n > "$STATE/boots"
echo "$accel" >> "$STATE/accels"
# The job (appended cpio) says which units are already done.
grep -ao '"skip":.*,"probe"' "$initrd" | tail -1 | sed 's/,"probe"$//' >> "$STATE/skips"
m() { echo "@@bpfabi@@ $1" >> "$results"; }
rec() { # object unit status loaded
  m '{"msg":"result","object":'$1',"record":{"object":"o'$1'.bpf.o","program":"'$2'","section":"s","prog_type":"kprobe","attach_type":null,"unit":"program","loaded":'$4',"status":"'$3'","errno":0,"error":"","log":"","maps_resized":"","duration_ms":5}}'
}
hello() { m '{"msg":"hello","release":"6.1.0-fake","uptime_ms":1000,"loader":"fake"}'; }
case "$accel" in
  kvm) exec sleep 60;;   # a nested-KVM hang: no output at all
esac
case $n in
  2) hello; m '{"msg":"begin","object":0,"unit":"a"}'; rec 0 a loaded true
     m '{"msg":"begin","object":0,"unit":"b"}'; exec sleep 60;;     # b hangs
  3) hello; m '{"msg":"begin","object":1,"unit":"c"}'; exit 1;;      # c kills the VM
  *) hello; m '{"msg":"begin","object":1,"unit":"d"}'; rec 1 d rejected false
     m '{"msg":"done","uptime_ms":2000}'; exit 0;;
esac
"#;

#[test]
fn stall_timeout_crash_and_restarts() {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("fake-qemu-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let qemu = dir.join("qemu");
    std::fs::write(&qemu, FAKE).unwrap();
    std::process::Command::new("chmod").arg("+x").arg(&qemu).status().unwrap();
    // A "KVM device" that opens, so Auto tries KVM first.
    let kvm = dir.join("kvm");
    std::fs::write(&kvm, b"").unwrap();
    std::env::set_var("STATE", &dir);
    let k = BootKernel { release: "6.1.0-fake".into(), vmlinuz: vec![0; 1024], config: None, modules: vec![], missing: vec![], origin: "fake".into() };
    let objects = vec![("o0.bpf.o".to_string(), b"\x7fELF".to_vec()), ("o1.bpf.o".to_string(), b"\x7fELF".to_vec())];
    let cfg = VmConfig {
        qemu: qemu.display().to_string(),
        accel: Accel::Auto,
        kvm_device: kvm,
        kvm_stall: Duration::from_secs(2),
        unit_timeout: Duration::from_secs(2),
        boot_timeout: Duration::from_secs(20),
        init: Some("/bin/sh".into()),
        ..VmConfig::default()
    };
    let mut seen = 0;
    let run = vm::run(&k, &objects, &cfg, &mut |_| seen += 1).unwrap();
    let got: Vec<(usize, &str, Status)> = run.records.iter().map(|(o, r)| (*o, r.unit_name(), r.status)).collect();
    assert_eq!(got, [(0, "a", Status::Loaded), (0, "b", Status::Timeout), (1, "c", Status::VmCrashed), (1, "d", Status::Rejected)]);
    let ends: Vec<&str> = run.boots.iter().map(|b| b.end.as_str()).collect();
    assert_eq!(ends, ["kvm_stall", "unit_timeout", "crashed", "done"]);
    let accels: Vec<&str> = run.boots.iter().map(|b| b.accel).collect();
    assert_eq!(accels, ["kvm", "tcg", "tcg", "tcg"]);
    assert!(run.kvm_fallback.as_deref().unwrap().contains("no console output"), "{:?}", run.kvm_fallback);
    assert!(run.boots[1].hello_ms.is_some() && run.boots[1].first_load_ms.is_some());
    assert_eq!(run.loader, "fake");
    assert!(run.incomplete.is_none());
    assert!(seen >= 8);
    // Each restart's job skipped what was already done.
    let skips = std::fs::read_to_string(dir.join("skips")).unwrap();
    let lines: Vec<&str> = skips.lines().collect();
    assert_eq!(lines.len(), 4, "{skips}");
    assert_eq!(lines[1], r#""skip":[]"#);
    assert_eq!(lines[2], r#""skip":[[0,"a"],[0,"b"]]"#);
    assert_eq!(lines[3], r#""skip":[[0,"a"],[0,"b"],[1,"c"]]"#);
    let _ = std::fs::remove_dir_all(&dir);
}
