//! The incident cockpit in headless Chromium: the strip on every page during an outage, the
//! wallboard on one screen at 1080p and 4K without a control, the frozen state when the
//! console loses its server, and the layout shift over a scripted incident.

use fantoccini::{Client, Locator};
use std::time::Duration;
use switchyard_e2e::*;

/// Saves a screenshot under target/screenshots (and `SWITCHYARD_SHOTS_DIR`, if set).
async fn shot(c: &Client, name: &str) {
    let png = c.screenshot().await.unwrap();
    if let Some(dir) = std::env::var_os("SWITCHYARD_SHOTS_DIR") {
        let dir = std::path::PathBuf::from(dir);
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(name), &png).unwrap();
    }
    std::fs::write(screenshot_path(name), png).unwrap();
}

fn inject_outage(server: &Server, region: &str) {
    let body =
        format!(r#"{{"fault":{{"region":"{region}","kind":"outage"}},"reason":"e2e cockpit"}}"#);
    let (status, body) = server.request("POST", "/api/v1/sim/faults", Some(&body));
    assert_eq!(status, 201, "{body}");
}

fn clear_faults(server: &Server) {
    let (status, body) = server.request(
        "DELETE",
        "/api/v1/sim/faults",
        Some(r#"{"reason":"e2e cockpit over"}"#),
    );
    assert_eq!(status, 200, "{body}");
}

/// A server whose failover is recommended 5 s into an outage, polling every second.
fn cockpit_server() -> (Server, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("cockpit.toml");
    std::fs::write(
        &config,
        "[engine]\npoll_interval_secs = 1\n\n[failover]\nrecommend_after_secs = 5\n\n\
         [simulation]\ndevices = 3000\ngateways = 12\nseed = 7\ndns_ttl_secs = 5\n",
    )
    .unwrap();
    let server = Server::start(&["--config", config.to_str().unwrap()]);
    (server, dir)
}

async fn wait_live(c: &Client) {
    wait_until(Duration::from_secs(30), "the live link", || async {
        (text(c, "[data-testid=link]").await? == "● live").then_some(())
    })
    .await;
    wait_until(Duration::from_secs(30), "the region cards", || async {
        let n = c
            .find_all(Locator::Css("article.card[data-region]"))
            .await
            .ok()?
            .len();
        (n == 3).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built UI, Chromium and chromedriver: run `cargo xtask test`"]
async fn the_strip_shows_the_outage_on_every_page_and_the_title_says_it() {
    let (server, _dir) = cockpit_server();
    let browser = chromium(1280, 800).await;
    let c = browser.client.clone();
    c.goto(&format!("{}/#/map", server.url)).await.unwrap();
    wait_live(&c).await;
    // Calm: the strip is there, says so, and the title is plain.
    assert_eq!(
        text(&c, "[data-testid=strip-calm]").await.as_deref(),
        Some("No open incident")
    );
    assert_eq!(c.title().await.unwrap(), "Switchyard");

    inject_outage(&server, "us-east-1");
    let incident = wait_until(
        Duration::from_secs(15),
        "the incident in the strip",
        || async { text(&c, "[data-testid=strip-incident]").await },
    )
    .await;
    assert!(incident.contains("us-east-1"), "{incident}");
    assert!(incident.contains("UTC"), "times say their zone: {incident}");
    let title = wait_until(Duration::from_secs(5), "the title to say it", || async {
        c.title().await.ok().filter(|t| t.starts_with('⚠'))
    })
    .await;
    assert!(
        title.contains("us-east-1") && title.ends_with(" · Switchyard"),
        "{title}"
    );
    // The header says what is known and what is not, never a green zero.
    let totals = wait_until(
        Duration::from_secs(10),
        "the header's not reporting",
        || async {
            text(&c, "[data-testid=totals]")
                .await
                .filter(|t| t.contains("us-east-1 not reporting since"))
        },
    )
    .await;
    assert!(totals.contains(" online in 2 regions"), "{totals}");
    assert!(totals.ends_with(" UTC"), "{totals}");
    // The unreachable region's card shows its last figures as last known, not as current, and
    // no backlog of its own.
    let card = "article.card[data-region='us-east-1']";
    let note = wait_until(Duration::from_secs(10), "the last known label", || async {
        text(&c, &format!("{card} [data-field=figures-note]"))
            .await
            .filter(|t| t.starts_with("last known at "))
    })
    .await;
    assert!(note.ends_with(" UTC"), "{note}");
    assert_eq!(
        attr(&c, card, "data-figures").await.as_deref(),
        Some("last_known")
    );
    assert_eq!(
        text(&c, &format!("{card} [data-field=backlog]"))
            .await
            .as_deref(),
        Some("—")
    );
    shot(&c, "cockpit-map-outage-1280.png").await;

    // The strip is on every page, with the incident.
    for page in ["devices", "edge", "alerts", "commands", "drills", "map"] {
        click(&c, &format!("[data-testid=nav-{page}]")).await;
        let t = wait_until(
            Duration::from_secs(5),
            &format!("the strip on {page}"),
            || async { text(&c, "[data-testid=strip-incident]").await },
        )
        .await;
        assert!(t.contains("us-east-1"), "{page}: {t}");
        if page == "edge" {
            shot(&c, "cockpit-edge-outage-1280.png").await;
        }
    }

    // With the server's status answer, the recommendation and its button are in the strip,
    // and the button leads to the failover form on the map.
    let (status, _) = server.request("GET", "/api/v1/status", None);
    if status == 200 {
        click(&c, "[data-testid=nav-edge]").await;
        wait_until(
            Duration::from_secs(20),
            "the recommendation in the strip",
            || async {
                c.find(Locator::Css("[data-testid=strip-recommend]"))
                    .await
                    .ok()
            },
        )
        .await;
        shot(&c, "cockpit-edge-recommendation-1280.png").await;
        click(&c, "[data-testid=strip-recommend]").await;
        let url = wait_until(Duration::from_secs(5), "the map with the form", || async {
            let u = c.current_url().await.ok()?;
            u.fragment()
                .filter(|f| f.starts_with("/map?failover="))
                .map(str::to_string)
        })
        .await;
        assert_eq!(url, "/map?failover=eu-west-1");
    } else {
        eprintln!("no GET /api/v1/status on this server ({status}): the recommendation's button is not checked");
    }
    clear_faults(&server);
    wait_until(
        Duration::from_secs(20),
        "the title to calm down",
        || async { (c.title().await.ok()? == "Switchyard").then_some(()) },
    )
    .await;
    browser.finish().await;
}

/// On `#/wall` at the window's size: every region card inside the viewport, no control, the
/// health said in words. Returns the viewport's size.
async fn wall_fits(c: &Client) -> (u64, u64) {
    wait_until(Duration::from_secs(30), "the wallboard's cards", || async {
        let n = c
            .find_all(Locator::Css("[data-testid=wall] article.card[data-region]"))
            .await
            .ok()?
            .len();
        (n == 3).then_some(())
    })
    .await;
    wait_until(
        Duration::from_secs(20),
        "us-east-1 unreachable on the wall",
        || async {
            let t = text(
                c,
                "[data-testid=wall] g.marker[data-region='us-east-1'] [data-field=health-label]",
            )
            .await?;
            (t == "● UNREACHABLE").then_some(())
        },
    )
    .await;
    wait_until(Duration::from_secs(20), "the edge risk", || async {
        c.find(Locator::Css("[data-testid=wall-risk] tbody tr"))
            .await
            .ok()
    })
    .await;
    let found = c
        .execute(
            r#"const vw = window.innerWidth, vh = window.innerHeight;
               const cards = [...document.querySelectorAll('[data-testid=wall] article.card')];
               const out = cards.filter(e => { const r = e.getBoundingClientRect();
                   return r.top < 0 || r.left < 0 || r.bottom > vh + 0.5 || r.right > vw + 0.5; })
                 .map(e => e.dataset.region);
               const controls = document.querySelectorAll('button, input, select, textarea, nav, a[href]').length;
               const scroll = document.documentElement.scrollHeight > vh + 1;
               return { vw, vh, cards: cards.length, out, controls, scroll };"#,
            vec![],
        )
        .await
        .unwrap();
    eprintln!("wallboard: {found}");
    assert_eq!(found["cards"], 3, "{found}");
    assert_eq!(
        found["out"],
        serde_json::json!([]),
        "every card in view: {found}"
    );
    assert_eq!(found["controls"], 0, "no control on the wallboard: {found}");
    assert_eq!(found["scroll"], false, "one screen, nothing below: {found}");
    (found["vw"].as_u64().unwrap(), found["vh"].as_u64().unwrap())
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built UI, Chromium and chromedriver: run `cargo xtask test`"]
async fn the_wallboard_shows_every_region_card_without_a_control_at_1080p_and_4k_for_a_viewer() {
    let data = tempfile::tempdir().unwrap();
    add_user(data.path(), "vera", "viewer");
    let server = Server::start_in(
        data,
        &[
            "--devices",
            "3000",
            "--gateways",
            "12",
            "--seed",
            "7",
            "--poll-interval",
            "1",
            "--fault",
            "us-east-1:outage@2s",
        ],
    );
    for (w, h, name) in [
        (1920, 1080, "cockpit-wall-1920.png"),
        (3840, 2160, "cockpit-wall-3840.png"),
    ] {
        let browser = chromium(w, h).await;
        let c = browser.client.clone();
        c.goto(&format!("{}/#/wall", server.url)).await.unwrap();
        fill_sign_in(&c, "vera").await;
        click(&c, "[data-testid=signin-submit]").await;
        let (vw, vh) = wall_fits(&c).await;
        assert!(
            vw >= u64::from(w) - 20 && vh >= u64::from(h) - 200,
            "{vw}×{vh}"
        );
        // The strip is on the wall, without its buttons.
        let incident = wait_until(
            Duration::from_secs(10),
            "the incident on the wall",
            || async { text(&c, "[data-testid=wall] [data-testid=strip-incident]").await },
        )
        .await;
        assert!(incident.contains("us-east-1"), "{incident}");
        shot(&c, name).await;
        browser.finish().await;
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built UI, Chromium and chromedriver: run `cargo xtask test`"]
async fn a_console_that_loses_its_server_says_so_freezes_its_figures_and_turns_actions_off() {
    let server = Server::start(&["--devices", "2000", "--seed", "3", "--poll-interval", "1"]);
    let browser = chromium(1280, 800).await;
    // The server is stopped below: the page's requests to it fail from then on, the background
    // fetch of the other pages' modules too (their loader says why in the console).
    browser.allow("net::ERR_");
    browser.allow("__wasm_split.js");
    let c = browser.client.clone();
    c.goto(&format!("{}/#/map", server.url)).await.unwrap();
    wait_live(&c).await;
    let before = text(&c, "[data-testid=totals]").await.unwrap();
    assert!(!before.contains("not reporting"), "{before}");

    // The server stops.
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &server.pid().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let t0 = std::time::Instant::now();
    let lost = wait_until(
        Duration::from_secs(20),
        "the server-lost notice",
        || async { text(&c, "[data-testid=server-lost]").await },
    )
    .await;
    eprintln!(
        "server lost said {:?} after the server stopped",
        t0.elapsed()
    );
    assert!(
        lost.starts_with("Console cannot reach its server since ") && lost.contains(" UTC"),
        "{lost}"
    );
    assert!(lost.contains("figures frozen"), "{lost}");
    let class = attr(&c, "[data-testid=app]", "class").await.unwrap();
    assert!(class.contains("offline"), "{class}");
    assert!(
        attr(&c, "main", "inert").await.is_some(),
        "the page's actions are off"
    );
    // Every button in the page is off: disabled, or in the inert page.
    let live_buttons = c
        .execute(
            r#"return [...document.querySelectorAll('main button, .strip button[data-testid=strip-recommend]')]
                 .filter(b => !b.disabled && !b.closest('[inert]')).length;"#,
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(live_buttons, 0);
    shot(&c, "cockpit-server-lost-1280.png").await;
    // Nothing blames the regions: still not "not reporting", the cards still current.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let after = text(&c, "[data-testid=totals]").await.unwrap();
    assert!(!after.contains("not reporting"), "{after}");
    for card in c
        .find_all(Locator::Css("article.card[data-region]"))
        .await
        .unwrap()
    {
        assert_eq!(
            card.attr("data-figures").await.unwrap().as_deref(),
            Some("current")
        );
    }
    browser.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built UI, Chromium and chromedriver: run `cargo xtask test`"]
async fn an_incident_shifts_the_layout_by_less_than_a_twentieth() {
    let (server, _dir) = cockpit_server();
    let browser = chromium(1280, 800).await;
    let c = browser.client.clone();
    c.goto(&format!("{}/#/map", server.url)).await.unwrap();
    wait_live(&c).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    c.execute(
        r#"window.__shift = 0; window.__shifts = [];
           new PerformanceObserver(list => { for (const e of list.getEntries()) {
               if (e.hadRecentInput) continue;
               window.__shift += e.value;
               window.__shifts.push({ value: e.value, nodes: (e.sources || []).map(s => s.node ? (s.node.className || s.node.nodeName) + '' : '?') });
           } }).observe({ type: 'layout-shift' });
           return true;"#,
        vec![],
    )
    .await
    .unwrap();

    // The scripted incident: an outage, its alert and recommendation, then the recovery.
    inject_outage(&server, "us-east-1");
    wait_until(Duration::from_secs(15), "the incident", || async {
        text(&c, "[data-testid=strip-incident]").await
    })
    .await;
    wait_until(Duration::from_secs(10), "the alert banner", || async {
        text(&c, "[data-testid=alert-banner]").await
    })
    .await;
    tokio::time::sleep(Duration::from_secs(8)).await;
    clear_faults(&server);
    wait_until(
        Duration::from_secs(20),
        "us-east-1 healthy again",
        || async {
            (attr(&c, "article.card[data-region='us-east-1']", "data-status").await? == "healthy")
                .then_some(())
        },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let shift = c
        .execute(
            "return { total: window.__shift, shifts: window.__shifts };",
            vec![],
        )
        .await
        .unwrap();
    let total = shift["total"].as_f64().unwrap();
    eprintln!(
        "layout shift over the incident: {total:.4} ({})",
        shift["shifts"]
    );
    assert!(total < 0.05, "layout shift {total:.4}: {}", shift["shifts"]);
    browser.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built UI, Chromium and chromedriver: run `cargo xtask test`"]
async fn while_a_region_is_unreachable_the_header_cards_edge_page_failover_and_api_agree() {
    let (server, _dir) = cockpit_server();
    let browser = chromium(1280, 800).await;
    let c = browser.client.clone();
    c.goto(&format!("{}/#/map", server.url)).await.unwrap();
    wait_live(&c).await;
    inject_outage(&server, "us-east-1");
    // The API: the unreachable region's figures are its last known ones.
    let regions = wait_until(Duration::from_secs(15), "us-east-1 last known", || async {
        let (_, body) = server.request("GET", "/api/v1/regions", None);
        let v: serde_json::Value = serde_json::from_str(&body).ok()?;
        let east = v["regions"]
            .as_array()?
            .iter()
            .find(|r| r["id"] == "us-east-1")?;
        (east["figures"] == "last_known").then_some(v)
    })
    .await;
    for r in regions["regions"].as_array().unwrap() {
        if r["id"] != "us-east-1" {
            assert_eq!(r["figures"], "current", "{r}");
        }
    }
    // The card says so and shows no current backlog for it.
    let card = "article.card[data-region='us-east-1']";
    wait_until(Duration::from_secs(10), "the card's last known", || async {
        (attr(&c, card, "data-figures").await? == "last_known").then_some(())
    })
    .await;
    let note = text(&c, &format!("{card} [data-field=figures-note]"))
        .await
        .unwrap();
    assert!(
        note.contains("last known at") && note.contains("UTC"),
        "{note}"
    );
    assert_eq!(
        text(&c, &format!("{card} [data-field=backlog]"))
            .await
            .as_deref(),
        Some("—")
    );
    // The header counts the two current regions only.
    let totals = wait_until(Duration::from_secs(10), "the header", || async {
        text(&c, "[data-testid=totals]")
            .await
            .filter(|t| t.contains("us-east-1 not reporting since"))
    })
    .await;
    assert!(totals.contains(" online in 2 regions"), "{totals}");
    // Every backlog on screen is the edge poll's: each of the 12 gateways once, never the
    // sum of the regions' backlogs (which counted the stale region's gateways again).
    let (_, body) = server.request("GET", "/api/v1/edge/gateways?limit=1", None);
    let edge: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(edge["totals"]["gateways"], 12, "{edge}");
    assert_eq!(edge["total_gateways"], 12, "{edge}");
    c.goto(&format!("{}/#/edge", server.url)).await.unwrap();
    let gateways = wait_until(Duration::from_secs(10), "the edge totals", || async {
        attr(&c, "[data-testid=edge-totals]", "data-gateways").await
    })
    .await;
    assert_eq!(gateways, "12");
    // And the failover panel's, during a failover away from the dead region.
    let (status, body) = server.request(
        "POST",
        "/api/v1/failovers",
        Some(r#"{"target":"eu-west-1","confirm":"eu-west-1","reason":"e2e figures","override_warnings":true}"#),
    );
    assert_eq!(status, 202, "{body}");
    c.goto(&format!("{}/#/map", server.url)).await.unwrap();
    let line = wait_until(
        Duration::from_secs(20),
        "the failover panel's backlog",
        || async { text(&c, "[data-testid=failover-backlog]").await },
    )
    .await;
    assert!(line.contains("in 12 gateways"), "{line}");
    browser.finish().await;
}
