//! The failover routes of the move: the stragglers' results and the cancelling of their step.

use super::*;

#[tokio::test]
async fn straggler_results_name_a_bad_outcome_and_an_unknown_failover() {
    let (app, _e, _sim) = setup(Ui::Missing);
    let (status, _, body) = call(&app, "GET", "/api/v1/failovers/F-nope/stragglers", None).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert!(body.contains("no failover F-nope"), "{body}");
    let (status, _, body) = call(
        &app,
        "GET",
        "/api/v1/failovers/F-nope/stragglers?outcome=vanished",
        None,
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert!(
        body.contains(
            "outcome: must be disconnected, already_gone, told or failed, not \\\"vanished\\\""
        ),
        "{body}"
    );
}

#[tokio::test]
async fn cancelling_the_stragglers_needs_a_reason_and_a_step_under_way() {
    let (app, _e, _sim) = setup(Ui::Missing);
    let (status, _, body) = call(
        &app,
        "POST",
        "/api/v1/failovers/F-nope/stragglers/cancel",
        Some(r#"{"reason":" "}"#),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("reason: say why"), "{body}");
    let (status, _, body) = call(
        &app,
        "POST",
        "/api/v1/failovers/F-nope/stragglers/cancel",
        Some(r#"{"reason":"leave them"}"#),
    )
    .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
}
