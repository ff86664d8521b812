//! The authorization code flow end to end: sign-in, consent, the code
//! exchange and its refusals, discovery, registration and logout.

use super::*;

#[tokio::test]
async fn a_confidential_client_signs_a_user_in_with_consent_and_its_id_token_verifies_against_the_jwks()
 {
    let app = oidc_app().await;
    let rp = register(&app, false, false).await;
    let user = app.new_user().await;
    let mut browser = Browser::new(&app);
    let location = sign_in(&mut browser, &user, &authorize(&rp, &[])).await;
    let issuer = app.state.auth.settings().issuer.clone();
    assert!(
        location.starts_with(&format!("{REDIRECT}?code=")),
        "{location}"
    );
    assert_eq!(param(&location, "state").as_deref(), Some("st-123"));
    assert_eq!(param(&location, "iss").as_deref(), Some(issuer.as_str()));
    let code = param(&location, "code").unwrap();

    let response = exchange(&app, &rp, &code, VERIFIER).await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()[header::CACHE_CONTROL], "no-store");
    let tokens: Value = response.json().await.unwrap();
    assert_eq!(tokens["scope"], "openid profile email");
    assert!(tokens.get("refresh_token").is_none());
    let id_token = tokens["id_token"].as_str().unwrap();
    let access = tokens["access_token"].as_str().unwrap();

    // Verified by another library with nothing but the published keys.
    let jwks: jsonwebtoken::jwk::JwkSet = app
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    let head = jsonwebtoken::decode_header(id_token).unwrap();
    assert_eq!(head.alg, jsonwebtoken::Algorithm::RS256);
    let key = jsonwebtoken::DecodingKey::from_jwk(jwks.find(head.kid.as_deref().unwrap()).unwrap())
        .unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_issuer(&[issuer.as_str()]);
    validation.set_audience(&[rp.id.as_str()]);
    let claims = jsonwebtoken::decode::<Value>(id_token, &key, &validation)
        .unwrap()
        .claims;
    assert_eq!(claims["sub"], user.user.id.to_string());
    assert_eq!(claims["azp"], rp.id.as_str());
    assert_eq!(claims["nonce"], "n-456");
    assert_eq!(claims["email"], user.email.as_str());
    assert_eq!(claims["email_verified"], false);
    assert!(claims["auth_time"].as_i64().unwrap() <= claims["iat"].as_i64().unwrap());
    assert!(claims["sid"].is_string());
    // at_hash: the left half of the access token's SHA-256, base64url.
    use base64::Engine as _;
    let digest = authgate_core::TokenHash::of(access).0;
    let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&digest[..16]);
    assert_eq!(claims["at_hash"], expected.as_str());

    // The access token: userinfo yes, authgate's own API no.
    let info = app
        .get_with_auth("/oauth/userinfo", &format!("Bearer {access}"))
        .await;
    assert_eq!(info.status(), StatusCode::OK);
    let info: Value = info.json().await.unwrap();
    assert_eq!(
        info,
        json!({"sub": user.user.id.to_string(), "email": user.email, "email_verified": false})
    );
    assert_eq!(app.me(access).await.status(), StatusCode::UNAUTHORIZED);
    let user_token = app
        .get_with_auth("/oauth/userinfo", &format!("Bearer {}", user.access))
        .await;
    assert_eq!(
        user_token.status(),
        StatusCode::UNAUTHORIZED,
        "a user's own token is not a relying party's"
    );

    // Introspection covers it.
    let service = app.new_client(&[]).await;
    let answer: Value = app
        .post_form("/oauth/introspect", &[("token", access)], Some(&service))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer["active"], true, "{answer}");
    assert_eq!(answer["client_id"], rp.id.as_str());

    // The audit trail has the consent, the authorization and the exchange.
    let kinds: Vec<String> = app
        .store()
        .await
        .events(&authgate_core::AuditFilter {
            user_id: Some(user.user.id),
            limit: 100,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.kind.as_str().to_owned())
        .collect();
    for kind in [
        "oidc.consent_granted",
        "oidc.authorized",
        "oidc.code_exchanged",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
}

#[tokio::test]
async fn a_code_is_single_use_and_its_reuse_revokes_every_token_of_the_first_exchange() {
    let app = oidc_app().await;
    let rp = register(&app, false, false).await;
    let user = app.new_user().await;
    let code = code_of(&app, &rp, &user).await;
    let first: Value = exchange(&app, &rp, &code, VERIFIER)
        .await
        .json()
        .await
        .unwrap();
    let access = first["access_token"].as_str().unwrap();
    let bearer = format!("Bearer {access}");
    assert_eq!(
        app.get_with_auth("/oauth/userinfo", &bearer).await.status(),
        StatusCode::OK
    );

    let again = exchange(&app, &rp, &code, VERIFIER).await;
    assert_eq!(
        error_of(again).await,
        (StatusCode::BAD_REQUEST, "invalid_grant".into())
    );
    assert_eq!(
        app.get_with_auth("/oauth/userinfo", &bearer).await.status(),
        StatusCode::UNAUTHORIZED,
        "the first exchange's token died with the reuse"
    );
    let service = app.new_client(&[]).await;
    let answer: Value = app
        .post_form("/oauth/introspect", &[("token", access)], Some(&service))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(answer, json!({"active": false}));
}

#[tokio::test]
async fn a_code_is_refused_after_60_seconds_to_another_client_and_with_a_wrong_verifier_or_redirect_uri()
 {
    let app = oidc_app().await;
    let rp = register(&app, false, false).await;
    let other = register(&app, false, false).await;
    let user = app.new_user().await;

    let code = code_of(&app, &rp, &user).await;
    app.advance(std::time::Duration::from_secs(61));
    let late = exchange(&app, &rp, &code, VERIFIER).await;
    assert_eq!(
        error_of(late).await,
        (StatusCode::BAD_REQUEST, "invalid_grant".into())
    );

    let code = code_of(&app, &rp, &user).await;
    let stolen = exchange(&app, &other, &code, VERIFIER).await;
    assert_eq!(
        error_of(stolen).await,
        (StatusCode::BAD_REQUEST, "invalid_grant".into())
    );
    let after = exchange(&app, &rp, &code, VERIFIER).await;
    assert_eq!(
        error_of(after).await.1,
        "invalid_grant",
        "a code is spent by its first exchange"
    );

    let code = code_of(&app, &rp, &user).await;
    let wrong = exchange(
        &app,
        &rp,
        &code,
        "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXl",
    )
    .await;
    assert_eq!(error_of(wrong).await.1, "invalid_grant");
    let code = code_of(&app, &rp, &user).await;
    let plain = exchange(&app, &rp, &code, CHALLENGE).await;
    assert_eq!(
        error_of(plain).await.1,
        "invalid_grant",
        "the challenge is not a verifier"
    );

    let code = code_of(&app, &rp, &user).await;
    let response = app
        .client
        .post(app.url("/oauth/token"))
        .basic_auth(&rp.id, rp.secret.as_deref())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", "https://rp.example/cb/"),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(error_of(response).await.1, "invalid_grant");

    let code = code_of(&app, &rp, &user).await;
    let bad_secret = Rp {
        id: rp.id.clone(),
        secret: Some("not-the-secret".into()),
    };
    let response = exchange(&app, &bad_secret, &code, VERIFIER).await;
    assert_eq!(
        error_of(response).await,
        (StatusCode::UNAUTHORIZED, "invalid_client".into())
    );
    let without_secret = Rp {
        id: rp.id.clone(),
        secret: None,
    };
    let response = exchange(&app, &without_secret, &code, VERIFIER).await;
    assert_eq!(
        error_of(response).await.1,
        "invalid_client",
        "a confidential client must authenticate"
    );
}

#[tokio::test]
async fn an_unknown_client_or_an_unregistered_redirect_uri_gets_an_error_page_and_never_a_redirect()
{
    let app = oidc_app().await;
    let rp = register(&app, false, false).await;
    let mut browser = Browser::new(&app);
    let unknown = Rp {
        id: "oidc_nobody".into(),
        secret: None,
    };
    let mut paths = vec![authorize(&unknown, &[])];
    for uri in [
        "https://rp.example/cb/",
        "https://rp.example/CB",
        "https://RP.example/cb",
        "https://rp.example/cb?next=https://evil.example",
        "https://evil.example/cb",
        "https://rp.example.evil.example/cb",
        "//evil.example/cb",
        "javascript:alert(1)",
        "",
    ] {
        paths.push(authorize(&rp, &[("redirect_uri", uri)]));
    }
    paths.push(format!("{}&client_id=x", authorize(&rp, &[])));
    for path in paths {
        let page = browser.get(&path).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{path}");
        assert!(page.headers.get(header::LOCATION).is_none(), "{path}");
        assert!(
            page.body.contains("Cannot sign you in") || page.body.contains("Bad request"),
            "{}",
            page.body
        );
        assert!(!page.body.contains("evil.example/cb\""), "{}", page.body);
    }
}

#[tokio::test]
async fn a_native_apps_loopback_redirect_uri_matches_any_port_and_nothing_else() {
    let app = oidc_app().await;
    let rp = register(&app, true, true).await;
    let mut browser = Browser::new(&app);
    let ok = browser
        .get(&authorize(
            &rp,
            &[
                ("redirect_uri", "http://127.0.0.1:53682/native"),
                ("prompt", "none"),
            ],
        ))
        .await;
    assert_eq!(ok.status, StatusCode::SEE_OTHER);
    assert!(
        ok.location()
            .starts_with("http://127.0.0.1:53682/native?error=login_required"),
        "{}",
        ok.location()
    );
    for bad in [
        "http://127.0.0.1:53682/native/",
        "http://localhost:53682/native",
        "http://127.0.0.1:53682/other",
    ] {
        let page = browser.get(&authorize(&rp, &[("redirect_uri", bad)])).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn refusals_after_the_redirect_uri_is_trusted_go_back_with_the_error_state_and_iss() {
    let app = oidc_app().await;
    let rp = register(&app, false, false).await;
    let issuer = app.state.auth.settings().issuer.clone();
    let mut browser = Browser::new(&app);
    for (changes, error) in [
        (vec![("code_challenge_method", "plain")], "invalid_request"),
        (vec![("code_challenge_method", "")], "invalid_request"),
        (vec![("code_challenge", "")], "invalid_request"),
        (
            vec![("response_type", "token")],
            "unsupported_response_type",
        ),
        (
            vec![("response_type", "code id_token")],
            "unsupported_response_type",
        ),
        (vec![("scope", "profile")], "invalid_scope"),
        (vec![("scope", "openid admin")], "invalid_scope"),
        (vec![("prompt", "none")], "login_required"),
        (vec![("request", "eyJ.x.y")], "request_not_supported"),
    ] {
        let page = browser.get(&authorize(&rp, &changes)).await;
        assert_eq!(
            page.status,
            StatusCode::SEE_OTHER,
            "{changes:?}: {}",
            page.body
        );
        let location = page.location();
        assert!(
            location.starts_with(&format!("{REDIRECT}?error={error}")),
            "{changes:?}: {location}"
        );
        assert_eq!(param(location, "state").as_deref(), Some("st-123"));
        assert_eq!(param(location, "iss").as_deref(), Some(issuer.as_str()));
    }
}

#[tokio::test]
async fn a_first_party_public_client_skips_consent_and_a_remembered_consent_is_not_asked_again() {
    let app = oidc_app().await;
    let user = app.new_user().await;

    let first_party = register(&app, true, true).await;
    let code = code_of(&app, &first_party, &user).await;
    let response = exchange(&app, &first_party, &code, VERIFIER).await;
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "a public client sends client_id alone"
    );

    let third = register(&app, false, false).await;
    let mut browser = Browser::new(&app);
    let location = sign_in(&mut browser, &user, &authorize(&third, &[])).await;
    assert!(param(&location, "code").is_some());
    // Remembered: the same or fewer scopes go straight back with a code.
    let again = browser
        .get(&authorize(&third, &[("scope", "openid email")]))
        .await;
    assert_eq!(again.status, StatusCode::SEE_OTHER);
    assert!(
        param(again.location(), "code").is_some(),
        "{}",
        again.location()
    );
    // prompt=consent asks again; Deny answers access_denied.
    let asked = browser
        .get(&authorize(&third, &[("prompt", "consent")]))
        .await;
    assert_eq!(asked.status, StatusCode::OK);
    let denied = browser
        .post(
            "/oauth/authorize/consent",
            &[
                ("csrf", &asked.csrf()),
                ("request", &hidden(&asked.body, "request")),
                ("decision", "deny"),
            ],
        )
        .await;
    let back = continue_target(&denied.body);
    assert!(
        back.starts_with(&format!("{REDIRECT}?error=access_denied")),
        "{back}"
    );
    // Without the session's form token the consent is refused.
    let forged = browser
        .post(
            "/oauth/authorize/consent",
            &[
                ("csrf", "x"),
                ("request", &hidden(&asked.body, "request")),
                ("decision", "allow"),
            ],
        )
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn an_administrator_registers_lists_and_deletes_relying_parties() {
    let app = oidc_app().await;
    let admin = app.new_user_with_roles(&["admin"]).await;
    let bearer = format!("Bearer {}", admin.access);
    let created = app
        .client
        .post(app.url("/admin/oidc-clients"))
        .header(header::AUTHORIZATION, &bearer)
        .json(&json!({"name": "Wiki", "redirect_uris": [REDIRECT], "scopes": ["email"]}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    assert_eq!(created.headers()[header::CACHE_CONTROL], "no-store");
    let created: Value = created.json().await.unwrap();
    assert_eq!(created["scopes"], json!(["openid", "email"]));
    assert_eq!(created["public"], false);
    assert_eq!(created["client_secret"].as_str().unwrap().len(), 43);
    let id = created["client_id"].as_str().unwrap().to_owned();

    for (body, field) in [
        (
            json!({"name": "x", "redirect_uris": ["https://*.example/cb"]}),
            "redirect_uris",
        ),
        (
            json!({"name": "x", "redirect_uris": ["http://app.example/cb"]}),
            "redirect_uris",
        ),
        (
            json!({"name": "x", "redirect_uris": ["https://app.example/cb#f"]}),
            "redirect_uris",
        ),
        (
            json!({"name": "x", "redirect_uris": ["https://APP.example/cb"]}),
            "redirect_uris",
        ),
        (json!({"name": "x", "redirect_uris": []}), "redirect_uris"),
        (
            json!({"name": "x", "redirect_uris": [REDIRECT], "post_logout_redirect_uris": ["javascript:x"]}),
            "post_logout_redirect_uris",
        ),
        (
            json!({"name": "x", "redirect_uris": [REDIRECT], "scopes": ["admin"]}),
            "scopes",
        ),
        (json!({"name": "", "redirect_uris": [REDIRECT]}), "name"),
    ] {
        let response = app
            .client
            .post(app.url("/admin/oidc-clients"))
            .header(header::AUTHORIZATION, &bearer)
            .json(&body)
            .send()
            .await
            .unwrap();
        let status = response.status();
        let error: Value = response.json().await.unwrap();
        assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
        assert!(
            error["error_description"]
                .as_str()
                .unwrap()
                .starts_with(field),
            "{body}: {error}"
        );
    }

    let listed: Value = app
        .get_with_auth("/admin/oidc-clients", &bearer)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(listed["clients"].as_array().unwrap().len(), 1);
    assert!(listed.to_string().find("client_secret").is_none());

    let user = app.new_user().await;
    let denied = app
        .get_with_auth("/admin/oidc-clients", &format!("Bearer {}", user.access))
        .await;
    assert_eq!(denied.status(), StatusCode::FORBIDDEN);

    let deleted = app
        .client
        .delete(app.url(&format!("/admin/oidc-clients/{id}")))
        .header(header::AUTHORIZATION, &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let gone = app
        .client
        .delete(app.url(&format!("/admin/oidc-clients/{id}")))
        .header(header::AUTHORIZATION, &bearer)
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn with_oidc_discovery_names_the_provider_and_the_jwks_holds_an_rs256_id_token_key() {
    let app = oidc_app().await;
    let config: Value = app
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    let base = app.state.auth.settings().issuer.clone();
    assert_eq!(
        config["authorization_endpoint"],
        format!("{base}/oauth/authorize")
    );
    assert_eq!(
        config["userinfo_endpoint"],
        format!("{base}/oauth/userinfo")
    );
    assert_eq!(config["response_types_supported"], json!(["code"]));
    assert_eq!(config["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(
        config["id_token_signing_alg_values_supported"],
        json!(["RS256"])
    );
    assert_eq!(
        config["authorization_response_iss_parameter_supported"],
        true
    );
    for field in [
        "scopes_supported",
        "response_modes_supported",
        "subject_types_supported",
        "token_endpoint_auth_methods_supported",
        "claims_supported",
    ] {
        assert!(config[field].is_array(), "{field}");
    }
    assert!(
        config["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&json!("authorization_code"))
    );
    let jwks: Value = app
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .any(|k| k["alg"] == "RS256"),
        "{jwks}"
    );
}

#[tokio::test]
async fn without_oidc_there_is_no_authorization_endpoint_and_no_rsa_key() {
    let app = spawn_app().await;
    let page = Browser::new(&app)
        .get("/oauth/authorize?client_id=x&redirect_uri=https://rp.example/cb")
        .await;
    assert_eq!(page.status, StatusCode::BAD_REQUEST);
    assert!(page.headers.get(header::LOCATION).is_none());
    let config: Value = app
        .get("/.well-known/openid-configuration")
        .await
        .json()
        .await
        .unwrap();
    assert!(config.get("authorization_endpoint").is_none());
    let jwks: Value = app
        .get("/.well-known/jwks.json")
        .await
        .json()
        .await
        .unwrap();
    assert!(
        jwks["keys"]
            .as_array()
            .unwrap()
            .iter()
            .all(|k| k["alg"] != "RS256")
    );
}

#[tokio::test]
async fn rp_initiated_logout_ends_the_named_session_and_returns_only_to_a_registered_uri() {
    let app = oidc_app().await;
    let rp = register(&app, false, false).await;
    let user = app.new_user().await;
    let mut browser = Browser::new(&app);
    let location = sign_in(&mut browser, &user, &authorize(&rp, &[])).await;
    let code = param(&location, "code").unwrap();
    let tokens: Value = exchange(&app, &rp, &code, VERIFIER)
        .await
        .json()
        .await
        .unwrap();
    let id_token = tokens["id_token"].as_str().unwrap().to_owned();
    let logout = |changes: &[(&str, &str)]| {
        let mut params = vec![
            ("id_token_hint", id_token.clone()),
            (
                "post_logout_redirect_uri",
                "https://rp.example/bye".to_owned(),
            ),
            ("state", "bye-1".to_owned()),
        ];
        for (name, value) in changes {
            params.retain(|(n, _)| n != name);
            if !value.is_empty() {
                params.push((name, (*value).to_owned()));
            }
        }
        let query = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params.iter().map(|(n, v)| (*n, v.as_str())))
            .finish();
        format!("/oauth/logout?{query}")
    };

    for (changes, what) in [
        (
            vec![("post_logout_redirect_uri", "https://rp.example/bye/")],
            "trailing slash",
        ),
        (
            vec![("post_logout_redirect_uri", "https://evil.example/bye")],
            "another site",
        ),
        (
            vec![("post_logout_redirect_uri", REDIRECT)],
            "a login redirect, not a logout one",
        ),
        (vec![("id_token_hint", "not.a.token")], "a forged hint"),
        (
            vec![("id_token_hint", ""), ("client_id", "oidc_nobody")],
            "an unknown client",
        ),
    ] {
        let page = browser.get(&logout(&changes)).await;
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{what}");
        assert!(page.headers.get(header::LOCATION).is_none(), "{what}");
    }
    // Without a hint naming the session, nobody is logged out.
    let unproven = browser
        .get(&logout(&[
            ("id_token_hint", ""),
            ("client_id", rp.id.as_str()),
        ]))
        .await;
    assert_eq!(unproven.status, StatusCode::OK);
    assert!(
        unproven.body.contains("still logged in"),
        "{}",
        unproven.body
    );
    assert_eq!(browser.get("/account").await.status, StatusCode::OK);

    let done = browser.get(&logout(&[])).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    assert_eq!(done.location(), "https://rp.example/bye?state=bye-1");
    let account = browser.get("/account").await;
    assert_eq!(
        account.status,
        StatusCode::SEE_OTHER,
        "the browser session ended"
    );
    // An expired hint still names its client.
    app.advance(std::time::Duration::from_secs(3600));
    let later = browser.get(&logout(&[])).await;
    assert_eq!(later.status, StatusCode::SEE_OTHER);
    assert_eq!(later.location(), "https://rp.example/bye?state=bye-1");
}
