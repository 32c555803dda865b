//! # rswan-config: the driver's settings in the adapter's registry key
//!
//! MiniportInitializeEx reads these values from the adapter's key, the one
//! `NdisOpenConfigurationEx` opens for the MiniportAdapterHandle (WDK:
//! nf-ndis-ndisopenconfigurationex, nf-ndis-ndisreadconfiguration); the INF writes their
//! defaults there. Values are read as the WDK's NDIS_PARAMETER_TYPE says: a DWORD setting with
//! `NdisParameterInteger`, a text setting with `NdisParameterString`.
//!
//! | value | type | valid | default | what it sets |
//! | --- | --- | --- | --- | --- |
//! | `PppoeLines` | REG_DWORD | 0..=64 | 2 | TAPI lines that dial out and answer over PPPoE |
//! | `LoopbackPairs` | REG_DWORD | 0..=32 | 1 | pairs of lines wired to each other inside the driver |
//! | `ServiceName` | REG_SZ | 0..=128 bytes of UTF-8 | "" | the Service-Name the access concentrator offers; empty: any |
//! | `AcName` | REG_SZ | 1..=128 bytes of UTF-8 | "rswan" | the AC-Name of its PADO, PADS and PADT |
//! | `AnswerIncoming` | REG_DWORD | 0 or 1 | 1 | 1: answer PPPoE clients and offer their calls to RAS; 0: dial out only |
//! | `MaxSessions` | REG_DWORD | 1..=64 | 64 | sessions the access concentrator holds at once on one Ethernet binding |
//! | `MaxSessionsPerPeer` | REG_DWORD | 1..=`MaxSessions` | 4, at most `MaxSessions` | of those, sessions one peer MAC address may hold |
//!
//! Two rules join values: `PppoeLines` and `LoopbackPairs` both 0 leave the adapter without a
//! line, so both take their defaults; `MaxSessionsPerPeer` above `MaxSessions` takes its
//! default, cut to `MaxSessions`.
//!
//! A missing value takes its default silently (an INF of an older version may not write it).
//! A value out of range, of the wrong type, or that is not valid UTF-16 takes its default
//! too, with a [`Warning`] the driver logs. The loading here is pure: the driver reads through
//! the [`Registry`] trait, and the host tests check every rule.
#![no_std]
#![forbid(unsafe_code)]

use core::fmt;

mod text;

pub use text::{TEXT_CAPACITY, Text};

/// What a setting holds and which values it accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A REG_DWORD in `min..=max`.
    Dword { min: u32, max: u32, default: u32 },
    /// A REG_SZ of at least `min_bytes` bytes of UTF-8 (and at most [`TEXT_CAPACITY`]).
    Text {
        min_bytes: usize,
        default: &'static str,
    },
}

/// One value of the adapter's key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Setting {
    /// The value's name, as the INF writes it.
    pub name: &'static str,
    /// The same name in UTF-16, for `NdisReadConfiguration`'s Keyword.
    pub keyword: &'static [u16],
    pub kind: Kind,
}

/// `name` in UTF-16 (the names are ASCII).
const fn utf16<const N: usize>(name: &str) -> [u16; N] {
    let bytes = name.as_bytes();
    let mut wide = [0u16; N];
    let mut i = 0;
    while i < N {
        wide[i] = bytes[i] as u16;
        i += 1;
    }
    wide
}

macro_rules! setting {
    ($name:literal, $kind:expr) => {
        Setting {
            name: $name,
            keyword: &utf16::<{ $name.len() }>($name),
            kind: $kind,
        }
    };
}

pub const PPPOE_LINES: Setting = setting!(
    "PppoeLines",
    Kind::Dword {
        min: 0,
        max: 64,
        default: 2
    }
);
pub const LOOPBACK_PAIRS: Setting = setting!(
    "LoopbackPairs",
    Kind::Dword {
        min: 0,
        max: 32,
        default: 1
    }
);
pub const SERVICE_NAME: Setting = setting!(
    "ServiceName",
    Kind::Text {
        min_bytes: 0,
        default: ""
    }
);
pub const AC_NAME: Setting = setting!(
    "AcName",
    Kind::Text {
        min_bytes: 1,
        default: "rswan"
    }
);
pub const ANSWER_INCOMING: Setting = setting!(
    "AnswerIncoming",
    Kind::Dword {
        min: 0,
        max: 1,
        default: 1
    }
);
/// The most `MaxSessions` may ask for. Each incoming session rings on a listening PPPoE line,
/// so more sessions than the most `PppoeLines` allows could never all be answered. The driver
/// sizes each binding's session table from `MaxSessions` as read, in pool memory.
pub const SESSIONS_PER_BINDING_LIMIT: u32 = 64;

pub const MAX_SESSIONS: Setting = setting!(
    "MaxSessions",
    Kind::Dword {
        min: 1,
        max: SESSIONS_PER_BINDING_LIMIT,
        default: SESSIONS_PER_BINDING_LIMIT
    }
);
/// Its maximum is `MaxSessions` as read; `max` here is that of `MaxSessions`.
pub const MAX_SESSIONS_PER_PEER: Setting = setting!(
    "MaxSessionsPerPeer",
    Kind::Dword {
        min: 1,
        max: SESSIONS_PER_BINDING_LIMIT,
        default: 4
    }
);

/// Every setting, in the order the driver reads them.
pub const SETTINGS: [Setting; 7] = [
    PPPOE_LINES,
    LOOPBACK_PAIRS,
    SERVICE_NAME,
    AC_NAME,
    ANSWER_INCOMING,
    MAX_SESSIONS,
    MAX_SESSIONS_PER_PEER,
];

/// A value as the registry gave it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Value<'a> {
    /// No such value (NdisReadConfiguration: NDIS_STATUS_FAILURE).
    Absent,
    /// `NdisParameterInteger` data.
    Dword(u32),
    /// `NdisParameterString` data: UTF-16 code units, no terminating NUL.
    Text(&'a [u16]),
}

/// Where settings come from: the driver's NDIS configuration handle, or a test's table.
pub trait Registry {
    /// A failure that ends the loading (the driver's: NdisReadConfiguration out of memory).
    type Error;
    /// Reads `setting` as its [`Kind`] asks.
    fn read(&mut self, setting: &Setting) -> Result<Value<'_>, Self::Error>;
}

/// The settings after validation: every field is in its range.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Settings {
    pub pppoe_lines: u32,
    pub loopback_pairs: u32,
    pub service_name: Text,
    pub ac_name: Text,
    pub answer_incoming: bool,
    pub max_sessions: u32,
    pub max_sessions_per_peer: u32,
}

impl Default for Settings {
    /// Every default, as the table above lists them.
    fn default() -> Self {
        Settings {
            pppoe_lines: dword_default(&PPPOE_LINES),
            loopback_pairs: dword_default(&LOOPBACK_PAIRS),
            service_name: text_default(&SERVICE_NAME),
            ac_name: text_default(&AC_NAME),
            answer_incoming: dword_default(&ANSWER_INCOMING) == 1,
            max_sessions: dword_default(&MAX_SESSIONS),
            max_sessions_per_peer: dword_default(&MAX_SESSIONS_PER_PEER),
        }
    }
}

fn dword_default(setting: &Setting) -> u32 {
    match setting.kind {
        Kind::Dword { default, .. } => default,
        Kind::Text { .. } => 0,
    }
}

fn text_default(setting: &Setting) -> Text {
    match setting.kind {
        Kind::Text { default, .. } => Text::new(default).unwrap_or_default(),
        Kind::Dword { .. } => Text::default(),
    }
}

/// Why a value was not taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    /// A DWORD outside `min..=max`.
    OutOfRange { value: u32, min: u32, max: u32 },
    /// Text longer than [`TEXT_CAPACITY`] bytes of UTF-8.
    TooLong { bytes: usize },
    /// Text shorter than the setting's minimum (an empty AC-Name).
    TooShort { bytes: usize, min: usize },
    /// UTF-16 with an unpaired surrogate.
    NotUnicode,
    /// A text where a DWORD belongs, or the other way round.
    WrongType,
    /// `PppoeLines` and `LoopbackPairs` both 0: no line at all.
    NoLines,
}

/// A value that was refused, and what is used instead.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Warning {
    pub setting: &'static str,
    pub problem: Problem,
    pub used: Used,
}

/// The value used in place of a refused one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Used {
    Dword(u32),
    Text(Text),
}

impl fmt::Display for Warning {
    /// One log line, e.g. `PppoeLines = 100 is out of range 0..=64; using 2`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = self.setting;
        match self.problem {
            Problem::OutOfRange { value, min, max } => {
                write!(f, "{name} = {value} is out of range {min}..={max}")?
            }
            Problem::TooLong { bytes } => write!(
                f,
                "{name} is {bytes} bytes of UTF-8, more than {TEXT_CAPACITY}"
            )?,
            Problem::TooShort { bytes, min } => {
                write!(f, "{name} is {bytes} bytes, fewer than {min}")?
            }
            Problem::NotUnicode => write!(f, "{name} is not valid UTF-16")?,
            Problem::WrongType => write!(f, "{name} has the wrong registry type")?,
            Problem::NoLines => write!(f, "{name} = 0 with no other line")?,
        }
        match &self.used {
            Used::Dword(value) => write!(f, "; using {value}"),
            Used::Text(text) => write!(f, "; using \"{text}\""),
        }
    }
}

/// Checks a DWORD against `min..=max`; the default (and a warning) when it is not in it.
pub fn check_dword(setting: &Setting, value: Value<'_>, max: u32) -> (u32, Option<Warning>) {
    let (min, default) = match setting.kind {
        Kind::Dword { min, default, .. } => (min, default),
        Kind::Text { .. } => (0, 0),
    };
    let default = default.min(max);
    let problem = match value {
        Value::Absent => return (default, None),
        Value::Dword(value) if (min..=max).contains(&value) => return (value, None),
        Value::Dword(value) => Problem::OutOfRange { value, min, max },
        Value::Text(_) => Problem::WrongType,
    };
    let warning = Warning {
        setting: setting.name,
        problem,
        used: Used::Dword(default),
    };
    (default, Some(warning))
}

/// Checks a text: valid UTF-16, at least the setting's minimum and at most
/// [`TEXT_CAPACITY`] bytes once in UTF-8; the default (and a warning) otherwise.
pub fn check_text(setting: &Setting, value: Value<'_>) -> (Text, Option<Warning>) {
    let (min_bytes, default) = match setting.kind {
        Kind::Text { min_bytes, .. } => (min_bytes, text_default(setting)),
        Kind::Dword { .. } => (0, Text::default()),
    };
    let problem = match value {
        Value::Absent => return (default, None),
        Value::Dword(_) => Problem::WrongType,
        Value::Text(units) => match Text::from_utf16(units) {
            Ok(text) if text.len() >= min_bytes => return (text, None),
            Ok(text) => Problem::TooShort {
                bytes: text.len(),
                min: min_bytes,
            },
            Err(problem) => problem,
        },
    };
    let warning = Warning {
        setting: setting.name,
        problem,
        used: Used::Text(default),
    };
    (default, Some(warning))
}

fn dword_max(setting: &Setting) -> u32 {
    match setting.kind {
        Kind::Dword { max, .. } => max,
        Kind::Text { .. } => 0,
    }
}

/// Reads and checks every setting; `warn` gets each value that was refused. Fails only when
/// the registry does.
pub fn load<R: Registry>(
    registry: &mut R,
    mut warn: impl FnMut(Warning),
) -> Result<Settings, R::Error> {
    let mut dword = |setting: &Setting, max: u32| -> Result<u32, R::Error> {
        let value = registry.read(setting)?;
        Ok(take(check_dword(setting, value, max), &mut warn))
    };
    let pppoe_lines = dword(&PPPOE_LINES, dword_max(&PPPOE_LINES))?;
    let loopback_pairs = dword(&LOOPBACK_PAIRS, dword_max(&LOOPBACK_PAIRS))?;
    let value = registry.read(&SERVICE_NAME)?;
    let service_name = take(check_text(&SERVICE_NAME, value), &mut warn);
    let value = registry.read(&AC_NAME)?;
    let ac_name = take(check_text(&AC_NAME, value), &mut warn);
    let mut dword = |setting: &Setting, max: u32| -> Result<u32, R::Error> {
        let value = registry.read(setting)?;
        Ok(take(check_dword(setting, value, max), &mut warn))
    };
    let answer_incoming = dword(&ANSWER_INCOMING, dword_max(&ANSWER_INCOMING))? == 1;
    let max_sessions = dword(&MAX_SESSIONS, dword_max(&MAX_SESSIONS))?;
    let max_sessions_per_peer = dword(&MAX_SESSIONS_PER_PEER, max_sessions)?;
    let mut settings = Settings {
        pppoe_lines,
        loopback_pairs,
        service_name,
        ac_name,
        answer_incoming,
        max_sessions,
        max_sessions_per_peer,
    };
    if settings.pppoe_lines == 0 && settings.loopback_pairs == 0 {
        let defaults = Settings::default();
        settings.pppoe_lines = defaults.pppoe_lines;
        settings.loopback_pairs = defaults.loopback_pairs;
        for (setting, value) in [
            (&PPPOE_LINES, defaults.pppoe_lines),
            (&LOOPBACK_PAIRS, defaults.loopback_pairs),
        ] {
            warn(Warning {
                setting: setting.name,
                problem: Problem::NoLines,
                used: Used::Dword(value),
            });
        }
    }
    Ok(settings)
}

/// The checked value; its warning, if any, goes to `warn`.
fn take<T>((value, warning): (T, Option<Warning>), warn: &mut impl FnMut(Warning)) -> T {
    if let Some(warning) = warning {
        warn(warning);
    }
    value
}
