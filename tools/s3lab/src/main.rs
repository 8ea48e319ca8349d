//! `s3lab`: a loopback S3-compatible server for benchmarking and testing
//! ctscan against organization CloudTrail layouts, with injected latency
//! and faults, request logs and counters.

mod body;
mod bucket;
mod front;
mod fsbucket;
mod gen;
mod hash;
mod inject;
mod list;
mod membucket;
mod org;
mod reqlog;
mod request;
mod s3api;
mod server;
mod spec;
mod stats;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context, Result};
use clap::{Args, Parser, Subcommand};
use s3s::service::S3ServiceBuilder;

use crate::front::{Front, Shared};
use crate::inject::{InjectConfig, Injector};
use crate::s3api::Lab;
use crate::spec::OrgSpec;

#[derive(Parser)]
#[command(
    name = "s3lab",
    version,
    about = "Loopback S3-compatible server for ctscan benchmarks and tests"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Write the virtual org bucket SPEC to --out instead of serving.
    #[arg(long, value_name = "SPEC", requires = "out")]
    gen_org: Option<String>,
    /// Directory for --gen-org.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve buckets over HTTP on loopback.
    Serve(Box<ServeArgs>),
    /// Write a virtual org bucket's objects to a directory.
    GenOrg {
        spec: String,
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
    },
}

#[derive(Args)]
struct ServeArgs {
    #[arg(long, default_value = "127.0.0.1:0")]
    addr: SocketAddr,
    /// Write the bound port here (atomically) once listening.
    #[arg(long, value_name = "FILE")]
    port_file: Option<PathBuf>,
    /// Serve the files under DIR as bucket BUCKET (repeatable).
    #[arg(long = "fs", value_name = "BUCKET=DIR")]
    fs_buckets: Vec<String>,
    /// Serve a virtual org trail bucket generated from SPEC (repeatable).
    #[arg(long = "org", value_name = "BUCKET=SPEC")]
    org_buckets: Vec<String>,
    /// Serve an empty, writable bucket held in memory (repeatable).
    #[arg(long = "mem", value_name = "BUCKET")]
    mem_buckets: Vec<String>,
    /// As --mem, but PutObject ignores `If-None-Match: *` (repeatable).
    #[arg(long = "mem-unconditional", value_name = "BUCKET")]
    mem_unconditional: Vec<String>,
    /// Delay added to every request before answering.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Extra delay, uniform in 0..=N ms, per request.
    #[arg(long, default_value_t = 0)]
    latency_jitter_ms: u64,
    /// Fraction of requests answered 503 SlowDown.
    #[arg(long, default_value_t = 0.0)]
    slowdown_rate: f64,
    /// Most SlowDowns in a row for one request and its retries.
    #[arg(long, default_value_t = 2)]
    slowdown_max_consecutive: u32,
    /// Seed for injected faults and jitter.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Listings whose prefix starts with PREFIX fail (repeatable).
    #[arg(long, value_name = "PREFIX")]
    fail_list: Vec<String>,
    /// Status of failed listings: 500 (InternalError) or 403 (AccessDenied).
    #[arg(long, default_value_t = 500, value_parser = parse_fail_status)]
    fail_list_status: u16,
    /// Exit by itself after N seconds.
    #[arg(long)]
    max_seconds: Option<u64>,
    /// Append one JSON line per answered request to FILE.
    #[arg(long, value_name = "FILE")]
    request_log: Option<PathBuf>,
    /// Verify SigV4 signatures made with this secret key (any access key ID);
    /// without it, any credentials are accepted unchecked.
    #[arg(long, value_name = "SECRET")]
    verify_secret: Option<String>,
    /// Worker threads of the runtime.
    #[arg(long, default_value_t = 2)]
    threads: usize,
}

fn parse_fail_status(text: &str) -> Result<u16, String> {
    match text {
        "500" => Ok(500),
        "403" => Ok(403),
        _ => Err("must be 500 or 403".to_string()),
    }
}

fn split_assignment(text: &str) -> Result<(&str, &str)> {
    match text.split_once('=') {
        Some((name, value)) if !name.is_empty() => Ok((name, value)),
        _ => bail!("{text:?} is not BUCKET=VALUE"),
    }
}

fn build_lab(args: &ServeArgs) -> Result<Lab> {
    let mut lab = Lab::default();
    for item in &args.fs_buckets {
        let (name, dir) = split_assignment(item)?;
        lab.add(Arc::new(fsbucket::FsBucket::load(name, dir.as_ref())?));
    }
    for item in &args.org_buckets {
        let (name, spec) = split_assignment(item)?;
        let spec = OrgSpec::parse(spec).with_context(|| format!("--org {name}"))?;
        let bucket = org::OrgBucket::new(name, &spec);
        eprintln!(
            "s3lab: bucket {name}: {} virtual objects",
            bucket.total_keys()
        );
        lab.add(Arc::new(bucket));
    }
    for name in &args.mem_buckets {
        lab.add(Arc::new(membucket::MemBucket::new(name, true)));
    }
    for name in &args.mem_unconditional {
        lab.add(Arc::new(membucket::MemBucket::new(name, false)));
    }
    if lab.is_empty() {
        bail!("give at least one --fs BUCKET=DIR, --org BUCKET=SPEC or --mem BUCKET");
    }
    Ok(lab)
}

fn serve(args: ServeArgs) -> Result<()> {
    if !(0.0..=1.0).contains(&args.slowdown_rate) {
        bail!("--slowdown-rate must be in [0, 1]");
    }
    let lab = build_lab(&args)?;
    let injector = Injector::new(InjectConfig {
        latency_ms: args.latency_ms,
        jitter_ms: args.latency_jitter_ms,
        slowdown_rate: args.slowdown_rate,
        max_consecutive: args.slowdown_max_consecutive,
        seed: args.seed,
        fail_list: args.fail_list.clone(),
        fail_status: args.fail_list_status,
    });
    let log = args
        .request_log
        .as_deref()
        .map(reqlog::RequestLog::open)
        .transpose()?;
    let mut builder = S3ServiceBuilder::new(lab);
    if let Some(secret) = &args.verify_secret {
        builder.set_auth(s3api::AnyAccessKey(secret.clone()));
    }
    let front = Front {
        s3: builder.build(),
        shared: Arc::new(Shared::new(injector, log)),
        verify_signatures: args.verify_secret.is_some(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .thread_name("s3lab")
        .enable_all()
        .build()?;
    runtime.block_on(server::run(
        args.addr,
        args.port_file.as_deref(),
        args.max_seconds,
        front,
    ))?;
    // Connections may still be open: leave without waiting for them.
    std::process::exit(0)
}

fn gen_org(spec: &str, out: &std::path::Path) -> Result<()> {
    let spec = OrgSpec::parse(spec)?;
    let (objects, bytes) = gen::write_org(&spec, out)?;
    println!(
        "wrote {objects} objects, {bytes} bytes under {}",
        out.display()
    );
    Ok(())
}

fn main() -> Result<()> {
    let cli = Cli::parse();
    match (cli.command, cli.gen_org, cli.out) {
        (Some(Command::Serve(args)), None, None) => serve(*args),
        (Some(Command::GenOrg { spec, out }), None, None) => gen_org(&spec, &out),
        (None, Some(spec), Some(out)) => gen_org(&spec, &out),
        _ => bail!("use `s3lab serve …`, `s3lab gen-org SPEC --out DIR` or `s3lab --gen-org SPEC --out DIR`"),
    }
}
