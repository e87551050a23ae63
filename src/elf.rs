//! ELF facts shared by the kernel-image and BPF-object readers (parsing
//! itself is done by the `object` crate).

/// `e_machine` of BPF objects.
pub const EM_BPF: u16 = 247;
