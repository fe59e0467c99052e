// The dashboard's shell: login, navigation (#/page), rendering with lit-html, live updates by
// polling (fast while a row is in a transitional status, slow otherwise, paused while hidden).
import { html, render, nothing } from '../vendor/lit-html.js';
import { authMode, getSession, setSession, loginUnscoped, scopeTo, logout, onSessionExpired, request } from './api.js';
import { errorBox } from './ui.js';
import { ALL, resetPages } from './pages.js';

const FAST_MS = 2000;
const SLOW_MS = 15000;
const root = document.getElementById('app');
root.replaceChildren();  // the static "Loading…"

const app = {
  page: null,       // the page object shown
  name: '',         // its route name
  data: null,       // its last data
  error: null,      // the last load's error
  notice: null,     // {text, state: 'pending' | 'done' | 'error'}
  gen: 0,           // bumps on each navigation and each read: only the latest answer is drawn
  timer: 0,
  loading: false,
  firstPaint: false,
  login: { mode: null, error: null, pending: null, busy: false },
};

const route = () => (location.hash.replace(/^#\/?/, '').split(/[?/]/)[0] || 'volumes');

function schedule() {
  clearTimeout(app.timer);
  if (document.hidden || !app.page || !getSession()) return;
  const busy = app.data && !app.error && app.page.busy(app.data);
  app.timer = setTimeout(refresh, busy ? FAST_MS : SLOW_MS);
}

// Reads the page's data and draws it. Each call supersedes those still waiting for an answer
// (a poll under way when the user sorts or pages must not draw its older list).
async function refresh() {
  clearTimeout(app.timer);
  if (!getSession() || !app.page) return draw();
  const gen = ++app.gen;
  app.loading = true;
  try {
    const data = await app.page.load();
    if (gen !== app.gen) return;
    app.data = data;
    app.error = null;
  } catch (e) {
    if (gen !== app.gen) return;
    app.error = e;
  } finally {
    if (gen === app.gen) app.loading = false;
  }
  if (gen !== app.gen) return;
  draw();
  if (!app.firstPaint && app.name === 'volumes' && app.data) {
    app.firstPaint = true;
    void document.body.offsetHeight;  // style and layout of the first page, then the mark
    performance.mark('volumes-first-page');
    performance.measure('volumes-first-page', undefined, 'volumes-first-page');
  }
  schedule();
}

const ctx = {
  refresh,
  render: () => draw(),
  // Runs an action: its notice says "…" until the API answered, then the list is read again.
  act(promise, text) {
    const notice = { text, state: 'pending' };
    app.notice = notice;
    draw();
    promise.then(() => {
      notice.state = 'done';
      refresh();
    }, (e) => {
      notice.text = `${e.status ? `${e.status}: ` : ''}${e.message}`;
      notice.state = 'error';
      refresh();
    });
  },
};

function navigate() {
  const name = route();
  app.gen += 1;
  app.name = name;
  app.page = ALL[name] || null;
  app.data = null;
  app.error = app.page ? null : { message: `No page named "${name}".` };
  app.notice = null;
  draw();
  refresh();
}

// ---------------------------------------------------------------------------------------------
// Login

async function doLogin(e) {
  e.preventDefault();
  const f = new FormData(e.target);
  const L = app.login;
  L.error = null;
  L.busy = true;
  draw();
  try {
    if (L.mode.mode === 'builtin') {
      const r = await loginUnscoped(String(f.get('user')), String(f.get('password')), String(f.get('domain') || 'Default'));
      if (!r.projects.length) throw new Error(`${r.user.name} has no role on any project.`);
      if (r.projects.length === 1) {
        await scopeTo(r.token, r.projects[0]);
      } else {
        L.pending = r;  // choose the project
      }
    } else if (L.mode.mode === 'noauth') {
      const user = String(f.get('user')).trim();
      const project = String(f.get('project')).trim();
      setSession({ mode: 'noauth', token: `${user}:${project}`, project_id: project, project_name: project, user_name: user, roles: ['admin'], is_admin: true });
    } else {
      const token = String(f.get('token')).trim();
      const project = String(f.get('project')).trim();
      await request('GET', `/v3/${encodeURIComponent(project)}/volumes?limit=1`, undefined, { token });
      // Whether the admin pages apply: the API answers the services list only to an admin.
      const isAdmin = await request('GET', `/v3/${encodeURIComponent(project)}/os-services`, undefined, { token }).then(() => true, () => false);
      setSession({ mode: 'external', token, project_id: project, project_name: project, user_name: '', roles: [], is_admin: isAdmin });
    }
  } catch (err) {
    L.error = err.status === 401 ? { status: 401, message: 'The user name or password is wrong (or the user is disabled or locked out).' } : err;
  }
  L.busy = false;
  if (getSession()) navigate();
  else draw();
}

async function chooseProject(e) {
  e.preventDefault();
  const L = app.login;
  const id = String(new FormData(e.target).get('project'));
  const project = L.pending.projects.find((p) => p.id === id);
  try {
    await scopeTo(L.pending.token, project);
    L.pending = null;
    navigate();
  } catch (err) {
    L.error = err;
    draw();
  }
}

function loginView() {
  const L = app.login;
  if (!L.mode) return html`<p class="muted">Connecting…</p>`;
  if (L.pending) {
    return html`<form class="login" id="choose-project" @submit=${chooseProject}>
      <h1>Choose a project</h1>${errorBox(L.error)}
      <label>Project <select name="project">${L.pending.projects.map((p) => html`<option value=${p.id}>${p.name}</option>`)}</select></label>
      <button type="submit" class="primary">Continue</button></form>`;
  }
  const m = L.mode.mode;
  const fields = m === 'builtin'
    ? html`<label>User name <input name="user" autocomplete="username" required></label>
        <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
        <label>Domain <input name="domain" value="Default" required></label>`
    : m === 'noauth'
      ? html`<p class="note">This server runs with <code>auth_strategy = noauth</code>: it trusts any
          <code>USER:PROJECT</code> token and makes every user an admin. Use it only on a trusted host.</p>
        <label>User <input name="user" value="admin" required></label>
        <label>Project <input name="project" value="admin" required></label>`
      : html`<p class="note">This server validates tokens with an external Keystone${L.mode.uri ? html` (<code>${L.mode.uri}</code>)` : nothing}.
          A page cannot send your password to another site, so get a token with
          <code>openstack token issue</code> and paste it here with its project ID.</p>
        <label>Token <input name="token" type="password" required></label>
        <label>Project ID <input name="project" required></label>`;
  return html`<form class="login" id="login" @submit=${doLogin}>
    <h1>libcinder</h1>${errorBox(L.error)}${fields}
    <button type="submit" class="primary" ?disabled=${L.busy}>Log in</button></form>`;
}

// ---------------------------------------------------------------------------------------------

const NAV = ['volumes', 'snapshots', 'backups', 'quotas', 'messages'];
const ADMIN_NAV = ['types', 'qos', 'capacity'];

function shell() {
  const s = getSession();
  // The current page's link reads its data again (the hash does not change, so no hashchange).
  const link = (n) => html`<a href="#/${n}" class=${n === app.name ? 'current' : ''} data-page=${n}
    @click=${() => { if (n === route()) refresh(); }}>${ALL[n].title}</a>`;
  const p = app.page;
  return html`<header>
      <strong class="brand">libcinder</strong>
      <nav id="nav">${NAV.map(link)}${s.is_admin ? html`<span class="sep"></span>${ADMIN_NAV.map(link)}` : nothing}</nav>
      <span class="who">${s.user_name} · <span id="project">${s.project_name || s.project_id}</span>${s.is_admin ? html` <span class="status ok">admin</span>` : nothing}</span>
      <button type="button" id="logout" @click=${async () => { await logout(); signedOut(null); }}>Log out</button>
    </header>
    <main data-page=${app.name}>
      <h1>${p ? p.title : 'Not found'} ${app.loading ? html`<span class="spinner" aria-label="loading"></span>` : nothing}</h1>
      ${app.notice ? html`<p id="notice" class=${app.notice.state === 'error' ? 'error' : 'notice'} role="status"
        data-state=${app.notice.state}>${app.notice.text}${app.notice.state === 'pending' ? ' …' : nothing}</p>` : nothing}
      ${errorBox(app.error)}
      ${p && app.data ? p.view(app.data, ctx) : nothing}
    </main>`;
}

function draw() {
  render(getSession() ? shell() : loginView(), root);
}

async function start() {
  if (getSession()) {
    navigate();
    return;
  }
  draw();
  app.login.mode = await authMode();
  draw();
}

// Back to the login page, with nothing of the last user's pages kept.
function signedOut(error) {
  clearTimeout(app.timer);
  app.gen += 1;
  Object.assign(app, { page: null, name: '', data: null, error: null, notice: null });
  resetPages();
  app.login = { mode: null, error, pending: null, busy: false };
  start();
}

onSessionExpired(() => {
  setSession(null);
  signedOut({ status: 401, message: 'Your session ended: log in again.' });
});
window.addEventListener('hashchange', () => { if (getSession()) navigate(); });
document.addEventListener('visibilitychange', () => {
  if (document.hidden) clearTimeout(app.timer);
  else if (getSession()) refresh();
});
start();
