//! What the census report keeps of a kernel once its model is dropped: its
//! label and its kfuncs (prototype, flags). The report reads kernels one at
//! a time (the census impact's `Series`: load, diff with the previous
//! kernel, check every object, keep this, drop the model), so at most two
//! kernel models are held at once however many kernels the series has; the
//! kfunc timeline, first answers and stable candidates are computed from
//! these tables afterwards.

use crate::model::KernelModel;
use crate::surface::Kfunc;
use std::collections::HashMap;

/// One kernel's label and kfuncs, read from its model.
#[derive(Debug, Clone)]
pub struct KernelKfuncs {
    label: String,
    kfuncs: Vec<Kfunc>,
    by_name: HashMap<String, usize>,
}

impl KernelKfuncs {
    /// The table of `k`: every kfunc of its surface (vmlinux and modules).
    pub fn of(k: &KernelModel) -> Self {
        let kfuncs = k.surface().kfuncs.clone();
        let mut by_name = HashMap::with_capacity(kfuncs.len());
        // The first kfunc of a name, as KernelModel::kfunc answers.
        for (i, f) in kfuncs.iter().enumerate() {
            by_name.entry(f.name.clone()).or_insert(i);
        }
        KernelKfuncs { label: k.label().to_string(), kfuncs, by_name }
    }

    /// The kernel's name in output ([`KernelModel::label`]).
    pub fn label(&self) -> &str {
        &self.label
    }

    /// The kfunc called `name` ([`KernelModel::kfunc`]).
    pub fn kfunc(&self, name: &str) -> Option<&Kfunc> {
        self.by_name.get(name).and_then(|&i| self.kfuncs.get(i))
    }

    /// Every kfunc, in surface order (a name may repeat across modules).
    pub fn kfuncs(&self) -> &[Kfunc] {
        &self.kfuncs
    }
}

/// The tables of `models`, in order.
pub fn of_all(models: &[KernelModel]) -> Vec<KernelKfuncs> {
    models.iter().map(KernelKfuncs::of).collect()
}
