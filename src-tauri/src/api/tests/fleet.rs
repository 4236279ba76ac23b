//! The fleet's routes over HTTP: health, regions, the event stream, gateways, alerts and a
//! region's history.

use super::*;

#[tokio::test]
async fn healthz_answers() {
    let (app, _, _) = setup(Ui::Missing);
    let (s, ct, body) = call(&app, "GET", "/healthz", None).await;
    assert_eq!((s, ct.as_str()), (StatusCode::OK, "application/json"));
    assert!(body.contains(r#""status":"ok""#));
}

#[tokio::test]
async fn regions_carry_roles_figures_and_ages() {
    let (app, engine, _) = setup(Ui::Missing);
    engine.poll_once("us-east-1").await;
    let (s, _, body) = call(&app, "GET", "/api/v1/regions", None).await;
    assert_eq!(s, StatusCode::OK);
    let r: RegionsResponse = serde_json::from_str(&body).unwrap();
    assert_eq!(r.regions.len(), 3);
    let active = &r.regions[0];
    assert_eq!(
        (active.id.as_str(), active.online, active.observed_at),
        ("us-east-1", 500, Some(5_000))
    );
    assert!(
        r.server_time > 1_600_000_000_000,
        "server time is the wall clock"
    );
    assert_eq!(
        r.regions[1].observed_at, None,
        "a region not yet polled has no age"
    );
}

#[tokio::test]
async fn events_start_with_the_current_state_then_follow_changes() {
    let (app, engine, _) = setup(Ui::Missing);
    let req = Request::get("/api/v1/events").body(Body::empty()).unwrap();
    let resp = app.oneshot(req).await.unwrap();
    assert_eq!(resp.headers()[header::CONTENT_TYPE], "text/event-stream");
    let mut body = resp.into_body();
    let mut next = async || {
        let frame = tokio::time::timeout(Duration::from_secs(5), body.frame())
            .await
            .expect("a frame")
            .unwrap()
            .unwrap();
        String::from_utf8(frame.into_data().unwrap().to_vec()).unwrap()
    };
    let first = next().await;
    assert!(
        first.starts_with("event: regions\ndata: {\"type\":\"regions\",\"version\":1,"),
        "{first}"
    );
    engine.poll_once("eu-west-1").await;
    let second = next().await;
    assert!(second.contains("\"version\":2"), "{second}");
    // At shutdown the stream ends, so a graceful shutdown need not wait for open consoles.
    engine.shutdown();
    let end = tokio::time::timeout(Duration::from_secs(5), body.frame())
        .await
        .expect("the stream ends at shutdown");
    assert!(end.is_none(), "no more frames after shutdown");
}

#[tokio::test]
async fn gateways_and_alerts_answer_with_their_limits() {
    let (app, engine, sim) = setup(Ui::Missing);
    sim.with(|f| f.inject("us-east-1:outage".parse().unwrap()).unwrap());
    engine.poll_gateways_once().await.unwrap();
    sim.with(|f| (0..30).for_each(|_| f.step()));
    engine.poll_gateways_once().await.unwrap();
    engine.poll_once("us-east-1").await;
    let (s, _, body) = call(&app, "GET", "/api/v1/edge/gateways?limit=2", None).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let g: switchyard_core::edge::GatewaysResponse = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (g.gateways.len(), g.total_gateways, g.totals.gateways),
        (2, 4, 4)
    );
    assert!(g.gateways[0].time_to_overflow_s.is_some());
    let (s, _, body) = call(&app, "GET", "/api/v1/alerts", None).await;
    assert_eq!(s, StatusCode::OK);
    let a: switchyard_core::alerts::AlertsResponse = serde_json::from_str(&body).unwrap();
    assert_eq!(a.alerts.len(), 1, "{a:?}");
    assert_eq!(a.alerts[0].subject, "us-east-1");
    for bad in [
        "/api/v1/alerts?limit=0",
        "/api/v1/edge/gateways?open=true",
        "/api/v1/alerts?since=1",
    ] {
        let (s, _, body) = call(&app, "GET", bad, None).await;
        assert_eq!(s, StatusCode::BAD_REQUEST, "{bad}: {body}");
    }
}

#[tokio::test]
async fn region_history_comes_from_the_stored_samples() {
    let (app, engine, sim) = setup(Ui::Missing);
    for _ in 0..3 {
        sim.with(|f| f.step());
        engine.poll_once("us-east-1").await;
    }
    // The sim's clock started at 5 s after the epoch: ask for all of it.
    let (s, _, body) = call(
        &app,
        "GET",
        "/api/v1/regions/us-east-1/history?minutes=10080",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let h: switchyard_core::api::RegionHistory = serde_json::from_str(&body).unwrap();
    assert_eq!(
        h.samples.len(),
        0,
        "samples from 1970 are older than a week"
    );
    let (s, _, body) = call(&app, "GET", "/api/v1/regions/mars-1/history", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND, "{body}");
    assert!(body.contains("region mars-1 is not configured"));
    let (s, _, body) = call(
        &app,
        "GET",
        "/api/v1/regions/us-east-1/history?minutes=0",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
}
