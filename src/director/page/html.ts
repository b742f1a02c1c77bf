// The status page: what HAProxy's stats page shows, for IPVS. One table per virtual service, a
// row per real server coloured by its state. No script at all (the page refreshes itself with a
// meta tag), and every string from the director passes through escapeHtml.
import type { DirectorStatus, ServerState, ServerView, ServiceView } from '../api';
import { checkReason, compact, forwardText, latency, overrideText, protoAndAddress, since, telling, vrrpCounters, weightText } from './format';

export function escapeHtml(text: unknown): string {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string);
}

/** Background colour per state, in the spirit of HAProxy's (green up, red down, blue drained). */
export const STATE_COLOURS: Record<ServerState, string> = {
  up: '#c0f0c0',
  'slow-start': '#e8f8a0',
  standby: '#e0f0e0',
  down: '#ff9a9a',
  drained: '#a8c8ff',
  maintenance: '#c8b8e8',
  removed: '#ffd090',
  sorry: '#f0c0e0',
};

const STATE_WORDS: Record<ServerState, string> = {
  up: 'up',
  'slow-start': 'slow start',
  standby: 'up, standby',
  down: 'DOWN',
  drained: 'drained',
  maintenance: 'maintenance',
  removed: 'removed, draining',
  sorry: 'sorry server',
};

export function renderStatusPage(status: DirectorStatus, now: number, refreshSeconds = 5): string {
  return [...statusPageChunks(status, now, refreshSeconds)].join('');
}

/** The page in pieces: the head, one table per service, the end (the server yields between them). */
export function* statusPageChunks(status: DirectorStatus, now: number, refreshSeconds = 5): Generator<string> {
  const e = escapeHtml;
  const reload = status.lastReload;
  const rec = status.reconcile;
  const head = [
    `<tr><th>Director</th><td>lvsd ${e(status.version)}, pid ${e(status.pid)}, up ${e(since(status.startedAt, now))} (since ${e(status.startedAt)})</td></tr>`,
    `<tr><th>Config</th><td>${e(status.config.path)}, loaded ${e(since(status.config.loadedAt, now))} ago</td></tr>`,
    reload
      ? `<tr><th>Last reload</th><td class="${reload.ok ? 'ok' : 'bad'}">${reload.ok ? 'applied' : 'REJECTED (the previous config keeps serving)'} ${e(since(reload.at, now))} ago${
          reload.errors?.length ? `<ul class="errors">${reload.errors.map((x) => `<li>${e(x)}</li>`).join('')}</ul>` : ''
        }</td></tr>`
      : '',
    `<tr><th>Reconcile</th><td>last ${e(since(rec.lastAt, now))} ago, ${e(rec.lastOps)} operations (${e(rec.opsTotal)} since start), ${e(rec.failuresTotal)} failures${
      rec.lastError ? `; last error: <span class="bad">${e(rec.lastError)}</span>` : ''
    }</td></tr>`,
    ...(status.vrrp ?? []).map(
      (v) =>
        `<tr><th>VRRP ${e(v.name)}</th><td><span class="${v.state === 'master' ? 'ok' : v.state === 'fault' ? 'bad' : ''}">${e(v.state.toUpperCase())}</span> for ${e(since(v.since, now))}, vrid ${e(v.vrid)} on ${e(v.interface)} (VRRPv${e(v.version)}), priority ${e(v.effectivePriority)}${
          v.effectivePriority !== v.priority ? ` (configured ${e(v.priority)})` : ''
        }, ${e(v.addresses.join(' '))}${v.faults.length ? `; fault: <span class="bad">${e(v.faults.join(', '))}</span>` : ''}; ${e(vrrpCounters(v))}</td></tr>`,
    ),
  ].join('');
  const legend = (Object.keys(STATE_COLOURS) as ServerState[])
    .map((s) => `<span class="legend" style="background:${STATE_COLOURS[s]}">${e(STATE_WORDS[s])}</span>`)
    .join(' ');
  yield `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="refresh" content="${refreshSeconds}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>lvsd director status</title>
<style>${CSS}</style>
</head>
<body>
<h1>lvsd director status</h1>
<table class="info">${head}</table>
<p class="legend-line">${legend} &middot; refreshes every ${refreshSeconds} s &middot; <a href="status.json">JSON</a> &middot; <a href="metrics">metrics</a></p>
`;
  if (status.services.length === 0) yield '<p>No virtual service is configured.</p>\n';
  for (const svc of status.services) yield `${serviceTable(svc, now)}\n`;
  yield '</body>\n</html>\n';
}

function serviceTable(svc: ServiceView, now: number): string {
  const e = escapeHtml;
  const [proto, addr] = protoAndAddress(svc.address);
  const quorum = svc.quorum
    ? `, quorum ${e(svc.quorum.weight)} ± ${e(svc.quorum.hysteresis)} <span class="${svc.quorum.met ? 'ok' : 'bad'}">${svc.quorum.met ? 'met' : 'LOST'}</span>`
    : '';
  const title =
    `<span class="svc-name">${e(svc.name)}</span> <span class="svc-addr">${e(proto)} ${e(addr)}</span> ` +
    `<span class="svc-meta">${e(svc.scheduler)}${svc.persistence !== undefined ? `, persistent ${e(svc.persistence)} s` : ''}, up weight ${e(svc.upWeight)}${quorum}` +
    `${svc.sorryServerActive ? ', <span class="bad">sorry server in use</span>' : ''}</span>` +
    (svc.error ? `<div class="svc-error">kernel refused this service: ${e(svc.error)}</div>` : '');
  const c = svc.counters;
  const rows = svc.servers.map((s) => serverRow(s, now)).join('');
  return `<table class="svc" data-service="${e(svc.name)}">
<caption>${title}</caption>
<thead><tr><th rowspan="2">Server</th><th rowspan="2">Forward</th><th rowspan="2">State</th><th rowspan="2">Health</th><th rowspan="2">Weight</th>
<th colspan="3">Connections</th><th colspan="3">Rates</th><th colspan="3">Last check</th><th rowspan="2">Since last transition</th></tr>
<tr><th>Active</th><th>Inactive</th><th>Total</th><th>Conn/s</th><th>In B/s</th><th>Out B/s</th><th>Reason</th><th>Latency</th><th>Age</th></tr></thead>
<tbody>${rows}</tbody>
<tfoot><tr class="total"><td>Service total</td><td></td><td></td><td></td><td>${e(svc.upWeight)}</td>
<td>${e(sum(svc.servers, (s) => s.activeConns))}</td><td>${e(sum(svc.servers, (s) => s.inactiveConns))}</td><td>${e(compact(c.conns))}</td>
<td>${e(compact(c.cps))}</td><td>${e(compact(c.inBps))}</td><td>${e(compact(c.outBps))}</td><td colspan="4"></td></tr></tfoot>
</table>`;
}

function serverRow(s: ServerView, now: number): string {
  const e = escapeHtml;
  const check = telling(s);
  const override = overrideText(s);
  const checks = s.checks.map((c) => `${c.kind} ${c.target}: ${c.state}${c.lastReason ? ` (${c.lastReason})` : ''}`).join('\n');
  return `<tr class="server" data-server="${e(s.name)}" data-state="${e(s.state)}" style="background:${STATE_COLOURS[s.state] ?? '#ffffff'}">
<td class="name">${e(s.name)}</td><td>${e(forwardText(s.forward))}</td>
<td class="state">${e(STATE_WORDS[s.state] ?? s.state)}${override ? `<div class="override">${e(override)}</div>` : ''}</td>
<td class="health">${e(s.health)}</td><td class="weight">${e(weightText(s))}</td>
<td class="active">${e(s.activeConns)}</td><td class="inactive">${e(s.inactiveConns)}</td><td class="conns">${e(compact(s.counters.conns))}</td>
<td>${e(compact(s.counters.cps))}</td><td>${e(compact(s.counters.inBps))}</td><td>${e(compact(s.counters.outBps))}</td>
<td class="reason" title="${e(checks)}">${e(checkReason(check))}${check?.configError ? ' <span class="bad">(check misconfigured)</span>' : ''}</td>
<td class="latency">${e(latency(check))}</td><td>${e(since(check?.lastAt, now))}</td>
<td class="since">${e(since(s.lastTransitionAt, now))}</td></tr>`;
}

function sum(servers: ServerView[], f: (s: ServerView) => number): number {
  return servers.reduce((n, s) => n + f(s), 0);
}

const CSS = `
body { font-family: Helvetica, Arial, sans-serif; font-size: 13px; margin: 12px; color: #111; background: #fff; }
h1 { font-size: 18px; margin: 0 0 8px; }
table { border-collapse: collapse; }
table.info th { text-align: left; padding: 2px 10px 2px 0; vertical-align: top; }
table.info td { padding: 2px 0; }
table.svc { margin: 14px 0; width: 100%; border: 1px solid #888; }
table.svc caption { text-align: left; background: #20406a; color: #fff; padding: 4px 8px; }
.svc-name { font-weight: bold; font-size: 14px; }
.svc-addr { margin-left: 8px; font-family: monospace; }
.svc-meta { margin-left: 8px; }
caption .ok { color: #a0ffa0; font-weight: bold; }
caption .bad { color: #ffc0c0; }
.svc-error { background: #ff9a9a; color: #000; padding: 2px 4px; margin-top: 4px; }
table.svc th { background: #b0c4de; border: 1px solid #888; padding: 2px 4px; font-weight: normal; }
table.svc td { border: 1px solid #aaa; padding: 2px 4px; text-align: right; }
table.svc td.name, table.svc td.reason, table.svc td.state { text-align: left; }
td.name { font-family: monospace; }
td.reason { max-width: 420px; overflow-wrap: anywhere; }
tr.total td { background: #e0e0e0; font-weight: bold; }
.override { font-size: 11px; font-style: italic; }
.ok { color: #060; }
.bad { color: #b00; font-weight: bold; }
ul.errors { margin: 4px 0; color: #b00; }
.legend { display: inline-block; padding: 1px 6px; border: 1px solid #888; margin-right: 2px; }
`;
