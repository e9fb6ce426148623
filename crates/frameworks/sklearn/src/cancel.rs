//! The cancellation flag the built-in learners poll, so that a job's stop (or its
//! `MaxRuntimeInSeconds`) ends a fit between two steps instead of after it.

/// Polled by a learner between steps (an L-BFGS iteration, a tree node, a forest's tree).
/// It reads the job's stop flag; [`Cancel::NEVER`] is for fits outside a job.
#[derive(Clone, Copy)]
pub(crate) struct Cancel<'a> {
    requested: Option<&'a (dyn Fn() -> bool + Sync)>,
}

impl std::fmt::Debug for Cancel<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cancel")
            .field("requested", &self.is_requested())
            .finish()
    }
}

/// A fit ended early because its job was stopped.
pub(crate) const STOPPED: &str = "the fit was stopped on request";

impl<'a> Cancel<'a> {
    /// Never cancelled.
    #[cfg(test)]
    pub(crate) const NEVER: Cancel<'static> = Cancel { requested: None };

    /// Cancelled once `requested` returns true (it must be cheap: it is called often).
    pub(crate) fn new(requested: &'a (dyn Fn() -> bool + Sync)) -> Self {
        Cancel {
            requested: Some(requested),
        }
    }

    /// Whether the fit should stop now.
    pub(crate) fn is_requested(&self) -> bool {
        self.requested.is_some_and(|f| f())
    }

    /// `Err(STOPPED)` once cancelled, for `?` in fitting loops.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.is_requested() {
            Err(STOPPED.to_string())
        } else {
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicBool, Ordering};

    #[test]
    fn follows_the_flag() {
        let flag = AtomicBool::new(false);
        let read = || flag.load(Ordering::Relaxed);
        let cancel = Cancel::new(&read);
        assert!(cancel.check().is_ok());
        flag.store(true, Ordering::Relaxed);
        assert_eq!(cancel.check().unwrap_err(), STOPPED);
        assert!(!Cancel::NEVER.is_requested());
    }
}
