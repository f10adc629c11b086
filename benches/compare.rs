//! The same job done by this provider and by hashicorp/aws, measured side
//! by side against the local EC2 emulator: N pairs of a security group
//! (two ingress rules) and an interface endpoint, applied, planned with
//! refresh, changed in place (a tag on every resource), and destroyed.
//! Then the zone job (`compare/zone.rs`): a private hosted zone over a hub
//! VPC and two spokes, aliased to the hub's endpoint, added, planned,
//! tagged and taken out.
//! The pairs fill VPCs of 50 (EC2's default quota of interface endpoints
//! per VPC), with private DNS off (a VPC holds one endpoint with private
//! DNS on per service name): a setup AWS would take.
//!
//!     TF_AWS_PROVIDER_MIRROR=<mirror holding hashicorp/aws> cargo bench --bench compare
//!
//! Options through the environment: BENCH_SIZES (default "1,20,100"),
//! BENCH_RUNS (runs per size and provider, default 3; sizes of 100 and more
//! run once), BENCH_LATENCIES (milliseconds the proxy adds to every AWS
//! call, one table block each; default "0,150": a real region answers EC2
//! in roughly 100-300 ms), BENCH_JOBS (default "pairs,zone"),
//! BENCH_ZONE_RUNS (runs of the zone job per latency and provider, default
//! BENCH_RUNS: hashicorp/aws waits 10-30 s before its first look at each
//! Route 53 change, so one run takes minutes), BENCH_OUT (where to write the Markdown table;
//! default stdout only). For each size and provider it prints the median
//! wall time of apply, plan, update and destroy, the peak RSS of one
//! provider process, and EC2 calls by action (counted at a proxy in front of the emulator), then the
//! ratios ours/theirs. Start-up is measured too: the time from exec to the
//! plugin handshake, and ten `terraform plan` runs of a configuration with
//! only the provider block, next to one with a single `terraform_data`
//! resource and no provider.

#[path = "../tests/support/mod.rs"]
mod support;
#[path = "compare/zone.rs"]
mod zone;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use support::emulator::{create_group, create_network};
use support::proxy::Proxy;
use support::{Emulator, Workspace};

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Debug)]
enum Side {
    Ours,
    Theirs,
}

impl Side {
    fn name(self) -> &'static str {
        match self {
            Side::Ours => "planetscale",
            Side::Theirs => "hashicorp/aws",
        }
    }
    /// How the provider's binary is named, to find its processes.
    fn binary_marker(self) -> &'static str {
        match self {
            Side::Ours => "terraform-provider-planetscale",
            Side::Theirs => "terraform-provider-aws",
        }
    }
}

#[derive(Default, Clone)]
struct Measured {
    wall: Vec<Duration>,
    peak_rss_kib: u64,
    calls: BTreeMap<String, u64>,
    /// The first run's AWS calls: action, when it came and when it was
    /// answered, from the first call.
    timeline: Vec<(String, Duration, Option<Duration>)>,
}

impl Measured {
    /// Runs one step (`terraform` with `args`) and adds its wall time and
    /// peak RSS; on the first run, also the AWS calls the proxy saw.
    fn step(
        &mut self,
        ws: &Workspace,
        args: &[&str],
        side: Side,
        proxy: &Proxy,
        first: bool,
    ) -> (Duration, u64) {
        proxy.reset_counts();
        let (wall, rss) = measure(ws, args, side);
        self.wall.push(wall);
        self.peak_rss_kib = self.peak_rss_kib.max(rss);
        if first {
            self.timeline = proxy.timeline();
            self.calls = proxy
                .counts()
                .into_iter()
                .filter(|(a, _)| a != "GetCallerIdentity")
                .collect();
        }
        (wall, rss)
    }
}

/// Runs a terraform command while sampling the peak RSS of the provider's
/// processes (VmHWM of each, the largest one).
fn measure(ws: &Workspace, args: &[&str], side: Side) -> (Duration, u64) {
    let stop = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(Mutex::new(0u64));
    let sampler = {
        let (stop, peak) = (stop.clone(), peak.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                for rss in provider_rss(side.binary_marker()) {
                    let mut p = peak.lock().unwrap();
                    *p = (*p).max(rss);
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        })
    };
    let started = Instant::now();
    ws.ok(args);
    let wall = started.elapsed();
    stop.store(true, Ordering::Relaxed);
    sampler.join().unwrap();
    let peak = *peak.lock().unwrap();
    (wall, peak)
}

/// VmHWM (KiB) of every running process whose command line names `marker`
/// and that this benchmark started (through `terraform`): providers of
/// other processes on the machine, such as a test run's debug builds, are
/// not counted.
fn provider_rss(marker: &str) -> Vec<u64> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return out;
    };
    let me = std::process::id();
    for entry in entries.flatten() {
        let dir = entry.path();
        let Ok(cmdline) = std::fs::read(dir.join("cmdline")) else {
            continue;
        };
        let first = cmdline.split(|b| *b == 0).next().unwrap_or_default();
        if !String::from_utf8_lossy(first).contains(marker) {
            continue;
        }
        let pid = entry.file_name().to_str().and_then(|p| p.parse().ok());
        if !pid.is_some_and(|pid| descends_from(pid, me)) {
            continue;
        }
        if let Ok(status) = std::fs::read_to_string(dir.join("status"))
            && let Some(kib) = status
                .lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        {
            out.push(kib);
        }
    }
    out
}

/// Whether process `pid` is a descendant of process `ancestor`, by the
/// parent ids in /proc.
fn descends_from(mut pid: u32, ancestor: u32) -> bool {
    // A process tree here is a few levels deep: bench, terraform, provider.
    for _ in 0..16 {
        let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
            return false;
        };
        // "pid (comm) state ppid ...": comm may hold spaces and parentheses.
        let Some(parent) = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1))
            .and_then(|p| p.parse::<u32>().ok())
        else {
            return false;
        };
        if parent == ancestor {
            return true;
        }
        if parent <= 1 {
            return false;
        }
        pid = parent;
    }
    false
}

/// Interface endpoints per VPC (EC2's default quota).
const PER_VPC: usize = 50;

/// One VPC of the benchmark: two subnets and the application's group.
struct Network {
    vpc: String,
    subnets: Vec<String>,
    app_group: String,
}

struct Fixture {
    networks: Vec<Network>,
    service: String,
}

impl Fixture {
    /// `locals` naming each VPC, its subnets and its application group, for
    /// pair `i` to take the VPC `floor(i / 50)`.
    fn locals(&self) -> String {
        let list = |f: &dyn Fn(&Network) -> String| {
            self.networks.iter().map(f).collect::<Vec<_>>().join(", ")
        };
        format!(
            "locals {{\n  vpcs    = [{}]\n  subnets = [{}]\n  apps    = [{}]\n}}\n",
            list(&|n| format!("\"{}\"", n.vpc)),
            list(&|n| format!("[\"{}\", \"{}\"]", n.subnets[0], n.subnets[1])),
            list(&|n| format!("\"{}\"", n.app_group)),
        )
    }
}

/// The configuration of `n` pairs; `tag`, when given, is a tag on every
/// resource (the in-place update the benchmark measures).
fn config(side: Side, n: usize, f: &Fixture, tag: Option<&str>) -> String {
    let locals = f.locals();
    let tags = tag.map_or(String::new(), |t| {
        format!("  tags = {{ bench = \"{t}\" }}\n")
    });
    match side {
        Side::Ours => format!(
            r#"{}provider "planetscale" {{
  region = "us-east-1"
}}

{locals}
resource "planetscale_privatelink_security_group" "db" {{
  count                      = {n}
  vpc_id                     = local.vpcs[floor(count.index / {PER_VPC})]
  allowed_security_group_ids = [local.apps[floor(count.index / {PER_VPC})]]
{tags}}}

resource "planetscale_privatelink_endpoint" "db" {{
  count               = {n}
  service_name        = "{service}"
  vpc_id              = local.vpcs[floor(count.index / {PER_VPC})]
  subnet_ids          = local.subnets[floor(count.index / {PER_VPC})]
  security_group_ids  = [planetscale_privatelink_security_group.db[count.index].id]
  private_dns_enabled = false
{tags}}}
"#,
            Workspace::required_providers(false),
            service = f.service,
        ),
        Side::Theirs => format!(
            r#"{header}
{locals}
resource "aws_security_group" "db" {{
  count  = {n}
  vpc_id = local.vpcs[floor(count.index / {PER_VPC})]

  ingress {{
    from_port       = 5432
    to_port         = 5432
    protocol        = "tcp"
    security_groups = [local.apps[floor(count.index / {PER_VPC})]]
  }}

  ingress {{
    from_port       = 6432
    to_port         = 6432
    protocol        = "tcp"
    security_groups = [local.apps[floor(count.index / {PER_VPC})]]
  }}
{tags}}}

resource "aws_vpc_endpoint" "db" {{
  count               = {n}
  vpc_endpoint_type   = "Interface"
  service_name        = "{service}"
  vpc_id              = local.vpcs[floor(count.index / {PER_VPC})]
  subnet_ids          = local.subnets[floor(count.index / {PER_VPC})]
  security_group_ids  = [aws_security_group.db[count.index].id]
  private_dns_enabled = false
{tags}}}
"#,
            header = AWS_HEADER,
            service = f.service,
        ),
    }
}

/// The start of every hashicorp/aws configuration: the provider, from the
/// mirror, in the benchmark's region.
const AWS_HEADER: &str = r#"terraform {
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

provider "aws" {
  region = "us-east-1"
}
"#;

/// The steps measured, in the order they run: a create, a refreshing plan
/// with nothing to change, an in-place change (a tag on every resource),
/// and a destroy.
const STEPS: [&str; 4] = ["apply", "plan", "update", "destroy"];

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v.get(v.len() / 2).copied().unwrap_or_default()
}

fn secs(d: Duration) -> String {
    format!("{:.2} s", d.as_secs_f64())
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

fn ratio(ours: f64, theirs: f64) -> String {
    if theirs == 0.0 {
        "-".into()
    } else {
        format!("1/{:.0}", theirs / ours.max(f64::MIN_POSITIVE))
    }
}

fn calls_text(calls: &BTreeMap<String, u64>) -> String {
    let total: u64 = calls.values().sum();
    let by: Vec<String> = calls.iter().map(|(a, n)| format!("{a} {n}")).collect();
    format!("{total} ({})", by.join(", "))
}

/// How long the binary takes from exec to its handshake line (when
/// Terraform can connect), median of 20 starts.
fn handshake(table: &mut String) {
    let client = support::plugin::client_identity();
    let runs: Vec<Duration> = (0..20)
        .map(|_| {
            let started = Instant::now();
            let launched = support::plugin::launch(&client.pem);
            let elapsed = started.elapsed();
            assert!(
                launched.handshake.starts_with("1|6|tcp|"),
                "handshake: {}",
                launched.handshake
            );
            elapsed
        })
        .collect();
    table.push_str(&format!(
        "\n**Handshake:** from exec to the handshake line (certificate made, port open), median of 20 starts: {:.1} ms.\n",
        median(runs).as_secs_f64() * 1000.0
    ));
}

/// Ten plans of a provider-only configuration, next to a configuration
/// with one terraform_data resource and no provider.
fn startup(table: &mut String) {
    let time_plans = |ws: &Workspace| {
        let runs: Vec<Duration> = (0..10)
            .map(|_| {
                let started = Instant::now();
                ws.ok(&["plan", "-input=false", "-no-color"]);
                started.elapsed()
            })
            .collect();
        median(runs)
    };
    let ours = Workspace::new(None).without_logs();
    ours.write(
        "main.tf",
        &format!(
            "{}provider \"planetscale\" {{\n  region = \"us-east-1\"\n}}\n",
            Workspace::required_providers(false)
        ),
    );
    ours.init();
    let bare = Workspace::new(None).without_logs();
    bare.write("main.tf", "resource \"terraform_data\" \"x\" {}\n");
    bare.init();
    let (with_provider, without) = (time_plans(&ours), time_plans(&bare));
    table.push_str(&format!(
        "\n**Start-up:** median of 10 `terraform plan` runs of a configuration holding only the provider block: {}; \
         of one holding a single `terraform_data` resource and no provider: {}.\n",
        secs(with_provider),
        secs(without)
    ));
}

fn main() {
    // `cargo bench` passes --bench; nothing else is accepted.
    let sizes: Vec<usize> = std::env::var("BENCH_SIZES")
        .unwrap_or_else(|_| "1,20,100".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(3);
    let latencies: Vec<u64> = std::env::var("BENCH_LATENCIES")
        .unwrap_or_else(|_| "0,150".into())
        .split(',')
        .filter_map(|s| s.trim().parse().ok())
        .collect();
    let jobs: Vec<String> = std::env::var("BENCH_JOBS")
        .unwrap_or_else(|_| "pairs,zone".into())
        .split(',')
        .map(|j| j.trim().to_owned())
        .filter(|j| !j.is_empty())
        .collect();
    for job in &jobs {
        assert!(
            job == "pairs" || job == "zone",
            "BENCH_JOBS names {job:?}: the jobs are \"pairs\" and \"zone\""
        );
    }
    assert!(
        !jobs.is_empty(),
        "BENCH_JOBS names no job: the jobs are \"pairs\" and \"zone\""
    );
    let (pairs, zones) = (
        jobs.iter().any(|j| j == "pairs"),
        jobs.iter().any(|j| j == "zone"),
    );
    let sizes: Vec<usize> = if pairs { sizes } else { Vec::new() };
    let zone_runs: usize = std::env::var("BENCH_ZONE_RUNS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(runs);
    assert!(
        std::env::var("TF_AWS_PROVIDER_MIRROR").is_ok_and(|m| !m.is_empty()),
        "set TF_AWS_PROVIDER_MIRROR to a filesystem mirror holding hashicorp/aws"
    );

    let emulator = Emulator::shared();
    let proxy = Proxy::start(&emulator.url);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let ec2 = emulator.ec2();
    let vpcs = sizes.iter().max().copied().unwrap_or(0).div_ceil(PER_VPC);
    let networks = (0..vpcs)
        .map(|i| {
            let net = rt.block_on(create_network(
                &ec2,
                90 + i as u8,
                &["us-east-1a", "us-east-1b"],
            ));
            let app_group = rt.block_on(create_group(&ec2, &net.vpc_id, &format!("bench-app-{i}")));
            Network {
                vpc: net.vpc_id,
                subnets: net.subnet_ids,
                app_group,
            }
        })
        .collect();
    let fixture = Fixture {
        networks,
        service: emulator.create_endpoint_service(None),
    };

    let zone_fixture = zones.then(|| zone::Fixture::new(emulator, &rt));

    let mut results: BTreeMap<(u64, usize, Side, &'static str), Measured> = BTreeMap::new();
    let mut zone_results = BTreeMap::new();
    for &latency in &latencies {
        proxy.set_faults(support::proxy::Faults {
            latency: Duration::from_millis(latency),
            ..Default::default()
        });
        if let Some(f) = &zone_fixture {
            zone_results.insert(latency, zone::run(f, &proxy, latency, zone_runs));
        }
        for &n in &sizes {
            for side in [Side::Ours, Side::Theirs] {
                let ws = Workspace::new(Some(&proxy.url)).without_logs();
                ws.write("main.tf", &config(side, n, &fixture, None));
                ws.init();
                let repeats = if n >= 100 { 1 } else { runs };
                for run in 0..repeats {
                    ws.write("main.tf", &config(side, n, &fixture, None));
                    for (step, args) in [
                        (
                            "apply",
                            vec!["apply", "-auto-approve", "-input=false", "-no-color"],
                        ),
                        ("plan", vec!["plan", "-input=false", "-no-color"]),
                        (
                            "update",
                            vec!["apply", "-auto-approve", "-input=false", "-no-color"],
                        ),
                        (
                            "destroy",
                            vec!["destroy", "-auto-approve", "-input=false", "-no-color"],
                        ),
                    ] {
                        if step == "update" {
                            ws.write("main.tf", &config(side, n, &fixture, Some("updated")));
                        }
                        let (wall, rss) = results
                            .entry((latency, n, side, step))
                            .or_default()
                            .step(&ws, &args, side, &proxy, run == 0);
                        eprintln!(
                            "+{latency} ms N={n} {} {step} run {}: {}, peak RSS {}",
                            side.name(),
                            run + 1,
                            secs(wall),
                            mib(rss)
                        );
                    }
                }
            }
        }
    }

    let mut table = if pairs {
        String::from(
            "| latency | N | step | planetscale | hashicorp/aws | ratio | EC2 calls (planetscale) | EC2 calls (hashicorp/aws) |\n\
             |---|---|---|---|---|---|---|---|\n",
        )
    } else {
        String::new()
    };
    let mut peak = BTreeMap::new();
    for &latency in &latencies {
        for &n in &sizes {
            for step in STEPS {
                let [ours, theirs] =
                    [Side::Ours, Side::Theirs].map(|side| &results[&(latency, n, side, step)]);
                table.push_str(&format!("| +{latency} ms | {n} | {step} | "));
                compared(&mut table, &mut peak, ours, theirs);
            }
        }
    }
    // One pair's calls at the highest latency, as they went: a call that
    // starts when another is answered waited for it.
    if let (Some(&latency), Some(&n)) = (latencies.iter().max(), sizes.iter().min()) {
        table.push_str(&format!(
            "\n**One pair's AWS calls at +{latency} ms (N={n}), as they went** (seconds from the first call; \
             calls that overlap went out together):\n"
        ));
        for side in [Side::Ours, Side::Theirs] {
            for step in STEPS {
                timeline_text(&mut table, side, step, &results[&(latency, n, side, step)]);
            }
        }
    }
    if !zone_results.is_empty() {
        table.push_str(
            "\n**The zone job** (a private hosted zone over a hub VPC and two spokes, aliased to the hub's \
             endpoint; the endpoint exists before and after): the zone added, planned, tagged, and taken out. The \
             strict layer keeps each Route 53 change PENDING for 1.5 s: a wait ends at its first look (this \
             provider: after 2 s, once for all of an operation's changes; hashicorp/aws: after 10-30 s, random, \
             for each change it waits on).\n\n\
             | latency | step | planetscale | hashicorp/aws | ratio | AWS calls (planetscale) | AWS calls (hashicorp/aws) |\n\
             |---|---|---|---|---|---|---|\n",
        );
        for (latency, by) in &zone_results {
            for step in zone::STEPS {
                let [ours, theirs] = [Side::Ours, Side::Theirs].map(|side| &by[&(side, step)]);
                table.push_str(&format!("| +{latency} ms | {step} | "));
                compared(&mut table, &mut peak, ours, theirs);
            }
        }
        if let Some((latency, by)) = zone_results.iter().next_back() {
            table.push_str(&format!(
                "\n**The zone job's AWS calls at +{latency} ms, as they went:**\n"
            ));
            for side in [Side::Ours, Side::Theirs] {
                for step in zone::STEPS {
                    timeline_text(&mut table, side, step, &by[&(side, step)]);
                }
            }
        }
    }
    let (po, pt) = (peak[&Side::Ours], peak[&Side::Theirs]);
    table.push_str(&format!(
        "\n**Peak RSS of one provider process:** planetscale {}, hashicorp/aws {} ({}).\n",
        mib(po),
        mib(pt),
        ratio(po as f64, pt as f64)
    ));
    let ours_size = std::fs::metadata(env!("CARGO_BIN_EXE_terraform-provider-planetscale"))
        .map(|m| m.len())
        .unwrap_or(0);
    let theirs_size = find_aws_binary()
        .and_then(|p| std::fs::metadata(p).ok())
        .map(|m| m.len())
        .unwrap_or(0);
    table.push_str(&format!(
        "\n**Binary size:** planetscale {}, hashicorp/aws {} ({}).\n",
        mib(ours_size / 1024),
        mib(theirs_size / 1024),
        ratio(ours_size as f64, theirs_size as f64)
    ));
    handshake(&mut table);
    startup(&mut table);
    println!("{table}");
    if let Ok(path) = std::env::var("BENCH_OUT") {
        std::fs::write(&path, &table).expect("write BENCH_OUT");
        eprintln!("table written to {path}");
    }
}

/// The rest of a table row, both sides' medians, their ratio and their AWS
/// calls; and both sides' peak RSS kept in `peak`.
fn compared(
    table: &mut String,
    peak: &mut BTreeMap<Side, u64>,
    ours: &Measured,
    theirs: &Measured,
) {
    let (o, t) = (median(ours.wall.clone()), median(theirs.wall.clone()));
    table.push_str(&format!(
        "{} | {} | {} | {} | {} |\n",
        secs(o),
        secs(t),
        ratio(o.as_secs_f64(), t.as_secs_f64()),
        calls_text(&ours.calls),
        calls_text(&theirs.calls)
    ));
    for (side, m) in [(Side::Ours, ours), (Side::Theirs, theirs)] {
        let p = peak.entry(side).or_insert(0u64);
        *p = (*p).max(m.peak_rss_kib);
    }
}

/// One run's AWS calls as they went: when each came and was answered,
/// seconds from the first call.
fn timeline_text(table: &mut String, side: Side, step: &str, m: &Measured) {
    table.push_str(&format!(
        "\n{} {step}, {} calls:\n\n",
        side.name(),
        m.timeline.len()
    ));
    for (action, came, answered) in &m.timeline {
        let answered = answered.map_or("-".to_owned(), |a| format!("{:.2}", a.as_secs_f64()));
        table.push_str(&format!(
            "    {:>6.2} {:>6}  {action}\n",
            came.as_secs_f64(),
            answered
        ));
    }
}

fn find_aws_binary() -> Option<PathBuf> {
    let mirror = PathBuf::from(std::env::var("TF_AWS_PROVIDER_MIRROR").ok()?);
    fn walk(dir: &std::path::Path) -> Option<PathBuf> {
        for entry in std::fs::read_dir(dir).ok()?.flatten() {
            let path = entry.path();
            if path.is_dir() {
                if let Some(found) = walk(&path) {
                    return Some(found);
                }
            } else if path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("terraform-provider-aws"))
            {
                return Some(path);
            }
        }
        None
    }
    walk(&mirror.join("registry.terraform.io/hashicorp/aws"))
}
