//! Request coalescing. Terraform refreshes resources in parallel; reads that
//! arrive together are gathered for a few milliseconds and answered by one
//! describe call over all their ids, each caller getting its own result or
//! its own NotFound. Waiters poll through the same path.
//!
//! EC2 fails a whole id-list call when one id is missing. The missing id is
//! then found without giving up on batching: EC2 names it in its message,
//! so it is answered NotFound and the rest asked again; where the message
//! names none, the batch is split in halves. Either way the number of calls
//! is bounded (by the ids named, or by 2·log2(n) + 1).

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

use crate::aws::AwsError;
use crate::framework::bounds;

/// How long a read waits for others to join it: at least `min`, and while
/// others keep arriving (every `step`), up to `max`. Terraform starts reads
/// as its parallelism slots free up, a few milliseconds apart.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub min: Duration,
    pub step: Duration,
    pub max: Duration,
}

pub const WINDOW: Window = Window {
    min: Duration::from_millis(3),
    step: Duration::from_millis(2),
    max: Duration::from_millis(20),
};
/// The most ids one call carries.
pub const MAX_BATCH: usize = 100;

pub type Fetched<T> = Pin<Box<dyn Future<Output = Result<HashMap<String, T>, AwsError>> + Send>>;
type Fetch<T> = Arc<dyn Fn(Vec<String>) -> Fetched<T> + Send + Sync>;
type Waiter<T> = (String, oneshot::Sender<Result<T, AwsError>>);
type Resolved<T> = Pin<Box<dyn Future<Output = HashMap<String, Result<T, AwsError>>> + Send>>;

/// Gathers lookups by id into batched calls of `fetch`, which returns what
/// it found by id (an id it does not return is NotFound), or fails as EC2
/// does when any id is missing.
pub struct Batcher<T> {
    fetch: Fetch<T>,
    pending: Arc<Mutex<Vec<Waiter<T>>>>,
    window: Window,
}

impl<T: Clone + Send + 'static> Batcher<T> {
    pub fn new(
        window: Window,
        fetch: impl Fn(Vec<String>) -> Fetched<T> + Send + Sync + 'static,
    ) -> Self {
        Self {
            fetch: Arc::new(fetch),
            pending: Arc::new(Mutex::new(Vec::new())),
            window,
        }
    }

    /// The item with this id, fetched together with whatever else is asked
    /// for within the window.
    pub async fn get(&self, id: &str) -> Result<T, AwsError> {
        let (tx, rx) = oneshot::channel();
        let first = {
            let mut pending = self.pending.lock().unwrap_or_else(|e| e.into_inner());
            pending.push((id.to_owned(), tx));
            pending.len() == 1
        };
        if first {
            let (pending, fetch, window) = (self.pending.clone(), self.fetch.clone(), self.window);
            tokio::spawn(async move {
                let started = tokio::time::Instant::now();
                tokio::time::sleep(window.min).await;
                let mut seen = pending.lock().unwrap_or_else(|e| e.into_inner()).len();
                while started.elapsed() + window.step <= window.max {
                    tokio::time::sleep(window.step).await;
                    let now = pending.lock().unwrap_or_else(|e| e.into_inner()).len();
                    if now == seen || now >= MAX_BATCH {
                        break;
                    }
                    seen = now;
                }
                let batch = std::mem::take(&mut *pending.lock().unwrap_or_else(|e| e.into_inner()));
                for chunk in chunks(batch) {
                    let fetch = fetch.clone();
                    tokio::spawn(async move { answer(fetch, chunk).await });
                }
            });
        }
        // The batch serves other operations too: it runs in its own task
        // under the SDK's limits, and this caller stops waiting for it when
        // its own operation must end.
        match bounds::race(rx).await {
            Ok(answer) => answer.unwrap_or_else(|_| {
                Err(AwsError::Transport("the batched lookup was dropped".into()))
            }),
            Err(why) => Err(AwsError::Cancelled(format!(
                "{why} before AWS answered a batched lookup of {id}"
            ))),
        }
    }
}

fn chunks<T>(mut batch: Vec<Waiter<T>>) -> Vec<Vec<Waiter<T>>> {
    let mut out = Vec::new();
    while batch.len() > MAX_BATCH {
        let rest = batch.split_off(MAX_BATCH);
        out.push(batch);
        batch = rest;
    }
    out.push(batch);
    out
}

async fn answer<T: Clone + Send + 'static>(fetch: Fetch<T>, waiters: Vec<Waiter<T>>) {
    let mut ids: Vec<String> = waiters.iter().map(|(id, _)| id.clone()).collect();
    ids.sort();
    ids.dedup();
    let mut results = resolve(fetch, ids).await;
    for (id, tx) in waiters {
        let result = results
            .get(&id)
            .cloned()
            .unwrap_or_else(|| Err(AwsError::not_found("NotFound", &id)));
        let _ = tx.send(result);
    }
    results.clear();
}

/// Fetches `ids`, working out which are missing when EC2 fails the call.
fn resolve<T: Clone + Send + 'static>(fetch: Fetch<T>, ids: Vec<String>) -> Resolved<T> {
    Box::pin(async move {
        let mut out = HashMap::new();
        if ids.is_empty() {
            return out;
        }
        match fetch(ids.clone()).await {
            Ok(mut found) => {
                for id in ids {
                    let result = found
                        .remove(&id)
                        .ok_or_else(|| AwsError::not_found("NotFound", &id));
                    out.insert(id, result);
                }
            }
            Err(e) if e.is_not_found() && ids.len() > 1 => {
                let message = e.to_string();
                let named: Vec<String> = ids
                    .iter()
                    .filter(|id| mentions(&message, id))
                    .cloned()
                    .collect();
                if !named.is_empty() {
                    for id in &named {
                        out.insert(id.clone(), Err(e.clone()));
                    }
                    let rest: Vec<String> =
                        ids.into_iter().filter(|id| !named.contains(id)).collect();
                    out.extend(resolve(fetch, rest).await);
                } else {
                    let mut left = ids;
                    let right = left.split_off(left.len() / 2);
                    let (a, b) = tokio::join!(resolve(fetch.clone(), left), resolve(fetch, right));
                    out.extend(a);
                    out.extend(b);
                }
            }
            Err(e) => {
                for id in ids {
                    out.insert(id, Err(e.clone()));
                }
            }
        }
        out
    })
}

/// Facts that do not change while a provider process serves one Terraform
/// command (a VPC's CIDR blocks and DNS settings, subnets' zones, an
/// endpoint service's zones), looked up once per key: concurrent callers
/// share one call, later callers the answer. Failures are not kept, so the
/// next caller asks again.
pub struct Memo<V> {
    cells: Mutex<HashMap<String, Arc<tokio::sync::OnceCell<V>>>>,
}

impl<V> Default for Memo<V> {
    fn default() -> Self {
        Self {
            cells: Mutex::new(HashMap::new()),
        }
    }
}

impl<V: Clone> Memo<V> {
    pub async fn get_or_fetch<F>(&self, key: &str, fetch: impl FnOnce() -> F) -> Result<V, AwsError>
    where
        F: Future<Output = Result<V, AwsError>>,
    {
        let cell = self
            .cells
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(key.to_owned())
            .or_default()
            .clone();
        // Another operation may be fetching it: wait no longer than this
        // one may run.
        match bounds::race(cell.get_or_try_init(fetch)).await {
            Ok(fetched) => fetched.cloned(),
            Err(why) => Err(AwsError::Cancelled(format!(
                "{why} before AWS answered a lookup of {key}"
            ))),
        }
    }
}

/// What one listing of a VPC found, by id; `None` where the VPC could not
/// be listed in one bounded page (or the call failed), so lookups take the
/// batched path by id instead.
pub type Listed<T> = Option<Arc<HashMap<String, T>>>;

/// When a VPC's listing was started, and its answer once there.
type Listing<T> = (tokio::time::Instant, Arc<tokio::sync::OnceCell<Listed<T>>>);

/// A refresh reads every resource Terraform knows, at most `-parallelism`
/// at a time, so batching alone still costs a call per wave. Refresh reads
/// know their resource's VPC from the prior state: the first one in a VPC
/// lists that VPC's items in one call, and the reads after it, within
/// `fresh_for`, are answered from that listing. Only hits are answered
/// here: an id the listing lacks goes through the batched path by id, so a
/// listing can make a read older by up to `fresh_for`, never wrong about
/// existence. Concurrent callers share one listing call.
pub struct VpcListings<T> {
    cells: Mutex<HashMap<String, Listing<T>>>,
    fresh_for: Duration,
}

impl<T> VpcListings<T> {
    pub fn new(fresh_for: Duration) -> Self {
        Self {
            cells: Mutex::new(HashMap::new()),
            fresh_for,
        }
    }
}

impl<T: Clone> VpcListings<T> {
    /// The item `id` from a fresh listing of `vpc_id`, made by `list` when
    /// there is none; `None` when the listing does not have it.
    pub async fn find<F>(&self, vpc_id: &str, id: &str, list: impl FnOnce() -> F) -> Option<T>
    where
        F: Future<Output = Listed<T>>,
    {
        let cell = {
            let mut cells = self.cells.lock().unwrap_or_else(|e| e.into_inner());
            let now = tokio::time::Instant::now();
            let fresh_for = self.fresh_for;
            cells.retain(|_, (made, _)| now.duration_since(*made) < fresh_for);
            cells
                .entry(vpc_id.to_owned())
                .or_insert_with(|| (now, Arc::default()))
                .1
                .clone()
        };
        // Unfinished when the operation must end: the read goes by id,
        // which reports the interruption.
        let listed = bounds::race(cell.get_or_init(list)).await.ok()?;
        listed.as_ref().and_then(|items| items.get(id).cloned())
    }
}

/// Whether `text` names `id` as a whole word (ids are letters, digits and
/// dashes; `vpce-1` is not named by `vpce-12`).
fn mentions(text: &str, id: &str) -> bool {
    let is_id_char = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    text.match_indices(id).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + id.len()..].chars().next();
        !before.is_some_and(is_id_char) && !after.is_some_and(is_id_char)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// A fake EC2 describe over a fixed set of ids, counting calls; when
    /// `names_missing`, its NotFound message names the id, as EC2's does.
    fn fake(
        existing: &[&str],
        names_missing: bool,
    ) -> (
        Arc<AtomicUsize>,
        impl Fn(Vec<String>) -> Fetched<String> + Send + Sync + 'static,
    ) {
        let calls = Arc::new(AtomicUsize::new(0));
        let counter = calls.clone();
        let existing: Vec<String> = existing.iter().map(|s| s.to_string()).collect();
        let fetch = move |ids: Vec<String>| -> Fetched<String> {
            counter.fetch_add(1, Ordering::SeqCst);
            let existing = existing.clone();
            Box::pin(async move {
                if let Some(missing) = ids.iter().find(|id| !existing.contains(id)) {
                    let message = if names_missing {
                        format!("The id '{missing}' does not exist")
                    } else {
                        "not found".into()
                    };
                    return Err(AwsError::NotFound {
                        code: "X.NotFound".into(),
                        message,
                    });
                }
                Ok(ids
                    .into_iter()
                    .map(|id| (id.clone(), format!("item {id}")))
                    .collect())
            })
        };
        (calls, fetch)
    }

    fn test_window(ms: u64) -> Window {
        Window {
            min: Duration::from_millis(ms),
            step: Duration::from_millis(ms),
            max: Duration::from_millis(ms),
        }
    }

    async fn ask_all(batcher: Arc<Batcher<String>>, ids: &[&str]) -> Vec<Result<String, AwsError>> {
        let handles: Vec<_> = ids
            .iter()
            .map(|id| {
                let (b, id) = (batcher.clone(), id.to_string());
                tokio::spawn(async move { b.get(&id).await })
            })
            .collect();
        let mut out = Vec::new();
        for h in handles {
            out.push(h.await.unwrap());
        }
        out
    }

    #[tokio::test]
    async fn memo_asks_once_and_forgets_failures() {
        let memo = Memo::<u32>::default();
        let calls = AtomicUsize::new(0);
        let fail = || async { Err::<u32, _>(AwsError::Transport("down".into())) };
        assert!(memo.get_or_fetch("k", fail).await.is_err());
        for _ in 0..3 {
            let got = memo
                .get_or_fetch("k", || async {
                    calls.fetch_add(1, Ordering::SeqCst);
                    Ok(7)
                })
                .await;
            assert_eq!(got.unwrap(), 7);
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[test]
    fn ids_are_named_as_whole_words() {
        assert!(mentions("The id 'vpce-1' does not exist", "vpce-1"));
        assert!(!mentions("The id 'vpce-12' does not exist", "vpce-1"));
        assert!(!mentions("The id 'xvpce-1' does not exist", "vpce-1"));
    }

    #[tokio::test]
    async fn concurrent_reads_share_one_call() {
        let ids = ["a", "b", "c", "d", "e", "f", "g", "h", "i", "j"];
        let (calls, fetch) = fake(&ids, true);
        let batcher = Arc::new(Batcher::new(test_window(20), fetch));
        let results = ask_all(batcher, &ids).await;
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        for (id, r) in ids.iter().zip(results) {
            assert_eq!(r.unwrap(), format!("item {id}"));
        }
    }

    #[tokio::test]
    async fn a_missing_id_is_found_by_name_in_two_calls() {
        let (calls, fetch) = fake(&["a", "b", "c", "d", "e", "f", "g", "h", "i"], true);
        let batcher = Arc::new(Batcher::new(test_window(20), fetch));
        let results = ask_all(
            batcher,
            &["a", "b", "c", "d", "e", "gone", "f", "g", "h", "i"],
        )
        .await;
        assert_eq!(calls.load(Ordering::SeqCst), 2);
        assert!(results[5].as_ref().is_err_and(|e| e.is_not_found()));
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 9);
    }

    #[tokio::test]
    async fn a_missing_id_unnamed_is_found_by_bounded_splitting() {
        let (calls, fetch) = fake(&["a", "b", "c", "d", "e", "f", "g", "h", "i"], false);
        let batcher = Arc::new(Batcher::new(test_window(20), fetch));
        let results = ask_all(
            batcher,
            &["a", "b", "c", "d", "e", "gone", "f", "g", "h", "i"],
        )
        .await;
        assert!(
            calls.load(Ordering::SeqCst) <= 2 * 4 + 1,
            "{} calls",
            calls.load(Ordering::SeqCst)
        );
        assert!(results[5].as_ref().is_err_and(|e| e.is_not_found()));
        assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 9);
    }

    #[tokio::test]
    async fn other_errors_reach_every_caller() {
        let fetch = |_ids: Vec<String>| -> Fetched<String> {
            Box::pin(async {
                Err(AwsError::Api {
                    code: "Unavailable".into(),
                    message: "down".into(),
                })
            })
        };
        let batcher = Arc::new(Batcher::new(test_window(5), fetch));
        let results = ask_all(batcher, &["a", "b"]).await;
        assert!(
            results
                .iter()
                .all(|r| r.as_ref().is_err_and(|e| e.code() == "Unavailable"))
        );
    }

    fn listing(
        calls: &Arc<AtomicUsize>,
        items: Option<&[&str]>,
    ) -> impl Future<Output = Listed<String>> + use<> {
        calls.fetch_add(1, Ordering::SeqCst);
        let items: Option<HashMap<String, String>> = items.map(|ids| {
            ids.iter()
                .map(|id| (id.to_string(), format!("item {id}")))
                .collect()
        });
        async move {
            tokio::time::sleep(Duration::from_millis(5)).await;
            items.map(Arc::new)
        }
    }

    #[tokio::test]
    async fn concurrent_refresh_reads_in_a_vpc_share_one_listing() {
        let listings = Arc::new(VpcListings::new(Duration::from_secs(60)));
        let calls = Arc::new(AtomicUsize::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for id in ["a", "b", "c", "gone"] {
            let (listings, calls) = (listings.clone(), calls.clone());
            tasks.spawn(async move {
                let found = listings
                    .find("vpc-1", id, || listing(&calls, Some(&["a", "b", "c"])))
                    .await;
                (id, found)
            });
        }
        while let Some(joined) = tasks.join_next().await {
            let (id, found) = joined.unwrap();
            match id {
                "gone" => assert_eq!(found, None, "a miss goes the way by id"),
                _ => assert_eq!(found, Some(format!("item {id}"))),
            }
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Another VPC is listed on its own.
        let other = listings
            .find("vpc-2", "x", || listing(&calls, Some(&["x"])))
            .await;
        assert_eq!(other.as_deref(), Some("item x"));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_listing_is_made_again_once_stale_and_none_answers_nothing() {
        let listings = VpcListings::new(Duration::from_millis(30));
        let calls = Arc::new(AtomicUsize::new(0));
        assert_eq!(
            listings.find("vpc-1", "a", || listing(&calls, None)).await,
            None
        );
        // Unlistable stays unlisted while fresh: no call per read.
        assert_eq!(
            listings.find("vpc-1", "a", || listing(&calls, None)).await,
            None
        );
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        tokio::time::sleep(Duration::from_millis(40)).await;
        let found = listings
            .find("vpc-1", "a", || listing(&calls, Some(&["a"])))
            .await;
        assert_eq!(found.as_deref(), Some("item a"));
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }
}
