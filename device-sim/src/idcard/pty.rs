//! The pseudo-terminal the simulated reader sits on, and the optional stable symlink to it.
//!
//! The simulator keeps only the master side open. When the driver closes the slave, reads on
//! the master fail with EIO (and poll reports a hang-up) until someone opens the slave again;
//! the server treats that as "no host connected" and waits, so a driver can reopen at will.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use nix::sys::termios::{self, SetArg};

/// An open PTY: the master (non-blocking) and the slave's path.
pub struct Pty {
    pub master: OwnedFd,
    pub slave_path: PathBuf,
}

/// Opens a PTY in raw mode (no echo, no line editing: bytes pass as they are).
pub fn open() -> Result<Pty> {
    let pair = nix::pty::openpty(None, None).context("openpty")?;
    let mut t = termios::tcgetattr(&pair.slave).context("tcgetattr on the PTY slave")?;
    termios::cfmakeraw(&mut t);
    termios::tcsetattr(&pair.slave, SetArg::TCSANOW, &t).context("raw mode on the PTY slave")?;
    let slave_path = nix::unistd::ttyname(&pair.slave).context("PTY slave name")?;
    set_nonblocking(&pair.master)?;
    // The slave descriptor closes here: the driver opens it by path.
    drop(pair.slave);
    Ok(Pty {
        master: pair.master,
        slave_path,
    })
}

fn set_nonblocking(fd: &OwnedFd) -> Result<()> {
    // SAFETY: fcntl on a descriptor we own, with plain integer flags.
    unsafe {
        let flags = libc::fcntl(fd.as_raw_fd(), libc::F_GETFL);
        if flags < 0 || libc::fcntl(fd.as_raw_fd(), libc::F_SETFL, flags | libc::O_NONBLOCK) < 0 {
            return Err(std::io::Error::last_os_error()).context("O_NONBLOCK on the PTY master");
        }
    }
    Ok(())
}

/// Points `link` at `target`, replacing whatever `link` was (atomically: a new symlink is
/// renamed over the old one, so a driver never sees the path missing).
pub fn set_link(link: &Path, target: &Path) -> Result<()> {
    let tmp = link.with_file_name(format!(
        ".{}.{}.tmp",
        link.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("idcard"),
        std::process::id()
    ));
    let _ = std::fs::remove_file(&tmp);
    std::os::unix::fs::symlink(target, &tmp)
        .with_context(|| format!("cannot create symlink {}", tmp.display()))?;
    std::fs::rename(&tmp, link)
        .with_context(|| format!("cannot move symlink to {}", link.display()))?;
    Ok(())
}

/// Removes `link` if it still points at `target` (another simulator may own it by now).
pub fn remove_link(link: &Path, target: &Path) {
    if std::fs::read_link(link).ok().as_deref() == Some(target) {
        let _ = std::fs::remove_file(link);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_a_raw_pty_and_links_it() {
        let pty = open().unwrap();
        assert!(
            pty.slave_path.starts_with("/dev/pts"),
            "{}",
            pty.slave_path.display()
        );
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("idcard");
        set_link(&link, &pty.slave_path).unwrap();
        assert_eq!(std::fs::read_link(&link).unwrap(), pty.slave_path);
        let other = open().unwrap();
        set_link(&link, &other.slave_path).unwrap();
        assert_eq!(std::fs::read_link(&link).unwrap(), other.slave_path);
        remove_link(&link, &pty.slave_path);
        assert!(link.exists(), "not ours any more");
        remove_link(&link, &other.slave_path);
        assert!(std::fs::symlink_metadata(&link).is_err());
    }
}
