//! Run-time commands for the standalone simulator (one per line on stdin).

use super::state::Paper;

pub const HELP: &str = "\
Commands on stdin while the simulator runs (one per line):
  paper ok|near_end|out      set the paper sensor
  cover open|closed          open or close the cover
  paper-out-after N          paper runs out after N more printed lines (0 = off)
  cutter-error on|off        jam or clear the autocutter
  status                     print the state and the DLE EOT 1..4 replies
  receipts                   list the rendered receipts
  help                       this text
  quit                       stop the simulator";

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Control {
    Paper(Paper),
    Cover { open: bool },
    PaperOutAfter(Option<u32>),
    CutterError(bool),
    Status,
    Receipts,
    Help,
    Quit,
}

pub fn parse(line: &str) -> Result<Control, String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let on_off = |w: &str| match w {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err(format!("expected on or off, got `{w}`")),
    };
    match words.as_slice() {
        ["paper", p] => Ok(Control::Paper(p.parse()?)),
        ["cover", "open"] => Ok(Control::Cover { open: true }),
        ["cover", "closed" | "close"] => Ok(Control::Cover { open: false }),
        ["paper-out-after", n] => {
            let n: u32 = n
                .parse()
                .map_err(|_| format!("`{n}` is not a number of lines"))?;
            Ok(Control::PaperOutAfter((n > 0).then_some(n)))
        }
        ["cutter-error", w] => Ok(Control::CutterError(on_off(w)?)),
        ["status"] => Ok(Control::Status),
        ["receipts"] => Ok(Control::Receipts),
        ["help"] => Ok(Control::Help),
        ["quit" | "exit"] => Ok(Control::Quit),
        _ => Err(format!("unknown command `{}` (try `help`)", line.trim())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse() {
        assert_eq!(parse("paper out"), Ok(Control::Paper(Paper::Out)));
        assert_eq!(parse(" cover  open "), Ok(Control::Cover { open: true }));
        assert_eq!(parse("cover closed"), Ok(Control::Cover { open: false }));
        assert_eq!(
            parse("paper-out-after 12"),
            Ok(Control::PaperOutAfter(Some(12)))
        );
        assert_eq!(parse("paper-out-after 0"), Ok(Control::PaperOutAfter(None)));
        assert_eq!(parse("cutter-error on"), Ok(Control::CutterError(true)));
        assert!(parse("paper empty").is_err());
        assert!(parse("cutter-error maybe").is_err());
        assert!(parse("dance").unwrap_err().contains("help"));
    }
}
