// The only way the dashboard talks to the server: the public REST API with the user's token in
// a header (never a cookie), so it can do nothing the `cinder` client could not do.
export const API_VERSION = 'volume 3.70';
const KEY = 'cinder.dashboard.session';

export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let session = null;
try {
  session = JSON.parse(sessionStorage.getItem(KEY) || 'null');
} catch {
  session = null;
}
export const getSession = () => session;
export function setSession(s) {
  session = s;
  if (s) sessionStorage.setItem(KEY, JSON.stringify(s));
  else sessionStorage.removeItem(KEY);
}

// The message of a Cinder fault ({"badRequest": {"message": ...}}) or a Keystone error
// ({"error": {"message": ...}}).
function faultMessage(status, text) {
  try {
    const body = JSON.parse(text);
    for (const v of Object.values(body)) {
      if (v && typeof v === 'object' && typeof v.message === 'string') return v.message;
    }
  } catch {
    // not JSON
  }
  return text || `HTTP ${status}`;
}

// One request. `opts.token` overrides the session's; `opts.volume` adds the microversion;
// `opts.headers` more headers. Resolves to {status, body, headers}; rejects with ApiError.
export async function request(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json' };
  const token = opts.token !== undefined ? opts.token : session && session.token;
  if (token) headers['X-Auth-Token'] = token;
  if (opts.volume !== false) headers['OpenStack-API-Version'] = API_VERSION;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  Object.assign(headers, opts.headers || {});
  const r = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
    credentials: 'omit',
    redirect: 'error',
  });
  const text = await r.text();
  if (!r.ok) {
    const err = new ApiError(r.status, faultMessage(r.status, text));
    if (r.status === 401 && opts.token === undefined && session && onExpired) onExpired();
    throw err;
  }
  return { status: r.status, body: text ? JSON.parse(text) : null, headers: r.headers };
}

let onExpired = null;
// Called when the API refuses the session's token (expired or revoked).
export function onSessionExpired(fn) {
  onExpired = fn;
}

// The volume API of the session's project: /v3/{project}{path}.
export const v3 = (method, path, body) => request(method, `/v3/${encodeURIComponent(session.project_id)}${path}`, body);

// A query string from an object, skipping empty values.
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.append(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

// How this server authenticates: 'builtin' (its Auth Manager at /identity/v3), 'noauth'
// (X-Auth-Token USER:PROJECT) or 'external' (an external Keystone validates tokens).
export async function authMode() {
  try {
    await request('GET', '/identity/v3', undefined, { token: null, volume: false });
    return { mode: 'builtin' };
  } catch {
    // not the built-in identity service
  }
  const r = await fetch('/v3/volumes', { headers: { Accept: 'application/json' }, cache: 'no-store', credentials: 'omit' });
  if (r.status === 204) return { mode: 'noauth' };
  const www = r.headers.get('WWW-Authenticate') || '';
  const m = /uri="([^"]*)"/.exec(www);
  return { mode: 'external', uri: m ? m[1] : '' };
}

const identity = (method, path, body, opts = {}) => request(method, `/identity/v3${path}`, body, { volume: false, ...opts });

function passwordAuth(user, password, domain) {
  return { identity: { methods: ['password'], password: { user: { name: user, domain: { name: domain }, password } } } };
}

// Logs in to the built-in identity service: an unscoped token and the projects it may scope to.
export async function loginUnscoped(user, password, domain) {
  const r = await identity('POST', '/auth/tokens', { auth: passwordAuth(user, password, domain) }, { token: null });
  const token = r.headers.get('X-Subject-Token');
  const projects = (await identity('GET', '/auth/projects', undefined, { token })).body.projects;
  return { token, user: r.body.token.user, projects };
}

// Exchanges the unscoped token for one scoped to `project`, keeps it, revokes the unscoped one.
export async function scopeTo(unscoped, project) {
  const r = await identity('POST', '/auth/tokens', {
    auth: { identity: { methods: ['token'], token: { id: unscoped } }, scope: { project: { id: project.id } } },
  }, { token: unscoped });
  const token = r.headers.get('X-Subject-Token');
  const t = r.body.token;
  const roles = (t.roles || []).map((x) => x.name);
  setSession({
    mode: 'builtin', token, project_id: t.project.id, project_name: t.project.name,
    user_name: t.user.name, roles, is_admin: roles.includes('admin'), expires_at: t.expires_at,
  });
  await revoke(unscoped, token).catch(() => {});
}

function revoke(subject, auth) {
  return identity('DELETE', '/auth/tokens', undefined, { token: auth, headers: { 'X-Subject-Token': subject } });
}

export async function logout() {
  const s = session;
  setSession(null);
  if (s && s.mode === 'builtin') await revoke(s.token, s.token).catch(() => {});
}
