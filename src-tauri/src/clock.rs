//! The wall clock, in one place.

use switchyard_core::UnixMs;

pub fn now_ms() -> UnixMs {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as UnixMs)
}
