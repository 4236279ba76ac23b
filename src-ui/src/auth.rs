//! Signing in, the first admin's setup, who is signed in, and the accounts page (admins).

use crate::api::Api;
use leptos::prelude::*;
use switchyard_core::auth::{NewUser, Role, SessionInfo, UserInfo};

/// The signed-in account, shared by every view.
pub type Session = RwSignal<Option<SessionInfo>>;

/// Whether the signed-in account may change the fleet (fail over, send commands, run drills).
/// The server refuses anyway; this keeps a viewer from being offered what they cannot do.
pub fn may_operate() -> Signal<bool> {
    let session = expect_context::<Session>();
    Signal::derive(move || {
        session.with(|s| s.as_ref().is_some_and(|s| s.role.allows(Role::Operator)))
    })
}

/// The title of a button a viewer may not press.
pub fn why_not(may: bool) -> &'static str {
    if may {
        ""
    } else {
        "needs the operator role: you are signed in as a viewer"
    }
}

/// The setup token in the page's address (`#/setup?token=…`), if any.
fn setup_token() -> Option<String> {
    let hash = web_sys::window()?.location().hash().ok()?;
    hash.strip_prefix("#/setup?token=").map(str::to_string)
}

#[component]
pub fn SignIn() -> impl IntoView {
    let api = expect_context::<Api>();
    let session = expect_context::<Session>();
    let token = setup_token();
    let setup = token.is_some();
    let (name, set_name) = signal(String::new());
    let (password, set_password) = signal(String::new());
    let (error, set_error) = signal(None::<String>);
    let (busy, set_busy) = signal(false);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (api, token) = (api.clone(), token.clone());
        set_busy.set(true);
        leptos::task::spawn_local(async move {
            let (n, p) = (name.get_untracked(), password.get_untracked());
            let r = match &token {
                Some(t) => api.setup(t, &n, &p).await,
                None => api.login(&n, &p).await,
            };
            match r {
                Ok(s) => {
                    if token.is_some() {
                        if let Some(w) = web_sys::window() {
                            let _ = w.location().set_hash("#/map");
                        }
                    }
                    session.set(Some(s));
                }
                Err(e) => set_error.set(Some(e)),
            }
            set_busy.set(false);
        });
    };
    view! {
        <div class="signin">
            <form class="signin-form" data-testid="signin" on:submit=submit>
                <h1 class="brand">"Switchyard"</h1>
                <p class="muted">{if setup { "Create the first admin account." } else { "Sign in to the console." }}</p>
                <label>"Name" <input class="input" data-testid="signin-name" autocomplete="username" prop:value=name on:input=move |ev| set_name.set(event_target_value(&ev)) /></label>
                <label>"Password" <input class="input" type="password" data-testid="signin-password" autocomplete=if setup { "new-password" } else { "current-password" } prop:value=password on:input=move |ev| set_password.set(event_target_value(&ev)) /></label>
                {move || error.get().map(|e| view! { <p class="form-error" data-testid="signin-error">{e}</p> })}
                <button class="btn btn-primary" type="submit" data-testid="signin-submit" disabled=move || busy.get()>
                    {if setup { "Create and sign in" } else { "Sign in" }}
                </button>
            </form>
        </div>
    }
}

/// The signed-in account and the sign-out button, for the top bar.
#[component]
pub fn WhoAmI() -> impl IntoView {
    let api = expect_context::<Api>();
    let session = expect_context::<Session>();
    let sign_out = move |_| {
        let api = api.clone();
        leptos::task::spawn_local(async move {
            let _ = api.logout().await;
            session.set(None);
        });
    };
    view! {
        {move || session.get().filter(|s| s.mode != "none").map(|s| view! {
            <span class="who" data-testid="who" data-role=s.role.as_str()>{format!("{} · {}", s.username, s.role.as_str())}</span>
            {(s.mode == "local").then(|| view! { <button class="btn btn-icon" data-testid="sign-out" on:click=sign_out.clone()>"sign out"</button> })}
        })}
    }
}

/// `#/users`: the accounts, and a form to add one (admins).
#[component]
pub fn UsersView() -> impl IntoView {
    let api = expect_context::<Api>();
    let (users, set_users) = signal(Vec::<UserInfo>::new());
    let (error, set_error) = signal(None::<String>);
    let (name, set_name) = signal(String::new());
    let (password, set_password) = signal(String::new());
    let (role, set_role) = signal("viewer".to_string());
    let load = {
        let api = api.clone();
        move || {
            let api = api.clone();
            leptos::task::spawn_local(async move {
                match api.users().await {
                    Ok(u) => set_users.set(u),
                    Err(e) => set_error.set(Some(e)),
                }
            });
        }
    };
    load();
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (api, load) = (api.clone(), load.clone());
        leptos::task::spawn_local(async move {
            let role = Role::parse(&role.get_untracked()).unwrap_or(Role::Viewer);
            let new = NewUser {
                username: name.get_untracked(),
                password: password.get_untracked(),
                role,
            };
            match api.add_user(&new).await {
                Ok(_) => {
                    set_error.set(None);
                    set_name.set(String::new());
                    set_password.set(String::new());
                    load();
                }
                Err(e) => set_error.set(Some(e)),
            }
        });
    };
    view! {
        <section data-testid="users">
            <h2 class="section-title">"Accounts"</h2>
            <p class="muted">"Viewers see everything; operators fail over, send commands and run drills; admins also manage accounts."</p>
            <form class="command-form" on:submit=add>
                <label>"Name " <input class="input" data-testid="user-name" prop:value=name on:input=move |ev| set_name.set(event_target_value(&ev)) /></label>
                <label>"Password " <input class="input" type="password" autocomplete="new-password" data-testid="user-password" prop:value=password on:input=move |ev| set_password.set(event_target_value(&ev)) />
                    <span class="muted">"at least 12 characters"</span></label>
                <label>"Role "
                    <select data-testid="user-role" on:change=move |ev| set_role.set(event_target_value(&ev))>
                        <option value="viewer">"viewer"</option>
                        <option value="operator">"operator"</option>
                        <option value="admin">"admin"</option>
                    </select>
                </label>
                <div class="confirm-actions"><button class="btn" type="submit" data-testid="add-user">"Add account"</button></div>
            </form>
            {move || error.get().map(|e| view! { <p class="form-error" data-testid="user-error">{e}</p> })}
            <table class="table" data-testid="user-list">
                <thead><tr><th>"name"</th><th>"role"</th><th>"added"</th><th>"by"</th></tr></thead>
                <tbody>{move || users.get().into_iter().map(|u| view! {
                    <tr><td>{u.username}</td><td>{u.role.as_str()}</td><td>{crate::fmt::clock(u.created_at)}</td><td>{u.created_by}</td></tr>
                }).collect_view()}</tbody>
            </table>
        </section>
    }
}
