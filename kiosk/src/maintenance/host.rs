//! Facts about the machine: free disk space where the data lives, and the network
//! interfaces the kernel reports. Read-only, no privileges needed.

use std::path::Path;

use super::report::{DiskReport, InterfaceReport};

/// Free and total bytes of the file system holding `dir` (or its nearest existing parent,
/// so a data folder not created yet still gets an answer).
pub fn disk(dir: &Path) -> DiskReport {
    let mut probe = dir;
    while !probe.exists() {
        match probe.parent() {
            Some(p) => probe = p,
            None => break,
        }
    }
    match nix::sys::statvfs::statvfs(probe) {
        // The field types are u32 on 32-bit targets: `u64::from` is a no-op only here.
        #[allow(clippy::useless_conversion)]
        Ok(s) => {
            let frag = u64::from(s.fragment_size()).max(1);
            DiskReport {
                path: dir.display().to_string(),
                free_bytes: Some(u64::from(s.blocks_available()).saturating_mul(frag)),
                total_bytes: Some(u64::from(s.blocks()).saturating_mul(frag)),
            }
        }
        Err(e) => {
            tracing::warn!(path = %probe.display(), error = %e, "statvfs failed");
            DiskReport {
                path: dir.display().to_string(),
                free_bytes: None,
                total_bytes: None,
            }
        }
    }
}

/// Interfaces under `sys_class_net` (normally `/sys/class/net`) except loopback, by name.
pub fn interfaces(sys_class_net: &Path) -> Vec<InterfaceReport> {
    let Ok(dir) = std::fs::read_dir(sys_class_net) else {
        return Vec::new();
    };
    let mut out: Vec<InterfaceReport> = dir
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            if name == "lo" {
                return None;
            }
            let operstate = std::fs::read_to_string(e.path().join("operstate"))
                .map(|s| s.trim().to_string())
                .unwrap_or_else(|_| "unknown".into());
            Some(InterfaceReport {
                up: operstate == "up",
                name,
                operstate,
            })
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disk_space_is_reported_for_a_folder_and_for_one_not_created_yet() {
        let dir = tempfile::tempdir().unwrap();
        let d = disk(dir.path());
        let (free, total) = (d.free_bytes.unwrap(), d.total_bytes.unwrap());
        assert!(total > 0 && free <= total, "{free} of {total}");
        let later = disk(&dir.path().join("not/yet"));
        assert!(later.total_bytes.is_some());
        assert!(later.path.ends_with("not/yet"));
    }

    #[test]
    fn interfaces_come_from_sysfs_without_loopback() {
        let root = tempfile::tempdir().unwrap();
        for (name, state) in [("lo", "unknown"), ("eth0", "up"), ("wlan0", "down")] {
            std::fs::create_dir(root.path().join(name)).unwrap();
            std::fs::write(
                root.path().join(name).join("operstate"),
                format!("{state}\n"),
            )
            .unwrap();
        }
        std::fs::create_dir(root.path().join("usb0")).unwrap();
        let got = interfaces(root.path());
        let view: Vec<(&str, &str, bool)> = got
            .iter()
            .map(|i| (i.name.as_str(), i.operstate.as_str(), i.up))
            .collect();
        assert_eq!(
            view,
            [
                ("eth0", "up", true),
                ("usb0", "unknown", false),
                ("wlan0", "down", false)
            ]
        );
        assert!(interfaces(&root.path().join("missing")).is_empty());
    }
}
