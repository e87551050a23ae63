//! A spinner on stderr for long work with no byte count to show (resolving
//! and downloading `debian:` kernels, booting vmtest VMs): what is being
//! done and for how long. Drawn only with the `progress` feature, when
//! asked and when stderr is a terminal; otherwise every call does nothing.
//! (Byte and file counts use indicatif bars of their own: the kernel
//! reader's `kernel::modules::bar` and the census's.)

/// A spinner line: `⠋ PREFIX MESSAGE (ELAPSED)`.
pub struct Spinner {
    #[cfg(feature = "progress")]
    bar: indicatif::ProgressBar,
}

impl Spinner {
    /// A spinner labelled `prefix`, drawn when `on` and stderr is a terminal.
    pub fn new(on: bool, prefix: &str) -> Spinner {
        #[cfg(feature = "progress")]
        {
            if !on || !std::io::IsTerminal::is_terminal(&std::io::stderr()) {
                return Spinner { bar: indicatif::ProgressBar::hidden() };
            }
            let bar = indicatif::ProgressBar::new_spinner();
            if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {prefix} {msg} ({elapsed})") {
                bar.set_style(style);
            }
            bar.set_prefix(prefix.to_string());
            bar.enable_steady_tick(std::time::Duration::from_millis(120));
            Spinner { bar }
        }
        #[cfg(not(feature = "progress"))]
        {
            let _ = (on, prefix);
            Spinner {}
        }
    }

    /// What is being done now.
    pub fn message(&self, m: impl Into<String>) {
        #[cfg(feature = "progress")]
        self.bar.set_message(m.into());
        #[cfg(not(feature = "progress"))]
        let _ = m.into();
    }

    /// Is it drawn (a terminal, asked for, the feature built in)?
    pub fn visible(&self) -> bool {
        #[cfg(feature = "progress")]
        return !self.bar.is_hidden();
        #[cfg(not(feature = "progress"))]
        false
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        #[cfg(feature = "progress")]
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn drawn_only_when_asked_on_a_terminal() {
        assert!(!super::Spinner::new(false, "x").visible());
        let on = super::Spinner::new(true, "x");
        assert_eq!(on.visible(), cfg!(feature = "progress") && std::io::IsTerminal::is_terminal(&std::io::stderr()));
    }
}
