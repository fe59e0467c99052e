// Small view helpers. Everything a user typed goes through lit-html's text bindings (escaped);
// nothing here builds HTML from strings.
import { html, svg, nothing } from '../vendor/lit-html.js';

// Statuses that change on their own: the lists poll fast while a row shows one.
const TRANSITIONAL = new Set([
  'creating', 'deleting', 'extending', 'attaching', 'detaching', 'reserved', 'downloading', 'uploading',
  'backing-up', 'restoring-backup', 'restoring', 'retyping', 'migrating', 'maintenance', 'awaiting-transfer',
  'unmanaging', 'updating',
]);
export const isTransitional = (status) => TRANSITIONAL.has(String(status || '').toLowerCase());

export function badge(status) {
  const s = String(status || '');
  const kind = isTransitional(s) ? 'busy' : /error/.test(s) ? 'bad' : 'ok';
  return html`<span class="status ${kind}" data-status=${s}>${s}</span>`;
}

export const shortId = (id) => (id ? String(id).slice(0, 8) : '');
export const date = (s) => (s ? String(s).replace('T', ' ').replace(/\.\d+(Z)?$/, '') : '');
export const gb = (n) => (typeof n === 'number' ? `${Number.isInteger(n) ? n : n.toFixed(1)} GB` : String(n ?? ''));

export function errorBox(err) {
  if (!err) return nothing;
  const code = err.status ? `${err.status}: ` : '';
  return html`<p class="error" role="alert">${code}${err.message}</p>`;
}

// A quota's use as a bar: <meter> (no inline style), or "unlimited".
export function quotaBar(name, q) {
  const used = (q.in_use || 0) + (q.reserved || 0);
  if (q.limit < 0) {
    return html`<tr><th scope="row">${name}</th><td class="bar"><span class="muted">unlimited</span></td>
      <td class="num">${used}</td><td class="num">∞</td></tr>`;
  }
  return html`<tr><th scope="row">${name}</th>
    <td class="bar"><meter min="0" max=${Math.max(q.limit, 1)} low=${q.limit * 0.7} high=${q.limit * 0.9}
      optimum="0" value=${used} title=${`${used} of ${q.limit}`}></meter></td>
    <td class="num">${used}</td><td class="num">${q.limit}</td></tr>`;
}

const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : null);

// A pool's capacity as a picture: the physical capacity (total, used = total - free), what the
// volumes allocated and what was provisioned against the over-subscription limit.
export function poolPicture(caps) {
  const total = num(caps.total_capacity_gb);
  const free = num(caps.free_capacity_gb);
  if (total === null || free === null || total <= 0) {
    return html`<span class="muted">capacity ${String(caps.total_capacity_gb ?? 'unknown')}</span>`;
  }
  const ratio = Number(caps.max_over_subscription_ratio) || 1;
  const allocated = num(caps.allocated_capacity_gb) ?? 0;
  const provisioned = num(caps.provisioned_capacity_gb) ?? allocated;
  const limit = total * ratio;
  const W = 360;
  // The physical rows share one scale (the larger of total and allocated); the provisioned row
  // has its own, up to total x ratio (or beyond, when over-provisioned).
  const phys = Math.max(total, allocated);
  const prov = Math.max(limit, provisioned);
  const x = (v, scale) => Math.max(0, Math.min(W, (v / scale) * W));
  const r1 = (v) => Math.round(v * 10) / 10;
  const rows = [
    ['used', total - free, total, phys, `used ${gb(r1(total - free))} of ${gb(r1(total))}`],
    ['allocated', allocated, total, phys, `allocated ${gb(r1(allocated))}`],
    ['provisioned', provisioned, limit, prov, `provisioned ${gb(r1(provisioned))} of ${gb(r1(limit))}`],
  ];
  return html`<svg class="pool" viewBox="0 0 ${W + 190} 66" width=${W + 190} height="66" role="img"
      aria-label=${rows.map((r) => r[4]).join(', ')}>
    ${rows.map(([label, v, cap, scale, text], i) => svg`
      <rect class="cap" x="0" y=${i * 22} width=${x(cap, scale)} height="16"></rect>
      <rect class="fill ${label}" x="0" y=${i * 22} width=${x(v, scale)} height="16"></rect>
      <text x=${W + 6} y=${i * 22 + 12}>${text}</text>`)}
  </svg>`;
}

// The pager of a list ({items, count, next}): previous/next by marker, and the total when the
// API counted it.
export function pager(state, d, onMove) {
  const n = d.items.length;
  const first = state.markers.length === 0;
  const from = state.offset + (n ? 1 : 0);
  return html`<nav class="pager">
    <button type="button" data-action="prev" ?disabled=${first} @click=${() => onMove(-1)}>‹ Previous</button>
    <span class="range">${n ? `${from}–${state.offset + n}` : 'none'}${d.count !== undefined ? ` of ${d.count}` : ''}</span>
    <button type="button" data-action="next" ?disabled=${!d.next} @click=${() => onMove(1)}>Next ›</button>
  </nav>`;
}
