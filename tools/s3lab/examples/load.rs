//! Load client for measuring s3lab: requests/s and server CPU per request.
//!
//! `cargo run --release --example load -- PORT SERVER_PID MODE CONCURRENCY SECONDS`
//! MODE: `sdk-get` (aws-sdk-s3 GetObject), `sdk-list` (ListObjectsV2 pages of
//! 1000), `raw-get` (unsigned keep-alive HTTP/1.1 GETs, least client CPU).
//! The bucket is `org`. Server CPU comes from /proc/PID/stat (Linux).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::Client;

/// utime + stime of a process, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("server pid");
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = after_name.split(' ').collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    ticks as f64 / 100.0
}

fn client(port: u16) -> Client {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .credentials_provider(Credentials::new("AKIDUMMY", "dummy", None, None, "load"))
        .endpoint_url(format!("http://127.0.0.1:{port}"))
        .force_path_style(true)
        .http_client(http)
        .build();
    Client::from_conf(conf)
}

async fn keys(client: &Client, n: usize) -> Vec<String> {
    let page = client
        .list_objects_v2()
        .bucket("org")
        .max_keys(n as i32)
        .send()
        .await
        .unwrap();
    page.contents()
        .iter()
        .map(|o| o.key().unwrap().to_string())
        .collect()
}

async fn sdk_worker(
    client: Client,
    keys: Arc<Vec<String>>,
    list: bool,
    until: Instant,
    done: Arc<AtomicU64>,
    id: usize,
) {
    let mut i = id;
    let mut token: Option<String> = None;
    while Instant::now() < until {
        if list {
            let page = client
                .list_objects_v2()
                .bucket("org")
                .set_continuation_token(token.take())
                .send()
                .await
                .unwrap();
            token = page.next_continuation_token().map(str::to_string);
        } else {
            let got = client
                .get_object()
                .bucket("org")
                .key(&keys[i % keys.len()])
                .send()
                .await
                .unwrap();
            got.body.collect().await.unwrap();
        }
        i += 7;
        done.fetch_add(1, Ordering::Relaxed);
    }
}

/// One keep-alive connection sending unsigned GETs back to back.
fn raw_worker(port: u16, keys: Arc<Vec<String>>, until: Instant, done: Arc<AtomicU64>, id: usize) {
    let stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.set_nodelay(true).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut writer = stream;
    let mut i = id;
    while Instant::now() < until {
        let req = format!(
            "GET /org/{} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n",
            keys[i % keys.len()]
        );
        writer.write_all(req.as_bytes()).unwrap();
        let mut len = 0usize;
        let mut line = String::new();
        loop {
            line.clear();
            reader.read_line(&mut line).unwrap();
            if line == "\r\n" {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap();
            }
        }
        let mut body = vec![0; len];
        reader.read_exact(&mut body).unwrap();
        i += 7;
        done.fetch_add(1, Ordering::Relaxed);
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let port: u16 = args[1].parse().unwrap();
    let pid: u32 = args[2].parse().unwrap();
    let mode = args[3].clone();
    let concurrency: usize = args[4].parse().unwrap();
    let seconds: u64 = args[5].parse().unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let client = client(port);
    let keys = Arc::new(rt.block_on(keys(&client, 1000)));
    let done = Arc::new(AtomicU64::new(0));
    let (cpu0, t0) = (cpu_seconds(pid), Instant::now());
    let until = t0 + Duration::from_secs(seconds);
    if mode == "raw-get" {
        let threads: Vec<_> = (0..concurrency)
            .map(|id| {
                let (keys, done) = (keys.clone(), done.clone());
                std::thread::spawn(move || raw_worker(port, keys, until, done, id))
            })
            .collect();
        threads.into_iter().for_each(|t| t.join().unwrap());
    } else {
        let list = mode == "sdk-list";
        rt.block_on(async {
            let tasks: Vec<_> = (0..concurrency)
                .map(|id| {
                    tokio::spawn(sdk_worker(
                        client.clone(),
                        keys.clone(),
                        list,
                        until,
                        done.clone(),
                        id,
                    ))
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
    }
    let elapsed = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds(pid) - cpu0;
    let n = done.load(Ordering::Relaxed);
    println!(
        "{mode} concurrency={concurrency}: {n} requests in {elapsed:.1}s = {:.0} req/s; server CPU {cpu:.2}s = {:.1} µs/request ({:.0}% of one core)",
        n as f64 / elapsed,
        cpu * 1e6 / n as f64,
        cpu / elapsed * 100.0
    );
}
