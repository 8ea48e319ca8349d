//! Binding, announcing the port, and serving HTTP/1.1 connections until
//! `--max-seconds` runs out (or forever).

use std::io::Write;
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, Result};
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::front::Front;

/// Writes the port to `path` atomically: a reader sees all of it or nothing.
fn write_port_file(path: &Path, port: u16) -> Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, format!("{port}\n"))
        .with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))
}

/// Binds, announces `listening on ADDR`, then serves.
pub async fn run(
    addr: SocketAddr,
    port_file: Option<&Path>,
    max_seconds: Option<u64>,
    front: Front,
) -> Result<()> {
    let listener = TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr}"))?;
    let bound = listener.local_addr()?;
    if let Some(path) = port_file {
        write_port_file(path, bound.port())?;
    }
    let mut out = std::io::stdout();
    writeln!(out, "listening on {bound}")?;
    out.flush()?;
    match max_seconds {
        Some(secs) => {
            tokio::select! {
                r = accept_loop(listener, front) => r,
                _ = tokio::time::sleep(Duration::from_secs(secs)) => Ok(()),
            }
        }
        None => accept_loop(listener, front).await,
    }
}

async fn accept_loop(listener: TcpListener, front: Front) -> Result<()> {
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(conn) => conn,
            Err(e) => {
                // Out of descriptors and the like: wait rather than spin.
                eprintln!("s3lab: accept: {e}");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let service = front.clone();
        tokio::spawn(async move {
            let conn = hyper::server::conn::http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service);
            let _ = conn.await;
        });
    }
}
