//! Running a statement again on another connection, when the first one certainly did not run
//! it (see [`crate::core::error::Error::unrun`]).

use crate::core::reply::Reply;
use crate::core::session::Params;

/// Takes back a `pool.query` statement whose connection closed before the statement ran, to
/// run it once more elsewhere (`core::lease`). The statement's reply goes with it, so its
/// caller hears only of the second attempt.
pub trait Retry: Send + Sync {
    fn retry(&self, sql: String, params: Params, reply: Reply);
}
