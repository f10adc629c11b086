//! EC2 errors, classified: callers match on the kind (not found, throttled,
//! dependency violation...) instead of parsing strings.

use aws_sdk_ec2::error::ProvideErrorMetadata;
use aws_smithy_runtime_api::client::result::SdkError;

use crate::framework::bounds::{self, Interruption};

#[derive(Debug, Clone, thiserror::Error)]
pub enum AwsError {
    /// The resource does not exist (or no longer does).
    #[error("{code}: {message}")]
    NotFound { code: String, message: String },
    /// EC2 refused because something still depends on the resource
    /// (`DependencyViolation`, or `InvalidGroup.InUse` for a security group
    /// another group's rules or a network interface still use).
    #[error("{code}: {message}")]
    DependencyViolation { code: String, message: String },
    /// The caller lacks permission.
    #[error("{code}: {message}")]
    AccessDenied { code: String, message: String },
    /// Any other error EC2 answered with.
    #[error("{code}: {message}")]
    Api { code: String, message: String },
    /// No answer: connection, timeout, or an unreadable response.
    #[error("{0}")]
    Transport(String),
    /// StopProvider or a timeout ended the wait.
    #[error("{0}")]
    Cancelled(String),
}

impl AwsError {
    pub fn code(&self) -> &str {
        match self {
            AwsError::NotFound { code, .. }
            | AwsError::DependencyViolation { code, .. }
            | AwsError::AccessDenied { code, .. }
            | AwsError::Api { code, .. } => code,
            AwsError::Transport(_) | AwsError::Cancelled(_) => "",
        }
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, AwsError::NotFound { .. })
    }

    /// Whether the operation's deadline or Ctrl-C ended the call: AWS may
    /// or may not have acted on it.
    pub fn is_cancelled(&self) -> bool {
        matches!(self, AwsError::Cancelled(_))
    }

    /// Whether asking again later may succeed: throttling, EC2's server
    /// errors, and answers that never arrived. Waiters poll through these
    /// until their own deadline.
    pub fn is_transient(&self) -> bool {
        match self {
            AwsError::Transport(_) => true,
            AwsError::Api { code, .. } => matches!(
                code.as_str(),
                "RequestLimitExceeded"
                    | "Throttling"
                    | "ThrottlingException"
                    | "RequestThrottled"
                    | "Unavailable"
                    | "ServiceUnavailable"
                    | "InternalError"
                    | "InternalFailure"
                    | "RequestTimeout"
                    | "RequestTimeoutException"
                    // Route 53: an earlier change to the zone is still
                    // being applied.
                    | "PriorRequestNotComplete"
            ),
            _ => false,
        }
    }

    /// Classifies an error code EC2 (or Route 53) answered with. Route 53
    /// names what is missing `NoSuch...` (`NoSuchHostedZone`) or
    /// `...NotFound` (`VPCAssociationNotFound`).
    pub fn from_code(code: &str, message: &str) -> Self {
        let (code, message) = (code.to_owned(), message.to_owned());
        if code.ends_with(".NotFound")
            || code.starts_with("NoSuch")
            || matches!(
                code.as_str(),
                "VPCAssociationNotFound" | "VPCAssociationAuthorizationNotFound"
            )
        {
            AwsError::NotFound { code, message }
        } else if code == "DependencyViolation" || code == "InvalidGroup.InUse" {
            AwsError::DependencyViolation { code, message }
        } else if code == "UnauthorizedOperation" || code == "AccessDenied" || code == "AuthFailure"
        {
            AwsError::AccessDenied { code, message }
        } else {
            AwsError::Api { code, message }
        }
    }
}

impl<E, R> From<SdkError<E, R>> for AwsError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    fn from(err: SdkError<E, R>) -> Self {
        if let Some(unanswered) = unanswered(&err) {
            return AwsError::Cancelled(unanswered.to_string());
        }
        if err.as_service_error().is_none()
            && let Some(why) = bounds::interruption()
        {
            // The SDK's own timer, cut short by the operation's end.
            return AwsError::Cancelled(format!("{why}: {}", error_message(&err)));
        }
        match err.as_service_error() {
            Some(service) if service.code().is_some() => AwsError::from_code(
                service.code().unwrap_or_default(),
                service.message().unwrap_or_default(),
            ),
            _ => AwsError::Transport(error_message(&err)),
        }
    }
}

/// A call the operation's end cut off before AWS answered it: the HTTP
/// client's error when the deadline or Ctrl-C came first.
#[derive(Debug, thiserror::Error)]
#[error("{why} before AWS answered {call}")]
pub struct Unanswered {
    /// The action (`CreateVpcEndpoint`), or the method and path.
    pub call: String,
    pub why: Interruption,
}

/// The [`Unanswered`] somewhere in an error's causes.
fn unanswered<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a Unanswered> {
    let mut cause = Some(err);
    while let Some(e) = cause {
        if let Some(found) = e.downcast_ref::<Unanswered>() {
            return Some(found);
        }
        cause = e.source();
    }
    None
}

/// A one-line message for any SDK error, with the AWS error code when there
/// is one and the innermost cause otherwise (the SDK's own Display says only
/// "service error" or "dispatch failure").
pub fn error_message<E, R>(err: &SdkError<E, R>) -> String
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug + 'static,
{
    if let Some(service) = err.as_service_error()
        && let Some(code) = service.code()
    {
        return format!("{code}: {}", service.message().unwrap_or_default());
    }
    if let Some(unanswered) = unanswered(err) {
        return unanswered.to_string();
    }
    let mut text = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        text = format!("{text}: {cause}");
        source = cause.source();
    }
    if matches!(err, SdkError::TimeoutError(_)) {
        text.push_str(
            " (the provider's aws_attempt_timeout and aws_operation_timeout set these limits)",
        );
    }
    text
}

impl AwsError {
    /// A NotFound for an id EC2 did not return (some describe calls answer
    /// an empty list instead of an error).
    pub fn not_found(code: &str, id: &str) -> Self {
        AwsError::NotFound {
            code: code.to_owned(),
            message: format!("{id} does not exist"),
        }
    }
}
