//! Square: the facts every Square call shares. The payments adapter (pulling payments,
//! refunds and payouts) grows here.

/// The API version every request pins with the `Square-Version` header: the version of the
/// official spec in `../shared/specs/square.json`, so the fake and the client agree.
/// <https://developer.squareup.com/docs/build-basics/versioning-overview>
pub const API_VERSION: &str = "2025-08-20";
