//! Secrets stay home: the credential goes only to the scheme, host and port
//! of the table's url, a key sent as a query parameter is `***` in every
//! printed URL, and no error prints the secret, even one the API echoes.

use serde_json::json;
use skyglue_rest::load;

use crate::scripted::{Scripted, param};
use crate::support::{BEARER, Session, item_table, rows};

fn page(ids: &[u32]) -> String {
    json!({"items": ids.iter().map(|id| json!({"id": id})).collect::<Vec<_>>()}).to_string()
}

#[tokio::test]
async fn a_next_link_to_another_port_is_an_error_and_that_server_sees_nothing() {
    let elsewhere = Scripted::start(|_| (200, vec![], page(&[2]))).await;
    let next = format!("<{}/items?page=2>; rel=\"next\"", elsewhere.base);
    let home = Scripted::start(move |_| (200, vec![("link", next.clone())], page(&[1]))).await;
    let text = item_table(&format!("{BEARER}\npaginate = {{ style = \"link\" }}"));
    let s = Session::at(&home.base, &text, |e| e).await;
    let err = s.try_query("SELECT id FROM item").await.expect_err("a foreign next link");
    assert!(err.starts_with("table item: the next page is on "), "{err}");
    assert!(
        err.contains(&elsewhere.base) && err.contains(&format!("not on the table's host {}", home.base)),
        "{err}"
    );
    assert_eq!(home.targets().len(), 1);
    assert!(elsewhere.targets().is_empty(), "the other server got a request: {:?}", elsewhere.headers());
}

#[tokio::test]
async fn a_next_link_on_the_same_host_is_followed_with_the_credential() {
    let home = Scripted::start(|target| match param(target, "page").as_deref() {
        None => (200, vec![("link", "</items?page=2>; rel=\"next\"".to_string())], page(&[1])),
        _ => (200, vec![], page(&[2])),
    })
    .await;
    let text = item_table(&format!("{BEARER}\npaginate = {{ style = \"link\" }}"));
    let s = Session::at(&home.base, &text, |e| e).await;
    assert_eq!(rows(&s.query("SELECT id FROM item").await), 2);
    let auth: Vec<_> = home.headers().iter().map(|h| h.get("authorization").cloned()).collect();
    assert!(auth.iter().all(|a| a.as_ref().is_some_and(|v| v == "Bearer test-token")), "{auth:?}");
}

#[tokio::test]
async fn a_query_key_is_sent_as_its_parameter_and_shown_as_stars() {
    // The API echoes the key in its error, as some do.
    let home = Scripted::start(|target| {
        let key = param(target, "api_key").unwrap_or_default();
        (500, vec![], json!({"error": format!("key {key} has no access")}).to_string())
    })
    .await;
    let text = item_table(
        "auth = { query = \"api_key\", value = \"${FAKE_TOKEN}\" }\nparams = { state = \"open\" }",
    );
    let s = Session::at(&home.base, &text, |e| e).await;
    let err = s.try_query("SELECT id FROM item").await.expect_err("HTTP 500");
    let targets = home.targets();
    assert_eq!(targets[0], "/items?state=open&api_key=test-token", "the key is sent as api_key");
    assert!(home.headers()[0].get("authorization").is_none());
    assert!(err.contains("/items?state=open&api_key=***: HTTP 500"), "{err}");
    assert!(err.contains("HTTP 500 after 3 attempts: {\"error\":\"key *** has no access\"}"), "{err}");
    assert!(!err.contains("test-token"), "the secret is printed: {err}");
}

#[tokio::test]
async fn a_header_secret_the_api_echoes_is_not_printed() {
    let home =
        Scripted::start(|_| (401, vec![], r#"{"message":"token test-token was revoked"}"#.into())).await;
    let s = Session::at(&home.base, &item_table(BEARER), |e| e).await;
    let err = s.try_query("SELECT id FROM item").await.expect_err("HTTP 401");
    assert!(err.ends_with("HTTP 401: {\"message\":\"token *** was revoked\"}"), "{err}");
    assert!(!err.contains("test-token"), "{err}");
}

#[test]
fn a_variable_in_the_query_string_is_refused_with_its_line() {
    let text = item_table(BEARER).replace("/items\"", "/items?api_key=${API_KEY}\"");
    let err = load::from_text("t.toml", &text).expect_err("refused").to_string();
    assert!(err.starts_with("t.toml:3: table item: ${API_KEY} is in the url's query string"), "{err}");
    assert!(err.contains("auth = { query = \"<parameter>\", value = \"${API_KEY}\" }"), "{err}");
    let fragment = item_table(BEARER).replace("/items\"", "/items#${PART}\"");
    assert!(load::from_text("t.toml", &fragment).is_err());
    let in_path = item_table(BEARER).replace("/items\"", "/v1/${TENANT}/items?fixed=1\"");
    load::from_text("t.toml", &in_path).expect("a variable in the path is fine");
}

#[test]
fn a_variable_in_the_scheme_host_or_port_is_refused_naming_it() {
    for url in ["${API_URL}/items", "https://${HOST}/items", "https://api.example.com:${PORT}/items"] {
        let text = item_table(BEARER).replace("http://fake.invalid/items", url);
        let err = load::from_text("t.toml", &text).expect_err(url).to_string();
        assert!(err.starts_with("t.toml:3: table item: ${"), "{url}: {err}");
        assert!(err.contains("is in the url's scheme, host or port"), "{url}: {err}");
    }
    let text = item_table(BEARER).replace("http://fake.invalid/items", "https://${HOST}/items");
    assert!(load::from_text("t.toml", &text).is_err_and(|e| e.to_string().contains("${HOST}")));
}
