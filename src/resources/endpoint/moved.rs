//! The move from hashicorp/aws: an `aws_vpc_endpoint` named in a `moved`
//! block becomes this resource, when it is an interface endpoint to a
//! PrivateLink service.

use crate::framework::diag::Diagnostics;
use crate::framework::value::Value;
use crate::privatelink::service_name_region;
use crate::resources::moves::SourceState;

use super::{DnsEntry, Model, TYPE_NAME};

/// This resource's state from an `aws_vpc_endpoint`'s (hashicorp/aws 5.x,
/// schema version 0; the names read are that resource's). Endpoints this
/// resource does not manage (gateway endpoints, endpoints to AWS services)
/// are refused with an error that says so.
pub(super) fn from_aws_vpc_endpoint(s: &SourceState, diags: &mut Diagnostics) -> Option<Value> {
    let id = s.ec2_id("vpce", "endpoint", diags)?;
    let service = s.str("service_name").unwrap_or_default();
    let kind = s.str("vpc_endpoint_type").unwrap_or_default();
    let keep_it = "Remove the moved block for it and keep it in hashicorp/aws.";
    if !kind.eq_ignore_ascii_case("Interface") {
        diags.error(
            "Not an interface endpoint",
            format!(
                "{id} is a {kind} endpoint (to {service}), and {TYPE_NAME} manages interface endpoints \
                 to a PlanetScale PrivateLink service only. {keep_it}"
            ),
        );
        return None;
    }
    if service_name_region(service).is_err() {
        diags.error(
            "Not an endpoint to a PrivateLink service",
            format!(
                "{id} connects to {service}, not to a PrivateLink endpoint service \
                 (com.amazonaws.vpce.<region>.vpce-svc-...) such as a PlanetScale database branch's. \
                 {keep_it}"
            ),
        );
        return None;
    }
    let dns_entries = s
        .blocks("dns_entry")
        .iter()
        .map(|d| DnsEntry {
            dns_name: d.str("dns_name").to_owned(),
            hosted_zone_id: d.str("hosted_zone_id").to_owned(),
        })
        .collect();
    let (tags, tags_all) = s.tags();
    let non_empty = |v: Option<String>| v.filter(|v| !v.is_empty());
    let dns_record_ip_type = s
        .blocks("dns_options")
        .first()
        .map(|d| d.str("dns_record_ip_type").to_owned())
        .filter(|v| !v.is_empty());
    let moved = Model {
        id: id.to_owned(),
        arn: s.string("arn").unwrap_or_default(),
        owner_id: s.string("owner_id").unwrap_or_default(),
        service_name: service.to_owned(),
        service_region: non_empty(s.string("service_region"))
            .or_else(|| service_name_region(service).ok().map(str::to_owned)),
        vpc_id: s.string("vpc_id").unwrap_or_default(),
        subnet_ids: s.strings("subnet_ids").into_iter().collect(),
        security_group_ids: s.strings("security_group_ids").into_iter().collect(),
        private_dns_enabled: s.bool("private_dns_enabled").unwrap_or(false),
        ip_address_type: non_empty(s.string("ip_address_type")),
        dns_record_ip_type,
        // hashicorp/aws computes its subnet_configuration for every subnet;
        // fixed addresses here are only those a configuration asks for.
        subnet_configurations: None,
        policy: non_empty(s.string("policy")),
        state: s.string("state").unwrap_or_default(),
        network_interface_ids: s.strings("network_interface_ids"),
        dns_entries,
        tags,
        tags_all,
        timeouts: Value::Null,
    };
    Some(moved.to_value())
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::aws::model::Tags;
    use crate::framework::model::{Attrs, string_list, string_set};
    use crate::framework::server::Resource;
    use crate::resources::endpoint::{EndpointResource, attr, dns_attr};
    use crate::resources::moves::{
        self,
        testing::{assert_fits, edited, source},
    };
    use serde_json::Value as Json;

    /// Captured from hashicorp/aws 5.100.0 against the EC2 emulator
    /// (`resources[].instances[].attributes` of terraform.tfstate).
    const INTERFACE: &str = include_str!("../testdata/aws_vpc_endpoint_interface.json");
    const GATEWAY: &str = include_str!("../testdata/aws_vpc_endpoint_gateway.json");

    fn moved(json: &str) -> (Option<Value>, Diagnostics) {
        let mut diags = Diagnostics::new();
        let state = from_aws_vpc_endpoint(&source("aws_vpc_endpoint", json), &mut diags);
        (state, diags)
    }

    #[test]
    fn an_interface_endpoint_of_hashicorp_aws_moves_in() {
        let (state, diags) = moved(INTERFACE);
        assert!(diags.is_empty(), "{diags:?}");
        let state = state.unwrap();
        assert_fits(&state, &EndpointResource.schema());
        let a = Attrs::of(&state);
        assert_eq!(a.str(attr::id), Some("vpce-656d57023c5bdef64"));
        assert_eq!(
            a.str(attr::arn),
            Some("arn:aws:ec2:us-east-1:123456789012:vpc-endpoint/vpce-656d57023c5bdef64")
        );
        assert_eq!(a.str(attr::owner_id), Some("123456789012"));
        assert_eq!(
            a.str(attr::service_name),
            Some("com.amazonaws.vpce.us-east-1.vpce-svc-45181547")
        );
        assert_eq!(a.str(attr::vpc_id), Some("vpc-4bf39cdbc4a0f3887"));
        assert_eq!(
            a.get(attr::subnet_ids),
            &string_set(["subnet-30253cdda27fdc07d", "subnet-30cbf3761ff70045f"])
        );
        assert_eq!(
            a.get(attr::security_group_ids),
            &string_set(["sg-8eaa593fc105c9afe"])
        );
        assert_eq!(a.bool(attr::private_dns_enabled), Some(true));
        assert_eq!(a.str(attr::state), Some("available"));
        assert_eq!(
            a.get(attr::network_interface_ids),
            &string_list(["eni-0dedd946da1be1c2e", "eni-6940a1b0cbca6447e"])
        );
        let dns = a.elements(attr::dns_entries).unwrap();
        assert_eq!(dns.len(), 1);
        assert_eq!(
            Attrs::of(&dns[0]).str(dns_attr::dns_name),
            Some("vpce-656d57023c5bdef64-9906b02f.com.amazonaws.vpce.us-east-1.vpce-svc-45181547")
        );
        assert_eq!(
            Attrs::of(&dns[0]).str(dns_attr::hosted_zone_id),
            Some("82DCF3E5193C6")
        );
        let name_tag = BTreeMap::from([("Name".to_owned(), "db".to_owned())]);
        assert_eq!(a.string_map(attr::tags), Some(name_tag.clone()));
        assert_eq!(a.string_map(attr::tags_all), Some(name_tag));
        assert!(a.is_null(attr::timeouts));
    }

    #[test]
    fn untagged_endpoints_keep_tags_null() {
        let json = edited(
            INTERFACE,
            &[("tags", Json::Null), ("tags_all", serde_json::json!({}))],
        );
        let (state, diags) = moved(&json);
        assert!(diags.is_empty(), "{diags:?}");
        let state = state.unwrap();
        assert!(Attrs::of(&state).is_null(attr::tags));
        assert_eq!(
            Attrs::of(&state).string_map(attr::tags_all),
            Some(Tags::new())
        );
    }

    #[test]
    fn gateway_endpoints_and_endpoints_to_aws_services_are_refused() {
        let (state, diags) = moved(GATEWAY);
        assert!(state.is_none());
        let text = format!("{diags:?}");
        assert!(diags.has_errors(), "{text}");
        assert!(text.contains("Gateway endpoint"), "{text}");
        assert!(text.contains("Remove the moved block"), "{text}");

        let to_ssm = edited(
            INTERFACE,
            &[("service_name", Json::from("com.amazonaws.us-east-1.ssm"))],
        );
        let (state, diags) = moved(&to_ssm);
        assert!(state.is_none());
        let text = format!("{diags:?}");
        assert!(
            text.contains("not to a PrivateLink endpoint service"),
            "{text}"
        );
    }

    #[tokio::test]
    async fn only_aws_vpc_endpoint_of_hashicorp_aws_moves_in() {
        let moves = [
            (moves::AWS_PROVIDER, "aws_vpc_endpoint", true),
            (moves::AWS_PROVIDER, "aws_security_group", false),
            (
                "registry.terraform.io/example/aws",
                "aws_vpc_endpoint",
                false,
            ),
        ];
        for (provider, type_name, accepted) in moves {
            let mut diags = Diagnostics::new();
            let state = EndpointResource
                .move_state(provider, type_name, INTERFACE.as_bytes(), &mut diags)
                .await;
            assert_eq!(state.is_some(), accepted, "{provider} {type_name}");
            assert!(diags.is_empty(), "{diags:?}");
        }
    }
}
