//! The work budget of a filter: what testing one feature costs, times the features a query
//! must test, may not exceed [`MAX_FILTER_WORK`](super::MAX_FILTER_WORK).
//!
//! One unit is one step of evaluation: an operator, a property or a literal. A LIKE costs its
//! pattern length (matching is linear in the text per pattern element), a spatial predicate
//! the vertices of its literal geometry (a point-in-polygon or segment test visits each), an
//! array function its elements. The features a query must test are those in the envelope of
//! the filter's top-level spatial predicate (taken from the R-tree), else every feature of the
//! layer.

use geo::CoordsIter;

use super::compile::{Node, Val};

/// Units of work to test one feature against `node`.
pub fn per_feature(node: &Node) -> u64 {
    let sum = |nodes: &[Node]| nodes.iter().map(per_feature).sum::<u64>();
    1 + match node {
        Node::Const(_) | Node::Temporal(..) => 0,
        Node::And(children) | Node::Or(children) => sum(children),
        Node::Not(child) => per_feature(child),
        Node::Cmp(_, a, b) => value(a) + value(b),
        Node::Like(v, pattern) => value(v) + pattern.len() as u64,
        Node::Between(v, lo, hi) => value(v) + value(lo) + value(hi),
        Node::In(v, list) => value(v) + list.iter().map(value).sum::<u64>(),
        Node::IsNull(v) => value(v),
        Node::Spatial(_, g) => g.coords_count() as u64,
        Node::Array(_, _, items) => items.len() as u64,
    }
}

fn value(v: &Val) -> u64 {
    1 + match v {
        Val::Field(_) | Val::Lit(_) => 0,
        Val::Casei(inner) => value(inner),
        Val::Arith(_, a, b) => value(a) + value(b),
    }
}
