//! Routes of this module.

use actix_web::web;

/// Registers the routes of this module.
pub fn routes(_cfg: &mut web::ServiceConfig) {}
