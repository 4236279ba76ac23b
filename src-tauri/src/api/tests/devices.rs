//! The devices' routes over HTTP: filtered pages and one device.

use super::*;

#[tokio::test]
async fn devices_are_filtered_paged_and_checked() {
    let (app, _, _) = setup(Ui::Missing);
    let (s, _, body) = call(
        &app,
        "GET",
        "/api/v1/devices?thing_group=locks&limit=5&offset=10",
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let page: switchyard_core::devices::DevicePage = serde_json::from_str(&body).unwrap();
    assert_eq!((page.total, page.items.len(), page.offset), (125, 5, 10));
    assert_eq!(
        page.items[0].id, "dev-0000043",
        "the 11th lock: every 4th device from dev-0000003"
    );
    let (s, _, body) = call(&app, "GET", "/api/v1/devices?connected=false", None).await;
    assert_eq!(s, StatusCode::OK);
    assert!(
        body.contains(r#""total":0"#),
        "all 500 are online at start: {body}"
    );

    for (query, needle) in [
        ("limit=0", "limit: must be between 1 and 1000"),
        ("connected=maybe", "connected"),
        ("colour=red", "unknown field `colour`"),
        ("region=Ohio", "region: 'Ohio' is not an AWS region code"),
        ("reason=ALIENS", "ALIENS"),
    ] {
        let (s, ct, body) = call(&app, "GET", &format!("/api/v1/devices?{query}"), None).await;
        assert_eq!(
            (s, ct.as_str()),
            (StatusCode::BAD_REQUEST, "application/json"),
            "{query}: {body}"
        );
        assert!(body.contains(needle), "{query}: {body}");
    }
}

#[tokio::test]
async fn one_device_or_a_404_that_names_it() {
    let (app, _, _) = setup(Ui::Missing);
    let (s, _, body) = call(&app, "GET", "/api/v1/devices/dev-0000007", None).await;
    assert_eq!(s, StatusCode::OK);
    let d: switchyard_core::Device = serde_json::from_str(&body).unwrap();
    assert_eq!(
        (d.id.as_str(), d.region.as_str()),
        ("dev-0000007", "us-east-1")
    );
    let (s, _, body) = call(&app, "GET", "/api/v1/devices/dev-9999999", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(body.contains("no device named 'dev-9999999'"));
}
