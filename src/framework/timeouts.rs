//! The `timeouts` block, as Terraform users know it from the AWS provider:
//! `timeouts { create = "10m"  delete = "15m" }`, Go duration strings.

use std::time::Duration;

use crate::framework::diag::Diagnostics;
use crate::framework::path::AttributePath;
use crate::framework::schema::{Attribute, Block, NestedBlock};
use crate::framework::value::Value;

/// A `timeouts` block offering the given operations with their defaults.
pub fn block(operations: &[(&'static str, Duration)]) -> NestedBlock {
    let mut block = Block::new("How long each operation may take before it fails.");
    for (op, default) in operations {
        block = block.attribute(Attribute::string(op).optional().describe(format!(
            "How long {op} may take, as a duration such as \"30s\", \"10m\" or \"1h30m\". \
             Default: {}.",
            format_duration(*default)
        )));
    }
    NestedBlock::single("timeouts", block)
}

/// The timeout for `operation` from a resource value's `timeouts` block, or
/// `default` when it is not set.
pub fn get(value: &Value, operation: &str, default: Duration) -> Duration {
    let Value::Object(map) = value else {
        return default;
    };
    let Some(Value::Object(timeouts)) = map.get("timeouts") else {
        return default;
    };
    match timeouts.get(operation) {
        Some(Value::String(text)) => parse_duration(text).unwrap_or(default),
        _ => default,
    }
}

/// Checks every known duration in a configuration's `timeouts` block.
pub fn validate(config: &Value, diags: &mut Diagnostics) {
    let Value::Object(map) = config else { return };
    let Some(Value::Object(timeouts)) = map.get("timeouts") else {
        return;
    };
    for (op, value) in timeouts {
        if let Value::String(text) = value
            && let Err(why) = parse_duration(text)
        {
            diags.attr_error(
                AttributePath::root().attr("timeouts").attr(op),
                "Invalid timeout",
                format!(
                    "{text:?} is not a duration: {why}. Write it like \"30s\", \"10m\" or \
                         \"1h30m\"."
                ),
            );
        }
    }
}

/// Parses a Go duration: a sequence of decimal numbers with units
/// (`ns`, `us`, `µs`, `ms`, `s`, `m`, `h`), such as `1h30m` or `2.5s`.
/// Negative durations are refused: a timeout cannot be negative.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let s = text.trim();
    if s.is_empty() {
        return Err("it is empty".into());
    }
    if s == "0" {
        return Ok(Duration::ZERO);
    }
    if s.starts_with('-') {
        return Err("it is negative".into());
    }
    let s = s.strip_prefix('+').unwrap_or(s);
    let mut total = 0f64;
    let mut rest = s;
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return Err(format!("expected a number at {rest:?}"));
        }
        let number: f64 = rest[..num_len]
            .parse()
            .map_err(|_| format!("{:?} is not a number", &rest[..num_len]))?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            "" => return Err("a unit (s, m or h) is missing".into()),
            other => return Err(format!("unknown unit {other:?}")),
        };
        rest = &rest[unit_len..];
        total += number * seconds_per_unit;
    }
    if !total.is_finite() || total > 1e10 {
        return Err("it is too long".into());
    }
    Ok(Duration::from_secs_f64(total))
}

/// `10m`, `1h30m`, `45s`: the shortest Go-style text for whole seconds
/// (and `250ms` below a second).
pub fn format_duration(d: Duration) -> String {
    if d > Duration::ZERO && d < Duration::from_secs(1) {
        return format!("{}ms", d.as_millis());
    }
    let secs = d.as_secs();
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    let mut out = String::new();
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if m > 0 {
        out.push_str(&format!("{m}m"));
    }
    if s > 0 || out.is_empty() {
        out.push_str(&format!("{s}s"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_go_durations() {
        let cases = [
            ("10m", 600.0),
            ("1h30m", 5400.0),
            ("45s", 45.0),
            ("2.5s", 2.5),
            ("500ms", 0.5),
            ("0", 0.0),
            ("1h0m0s", 3600.0),
        ];
        for (text, secs) in cases {
            assert_eq!(
                parse_duration(text).unwrap(),
                Duration::from_secs_f64(secs),
                "{text}"
            );
        }
    }

    #[test]
    fn refuses_bad_durations() {
        for text in ["", "10", "ten minutes", "-5m", "5 m", "5d", "1e400h"] {
            assert!(parse_duration(text).is_err(), "{text} should fail");
        }
    }

    #[test]
    fn formats_whole_durations() {
        assert_eq!(format_duration(Duration::from_secs(600)), "10m");
        assert_eq!(format_duration(Duration::from_secs(5400)), "1h30m");
        assert_eq!(format_duration(Duration::from_secs(0)), "0s");
    }
}
