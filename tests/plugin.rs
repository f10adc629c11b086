//! The binary as Terraform's plugin host sees it: refusal when run bare,
//! the handshake line, and AutoMTLS that admits only Terraform's client
//! certificate.

use crate::support;

use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::Arc;

use base64::Engine as _;
use hyper_util::rt::TokioIo;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use support::plugin::{ClientIdentity, Launched, binary, client_identity, launch};
use terraform_provider_planetscale::plugin::{MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE};
use terraform_provider_planetscale::protocol::tfplugin6 as pb;
use tokio_rustls::TlsConnector;

#[test]
fn run_bare_it_says_it_is_a_terraform_plugin() {
    let out = binary().env_remove(MAGIC_COOKIE_KEY).output().unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("plugin for Terraform"), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "nothing may reach stdout: {:?}",
        out.stdout
    );
}

#[test]
fn it_refuses_a_protocol_it_does_not_speak() {
    let out = binary()
        .env(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5")
        .env("PLUGIN_CLIENT_CERT", "x")
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("version 6"));
}

/// The started plugin: its process and what its handshake line announced.
struct Started {
    launched: Launched,
    addr: String,
    server_cert: CertificateDer<'static>,
}

fn start(client_pem: &str) -> Started {
    started(launch(client_pem))
}

/// What `launched` announced in its handshake line, checked.
fn started(launched: Launched) -> Started {
    let line = &launched.handshake;
    let fields: Vec<&str> = line.trim_end().split('|').collect();
    assert_eq!(fields.len(), 6, "handshake: {line}");
    assert_eq!(&fields[..3], &["1", "6", "tcp"]);
    assert!(fields[3].starts_with("127.0.0.1:"), "loopback only: {line}");
    assert_eq!(fields[4], "grpc");
    let der = base64::engine::general_purpose::STANDARD_NO_PAD
        .decode(fields[5])
        .expect("unpadded base64 DER");
    Started {
        addr: fields[3].to_owned(),
        server_cert: CertificateDer::from(der),
        launched,
    }
}

/// Trusts exactly the certificate from the handshake, as go-plugin does.
#[derive(Debug)]
struct Pinned(CertificateDer<'static>);

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == self.0.as_ref() {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "unexpected server certificate".into(),
            ))
        }
    }
    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms;
        rustls::crypto::verify_tls12_signature(m, c, d, &algs)
    }
    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        let algs = rustls::crypto::aws_lc_rs::default_provider().signature_verification_algorithms;
        rustls::crypto::verify_tls13_signature(m, c, d, &algs)
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        rustls::crypto::aws_lc_rs::default_provider()
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// TLS as Terraform speaks it to the plugin: HTTP/2, trusting only the
/// handshake's certificate, presenting `identity` (or no certificate).
fn connector(started: &Started, identity: Option<&ClientIdentity>) -> TlsConnector {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let builder = rustls::ClientConfig::builder()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Pinned(started.server_cert.clone())));
    let mut config = match identity {
        Some(id) => builder
            .with_client_auth_cert(vec![id.cert.clone()], id.key.clone_key())
            .unwrap(),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"h2".to_vec()];
    TlsConnector::from(Arc::new(config))
}

/// A gRPC channel to the started plugin over TLS, trusting only the
/// handshake's certificate and presenting `identity` (or none).
async fn channel(
    started: &Started,
    identity: Option<&ClientIdentity>,
) -> Result<tonic::transport::Channel, String> {
    let connector = connector(started, identity);
    let addr = started.addr.clone();
    tonic::transport::Endpoint::try_from("http://localhost")
        .unwrap()
        .connect_with_connector(tower::service_fn(move |_| {
            let (connector, addr) = (connector.clone(), addr.clone());
            async move {
                let tcp = tokio::net::TcpStream::connect(addr).await?;
                let tls = connector
                    .connect(ServerName::try_from("localhost").unwrap(), tcp)
                    .await?;
                Ok::<_, std::io::Error>(TokioIo::new(tls))
            }
        }))
        .await
        .map_err(|e| format!("connect: {e:?}"))
}

async fn get_schema(
    started: &Started,
    identity: Option<&ClientIdentity>,
) -> Result<pb::get_provider_schema::Response, String> {
    pb::provider_client::ProviderClient::new(channel(started, identity).await?)
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .map(|r| r.into_inner())
        .map_err(|e| format!("rpc: {e:?}"))
}

#[tokio::test]
async fn terraforms_client_certificate_is_admitted() {
    let identity = client_identity();
    let started = start(&identity.pem);
    let schema = get_schema(&started, Some(&identity))
        .await
        .expect("schema over mutual TLS");
    assert!(
        schema
            .resource_schemas
            .contains_key("planetscale_privatelink_endpoint")
    );
}

#[tokio::test]
async fn a_client_without_a_certificate_is_refused() {
    let identity = client_identity();
    let started = start(&identity.pem);
    let err = get_schema(&started, None)
        .await
        .expect_err("no certificate must be refused");
    assert!(!err.is_empty());
}

#[tokio::test]
async fn a_client_with_another_certificate_is_refused() {
    let announced = client_identity();
    let stranger = client_identity();
    let started = start(&announced.pem);
    get_schema(&started, Some(&stranger))
        .await
        .expect_err("another certificate must be refused");
    // The server still serves the right client afterwards.
    get_schema(&started, Some(&announced))
        .await
        .expect("still serving");
}

#[test]
fn shutdown_through_the_controller_exits_cleanly() {
    let identity = client_identity();
    let mut started = start(&identity.pem);
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let channel = channel(&started, Some(&identity)).await.unwrap();
        use terraform_provider_planetscale::protocol::goplugin;
        goplugin::grpc_controller_client::GrpcControllerClient::new(channel)
            .shutdown(goplugin::Empty {})
            .await
            .unwrap();
    });
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        if let Some(status) = started.launched.child.try_wait().unwrap() {
            assert!(status.success(), "exit status {status}");
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the provider did not exit after Shutdown"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

#[tokio::test]
async fn debug_mode_prints_a_reattach_config_that_works() {
    let mut child = binary()
        .arg("--debug")
        .env_remove(MAGIC_COOKIE_KEY)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut reattach = None;
    for _ in 0..20 {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap() == 0 {
            break;
        }
        if let Some(value) = line.trim().strip_prefix("TF_REATTACH_PROVIDERS='") {
            reattach = Some(value.trim_end_matches('\'').to_owned());
            break;
        }
    }
    let reattach: serde_json::Value =
        serde_json::from_str(&reattach.expect("TF_REATTACH_PROVIDERS line")).unwrap();
    let entry = &reattach["registry.terraform.io/privatelink/planetscale"];
    assert_eq!(entry["ProtocolVersion"], 6);
    assert_eq!(entry["Pid"], child.id());
    let addr = entry["Addr"]["String"].as_str().unwrap().to_owned();
    let channel = tonic::transport::Endpoint::try_from(format!("http://{addr}"))
        .unwrap()
        .connect()
        .await
        .unwrap();
    let schema = pb::provider_client::ProviderClient::new(channel)
        .get_provider_schema(pb::get_provider_schema::Request {})
        .await
        .unwrap()
        .into_inner();
    assert!(schema.provider.is_some());
    child.kill().unwrap();
    child.wait().unwrap();
}

// ---------------------------------------------------------------- signals --
//
// A signal stops work in flight as StopProvider does; the process keeps
// serving until Terraform shuts it down, and ends on its own only at the
// grace deadline, after a second signal, or when Terraform is gone.

fn send(pid: u32, signal: libc::c_int) {
    // SAFETY: kill(2) on a child of this test.
    assert_eq!(unsafe { libc::kill(pid as libc::pid_t, signal) }, 0);
}

/// Whether `pid` still runs (a zombie waiting to be reaped does not).
fn running(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .ok()
        .and_then(|stat| {
            let state = stat
                .rsplit_once(')')?
                .1
                .split_whitespace()
                .next()?
                .to_owned();
            Some(state != "Z" && state != "X")
        })
        .unwrap_or(false)
}

/// How long `child` takes to exit, up to `limit`; its exit status.
fn exit_within(
    child: &mut std::process::Child,
    limit: std::time::Duration,
) -> Option<(std::time::Duration, std::process::ExitStatus)> {
    let started = std::time::Instant::now();
    while started.elapsed() < limit {
        if let Some(status) = child.try_wait().unwrap() {
            return Some((started.elapsed(), status));
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    None
}

#[test]
fn after_a_signal_it_keeps_serving_until_terraform_shuts_it_down() {
    let identity = client_identity();
    let mut started = start(&identity.pem);
    send(started.launched.child.id(), libc::SIGTERM);
    std::thread::sleep(std::time::Duration::from_secs(1));
    assert!(
        started.launched.child.try_wait().unwrap().is_none(),
        "the provider exited with Terraform still waiting for answers"
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let schema = get_schema(&started, Some(&identity))
            .await
            .expect("still serving after the signal");
        assert!(schema.provider.is_some());
        let channel = channel(&started, Some(&identity)).await.unwrap();
        use terraform_provider_planetscale::protocol::goplugin;
        goplugin::grpc_controller_client::GrpcControllerClient::new(channel)
            .shutdown(goplugin::Empty {})
            .await
            .unwrap();
    });
    let (took, status) = exit_within(
        &mut started.launched.child,
        std::time::Duration::from_secs(5),
    )
    .expect("the provider did not exit after Shutdown");
    eprintln!("after SIGTERM and Shutdown the provider exited in {took:?}");
    assert!(status.success(), "exit status {status}");
}

#[test]
fn a_second_signal_ends_it_within_seconds() {
    let identity = client_identity();
    let mut started = start(&identity.pem);
    let pid = started.launched.child.id();
    send(pid, libc::SIGTERM);
    std::thread::sleep(std::time::Duration::from_millis(200));
    send(pid, libc::SIGINT);
    let (took, _) = exit_within(
        &mut started.launched.child,
        std::time::Duration::from_secs(6),
    )
    .expect("a second signal did not end the provider");
    eprintln!("after a second signal the provider exited in {took:?}");
    assert!(
        took >= std::time::Duration::from_millis(1500),
        "answers in flight get a moment: {took:?}"
    );
}

#[test]
fn without_shutdown_a_signal_ends_it_at_the_grace_deadline() {
    let identity = client_identity();
    let mut started = start(&identity.pem);
    send(started.launched.child.id(), libc::SIGHUP);
    let (took, _) = exit_within(
        &mut started.launched.child,
        std::time::Duration::from_secs(30),
    )
    .expect("the provider outlived its grace period");
    eprintln!("after one SIGHUP and no Shutdown the provider exited in {took:?}");
    assert!(
        took >= std::time::Duration::from_secs(19) && took < std::time::Duration::from_secs(23),
        "{took:?}"
    );
}

/// The provider launched with `ignored` set to SIG_IGN, as `nohup` (SIGHUP)
/// or a non-interactive shell's background job (SIGINT) would.
fn launch_ignoring(pem: &str, ignored: libc::c_int) -> Launched {
    support::plugin::launch_with(pem, |command| {
        use std::os::unix::process::CommandExt as _;
        // SAFETY: signal(2) is async-signal-safe; this runs between fork
        // and exec, after the harness's reset to the defaults.
        unsafe {
            command.pre_exec(move || {
                libc::signal(ignored, libc::SIG_IGN);
                Ok(())
            });
        }
    })
}

#[test]
fn a_hang_up_ignored_at_start_stays_ignored() {
    // Terraform under nohup survives a hang-up; its provider must too.
    let identity = client_identity();
    let mut launched = launch_ignoring(&identity.pem, libc::SIGHUP);
    for _ in 0..3 {
        send(launched.child.id(), libc::SIGHUP);
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // Handled, a second SIGHUP would have ended it within two seconds.
    assert!(
        exit_within(&mut launched.child, std::time::Duration::from_secs(4)).is_none(),
        "SIGHUP was ignored when the provider started, as under nohup"
    );
}

#[test]
fn an_interrupt_ignored_at_start_is_answered_as_terraform_answers_it() {
    // Terraform takes SIGINT back from an ignored start (Go's signal.Notify
    // does), so its provider answers it too: two end it within seconds.
    let identity = client_identity();
    let mut launched = launch_ignoring(&identity.pem, libc::SIGINT);
    let pid = launched.child.id();
    send(pid, libc::SIGINT);
    std::thread::sleep(std::time::Duration::from_millis(200));
    send(pid, libc::SIGINT);
    let (took, _) = exit_within(&mut launched.child, std::time::Duration::from_secs(6))
        .expect("SIGINT, ignored at start, was not answered");
    eprintln!("SIGINT ignored at start, then sent twice: the provider exited in {took:?}");
}

#[test]
fn it_ends_soon_after_terraform_is_gone() {
    let identity = client_identity();
    // A stand-in for Terraform that starts the provider and exits without
    // a word to it, as a killed Terraform would.
    let mut parent = support::processes::command("sh")
        .args(["-c", "\"$0\" & echo \"$!\"; sleep 2"])
        .arg(env!("CARGO_BIN_EXE_terraform-provider-planetscale"))
        .env(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "6")
        .env("PLUGIN_CLIENT_CERT", &identity.pem)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(parent.stdout.take().unwrap()).lines();
    let mut pid = None;
    for line in lines.by_ref().take(2) {
        let line = line.unwrap();
        if let Ok(p) = line.trim().parse::<u32>() {
            pid = Some(p);
        }
    }
    let pid = pid.expect("the provider's pid");
    assert!(running(pid), "the provider started");
    parent.wait().unwrap();
    let gone = std::time::Instant::now();
    while running(pid) {
        assert!(
            gone.elapsed() < std::time::Duration::from_secs(5),
            "the provider outlived Terraform by more than 5 s"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    eprintln!(
        "with Terraform gone the provider exited in {:?}",
        gone.elapsed()
    );
}

// --------------------------------------------------------------- listener --
//
// Clients that misbehave cost the listener a bounded amount: a connection
// that never finishes its TLS handshake is dropped after a while and holds
// up no one meanwhile, and running out of descriptors slows the accept
// loop down instead of spinning it.

#[tokio::test]
async fn a_client_that_sends_nothing_is_dropped_and_holds_up_no_one() {
    use terraform_provider_planetscale::plugin::HANDSHAKE_TIMEOUT;
    use tokio::io::AsyncReadExt as _;

    let identity = client_identity();
    let started = start(&identity.pem);
    let mut silent = tokio::net::TcpStream::connect(&started.addr).await.unwrap();
    let connected = std::time::Instant::now();
    get_schema(&started, Some(&identity))
        .await
        .expect("Terraform is served while a silent client waits");
    let mut buf = [0u8; 1];
    let read = tokio::time::timeout(
        HANDSHAKE_TIMEOUT + std::time::Duration::from_secs(10),
        silent.read(&mut buf),
    )
    .await
    .expect("the silent connection was never closed");
    let took = connected.elapsed();
    assert!(matches!(read, Ok(0) | Err(_)), "{read:?}");
    eprintln!("a client that sent nothing was dropped after {took:?}");
    assert!(
        took >= HANDSHAKE_TIMEOUT - std::time::Duration::from_millis(500)
            && took < HANDSHAKE_TIMEOUT + std::time::Duration::from_secs(5),
        "{took:?}"
    );
}

/// The descriptors `pid` has open.
fn open_descriptors(pid: u32) -> u64 {
    std::fs::read_dir(format!("/proc/{pid}/fd"))
        .unwrap()
        .count() as u64
}

/// The CPU time `pid` has used, user and system, in clock ticks.
fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .unwrap()
        .1
        .split_whitespace()
        .collect();
    // utime and stime, the 14th and 15th fields; the 3rd is fields[0].
    fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
}

#[test]
fn out_of_descriptors_the_accept_loop_backs_off_and_recovers() {
    let identity = client_identity();
    let mut launched = support::plugin::launch_with(&identity.pem, |command| {
        command
            .env("TF_LOG_PROVIDER", "warn")
            .stderr(Stdio::piped());
    });
    let stderr = launched.child.stderr.take().unwrap();
    let lines = Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let sink = lines.clone();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            sink.lock().unwrap().push(line);
        }
    });
    let plugin = started(launched);
    let pid = plugin.launched.child.id();

    // Room for three more descriptors, then twenty clients that send
    // nothing: three are accepted, the rest wait in the listen queue.
    let limit = open_descriptors(pid) + 3;
    let lowered = libc::rlimit {
        rlim_cur: limit,
        rlim_max: limit,
    };
    // SAFETY: prlimit(2) on a child of this test, with a valid rlimit.
    let set = unsafe {
        libc::prlimit(
            pid as libc::pid_t,
            libc::RLIMIT_NOFILE,
            &lowered,
            std::ptr::null_mut(),
        )
    };
    assert_eq!(set, 0, "prlimit: {}", std::io::Error::last_os_error());
    let silent: Vec<std::net::TcpStream> = (0..20)
        .map(|_| std::net::TcpStream::connect(&plugin.addr).unwrap())
        .collect();

    std::thread::sleep(std::time::Duration::from_millis(500));
    let before = cpu_ticks(pid);
    std::thread::sleep(std::time::Duration::from_secs(2));
    let spent = cpu_ticks(pid) - before;
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as u64;
    eprintln!("out of descriptors, 2 s cost the provider {spent} ticks ({per_second}/s) of CPU");
    assert!(
        spent < per_second / 4,
        "the accept loop spins: {spent} ticks of CPU in 2 s"
    );
    let told: Vec<String> = lines
        .lock()
        .unwrap()
        .iter()
        .filter(|l| l.contains("file descriptors") || l.contains("accept failed"))
        .cloned()
        .collect();
    assert_eq!(told.len(), 1, "said once: {told:#?}");

    // Once the silent clients leave, descriptors come back and Terraform
    // is served again.
    drop(silent);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let schema = rt.block_on(async {
        tokio::time::timeout(
            std::time::Duration::from_secs(10),
            get_schema(&plugin, Some(&identity)),
        )
        .await
    });
    assert!(
        matches!(schema, Ok(Ok(_))),
        "not served after the shortage: {schema:?}"
    );
}

/// A connection that remembers the I/O errors it saw: the TLS alert a
/// server sends reaches hyper as a read error, and tonic's status only says
/// that the connection closed.
struct Recording<S> {
    inner: S,
    errors: Arc<std::sync::Mutex<Vec<String>>>,
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for Recording<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if let std::task::Poll::Ready(Err(e)) = &polled {
            self.errors.lock().unwrap().push(e.to_string());
        }
        polled
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for Recording<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        let polled = std::pin::Pin::new(&mut self.inner).poll_write(cx, buf);
        if let std::task::Poll::Ready(Err(e)) = &polled {
            self.errors.lock().unwrap().push(e.to_string());
        }
        polled
    }
    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }
    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

/// [`channel`], over a connection that records its I/O errors.
async fn recording_channel(
    started: &Started,
    identity: Option<&ClientIdentity>,
) -> (
    tonic::transport::Channel,
    Arc<std::sync::Mutex<Vec<String>>>,
) {
    let connector = connector(started, identity);
    let addr = started.addr.clone();
    let errors = Arc::new(std::sync::Mutex::new(Vec::new()));
    let seen = errors.clone();
    let channel = tonic::transport::Endpoint::try_from("http://localhost")
        .unwrap()
        .connect_with_connector(tower::service_fn(move |_| {
            let (connector, addr, seen) = (connector.clone(), addr.clone(), seen.clone());
            async move {
                let tcp = tokio::net::TcpStream::connect(addr).await?;
                let tls = connector
                    .connect(ServerName::try_from("localhost").unwrap(), tcp)
                    .await
                    .inspect_err(|e| seen.lock().unwrap().push(e.to_string()))?;
                Ok::<_, std::io::Error>(TokioIo::new(Recording {
                    inner: tls,
                    errors: seen,
                }))
            }
        }))
        .await
        .expect("TLS 1.3 completes the client's side before the server judges its certificate");
    (channel, errors)
}

/// One call to each service the plugin serves, over a fresh connection
/// presenting `identity` (or none): the outcome per service, errors with
/// their whole chain of causes.
async fn call_every_service(
    started: &Started,
    identity: Option<&ClientIdentity>,
) -> Vec<(&'static str, Result<(), String>)> {
    use terraform_provider_planetscale::protocol::{goplugin, health};
    let mut out = Vec::new();
    // The outcome, with the connection's I/O errors after the status.
    let outcome = |result: Result<(), tonic::Status>,
                   errors: Arc<std::sync::Mutex<Vec<String>>>| {
        result.map_err(|e| format!("{e:?}; I/O: {:?}", errors.lock().unwrap()))
    };

    let (ch, errors) = recording_channel(started, identity).await;
    let result = pb::provider_client::ProviderClient::new(ch)
        .get_metadata(pb::get_metadata::Request {})
        .await
        .map(|_| ());
    out.push(("tfplugin6.Provider", outcome(result, errors)));

    let (ch, errors) = recording_channel(started, identity).await;
    let result = health::health_client::HealthClient::new(ch)
        .check(health::HealthCheckRequest {
            service: "plugin".into(),
        })
        .await
        .map(|_| ());
    out.push(("grpc.health.v1.Health", outcome(result, errors)));

    let (ch, errors) = recording_channel(started, identity).await;
    let result = goplugin::grpc_stdio_client::GrpcStdioClient::new(ch)
        .stream_stdio(())
        .await
        .map(|_| ());
    out.push(("plugin.GRPCStdio", outcome(result, errors)));

    let (ch, errors) = recording_channel(started, identity).await;
    let result = goplugin::grpc_broker_client::GrpcBrokerClient::new(ch)
        .start_stream(tokio_stream::iter(Vec::<goplugin::ConnInfo>::new()))
        .await
        .map(|_| ());
    out.push(("plugin.GRPCBroker", outcome(result, errors)));

    // Last: were it ever admitted, it would end the plugin.
    let (ch, errors) = recording_channel(started, identity).await;
    let result = goplugin::grpc_controller_client::GrpcControllerClient::new(ch)
        .shutdown(goplugin::Empty {})
        .await
        .map(|_| ());
    out.push(("plugin.GRPCController", outcome(result, errors)));
    out
}

/// Every service refuses, in TLS and before any request is read, a client
/// that presents no certificate and one whose certificate names the same
/// subject as Terraform's but is signed by another key: each call fails
/// with the connection, never with an answer, and the plugin's log gives
/// the specific reason for each refused connection (no certificate; not
/// the certificate Terraform announced, which the plugin pins). The plugin goes on serving Terraform's
/// client.
#[tokio::test]
async fn every_service_refuses_a_client_without_the_announced_certificate() {
    let announced = client_identity();
    // rcgen gives every self-signed certificate the same subject, so this
    // one claims the announced certificate's name with a key of its own.
    let other_key = client_identity();
    assert_ne!(announced.cert, other_key.cert);
    let log_dir = tempfile::tempdir().unwrap();
    let log_path = log_dir.path().join("plugin.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let started = started(support::plugin::launch_with(&announced.pem, |c| {
        c.stderr(log);
    }));
    let refusals = |reason: &str| {
        std::fs::read_to_string(&log_path)
            .unwrap()
            .lines()
            .filter(|l| {
                l.contains("refused a connection that failed mutual TLS") && l.contains(reason)
            })
            .count()
    };
    for (identity, reason) in [
        (None, "peer sent no certificates"),
        (
            Some(&other_key),
            "client certificate is not the one Terraform announced",
        ),
    ] {
        let before = refusals(reason);
        let results = call_every_service(&started, identity).await;
        for (service, result) in &results {
            let err = result.as_ref().expect_err(service);
            assert!(
                err.contains("connection closed") || err.contains("reset") || err.contains("alert"),
                "{service}: refused by the connection, not by an answer: {err}"
            );
        }
        // The log line is written as the handshake fails; give it a moment.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while refusals(reason) - before < results.len() && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        // At least one per service (a channel may try its connection again).
        assert!(
            refusals(reason) - before >= results.len(),
            "a refusal for {reason:?} per service:\n{}",
            std::fs::read_to_string(&log_path).unwrap()
        );
    }
    get_schema(&started, Some(&announced))
        .await
        .expect("still serving Terraform's client");
}
