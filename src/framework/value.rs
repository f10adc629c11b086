//! Values as Terraform has them: null, unknown (with what is known about
//! it), or known; numbers of arbitrary precision.

use std::collections::BTreeMap;
use std::fmt;

/// What an unknown value is known to be (Terraform's refinements).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Refinements {
    pub not_null: bool,
    pub string_prefix: Option<String>,
    /// (bound, inclusive)
    pub number_lower: Option<(Number, bool)>,
    pub number_upper: Option<(Number, bool)>,
    pub length_lower: Option<u64>,
    pub length_upper: Option<u64>,
}

impl Refinements {
    pub fn is_empty(&self) -> bool {
        *self == Refinements::default()
    }
}

#[derive(Clone, Debug)]
pub enum Value {
    Null,
    Unknown(Refinements),
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    /// Elements are kept deduplicated; order does not matter.
    Set(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
    Tuple(Vec<Value>),
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        use Value::*;
        match (self, other) {
            (Null, Null) => true,
            // Unknowns are equal as placeholders; what matters to planning
            // is that a value is unknown, not what is known about it.
            (Unknown(_), Unknown(_)) => true,
            (Bool(a), Bool(b)) => a == b,
            (Number(a), Number(b)) => a == b,
            (String(a), String(b)) => a == b,
            (List(a), List(b)) | (Tuple(a), Tuple(b)) => a == b,
            (Set(a), Set(b)) => a.len() == b.len() && a.iter().all(|x| b.contains(x)),
            (Map(a), Map(b)) | (Object(a), Object(b)) => a == b,
            _ => false,
        }
    }
}

impl Value {
    pub fn unknown() -> Value {
        Value::Unknown(Refinements::default())
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }

    /// Known at this level (it may still hold unknowns inside).
    pub fn is_known(&self) -> bool {
        !matches!(self, Value::Unknown(_))
    }

    /// Known all the way down.
    pub fn is_fully_known(&self) -> bool {
        match self {
            Value::Unknown(_) => false,
            Value::List(v) | Value::Set(v) | Value::Tuple(v) => v.iter().all(Value::is_fully_known),
            Value::Map(m) | Value::Object(m) => m.values().all(Value::is_fully_known),
            _ => true,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// An attribute of an object value.
    pub fn get_attr(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Object(m) => m.get(name),
            _ => None,
        }
    }

    /// A set without duplicate elements. Elements not yet fully known are
    /// all kept: two unknowns may turn out to be different values.
    pub fn set(items: Vec<Value>) -> Value {
        let mut unique: Vec<Value> = Vec::with_capacity(items.len());
        for item in items {
            if !item.is_fully_known() || !unique.contains(&item) {
                unique.push(item);
            }
        }
        Value::Set(unique)
    }
}

/// An arbitrary-precision decimal number, kept as its canonical text:
/// no exponent, no leading zeros, no trailing fractional zeros, `-` only
/// for non-zero values. 1.5 and 2^70 survive every round trip exactly.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Number(String);

/// The largest number of digits a number may expand to.
const MAX_DIGITS: usize = 400;

impl Number {
    /// Parses decimal text, with optional sign, fraction and exponent.
    pub fn parse(text: &str) -> Result<Number, String> {
        let bad = || format!("{text:?} is not a number");
        let t = text.trim();
        let (negative, t) = match t.as_bytes().first() {
            Some(b'-') => (true, &t[1..]),
            Some(b'+') => (false, &t[1..]),
            _ => (false, t),
        };
        let (mantissa, exponent) = match t.find(['e', 'E']) {
            Some(i) => (&t[..i], t[i + 1..].parse::<i64>().map_err(|_| bad())?),
            None => (t, 0),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        if (int.is_empty() && frac.is_empty())
            || !int.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let digits: String = format!("{int}{frac}");
        // value = digits * 10^(exponent - frac.len())
        let scale = exponent.checked_sub(frac.len() as i64).ok_or_else(bad)?;
        let digits = digits.trim_start_matches('0');
        if digits.is_empty() {
            return Ok(Number("0".into()));
        }
        let point = digits.len() as i64 + scale; // position of the decimal point
        if point > MAX_DIGITS as i64 || point < -(MAX_DIGITS as i64) {
            return Err(format!("{text:?} is too large or too small a number"));
        }
        let mut out = String::new();
        if negative {
            out.push('-');
        }
        if point <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-point) as usize));
            out.push_str(digits);
        } else if point as usize >= digits.len() {
            out.push_str(digits);
            out.extend(std::iter::repeat_n('0', point as usize - digits.len()));
        } else {
            out.push_str(&digits[..point as usize]);
            out.push('.');
            out.push_str(&digits[point as usize..]);
        }
        if out.contains('.') {
            let trimmed = out.trim_end_matches('0').trim_end_matches('.').len();
            out.truncate(trimmed);
        }
        if out == "-0" {
            out = "0".into();
        }
        Ok(Number(out))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_integer(&self) -> bool {
        !self.0.contains('.')
    }

    pub fn as_i64(&self) -> Option<i64> {
        self.0.parse().ok()
    }

    pub fn as_u64(&self) -> Option<u64> {
        self.0.parse().ok()
    }

    pub fn as_f64(&self) -> f64 {
        self.0.parse().unwrap_or(f64::NAN)
    }

    /// The f64 holding exactly this number, if there is one.
    pub fn as_exact_f64(&self) -> Option<f64> {
        let f = self.as_f64();
        (f.is_finite() && Number::from_f64(f).is_ok_and(|n| n == *self)).then_some(f)
    }
}

impl From<i64> for Number {
    fn from(n: i64) -> Self {
        Number(n.to_string())
    }
}

impl From<u64> for Number {
    fn from(n: u64) -> Self {
        Number(n.to_string())
    }
}

impl From<f64> for Number {
    /// Non-finite values become 0: they cannot be Terraform numbers, and
    /// decoders refuse them through [`Number::from_f64`] before this.
    fn from(f: f64) -> Self {
        Number::from_f64(f).unwrap_or_else(|_| Number("0".into()))
    }
}

impl Number {
    /// The exact decimal value of a finite f64.
    pub fn from_f64(f: f64) -> Result<Self, String> {
        if !f.is_finite() {
            return Err(format!("{f} is not a finite number"));
        }
        // Rust prints the shortest text that reads back as the same f64;
        // with `{:e}` that is compact for every magnitude.
        Number::parse(&format!("{f:e}"))
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_canonical() {
        let cases = [
            ("5432", "5432"),
            ("+7", "7"),
            ("-0", "0"),
            ("0.000", "0"),
            ("1.50", "1.5"),
            ("1.5e3", "1500"),
            ("15e-1", "1.5"),
            ("-0.00125", "-0.00125"),
            ("1180591620717411303424", "1180591620717411303424"),
            ("007", "7"),
            ("1e2", "100"),
            (".5", "0.5"),
        ];
        for (input, canonical) in cases {
            assert_eq!(Number::parse(input).unwrap().as_str(), canonical, "{input}");
        }
        for bad in [
            "",
            "-",
            "1.2.3",
            "abc",
            "1e",
            "1e99999999999999999999",
            "1e500",
        ] {
            assert!(Number::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn floats_convert_exactly() {
        assert_eq!(Number::from(1.5f64).as_str(), "1.5");
        assert_eq!(Number::from(0.1f64).as_str(), "0.1");
        assert_eq!(Number::from(1e21f64).as_str(), "1000000000000000000000");
        assert_eq!(Number::from(-2.0f64).as_str(), "-2");
        assert_eq!(Number::parse("1.5").unwrap().as_exact_f64(), Some(1.5));
        assert_eq!(Number::parse("0.1").unwrap().as_exact_f64(), Some(0.1));
        assert_eq!(
            Number::parse("1.00000000000000000001")
                .unwrap()
                .as_exact_f64(),
            None
        );
    }

    #[test]
    fn sets_compare_without_order() {
        let a = Value::Set(vec![Value::String("x".into()), Value::String("y".into())]);
        let b = Value::Set(vec![Value::String("y".into()), Value::String("x".into())]);
        assert_eq!(a, b);
        assert_ne!(
            a,
            Value::List(vec![Value::String("x".into()), Value::String("y".into())])
        );
    }

    #[test]
    fn sets_keep_every_unknown_element() {
        let set = Value::set(vec![
            Value::unknown(),
            Value::unknown(),
            Value::String("a".into()),
            Value::String("a".into()),
        ]);
        let Value::Set(items) = set else {
            unreachable!()
        };
        assert_eq!(items.len(), 3);
    }

    #[test]
    fn full_knowledge_looks_inside() {
        let v = Value::Object(
            [("a".to_owned(), Value::List(vec![Value::unknown()]))]
                .into_iter()
                .collect(),
        );
        assert!(v.is_known());
        assert!(!v.is_fully_known());
    }
}
