//! The provider binary started the way Terraform's plugin host starts it:
//! with the magic cookie, the protocol versions on offer and a client
//! certificate for AutoMTLS.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use terraform_provider_planetscale::plugin::{MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE};

/// The built provider binary.
pub fn binary() -> Command {
    super::processes::command(env!("CARGO_BIN_EXE_terraform-provider-planetscale"))
}

/// A client identity like the one Terraform makes for each plugin: a
/// self-signed certificate marked as a CA.
pub struct ClientIdentity {
    pub cert: CertificateDer<'static>,
    pub key: PrivateKeyDer<'static>,
    pub pem: String,
}

pub fn client_identity() -> ClientIdentity {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).unwrap();
    let mut params = rcgen::CertificateParams::new(vec!["localhost".into()]).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let cert = params.self_signed(&key).unwrap();
    ClientIdentity {
        pem: cert.pem(),
        cert: cert.der().clone(),
        key: PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der())),
    }
}

/// A provider process launched as a plugin, with the handshake line it
/// printed. Killed when dropped.
pub struct Launched {
    pub child: Child,
    pub handshake: String,
}

impl Drop for Launched {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the provider offering protocols 5 and 6, trusting `client_pem`,
/// and returns once it has printed its handshake line.
pub fn launch(client_pem: &str) -> Launched {
    launch_with(client_pem, |_| {})
}

/// [`launch`], with `adjust` applied to the command first.
pub fn launch_with(client_pem: &str, adjust: impl FnOnce(&mut Command)) -> Launched {
    let mut command = binary();
    command
        .env(MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_CLIENT_CERT", client_pem)
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    adjust(&mut command);
    let mut child = command.spawn().expect("start the provider");
    let mut handshake = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut handshake)
        .expect("read the handshake line");
    Launched { child, handshake }
}
