//! `inspect` end to end: what BPF objects need from a kernel, with helpers
//! and map types named by the running kernel when there is one (the
//! built-in UAPI names otherwise). [`InspectReport`] writes itself as a
//! table or JSON (`bpfabi.inspect/1`, docs/json-schema.md).

use crate::kernel::LoadOptions;
use crate::model::KernelModel;
use crate::object::BpfObject;
use crate::report::{self, Format, Render};
use std::collections::BTreeMap;
use std::io::{self, Write};

/// Objects read, and the names their ids are shown with.
pub struct InspectReport {
    /// The objects, in the order read.
    pub objects: Vec<BpfObject>,
    /// Helper names by id: the built-in UAPI names overlaid by the running
    /// kernel's.
    pub helper_names: BTreeMap<u32, String>,
    /// The running kernel, naming map types.
    running: Option<KernelModel>,
}

/// The objects as `inspect` shows them. `kernel_names`: name helpers and map
/// types from the running kernel (the table shows names; JSON has ids only
/// and needs no kernel).
pub fn inspect(objects: Vec<BpfObject>, kernel_names: bool) -> InspectReport {
    let running = if kernel_names { KernelModel::running(&LoadOptions::default()).ok() } else { None };
    let mut helper_names: BTreeMap<u32, String> =
        (1..crate::uapi::HELPER_NAMES.len() as u32).filter_map(|id| Some((id, crate::uapi::helper_name(id)?))).collect();
    if let Some(k) = &running {
        helper_names.extend(k.helper_names().clone());
    }
    InspectReport { objects, helper_names, running }
}

impl InspectReport {
    /// A map type's name (`hash`, `ringbuf`) in the running kernel.
    fn map_name(&self, t: u32) -> Option<String> {
        let n = self.running.as_ref()?.map_types().name(t as u64)?;
        Some(n.trim_start_matches("BPF_MAP_TYPE_").to_ascii_lowercase())
    }
}

impl Render for InspectReport {
    const FORMATS: &'static [Format] = &[Format::Table, Format::Json];

    fn render(&self, format: Format, w: &mut dyn Write) -> io::Result<()> {
        match format {
            Format::Json => report::check::inspect_json(w, &self.objects),
            _ => report::check::inspect_text(w, &self.objects, &self.helper_names, &|t| self.map_name(t)),
        }
    }
}
