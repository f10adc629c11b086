//! `planetscale_privatelink_service`: a database branch's PrivateLink
//! service as the console's "Verify service" sees it. Given the Private
//! Service Name, or the organization, database and branch (then the name and
//! the Private Host come from the PlanetScale API), it describes the service
//! through EC2: its availability zones, DNS names and whether connections
//! need acceptance.
//!
//! Order: schema, validate, read.

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::aws::AwsError;
use crate::clients::Clients;
use crate::framework::diag::Diagnostics;
use crate::framework::model::Attrs;
use crate::framework::path::AttributePath;
use crate::framework::path::root;
use crate::framework::schema::declare::{computed, optional, optional_computed};
use crate::framework::schema::{Block, Schema};
use crate::framework::server::{Ctx, DataSource};
use crate::framework::value::Value;
use crate::planetscale::{self, Api, ApiError};
use crate::privatelink::{
    Engine, cross_region_unavailable_detail, region_mismatch_detail, service_name_region,
    service_not_found_detail, service_region_mismatch_detail, vitess_service,
};
use crate::validate;

pub const TYPE_NAME: &str = "planetscale_privatelink_service";
const BRANCH_ARGUMENTS: [&str; 3] = [attr::organization, attr::database, attr::branch];

crate::model! {
    /// The data source's arguments and what it reports, each declared once
    /// (schema and checks). What EC2 did not tell (the description was
    /// refused) stays null.
    pub struct Model, attributes mod attr {
        service_name: Option<String> => optional_computed()
            .each_string("Invalid service name", |s| service_name_region(s).map(drop))
            .describe(
                "The Private Service Name, `com.amazonaws.vpce.<region>.vpce-svc-...`, as the PlanetScale \
                 dashboard shows it (database, Settings, Roles, any role of the branch). Conflicts with \
                 `organization`, `database` and `branch`; when they are given instead, it is the name the \
                 PlanetScale API reports.",
            ),
        service_region: Option<String> => optional_computed()
            .check(validate::service_region)
            .describe(
                "The region of the service, for a branch in another region than the provider's: the region \
                 in the service name, such as `us-west-2`. The service is then described as EC2 offers it across \
                 regions (DescribeVpcEndpointServices with `ServiceRegions`), which it does only when PlanetScale \
                 has enabled access from the provider's region. Left out, the service name's region, which must \
                 then be the provider's.",
            ),
        organization: Option<String> => optional()
            .each_string("Invalid organization", planetscale::check_name)
            .describe(
                "The PlanetScale organization, as in the dashboard's URL \
                 (`app.planetscale.com/<organization>/<database>/<branch>`). With `database` and `branch`, \
                 looks the service up through the PlanetScale API.",
            ),
        database: Option<String> => optional()
            .each_string("Invalid database", planetscale::check_name)
            .describe("The PlanetScale database (Postgres). Goes with `organization` and `branch`."),
        branch: Option<String> => optional()
            .each_string("Invalid branch", planetscale::check_name)
            .describe("The database branch, such as `main`. Goes with `organization` and `database`."),
        private_host: Option<String> => computed().describe(
            "The branch's Private Host: the host name applications connect to through the endpoint. Known \
             only when looked up by `organization`, `database` and `branch`; null otherwise.",
        ),
        availability_zones: Option<Vec<String>> => computed().describe(
            "The availability zones the service is offered in; the endpoint's subnets must be in them.",
        ),
        base_endpoint_dns_names: Option<Vec<String>> => computed().describe("The service's base DNS names."),
        private_dns_names: Option<Vec<String>> => computed().describe(
            "The service's private DNS names, which resolve to the endpoint inside the VPC when the \
             endpoint has private DNS on.",
        ),
        availability_zone_ids: Option<Vec<String>> => computed().describe(
            "The same zones by id (`use1-az4`), in the order of `availability_zones`. Zone names map to \
             different zones in different AWS accounts; ids do not, so compare these with PlanetScale's \
             zones or another account's.",
        ),
        owner: Option<String> => computed().describe(
            "The AWS account id that owns the service: PlanetScale's account for a PlanetScale branch.",
        ),
        acceptance_required: Option<bool> => computed().describe(
            "Whether PlanetScale must accept each new endpoint before it becomes `available`.",
        ),
        engine: String = Engine::Postgres.name().to_owned() => optional()
            .each_string("Invalid engine", |s| Engine::parse(s).map(drop))
            .describe(
                "The PlanetScale engine: `postgres` (PlanetScale for Postgres: a Private Service Name per branch, \
                 from `service_name` or `organization`, `database` and `branch`) or `vitess` (PlanetScale's \
                 MySQL-compatible databases: one endpoint service per AWS region, which PlanetScale's documentation \
                 lists; without `service_name`, the one of `service_region`, or of the provider's region). For \
                 `vitess`, `private_host` stays null: applications connect to \
                 `<planetscale-region>.private-connect.psdb.cloud`, the database's usual host with `private-` \
                 before `connect`.",
            ),
        ports: Vec<u16> => computed().describe(
            "The TCP ports the engine's clients connect to: 5432 and 6432 for `postgres`, 443 and 3306 for \
             `vitess`. Give them to the security group's `ports`, or set its `engine`.",
        ),
    }
}

pub struct ServiceDataSource;

// --------------------------------------------------------------- schema --

#[async_trait]
impl DataSource<Clients> for ServiceDataSource {
    fn type_name(&self) -> &'static str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Schema::new(
            Block::new(
                "A PlanetScale database branch's PrivateLink service (its Private Service Name), described by \
                 EC2 the way the console's \"Verify service\" does. Give `service_name`, or `organization`, \
                 `database` and `branch` to look the name and the Private Host up through the PlanetScale API \
                 (the provider's `service_token_id` and `service_token` are then needed).",
            )
            .attributes(Model::attributes()),
        )
    }

    // ------------------------------------------------------------ validate --

    /// Which arguments go together (each one's value is checked by its
    /// declaration).
    fn validate(&self, config: &Value, diags: &mut Diagnostics) {
        // Unknown counts as set: it will be once known.
        let c = Attrs::of(config);
        let set = |name: &str| !c.is_null(name);
        let by_branch: Vec<&str> = BRANCH_ARGUMENTS.into_iter().filter(|a| set(a)).collect();
        // An engine of no known name is reported by its declaration.
        let engine = c.str(attr::engine).and_then(|s| Engine::parse(s).ok());
        if engine == Some(Engine::Vitess) {
            for arg in &by_branch {
                diags.attr_error(
                    root(arg),
                    "Not for Vitess",
                    format!(
                        "{arg} looks a Postgres branch's service up through the PlanetScale API. A Vitess \
                         database's endpoint service is its region's, as PlanetScale's documentation lists it: \
                         leave out organization, database and branch (give service_region, or service_name if \
                         PlanetScale gave you one)."
                    ),
                );
            }
        } else if c.is_unknown(attr::engine) {
            // Which arguments the engine needs is known once it is.
        } else if set(attr::service_name) {
            for arg in &by_branch {
                diags.attr_error(
                    root(arg),
                    "Conflicting arguments",
                    format!(
                        "{arg} conflicts with service_name. Give the Private Service Name (service_name), or \
                         organization, database and branch to look it up through the PlanetScale API, not both."
                    ),
                );
            }
        } else if by_branch.is_empty() {
            diags.attr_error(
                root(attr::service_name),
                "Missing service",
                "Give service_name (the Private Service Name from the PlanetScale dashboard: database, Settings, \
                 Roles, any role of the branch), or organization, database and branch to look it up through \
                 the PlanetScale API.",
            );
        } else {
            for arg in BRANCH_ARGUMENTS.into_iter().filter(|a| !set(a)) {
                diags.attr_error(
                    root(arg),
                    format!("Missing {arg}"),
                    format!(
                        "organization, database and branch go together: {} {} set, so set {arg} too (or give \
                         service_name instead).",
                        by_branch.join(" and "),
                        if by_branch.len() == 1 { "is" } else { "are" }
                    ),
                );
            }
        }
    }

    // ---------------------------------------------------------------- read --

    async fn read(
        &self,
        ctx: &Ctx<Clients>,
        config: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let clients = &ctx.data;
        let mut m = Model::from_value(config);
        let engine = Engine::parse(&m.engine).unwrap_or(Engine::Postgres);
        m.ports = engine.ports().to_vec();
        let (service_name, private_host, name_path) = which_service(ctx, &m, engine, diags).await?;
        let service_region = checked_region(clients, &m, &service_name, &name_path, diags)?;
        m.service_name = Some(service_name);
        m.service_region = service_region;
        m.private_host = private_host;
        Some(described(clients, m, &name_path, diags).await?.to_value())
    }
}

/// Which service the read describes: the name given, the Vitess region's,
/// or the one PlanetScale's API reports for the branch; with the branch's
/// Private Host when the API gave it, and the argument a problem with the
/// name points at (the one that produced it).
async fn which_service(
    ctx: &Ctx<Clients>,
    m: &Model,
    engine: Engine,
    diags: &mut Diagnostics,
) -> Option<(String, Option<String>, AttributePath)> {
    let clients = &ctx.data;
    Some(match &m.service_name {
        Some(name) => (name.clone(), None, root(attr::service_name)),
        None if engine == Engine::Vitess => {
            let region = m.service_region.as_deref().unwrap_or(&clients.region);
            match vitess_service(region) {
                Ok(name) => (name.to_owned(), None, root(attr::engine)),
                Err(why) => {
                    diags.attr_error(root(attr::engine), "No Vitess service in this region", why);
                    return None;
                }
            }
        }
        None => {
            let (Some(organization), Some(database), Some(branch)) =
                (&m.organization, &m.database, &m.branch)
            else {
                // validate reported what is missing.
                return None;
            };
            let branch_ref = BranchRef {
                organization,
                database,
                branch,
            };
            let settings = &clients.planetscale;
            let found = match Api::new(
                &settings.api_url,
                settings.service_token_id.as_deref(),
                settings.service_token.as_deref(),
            ) {
                Ok(api) => {
                    api.branch_private_link(organization, database, branch, &ctx.stop)
                        .await
                }
                Err(e) => Err(e),
            };
            match found {
                Ok(found) => {
                    tracing::info!(
                        %organization, %database, %branch, service_name = %found.service_name,
                        "PlanetScale reported the branch's PrivateLink service"
                    );
                    (found.service_name, found.private_host, root(attr::branch))
                }
                Err(e) => {
                    let (summary, detail) = api_error(&e, &branch_ref, &settings.api_url);
                    diags.error(summary, detail);
                    return None;
                }
            }
        }
    })
}

/// The service's region: the service name's, which a configured
/// `service_region` must name, and which must be the provider's unless
/// `service_region` is given. `None` (the read ends) with the error.
fn checked_region(
    clients: &Clients,
    m: &Model,
    service_name: &str,
    name_path: &AttributePath,
    diags: &mut Diagnostics,
) -> Option<Option<String>> {
    let service_region = match service_name_region(service_name) {
        Ok(region) => match &m.service_region {
            Some(configured) if configured != region => {
                diags.attr_error(
                    root(attr::service_region),
                    "Region not the service's",
                    service_region_mismatch_detail(region, configured),
                );
                return None;
            }
            _ => Some(region.to_owned()),
        },
        Err(_) => None,
    };
    match service_name_region(service_name) {
        Ok(region) if region != clients.region && m.service_region.is_none() => {
            diags.attr_error(
                name_path.clone(),
                "Service in another region",
                region_mismatch_detail(region, &clients.region),
            );
            return None;
        }
        Ok(_) => {}
        Err(why) => {
            diags.attr_error(
                name_path.clone(),
                "PlanetScale reported an invalid service name",
                format!(
                    "The PlanetScale API gave {why} Contact PlanetScale support, or give service_name \
                     from the dashboard instead."
                ),
            );
            return None;
        }
    }
    Some(service_region)
}

/// The model with what EC2 says of its service (zones, DNS names, owner,
/// acceptance) and the zones' ids; `None` when the read ends with an error.
async fn described(
    clients: &Clients,
    m: Model,
    name_path: &AttributePath,
    diags: &mut Diagnostics,
) -> Option<Model> {
    let service_name = m.service_name.clone().unwrap_or_default();
    let service_region = m.service_region.clone();
    let remote = service_region.as_deref().filter(|r| *r != clients.region);
    let described = match clients
        .ec2
        .find_endpoint_service(&service_name, remote)
        .await
    {
        Ok(service) => service,
        Err(e) if e.is_not_found() && remote.is_some() => {
            diags.attr_error(
                root(attr::service_region),
                "Service not offered across regions",
                cross_region_unavailable_detail(
                    &service_name,
                    remote.unwrap_or_default(),
                    &clients.region,
                ),
            );
            return None;
        }
        Err(e) if e.is_not_found() => {
            diags.attr_error(
                name_path.clone(),
                "PrivateLink service not found",
                service_not_found_detail(&service_name, &clients.region),
            );
            return None;
        }
        Err(e @ AwsError::AccessDenied { .. }) => {
            diags.attr_warning(
                name_path.clone(),
                "Could not describe the service",
                format!(
                    "DescribeVpcEndpointServices was refused ({e}): the service's zones and DNS names are \
                     left empty. Allow ec2:DescribeVpcEndpointServices to the provider's credentials to \
                     see them."
                ),
            );
            // What EC2 would have told stays null.
            return Some(m);
        }
        Err(e) => {
            diags.attr_error(
                name_path.clone(),
                "Could not describe the service",
                e.to_string(),
            );
            return None;
        }
    };
    let zone_ids = match zone_ids(
        &described.availability_zones,
        &described.availability_zones,
        &described.availability_zone_ids,
        None,
    ) {
        Some(ids) => Some(ids),
        // A service of another region: this region's zones say nothing
        // of its names.
        None if remote.is_some() => None,
        // The answer has no zone ids (older APIs, emulators): map the
        // names through this account's zones.
        None => match clients
            .ec2
            .availability_zone_ids(&described.availability_zones)
            .await
        {
            Ok(map) => zone_ids(&described.availability_zones, &[], &[], Some(&map)),
            Err(e) => {
                diags.attr_warning(
                    root(attr::availability_zone_ids),
                    "Could not look the zone ids up",
                    format!(
                        "DescribeAvailabilityZones failed ({e}): availability_zone_ids is left empty. Allow \
                         ec2:DescribeAvailabilityZones to the provider's credentials to see them."
                    ),
                );
                None
            }
        },
    };
    Some(Model {
        availability_zones: Some(described.availability_zones),
        availability_zone_ids: zone_ids,
        owner: described.owner,
        base_endpoint_dns_names: Some(described.base_endpoint_dns_names),
        private_dns_names: Some(described.private_dns_names),
        acceptance_required: Some(described.acceptance_required),
        service_region: described.service_region.or(m.service_region.clone()),
        ..m
    })
}

/// The zone ids in the order of `names`: as a description gave them (by
/// `given_names`, one id per name) when it gave them all, else through
/// `by_name` (this account's name -> id map). `None` when neither tells
/// every zone.
fn zone_ids(
    names: &[String],
    given_names: &[String],
    given: &[String],
    by_name: Option<&BTreeMap<String, String>>,
) -> Option<Vec<String>> {
    if !given.is_empty() && given.len() == given_names.len() {
        let from_answer: Option<Vec<String>> = names
            .iter()
            .map(|n| {
                let i = given_names.iter().position(|g| g == n)?;
                given.get(i).cloned()
            })
            .collect();
        if from_answer.is_some() {
            return from_answer;
        }
    }
    let by_name = by_name?;
    names.iter().map(|n| by_name.get(n).cloned()).collect()
}

/// The branch a lookup was about, for messages.
struct BranchRef<'a> {
    organization: &'a str,
    database: &'a str,
    branch: &'a str,
}

/// ", and asked to wait 2m" when the API sent a `Retry-After`.
fn asked_to_wait(retry_after: Option<std::time::Duration>) -> String {
    retry_after
        .map(|d| {
            format!(
                ", and asked to wait {}",
                crate::framework::timeouts::format_duration(d)
            )
        })
        .unwrap_or_default()
}

/// What each way a PlanetScale API lookup can fail means, and its fix.
fn api_error(e: &ApiError, b: &BranchRef<'_>, api_url: &str) -> (String, String) {
    let BranchRef {
        organization: org,
        database: db,
        branch,
    } = b;
    let said = |message: &Option<String>| {
        message
            .as_deref()
            .map(|m| format!(" (the API said: {m})"))
            .unwrap_or_default()
    };
    let (summary, detail) = match e {
        ApiError::MissingCredentials(missing) => (
            "PlanetScale service token missing".to_owned(),
            format!(
                "Looking the branch's Private Service Name up through the PlanetScale API needs a service token, \
                 and {} {} not set. Set service_token_id and service_token in the provider \"planetscale\" \
                 block (pass service_token from a sensitive variable), or PLANETSCALE_SERVICE_TOKEN_ID and \
                 PLANETSCALE_SERVICE_TOKEN in the environment. Or give service_name, copied from the dashboard, \
                 instead of organization, database and branch.",
                missing.join(" and "),
                if missing.len() == 1 { "is" } else { "are" }
            ),
        ),
        ApiError::InvalidCredentials => (
            "Invalid PlanetScale service token".to_owned(),
            "service_token_id or service_token holds characters an HTTP header cannot carry (a line break, \
             perhaps). Copy them again from the organization's Settings, Service tokens."
                .to_owned(),
        ),
        ApiError::InvalidUrl(why) => (
            "Invalid PlanetScale API URL".to_owned(),
            format!("{why} Check api_url in the provider \"planetscale\" block."),
        ),
        ApiError::Unauthorized(message) => (
            "PlanetScale rejected the service token (401)".to_owned(),
            format!(
                "The PlanetScale API did not accept service_token_id and service_token{}. Check both (in the \
                 provider block, or PLANETSCALE_SERVICE_TOKEN_ID and PLANETSCALE_SERVICE_TOKEN): the token must \
                 be the one created with that id, and a deleted token no longer works. Service tokens are under \
                 the organization's Settings, Service tokens.",
                said(message)
            ),
        ),
        ApiError::Forbidden(message) => (
            "The service token may not read the branch (403)".to_owned(),
            format!(
                "The service token has no access to database {db:?} of organization {org:?}{}. Give it the \
                 read_branch access on that database (organization Settings, Service tokens, the token, \
                 database access), then apply again.",
                said(message)
            ),
        ),
        ApiError::NotFound(message) => (
            "Branch not found in PlanetScale (404)".to_owned(),
            format!(
                "PlanetScale found no branch {branch:?} in database {db:?} of organization {org:?}{}. Check \
                 organization, database and branch: they are the names in the dashboard's URL \
                 (app.planetscale.com/<organization>/<database>/<branch>). The database must be a Postgres \
                 database, and the service token must have access to it.",
                said(message)
            ),
        ),
        ApiError::NoRole => (
            "The branch has no role yet".to_owned(),
            format!(
                "Branch {branch:?} of {org}/{db} has no role, and PlanetScale gives the Private Service Name \
                 and Private Host with a branch's roles. Create a role in the dashboard (the database, \
                 Settings, Roles) or through the API (POST /organizations/{org}/databases/{db}/branches/\
                 {branch}/roles), then apply again."
            ),
        ),
        ApiError::RateLimited {
            message,
            retry_after,
        } => (
            "PlanetScale API rate limit (429)".to_owned(),
            format!(
                "The PlanetScale API kept refusing for too many requests{}{}. Wait {} and try again.",
                said(message),
                asked_to_wait(*retry_after),
                retry_after.map_or("a minute".to_owned(), |d| {
                    crate::framework::timeouts::format_duration(d)
                })
            ),
        ),
        ApiError::Server {
            status,
            message,
            retry_after,
        } => (
            format!("PlanetScale API error ({status})"),
            format!(
                "The PlanetScale API failed{}{} while looking up branch {branch:?} of {org}/{db}. The problem is \
                 on PlanetScale's side: try again in {}.",
                said(message),
                asked_to_wait(*retry_after),
                retry_after.map_or("a few minutes".to_owned(), |d| {
                    crate::framework::timeouts::format_duration(d)
                })
            ),
        ),
        ApiError::Status { status, message } => (
            format!("Unexpected answer from the PlanetScale API ({status})"),
            format!(
                "{api_url} answered HTTP {status}{}. Check that api_url is the PlanetScale API \
                 ({default}).",
                said(message),
                default = crate::privatelink::DEFAULT_API_URL
            ),
        ),
        ApiError::Timeout(limit) => (
            "The PlanetScale API did not answer".to_owned(),
            format!(
                "No answer from {api_url} within {}. Check the network path to the API (firewall, proxy), \
                 then try again.",
                crate::framework::timeouts::format_duration(*limit)
            ),
        ),
        ApiError::Transport(why) => (
            "Could not reach the PlanetScale API".to_owned(),
            format!("{api_url}: {why}. Check api_url and the network path to it, then try again."),
        ),
        ApiError::Malformed(why) => (
            "Unreadable answer from the PlanetScale API".to_owned(),
            format!(
                "{why}. Check that api_url points at the PlanetScale API ({}).",
                crate::privatelink::DEFAULT_API_URL
            ),
        ),
        ApiError::NotEnabled => (
            "PrivateLink is not enabled for the branch".to_owned(),
            format!(
                "PlanetScale reports no Private Service Name for the roles of branch {branch:?} of {org}/{db}, so \
                 the branch has no PrivateLink service yet. Enable PrivateLink for the branch (or ask PlanetScale support \
                 to); the dashboard then shows the Private Service Name under Settings, Roles."
            ),
        ),
        ApiError::Stopped => (
            "Interrupted".to_owned(),
            "Terraform was interrupted while the PlanetScale API was being asked.".to_owned(),
        ),
    };
    (summary, detail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::diag::Severity;
    use crate::framework::model::{ObjectBuilder, string};

    fn config(pairs: &[(&str, &str)]) -> Value {
        let mut b = ObjectBuilder::new();
        for name in [
            attr::service_name,
            attr::organization,
            attr::database,
            attr::branch,
        ] {
            b = b.set(name, Value::Null);
        }
        for (k, v) in pairs {
            b = b.set(k, string(*v));
        }
        b.build()
    }

    /// The attribute paths of the errors validation reports: the declared
    /// checks, then validate, as the server runs them.
    fn errors(config: &Value) -> Vec<String> {
        let mut diags = Diagnostics::new();
        ServiceDataSource.schema().block.check(config, &mut diags);
        ServiceDataSource.validate(config, &mut diags);
        diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(|d| {
                d.attribute
                    .as_ref()
                    .map(ToString::to_string)
                    .unwrap_or_default()
            })
            .collect()
    }

    const NAME: &str = "com.amazonaws.vpce.us-east-1.vpce-svc-0123456789abcdef0";

    #[test]
    fn one_way_to_name_the_service() {
        assert!(errors(&config(&[("service_name", NAME)])).is_empty());
        assert!(
            errors(&config(&[
                ("organization", "acme"),
                ("database", "db"),
                ("branch", "main")
            ]))
            .is_empty()
        );
        assert_eq!(errors(&config(&[])), vec!["service_name"]);
        assert_eq!(
            errors(&config(&[("service_name", NAME), ("organization", "acme")])),
            vec!["organization"]
        );
        assert_eq!(
            errors(&config(&[("organization", "acme")])),
            vec!["database", "branch"]
        );
    }

    #[test]
    fn unknown_values_count_as_given() {
        let mut c = config(&[("organization", "acme"), ("branch", "main")]);
        if let Value::Object(map) = &mut c {
            map.insert("database".into(), Value::unknown());
        }
        assert!(errors(&c).is_empty());
    }

    #[test]
    fn bad_values_are_named() {
        assert_eq!(
            errors(&config(&[("service_name", "vpce-svc-0123456789abcdef0")])),
            vec!["service_name"]
        );
        assert_eq!(
            errors(&config(&[
                ("organization", "acme"),
                ("database", "../x"),
                ("branch", "main")
            ])),
            vec!["database"]
        );
    }

    #[test]
    fn zone_ids_follow_the_zone_names() {
        let names = ["us-east-1a".to_owned(), "us-east-1b".to_owned()];
        let ids = ["use1-az4".to_owned(), "use1-az6".to_owned()];
        assert_eq!(zone_ids(&names, &names, &ids, None), Some(ids.to_vec()));
        // The answer's own order does not matter.
        let (reversed_names, reversed_ids) = (
            [names[1].clone(), names[0].clone()],
            [ids[1].clone(), ids[0].clone()],
        );
        assert_eq!(
            zone_ids(&names, &reversed_names, &reversed_ids, None),
            Some(ids.to_vec())
        );
        // None given: mapped, in the names' order.
        let map: BTreeMap<String, String> = [
            ("us-east-1b".to_owned(), "use1-az6".to_owned()),
            ("us-east-1a".to_owned(), "use1-az4".to_owned()),
            ("us-east-1c".to_owned(), "use1-az1".to_owned()),
        ]
        .into();
        assert_eq!(zone_ids(&names, &names, &[], None), None);
        assert_eq!(
            zone_ids(&names, &names, &[], Some(&map)),
            Some(ids.to_vec())
        );
        // A name neither tells: no half answer.
        let partial: BTreeMap<String, String> =
            [("us-east-1a".to_owned(), "use1-az4".to_owned())].into();
        assert_eq!(zone_ids(&names, &[], &[], Some(&partial)), None);
        assert_eq!(zone_ids(&[], &[], &[], Some(&map)), Some(vec![]));
    }

    #[test]
    fn every_api_failure_has_its_own_summary() {
        let b = BranchRef {
            organization: "acme",
            database: "db",
            branch: "main",
        };
        let errors = [
            ApiError::MissingCredentials(vec!["service_token"]),
            ApiError::InvalidCredentials,
            ApiError::InvalidUrl("bad".into()),
            ApiError::Unauthorized(None),
            ApiError::Forbidden(None),
            ApiError::NotFound(None),
            ApiError::NoRole,
            ApiError::RateLimited {
                message: None,
                retry_after: None,
            },
            ApiError::Server {
                status: 500,
                message: None,
                retry_after: None,
            },
            ApiError::Status {
                status: 302,
                message: None,
            },
            ApiError::Timeout(std::time::Duration::from_secs(30)),
            ApiError::Transport("refused".into()),
            ApiError::Malformed("not valid JSON".into()),
            ApiError::NotEnabled,
            ApiError::Stopped,
        ];
        let mut summaries: Vec<String> = errors
            .iter()
            .map(|e| api_error(e, &b, "https://api.planetscale.com/v1").0)
            .collect();
        let n = summaries.len();
        summaries.sort();
        summaries.dedup();
        assert_eq!(summaries.len(), n, "{summaries:?}");
        let (_, detail) = api_error(&errors[0], &b, "");
        assert!(detail.contains("service_token"), "{detail}");
        let (_, detail) = api_error(&errors[4], &b, "");
        assert!(detail.contains("read_branch"), "{detail}");
        let (_, detail) = api_error(&ApiError::NoRole, &b, "");
        assert!(
            detail.contains("Settings, Roles") && detail.contains("through the API"),
            "{detail}"
        );
    }

    #[test]
    fn missing_credentials_are_named_in_a_sentence() {
        let b = BranchRef {
            organization: "acme",
            database: "db",
            branch: "main",
        };
        let (_, one) = api_error(&ApiError::MissingCredentials(vec!["service_token"]), &b, "");
        assert!(one.contains("and service_token is not set."), "{one}");
        let (_, both) = api_error(
            &ApiError::MissingCredentials(vec!["service_token_id", "service_token"]),
            &b,
            "",
        );
        assert!(
            both.contains("and service_token_id and service_token are not set."),
            "{both}"
        );
    }

    #[test]
    fn a_wait_past_the_bound_is_named() {
        let b = BranchRef {
            organization: "acme",
            database: "db",
            branch: "main",
        };
        let (_, detail) = api_error(
            &ApiError::RateLimited {
                message: None,
                retry_after: Some(std::time::Duration::from_secs(120)),
            },
            &b,
            "",
        );
        assert!(detail.contains("asked to wait 2m"), "{detail}");
    }
}
