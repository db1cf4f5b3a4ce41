//! Temporal predicates on the layer's time: the feature's span against a literal DATE (a
//! whole UTC day), TIMESTAMP (an instant) or INTERVAL (`..` for an open end), with the
//! relations of Allen's interval algebra on half-open spans. The feature's time is named by
//! the layer's time property; on a layer of periods (`time_end_property`) the time property
//! and `INTERVAL(start, end)` both name the whole period (see `catalog::time`).

use cql2::Expr;

use super::compile::{Node, bad};
use crate::catalog::Layer;
use crate::catalog::time::parse_time;
use crate::error::Result;

/// The temporal relations of CQL2.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TemporalOp {
    After,
    Before,
    Contains,
    Disjoint,
    During,
    Equals,
    FinishedBy,
    Finishes,
    Intersects,
    Meets,
    MetBy,
    OverlappedBy,
    Overlaps,
    StartedBy,
    Starts,
}

impl TemporalOp {
    fn parse(op: &str) -> Option<Self> {
        Some(match op {
            "t_after" => Self::After,
            "t_before" => Self::Before,
            "t_contains" => Self::Contains,
            "t_disjoint" => Self::Disjoint,
            "t_during" => Self::During,
            "t_equals" => Self::Equals,
            "t_finishedBy" => Self::FinishedBy,
            "t_finishes" => Self::Finishes,
            "t_intersects" => Self::Intersects,
            "t_meets" => Self::Meets,
            "t_metBy" => Self::MetBy,
            "t_overlappedBy" => Self::OverlappedBy,
            "t_overlaps" => Self::Overlaps,
            "t_startedBy" => Self::StartedBy,
            "t_starts" => Self::Starts,
            _ => return None,
        })
    }

    /// The relation with its arguments swapped.
    fn converse(self) -> Self {
        match self {
            Self::After => Self::Before,
            Self::Before => Self::After,
            Self::Contains => Self::During,
            Self::During => Self::Contains,
            Self::FinishedBy => Self::Finishes,
            Self::Finishes => Self::FinishedBy,
            Self::Meets => Self::MetBy,
            Self::MetBy => Self::Meets,
            Self::OverlappedBy => Self::Overlaps,
            Self::Overlaps => Self::OverlappedBy,
            Self::StartedBy => Self::Starts,
            Self::Starts => Self::StartedBy,
            other => other,
        }
    }
}

/// Compiles `op(left, right)`: one side the time property, the other a literal.
///
/// # Errors
/// A 400 for an unknown operator, a layer without time, another property, or a bad literal.
pub fn compile(layer: &Layer, op: &str, left: &Expr, right: &Expr) -> Result<Node> {
    let top = TemporalOp::parse(op).ok_or_else(|| bad(op, "unsupported operator"))?;
    let time = layer.config.time_property.as_deref().ok_or_else(|| {
        bad(
            op,
            format!(
                "'{}' has no time property for temporal functions",
                layer.id()
            ),
        )
    })?;
    let end = layer.config.time_end_property.as_deref();
    let names_time = |e: &Expr| feature_time(e, time, end);
    let (top, literal) = match (left, right) {
        (l, lit) if names_time(l).is_some() => (top, lit),
        (lit, r) if names_time(r).is_some() => (top.converse(), lit),
        _ => {
            let wanted = match end {
                Some(end) => format!("'{time}' or INTERVAL({time}, {end})"),
                None => format!("'{time}'"),
            };
            return Err(bad(
                left.to_text().unwrap_or_else(|_| op.to_owned()),
                format!("temporal functions take the time of the feature, {wanted}, and a literal"),
            ));
        }
    };
    Ok(Node::Temporal(top, span(literal)?))
}

/// `Some(())` when `expr` names the feature's time: the time property, or on a layer of
/// periods `INTERVAL(start property, end property)`.
fn feature_time(expr: &Expr, time: &str, end: Option<&str>) -> Option<()> {
    match expr {
        Expr::Property { property } if property == time => Some(()),
        Expr::Interval { interval } if interval.len() == 2 => {
            let name = |e: &Expr| match e {
                Expr::Property { property } => Some(property.clone()),
                _ => None,
            };
            (name(&interval[0])? == time && Some(name(&interval[1])?.as_str()) == end).then_some(())
        }
        _ => None,
    }
}

fn instant(expr: &Expr, open: i64) -> Result<(i64, i64)> {
    let text = match expr {
        Expr::Literal(s) => s.as_str(),
        Expr::Date { date: e } | Expr::Timestamp { timestamp: e } => match &**e {
            Expr::Literal(s) => s.as_str(),
            other => return Err(bad(other.to_text().unwrap_or_default(), "expected a time")),
        },
        other => return Err(bad(other.to_text().unwrap_or_default(), "expected a time")),
    };
    if text == ".." {
        return Ok((open, open));
    }
    parse_time(text).map_err(|e| bad(text, e))
}

fn span(expr: &Expr) -> Result<(i64, i64)> {
    match expr {
        Expr::Interval { interval } if interval.len() == 2 => {
            let (start, _) = instant(&interval[0], i64::MIN)?;
            let (_, end) = instant(&interval[1], i64::MAX)?;
            if start >= end {
                return Err(bad(
                    expr.to_text().unwrap_or_default(),
                    "the interval ends before it starts",
                ));
            }
            Ok((start, end))
        }
        Expr::Date { .. } | Expr::Timestamp { .. } => instant(expr, 0),
        other => Err(bad(
            other.to_text().unwrap_or_default(),
            "expected DATE(), TIMESTAMP() or INTERVAL()",
        )),
    }
}

/// Whether span `a` (the feature's) is in relation `op` to span `b`.
pub fn test(op: TemporalOp, a: (i64, i64), b: (i64, i64)) -> bool {
    let ((s1, e1), (s2, e2)) = (a, b);
    match op {
        TemporalOp::After => s1 >= e2,
        TemporalOp::Before => e1 <= s2,
        TemporalOp::Contains => s1 < s2 && e1 > e2,
        TemporalOp::During => s1 > s2 && e1 < e2,
        TemporalOp::Disjoint => !(s1 < e2 && s2 < e1),
        TemporalOp::Intersects => s1 < e2 && s2 < e1,
        TemporalOp::Equals => s1 == s2 && e1 == e2,
        TemporalOp::FinishedBy => s1 < s2 && e1 == e2,
        TemporalOp::Finishes => s1 > s2 && e1 == e2,
        TemporalOp::Meets => e1 == s2,
        TemporalOp::MetBy => s1 == e2,
        TemporalOp::Overlaps => s1 < s2 && e1 > s2 && e1 < e2,
        TemporalOp::OverlappedBy => s2 < s1 && e2 > s1 && e2 < e1,
        TemporalOp::StartedBy => s1 == s2 && e1 > e2,
        TemporalOp::Starts => s1 == s2 && e1 < e2,
    }
}
