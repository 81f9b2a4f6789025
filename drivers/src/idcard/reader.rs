//! The reader over a serial port: one request, one reply, with the per-command timeouts of the
//! spec. The framing is [`super::codec`]; this file is the edge that owns the port.

use std::io::{ErrorKind, Write};
use std::time::{Duration, Instant};

use serialport::{ClearBuffer, SerialPort};
use zeroize::Zeroize;

use super::card::IdCard;
use super::codec::{BaudCode, Command, Decoder, FrameError, Reply};
use super::reply::{self, RawCard, ReplyError, SamId};
use super::sw3::Sw3;
use super::text::TextError;
use crate::device::{Counters, Device, DeviceCore, DeviceState, LifecycleError, SharedCounters};

/// Device name in events, health text and counters.
pub const DEVICE_NAME: &str = "id_reader";

/// Per-command timeouts. Defaults are the upper ends of what deployed software uses (spec,
/// "Timeouts seen in deployed software").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timeouts {
    pub find: Duration,
    pub select: Duration,
    pub read: Duration,
    pub read_fingerprint: Duration,
    pub extra_address: Duration,
    pub reset: Duration,
    /// SAM status, SAM id and set-baud.
    pub sam: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            find: Duration::from_millis(800),
            select: Duration::from_millis(500),
            read: Duration::from_millis(3500),
            read_fingerprint: Duration::from_millis(3500),
            extra_address: Duration::from_millis(1000),
            reset: Duration::from_millis(300),
            sam: Duration::from_millis(500),
        }
    }
}

/// Largest reply each command can get, in bytes on the wire.
fn max_reply_bytes(cmd: Command) -> usize {
    match cmd {
        Command::ReadTextPhoto => 1295,
        Command::ReadTextPhotoFingerprint => 2321,
        Command::ReadExtraAddress => 11 + 70,
        Command::SelectCard => 19,
        Command::ReadSamId => 27,
        _ => 15,
    }
}

/// Time `bytes` take on an 8N1 line (10 bits a byte).
pub fn wire_time(bytes: usize, baud: u32) -> Duration {
    Duration::from_secs_f64(bytes as f64 * 10.0 / f64::from(baud.max(1)))
}

impl Timeouts {
    /// The timeout for `cmd` at `baud`: the table's figure, or 1.5 x the wire time of the
    /// largest reply plus 100 ms when that is longer (slow rates).
    pub fn for_command(&self, cmd: Command, baud: u32) -> Duration {
        let base = match cmd {
            Command::FindCard => self.find,
            Command::SelectCard => self.select,
            Command::ReadTextPhoto => self.read,
            Command::ReadTextPhotoFingerprint => self.read_fingerprint,
            Command::ReadExtraAddress => self.extra_address,
            Command::ResetSam => self.reset,
            Command::SamStatus | Command::ReadSamId | Command::SetBaud(_) => self.sam,
        };
        let wire = wire_time(max_reply_bytes(cmd), baud).mul_f64(1.5) + Duration::from_millis(100);
        base.max(wire)
    }
}

/// How the driver reaches and polls the reader.
#[derive(Debug, Clone)]
pub struct ReaderConfig {
    /// Serial port path, e.g. `/dev/ttyUSB0` (a symlink is followed at every open).
    pub port: String,
    pub baud: u32,
    /// Pause between presence checks.
    pub poll_interval: Duration,
    pub timeouts: Timeouts,
    /// First and largest pause between attempts to reopen a lost port.
    pub reopen_initial: Duration,
    pub reopen_max: Duration,
    /// Consecutive timeouts after which the port is closed and reopened.
    pub timeouts_before_reopen: u32,
    /// Attempts to read a card that stays on the reader before waiting for it to be removed.
    pub max_read_attempts: u32,
    /// Use 30 10 (text + photo + fingerprint) instead of 30 01.
    pub read_fingerprint: bool,
    /// Also ask for the additional address (30 03) after a read.
    pub read_extra_address: bool,
}

impl ReaderConfig {
    pub fn new(port: impl Into<String>) -> ReaderConfig {
        ReaderConfig {
            port: port.into(),
            baud: 115_200,
            poll_interval: Duration::from_millis(300),
            timeouts: Timeouts::default(),
            reopen_initial: Duration::from_millis(200),
            reopen_max: Duration::from_secs(5),
            timeouts_before_reopen: 3,
            max_read_attempts: 3,
            read_fingerprint: false,
            read_extra_address: false,
        }
    }
}

/// What went wrong talking to the reader. Messages are one line, for engineers; none carries
/// card content.
#[derive(Debug, thiserror::Error)]
pub enum ReaderError {
    #[error("the reader port is not open")]
    NotOpen,
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    #[error("cannot open the reader port {port}: {reason}")]
    Open { port: String, reason: String },
    #[error("the reader port went away: {0}")]
    PortGone(String),
    #[error("the reader did not answer {command} within {ms} ms")]
    Timeout { command: &'static str, ms: u64 },
    #[error("corrupt reply to {command}: {error}")]
    Corrupt {
        command: &'static str,
        error: FrameError,
    },
    #[error("no card on the reader")]
    NoCard,
    #[error("select card failed: {0}")]
    SelectFailed(Sw3),
    #[error("card read failed (card moved or removed?): {0}")]
    ReadFailed(Sw3),
    #[error("{command}: the reader answered {sw3}")]
    Status { command: &'static str, sw3: Sw3 },
    #[error("{0}")]
    BadReply(#[from] ReplyError),
    #[error("the card's text is unreadable: {0}")]
    BadText(#[from] TextError),
}

impl ReaderError {
    /// The counter key suffix (`fail_<cause>`).
    pub fn cause(&self) -> &'static str {
        match self {
            ReaderError::NotOpen | ReaderError::Open { .. } | ReaderError::PortGone(_) => "port",
            ReaderError::Lifecycle(_) => "lifecycle",
            ReaderError::Timeout { .. } => "timeout",
            ReaderError::Corrupt { .. } => "corrupt",
            ReaderError::NoCard => "no_card",
            ReaderError::SelectFailed(_) => "select",
            ReaderError::ReadFailed(_) => "read",
            ReaderError::Status { .. } => "status",
            ReaderError::BadReply(_) => "bad_reply",
            ReaderError::BadText(_) => "bad_text",
        }
    }

    /// Whether the port itself is unusable (reopen needed).
    pub fn is_port_gone(&self) -> bool {
        matches!(
            self,
            ReaderError::NotOpen | ReaderError::Open { .. } | ReaderError::PortGone(_)
        )
    }
}

/// The ID card reader driver.
pub struct IdCardReader {
    core: DeviceCore,
    config: ReaderConfig,
    port: Option<Box<dyn SerialPort>>,
    decoder: Decoder,
    buf: Vec<u8>,
    consecutive_timeouts: u32,
}

impl IdCardReader {
    pub fn new(config: ReaderConfig, counters: SharedCounters) -> IdCardReader {
        IdCardReader {
            core: DeviceCore::new(DEVICE_NAME, counters),
            config,
            port: None,
            decoder: Decoder::new(),
            buf: vec![0; 4096],
            consecutive_timeouts: 0,
        }
    }

    pub fn config(&self) -> &ReaderConfig {
        &self.config
    }

    /// Changes take effect from the next command (the port settings at the next open).
    pub fn config_mut(&mut self) -> &mut ReaderConfig {
        &mut self.config
    }

    pub fn core(&self) -> &DeviceCore {
        &self.core
    }

    /// For event channels: `core_mut().subscribe()` or `set_event_sender`.
    pub fn core_mut(&mut self) -> &mut DeviceCore {
        &mut self.core
    }

    pub fn is_port_open(&self) -> bool {
        self.port.is_some()
    }

    /// Timeouts in a row since the reader last answered.
    pub fn consecutive_timeouts(&self) -> u32 {
        self.consecutive_timeouts
    }

    fn open_port(&mut self) -> Result<(), ReaderError> {
        let port = serialport::new(&self.config.port, self.config.baud)
            .data_bits(serialport::DataBits::Eight)
            .parity(serialport::Parity::None)
            .stop_bits(serialport::StopBits::One)
            .flow_control(serialport::FlowControl::None)
            .timeout(Duration::from_millis(100))
            .open()
            .map_err(|e| ReaderError::Open {
                port: self.config.port.clone(),
                reason: e.to_string(),
            })?;
        self.port = Some(port);
        self.decoder.reset();
        self.consecutive_timeouts = 0;
        Ok(())
    }

    /// Opens the port again after it was lost (the path may now lead to a new device).
    pub fn reopen(&mut self) -> Result<(), ReaderError> {
        self.port = None;
        self.open_port()?;
        self.core.opened();
        tracing::info!(device = DEVICE_NAME, "reader port reopened");
        Ok(())
    }

    /// Drops the port after a failure so the next [`IdCardReader::reopen`] starts clean.
    pub fn mark_lost(&mut self, reason: &str) {
        self.port = None;
        self.decoder.reset();
        self.core
            .fail("port_lost", format!("reader lost: {reason}"));
    }

    /// Sends one request and waits for its reply.
    pub fn transact(&mut self, cmd: Command) -> Result<Reply, ReaderError> {
        let timeout = self.config.timeouts.for_command(cmd, self.config.baud);
        let result = self.transact_inner(cmd, timeout);
        // The read buffer held card bytes. (Zeroed in place: `Vec::zeroize` would also empty
        // it, and a zero-length read buffer reads nothing.)
        self.buf.as_mut_slice().zeroize();
        match &result {
            Ok(_) => self.consecutive_timeouts = 0,
            Err(ReaderError::Timeout { .. }) => self.consecutive_timeouts += 1,
            Err(e) if e.is_port_gone() => {
                self.port = None;
            }
            Err(_) => {}
        }
        result
    }

    fn transact_inner(&mut self, cmd: Command, timeout: Duration) -> Result<Reply, ReaderError> {
        let port = self.port.as_mut().ok_or(ReaderError::NotOpen)?;
        // A late reply to an earlier request is stale: drop it.
        let _ = port.clear(ClearBuffer::Input);
        self.decoder.reset();
        let _ = port.set_timeout(Duration::from_millis(200));
        port.write_all(&cmd.encode()).map_err(|e| match e.kind() {
            ErrorKind::TimedOut => ReaderError::Timeout {
                command: cmd.name(),
                ms: 200,
            },
            _ => ReaderError::PortGone(e.to_string()),
        })?;
        let deadline = Instant::now() + timeout;
        let mut false_frame: Option<FrameError> = None;
        loop {
            let now = Instant::now();
            if now >= deadline {
                return Err(match false_frame {
                    Some(error) => ReaderError::Corrupt {
                        command: cmd.name(),
                        error,
                    },
                    None => ReaderError::Timeout {
                        command: cmd.name(),
                        ms: timeout.as_millis() as u64,
                    },
                });
            }
            let _ = port.set_timeout((deadline - now).min(Duration::from_millis(100)));
            match port.read(&mut self.buf) {
                Ok(0) => return Err(ReaderError::PortGone("end of stream".into())),
                Ok(n) => {
                    self.decoder.push(&self.buf[..n]);
                    while let Some(event) = self.decoder.next_event() {
                        match event {
                            Ok(reply) => return Ok(reply),
                            // A false preamble: the decoder has resynchronised; the real
                            // frame may follow.
                            Err(e @ FrameError::LengthOutOfRange { .. }) => false_frame = Some(e),
                            Err(error) => {
                                return Err(ReaderError::Corrupt {
                                    command: cmd.name(),
                                    error,
                                })
                            }
                        }
                    }
                }
                Err(e) if matches!(e.kind(), ErrorKind::TimedOut | ErrorKind::Interrupted) => {}
                Err(e) => return Err(ReaderError::PortGone(e.to_string())),
            }
        }
    }

    /// Find card: `Ok(true)` for 9F, `Ok(false)` for 80 (no card).
    pub fn find_card(&mut self) -> Result<bool, ReaderError> {
        let r = self.transact(Command::FindCard)?;
        match r.sw3 {
            Sw3::FindOk => Ok(true),
            Sw3::NoCard => Ok(false),
            sw3 => Err(ReaderError::Status {
                command: Command::FindCard.name(),
                sw3,
            }),
        }
    }

    pub fn select_card(&mut self) -> Result<(), ReaderError> {
        let r = self.transact(Command::SelectCard)?;
        match r.sw3 {
            Sw3::Success => Ok(()),
            Sw3::NoCard => Err(ReaderError::NoCard),
            sw3 => Err(ReaderError::SelectFailed(sw3)),
        }
    }

    /// Reads the selected card (30 01, or 30 10 with `fingerprint`).
    pub fn read_selected(&mut self, fingerprint: bool) -> Result<IdCard, ReaderError> {
        let cmd = if fingerprint {
            Command::ReadTextPhotoFingerprint
        } else {
            Command::ReadTextPhoto
        };
        let r = self.transact(cmd)?;
        match r.sw3 {
            Sw3::Success => {}
            Sw3::NoCard => return Err(ReaderError::NoCard),
            sw3 => return Err(ReaderError::ReadFailed(sw3)),
        }
        let raw: RawCard = reply::parse_read(&r.data, fingerprint)?;
        Ok(IdCard::from_raw(&raw)?)
    }

    /// The additional address (30 03): `None` when the card has none (SW3 91).
    pub fn read_extra_address(&mut self) -> Result<Option<String>, ReaderError> {
        let r = self.transact(Command::ReadExtraAddress)?;
        match r.sw3 {
            Sw3::Success => Ok(Some(reply::parse_extra_address(&r.data)?)),
            Sw3::NoSuchItem => Ok(None),
            sw3 => Err(ReaderError::Status {
                command: Command::ReadExtraAddress.name(),
                sw3,
            }),
        }
    }

    /// One full read: find, select, read (and the additional address when configured),
    /// counted in the device's counters. Needs the device enabled.
    pub fn read_card(&mut self) -> Result<IdCard, ReaderError> {
        self.counted_read(true)
    }

    /// As [`IdCardReader::read_card`] after a find that already said a card is there.
    pub fn read_found_card(&mut self) -> Result<IdCard, ReaderError> {
        self.counted_read(false)
    }

    fn counted_read(&mut self, find_first: bool) -> Result<IdCard, ReaderError> {
        self.core.begin("read card")?;
        let result = self.read_sequence(find_first);
        match &result {
            Ok(_) => self.core.succeed("reads_ok"),
            Err(e) if e.is_port_gone() => {
                self.port = None;
                self.core.fail("port_lost", e.to_string());
            }
            Err(e) => self.core.fail_recoverable(e.cause(), e.to_string()),
        }
        result
    }

    fn read_sequence(&mut self, find_first: bool) -> Result<IdCard, ReaderError> {
        if find_first && !self.find_card()? {
            return Err(ReaderError::NoCard);
        }
        self.select_card()?;
        let mut card = self.read_selected(self.config.read_fingerprint)?;
        if self.config.read_extra_address {
            if let Some(extra) = self.read_extra_address()? {
                card.extra_address = extra;
            }
        }
        Ok(card)
    }

    pub fn sam_id(&mut self) -> Result<SamId, ReaderError> {
        let r = self.transact(Command::ReadSamId)?;
        expect_success(Command::ReadSamId, r.sw3)?;
        Ok(SamId::parse(&r.data)?)
    }

    /// SAM status: `Ok(())` when the SAM reports 90.
    pub fn sam_status(&mut self) -> Result<(), ReaderError> {
        let r = self.transact(Command::SamStatus)?;
        expect_success(Command::SamStatus, r.sw3)
    }

    pub fn reset_sam(&mut self) -> Result<(), ReaderError> {
        let r = self.transact(Command::ResetSam)?;
        expect_success(Command::ResetSam, r.sw3)
    }

    /// Switches the reader (60 nn) and then this port to another rate.
    pub fn set_reader_baud(&mut self, code: BaudCode) -> Result<(), ReaderError> {
        let r = self.transact(Command::SetBaud(code))?;
        expect_success(Command::SetBaud(code), r.sw3)?;
        if let Some(port) = self.port.as_mut() {
            port.set_baud_rate(code.rate())
                .map_err(|e| ReaderError::PortGone(e.to_string()))?;
        }
        self.config.baud = code.rate();
        Ok(())
    }
}

fn expect_success(cmd: Command, sw3: Sw3) -> Result<(), ReaderError> {
    if sw3 == Sw3::Success {
        Ok(())
    } else {
        Err(ReaderError::Status {
            command: cmd.name(),
            sw3,
        })
    }
}

impl Device for IdCardReader {
    fn name(&self) -> &str {
        DEVICE_NAME
    }

    fn open(&mut self) -> anyhow::Result<()> {
        if self.port.is_none() {
            self.open_port()?;
        }
        self.core.opened();
        Ok(())
    }

    fn claim(&mut self) -> anyhow::Result<()> {
        Ok(self.core.claim()?)
    }

    fn enable(&mut self) -> anyhow::Result<()> {
        Ok(self.core.enable()?)
    }

    fn release(&mut self) -> anyhow::Result<()> {
        self.core.release();
        Ok(())
    }

    fn close(&mut self) {
        self.port = None;
        self.decoder.reset();
        self.core.closed();
    }

    fn state(&self) -> DeviceState {
        self.core.state()
    }

    fn check_health(&mut self) -> String {
        let mut parts = vec![format!(
            "{DEVICE_NAME}: {} on {} at {} baud",
            self.core.state(),
            self.config.port,
            self.config.baud
        )];
        if self.port.is_some() && self.core.state() != DeviceState::Busy {
            match self.sam_status() {
                Ok(()) => parts.push("SAM ok".into()),
                Err(e) => parts.push(format!("SAM status: {e}")),
            }
            if let Ok(id) = self.sam_id() {
                parts.push(format!("SAM id {id}"));
            }
        }
        let c = self.core.counters.snapshot();
        let failures: u64 = c
            .values
            .iter()
            .filter(|(k, _)| k.starts_with("fail_"))
            .map(|(_, v)| v)
            .sum();
        parts.push(format!(
            "reads ok {}, failures {failures}",
            c.get("reads_ok")
        ));
        if let Some(e) = self.core.last_error() {
            parts.push(format!("last error: {e}"));
        }
        parts.join("; ")
    }

    fn counters(&self) -> Counters {
        self.core.counters.snapshot()
    }

    fn last_error(&self) -> Option<String> {
        self.core.last_error()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_follow_the_table_at_115200_and_stretch_at_slow_rates() {
        let t = Timeouts::default();
        assert_eq!(
            t.for_command(Command::FindCard, 115_200),
            Duration::from_millis(800)
        );
        assert_eq!(
            t.for_command(Command::ReadTextPhoto, 115_200),
            Duration::from_millis(3500)
        );
        assert_eq!(
            t.for_command(Command::ResetSam, 115_200),
            Duration::from_millis(300)
        );
        // 2321 bytes at 9600 baud take 2.42 s; x1.5 + 0.1 s exceeds 3.5 s.
        let slow = t.for_command(Command::ReadTextPhotoFingerprint, 9_600);
        assert!(slow > Duration::from_millis(3600), "{slow:?}");
    }

    #[test]
    fn wire_time_matches_the_spec_figures() {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        assert!((ms(wire_time(1295, 115_200)) - 112.4).abs() < 0.1);
        assert!((ms(wire_time(2321, 115_200)) - 201.5).abs() < 0.1);
    }

    #[test]
    fn errors_map_to_counter_causes() {
        assert_eq!(ReaderError::NoCard.cause(), "no_card");
        assert_eq!(ReaderError::ReadFailed(Sw3::ReadFailed).cause(), "read");
        assert!(ReaderError::PortGone("x".into()).is_port_gone());
        assert!(!ReaderError::NoCard.is_port_gone());
        assert_eq!(
            ReaderError::ReadFailed(Sw3::ReadFailed).to_string(),
            "card read failed (card moved or removed?): SW3 41 (card read failed)"
        );
    }

    #[test]
    fn commands_need_an_open_port() {
        let mut r = IdCardReader::new(
            ReaderConfig::new("/nonexistent"),
            SharedCounters::in_memory(),
        );
        assert!(matches!(r.find_card(), Err(ReaderError::NotOpen)));
        assert!(matches!(r.reopen(), Err(ReaderError::Open { .. })));
        assert!(r.read_card().is_err(), "not enabled");
        assert_eq!(r.state(), DeviceState::Closed);
    }
}
