//! The type a known value of type `dynamic` is written with, in msgpack
//! and JSON alike: its own structure, with nulls and unknowns taking
//! whatever type their neighbours have (`dynamic` when they have none).
//!
//! Invariants: the elements of one list, set or map must come to one
//! type, or writing fails at the element that does not fit; an object or
//! tuple keeps a type per attribute or element. Nesting is capped at
//! [`MAX_DEPTH`].

use super::{EncodeError, MAX_DEPTH, encode_error, too_deep};
use crate::framework::path::AttributePath;
use crate::framework::types::Type;
use crate::framework::value::Value;

/// The type a known value of type `dynamic` is written with: its own
/// structure, nulls and unknowns fitting whatever their neighbours are.
pub(super) fn implied_type(
    v: &Value,
    path: &AttributePath,
    depth: usize,
) -> Result<Type, EncodeError> {
    if depth > MAX_DEPTH {
        return Err(encode_error(path, too_deep()));
    }
    let common =
        |items: &mut dyn Iterator<Item = (AttributePath, &Value)>| -> Result<Type, EncodeError> {
            let mut out = Type::Dynamic;
            for (p, item) in items {
                let t = implied_type(item, &p, depth + 1)?;
                out = unify(&out, &t).ok_or_else(|| {
                encode_error(
                    &p,
                    format!("elements of one collection must share a type; this is {t}, others are {out}"),
                )
            })?;
            }
            Ok(out)
        };
    Ok(match v {
        Value::Null | Value::Unknown(_) => Type::Dynamic,
        Value::Bool(_) => Type::Bool,
        Value::Number(_) => Type::Number,
        Value::String(_) => Type::String,
        Value::List(items) => Type::list(common(
            &mut items
                .iter()
                .enumerate()
                .map(|(i, item)| (path.index(i as i64), item)),
        )?),
        Value::Set(items) => Type::set(common(
            &mut items
                .iter()
                .enumerate()
                .map(|(i, item)| (path.index(i as i64), item)),
        )?),
        Value::Map(m) => Type::map(common(&mut m.iter().map(|(k, item)| (path.key(k), item)))?),
        Value::Object(m) => Type::Object(
            m.iter()
                .map(|(k, item)| Ok((k.clone(), implied_type(item, &path.attr(k), depth + 1)?)))
                .collect::<Result<_, EncodeError>>()?,
            Default::default(),
        ),
        Value::Tuple(items) => Type::Tuple(
            items
                .iter()
                .enumerate()
                .map(|(i, item)| implied_type(item, &path.index(i as i64), depth + 1))
                .collect::<Result<_, _>>()?,
        ),
    })
}

/// The one type two implied types can both be written as, if any:
/// `dynamic` (from a null or unknown) gives way to anything.
fn unify(a: &Type, b: &Type) -> Option<Type> {
    Some(match (a, b) {
        (Type::Dynamic, t) | (t, Type::Dynamic) => t.clone(),
        (Type::List(x), Type::List(y)) => Type::list(unify(x, y)?),
        (Type::Set(x), Type::Set(y)) => Type::set(unify(x, y)?),
        (Type::Map(x), Type::Map(y)) => Type::map(unify(x, y)?),
        (Type::Object(x, _), Type::Object(y, _)) if x.len() == y.len() => Type::Object(
            x.iter()
                .map(|(k, xt)| Some((k.clone(), unify(xt, y.get(k)?)?)))
                .collect::<Option<_>>()?,
            Default::default(),
        ),
        (Type::Tuple(x), Type::Tuple(y)) if x.len() == y.len() => Type::Tuple(
            x.iter()
                .zip(y)
                .map(|(a, b)| unify(a, b))
                .collect::<Option<_>>()?,
        ),
        (a, b) if a == b => a.clone(),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::codec::test_support::*;
    use crate::framework::codec::{decode_msgpack, encode_msgpack};

    #[test]
    fn dynamic_values_carry_their_type() {
        let ty = Type::Dynamic;
        let list = Value::list([n("1"), n("2")]);
        let mut wire = vec![0x92, 0xc4, 17];
        wire.extend_from_slice(br#"["list","number"]"#);
        wire.extend(bytes("92 01 02"));
        assert_eq!(encode_msgpack(&list, &ty).unwrap(), wire);
        assert_eq!(decode_msgpack(&wire, &ty).unwrap(), list);
        // The type may come as str rather than bin.
        let mut as_str = vec![0x92, 0xa0 | 17];
        as_str.extend_from_slice(br#"["list","number"]"#);
        as_str.extend(bytes("92 01 02"));
        assert_eq!(decode_msgpack(&as_str, &ty).unwrap(), list);
        // Nulls and unknowns take the type of their neighbours.
        for v in [
            Value::list([Value::Null, s("a")]),
            Value::list([Value::unknown(), s("a")]),
            Value::list([Value::Null]),
            Value::list([
                Value::map([("k", Value::Null)]),
                Value::map([("k", n("1"))]),
            ]),
            Value::set(vec![
                Value::object([("a", Value::Null), ("b", s("x"))]),
                Value::object([("a", n("1")), ("b", Value::Null)]),
            ]),
            Value::list([Value::list([]), Value::list([s("x")])]),
            Value::Tuple(vec![s("a"), n("1"), Value::Bool(true), Value::Null]),
            Value::object([("nested", Value::object([("x", Value::list([n("1.5")]))]))]),
            Value::map::<&str>([]),
        ] {
            round_trip(&v, &ty);
        }
        let mixed = Value::list([s("a"), n("1")]);
        let err = encode_msgpack(&mixed, &ty).unwrap_err();
        assert_eq!(err.path.to_string(), "[1]");
        assert!(err.message.contains("share a type"), "{err}");
        // A dynamic value inside an object: its path is the attribute's.
        let obj_ty = Type::object([("any", Type::Dynamic)]);
        let err = encode_msgpack(&Value::object([("any", mixed)]), &obj_ty).unwrap_err();
        assert_eq!(err.path.to_string(), "any[1]");
    }
}
