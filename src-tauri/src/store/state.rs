//! Small facts kept across restarts, by key (today: `active_region`, which region the devices
//! were last moved to; it wins over the configured roles at start).
//!
//! Rules kept here:
//! - One value per key: setting a key replaces its value.

use super::{Store, StoreError};
use rusqlite::{params, OptionalExtension};

impl Store {
    pub fn state_get(&self, key: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .lock()
            .query_row(
                "SELECT value FROM state WHERE key = ?1",
                params![key],
                |r| r.get(0),
            )
            .optional()?)
    }

    pub fn state_set(&self, key: &str, value: &str) -> Result<(), StoreError> {
        self.lock().execute(
            "INSERT INTO state (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_state_value_is_replaced_by_the_next_and_survives_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        {
            let s = Store::open(dir.path()).unwrap();
            assert_eq!(s.state_get("active_region").unwrap(), None);
            s.state_set("active_region", "us-east-1").unwrap();
            s.state_set("active_region", "eu-west-1").unwrap();
        }
        let s = Store::open(dir.path()).unwrap();
        assert_eq!(
            s.state_get("active_region").unwrap().as_deref(),
            Some("eu-west-1")
        );
    }
}
