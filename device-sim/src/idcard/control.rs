//! Control commands of a running simulator: one line in, one line out (`ok ...` or
//! `error: ...`). Read from stdin and from the `--control` Unix socket.
//!
//! ```text
//! put <card-id>              put a deck card on the reader (replaces the one there)
//! remove                     take the card off
//! fault <f>[,<f>...] [once]  inject faults until `fault none` (or for one reply: once)
//!                            f: no_card select_fail read_fail remove_mid_read garbage split
//!                               bad_checksum silence truncate status=<hex SW3>
//! fault none                 clear faults
//! list                       the deck's card ids; `*` marks the card on the reader
//! status                     card, faults, baud rate, slave path
//! replug                     close the PTY and open a new one (the --link follows)
//! help                       this list
//! quit                       stop the simulator
//! ```

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, Result};

use super::engine::Fault;
use super::server::SimHandle;

pub const HELP: &str = "\
Control commands (stdin, or the --control socket; one per line, one-line answers):
  put <card-id>              put a deck card on the reader
  remove                     take the card off
  fault <f>[,<f>...] [once]  faults: no_card select_fail read_fail remove_mid_read
                             garbage split bad_checksum silence truncate status=<hex>
  fault none                 clear faults
  list                       card ids of the deck (* = on the reader)
  status                     card, faults, baud, slave path
  replug                     close the PTY and open a new one (--link follows)
  help | quit";

/// The answer to one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    pub line: String,
    pub quit: bool,
}

fn ok(s: impl Into<String>) -> Answer {
    let s = s.into();
    Answer {
        line: if s.is_empty() {
            "ok".into()
        } else {
            format!("ok {s}")
        },
        quit: false,
    }
}

fn err(s: impl Into<String>) -> Answer {
    Answer {
        line: format!("error: {}", s.into()),
        quit: false,
    }
}

fn faults_text(faults: &[Fault], once: bool) -> String {
    if faults.is_empty() {
        return "none".into();
    }
    let list: Vec<String> = faults.iter().map(Fault::to_string).collect();
    format!("{}{}", list.join(","), if once { " once" } else { "" })
}

/// Runs one command line.
pub fn execute(sim: &SimHandle, line: &str) -> Answer {
    let words: Vec<&str> = line.split_whitespace().collect();
    match words.as_slice() {
        [] => ok(""),
        ["put", id] => match sim.put(id) {
            Ok(()) => ok(format!("card {id} on the reader")),
            Err(e) => err(e),
        },
        ["remove"] => {
            sim.remove();
            ok("no card on the reader")
        }
        ["fault", "none"] => {
            sim.set_faults(Vec::new(), false);
            ok("faults: none")
        }
        ["fault", spec] | ["fault", spec, "once"] => {
            let once = words.len() == 3;
            match spec
                .split(',')
                .map(Fault::parse)
                .collect::<Result<Vec<_>, _>>()
            {
                Ok(faults) => {
                    let text = faults_text(&faults, once);
                    sim.set_faults(faults, once);
                    ok(format!("faults: {text}"))
                }
                Err(e) => err(e),
            }
        }
        ["list"] => {
            let on = sim.card_on_reader();
            let ids: Vec<String> = sim
                .card_ids()
                .into_iter()
                .map(|id| {
                    if Some(&id) == on.as_ref() {
                        format!("*{id}")
                    } else {
                        id
                    }
                })
                .collect();
            ok(ids.join(" "))
        }
        ["status"] => {
            let (faults, once) = sim.faults();
            ok(format!(
                "card={} faults={} baud={} port={}",
                sim.card_on_reader().unwrap_or_else(|| "none".into()),
                faults_text(&faults, once).replace(' ', "+"),
                sim.baud(),
                sim.slave_path().display()
            ))
        }
        ["replug"] => match sim.replug() {
            Ok(path) => ok(format!("port={}", path.display())),
            Err(e) => err(e.to_string()),
        },
        ["help"] => ok(HELP.replace('\n', " | ")),
        ["quit"] => Answer {
            line: "ok bye".into(),
            quit: true,
        },
        _ => err(format!("unknown command {line:?}; try help")),
    }
}

/// Serves commands from `input` to `output` until `quit` or the end of input. Returns true
/// when `quit` was asked.
pub fn serve_lines(sim: &SimHandle, input: impl BufRead, mut output: impl Write) -> bool {
    for line in input.lines() {
        let Ok(line) = line else { return false };
        let answer = execute(sim, &line);
        if writeln!(output, "{}", answer.line)
            .and_then(|_| output.flush())
            .is_err()
        {
            return false;
        }
        if answer.quit {
            return true;
        }
    }
    false
}

/// Listens on a Unix socket; each connection gets the line protocol. `on_quit` runs when a
/// client sends `quit`.
pub fn listen(
    sim: Arc<SimHandle>,
    path: &Path,
    on_quit: impl Fn() + Send + Sync + 'static,
) -> Result<()> {
    let _ = std::fs::remove_file(path);
    let listener =
        UnixListener::bind(path).with_context(|| format!("cannot listen on {}", path.display()))?;
    let on_quit = Arc::new(on_quit);
    std::thread::Builder::new()
        .name("idcard-sim-control".into())
        .spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let sim = Arc::clone(&sim);
                let on_quit = Arc::clone(&on_quit);
                let _ =
                    std::thread::Builder::new().spawn(move || serve_socket(&sim, conn, &*on_quit));
            }
        })?;
    Ok(())
}

fn serve_socket(sim: &SimHandle, conn: UnixStream, on_quit: &dyn Fn()) {
    let Ok(reader) = conn.try_clone() else { return };
    // The connection stays open until `on_quit` has run, so a client that sees it close
    // knows the quit was taken.
    if serve_lines(sim, BufReader::new(reader), &conn) {
        on_quit();
    }
    drop(conn);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::idcard::deck::Deck;
    use crate::idcard::server::{SimConfig, Simulator};

    fn sim() -> SimHandle {
        let mut cfg = SimConfig::new(Deck::builtin().unwrap());
        cfg.pace = false;
        cfg.initial_card = None;
        let s = Simulator::start(cfg).unwrap();
        s.remove();
        s
    }

    #[test]
    fn commands_and_answers() {
        let s = sim();
        let id = s.card_ids()[1].clone();
        assert_eq!(
            execute(&s, &format!("put {id}")).line,
            format!("ok card {id} on the reader")
        );
        assert!(execute(&s, "list").line.contains(&format!("*{id}")));
        assert_eq!(
            execute(&s, "fault garbage,split once").line,
            "ok faults: garbage,split once"
        );
        assert_eq!(s.faults(), (vec![Fault::Garbage, Fault::Split], true));
        assert!(execute(&s, "status")
            .line
            .contains("faults=garbage,split+once"));
        assert_eq!(execute(&s, "fault none").line, "ok faults: none");
        assert!(execute(&s, "fault melt")
            .line
            .starts_with("error: unknown fault"));
        assert!(execute(&s, "put nobody").line.starts_with("error: no card"));
        assert_eq!(execute(&s, "remove").line, "ok no card on the reader");
        assert_eq!(s.card_on_reader(), None);
        assert!(execute(&s, "dance")
            .line
            .starts_with("error: unknown command"));
        assert!(execute(&s, "quit").quit);
    }

    #[test]
    fn the_socket_speaks_the_same_lines() {
        let s = Arc::new(sim());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ctl");
        let quit = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let q = Arc::clone(&quit);
        listen(Arc::clone(&s), &path, move || {
            q.store(true, std::sync::atomic::Ordering::SeqCst)
        })
        .unwrap();
        let mut conn = UnixStream::connect(&path).unwrap();
        let id = s.card_ids()[0].clone();
        writeln!(conn, "put {id}\nstatus\nquit").unwrap();
        let lines: Vec<String> = BufReader::new(conn).lines().map(Result::unwrap).collect();
        assert_eq!(lines.len(), 3, "{lines:?}");
        assert!(lines[1].contains(&format!("card={id}")));
        assert_eq!(lines[2], "ok bye");
        assert!(quit.load(std::sync::atomic::Ordering::SeqCst));
    }
}
