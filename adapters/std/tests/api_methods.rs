//! `Client::request` carries every method Zoho's APIs use, with the body and the
//! `Authorization: Zoho-oauthtoken …` header, to the token's `api_domain`.

use std::sync::{Arc, Mutex};

use zoho_oauth::{Client, HttpRequest, HttpResponse, MemoryStore, Method, TransportError};

const EXCHANGE: &str = r#"{"access_token":"1000.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb","refresh_token":"1000.cccccccccccccccccccccccccccccccc.dddddddddddddddddddddddddddddddd","scope":"ZohoCRM.modules.ALL","api_domain":"https://www.zohoapis.com","token_type":"Bearer","expires_in":3600}"#;

/// What an API call looked like on the wire.
#[derive(Debug, Clone, PartialEq)]
struct Seen {
    method: Method,
    url: String,
    authorization: Option<String>,
    content_type: Option<String>,
    body: Vec<u8>,
}

#[test]
fn put_patch_delete_and_post_reach_the_api_domain_with_the_token_and_body() {
    let seen: Arc<Mutex<Vec<Seen>>> = Arc::default();
    let log = seen.clone();
    let transport = move |req: &HttpRequest<'_>| -> Result<HttpResponse, TransportError> {
        if req.url.starts_with("https://accounts.zoho.com/") {
            return Ok(HttpResponse {
                status: 200,
                headers: Vec::new(),
                body: EXCHANGE.as_bytes().to_vec(),
            });
        }
        let header = |name: &str| {
            req.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| (*v).to_owned())
        };
        log.lock().unwrap().push(Seen {
            method: req.method,
            url: req.url.to_owned(),
            authorization: header("authorization"),
            content_type: header("content-type"),
            body: req.body.to_vec(),
        });
        Ok(HttpResponse {
            status: 200,
            headers: Vec::new(),
            body: b"{}".to_vec(),
        })
    };
    let client = Client::builder("1000.CLIENT", "secret")
        .store(MemoryStore::new())
        .transport(transport)
        .build()
        .unwrap();
    client
        .exchange_grant("ana@example.com", "1000.code")
        .unwrap();

    let body = br#"{"data":[{"Last_Name":"Doe"}]}"#;
    for (method, payload) in [
        (Method::Post, Some(&body[..])),
        (Method::Put, Some(&body[..])),
        (Method::Patch, Some(&body[..])),
        (Method::Delete, None),
    ] {
        let resp = client
            .request("ana@example.com", method, "/crm/v8/Leads", payload)
            .unwrap();
        assert_eq!(resp.status, 200);
    }

    let seen = seen.lock().unwrap();
    let methods: Vec<Method> = seen.iter().map(|s| s.method).collect();
    assert_eq!(
        methods,
        [Method::Post, Method::Put, Method::Patch, Method::Delete]
    );
    for s in seen.iter() {
        assert_eq!(s.url, "https://www.zohoapis.com/crm/v8/Leads");
        assert_eq!(
            s.authorization.as_deref(),
            Some("Zoho-oauthtoken 1000.aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb")
        );
    }
    assert_eq!(seen[1].body, body);
    assert_eq!(seen[1].content_type.as_deref(), Some("application/json"));
    assert!(seen[3].body.is_empty());
}
