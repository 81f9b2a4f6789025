//! Processes the benchmarks start ([`Group`]) and the memory of a process tree from /proc,
//! measured the same way for the app and for its peer.
//!
//! RSS summed over several processes counts a shared page once per process that maps it
//! (Chromium's browser, renderer, GPU and utility processes share most of their code), so
//! the fair sum is PSS from `/proc/PID/smaps_rollup`: every shared page is split among the
//! processes that map it. USS (private pages only) is what killing the tree would free.

use std::collections::{HashMap, HashSet};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};
use std::time::Duration;

/// Memory of a set of processes, in KiB.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct TreeMemory {
    pub processes: usize,
    pub rss_kib: u64,
    pub pss_kib: u64,
    pub uss_kib: u64,
}

impl TreeMemory {
    pub fn pss_mib(&self) -> f64 {
        self.pss_kib as f64 / 1024.0
    }
    pub fn rss_mib(&self) -> f64 {
        self.rss_kib as f64 / 1024.0
    }
    pub fn uss_mib(&self) -> f64 {
        self.uss_kib as f64 / 1024.0
    }
}

/// (parent pid, process group) of every process, from /proc/PID/stat.
fn process_table() -> HashMap<i32, (i32, i32)> {
    let mut table = HashMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return table;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<i32>().ok())
        else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            continue; // exited meanwhile
        };
        // After the command name (which may hold spaces and parentheses): state ppid pgrp.
        let Some(rest) = stat.rfind(')').map(|i| &stat[i + 1..]) else {
            continue;
        };
        let mut fields = rest.split_whitespace().skip(1);
        let ppid = fields.next().and_then(|f| f.parse().ok());
        let pgrp = fields.next().and_then(|f| f.parse().ok());
        if let (Some(ppid), Some(pgrp)) = (ppid, pgrp) {
            table.insert(pid, (ppid, pgrp));
        }
    }
    table
}

/// `root`, its descendants, and every process in the process group `root` leads (helpers
/// that were re-parented after a double fork stay in the group).
pub fn tree(root: i32) -> Vec<i32> {
    let table = process_table();
    let mut members: HashSet<i32> = HashSet::new();
    if table.contains_key(&root) {
        members.insert(root);
    }
    members.extend(
        table
            .iter()
            .filter(|(_, (_, pgrp))| *pgrp == root)
            .map(|(pid, _)| *pid),
    );
    // Descendants: repeat until no new child joins (the table is small).
    loop {
        let before = members.len();
        let children: Vec<i32> = table
            .iter()
            .filter(|(pid, (ppid, _))| members.contains(ppid) && !members.contains(pid))
            .map(|(pid, _)| *pid)
            .collect();
        members.extend(children);
        if members.len() == before {
            break;
        }
    }
    let mut pids: Vec<i32> = members.into_iter().collect();
    pids.sort_unstable();
    pids
}

/// (RSS, PSS, USS) in KiB from /proc/PID/smaps_rollup.
fn rollup(pid: i32) -> Option<(u64, u64, u64)> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).ok()?;
    let field = |name: &str| -> Option<u64> {
        text.lines()
            .find(|l| l.starts_with(name) && l[name.len()..].starts_with(':'))
            .and_then(|l| l[name.len() + 1..].split_whitespace().next())
            .and_then(|v| v.parse().ok())
    };
    let uss = field("Private_Clean")? + field("Private_Dirty")?;
    Some((field("Rss")?, field("Pss")?, uss))
}

/// The memory of `root`'s tree now; `None` when the tree is gone or /proc cannot say.
pub fn measure(root: i32) -> Option<TreeMemory> {
    let mut total = TreeMemory::default();
    for pid in tree(root) {
        // A process that exits between the listing and the read simply does not count.
        if let Some((rss, pss, uss)) = rollup(pid) {
            total.processes += 1;
            total.rss_kib += rss;
            total.pss_kib += pss;
            total.uss_kib += uss;
        }
    }
    (total.processes > 0).then_some(total)
}

/// The idle figure: waits `SETTLE_FIRST`, then samples every 250 ms until PSS moves by less
/// than 1% between two samples (or `SETTLE_MAX` passes) and returns the last sample.
pub fn settled(root: i32) -> Option<TreeMemory> {
    const SETTLE_FIRST: Duration = Duration::from_secs(1);
    const STEP: Duration = Duration::from_millis(250);
    const SETTLE_MAX: Duration = Duration::from_secs(10);
    std::thread::sleep(SETTLE_FIRST);
    let mut last = measure(root)?;
    let mut waited = Duration::ZERO;
    while waited < SETTLE_MAX {
        std::thread::sleep(STEP);
        waited += STEP;
        let now = measure(root)?;
        if now.pss_kib.abs_diff(last.pss_kib) * 100 <= last.pss_kib {
            return Some(now);
        }
        last = now;
    }
    Some(last)
}

/// A started process leading its own process group. Dropping it kills the whole group
/// (by its id) and reaps the leader. The leader is only reaped here, so the group id cannot
/// have been reused by another process when it is killed.
pub struct Group(Child);

impl Group {
    /// Starts `cmd` as the leader of a new process group.
    pub fn spawn(mut cmd: Command) -> std::io::Result<Group> {
        cmd.process_group(0).spawn().map(Group)
    }

    pub fn pid(&self) -> i32 {
        self.0.id() as i32
    }

    pub fn child(&mut self) -> &mut Child {
        &mut self.0
    }

    /// Whether the leader has exited (a zombie waiting to be reaped), without reaping it.
    pub fn exited(&self) -> bool {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{}/stat", self.pid())) else {
            return true;
        };
        stat.rfind(')')
            .and_then(|i| stat[i + 1..].split_whitespace().next())
            .is_none_or(|state| state == "Z" || state == "X")
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        let _ = nix::sys::signal::killpg(
            nix::unistd::Pid::from_raw(self.pid()),
            nix::sys::signal::Signal::SIGKILL,
        );
        let _ = self.0.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_its_own_tree_and_has_memory() {
        let me = std::process::id() as i32;
        assert!(tree(me).contains(&me));
        let (rss, pss, uss) = rollup(me).expect("smaps_rollup of this process");
        assert!(rss > 0 && pss > 0 && pss <= rss && uss <= rss);
    }

    #[test]
    fn a_child_process_is_in_the_tree() {
        let mut child = std::process::Command::new("sleep")
            .arg("30")
            .spawn()
            .unwrap();
        let me = std::process::id() as i32;
        let members = tree(me);
        let _ = child.kill();
        let _ = child.wait();
        assert!(members.contains(&(child.id() as i32)), "{members:?}");
    }
}
