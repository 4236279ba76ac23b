//! The simulated fleet's faults over HTTP: injected, cleared, and bad requests refused.

use super::*;

#[tokio::test]
async fn a_fault_can_be_injected_and_cleared() {
    let (app, engine, sim) = setup(Ui::Missing);
    let (s, _, body) = call(&app, "POST", "/api/v1/sim/faults",
        Some(r#"{"fault":{"region":"eu-west-1","kind":"outage","duration_secs":30},"reason":"training"}"#)).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let resp: AuditedResponse = serde_json::from_str(&body).unwrap();
    assert_eq!(resp.message, "outage injected in eu-west-1");
    assert!(engine.store().audit_entry(resp.audit_id).unwrap().is_some());
    engine.poll_once("eu-west-1").await;
    assert_eq!(
        engine.snapshot().regions[1].health.status,
        switchyard_core::HealthStatus::Unreachable
    );

    let (s, _, body) = call(
        &app,
        "DELETE",
        "/api/v1/sim/faults",
        Some(r#"{"reason":"over"}"#),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert!(body.contains("1 fault(s) ended"));
    assert_eq!(sim.with(|f| f.fault_in(1)), None);
}

#[tokio::test]
async fn bad_requests_get_a_4xx_that_names_the_problem_and_change_nothing() {
    let (app, _, sim) = setup(Ui::Missing);
    let cases = [
        (
            r#"{"fault":{"region":"eu-west-1","kind":"outage"},"reason":"x","extra":1}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown field `extra`",
        ),
        (
            r#"{"fault":{"region":"eu-west-1","kind":"flood"},"reason":"x"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown variant `flood`",
        ),
        (
            r#"{"fault":{"region":"us-west-2","kind":"outage"},"reason":"x"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "us-west-2 is not part of the simulated fleet",
        ),
        (
            r#"{"fault":{"region":"eu-west-1","kind":"outage"},"reason":""}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
            "a reason is required",
        ),
        (r#"{"fault":"#, StatusCode::BAD_REQUEST, "EOF"),
    ];
    for (body, status, needle) in cases {
        let (s, ct, text) = call(&app, "POST", "/api/v1/sim/faults", Some(body)).await;
        assert_eq!(s, status, "{body} -> {text}");
        assert_eq!(ct, "application/json");
        let err: ApiError = serde_json::from_str(&text).unwrap();
        assert!(err.error.contains(needle), "{body} -> {}", err.error);
    }
    assert_eq!(
        sim.with(|f| (0..3).filter_map(|r| f.fault_in(r)).count()),
        0,
        "nothing was injected"
    );
    let (s, _, text) = call(&app, "GET", "/api/v1/nothing-here", None).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(text.contains("no such API route"));
}
