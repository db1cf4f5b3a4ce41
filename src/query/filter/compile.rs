//! Compiles a `cql2` expression against a layer: property names become field positions,
//! literals become values, and every operator is checked once, so evaluation per feature
//! does no lookups and meets no errors.

use cql2::Expr;
use geo::Geometry;

use super::like::Pattern;
use super::spatial::{self, SpatialOp};
use super::temporal::{self, TemporalOp};
use super::{GEOMETRY_QUERYABLE, MAX_NODES, filter_fields};
use crate::catalog::{ArcStr, Layer};
use crate::error::{Error, Result};

/// A scalar value during evaluation.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Null,
    Bool(bool),
    Num(f64),
    Str(ArcStr),
}

/// An expression giving a scalar.
#[derive(Debug, Clone)]
pub enum Val {
    Field(usize),
    Lit(Scalar),
    /// Lower-cased string (CASEI).
    Casei(Box<Val>),
    Arith(ArithOp, Box<Val>, Box<Val>),
}

/// Arithmetic operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArithOp {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    Pow,
    IntDiv,
}

/// Comparison operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CmpOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// Array operators.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArrayOp {
    Equals,
    Contains,
    ContainedBy,
    Overlaps,
}

/// A compiled predicate.
#[derive(Debug, Clone)]
pub enum Node {
    Const(bool),
    And(Vec<Node>),
    Or(Vec<Node>),
    Not(Box<Node>),
    Cmp(CmpOp, Val, Val),
    Like(Val, Pattern),
    Between(Val, Val, Val),
    In(Val, Vec<Val>),
    IsNull(Val),
    /// The feature geometry in relation `op` to a literal geometry.
    Spatial(SpatialOp, Box<Geometry<f64>>),
    /// The feature time in relation `op` to a literal span.
    Temporal(TemporalOp, (i64, i64)),
    /// An array property against a literal array (elements as JSON text).
    Array(ArrayOp, usize, Vec<serde_json::Value>),
}

/// Compiles `expr` for `layer`.
///
/// # Errors
/// A 400 on parameter `filter` naming the unknown property, the unsupported operator or
/// the limit exceeded.
pub fn compile(layer: &Layer, expr: &Expr) -> Result<Node> {
    let nodes = count(expr);
    if nodes > MAX_NODES {
        return Err(bad(
            "(expression)",
            format!("has {nodes} nodes; at most {MAX_NODES} are allowed"),
        ));
    }
    let ctx = Ctx {
        layer,
        fields: filter_fields(layer),
    };
    ctx.predicate(expr)
}

fn count(expr: &Expr) -> usize {
    1 + match expr {
        Expr::Operation { args, .. } | Expr::Array(args) | Expr::Interval { interval: args } => {
            args.iter().map(|a| count(a)).sum()
        }
        _ => 0,
    }
}

pub(super) fn bad(value: impl Into<String>, reason: impl Into<String>) -> Error {
    Error::bad_param("filter", value, reason)
}

fn show(expr: &Expr) -> String {
    expr.to_text().unwrap_or_else(|_| format!("{expr:?}"))
}

struct Ctx<'a> {
    layer: &'a Layer,
    fields: Vec<usize>,
}

impl Ctx<'_> {
    fn field(&self, name: &str) -> Result<usize> {
        self.layer
            .field_index(name)
            .filter(|i| self.fields.contains(i))
            .ok_or_else(|| {
                bad(
                    name,
                    format!("'{name}' is not a queryable of '{}'", self.layer.id()),
                )
            })
    }

    fn predicate(&self, expr: &Expr) -> Result<Node> {
        let Expr::Operation { op, args } = expr else {
            return match expr {
                Expr::Bool(b) => Ok(Node::Const(*b)),
                other => Err(bad(show(other), "not a predicate")),
            };
        };
        let arity = |n: usize| {
            if args.len() == n {
                Ok(())
            } else {
                Err(bad(show(expr), format!("{op} takes {n} arguments")))
            }
        };
        Ok(match op.as_str() {
            "and" => Node::And(
                args.iter()
                    .map(|a| self.predicate(a))
                    .collect::<Result<_>>()?,
            ),
            "or" => Node::Or(
                args.iter()
                    .map(|a| self.predicate(a))
                    .collect::<Result<_>>()?,
            ),
            "not" => {
                arity(1)?;
                Node::Not(Box::new(self.predicate(&args[0])?))
            }
            "=" | "<>" | "<" | "<=" | ">" | ">=" => {
                arity(2)?;
                let op = match op.as_str() {
                    "=" => CmpOp::Eq,
                    "<>" => CmpOp::Ne,
                    "<" => CmpOp::Lt,
                    "<=" => CmpOp::Le,
                    ">" => CmpOp::Gt,
                    _ => CmpOp::Ge,
                };
                Node::Cmp(op, self.value(&args[0])?, self.value(&args[1])?)
            }
            "like" => {
                arity(2)?;
                Node::Like(self.value(&args[0])?, self.pattern(&args[1])?)
            }
            "between" => {
                arity(3)?;
                Node::Between(
                    self.value(&args[0])?,
                    self.value(&args[1])?,
                    self.value(&args[2])?,
                )
            }
            "in" => {
                arity(2)?;
                let Expr::Array(items) = &*args[1] else {
                    return Err(bad(show(&args[1]), "IN needs a list"));
                };
                Node::In(
                    self.value(&args[0])?,
                    items.iter().map(|i| self.value(i)).collect::<Result<_>>()?,
                )
            }
            "isNull" => {
                arity(1)?;
                Node::IsNull(self.value(&args[0])?)
            }
            s if s.starts_with("s_") => {
                arity(2)?;
                spatial::compile(s, &args[0], &args[1], |n| self.is_geometry(n))?
            }
            t if t.starts_with("t_") => {
                arity(2)?;
                temporal::compile(self.layer, t, &args[0], &args[1])?
            }
            a if a.starts_with("a_") => {
                arity(2)?;
                self.array(a, &args[0], &args[1])?
            }
            other => return Err(bad(other, "unsupported operator")),
        })
    }

    fn is_geometry(&self, name: &str) -> Result<()> {
        if name == GEOMETRY_QUERYABLE {
            Ok(())
        } else {
            Err(bad(
                name,
                format!(
                    "the spatial queryable of '{}' is '{GEOMETRY_QUERYABLE}'",
                    self.layer.id()
                ),
            ))
        }
    }

    fn value(&self, expr: &Expr) -> Result<Val> {
        Ok(match expr {
            Expr::Property { property } => Val::Field(self.field(property)?),
            Expr::Float(f) => Val::Lit(Scalar::Num(*f)),
            Expr::Literal(s) => Val::Lit(Scalar::Str(ArcStr::from(s.as_str()))),
            Expr::Bool(b) => Val::Lit(Scalar::Bool(*b)),
            Expr::Null => Val::Lit(Scalar::Null),
            Expr::Date { date } | Expr::Timestamp { timestamp: date } => match &**date {
                Expr::Literal(s) => Val::Lit(Scalar::Str(ArcStr::from(s.as_str()))),
                other => return Err(bad(show(other), "expected a date or timestamp text")),
            },
            Expr::Operation { op, args } if op == "casei" && args.len() == 1 => {
                Val::Casei(Box::new(self.value(&args[0])?))
            }
            Expr::Operation { op, args } if op == "accenti" && args.len() == 1 => {
                return Err(bad(show(expr), "ACCENTI is not supported"));
            }
            Expr::Operation { op, args } => {
                let aop = match op.as_str() {
                    "+" => ArithOp::Add,
                    "-" => ArithOp::Sub,
                    "*" => ArithOp::Mul,
                    "/" => ArithOp::Div,
                    "%" => ArithOp::Rem,
                    "^" => ArithOp::Pow,
                    "div" => ArithOp::IntDiv,
                    _ => return Err(bad(show(expr), "not a value")),
                };
                let mut vals = args.iter().map(|a| self.value(a));
                let first = vals
                    .next()
                    .ok_or_else(|| bad(show(expr), "missing operands"))??;
                let mut acc = first;
                let mut any = false;
                for v in vals {
                    acc = Val::Arith(aop, Box::new(acc), Box::new(v?));
                    any = true;
                }
                if !any {
                    return Err(bad(show(expr), format!("{op} takes two operands")));
                }
                acc
            }
            other => return Err(bad(show(other), "not a scalar value")),
        })
    }

    fn pattern(&self, expr: &Expr) -> Result<Pattern> {
        match expr {
            Expr::Literal(s) => Pattern::new(s, false),
            Expr::Operation { op, args } if op == "casei" && args.len() == 1 => match &*args[0] {
                Expr::Literal(s) => Pattern::new(s, true),
                other => Err(bad(show(other), "a LIKE pattern must be a text literal")),
            },
            other => Err(bad(show(other), "a LIKE pattern must be a text literal")),
        }
    }

    fn array(&self, op: &str, left: &Expr, right: &Expr) -> Result<Node> {
        let aop = match op {
            "a_equals" => ArrayOp::Equals,
            "a_contains" => ArrayOp::Contains,
            "a_containedBy" => ArrayOp::ContainedBy,
            "a_overlaps" => ArrayOp::Overlaps,
            other => return Err(bad(other, "unsupported operator")),
        };
        let (Expr::Property { property }, Expr::Array(items)) = (left, right) else {
            return Err(bad(
                show(left),
                format!("{op} takes an array property and a literal array"),
            ));
        };
        let field = self.field(property)?;
        let items = items
            .iter()
            .map(|i| match &**i {
                Expr::Literal(s) => Ok(serde_json::Value::from(s.as_str())),
                Expr::Float(f) => Ok(serde_json::Value::from(*f)),
                Expr::Bool(b) => Ok(serde_json::Value::from(*b)),
                other => Err(bad(show(other), "array elements must be literals")),
            })
            .collect::<Result<_>>()?;
        Ok(Node::Array(aop, field, items))
    }
}
