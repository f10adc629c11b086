//! The `terraform-provider-planetscale` binary: Terraform starts it as a
//! plugin; `--debug` serves it for a debugger instead.

use std::process::ExitCode;

use terraform_provider_planetscale::{logging, plugin, privatelink, server};

fn main() -> ExitCode {
    let debug = match std::env::args().nth(1).as_deref() {
        None => false,
        Some("--debug") => true,
        Some("--version" | "-v") => {
            println!(
                "terraform-provider-planetscale {}",
                env!("CARGO_PKG_VERSION")
            );
            return ExitCode::SUCCESS;
        }
        Some(other) => {
            eprintln!("unknown argument {other:?}; the only flags are --debug and --version");
            return ExitCode::from(2);
        }
    };
    one_malloc_arena();
    logging::init();
    logging::install_panic_hook();
    plugin::install_crypto_provider();

    // Two workers: a provider process serves one Terraform command, whose
    // work is waiting on AWS, not computing.
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("could not start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        if debug {
            plugin::serve_debug(server(), privatelink::PROVIDER_ADDRESS).await
        } else {
            plugin::serve(server()).await
        }
    });
    // Serving can end with calls still running (a signal's grace period
    // ran out): those are dropped, not waited for.
    runtime.shutdown_timeout(std::time::Duration::from_millis(500));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// glibc gives every thread that allocates its own heap arena, each with
/// its own slack. The provider's threads mostly wait on the network, so
/// one shared arena costs nothing in contention and keeps the resident set
/// smaller. Must run before any thread starts.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn one_malloc_arena() {
    // SAFETY: mallopt only adjusts allocator parameters; no other thread
    // exists yet.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 1);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn one_malloc_arena() {}
