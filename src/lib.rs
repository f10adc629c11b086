//! terraform-provider-planetscale: a Terraform provider, speaking plugin
//! protocol 6, for private connections from AWS VPCs to PlanetScale for
//! Postgres over AWS PrivateLink.
//!
//! Architecture, outside in (each boundary is an invariant):
//! * [`plugin`]: the go-plugin host side (cookie, handshake, AutoMTLS,
//!   serving). Knows processes and sockets, not Terraform's messages.
//! * [`protocol`]: the gRPC services. The only module that knows protobuf;
//!   it only converts.
//! * [`framework`]: provider-agnostic values, schemas, diagnostics and the
//!   planning and dispatch logic.
//! * [`provider`]: the provider block and the registry of resources and
//!   data sources; nothing else imports it.
//! * [`resources`], [`data_sources`]: this provider's schema and behaviour,
//!   as plain data in and out. Neither imports the other.
//! * [`clients`] (what configure hands every operation), [`privatelink`]
//!   (the domain's facts and sentences) and [`validate`] (checks of values):
//!   low modules the layers above share.
//! * [`aws`]: the only module that knows aws-sdk-ec2.
//! * [`planetscale`]: the PlanetScale API client; [`dns`]: a stub resolver
//!   that asks a chosen DNS server; [`probe`]: a PostgreSQL server's first
//!   exchange (SSLRequest, TLS handshake), and what each failure means;
//!   [`tls`]: the trust both of those use.
//! * [`platform`]: what each operating system does its own way (stop
//!   requests, the parent process, descriptor shortages), one module per
//!   platform behind one interface; the only module that knows one.
//! * [`docs`]: the registry documentation, generated from the schemas.

pub mod aws;
pub mod clients;
pub mod data_sources;
pub mod dns;
pub mod docs;
pub mod framework;
pub mod logging;
pub mod planetscale;
pub mod platform;
pub mod plugin;
pub mod privatelink;
pub mod probe;
pub mod protocol;
pub mod provider;
pub mod resources;
pub mod tls;
pub mod validate;

use std::sync::Arc;

use framework::server::Server;

/// The server for this provider, ready for [`protocol::router`].
pub fn server() -> Arc<Server<provider::PlanetScale>> {
    Arc::new(Server::new(provider::PlanetScale).destroying(plugin::parent::is_destroy_run))
}
