//! Tiny loopback HTTP servers for the transport tests: a scripted origin, a CONNECT proxy, a TLS origin.
//!
//! Each server runs on its own thread for the rest of the test process and records what it saw,
//! so tests can assert on the bytes that really crossed the socket.

#![allow(dead_code)] // each test file uses a subset

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::thread;
use std::time::Duration;

use zoho_oauth::transport::Method;
use zoho_oauth::{HttpRequest, HttpResponse, Transport, TransportError};

/// One request as the server read it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The request line, e.g. `POST /oauth/v2/token HTTP/1.1`.
    pub line: String,
    /// Header names lower-cased, values trimmed.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Recorded {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Reads a request head (and a `Content-Length` body when `with_body`) from `reader`.
pub fn read_request(reader: &mut impl BufRead, with_body: bool) -> io::Result<Recorded> {
    let mut line = String::new();
    if reader.read_line(&mut line)? == 0 {
        return Err(io::ErrorKind::UnexpectedEof.into());
    }
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((n, v)) = h.split_once(':') {
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let mut rec = Recorded {
        line: line.trim_end().to_owned(),
        headers,
        body: Vec::new(),
    };
    if with_body {
        let len: usize = rec
            .header("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        rec.body = vec![0; len];
        reader.read_exact(&mut rec.body)?;
    }
    Ok(rec)
}

/// What a scripted origin does with a connection once it has read one request.
pub type Script = dyn Fn(&Recorded, &mut TcpStream) + Send + Sync;

/// A plain-HTTP origin on 127.0.0.1 that answers every request with `script`.
pub struct Origin {
    pub addr: SocketAddr,
    requests: Mutex<mpsc::Receiver<Recorded>>,
    connections: Arc<AtomicUsize>,
}

impl Origin {
    /// Reads the whole request (head and body) before calling `script`.
    pub fn start(script: impl Fn(&Recorded, &mut TcpStream) + Send + Sync + 'static) -> Self {
        Self::start_with(true, Arc::new(script))
    }

    /// Like [`start`](Self::start) but `script` gets the stream before anything is read.
    pub fn start_raw(script: impl Fn(&mut TcpStream) + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let (_tx, rx) = mpsc::channel();
        let counter = Arc::clone(&connections);
        thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                counter.fetch_add(1, Ordering::SeqCst);
                script(&mut stream);
            }
        });
        Self {
            addr,
            requests: Mutex::new(rx),
            connections,
        }
    }

    fn start_with(with_body: bool, script: Arc<Script>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let connections = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = mpsc::channel();
        let counter = Arc::clone(&connections);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                counter.fetch_add(1, Ordering::SeqCst);
                let tx = tx.clone();
                let script = Arc::clone(&script);
                // One thread per connection so a hanging script does not block the next client.
                thread::spawn(move || {
                    let mut stream = stream;
                    let mut reader = BufReader::new(stream.try_clone().unwrap());
                    while let Ok(req) = read_request(&mut reader, with_body) {
                        let close = req
                            .header("connection")
                            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
                        let _ = tx.send(req.clone());
                        script(&req, &mut stream);
                        if close {
                            break;
                        }
                    }
                });
            }
        });
        Self {
            addr,
            requests: Mutex::new(rx),
            connections,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// Every request recorded so far (they are recorded before the script answers).
    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().try_iter().collect()
    }

    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }
}

/// Writes a complete response with `Content-Length`.
pub fn respond(stream: &mut TcpStream, status: &str, headers: &[(&str, &str)], body: &[u8]) {
    let mut out = format!("HTTP/1.1 {status}\r\nContent-Length: {}\r\n", body.len());
    for (n, v) in headers {
        out.push_str(&format!("{n}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(body);
    let _ = stream.write_all(&bytes);
}

/// Blocks until the client closes the connection: a server that never answers.
pub fn hold_until_client_leaves(stream: &mut TcpStream) {
    let mut buf = [0u8; 256];
    while matches!(stream.read(&mut buf), Ok(n) if n > 0) {}
}

/// A CONNECT proxy on 127.0.0.1 that records each CONNECT request, then tunnels to loopback targets
/// (or answers every CONNECT with `refuse_with`, e.g. `407 Proxy Authentication Required`).
pub struct ConnectProxy {
    pub addr: SocketAddr,
    requests: Mutex<mpsc::Receiver<Recorded>>,
}

impl ConnectProxy {
    pub fn start(refuse_with: Option<&'static str>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let tx = tx.clone();
                thread::spawn(move || tunnel(stream, &tx, refuse_with));
            }
        });
        Self {
            addr,
            requests: Mutex::new(rx),
        }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.requests.lock().unwrap().try_iter().collect()
    }
}

fn tunnel(mut client: TcpStream, tx: &mpsc::Sender<Recorded>, refuse_with: Option<&str>) {
    let mut reader = BufReader::new(client.try_clone().unwrap());
    let Ok(req) = read_request(&mut reader, false) else {
        return;
    };
    let _ = tx.send(req.clone());
    if let Some(status) = refuse_with {
        respond(&mut client, status, &[], b"");
        return;
    }
    let target = req.line.split(' ').nth(1).unwrap_or_default().to_owned();
    // Loopback only: this proxy must never reach outside the machine.
    assert!(
        target.starts_with("127.0.0.1:"),
        "test proxy asked for {target}"
    );
    let Ok(upstream) = TcpStream::connect(&target) else {
        respond(&mut client, "502 Bad Gateway", &[], b"");
        return;
    };
    let _ = client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
    let mut up_write = upstream.try_clone().unwrap();
    let mut up_read = upstream;
    let pump = thread::spawn(move || {
        // The reader may hold bytes the client sent right after the CONNECT head.
        let _ = io::copy(&mut reader, &mut up_write);
        let _ = up_write.shutdown(std::net::Shutdown::Write);
    });
    let _ = io::copy(&mut up_read, &mut client);
    let _ = client.shutdown(std::net::Shutdown::Both);
    let _ = pump.join();
}

/// Sends a request with `transport`, with no deadline of the caller's.
pub fn send(
    transport: &impl Transport,
    method: Method,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<HttpResponse, TransportError> {
    transport.send(&HttpRequest {
        method,
        url,
        headers,
        body,
        timeout: None,
    })
}

pub fn get(transport: &impl Transport, url: &str) -> Result<HttpResponse, TransportError> {
    send(transport, Method::Get, url, &[], &[])
}

/// A GET whose caller has `left` before its deadline.
pub fn get_within(
    transport: &impl Transport,
    url: &str,
    left: Duration,
) -> Result<HttpResponse, TransportError> {
    transport.send(&HttpRequest {
        method: Method::Get,
        url,
        headers: &[],
        body: &[],
        timeout: Some(left),
    })
}
