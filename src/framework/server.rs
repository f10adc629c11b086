//! The provider-agnostic server: the traits a provider, its resources and
//! data sources implement, and the logic Terraform's RPCs run through
//! (dispatch, the generic planner, and guards against provider bugs).
//!
//! Everything here works on framework values; `protocol/` converts to and
//! from protobuf on either side.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, RwLock};

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::framework::diag::Diagnostics;
use crate::framework::path::AttributePath;
use crate::framework::plan;
use crate::framework::schema::Schema;
use crate::framework::types::Type;
use crate::framework::value::Value;

/// What every operation receives: the configured provider's data and a token
/// that StopProvider cancels.
pub struct Ctx<D> {
    pub data: Arc<D>,
    pub stop: CancellationToken,
}

/// A provider: its own schema and configuration, and its resources and data
/// sources.
#[async_trait]
pub trait Provider: Send + Sync + 'static {
    /// What ConfigureProvider produces and every operation shares (clients).
    type Data: Send + Sync + 'static;

    fn schema(&self) -> Schema;
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}
    async fn configure(&self, config: &Value, diags: &mut Diagnostics) -> Option<Self::Data>;
    fn resources(&self) -> Vec<Arc<dyn Resource<Self::Data>>>;
    fn data_sources(&self) -> Vec<Arc<dyn DataSource<Self::Data>>>;
}

/// What a resource's plan hook sees and may change.
pub struct PlanChange<'a> {
    /// Null when the resource is being created.
    pub prior: &'a Value,
    pub config: &'a Value,
    /// Starts as Terraform's proposed new state after the generic planner's
    /// defaults, RequiresReplace and UseStateForUnknown.
    pub planned: Value,
    pub requires_replace: Vec<AttributePath>,
    /// Whether anything differs from the prior state (always true on create).
    /// Checks that call AWS run only when this is true.
    pub changing: bool,
}

/// A managed resource. Hooks run in the order the file of each resource
/// follows: schema, validate, plan, create, read, update, delete, import.
#[async_trait]
pub trait Resource<D>: Send + Sync + 'static {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;

    /// Checks the configuration without calling anything (ValidateResourceConfig).
    /// Values may be unknown here; check only what is known.
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}

    /// Adjusts the plan after the generic planner (computed names, tags_all,
    /// checks that need the provider's configuration or AWS).
    async fn plan(&self, _ctx: &Ctx<D>, _change: &mut PlanChange<'_>, _diags: &mut Diagnostics) {}

    /// Creates the resource. Once anything exists in AWS, return a state that
    /// points at it even when a later step fails, so Terraform taints it
    /// instead of forgetting it.
    async fn create(&self, ctx: &Ctx<D>, planned: &Value, diags: &mut Diagnostics)
    -> Option<Value>;

    /// Refreshes the state; `None` when the resource no longer exists.
    async fn read(&self, ctx: &Ctx<D>, state: &Value, diags: &mut Diagnostics) -> Option<Value>;

    /// Updates in place. Return the state as it now is, even on failure.
    async fn update(
        &self,
        ctx: &Ctx<D>,
        prior: &Value,
        planned: &Value,
        diags: &mut Diagnostics,
    ) -> Value;

    async fn delete(&self, ctx: &Ctx<D>, prior: &Value, diags: &mut Diagnostics);

    /// Turns an import id into a state holding at least the id; Terraform
    /// reads it right after.
    async fn import(&self, ctx: &Ctx<D>, id: &str, diags: &mut Diagnostics) -> Option<Value>;

    /// Adopts state of another provider's resource type (MoveResourceState).
    /// `None` when this resource does not accept moves from that type.
    async fn move_state(
        &self,
        _source_provider: &str,
        _source_type: &str,
        _source_json: &[u8],
        _diags: &mut Diagnostics,
    ) -> Option<Value> {
        None
    }
}

/// A data source.
#[async_trait]
pub trait DataSource<D>: Send + Sync + 'static {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;
    fn validate(&self, _config: &Value, _diags: &mut Diagnostics) {}
    async fn read(&self, ctx: &Ctx<D>, config: &Value, diags: &mut Diagnostics) -> Option<Value>;
}

pub struct ResourceEntry<D> {
    pub resource: Arc<dyn Resource<D>>,
    pub schema: Schema,
    /// The schema's value type, computed once.
    pub ty: Type,
}

pub struct DataSourceEntry<D> {
    pub data_source: Arc<dyn DataSource<D>>,
    pub schema: Schema,
    pub ty: Type,
}

/// One provider process's state: schemas (built once), the configured data,
/// and the stop token.
pub struct Server<P: Provider> {
    pub provider: P,
    pub provider_schema: Schema,
    pub provider_ty: Type,
    pub resources: BTreeMap<&'static str, ResourceEntry<P::Data>>,
    pub data_sources: BTreeMap<&'static str, DataSourceEntry<P::Data>>,
    data: RwLock<Option<Arc<P::Data>>>,
    stop: Mutex<CancellationToken>,
    /// Terraform is destroying: plans only refresh the state, and the
    /// resources' plan hooks (checks for what would be created or
    /// updated) are skipped.
    destroy_run: bool,
}

pub struct PlanResult {
    pub planned: Value,
    pub requires_replace: Vec<AttributePath>,
    pub private: Vec<u8>,
}

pub struct ApplyResult {
    pub new_state: Value,
    pub private: Vec<u8>,
}

impl<P: Provider> Server<P> {
    pub fn new(provider: P) -> Self {
        let provider_schema = provider.schema();
        let provider_ty = provider_schema.value_type();
        let resources = provider
            .resources()
            .into_iter()
            .map(|r| {
                let schema = r.schema();
                let ty = schema.value_type();
                (
                    r.type_name(),
                    ResourceEntry {
                        resource: r,
                        schema,
                        ty,
                    },
                )
            })
            .collect();
        let data_sources = provider
            .data_sources()
            .into_iter()
            .map(|d| {
                let schema = d.schema();
                let ty = schema.value_type();
                (
                    d.type_name(),
                    DataSourceEntry {
                        data_source: d,
                        schema,
                        ty,
                    },
                )
            })
            .collect();
        Self {
            provider,
            provider_schema,
            provider_ty,
            resources,
            data_sources,
            data: RwLock::new(None),
            stop: Mutex::new(CancellationToken::new()),
            destroy_run: false,
        }
    }

    /// Marks this process as serving a destroy run (see `destroy_run`).
    pub fn destroying(mut self, destroy_run: bool) -> Self {
        self.destroy_run = destroy_run;
        self
    }

    pub fn resource(
        &self,
        type_name: &str,
        diags: &mut Diagnostics,
    ) -> Option<&ResourceEntry<P::Data>> {
        let entry = self.resources.get(type_name);
        if entry.is_none() {
            diags.error(
                "Unknown resource type",
                format!("This provider has no resource type {type_name:?}."),
            );
        }
        entry
    }

    pub fn data_source(
        &self,
        type_name: &str,
        diags: &mut Diagnostics,
    ) -> Option<&DataSourceEntry<P::Data>> {
        let entry = self.data_sources.get(type_name);
        if entry.is_none() {
            diags.error(
                "Unknown data source",
                format!("This provider has no data source {type_name:?}."),
            );
        }
        entry
    }

    pub async fn configure(&self, config: &Value, diags: &mut Diagnostics) {
        if let Some(data) = self.provider.configure(config, diags).await
            && !diags.has_errors()
        {
            *self.data.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(data));
        }
    }

    /// StopProvider: cancels every operation in flight. Later operations get
    /// a fresh token.
    pub fn stop(&self) {
        let mut stop = self.stop.lock().unwrap_or_else(|e| e.into_inner());
        stop.cancel();
        *stop = CancellationToken::new();
    }

    fn ctx(&self, diags: &mut Diagnostics) -> Option<Ctx<P::Data>> {
        let data = self.data.read().unwrap_or_else(|e| e.into_inner()).clone();
        let Some(data) = data else {
            diags.error(
                "Provider not configured",
                "Terraform called the provider before configuring it. This is a bug in \
                 Terraform or in the provider; please report it.",
            );
            return None;
        };
        let stop = self
            .stop
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .child_token();
        Some(Ctx { data, stop })
    }

    pub async fn plan(
        &self,
        type_name: &str,
        prior: Value,
        proposed: Value,
        config: Value,
        prior_private: Vec<u8>,
        diags: &mut Diagnostics,
    ) -> PlanResult {
        let passthrough = |planned| PlanResult {
            planned,
            requires_replace: Vec::new(),
            private: prior_private.clone(),
        };
        let Some(entry) = self.resource(type_name, diags) else {
            return passthrough(proposed);
        };
        if proposed.is_null() {
            // Destroy: nothing to plan.
            return passthrough(proposed);
        }
        let generic = plan::plan_attributes(&entry.schema.block, &prior, &proposed, &config);
        let mut change = PlanChange {
            prior: &prior,
            config: &config,
            planned: generic.planned,
            requires_replace: generic.requires_replace,
            changing: generic.changing,
        };
        if self.destroy_run {
            tracing::debug!(type_name, "destroy run: plan checks skipped");
        } else if let Some(ctx) = self.ctx(diags) {
            entry.resource.plan(&ctx, &mut change, diags).await;
        }
        let mut requires_replace = change.requires_replace;
        requires_replace.sort();
        requires_replace.dedup();
        PlanResult {
            planned: change.planned,
            requires_replace,
            private: prior_private,
        }
    }

    pub async fn apply(
        &self,
        type_name: &str,
        prior: Value,
        planned: Value,
        private: Vec<u8>,
        diags: &mut Diagnostics,
    ) -> ApplyResult {
        let keep_prior = |prior: Value| ApplyResult {
            new_state: prior,
            private: private.clone(),
        };
        let Some(entry) = self.resource(type_name, diags) else {
            return keep_prior(prior);
        };
        let Some(ctx) = self.ctx(diags) else {
            return keep_prior(prior);
        };
        let resource = &entry.resource;
        let new_state = if planned.is_null() {
            resource.delete(&ctx, &prior, diags).await;
            if diags.has_errors() {
                prior
            } else {
                Value::Null
            }
        } else if prior.is_null() {
            match resource.create(&ctx, &planned, diags).await {
                Some(state) => state,
                None => {
                    if !diags.has_errors() {
                        diags.error(
                            "Provider returned no state after create",
                            format!(
                                "Creating {type_name} succeeded without a resulting state. \
                                 This is a bug in the provider; please report it."
                            ),
                        );
                    }
                    Value::Null
                }
            }
        } else {
            resource.update(&ctx, &prior, &planned, diags).await
        };
        if !new_state.is_null() && !new_state.is_fully_known() {
            diags.error(
                "Provider returned an incomplete state",
                format!(
                    "After applying {type_name} some attributes are still unknown. This is a bug \
                     in the provider; please report it."
                ),
            );
        }
        ApplyResult { new_state, private }
    }

    pub async fn read(&self, type_name: &str, state: Value, diags: &mut Diagnostics) -> Value {
        let Some(entry) = self.resource(type_name, diags) else {
            return state;
        };
        if state.is_null() {
            return state;
        }
        let Some(ctx) = self.ctx(diags) else {
            return state;
        };
        match entry.resource.read(&ctx, &state, diags).await {
            Some(new_state) => new_state,
            None if diags.has_errors() => state,
            None => Value::Null,
        }
    }

    pub async fn import(
        &self,
        type_name: &str,
        id: &str,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let entry = self.resource(type_name, diags)?;
        let ctx = self.ctx(diags)?;
        entry.resource.import(&ctx, id, diags).await
    }

    pub async fn read_data_source(
        &self,
        type_name: &str,
        config: Value,
        diags: &mut Diagnostics,
    ) -> Value {
        let Some(entry) = self.data_source(type_name, diags) else {
            return Value::Null;
        };
        let Some(ctx) = self.ctx(diags) else {
            return Value::Null;
        };
        entry
            .data_source
            .read(&ctx, &config, diags)
            .await
            .unwrap_or(Value::Null)
    }
}
