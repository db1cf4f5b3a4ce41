//! Evaluates a compiled filter on one feature with three-valued logic: a comparison with
//! a null or missing value, or between values of different types, is unknown (`None`),
//! and only a filter that is `Some(true)` selects the feature.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::Value;

use super::compile::{ArithOp, ArrayOp, CmpOp, Node, Scalar, Val};
use super::{spatial, temporal};
use crate::catalog::{ArcStr, Feature, Prop};

/// The truth of `node` for `f`.
pub fn test(node: &Node, f: &Feature) -> Option<bool> {
    match node {
        Node::Const(b) => Some(*b),
        Node::And(children) => {
            let mut out = Some(true);
            for c in children {
                match test(c, f) {
                    Some(false) => return Some(false),
                    None => out = None,
                    Some(true) => {}
                }
            }
            out
        }
        Node::Or(children) => {
            let mut out = Some(false);
            for c in children {
                match test(c, f) {
                    Some(true) => return Some(true),
                    None => out = None,
                    Some(false) => {}
                }
            }
            out
        }
        Node::Not(c) => test(c, f).map(|b| !b),
        Node::Cmp(op, a, b) => compare(&value(a, f), &value(b, f)).map(|o| match op {
            CmpOp::Eq => o == Ordering::Equal,
            CmpOp::Ne => o != Ordering::Equal,
            CmpOp::Lt => o == Ordering::Less,
            CmpOp::Le => o != Ordering::Greater,
            CmpOp::Gt => o == Ordering::Greater,
            CmpOp::Ge => o != Ordering::Less,
        }),
        Node::Like(v, pattern) => match value(v, f) {
            // CASEI(...) on the value has lower-cased it already.
            Scalar::Str(s) if pattern.casei && !matches!(v, Val::Casei(_)) => {
                Some(pattern.matches(&s.to_lowercase()))
            }
            Scalar::Str(s) => Some(pattern.matches(&s)),
            _ => None,
        },
        Node::Between(v, lo, hi) => {
            let x = value(v, f);
            let above = compare(&x, &value(lo, f))?;
            let below = compare(&x, &value(hi, f))?;
            Some(above != Ordering::Less && below != Ordering::Greater)
        }
        Node::In(v, list) => {
            let x = value(v, f);
            let mut out = Some(false);
            for item in list {
                match compare(&x, &value(item, f)) {
                    Some(Ordering::Equal) => return Some(true),
                    None => out = None,
                    Some(_) => {}
                }
            }
            out
        }
        Node::IsNull(v) => Some(value(v, f) == Scalar::Null),
        // A feature without geometry is unknown to every spatial predicate, as a null is.
        Node::Spatial(op, g) => {
            (!f.has_null_geometry()).then(|| spatial::test(*op, &f.geometry.get(), g))
        }
        Node::Temporal(op, span) => f.time.get().map(|t| temporal::test(*op, t, *span)),
        Node::Array(op, field, items) => {
            let have = match f.props.get(*field)? {
                Prop::Json(v) => match &**v {
                    Value::Array(have) => Cow::Borrowed(have),
                    _ => return None,
                },
                raw @ Prop::Raw(_) => match raw.to_json() {
                    Value::Array(have) => Cow::Owned(have),
                    _ => return None,
                },
                _ => return None,
            };
            let have: &[Value] = &have;
            let has = |set: &[Value], x: &Value| set.iter().any(|y| same(x, y));
            Some(match op {
                ArrayOp::Equals => {
                    have.iter().all(|x| has(items, x)) && items.iter().all(|x| has(have, x))
                }
                ArrayOp::Contains => items.iter().all(|x| has(have, x)),
                ArrayOp::ContainedBy => have.iter().all(|x| has(items, x)),
                ArrayOp::Overlaps => items.iter().any(|x| has(have, x)),
            })
        }
    }
}

/// Array elements are equal as numbers when both are numbers, else as JSON.
fn same(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x.total_cmp(&y) == Ordering::Equal,
        _ => a == b,
    }
}

fn scalar(p: &Prop) -> Scalar {
    match p {
        Prop::Absent | Prop::Null => Scalar::Null,
        Prop::Bool(b) => Scalar::Bool(*b),
        Prop::Int(_) | Prop::Float(_) => p.as_f64().map_or(Scalar::Null, Scalar::Num),
        Prop::Str(s) => Scalar::Str(s.clone()),
        Prop::Json(v) => Scalar::Str(ArcStr::from(v.to_string())),
        Prop::Raw(r) => p
            .as_f64()
            .map_or_else(|| Scalar::Str(ArcStr::from(r.get())), Scalar::Num),
    }
}

/// The value of `v` for `f`.
pub fn value(v: &Val, f: &Feature) -> Scalar {
    match v {
        Val::Field(i) => f.props.get(*i).map_or(Scalar::Null, scalar),
        Val::Lit(s) => s.clone(),
        Val::Casei(inner) => match value(inner, f) {
            Scalar::Str(s) => Scalar::Str(ArcStr::from(s.to_lowercase())),
            other => other,
        },
        Val::Arith(op, a, b) => match (value(a, f), value(b, f)) {
            (Scalar::Num(x), Scalar::Num(y)) => arith(*op, x, y).map_or(Scalar::Null, Scalar::Num),
            _ => Scalar::Null,
        },
    }
}

/// Arithmetic on numbers; division by zero and non-finite results are null.
fn arith(op: ArithOp, x: f64, y: f64) -> Option<f64> {
    let r = match op {
        ArithOp::Add => x + y,
        ArithOp::Sub => x - y,
        ArithOp::Mul => x * y,
        ArithOp::Div if y == 0.0 => return None,
        ArithOp::Div => x / y,
        ArithOp::Rem if y == 0.0 => return None,
        ArithOp::Rem => x % y,
        ArithOp::Pow => x.powf(y),
        ArithOp::IntDiv if y == 0.0 => return None,
        ArithOp::IntDiv => (x / y).trunc(),
    };
    r.is_finite().then_some(r)
}

/// Orders two scalars of the same type; unknown for nulls and mixed types.
pub fn compare(a: &Scalar, b: &Scalar) -> Option<Ordering> {
    match (a, b) {
        (Scalar::Num(x), Scalar::Num(y)) => x.partial_cmp(y),
        (Scalar::Str(x), Scalar::Str(y)) => Some(x.cmp(y)),
        (Scalar::Bool(x), Scalar::Bool(y)) => Some(x.cmp(y)),
        _ => None,
    }
}
