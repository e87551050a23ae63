//! The machine's own apt sources (`/etc/apt/sources.list`, `*.list` and
//! deb822 `*.sources` in `sources.list.d`), read to derive the Debian
//! archive and security URIs and the keyring bpfabi's private apt
//! configuration uses: bpfabi never names a mirror itself.

use std::path::Path;

/// One enabled `deb` source (a one-line entry or a deb822 stanza).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// URIs.
    pub uris: Vec<String>,
    /// Suites.
    pub suites: Vec<String>,
    /// Components.
    pub components: Vec<String>,
    /// Keyring.
    pub signed_by: Option<String>,
    /// The file it came from.
    pub file: String,
}

/// Parse a one-line style file (`deb [opts] uri suite comp...`).
pub fn parse_list(text: &str, file: &str) -> Vec<Source> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let mut words = line.split_whitespace().peekable();
        if words.next() != Some("deb") {
            continue;
        }
        let mut signed_by = None;
        if words.peek().is_some_and(|w| w.starts_with('[')) {
            // Options run until the word ending in ']'.
            for w in words.by_ref() {
                let opt = w.trim_start_matches('[').trim_end_matches(']');
                if let Some(v) = opt.strip_prefix("signed-by=") {
                    signed_by = Some(v.to_string());
                }
                if w.ends_with(']') {
                    break;
                }
            }
        }
        let (Some(uri), Some(suite)) = (words.next(), words.next()) else { continue };
        out.push(Source {
            uris: vec![uri.to_string()],
            suites: vec![suite.to_string()],
            components: words.map(str::to_string).collect(),
            signed_by,
            file: file.to_string(),
        });
    }
    out
}

/// Parse a deb822 `.sources` file (blank-line separated stanzas).
pub fn parse_deb822(text: &str, file: &str) -> Vec<Source> {
    let mut out = Vec::new();
    let mut stanza: Vec<(String, String)> = Vec::new();
    let flush = |stanza: &mut Vec<(String, String)>, out: &mut Vec<Source>| {
        let get = |k: &str| stanza.iter().find(|(f, _)| f.eq_ignore_ascii_case(k)).map(|(_, v)| v.clone());
        let words = |k: &str| get(k).map(|v| v.split_whitespace().map(str::to_string).collect::<Vec<_>>()).unwrap_or_default();
        let enabled = get("Enabled").is_none_or(|v| !v.trim().eq_ignore_ascii_case("no"));
        if enabled && words("Types").iter().any(|t| t == "deb") {
            let signed_by = get("Signed-By").map(|v| v.trim().to_string()).filter(|v| v.starts_with('/'));
            out.push(Source { uris: words("URIs"), suites: words("Suites"), components: words("Components"), signed_by, file: file.to_string() });
        }
        stanza.clear();
    };
    for line in text.lines() {
        if line.trim().is_empty() {
            flush(&mut stanza, &mut out);
            continue;
        }
        if line.starts_with('#') {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            // Continuation line (e.g. an inline key): append.
            if let Some((_, v)) = stanza.last_mut() {
                v.push('\n');
                v.push_str(line.trim());
            }
            continue;
        }
        if let Some((k, v)) = line.split_once(':') {
            stanza.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    flush(&mut stanza, &mut out);
    out
}

/// Every enabled `deb` source under `root` (normally `/`).
pub fn read_sources(root: &Path) -> Vec<Source> {
    let etc = root.join("etc/apt");
    let mut out = Vec::new();
    let list = etc.join("sources.list");
    if let Ok(t) = std::fs::read_to_string(&list) {
        out.extend(parse_list(&t, &list.display().to_string()));
    }
    let mut parts: Vec<_> = std::fs::read_dir(etc.join("sources.list.d")).map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
    parts.sort();
    for p in parts {
        let name = p.display().to_string();
        let Ok(t) = std::fs::read_to_string(&p) else { continue };
        if name.ends_with(".list") {
            out.extend(parse_list(&t, &name));
        } else if name.ends_with(".sources") {
            out.extend(parse_deb822(&t, &name));
        }
    }
    out
}

/// The codename of the installed release (`VERSION_CODENAME` in os-release).
pub fn os_codename(root: &Path) -> Option<String> {
    let t = std::fs::read_to_string(root.join("etc/os-release")).ok()?;
    t.lines().find_map(|l| l.strip_prefix("VERSION_CODENAME=")).map(|v| v.trim_matches('"').to_string()).filter(|v| !v.is_empty())
}

/// Debian release codenames this derivation recognises as the main archive.
const DEBIAN_SUITES: &[&str] = &["buster", "bullseye", "bookworm", "trixie", "forky", "duke", "sid", "stable", "oldstable", "testing", "unstable"];

/// The archive URIs bpfabi's apt configuration uses, derived from the
/// machine's own sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Archive {
    /// Main archive (`.../debian`).
    pub uri: String,
    /// Security archive (`.../debian-security`), when the machine has one.
    pub security_uri: Option<String>,
    /// Keyring for Signed-By.
    pub keyring: Option<String>,
    /// Where the main URI was found (for messages).
    pub from: String,
}

/// Derive the archive from sources: the main URI is that of the source
/// whose suites include the installed codename (as
/// `scripts/debian-archive-uri` does), else of any source with a Debian
/// codename suite; the security URI that of a `<codename>-security` suite.
pub fn derive(sources: &[Source], codename: Option<&str>) -> Option<Archive> {
    let is_main = |s: &Source| match codename {
        Some(c) => s.suites.iter().any(|x| x == c),
        None => false,
    };
    let is_debian = |s: &Source| s.suites.iter().any(|x| DEBIAN_SUITES.contains(&x.split('-').next().unwrap_or("")) && !x.ends_with("-security"));
    let main = sources.iter().find(|s| is_main(s)).or_else(|| sources.iter().find(|s| is_debian(s)))?;
    let uri = main.uris.first()?.trim_end_matches('/').to_string();
    let security = sources.iter().find(|s| s.suites.iter().any(|x| x.ends_with("-security")));
    let keyring = main.signed_by.clone().or_else(|| security.and_then(|s| s.signed_by.clone())).or_else(|| {
        let k = "/usr/share/keyrings/debian-archive-keyring.gpg";
        Path::new(k).is_file().then(|| k.to_string())
    });
    Some(Archive { uri, security_uri: security.and_then(|s| s.uris.first()).map(|u| u.trim_end_matches('/').to_string()), keyring, from: main.file.clone() })
}

/// The machine's archive: sources under `/`, codename from `/etc/os-release`.
pub fn machine_archive() -> Option<Archive> {
    let root = Path::new("/");
    derive(&read_sources(root), os_codename(root).as_deref())
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEB822: &str = "Types: deb\n# a comment\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb-src\nURIs: http://src.example/debian\nSuites: bookworm\n\nTypes: deb\nEnabled: no\nURIs: http://off.example/debian\nSuites: bookworm\n";

    #[test]
    fn deb822_stanzas() {
        let s = parse_deb822(DEB822, "x.sources");
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].uris, vec!["http://mirror.example/debian"]);
        assert_eq!(s[0].suites, vec!["bookworm", "bookworm-updates"]);
        assert_eq!(s[1].suites, vec!["bookworm-security"]);
    }

    #[test]
    fn one_line_entries() {
        let t = "# c\ndeb http://a.example/debian bookworm-backports main\ndeb [arch=amd64 signed-by=/k.gpg] https://b.example/apt cloud-sdk main\ndeb-src http://c.example/debian bookworm main\n";
        let s = parse_list(t, "x.list");
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].suites, vec!["bookworm-backports"]);
        assert_eq!(s[1].uris, vec!["https://b.example/apt"]);
        assert_eq!(s[1].signed_by.as_deref(), Some("/k.gpg"));
    }

    #[test]
    fn derivation_from_fixture_tree() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/apt-root");
        let sources = read_sources(&root);
        assert_eq!(os_codename(&root).as_deref(), Some("bookworm"));
        let a = derive(&sources, Some("bookworm")).expect("archive");
        assert_eq!(a.uri, "http://mirror.example/debian");
        assert_eq!(a.security_uri.as_deref(), Some("http://mirror.example/debian-security"));
        assert_eq!(a.keyring.as_deref(), Some("/usr/share/keyrings/debian-archive-keyring.gpg"));
        // Without the codename: any Debian suite will do; third-party sources never.
        let b = derive(&sources, Some("nonexistent")).expect("archive");
        assert_eq!(b.uri, "http://mirror.example/debian");
        let only_third_party = parse_list("deb https://b.example/apt cloud-sdk main\n", "x");
        assert_eq!(derive(&only_third_party, Some("bookworm")), None);
    }
}
