//! The loopback redirect listener against real sockets: one redirect served, then closed.

use std::net::{SocketAddr, TcpStream};
use std::time::Duration;
use switchboard_core::catalogue::LoopbackRedirect;
use switchboard_providers::oauth::{CsrfState, LoopbackError, LoopbackListener};

const PATH: &str = "/oauth/callback";
const WAIT: Duration = Duration::from_secs(30);

fn redirect(host: &'static str, port: Option<u16>) -> LoopbackRedirect {
    LoopbackRedirect {
        host,
        port,
        path: PATH,
    }
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .no_proxy()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

/// Starts `wait` in the background and returns its handle and the redirect URI.
async fn listen(
    host: &'static str,
    keep: &'static [&'static str],
) -> (
    tokio::task::JoinHandle<Result<switchboard_providers::oauth::Callback, LoopbackError>>,
    String,
    Vec<SocketAddr>,
) {
    let listener = LoopbackListener::bind("QuickBooks Online", &redirect(host, None))
        .await
        .unwrap();
    let uri = listener.redirect_uri().to_string();
    let addrs = listener.local_addrs().to_vec();
    let state = CsrfState::from_value("the-state");
    let handle = tokio::spawn(async move { listener.wait(&state, keep, WAIT).await });
    (handle, uri, addrs)
}

async fn get(url: &str) -> (u16, String) {
    let response = browser().get(url).send().await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.text().await.unwrap();
    if status != 404 {
        assert_eq!(headers["content-type"], "text/html; charset=utf-8");
        assert_eq!(headers["referrer-policy"], "no-referrer");
        assert_eq!(headers["cache-control"], "no-store");
    }
    (status, body)
}

fn refused(addr: SocketAddr) -> bool {
    TcpStream::connect_timeout(&addr, Duration::from_secs(2)).is_err()
}

#[tokio::test]
async fn code_and_extra_params_come_back_and_the_page_says_close_the_tab() {
    let (handle, uri, _) = listen("127.0.0.1", &["realmId"]).await;
    assert!(uri.starts_with("http://127.0.0.1:"), "{uri}");
    assert!(uri.ends_with(PATH));
    let (status, page) = get(&format!(
        "{uri}?code=AB-123&state=the-state&realmId=9130350&extra=ignored"
    ))
    .await;
    assert_eq!(status, 200);
    assert!(page.contains("close this tab"), "{page}");
    assert!(page.contains("return to Switchboard"), "{page}");
    assert!(!page.contains("AB-123"));
    let callback = handle.await.unwrap().unwrap();
    assert_eq!(callback.code.expose(), "AB-123");
    assert_eq!(callback.params.len(), 1);
    assert_eq!(callback.params["realmId"], "9130350");
}

#[tokio::test]
async fn a_wrong_state_is_an_error_and_the_page_says_it_could_not_be_verified() {
    let (handle, uri, _) = listen("127.0.0.1", &[]).await;
    let (status, page) = get(&format!("{uri}?code=AB-123&state=forged")).await;
    assert_eq!(status, 400);
    assert!(page.contains("could not be verified"), "{page}");
    let err = handle.await.unwrap().unwrap_err();
    assert!(
        matches!(err, LoopbackError::StateMismatch { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("Start the sign-in again"));
}

#[tokio::test]
async fn access_denied_tells_the_user_what_to_do() {
    let (handle, uri, _) = listen("127.0.0.1", &[]).await;
    let (_, page) = get(&format!(
        "{uri}?error=access_denied&error_description=User+cancelled&state=the-state"
    ))
    .await;
    assert!(page.contains("Access was not allowed"), "{page}");
    assert!(page.contains("choose Allow"), "{page}");
    let err = handle.await.unwrap().unwrap_err();
    assert!(matches!(err, LoopbackError::Denied { .. }), "{err:?}");
    assert!(err.to_string().contains("choose Allow"), "{err}");
}

#[tokio::test]
async fn other_provider_errors_are_reported_with_their_description_escaped() {
    let (handle, uri, _) = listen("127.0.0.1", &[]).await;
    let (_, page) = get(&format!(
        "{uri}?error=invalid_scope&error_description=%3Cb%3Ebad%3C%2Fb%3E+scope&state=the-state"
    ))
    .await;
    assert!(page.contains("invalid_scope"), "{page}");
    assert!(page.contains("&lt;b&gt;bad"), "{page}");
    assert!(!page.contains("<b>bad"), "{page}");
    let err = handle.await.unwrap().unwrap_err();
    let LoopbackError::Provider { error, .. } = &err else {
        panic!("{err:?}")
    };
    assert_eq!(error, "invalid_scope");
}

#[tokio::test]
async fn other_paths_do_not_count_and_after_one_redirect_the_port_is_closed() {
    let (handle, uri, addrs) = listen("127.0.0.1", &[]).await;
    let origin = uri.trim_end_matches(PATH);
    let (status, _) = get(&format!("{origin}/favicon.ico")).await;
    assert_eq!(status, 404);
    let (status, _) = get(&format!("{origin}/oauth/callbackx?code=x&state=the-state")).await;
    assert_eq!(status, 404);
    assert!(!handle.is_finished());
    let (status, _) = get(&format!("{uri}?code=first&state=the-state")).await;
    assert_eq!(status, 200);
    let callback = handle.await.unwrap().unwrap();
    assert_eq!(callback.code.expose(), "first");
    // Served once: nothing listens any more.
    for addr in addrs {
        assert!(refused(addr), "{addr} still accepts connections");
    }
}

#[tokio::test]
async fn localhost_listens_on_ipv4_and_ipv6_on_one_port() {
    if std::net::TcpListener::bind("[::1]:0").is_err() {
        eprintln!("no IPv6 loopback here; the fallback is covered by a unit test");
        return;
    }
    for via_v6 in [true, false] {
        let (handle, uri, addrs) = listen("localhost", &[]).await;
        assert_eq!(addrs.len(), 2, "{addrs:?}");
        assert!(addrs.iter().any(SocketAddr::is_ipv4));
        assert!(addrs.iter().any(SocketAddr::is_ipv6));
        assert_eq!(addrs[0].port(), addrs[1].port());
        assert_eq!(uri, format!("http://localhost:{}{PATH}", addrs[0].port()));
        let host = if via_v6 { "[::1]" } else { "127.0.0.1" };
        let (status, _) = get(&format!(
            "http://{host}:{}{PATH}?code=c&state=the-state",
            addrs[0].port()
        ))
        .await;
        assert_eq!(status, 200);
        assert!(handle.await.unwrap().is_ok());
        for addr in addrs {
            assert!(refused(addr), "{addr} still accepts connections");
        }
    }
}

#[tokio::test]
async fn a_taken_registered_port_says_which_port_and_why_it_matters() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let err = LoopbackListener::bind("Xero", &redirect("127.0.0.1", Some(port)))
        .await
        .unwrap_err();
    let text = err.to_string();
    assert!(matches!(err, LoopbackError::Bind { .. }), "{err:?}");
    assert!(text.contains(&port.to_string()), "{text}");
    assert!(text.contains("another program"), "{text}");
    assert!(text.contains("Xero only sends you back"), "{text}");
}

#[tokio::test]
async fn a_registered_port_is_used_as_is() {
    // Find a free port, release it, then ask for it explicitly.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listener = LoopbackListener::bind("Xero", &redirect("127.0.0.1", Some(port)))
        .await
        .unwrap();
    assert_eq!(listener.port(), port);
    assert_eq!(
        listener.redirect_uri(),
        format!("http://127.0.0.1:{port}{PATH}")
    );
}

#[tokio::test(start_paused = true)]
async fn it_gives_up_after_the_timeout_without_real_waiting() {
    let listener = LoopbackListener::bind("Xero", &redirect("127.0.0.1", None))
        .await
        .unwrap();
    let addr = listener.local_addrs()[0];
    let started = tokio::time::Instant::now();
    let err = listener
        .wait(&CsrfState::new(), &[], Duration::from_secs(5 * 60))
        .await
        .unwrap_err();
    assert!(started.elapsed() >= Duration::from_secs(300));
    assert!(matches!(err, LoopbackError::TimedOut { .. }), "{err:?}");
    assert!(err.to_string().contains("5 minutes"), "{err}");
    assert!(refused(addr));
}

#[tokio::test]
async fn dropping_the_wait_cancels_and_frees_the_port() {
    let listener = LoopbackListener::bind("Xero", &redirect("127.0.0.1", None))
        .await
        .unwrap();
    let addr = listener.local_addrs()[0];
    let state = CsrfState::new();
    let waiting = tokio::spawn(async move { listener.wait(&state, &[], WAIT).await });
    // Let the server start, then cancel.
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(!refused(addr));
    waiting.abort();
    assert!(waiting.await.unwrap_err().is_cancelled());
    let mut closed = false;
    for _ in 0..50 {
        if refused(addr) {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(closed, "{addr} still accepts connections after cancel");
}

#[tokio::test]
async fn dropping_an_unused_listener_frees_the_port() {
    let listener = LoopbackListener::bind("Xero", &redirect("127.0.0.1", None))
        .await
        .unwrap();
    let addr = listener.local_addrs()[0];
    drop(listener);
    assert!(refused(addr));
}
