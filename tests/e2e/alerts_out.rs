//! Alerts out, on `#/alerts` in headless Chromium: a webhook receiver (a server in this test)
//! that first answers 503 is called out at the top of the page, not as a fleet alert, and its
//! delivery is retried in the log; once it answers 200 it gets the alert, signed, once; an
//! admin's test alert reaches it and the page says so, while an operator is not offered the
//! button and the API refuses them; the clear follows the raise.

use fantoccini::{Client, Locator};
use hmac::Mac;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use switchyard_e2e::*;

const SECRET: &str = "e2e-hook-secret-3f9a";
const HOOK: &str = "ops-hook";

/// One request the hook got, and what it answered.
#[derive(Debug, Clone)]
struct Received {
    answered: u16,
    signature: Option<String>,
    delivery: Option<String>,
    body: String,
}

impl Received {
    fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("{e}: {}", self.body))
    }

    /// Whether `X-Switchyard-Signature` is `sha256=` and the HMAC-SHA256 of the exact body
    /// under the secret, computed here.
    fn signed(&self) -> bool {
        let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(SECRET.as_bytes()).unwrap();
        mac.update(self.body.as_bytes());
        let want: String = mac
            .finalize()
            .into_bytes()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.signature.as_deref() == Some(format!("sha256={want}").as_str())
    }
}

/// A webhook receiver on loopback that answers every request with the status it is set to.
struct Hook {
    url: String,
    status: Arc<AtomicU16>,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Hook {
    fn start(status: u16) -> Hook {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let hook = Hook {
            url,
            status: Arc::new(AtomicU16::new(status)),
            got: Arc::default(),
        };
        let (answer, got) = (hook.status.clone(), hook.got.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let (answer, got) = (answer.clone(), got.clone());
                std::thread::spawn(move || serve(stream, &answer, &got));
            }
        });
        hook
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }
}

/// Answers the one request of a connection (HTTP/1.1, a body of Content-Length or chunked)
/// and closes it.
fn serve(stream: TcpStream, answer: &AtomicU16, got: &Mutex<Vec<Received>>) {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut out = stream.try_clone().unwrap();
    let mut r = BufReader::new(stream);
    let mut line = String::new();
    if r.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let (mut length, mut chunked, mut signature, mut delivery) = (0usize, false, None, None);
    loop {
        let mut h = String::new();
        if r.read_line(&mut h).unwrap_or(0) == 0 {
            return;
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let Some((name, value)) = h.split_once(':') else {
            continue;
        };
        let value = value.trim().to_string();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.parse().unwrap_or(0),
            "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
            "x-switchyard-signature" => signature = Some(value),
            "x-switchyard-delivery" => delivery = Some(value),
            _ => {}
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let mut size = String::new();
            r.read_line(&mut size).unwrap();
            let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
            let mut chunk = vec![0; n + 2];
            r.read_exact(&mut chunk).unwrap();
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    } else {
        body.resize(length, 0);
        r.read_exact(&mut body).unwrap();
    }
    let status = answer.load(Ordering::SeqCst);
    got.lock().unwrap().push(Received {
        answered: status,
        signature,
        delivery,
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let text = if status == 200 {
        "ok"
    } else {
        "hook down (e2e)"
    };
    let reply = format!(
        "HTTP/1.1 {status} E2E\r\ncontent-type: text/plain\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{text}",
        text.len()
    );
    let _ = out.write_all(reply.as_bytes());
}

async fn sign_in(c: &Client, url: &str, name: &str) {
    c.goto(url).await.unwrap();
    fill_sign_in(c, name).await;
    click(c, "[data-testid=signin-submit]").await;
    signed_in(c).await;
}

async fn shot(c: &Client, name: &str) {
    std::fs::write(screenshot_path(name), c.screenshot().await.unwrap()).unwrap();
}

/// The hook's requests of `event` for the alert `id` (None: tests), in the order they came.
fn of(got: &[Received], event: &str, id: Option<i64>) -> Vec<Received> {
    got.iter()
        .filter(|r| {
            let v = r.json();
            v["event"] == event && (id.is_none() || v["alert"]["id"].as_i64() == id)
        })
        .cloned()
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built UI, Chromium and chromedriver: run `cargo xtask test`"]
async fn a_failing_webhook_is_called_out_retried_then_delivered_and_an_admin_test_reaches_it() {
    let hook = Hook::start(503);
    let dir = tempfile::tempdir().unwrap();
    let secret = dir.path().join("hook.secret");
    std::fs::write(&secret, SECRET).unwrap();
    let config = dir.path().join("alerts-out.toml");
    std::fs::write(
        &config,
        format!(
            "[alerts]\nretry_first_secs = 1\nretry_max_secs = 2\ngive_up_after_mins = 10\n\n\
             [[alerts.receivers]]\nname = \"{HOOK}\"\nkind = \"webhook\"\nurl = \"{}\"\n\
             secret_file = \"{}\"\nkinds = [\"region_unreachable\"]\ntimeout_ms = 2000\n",
            hook.url,
            secret.display()
        ),
    )
    .unwrap();
    let data = tempfile::tempdir().unwrap();
    add_user(data.path(), "ada", "admin");
    add_user(data.path(), "otto", "operator");
    let server = Server::start_in(
        data,
        &[
            "--config",
            config.to_str().unwrap(),
            "--devices",
            "400",
            "--seed",
            "19",
            "--poll-interval",
            "1",
            "--fault",
            "us-east-1:outage@2s+40s",
        ],
    );
    let admin = chromium(1280, 800).await;
    let c = admin.client.clone();
    sign_in(&c, &format!("{}/#/alerts", server.url), "ada").await;

    // The hook answers 503: the receiver is called out at the top of the page, with the error.
    let callout = format!("[data-testid=receiver-failing][data-receiver={HOOK}]");
    let said = wait_until(
        Duration::from_secs(40),
        "the failing receiver called out",
        || async { text(&c, &callout).await },
    )
    .await;
    assert!(said.contains("RECEIVER FAILING"), "{said}");
    assert!(
        said.contains(&format!("Alerts are not reaching {HOOK} (webhook)")) && said.contains("503"),
        "{said}"
    );
    assert_eq!(
        attr(&c, &callout, "data-status").await.as_deref(),
        Some("failing")
    );
    // Above the alerts, and not in the fleet's alert banner.
    let above: bool = c
        .execute(
            "const a = document.querySelector(arguments[0]), b = document.querySelector('[data-testid=alerts]');
             return !!a && !!b && !!(a.compareDocumentPosition(b) & Node.DOCUMENT_POSITION_FOLLOWING);",
            vec![serde_json::json!(callout)],
        )
        .await
        .unwrap()
        .as_bool()
        .unwrap();
    assert!(above, "the callout comes before the alerts list");
    let banner = text(&c, "[data-testid=alert-banner]")
        .await
        .unwrap_or_default();
    assert!(!banner.contains(HOOK), "{banner}");
    assert!(!c
        .find_all(Locator::Css("[data-testid=alerts] tr[data-alert]"))
        .await
        .unwrap()
        .is_empty());
    // The log: the raise retrying, with the error and the next attempt.
    let row = format!("tr.delivery[data-receiver={HOOK}][data-event=firing]");
    let id = wait_until(
        Duration::from_secs(20),
        "the raise retrying in the log",
        || async {
            (attr(&c, &row, "data-state").await? == "retrying").then_some(())?;
            attr(&c, &row, "data-delivery-id").await
        },
    )
    .await;
    let line = text(&c, &format!("tr[data-delivery-id='{id}']"))
        .await
        .unwrap();
    assert!(line.contains("us-east-1 · region unreachable"), "{line}");
    assert!(line.contains("HTTP 503"), "{line}");
    assert!(line.contains(" UTC"), "{line}");
    assert_eq!(
        attr(
            &c,
            &format!("tr.receiver-row[data-receiver={HOOK}]"),
            "data-status"
        )
        .await
        .as_deref(),
        Some("failing")
    );
    shot(&c, "alerts-out-failing-1280.png").await;
    assert!(hook.got().iter().all(|r| r.answered == 503));

    // The hook is back: the same delivery is delivered, the callout goes, the receiver is ok.
    hook.status.store(200, Ordering::SeqCst);
    wait_until(Duration::from_secs(20), "the raise delivered", || async {
        (attr(&c, &format!("tr[data-delivery-id='{id}']"), "data-state").await? == "delivered")
            .then_some(())
    })
    .await;
    wait_until(Duration::from_secs(10), "the callout gone", || async {
        c.find(Locator::Css(&callout)).await.is_err().then_some(())
    })
    .await;
    assert_eq!(
        attr(
            &c,
            &format!("tr.receiver-row[data-receiver={HOOK}]"),
            "data-status"
        )
        .await
        .as_deref(),
        Some("ok")
    );
    let got = hook.got();
    let firing: Vec<Received> = of(&got, "firing", None)
        .into_iter()
        .filter(|r| r.answered == 200)
        .collect();
    assert_eq!(
        firing.len(),
        1,
        "one notification for one alert: {firing:?}"
    );
    let alert_id = firing[0].json()["alert"]["id"].as_i64().unwrap();
    assert!(
        firing[0].signed(),
        "signed with the secret: {:?}",
        firing[0]
    );
    assert_eq!(firing[0].delivery.as_deref(), Some(id.as_str()));
    assert_eq!(firing[0].json()["alert"]["kind"], "region_unreachable");
    assert_eq!(firing[0].json()["region"], "us-east-1");
    assert!(got.iter().all(|r| r.signed()), "every attempt is signed");

    // An operator is not offered the test, and the API refuses them.
    let operator = chromium(1280, 800).await;
    // The test alert the page posts below is refused: 403.
    operator.allow("/test - Failed to load resource: the server responded with a status of 403");
    let o = operator.client.clone();
    sign_in(&o, &format!("{}/#/alerts", server.url), "otto").await;
    let button = format!("[data-testid=test-receiver-{HOOK}]");
    let off = wait_until(
        Duration::from_secs(20),
        "the operator's test button",
        || async {
            Some(
                o.find(Locator::Css(&button))
                    .await
                    .ok()?
                    .attr("disabled")
                    .await
                    .ok()?
                    .is_some(),
            )
        },
    )
    .await;
    assert!(off, "an operator may not send a test alert");
    assert_eq!(
        attr(&o, &button, "title").await.as_deref(),
        Some("needs the admin role: you are signed in as an operator")
    );
    assert_eq!(
        post_from_page(&o, &format!("/api/v1/receivers/{HOOK}/test"), "{}").await,
        403
    );
    operator.finish().await;

    // The admin sends a test alert: the page says it was delivered, and the hook got it, signed.
    let before = hook.got().len();
    click(&c, &button).await;
    let result = format!("[data-testid=test-result-{HOOK}]");
    let said = wait_until(Duration::from_secs(20), "the test delivered", || async {
        (attr(&c, &result, "data-state").await? == "delivered").then_some(())?;
        text(&c, &result).await
    })
    .await;
    assert!(
        said.starts_with("Test alert #")
            && said.contains("delivered at ")
            && said.ends_with(" UTC"),
        "{said}"
    );
    let test_id = said
        .trim_start_matches("Test alert #")
        .split(':')
        .next()
        .unwrap()
        .to_string();
    let tests = of(&hook.got()[before..], "test", None);
    assert_eq!(tests.len(), 1, "{tests:?}");
    assert!(tests[0].signed(), "{:?}", tests[0]);
    assert_eq!(tests[0].delivery.as_deref(), Some(test_id.as_str()));
    assert!(
        tests[0].json()["alert"]["message"]
            .as_str()
            .is_some_and(|m| m.contains(HOOK) && m.contains("ada")),
        "{:?}",
        tests[0]
    );
    wait_until(Duration::from_secs(10), "the test in the log", || async {
        (attr(
            &c,
            &format!("tr[data-delivery-id='{test_id}']"),
            "data-event",
        )
        .await?
            == "test")
            .then_some(())
    })
    .await;
    shot(&c, "alerts-out-1280.png").await;
    c.set_window_size(1920, 1080).await.unwrap();
    tokio::time::sleep(Duration::from_millis(500)).await;
    shot(&c, "alerts-out-1920.png").await;

    // The outage ends: the clear is delivered after the raise, once.
    wait_until(Duration::from_secs(60), "the clear delivered", || async {
        let got = hook.got();
        let resolved = of(&got, "resolved", Some(alert_id));
        resolved.iter().any(|r| r.answered == 200).then_some(())
    })
    .await;
    let got = hook.got();
    let order: Vec<String> = got
        .iter()
        .filter(|r| r.answered == 200 && r.json()["alert"]["id"].as_i64() == Some(alert_id))
        .map(|r| r.json()["event"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        order,
        ["firing", "resolved"],
        "raise, then clear, once each"
    );
    wait_until(Duration::from_secs(15), "the clear in the log", || async {
        let r = format!("tr.delivery[data-receiver={HOOK}][data-event=resolved]");
        (attr(&c, &r, "data-state").await? == "delivered").then_some(())
    })
    .await;
    shot(&c, "alerts-out-cleared-1920.png").await;
}
