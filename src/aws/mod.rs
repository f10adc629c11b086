//! Everything that talks to EC2. The only module that knows aws-sdk-ec2:
//! resources call the named finders, waiters and actions here with plain
//! Rust data ([`model`]), and get [`AwsError`]s that keep what kind of
//! failure it was.

pub mod endpoint;
pub mod error;
pub mod model;
pub mod retry;
pub mod security_group;
pub mod tags;
pub mod vpc;

pub use error::{AwsError, error_message};

/// The shared EC2 client, cheap to clone.
#[derive(Clone, Debug)]
pub struct Ec2 {
    pub(crate) client: aws_sdk_ec2::Client,
}

impl Ec2 {
    pub fn new(client: aws_sdk_ec2::Client) -> Self {
        Self { client }
    }
}
