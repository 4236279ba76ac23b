//! The console on the local AWS lab (moto, one server per region) in headless Chromium: the
//! seeded numbers on screen, and a killed region turning unreachable within 10 seconds.

use std::time::{Duration, Instant};
use switchyard_e2e::*;

/// The port of `region`'s moto server, from the configuration the lab wrote.
fn lab_port(config: &str, region: &str) -> u16 {
    let block = config
        .split("[[aws.regions]]")
        .find(|b| b.contains(&format!("code = \"{region}\"")))
        .unwrap_or_else(|| panic!("{region} in the lab config"));
    let url = block
        .lines()
        .find_map(|l| l.strip_prefix("endpoint_url = \""))
        .expect("endpoint_url");
    url.trim_end_matches('"')
        .rsplit(':')
        .next()
        .unwrap()
        .parse()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs moto, the built UI, Chromium and chromedriver: run `cargo xtask test`"]
async fn lab_regions_show_the_seeded_fleet_and_a_killed_region_turns_unreachable() {
    let server = Server::lab(&[]);
    let browser = chromium(1280, 800).await;
    let c = browser.client.clone();
    c.goto(&server.url).await.unwrap();
    wait_until(Duration::from_secs(20), "the AWS source badge", || async {
        (text(&c, "[data-testid=source]").await? == "AWS").then_some(())
    })
    .await;
    for region in ["us-east-1", "us-west-2"] {
        let card = format!("article.card[data-region='{region}']");
        wait_until(
            Duration::from_secs(20),
            "a lab region to show its seeded devices",
            || async {
                let online = text(&c, &format!("{card} [data-field=online]")).await?;
                let status = attr(&c, &card, "data-status").await?;
                (online == "30" && status == "healthy").then_some(())
            },
        )
        .await;
    }
    std::fs::write(
        screenshot_path("lab-overview.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();

    let config =
        std::fs::read_to_string(server.data_dir.path().join("switchyard-lab.toml")).unwrap();
    let port = lab_port(&config, "us-west-2");
    let killed = std::process::Command::new("pkill")
        .args(["-f", &format!("moto_server -H 127.0.0.1 -p {port}")])
        .status()
        .unwrap();
    assert!(killed.success(), "us-west-2's moto server was running");
    let t0 = Instant::now();
    let card = "article.card[data-region='us-west-2']";
    wait_until(
        Duration::from_secs(10),
        "the killed region to turn unreachable on screen",
        || async { (attr(&c, card, "data-status").await? == "unreachable").then_some(()) },
    )
    .await;
    eprintln!("moto killed → UNREACHABLE on screen in {:?}", t0.elapsed());
    assert_eq!(
        attr(&c, "article.card[data-region='us-east-1']", "data-status")
            .await
            .as_deref(),
        Some("healthy")
    );
    let reasons = text(&c, &format!("{card} [data-field=reasons]"))
        .await
        .unwrap_or_default();
    assert!(reasons.contains("Connection refused"), "{reasons}");
    std::fs::write(
        screenshot_path("lab-outage.png"),
        c.screenshot().await.unwrap(),
    )
    .unwrap();
}
