//! The kept certificate sets against mocked `ListCertificates` pages generated on the fly, on
//! tokio's paused clock: what a refresh costs at 10,000 and at 1,000,000 certificates, what
//! the full listing finds, and the budget under throttling.

use super::generated::GeneratedSet;
use super::*;
use crate::clock::TokioClock;
use aws_sdk_iot::Client;
use aws_smithy_mocks::{mock, mock_client, MockResponse, Rule, RuleMode};
use aws_smithy_runtime_api::http::{Response, StatusCode};
use aws_smithy_types::body::SdkBody;
use aws_smithy_types::retry::RetryConfig;
use std::sync::atomic::{AtomicU64, Ordering};

const EVERY: Duration = Duration::from_secs(6 * 3_600);

/// A region whose certificates are `set`; every `throttle_every`-th call (0: none) is answered
/// "Rate exceeded".
fn region(set: &Arc<GeneratedSet>, throttle_every: u64) -> (Iot, Rule) {
    let set = set.clone();
    let calls = AtomicU64::new(0);
    let rule = mock!(Client::list_certificates).then_compute_response(move |req| {
        let k = calls.fetch_add(1, Ordering::SeqCst) + 1;
        if throttle_every > 0 && k % throttle_every == 0 {
            let mut r = Response::new(
                StatusCode::try_from(429).unwrap(),
                SdkBody::from(r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#),
            );
            r.headers_mut()
                .insert("x-amzn-errortype", "ThrottlingException");
            r.headers_mut().insert("content-type", "application/json");
            return MockResponse::Http(r);
        }
        MockResponse::Output(set.page(req))
    });
    let iot = Iot::from_client(mock_client!(
        aws_sdk_iot,
        RuleMode::MatchAny,
        [&rule],
        |c| c.retry_config(RetryConfig::disabled())
    ));
    (iot, rule)
}

fn sets() -> Certificates {
    Certificates::new(
        Store::in_memory(),
        Arc::new(Budget::new(0.5)),
        Arc::new(TokioClock::starting_at(1_764_597_720_000)),
        EVERY,
    )
}

/// Refreshes `region` and waits (on the paused clock) for the full listing it started.
async fn refresh_and_wait(c: &Certificates, region: &str, iot: &Iot) -> SetAge {
    c.refresh(region, iot).await.unwrap();
    while c.sweeping(region) {
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    c.age(region).await.unwrap()
}

/// The calls of each of five refreshes of both regions, 30 s apart, once both sets are listed.
async fn steady_calls(n: u64) -> Vec<(usize, usize)> {
    let (a_set, t_set) = (
        Arc::new(GeneratedSet::new(n)),
        Arc::new(GeneratedSet::new(n)),
    );
    let ((a, a_rule), (t, t_rule)) = (region(&a_set, 0), region(&t_set, 0));
    let c = sets();
    let (x, y) = tokio::join!(
        refresh_and_wait(&c, "active", &a),
        refresh_and_wait(&c, "target", &t)
    );
    assert!(x.full_at.is_some() && y.full_at.is_some());
    // The first full listing read every page once.
    let pages = n.div_ceil(250) as usize;
    assert_eq!((a_rule.num_calls(), t_rule.num_calls()), (pages, pages));
    let mut per_refresh = Vec::new();
    for i in 0..5 {
        tokio::time::sleep(Duration::from_secs(30)).await;
        // Devices keep arriving in both regions.
        a_set.add(i);
        t_set.add(i);
        let before = (a_rule.num_calls(), t_rule.num_calls());
        let (x, y) = tokio::join!(c.refresh("active", &a), c.refresh("target", &t));
        let sweep = SetAge::pair(x.unwrap(), y.unwrap());
        assert!(sweep.complete);
        let cmp = c.compare("active", "target").await.unwrap();
        assert_eq!(cmp.in_target, a_set.len());
        per_refresh.push((a_rule.num_calls() - before.0, t_rule.num_calls() - before.1));
    }
    per_refresh
}

#[tokio::test(start_paused = true)]
async fn a_refresh_costs_the_same_calls_at_a_million_certificates_as_at_ten_thousand() {
    let small = steady_calls(10_000).await;
    let large = steady_calls(1_000_000).await;
    assert_eq!(small, large);
    assert!(large.iter().all(|&(a, t)| a <= 5 && t <= 5), "{large:?}");
    // Newest first, down to the newest known: one call a region.
    assert!(large.iter().all(|&c| c == (1, 1)), "{large:?}");
}

#[tokio::test(start_paused = true)]
async fn a_certificate_deactivated_in_the_target_is_found_by_the_next_full_listing() {
    let (a_set, t_set) = (
        Arc::new(GeneratedSet::new(1_000)),
        Arc::new(GeneratedSet::new(1_000)),
    );
    let ((a, _), (t, t_rule)) = (region(&a_set, 0), region(&t_set, 0));
    let c = sets();
    refresh_and_wait(&c, "active", &a).await;
    let first = refresh_and_wait(&c, "target", &t).await;
    assert_eq!(
        c.compare("active", "target").await.unwrap().in_target,
        1_000
    );
    t_set.deactivate(17);
    // Reading the newest end cannot see it.
    tokio::time::sleep(Duration::from_secs(30)).await;
    c.refresh("target", &t).await.unwrap();
    assert_eq!(
        c.compare("active", "target").await.unwrap().in_target,
        1_000
    );
    // Six hours after the last full listing started, the next one starts and finds it.
    tokio::time::sleep(EVERY).await;
    let before = t_rule.num_calls();
    let again = refresh_and_wait(&c, "target", &t).await;
    assert!(again.full_at > first.full_at, "{first:?} {again:?}");
    assert_eq!(
        t_rule.num_calls() - before,
        1 + 4,
        "the refresh and four pages"
    );
    let cmp = c.compare("active", "target").await.unwrap();
    assert_eq!(cmp.in_target, 999);
    assert_eq!(cmp.missing, vec![GeneratedSet::id(17)]);
}

#[tokio::test(start_paused = true)]
async fn a_certificate_added_is_seen_at_the_next_refresh_and_the_kept_comparison_follows() {
    let (a_set, t_set) = (
        Arc::new(GeneratedSet::new(1_000)),
        Arc::new(GeneratedSet::new(1_000)),
    );
    let ((a, _), (t, _)) = (region(&a_set, 0), region(&t_set, 0));
    let c = sets();
    refresh_and_wait(&c, "active", &a).await;
    refresh_and_wait(&c, "target", &t).await;
    assert_eq!(
        c.compare("active", "target").await.unwrap().in_target,
        1_000
    );
    a_set.add(3);
    let age = c.refresh("active", &a).await.unwrap();
    assert_eq!(age.added_since, 3);
    let cmp = c.compare("active", "target").await.unwrap();
    assert_eq!((cmp.active_total, cmp.in_target), (1_003, 1_000));
    assert_eq!(
        cmp.missing,
        (1_000..1_003).map(GeneratedSet::id).collect::<Vec<_>>()
    );
    // Brought up to date from the three rows alone, and the same as comparing in the store.
    assert_eq!(cmp, c.compare_in_store("active", "target").await.unwrap());
    t_set.add(3);
    let t_age = c.refresh("target", &t).await.unwrap();
    let cmp = c.compare("active", "target").await.unwrap();
    assert_eq!((cmp.in_target, cmp.target_total), (1_003, 1_003));
    assert!(cmp.missing.is_empty());
    assert_eq!(cmp, c.compare_in_store("active", "target").await.unwrap());
    let sweep = SetAge::pair(age, t_age);
    assert_eq!((sweep.added_since, sweep.complete), (6, true));
}

#[tokio::test(start_paused = true)]
async fn until_the_first_full_listing_is_complete_the_comparison_says_it_is_incomplete() {
    let set = Arc::new(GeneratedSet::new(100_000));
    let (iot, _) = region(&set, 0);
    let c = sets();
    let age = c.refresh("target", &iot).await.unwrap();
    assert!(age.sweeping && age.full_at.is_none(), "{age:?}");
    let sweep = SetAge::pair(age, age);
    assert!(!sweep.complete);
    // Only the first page is staged; nothing is in the set yet.
    assert_eq!(c.compare("target", "target").await.unwrap().active_total, 0);
    // A second refresh while it runs starts nothing more.
    assert!(!SetAge::pair(c.refresh("target", &iot).await.unwrap(), age).complete);
    while c.sweeping("target") {
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    let done = c.age("target").await.unwrap();
    assert!(SetAge::pair(done, done).complete);
    assert_eq!(
        c.compare("target", "target").await.unwrap().active_total,
        100_000
    );
}

#[tokio::test(start_paused = true)]
async fn a_set_on_one_page_is_read_whole_so_a_deactivation_shows_at_the_next_refresh() {
    let set = Arc::new(GeneratedSet::new(100));
    let (iot, rule) = region(&set, 0);
    let c = sets();
    c.refresh("r", &iot).await.unwrap();
    assert!(!c.sweeping("r"));
    assert_eq!(c.compare("r", "r").await.unwrap().active_total, 100);
    set.deactivate(5);
    c.refresh("r", &iot).await.unwrap();
    assert_eq!(c.compare("r", "r").await.unwrap().active_total, 99);
    assert_eq!(rule.num_calls(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_full_listing_paces_its_pages_through_the_budget_and_slows_down_when_throttled() {
    // 40 pages at half of 10 a second: about 8 s, the first 5 at once.
    let set = Arc::new(GeneratedSet::new(10_000));
    let (iot, _) = region(&set, 0);
    let c = sets();
    let t0 = tokio::time::Instant::now();
    refresh_and_wait(&c, "paced", &iot).await;
    let took = t0.elapsed().as_secs_f64();
    assert!((7.0..=10.0).contains(&took), "{took}");

    // Every 7th page answered "Rate exceeded": the bucket halves, the listing still completes.
    let (iot, rule) = region(&set, 7);
    let c = sets();
    let t0 = tokio::time::Instant::now();
    let age = refresh_and_wait(&c, "throttled", &iot).await;
    let bucket = c.inner.budget.bucket(Api::ListCertificates, "throttled");
    assert!(bucket.throttles() >= 5, "{}", bucket.throttles());
    assert!(age.full_at.is_some());
    assert!(rule.num_calls() > 40);
    assert_eq!(
        c.compare("throttled", "throttled")
            .await
            .unwrap()
            .active_total,
        10_000
    );
    assert!(t0.elapsed().as_secs_f64() > took, "slower than unthrottled");
}
