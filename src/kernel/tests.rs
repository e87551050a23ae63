//! Unit tests of the kernel input layer's path rules.

use super::is_image_path;

#[test]
fn image_paths_of_debian_6_and_7_packages() {
    // Debian <= 6.x linux-image-*: boot/vmlinuz-RELEASE.
    assert!(is_image_path("./boot/vmlinuz-6.1.0-56-amd64"));
    assert!(is_image_path("boot/vmlinux-6.12.117+deb13-s390x"));
    // Debian 7.x linux-binary-*: usr/lib/modules/RELEASE/vmlinuz.
    assert!(is_image_path("./usr/lib/modules/7.2.13+deb14-amd64/vmlinuz"));
    assert!(is_image_path("lib/modules/7.2.13+deb14-amd64/vmlinuz"));
    // Not images: a module, a System.map, a file called vmlinuz elsewhere.
    assert!(!is_image_path("./usr/lib/modules/7.2.13+deb14-amd64/kernel/net/ipv4/tcp_bbr.ko.xz"));
    assert!(!is_image_path("./boot/System.map-6.1.0-56-amd64"));
    assert!(!is_image_path("./usr/share/doc/vmlinuz"));
    assert!(!is_image_path("./usr/lib/modules/extra/vmlinuz"));
    assert!(!is_image_path("vmlinuz"));
}

#[test]
fn config_paths_of_debian_6_and_7_packages() {
    use super::is_config_path;
    // Debian <= 6.x linux-image-*: boot/config-RELEASE.
    assert!(is_config_path("./boot/config-6.1.0-56-amd64"));
    // Debian 7.x linux-base-*: usr/lib/modules/RELEASE/config.
    assert!(is_config_path("./usr/lib/modules/7.2.13+deb14-amd64/config"));
    assert!(!is_config_path("./usr/lib/modules/7.2.13+deb14-amd64/modules.order"));
    assert!(!is_config_path("./usr/lib/modules/extra/config"));
    assert!(!is_config_path("./usr/share/doc/linux-base-7.2.13+deb14-amd64/config"));
    assert!(!is_config_path("config"));
}

/// A directory's meta.json is read once per load, but a rewritten one is
/// read again (its size or modification time changed), and one removed
/// gives no release.
#[test]
fn meta_json_read_again_when_it_changes() {
    let dir = std::env::temp_dir().join(format!("bpfabi-meta-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let meta = dir.join("meta.json");
    std::fs::write(&meta, r#"{"kernel_release": "6.1.0-56-amd64"}"#).unwrap();
    assert_eq!(super::meta_release(&dir).as_deref(), Some("6.1.0-56-amd64"));
    assert_eq!(super::meta_release(&dir).as_deref(), Some("6.1.0-56-amd64"));
    assert!(!super::meta_catalog(&dir));
    std::fs::write(&meta, r#"{"kernel_release": "6.12.117+deb13-amd64", "catalog": true}"#).unwrap();
    assert_eq!(super::meta_release(&dir).as_deref(), Some("6.12.117+deb13-amd64"));
    assert!(super::meta_catalog(&dir));
    std::fs::remove_file(&meta).unwrap();
    assert_eq!(super::meta_release(&dir), None);
    // A FIFO named meta.json is not waited on.
    if std::process::Command::new("mkfifo").arg(&meta).status().is_ok_and(|s| s.success()) {
        let (tx, rx) = std::sync::mpsc::channel();
        let d = dir.clone();
        std::thread::spawn(move || {
            let _ = tx.send(super::meta_release(&d));
        });
        assert_eq!(rx.recv_timeout(std::time::Duration::from_secs(20)), Ok(None));
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// A module's `.btf_ids` beside it is read when it is a regular file, and
/// skipped when it is not: a FIFO of that name would block the open until
/// a writer came, a directory has nothing to read.
#[cfg(unix)]
#[test]
fn sibling_btf_ids_only_from_a_regular_file() {
    let dir = std::env::temp_dir().join(format!("bpfabi-sibling-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("a.btf_ids"), [1u8, 2, 3]).unwrap();
    assert_eq!(super::sibling_btf_ids(&dir.join("a.btf")).map(|b| b.as_slice().to_vec()), Some(vec![1, 2, 3]));
    assert!(super::sibling_btf_ids(&dir.join("missing.btf")).is_none());
    std::fs::create_dir_all(dir.join("d.btf_ids")).unwrap();
    assert!(super::sibling_btf_ids(&dir.join("d.btf")).is_none());
    let made = std::process::Command::new("mkfifo").arg(dir.join("f.btf_ids")).status().is_ok_and(|s| s.success());
    if made {
        // Opened, this would wait for a writer for ever: asked on a thread,
        // so that the test fails instead of hanging.
        let (tx, rx) = std::sync::mpsc::channel();
        let f = dir.join("f.btf");
        std::thread::spawn(move || {
            let _ = tx.send(super::sibling_btf_ids(&f).is_none());
        });
        assert_eq!(rx.recv_timeout(std::time::Duration::from_secs(20)), Ok(true), "a FIFO sibling is skipped, not opened");
    }
    let _ = std::fs::remove_dir_all(&dir);
}
