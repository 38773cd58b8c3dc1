//! A command's words, checked: what to do, or the error to answer.

/// One MLPerf Tiny command.
#[derive(Debug, PartialEq, Eq)]
pub enum Command<'a> {
    /// `name`: the device's name and vendor.
    Name,
    /// `profile`: the firmware's profile and the model key.
    Profile,
    /// `timestamp`: the clock now, in microseconds.
    Timestamp,
    /// `help`: the command list.
    Help,
    /// `db load N`: expect N input bytes.
    DbLoad(usize),
    /// `db HEX`: input bytes, two hex digits each.
    DbHex(&'a str),
    /// `db print`: the input bytes received, as hex.
    DbPrint,
    /// `infer N W`: W warmup then N timed inferences.
    Infer {
        /// Timed inferences.
        iterations: u32,
        /// Untimed inferences before.
        warmup: u32,
    },
    /// `results`: the last inference's outputs.
    Results,
}

/// Why a command is refused; each becomes an `e-[...]` line.
#[derive(Debug, PartialEq, Eq)]
pub enum Refusal<'a> {
    /// Nothing before the `%`.
    Empty,
    /// A first word that is no command.
    Unknown(&'a str),
    /// A known command used wrongly, in the reference firmware's words.
    Usage(&'static str),
}

/// Warmup inferences when `infer` gives none, as in the reference firmware.
const DEFAULT_WARMUP: i64 = 10;

/// Reads `text`, a command without its `%`. Words are split on runs of
/// spaces, case matters, as in the reference firmware.
pub fn parse(text: &str) -> Result<Command<'_>, Refusal<'_>> {
    let mut words = text.split(' ').filter(|w| !w.is_empty());
    let Some(first) = words.next() else {
        return Err(Refusal::Empty);
    };
    Ok(match first {
        "name" => Command::Name,
        "profile" => Command::Profile,
        "timestamp" => Command::Timestamp,
        "help" => Command::Help,
        "results" => Command::Results,
        "db" => match words.next() {
            None => return Err(Refusal::Usage("Command 'db' requires a subcommand")),
            Some("load") => match words.next().map(atoi) {
                None => return Err(Refusal::Usage("Command 'db load' requires the # of bytes")),
                Some(n) if n <= 0 => {
                    return Err(Refusal::Usage("Command 'db load' must be >0 bytes"));
                }
                Some(n) => Command::DbLoad(usize::try_from(n).unwrap_or(usize::MAX)),
            },
            Some("print") => Command::DbPrint,
            Some(hex) => Command::DbHex(hex),
        },
        "infer" => {
            let iterations = words.next().map_or(1, atoi);
            let warmup = words.next().map_or(DEFAULT_WARMUP, atoi);
            if iterations <= 0 {
                return Err(Refusal::Usage("Inference iterations must be >0"));
            }
            if warmup < 0 {
                return Err(Refusal::Usage("Inference warmup must be >=0"));
            }
            Command::Infer {
                iterations: u32::try_from(iterations).unwrap_or(u32::MAX),
                warmup: u32::try_from(warmup).unwrap_or(u32::MAX),
            }
        }
        other => return Err(Refusal::Unknown(other)),
    })
}

/// C's `atoi`, which the reference firmware parses numbers with: an
/// optional sign and the leading digits; 0 when there are none. Saturates
/// instead of overflowing.
fn atoi(word: &str) -> i64 {
    let (sign, digits) = match word.as_bytes().first() {
        Some(b'-') => (-1, &word[1..]),
        Some(b'+') => (1, &word[1..]),
        _ => (1, word),
    };
    let value = digits
        .bytes()
        .take_while(u8::is_ascii_digit)
        .fold(0i64, |n, d| {
            n.saturating_mul(10).saturating_add(i64::from(d - b'0'))
        });
    sign * value
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_as_the_reference_firmware_reads_them() {
        assert_eq!(parse("name"), Ok(Command::Name));
        assert_eq!(parse("  db   load 490 "), Ok(Command::DbLoad(490)));
        assert_eq!(parse("db 00ff"), Ok(Command::DbHex("00ff")));
        assert_eq!(parse("db print 16 0"), Ok(Command::DbPrint));
        assert_eq!(
            parse("infer 70 10"),
            Ok(Command::Infer {
                iterations: 70,
                warmup: 10
            })
        );
        assert_eq!(
            parse("infer"),
            Ok(Command::Infer {
                iterations: 1,
                warmup: 10
            })
        );
        assert_eq!(
            parse("infer 5"),
            Ok(Command::Infer {
                iterations: 5,
                warmup: 10
            })
        );
    }

    #[test]
    fn bad_commands_get_the_reference_firmwares_errors() {
        assert_eq!(parse(""), Err(Refusal::Empty));
        assert_eq!(parse("   "), Err(Refusal::Empty));
        assert_eq!(parse("Name"), Err(Refusal::Unknown("Name")));
        assert!(matches!(parse("db"), Err(Refusal::Usage(m)) if m.contains("subcommand")));
        assert!(matches!(parse("db load"), Err(Refusal::Usage(m)) if m.contains("# of bytes")));
        assert!(matches!(parse("db load x"), Err(Refusal::Usage(m)) if m.contains(">0 bytes")));
        assert!(matches!(parse("db load -4"), Err(Refusal::Usage(m)) if m.contains(">0 bytes")));
        assert!(matches!(parse("infer 0"), Err(Refusal::Usage(m)) if m.contains(">0")));
        assert!(matches!(parse("infer 3 -1"), Err(Refusal::Usage(m)) if m.contains(">=0")));
    }
}
