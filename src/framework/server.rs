//! The provider-agnostic server: the traits a provider, its resources and
//! data sources implement, and the logic Terraform's RPCs run through
//! (dispatch, the generic planner, and guards against provider bugs).
//!
//! Everything here works on framework values; `protocol/` converts to and
//! from protobuf on either side.

use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock, Mutex, OnceLock, RwLock};
use std::time::Duration;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use crate::framework::bounds::{self, Bounds};
use crate::framework::diag::Diagnostics;
use crate::framework::identity::IdentitySchema;
use crate::framework::path::AttributePath;
use crate::framework::plan;
use crate::framework::schema::Schema;
use crate::framework::timeouts;
use crate::framework::types::Type;
use crate::framework::value::Value;

/// How long past its timeout a call still unanswered is given: a
/// resource's waits end at the timeout itself and report what they saw
/// last; any other call ends this much later, so the waits speak first.
pub const CALL_GRACE: Duration = Duration::from_secs(1);

/// The bounds of `operation` on a resource whose `timeouts` block is in
/// `value`: its timeout (and [`CALL_GRACE`]) when the resource offers one,
/// and the stop always.
fn bounds_of<D: 'static>(
    resource: &dyn Resource<D>,
    operation: &str,
    value: &Value,
    ctx: &Ctx<D>,
) -> Bounds {
    match resource.timeouts().iter().find(|(op, _)| *op == operation) {
        Some(&(op, default)) => {
            Bounds::with_timeout(ctx.stop.clone(), op, timeouts::get(value, op, default))
                .extended(CALL_GRACE)
        }
        None => Bounds::stop_only(ctx.stop.clone()),
    }
}

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

impl PlanChange<'_> {
    /// Plans `value` for the attribute `name` of the resource's block.
    pub fn set_planned(&mut self, name: &str, value: Value) {
        if let Value::Object(map) = &mut self.planned {
            map.insert(name.to_owned(), value);
        }
    }
}

/// A managed resource. Hooks run in the order the file of each resource
/// follows: schema, validate, plan, create, read, update, delete, import.
#[async_trait]
pub trait Resource<D>: Send + Sync + 'static {
    fn type_name(&self) -> &'static str;
    fn schema(&self) -> Schema;

    /// The operations its `timeouts` block offers, with their defaults: the
    /// server ends each such operation's calls at its deadline.
    fn timeouts(&self) -> &'static [(&'static str, Duration)] {
        &[]
    }

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

    /// The resource's identity schema (Terraform 1.12 and later), if it
    /// has one.
    fn identity_schema(&self) -> Option<IdentitySchema> {
        None
    }

    /// The identity of the object a state describes (not null), by the
    /// identity schema.
    fn identity(&self, _data: &D, _state: &Value) -> Option<Value> {
        None
    }

    /// The import id an `import { identity = { ... } }` names; an error
    /// naming the identity's attribute when it cannot be imported here.
    fn import_id(&self, _data: &D, _identity: &Value, _diags: &mut Diagnostics) -> Option<String> {
        None
    }

    /// The configuration schema of this resource's `list` block
    /// (`terraform query`, Terraform 1.14 and later), for a resource that
    /// can be listed. Listing needs an identity too.
    fn list_schema(&self) -> Option<Schema> {
        None
    }

    /// The objects a `list` block's configuration selects, at most `limit`.
    async fn list(
        &self,
        _ctx: &Ctx<D>,
        _config: &Value,
        _limit: usize,
        _diags: &mut Diagnostics,
    ) -> Vec<Listed> {
        Vec::new()
    }

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

/// One object a list found: its import id and the name a person knows it
/// by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Listed {
    pub id: String,
    pub display_name: String,
}

/// A listed object as Terraform receives it: its identity, its display
/// name, and its state when asked for.
pub struct ListedObject {
    pub identity: Value,
    pub display_name: String,
    pub state: Option<Value>,
    /// Warnings of reading it (rules the resource would revoke, say).
    pub warnings: Diagnostics,
}

pub struct ResourceEntry<D> {
    pub resource: Arc<dyn Resource<D>>,
    pub schema: Schema,
    /// The schema's value type, computed once.
    pub ty: Type,
    /// The identity schema and its value type, for a resource that has one.
    pub identity: Option<(IdentitySchema, Type)>,
    /// The `list` block's schema and value type, for a resource that can
    /// be listed.
    pub list: Option<(Schema, Type)>,
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
    /// Why the process is ending (a signal, or Terraform gone), once it is:
    /// see [`terminate`](Self::terminate).
    terminating: OnceLock<String>,
    /// Terraform is destroying: plans only refresh the state, and the
    /// resources' plan hooks (checks for what would be created or
    /// updated) are skipped. Found out when a plan first asks, not at
    /// start: only plans need it.
    destroy_run: LazyLock<bool, Box<dyn FnOnce() -> bool + Send>>,
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
                let identity = r.identity_schema().map(|i| {
                    let ty = i.value_type();
                    (i, ty)
                });
                let list = r.list_schema().filter(|_| identity.is_some()).map(|l| {
                    let ty = l.value_type();
                    (l, ty)
                });
                (
                    r.type_name(),
                    ResourceEntry {
                        resource: r,
                        schema,
                        ty,
                        identity,
                        list,
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
            terminating: OnceLock::new(),
            destroy_run: LazyLock::new(Box::new(|| false)),
        }
    }

    /// How to tell whether this process serves a destroy run (see
    /// `destroy_run`); asked once, at the first plan.
    pub fn destroying(mut self, destroy_run: impl FnOnce() -> bool + Send + 'static) -> Self {
        self.destroy_run = LazyLock::new(Box::new(destroy_run));
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

    /// ConfigureProvider: the provider block validated again, as at
    /// ValidateProviderConfig (a known block: unknown values are the
    /// provider's to refuse), then the provider's configure.
    pub async fn configure(&self, config: &Value, diags: &mut Diagnostics) {
        if config.is_fully_known() {
            self.validate_provider(config, diags);
            if diags.has_errors() {
                return;
            }
        }
        let stop = self.stop_token();
        let configured = bounds::scope(
            Bounds::stop_only(stop),
            self.provider.configure(config, diags),
        )
        .await;
        if let Some(data) = configured
            && !diags.has_errors()
        {
            *self.data.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(data));
        }
    }

    /// ValidateProviderConfig: the checks the schema declares, then the
    /// provider's own rules.
    pub fn validate_provider(&self, config: &Value, diags: &mut Diagnostics) {
        self.provider_schema.block.check(config, diags);
        self.provider.validate(config, diags);
    }

    /// ValidateResourceConfig: the checks the schema declares, the
    /// `timeouts` block, then the resource's own rules.
    pub fn validate_resource(&self, type_name: &str, config: &Value, diags: &mut Diagnostics) {
        if let Some(entry) = self.resource(type_name, diags) {
            entry.schema.block.check(config, diags);
            timeouts::validate(config, diags);
            entry.resource.validate(config, diags);
        }
    }

    /// ValidateListResourceConfig: the checks the list block's schema
    /// declares.
    pub fn validate_list(&self, type_name: &str, config: &Value, diags: &mut Diagnostics) {
        if let Some((schema, _)) = self.list_entry(type_name, diags) {
            schema.block.check(config, diags);
        }
    }

    /// The list schema of a type that can be listed, or an error.
    pub fn list_entry(&self, type_name: &str, diags: &mut Diagnostics) -> Option<&(Schema, Type)> {
        let entry = self.resource(type_name, diags)?;
        if entry.list.is_none() {
            diags.error(
                "Invalid list resource",
                format!("{type_name} cannot be listed."),
            );
        }
        entry.list.as_ref()
    }

    /// ListResource: the objects a list block selects, at most `limit`,
    /// each with its identity and, when `include` is set, its state as a
    /// refresh reads it.
    pub async fn list(
        &self,
        type_name: &str,
        config: &Value,
        include: bool,
        limit: usize,
        diags: &mut Diagnostics,
    ) -> Vec<ListedObject> {
        if self.list_entry(type_name, diags).is_none() {
            return Vec::new();
        }
        let Some(entry) = self.resource(type_name, diags) else {
            return Vec::new();
        };
        let Some(ctx) = self.ctx(diags) else {
            return Vec::new();
        };
        let bounds = Bounds::stop_only(ctx.stop.clone());
        let found = bounds::scope(bounds, entry.resource.list(&ctx, config, limit, diags)).await;
        let mut out = Vec::new();
        for listed in found.into_iter().take(limit) {
            // What reading one object says goes with it; an error ends the
            // list (Terraform stops at the first).
            let mut own = Diagnostics::new();
            let imported = self.import_by_id(type_name, &listed.id, &mut own).await;
            let state = match (&imported, include) {
                (Some(imported), true) => {
                    let read = self.read(type_name, imported.clone(), &mut own).await;
                    (!read.is_null()).then_some(read)
                }
                _ => None,
            };
            if own.has_errors() {
                diags.extend(own);
                break;
            }
            let Some(described) = state.as_ref().or(imported.as_ref()) else {
                continue;
            };
            let Some(identity) = entry.resource.identity(&ctx.data, described) else {
                continue;
            };
            out.push(ListedObject {
                identity,
                display_name: listed.display_name,
                state,
                warnings: own,
            });
        }
        out
    }

    /// ValidateDataResourceConfig: the checks the schema declares, then the
    /// data source's own rules.
    pub fn validate_data_source(&self, type_name: &str, config: &Value, diags: &mut Diagnostics) {
        if let Some(entry) = self.data_source(type_name, diags) {
            entry.schema.block.check(config, diags);
            entry.data_source.validate(config, diags);
        }
    }

    /// UpgradeResourceState: a state stored at `version` of the resource's
    /// schema, read against today's type. Every schema is at version 0, so
    /// a state of that version is kept as it is; a later version was
    /// written by a newer provider, whose state this one cannot know.
    pub fn upgrade(
        &self,
        type_name: &str,
        version: i64,
        state: Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let entry = self.resource(type_name, diags)?;
        if version > entry.schema.version {
            diags.error(
                "State from a newer provider",
                format!(
                    "The state of this {type_name} was written at schema version {version} by a newer \
                     version of this provider; this one knows version {} and cannot read it. Use the \
                     newer provider version.",
                    entry.schema.version
                ),
            );
            return None;
        }
        Some(state)
    }

    /// MoveResourceState: the state of `source_type` from
    /// `source_provider`, as the target resource takes it over; an error
    /// when it takes over none of that type.
    pub async fn move_state(
        &self,
        target_type: &str,
        source_provider: &str,
        source_type: &str,
        source_json: &[u8],
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let entry = self.resource(target_type, diags)?;
        let moved = entry
            .resource
            .move_state(source_provider, source_type, source_json, diags)
            .await;
        if moved.is_none() && !diags.has_errors() {
            diags.error(
                "Unsupported move",
                format!("{target_type} cannot take over the state of {source_type} from {source_provider}."),
            );
        }
        moved
    }

    /// StopProvider: cancels every operation in flight. Later operations get
    /// a fresh token (unless the process is ending).
    pub fn stop(&self) {
        let mut stop = self.stop.lock().unwrap_or_else(|e| e.into_inner());
        stop.cancel();
        if self.terminating.get().is_none() {
            *stop = CancellationToken::new();
        }
    }

    /// The process is ending (`why`: the signal it received, or that
    /// Terraform is gone). Cancels every operation in flight as StopProvider
    /// does, so waits end and creates and updates return what exists; unlike
    /// StopProvider, it is for good: later operations start cancelled and
    /// changes are refused, so a process about to exit starts nothing it
    /// could not report back.
    pub fn terminate(&self, why: &str) {
        let _ = self.terminating.set(why.to_owned());
        self.stop.lock().unwrap_or_else(|e| e.into_inner()).cancel();
    }

    /// Why the process is ending, once [`terminate`](Self::terminate) ran.
    pub fn terminating(&self) -> Option<&str> {
        self.terminating.get().map(String::as_str)
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
        Some(Ctx {
            data,
            stop: self.stop_token(),
        })
    }

    /// A token StopProvider (and the end of the process) cancels.
    fn stop_token(&self) -> CancellationToken {
        self.stop
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .child_token()
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
        if *self.destroy_run {
            tracing::debug!(type_name, "destroy run: plan checks skipped");
        } else if let Some(ctx) = self.ctx(diags) {
            // Its checks against AWS are bounded by the timeout of what it
            // plans: Terraform plans each change again during the apply.
            let operation = if prior.is_null() { "create" } else { "update" };
            let bounds = bounds_of(entry.resource.as_ref(), operation, &config, &ctx);
            bounds::scope(bounds, entry.resource.plan(&ctx, &mut change, diags)).await;
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
        if let Some(why) = self.terminating() {
            diags.error(
                "The provider is shutting down",
                format!(
                    "The provider process is ending ({why}) and made no change to this \
                     {type_name}. Run the command again."
                ),
            );
            return keep_prior(prior);
        }
        let Some(ctx) = self.ctx(diags) else {
            return keep_prior(prior);
        };
        let resource = &entry.resource;
        let (operation, timeouts_of) = if planned.is_null() {
            ("delete", &prior)
        } else if prior.is_null() {
            ("create", &planned)
        } else {
            ("update", &planned)
        };
        let bounds = bounds_of(resource.as_ref(), operation, timeouts_of, &ctx);
        let new_state = if planned.is_null() {
            bounds::scope(bounds, resource.delete(&ctx, &prior, diags)).await;
            if diags.has_errors() {
                prior
            } else {
                Value::Null
            }
        } else if prior.is_null() {
            match bounds::scope(bounds, resource.create(&ctx, &planned, diags)).await {
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
            bounds::scope(bounds, resource.update(&ctx, &prior, &planned, diags)).await
        };
        let mut new_state = new_state;
        entry.schema.block.keep_equivalent(&planned, &mut new_state);
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
        let bounds = Bounds::stop_only(ctx.stop.clone());
        match bounds::scope(bounds, entry.resource.read(&ctx, &state, diags)).await {
            Some(mut new_state) => {
                entry.schema.block.keep_equivalent(&state, &mut new_state);
                new_state
            }
            None if diags.has_errors() => state,
            None => Value::Null,
        }
    }

    /// ImportResourceState: by `id`, or (Terraform 1.12 and later) by
    /// `identity`, given instead of an id.
    pub async fn import(
        &self,
        type_name: &str,
        id: &str,
        identity: Option<&Value>,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        match identity {
            Some(identity) => self.import_by_identity(type_name, identity, diags).await,
            None => self.import_by_id(type_name, id, diags).await,
        }
    }

    async fn import_by_id(
        &self,
        type_name: &str,
        id: &str,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let entry = self.resource(type_name, diags)?;
        let ctx = self.ctx(diags)?;
        let bounds = Bounds::stop_only(ctx.stop.clone());
        bounds::scope(bounds, entry.resource.import(&ctx, id, diags)).await
    }

    /// The identity of the object `state` describes, for a resource type
    /// with an identity schema and a configured provider; `None` for a
    /// null state.
    pub fn identity_of(&self, type_name: &str, state: &Value) -> Option<Value> {
        let entry = self.resources.get(type_name)?;
        entry.identity.as_ref()?;
        if state.is_null() {
            return None;
        }
        let data = self
            .data
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()?;
        entry.resource.identity(&data, state)
    }

    /// An import by identity: the id the identity names, then the import
    /// as by id.
    async fn import_by_identity(
        &self,
        type_name: &str,
        identity: &Value,
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let entry = self.resource(type_name, diags)?;
        let Some((schema, _)) = &entry.identity else {
            diags.error(
                "Import by identity not supported",
                format!(
                    "{type_name} has no identity: import it by its id (import {{ id = \"...\" }})."
                ),
            );
            return None;
        };
        let broken = schema.nonconformities(identity);
        if !broken.is_empty() {
            diags.error(
                "Invalid import identity",
                format!("The identity for {type_name}: {}.", broken.join("; ")),
            );
            return None;
        }
        let ctx = self.ctx(diags)?;
        let id = entry.resource.import_id(&ctx.data, identity, diags)?;
        self.import_by_id(type_name, &id, diags).await
    }

    /// UpgradeResourceIdentity: an identity stored by this or an older
    /// identity schema version, as the current version. There has been one
    /// version so far; one from a newer provider is refused.
    pub fn upgrade_identity(
        &self,
        type_name: &str,
        version: i64,
        json: &[u8],
        diags: &mut Diagnostics,
    ) -> Option<Value> {
        let entry = self.resource(type_name, diags)?;
        let Some((schema, ty)) = &entry.identity else {
            diags.error(
                "Resource has no identity",
                format!("{type_name} has no identity schema; Terraform sent an identity for it."),
            );
            return None;
        };
        if version > schema.version {
            diags.error(
                "Resource identity from a newer provider",
                format!(
                    "The stored identity of this {type_name} is version {version}, written by a newer \
                     version of this provider (this one writes version {}). Use that version, or remove \
                     the resource from the state and import it again.",
                    schema.version
                ),
            );
            return None;
        }
        match crate::framework::codec::decode_json(json, ty) {
            Ok(value) => Some(value),
            Err(e) => {
                diags.error(
                    "Invalid stored identity",
                    format!("The stored identity of this {type_name} could not be read: {e}."),
                );
                None
            }
        }
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
        let bounds = Bounds::stop_only(ctx.stop.clone());
        bounds::scope(bounds, entry.data_source.read(&ctx, &config, diags))
            .await
            .unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::framework::schema::{Attribute, Block};

    /// A provider whose one resource's create waits until it is stopped,
    /// then returns what it made.
    struct Waiting {
        creates: Arc<AtomicUsize>,
    }
    struct Thing {
        creates: Arc<AtomicUsize>,
    }

    #[async_trait]
    impl Provider for Waiting {
        type Data = ();
        fn schema(&self) -> Schema {
            Schema::new(Block::new("Test."))
        }
        async fn configure(&self, _: &Value, _: &mut Diagnostics) -> Option<()> {
            Some(())
        }
        fn resources(&self) -> Vec<Arc<dyn Resource<()>>> {
            vec![Arc::new(Thing {
                creates: self.creates.clone(),
            })]
        }
        fn data_sources(&self) -> Vec<Arc<dyn DataSource<()>>> {
            Vec::new()
        }
    }

    #[async_trait]
    impl Resource<()> for Thing {
        fn type_name(&self) -> &'static str {
            "test_thing"
        }
        fn schema(&self) -> Schema {
            Schema::new(Block::new("A thing.").attribute(Attribute::string("id").computed()))
        }
        async fn create(&self, ctx: &Ctx<()>, _: &Value, diags: &mut Diagnostics) -> Option<Value> {
            self.creates.fetch_add(1, Ordering::SeqCst);
            ctx.stop.cancelled().await;
            diags.error("Stopped", "The wait was interrupted.");
            Some(Value::Object(BTreeMap::from([(
                "id".to_owned(),
                Value::String("thing-1".into()),
            )])))
        }
        async fn read(&self, _: &Ctx<()>, s: &Value, _: &mut Diagnostics) -> Option<Value> {
            Some(s.clone())
        }
        async fn update(&self, _: &Ctx<()>, p: &Value, _: &Value, _: &mut Diagnostics) -> Value {
            p.clone()
        }
        async fn delete(&self, _: &Ctx<()>, _: &Value, _: &mut Diagnostics) {}
        async fn import(&self, _: &Ctx<()>, _: &str, _: &mut Diagnostics) -> Option<Value> {
            None
        }
    }

    async fn configured() -> (Arc<Server<Waiting>>, Arc<AtomicUsize>) {
        let creates = Arc::new(AtomicUsize::new(0));
        let server = Arc::new(Server::new(Waiting {
            creates: creates.clone(),
        }));
        server
            .configure(&Value::Null, &mut Diagnostics::new())
            .await;
        (server, creates)
    }

    fn planned() -> Value {
        Value::Object(BTreeMap::from([("id".to_owned(), Value::unknown())]))
    }

    #[tokio::test]
    async fn a_state_from_a_newer_schema_version_is_refused_and_a_current_one_kept() {
        let (server, _) = configured().await;
        let state = Value::Object(BTreeMap::from([(
            "id".to_owned(),
            Value::String("thing-1".into()),
        )]));
        let mut diags = Diagnostics::new();
        assert_eq!(
            server.upgrade("test_thing", 0, state.clone(), &mut diags),
            Some(state.clone())
        );
        assert!(diags.is_empty());
        assert_eq!(server.upgrade("test_thing", 1, state, &mut diags), None);
        let d: Vec<_> = diags.iter().collect();
        assert_eq!(d[0].summary, "State from a newer provider");
        assert!(d[0].detail.contains("version 1"), "{}", d[0].detail);
    }

    #[tokio::test]
    async fn terminate_ends_work_in_flight_which_returns_what_exists() {
        let (server, _) = configured().await;
        let applying = {
            let server = server.clone();
            tokio::spawn(async move {
                let mut diags = Diagnostics::new();
                let applied = server
                    .apply("test_thing", Value::Null, planned(), Vec::new(), &mut diags)
                    .await;
                (applied.new_state, diags)
            })
        };
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        server.terminate("SIGTERM");
        let (state, diags) = tokio::time::timeout(std::time::Duration::from_secs(5), applying)
            .await
            .expect("the create ended")
            .unwrap();
        assert!(diags.has_errors());
        assert_eq!(
            state,
            Value::Object(BTreeMap::from([(
                "id".to_owned(),
                Value::String("thing-1".into())
            )]))
        );
    }

    #[tokio::test]
    async fn after_terminate_changes_are_refused_and_stop_does_not_undo_it() {
        let (server, creates) = configured().await;
        server.terminate("SIGHUP");
        // StopProvider arriving afterwards must not hand out a fresh token.
        server.stop();
        let mut diags = Diagnostics::new();
        let ctx = server.ctx(&mut diags).expect("configured");
        assert!(ctx.stop.is_cancelled());
        let applied = server
            .apply("test_thing", Value::Null, planned(), Vec::new(), &mut diags)
            .await;
        assert_eq!(applied.new_state, Value::Null);
        assert_eq!(creates.load(Ordering::SeqCst), 0, "nothing may start");
        let refusal = diags.iter().next().expect("a diagnostic");
        assert_eq!(refusal.summary, "The provider is shutting down");
        assert!(refusal.detail.contains("SIGHUP"), "{}", refusal.detail);
    }

    #[tokio::test]
    async fn stop_alone_leaves_later_operations_a_fresh_token() {
        let (server, _) = configured().await;
        server.stop();
        let ctx = server.ctx(&mut Diagnostics::new()).expect("configured");
        assert!(!ctx.stop.is_cancelled());
        assert_eq!(server.terminating(), None);
    }
}
