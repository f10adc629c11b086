//! The data sources, one module each, and the pure check logic the
//! diagnostics data source runs.

pub mod checks;
pub mod connection_test;
pub mod diagnostics;
pub mod service;

use std::sync::Arc;

use crate::clients::Clients;
use crate::framework::server::DataSource;

pub fn all() -> Vec<Arc<dyn DataSource<Clients>>> {
    vec![
        Arc::new(connection_test::ConnectionTestDataSource),
        Arc::new(diagnostics::DiagnosticsDataSource),
        Arc::new(service::ServiceDataSource),
    ]
}
