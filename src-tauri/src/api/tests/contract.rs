//! The cases the contract's fuzzer (schemathesis, tests/e2e/contract.rs) found, kept: each
//! was a refusal answered with a status its operation's document did not list. They are
//! answered the same way still, and the document now lists it.

use super::*;

/// Whether the generated document lists `status` for `method path`.
fn lists(method: &str, path: &str, status: StatusCode) -> bool {
    openapi_document()["paths"][path][method]["responses"]
        .get(status.as_str())
        .is_some()
}

/// Seed 1: `POST /failovers/{id}/approve` and `/cancel` on a failover that had started
/// answered 422, listed nowhere.
#[tokio::test]
async fn a_started_failover_refuses_approval_and_cancelling_with_a_status_its_document_lists() {
    let (app, engine, _sim) = setup(Ui::Missing);
    for r in ["us-east-1", "eu-west-1", "ap-southeast-2"] {
        engine.poll_once(r).await;
    }
    let (s, _, text) = call(
        &app,
        "POST",
        "/api/v1/failovers",
        Some(r#"{"target":"eu-west-1","confirm":"eu-west-1","reason":"contract","override_warnings":true}"#),
    )
    .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{text}");
    let id = serde_json::from_str::<serde_json::Value>(&text).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    for (route, says) in [
        ("approve", "is not waiting for approval"),
        ("cancel", "fail back instead"),
    ] {
        let (s, _, text) = call(
            &app,
            "POST",
            &format!("/api/v1/failovers/{id}/{route}"),
            None,
        )
        .await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{route}: {text}");
        assert!(text.contains(says), "{route}: {text}");
        assert!(
            lists("post", &format!("/api/v1/failovers/{{id}}/{route}"), s),
            "POST /failovers/{{id}}/{route} lists 422"
        );
    }
}

/// Seed 1: `POST /drills/{id}/abort` on a drill that had ended answered 422, listed nowhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ended_drill_refuses_an_abort_with_a_status_its_document_lists() {
    let (app, _engine, _sim) = setup(Ui::Missing);
    let drill = super::drills::run_drill(&app, super::drills::DRILL).await;
    let (s, _, text) = call(
        &app,
        "POST",
        &format!("/api/v1/drills/{}/abort", drill.summary.id),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
    assert!(lists("post", "/api/v1/drills/{id}/abort", s));
}
