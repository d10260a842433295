use metrics_exporter_prometheus::PrometheusHandle;
use portico_app::App;

/// What every handler can reach.
#[derive(Clone)]
pub struct WebState {
    pub app: App,
    /// Renders `/metrics`; `None` when no recorder is installed (some tests).
    pub metrics: Option<PrometheusHandle>,
    /// Dev mode turns on the landing page at `/` (and, later, the dev mailbox).
    pub dev_mode: bool,
    /// Where Portico is reached, for the links it prints.
    pub public_url: String,
}
