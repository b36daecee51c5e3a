/**
 * Server-rendered login and consent pages: plain HTML forms, no script, so they can be driven by
 * plain HTTP form posts as well as by a browser.
 */

/** Escapes text for an HTML text node or a double-quoted attribute. */
export function escapeHtml(value: unknown): string {
  return String(value)
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

function layout(title: string, body: string): string {
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(title)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:34rem;margin:2rem auto;padding:0 1rem;color:#222}
h1{font-size:1.4rem}.card{border:1px solid #ddd;border-radius:6px;padding:1rem;margin:1rem 0}
dt{font-weight:600}dd{margin:0 0 .5rem 0}.error{color:#b00020}.new{background:#fff4cc}
label{display:block;margin:.5rem 0 .2rem}input[type=text],input[type=password]{width:100%;padding:.4rem}
button{padding:.5rem 1rem;margin:.5rem .5rem 0 0}
</style>
</head>
<body>
${body}
</body>
</html>`;
}

export interface LoginView {
  uid: string;
  clientName: string;
  error?: string;
  login?: string;
}

/** Account + password form posting to `/interaction/{uid}/login`. */
export function loginPage(view: LoginView): string {
  const error = view.error ? `<p class="error" role="alert">${escapeHtml(view.error)}</p>` : '';
  return layout(
    'Sign in',
    `<h1>Sign in</h1>
<p>Sign in to let <strong>${escapeHtml(view.clientName)}</strong> act on your behalf.</p>
${error}
<form method="post" action="/interaction/${escapeHtml(view.uid)}/login" id="login">
<label for="login-input">Account</label>
<input type="text" id="login-input" name="login" autocomplete="username" required value="${escapeHtml(view.login ?? '')}">
<label for="password-input">Password</label>
<input type="password" id="password-input" name="password" autocomplete="current-password" required>
<button type="submit">Sign in</button>
</form>
<form method="post" action="/interaction/${escapeHtml(view.uid)}/abort"><button type="submit">Cancel</button></form>`,
  );
}

export interface ConsentView {
  uid: string;
  clientId: string;
  clientName: string;
  agentMetadata: Record<string, string>;
  /** Scopes this decision would add. */
  requested: string[];
  /** Scopes the user already granted this agent; non-empty means a delta consent. */
  alreadyGranted: string[];
  account: string;
}

// Keys as the operator registers them in `agent_metadata` (RFC 7591 style snake_case).
const AGENT_FIELDS: Array<[string, string]> = [
  ['owner', 'Owner'],
  ['agent_type', 'Agent type'],
  ['capability_version', 'Capability version'],
  ['description', 'Description'],
  ['contact', 'Contact'],
];

/** Agent-aware consent: who the agent is, what it asks, and on a delta only what is new. */
export function consentPage(view: ConsentView): string {
  const name = escapeHtml(view.clientName);
  const facts = AGENT_FIELDS.filter(([key]) => view.agentMetadata[key] !== undefined)
    .map(([key, label]) => `<dt>${label}</dt><dd data-field="${key}">${escapeHtml(view.agentMetadata[key])}</dd>`)
    .join('\n');
  const list = (scopes: string[], cls: string): string =>
    `<ul class="${cls}">${scopes.map((s) => `<li data-scope="${escapeHtml(s)}">${escapeHtml(s)}</li>`).join('')}</ul>`;
  const delta = view.alreadyGranted.length > 0;
  const heading = delta
    ? `<h1>${name} is requesting a new permission: ${view.requested.map(escapeHtml).join(', ')}</h1>`
    : `<h1>${name} is requesting access</h1>`;
  const asked = delta
    ? `<div class="card new"><p>New permission${view.requested.length > 1 ? 's' : ''}:</p>${list(view.requested, 'requested')}</div>
<div class="card"><p>Already granted (unchanged):</p>${list(view.alreadyGranted, 'granted')}</div>`
    : `<div class="card"><p>Permissions requested:</p>${list(view.requested, 'requested')}</div>`;
  return layout(
    `Authorize ${view.clientName}`,
    `${heading}
<p>Signed in as <strong>${escapeHtml(view.account)}</strong>.</p>
<div class="card"><dl>
<dt>Agent</dt><dd data-field="client_name">${name}</dd>
<dt>Client ID</dt><dd data-field="client_id"><code>${escapeHtml(view.clientId)}</code></dd>
${facts}
</dl></div>
${asked}
<form method="post" action="/interaction/${escapeHtml(view.uid)}/confirm" id="consent">
<button type="submit" name="decision" value="allow">Allow</button>
</form>
<form method="post" action="/interaction/${escapeHtml(view.uid)}/abort" id="deny">
<button type="submit" name="decision" value="deny">Deny</button>
</form>`,
  );
}

/** A plain error page (no detail beyond the given safe message). */
export function errorPage(message: string): string {
  return layout('Error', `<h1>Something went wrong</h1><p class="error">${escapeHtml(message)}</p>`);
}
