//! The Lua scripts of the lease: each checks that the lease is still ours and acts in one step.
//!
//! Redis runs a script atomically, so "the lease key holds our value" and the write that follows
//! cannot be separated by another client's command: a holder whose lease expired (and was taken
//! by someone else, who may have saved since) finds another value or none, and writes nothing.
//! That check is the fence; no fencing counter is needed on a single Redis primary.
//!
//! Every script takes `KEYS[1]` = the lease key and `ARGV[1]` = our lease value.

use std::sync::LazyLock;

use redis::Script;

/// Take the lease if free (`ARGV[2]` = lease length in ms): `{1}`; else `{0, holder's value,
/// remaining ms}` (value `""` and ms `-2` when it went away in between: try again).
pub(crate) static ACQUIRE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then
  return {1}
end
return {0, redis.call('GET', KEYS[1]) or '', redis.call('PTTL', KEYS[1])}
",
    )
});

/// Extend our lease to `ARGV[2]` ms from now: 1, or 0 when it is no longer ours.
pub(crate) static RENEW: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 0
",
    )
});

/// Delete our lease and announce it on channel `ARGV[2]`: 1, or 0 when it was no longer ours
/// (nothing is deleted then: the lease is someone else's).
pub(crate) static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then
  redis.call('DEL', KEYS[1])
  redis.call('PUBLISH', ARGV[2], '1')
  return 1
end
return 0
",
    )
});

/// Read the credential `KEYS[2]` under our lease: `{1, bytes}`, `{1}` when nothing is stored,
/// `{0}` when the lease is no longer ours.
pub(crate) static LOAD: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return {0}
end
local v = redis.call('GET', KEYS[2])
if v then
  return {1, v}
end
return {1}
",
    )
});

/// Write `ARGV[2]` to the credential `KEYS[2]` under our lease: 1, or 0 (nothing written) when
/// the lease is no longer ours.
pub(crate) static SAVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return 0
end
redis.call('SET', KEYS[2], ARGV[2])
return 1
",
    )
});

/// Delete the credential `KEYS[2]` under our lease: the number of keys deleted (0 or 1), or -1
/// (nothing deleted) when the lease is no longer ours.
pub(crate) static DELETE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
  return -1
end
return redis.call('DEL', KEYS[2])
",
    )
});
