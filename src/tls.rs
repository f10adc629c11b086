//! The TLS client settings of the provider's own connections (the
//! PlanetScale API, and the connection test's handshakes): rustls with
//! aws-lc, trusting this machine's certificate authorities (read by
//! rustls-native-certs, which honours `SSL_CERT_FILE` and `SSL_CERT_DIR`)
//! and any others a caller adds. The AWS SDK's client builds its own from
//! the same sources (`aws::config`).

use std::sync::Arc;

use rustls_pki_types::CertificateDer;

/// A client configuration trusting this machine's authorities and `extra`,
/// with how many authorities it trusts in all.
pub fn client_config(extra: Vec<CertificateDer<'static>>) -> (rustls::ClientConfig, usize) {
    let mut roots = rustls::RootCertStore::empty();
    let native = rustls_native_certs::load_native_certs();
    let (from_machine, _) = roots.add_parsable_certificates(native.certs);
    tracing::debug!(
        from_machine,
        "loaded this machine's certificate authorities"
    );
    let (added, _) = roots.add_parsable_certificates(extra);
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("aws-lc-rs supports the default protocol versions")
    .with_root_certificates(roots)
    .with_no_client_auth();
    (config, from_machine + added)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_extra_authority_is_trusted_too() {
        let (_, machine) = client_config(Vec::new());
        let cert = rcgen::generate_simple_self_signed(vec!["ca.test".to_owned()])
            .expect("a certificate")
            .cert
            .der()
            .clone();
        let (_, with_extra) = client_config(vec![cert]);
        assert_eq!(with_extra, machine + 1);
    }
}
