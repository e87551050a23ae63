//! Printers for a kernel's BPF surface: table, JSON, C header.

use super::json_text::{boolean as json_bool, string as json_str, uint as json_uint};
use super::{count, write_table};
use crate::ctype::Tag;
use crate::surface::{Helper, Kfunc, Surface};
use std::io::{self, Write};

/// Version of the `surface --json` document (see docs/json-schema.md).
pub const SCHEMA: &str = "bpfabi.surface/1";

/// The surface as a `bpfabi.surface/1` JSON document.
pub fn json(w: &mut dyn Write, s: &Surface) -> io::Result<()> {
    // The same document as `write_json_buffered(w, SCHEMA, s)`: `schema`,
    // then the fields of `Surface` in their order, spelled out rather than
    // flattened (serde's flatten goes through a map serializer, a third of
    // the time of the whole document).
    #[derive(serde::Serialize)]
    struct Doc<'a> {
        schema: &'a str,
        kernel: &'a crate::surface::KernelInfo,
        discovery: &'a crate::surface::Discovery,
        kfuncs: &'a [Kfunc],
        helpers: &'a [Helper],
        helper_max_id: Option<u32>,
        notes: &'a [crate::kernel::Note],
    }
    let Surface { kernel, discovery, kfuncs, helpers, helper_max_id, notes } = s;
    // Everything but the kfuncs and helpers as serde writes it (both
    // lists empty), then the two lists as serde would write them
    // (`write_kfuncs`, `write_helpers`: most of the document, and most of
    // its time through serde) in their place.
    let head = Doc { schema: SCHEMA, kernel, discovery, kfuncs: &[], helpers: &[], helper_max_id: *helper_max_id, notes };
    let mut doc = Vec::with_capacity(16 * 1024);
    serde_json::to_writer_pretty(&mut doc, &head).map_err(io::Error::from)?;
    const LISTS: &[u8] = b"\n  \"kfuncs\": [],\n  \"helpers\": [],";
    // As write_json_buffered: 128 KiB, a live 6.18 document (86 KB) in one
    // allocation of fresh pages.
    let mut buf = Vec::with_capacity(128 * 1024);
    // The top level's keys are the only lines indented by two spaces (a
    // newline in a string is written `\n`): the lists are found once.
    match memchr::memmem::find(&doc, LISTS) {
        Some(at) => {
            buf.extend_from_slice(doc.get(..at).unwrap_or_default());
            buf.extend_from_slice(b"\n  \"kfuncs\": ");
            write_kfuncs(&mut buf, kfuncs)?;
            buf.extend_from_slice(b",\n  \"helpers\": ");
            write_helpers(&mut buf, helpers)?;
            buf.push(b',');
            buf.extend_from_slice(doc.get(at + LISTS.len()..).unwrap_or_default());
        }
        None => {
            let doc = Doc { kfuncs, helpers, ..head };
            serde_json::to_writer_pretty(&mut buf, &doc).map_err(io::Error::from)?;
        }
    }
    buf.push(b'\n');
    w.write_all(&buf)
}

/// An array as serde_json's pretty printer writes it at nesting `depth`
/// (its items one level deeper, each written by `item`): `[]` when empty.
fn array<T>(b: &mut Vec<u8>, depth: usize, items: impl IntoIterator<Item = T>, mut item: impl FnMut(&mut Vec<u8>, T) -> io::Result<()>) -> io::Result<()> {
    let mut any = false;
    for x in items {
        b.extend_from_slice(if any { b",\n" } else { b"[\n" });
        b.resize(b.len() + 2 * (depth + 1), b' ');
        item(b, x)?;
        any = true;
    }
    if any {
        b.push(b'\n');
        b.resize(b.len() + 2 * depth, b' ');
        b.push(b']');
    } else {
        b.extend_from_slice(b"[]");
    }
    Ok(())
}

/// The `kfuncs` array exactly as serde_json's pretty printer writes it as
/// a value of the top-level object (the test `json_as_serde_writes_it`
/// holds it to that).
fn write_kfuncs(b: &mut Vec<u8>, kfuncs: &[Kfunc]) -> io::Result<()> {
    // Each prototype's text, in one buffer reused (no `fmt`, no
    // allocation per kfunc).
    let mut text = String::with_capacity(256);
    array(b, 1, kfuncs, |b, k| {
        // Every field named, none with `..`: a field added to `Kfunc`
        // does not compile here until this writer spells it too.
        let Kfunc { name, btf_id, module, proto, flags, flags_raw, flags_known, source, sources, fastcall, impl_pair } = k;
        b.extend_from_slice(b"{\n      \"name\": ");
        json_str(b, name)?;
        b.extend_from_slice(b",\n      \"btf_id\": ");
        json_uint(b, btf_id.0.into())?;
        b.extend_from_slice(b",\n      \"module\": ");
        match module {
            Some(m) => json_str(b, m)?,
            None => b.extend_from_slice(b"null"),
        }
        b.extend_from_slice(b",\n      \"proto\": ");
        text.clear();
        proto.write_to(&mut text);
        json_str(b, &text)?;
        b.extend_from_slice(b",\n      \"flags\": ");
        array(b, 3, flags, |b, f| json_str(b, f))?;
        b.extend_from_slice(b",\n      \"flags_raw\": ");
        json_uint(b, (*flags_raw).into())?;
        b.extend_from_slice(b",\n      \"flags_known\": ");
        json_bool(b, *flags_known)?;
        b.extend_from_slice(b",\n      \"source\": ");
        json_str(b, source.as_str())?;
        b.extend_from_slice(b",\n      \"sources\": ");
        array(b, 3, sources, |b, s| json_str(b, s.as_str()))?;
        b.extend_from_slice(b",\n      \"fastcall\": ");
        json_bool(b, *fastcall)?;
        if let Some(p) = impl_pair {
            b.extend_from_slice(b",\n      \"impl_pair\": ");
            json_str(b, p)?;
        }
        b.extend_from_slice(b"\n    }");
        Ok(())
    })
}

/// The `helpers` array as serde_json's pretty printer writes it.
fn write_helpers(b: &mut Vec<u8>, helpers: &[Helper]) -> io::Result<()> {
    array(b, 1, helpers, |b, h| {
        let Helper { name, id } = h;
        b.extend_from_slice(b"{\n      \"name\": ");
        json_str(b, name)?;
        b.extend_from_slice(b",\n      \"id\": ");
        json_uint(b, (*id).into())?;
        b.extend_from_slice(b"\n    }");
        Ok(())
    })
}

/// Tables of kfuncs and/or helpers under a one-line kernel summary.
pub fn table(w: &mut dyn Write, s: &Surface, kfuncs: bool, helpers: bool) -> io::Result<()> {
    let k = &s.kernel;
    writeln!(
        w,
        "kernel {} (flags named for {}{}), {} vmlinux types, {}; kfunc evidence: {} decl tags, .BTF_ids {}\n",
        k.release.as_deref().unwrap_or("(release unknown)"),
        k.version,
        if k.version_assumed { ", assumed" } else { "" },
        k.btf_types,
        count(k.modules.len(), "module", "modules"),
        s.discovery.decl_tags,
        match s.discovery.btf_ids {
            "no_kfunc_sets" => format!("present ({} bytes), no kfunc set8 records", s.discovery.btf_ids_bytes),
            other => other.to_string(),
        },
    )?;
    // An ignored --release is a warning on stderr already.
    let notes: Vec<_> = s.notes.iter().filter(|n| n.kind != crate::kernel::NoteKind::ReleaseIgnored).collect();
    for n in &notes {
        writeln!(w, "note: {}", n.text)?;
    }
    if !notes.is_empty() {
        writeln!(w)?;
    }
    if kfuncs {
        let rows: Vec<Vec<String>> = s
            .kfuncs
            .iter()
            .map(|f| {
                vec![
                    f.name.clone(),
                    f.module.clone().unwrap_or_else(|| "vmlinux".into()),
                    f.source.as_str().to_string(),
                    if !f.flags_known {
                        "?".into()
                    } else if f.flags.is_empty() {
                        "-".into()
                    } else {
                        f.flags.join("|")
                    },
                    f.proto.to_string(),
                ]
            })
            .collect();
        writeln!(w, "{}", count(rows.len(), "kfunc", "kfuncs"))?;
        if !rows.is_empty() {
            write_table(w, &["NAME", "ORIGIN", "SOURCE", "FLAGS", "PROTOTYPE"], &rows)?;
        }
    }
    if kfuncs && helpers {
        writeln!(w)?;
    }
    if helpers {
        let rows: Vec<Vec<String>> = s.helpers.iter().map(|h| vec![h.id.to_string(), h.name.clone()]).collect();
        writeln!(w, "{} (highest id {})", count(rows.len(), "helper", "helpers"), s.helper_max_id.map(|m| m.to_string()).unwrap_or_else(|| "?".into()))?;
        if !rows.is_empty() {
            write_table(w, &["ID", "NAME"], &rows)?;
        }
    }
    Ok(())
}

/// A header of `extern ... __ksym;` kfunc declarations for BPF C. Types come
/// from the kernel's `vmlinux.h`, which must be included first; every
/// struct/union/enum a prototype names is forward-declared at file scope, so
/// types that only modules define (not in `vmlinux.h`) are the same type in
/// the program and in the declaration.
pub fn c_header(w: &mut dyn Write, s: &Surface) -> io::Result<()> {
    let release = s.kernel.release.as_deref().unwrap_or("unknown kernel");
    writeln!(w, "/* kfuncs of {release}, generated by bpfabi. Include vmlinux.h first. */")?;
    w.write_all(b"#ifndef __BPFABI_KFUNCS_H__\n#define __BPFABI_KFUNCS_H__\n\n")?;
    w.write_all(b"#ifndef __ksym\n#define __ksym __attribute__((section(\".ksyms\")))\n#endif\n")?;
    w.write_all(b"#ifndef __weak\n#define __weak __attribute__((weak))\n#endif\n")?;
    w.write_all(b"#ifndef __bpf_fastcall\n#if __has_attribute(bpf_fastcall)\n#define __bpf_fastcall __attribute__((bpf_fastcall))\n#else\n#define __bpf_fastcall\n#endif\n#endif\n")?;
    // File-scope forward declarations of every tagged type the prototypes
    // name (a `struct x` first seen inside a parameter list would be a new
    // type scoped to that declaration). Enums cannot be forward-declared in
    // C; they only appear by value and come from vmlinux.h.
    let mut tags: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
    for f in &s.kfuncs {
        tags.extend(f.proto.tagged().into_iter().filter(|&(t, _)| t != Tag::Enum).map(|(t, n)| format!("{} {n}", t.keyword())));
    }
    if !tags.is_empty() {
        w.write_all(b"\n")?;
        for t in &tags {
            writeln!(w, "{t};")?;
        }
    }
    let mut origin: Option<Option<&str>> = None;
    for f in &s.kfuncs_by_origin() {
        if origin != Some(f.module.as_deref()) {
            origin = Some(f.module.as_deref());
            writeln!(w, "\n/* {} */", f.module.as_deref().map(|m| format!("module {m}")).unwrap_or_else(|| "vmlinux".into()))?;
        }
        if !f.flags.is_empty() {
            writeln!(w, "/* {} */", f.flags.join(" | "))?;
        }
        let fastcall = if f.fastcall { " __bpf_fastcall" } else { "" };
        writeln!(w, "extern {} __weak __ksym{fastcall};", f.proto)?;
    }
    w.write_all(b"\n#endif /* __BPFABI_KFUNCS_H__ */\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::btf::TypeId;
    use crate::ctype::{Decl, FuncProto, Param, TypeRef};
    use crate::kernel::{Note, NoteKind};
    use crate::surface::{Discovery, KernelInfo, Source};

    #[test]
    fn json_as_serde_writes_it() {
        // Every byte that needs escaping; non-ASCII text; DEL (not escaped).
        let nasty: String = (0u8..0x20).map(char::from).chain("\"\\/é→\u{7f}x".chars()).collect();
        let kfunc = |name: &str, module: Option<&str>, flags: &[&str], sources: Vec<Source>, impl_pair: Option<&str>| Kfunc {
            name: name.into(),
            btf_id: TypeId(77),
            module: module.map(str::to_string),
            proto: Decl::new(
                name,
                TypeRef::Func(
                    FuncProto::new(TypeRef::Int("int".into()), vec![Param::new("p", TypeRef::Ptr(TypeRef::Struct(nasty.clone()).into()))], false).into(),
                ),
            ),
            flags: flags.iter().map(|f| f.to_string()).collect(),
            flags_raw: 0x8001,
            flags_known: module.is_none(),
            source: sources.first().copied().unwrap_or(Source::Heuristic),
            sources,
            fastcall: impl_pair.is_some(),
            impl_pair: impl_pair.map(str::to_string),
        };
        let kfuncs = vec![
            kfunc("bpf_a", None, &[], vec![Source::DeclTag, Source::BtfIds], None),
            kfunc(&nasty, Some("nf_conntrack"), &["KF_ACQUIRE", "KF_RET_NULL"], vec![Source::Heuristic], Some("bpf_a_impl")),
            kfunc("bpf_b_impl", Some(&nasty), &["KF_X"], vec![], Some(&nasty)),
        ];
        let helpers = vec![Helper { name: "bpf_map_lookup_elem".into(), id: 1 }, Helper { name: nasty.clone(), id: 211 }];
        let kernel = KernelInfo {
            release: Some(nasty.clone()),
            version: "6.18".into(),
            version_assumed: false,
            inputs: vec!["a".into(), nasty.clone()],
            modules: vec!["m".into()],
            btf_types: 5,
        };
        let discovery = Discovery { decl_tags: 1, btf_ids: "kfunc_flag", set8_records: 2, btf_ids_bytes: 3 };
        for (kfuncs, helpers, max, notes) in [
            (kfuncs.clone(), helpers.clone(), Some(211), vec![Note { kind: NoteKind::BtfIdsSource, text: nasty.clone() }]),
            (Vec::new(), Vec::new(), None, Vec::new()),
            (kfuncs, Vec::new(), None, Vec::new()),
            (Vec::new(), helpers, Some(1), Vec::new()),
        ] {
            let s = Surface { kernel: kernel.clone(), discovery: discovery.clone(), kfuncs, helpers, helper_max_id: max, notes };
            let (mut ours, mut serde) = (Vec::new(), Vec::new());
            json(&mut ours, &s).unwrap();
            crate::report::write_json(&mut serde, SCHEMA, &s).unwrap();
            assert_eq!(String::from_utf8(ours).unwrap(), String::from_utf8(serde).unwrap());
        }
    }
}
