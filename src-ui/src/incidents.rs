//! Incidents: `#/incidents` lists them (the open one first, then the recent ones) and
//! `#/incidents/{id}` shows one: its facts, its live timeline, a note form and the exports for
//! the post-incident review.
//!
//! Rules kept here:
//! - times in UTC (`switchyard_core::time`), the local time only as a hover title;
//! - the timeline refreshes on every alert or failover event and every 10 s;
//! - a note is 1..=2000 characters; the form says why it cannot be sent (empty, too long,
//!   the server unreachable, a viewer);
//! - the exports are the server's own files: plain download links on the web, the IPC's text
//!   on the desktop.

use crate::alerts::{ack_line, UtcTime};
use crate::api::Api;
use crate::Live;
use leptos::prelude::*;
use std::time::Duration;
use switchyard_core::alerts::Severity;
use switchyard_core::incidents::{
    EntryKind, Incident, IncidentDetail, IncidentsResponse, MAX_NOTE_CHARS,
};
use switchyard_core::time::duration;
use switchyard_core::UnixMs;

/// The incident `#/incidents/{id}` names, if the hash names one.
pub fn id_from_hash(hash: &str) -> Option<i64> {
    hash.strip_prefix("#/incidents/")?.parse().ok()
}

/// The open incidents first, then the others, each newest first.
pub fn ordered(mut list: Vec<Incident>) -> Vec<Incident> {
    list.sort_by(|a, b| {
        (b.closed_at.is_none(), b.opened_at).cmp(&(a.closed_at.is_none(), a.opened_at))
    });
    list
}

/// How long an incident lasted, or has lasted so far while open.
pub fn incident_duration(i: &Incident, now: UnixMs) -> String {
    match i.closed_at {
        Some(c) => duration(c.saturating_sub(i.opened_at)),
        None => format!("{} so far", duration(now.saturating_sub(i.opened_at))),
    }
}

/// Why a note cannot be sent now, or `None` when it can.
pub fn note_blocked(text: &str, server_lost: bool, may: bool) -> Option<String> {
    let n = text.trim().chars().count();
    if server_lost {
        Some("the console cannot reach its server".into())
    } else if !may {
        Some(crate::auth::why_not(false).into())
    } else if n == 0 {
        Some("write a note first".into())
    } else if n > MAX_NOTE_CHARS {
        Some(format!(
            "the note has {n} characters; at most {MAX_NOTE_CHARS}"
        ))
    } else {
        None
    }
}

/// A timeline entry's kind in words.
pub fn kind_words(k: EntryKind) -> &'static str {
    match k {
        EntryKind::Opened => "opened",
        EntryKind::AlertRaised => "alert raised",
        EntryKind::AlertCleared => "alert cleared",
        EntryKind::Acknowledged => "acknowledged",
        EntryKind::Note => "note",
        EntryKind::Failover => "failover",
        EntryKind::FailoverStep => "failover step",
        EntryKind::Command => "command",
        EntryKind::Action => "action",
        EntryKind::Closed => "closed",
    }
}

fn severity_name(s: Severity) -> &'static str {
    match s {
        Severity::Warning => "warning",
        Severity::Critical => "critical",
    }
}

fn current_hash() -> String {
    web_sys::window()
        .and_then(|w| w.location().hash().ok())
        .unwrap_or_default()
}

/// The list or one incident, following the hash.
#[component]
pub fn IncidentsView() -> impl IntoView {
    let (id, set_id) = signal(id_from_hash(&current_hash()));
    let listener = window_event_listener(leptos::ev::hashchange, move |_| {
        set_id.set(id_from_hash(&current_hash()))
    });
    on_cleanup(move || listener.remove());
    move || match id.get() {
        Some(id) => view! { <IncidentPage id=id /> }.into_any(),
        None => view! { <IncidentList /> }.into_any(),
    }
}

/// Refreshes with `refresh` now, on every alert or failover event, and every `every`.
fn keep_fresh(refresh: impl Fn() + Clone + 'static, every: Duration) {
    let live = expect_context::<Live>();
    refresh();
    {
        let refresh = refresh.clone();
        crate::timers::every(refresh, every);
    }
    Effect::new(move |first: Option<()>| {
        live.alerts.track();
        live.failover.track();
        if first.is_some() {
            refresh();
        }
    });
}

#[component]
fn IncidentList() -> impl IntoView {
    let api = expect_context::<Api>();
    let live = expect_context::<Live>();
    let (list, set_list) = signal(None::<IncidentsResponse>);
    let (error, set_error) = signal(None::<String>);
    keep_fresh(
        move || {
            let api = api.clone();
            leptos::task::spawn_local(async move {
                match api.incidents(false, 50).await {
                    Ok(r) => {
                        set_error.set(None);
                        set_list.set(Some(r));
                    }
                    Err(e) => set_error.set(Some(e)),
                }
            });
        },
        Duration::from_secs(10),
    );
    view! {
        <section class="incidents" data-testid="incidents">
            <h2 class="section-title">"Incidents"</h2>
            {move || error.get().map(|e| view! { <p class="form-error">{e}</p> })}
            <table class="table incidents-table">
                <thead><tr><th>"incident"</th><th>"severity"</th><th>"regions"</th><th>"opened (UTC)"</th><th>"duration"</th><th>"alerts open / total"</th><th>"unacknowledged"</th></tr></thead>
                <tbody>
                    {move || list.get().map(|r| ordered(r.incidents).into_iter().map(|i| {
                        let open = i.closed_at.is_none();
                        view! {
                            <tr class:incident-open=open data-incident=i.id.to_string()>
                                <td><a href=format!("#/incidents/{}", i.id)>{format!("#{} {}", i.id, i.title)}</a>
                                    {open.then(|| view! { <span class="tag tag-open">"open"</span> })}</td>
                                <td class=format!("sev-{}", severity_name(i.severity))>{severity_name(i.severity).to_uppercase()}</td>
                                <td>{i.regions.join(", ")}</td>
                                <td><UtcTime at=i.opened_at /></td>
                                <td class="num">{ let i = i.clone(); move || incident_duration(&i, live.now.get()) }</td>
                                <td class="num">{format!("{} / {}", i.alerts_open, i.alerts_total)}</td>
                                <td class="num" class:sev-warning={i.unacknowledged > 0}>{i.unacknowledged}</td>
                            </tr>
                        }
                    }).collect_view())}
                </tbody>
            </table>
            {move || list.with(|r| r.as_ref().is_some_and(|r| r.incidents.is_empty()))
                .then(|| view! { <p class="muted">"No incidents: one opens with the first critical alert."</p> })}
        </section>
    }
}

#[component]
fn IncidentPage(id: i64) -> impl IntoView {
    let api = expect_context::<Api>();
    let live = expect_context::<Live>();
    let (detail, set_detail) = signal(None::<IncidentDetail>);
    let (error, set_error) = signal(None::<String>);
    let refresh = {
        let api = api.clone();
        move || {
            let api = api.clone();
            leptos::task::spawn_local(async move {
                match api.incident(id).await {
                    Ok(d) => {
                        set_error.set(None);
                        set_detail.set(Some(d));
                    }
                    Err(e) => set_error.set(Some(e)),
                }
            });
        }
    };
    keep_fresh(refresh.clone(), Duration::from_secs(10));
    view! {
        <section class="incident" data-testid="incident" data-id=id.to_string()>
            <p><a href="#/incidents">"← all incidents"</a></p>
            {move || error.get().map(|e| view! { <p class="form-error">{e}</p> })}
            {move || detail.get().map(|d| {
                let i = d.incident.clone();
                let open = i.closed_at.is_none();
                view! {
                    <h2 class="section-title" data-testid="incident-title">{format!("Incident #{}: {}", i.id, i.title)}</h2>
                    <dl class="facts" data-testid="incident-facts">
                        <div><dt>"state"</dt><dd class:sev-critical=open>{if open { "open" } else { "closed" }}</dd></div>
                        <div><dt>"severity"</dt><dd class=format!("sev-{}", severity_name(i.severity))>{severity_name(i.severity)}</dd></div>
                        <div><dt>"regions"</dt><dd>{if i.regions.is_empty() { "—".to_string() } else { i.regions.join(", ") }}</dd></div>
                        <div><dt>"opened"</dt><dd><UtcTime at=i.opened_at /></dd></div>
                        {i.closed_at.map(|c| view! { <div><dt>"closed"</dt><dd><UtcTime at=c /></dd></div> })}
                        <div><dt>"duration"</dt><dd>{ let i = i.clone(); move || incident_duration(&i, live.now.get()) }</dd></div>
                        <div><dt>"alerts open / total"</dt><dd>{format!("{} / {}", i.alerts_open, i.alerts_total)}</dd></div>
                        <div><dt>"unacknowledged"</dt><dd>{i.unacknowledged}</dd></div>
                    </dl>
                    <Exports id=id />
                    <h3>"Alerts"</h3>
                    <ul class="incident-alerts">
                        {d.alerts.into_iter().map(|a| view! {
                            <li data-alert-id=a.id.to_string()>
                                <span class=format!("sev-{}", severity_name(a.severity))>{severity_name(a.severity).to_uppercase()}</span>" "
                                {a.message.clone()}" · raised "<UtcTime at=a.raised_at />
                                {a.cleared_at.map(|c| view! { " · cleared " <UtcTime at=c /> })}
                                " · "<span data-testid="incident-alert-ack">{ack_line(&a).unwrap_or_else(|| "not acknowledged".into())}</span>
                            </li>
                        }).collect_view()}
                    </ul>
                    <h3>"Timeline"</h3>
                    <table class="table timeline" data-testid="timeline">
                        <thead><tr><th>"time (UTC)"</th><th>"what"</th><th>"who"</th><th>"detail"</th></tr></thead>
                        <tbody>
                            {d.timeline.into_iter().map(|e| view! {
                                <tr data-kind=e.kind.as_str() data-source=e.source.clone()>
                                    <td class="nowrap"><UtcTime at=e.at /></td>
                                    <td class=format!("entry entry-{}", e.kind.as_str())>{kind_words(e.kind)}</td>
                                    <td>{e.actor.unwrap_or_else(|| "console".into())}</td>
                                    <td>{e.text}</td>
                                </tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                }
            })}
            <NoteForm id=id on_done=refresh />
        </section>
    }
}

/// The exports: download links on the web; on the desktop, the IPC's text shown and offered
/// as a file.
#[component]
fn Exports(id: i64) -> impl IntoView {
    let api = expect_context::<Api>();
    match (api.incident_download(id, "md"), api.incident_download(id, "json")) {
        (Some(md), Some(json)) => view! {
            <p class="exports" data-testid="incident-exports">"Export for the review: "
                <a class="btn" href=md download=format!("incident-{id}.md") data-testid="export-md">"Markdown"</a>" "
                <a class="btn" href=json download=format!("incident-{id}.json") data-testid="export-json">"JSON"</a>
            </p>
        }
        .into_any(),
        _ => {
            let (text, set_text) = signal(None::<(String, String)>);
            let fetch = move |format: &'static str| {
                let api = api.clone();
                move |_| {
                    let api = api.clone();
                    leptos::task::spawn_local(async move {
                        let t = api
                            .incident_export(id, format)
                            .await
                            .unwrap_or_else(|e| format!("could not export: {e}"));
                        set_text.set(Some((format.to_string(), t)));
                    });
                }
            };
            view! {
                <p class="exports" data-testid="incident-exports">"Export for the review: "
                    <button class="btn" data-testid="export-md" on:click=fetch("md")>"Markdown"</button>" "
                    <button class="btn" data-testid="export-json" on:click=fetch("json")>"JSON"</button>
                </p>
                {move || text.get().map(|(format, t)| {
                    let mime = if format == "md" { "text/markdown" } else { "application/json" };
                    let href = format!("data:{mime};charset=utf-8,{}", crate::api::enc(&t));
                    view! {
                        <p><a class="btn" href=href download=format!("incident-{id}.{format}")>{format!("Save incident-{id}.{format}")}</a></p>
                        <pre class="export-text" data-testid="export-text">{t}</pre>
                    }
                })}
            }
            .into_any()
        }
    }
}

#[component]
fn NoteForm(id: i64, on_done: impl Fn() + Clone + Send + Sync + 'static) -> impl IntoView {
    let api = expect_context::<Api>();
    let live = expect_context::<Live>();
    let may = crate::auth::may_operate();
    let (text, set_text) = signal(String::new());
    let (sending, set_sending) = signal(false);
    let (message, set_message) = signal(None::<String>);
    let blocked = move || text.with(|t| note_blocked(t, live.server_lost.get(), may.get()));
    let send = move |_| {
        let (api, done) = (api.clone(), on_done.clone());
        let t = text.get_untracked().trim().to_string();
        set_sending.set(true);
        leptos::task::spawn_local(async move {
            match api.add_incident_note(id, &t).await {
                Ok(_) => {
                    set_text.set(String::new());
                    set_message.set(None);
                    done();
                }
                Err(e) => set_message.set(Some(e)),
            }
            set_sending.set(false);
        });
    };
    view! {
        <div class="note-form" data-testid="note-form">
            <h3>"Add a note"</h3>
            <textarea class="input wide" rows="3" data-testid="note-text" maxlength=MAX_NOTE_CHARS.to_string()
                placeholder="what you saw, what you did, who you called"
                prop:value=text on:input=move |ev| set_text.set(event_target_value(&ev))></textarea>
            <div class="confirm-actions">
                <button class="btn btn-danger" data-testid="note-send" disabled=move || blocked().is_some() || sending.get()
                    title=move || blocked().unwrap_or_default() on:click=send>"Add note"</button>
                {move || blocked().map(|why| view! { <span class="muted" data-testid="note-why">{why}</span> })}
            </div>
            {move || message.get().map(|m| view! { <p class="form-error">{m}</p> })}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn incident(id: i64, opened_at: UnixMs, closed_at: Option<UnixMs>) -> Incident {
        Incident {
            id,
            title: format!("incident {id}"),
            severity: Severity::Critical,
            regions: vec!["us-east-1".into()],
            opened_at,
            closed_at,
            alerts_open: 0,
            alerts_total: 1,
            unacknowledged: 0,
        }
    }

    #[test]
    fn an_incident_hash_names_its_id_and_the_list_names_none() {
        assert_eq!(id_from_hash("#/incidents/12"), Some(12));
        assert_eq!(id_from_hash("#/incidents"), None);
        assert_eq!(id_from_hash("#/incidents/x"), None);
    }

    #[test]
    fn the_open_incident_comes_first_then_the_recent_ones() {
        let list = ordered(vec![
            incident(1, 100, Some(200)),
            incident(3, 300, Some(400)),
            incident(2, 150, None),
        ]);
        let ids: Vec<_> = list.iter().map(|i| i.id).collect();
        assert_eq!(ids, [2, 3, 1]);
    }

    #[test]
    fn a_duration_runs_to_the_closing_or_so_far_while_open() {
        assert_eq!(incident_duration(&incident(1, 0, Some(45_000)), 1), "45 s");
        assert_eq!(
            incident_duration(&incident(1, 0, None), 90_000),
            "1 min 30 s so far"
        );
    }

    #[test]
    fn a_note_says_why_it_cannot_be_sent() {
        assert_eq!(
            note_blocked("  ", false, true).unwrap(),
            "write a note first"
        );
        assert_eq!(
            note_blocked("x", true, true).unwrap(),
            "the console cannot reach its server"
        );
        assert!(note_blocked("x", false, false)
            .unwrap()
            .contains("operator"));
        let long = "a".repeat(MAX_NOTE_CHARS + 1);
        assert!(note_blocked(&long, false, true)
            .unwrap()
            .contains("at most 2000"));
        assert_eq!(note_blocked("paged AWS", false, true), None);
    }
}
