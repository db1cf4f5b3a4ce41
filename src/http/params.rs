//! The query string of routes that take no parameter besides `f`.
//!
//! Owns: the opening of those routes (decode, refuse anything but `f`, check that `f` asks
//! for JSON), and the page limits of the configuration as the feature queries take them. The decoding itself is [`crate::query::params::Params`]; the parameters of the
//! feature queries are [`crate::query::request`]'s.

pub use crate::query::params::Params;

use crate::config::Config;
use crate::error::Result;
use crate::query::request::PageLimits;

/// Decodes the query of a route whose only parameter is `f`, without judging `f`.
pub fn format_only(query: &str) -> Result<Params> {
    Params::parse(query, |k| k == "f")
}

/// [`format_only`], then checks that `f` asks for JSON.
pub fn json_only(query: &str) -> Result<()> {
    format_only(query)?.check_format()
}

/// The page limits of `config`, for the feature query parsers and the API document.
pub fn page_limits(config: &Config) -> PageLimits {
    PageLimits {
        default: config.default_limit,
        max: config.max_limit,
        max_offset: config.limits.max_offset,
    }
}
