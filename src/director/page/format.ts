// Words and numbers shared by the status page and `lvsd director status`.
import type { CheckView, ServerView, VrrpInstanceView } from '../api';

/** "3s", "4m05s", "2h13m", "3d04h"; "-" when there is no time. */
export function since(iso: string | undefined, now: number): string {
  if (iso === undefined) return '-';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '-';
  const s = Math.max(0, Math.floor((now - t) / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}

/** 1234 -> "1.2K", as ipvsadm --rate does for large numbers. */
export function compact(n: number): string {
  if (!Number.isFinite(n)) return '-';
  const units = ['', 'K', 'M', 'G', 'T'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? String(Math.round(v)) : `${v.toFixed(v < 10 ? 1 : 0)}${units[i]}`;
}

/** The check that explains the server's health: the first failing one, else the first. */
export function telling(server: ServerView): CheckView | undefined {
  return server.checks.find((c) => c.state === 'down') ?? server.checks[0];
}

/** "mysql: Access denied ..." or "tcp: connected"; "-" without checks. */
export function checkReason(check: CheckView | undefined): string {
  if (!check) return '-';
  return `${check.kind}: ${check.lastReason ?? (check.lastAt === undefined ? 'not checked yet' : check.state)}`;
}

export function latency(check: CheckView | undefined): string {
  if (check?.lastLatencyMs === undefined) return '-';
  return `${check.lastLatencyMs < 10 ? check.lastLatencyMs.toFixed(1) : Math.round(check.lastLatencyMs)} ms`;
}

/** The weight column: "3" when all agree; "0 (cfg 3)" when the director holds it lower; kernel when it differs. */
export function weightText(s: ServerView): string {
  let text = String(s.weight);
  if (s.configuredWeight !== s.weight) text += ` (cfg ${s.configuredWeight})`;
  if (s.kernelWeight === undefined) text += ' (not in kernel)';
  else if (s.kernelWeight !== s.weight) text += ` (kernel ${s.kernelWeight})`;
  return text;
}

export function overrideText(s: ServerView): string {
  if (!s.override) return '';
  return s.override.kind === 'drain' ? 'drained by operator' : `weight ${s.override.weight} set by operator`;
}

/** "198.18.0.10:3306/tcp" -> ["TCP", "198.18.0.10:3306"]; "fwmark 5" -> ["FWM", "5"]. */
export function protoAndAddress(address: string): [string, string] {
  const fw = /^fwmark\s+(\d+)$/.exec(address);
  if (fw) return ['FWM', fw[1]];
  const slash = address.lastIndexOf('/');
  if (slash < 0) return ['', address];
  return [address.slice(slash + 1).toUpperCase(), address.slice(0, slash)];
}

export function forwardText(f: ServerView['forward']): string {
  return { route: 'Route', masq: 'Masq', tunnel: 'Tunnel', local: 'Local' }[f] ?? f;
}

/** A VRRP instance's adverts, state changes and errors: "adverts 12 sent, 10 received, dropped: 3 addresses, 1 ttl; 2 transitions, 0 send errors". */
export function vrrpCounters(v: VrrpInstanceView): string {
  const c = v.counters;
  const dropped = Object.entries(c.invalid).map(([reason, n]) => `${n} ${reason}`).join(', ');
  return `adverts ${c.advertsSent} sent, ${c.received} received${dropped ? `, dropped: ${dropped}` : ''}; ${c.transitions} transitions, ${c.sendErrors} send errors`;
}
