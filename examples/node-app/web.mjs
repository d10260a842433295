// Plain HTTP and HTML plumbing for the example apps (this one and
// ../authkit-session, which imports it): configuration, cookies, forms,
// responses and the three pages. Nothing here is specific to Portico or the
// SDK; each server.mjs holds the part worth reading.

// ---- configuration ----------------------------------------------------------

/** Stops the app with a message saying what to set. */
export function fail(message) {
  console.error(`error: ${message}`);
  process.exit(2);
}

/** The environment variable `name`, which must be set. */
export function required(name) {
  return process.env[name] || fail(`set ${name} (\`portico serve\` prints the API key and client id on first start)`);
}

/** `text` as an http(s) URL, or a stop naming the variable `name`. */
export function parseUrl(name, text) {
  let url;
  try {
    url = new URL(text);
  } catch {
    url = undefined;
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    fail(`${name} must be an http(s) URL such as http://127.0.0.1:8080, not ${JSON.stringify(text)}`);
  }
  return url;
}

// ---- cookies ----------------------------------------------------------------

/** The request's cookies as { name: value } (first occurrence wins). */
export function readCookies(req) {
  const cookies = {};
  for (const part of (req.headers.cookie || '').split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    const name = part.slice(0, eq).trim();
    if (!name || name in cookies) continue;
    try {
      cookies[name] = decodeURIComponent(part.slice(eq + 1).trim());
    } catch {
      // A cookie this app did not write; ignore it.
    }
  }
  return cookies;
}

/** A Set-Cookie value: HttpOnly, SameSite=Lax, Path=/ (and Secure on https). */
export function cookie(name, value, { maxAge, secure = false } = {}) {
  const parts = [`${name}=${encodeURIComponent(value)}`, 'Path=/', 'HttpOnly', 'SameSite=Lax'];
  if (secure) parts.push('Secure');
  if (maxAge !== undefined) parts.push(`Max-Age=${maxAge}`);
  return parts.join('; ');
}

export const clearCookie = (name, { secure = false } = {}) => cookie(name, '', { maxAge: 0, secure });

// ---- requests and responses -------------------------------------------------

/** An application/x-www-form-urlencoded body (at most 16 KiB). */
export async function readForm(req) {
  let size = 0;
  const chunks = [];
  for await (const chunk of req) {
    size += chunk.length;
    if (size > 16 * 1024) throw Object.assign(new Error('form too large'), { statusCode: 413 });
    chunks.push(chunk);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/**
 * POSTs must come from this app's own pages (SameSite=Lax guards the cookie;
 * this guards the rest). Browsers send Origin on POSTs; with the
 * `same-origin` referrer policy below it is the real origin, not "null".
 */
export function sameOrigin(req, appOrigin) {
  const origin = req.headers.origin;
  return !origin || origin === appOrigin;
}

export function send(res, status, html, cookies = []) {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Security-Policy':
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    'Referrer-Policy': 'same-origin',
    'X-Content-Type-Options': 'nosniff',
    ...(cookies.length ? { 'Set-Cookie': cookies } : {}),
  });
  res.end(html);
}

export function redirect(res, location, cookies = []) {
  res.writeHead(303, {
    Location: location,
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'same-origin',
    ...(cookies.length ? { 'Set-Cookie': cookies } : {}),
  });
  res.end();
}

export function sendJson(res, status, value) {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(value));
}

/** A one-line description of an SDK or network error, for error pages and logs. */
export function describe(err) {
  if (!err || typeof err !== 'object') return String(err);
  const bits = [err.message || err.name];
  if (err.status) bits.push(`status ${err.status}`);
  if (err.error && err.error !== err.message) bits.push(err.error);
  if (err.errorDescription) bits.push(err.errorDescription);
  if (err.code) bits.push(err.code);
  if (err.cause && typeof err.cause === 'object' && err.cause !== err) bits.push(`cause: ${describe(err.cause)}`);
  return bits.join(' · ');
}

// ---- HTML -------------------------------------------------------------------

export const escapeHtml = (value) =>
  String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);

const STYLE = `
  :root { color-scheme: light dark; --accent: #3451b2; --muted: #6b7280; --line: #d1d5db; }
  * { box-sizing: border-box; }
  body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 0; }
  main { max-width: 44rem; margin: 3rem auto; padding: 0 1.25rem; }
  h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
  h2 { font-size: 1.1rem; margin: 2rem 0 .75rem; }
  p.lead { color: var(--muted); margin: 0 0 2rem; }
  dl { display: grid; grid-template-columns: 11rem 1fr; gap: .4rem 1rem; margin: 0; }
  dt { color: var(--muted); }
  dd { margin: 0; overflow-wrap: anywhere; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .9rem; }
  .actions { display: flex; flex-wrap: wrap; gap: .75rem; align-items: center; margin-top: 1.5rem; }
  .actions form { margin: 0; }
  a.button, button { font: inherit; padding: .5rem 1rem; border-radius: .4rem; border: 1px solid var(--accent);
    background: var(--accent); color: #fff; text-decoration: none; cursor: pointer; }
  a.button.secondary, button.secondary { background: transparent; color: var(--accent); }
  form.inline { display: flex; flex-wrap: wrap; gap: .75rem; align-items: end; }
  label { display: block; font-size: .9rem; color: var(--muted); margin-bottom: .25rem; }
  select { font: inherit; padding: .45rem .5rem; border-radius: .4rem; border: 1px solid var(--line); min-width: 16rem; }
  .notice, .alert { padding: .75rem 1rem; border-radius: .4rem; margin: 0 0 1.5rem; }
  .notice { background: #ecfdf5; color: #065f46; }
  .alert { background: #fef2f2; color: #991b1b; }
  footer { margin-top: 3rem; color: var(--muted); font-size: .85rem; }
  a:focus-visible, button:focus-visible, select:focus-visible { outline: 3px solid #f59e0b; outline-offset: 2px; }
`;

/** The access token's expiry as an ISO timestamp (display only; the SDK verified the token). */
export function tokenExpiry(accessToken) {
  try {
    const payload = JSON.parse(Buffer.from(String(accessToken).split('.')[1], 'base64url').toString('utf8'));
    return Number.isInteger(payload.exp) ? new Date(payload.exp * 1000).toISOString() : undefined;
  } catch {
    return undefined;
  }
}

/** A value shown in the page, with its raw form in data-value for scripts and tests. */
function field(id, label, value) {
  const raw = Array.isArray(value) ? JSON.stringify(value) : (value ?? '');
  const shown = Array.isArray(value) ? (value.length ? value.join(', ') : '(none)') : (value ?? '(none)');
  return `  <dt>${escapeHtml(label)}</dt><dd id="${id}" data-value="${escapeHtml(raw)}">${escapeHtml(shown)}</dd>`;
}

/**
 * The pages, labelled with the app's name and the library it demonstrates.
 *
 * signedInPage takes `session`: { user, sessionId, organizationId, role,
 * roles, permissions, accessToken } and `memberships`: { list: [{
 * organizationId, organizationName, roleSlugs }], error? }.
 */
export function views({ appName, library }) {
  function page(title, body) {
    return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)} · ${escapeHtml(appName)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${body}
<footer>${escapeHtml(appName)}: ${escapeHtml(library)} against Portico.</footer>
</main>
</body>
</html>
`;
  }

  const noticeHtml = (notice) => (notice ? `<p class="notice" role="status">${escapeHtml(notice)}</p>\n` : '');

  function signedOutPage(notice) {
    return page(
      'Welcome',
      `<h1>${escapeHtml(appName)}</h1>
<p class="lead">Sign in with Portico's hosted pages; this app never sees your password.</p>
${noticeHtml(notice)}<div class="actions">
  <a class="button" id="sign-in" href="/login">Sign in</a>
  <a class="button secondary" id="sign-up" href="/signup">Sign up</a>
</div>`,
    );
  }

  function signedInPage(session, memberships, notice) {
    const user = session.user || {};
    const name = [user.firstName, user.lastName].filter(Boolean).join(' ');
    let organizations;
    if (memberships.error) {
      organizations = `<p class="alert" role="alert">Could not load your organizations: ${escapeHtml(memberships.error)}</p>`;
    } else if (memberships.list.length === 0) {
      organizations = '<p id="no-organizations">You are not a member of any organization.</p>';
    } else {
      const options = memberships.list
        .map((m) => {
          const selected = m.organizationId === session.organizationId ? ' selected' : '';
          const label = `${m.organizationName} (${m.roleSlugs.join(', ') || 'no role'})`;
          return `      <option value="${escapeHtml(m.organizationId)}"${selected}>${escapeHtml(label)}</option>`;
        })
        .join('\n');
      organizations = `<form id="switch-organization" class="inline" method="post" action="/switch-organization">
  <div>
    <label for="organization-select">Organization</label>
    <select id="organization-select" name="organization_id" required>
${options}
    </select>
  </div>
  <button type="submit">Switch organization</button>
</form>`;
    }
    return page(
      'Your session',
      `<h1>Signed in${name ? ` as ${escapeHtml(name)}` : ''}</h1>
<p class="lead">What Portico put in this session's access token.</p>
${noticeHtml(notice)}<h2>Session</h2>
<dl>
${field('user-email', 'Email', user.email)}
${field('user-id', 'User id', user.id)}
${field('session-id', 'Session id', session.sessionId)}
${field('organization-id', 'Organization id', session.organizationId)}
${field('role', 'Role', session.role)}
${field('roles', 'Roles', session.roles ?? [])}
${field('permissions', 'Permissions', session.permissions ?? [])}
${field('access-token-expires', 'Access token expires', tokenExpiry(session.accessToken))}
</dl>
<h2>Organizations</h2>
${organizations}
<div class="actions">
  <form method="post" action="/refresh"><button type="submit" id="refresh" class="secondary">Refresh session</button></form>
  <a class="button secondary" id="sign-out" href="/logout">Sign out</a>
</div>`,
    );
  }

  function errorPage(title, message, detail) {
    return page(
      title,
      `<h1>${escapeHtml(title)}</h1>
<p class="alert" role="alert">${escapeHtml(message)}</p>
${detail ? `<p>Details: <code id="error-detail">${escapeHtml(detail)}</code></p>\n` : ''}<p><a href="/">Back to the start page</a></p>`,
    );
  }

  return { signedOutPage, signedInPage, errorPage };
}
