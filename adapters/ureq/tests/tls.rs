//! `UreqTransport` over TLS against a loopback rustls server with a test CA (see
//! `fixtures/tls.rs` for the certificates).

mod common;
#[path = "fixtures/tls.rs"]
mod fixtures;

use std::io::{BufReader, Write};
use std::net::{SocketAddr, TcpListener};
use std::sync::Arc;
use std::thread;

use common::{get, read_request};
use fixtures::{server_config, CA_PEM, SERVER_KEY};
use zoho_oauth::TransportError;
use zoho_oauth_ureq::{BuildError, UreqTransport};

const BODY: &[u8] = br#"{"First_Name":"Ada","Email":"ada@example.com","Last_Name":"Lovelace","Display_Name":"Ada","ZUID":42}"#;

/// An HTTPS origin on `ip` (a loopback address) answering every request with [`BODY`].
fn tls_origin(ip: &str) -> SocketAddr {
    let config = server_config();
    let listener = TcpListener::bind((ip, 0)).unwrap();
    let addr = listener.local_addr().unwrap();
    thread::spawn(move || {
        for tcp in listener.incoming().flatten() {
            let config = Arc::clone(&config);
            thread::spawn(move || {
                let conn = rustls::ServerConnection::new(config).unwrap();
                let mut tls = rustls::StreamOwned::new(conn, tcp);
                // A failed handshake (the client distrusts us) ends here.
                let Ok(_) = read_request(&mut BufReader::new(&mut tls), false) else {
                    return;
                };
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    BODY.len()
                );
                let _ = tls.write_all(head.as_bytes());
                let _ = tls.write_all(BODY);
                tls.conn.send_close_notify();
                let _ = tls.flush();
            });
        }
    });
    addr
}

#[test]
fn https_works_with_a_trusted_custom_root() {
    let addr = tls_origin("127.0.0.1");
    let transport = UreqTransport::builder()
        .root_certificates_pem(CA_PEM)
        .build()
        .unwrap();

    let response = get(&transport, &format!("https://{addr}/oauth/user/info")).unwrap();

    assert_eq!(response.status, 200);
    assert_eq!(response.body, BODY);
}

#[test]
fn roots_without_a_certificate_are_refused_when_building() {
    // A key is not a root: the PEM must hold a CERTIFICATE block.
    for pem in [&b"not a certificate"[..], SERVER_KEY] {
        let err = UreqTransport::builder()
            .root_certificates_pem(pem)
            .build()
            .unwrap_err();
        assert!(matches!(err, BuildError::Certificates(_)), "{err:?}");
    }
}

#[test]
fn a_certificate_outside_the_default_roots_is_a_connect_error() {
    let addr = tls_origin("127.0.0.1");
    let err = get(
        &UreqTransport::new(),
        &format!("https://{addr}/oauth/user/info"),
    )
    .unwrap_err();
    assert!(
        matches!(&err, TransportError::Connect(m) if m.contains("certificate")),
        "{err:?}"
    );
}

#[test]
fn a_certificate_for_another_name_is_a_connect_error() {
    // The certificate names localhost and 127.0.0.1; this server answers on 127.0.0.2.
    let addr = tls_origin("127.0.0.2");
    let transport = UreqTransport::builder()
        .root_certificates_pem(CA_PEM)
        .build()
        .unwrap();
    let err = get(&transport, &format!("https://{addr}/")).unwrap_err();
    assert!(
        matches!(&err, TransportError::Connect(m) if m.contains("certificate")),
        "{err:?}"
    );
}
