//! The dev-mode landing page at `/`.

fn escape(text: &str) -> String {
    text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

pub fn render(public_url: &str, engine: &str) -> String {
    let url = escape(public_url);
    let host = escape(
        public_url
            .trim_start_matches("http://")
            .trim_start_matches("https://")
            .split(':')
            .next()
            .unwrap_or("localhost"),
    );
    let port = escape(public_url.rsplit(':').next().unwrap_or("8080").trim_end_matches('/'));
    format!(
        r#"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Portico — development server</title>
<style>
  :root {{ color-scheme: light dark; --accent: #4f46e5; }}
  body {{ font: 16px/1.55 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; background: Canvas; color: CanvasText; }}
  main {{ max-width: 760px; margin: 0 auto; padding: 48px 24px 64px; }}
  h1 {{ font-size: 28px; margin: 0 0 4px; }}
  .tag {{ display: inline-block; font-size: 12px; padding: 2px 8px; border-radius: 999px; background: var(--accent); color: white; vertical-align: middle; }}
  p.lead {{ color: GrayText; margin-top: 0; }}
  h2 {{ font-size: 18px; margin-top: 36px; }}
  pre {{ background: color-mix(in srgb, CanvasText 6%, Canvas); padding: 14px 16px; border-radius: 8px; overflow-x: auto; font-size: 13.5px; }}
  code {{ font-family: ui-monospace, SFMono-Regular, Menlo, monospace; }}
  a {{ color: var(--accent); }}
  ul {{ padding-left: 20px; }}
</style>
</head>
<body>
<main>
  <h1>Portico <span class="tag">dev mode</span></h1>
  <p class="lead">A self-hosted identity platform for B2B software, running at <code>{url}</code> on {engine}.
  Its API is WorkOS-compatible: the official WorkOS SDKs work against it unchanged.</p>

  <h2>1. Use the API key printed at start-up</h2>
  <p>The first start printed an API key (<code>sk_test_…</code>) and a client id. Lost the key? Run
  <code>portico api-keys create --name dev</code>.</p>
<pre><code>export PORTICO_API_KEY=sk_test_…
curl -s {url}/organizations -H "Authorization: Bearer $PORTICO_API_KEY" \
  -H 'Content-Type: application/json' -d '{{"name":"Acme","domain_data":[{{"domain":"acme.test","state":"verified"}}]}}'</code></pre>

  <h2>2. Or point a WorkOS SDK here</h2>
<pre><code>import {{ WorkOS }} from '@workos-inc/node';
const workos = new WorkOS(process.env.PORTICO_API_KEY, {{ apiHostname: '{host}', port: {port}, https: false }});
const user = await workos.userManagement.createUser({{ email: 'ada@acme.test', password: 'correct horse battery' }});</code></pre>

  <h2>3. Sign someone in through the hosted pages</h2>
  <p>Send a browser to <code>/user_management/authorize</code> (the SDKs' <code>getAuthorizationUrl</code>
  builds it) and Portico's pages take over: sign-in, sign-up, email verification, organization choice.
  <code>examples/node-app</code> in the repository is a small app that does it on the Node SDK.</p>
<pre><code>const url = workos.userManagement.getAuthorizationUrl({{
  provider: 'authkit', clientId: 'client_…', redirectUri: 'http://localhost:3000/callback', state: '…',
}});</code></pre>

  <h2>Where to look</h2>
  <ul>
    <li><a href="/_dev/mail">/_dev/mail</a> — the dev mailbox: sign-in codes and links Portico emailed (nothing leaves this machine until you configure SMTP)</li>
    <li><a href="/openapi.json">/openapi.json</a> — every endpoint, generated from the handlers</li>
    <li><a href="/health">/health</a>, <a href="/ready">/ready</a>, <a href="/metrics">/metrics</a> — for operators</li>
  </ul>
  <p>This page exists in dev mode only. Set <code>mode = "production"</code> in <code>portico.toml</code> to turn it off.</p>
</main>
</body>
</html>"#
    )
}
