//! Logging in the format Terraform expects from a plugin.
//!
//! go-plugin reads each line a plugin writes to stderr; a JSON object with
//! `@level`, `@message` and `@timestamp` becomes a log entry at that level in
//! Terraform's own log (shown with `TF_LOG` / `TF_LOG_PROVIDER`). Anything
//! else is passed through as a debug line. stdout is reserved for the
//! handshake, so nothing here ever writes to it.
//!
//! Two guards keep secrets out of logs:
//! * third-party crates (the AWS SDK, hyper, h2, rustls) are capped at DEBUG
//!   (and never raised to it), because at TRACE they print whole HTTP
//!   requests, bearer tokens among their headers;
//! * every line passes through [`redact`], which replaces any secret
//!   registered with [`register_secret`] (access keys, session tokens,
//!   PlanetScale service tokens) before it is written.
//!
//! Panics are written the same way, by the hook [`install_panic_hook`] sets.

use std::fmt::Write as _;
use std::io::Write as _;
use std::sync::RwLock;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value as Json};
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Metadata, Subscriber};
use tracing_subscriber::Layer;
use tracing_subscriber::layer::Context;
use tracing_subscriber::prelude::*;
use tracing_subscriber::registry::LookupSpan;

const OWN_TARGET: &str = "terraform_provider_planetscale";
const REDACTED: &str = "[REDACTED]";
/// Secrets shorter than this are replaced as whole words only (see
/// [`register_secret`]).
pub const WHOLE_WORD_BELOW: usize = 8;

static SECRETS: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Remembers a secret so that it is replaced in every later log line and
/// diagnostic, in each form it can take there: as it is, escaped in a JSON
/// or Rust string (quotes, backslashes, control characters), and
/// percent-encoded in a URL or form body. A secret (or form) shorter than
/// [`WHOLE_WORD_BELOW`] bytes is replaced only where it stands as a whole
/// word: everywhere, it would mangle ordinary words; nowhere, it would
/// leak.
pub fn register_secret(secret: &str) {
    if secret.is_empty() {
        return;
    }
    let mut secrets = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    for form in forms(secret) {
        if !secrets.contains(&form) {
            secrets.push(form);
        }
    }
    // Longest first, so a secret containing another is replaced whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// Debug builds only: `PLANETSCALE_TEST_UNREDACTED=1` turns redaction off,
/// so the tests prove that their check for secrets in the log can fail.
/// Release builds always redact.
fn redaction_off() -> bool {
    #[cfg(debug_assertions)]
    {
        static OFF: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
        *OFF.get_or_init(|| std::env::var_os("PLANETSCALE_TEST_UNREDACTED").is_some())
    }
    #[cfg(not(debug_assertions))]
    {
        false
    }
}

/// The forms a secret takes once written into text.
fn forms(secret: &str) -> Vec<String> {
    let quoted = |q: String| q[1..q.len() - 1].to_owned();
    let json = quoted(Json::String(secret.to_owned()).to_string());
    let debug = quoted(format!("{secret:?}"));
    let mut forms = vec![secret.to_owned(), json.clone(), debug.clone()];
    // A form escaped twice: a JSON document logged as a string field.
    forms.push(quoted(Json::String(json).to_string()));
    forms.push(quoted(format!("{debug:?}")));
    forms.push(percent_encoded(secret, false));
    forms.push(percent_encoded(secret, true));
    forms.sort();
    forms.dedup();
    forms
}

/// RFC 3986 percent-encoding of everything but unreserved characters, with
/// upper- or lower-case hex digits.
fn percent_encoded(text: &str, lower: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else if lower {
            out.push_str(&format!("%{b:02x}"));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Replaces every registered secret in `text`, in each of its forms.
pub fn redact(text: &str) -> String {
    if redaction_off() {
        return text.to_owned();
    }
    let secrets = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    let mut out = text.to_owned();
    for secret in secrets.iter() {
        if out.contains(secret.as_str()) {
            out = if secret.len() < WHOLE_WORD_BELOW {
                replace_words(&out, secret)
            } else {
                out.replace(secret.as_str(), REDACTED)
            };
        }
    }
    out
}

/// `text` with each occurrence of `word` that no letter or digit touches
/// on either side replaced.
fn replace_words(text: &str, word: &str) -> String {
    let wordy = |c: Option<char>| c.is_some_and(char::is_alphanumeric);
    let mut out = String::with_capacity(text.len());
    let mut last = 0;
    for (at, _) in text.match_indices(word) {
        let end = at + word.len();
        if at < last || wordy(text[..at].chars().next_back()) || wordy(text[end..].chars().next()) {
            continue;
        }
        out.push_str(&text[last..at]);
        out.push_str(REDACTED);
        last = end;
    }
    out.push_str(&text[last..]);
    out
}

/// The text a panic carries: `panic!` with a message gives a `&str` or a
/// `String`; anything else has no text to show.
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "(a panic without a message)".to_owned()
    }
}

/// Reports every panic on stderr as one error line in the logger's JSON
/// shape, redacted like every other line, whatever `TF_LOG` says: a panic
/// is always worth reading. The message starts with `panic: `, as Go's do,
/// so a reader of Terraform's log finds it the same way. (The RPC layer
/// turns a handler's panic into an error diagnostic; this is the record.)
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let location = info
            .location()
            .map(|l| format!("{}:{}:{}", l.file(), l.line(), l.column()));
        let _ = PANIC_LOCATION.try_with(|l| {
            if let Ok(mut l) = l.try_borrow_mut() {
                l.clone_from(&location);
            }
        });
        let backtrace = std::backtrace::Backtrace::capture();
        let backtrace = (backtrace.status() == std::backtrace::BacktraceStatus::Captured)
            .then(|| backtrace.to_string());
        let line = panic_line(
            &panic_message(info.payload()),
            location.as_deref(),
            std::thread::current().name(),
            backtrace.as_deref(),
            SystemTime::now(),
        );
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }));
}

thread_local! {
    /// Where the last panic on this thread happened, for whoever catches it.
    static PANIC_LOCATION: std::cell::RefCell<Option<String>> =
        const { std::cell::RefCell::new(None) };
}

/// Where the last panic on this thread happened (`file:line:column`), once:
/// for the code that caught it, since a caught panic's payload does not say.
/// `None` unless [`install_panic_hook`] ran.
pub fn take_panic_location() -> Option<String> {
    PANIC_LOCATION
        .try_with(|l| l.try_borrow_mut().ok().and_then(|mut l| l.take()))
        .ok()
        .flatten()
}

/// One hclog JSON line for a panic, redacted before and after encoding.
fn panic_line(
    message: &str,
    location: Option<&str>,
    thread: Option<&str>,
    backtrace: Option<&str>,
    now: SystemTime,
) -> String {
    let mut entry = Map::new();
    entry.insert("@level".into(), "error".into());
    entry.insert(
        "@message".into(),
        Json::String(format!("panic: {}", redact(message))),
    );
    entry.insert("@module".into(), "planetscale".into());
    entry.insert("@timestamp".into(), timestamp(now).into());
    if let Some(location) = location {
        entry.insert("location".into(), location.into());
    }
    if let Some(thread) = thread {
        entry.insert("thread".into(), thread.into());
    }
    if let Some(backtrace) = backtrace {
        entry.insert("backtrace".into(), redact(backtrace).into());
    }
    let mut line = redact(&Json::Object(entry).to_string());
    line.push('\n');
    line
}

/// The most verbose level asked for by `TF_LOG_PROVIDER`, else `TF_LOG`.
/// Terraform discards plugin lines below its own level anyway; filtering
/// here saves formatting them. Without either variable only warnings and
/// errors are written.
pub fn level_from_env() -> Option<Level> {
    let raw = std::env::var("TF_LOG_PROVIDER")
        .ok()
        .filter(|v| !v.is_empty())
        .or_else(|| std::env::var("TF_LOG").ok().filter(|v| !v.is_empty()));
    match raw.as_deref().map(str::to_ascii_uppercase).as_deref() {
        Some("TRACE") | Some("JSON") => Some(Level::TRACE),
        Some("DEBUG") => Some(Level::DEBUG),
        Some("INFO") => Some(Level::INFO),
        Some("WARN") => Some(Level::WARN),
        Some("ERROR") => Some(Level::ERROR),
        Some("OFF") => None,
        // Terraform treats unknown values as TRACE.
        Some(_) => Some(Level::TRACE),
        None => Some(Level::WARN),
    }
}

/// Installs the stderr JSON logger as the global subscriber.
pub fn init() {
    let Some(max) = level_from_env() else {
        return;
    };
    let layer = HclogLayer { max };
    // A second init (in tests) keeps the first subscriber.
    let _ = tracing_subscriber::registry().with(layer).try_init();
}

/// The most verbose level a line of `target` is written at, when the log
/// is at `max`: the provider's own lines at `max`; third-party crates' at
/// `max` but never beyond DEBUG. (In tracing, more verbose compares
/// greater: TRACE > DEBUG, so the cap is a `min`.) At TRACE the AWS SDK
/// prints whole requests, the IMDS and SSO tokens among their headers.
fn level_cap(target: &str, max: Level) -> Level {
    if target.starts_with(OWN_TARGET) {
        max
    } else if CREDENTIAL_TARGETS.iter().any(|t| target.starts_with(t)) {
        max.min(Level::WARN)
    } else {
        max.min(Level::DEBUG)
    }
}

/// aws-config's modules that log credentials themselves (a profile's
/// chain with its keys at INFO, the keys each step loaded, assumed roles'
/// keys at DEBUG), before the provider sees them to register: their
/// warnings only.
const CREDENTIAL_TARGETS: &[&str] = &["aws_config::profile::credentials", "aws_config::sts"];

struct HclogLayer {
    max: Level,
}

impl HclogLayer {
    fn allows(&self, meta: &Metadata<'_>) -> bool {
        *meta.level() <= level_cap(meta.target(), self.max)
    }
}

impl<S> Layer<S> for HclogLayer
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn enabled(&self, meta: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        self.allows(meta)
    }

    fn on_new_span(
        &self,
        attrs: &tracing::span::Attributes<'_>,
        id: &tracing::span::Id,
        ctx: Context<'_, S>,
    ) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(fields);
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let meta = event.metadata();
        let mut fields = Fields::default();
        event.record(&mut fields);

        let mut entry = Map::new();
        entry.insert("@level".into(), level_name(meta.level()).into());
        entry.insert(
            "@message".into(),
            Json::String(fields.message.take().unwrap_or_default()),
        );
        entry.insert("@module".into(), module_name(meta.target()).into());
        entry.insert("@timestamp".into(), timestamp(SystemTime::now()).into());
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(span_fields) = span.extensions().get::<Fields>() {
                    for (k, v) in &span_fields.values {
                        entry.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        for (k, v) in fields.values {
            entry.insert(k, v);
        }
        // Every value was redacted as it was recorded, before it was
        // escaped into JSON; the line is redacted once more as a whole.
        let mut line = redact(&Json::Object(entry).to_string());
        line.push('\n');
        let _ = std::io::stderr().lock().write_all(line.as_bytes());
    }
}

fn level_name(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "trace",
        Level::DEBUG => "debug",
        Level::INFO => "info",
        Level::WARN => "warn",
        Level::ERROR => "error",
    }
}

/// `planetscale` for our own events, `planetscale.aws_smithy_runtime` for
/// a dependency's, so Terraform's log says where a line came from.
fn module_name(target: &str) -> String {
    if target.starts_with(OWN_TARGET) {
        "planetscale".to_owned()
    } else {
        let krate = target.split("::").next().unwrap_or(target);
        format!("planetscale.{krate}")
    }
}

#[derive(Default)]
struct Fields {
    message: Option<String>,
    values: Vec<(String, Json)>,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.put(field, Json::String(redact(value)));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.put(field, Json::Bool(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.put(field, Json::from(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.put(field, Json::from(value));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        self.put(field, Json::String(redact(&format!("{value:?}"))));
    }
}

impl Fields {
    fn put(&mut self, field: &Field, value: Json) {
        if field.name() == "message" {
            self.message = Some(match value {
                Json::String(s) => s,
                other => other.to_string(),
            });
        } else {
            self.values.push((field.name().to_owned(), value));
        }
    }
}

/// RFC 3339 UTC with microseconds, the layout hclog writes and go-plugin parses.
fn timestamp(now: SystemTime) -> String {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days as i64);
    let mut out = String::with_capacity(32);
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60,
        since.subsec_micros()
    );
    out
}

/// Days since 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// well-known algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn timestamps_use_hclog_layout() {
        let t = UNIX_EPOCH + Duration::from_micros(1_700_000_000_123_456);
        assert_eq!(timestamp(t), "2023-11-14T22:13:20.123456Z");
        assert_eq!(timestamp(UNIX_EPOCH), "1970-01-01T00:00:00.000000Z");
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(&timestamp(leap)[..10], "2000-02-29");
    }

    #[test]
    fn third_party_lines_are_capped_at_debug_never_raised() {
        let own = "terraform_provider_planetscale::aws";
        let sdk = "aws_smithy_runtime::client::orchestrator";
        for max in [
            Level::ERROR,
            Level::WARN,
            Level::INFO,
            Level::DEBUG,
            Level::TRACE,
        ] {
            assert_eq!(level_cap(own, max), max, "{max}");
        }
        assert_eq!(level_cap(sdk, Level::TRACE), Level::DEBUG);
        assert_eq!(level_cap(sdk, Level::DEBUG), Level::DEBUG);
        assert_eq!(level_cap(sdk, Level::INFO), Level::INFO);
        assert_eq!(level_cap(sdk, Level::WARN), Level::WARN);
        assert_eq!(level_cap(sdk, Level::ERROR), Level::ERROR);
        let profile = "aws_config::profile::credentials::exec";
        assert_eq!(level_cap(profile, Level::TRACE), Level::WARN);
        assert_eq!(level_cap(profile, Level::ERROR), Level::ERROR);
        assert_eq!(
            level_cap("aws_config::sts::assume_role", Level::INFO),
            Level::WARN
        );
    }

    #[test]
    fn registered_secrets_are_replaced() {
        register_secret("AKIAEXAMPLESECRET1");
        let line = redact("key=AKIAEXAMPLESECRET1 word");
        assert_eq!(line, "key=[REDACTED] word");
    }

    #[test]
    fn short_secrets_are_replaced_as_whole_words_only() {
        // A proxy password of three characters, and a common word as one.
        register_secret("q7z");
        register_secret("Zebrafy");
        assert_eq!(
            redact("user:q7z@proxy pw=q7z, q7z. q7zoo aq7z Zebrafy Zebrafying"),
            "user:[REDACTED]@proxy pw=[REDACTED], [REDACTED]. q7zoo aq7z [REDACTED] Zebrafying"
        );
        assert_eq!(replace_words("ééq7zéé q7z", "q7z"), "ééq7zéé [REDACTED]");
    }

    #[test]
    fn escaped_and_encoded_forms_of_a_secret_are_replaced() {
        let secret = "wJal/rXUtn\"FEMI+K7\\MDENG";
        register_secret(secret);
        let json = serde_json::json!({ "body": secret }).to_string();
        let twice = serde_json::json!({ "log": json }).to_string();
        let debug = format!("{:?}", format!("{secret:?}"));
        let upper = format!("https://x/?k={}", percent_encoded(secret, false));
        let lower = format!("https://x/?k={}", percent_encoded(secret, true));
        assert_ne!(upper, lower);
        for text in [json, twice, debug, upper, lower] {
            let out = redact(&text);
            assert!(out.contains(REDACTED), "{text} → {out}");
            assert!(!out.contains("rXUtn"), "{text} → {out}");
        }
    }

    #[test]
    fn a_panic_is_one_redacted_error_line_in_hclog_shape() {
        register_secret("panic-secret-value-0123");
        let line = panic_line(
            "signing failed for key panic-secret-value-0123",
            Some("src/aws/mod.rs:10:5"),
            Some("tokio-runtime-worker"),
            None,
            UNIX_EPOCH,
        );
        assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
        assert!(!line.contains("panic-secret-value-0123"), "{line}");
        let json: Json = serde_json::from_str(&line).unwrap();
        assert_eq!(json["@level"], "error");
        assert_eq!(json["@message"], "panic: signing failed for key [REDACTED]");
        assert_eq!(json["@module"], "planetscale");
        assert_eq!(json["@timestamp"], "1970-01-01T00:00:00.000000Z");
        assert_eq!(json["location"], "src/aws/mod.rs:10:5");
    }

    #[test]
    fn panic_payloads_give_their_text() {
        let text: Box<dyn std::any::Any + Send> = Box::new("static text");
        assert_eq!(panic_message(text.as_ref()), "static text");
        let formatted: Box<dyn std::any::Any + Send> = Box::new(format!("value {}", 7));
        assert_eq!(panic_message(formatted.as_ref()), "value 7");
        let other: Box<dyn std::any::Any + Send> = Box::new(7_u8);
        assert_eq!(panic_message(other.as_ref()), "(a panic without a message)");
    }

    #[test]
    fn modules_name_their_crate() {
        assert_eq!(
            module_name("terraform_provider_planetscale::aws"),
            "planetscale"
        );
        assert_eq!(
            module_name("aws_smithy_runtime::client"),
            "planetscale.aws_smithy_runtime"
        );
    }
}
