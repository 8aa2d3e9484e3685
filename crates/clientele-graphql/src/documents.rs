//! Parsed documents, kept: frontends send the same few documents over and over, so each
//! tenant's documents are parsed and checked against the abuse limits once, then reused
//! (an LRU of `CAPACITY` documents across tenants, keyed by tenant and text, so no tenant
//! can tell what another one sends). What depends on the variables is checked every time:
//! async-graphql's validation, the charset of string arguments, input coercion.

use std::any::TypeId;
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextPrepareRequest,
};
use async_graphql::parser::types::ExecutableDocument;
use async_graphql::{Request, ServerResult};
use lru::LruCache;

use crate::context::RequestContext;
use crate::limits;

/// How many parsed documents are kept.
pub const CAPACITY: usize = 1024;
/// Longer documents are parsed every time (the body limit caps them anyway).
const LONGEST_KEPT: usize = 32 * 1024;

type Cache = LruCache<(String, String), ExecutableDocument>;

/// The extension, in the place of the limit check: it parses the document (async-graphql
/// keeps it and does not parse again), checks the limits before async-graphql's own walks,
/// and keeps it. A document that does not parse is left to async-graphql, which says why.
pub struct Documents {
    cache: Arc<Mutex<Cache>>,
}

impl Default for Documents {
    fn default() -> Self {
        let capacity = NonZeroUsize::new(CAPACITY).expect("not zero");
        Documents {
            cache: Arc::new(Mutex::new(LruCache::new(capacity))),
        }
    }
}

impl ExtensionFactory for Documents {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(DocumentsExtension {
            cache: self.cache.clone(),
        })
    }
}

struct DocumentsExtension {
    cache: Arc<Mutex<Cache>>,
}

#[async_graphql::async_trait::async_trait]
impl Extension for DocumentsExtension {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let key = tenant(&request)
            .filter(|_| request.query.len() <= LONGEST_KEPT)
            .map(|tenant| (tenant, request.query.clone()));
        let kept = key.as_ref().and_then(|key| self.lock().get(key).cloned());
        match kept {
            Some(document) => request.set_parsed_query(document),
            None => {
                if let Ok(document) = request.parsed_query() {
                    limits::check(document)?;
                    if let Some(key) = key {
                        let document = document.clone();
                        self.lock().put(key, document);
                    }
                }
            }
        }
        next.run(ctx, request).await
    }
}

impl DocumentsExtension {
    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        // A panic while holding the lock leaves a usable cache: entries are whole values.
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The tenant of the request's principal; none for a request without one (not cached).
fn tenant(request: &Request) -> Option<String> {
    request
        .data
        .get(&TypeId::of::<RequestContext>())
        .and_then(|data| data.downcast_ref::<RequestContext>())
        .map(|me| me.tenant.clone())
}
