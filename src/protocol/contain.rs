//! A panic in an RPC handler ends that call, not the provider: the call
//! answers with an error diagnostic that says what the provider was doing,
//! to which resource, and that it is a bug; the state Terraform sent comes
//! back unchanged, so nothing is lost; and the next call is served as
//! usual. (Uncaught, the panic would drop the connection every call of
//! the Terraform command shares.)

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::task::{Context, Poll};

use super::tfplugin6 as pb;

// Containment unwinds; a build that aborts on panic would lose it silently.
#[cfg(panic = "abort")]
compile_error!("RPC handlers contain panics by unwinding: build with panic = \"unwind\"");

/// What a handler was doing, for the diagnostic when it panics.
pub struct Doing {
    /// The RPC's name, as Terraform's logs show it (`ReadResource`).
    rpc: &'static str,
    /// What that means for the user: "reading planetscale_privatelink_endpoint".
    what: String,
    /// The resource's id, when the request's prior state has one.
    id: Option<String>,
    /// What became of Terraform's state; empty when there is none to speak of.
    state: String,
}

impl Doing {
    /// `verb` applied to a resource or data source type.
    pub fn of(rpc: &'static str, verb: &str, type_name: &str) -> Self {
        Self::provider(rpc, &format!("{verb} {type_name}"))
    }

    /// Work on the provider itself (its configuration).
    pub fn provider(rpc: &'static str, what: &str) -> Self {
        Self {
            rpc,
            what: what.to_owned(),
            id: None,
            state: String::new(),
        }
    }

    pub fn id(mut self, id: Option<String>) -> Self {
        self.id = id;
        self
    }

    pub fn state(mut self, state: String) -> Self {
        self.state = state;
        self
    }

    /// The call leaves Terraform's state as it was (after [`id`](Self::id)).
    pub fn untouched_state(self) -> Self {
        let state = match &self.id {
            Some(id) => format!("{id} stays in state as it was."),
            None => "Terraform's state is unchanged.".to_owned(),
        };
        self.state(state)
    }
}

/// Runs `handler`; if it panics, answers `on_panic(diagnostics)` instead,
/// with `doing()` describing the call. `doing` runs only after a panic.
pub async fn contained<R>(
    doing: impl FnOnce() -> Doing,
    handler: impl Future<Output = R>,
    on_panic: impl FnOnce(Vec<pb::Diagnostic>) -> R,
) -> R {
    match (CatchUnwind(Box::pin(handler))).await {
        Ok(answer) => answer,
        Err(payload) => {
            let location = crate::logging::take_panic_location();
            // Describing the call reads the request again; should that
            // panic too, the RPC's name alone still says enough.
            let doing = std::panic::catch_unwind(AssertUnwindSafe(doing)).ok();
            on_panic(vec![diagnostic(doing, payload.as_ref(), location)])
        }
    }
}

fn diagnostic(
    doing: Option<Doing>,
    payload: &(dyn Any + Send),
    location: Option<String>,
) -> pb::Diagnostic {
    let message = crate::logging::redact(&crate::logging::panic_message(payload));
    let at = location.map(|l| format!(" (at {l})")).unwrap_or_default();
    let detail = match doing {
        Some(d) => {
            let target = match &d.id {
                Some(id) => format!("{} {id}", d.what),
                None => d.what.clone(),
            };
            let state = if d.state.is_empty() {
                String::new()
            } else {
                format!("{}\n\n", d.state)
            };
            format!(
                "The provider panicked while {target} ({rpc}): {message}{at}.\n\n{state}\
                 This is a bug in the provider; please report it with this message. The \
                 provider keeps serving the rest of this command.",
                rpc = d.rpc,
            )
        }
        None => format!(
            "The provider panicked: {message}{at}.\n\nThis is a bug in the provider; please \
             report it with this message."
        ),
    };
    pb::Diagnostic {
        severity: pb::diagnostic::Severity::Error as i32,
        summary: "The provider panicked".to_owned(),
        detail,
        attribute: None,
    }
}

/// `handler`, with a panic in any of its polls caught and returned. The
/// future is boxed so it can be polled through a plain `&mut`.
struct CatchUnwind<F>(Pin<Box<F>>);

impl<F: Future> Future for CatchUnwind<F> {
    type Output = Result<F::Output, Box<dyn Any + Send>>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = self.0.as_mut();
        // A panicked future is never polled again: it is dropped with the
        // call, so whatever it left half-done cannot be observed.
        match std::panic::catch_unwind(AssertUnwindSafe(|| inner.poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(answer)) => Poll::Ready(Ok(answer)),
            Err(payload) => Poll::Ready(Err(payload)),
        }
    }
}

/// Panics injected on purpose, to show that a handler's panic becomes a
/// diagnostic. Debug builds only: a release build neither reads the switch
/// nor carries this code.
#[cfg(debug_assertions)]
pub mod injected {
    use std::sync::RwLock;
    use std::sync::atomic::{AtomicBool, Ordering};

    /// The environment variable that switches injection on in a debug
    /// build of the binary: `<RPC>` or `<RPC>:<type name>`
    /// (`ApplyResourceChange:planetscale_privatelink_endpoint`). Only the
    /// first call it names panics, so the calls after it show that the
    /// provider still serves.
    pub const ENV: &str = "PLANETSCALE_TEST_PANIC";
    /// Text added to the panic's message (to show that it is redacted).
    pub const MESSAGE_ENV: &str = "PLANETSCALE_TEST_PANIC_MESSAGE";

    static SPEC: RwLock<Option<String>> = RwLock::new(None);
    static FIRED: AtomicBool = AtomicBool::new(false);

    /// Injects a panic in this process as [`ENV`] does, for tests that
    /// serve the provider in process; the next call `spec` names panics.
    pub fn set(spec: &str) {
        *SPEC.write().unwrap_or_else(|e| e.into_inner()) = Some(spec.to_owned());
        FIRED.store(false, Ordering::SeqCst);
    }

    /// Panics when the switch names this call and has not fired yet.
    pub fn fire(rpc: &str, type_name: &str) {
        let spec = SPEC
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .or_else(|| std::env::var(ENV).ok());
        let Some(spec) = spec else { return };
        let named = match spec.trim().split_once(':') {
            Some((r, t)) => r == rpc && t == type_name,
            None => spec.trim() == rpc,
        };
        if named && !FIRED.swap(true, Ordering::SeqCst) {
            let extra = std::env::var(MESSAGE_ENV).unwrap_or_default();
            panic!("injected panic in {rpc} {type_name}{extra}");
        }
    }
}

#[cfg(not(debug_assertions))]
pub mod injected {
    #[inline(always)]
    pub fn fire(_rpc: &str, _type_name: &str) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reading() -> Doing {
        Doing::of(
            "ReadResource",
            "reading",
            "planetscale_privatelink_endpoint",
        )
        .id(Some("vpce-0123456789abcdef0".into()))
        .untouched_state()
    }

    #[tokio::test]
    async fn an_answer_passes_through() {
        let answer = contained(reading, async { 7 }, |_| 0).await;
        assert_eq!(answer, 7);
    }

    #[tokio::test]
    async fn a_panic_after_an_await_becomes_an_error_naming_the_resource() {
        let handler = async {
            tokio::task::yield_now().await;
            if std::hint::black_box(true) {
                panic!("index out of bounds");
            }
            Vec::new()
        };
        let diags = contained(reading, handler, |d| d).await;
        assert_eq!(diags.len(), 1);
        let d = &diags[0];
        assert_eq!(d.severity, pb::diagnostic::Severity::Error as i32);
        assert_eq!(d.summary, "The provider panicked");
        assert!(
            d.detail.starts_with(
                "The provider panicked while reading planetscale_privatelink_endpoint \
                 vpce-0123456789abcdef0 (ReadResource): index out of bounds"
            ),
            "{}",
            d.detail
        );
        assert!(d.detail.contains("stays in state as it was"));
        assert!(d.detail.contains("This is a bug in the provider"));
    }

    #[tokio::test]
    async fn a_panic_while_describing_the_call_still_answers() {
        let handler = async {
            if std::hint::black_box(true) {
                panic!("first");
            }
            Vec::new()
        };
        let diags = contained(|| panic!("second"), handler, |d| d).await;
        assert!(
            diags[0].detail.starts_with("The provider panicked: first"),
            "{}",
            diags[0].detail
        );
    }
}
