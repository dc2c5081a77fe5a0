//! Getting into the owner's web app, and nobody else getting in: the setup link, login,
//! logout, the session cookie, the login rate limit, CSRF on every state change, every
//! admin route behind a session and every API route behind a token, API tokens from a page.

use crate::fixtures::assert_contains;
use crate::helpers::{
    Backend, OWNER_EMAIL, OWNER_PASSWORD, Options, TestApp, cookie_client, hidden_value, spawn_app,
    spawn_app_with, submit_login, submit_setup, text_at,
};
use crate::on_both_databases;

on_both_databases!(
    the_setup_link_creates_the_owner_once_and_logs_them_in,
    login_gives_a_new_session_and_logout_ends_it,
    wrong_passwords_are_refused_and_then_rate_limited,
    a_stranger_guessing_cannot_lock_the_owner_out_of_a_browser_they_used,
    every_admin_route_needs_a_session_and_every_api_route_a_token,
    a_state_change_without_the_csrf_token_is_forbidden,
    api_tokens_are_created_and_revoked_on_a_page,
);

/// A path with its parameters filled in.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|part| {
            if part.starts_with('{') {
                "0190a5a8-7e43-7c4b-9d8e-2a4f3c1b2d3e"
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn session_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("hundred_session=") && !v.starts_with("hundred_session=;"))
        .map(str::to_string)
}

async fn the_setup_link_creates_the_owner_once_and_logs_them_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let link = app.setup_link.clone().expect("no owner yet: a setup link");
    assert!(link.starts_with(&app.url("/admin/setup/")), "{link}");

    // Before any account, /admin leads to the login page.
    let answer = app.get("/admin").await;
    assert_eq!(answer.status(), 303);
    assert_eq!(answer.headers()["location"], "/admin/login?next=%2Fadmin");

    // A guessed link shows nothing.
    let guessed = app.get("/admin/setup/not-the-token").await;
    assert_eq!(guessed.status(), 404);
    assert!(guessed.text().await.unwrap().contains("no longer works"));

    // Mistakes on the form are explained, and nothing is created.
    let http = cookie_client();
    let page = text_at(&http, &link).await;
    assert!(page.contains("Create the owner account"));
    let token = hidden_value(&page, "form_token").unwrap();
    let short = submit_setup(&http, &link, [OWNER_EMAIL, "short", "short"], &token).await;
    assert_eq!(short.status(), 400);
    assert!(
        short
            .text()
            .await
            .unwrap()
            .contains("at least 10 characters")
    );
    let page = text_at(&http, &link).await;
    let token = hidden_value(&page, "form_token").unwrap();
    let different = submit_setup(
        &http,
        &link,
        [OWNER_EMAIL, OWNER_PASSWORD, "something else entirely"],
        &token,
    )
    .await;
    assert_eq!(different.status(), 400);
    assert!(different.text().await.unwrap().contains("not the same"));
    assert_eq!(app.count("users").await, 0);

    // Done right, the owner is in, on the dashboard.
    let owner = app.owner().await;
    let dashboard = owner.page("/admin").await;
    assert_contains(&dashboard, "<strong>0</strong> engaged of 0 confirmed", "");
    assert!(dashboard.contains(OWNER_EMAIL));

    // The link is used up.
    let again = app.get(&link).await;
    assert_eq!(again.status(), 404);
    let intruder = ["intruder@example.com", OWNER_PASSWORD, OWNER_PASSWORD];
    let replay = submit_setup(&cookie_client(), &link, intruder, "x").await;
    assert_eq!(replay.status(), 404);
    assert_eq!(app.count("users").await, 1);
}

async fn login_gives_a_new_session_and_logout_ends_it(backend: Backend) {
    let app = spawn_app(backend).await;
    let _first = app.owner().await;

    // A browser arriving with a session id of its own choosing (fixation) gets another.
    let http = cookie_client();
    let page = text_at(&http, app.url("/admin/login?next=/admin/tokens")).await;
    assert_eq!(
        hidden_value(&page, "next").as_deref(),
        Some("/admin/tokens")
    );
    let form_token = hidden_value(&page, "form_token").unwrap();
    let planted = http.post(app.url("/admin/login")).header(
        "cookie",
        format!("hundred_session=planted; hundred_form={form_token}"),
    );
    let answer = submit_login(
        planted,
        "Owner@Bakery.example",
        OWNER_PASSWORD,
        "/admin/tokens",
        &form_token,
    )
    .await;
    assert_eq!(answer.status(), 303);
    assert_eq!(answer.headers()["location"], "/admin/tokens");
    let cookie = session_cookie(&answer).expect("a session cookie");
    assert!(!cookie.contains("planted"));
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/admin"] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain http: no Secure flag ({cookie})"
    );

    // Logging in twice gives two different sessions.
    let one = app.log_in(OWNER_EMAIL, OWNER_PASSWORD).await.ok().unwrap();
    let two = app.log_in(OWNER_EMAIL, OWNER_PASSWORD).await.ok().unwrap();
    assert_ne!(one.csrf, two.csrf);

    // `next` never leads off the site.
    for next in [
        "https://evil.example/",
        "//evil.example",
        "/\\evil.example",
        "/admin//evil.example",
        "javascript:alert(1)",
    ] {
        let page = text_at(
            &http,
            app.url(&format!("/admin/login?next={}", urlencode(next))),
        )
        .await;
        assert_eq!(
            hidden_value(&page, "next").as_deref(),
            Some("/admin"),
            "{next}"
        );
    }

    // Logout ends the session: its cookie no longer opens anything.
    let out = one.post_form("/admin/logout", &[]).await;
    assert_eq!(out.status(), 303);
    assert_eq!(out.headers()["location"], "/admin/login");
    assert_eq!(one.get("/admin").await.status(), 303);
    // The other session is untouched.
    assert_eq!(two.get("/admin").await.status(), 200);
}

fn urlencode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

async fn wrong_passwords_are_refused_and_then_rate_limited(backend: Backend) {
    let app = spawn_app(backend).await;
    let _owner = app.owner().await;
    let wrong = app
        .log_in(OWNER_EMAIL, "not the password at all")
        .await
        .err()
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let page = wrong.text().await.unwrap();
    assert!(page.contains("do not match an account"));
    assert_contains(
        &page,
        "value=\"owner@bakery.example\"",
        "the address stays filled in",
    );
    let unknown = app
        .log_in("nobody@bakery.example", OWNER_PASSWORD)
        .await
        .err()
        .unwrap();
    assert_eq!(unknown.status(), 401);

    // A login form without its own token is refused.
    let stale = cookie_client()
        .post(app.url("/admin/login"))
        .form(&[
            ("email", OWNER_EMAIL),
            ("password", OWNER_PASSWORD),
            ("form_token", "made-up"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(stale.status(), 403);

    // The forms before a session take small bodies only.
    let huge = cookie_client()
        .post(app.url("/admin/login"))
        .header("cookie", "hundred_form=x")
        .form(&[
            ("email", "a".repeat(100_000).as_str()),
            ("password", "p"),
            ("form_token", "x"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(huge.status(), 413);

    // Guessing goes nowhere fast: after ten tries from one place, even the right password
    // waits. (A try is refilled every six seconds; on a loaded machine each wrong password
    // takes a while to check, so the limit may come a few tries later than the tenth.)
    let mut limited = None;
    for _ in 0..40 {
        let answer = app
            .log_in(OWNER_EMAIL, "guess guess guess")
            .await
            .err()
            .unwrap();
        if answer.status() == 429 {
            limited = Some(answer);
            break;
        }
        assert_eq!(answer.status(), 401);
    }
    let limited = limited.expect("the login is rate-limited");
    assert_eq!(limited.headers()["retry-after"], "60");
    assert!(
        limited
            .text()
            .await
            .unwrap()
            .contains("Too many login attempts")
    );
    let right = app.log_in(OWNER_EMAIL, OWNER_PASSWORD).await.err().unwrap();
    assert_eq!(right.status(), 429);
}

/// One login attempt through the form, in `browser`, from `ip` (behind the proxy).
async fn log_in_from(
    app: &TestApp,
    browser: &reqwest::Client,
    ip: &str,
    password: &str,
) -> reqwest::StatusCode {
    let page = browser
        .get(app.url("/admin/login"))
        .header("x-forwarded-for", ip)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    browser
        .post(app.url("/admin/login"))
        .header("x-forwarded-for", ip)
        .form(&[
            ("email", OWNER_EMAIL),
            ("password", password),
            ("form_token", &hidden_value(&page, "form_token").unwrap()),
        ])
        .send()
        .await
        .unwrap()
        .status()
}

async fn a_stranger_guessing_cannot_lock_the_owner_out_of_a_browser_they_used(backend: Backend) {
    let app = spawn_app_with(
        backend,
        Options::default().env("HUNDRED_TRUST_PROXY", "true"),
    )
    .await;
    // The owner has logged in with this browser before.
    let owner = app.owner().await;

    // A stranger guesses at the owner's address from many places, until the address's
    // limit is used up.
    // (Allowing for the refills a slow, loaded machine lets in, as above.)
    let mut limited = false;
    for i in 0..40 {
        let status = log_in_from(
            &app,
            &cookie_client(),
            &format!("203.0.113.{i}"),
            "guess guess guess",
        )
        .await;
        if status == 429 {
            limited = true;
            break;
        }
        assert_eq!(status, 401);
    }
    assert!(limited, "the address is limited");

    // A browser never used to log in waits, even with the right password; a made-up
    // "known browser" cookie does not help.
    let new_browser = cookie_client();
    assert_eq!(
        log_in_from(&app, &new_browser, "198.51.100.20", OWNER_PASSWORD).await,
        429
    );
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    jar.add_cookie_str(
        &format!("hundred_device={}; Path=/admin", "A".repeat(72)),
        &app.url("/admin/login").parse().unwrap(),
    );
    let forged = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_provider(jar)
        .build()
        .unwrap();
    assert_eq!(
        log_in_from(&app, &forged, "198.51.100.21", OWNER_PASSWORD).await,
        429
    );

    // The owner's own browser logs in.
    assert_eq!(
        log_in_from(&app, &owner.http, "198.51.100.7", OWNER_PASSWORD).await,
        303
    );
    let dashboard = owner.http.get(app.url("/admin")).send().await.unwrap();
    assert_eq!(dashboard.status(), 200);
}

async fn every_admin_route_needs_a_session_and_every_api_route_a_token(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.owner().await;
    let admin_paths = hundred::web::admin_paths();
    assert!(admin_paths.len() >= 4, "{admin_paths:?}");
    let methods = [
        reqwest::Method::GET,
        reqwest::Method::HEAD,
        reqwest::Method::POST,
        reqwest::Method::PUT,
        reqwest::Method::PATCH,
        reqwest::Method::DELETE,
    ];
    let mut routed = 0;
    for path in &admin_paths {
        let url = app.url(&concrete(path));
        for method in &methods {
            // With a session (and the CSRF token), the method is either routed or 405.
            let with_session = owner
                .http
                .request(method.clone(), &url)
                .header("x-csrf-token", &owner.csrf)
                .send()
                .await
                .unwrap();
            if with_session.status() == 405 {
                continue;
            }
            routed += 1;
            // Without one, nothing but the way to the login page.
            for client in [&app.client, &cookie_client()] {
                let answer = client.request(method.clone(), &url).send().await.unwrap();
                assert_eq!(answer.status(), 303, "{method} {path} without a session");
                let location = answer.headers()["location"].to_str().unwrap().to_string();
                assert!(
                    location.starts_with("/admin/login?next="),
                    "{method} {path}: {location}"
                );
            }
            // A made-up session cookie is no session.
            let forged = app
                .client
                .request(method.clone(), &url)
                .header("cookie", "hundred_session=forged")
                .send()
                .await
                .unwrap();
            assert_eq!(
                forged.status(),
                303,
                "{method} {path} with a forged session"
            );
        }
    }
    assert!(
        routed >= admin_paths.len(),
        "every admin path answers some method"
    );

    let api_paths = hundred::web::api_paths();
    assert!(api_paths.len() >= 10, "{api_paths:?}");
    for path in &api_paths {
        let url = app.url(&concrete(path));
        for method in &methods {
            for authorization in [
                None,
                Some("Bearer hundred_forged"),
                Some("Basic b3duZXI6cHc="),
            ] {
                let mut request = app.client.request(method.clone(), &url);
                if let Some(value) = authorization {
                    request = request.header("authorization", value);
                }
                let answer = request.send().await.unwrap();
                assert!(
                    answer.status() == 401 || answer.status() == 405,
                    "{method} {path} with {authorization:?}: {}",
                    answer.status()
                );
            }
        }
    }
}

async fn a_state_change_without_the_csrf_token_is_forbidden(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.owner().await;

    // No token, a wrong token, a token in the wrong place: 403, and nothing happens.
    let missing = owner
        .post_as_written("/admin/tokens", &[], &[("name", "sneaky")])
        .await;
    assert_eq!(missing.status(), 403);
    assert!(missing.text().await.unwrap().contains("expired"));
    let logout = owner
        .http
        .post(owner.url("/admin/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 403);
    assert_eq!(owner.get("/admin").await.status(), 200, "still logged in");

    // A wrong token; another session's token, which does not fit this one; the right token
    // sent from another site: each refused.
    let other = app.log_in(OWNER_EMAIL, OWNER_PASSWORD).await.ok().unwrap();
    let refused: [(&[(&str, &str)], &str); 4] = [
        (&[], "0000"),
        (&[], &other.csrf),
        (&[("origin", "https://evil.example")], &owner.csrf),
        (
            &[("sec-fetch-site", "cross-site"), ("origin", "null")],
            &owner.csrf,
        ),
    ];
    for (headers, csrf) in refused {
        let fields = [("name", "sneaky"), ("csrf", csrf)];
        let answer = owner
            .post_as_written("/admin/tokens", headers, &fields)
            .await;
        assert_eq!(answer.status(), 403, "{headers:?} {csrf}");
    }
    assert_eq!(app.count("api_tokens").await, 0);

    // As a header (how the page's scripts send it) or a form field, it works.
    let by_header = owner
        .post_as_written(
            "/admin/tokens",
            &[
                ("x-csrf-token", owner.csrf.as_str()),
                ("origin", app.address.as_str()),
            ],
            &[("name", "by header")],
        )
        .await;
    assert_eq!(by_header.status(), 200);
    let by_field = owner
        .post_form("/admin/tokens", &[("name", "by field")])
        .await;
    assert_eq!(by_field.status(), 200);
    assert_eq!(app.count("api_tokens").await, 2);
}

async fn api_tokens_are_created_and_revoked_on_a_page(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.owner().await;
    let page = owner.page("/admin/tokens").await;
    assert!(page.contains("None yet"));

    let empty = owner.post_form("/admin/tokens", &[("name", "  ")]).await;
    assert_eq!(empty.status(), 200);
    assert!(
        empty
            .text()
            .await
            .unwrap()
            .contains("Give the token a name")
    );

    let created = owner
        .post_form(
            "/admin/tokens",
            &[("name", "<script>alert('site')</script>")],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(!created.contains("<script>alert"), "the name is escaped");
    assert!(created.contains("&lt;script&gt;"));
    let start = created
        .find("<pre id=\"new-token\">")
        .expect("the token is shown once")
        + 20;
    let token = created[start..created[start..].find('<').unwrap() + start].to_string();
    assert!(token.starts_with("hundred_"));
    let listed = app.api_get("/subscribers", &token).await;
    assert!(listed["subscribers"].is_array());

    // Shown once: the list has its name, never the token again.
    let page = owner.page("/admin/tokens").await;
    assert!(!page.contains(&token));
    let action_start = page.find("/admin/tokens/").unwrap();
    let action = &page[action_start..page[action_start..].find('"').unwrap() + action_start];
    let revoked = owner.post_form(action, &[]).await;
    assert_eq!(revoked.status(), 303);
    let refused = app
        .api_call(reqwest::Method::GET, "/subscribers", &token)
        .await;
    assert_eq!(refused.status(), 401);
    assert!(owner.page("/admin/tokens").await.contains("None yet"));
}
