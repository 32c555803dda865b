//! Reading INF text into sections and entries (install/general-syntax-rules-for-inf-files).

use super::InfProblem;

/// One entry: `key = v1, v2` or a bare value list (file lists, registry lines).
#[derive(Debug, Clone)]
pub struct Entry {
    /// Line number of the entry's first physical line.
    pub line: usize,
    pub key: Option<String>,
    /// The comma-separated values, trimmed and unquoted.
    pub values: Vec<String>,
    /// The part after `=` (or the whole entry), trimmed, quotes still in.
    value_text: String,
    /// The whole logical line without its comment, for token scans.
    pub text: String,
}

impl Entry {
    /// The value as one string: for [Strings], whose values may hold unquoted commas.
    pub fn text_value(&self) -> String {
        unquote(&self.value_text)
    }
}

#[derive(Debug, Clone)]
pub struct Section {
    pub name: String,
    pub line: usize,
    pub entries: Vec<Entry>,
}

/// A parsed INF: its sections in file order (same-named sections are merged on lookup).
#[derive(Debug, Clone, Default)]
pub struct Inf {
    sections: Vec<Section>,
}

impl Inf {
    pub fn parse(text: &str) -> (Inf, Vec<InfProblem>) {
        let mut inf = Inf::default();
        let mut problems = Vec::new();
        for (line, logical) in logical_lines(text) {
            let trimmed = logical.trim();
            if trimmed.is_empty() {
                continue;
            }
            if let Some(rest) = trimmed.strip_prefix('[') {
                match rest.find(']') {
                    Some(end) => {
                        let name = unquote(rest[..end].trim());
                        if !rest[end + 1..].trim().is_empty() {
                            problems.push(InfProblem {
                                line,
                                message: format!(
                                    "text after the section name [{name}]: put entries on their \
                                     own lines"
                                ),
                            });
                        }
                        inf.sections.push(Section {
                            name,
                            line,
                            entries: Vec::new(),
                        });
                    }
                    None => problems.push(InfProblem {
                        line,
                        message: format!("`{trimmed}` opens a section name but has no `]`"),
                    }),
                }
                continue;
            }
            let Some(section) = inf.sections.last_mut() else {
                problems.push(InfProblem {
                    line,
                    message: format!(
                        "`{trimmed}` is outside any section: put it under a [section] header"
                    ),
                });
                continue;
            };
            section.entries.push(parse_entry(line, trimmed));
        }
        (inf, problems)
    }

    pub fn sections(&self) -> impl Iterator<Item = &Section> {
        self.sections.iter()
    }

    pub fn section_names(&self) -> impl Iterator<Item = &str> {
        self.sections.iter().map(|s| s.name.as_str())
    }

    /// The header line of the first section called `name` (case-insensitive).
    pub fn section_line(&self, name: &str) -> Option<usize> {
        self.sections
            .iter()
            .find(|s| s.name.eq_ignore_ascii_case(name))
            .map(|s| s.line)
    }

    /// The entries of every section called `name`, in file order.
    pub fn entries<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Entry> + 'a {
        self.sections
            .iter()
            .filter(move |s| s.name.eq_ignore_ascii_case(name))
            .flat_map(|s| s.entries.iter())
    }
}

/// Decodes an INF file: UTF-16LE with a byte order mark, or UTF-8 (with or without one).
pub fn decode(bytes: &[u8]) -> Result<String, String> {
    if let Some(rest) = bytes.strip_prefix(&[0xff, 0xfe]) {
        let units: Vec<u16> = rest
            .chunks_exact(2)
            .map(|c| u16::from_le_bytes([c[0], c[1]]))
            .collect();
        return String::from_utf16(&units).map_err(|e| format!("invalid UTF-16 text: {e}"));
    }
    let bytes = bytes.strip_prefix(&[0xef, 0xbb, 0xbf]).unwrap_or(bytes);
    String::from_utf8(bytes.to_vec())
        .map_err(|e| format!("the INF is neither UTF-8 nor UTF-16LE with a byte order mark: {e}"))
}

/// Physical lines joined at `\` continuations, comments removed, with the first line's number.
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (index, physical) in text.lines().enumerate() {
        let content = strip_comment(physical);
        let trimmed = content.trim_end();
        let (piece, continues) = match trimmed.strip_suffix('\\') {
            Some(before) => (before.to_string(), true),
            None => (trimmed.to_string(), false),
        };
        let (line, mut joined) = pending.take().unwrap_or((index + 1, String::new()));
        joined.push_str(&piece);
        if continues {
            pending = Some((line, joined));
        } else {
            out.push((line, joined));
        }
    }
    if let Some(last) = pending {
        out.push(last);
    }
    out
}

/// The line up to a `;` that is outside quotes.
fn strip_comment(line: &str) -> &str {
    let mut quoted = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => quoted = !quoted,
            ';' if !quoted => return &line[..i],
            _ => {}
        }
    }
    line
}

/// Splits at every `separator` outside quotes.
fn split_outside_quotes(text: &str, separator: char, limit: usize) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (i, c) in text.char_indices() {
        if c == '"' {
            quoted = !quoted;
        } else if c == separator && !quoted && parts.len() + 1 < limit {
            parts.push(&text[start..i]);
            start = i + c.len_utf8();
        }
    }
    parts.push(&text[start..]);
    parts
}

fn parse_entry(line: usize, text: &str) -> Entry {
    let parts = split_outside_quotes(text, '=', 2);
    let (key, value_text) = match parts[..] {
        [key, value] => (Some(unquote(key.trim())), value.trim()),
        _ => (None, text),
    };
    let values = if value_text.is_empty() {
        Vec::new()
    } else {
        split_outside_quotes(value_text, ',', usize::MAX)
            .into_iter()
            .map(|v| unquote(v.trim()))
            .collect()
    };
    Entry {
        line,
        key,
        values,
        value_text: value_text.to_string(),
        text: text.to_string(),
    }
}

/// Removes quote delimiters; `""` inside quotes is one `"`.
pub fn unquote(text: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '"' {
            if quoted && chars.peek() == Some(&'"') {
                out.push('"');
                chars.next();
            } else {
                quoted = !quoted;
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The `%strkey%` tokens of a text (`%%` is a literal percent sign).
pub fn tokens(text: &str) -> Result<Vec<String>, String> {
    let mut found = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find('%') {
        let after = &rest[start + 1..];
        if let Some(escaped) = after.strip_prefix('%') {
            rest = escaped;
            continue;
        }
        let Some(end) = after.find('%') else {
            return Err(format!(
                "`{}` has a % with no closing %: write %name% for a string or %% for a percent sign",
                text.trim()
            ));
        };
        found.push(after[..end].to_string());
        rest = &after[end + 1..];
    }
    Ok(found)
}

/// Replaces each `%strkey%` that `lookup` knows; other tokens and `%%` stay as written.
pub fn substitute(text: &str, lookup: impl Fn(&str) -> Option<String>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find('%') {
        out.push_str(&rest[..start]);
        let after = &rest[start + 1..];
        if let Some(escaped) = after.strip_prefix('%') {
            out.push_str("%%");
            rest = escaped;
            continue;
        }
        let Some(end) = after.find('%') else {
            out.push_str(&rest[start..]);
            return out;
        };
        let token = &after[..end];
        match lookup(token) {
            Some(value) => out.push_str(&value),
            None => {
                out.push('%');
                out.push_str(token);
                out.push('%');
            }
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

/// `{xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx}`.
pub fn is_guid(text: &str) -> bool {
    let Some(inner) = text.strip_prefix('{').and_then(|t| t.strip_suffix('}')) else {
        return false;
    };
    let groups: Vec<&str> = inner.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, len)| g.len() == len && g.chars().all(|c| c.is_ascii_hexdigit()))
}

/// A decimal or `0x` hexadecimal number.
pub fn number(text: &str) -> Option<u64> {
    let text = text.trim();
    match text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => text.parse().ok(),
    }
}

/// `mm/dd/yyyy,w.x.y.z` (install/inf-driverver-directive): two-digit month and day, four-digit
/// year, `-` allowed as the date separator, each version part below 65535, not 0.0.0.0.
pub fn check_driver_ver(values: &[String]) -> Result<(), String> {
    let [date, version] = values else {
        return Err("it needs a date and a version, separated by a comma".into());
    };
    let parts: Vec<&str> = date.split(['/', '-']).collect();
    let [month, day, year] = parts[..] else {
        return Err(format!("the date `{date}` is not mm/dd/yyyy"));
    };
    let digits = |s: &str, n: usize| s.len() == n && s.chars().all(|c| c.is_ascii_digit());
    if !digits(month, 2) || !digits(day, 2) || !digits(year, 4) {
        return Err(format!(
            "the date `{date}` is not mm/dd/yyyy (two-digit month and day, four-digit year)"
        ));
    }
    let (month, day, year): (u32, u32, u32) = (
        month.parse().unwrap_or(0),
        day.parse().unwrap_or(0),
        year.parse().unwrap_or(0),
    );
    if !(1..=12).contains(&month) {
        return Err(format!(
            "month {month} is not 1..12 (the date is month/day/year)"
        ));
    }
    let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if !(1..=days).contains(&day) {
        return Err(format!(
            "day {day} does not exist in month {month} of {year}"
        ));
    }
    let fields: Vec<&str> = version.split('.').collect();
    if fields.len() != 4 {
        return Err(format!(
            "the version `{version}` does not have four parts w.x.y.z"
        ));
    }
    let mut numbers = Vec::new();
    for field in fields {
        match field.parse::<u32>() {
            Ok(n) if n < 65535 && field.chars().all(|c| c.is_ascii_digit()) => numbers.push(n),
            _ => {
                return Err(format!(
                    "version part `{field}` is not an integer from 0 to 65534"
                ));
            }
        }
    }
    if numbers.iter().all(|&n| n == 0) {
        return Err("the version 0.0.0.0 is not valid".into());
    }
    Ok(())
}
