//! The PlanetScale API client's way out of a corporate network, with the
//! real terraform: through the proxy HTTPS_PROXY names (tunnelled with
//! CONNECT), straight past it to hosts NO_PROXY names, and trusting the CA
//! that AWS_CA_BUNDLE or SSL_CERT_FILE names. The API stand-in serves
//! HTTPS with a certificate from a test CA that no system trusts.

use crate::support;

use std::sync::OnceLock;

use support::connect_proxy::ConnectProxy;
use support::planetscale_api::FakeApi;
use support::{Emulator, Workspace};

const TOKEN_ID: &str = "pscale_tkn_id_network";
const TOKEN: &str = "pscale_tkn_NetworkSecretNeverInLogs0123456789";

/// PlanetScale's side, one endpoint service for the tests of this file.
fn service() -> &'static str {
    static SERVICE: OnceLock<String> = OnceLock::new();
    SERVICE.get_or_init(|| Emulator::shared().create_endpoint_service(None))
}

/// A workspace reading the branch's service from `api`, with the token in
/// the environment and the API's CA in a file beside the configuration.
fn workspace(api: &FakeApi) -> (Workspace, String) {
    let mut ws = Workspace::new(Some(&Emulator::shared().url));
    ws.set_env("PLANETSCALE_SERVICE_TOKEN_ID", TOKEN_ID);
    ws.set_env("PLANETSCALE_SERVICE_TOKEN", TOKEN);
    ws.secrets.push(TOKEN.to_owned());
    ws.write(
        "main.tf",
        &format!(
            "{}provider \"planetscale\" {{\n  region  = \"us-east-1\"\n  api_url = \"{}\"\n}}\n\n\
             data \"planetscale_privatelink_service\" \"db\" {{\n  organization = \"acme\"\n  database     = \"app-db\"\n  branch       = \"main\"\n}}\n\n\
             output \"service_name\" {{\n  value = data.planetscale_privatelink_service.db.service_name\n}}\n",
            Workspace::required_providers(false),
            api.url
        ),
    );
    let ca = ws.path().join("api-ca.pem");
    std::fs::write(&ca, api.ca_pem.as_deref().expect("an HTTPS stand-in")).unwrap();
    ws.init();
    (ws, ca.display().to_string())
}

fn plan(ws: &Workspace) -> support::terraform::Run {
    ws.run(&["plan", "-no-color", "-input=false"])
}

#[test]
fn the_api_is_reached_through_https_proxy_and_past_it_for_no_proxy() {
    let api = FakeApi::start_https(TOKEN_ID, TOKEN);
    api.add_branch(
        "acme",
        "app-db",
        "main",
        service(),
        "abc70.private-pg.example.test",
    );
    let proxy = ConnectProxy::start();
    let (mut ws, ca) = workspace(&api);
    let api_host = api
        .url
        .trim_start_matches("https://")
        .trim_end_matches("/v1");
    ws.set_env("AWS_CA_BUNDLE", &ca);
    ws.set_env("HTTPS_PROXY", &proxy.url());

    // Through the proxy: one tunnel to the API, and the answer.
    ws.apply();
    assert_eq!(ws.outputs()["service_name"]["value"], service());
    let tunnels = proxy.tunnels();
    assert!(!tunnels.is_empty(), "the client did not use HTTPS_PROXY");
    assert!(tunnels.iter().all(|t| t == api_host), "{tunnels:?}");
    let seen = api.seen().len();
    assert!(seen > 0);

    // NO_PROXY names the API's host: straight there, the proxy unused.
    ws.set_env("NO_PROXY", "localhost");
    let run = plan(&ws);
    assert_eq!(run.code, 0, "{}", run.text());
    assert_eq!(
        proxy.tunnels().len(),
        tunnels.len(),
        "{:?}",
        proxy.tunnels()
    );
    assert!(api.seen().len() > seen, "the API was not asked");

    // Without the CA the stand-in's certificate is refused, naming why.
    ws.env.retain(|(k, _)| k != "AWS_CA_BUNDLE");
    let run = plan(&ws);
    let text = run.flat();
    assert_eq!(run.code, 1, "{text}");
    assert!(
        text.contains("Error: Could not reach the PlanetScale API") && text.contains("certificate"),
        "{text}"
    );

    // SSL_CERT_FILE, the trust store of most TLS clients, serves as well.
    ws.set_env("SSL_CERT_FILE", &ca);
    let run = plan(&ws);
    assert_eq!(run.code, 0, "{}", run.text());
}
