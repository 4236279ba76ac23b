//! Incidents over HTTP: listed, read with their timeline, acknowledged, annotated, exported.

use super::*;

#[tokio::test]
async fn an_outage_is_an_incident_that_operators_acknowledge_annotate_and_export() {
    let (app, engine, sim) = setup(Ui::Missing);
    sim.with(|f| f.inject("us-east-1:outage".parse().unwrap()).unwrap());
    engine.poll_once("us-east-1").await;
    let (s, _, body) = call(&app, "GET", "/api/v1/incidents?open=true", None).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let list: switchyard_core::incidents::IncidentsResponse = serde_json::from_str(&body).unwrap();
    let i = &list.incidents[0];
    assert_eq!(
        (i.title.as_str(), i.alerts_open),
        ("us-east-1 unreachable", 1)
    );

    let detail = |app: Router, id: i64| async move {
        let (s, _, body) = call(&app, "GET", &format!("/api/v1/incidents/{id}"), None).await;
        assert_eq!(s, StatusCode::OK, "{body}");
        serde_json::from_str::<switchyard_core::incidents::IncidentDetail>(&body).unwrap()
    };
    let alert = detail(app.clone(), i.id).await.alerts[0].id;
    let ack = format!("/api/v1/alerts/{alert}/ack");
    let (s, _, body) = call(&app, "POST", &ack, Some(r#"{"note":"paging AWS"}"#)).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert!(body.contains(r#""note":"paging AWS""#), "{body}");
    let (s, _, body) = call(&app, "POST", &ack, Some(r#"{"note":""}"#)).await;
    assert_eq!(s, StatusCode::CONFLICT, "{body}");
    assert!(body.contains("acknowledged already"), "{body}");

    let notes = format!("/api/v1/incidents/{}/notes", i.id);
    let (s, _, body) = call(&app, "POST", &notes, Some(r#"{"text":"failing over"}"#)).await;
    assert_eq!(s, StatusCode::CREATED, "{body}");
    let (s, _, body) = call(&app, "POST", &notes, Some(r#"{"text":" "}"#)).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(body.contains("text: must not be empty"), "{body}");

    let d = detail(app.clone(), i.id).await;
    let kinds: Vec<_> = d.timeline.iter().map(|t| t.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["opened", "alert_raised", "acknowledged", "note"],
        "{d:#?}"
    );

    let (s, ctype, md) = call(
        &app,
        "GET",
        &format!("/api/v1/incidents/{}/export?format=md", i.id),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::OK);
    assert!(ctype.starts_with("text/markdown"), "{ctype}");
    assert!(
        md.contains("# Incident") && md.contains("failing over"),
        "{md}"
    );
    let (s, _, body) = call(
        &app,
        "GET",
        &format!("/api/v1/incidents/{}/export?format=pdf", i.id),
        None,
    )
    .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{body}");
    assert!(body.contains("format: must be md or json"), "{body}");
}

#[tokio::test]
async fn the_status_and_a_plan_say_what_is_known_and_change_nothing() {
    let (app, engine, sim) = setup(Ui::Missing);
    sim.with(|f| f.inject("us-east-1:outage".parse().unwrap()).unwrap());
    engine.poll_once("us-east-1").await;
    let (s, _, body) = call(&app, "GET", "/api/v1/status", None).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let st: switchyard_core::cockpit::StatusResponse = serde_json::from_str(&body).unwrap();
    assert!(st.incident.is_some());
    let east = st.regions.iter().find(|r| r.id == "us-east-1").unwrap();
    assert_ne!(east.figures, switchyard_core::cockpit::Figures::Current);
    let (s, _, body) = call(&app, "GET", "/api/v1/failover/plan?target=eu-west-1", None).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    let plan: switchyard_core::cockpit::FailoverPlan = serde_json::from_str(&body).unwrap();
    assert_eq!(plan.source, "us-east-1");
    let dry = r#"{"target":"eu-west-1","confirm":"eu-west-1","reason":""}"#;
    let (s, _, body) = call(&app, "POST", "/api/v1/failovers/plan", Some(dry)).await;
    assert_eq!(s, StatusCode::OK, "{body}");
    assert!(body.contains("a reason is required"), "{body}");
    let (_, _, body) = call(&app, "GET", "/api/v1/failover", None).await;
    assert!(
        body.contains(r#""current":null"#),
        "a plan starts nothing: {body}"
    );
    let (s, _, body) = call(&app, "GET", "/api/v1/failover/plan?target=mars-1", None).await;
    assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
}
