//! Which process runs a job, so another process never reports a dead job as running.

use serde::{Deserialize, Serialize};

/// The process that runs a job: its pid and (on Linux) its start time, which tells a live
/// process from a later one that reused the pid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Owner {
    pub(crate) pid: u32,
    #[serde(default)]
    pub(crate) start_ticks: Option<u64>,
}

impl Owner {
    pub(crate) fn current() -> Self {
        let pid = std::process::id();
        Owner {
            pid,
            start_ticks: start_ticks(pid),
        }
    }

    /// Whether the owning process is still running. Where liveness cannot be checked (no
    /// `/proc`), the owner is assumed alive.
    ///
    /// The start time is compared even when the pid is ours: pid 1 in a container (or any pid
    /// after a reboot) is reused across runs, so a record left by a crashed earlier run can
    /// carry our pid.
    pub(crate) fn is_alive(&self) -> bool {
        if !std::path::Path::new("/proc/self").exists() {
            return true;
        }
        match (start_ticks(self.pid), self.start_ticks) {
            (None, _) => false,
            (Some(now), Some(recorded)) => now == recorded,
            (Some(_), None) => true,
        }
    }
}

/// Field 22 of `/proc/{pid}/stat`: the process start time in clock ticks after boot.
fn start_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may hold spaces and parentheses; fields resume after the last ')'.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn current_process_is_alive_and_a_dead_one_is_not() {
        assert!(Owner::current().is_alive());
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let dead = Owner {
            pid,
            start_ticks: Some(1),
        };
        if std::path::Path::new("/proc/self").exists() {
            assert!(!dead.is_alive());
        }
    }

    #[test]
    fn our_pid_with_another_start_time_is_a_stale_record() {
        let me = Owner::current();
        let Some(ticks) = me.start_ticks else {
            // Without /proc there is no start time to compare; the owner is assumed alive.
            assert!(me.is_alive());
            return;
        };
        let earlier_run = Owner {
            pid: me.pid,
            start_ticks: Some(ticks.wrapping_add(1)),
        };
        assert!(!earlier_run.is_alive());
    }
}
