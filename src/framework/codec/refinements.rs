//! Unknown values in go-cty's msgpack, read and written as its
//! `cty/msgpack` has them. A wholly unknown value is the extension of type
//! 0 with one zero byte (`d4 00 00`); an unknown with refinements is
//! extension type 12 (`0x0c`) holding a msgpack map with small-integer
//! keys: 1 nullness (`false` = definitely not null), 2 string prefix, 3 and
//! 4 number lower and upper bounds as `[number, inclusive]`, 5 and 6
//! collection length lower and upper bounds.
//!
//! Invariants: only the refinements that apply to the type are written,
//! none for `dynamic`, and a string prefix past 256 bytes is cut as go-cty
//! cuts it; the extension header is the shortest form, so a 4-, 8- or
//! 16-byte payload gets a `fixext` header. On reading, any extension of at
//! most one byte is a wholly unknown value, whatever its type code;
//! payloads over 1024 bytes are refused; unknown keys are skipped and
//! trailing bytes ignored; "unknown, but certainly null" reads as null; a
//! refinement that does not fit the type, or bounds that admit nothing,
//! are errors at the value's path.

use rmp::encode::ByteBuf;

use super::msgpack_items::{Item, Reader, number};
use super::msgpack_write::{Writer, Written, check_len};
use super::{DecodeError, EncodeError, decode_error};
use crate::framework::path::AttributePath;
use crate::framework::types::Type;
use crate::framework::value::{NumberBound, Refinements, Value};

/// Extension type of a wholly unknown value.
const EXT_UNKNOWN: i8 = 0;
/// Extension type of an unknown value with refinements.
const EXT_REFINED_UNKNOWN: i8 = 0x0c;
/// The largest refinement payload go-cty accepts.
const MAX_REFINEMENTS_LEN: usize = 1024;
/// go-cty truncates longer string-prefix refinements before writing them.
const MAX_PREFIX_LEN: usize = 256;

const KEY_NULLNESS: i64 = 1;
const KEY_STRING_PREFIX: i64 = 2;
const KEY_NUMBER_MIN: i64 = 3;
const KEY_NUMBER_MAX: i64 = 4;
const KEY_LENGTH_MIN: i64 = 5;
const KEY_LENGTH_MAX: i64 = 6;

// ========================================================== unknowns in ==

/// An unknown value from its extension.
pub(super) fn unknown(
    kind: i8,
    payload: &[u8],
    ty: &Type,
    path: &AttributePath,
) -> Result<Value, DecodeError> {
    if payload.len() <= 1 {
        return Ok(Value::unknown());
    }
    if kind != EXT_REFINED_UNKNOWN {
        return Err(decode_error(
            path,
            format!(
                "unsupported msgpack extension type {kind} of {} bytes",
                payload.len()
            ),
        ));
    }
    if payload.len() > MAX_REFINEMENTS_LEN {
        return Err(decode_error(
            path,
            format!(
                "refinements of an unknown value take {} bytes, more than the {MAX_REFINEMENTS_LEN} allowed",
                payload.len()
            ),
        ));
    }
    let bad = |what: &str| decode_error(path, format!("invalid unknown value refinements: {what}"));
    let mut r = Reader::new(payload);
    let entries = match r.item(path) {
        Ok(Item::Map(entries)) => entries,
        Ok(_) => return Err(bad("not a map")),
        Err(_) => return Err(bad("truncated")),
    };
    if let Type::Dynamic = ty {
        // go-cty ignores refinements of a value of unknown type.
        return Ok(Value::unknown());
    }
    let mut out = Refinements::default();
    let mut definitely_null = false;
    for _ in 0..entries {
        let key = match r.item(path).map_err(|_| bad("truncated"))? {
            Item::Int(k) => k,
            Item::Uint(k) => i64::try_from(k).unwrap_or(i64::MAX),
            _ => return Err(bad("a key is not an integer")),
        };
        match key {
            KEY_NULLNESS => match r.item(path).map_err(|_| bad("truncated"))? {
                Item::Bool(true) => definitely_null = true,
                Item::Bool(false) => out.not_null = true,
                _ => return Err(bad("nullness is not a bool")),
            },
            KEY_STRING_PREFIX => {
                if *ty != Type::String {
                    return Err(bad(&format!("a string prefix for a {ty}")));
                }
                let prefix = r
                    .string(path, "a string prefix")
                    .map_err(|_| bad("the string prefix is not a UTF-8 string"))?;
                out.string_prefix = (!prefix.is_empty()).then_some(prefix);
            }
            KEY_NUMBER_MIN | KEY_NUMBER_MAX => {
                if *ty != Type::Number {
                    return Err(bad(&format!("a number bound for a {ty}")));
                }
                let bound = number_bound(&mut r, path)
                    .map_err(|_| bad("a number bound is not a [number, bool] array"))?;
                if key == KEY_NUMBER_MIN {
                    out.number_lower = bound;
                } else {
                    out.number_upper = bound;
                }
            }
            KEY_LENGTH_MIN | KEY_LENGTH_MAX => {
                if !ty.is_collection() {
                    return Err(bad(&format!("a length bound for a {ty}")));
                }
                let bound = match r.item(path).map_err(|_| bad("truncated"))? {
                    Item::Int(n) => u64::try_from(n).ok(),
                    Item::Uint(n) => Some(n),
                    _ => return Err(bad("a length bound is not an integer")),
                };
                match (key, bound) {
                    // A negative lower bound says nothing.
                    (KEY_LENGTH_MIN, bound) => out.length_lower = bound.filter(|n| *n > 0),
                    (_, Some(n)) => out.length_upper = Some(n),
                    (_, None) => return Err(bad("a negative length upper bound")),
                }
            }
            // Keys from a future go-cty: skip their values.
            _ => r.skip(path, 0).map_err(|_| bad("truncated"))?,
        }
    }
    if definitely_null {
        // go-cty collapses "unknown, but certainly null" into null.
        return Ok(Value::Null);
    }
    if let (Some(lower), Some(upper)) = (out.length_lower, out.length_upper)
        && lower > upper
    {
        return Err(bad(&format!("length bounds {lower} > {upper}")));
    }
    if let (Some(lower), Some(upper)) = (&out.number_lower, &out.number_upper) {
        let empty = match lower.value.cmp(&upper.value) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Equal => !(lower.inclusive && upper.inclusive),
            std::cmp::Ordering::Less => false,
        };
        if empty {
            return Err(bad(&format!(
                "number bounds {} and {} admit no number",
                lower.value, upper.value
            )));
        }
    }
    Ok(Value::Unknown(out))
}

/// `[number, inclusive]`; `None` for an infinite bound, which says nothing.
fn number_bound(r: &mut Reader<'_>, path: &AttributePath) -> Result<Option<NumberBound>, ()> {
    let Ok(Item::Array(2)) = r.item(path) else {
        return Err(());
    };
    let value = match r.item(path).map_err(|_| ())? {
        Item::Float(f) if f.is_infinite() => None,
        item => Some(number(&item, path).map_err(|_| ())?),
    };
    let Ok(Item::Bool(inclusive)) = r.item(path) else {
        return Err(());
    };
    Ok(value.map(|value| NumberBound { value, inclusive }))
}

// ========================================================= unknowns out ==

impl Writer {
    /// An unknown value: `d4 00 00`, or extension 12 when some of its
    /// refinements apply to `ty`.
    pub(super) fn unknown(
        &mut self,
        refinements: &Refinements,
        ty: &Type,
        path: &AttributePath,
    ) -> Result<(), EncodeError> {
        // The entries of the refinement map, in go-cty's order.
        let mut map = RefinementMap::default();
        if ty.is_dynamic() {
            // go-cty never refines a value of unknown type.
        } else {
            if refinements.not_null {
                map.entry(KEY_NULLNESS).bool(false);
            }
            match ty {
                Type::Number => {
                    for (key, bound) in [
                        (KEY_NUMBER_MIN, &refinements.number_lower),
                        (KEY_NUMBER_MAX, &refinements.number_upper),
                    ] {
                        if let Some(bound) = bound {
                            let w = map.entry(key);
                            w.array_len(2, path)?;
                            w.number(&bound.value, path)?;
                            w.bool(bound.inclusive);
                        }
                    }
                }
                Type::String => {
                    let prefix = refinements.string_prefix.as_deref().map_or("", safe_prefix);
                    if !prefix.is_empty() {
                        map.entry(KEY_STRING_PREFIX).str(prefix, path)?;
                    }
                }
                Type::List(_) | Type::Set(_) | Type::Map(_) => {
                    // A lower bound of 0, or an upper bound past i64, says
                    // nothing; go-cty leaves such bounds out.
                    let lower = refinements.length_lower.filter(|n| *n > 0);
                    if let Some(lower) = lower {
                        map.entry(KEY_LENGTH_MIN)
                            .int(i64::try_from(lower).unwrap_or(i64::MAX));
                    }
                    let upper = refinements.length_upper.and_then(|n| i64::try_from(n).ok());
                    if let Some(upper) = upper {
                        map.entry(KEY_LENGTH_MAX).int(upper);
                    }
                }
                _ => {}
            }
        }
        if map.entries == 0 {
            rmp::encode::write_ext_meta(&mut self.0, 1, EXT_UNKNOWN).written();
            self.0.as_mut_vec().push(0);
            return Ok(());
        }
        let mut payload = Writer(ByteBuf::new());
        payload.map_len(map.entries, path)?;
        payload
            .0
            .as_mut_vec()
            .extend_from_slice(map.body.0.as_slice());
        let payload = payload.0.into_vec();
        rmp::encode::write_ext_meta(
            &mut self.0,
            check_len(payload.len(), path)?,
            EXT_REFINED_UNKNOWN,
        )
        .written();
        self.0.as_mut_vec().extend_from_slice(&payload);
        Ok(())
    }
}

/// The entries of a refinement map as they are written, and how many.
#[derive(Default)]
struct RefinementMap {
    entries: usize,
    body: Writer,
}

impl RefinementMap {
    /// Writes `key` and returns the writer for its value.
    fn entry(&mut self, key: i64) -> &mut Writer {
        self.entries += 1;
        self.body.int(key);
        &mut self.body
    }
}

/// A string-prefix refinement as go-cty writes it: as is up to 256 bytes;
/// past that cut to at most 255 bytes, and further back to just before an
/// ASCII character, so that the cut cannot split a character or leave one
/// that a following combining mark would change.
fn safe_prefix(prefix: &str) -> &str {
    if prefix.len() <= MAX_PREFIX_LEN {
        return prefix;
    }
    let window = &prefix.as_bytes()[..MAX_PREFIX_LEN];
    // The byte at the cut must start an ASCII character of the original.
    let cut = (0..MAX_PREFIX_LEN)
        .rev()
        .find(|&i| window[i].is_ascii())
        .unwrap_or(0);
    &prefix[..cut]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::codec::test_support::*;
    use crate::framework::codec::{decode_msgpack, encode_msgpack};
    use crate::framework::value::Number;

    #[test]
    fn refined_unknowns_as_go_cty_writes_them() {
        let prefix = |p: &str| Refinements {
            not_null: true,
            string_prefix: Some(p.to_owned()),
            ..Refinements::default()
        };
        let cases: Vec<(Refinements, Type, &str)> = vec![
            // {1: false}: definitely not null.
            (Refinements::not_null(), Type::String, "c7 03 0c 81 01 c2"),
            (Refinements::not_null(), Type::Bool, "c7 03 0c 81 01 c2"),
            (
                Refinements::not_null(),
                Type::object([("a", Type::String)]),
                "c7 03 0c 81 01 c2",
            ),
            // {1: false, 2: "vpce-"}
            (
                prefix("vpce-"),
                Type::String,
                "c7 0a 0c 82 01 c2 02 a5 76 70 63 65 2d",
            ),
            // A 16-byte payload takes a fixext16 header: {2: "arn:aws:ec2:x"}.
            (
                Refinements {
                    string_prefix: Some("arn:aws:ec2:x".into()),
                    ..Refinements::default()
                },
                Type::String,
                "d8 0c 81 02 ad 61 72 6e 3a 61 77 73 3a 65 63 32 3a 78",
            ),
            // {1: false, 3: [200, true]}: 8 bytes, fixext8.
            (
                Refinements {
                    not_null: true,
                    number_lower: Some(NumberBound::new(200, true)),
                    ..Refinements::default()
                },
                Type::Number,
                "d7 0c 82 01 c2 03 92 cc c8 c3",
            ),
            // {3: [0, true], 4: [1.5, false]}
            (
                Refinements {
                    number_lower: Some(NumberBound::new(0, true)),
                    number_upper: Some(NumberBound::new(1.5, false)),
                    ..Refinements::default()
                },
                Type::Number,
                "c7 11 0c 82 03 92 00 c3 04 92 cb 3f f8 00 00 00 00 00 00 c2",
            ),
            // {6: 200}: 4 bytes, fixext4.
            (
                Refinements {
                    length_upper: Some(200),
                    ..Refinements::default()
                },
                Type::list(Type::String),
                "d6 0c 81 06 cc c8",
            ),
            // {1: false, 5: 1, 6: 3}
            (
                Refinements {
                    not_null: true,
                    length_lower: Some(1),
                    length_upper: Some(3),
                    ..Refinements::default()
                },
                Type::set(Type::String),
                "c7 07 0c 83 01 c2 05 01 06 03",
            ),
            (
                Refinements {
                    length_lower: Some(2),
                    ..Refinements::default()
                },
                Type::map(Type::Number),
                "c7 03 0c 81 05 02",
            ),
        ];
        for (r, ty, expected) in cases {
            let v = refined(r);
            assert_eq!(
                hex(&encode_msgpack(&v, &ty).unwrap()),
                expected,
                "{v:?} as {ty}"
            );
            assert_eq!(
                decode_msgpack(&bytes(expected), &ty).unwrap(),
                v,
                "{expected}"
            );
        }
    }

    #[test]
    fn only_refinements_that_fit_the_type_are_written() {
        let everything = Refinements {
            not_null: false,
            string_prefix: Some("x".into()),
            number_lower: Some(NumberBound::new(1, true)),
            number_upper: None,
            length_lower: Some(1),
            length_upper: None,
        };
        // None fits a bool or an object: plain unknown.
        for ty in [Type::Bool, Type::object([]), Type::tuple([]), Type::Dynamic] {
            assert_eq!(
                hex(&encode_msgpack(&refined(everything.clone()), &ty).unwrap()),
                "d4 00 00"
            );
        }
        assert_eq!(
            hex(&encode_msgpack(&refined(everything.clone()), &Type::String).unwrap()),
            "d6 0c 81 02 a1 78"
        );
        assert_eq!(
            hex(&encode_msgpack(&refined(everything.clone()), &Type::list(Type::Bool)).unwrap()),
            "c7 03 0c 81 05 01"
        );
        // Bounds that say nothing are not written.
        let nothing = Refinements {
            string_prefix: Some(String::new()),
            length_lower: Some(0),
            length_upper: Some(u64::MAX),
            ..Refinements::default()
        };
        assert_eq!(
            hex(&encode_msgpack(&refined(nothing.clone()), &Type::String).unwrap()),
            "d4 00 00"
        );
        assert_eq!(
            hex(&encode_msgpack(&refined(nothing), &Type::set(Type::Bool)).unwrap()),
            "d4 00 00"
        );
        // Not null applies to everything but dynamic.
        assert_eq!(
            hex(&encode_msgpack(&refined(Refinements::not_null()), &Type::Dynamic).unwrap()),
            "d4 00 00"
        );
    }

    #[test]
    fn big_number_bounds_use_number_forms() {
        let r = Refinements {
            number_upper: Some(NumberBound::new(
                Number::parse("1180591620717411303424").unwrap(),
                true,
            )),
            ..Refinements::default()
        };
        let encoded = encode_msgpack(&refined(r.clone()), &Type::Number).unwrap();
        let mut payload = bytes("81 04 92");
        payload.extend(str_bytes("1180591620717411303424"));
        payload.push(0xc3);
        let mut expected = vec![0xc7, payload.len() as u8, 0x0c];
        expected.extend(payload);
        assert_eq!(encoded, expected);
        assert_eq!(decode_msgpack(&encoded, &Type::Number).unwrap(), refined(r));
    }

    #[test]
    fn long_string_prefixes_are_cut_like_go_cty() {
        let long = format!("{}{}", "a".repeat(250), "é".repeat(20));
        let v = refined(Refinements {
            string_prefix: Some(long.clone()),
            ..Refinements::default()
        });
        let decoded =
            decode_msgpack(&encode_msgpack(&v, &Type::String).unwrap(), &Type::String).unwrap();
        let prefix = decoded
            .refinements()
            .and_then(|r| r.string_prefix.clone())
            .unwrap();
        assert!(long.starts_with(&prefix));
        assert!(prefix.len() <= 255, "{}", prefix.len());
        // Cut just before an ASCII character: the last 'a' could take a
        // combining mark, so it goes too.
        assert_eq!(prefix, "a".repeat(249));
        // Up to 256 bytes are kept whole.
        let exact = "b".repeat(256);
        let v = refined(Refinements {
            string_prefix: Some(exact.clone()),
            ..Refinements::default()
        });
        let decoded =
            decode_msgpack(&encode_msgpack(&v, &Type::String).unwrap(), &Type::String).unwrap();
        assert_eq!(decoded, v);
        // No ASCII at all: no prefix worth stating.
        let v = refined(Refinements {
            string_prefix: Some("é".repeat(200)),
            ..Refinements::default()
        });
        assert_eq!(hex(&encode_msgpack(&v, &Type::String).unwrap()), "d4 00 00");
    }

    #[test]
    fn refinement_decoding_follows_go_cty() {
        // Any extension of at most one byte is a plain unknown.
        for wire in [
            "d4 00 00",
            "d4 05 ff",
            "c7 00 00",
            "c7 00 0c",
            "c7 01 07 00",
        ] {
            assert_eq!(
                decode_msgpack(&bytes(wire), &Type::String).unwrap(),
                Value::unknown(),
                "{wire}"
            );
        }
        // {1: true}: certainly null, which go-cty collapses to null.
        assert_eq!(
            decode_msgpack(&bytes("c7 03 0c 81 01 c3"), &Type::String).unwrap(),
            Value::Null
        );
        // Keys from the future are skipped, values and all.
        assert_eq!(
            decode_msgpack(&bytes("c7 07 0c 82 07 92 01 02 01 c2"), &Type::String).unwrap(),
            refined(Refinements::not_null())
        );
        // Trailing bytes in the payload are ignored.
        assert_eq!(
            decode_msgpack(&bytes("c7 05 0c 81 01 c2 ff ff"), &Type::String).unwrap(),
            refined(Refinements::not_null())
        );
        // Infinite bounds say nothing; other number forms are fine.
        assert_eq!(
            decode_msgpack(
                &bytes("c7 12 0c 82 03 92 cb ff f0 00 00 00 00 00 00 c3 04 92 a1 39 c2"),
                &Type::Number
            )
            .unwrap(),
            refined(Refinements {
                number_upper: Some(NumberBound::new(9, false)),
                ..Refinements::default()
            })
        );
        // A negative lower length bound says nothing.
        assert_eq!(
            decode_msgpack(&bytes("c7 03 0c 81 05 ff"), &Type::list(Type::Bool)).unwrap(),
            Value::unknown()
        );
    }

    #[test]
    fn bad_refinements_are_errors_at_their_path() {
        let ty = Type::object([
            ("n", Type::Number),
            ("s", Type::String),
            ("l", Type::list(Type::Bool)),
        ]);
        let cases: &[(&str, &str, &str)] = &[
            // A two-byte extension that is not type 12.
            ("n", "d5 00 00 00", "unsupported msgpack extension type 0"),
            ("n", "d5 0c 00 00", "not a map"),
            ("n", "d6 0c 81 02 a1 78", "string prefix for a number"),
            ("s", "c7 05 0c 81 03 92 01 c3", "number bound for a string"),
            ("s", "c7 03 0c 81 05 01", "length bound for a string"),
            ("n", "c7 03 0c 81 01 01", "nullness is not a bool"),
            ("n", "c7 03 0c 81 a1 78", "not an integer"),
            ("n", "c7 03 0c 82 01 c2", "truncated"),
            ("n", "c7 05 0c 81 03 92 01 01", "[number, bool]"),
            ("l", "c7 05 0c 82 05 03 06 02", "length bounds 3 > 2"),
            ("l", "c7 03 0c 81 06 ff", "negative length upper bound"),
            (
                "n",
                "c7 09 0c 82 03 92 02 c3 04 92 01 c3",
                "admit no number",
            ),
            (
                "n",
                "c7 09 0c 82 03 92 01 c2 04 92 01 c3",
                "admit no number",
            ),
            ("s", "c7 05 0c 81 02 a2 ff fe", "UTF-8"),
        ];
        for (attr, wire, message) in cases {
            let mut full = vec![0x81];
            full.extend(str_bytes(attr));
            full.extend(bytes(wire));
            let err = decode_msgpack(&full, &ty).unwrap_err();
            assert_eq!(err.path.to_string(), *attr, "{wire}");
            assert!(err.message.contains(message), "{wire}: {err}");
        }
        // Over 1024 bytes of refinements.
        let mut payload = bytes("81 02 da 03 fc");
        payload.extend(std::iter::repeat_n(b'a', 0x3fc));
        assert_eq!(payload.len(), 1025);
        let mut huge = bytes("c8 04 01 0c");
        huge.extend(payload);
        let err = decode_msgpack(&huge, &Type::String).unwrap_err();
        assert!(err.message.contains("1024"), "{err}");
    }

    #[test]
    fn refined_unknowns_nested_anywhere_round_trip() {
        let ty = endpoint_type();
        let v = object(
            &ty,
            &[
                (
                    "id",
                    refined(Refinements {
                        not_null: true,
                        string_prefix: Some("vpce-".into()),
                        ..Refinements::default()
                    }),
                ),
                (
                    "ports",
                    Value::set(vec![refined(Refinements {
                        number_lower: Some(NumberBound::new(1, true)),
                        number_upper: Some(NumberBound::new(65535, true)),
                        ..Refinements::default()
                    })]),
                ),
                (
                    "tags",
                    refined(Refinements {
                        not_null: true,
                        length_lower: Some(1),
                        ..Refinements::default()
                    }),
                ),
                (
                    "dns",
                    refined(Refinements {
                        length_upper: Some(3),
                        ..Refinements::default()
                    }),
                ),
                ("timeouts", refined(Refinements::not_null())),
            ],
        );
        round_trip(&v, &ty);
    }
}
