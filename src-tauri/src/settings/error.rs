//! What is wrong with the configuration, and where: the file, the line and the field.
//!
//! Rules kept here:
//! - An error is one line, so an operator can fix the file without reading a stack of messages.
//! - A value the file or a flag sets reads `FIELD (in FILE or on the command line) must be …`
//!   when it misses a bound and `FIELD (in FILE or on the command line): …` otherwise; a spot in
//!   the file reads `config file FILE, line N, field FIELD: …`. These texts are asserted by tests
//!   and by operators' habits: they do not change.
//! - Every "must be between" is written by [`between`], and only there.

use std::fmt;
use std::ops::Range;

/// Where a mistake is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    /// A value the file or a command-line flag sets; `file` is the file's name, when there is one.
    Setting { field: String, file: Option<String> },
    /// A spot in the file's text: its line when known, and the field written there.
    File {
        /// `None` when the settings were not read from a file (the field alone is named).
        file: Option<String>,
        line: Option<usize>,
        field: Option<String>,
    },
    /// A file that cannot be read.
    Unreadable { path: String },
    /// The configuration as a whole, by its file's name (or "the configuration").
    Configuration { file: Option<String> },
    /// Nowhere in particular: the message says everything.
    Nowhere,
}

/// What is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem {
    /// A bound the value misses, as a sentence that starts with "must".
    Bound(String),
    /// Anything else: a value that is not what it should be, a missing companion, a clash.
    Invalid(String),
}

/// A configuration mistake, named so it can be fixed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingsError {
    pub place: Place,
    pub problem: Problem,
}

impl Place {
    /// `problem` at this place.
    pub fn invalid(self, problem: impl Into<String>) -> SettingsError {
        SettingsError {
            place: self,
            problem: Problem::Invalid(problem.into()),
        }
    }

    /// A missed bound at this place; `must` starts with "must".
    pub fn bound(self, must: impl Into<String>) -> SettingsError {
        SettingsError {
            place: self,
            problem: Problem::Bound(must.into()),
        }
    }
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Place::Setting {
                field,
                file: Some(file),
            } => write!(f, "{field} (in {file} or on the command line)"),
            Place::Setting { field, file: None } => f.write_str(field),
            Place::File {
                file: Some(file),
                line,
                field,
            } => {
                write!(f, "config file {file}")?;
                if let Some(line) = line {
                    write!(f, ", line {line}")?;
                }
                if let Some(field) = field {
                    write!(f, ", field {field}")?;
                }
                Ok(())
            }
            Place::File {
                file: None, field, ..
            } => f.write_str(field.as_deref().unwrap_or("the configuration")),
            Place::Unreadable { path } => write!(f, "cannot read config file {path}"),
            Place::Configuration { file } => {
                f.write_str(file.as_deref().unwrap_or("the configuration"))
            }
            Place::Nowhere => Ok(()),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::Bound(m) | Problem::Invalid(m) => f.write_str(m),
        }
    }
}

impl fmt::Display for SettingsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.place, &self.problem) {
            (Place::Nowhere, problem) => write!(f, "{problem}"),
            // A bound reads as a sentence after the setting's name.
            (place @ Place::Setting { .. }, Problem::Bound(must)) => write!(f, "{place} {must}"),
            (place, problem) => write!(f, "{place}: {problem}"),
        }
    }
}

impl std::error::Error for SettingsError {}

/// The command-line faces report errors as text.
impl From<SettingsError> for String {
    fn from(e: SettingsError) -> String {
        e.to_string()
    }
}

/// `value` when `lo <= value <= hi`; otherwise "must be between LO and HI UNIT, not VALUE" at
/// `place` (`unit` is empty for plain counts).
pub fn between<T: PartialOrd + fmt::Display + Copy>(
    place: impl FnOnce() -> Place,
    value: T,
    lo: T,
    hi: T,
    unit: &str,
) -> Result<T, SettingsError> {
    if (lo..=hi).contains(&value) {
        return Ok(value);
    }
    let unit = if unit.is_empty() {
        String::new()
    } else {
        format!(" {unit}")
    };
    Err(place().bound(format!("must be between {lo} and {hi}{unit}, not {value}")))
}

/// Names the values that the file (called `file`, when there is one) or a flag sets.
#[derive(Debug, Clone, Copy)]
pub struct Fields<'a> {
    file: Option<&'a str>,
}

impl<'a> Fields<'a> {
    pub fn new(file: Option<&'a str>) -> Self {
        Fields { file }
    }

    /// The place of `field`.
    pub fn at(&self, field: &str) -> Place {
        Place::Setting {
            field: field.to_string(),
            file: self.file.map(str::to_string),
        }
    }
}

/// The file's name and text, kept from parsing so that later errors can name a line.
#[derive(Debug, Clone)]
pub struct Origin {
    name: String,
    text: String,
}

impl Origin {
    pub fn new(name: &str, text: &str) -> Self {
        Origin {
            name: name.to_string(),
            text: text.to_string(),
        }
    }
}

/// The line (from 1) that byte `offset` of `text` is on.
fn line_of(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// `field` where `span` of the file is: with its line when the span is known (not `0..0`).
pub fn in_file(origin: Option<&Origin>, span: Range<usize>, field: &str) -> Place {
    match origin {
        Some(o) => Place::File {
            file: Some(o.name.clone()),
            line: (span.end > 0).then(|| line_of(&o.text, span.start)),
            field: Some(field.to_string()),
        },
        None => Place::File {
            file: None,
            line: None,
            field: Some(field.to_string()),
        },
    }
}

/// A file that is not TOML, or not the shape of a configuration: with its line and, when one is
/// written on that line, the key.
pub fn unparsable(e: &toml::de::Error, text: &str, name: &str) -> SettingsError {
    let msg = e.message().trim().replace('\n', " ");
    let (line, field) = match e.span() {
        Some(span) => {
            let line = line_of(text, span.start);
            // Name the key written on that line, when there is one.
            let key = text
                .lines()
                .nth(line - 1)
                .and_then(|l| l.split_once('='))
                .map(|(k, _)| k.trim())
                .filter(|k| !k.is_empty() && !msg.contains(k))
                .map(str::to_string);
            (Some(line), key)
        }
        None => (None, None),
    };
    Place::File {
        file: Some(name.to_string()),
        line,
        field,
    }
    .invalid(msg)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn between_keeps_a_value_within_the_bounds_and_names_the_field_otherwise() {
        let fields = Fields::new(Some("sy.toml"));
        assert_eq!(between(|| fields.at("x"), 5u64, 1, 10, "days"), Ok(5));
        assert_eq!(between(|| fields.at("x"), 1u64, 1, 10, "days"), Ok(1));
        assert_eq!(between(|| fields.at("x"), 10u64, 1, 10, "days"), Ok(10));
        assert_eq!(
            between(|| fields.at("x"), 0u64, 1, 10, "days")
                .unwrap_err()
                .to_string(),
            "x (in sy.toml or on the command line) must be between 1 and 10 days, not 0"
        );
        assert_eq!(
            between(|| Fields::new(None).at("x"), 11usize, 1, 10, "")
                .unwrap_err()
                .to_string(),
            "x must be between 1 and 10, not 11"
        );
    }

    #[test]
    fn a_bound_follows_a_setting_as_a_sentence_and_a_spot_in_the_file_after_a_colon() {
        let origin = Origin::new("site.toml", "a = 1\n[b]\nc = 2\n");
        let bound = between(|| in_file(Some(&origin), 6..16, "b.c"), 2, 5, 9, "seconds");
        assert_eq!(
            bound.unwrap_err().to_string(),
            "config file site.toml, line 2, field b.c: must be between 5 and 9 seconds, not 2"
        );
        assert_eq!(
            in_file(Some(&origin), 0..0, "b").invalid("no").to_string(),
            "config file site.toml, field b: no"
        );
        assert_eq!(
            in_file(None, 6..16, "b.c").bound("must be x").to_string(),
            "b.c: must be x"
        );
        assert_eq!(
            Fields::new(Some("f")).at("d").invalid("bad").to_string(),
            "d (in f or on the command line): bad"
        );
        assert_eq!(
            Place::Configuration { file: None }
                .invalid("clash")
                .to_string(),
            "the configuration: clash"
        );
        assert_eq!(Place::Nowhere.invalid("all said").to_string(), "all said");
    }
}
