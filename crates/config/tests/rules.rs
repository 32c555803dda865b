//! Every rule of the settings table: each value at its bounds, past them, of the wrong type,
//! as text that is too long, too short or not UTF-16, the two rules that join values, and a
//! registry that fails.
#![forbid(unsafe_code)]

use std::collections::HashMap;

use rswan_config::{
    ANSWER_INCOMING, Kind, LOOPBACK_PAIRS, MAX_SESSIONS, MAX_SESSIONS_PER_PEER, PPPOE_LINES,
    Problem, Registry, SETTINGS, Settings, TEXT_CAPACITY, Text, Used, Value, Warning, load,
};

enum Stored {
    Dword(u32),
    Text(Vec<u16>),
}

/// A registry key as a table; `fail_at` makes the n-th read (1-based) fail.
#[derive(Default)]
struct Table {
    values: HashMap<&'static str, Stored>,
    reads: Vec<&'static str>,
    fail_at: Option<usize>,
}

impl Table {
    fn dword(mut self, name: &'static str, value: u32) -> Table {
        self.values.insert(name, Stored::Dword(value));
        self
    }

    fn units(mut self, name: &'static str, units: Vec<u16>) -> Table {
        self.values.insert(name, Stored::Text(units));
        self
    }

    fn text(self, name: &'static str, text: &str) -> Table {
        self.units(name, text.encode_utf16().collect())
    }
}

#[derive(Debug, PartialEq)]
struct ReadFailed;

impl Registry for Table {
    type Error = ReadFailed;

    fn read(&mut self, setting: &rswan_config::Setting) -> Result<Value<'_>, ReadFailed> {
        self.reads.push(setting.name);
        if self.fail_at == Some(self.reads.len()) {
            return Err(ReadFailed);
        }
        Ok(match self.values.get(setting.name) {
            None => Value::Absent,
            Some(Stored::Dword(value)) => Value::Dword(*value),
            Some(Stored::Text(units)) => Value::Text(units),
        })
    }
}

fn load_table(mut table: Table) -> (Settings, Vec<Warning>) {
    let mut warnings = Vec::new();
    let settings = load(&mut table, |w| warnings.push(w)).expect("a table never fails");
    (settings, warnings)
}

fn out_of_range(setting: &'static str, value: u32, min: u32, max: u32, used: u32) -> Warning {
    Warning {
        setting,
        problem: Problem::OutOfRange { value, min, max },
        used: Used::Dword(used),
    }
}

#[test]
fn an_empty_key_gives_the_documented_defaults_without_a_warning() {
    let (settings, warnings) = load_table(Table::default());
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(settings, Settings::default());
    assert_eq!(settings.pppoe_lines, 2);
    assert_eq!(settings.loopback_pairs, 1);
    assert_eq!(settings.service_name.as_str(), "");
    assert_eq!(settings.ac_name.as_str(), "rswan");
    assert!(settings.answer_incoming);
    assert_eq!(settings.max_sessions, 64);
    assert_eq!(settings.max_sessions_per_peer, 4);
}

#[test]
fn every_setting_is_read_once_in_table_order_by_its_utf16_name() {
    let mut table = Table::default();
    load(&mut table, |_| {}).unwrap();
    let names: Vec<&str> = SETTINGS.iter().map(|s| s.name).collect();
    assert_eq!(table.reads, names);
    for setting in SETTINGS {
        let wide: Vec<u16> = setting.name.encode_utf16().collect();
        assert_eq!(setting.keyword, wide.as_slice(), "{}", setting.name);
        if let Kind::Dword { min, max, default } = setting.kind {
            assert!((min..=max).contains(&default), "{}", setting.name);
        }
    }
}

#[test]
fn each_dword_takes_its_bounds_and_refuses_what_lies_past_them() {
    // (setting, min, max, default)
    let ranges = [
        (PPPOE_LINES.name, 0, 64, 2),
        (LOOPBACK_PAIRS.name, 0, 32, 1),
        (ANSWER_INCOMING.name, 0, 1, 1),
        (MAX_SESSIONS.name, 1, 64, 64),
    ];
    let field = |settings: &Settings, name: &str| match name {
        "PppoeLines" => settings.pppoe_lines,
        "LoopbackPairs" => settings.loopback_pairs,
        "AnswerIncoming" => u32::from(settings.answer_incoming),
        "MaxSessions" => settings.max_sessions,
        other => panic!("{other}"),
    };
    for (name, min, max, default) in ranges {
        for good in [min, max] {
            // The other line count stays at its default, so 0 lines here is allowed.
            let (settings, warnings) = load_table(Table::default().dword(name, good));
            assert!(warnings.is_empty(), "{name} = {good}: {warnings:?}");
            assert_eq!(field(&settings, name), good, "{name}");
        }
        let mut bad = vec![max + 1, u32::MAX];
        if min > 0 {
            bad.push(min - 1);
        }
        for value in bad {
            let (settings, warnings) = load_table(Table::default().dword(name, value));
            assert_eq!(field(&settings, name), default, "{name} = {value}");
            assert_eq!(
                warnings,
                [out_of_range(name, value, min, max, default)],
                "{name} = {value}"
            );
        }
    }
}

#[test]
fn answer_incoming_zero_turns_answering_off() {
    let (settings, _) = load_table(Table::default().dword("AnswerIncoming", 0));
    assert!(!settings.answer_incoming);
}

#[test]
fn no_line_at_all_falls_back_to_both_line_defaults() {
    let (settings, warnings) = load_table(
        Table::default()
            .dword("PppoeLines", 0)
            .dword("LoopbackPairs", 0),
    );
    assert_eq!((settings.pppoe_lines, settings.loopback_pairs), (2, 1));
    let problems: Vec<(&str, Problem, Used)> = warnings
        .iter()
        .map(|w| (w.setting, w.problem, w.used))
        .collect();
    assert_eq!(
        problems,
        [
            ("PppoeLines", Problem::NoLines, Used::Dword(2)),
            ("LoopbackPairs", Problem::NoLines, Used::Dword(1)),
        ]
    );
    // Loopback lines alone, or PPPoE lines alone, are fine.
    for (pppoe, pairs) in [(0, 3), (5, 0)] {
        let (settings, warnings) = load_table(
            Table::default()
                .dword("PppoeLines", pppoe)
                .dword("LoopbackPairs", pairs),
        );
        assert!(warnings.is_empty());
        assert_eq!(
            (settings.pppoe_lines, settings.loopback_pairs),
            (pppoe, pairs)
        );
    }
}

#[test]
fn sessions_per_peer_are_bounded_by_max_sessions_as_read() {
    let name = MAX_SESSIONS_PER_PEER.name;
    // Within 1..=MaxSessions.
    for (max, per_peer) in [(8, 1), (8, 8), (3, 3), (64, 64), (64, 20)] {
        let (settings, warnings) = load_table(
            Table::default()
                .dword("MaxSessions", max)
                .dword(name, per_peer),
        );
        assert!(warnings.is_empty(), "{max} {per_peer}: {warnings:?}");
        assert_eq!(settings.max_sessions_per_peer, per_peer);
    }
    // Above MaxSessions: the default 4, cut to MaxSessions.
    let (settings, warnings) = load_table(Table::default().dword("MaxSessions", 2).dword(name, 3));
    assert_eq!(settings.max_sessions_per_peer, 2);
    assert_eq!(warnings, [out_of_range(name, 3, 1, 2, 2)]);
    // 0, and above the most MaxSessions allows.
    for value in [0, 65] {
        let (settings, warnings) = load_table(Table::default().dword(name, value));
        assert_eq!(settings.max_sessions_per_peer, 4);
        assert_eq!(warnings, [out_of_range(name, value, 1, 64, 4)]);
    }
    // A MaxSessions that was refused is replaced before it bounds MaxSessionsPerPeer.
    let (settings, warnings) =
        load_table(Table::default().dword("MaxSessions", 100).dword(name, 6));
    assert_eq!(
        (settings.max_sessions, settings.max_sessions_per_peer),
        (64, 6)
    );
    assert_eq!(warnings, [out_of_range("MaxSessions", 100, 1, 64, 64)]);
}

#[test]
fn max_sessions_reaches_as_far_as_the_lines_an_incoming_session_rings_on() {
    // Each incoming session rings on its own listening PPPoE line: the session limit and the
    // line limit are the same number.
    let Kind::Dword { max: lines, .. } = PPPOE_LINES.kind else {
        panic!("PppoeLines is a DWORD")
    };
    let Kind::Dword { max: sessions, .. } = MAX_SESSIONS.kind else {
        panic!("MaxSessions is a DWORD")
    };
    assert_eq!(sessions, lines);
    assert_eq!(sessions, rswan_config::SESSIONS_PER_BINDING_LIMIT);
}

#[test]
fn text_values_are_taken_as_utf8_up_to_the_capacity() {
    let names = [
        "",
        "isp",
        "Zürich-Ä",
        &"x".repeat(TEXT_CAPACITY),
        &"€".repeat(TEXT_CAPACITY / 3),
    ];
    for name in names {
        let (settings, warnings) = load_table(Table::default().text("ServiceName", name));
        assert!(warnings.is_empty(), "{name:?}: {warnings:?}");
        assert_eq!(settings.service_name.as_str(), name);
        assert_eq!(settings.service_name.as_bytes(), name.as_bytes());
    }
    let (settings, warnings) = load_table(Table::default().text("AcName", "my-ac"));
    assert!(warnings.is_empty());
    assert_eq!(settings.ac_name.as_str(), "my-ac");
}

#[test]
fn text_that_is_too_long_too_short_not_unicode_or_a_dword_takes_its_default() {
    let rswan = Used::Text(Text::new("rswan").unwrap());
    let empty = Used::Text(Text::default());
    let long = "y".repeat(TEXT_CAPACITY + 1);
    // 43 three-byte characters are 129 bytes of UTF-8 from only 43 UTF-16 units.
    let wide = "€".repeat(TEXT_CAPACITY / 3 + 1);
    let cases: Vec<(Table, &str, Problem, Used)> = vec![
        (
            Table::default().text("ServiceName", &long),
            "ServiceName",
            Problem::TooLong { bytes: 129 },
            empty,
        ),
        (
            Table::default().text("AcName", &wide),
            "AcName",
            Problem::TooLong { bytes: 129 },
            rswan,
        ),
        (
            Table::default().text("AcName", ""),
            "AcName",
            Problem::TooShort { bytes: 0, min: 1 },
            rswan,
        ),
        (
            Table::default().units("AcName", vec![0x61, 0xD800, 0x62]),
            "AcName",
            Problem::NotUnicode,
            rswan,
        ),
        (
            Table::default().units("ServiceName", vec![0xDC00]),
            "ServiceName",
            Problem::NotUnicode,
            empty,
        ),
        (
            Table::default().dword("ServiceName", 7),
            "ServiceName",
            Problem::WrongType,
            empty,
        ),
        (
            Table::default().text("PppoeLines", "4"),
            "PppoeLines",
            Problem::WrongType,
            Used::Dword(2),
        ),
    ];
    for (table, setting, problem, used) in cases {
        let (settings, warnings) = load_table(table);
        assert_eq!(
            warnings,
            [Warning {
                setting,
                problem,
                used
            }]
        );
        assert_eq!(settings.ac_name.as_str(), "rswan");
        assert_eq!(settings.service_name.as_str(), "");
        assert_eq!(settings.pppoe_lines, 2);
    }
}

#[test]
fn a_failing_registry_fails_the_load_at_any_read() {
    for n in 1..=SETTINGS.len() {
        let mut table = Table {
            fail_at: Some(n),
            ..Table::default()
        };
        assert_eq!(load(&mut table, |_| {}), Err(ReadFailed), "read {n}");
        assert_eq!(table.reads.len(), n, "reads after the failure");
    }
}

#[test]
fn warnings_read_as_one_log_line_each() {
    let lines: Vec<String> = [
        out_of_range("PppoeLines", 100, 0, 64, 2),
        Warning {
            setting: "AcName",
            problem: Problem::TooShort { bytes: 0, min: 1 },
            used: Used::Text(Text::new("rswan").unwrap()),
        },
        Warning {
            setting: "LoopbackPairs",
            problem: Problem::NoLines,
            used: Used::Dword(1),
        },
    ]
    .iter()
    .map(ToString::to_string)
    .collect();
    assert_eq!(
        lines,
        [
            "PppoeLines = 100 is out of range 0..=64; using 2",
            "AcName is 0 bytes, fewer than 1; using \"rswan\"",
            "LoopbackPairs = 0 with no other line; using 1",
        ]
    );
}
