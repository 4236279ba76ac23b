//! Moto's request recorder: turning it on for one server, and reading back the requests that
//! reached "AWS" (so that a test can see what a switch or a delivery really sent).
//!
//! Moto's `/moto-api/` is reached through the one HTTP client in `api/client`.

use super::Lab;

impl Lab {
    /// Starts recording every request `name`'s server receives (moto's recorder), so that a
    /// test can read back what reached "AWS".
    pub async fn record(&self, name: &str) -> Result<(), String> {
        start_recording(self.server(name).port).await
    }

    /// The requests `name`'s server recorded: (method, URL, body).
    pub fn recorded(&self, name: &str) -> Vec<(String, String, Vec<u8>)> {
        use base64_lite::decode;
        let path = self.dir.join(format!("logs/recording-{name}.jsonl"));
        std::fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .map(|v| {
                let body = v["body"].as_str().unwrap_or_default();
                let body = if v["body_encoded"] == true {
                    decode(body)
                } else {
                    body.as_bytes().to_vec()
                };
                (
                    v["method"].as_str().unwrap_or_default().to_string(),
                    v["url"].as_str().unwrap_or_default().to_string(),
                    body,
                )
            })
            .collect()
    }
}

/// `POST /moto-api/recorder/start-recording` to the moto server on `port`, through the one
/// HTTP client (with its deadlines).
async fn start_recording(port: u16) -> Result<(), String> {
    use crate::api::client::{Client, Request};
    let client = Client::new(&format!("http://127.0.0.1:{port}")).map_err(|e| e.to_string())?;
    client
        .send(Request::post("/moto-api/recorder/start-recording"))
        .await
        .and_then(|r| r.ok().map(|_| ()))
        .map_err(|e| format!("moto did not start recording: {e}"))
}

/// Standard base64, decoding only (moto's recorder writes bodies that way).
mod base64_lite {
    pub fn decode(s: &str) -> Vec<u8> {
        let val = |c: u8| -> Option<u32> {
            Some(match c {
                b'A'..=b'Z' => c - b'A',
                b'a'..=b'z' => c - b'a' + 26,
                b'0'..=b'9' => c - b'0' + 52,
                b'+' => 62,
                b'/' => 63,
                _ => return None,
            } as u32)
        };
        let mut out = Vec::with_capacity(s.len() * 3 / 4);
        let (mut acc, mut bits) = (0u32, 0u32);
        for c in s.bytes() {
            let Some(v) = val(c) else { continue };
            acc = (acc << 6) | v;
            bits += 6;
            if bits >= 8 {
                bits -= 8;
                out.push((acc >> bits) as u8);
                acc &= (1 << bits) - 1;
            }
        }
        out
    }

    #[cfg(test)]
    #[test]
    fn standard_base64_decodes_a_recorded_body() {
        assert_eq!(decode("eyJub25jZSI6ImEifQ=="), br#"{"nonce":"a"}"#.to_vec());
    }
}
