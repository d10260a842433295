use metrics_exporter_prometheus::PrometheusHandle;
use portico_app::App;
use std::ops::Deref;
use std::sync::Arc;

/// What every handler can reach. Cloned for every request and layer, so it is one `Arc`.
#[derive(Clone)]
pub struct WebState(Arc<Shared>);

pub struct Shared {
    pub app: App,
    /// Renders `/metrics`; `None` when no recorder is installed (some tests).
    pub metrics: Option<PrometheusHandle>,
    /// Dev mode turns on the landing page at `/` (and, later, the dev mailbox).
    pub dev_mode: bool,
    /// Where Portico is reached, for the links it prints.
    pub public_url: String,
}

impl WebState {
    pub fn new(app: App, metrics: Option<PrometheusHandle>, dev_mode: bool, public_url: String) -> Self {
        WebState(Arc::new(Shared { app, metrics, dev_mode, public_url }))
    }
}

impl Deref for WebState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}
