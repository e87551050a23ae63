//! Commands `completions` and `man`: the shell completion scripts and the
//! manual page, generated from the command line definition.

use super::common::{write_out, Out};

/// `bpfabi completions SHELL`.
pub fn run(shell: clap_complete::Shell, w: Out) -> bpfabi::Result<u8> {
    clap_complete::generate(shell, &mut super::command(), "bpfabi", w);
    Ok(0)
}

/// `bpfabi man`: the manual page (roff).
pub fn man(w: Out) -> bpfabi::Result<u8> {
    write_out(clap_mangen::Man::new(super::command()).render(w)).map(|_| 0)
}
