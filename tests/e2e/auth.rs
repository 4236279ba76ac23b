//! Logins in headless Chromium: a viewer signs in and is offered no failover (and the API
//! refuses one); an operator signs in and fails over; an admin adds an account.

use fantoccini::{Client, Locator};
use std::time::Duration;
use switchyard_e2e::*;

async fn sign_in(c: &Client, url: &str, name: &str) {
    c.goto(url).await.unwrap();
    fill_sign_in(c, name).await;
    click(c, "[data-testid=signin-submit]").await;
    signed_in(c).await;
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the built UI, Chromium and chromedriver: run `cargo xtask test`"]
async fn a_viewer_cannot_fail_over_and_an_operator_can() {
    let data = tempfile::tempdir().unwrap();
    add_user(data.path(), "vera", "viewer");
    add_user(data.path(), "otto", "operator");
    add_user(data.path(), "ada", "admin");
    // The devices' record's TTL: a failover's devices move once their cached answers expire.
    let conf = tempfile::tempdir().unwrap();
    let conf_file = conf.path().join("auth.toml");
    std::fs::write(&conf_file, "[simulation]\ndns_ttl_secs = 5\n").unwrap();
    let server = Server::start_in(
        data,
        &[
            "--config",
            conf_file.to_str().unwrap(),
            "--devices",
            "800",
            "--seed",
            "5",
            "--poll-interval",
            "1",
            "--fault",
            "us-east-1:outage@3s",
        ],
    );
    let browser = chromium(1280, 1000).await;
    // The wrong password below is answered 401, as it should be.
    browser.allow(
        "api/v1/session - Failed to load resource: the server responded with a status of 401",
    );
    // The viewer's failover request sent from the page below is refused: 403.
    browser.allow(
        "api/v1/failovers - Failed to load resource: the server responded with a status of 403",
    );
    let c = browser.client.clone();

    // Without a session the page asks for one, and the API answers 401.
    c.goto(&server.url).await.unwrap();
    wait_until(Duration::from_secs(20), "the sign-in form", || async {
        c.find(Locator::Css("[data-testid=signin]")).await.ok()
    })
    .await;
    let (s, _) = server.request("GET", "/api/v1/regions", None);
    assert_eq!(s, 401);
    std::fs::write(screenshot_path("signin.png"), c.screenshot().await.unwrap()).unwrap();

    // A wrong password says so.
    fill(&c, "[data-testid=signin-name]", "vera").await;
    fill(&c, "[data-testid=signin-password]", "not the password").await;
    click(&c, "[data-testid=signin-submit]").await;
    let err = wait_until(Duration::from_secs(10), "the sign-in error", || async {
        text(&c, "[data-testid=signin-error]").await
    })
    .await;
    assert!(err.contains("wrong name or password"), "{err}");

    // The viewer: the failover buttons are there but off, and the API refuses the request.
    sign_in(&c, &format!("{}/#/map", server.url), "vera").await;
    viewer_cannot_fail_over(&c, "a viewer is offered no failover").await;
    assert!(
        c.find(Locator::Css("[data-testid=nav-users]"))
            .await
            .is_err(),
        "no accounts page for a viewer"
    );
    std::fs::write(
        screenshot_path("signin-viewer.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();
    click(&c, "[data-testid=sign-out]").await;
    wait_until(Duration::from_secs(10), "signed out", || async {
        c.find(Locator::Css("[data-testid=signin]")).await.ok()
    })
    .await;

    // The operator fails over from the same page.
    sign_in(&c, &format!("{}/#/map", server.url), "otto").await;
    let open = wait_until(
        Duration::from_secs(30),
        "an enabled failover button",
        || async {
            let b = c
                .find(Locator::Css("[data-testid=open-failover-eu-west-1]"))
                .await
                .ok()?;
            b.attr("disabled").await.ok()?.is_none().then_some(b)
        },
    )
    .await;
    open.click().await.unwrap();
    fill(&c, "[data-testid=confirm-input]", "eu-west-1").await;
    fill(&c, "[data-testid=reason-input]", "INC-7 us-east-1 down").await;
    if let Ok(o) = c.find(Locator::Css("[data-testid=override]")).await {
        o.click().await.unwrap();
    }
    click(&c, "[data-testid=execute]").await;
    let phase = wait_until(Duration::from_secs(60), "the failover to end", || async {
        let p = attr(&c, "[data-testid=failover-progress]", "data-phase").await;
        match p {
            Some(p) if p.starts_with("completed") => Some(p),
            _ => text(&c, "[data-testid=last-failover]")
                .await
                .filter(|t| t.contains("eu-west-1"))
                .map(|_| "completed".into()),
        }
    })
    .await;
    assert!(phase.starts_with("completed"), "{phase}");
    let (s, audit) = server.request("GET", "/api/v1/audit", None);
    assert_eq!(s, 401, "the audit log needs a session too: {audit}");

    // The admin sees the accounts and adds one.
    click(&c, "[data-testid=sign-out]").await;
    sign_in(&c, &format!("{}/#/users", server.url), "ada").await;
    wait_until(Duration::from_secs(10), "the accounts", || async {
        let rows = c
            .find_all(Locator::Css("[data-testid=user-list] tbody tr"))
            .await
            .ok()?;
        (rows.len() == 3).then_some(())
    })
    .await;
    fill(&c, "[data-testid=user-name]", "nina").await;
    fill(&c, "[data-testid=user-password]", PASSWORD).await;
    click(&c, "[data-testid=add-user]").await;
    wait_until(
        Duration::from_secs(10),
        "the new account listed",
        || async {
            let rows = c
                .find_all(Locator::Css("[data-testid=user-list] tbody tr"))
                .await
                .ok()?;
            (rows.len() == 4).then_some(())
        },
    )
    .await;
    std::fs::write(screenshot_path("users.png"), c.screenshot().await.unwrap()).unwrap();
}
