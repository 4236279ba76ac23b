//! Where AWS regions are, so they can be named and placed on a map.

/// A known AWS region: code, human name, latitude and longitude (degrees).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RegionInfo {
    pub code: &'static str,
    pub name: &'static str,
    pub lat: f64,
    pub lon: f64,
}

#[rustfmt::skip]
const REGIONS: &[RegionInfo] = &[
    RegionInfo { code: "us-east-1", name: "US East (N. Virginia)", lat: 38.9, lon: -77.4 },
    RegionInfo { code: "us-east-2", name: "US East (Ohio)", lat: 40.0, lon: -83.0 },
    RegionInfo { code: "us-west-1", name: "US West (N. California)", lat: 37.4, lon: -122.0 },
    RegionInfo { code: "us-west-2", name: "US West (Oregon)", lat: 45.8, lon: -119.7 },
    RegionInfo { code: "ca-central-1", name: "Canada (Central)", lat: 45.5, lon: -73.6 },
    RegionInfo { code: "sa-east-1", name: "South America (São Paulo)", lat: -23.5, lon: -46.6 },
    RegionInfo { code: "eu-west-1", name: "Europe (Ireland)", lat: 53.3, lon: -6.3 },
    RegionInfo { code: "eu-west-2", name: "Europe (London)", lat: 51.5, lon: -0.1 },
    RegionInfo { code: "eu-west-3", name: "Europe (Paris)", lat: 48.9, lon: 2.35 },
    RegionInfo { code: "eu-central-1", name: "Europe (Frankfurt)", lat: 50.1, lon: 8.7 },
    RegionInfo { code: "eu-north-1", name: "Europe (Stockholm)", lat: 59.3, lon: 18.1 },
    RegionInfo { code: "ap-south-1", name: "Asia Pacific (Mumbai)", lat: 19.1, lon: 72.9 },
    RegionInfo { code: "ap-northeast-1", name: "Asia Pacific (Tokyo)", lat: 35.7, lon: 139.7 },
    RegionInfo { code: "ap-northeast-2", name: "Asia Pacific (Seoul)", lat: 37.6, lon: 127.0 },
    RegionInfo { code: "ap-southeast-1", name: "Asia Pacific (Singapore)", lat: 1.35, lon: 103.8 },
    RegionInfo { code: "ap-southeast-2", name: "Asia Pacific (Sydney)", lat: -33.9, lon: 151.2 },
    RegionInfo { code: "me-south-1", name: "Middle East (Bahrain)", lat: 26.1, lon: 50.6 },
    RegionInfo { code: "af-south-1", name: "Africa (Cape Town)", lat: -33.9, lon: 18.4 },
];

pub fn lookup(code: &str) -> Option<&'static RegionInfo> {
    REGIONS.iter().find(|r| r.code == code)
}

/// [`is_valid_code`] as the API's document says it: the pattern of every field whose format is
/// [`CODE_FORMAT`] (the document's generator puts it there).
pub const CODE_PATTERN: &str = "^[a-z]+(-[a-z]+)+-[0-9]+$";

/// The format the API's types give a region code (`#[schema(format = "aws-region")]`).
pub const CODE_FORMAT: &str = "aws-region";

/// Whether `code` looks like an AWS region code (`xx-name-N`), known or not.
pub fn is_valid_code(code: &str) -> bool {
    let parts: Vec<&str> = code.split('-').collect();
    parts.len() >= 3
        && parts.iter().all(|p| !p.is_empty())
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
}

/// The display name of a region: its known name, or the code itself.
pub fn display_name(code: &str) -> String {
    lookup(code).map_or_else(|| code.to_string(), |r| r.name.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_validated() {
        assert!(is_valid_code("us-east-1"));
        assert!(is_valid_code("us-gov-west-1"));
        assert!(!is_valid_code("us-east"));
        assert!(!is_valid_code("US-east-1"));
        assert!(!is_valid_code("us--1"));
        assert!(!is_valid_code(""));
    }

    #[test]
    fn known_regions_have_names_and_places() {
        let r = lookup("eu-west-1").unwrap();
        assert_eq!(r.name, "Europe (Ireland)");
        assert!(r.lat > 50.0 && r.lon < 0.0);
        assert_eq!(display_name("xx-test-9"), "xx-test-9");
    }
}
