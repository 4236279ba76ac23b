//! `[metrics]`: who may read `GET /metrics` besides a signed-in viewer.
//!
//! Rules kept here:
//! - the bearer token comes from the environment or a file (`token_env`, `token_file`), never
//!   from the configuration's text (a `token` field is refused as an unknown field); a missing
//!   one is an error naming the file, line and field;
//! - a token is at least [`MIN_TOKEN`] visible ASCII characters (it travels in a header), and
//!   only one source is given.

use super::alerts::Secret;
use super::error::{in_file, Origin, SettingsError};
use serde::Deserialize;
use toml::Spanned;

/// Who may read `/metrics` besides a signed-in viewer.
#[derive(Debug, Clone, Default)]
pub struct MetricsSettings {
    /// A scraper's bearer token.
    pub token: Option<Secret>,
}

/// The shortest token accepted.
pub const MIN_TOKEN: usize = 16;

/// `[metrics]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetricsSection {
    /// The environment variable that holds the scraper's bearer token.
    token_env: Option<Spanned<String>>,
    /// A file whose content (surrounding whitespace trimmed) is the token.
    token_file: Option<Spanned<String>>,
}

impl MetricsSection {
    pub fn resolve(self, origin: Option<&Origin>) -> Result<MetricsSettings, SettingsError> {
        self.resolve_with(origin, |name| std::env::var(name).ok())
    }

    /// [`MetricsSection::resolve`] with the environment read through `env`.
    fn resolve_with(
        self,
        origin: Option<&Origin>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<MetricsSettings, SettingsError> {
        let at = |s: &Spanned<String>, field: &str| in_file(origin, s.span(), field);
        let (token, place) = match (&self.token_env, &self.token_file) {
            (None, None) => return Ok(MetricsSettings::default()),
            (Some(_), Some(file)) => {
                return Err(at(file, "metrics.token_file")
                    .invalid("give token_env or token_file, not both"))
            }
            (Some(var), None) => {
                let name = var.get_ref();
                let value = env(name).unwrap_or_default();
                if value.trim().is_empty() {
                    return Err(at(var, "metrics.token_env").invalid(format!(
                        "the environment variable {name} is not set, or empty"
                    )));
                }
                (value, at(var, "metrics.token_env"))
            }
            (None, Some(file)) => {
                let path = file.get_ref();
                let text = std::fs::read_to_string(path).map_err(|e| {
                    at(file, "metrics.token_file").invalid(format!("cannot read {path}: {e}"))
                })?;
                if text.trim().is_empty() {
                    return Err(at(file, "metrics.token_file").invalid(format!("{path} is empty")));
                }
                (text, at(file, "metrics.token_file"))
            }
        };
        let token = token.trim();
        if token.len() < MIN_TOKEN {
            return Err(place.invalid(format!(
                "the token must have at least {MIN_TOKEN} characters, not {}",
                token.chars().count()
            )));
        }
        if !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(place
                .invalid("the token must be visible ASCII characters (it is sent in a header)"));
        }
        Ok(MetricsSettings {
            token: Some(Secret(token.as_bytes().to_vec())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::{ConfigFile, Overrides, Settings};
    use super::*;

    /// `text` resolved as the file site.toml.
    fn resolve(text: &str) -> Result<Settings, SettingsError> {
        Settings::resolve(
            ConfigFile::parse(text, "site.toml")?,
            Some("site.toml"),
            Overrides::default(),
        )
    }

    fn err(text: &str) -> String {
        resolve(text).unwrap_err().to_string()
    }

    /// `text`'s `[metrics]` resolved with an environment where `name` is `value`.
    fn with_env(text: &str, name: &str, value: &str) -> Result<MetricsSettings, String> {
        let file = ConfigFile::parse(text, "site.toml").map_err(|e| e.to_string())?;
        file.metrics
            .resolve_with(Some(&Origin::new("site.toml", text)), |n| {
                (n == name).then(|| value.to_string())
            })
            .map_err(|e| e.to_string())
    }

    #[test]
    fn no_metrics_section_means_no_scrape_token() {
        let s = resolve("").unwrap();
        assert!(s.metrics.token.is_none());
        assert!(s.auth.scrape_token.is_none());
    }

    #[test]
    fn the_token_is_read_from_the_environment_variable_named() {
        let m = with_env(
            "[metrics]\ntoken_env = \"SCRAPE_TOKEN\"\n",
            "SCRAPE_TOKEN",
            "  prometheus-scrape-0123456789\n",
        )
        .unwrap();
        assert_eq!(
            m.token,
            Some(Secret(b"prometheus-scrape-0123456789".to_vec()))
        );
        assert_eq!(format!("{:?}", m.token), "Some(Secret(28 bytes))");
    }

    #[test]
    fn the_token_is_read_from_the_file_named_and_reaches_the_sign_in_rules() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("scrape.token");
        std::fs::write(&path, "0123456789abcdef-file\n").unwrap();
        let text = format!("[metrics]\ntoken_file = \"{}\"\n", path.display());
        let s = resolve(&text).unwrap();
        let want = Secret(b"0123456789abcdef-file".to_vec());
        assert_eq!(s.metrics.token, Some(want.clone()));
        assert_eq!(s.auth.scrape_token, Some(want));
    }

    #[test]
    fn a_missing_token_names_the_file_the_line_and_the_field() {
        assert_eq!(
            with_env(
                "# scrapers\n[metrics]\ntoken_env = \"SCRAPE_TOKEN\"\n",
                "OTHER",
                "x"
            )
            .unwrap_err(),
            "config file site.toml, line 3, field metrics.token_env: the environment variable \
             SCRAPE_TOKEN is not set, or empty"
        );
        let e = err("[metrics]\ntoken_file = \"/nonexistent/scrape.token\"\n");
        assert!(
            e.starts_with(
                "config file site.toml, line 2, field metrics.token_file: cannot read \
                 /nonexistent/scrape.token: "
            ),
            "{e}"
        );
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "\n").unwrap();
        let e = err(&format!(
            "[metrics]\ntoken_file = \"{}\"\n",
            empty.display()
        ));
        assert!(e.ends_with("is empty"), "{e}");
        assert!(!e.contains('\n'), "one line: {e}");
    }

    #[test]
    fn a_token_written_in_the_file_is_refused_with_its_line() {
        let e = err("[metrics]\ntoken = \"prometheus-scrape-0123456789\"\n");
        assert!(e.starts_with("config file site.toml, line 2"), "{e}");
        assert!(e.contains("token_env") && e.contains("token_file"), "{e}");
        assert!(
            !e.contains("prometheus-scrape"),
            "the secret is not repeated: {e}"
        );
    }

    #[test]
    fn a_short_token_or_two_sources_are_refused() {
        let text = "[metrics]\ntoken_env = \"T\"\n";
        assert_eq!(
            with_env(text, "T", "short").unwrap_err(),
            "config file site.toml, line 2, field metrics.token_env: the token must have at \
             least 16 characters, not 5"
        );
        assert!(with_env(text, "T", "has a space in the middle of it")
            .unwrap_err()
            .ends_with("visible ASCII characters (it is sent in a header)"));
        assert_eq!(
            err("[metrics]\ntoken_env = \"A\"\ntoken_file = \"/x\"\n"),
            "config file site.toml, line 3, field metrics.token_file: give token_env or \
             token_file, not both"
        );
    }
}
