//! The activation page (`/activate?token=…`), the link of activation and password-reset
//! mails: a small server-rendered form where the user chooses a password. It works
//! without JavaScript (a plain form POST, answered with a page); with JavaScript it also
//! shows the length rule as the user types. It loads nothing from elsewhere. The token is
//! the credential; the POST runs the `setPassword` mutation, so the rules and the events
//! are the API's.

use axum::extract::{Query, State};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Form;
use clientele_graphql::token_hash;
use serde_json::json;

use crate::state::AppState;

#[derive(serde::Deserialize)]
pub struct TokenQuery {
    #[serde(default)]
    token: String,
}

#[derive(serde::Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    token: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    confirm: String,
}

/// GET /activate: the form, or a page saying why the link no longer works.
pub async fn show(State(state): State<AppState>, Query(query): Query<TokenQuery>) -> Response {
    match link_state(&state, &query.token).await {
        Ok(()) => form(StatusCode::OK, &query.token, None),
        Err(response) => response,
    }
}

/// POST /activate: sets the password, or shows the form again with the rule broken.
pub async fn submit(State(state): State<AppState>, Form(input): Form<PasswordForm>) -> Response {
    if let Err(response) = link_state(&state, &input.token).await {
        return response;
    }
    if input.password != input.confirm {
        let message = "The two passwords differ. Type the same password twice.";
        return form(
            StatusCode::UNPROCESSABLE_ENTITY,
            &input.token,
            Some(message),
        );
    }
    let request = async_graphql::Request::new(
        "mutation($t: String!, $p: String!) { setPassword(token: $t, password: $p) { user { email } } }",
    )
    .variables(async_graphql::Variables::from_json(
        json!({ "t": input.token, "p": input.password }),
    ));
    let response = state.schema.execute(request).await;
    if let Some(error) = response.errors.first() {
        let message = match error.extensions.as_ref().and_then(|e| e.get("violations")) {
            Some(async_graphql::Value::List(violations)) => violations
                .iter()
                .filter_map(|v| match v {
                    async_graphql::Value::Object(o) => o.get("message").map(|m| match m {
                        async_graphql::Value::String(s) => s.clone(),
                        other => other.to_string(),
                    }),
                    _ => None,
                })
                .collect::<Vec<_>>()
                .join(". "),
            _ => error.message.clone(),
        };
        return form(
            StatusCode::UNPROCESSABLE_ENTITY,
            &input.token,
            Some(&message),
        );
    }
    page(
        StatusCode::OK,
        "Your password is set",
        "<p class=ok>Your password is set. You can now sign in with your email address and this password.</p>",
    )
}

/// Whether the link's token is pending and unexpired; else the page that says so.
async fn link_state(state: &AppState, token: &str) -> Result<(), Response> {
    let used = || {
        page(
            StatusCode::GONE,
            "This link no longer works",
            "<p class=err>This link was already used, or a newer link replaced it. Ask for a new one.</p>",
        )
    };
    if token.trim().is_empty() {
        return Err(used());
    }
    match state
        .store
        .user_by_activation(&token_hash(token.trim()))
        .await
    {
        Ok(Some(user)) => match user.activation_expires_at {
            Some(at) if at <= state.clock.now() => Err(page(
                StatusCode::GONE,
                "This link has expired",
                "<p class=err>This link has expired. Ask for a new one.</p>",
            )),
            _ => Ok(()),
        },
        Ok(None) => Err(used()),
        Err(error) => {
            tracing::error!(%error, "the activation page could not read the link's state");
            Err(page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong",
                "<p class=err>Something went wrong on our side. Try again in a moment.</p>",
            ))
        }
    }
}

fn form(status: StatusCode, token: &str, error: Option<&str>) -> Response {
    let error = error
        .map(|e| format!("<p class=err id=error role=alert>{}</p>", escape(e)))
        .unwrap_or_default();
    let body = format!(
        r#"{error}
<form method=post action="/activate">
<input type=hidden name=token value="{token}">
<label for=password>New password</label>
<input id=password name=password type=password autocomplete=new-password required minlength=8 maxlength=128>
<label for=confirm>The same password again</label>
<input id=confirm name=confirm type=password autocomplete=new-password required minlength=8 maxlength=128>
<p class=rule id=rule>At least 8 characters (12 or more is better), at most 128. Any characters; no need for digits or symbols. Not your email address, not a commonly used password.</p>
<button type=submit>Set password</button>
</form>
<script>
const p = document.getElementById('password'), r = document.getElementById('rule');
p.addEventListener('input', () => {{
  const n = [...p.value].length;
  r.dataset.state = n < 8 ? 'short' : (n > 128 ? 'long' : 'ok');
  r.textContent = n < 8 ? `Too short: ${{n}} of at least 8 characters.` :
    n > 128 ? `Too long: ${{n}} of at most 128 characters.` :
    `Length ${{n}}: fine${{n < 12 ? ' (12 or more is better)' : ''}}. Not your email, not a common password.`;
}});
</script>"#,
        token = escape(token),
    );
    page(status, "Choose your password", &body)
}

fn page(status: StatusCode, title: &str, body: &str) -> Response {
    let html = format!(
        r#"<!doctype html>
<html lang=en><head><meta charset=utf-8><meta name=viewport content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; max-width: 26rem; margin: 4rem auto; padding: 0 1rem; color: #222; }}
label {{ display: block; margin-top: 1rem; font-weight: 600; }}
input {{ width: 100%; padding: .5rem; font-size: 1rem; box-sizing: border-box; }}
button {{ margin-top: 1.5rem; padding: .6rem 1.2rem; font-size: 1rem; }}
.rule {{ color: #555; font-size: .9rem; }} .rule[data-state=short], .rule[data-state=long] {{ color: #a40; }}
.err {{ color: #b00020; font-weight: 600; }} .ok {{ color: #176317; font-weight: 600; }}
</style></head>
<body><h1>{title}</h1>
{body}
</body></html>"#,
        title = escape(title),
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    // The token is in the URL: never send it on, never cache the page.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
    );
    response
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}
