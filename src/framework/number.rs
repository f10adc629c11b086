//! Terraform's numbers: arbitrary-precision decimals kept as canonical
//! text, exact through every round trip (1.5, 2^70, every `f64`), ordered
//! numerically, and bounded in length so that no input makes one
//! expensive.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// The most digits a number may have when written out in full: enough for
/// the exact value of every `f64` (up to 1074 fraction digits) with room to
/// spare, and small enough that no input can make a number expensive.
pub const MAX_NUMBER_DIGITS: usize = 4096;

/// An arbitrary-precision decimal number, kept as canonical text: plain
/// decimal (no exponent), no leading zeros, no trailing fraction zeros, no
/// `+`, and `-` only on non-zero values. Two numbers are equal exactly when
/// their texts are; they order numerically. 1.5 and 2^70 survive every
/// round trip exactly.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Number(String);

/// Why text is not a [`Number`], or a number does not convert.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NumberError {
    #[error("{0:?} is not a number")]
    Syntax(String),
    #[error("{0} has more than {MAX_NUMBER_DIGITS} digits written out")]
    TooLong(String),
    /// NaN or an infinity, as text.
    #[error("{0} is not a finite number")]
    NotFinite(String),
    #[error("{0} is not a whole number")]
    NotWhole(Number),
    #[error("{number} is out of range for {what}")]
    OutOfRange { number: Number, what: String },
}

impl Number {
    /// Parses decimal text: an optional sign, digits with an optional
    /// fraction (`1`, `1.5`, `.5`, `5.`), and an optional exponent (`e-3`),
    /// as go-cty's number parsing takes it (no hex, no `Inf`).
    pub fn parse(text: &str) -> Result<Number, NumberError> {
        let syntax = || NumberError::Syntax(abbreviate(text));
        let (negative, rest) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (int.is_empty() && frac.is_empty()) || !all_digits(int) || !all_digits(frac) {
            return Err(syntax());
        }
        let exponent = match exponent {
            Some(e) => parse_exponent(e).ok_or_else(syntax)?,
            None => 0,
        };

        // The value is `digits` × 10^`scale`, digits without leading or
        // trailing zeros.
        let joined = || int.bytes().chain(frac.bytes());
        let Some(first) = joined().position(|b| b != b'0') else {
            return Ok(Number::zero());
        };
        let total = int.len() + frac.len();
        let last = total - joined().rev().position(|b| b != b'0').unwrap_or(0);
        let digit_count = last - first;
        // exponent is clamped far inside i64, and lengths fit easily.
        let scale = exponent - frac.len() as i64 + (total - last) as i64;
        let point = digit_count as i64 + scale; // digits left of the point
        let written = if scale >= 0 {
            point
        } else if point <= 0 {
            1 - point + digit_count as i64
        } else {
            digit_count as i64
        };
        if written > MAX_NUMBER_DIGITS as i64 {
            return Err(NumberError::TooLong(abbreviate(text)));
        }

        let digits = joined().skip(first).take(digit_count);
        let mut out = String::with_capacity(written as usize + 2);
        if negative {
            out.push('-');
        }
        if scale >= 0 {
            out.extend(digits.map(char::from));
            out.extend(std::iter::repeat_n('0', scale as usize));
        } else if point <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-point) as usize));
            out.extend(digits.map(char::from));
        } else {
            for (i, d) in digits.enumerate() {
                if i as i64 == point {
                    out.push('.');
                }
                out.push(char::from(d));
            }
        }
        Ok(Number(out))
    }

    /// Zero.
    pub fn zero() -> Number {
        Number("0".to_owned())
    }

    /// The canonical text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_integer(&self) -> bool {
        !self.0.contains('.')
    }

    pub fn is_negative(&self) -> bool {
        self.0.starts_with('-')
    }

    pub fn is_zero(&self) -> bool {
        self.0 == "0"
    }

    /// The number as an `i64`, if it is a whole number in range.
    pub fn as_i64(&self) -> Option<i64> {
        self.0.parse().ok()
    }

    /// The number as a `u64`, if it is a whole number in range.
    pub fn as_u64(&self) -> Option<u64> {
        self.0.parse().ok()
    }

    /// The nearest `f64`; infinite when beyond `f64`'s range.
    pub fn as_f64(&self) -> f64 {
        // Canonical text is always valid float syntax; NaN cannot happen.
        self.0.parse().unwrap_or(f64::NAN)
    }

    /// The `f64` holding exactly this number, if there is one.
    pub fn to_exact_f64(&self) -> Option<f64> {
        let fraction_digits = self.0.split_once('.').map_or(0, |(_, f)| f.len());
        if fraction_digits > 1074 {
            return None; // finer than the smallest subnormal
        }
        let f = self.as_f64();
        (f.is_finite() && exact_decimal(f) == self.0).then_some(f)
    }

    /// The number as an integer of type `T`, or an error naming `what` it
    /// was meant to be: `"1.5 is not a whole number"`,
    /// `"1180591620717411303424 is out of range for a port"`.
    pub fn to_integer<T: TryFrom<i128>>(&self, what: &str) -> Result<T, NumberError> {
        if !self.is_integer() {
            return Err(NumberError::NotWhole(self.clone()));
        }
        self.0
            .parse::<i128>()
            .ok()
            .and_then(|n| T::try_from(n).ok())
            .ok_or_else(|| NumberError::OutOfRange {
                number: self.clone(),
                what: what.to_owned(),
            })
    }

    /// [`Number::to_integer`] for `i64`.
    pub fn to_i64(&self) -> Result<i64, NumberError> {
        self.to_integer("a 64-bit integer")
    }

    /// [`Number::to_integer`] for `u64`.
    pub fn to_u64(&self) -> Result<u64, NumberError> {
        self.to_integer("an unsigned 64-bit integer")
    }

    /// The exact value of a finite `f64`: `0.1f64` is
    /// 0.1000000000000000055511151231257827021181583404541015625, not one
    /// tenth. Decoders use this so a float Terraform sends comes back to it
    /// bit for bit; for decimal literals use [`Number::parse`].
    pub fn from_f64(f: f64) -> Result<Number, NumberError> {
        if !f.is_finite() {
            return Err(NumberError::NotFinite(f.to_string()));
        }
        Ok(Number(exact_decimal(f)))
    }
}

/// An exponent's digits, clamped far beyond any number that fits
/// [`MAX_NUMBER_DIGITS`] so that arithmetic on it cannot overflow.
fn parse_exponent(text: &str) -> Option<i64> {
    const CLAMP: i64 = 1_000_000_000;
    let (negative, digits) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let magnitude = digits
        .bytes()
        .fold(0i64, |acc, d| (acc * 10 + i64::from(d - b'0')).min(CLAMP));
    Some(if negative { -magnitude } else { magnitude })
}

fn abbreviate(text: &str) -> String {
    const LIMIT: usize = 40;
    match text.char_indices().nth(LIMIT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// The exact decimal expansion of a finite `f64`, canonical.
fn exact_decimal(f: f64) -> String {
    let bits = f.to_bits();
    let negative = bits >> 63 == 1;
    let biased = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    let (mut mantissa, mut exponent) = if biased == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), biased - 1075)
    };
    if mantissa == 0 {
        return "0".to_owned();
    }
    let zeros = mantissa.trailing_zeros().min(exponent.unsigned_abs()) as i32;
    if exponent < 0 {
        mantissa >>= zeros;
        exponent += zeros;
    }
    // value = mantissa × 2^exponent. For a negative exponent k, that is
    // mantissa × 5^k / 10^k: an integer, then a decimal point k from the
    // right.
    let mut big = BigDecimal::from_u64(mantissa);
    let point = if exponent >= 0 {
        big.mul_pow(2, exponent.unsigned_abs());
        0
    } else {
        big.mul_pow(5, exponent.unsigned_abs());
        exponent.unsigned_abs() as usize
    };
    let digits = big.to_digits();
    let mut out = String::with_capacity(digits.len() + point + 3);
    if negative {
        out.push('-');
    }
    if point == 0 {
        out.push_str(&digits);
    } else if digits.len() > point {
        let (int, frac) = digits.split_at(digits.len() - point);
        out.push_str(int);
        out.push('.');
        out.push_str(frac);
    } else {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', point - digits.len()));
        out.push_str(&digits);
    }
    if out.contains('.') {
        let trimmed = out.trim_end_matches('0').trim_end_matches('.').len();
        out.truncate(trimmed);
    }
    out
}

/// Just enough of a big unsigned integer for [`exact_decimal`]: base-10^9
/// limbs, least significant first.
struct BigDecimal(Vec<u32>);

impl BigDecimal {
    const BASE: u64 = 1_000_000_000;

    fn from_u64(mut n: u64) -> Self {
        let mut limbs = Vec::new();
        while n > 0 {
            limbs.push((n % Self::BASE) as u32);
            n /= Self::BASE;
        }
        BigDecimal(limbs)
    }

    fn mul_small(&mut self, factor: u32) {
        let mut carry = 0u64;
        for limb in &mut self.0 {
            let product = u64::from(*limb) * u64::from(factor) + carry;
            *limb = (product % Self::BASE) as u32;
            carry = product / Self::BASE;
        }
        while carry > 0 {
            self.0.push((carry % Self::BASE) as u32);
            carry /= Self::BASE;
        }
    }

    /// Multiplies by `base`^`exp`, in chunks that keep products in a u64.
    fn mul_pow(&mut self, base: u32, mut exp: u32) {
        let (chunk, chunk_exp) = if base == 2 {
            (1 << 30, 30)
        } else {
            (5u32.pow(13), 13)
        };
        while exp >= chunk_exp {
            self.mul_small(chunk);
            exp -= chunk_exp;
        }
        if exp > 0 {
            self.mul_small(base.pow(exp));
        }
    }

    fn to_digits(&self) -> String {
        let Some((top, rest)) = self.0.split_last() else {
            return "0".to_owned();
        };
        let mut out = top.to_string();
        for limb in rest.iter().rev() {
            out.push_str(&format!("{limb:09}"));
        }
        out
    }
}

impl Ord for Number {
    /// Numeric order.
    fn cmp(&self, other: &Self) -> Ordering {
        fn magnitude(text: &str) -> (&str, &str) {
            let text = text.trim_start_matches('-');
            text.split_once('.').unwrap_or((text, ""))
        }
        match (self.is_negative(), other.is_negative()) {
            (true, false) => return Ordering::Less,
            (false, true) => return Ordering::Greater,
            _ => {}
        }
        let ((ai, af), (bi, bf)) = (magnitude(&self.0), magnitude(&other.0));
        // No leading zeros, so a longer integer part is larger; no
        // trailing zeros, so fractions compare as text.
        let by_magnitude = ai
            .len()
            .cmp(&bi.len())
            .then_with(|| ai.cmp(bi))
            .then_with(|| af.cmp(bf));
        if self.is_negative() {
            by_magnitude.reverse()
        } else {
            by_magnitude
        }
    }
}

impl PartialOrd for Number {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Number({})", self.0)
    }
}

impl FromStr for Number {
    type Err = NumberError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Number::parse(s)
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

impl From<i32> for Number {
    fn from(n: i32) -> Self {
        Number(n.to_string())
    }
}

impl From<u32> for Number {
    fn from(n: u32) -> Self {
        Number(n.to_string())
    }
}

impl From<f64> for Number {
    /// The exact value of `f` (see [`Number::from_f64`]). NaN and the
    /// infinities are not Terraform numbers; they become 0. Use
    /// [`Number::from_f64`] to catch them instead.
    fn from(f: f64) -> Self {
        Number::from_f64(f).unwrap_or_else(|_| Number::zero())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn n(text: &str) -> Number {
        Number::parse(text).unwrap()
    }

    #[test]
    fn numbers_are_canonical() {
        let cases = [
            ("5432", "5432"),
            ("+7", "7"),
            ("-0", "0"),
            ("-0.000e5", "0"),
            ("0.000", "0"),
            ("1.50", "1.5"),
            ("1.5e3", "1500"),
            ("15e-1", "1.5"),
            ("-0.00125", "-0.00125"),
            ("1180591620717411303424", "1180591620717411303424"),
            ("007", "7"),
            ("1e2", "100"),
            ("1E+2", "100"),
            (".5", "0.5"),
            ("5.", "5"),
            ("120e-1", "12"),
            ("0.0001e4", "1"),
            ("123.456e1", "1234.56"),
            ("-9223372036854775808", "-9223372036854775808"),
            ("0e99999999999999999999999", "0"),
        ];
        for (input, canonical) in cases {
            assert_eq!(n(input).as_str(), canonical, "{input}");
        }
    }

    #[test]
    fn bad_number_text_is_an_error() {
        for bad in [
            "", "-", "+", ".", "1.2.3", "abc", "1e", "1e+", "e5", "--1", "1-", " 1", "1 ", "0x10",
            "Inf", "NaN", "1_000", "1e5.5", "١",
        ] {
            assert!(
                matches!(Number::parse(bad), Err(NumberError::Syntax(_))),
                "{bad:?}"
            );
        }
        for huge in ["1e99999999999999999999", "1e5000", "1e-5000"] {
            assert!(
                matches!(Number::parse(huge), Err(NumberError::TooLong(_))),
                "{huge}"
            );
        }
        let long = "9".repeat(MAX_NUMBER_DIGITS + 1);
        let err = Number::parse(&long).unwrap_err().to_string();
        assert!(err.len() < 120, "error text is abbreviated: {err}");
        assert!(Number::parse(&"9".repeat(MAX_NUMBER_DIGITS)).is_ok());
    }

    #[test]
    fn integer_accessors() {
        assert_eq!(n("42").as_i64(), Some(42));
        assert_eq!(n("-42").as_i64(), Some(-42));
        assert_eq!(n("-42").as_u64(), None);
        assert_eq!(n("1.5").as_i64(), None);
        assert_eq!(n("18446744073709551615").as_u64(), Some(u64::MAX));
        assert_eq!(n("18446744073709551615").as_i64(), None);
        assert_eq!(n("1180591620717411303424").as_u64(), None);
        assert_eq!(Number::from(i64::MIN).as_i64(), Some(i64::MIN));
        assert_eq!(Number::from(7u32).as_str(), "7");
        assert_eq!(Number::from(-7i32).as_str(), "-7");
    }

    #[test]
    fn conversions_explain_themselves() {
        assert_eq!(
            n("1.5")
                .to_integer::<u16>("a port")
                .unwrap_err()
                .to_string(),
            "1.5 is not a whole number"
        );
        assert_eq!(
            n("1180591620717411303424")
                .to_integer::<u16>("a port")
                .unwrap_err()
                .to_string(),
            "1180591620717411303424 is out of range for a port"
        );
        assert_eq!(
            n("-1").to_integer::<u16>("a port").unwrap_err().to_string(),
            "-1 is out of range for a port"
        );
        assert_eq!(n("5432").to_integer::<u16>("a port"), Ok(5432u16));
        assert_eq!(n("-5").to_i64(), Ok(-5));
        assert!(n("-5").to_u64().is_err());
        assert_eq!(
            n("1e40").to_i64().unwrap_err().to_string(),
            "10000000000000000000000000000000000000000 is out of range for a 64-bit integer"
        );
        assert_eq!(
            Number::from_f64(f64::NAN).unwrap_err().to_string(),
            "NaN is not a finite number"
        );
        assert_eq!(
            Number::parse("x1").unwrap_err().to_string(),
            r#""x1" is not a number"#
        );
    }

    #[test]
    fn floats_convert_exactly() {
        assert_eq!(Number::from(1.5f64).as_str(), "1.5");
        assert_eq!(Number::from(-2.0f64).as_str(), "-2");
        assert_eq!(Number::from(-0.0f64).as_str(), "0");
        assert_eq!(Number::from(1e21f64).as_str(), "1000000000000000000000");
        assert_eq!(
            Number::from(2f64.powi(70)).as_str(),
            "1180591620717411303424"
        );
        assert_eq!(
            Number::from(0.1f64).as_str(),
            "0.1000000000000000055511151231257827021181583404541015625"
        );
        assert_eq!(Number::from(f64::INFINITY), Number::zero());
        assert_eq!(Number::from(f64::MAX).as_str().len(), 309);
        assert_eq!(Number::from(f64::MAX).as_f64(), f64::MAX);
        let tiny = Number::from(f64::from_bits(1)); // smallest subnormal
        assert_eq!(tiny.as_str().len(), 2 + 1074);
        assert_eq!(tiny.to_exact_f64(), Some(f64::from_bits(1)));
        for f in [
            1.5,
            0.1,
            -123.456,
            1e-300,
            6.02e23,
            2f64.powi(-1074),
            9007199254740993.0,
        ] {
            let number = Number::from(f);
            assert_eq!(number.as_f64(), f, "{f}");
            assert_eq!(number.to_exact_f64(), Some(f), "{f}");
        }
    }

    #[test]
    fn exactness_is_decimal_exactness() {
        assert_eq!(n("1.5").to_exact_f64(), Some(1.5));
        assert_eq!(n("-0.375").to_exact_f64(), Some(-0.375));
        // One tenth has no exact binary form, though 0.1f64 prints as 0.1.
        assert_eq!(n("0.1").to_exact_f64(), None);
        assert_eq!(n("0.1").as_f64(), 0.1);
        assert_eq!(n("1.00000000000000000001").to_exact_f64(), None);
        assert_eq!(n("9007199254740993").to_exact_f64(), None); // 2^53 + 1
        assert_eq!(n("1e400").to_exact_f64(), None);
        assert_eq!(n("1e400").as_f64(), f64::INFINITY);
    }

    #[test]
    fn numbers_order_numerically() {
        let sorted = [
            "-1000",
            "-999.5",
            "-2",
            "-1.5",
            "-1.25",
            "-0.001",
            "0",
            "0.001",
            "0.25",
            "0.5",
            "1",
            "1.05",
            "1.5",
            "2",
            "10",
            "99.99",
            "100",
            "1180591620717411303424",
        ];
        let numbers: Vec<Number> = sorted.iter().map(|t| n(t)).collect();
        for (i, a) in numbers.iter().enumerate() {
            for (j, b) in numbers.iter().enumerate() {
                assert_eq!(a.cmp(b), i.cmp(&j), "{a} vs {b}");
            }
        }
        assert_eq!(n("1.50"), n("1.5"));
        assert_eq!("2.5".parse::<Number>().unwrap(), n("25e-1"));
        assert_eq!(format!("{:?}", n("2.5")), "Number(2.5)");
        assert!(n("-3").is_negative() && !n("0").is_negative() && n("0").is_zero());
    }
}
