//! The gRPC services Terraform talks to: tfplugin6's `Provider`, and
//! go-plugin's controller, stdio, broker and health services.
//!
//! This layer only converts: protobuf in, framework values to
//! [`Server`](crate::framework::server::Server), protobuf out. Each RPC runs
//! in a tracing span naming the RPC and the resource type.
//!
//! Every RPC that runs provider code is answered by an `answer_*` method,
//! which the service's method runs [`contained`]: a panic there becomes an
//! error diagnostic naming the resource, the state Terraform sent goes back
//! unchanged, and the next RPC is served as usual.

mod contain;
mod convert;

#[cfg(debug_assertions)]
pub use contain::injected;
#[cfg(not(debug_assertions))]
use contain::injected;

use std::pin::Pin;
use std::sync::{Arc, OnceLock};

use tokio_stream::Stream;
use tokio_util::sync::CancellationToken;
use tonic::{Request, Response, Status};
use tracing::Instrument as _;

use crate::framework::diag::Diagnostics;
use crate::framework::model::Attrs;
use crate::framework::server::{Provider, Server};
use crate::framework::value::Value;
use contain::{Doing, contained};

#[allow(clippy::all, missing_docs)]
pub mod tfplugin6 {
    tonic::include_proto!("tfplugin6");
}

#[allow(clippy::all, missing_docs)]
pub mod goplugin {
    tonic::include_proto!("plugin");
}

#[allow(clippy::all, missing_docs)]
pub mod health {
    tonic::include_proto!("grpc.health.v1");
}

use tfplugin6 as pb;

/// All services of one provider process, ready to serve. `shutdown` is
/// cancelled by `GRPCController.Shutdown` and ends the long-lived streams.
pub fn router<P: Provider>(
    server: Arc<Server<P>>,
    shutdown: CancellationToken,
) -> tonic::transport::server::Router {
    tonic::transport::Server::builder()
        .add_service(pb::provider_server::ProviderServer::new(
            ProviderService::new(server),
        ))
        .add_service(goplugin::grpc_controller_server::GrpcControllerServer::new(
            Controller {
                shutdown: shutdown.clone(),
            },
        ))
        .add_service(goplugin::grpc_stdio_server::GrpcStdioServer::new(Stdio {
            shutdown: shutdown.clone(),
        }))
        .add_service(goplugin::grpc_broker_server::GrpcBrokerServer::new(
            Broker {
                shutdown: shutdown.clone(),
            },
        ))
        .add_service(health::health_server::HealthServer::new(Health {
            shutdown,
        }))
}

pub struct ProviderService<P: Provider> {
    server: Arc<Server<P>>,
    /// GetProviderSchema's answer never changes; it is built on first use.
    schema: OnceLock<pb::get_provider_schema::Response>,
}

impl<P: Provider> ProviderService<P> {
    pub fn new(server: Arc<Server<P>>) -> Self {
        Self {
            server,
            schema: OnceLock::new(),
        }
    }

    fn capabilities() -> pb::ServerCapabilities {
        pb::ServerCapabilities {
            plan_destroy: false,
            get_provider_schema_optional: true,
            move_resource_state: true,
            generate_resource_config: false,
        }
    }

    fn build_schema(&self) -> pb::get_provider_schema::Response {
        let s = &self.server;
        pb::get_provider_schema::Response {
            provider: Some(convert::schema(&s.provider_schema)),
            resource_schemas: s
                .resources
                .iter()
                .map(|(name, e)| (name.to_string(), convert::schema(&e.schema)))
                .collect(),
            data_source_schemas: s
                .data_sources
                .iter()
                .map(|(name, e)| (name.to_string(), convert::schema(&e.schema)))
                .collect(),
            list_resource_schemas: s
                .resources
                .iter()
                .filter_map(|(name, e)| {
                    Some((name.to_string(), convert::schema(&e.list.as_ref()?.0)))
                })
                .collect(),
            server_capabilities: Some(Self::capabilities()),
            ..Default::default()
        }
    }

    fn resource_type(
        &self,
        type_name: &str,
        diags: &mut Diagnostics,
    ) -> Option<crate::framework::types::Type> {
        self.server.resource(type_name, diags).map(|e| e.ty.clone())
    }

    /// The identity's value type of a resource type that has an identity.
    fn identity_type(&self, type_name: &str) -> Option<crate::framework::types::Type> {
        Some(
            self.server
                .resources
                .get(type_name)?
                .identity
                .as_ref()?
                .1
                .clone(),
        )
    }

    /// The identity of the object `state` describes, encoded; none for a
    /// type without identity or a null state.
    fn identity(
        &self,
        type_name: &str,
        state: &crate::framework::value::Value,
        diags: &mut Diagnostics,
    ) -> Option<pb::ResourceIdentityData> {
        let ty = self.identity_type(type_name)?;
        convert::identity(self.server.identity_of(type_name, state), &ty, diags)
    }

    /// The `id` in a state Terraform sent, if it has one: for the
    /// diagnostic of a panic, which names the resource it concerns.
    fn resource_id(&self, type_name: &str, state: Option<&pb::DynamicValue>) -> Option<String> {
        let ty = &self.server.resources.get(type_name)?.ty;
        let value = convert::decode(state, ty, "state", &mut Diagnostics::new());
        Attrs::of(&value).string("id")
    }
}

/// A handler's answer, as tonic wants it. Every failure is a diagnostic in
/// the answer, never a gRPC error, which Terraform would show as a broken
/// plugin.
async fn answer<T>(response: impl std::future::Future<Output = T>) -> Result<Response<T>, Status> {
    Ok(Response::new(response.await))
}

fn span(rpc: &'static str, type_name: &str) -> tracing::Span {
    tracing::debug_span!("rpc", tf_rpc = rpc, tf_resource_type = type_name)
}

impl<P: Provider> ProviderService<P> {
    async fn answer_validate_provider_config(
        &self,
        req: pb::validate_provider_config::Request,
    ) -> pb::validate_provider_config::Response {
        injected::fire("ValidateProviderConfig", "");
        let mut diags = Diagnostics::new();
        let config = convert::decode(
            req.config.as_ref(),
            &self.server.provider_ty,
            "provider configuration",
            &mut diags,
        );
        if !diags.has_errors() {
            self.server.validate_provider(&config, &mut diags);
        }
        pb::validate_provider_config::Response {
            diagnostics: convert::diagnostics(diags),
        }
    }

    async fn answer_validate_resource_config(
        &self,
        req: pb::validate_resource_config::Request,
    ) -> pb::validate_resource_config::Response {
        injected::fire("ValidateResourceConfig", &req.type_name);
        let mut diags = Diagnostics::new();
        if let Some(ty) = self.resource_type(&req.type_name, &mut diags) {
            let config = convert::decode(req.config.as_ref(), &ty, "configuration", &mut diags);
            if !diags.has_errors() {
                self.server
                    .validate_resource(&req.type_name, &config, &mut diags);
            }
        }
        pb::validate_resource_config::Response {
            diagnostics: convert::diagnostics(diags),
        }
    }

    async fn answer_validate_data_resource_config(
        &self,
        req: pb::validate_data_resource_config::Request,
    ) -> pb::validate_data_resource_config::Response {
        injected::fire("ValidateDataResourceConfig", &req.type_name);
        let mut diags = Diagnostics::new();
        if let Some(ty) = self
            .server
            .data_source(&req.type_name, &mut diags)
            .map(|e| e.ty.clone())
        {
            let config = convert::decode(req.config.as_ref(), &ty, "configuration", &mut diags);
            if !diags.has_errors() {
                self.server
                    .validate_data_source(&req.type_name, &config, &mut diags);
            }
        }
        pb::validate_data_resource_config::Response {
            diagnostics: convert::diagnostics(diags),
        }
    }

    async fn answer_upgrade_resource_state(
        &self,
        req: pb::upgrade_resource_state::Request,
    ) -> pb::upgrade_resource_state::Response {
        injected::fire("UpgradeResourceState", &req.type_name);
        let mut diags = Diagnostics::new();
        let mut upgraded_state = None;
        if let Some(ty) = self.resource_type(&req.type_name, &mut diags) {
            let raw = req.raw_state.map(|r| r.json).unwrap_or_default();
            let json = pb::DynamicValue {
                msgpack: Vec::new(),
                json: raw,
            };
            let state = convert::decode(Some(&json), &ty, "stored state", &mut diags);
            if !diags.has_errors()
                && let Some(state) =
                    self.server
                        .upgrade(&req.type_name, req.version, state, &mut diags)
            {
                upgraded_state = convert::encode(&state, &ty, "upgraded state", &mut diags);
            }
        }
        pb::upgrade_resource_state::Response {
            upgraded_state,
            diagnostics: convert::diagnostics(diags),
        }
    }

    async fn answer_configure_provider(
        &self,
        req: pb::configure_provider::Request,
    ) -> pb::configure_provider::Response {
        injected::fire("ConfigureProvider", "");
        let mut diags = Diagnostics::new();
        let config = convert::decode(
            req.config.as_ref(),
            &self.server.provider_ty,
            "provider configuration",
            &mut diags,
        );
        if !diags.has_errors() {
            self.server
                .configure(&config, &mut diags)
                .instrument(span("ConfigureProvider", ""))
                .await;
        }
        pb::configure_provider::Response {
            diagnostics: convert::diagnostics(diags),
        }
    }

    async fn answer_read_resource(
        &self,
        req: pb::read_resource::Request,
    ) -> pb::read_resource::Response {
        injected::fire("ReadResource", &req.type_name);
        let mut diags = Diagnostics::new();
        let mut new_state = None;
        let mut new_identity = None;
        if let Some(ty) = self.resource_type(&req.type_name, &mut diags) {
            let state =
                convert::decode(req.current_state.as_ref(), &ty, "current state", &mut diags);
            if !diags.has_errors() {
                let fresh = self
                    .server
                    .read(&req.type_name, state, &mut diags)
                    .instrument(span("ReadResource", &req.type_name))
                    .await;
                new_state = convert::encode(&fresh, &ty, "new state", &mut diags);
                new_identity = self.identity(&req.type_name, &fresh, &mut diags);
            }
        }
        pb::read_resource::Response {
            new_state,
            new_identity,
            diagnostics: convert::diagnostics(diags),
            private: req.private,
            ..Default::default()
        }
    }

    async fn answer_plan_resource_change(
        &self,
        req: pb::plan_resource_change::Request,
    ) -> pb::plan_resource_change::Response {
        injected::fire("PlanResourceChange", &req.type_name);
        let mut diags = Diagnostics::new();
        let mut response = pb::plan_resource_change::Response::default();
        if let Some(ty) = self.resource_type(&req.type_name, &mut diags) {
            let prior = convert::decode(req.prior_state.as_ref(), &ty, "prior state", &mut diags);
            let proposed = convert::decode(
                req.proposed_new_state.as_ref(),
                &ty,
                "proposed state",
                &mut diags,
            );
            let config = convert::decode(req.config.as_ref(), &ty, "configuration", &mut diags);
            let prior_for_identity = prior.clone();
            if !diags.has_errors() {
                let plan = self
                    .server
                    .plan(
                        &req.type_name,
                        prior,
                        proposed,
                        config,
                        req.prior_private,
                        &mut diags,
                    )
                    .instrument(span("PlanResourceChange", &req.type_name))
                    .await;
                response.planned_state =
                    convert::encode(&plan.planned, &ty, "planned state", &mut diags);
                response.requires_replace = plan
                    .requires_replace
                    .iter()
                    .map(convert::attribute_path)
                    .collect();
                response.planned_private = plan.private;
                // An object keeps its identity: a create's is known only
                // once applied, and a destroy plans none.
                if !plan.planned.is_null() {
                    response.planned_identity =
                        self.identity(&req.type_name, &prior_for_identity, &mut diags);
                }
            }
        }
        response.diagnostics = convert::diagnostics(diags);
        response
    }

    async fn answer_apply_resource_change(
        &self,
        req: pb::apply_resource_change::Request,
    ) -> pb::apply_resource_change::Response {
        injected::fire("ApplyResourceChange", &req.type_name);
        let mut diags = Diagnostics::new();
        let mut response = pb::apply_resource_change::Response::default();
        if let Some(ty) = self.resource_type(&req.type_name, &mut diags) {
            let prior = convert::decode(req.prior_state.as_ref(), &ty, "prior state", &mut diags);
            let planned =
                convert::decode(req.planned_state.as_ref(), &ty, "planned state", &mut diags);
            if !diags.has_errors() {
                let applied = self
                    .server
                    .apply(
                        &req.type_name,
                        prior,
                        planned,
                        req.planned_private,
                        &mut diags,
                    )
                    .instrument(span("ApplyResourceChange", &req.type_name))
                    .await;
                response.new_state =
                    convert::encode(&applied.new_state, &ty, "new state", &mut diags);
                response.new_identity =
                    self.identity(&req.type_name, &applied.new_state, &mut diags);
                response.private = applied.private;
            }
        }
        response.diagnostics = convert::diagnostics(diags);
        response
    }

    async fn answer_import_resource_state(
        &self,
        req: pb::import_resource_state::Request,
    ) -> pb::import_resource_state::Response {
        injected::fire("ImportResourceState", &req.type_name);
        let mut diags = Diagnostics::new();
        let mut imported_resources = Vec::new();
        if let Some(ty) = self.resource_type(&req.type_name, &mut diags) {
            // Terraform 1.12 and later import by identity: no id then.
            let by_identity = req
                .identity
                .as_ref()
                .and_then(|i| i.identity_data.as_ref())
                .filter(|_| req.id.is_empty());
            let identity = match (by_identity, self.identity_type(&req.type_name)) {
                (Some(data), Some(identity_ty)) => Some(convert::decode(
                    Some(data),
                    &identity_ty,
                    "identity",
                    &mut diags,
                )),
                (Some(_), None) => Some(Value::Null),
                (None, _) => None,
            };
            let state = if diags.has_errors() {
                None
            } else {
                self.server
                    .import(&req.type_name, &req.id, identity.as_ref(), &mut diags)
                    .instrument(span("ImportResourceState", &req.type_name))
                    .await
            };
            if let Some(state) = state.filter(|_| !diags.has_errors()) {
                let identity = self.identity(&req.type_name, &state, &mut diags);
                imported_resources.push(pb::import_resource_state::ImportedResource {
                    type_name: req.type_name.clone(),
                    state: convert::encode(&state, &ty, "imported state", &mut diags),
                    identity,
                    ..Default::default()
                });
            }
        }
        pb::import_resource_state::Response {
            imported_resources,
            diagnostics: convert::diagnostics(diags),
            deferred: None,
        }
    }

    async fn answer_move_resource_state(
        &self,
        req: pb::move_resource_state::Request,
    ) -> pb::move_resource_state::Response {
        injected::fire("MoveResourceState", &req.target_type_name);
        let mut diags = Diagnostics::new();
        let mut target_state = None;
        if let Some(ty) = self.resource_type(&req.target_type_name, &mut diags) {
            let json = req.source_state.map(|s| s.json).unwrap_or_default();
            let moved = self
                .server
                .move_state(
                    &req.target_type_name,
                    &req.source_provider_address,
                    &req.source_type_name,
                    &json,
                    &mut diags,
                )
                .instrument(span("MoveResourceState", &req.target_type_name))
                .await;
            if let Some(state) = moved {
                target_state = convert::encode(&state, &ty, "moved state", &mut diags);
            }
        }
        pb::move_resource_state::Response {
            target_state,
            diagnostics: convert::diagnostics(diags),
            ..Default::default()
        }
    }

    /// ListResource: one event per object found; an error is one event
    /// carrying the diagnostics.
    async fn answer_list_resource(
        &self,
        req: pb::list_resource::Request,
    ) -> Vec<pb::list_resource::Event> {
        injected::fire("ListResource", &req.type_name);
        let mut diags = Diagnostics::new();
        let mut events = Vec::new();
        let types = self
            .server
            .list_entry(&req.type_name, &mut diags)
            .map(|(_, t)| t.clone());
        if let (Some(list_ty), Some(identity_ty), Some(ty)) = (
            types,
            self.identity_type(&req.type_name),
            self.server
                .resources
                .get(req.type_name.as_str())
                .map(|e| e.ty.clone()),
        ) {
            let config = convert::decode(
                req.config.as_ref(),
                &list_ty,
                "list configuration",
                &mut diags,
            );
            if !diags.has_errors() {
                let limit = usize::try_from(req.limit)
                    .ok()
                    .filter(|l| *l > 0)
                    .unwrap_or(usize::MAX);
                let found = self
                    .server
                    .list(
                        &req.type_name,
                        &config,
                        req.include_resource_object,
                        limit,
                        &mut diags,
                    )
                    .instrument(span("ListResource", &req.type_name))
                    .await;
                for object in found {
                    let mut encode_diags = object.warnings;
                    let identity =
                        convert::identity(Some(object.identity), &identity_ty, &mut encode_diags);
                    let resource_object = object
                        .state
                        .and_then(|s| convert::encode(&s, &ty, "listed state", &mut encode_diags));
                    events.push(pb::list_resource::Event {
                        identity,
                        display_name: object.display_name,
                        resource_object,
                        diagnostic: convert::diagnostics(encode_diags),
                    });
                }
            }
        }
        if !diags.is_empty() {
            events.push(pb::list_resource::Event {
                diagnostic: convert::diagnostics(diags),
                ..Default::default()
            });
        }
        events
    }

    async fn answer_read_data_source(
        &self,
        req: pb::read_data_source::Request,
    ) -> pb::read_data_source::Response {
        injected::fire("ReadDataSource", &req.type_name);
        let mut diags = Diagnostics::new();
        let mut state = None;
        if let Some(ty) = self
            .server
            .data_source(&req.type_name, &mut diags)
            .map(|e| e.ty.clone())
        {
            let config = convert::decode(req.config.as_ref(), &ty, "configuration", &mut diags);
            if !diags.has_errors() {
                let value = self
                    .server
                    .read_data_source(&req.type_name, config, &mut diags)
                    .instrument(span("ReadDataSource", &req.type_name))
                    .await;
                if !value.is_null() {
                    state = convert::encode(&value, &ty, "data source state", &mut diags);
                }
            }
        }
        pb::read_data_source::Response {
            state,
            diagnostics: convert::diagnostics(diags),
            deferred: None,
        }
    }
}

#[tonic::async_trait]
impl<P: Provider> pb::provider_server::Provider for ProviderService<P> {
    async fn get_metadata(
        &self,
        _request: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        use pb::get_metadata as m;
        let s = &self.server;
        Ok(Response::new(m::Response {
            server_capabilities: Some(Self::capabilities()),
            resources: s
                .resources
                .keys()
                .map(|n| m::ResourceMetadata {
                    type_name: n.to_string(),
                })
                .collect(),
            data_sources: s
                .data_sources
                .keys()
                .map(|n| m::DataSourceMetadata {
                    type_name: n.to_string(),
                })
                .collect(),
            list_resources: s
                .resources
                .iter()
                .filter(|(_, e)| e.list.is_some())
                .map(|(n, _)| m::ListResourceMetadata {
                    type_name: n.to_string(),
                })
                .collect(),
            ..Default::default()
        }))
    }

    async fn get_provider_schema(
        &self,
        _request: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        let schema = self.schema.get_or_init(|| self.build_schema());
        Ok(Response::new(schema.clone()))
    }

    async fn get_resource_identity_schemas(
        &self,
        _request: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Result<Response<pb::get_resource_identity_schemas::Response>, Status> {
        let identity_schemas = self
            .server
            .resources
            .iter()
            .filter_map(|(name, entry)| {
                let (schema, _) = entry.identity.as_ref()?;
                Some(((*name).to_owned(), convert::identity_schema(schema)))
            })
            .collect();
        Ok(Response::new(pb::get_resource_identity_schemas::Response {
            identity_schemas,
            diagnostics: Vec::new(),
        }))
    }

    async fn validate_list_resource_config(
        &self,
        request: Request<pb::validate_list_resource_config::Request>,
    ) -> Result<Response<pb::validate_list_resource_config::Response>, Status> {
        let req = request.into_inner();
        let mut diags = Diagnostics::new();
        if let Some((_, ty)) = self.server.list_entry(&req.type_name, &mut diags) {
            let config = convert::decode(req.config.as_ref(), ty, "list configuration", &mut diags);
            if !diags.has_errors() {
                self.server
                    .validate_list(&req.type_name, &config, &mut diags);
            }
        }
        Ok(Response::new(pb::validate_list_resource_config::Response {
            diagnostics: convert::diagnostics(diags),
        }))
    }

    /// ListResource: the events of [`answer_list_resource`], then the
    /// stream ends.
    async fn list_resource(
        &self,
        request: Request<pb::list_resource::Request>,
    ) -> Result<Response<BoxStream<pb::list_resource::Event>>, Status> {
        let req = request.into_inner();
        let type_name = req.type_name.clone();
        let doing = || Doing::of("ListResource", "listing", &type_name);
        let events = contained(doing, self.answer_list_resource(req), |diagnostic| {
            vec![pb::list_resource::Event {
                diagnostic,
                ..Default::default()
            }]
        })
        .await;
        let stream: BoxStream<pb::list_resource::Event> =
            Box::pin(tokio_stream::iter(events.into_iter().map(Ok)));
        Ok(Response::new(stream))
    }

    async fn upgrade_resource_identity(
        &self,
        request: Request<pb::upgrade_resource_identity::Request>,
    ) -> Result<Response<pb::upgrade_resource_identity::Response>, Status> {
        let req = request.into_inner();
        let mut diags = Diagnostics::new();
        let json = req.raw_identity.map(|r| r.json).unwrap_or_default();
        let upgraded = self
            .server
            .upgrade_identity(&req.type_name, req.version, &json, &mut diags);
        let upgraded_identity = match (upgraded, self.identity_type(&req.type_name)) {
            (Some(value), Some(ty)) => convert::identity(Some(value), &ty, &mut diags),
            _ => None,
        };
        Ok(Response::new(pb::upgrade_resource_identity::Response {
            upgraded_identity,
            diagnostics: convert::diagnostics(diags),
        }))
    }

    async fn get_functions(
        &self,
        _request: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        Ok(Response::new(Default::default()))
    }

    async fn validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        let req = request.into_inner();
        let doing = || {
            Doing::provider(
                "ValidateProviderConfig",
                "validating the provider configuration",
            )
        };
        answer(contained(
            doing,
            self.answer_validate_provider_config(req),
            |diagnostics| pb::validate_provider_config::Response { diagnostics },
        ))
        .await
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        let req = request.into_inner();
        let type_name = req.type_name.clone();
        let doing = || {
            Doing::of(
                "ValidateResourceConfig",
                "validating the configuration of",
                &type_name,
            )
        };
        answer(contained(
            doing,
            self.answer_validate_resource_config(req),
            |diagnostics| pb::validate_resource_config::Response { diagnostics },
        ))
        .await
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        let req = request.into_inner();
        let type_name = req.type_name.clone();
        let doing = || {
            Doing::of(
                "ValidateDataResourceConfig",
                "validating the configuration of data source",
                &type_name,
            )
        };
        answer(contained(
            doing,
            self.answer_validate_data_resource_config(req),
            |diagnostics| pb::validate_data_resource_config::Response { diagnostics },
        ))
        .await
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let req = request.into_inner();
        let type_name = req.type_name.clone();
        let doing = || {
            Doing::of(
                "UpgradeResourceState",
                "reading the stored state of",
                &type_name,
            )
            .untouched_state()
        };
        answer(contained(
            doing,
            self.answer_upgrade_resource_state(req),
            |diagnostics| pb::upgrade_resource_state::Response {
                upgraded_state: None,
                diagnostics,
            },
        ))
        .await
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        let req = request.into_inner();
        let doing = || Doing::provider("ConfigureProvider", "configuring the provider");
        answer(contained(
            doing,
            self.answer_configure_provider(req),
            |diagnostics| pb::configure_provider::Response { diagnostics },
        ))
        .await
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let req = request.into_inner();
        // On a panic the state goes back as it came: nothing is forgotten.
        let (type_name, state, private) = (
            req.type_name.clone(),
            req.current_state.clone(),
            req.private.clone(),
        );
        let doing = || {
            Doing::of("ReadResource", "reading", &type_name)
                .id(self.resource_id(&type_name, state.as_ref()))
                .untouched_state()
        };
        answer(contained(
            doing,
            self.answer_read_resource(req),
            |diagnostics| pb::read_resource::Response {
                new_state: state.clone(),
                diagnostics,
                private,
                ..Default::default()
            },
        ))
        .await
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let req = request.into_inner();
        let (type_name, prior) = (req.type_name.clone(), req.prior_state.clone());
        let doing = || {
            Doing::of("PlanResourceChange", "planning", &type_name)
                .id(self.resource_id(&type_name, prior.as_ref()))
                .untouched_state()
        };
        answer(contained(
            doing,
            self.answer_plan_resource_change(req),
            |diagnostics| pb::plan_resource_change::Response {
                diagnostics,
                ..Default::default()
            },
        ))
        .await
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let req = request.into_inner();
        // On a panic the prior state goes back: an update or a delete
        // leaves the resource in state as it was.
        let (type_name, prior, private) = (
            req.type_name.clone(),
            req.prior_state.clone(),
            req.planned_private.clone(),
        );
        let deleting = convert::is_null(req.planned_state.as_ref());
        let doing = || {
            let id = self.resource_id(&type_name, prior.as_ref());
            let state = match (&id, deleting) {
                (None, _) => "Anything created before the panic is not in Terraform's state: \
                              look for it in AWS before applying again."
                    .to_owned(),
                (Some(id), false) => {
                    format!("{id} stays in state as it was before this change.")
                }
                (Some(id), true) => format!(
                    "{id} stays in state; the delete may have begun, and the next apply \
                     or destroy tries again."
                ),
            };
            let verb = match (&id, deleting) {
                (None, _) => "creating",
                (Some(_), false) => "updating",
                (Some(_), true) => "deleting",
            };
            Doing::of("ApplyResourceChange", verb, &type_name)
                .id(id)
                .state(state)
        };
        answer(contained(
            doing,
            self.answer_apply_resource_change(req),
            |diagnostics| pb::apply_resource_change::Response {
                new_state: prior.clone(),
                private,
                diagnostics,
                ..Default::default()
            },
        ))
        .await
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let req = request.into_inner();
        let (type_name, id) = (req.type_name.clone(), req.id.clone());
        let doing = || {
            Doing::of("ImportResourceState", "importing", &type_name)
                .id(Some(id))
                .state("Nothing was imported.".to_owned())
        };
        answer(contained(
            doing,
            self.answer_import_resource_state(req),
            |diagnostics| pb::import_resource_state::Response {
                diagnostics,
                ..Default::default()
            },
        ))
        .await
    }

    async fn move_resource_state(
        &self,
        request: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        let req = request.into_inner();
        let (type_name, source) = (req.target_type_name.clone(), req.source_type_name.clone());
        let doing = || {
            Doing::of(
                "MoveResourceState",
                &format!("moving the state of {source} to"),
                &type_name,
            )
            .state(format!("The state of {source} is left as it was."))
        };
        answer(contained(
            doing,
            self.answer_move_resource_state(req),
            |diagnostics| pb::move_resource_state::Response {
                diagnostics,
                ..Default::default()
            },
        ))
        .await
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        let req = request.into_inner();
        let type_name = req.type_name.clone();
        let doing = || Doing::of("ReadDataSource", "reading data source", &type_name);
        answer(contained(
            doing,
            self.answer_read_data_source(req),
            |diagnostics| pb::read_data_source::Response {
                diagnostics,
                ..Default::default()
            },
        ))
        .await
    }

    async fn stop_provider(
        &self,
        _request: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        tracing::info!("StopProvider: cancelling work in flight");
        self.server.stop();
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}

/// `GRPCController`: Terraform's way of saying the process may exit.
struct Controller {
    shutdown: CancellationToken,
}

#[tonic::async_trait]
impl goplugin::grpc_controller_server::GrpcController for Controller {
    async fn shutdown(
        &self,
        _request: Request<goplugin::Empty>,
    ) -> Result<Response<goplugin::Empty>, Status> {
        tracing::debug!("GRPCController.Shutdown");
        self.shutdown.cancel();
        Ok(Response::new(goplugin::Empty {}))
    }
}

type BoxStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send + 'static>>;

/// A stream that sends nothing and ends at shutdown (or when the client
/// goes away).
fn idle_until<T: Send + 'static>(shutdown: CancellationToken) -> BoxStream<T> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<T, Status>>(1);
    tokio::spawn(async move {
        tokio::select! {
            _ = shutdown.cancelled() => {}
            _ = tx.closed() => {}
        }
    });
    Box::pin(tokio_stream::wrappers::ReceiverStream::new(rx))
}

/// `GRPCStdio`: this provider writes nothing to stdout or stderr but logs,
/// which go-plugin reads from the process's stderr pipe, so the stream
/// stays open and silent until shutdown.
struct Stdio {
    shutdown: CancellationToken,
}

#[tonic::async_trait]
impl goplugin::grpc_stdio_server::GrpcStdio for Stdio {
    async fn stream_stdio(
        &self,
        _request: Request<()>,
    ) -> Result<Response<BoxStream<goplugin::StdioData>>, Status> {
        Ok(Response::new(idle_until(self.shutdown.clone())))
    }
}

/// `GRPCBroker`: this provider opens no extra connections, so the broker
/// stream only stays open until shutdown.
struct Broker {
    shutdown: CancellationToken,
}

#[tonic::async_trait]
impl goplugin::grpc_broker_server::GrpcBroker for Broker {
    async fn start_stream(
        &self,
        _request: Request<tonic::Streaming<goplugin::ConnInfo>>,
    ) -> Result<Response<BoxStream<goplugin::ConnInfo>>, Status> {
        Ok(Response::new(idle_until(self.shutdown.clone())))
    }
}

/// The standard health service: `plugin` (go-plugin's name) is serving.
struct Health {
    shutdown: CancellationToken,
}

#[tonic::async_trait]
impl health::health_server::Health for Health {
    async fn check(
        &self,
        request: Request<health::HealthCheckRequest>,
    ) -> Result<Response<health::HealthCheckResponse>, Status> {
        match request.into_inner().service.as_str() {
            "" | "plugin" => Ok(Response::new(serving())),
            other => Err(Status::not_found(format!("unknown service {other:?}"))),
        }
    }

    async fn watch(
        &self,
        _request: Request<health::HealthCheckRequest>,
    ) -> Result<Response<BoxStream<health::HealthCheckResponse>>, Status> {
        let first = tokio_stream::once(Ok(serving()));
        let rest = idle_until(self.shutdown.clone());
        Ok(Response::new(Box::pin(tokio_stream::StreamExt::chain(
            first, rest,
        ))))
    }
}

fn serving() -> health::HealthCheckResponse {
    health::HealthCheckResponse {
        status: health::health_check_response::ServingStatus::Serving as i32,
    }
}
