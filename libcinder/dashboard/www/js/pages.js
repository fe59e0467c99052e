// The pages. Each: {title, admin, load() -> data, view(data, ctx) -> template, busy(data)}.
// load() reads only the public API (api.js); ctx.act(promise, notice) runs an action and
// refreshes; ctx.refresh() reloads the page's data.
import { html, nothing } from '../vendor/lit-html.js';
import { v3, query, getSession } from './api.js';
import { badge, date, gb, shortId, isTransitional, quotaBar, poolPicture, pager } from './ui.js';

const admin = () => getSession().is_admin;

// A paged, sorted, filtered list read with limit + marker (the server sorts and filters).
// `markers`: the marker of each page before this one; `offsets`: where each of them began.
function listState(sort) {
  return { limit: 50, markers: [], offsets: [], offset: 0, sort, name: '', status: '' };
}
function restart(state) {
  Object.assign(state, { markers: [], offsets: [], offset: 0 });
}
function move(state, items, dir) {
  if (dir > 0 && items.length) {
    state.markers.push(items[items.length - 1].id);
    state.offsets.push(state.offset);
    state.offset += items.length;
  } else if (dir < 0 && state.markers.length) {
    state.markers.pop();
    state.offset = state.offsets.pop();
  }
}
// Whether a next page exists. With a count (with_count), by the count: Cinder then names a next
// link whenever the total reaches the limit, even on the last page. Without, by the API's
// `<collection>_links` (it may cap a page below the limit asked: osapi_max_limit).
function hasNext(body, key, state, items) {
  if (body.count !== undefined) return state.offset + items.length < body.count;
  return (body[`${key}_links`] || []).some((l) => l.rel === 'next');
}
function listQuery(state, extra = {}) {
  return query({
    limit: state.limit,
    marker: state.markers[state.markers.length - 1],
    sort: state.sort,
    'name~': state.name,
    status: state.status,
    ...extra,
  });
}
function sortHeader(state, key, label, ctx) {
  const [k, dir] = state.sort.split(':');
  const mark = k === key ? (dir === 'asc' ? ' ▲' : ' ▼') : '';
  const next = k === key && dir === 'desc' ? 'asc' : 'desc';
  return html`<th scope="col"><button type="button" class="link" data-sort=${key}
    @click=${() => { state.sort = `${key}:${next}`; restart(state); ctx.refresh(); }}
    >${label}${mark}</button></th>`;
}
function filterForm(state, statuses, ctx) {
  const submit = (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    state.name = String(f.get('name') || '').trim();
    state.status = String(f.get('status') || '');
    restart(state);
    ctx.refresh();
  };
  return html`<form class="filters" @submit=${submit}>
    <label>Name contains <input name="name" .value=${state.name} autocomplete="off"></label>
    <label>Status <select name="status">
      <option value="">any</option>
      ${statuses.map((s) => html`<option value=${s} ?selected=${s === state.status}>${s}</option>`)}
    </select></label>
    <button type="submit">Filter</button>
  </form>`;
}
const busyRows = (items) => items.some((x) => isTransitional(x.status));

// ---------------------------------------------------------------------------------------------
// Volumes

const volState = listState('created_at:desc');
let volDialog = null;  // {kind: 'extend'|'snapshot'|'backup'|'delete', vol}
let volTypes = null;

// Where each attachment is: the server, the host its connector named, the device (Cinder
// records "na" when the connector named no mountpoint), since when.
function attachmentInfo(v) {
  if (!v.attachments || !v.attachments.length) return html`<span class="muted">—</span>`;
  return html`<ul class="plain">${v.attachments.map((a) => html`<li>
    ${a.server_id ? html`server <code title=${a.server_id}>${shortId(a.server_id)}</code>` : 'attached'}
    ${a.host_name ? html` on ${a.host_name}` : nothing}${a.device && a.device !== 'na' ? html` as <code>${a.device}</code>` : nothing}
    ${a.attached_at ? html` <span class="muted">since ${date(a.attached_at)}</span>` : nothing}</li>`)}</ul>`;
}

function volumeDialog(ctx) {
  if (!volDialog) return nothing;
  const { kind, vol } = volDialog;
  const close = () => { volDialog = null; ctx.render(); };
  const label = vol.name || vol.id;
  const done = (p, notice) => { volDialog = null; ctx.act(p, notice); };
  const submit = (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    if (kind === 'extend') {
      const size = Number(f.get('size'));
      done(v3('POST', `/volumes/${vol.id}/action`, { 'os-extend': { new_size: size } }), `Extending ${label} to ${size} GB.`);
    } else if (kind === 'snapshot') {
      // No `force`: from 3.66 a snapshot of an in-use volume needs none, and force=false is a 400.
      done(v3('POST', '/snapshots', { snapshot: { volume_id: vol.id, name: f.get('name') || null } }),
        `Creating a snapshot of ${label}.`);
    } else if (kind === 'backup') {
      done(v3('POST', '/backups', { backup: { volume_id: vol.id, name: f.get('name') || null, incremental: f.get('incremental') === 'on', force: true } }),
        `Backing up ${label}.`);
    } else if (kind === 'delete') {
      done(v3('DELETE', `/volumes/${vol.id}`), `Deleting ${label}.`);
    }
  };
  const fields = {
    extend: html`<label>New size (GB) <input name="size" type="number" min=${vol.size + 1} .value=${String(vol.size + 1)} required></label>`,
    snapshot: html`<label>Snapshot name <input name="name" autocomplete="off"></label>`,
    backup: html`<label>Backup name <input name="name" autocomplete="off"></label>
      <label><input name="incremental" type="checkbox"> incremental</label>`,
    delete: html`<p>Delete volume <strong>${label}</strong>? Its data is lost.</p>`,
  }[kind];
  const titles = { extend: 'Extend', snapshot: 'Snapshot', backup: 'Back up', delete: 'Delete' };
  return html`<section id="dialog" class="dialog" data-kind=${kind}>
    <h2>${titles[kind]} <span class="muted">${label}</span></h2>
    <form @submit=${submit}>${fields}
      <div class="buttons"><button type="submit" class=${kind === 'delete' ? 'danger' : 'primary'} data-action="confirm">${titles[kind]}</button>
      <button type="button" @click=${close}>Cancel</button></div>
    </form></section>`;
}

function createVolumeForm(ctx) {
  const submit = (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    const body = { name: String(f.get('name') || '') || null, size: Number(f.get('size')) };
    if (f.get('description')) body.description = String(f.get('description'));
    if (f.get('volume_type')) body.volume_type = String(f.get('volume_type'));
    ctx.act(v3('POST', '/volumes', { volume: body }), `Creating volume ${body.name || ''}.`);
    e.target.reset();
  };
  return html`<details class="create" id="create-volume"><summary>Create a volume</summary>
    <form @submit=${submit}>
      <label>Name <input name="name" autocomplete="off"></label>
      <label>Size (GB) <input name="size" type="number" min="1" value="1" required></label>
      <label>Type <select name="volume_type"><option value="">default</option>
        ${(volTypes || []).map((t) => html`<option value=${t.name}>${t.name}</option>`)}</select></label>
      <label>Description <input name="description" autocomplete="off"></label>
      <button type="submit" class="primary" data-action="create">Create</button>
    </form></details>`;
}

export const volumes = {
  title: 'Volumes',
  async load() {
    const typesP = volTypes ? null : v3('GET', '/types').then((r) => { volTypes = r.body.volume_types; }).catch(() => { volTypes = []; });
    const r = await v3('GET', `/volumes/detail${listQuery(volState, { with_count: 'true', all_tenants: admin() ? 1 : undefined })}`);
    if (typesP) await typesP;
    return { items: r.body.volumes, count: r.body.count, next: hasNext(r.body, 'volumes', volState, r.body.volumes) };
  },
  busy: (d) => busyRows(d.items),
  view(d, ctx) {
    const a = admin();
    const open = (kind, vol) => () => { volDialog = { kind, vol }; ctx.render(); };
    return html`
      ${createVolumeForm(ctx)}
      ${volumeDialog(ctx)}
      ${filterForm(volState, ['available', 'in-use', 'creating', 'extending', 'deleting', 'error', 'error_deleting', 'error_extending', 'backing-up', 'reserved'], ctx)}
      <table class="list" id="volumes">
        <thead><tr>${sortHeader(volState, 'name', 'Name', ctx)}${sortHeader(volState, 'status', 'Status', ctx)}
          ${sortHeader(volState, 'size', 'Size', ctx)}<th scope="col">Type</th>
          ${a ? html`<th scope="col">Host</th><th scope="col">Project</th>` : nothing}
          <th scope="col">Attachments</th>${sortHeader(volState, 'created_at', 'Created', ctx)}<th scope="col">Actions</th></tr></thead>
        <tbody>${d.items.map((v) => html`<tr data-id=${v.id} data-status=${v.status}>
          <td><span class="name">${v.name || ''}</span><br><code class="muted" title=${v.id}>${shortId(v.id)}</code></td>
          <td>${badge(v.status)}</td><td class="num">${gb(v.size)}</td><td>${v.volume_type || ''}</td>
          ${a ? html`<td>${v['os-vol-host-attr:host'] || ''}</td><td><code title=${v['os-vol-tenant-attr:tenant_id'] || ''}>${shortId(v['os-vol-tenant-attr:tenant_id'])}</code></td>` : nothing}
          <td>${attachmentInfo(v)}</td><td>${date(v.created_at)}</td>
          <td class="actions">
            <button type="button" data-action="extend" @click=${open('extend', v)}>Extend</button>
            <button type="button" data-action="snapshot" @click=${open('snapshot', v)}>Snapshot</button>
            <button type="button" data-action="backup" @click=${open('backup', v)}>Back up</button>
            <button type="button" data-action="delete" class="danger" @click=${open('delete', v)}>Delete</button>
          </td></tr>`)}</tbody>
      </table>
      ${pager(volState, d, (dir) => { move(volState, d.items, dir); ctx.refresh(); })}`;
  },
};

// ---------------------------------------------------------------------------------------------
// Snapshots and backups

const snapState = listState('created_at:desc');
export const snapshots = {
  title: 'Snapshots',
  async load() {
    const r = await v3('GET', `/snapshots/detail${listQuery(snapState, { with_count: 'true', all_tenants: admin() ? 1 : undefined })}`);
    return { items: r.body.snapshots, count: r.body.count, next: hasNext(r.body, 'snapshots', snapState, r.body.snapshots) };
  },
  busy: (d) => busyRows(d.items),
  view(d, ctx) {
    return html`${filterForm(snapState, ['available', 'creating', 'deleting', 'error', 'error_deleting'], ctx)}
      <table class="list" id="snapshots"><thead><tr>${sortHeader(snapState, 'name', 'Name', ctx)}
        ${sortHeader(snapState, 'status', 'Status', ctx)}<th scope="col">Progress</th>${sortHeader(snapState, 'size', 'Size', ctx)}
        <th scope="col">Volume</th>${sortHeader(snapState, 'created_at', 'Created', ctx)}<th scope="col">Actions</th></tr></thead>
      <tbody>${d.items.map((s) => html`<tr data-id=${s.id} data-status=${s.status}>
        <td><span class="name">${s.name || ''}</span><br><code class="muted" title=${s.id}>${shortId(s.id)}</code></td>
        <td>${badge(s.status)}</td><td>${s['os-extended-snapshot-attributes:progress'] || ''}</td>
        <td class="num">${gb(s.size)}</td><td><code title=${s.volume_id}>${shortId(s.volume_id)}</code></td><td>${date(s.created_at)}</td>
        <td class="actions"><button type="button" class="danger" data-action="delete"
          @click=${() => ctx.act(v3('DELETE', `/snapshots/${s.id}`), `Deleting snapshot ${s.name || s.id}.`)}>Delete</button></td>
      </tr>`)}</tbody></table>
      ${pager(snapState, d, (dir) => { move(snapState, d.items, dir); ctx.refresh(); })}`;
  },
};

// A bar with the share done when the backup service has recorded one, else an activity bar.
const backupProgress = (p) => (p && p.percent !== null
  ? html` <progress class="backup-progress" max="100" value=${p.percent} title=${`${p.percent}%`}></progress>
      <span class="muted">${p.percent}%</span>`
  : html` <progress class="backup-progress" title="running"></progress>`);

const backupState = listState('created_at:desc');
export const backups = {
  title: 'Backups',
  async load() {
    const r = await v3('GET', `/backups/detail${listQuery(backupState, { with_count: 'true', all_tenants: admin() ? 1 : undefined })}`);
    const items = r.body.backups;
    // How far each running backup or restore is (GET .../backups/{id}/progress, our extension:
    // the backup view itself stays Cinder's).
    const running = items.filter((b) => b.status === 'creating' || b.status === 'restoring');
    const progress = {};
    await Promise.all(running.map(async (b) => {
      const p = await v3('GET', `/backups/${b.id}/progress`).catch(() => null);
      if (p) progress[b.id] = p.body.backup_progress;
    }));
    return { items, progress, count: r.body.count, next: hasNext(r.body, 'backups', backupState, items) };
  },
  busy: (d) => busyRows(d.items),
  view(d, ctx) {
    return html`${filterForm(backupState, ['available', 'creating', 'restoring', 'deleting', 'error'], ctx)}
      <table class="list" id="backups"><thead><tr>${sortHeader(backupState, 'name', 'Name', ctx)}
        ${sortHeader(backupState, 'status', 'Status', ctx)}${sortHeader(backupState, 'size', 'Size', ctx)}<th scope="col">Volume</th>
        <th scope="col">Kind</th><th scope="col">Objects</th>${sortHeader(backupState, 'created_at', 'Created', ctx)}<th scope="col">Actions</th></tr></thead>
      <tbody>${d.items.map((b) => html`<tr data-id=${b.id} data-status=${b.status}>
        <td><span class="name">${b.name || ''}</span><br><code class="muted" title=${b.id}>${shortId(b.id)}</code></td>
        <td>${badge(b.status)}${isTransitional(b.status) ? backupProgress(d.progress[b.id]) : nothing}
          ${b.fail_reason ? html`<br><span class="muted">${b.fail_reason}</span>` : nothing}</td>
        <td class="num">${gb(b.size)}</td><td><code title=${b.volume_id}>${shortId(b.volume_id)}</code></td>
        <td>${b.is_incremental ? 'incremental' : 'full'}</td><td class="num">${b.object_count ?? ''}</td><td>${date(b.created_at)}</td>
        <td class="actions"><button type="button" class="danger" data-action="delete"
          @click=${() => ctx.act(v3('DELETE', `/backups/${b.id}`), `Deleting backup ${b.name || b.id}.`)}>Delete</button></td>
      </tr>`)}</tbody></table>
      ${pager(backupState, d, (dir) => { move(backupState, d.items, dir); ctx.refresh(); })}`;
  },
};

// ---------------------------------------------------------------------------------------------
// Quotas and messages (every user, their project)

const QUOTA_ORDER = ['volumes', 'gigabytes', 'snapshots', 'backups', 'backup_gigabytes', 'groups', 'per_volume_gigabytes'];
export const quotas = {
  title: 'Quotas',
  async load() {
    const s = getSession();
    const r = await v3('GET', `/os-quota-sets/${encodeURIComponent(s.project_id)}${query({ usage: 'True' })}`);
    return r.body.quota_set;
  },
  busy: () => false,
  view(q) {
    const keys = Object.keys(q).filter((k) => k !== 'id' && q[k] && typeof q[k] === 'object');
    const main = QUOTA_ORDER.filter((k) => keys.includes(k) && k !== 'per_volume_gigabytes');
    const perType = keys.filter((k) => !QUOTA_ORDER.includes(k) && (q[k].limit >= 0 || q[k].in_use > 0));
    return html`<p class="muted">Project ${getSession().project_name || getSession().project_id}: in use and reserved, against the limit.</p>
      <table class="quotas" id="quotas"><thead><tr><th scope="col">Resource</th><th scope="col">Use</th><th scope="col">Used</th><th scope="col">Limit</th></tr></thead>
      <tbody>${main.map((k) => quotaBar(k, q[k]))}${perType.map((k) => quotaBar(k, q[k]))}</tbody></table>
      ${q.per_volume_gigabytes ? html`<p>Largest volume: ${q.per_volume_gigabytes.limit < 0 ? 'unlimited' : gb(q.per_volume_gigabytes.limit)}</p>` : nothing}`;
  },
};

const msgState = listState('created_at:desc');
export const messages = {
  title: 'Messages',
  async load() {
    const r = await v3('GET', `/messages${query({ limit: msgState.limit, marker: msgState.markers[msgState.markers.length - 1], sort: msgState.sort })}`);
    return { items: r.body.messages, next: hasNext(r.body, 'messages', msgState, r.body.messages) };
  },
  busy: () => false,
  view(d, ctx) {
    return html`<table class="list" id="messages"><thead><tr><th scope="col">When</th><th scope="col">Level</th>
        <th scope="col">Message</th><th scope="col">Resource</th><th scope="col">Event</th><th scope="col">Actions</th></tr></thead>
      <tbody>${d.items.map((m) => html`<tr data-id=${m.id}>
        <td>${date(m.created_at)}</td><td>${m.message_level}</td><td>${m.user_message}</td>
        <td>${m.resource_type || ''} <code title=${m.resource_uuid || ''}>${shortId(m.resource_uuid)}</code></td>
        <td><code>${m.event_id}</code></td>
        <td class="actions"><button type="button" data-action="delete"
          @click=${() => ctx.act(v3('DELETE', `/messages/${m.id}`), 'Message deleted.')}>Delete</button></td></tr>`)}</tbody></table>
      ${pager(msgState, d, (dir) => { move(msgState, d.items, dir); ctx.refresh(); })}`;
  },
};

// ---------------------------------------------------------------------------------------------
// Admin pages: the API's policy decides; a member who opens one sees the API's 403.

const specList = (o) => {
  const e = Object.entries(o || {});
  return e.length ? html`<ul class="plain">${e.map(([k, v]) => html`<li><code>${k}</code> = <code>${v}</code></li>`)}</ul>` : html`<span class="muted">—</span>`;
};

export const types = {
  title: 'Volume types',
  admin: true,
  async load() {
    const [t, d] = await Promise.all([
      v3('GET', `/types${query({ is_public: 'None' })}`),
      v3('GET', '/types/default').catch(() => null),
    ]);
    return { items: t.body.volume_types, def: d && d.body.volume_type ? d.body.volume_type.id : null };
  },
  busy: () => false,
  view(d) {
    return html`<table class="list" id="types"><thead><tr><th scope="col">Name</th><th scope="col">Public</th>
      <th scope="col">Description</th><th scope="col">Extra specs</th><th scope="col">QoS</th></tr></thead>
      <tbody>${d.items.map((t) => html`<tr data-id=${t.id}><td><span class="name">${t.name}</span>${t.id === d.def ? html` <span class="status ok">default</span>` : nothing}
        <br><code class="muted">${shortId(t.id)}</code></td><td>${t.is_public ? 'yes' : 'no'}</td><td>${t.description || ''}</td>
        <td>${specList(t.extra_specs)}</td><td><code>${shortId(t.qos_specs_id)}</code></td></tr>`)}</tbody></table>`;
  },
};

export const qos = {
  title: 'QoS',
  admin: true,
  async load() {
    return { items: (await v3('GET', '/qos-specs')).body.qos_specs };
  },
  busy: () => false,
  view(d) {
    return html`<table class="list" id="qos"><thead><tr><th scope="col">Name</th><th scope="col">Consumer</th><th scope="col">Specs</th></tr></thead>
      <tbody>${d.items.length ? d.items.map((q) => html`<tr data-id=${q.id}><td><span class="name">${q.name}</span><br><code class="muted">${shortId(q.id)}</code></td>
        <td>${q.consumer}</td><td>${specList(q.specs)}</td></tr>`) : html`<tr><td colspan="3" class="muted">No QoS specs.</td></tr>`}</tbody></table>`;
  },
};

export const capacity = {
  title: 'Services and pools',
  admin: true,
  async load() {
    const [s, p] = await Promise.all([v3('GET', '/os-services'), v3('GET', `/scheduler-stats/get_pools${query({ detail: 'true' })}`)]);
    return { services: s.body.services, pools: p.body.pools };
  },
  busy: () => false,
  view(d) {
    return html`<h2>Services</h2>
      <table class="list" id="services"><thead><tr><th scope="col">Binary</th><th scope="col">Host</th><th scope="col">Zone</th>
        <th scope="col">Status</th><th scope="col">State</th><th scope="col">Updated</th></tr></thead>
      <tbody>${d.services.map((s) => html`<tr><td>${s.binary}</td><td>${s.host}</td><td>${s.zone}</td>
        <td>${s.status}${s.disabled_reason ? html` <span class="muted">(${s.disabled_reason})</span>` : nothing}</td>
        <td><span class="status ${s.state === 'up' ? 'ok' : 'bad'}">${s.state}</span></td><td>${date(s.updated_at)}</td></tr>`)}</tbody></table>
      <h2>Pools</h2>
      <p class="muted legend"><span class="key used"></span> used of the physical capacity
        <span class="key allocated"></span> allocated to volumes <span class="key provisioned"></span> provisioned, against total × over-subscription ratio</p>
      <table class="list" id="pools"><thead><tr><th scope="col">Pool</th><th scope="col">Capacity</th><th scope="col">Total</th>
        <th scope="col">Free</th><th scope="col">Ratio</th></tr></thead>
      <tbody>${d.pools.map((p) => {
        const c = p.capabilities || {};
        return html`<tr data-pool=${p.name}><td>${p.name}<br><span class="muted">${c.volume_backend_name || ''} ${c.storage_protocol || ''}</span></td>
          <td>${poolPicture(c)}</td><td class="num">${gb(c.total_capacity_gb)}</td><td class="num">${gb(c.free_capacity_gb)}</td>
          <td class="num">${c.max_over_subscription_ratio ?? ''}</td></tr>`;
      })}</tbody></table>`;
  },
};

export const ALL = { volumes, snapshots, backups, quotas, messages, types, qos, capacity };

// Forgets what the last user chose or was shown (at logout, or when the session ends).
export function resetPages() {
  for (const st of [volState, snapState, backupState, msgState]) {
    Object.assign(st, listState('created_at:desc'));
  }
  volDialog = null;
  volTypes = null;
}
