//! Special fields of a map's value type: the kernel structs whose presence
//! in a map value changes what may use the map (`struct bpf_spin_lock`,
//! `bpf_timer`, `bpf_wq`, graph roots). The kernel finds them by struct
//! name among the members of the value struct (kernel/bpf/btf.c
//! `btf_parse_fields` → `btf_find_struct_field` → `btf_get_field_type`,
//! v6.2+; `btf_find_spin_lock`/`btf_find_timer` before), which is what
//! this reads from the object's BTF: direct members only, a member's type
//! taken as written (an array or a typedef of one of them is no match
//! here; later kernels also look into nested structs and arrays, which
//! this does not, so it can only miss a field, never invent one).

use crate::btf::{Btf, Kind, TypeId};
use std::collections::BTreeSet;
use std::fmt;

/// A special field of a map value, by the kernel struct naming it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ValueField {
    /// `struct bpf_spin_lock` (BPF_SPIN_LOCK, v5.1).
    SpinLock,
    /// `struct bpf_res_spin_lock` (BPF_RES_SPIN_LOCK, v6.15).
    ResSpinLock,
    /// `struct bpf_timer` (BPF_TIMER, v5.15).
    Timer,
    /// `struct bpf_wq` (BPF_WORKQUEUE, v6.10).
    Wq,
    /// `struct bpf_list_head` (BPF_LIST_HEAD, v6.2).
    ListHead,
    /// `struct bpf_rb_root` (BPF_RB_ROOT, v6.3).
    RbRoot,
}

impl ValueField {
    /// Every field, in order.
    pub const ALL: [ValueField; 6] =
        [ValueField::SpinLock, ValueField::ResSpinLock, ValueField::Timer, ValueField::Wq, ValueField::ListHead, ValueField::RbRoot];

    /// The kernel struct's name (`bpf_timer`).
    pub fn struct_name(self) -> &'static str {
        match self {
            ValueField::SpinLock => "bpf_spin_lock",
            ValueField::ResSpinLock => "bpf_res_spin_lock",
            ValueField::Timer => "bpf_timer",
            ValueField::Wq => "bpf_wq",
            ValueField::ListHead => "bpf_list_head",
            ValueField::RbRoot => "bpf_rb_root",
        }
    }

    fn of_name(name: &str) -> Option<ValueField> {
        ValueField::ALL.into_iter().find(|f| f.struct_name() == name)
    }
}

impl fmt::Display for ValueField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "struct {}", self.struct_name())
    }
}

/// The special fields among the direct members of value type `value`
/// (typedefs and modifiers of the value type itself resolved, as the
/// kernel's `map_check_btf` → `btf_type_id_size` does). Not a struct or
/// union: none.
pub fn of_value(btf: &Btf, value: TypeId) -> BTreeSet<ValueField> {
    let Some(t) = btf.resolve(value).filter(|t| matches!(t.kind, Kind::Struct | Kind::Union)) else { return BTreeSet::new() };
    t.members().filter_map(|m| btf.ty(m.ty).filter(|mt| mt.kind == Kind::Struct).and_then(|mt| ValueField::of_name(mt.name()))).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for f in ValueField::ALL {
            assert_eq!(ValueField::of_name(f.struct_name()), Some(f));
        }
        assert_eq!(ValueField::of_name("bpf_list_node"), None);
        assert_eq!(ValueField::Timer.to_string(), "struct bpf_timer");
    }
}
