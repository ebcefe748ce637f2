//! The `[engine]` table: settings of the query engine itself.
//!
//! ```toml
//! [engine]
//! memory_limit = "512MiB"   # or a number of bytes; `--memory-limit` overrides it
//! ```
//!
//! Sizes read as `N`, `NB`, `NKB`/`NMB`/`NGB` (powers of 1000), `NKiB`/`NMiB`/`NGiB`
//! (powers of 1024), or `NK`/`NM`/`NG` (powers of 1024, as `sort -S` and
//! datafusion-cli's `--memory-limit` take them), case-insensitively, with an
//! optional fraction (`1.5G`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer};

/// The `[engine]` table.
#[derive(Debug, Clone, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct EngineSection {
    /// The cap on DataFusion's memory pool; past it sorts, aggregations and
    /// joins spill to disk. `None`: no cap.
    #[serde(default)]
    pub memory_limit: Option<ByteSize>,
}

/// A number of bytes, written as a size (`512MiB`, `2G`, `1000000`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ByteSize(pub usize);

impl FromStr for ByteSize {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(text.len());
        let (number, unit) = text.split_at(split);
        let number: f64 = number.parse().map_err(|_| {
            format!("{text:?} is not a size: write a number with an optional unit, e.g. 512MiB or 2G")
        })?;
        let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
            "" | "b" => 1.0,
            "kb" => 1e3,
            "mb" => 1e6,
            "gb" => 1e9,
            "k" | "kib" => 1024.0,
            "m" | "mib" => 1024.0 * 1024.0,
            "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
            other => {
                return Err(format!(
                    "unknown size unit {other:?} in {text:?}: use B, KB, MB, GB, KiB, MiB, GiB, K, M or G"
                ));
            }
        };
        let bytes = number * scale;
        if !bytes.is_finite() || bytes < 1.0 || bytes > usize::MAX as f64 {
            return Err(format!("{text:?} is not a usable size: it must be at least one byte"));
        }
        Ok(ByteSize(bytes as usize))
    }
}

impl fmt::Display for ByteSize {
    /// The size in the largest binary unit that keeps it readable: `512 MiB`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
        let mut value = self.0 as f64;
        let mut unit = 0;
        while value >= 1024.0 && unit + 1 < UNITS.len() {
            value /= 1024.0;
            unit += 1;
        }
        if value.fract() == 0.0 {
            write!(f, "{value} {}", UNITS[unit])
        } else {
            write!(f, "{value:.1} {}", UNITS[unit])
        }
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Written {
            Bytes(u64),
            Text(String),
        }
        match Written::deserialize(deserializer)? {
            Written::Bytes(0) => Err(serde::de::Error::custom("memory_limit must be at least one byte")),
            Written::Bytes(n) => usize::try_from(n).map(ByteSize).map_err(serde::de::Error::custom),
            Written::Text(text) => text.parse().map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_in_every_unit() {
        assert_eq!("512MiB".parse(), Ok(ByteSize(512 << 20)));
        assert_eq!("512m".parse(), Ok(ByteSize(512 << 20)));
        assert_eq!("2G".parse(), Ok(ByteSize(2 << 30)));
        assert_eq!("1.5GiB".parse(), Ok(ByteSize(3 << 29)));
        assert_eq!("300MB".parse(), Ok(ByteSize(300_000_000)));
        assert_eq!("1000".parse(), Ok(ByteSize(1000)));
        assert!("lots".parse::<ByteSize>().is_err_and(|e| e.contains("not a size")));
        assert!("5 parsecs".parse::<ByteSize>().is_err_and(|e| e.contains("unknown size unit")));
        assert!("0".parse::<ByteSize>().is_err());
    }

    #[test]
    fn sizes_display_in_binary_units() {
        assert_eq!(ByteSize(512 << 20).to_string(), "512 MiB");
        assert_eq!(ByteSize(3 << 29).to_string(), "1.5 GiB");
        assert_eq!(ByteSize(100).to_string(), "100 B");
    }

    #[test]
    fn the_engine_table_reads_text_and_numbers() {
        let section: EngineSection = toml::from_str("memory_limit = \"64MiB\"").unwrap_or_default();
        assert_eq!(section.memory_limit, Some(ByteSize(64 << 20)));
        let section: EngineSection = toml::from_str("memory_limit = 1048576").unwrap_or_default();
        assert_eq!(section.memory_limit, Some(ByteSize(1 << 20)));
        assert!(toml::from_str::<EngineSection>("memory_limit = \"1 furlong\"").is_err());
        assert!(toml::from_str::<EngineSection>("memory = \"1G\"").is_err());
    }
}
