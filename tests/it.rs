//! The test crate: every integration test of the provider in one binary,
//! so the AWS SDKs and the test bench (`support`) are compiled and linked
//! once. Each module is a file beside this one and keeps its tests' names:
//! `cargo test --test it endpoint::` runs the endpoint's acceptance tests.
//!
//! `scripts/run-tests.py` runs each module in a process of its own, as the
//! files ran when each was its own binary: a module may own the process
//! (its environment, its shared emulator), and modules run side by side.
//! A file in `tests/` that is not declared here is not compiled; the test
//! `every_file_in_tests_is_a_module` below says so.

mod support;

mod api_network;
mod bad_inputs;
mod coalescing;
mod complete_example;
mod configure_no_region;
mod connection_test;
mod data_sources;
mod dns;
mod dns_zone;
mod docs;
mod endpoint;
mod examples;
mod fault_matrix;
mod faults;
mod generate_config;
mod hangs;
mod identity;
mod logging;
mod moves;
mod orphans;
mod panics;
mod plugin;
mod properties;
mod protocol;
mod query;
mod reachability;
mod release;
mod security_group;
mod signals;
mod strict;
mod tags;
mod terraform_cli;

/// Every `tests/*.rs` file is declared above: Cargo builds only this crate
/// (`autotests = false`), so a file left out would never run.
#[test]
fn every_file_in_tests_is_a_module() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let declared = include_str!("it.rs");
    for entry in std::fs::read_dir(&root).unwrap() {
        let name = entry.unwrap().file_name().into_string().unwrap();
        let Some(module) = name.strip_suffix(".rs") else {
            continue;
        };
        if module == "it" {
            continue;
        }
        assert!(
            declared.contains(&format!("\nmod {module};\n")),
            "tests/{name} is not declared in tests/it.rs: add `mod {module};` there"
        );
    }
}
