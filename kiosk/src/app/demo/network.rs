//! The demo's network cable: a TCP relay between the kiosk and the central simulator that
//! the simulator panel can cut. Cut, it refuses new connections and drops open ones, as a
//! pulled cable or a dead uplink would; the kiosk's TLS runs end to end through it.

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub struct Cable {
    addr: SocketAddr,
    up: Arc<AtomicBool>,
    /// Bumped on every cut, so relays of an older generation stop.
    generation: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
}

impl Cable {
    /// Listens on a free port of 127.0.0.1 and relays to `target`.
    pub fn start(target: SocketAddr) -> anyhow::Result<Cable> {
        let listener = TcpListener::bind(("127.0.0.1", 0))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let up = Arc::new(AtomicBool::new(true));
        let generation = Arc::new(AtomicU64::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (up2, gen2, stop2) = (up.clone(), generation.clone(), stop.clone());
        std::thread::Builder::new()
            .name("demo-cable".into())
            .spawn(move || accept_loop(listener, target, up2, gen2, stop2))?;
        Ok(Cable {
            addr,
            up,
            generation,
            stop,
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn is_up(&self) -> bool {
        self.up.load(Ordering::SeqCst)
    }

    pub fn set_up(&self, up: bool) {
        if !up {
            self.generation.fetch_add(1, Ordering::SeqCst);
        }
        self.up.store(up, Ordering::SeqCst);
    }
}

impl Drop for Cable {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        self.generation.fetch_add(1, Ordering::SeqCst);
    }
}

fn accept_loop(
    listener: TcpListener,
    target: SocketAddr,
    up: Arc<AtomicBool>,
    generation: Arc<AtomicU64>,
    stop: Arc<AtomicBool>,
) {
    while !stop.load(Ordering::SeqCst) {
        match listener.accept() {
            Ok((client, _)) => {
                if !up.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect_timeout(&target, Duration::from_secs(2)) else {
                    continue;
                };
                let gen = generation.load(Ordering::SeqCst);
                let _ = client.set_nonblocking(false);
                relay(client, server, generation.clone(), gen);
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// Two threads copy the two directions until either side closes or the cable is cut.
fn relay(a: TcpStream, b: TcpStream, generation: Arc<AtomicU64>, gen: u64) {
    let pipe = move |mut from: TcpStream, mut to: TcpStream, generation: Arc<AtomicU64>| {
        let _ = from.set_read_timeout(Some(Duration::from_millis(100)));
        let mut buf = [0u8; 16 * 1024];
        loop {
            if generation.load(Ordering::SeqCst) != gen {
                break;
            }
            match from.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if to.write_all(&buf[..n]).is_err() {
                        break;
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => break,
            }
        }
        let _ = from.shutdown(Shutdown::Both);
        let _ = to.shutdown(Shutdown::Both);
    };
    let (Ok(a2), Ok(b2)) = (a.try_clone(), b.try_clone()) else {
        return;
    };
    let g2 = generation.clone();
    let _ = std::thread::Builder::new()
        .name("demo-cable-up".into())
        .spawn(move || pipe(a, b, generation));
    let _ = std::thread::Builder::new()
        .name("demo-cable-down".into())
        .spawn(move || pipe(b2, a2, g2));
}
