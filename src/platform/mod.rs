//! What each operating system does its own way in a plugin's life: how a
//! request to stop arrives, how to tell that Terraform is gone, how to read
//! Terraform's command line, and which accept errors mean a shortage of
//! descriptors. One small module per platform ([`unix`] on Linux, macOS and
//! the BSDs; `windows`) fills in this one interface; the decisions stay here,
//! compiled and tested on every platform.
//!
//! Which stop requests the provider answers follows Terraform, which runs in
//! the same process group (or console) and receives the same requests:
//!
//! | request | Unix | Windows | answered |
//! |---|---|---|---|
//! | interrupt | SIGINT | CTRL_C_EVENT, CTRL_BREAK_EVENT | always |
//! | terminate | SIGTERM | CTRL_CLOSE_EVENT, CTRL_LOGOFF_EVENT, CTRL_SHUTDOWN_EVENT | always |
//! | hang-up | SIGHUP | (none) | unless ignored when the process started |
//!
//! Terraform is a Go program, and Go's runtime keeps a disposition it
//! inherited as ignored only for SIGHUP and SIGINT; Terraform then asks for
//! SIGINT (and SIGTERM) itself, which takes them back. So a Terraform started
//! under `nohup` survives a hang-up, and one started as a background job of
//! a non-interactive shell (SIGINT ignored) still stops on SIGINT. Its
//! provider does the same: it must not die of a hang-up its Terraform
//! survives, with changes in flight, and it must stop on SIGINT and SIGTERM
//! whenever Terraform would.

use std::task::{Context, Poll};

#[cfg(unix)]
pub mod unix;
#[cfg(unix)]
use unix as imp;

#[cfg(windows)]
mod windows;
#[cfg(windows)]
use windows as imp;

#[cfg(not(any(unix, windows)))]
use other as imp;

/// The kinds of stop request, whatever the platform calls them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request {
    /// Ctrl-C (SIGINT; CTRL_C_EVENT or CTRL_BREAK_EVENT).
    Interrupt,
    /// A runner cancelling the job, a closing console, a shutdown
    /// (SIGTERM; CTRL_CLOSE_EVENT, CTRL_LOGOFF_EVENT, CTRL_SHUTDOWN_EVENT).
    Terminate,
    /// A closing terminal (SIGHUP).
    HangUp,
}

/// Whether the provider answers `request`, given whether the process was
/// started with it ignored (see the table above).
pub fn answered(request: Request, ignored_at_start: bool) -> bool {
    match request {
        Request::Interrupt | Request::Terminate => true,
        Request::HangUp => !ignored_at_start,
    }
}

/// The stop requests this process answers, registered once at start.
pub struct Stops(imp::Stops);

impl Stops {
    /// Registers for every request [`answered`] says yes to, before the
    /// handshake, so none of them can end the process with work in flight.
    /// Must run inside the runtime.
    pub fn register() -> Self {
        Stops(imp::Stops::register())
    }

    /// The platform's name of the next request ("SIGTERM",
    /// "CTRL_C_EVENT"...); never resolves when none is registered.
    pub async fn next(&mut self) -> &'static str {
        std::future::poll_fn(|cx: &mut Context<'_>| -> Poll<&'static str> { self.0.poll_next(cx) })
            .await
    }
}

/// The process that started this one (Terraform), as it was at start.
pub struct Parent(imp::Parent);

impl Parent {
    pub fn at_start() -> Self {
        Parent(imp::Parent::at_start())
    }

    /// Whether that process has exited. Checked every half second: cheap.
    pub fn gone(&self) -> bool {
        self.0.gone()
    }
}

/// The command line of the process that started this one, program first;
/// `None` where the platform does not tell (Windows).
pub fn parent_command_line() -> Option<Vec<String>> {
    imp::parent_command_line()
}

/// Whether accepting a connection failed for want of descriptors or buffers:
/// the connection stays queued, and trying again at once fails again until
/// something is closed.
pub fn out_of_descriptors(e: &std::io::Error) -> bool {
    e.raw_os_error().is_some_and(imp::is_descriptor_shortage)
}

#[cfg(not(any(unix, windows)))]
mod other {
    //! Elsewhere: no stop request but Terraform's own StopProvider and
    //! Shutdown, and no knowledge of the parent.

    use std::task::{Context, Poll};

    pub struct Stops;
    impl Stops {
        pub fn register() -> Self {
            Stops
        }
        pub fn poll_next(&mut self, _: &mut Context<'_>) -> Poll<&'static str> {
            Poll::Pending
        }
    }

    pub struct Parent;
    impl Parent {
        pub fn at_start() -> Self {
            Parent
        }
        pub fn gone(&self) -> bool {
            false
        }
    }

    pub fn parent_command_line() -> Option<Vec<String>> {
        None
    }

    pub fn is_descriptor_shortage(_: i32) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interrupt_and_terminate_are_answered_as_terraform_answers_them() {
        for ignored in [false, true] {
            assert!(answered(Request::Interrupt, ignored));
            assert!(answered(Request::Terminate, ignored));
        }
    }

    #[test]
    fn a_hang_up_ignored_at_start_stays_ignored() {
        assert!(answered(Request::HangUp, false));
        assert!(!answered(Request::HangUp, true));
    }

    #[test]
    fn the_parent_at_start_is_not_gone() {
        assert!(!Parent::at_start().gone());
    }

    #[test]
    fn the_parent_command_line_starts_with_its_program() {
        // The test harness's parent (cargo, a shell, a runner) has one
        // wherever the platform tells it.
        if cfg!(unix) {
            let line = parent_command_line().expect("the parent's command line");
            assert!(!line.is_empty() && !line[0].is_empty(), "{line:?}");
        }
    }

    #[test]
    fn other_accept_errors_are_no_shortage() {
        assert!(!out_of_descriptors(&std::io::Error::other("no os error")));
    }
}
