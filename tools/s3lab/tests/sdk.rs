//! s3lab through the real aws-sdk-s3: path-style addressing, SigV4 with
//! dummy credentials, the SDK's default retries. Each test starts its own
//! server process on a free loopback port.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::Client;
use flate2::read::GzDecoder;

const ORG: &str = "AWSLogs/o-abcdefghij/";
const SPEC: &str = "accounts=5,regions=3,days=3,start=2026-10-01,per_day=4,size=1200";
/// accounts × regions × days × per_day.
const SPEC_OBJECTS: usize = 5 * 3 * 3 * 4;

/// A running `s3lab serve`, killed on drop.
struct Server {
    child: Child,
    port: u16,
    dir: tempfile::TempDir,
}

impl Server {
    fn start(extra: &[&str]) -> Server {
        let dir = tempfile::tempdir().unwrap();
        let port_file = dir.path().join("port");
        let log = dir.path().join("requests.jsonl");
        let child = Command::new(env!("CARGO_BIN_EXE_s3lab"))
            .arg("serve")
            .args(["--org", &format!("org={SPEC}"), "--max-seconds", "300"])
            .args(["--port-file".as_ref(), port_file.as_os_str()])
            .args(["--request-log".as_ref(), log.as_os_str()])
            .args(extra)
            .stdout(Stdio::null())
            .spawn()
            .expect("start s3lab");
        let deadline = Instant::now() + Duration::from_secs(20);
        let port = loop {
            if let Ok(text) = std::fs::read_to_string(&port_file) {
                break text.trim().parse().unwrap();
            }
            assert!(Instant::now() < deadline, "s3lab did not write its port");
            std::thread::sleep(Duration::from_millis(20));
        };
        Server { child, port, dir }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn log_path(&self) -> PathBuf {
        self.dir.path().join("requests.jsonl")
    }

    fn client(&self) -> Client {
        self.client_signing_with("dummy-secret")
    }

    fn client_signing_with(&self, secret: &str) -> Client {
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let conf = aws_sdk_s3::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("AKIDUMMY", secret, None, None, "test"))
            .endpoint_url(self.endpoint())
            .force_path_style(true)
            .http_client(http)
            .build();
        Client::from_conf(conf)
    }

    /// The stats endpoint's JSON, fetched with a raw HTTP/1.0 request.
    fn stats(&self) -> serde_json::Value {
        use std::io::Write;
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.write_all(b"GET /__s3lab/stats HTTP/1.0\r\n\r\n").unwrap();
        let mut text = String::new();
        s.read_to_string(&mut text).unwrap();
        let body = text.split("\r\n\r\n").nth(1).unwrap();
        serde_json::from_str(body).unwrap()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// (key, size, etag) of every object under `prefix`, through every page.
async fn list_all(
    client: &Client,
    bucket: &str,
    prefix: &str,
    page: i32,
) -> (Vec<(String, i64, String)>, usize) {
    let (mut out, mut pages, mut token) = (Vec::new(), 0, None);
    loop {
        let resp = client
            .list_objects_v2()
            .bucket(bucket)
            .prefix(prefix)
            .max_keys(page)
            .set_continuation_token(token.take())
            .send()
            .await
            .unwrap();
        pages += 1;
        for o in resp.contents() {
            out.push((
                o.key().unwrap().to_string(),
                o.size().unwrap(),
                o.e_tag().unwrap().to_string(),
            ));
        }
        match resp.next_continuation_token() {
            Some(t) if resp.is_truncated() == Some(true) => token = Some(t.to_string()),
            _ => return (out, pages),
        }
    }
}

#[tokio::test]
async fn delimiter_listing_gives_the_accounts() {
    let server = Server::start(&[]);
    let resp = server
        .client()
        .list_objects_v2()
        .bucket("org")
        .prefix(ORG)
        .delimiter("/")
        .send()
        .await
        .unwrap();
    let accounts: Vec<&str> = resp
        .common_prefixes()
        .iter()
        .filter_map(|p| p.prefix())
        .collect();
    assert_eq!(accounts.len(), 5);
    assert!(resp.contents().is_empty());
    for a in &accounts {
        let id = a.strip_prefix(ORG).unwrap().strip_suffix('/').unwrap();
        assert!(
            id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()),
            "{a}"
        );
    }
    assert!(accounts.windows(2).all(|w| w[0] < w[1]));
    let regions = server
        .client()
        .list_objects_v2()
        .bucket("org")
        .prefix(format!("{}CloudTrail/", accounts[0]))
        .delimiter("/")
        .send()
        .await
        .unwrap();
    assert_eq!(regions.common_prefixes().len(), 3);
}

#[tokio::test]
async fn pagination_covers_every_key_once_in_order() {
    let server = Server::start(&[]);
    let client = server.client();
    let (small_pages, pages) = list_all(&client, "org", "", 7).await;
    assert_eq!(small_pages.len(), SPEC_OBJECTS);
    assert_eq!(pages, SPEC_OBJECTS.div_ceil(7));
    let (one_page, pages) = list_all(&client, "org", "", 1000).await;
    assert_eq!(pages, 1);
    assert_eq!(small_pages, one_page);
    assert!(one_page
        .windows(2)
        .all(|w| w[0].0.as_bytes() < w[1].0.as_bytes()));
}

#[tokio::test]
async fn start_after_returns_exactly_the_keys_after_a_day() {
    let server = Server::start(&[]);
    let client = server.client();
    let (all, _) = list_all(&client, "org", ORG, 1000).await;
    let region_dir = &all[0].0[..all[0].0.find("/2026/").unwrap() + 1];
    let after = format!("{region_dir}2026/10/01/~");
    let resp = client
        .list_objects_v2()
        .bucket("org")
        .prefix(region_dir)
        .start_after(&after)
        .send()
        .await
        .unwrap();
    let got: Vec<&str> = resp.contents().iter().map(|o| o.key().unwrap()).collect();
    let expected: Vec<&str> = all
        .iter()
        .map(|o| o.0.as_str())
        .filter(|k| k.starts_with(region_dir) && *k > after.as_str())
        .collect();
    assert_eq!(got, expected);
    assert_eq!(got.len(), 2 * 4, "two days of four objects");
    assert!(got[0].starts_with(&format!("{region_dir}2026/10/02/")));
}

#[tokio::test]
async fn get_returns_the_listed_gzip_cloudtrail_object() {
    let server = Server::start(&[]);
    let client = server.client();
    let (all, _) = list_all(&client, "org", ORG, 1000).await;
    let (key, size, etag) = &all[17];
    let got = client
        .get_object()
        .bucket("org")
        .key(key)
        .send()
        .await
        .unwrap();
    assert_eq!(got.e_tag(), Some(etag.as_str()));
    let body = got.body.collect().await.unwrap().into_bytes();
    assert_eq!(body.len() as i64, *size);
    let mut text = String::new();
    GzDecoder::new(&body[..]).read_to_string(&mut text).unwrap();
    let json: serde_json::Value = serde_json::from_str(&text).unwrap();
    let records = json["Records"].as_array().unwrap();
    assert!(!records.is_empty());
    let account = key.split('/').nth(2).unwrap();
    assert!(records.iter().all(|r| r["recipientAccountId"] == account));
    let head = client
        .head_object()
        .bucket("org")
        .key(key)
        .send()
        .await
        .unwrap();
    assert_eq!(head.content_length(), Some(*size));
    let missing = client
        .get_object()
        .bucket("org")
        .key("nope")
        .send()
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Some("NoSuchKey"));
}

#[tokio::test]
async fn slowdowns_are_retried_through_by_default() {
    let server = Server::start(&["--slowdown-rate", "0.2", "--seed", "7"]);
    let client = server.client();
    let (all, _) = list_all(&client, "org", ORG, 1000).await;
    let gets = all.iter().take(40).map(|(key, _, _)| {
        let (client, key) = (client.clone(), key.clone());
        tokio::spawn(async move {
            client
                .get_object()
                .bucket("org")
                .key(key)
                .send()
                .await
                .map(|_| ())
        })
    });
    for get in gets.collect::<Vec<_>>() {
        get.await.unwrap().expect("GET succeeds after retries");
    }
    let stats = server.stats();
    let get_ok = stats["by_op"]["GetObject"]["200"].as_u64().unwrap();
    let slowdowns = stats["by_status"]["503"].as_u64().unwrap_or(0);
    assert_eq!(get_ok, 40);
    assert!(slowdowns >= 4, "expected some 503s at 20%, got {stats}");
}

#[tokio::test]
async fn failing_prefix_lists_as_an_error_and_others_do_not() {
    let server = Server::start(&[]);
    let (all, _) = list_all(&server.client(), "org", ORG, 1000).await;
    let account_dir = all[0].0[..ORG.len() + 13].to_string();
    drop(server);
    for (status, code) in [("500", "InternalError"), ("403", "AccessDenied")] {
        let server = Server::start(&["--fail-list", &account_dir, "--fail-list-status", status]);
        let client = server.client();
        let err = client
            .list_objects_v2()
            .bucket("org")
            .prefix(format!("{account_dir}CloudTrail/"))
            .send()
            .await
            .unwrap_err();
        assert_eq!(err.code(), Some(code));
        let other = &all.last().unwrap().0[..ORG.len() + 13];
        assert!(client
            .list_objects_v2()
            .bucket("org")
            .prefix(other)
            .send()
            .await
            .is_ok());
    }
}

/// Four requests of different shapes; returns the key fetched.
async fn log_worthy_requests(client: &Client) -> String {
    let list = || client.list_objects_v2().bucket("org");
    list().prefix(ORG).delimiter("/").send().await.unwrap();
    let page = list().max_keys(2).send().await.unwrap();
    let token = page.next_continuation_token().unwrap();
    list()
        .max_keys(2)
        .continuation_token(token)
        .start_after("A")
        .send()
        .await
        .unwrap();
    let key = page.contents()[0].key().unwrap().to_string();
    client
        .get_object()
        .bucket("org")
        .key(&key)
        .send()
        .await
        .unwrap();
    key
}

#[tokio::test]
async fn request_log_lines_are_complete() {
    let server = Server::start(&[]);
    let key = log_worthy_requests(&server.client()).await;
    let lines = read_log(&server.log_path());
    assert_eq!(lines.len(), 4);
    let fields = [
        "seq",
        "start_us",
        "end_us",
        "op",
        "bucket",
        "key",
        "prefix",
        "delimiter",
        "start_after",
        "continuation",
        "status",
    ];
    for (i, line) in lines.iter().enumerate() {
        for f in fields {
            assert!(line.get(f).is_some(), "line {i} lacks {f}: {line}");
        }
        assert_eq!(line["status"], 200);
        assert!(line["end_us"].as_u64() >= line["start_us"].as_u64());
    }
    assert_eq!(lines[0]["delimiter"], "/");
    assert_eq!(lines[0]["prefix"], ORG);
    assert_eq!(lines[2]["continuation"], true);
    assert_eq!(lines[2]["start_after"], "A");
    assert_eq!(lines[3]["op"], "GetObject");
    assert_eq!(lines[3]["key"].as_str(), Some(key.as_str()));
}

fn read_log(path: &Path) -> Vec<serde_json::Value> {
    let mut lines: Vec<serde_json::Value> = std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    lines.sort_by_key(|l| l["seq"].as_u64());
    lines
}

#[tokio::test]
async fn gen_org_mirror_serves_the_same_bytes() {
    let mirror = tempfile::tempdir().unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_s3lab"))
        .args(["--gen-org", SPEC, "--out"])
        .arg(mirror.path())
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let fs_arg = format!("mirror={}", mirror.path().display());
    let server = Server::start(&["--fs", &fs_arg]);
    let client = server.client();
    let (virtual_keys, _) = list_all(&client, "org", "", 1000).await;
    let (mirror_keys, _) = list_all(&client, "mirror", "", 1000).await;
    let strip =
        |v: &[(String, i64, String)]| v.iter().map(|o| (o.0.clone(), o.1)).collect::<Vec<_>>();
    assert_eq!(strip(&virtual_keys), strip(&mirror_keys));
    let mut bodies = BTreeMap::new();
    for bucket in ["org", "mirror"] {
        let key = &virtual_keys[SPEC_OBJECTS / 2].0;
        let got = client
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .unwrap();
        bodies.insert(bucket, got.body.collect().await.unwrap().into_bytes());
    }
    assert_eq!(bodies["org"], bodies["mirror"]);
    let buckets = client.list_buckets().send().await.unwrap();
    assert_eq!(buckets.buckets().len(), 2);
    client.head_bucket().bucket("org").send().await.unwrap();
    client
        .get_bucket_location()
        .bucket("org")
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn verify_secret_checks_signatures() {
    let server = Server::start(&["--verify-secret", "dummy-secret"]);
    server
        .client()
        .head_bucket()
        .bucket("org")
        .send()
        .await
        .unwrap();
    let err = server
        .client_signing_with("other-secret")
        .list_objects_v2()
        .bucket("org")
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("SignatureDoesNotMatch"));
}

#[tokio::test]
async fn stats_count_retried_list_failures_and_reset() {
    let server = Server::start(&["--fail-list", ORG]);
    let err = server
        .client()
        .list_objects_v2()
        .bucket("org")
        .prefix(ORG)
        .send()
        .await
        .unwrap_err();
    assert_eq!(err.code(), Some("InternalError"));
    let stats = server.stats();
    // The SDK's default standard retry mode makes three attempts.
    assert_eq!(stats["by_op"]["ListObjectsV2"]["500"], 3, "{stats}");
    assert_eq!(stats["in_flight"], 0);
    use std::io::Write;
    let mut s = std::net::TcpStream::connect(("127.0.0.1", server.port)).unwrap();
    s.write_all(b"POST /__s3lab/reset HTTP/1.0\r\n\r\n")
        .unwrap();
    s.read_to_string(&mut String::new()).unwrap();
    assert_eq!(server.stats()["requests"], 0);
}
