// keepalived.conf -> director YAML (`lvsd director import-keepalived FILE`). Two parts: a parser of
// keepalived's syntax (blocks, keywords, include with globs, # and ! comments, quoted strings; every
// statement keeps its file:line) and a translation of its LVS part (global_defs lvs_*,
// virtual_server_group, virtual_server, real_server and their checkers) and its VRRP part
// (global_defs vrrp_version, vrrp_script, vrrp_instance, vrrp_sync_group) into the director's YAML,
// written with the yaml Document API so each part carries a comment naming the line it came from.
// keepalived's semantics are kept where they differ from lvsd's defaults: a failed server is
// removed unless inhibit_on_failure, servers start up (fully-up) unless alpha, one pass brings a
// server back (rise 1), no start jitter; keepalived's VRRP defaults are written out. Every line
// that cannot be translated is reported as `file:line: keyword: why`.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { Document, YAMLMap, YAMLSeq, type Node as YamlNode } from 'yaml';
import { InputError } from '../errors';
import { canonicalAddress } from './validate';

// ---- the parser ----

export interface KaStatement {
  keyword: string;
  args: string[];
  file: string;
  line: number;
  /** the statements of its { } block; undefined when it has none */
  block?: KaStatement[];
}

/** Bad keepalived.conf syntax, with its file:line. */
export class KeepalivedSyntaxError extends InputError {
  constructor(readonly where: string, message: string) {
    super(`${where}: ${message}`);
  }
}

interface SourceLine {
  text: string;
  file: string;
  line: number;
}

const INCLUDE_KEYWORDS = new Set(['include', 'includer', 'includem', 'includew', 'includeb', 'includea']);
const MAX_INCLUDE_DEPTH = 16;
const MAX_INCLUDED_FILES = 1000;

/** Reads FILE (and its includes) into statements; throws KeepalivedSyntaxError naming file:line. */
export function parseKeepalivedFile(path: string): KaStatement[] {
  const lines: SourceLine[] = [];
  readLines(path, undefined, 0, lines, { files: 0 });
  return parseLines(lines);
}

/** Parses keepalived.conf text; `path` names it in errors and is where relative includes start. */
export function parseKeepalived(text: string, path: string): KaStatement[] {
  const lines: SourceLine[] = [];
  splitLines(text, path, 0, lines, { files: 0 });
  return parseLines(lines);
}

function readLines(path: string, from: string | undefined, depth: number, out: SourceLine[], count: { files: number }): void {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new KeepalivedSyntaxError(from ?? path, `cannot read ${path}: ${why}`);
  }
  if (++count.files > MAX_INCLUDED_FILES) throw new KeepalivedSyntaxError(from ?? path, `more than ${MAX_INCLUDED_FILES} files included`);
  splitLines(text, path, depth, out, count);
}

function splitLines(text: string, file: string, depth: number, out: SourceLine[], count: { files: number }): void {
  const raw = text.split(/\r?\n/);
  for (let i = 0; i < raw.length; i++) {
    let line = raw[i];
    const lineNo = i + 1;
    // a trailing backslash continues the line
    while (line.endsWith('\\') && i + 1 < raw.length) line = line.slice(0, -1) + ' ' + raw[++i];
    const tokens = tokenize(line, `${file}:${lineNo}`);
    if (tokens.length && INCLUDE_KEYWORDS.has(tokens[0].text)) {
      const where = `${file}:${lineNo}`;
      if (tokens.length !== 2) throw new KeepalivedSyntaxError(where, `${tokens[0].text} takes one file name (a glob)`);
      if (depth >= MAX_INCLUDE_DEPTH) throw new KeepalivedSyntaxError(where, `includes nested more than ${MAX_INCLUDE_DEPTH} deep (an include loop?)`);
      const pattern = isAbsolute(tokens[1].text) ? tokens[1].text : join(dirname(file), tokens[1].text);
      for (const f of expandGlob(pattern)) readLines(f, where, depth + 1, out, count);
      continue;
    }
    out.push({ text: line, file, line: lineNo });
  }
}

interface Token {
  text: string;
  quoted: boolean;
}

/** Words of one line: "quoted strings" are one word, { and } are words of their own, # and ! start a comment. */
function tokenize(line: string, where: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === ' ' || c === '\t') {
      i++;
    } else if (c === '#' || c === '!') {
      break;
    } else if (c === '{' || c === '}') {
      tokens.push({ text: c, quoted: false });
      i++;
    } else if (c === '"') {
      const end = line.indexOf('"', i + 1);
      if (end < 0) throw new KeepalivedSyntaxError(where, 'unterminated quoted string');
      tokens.push({ text: line.slice(i + 1, end), quoted: true });
      i = end + 1;
    } else {
      let j = i;
      while (j < line.length && !' \t{}"'.includes(line[j]) && !(j > i && (line[j] === '#' || line[j] === '!') && /[ \t]/.test(line[j - 1]))) j++;
      tokens.push({ text: line.slice(i, j), quoted: false });
      i = j;
    }
  }
  return tokens;
}

function parseLines(lines: SourceLine[]): KaStatement[] {
  const root: KaStatement[] = [];
  const stack: { list: KaStatement[]; opener?: KaStatement }[] = [{ list: root }];
  let last: KaStatement | undefined; // the statement a `{` on a line of its own opens
  for (const l of lines) {
    const where = `${l.file}:${l.line}`;
    const tokens = tokenize(l.text, where);
    let current: KaStatement | undefined;
    for (const t of tokens) {
      const top = stack[stack.length - 1];
      if (!t.quoted && t.text === '{') {
        const opener = current ?? last;
        if (!opener || opener.block) throw new KeepalivedSyntaxError(where, '"{" without a keyword before it');
        opener.block = [];
        stack.push({ list: opener.block, opener });
        current = undefined;
        last = undefined;
      } else if (!t.quoted && t.text === '}') {
        if (stack.length === 1) throw new KeepalivedSyntaxError(where, '"}" without a block to close');
        stack.pop();
        current = undefined;
        last = undefined;
      } else if (current) {
        current.args.push(t.text);
      } else {
        if (!t.quoted && (t.text.startsWith('$') || t.text.startsWith('@'))) {
          throw new KeepalivedSyntaxError(where, `${t.text}: parameter substitution and conditional lines (@, $) are not supported; expand them first (keepalived -t -f FILE does not, so edit them out)`);
        }
        current = { keyword: t.text, args: [], file: l.file, line: l.line };
        top.list.push(current);
      }
    }
    if (current) last = current;
    else if (tokens.length) last = undefined;
  }
  if (stack.length > 1) {
    const opener = stack[stack.length - 1].opener!;
    throw new KeepalivedSyntaxError(`${opener.file}:${opener.line}`, `${opener.keyword}: block not closed (missing "}")`);
  }
  return root;
}

/** Files matching a glob (* ? [..] and {a,b} in any component), sorted as glob(3) does. */
function expandGlob(pattern: string): string[] {
  const out = new Set<string>();
  const alternatives = expandBraces(pattern);
  for (const p of alternatives) {
    if (!/[*?[]/.test(p)) {
      // one plain name must exist (refused at the include line); of {a,b} only those that exist
      if (alternatives.length === 1 || existsSync(p)) out.add(p);
      continue;
    }
    const parts = p.split('/');
    let bases = [parts[0] === '' ? '/' : parts[0]];
    for (const part of parts.slice(1)) {
      if (part === '') continue;
      const next: string[] = [];
      for (const base of bases) {
        if (!/[*?[]/.test(part)) {
          next.push(join(base, part));
          continue;
        }
        const re = globRegExp(part);
        let names: string[] = [];
        try {
          names = readdirSync(base).sort();
        } catch {
          continue;
        }
        for (const n of names) if (re.test(n) && (part.startsWith('.') || !n.startsWith('.'))) next.push(join(base, n));
      }
      bases = next;
    }
    for (const b of bases) {
      try {
        if (statSync(b).isFile()) out.add(b);
      } catch {
        // no match: keepalived's include skips it too
      }
    }
  }
  return [...out];
}

function expandBraces(pattern: string): string[] {
  const m = /\{([^{}]*)\}/.exec(pattern);
  if (!m) return [pattern];
  return m[1].split(',').flatMap((alt) => expandBraces(pattern.slice(0, m.index) + alt + pattern.slice(m.index + m[0].length)));
}

function globRegExp(part: string): RegExp {
  let re = '';
  for (let i = 0; i < part.length; i++) {
    const c = part[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = part.indexOf(']', i + 2);
      if (end < 0) re += '\\[';
      else {
        const body = part.slice(i + 1, end).replace(/^!/, '^').replace(/\\/g, '\\\\');
        re += `[${body}]`;
        i = end;
      }
    } else re += c.replace(/[.+^$(){}|\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

// ---- the translation ----

/** One line that was not translated (or not exactly): `file:line: keyword: why`. */
export interface ImportProblem {
  file: string;
  line: number;
  keyword: string;
  why: string;
}

export interface KeepalivedImport {
  /** the director config, YAML text */
  yaml: string;
  /** every line left out or not translated exactly, in file order */
  problems: ImportProblem[];
}

export function formatImportProblem(p: ImportProblem): string {
  return `${p.file}:${p.line}: ${p.keyword}: ${p.why}`;
}

/** keepalived's defaults (keepalived.conf(5), 2.2). */
const KA = {
  delayLoop: 60,
  connectTimeout: 5,
  retry: 1,
  miscRetry: 0,
  persistenceTimeout: 360,
  scheduler: 'wlc',
  method: 'NAT',
};

const SCHEDULERS = new Set(['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh']);
const SCHEDULER_FLAGS = new Set(['sh-fallback', 'sh-port', 'mh-fallback', 'mh-port', 'flag-1', 'flag-2', 'flag-3']);
const METHODS: Record<string, string> = { NAT: 'nat', DR: 'dr', TUN: 'tun' };
const NOT_IPVS = 'not about IPVS (no lvsd equivalent)';

/** keepalived's VRRP defaults (keepalived.conf(5) and vrrp/vrrp.c, vrrp_data.c of 2.2). */
const KA_VRRP = {
  version: 2,
  priority: 100,
  /** state MASTER without a priority: the address owner */
  ownerPriority: 255,
  advertSeconds: 1,
  scriptIntervalSeconds: 1,
  scriptWeight: 0,
  rise: 1,
  fall: 1,
};

/** The other top-level blocks keepalived knows (so anything else is named as unknown). */
const ROOT_KEYWORDS_NOT_TRANSLATED: Record<string, string> = {
  vrrp_track_process: 'lvsd tracks interfaces, scripts and its own services, not processes (use a vrrp_script)',
  track_file: 'lvsd does not track files (use a vrrp_script)',
  vrrp_track_file: 'lvsd does not track files (use a vrrp_script)',
  bfd_instance: 'no BFD in lvsd',
  garp_group: "lvsd's gratuitous ARP / NA sending is not configurable",
  static_ipaddress: 'lvsd does not manage static addresses (configure them with the system)',
  static_routes: 'lvsd does not manage routes (configure them with the system)',
  static_rules: 'lvsd does not manage routing rules (configure them with the system)',
  track_group: 'lvsd does not manage static addresses, so nothing tracks them',
  linkbeat_interfaces: 'lvsd follows link state through rtnetlink only',
  interface_up_down_delays: 'lvsd has no interface up/down delays',
  net_namespace: 'run lvsd in the namespace instead (ip netns exec)',
  net_namespace_ipvs: 'run lvsd in the namespace instead (ip netns exec)',
  namespace_with_ipsets: 'no ipsets in lvsd',
  instance: 'no keepalived instance names in lvsd (each lvsd has its own control socket and state file)',
  use_pid_dir: 'lvsd writes no pid file',
  linkbeat_use_polling: 'lvsd follows link state through rtnetlink only',
  child_wait_time: 'lvsd is one process',
  SSL: "keepalived's client certificate for SSL_GET is not translated (lvsd's http check verifies the server with ca_file)",
};

const ROOT_KEYWORDS = ['global_defs', 'virtual_server', 'virtual_server_group', 'vrrp_instance', 'vrrp_script', 'vrrp_sync_group', ...Object.keys(ROOT_KEYWORDS_NOT_TRANSLATED)];

function rootWhy(s: KaStatement): string {
  return ROOT_KEYWORDS_NOT_TRANSLATED[s.keyword] ?? unknown('keepalived.conf block or keyword', s.keyword, ROOT_KEYWORDS);
}

/** "not a KIND keyword keepalived knows", with the known keyword it most likely meant. */
function unknown(kind: string, word: string, known: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = 3; // more than 2 edits away is not a typo
  for (const k of known) {
    const d = editDistance(word.toLowerCase(), k.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [k, d];
  }
  return `not a ${kind} keepalived knows (${best ? `did you mean ${best}?` : 'mistyped?'})`;
}

function editDistance(a: string, b: string): number {
  let row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const next = [i];
    for (let j = 1; j <= b.length; j++) next[j] = Math.min(row[j] + 1, next[j - 1] + 1, row[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    row = next;
  }
  return row[b.length];
}

/** Why a global_defs VRRP keyword is left out. */
const GLOBAL_VRRP_WHY: Record<string, string> = {
  vrrp_strict: 'no strict mode in lvsd: it follows the RFCs as keepalived does without vrrp_strict (unicast peers and preempt_delay allowed)',
  vrrp_mcast_group4: 'lvsd sends IPv4 adverts to 224.0.0.18 only',
  vrrp_mcast_group6: 'lvsd sends IPv6 adverts to ff02::12 only',
  vrrp_min_garp: "lvsd's gratuitous ARP / NA sending is not configurable",
  vrrp_garp_interval: "lvsd's gratuitous ARP / NA sending is not configurable",
  vrrp_gna_interval: "lvsd's gratuitous ARP / NA sending is not configurable",
  script_user: 'lvsd runs VRRP scripts as its own user',
  enable_script_security: 'lvsd runs VRRP scripts as its own user, without keepalived\'s path checks',
  vrrp_notify_fifo: 'no notify FIFO in lvsd: one notify program per instance or group',
  vrrp_notify_fifo_script: 'no notify FIFO in lvsd: one notify program per instance or group',
  notify_fifo: 'no notify FIFO in lvsd: one notify program per instance or group',
  notify_fifo_script: 'no notify FIFO in lvsd: one notify program per instance or group',
  vrrp_startup_delay: 'lvsd starts its VRRP instances at once',
  vrrp_delay_after_boot: 'lvsd starts its VRRP instances at once',
};

/** vrrp_instance keywords keepalived has and lvsd does not, with why. */
const INSTANCE_WHY: Record<string, string> = {
  use_vmac: 'lvsd sends from the interface\'s own MAC address (no VRRP virtual MAC)',
  use_vmac_addr: 'lvsd sends from the interface\'s own MAC address (no VRRP virtual MAC)',
  vmac_xmit_base: 'lvsd sends from the interface\'s own MAC address (no VRRP virtual MAC)',
  use_ipvlan: 'no ipvlan interfaces in lvsd',
  dont_track_primary: 'lvsd always tracks the instance\'s interface (link down = FAULT)',
  track_file: 'lvsd does not track files (use a vrrp_script)',
  track_process: 'lvsd does not track processes (use a vrrp_script)',
  track_bfd: 'no BFD in lvsd',
  track_src_ip: 'lvsd does not track the source address',
  check_unicast_src: 'lvsd does not filter adverts by unicast peer',
  unicast_ttl: 'lvsd sends adverts with TTL / hop limit 255, as the RFCs require',
  unicast_fault_no_peer: 'lvsd uses multicast when an instance has no unicast peers',
  mcast_dst_ip: 'lvsd sends to 224.0.0.18 / ff02::12 only',
  old_unicast_checksum: 'lvsd computes the VRRPv3 checksum as RFC 5798 (keepalived after 1.3.6)',
  v3_checksum_as_v2: 'lvsd computes the VRRPv3 checksum with the pseudo-header, as keepalived by default',
  virtual_routes: 'lvsd moves addresses only, not routes',
  virtual_rules: 'lvsd moves addresses only, not routing rules',
  accept: 'lvsd has no accept mode setting: the addresses are added as local addresses (keepalived\'s default without vrrp_strict)',
  no_accept: 'lvsd has no accept mode setting: the addresses are added as local addresses (keepalived\'s default without vrrp_strict)',
  skip_check_adv_addr: 'lvsd checks the addresses of every advert',
  strict_mode: 'no strict mode in lvsd',
  debug: 'see lvsd\'s log_level',
  promote_secondaries: 'lvsd does not set promote_secondaries on the interface',
  linkbeat_use_polling: 'lvsd follows link state through rtnetlink only',
  garp_master_delay: "lvsd's gratuitous ARP / NA sending is not configurable",
  garp_master_repeat: "lvsd's gratuitous ARP / NA sending is not configurable",
  garp_master_refresh: "lvsd's gratuitous ARP / NA sending is not configurable",
  garp_master_refresh_repeat: "lvsd's gratuitous ARP / NA sending is not configurable",
  garp_lower_prio_delay: "lvsd's gratuitous ARP / NA sending is not configurable",
  garp_lower_prio_repeat: "lvsd's gratuitous ARP / NA sending is not configurable",
  garp_extra_if: "lvsd's gratuitous ARP / NA sending is not configurable",
  vmac_garp_intvl: "lvsd's gratuitous ARP / NA sending is not configurable",
  down_timer_adverts: 'lvsd uses the RFC master down interval (3 adverts + skew)',
  lower_prio_no_advert: 'not configurable in lvsd',
  higher_prio_send_advert: 'not configurable in lvsd',
  kernel_rx_buf_size: 'not configurable in lvsd',
  smtp_alert: 'no e-mail in lvsd (notify program, status page, metrics, logs)',
  notify_priority_changes: 'no notify FIFO in lvsd',
  notify_deleted: 'lvsd has no reload that deletes instances',
  notify_master_rx_lower_pri: 'lvsd has one notify program, called on state changes only',
  lvs_sync_daemon_interface: 'deprecated in keepalived: use lvs_sync_daemon IFACE INSTANCE in global_defs',
  timer_expired_backup: 'not configurable in lvsd',
  vrf: 'no VRF support in lvsd',
  no_virtual_ipaddress: 'lvsd instances have addresses',
};

const INSTANCE_KEYWORDS = [
  'state', 'interface', 'virtual_router_id', 'priority', 'advert_int', 'version', 'nopreempt', 'preempt', 'preempt_delay', 'native_ipv6',
  'virtual_ipaddress', 'virtual_ipaddress_excluded', 'unicast_src_ip', 'mcast_src_ip', 'unicast_peer', 'track_interface', 'track_script',
  'notify', 'notify_master', 'notify_backup', 'notify_fault', 'notify_stop', 'authentication', ...Object.keys(INSTANCE_WHY),
];
/** vrrp_instance and vrrp_sync_group keywords whose values are in a { } block */
const BLOCK_KEYWORDS = new Set(['virtual_ipaddress', 'virtual_ipaddress_excluded', 'unicast_peer', 'track_interface', 'track_script', 'authentication', 'group']);
const SCRIPT_KEYWORDS = ['script', 'interval', 'timeout', 'weight', 'rise', 'fall', 'user', 'init_fail'];
const SYNC_GROUP_KEYWORDS = [
  'group', 'track_interface', 'track_script', 'notify', 'notify_master', 'notify_backup', 'notify_fault', 'notify_stop',
  'sync_group_tracking_weight', 'global_tracking', 'smtp_alert', 'notify_priority_changes', 'track_file', 'track_process', 'track_bfd',
];

/** Seconds as a duration: "1s", "1500ms". */
function duration(seconds: number): string {
  const ms = Math.round(seconds * 1000);
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${ms}ms`;
}

/** Translates keepalived.conf statements (parseKeepalived*) into director YAML. */
export function translateKeepalived(statements: KaStatement[], source: string): KeepalivedImport {
  return new Translator(statements, source).run();
}

/** parseKeepalivedFile + translateKeepalived. */
export function importKeepalivedFile(path: string): KeepalivedImport {
  return translateKeepalived(parseKeepalivedFile(path), path);
}

interface Timing {
  delayLoop?: Num;
  connectTimeout?: Num;
  retry?: Num;
  delayBeforeRetry?: Num;
  alpha?: boolean;
  virtualhost?: string;
  inhibit?: boolean;
}

interface Num {
  value: number;
  at: KaStatement;
}

interface Tunnel {
  type: string;
  port?: number;
  checksum?: string;
}

/** What the VRRP translation shares between scripts, sync groups and instances. */
interface VrrpContext {
  /** the vrrp_version of global_defs, or keepalived's default */
  version: number;
  /** the vrrp_scripts translated: name -> weight */
  scripts: Map<string, number>;
  members: Map<KaStatement, { name: string; at: KaStatement }[]>;
  /** instance name -> its sync group */
  groupOf: Map<string, KaStatement>;
  groupTrackers: Map<KaStatement, { interfaces: YamlNode[]; scripts: YamlNode[] }>;
}

class Translator {
  private readonly doc = new Document({});
  private readonly problems: ImportProblem[] = [];
  private readonly groups = new Map<string, KaStatement>();
  /** the vrrp_instances translated: name -> its vrid (the sync daemon's default id) */
  private readonly vrrpInstances = new Map<string, number>();

  constructor(
    private readonly statements: KaStatement[],
    private readonly source: string,
  ) {}

  run(): KeepalivedImport {
    const doc = this.doc;
    doc.commentBefore =
      ` lvsd director config imported from ${this.source} (lvsd director import-keepalived).\n` +
      ` Each part names the keepalived.conf line it came from. Check it: lvsd director check-config -c FILE`;
    for (const s of this.statements) {
      if (s.keyword === 'virtual_server_group' && s.args[0]) this.groups.set(s.args[0], s);
    }
    // VRRP first: the sync daemon in global_defs names an instance
    const vrrp = this.vrrp();
    const root = new YAMLMap();
    const global = new YAMLMap();
    const services = new YAMLSeq();
    const checkDefaults = this.map({ rise: 1, jitter: 0 });
    checkDefaults.commentBefore = ' keepalived: one passed check brings a server back; checks run every delay_loop, no jitter';
    for (const s of this.statements) {
      switch (s.keyword) {
        case 'global_defs':
          this.globalDefs(s, global);
          break;
        case 'virtual_server_group':
          if (!s.args[0]) this.skip(s, 'needs a name');
          break;
        case 'virtual_server':
          for (const svc of this.virtualServer(s)) services.items.push(svc);
          break;
        case 'vrrp_instance':
        case 'vrrp_script':
        case 'vrrp_sync_group':
          break; // translated by vrrp()
        default:
          this.skip(s, rootWhy(s));
      }
    }
    if (global.items.length) root.set('global', global);
    if (vrrp) root.set('vrrp', vrrp);
    root.set('check_defaults', checkDefaults);
    root.set('services', services);
    doc.contents = root;
    // file order (as included), then line
    const fileOrder = new Map<string, number>();
    const walk = (list: KaStatement[]) => {
      for (const st of list) {
        if (!fileOrder.has(st.file)) fileOrder.set(st.file, fileOrder.size);
        if (st.block) walk(st.block);
      }
    };
    walk(this.statements);
    this.problems.sort((a, b) => (fileOrder.get(a.file) ?? 0) - (fileOrder.get(b.file) ?? 0) || a.line - b.line);
    const yaml = doc.toString({ lineWidth: 0 });
    return { yaml: yaml.endsWith('\n') ? yaml : `${yaml}\n`, problems: this.problems };
  }

  // ---- helpers ----

  private where(s: KaStatement): string {
    return `${s.file}:${s.line} ${[s.keyword, ...s.args].join(' ')}`;
  }

  private skip(s: KaStatement, why: string): void {
    this.problems.push({ file: s.file, line: s.line, keyword: s.keyword, why });
  }

  private map(value: Record<string, unknown>): YAMLMap {
    return this.doc.createNode(value) as YAMLMap;
  }

  /** map[key] = value, with a comment naming the line it came from. */
  private put(map: YAMLMap, key: string, value: unknown, from?: KaStatement): void {
    const node = (value instanceof YAMLMap || value instanceof YAMLSeq ? value : this.doc.createNode(value)) as YamlNode;
    if (from) {
      if (node instanceof YAMLMap || node instanceof YAMLSeq) node.commentBefore = ` ${this.where(from)}`;
      else node.comment = ` ${this.where(from)}`;
    }
    map.set(key, node);
  }

  private int(s: KaStatement, index = 0, min = 0, max = 2 ** 32 - 1): number | undefined {
    const text = s.args[index];
    if (text === undefined || !/^\d+$/.test(text) || Number(text) < min || Number(text) > max) {
      this.skip(s, text === undefined ? 'needs a value' : `"${text}" is not a whole number in ${min}..${max}`);
      return undefined;
    }
    return Number(text);
  }

  /** keepalived TIMER: seconds, fractions allowed. */
  private seconds(s: KaStatement): Num | undefined {
    const text = s.args[0];
    if (text === undefined || !/^\d+(\.\d+)?$/.test(text)) {
      this.skip(s, text === undefined ? 'needs a value' : `"${text}" is not a number of seconds`);
      return undefined;
    }
    return { value: Number(text), at: s };
  }

  private bool(s: KaStatement): boolean {
    const v = (s.args[0] ?? 'yes').toLowerCase();
    return !['no', 'false', 'off', '0'].includes(v);
  }

  private address(text: string | undefined, s: KaStatement): { address: string; family: 'inet' | 'inet6' } | undefined {
    const a = text === undefined ? 'needs an address' : canonicalAddress(text);
    if (typeof a === 'string') {
      this.skip(s, a);
      return undefined;
    }
    return a;
  }

  // ---- global_defs ----

  private globalDefs(g: KaStatement, global: YAMLMap): void {
    for (const s of g.block ?? []) {
      if (s.keyword === 'lvs_timeouts') {
        const t = new YAMLMap();
        for (let i = 0; i + 1 < s.args.length; i += 2) {
          const key = s.args[i] === 'tcp_fin' ? 'tcpfin' : s.args[i];
          if (!['tcp', 'tcpfin', 'udp'].includes(key)) this.skip(s, `"${s.args[i]}" is not tcp, tcpfin or udp`);
          else {
            const v = this.int(s, i + 1, 1, 2 ** 31 - 1);
            if (v !== undefined) t.set(key, v);
          }
        }
        if (s.args.length % 2 === 1) this.skip(s, `"${s.args[s.args.length - 1]}" has no value`);
        if (t.items.length) this.put(global, 'timeouts', t, s);
      } else if (s.keyword === 'lvs_sync_daemon') {
        this.syncDaemon(s, global);
      } else if (s.keyword === 'lvs_flush_on_stop') {
        this.put(global, 'flush_on_exit', true, s);
        this.skip(s, 'lvsd deletes only the services it owns at exit (flush_on_exit), never others');
      } else if (s.keyword === 'lvs_flush') {
        this.skip(s, 'lvsd never flushes the table at start: it adopts its own services and leaves others alone');
      } else if (s.keyword === 'vrrp_version') {
        // translated by vrrp()
      } else {
        this.skip(s, GLOBAL_VRRP_WHY[s.keyword] ?? (/^(vrrp_|garp_|gna_)/.test(s.keyword) ? 'a keepalived VRRP setting lvsd does not have' : s.block ? `block ${NOT_IPVS}` : NOT_IPVS));
      }
    }
  }

  /** lvs_sync_daemon IFACE [[inst] INSTANCE] [id N] [maxlen N] [port N] [ttl N] [group ADDR] */
  private syncDaemon(s: KaStatement, global: YAMLMap): void {
    const [iface, ...rest] = s.args;
    if (!iface) return this.skip(s, 'needs an interface');
    const d = new YAMLMap();
    let instance: string | undefined;
    for (let i = 0; i < rest.length; i++) {
      const word = rest[i];
      const value = rest[i + 1];
      const key = { id: 'sync_id', maxlen: 'max_len', port: 'port', ttl: 'ttl' }[word];
      if (key && value !== undefined && /^\d+$/.test(value)) {
        d.set(key, Number(value));
        i++;
      } else if (word === 'group' && value !== undefined) {
        d.set('group', value);
        i++;
      } else if (word === 'inst' && value !== undefined) {
        instance = value;
        i++;
      } else if (instance === undefined && !/^\d+$/.test(word)) {
        instance = word;
      } else if (/^\d+$/.test(word)) {
        d.set('sync_id', Number(word)); // the older form: lvs_sync_daemon IFACE INSTANCE SYNC_ID
      } else {
        this.skip(s, `"${word}" is not understood`);
      }
    }
    const out = new YAMLMap();
    out.set('interface', iface);
    const vrid = instance === undefined ? undefined : this.vrrpInstances.get(instance);
    if (vrid !== undefined) {
      // the daemon's state follows the instance's, as keepalived's does
      if (!d.has('sync_id')) {
        const n = this.doc.createNode(vrid);
        n.comment = ` keepalived: the sync id defaults to the vrid of ${instance}`;
        d.set('sync_id', n);
      }
      for (const item of d.items) out.items.push(item);
      out.set('instance', instance);
    } else {
      out.set('state', 'backup');
      for (const item of d.items) out.items.push(item);
      this.skip(
        s,
        instance === undefined
          ? 'without a VRRP instance keepalived runs both the master and the backup sync daemon; lvsd runs one: backup'
          : `no vrrp_instance ${instance} was translated: lvsd runs the sync daemon as backup, not following a VRRP state`,
      );
    }
    this.put(global, 'sync_daemon', out, s);
  }

  // ---- VRRP ----

  /** global_defs vrrp_version, vrrp_script, vrrp_instance and vrrp_sync_group -> the vrrp: section. */
  private vrrp(): YAMLMap | undefined {
    const roots = (keyword: string) => this.statements.filter((s) => s.keyword === keyword);
    const instances = roots('vrrp_instance');
    const scripts = roots('vrrp_script');
    const groups = roots('vrrp_sync_group');
    let version: Num | undefined;
    for (const g of roots('global_defs')) {
      for (const s of g.block ?? []) {
        if (s.keyword !== 'vrrp_version') continue;
        const v = this.int(s, 0, 2, 3);
        if (v !== undefined) version = { value: v, at: s };
      }
    }
    if (!instances.length) {
      for (const s of [...scripts, ...groups, ...(version ? [version.at] : [])]) this.skip(s, 'no vrrp_instance in the file: keepalived runs no VRRP here, nor will lvsd');
      return undefined;
    }
    const ctx: VrrpContext = { version: version?.value ?? KA_VRRP.version, scripts: new Map(), members: new Map(), groupOf: new Map(), groupTrackers: new Map() };

    const scriptMap = new YAMLMap();
    for (const s of scripts) {
      const node = this.vrrpScript(s, ctx);
      if (node) scriptMap.set(s.args[0], node);
    }

    // sync groups before instances: keepalived ignores a member's weighted trackers
    const validGroups: KaStatement[] = [];
    for (const g of groups) {
      const name = g.args[0];
      if (!name || g.args.length > 1) {
        this.skip(g, 'needs one name');
        continue;
      }
      if (validGroups.some((x) => x.args[0] === name)) {
        this.skip(g, `sync group ${name} is defined above: keepalived ignores this one`);
        continue;
      }
      validGroups.push(g);
      const members: { name: string; at: KaStatement }[] = [];
      for (const m of this.groupMemberNames(g)) {
        const other = ctx.groupOf.get(m.name);
        if (other) this.skip(m.at, `instance ${m.name} is already in sync group ${other.args[0]}`);
        else {
          ctx.groupOf.set(m.name, g);
          members.push(m);
        }
      }
      ctx.members.set(g, members);
      ctx.groupTrackers.set(g, this.groupTrackers(g, ctx));
    }

    const list = new YAMLSeq();
    const seen = new Set<string>();
    for (const s of instances) {
      const name = s.args[0];
      if (name && seen.has(name)) {
        this.skip(s, `instance ${name} is defined above: keepalived ignores this one`);
        continue;
      }
      if (name) seen.add(name);
      const node = this.vrrpInstance(s, ctx);
      if (node) list.items.push(node);
    }
    if (!list.items.length) {
      for (const s of [...scripts, ...groups]) this.skip(s, 'no vrrp_instance was translated: left out');
      return undefined;
    }
    const syncGroups = new YAMLSeq();
    for (const g of validGroups) {
      const node = this.syncGroup(g, ctx);
      if (node) syncGroups.items.push(node);
    }

    const root = new YAMLMap();
    const v = this.doc.createNode(ctx.version);
    v.comment = version ? ` ${this.where(version.at)}` : ' keepalived default vrrp_version 2 (IPv6 instances run 3)';
    root.set('version', v);
    if (scriptMap.items.length) root.set('scripts', scriptMap);
    root.set('instances', list);
    if (syncGroups.items.length) root.set('sync_groups', syncGroups);
    return root;
  }

  /** A whole number that may be negative (weights). */
  private signedInt(s: KaStatement, index: number, min: number, max: number): number | undefined {
    const text = s.args[index];
    if (text === undefined || !/^[-+]?\d+$/.test(text) || Number(text) < min || Number(text) > max) {
      this.skip(s, text === undefined ? 'needs a value' : `"${text}" is not a whole number in ${min}..${max}`);
      return undefined;
    }
    return Number(text);
  }

  /** vrrp_script NAME { script, interval, timeout, weight, rise, fall } */
  private vrrpScript(vs: KaStatement, ctx: VrrpContext): YAMLMap | undefined {
    const name = vs.args[0];
    if (!name || vs.args.length > 1) {
      this.skip(vs, 'needs one name');
      return undefined;
    }
    if (ctx.scripts.has(name)) {
      this.skip(vs, `vrrp_script ${name} is defined above: the import keeps the first`);
      return undefined;
    }
    let exec: KaStatement | undefined;
    let interval: Num | undefined;
    let timeout: Num | undefined;
    let weight: Num | undefined;
    let rise: Num | undefined;
    let fall: Num | undefined;
    let reverse = false;
    for (const s of vs.block ?? []) {
      switch (s.keyword) {
        case 'script':
          exec = s;
          break;
        case 'interval':
        case 'timeout': {
          // keepalived 2.2 takes whole seconds here and turns 0 into 1
          const v = this.int(s, 0, 0, 86400);
          if (v === undefined) break;
          if (s.keyword === 'interval') interval = { value: Math.max(v, 1), at: s };
          else timeout = { value: Math.max(v, 1), at: s };
          break;
        }
        case 'weight': {
          const w = this.signedInt(s, 0, -253, 253);
          if (w !== undefined) weight = { value: w, at: s };
          if (s.args[1] === 'reverse') {
            this.skip(s, 'reverse: lvsd adds a positive weight while the script succeeds and a negative one while it fails, never the other way round; script left out');
            reverse = true;
          } else if (s.args.length > 1) this.skip(s, `"${s.args.slice(1).join(' ')}" is not reverse`);
          break;
        }
        case 'rise':
        case 'fall': {
          const v = this.int(s, 0, 1, 2 ** 31 - 1);
          if (v !== undefined) {
            if (s.keyword === 'rise') rise = { value: v, at: s };
            else fall = { value: v, at: s };
          }
          break;
        }
        case 'user':
          this.skip(s, "lvsd's VRRP scripts have no user setting: they run as lvsd's user");
          break;
        case 'init_fail':
          this.skip(s, 'lvsd has no initial-failure setting for scripts');
          break;
        default:
          this.skip(s, unknown('vrrp_script keyword', s.keyword, SCRIPT_KEYWORDS));
      }
    }
    if (!exec?.args.length) {
      this.skip(vs, 'no script: keepalived drops this vrrp_script too');
      return undefined;
    }
    if (reverse) return undefined;
    const m = new YAMLMap();
    m.commentBefore = ` ${this.where(vs)}`;
    // keepalived splits the command line into words itself (no shell); the same line is kept
    this.put(m, 'exec', exec.args.join(' '), exec);
    const iv = interval?.value ?? KA_VRRP.scriptIntervalSeconds;
    this.putDefault(m, 'interval', duration(iv), interval?.at, 'keepalived default interval 1');
    this.putDefault(m, 'timeout', duration(timeout?.value ?? iv), timeout?.at, 'keepalived: the timeout defaults to the interval');
    this.putDefault(m, 'weight', weight?.value ?? KA_VRRP.scriptWeight, weight?.at, 'keepalived default weight 0 (failing = FAULT)');
    this.putDefault(m, 'rise', rise?.value ?? KA_VRRP.rise, rise?.at, 'keepalived default rise 1');
    this.putDefault(m, 'fall', fall?.value ?? KA_VRRP.fall, fall?.at, 'keepalived default fall 1');
    ctx.scripts.set(name, weight?.value ?? KA_VRRP.scriptWeight);
    return m;
  }

  /** map[key] = value with a comment: the line it came from, or why it is keepalived's default. */
  private putDefault(map: YAMLMap, key: string, value: unknown, from: KaStatement | undefined, why: string): void {
    if (from) return this.put(map, key, value, from);
    const n = this.doc.createNode(value);
    n.comment = ` ${why}`;
    map.set(key, n);
  }

  /** The names in a sync group's group { } block. */
  private groupMemberNames(g: KaStatement): { name: string; at: KaStatement }[] {
    const blocks = (g.block ?? []).filter((c) => c.keyword === 'group' && c.block);
    if (!blocks.length) this.skip(g, 'no group { } of instances: keepalived ignores it');
    return blocks.flatMap((b) => (b.block ?? []).flatMap((c) => [c.keyword, ...c.args].map((name) => ({ name, at: c }))));
  }

  /** A sync group's own unweighted trackers, copied to each member (lvsd's groups have none). */
  private groupTrackers(g: KaStatement, ctx: VrrpContext): { interfaces: YamlNode[]; scripts: YamlNode[] } {
    const out = { interfaces: [] as YamlNode[], scripts: [] as YamlNode[] };
    for (const b of g.block ?? []) {
      if (b.keyword !== 'track_interface' && b.keyword !== 'track_script') continue;
      for (const c of b.block ?? []) {
        const t = b.keyword === 'track_interface' ? this.trackInterface(c) : this.trackScript(c, ctx);
        if (!t) continue;
        if (t.weight !== 0) {
          this.skip(c, `a weighted tracker of sync group ${g.args[0]}: lvsd's sync groups have no trackers of their own; an unweighted one is copied to every member, a weighted one cannot be`);
          continue;
        }
        t.node.commentBefore = ` ${this.where(c)} (sync group ${g.args[0]})`;
        (b.keyword === 'track_interface' ? out.interfaces : out.scripts).push(t.node);
      }
    }
    return out;
  }

  /** track_interface line: IFACE [weight N [reverse]] */
  private trackInterface(c: KaStatement): { node: YamlNode; weight: number } | undefined {
    const weight = this.trackWeight(c);
    if (weight === undefined) return undefined;
    const node = weight.value === undefined ? this.doc.createNode(c.keyword) : this.map({ name: c.keyword, weight: weight.value });
    return { node: node as YamlNode, weight: weight.value ?? 0 };
  }

  /** track_script line: NAME [weight N [reverse|noreverse]]; without a weight the script's counts. */
  private trackScript(c: KaStatement, ctx: VrrpContext): { node: YamlNode; weight: number } | undefined {
    const scriptWeight = ctx.scripts.get(c.keyword);
    if (scriptWeight === undefined) {
      const defined = this.statements.some((s) => s.keyword === 'vrrp_script' && s.args[0] === c.keyword);
      this.skip(c, defined ? `vrrp_script ${c.keyword} is left out (named at its line), so is this tracker` : `no vrrp_script ${c.keyword}: keepalived ignores a track_script it cannot find too`);
      return undefined;
    }
    const weight = this.trackWeight(c);
    if (weight === undefined) return undefined;
    const node = weight.value === undefined ? this.doc.createNode(c.keyword) : this.map({ name: c.keyword, weight: weight.value });
    return { node: node as YamlNode, weight: weight.value ?? scriptWeight };
  }

  /** The `weight N [reverse|noreverse]` of a tracker line; undefined when the line is left out. */
  private trackWeight(c: KaStatement): { value?: number } | undefined {
    if (!c.args.length) return {};
    if (c.args[0] !== 'weight') {
      this.skip(c, `"${c.args.join(' ')}" is not weight N`);
      return undefined;
    }
    const w = this.signedInt(c, 1, -253, 253);
    if (w === undefined) return undefined;
    const rest = c.args.slice(2);
    if (rest[0] === 'reverse') {
      this.skip(c, 'reverse: lvsd cannot reverse a weight; left out');
      return undefined;
    }
    if (rest.length && !(rest.length === 1 && rest[0] === 'noreverse')) {
      this.skip(c, `"${rest.join(' ')}" is not reverse or noreverse`);
      return undefined;
    }
    return { value: w };
  }

  /** notify PROGRAM [user [group]]: the program (lvsd runs it with INSTANCE|GROUP name STATE priority). */
  private notifyProgram(s: KaStatement): string | undefined {
    if (!s.args[0]) {
      this.skip(s, 'needs a program');
      return undefined;
    }
    if (s.args.length > 1) this.skip(s, `user "${s.args.slice(1).join(' ')}": lvsd runs the notify program as its own user`);
    return s.args[0];
  }

  private notifyWhy(keyword: string): string {
    if (keyword === 'notify_stop') return 'lvsd calls the notify program on state changes only, not at stop';
    return `lvsd has one notify program, called as keepalived calls notify (INSTANCE|GROUP name STATE priority); ${keyword}'s program is called without those words, so it is left out: call it from a notify program that looks at its third argument`;
  }

  private vrrpInstance(vi: KaStatement, ctx: VrrpContext): YAMLMap | undefined {
    const name = vi.args[0];
    if (!name || vi.args.length > 1) {
      this.skip(vi, 'needs one name');
      return undefined;
    }
    let state: KaStatement | undefined;
    let iface: KaStatement | undefined;
    let vrid: { value: number; at: KaStatement } | undefined;
    let priority: Num | undefined;
    let advert: Num | undefined;
    let version: Num | undefined;
    let preempt: KaStatement | undefined;
    let preemptDelay: Num | undefined;
    let nativeV6: KaStatement | undefined;
    let source: KaStatement | undefined;
    let notify: KaStatement | undefined;
    let auth: KaStatement | undefined;
    const vips: KaStatement[] = [];
    const peers: KaStatement[] = [];
    const trackIfs: KaStatement[] = [];
    const trackScripts: KaStatement[] = [];
    for (const s of vi.block ?? []) {
      if (BLOCK_KEYWORDS.has(s.keyword) && !s.block) {
        this.skip(s, 'needs a { } block: keepalived reads nothing from this line');
        continue;
      }
      switch (s.keyword) {
        case 'state':
          state = s;
          break;
        case 'interface':
          iface = s;
          break;
        case 'virtual_router_id': {
          const v = this.int(s, 0, 1, 255);
          if (v !== undefined) vrid = { value: v, at: s };
          break;
        }
        case 'priority': {
          const ok = /^\d+$/.test(s.args[0] ?? '') && Number(s.args[0]) >= 1 && Number(s.args[0]) <= 255;
          if (!ok) this.skip(s, `"${s.args[0] ?? ''}" is not a priority in 1..255: keepalived uses 100`);
          priority = { value: ok ? Number(s.args[0]) : KA_VRRP.priority, at: s };
          break;
        }
        case 'advert_int': {
          const v = this.seconds(s);
          if (v && v.value > 0) advert = v;
          else if (v) this.skip(s, 'must be above 0: keepalived ignores it');
          break;
        }
        case 'version': {
          const v = this.int(s, 0, 2, 3);
          if (v !== undefined) version = { value: v, at: s };
          break;
        }
        case 'nopreempt':
        case 'preempt':
          preempt = s; // the last one counts, as in keepalived
          break;
        case 'preempt_delay': {
          const v = this.seconds(s);
          if (v && v.value <= 1000) preemptDelay = v;
          else if (v) this.skip(s, 'must be 0..1000 seconds: keepalived uses 0');
          break;
        }
        case 'native_ipv6':
          nativeV6 = s;
          break;
        case 'virtual_ipaddress':
          vips.push(...(s.block ?? []));
          break;
        case 'virtual_ipaddress_excluded':
          for (const c of s.block ?? []) {
            this.skip(c, 'lvsd has no addresses left out of the adverts: not added (adding it to the advertised ones would make a keepalived peer drop the adverts, as their address count differs)');
          }
          break;
        case 'unicast_src_ip':
        case 'mcast_src_ip':
          source = s;
          break;
        case 'unicast_peer':
          peers.push(...(s.block ?? []));
          break;
        case 'track_interface':
          trackIfs.push(...(s.block ?? []));
          break;
        case 'track_script':
          trackScripts.push(...(s.block ?? []));
          break;
        case 'notify':
          notify = s;
          break;
        case 'notify_master':
        case 'notify_backup':
        case 'notify_fault':
        case 'notify_stop':
          this.skip(s, this.notifyWhy(s.keyword));
          break;
        case 'authentication':
          auth = s;
          break;
        default:
          this.skip(s, INSTANCE_WHY[s.keyword] ?? unknown('vrrp_instance keyword', s.keyword, INSTANCE_KEYWORDS));
      }
    }
    if (!iface?.args[0]) {
      this.skip(vi, 'no interface: lvsd needs the interface the instance runs on; instance left out');
      return undefined;
    }
    if (!vrid) {
      this.skip(vi, 'no valid virtual_router_id: keepalived refuses the instance too');
      return undefined;
    }
    const ifname = iface.args[0];

    // the addresses decide the family (IPv6 = VRRPv3), as in keepalived
    let family: 4 | 6 | undefined;
    const addresses = new YAMLSeq();
    for (const c of vips) {
      const a = this.virtualAddress(c, ifname);
      if (!a) continue;
      if (family === undefined) family = a.family;
      else if (a.family !== family) {
        this.skip(c, `an IPv${a.family} address in an IPv${family} instance: keepalived leaves it out too (use a second instance)`);
        continue;
      }
      addresses.items.push(a.node);
    }
    if (nativeV6) {
      if (family === 4) this.skip(nativeV6, 'native_ipv6 with IPv4 addresses: keepalived refuses it');
      else family = 6;
    }
    family ??= 4;
    let ver = version?.value ?? ctx.version;
    if (family === 6) {
      if (version?.value === 2) this.skip(version.at, 'an IPv6 instance runs VRRPv3 in lvsd (VRRPv2 is IPv4 only, RFC 3768)');
      ver = 3;
    }
    if (!addresses.items.length) {
      this.skip(vi, ver === 3 ? 'no virtual_ipaddress: keepalived refuses a VRRPv3 instance without one' : 'no virtual_ipaddress: keepalived runs the instance without addresses; lvsd needs at least one; instance left out');
      return undefined;
    }

    // state and priority: each is derived from the other when missing
    let initial: 'master' | 'backup' | undefined;
    if (state) {
      if (state.args[0] === 'MASTER') initial = 'master';
      else if (state.args[0] === 'BACKUP') initial = 'backup';
      else {
        initial = 'backup';
        this.skip(state, `"${state.args[0] ?? ''}" is not MASTER or BACKUP (upper case): keepalived runs it as BACKUP`);
      }
    }
    const prio = priority?.value ?? (initial === 'master' ? KA_VRRP.ownerPriority : KA_VRRP.priority);
    initial ??= prio === KA_VRRP.ownerPriority ? 'master' : 'backup';

    let preemptOn = preempt?.keyword !== 'nopreempt';
    if (!preemptOn && (prio === KA_VRRP.ownerPriority || initial === 'master')) {
      this.skip(preempt!, prio === KA_VRRP.ownerPriority ? 'keepalived clears nopreempt at priority 255: preempt kept' : 'keepalived clears nopreempt with state MASTER: preempt kept (use state BACKUP on both for nopreempt)');
      preemptOn = true;
    }
    let delay = preemptDelay?.value ?? 0;
    if (preemptDelay && delay > 0 && (initial === 'master' || !preemptOn)) {
      this.skip(preemptDelay.at, initial === 'master' ? 'keepalived clears preempt_delay with state MASTER' : 'keepalived clears preempt_delay with nopreempt');
      delay = 0;
    }

    // keepalived rounds the interval: v2 to whole seconds (1..255), v3 to centiseconds (up to 40.95)
    const asked = advert?.value ?? KA_VRRP.advertSeconds;
    const adv = ver === 2 ? Math.min(255, Math.max(1, Math.round(asked))) : Math.min(4095, Math.max(1, Math.round(asked * 100))) / 100;

    if (auth) this.authentication(auth, ver);

    const m = new YAMLMap();
    m.commentBefore = ` ${this.where(vi)}`;
    m.set('name', name);
    this.put(m, 'interface', ifname, iface);
    this.put(m, 'vrid', vrid.value, vrid.at);
    this.putDefault(m, 'priority', prio, priority?.at, initial === 'master' ? 'keepalived: state MASTER without a priority is the address owner, 255' : 'keepalived default priority 100');
    const advNode = this.doc.createNode(duration(adv));
    advNode.comment = advert ? ` ${this.where(advert.at)}${adv !== asked ? ` (keepalived rounds it for VRRPv${ver})` : ''}` : ' keepalived default advert_int 1';
    m.set('advert_interval', advNode);
    if (family === 6) this.putDefault(m, 'version', 3, undefined, 'IPv6: keepalived runs VRRPv3');
    else if (version) this.put(m, 'version', ver, version.at);
    this.putDefault(m, 'state', initial, state, `keepalived: no state = ${initial === 'master' ? 'MASTER at priority 255' : 'BACKUP'}`);
    const pre = this.doc.createNode(preemptOn);
    pre.comment = !preempt ? ' keepalived default: preempt' : ` ${preemptOn && preempt.keyword === 'nopreempt' ? 'keepalived clears ' : ''}${this.where(preempt)}`;
    m.set('preempt', pre);
    const pd = this.doc.createNode(duration(delay));
    pd.comment = !preemptDelay ? ' keepalived default preempt_delay 0' : ` ${delay !== preemptDelay.value ? 'keepalived clears ' : ''}${this.where(preemptDelay.at)}`;
    m.set('preempt_delay', pd);
    m.set('addresses', addresses);

    if (source) {
      const a = this.address(source.args[0], source);
      if (a && (a.family === 'inet6' ? 6 : 4) !== family) this.skip(source, `an IPv${family === 4 ? 6 : 4} source for an IPv${family} instance: keepalived leaves it out too`);
      else if (a) {
        this.put(m, 'unicast_source', a.address, source);
        if (source.keyword === 'mcast_src_ip' && !peers.length) this.skip(source, 'imported as unicast_source: with multicast lvsd may send from the interface\'s primary address instead');
      }
    }
    const peerList: string[] = [];
    for (const c of peers) {
      const a = this.address(c.keyword, c);
      if (!a) continue;
      if ((a.family === 'inet6' ? 6 : 4) !== family) {
        this.skip(c, `an IPv${family === 4 ? 6 : 4} peer of an IPv${family} instance: keepalived leaves it out too`);
        continue;
      }
      if (c.args.length) this.skip(c, `"${c.args.join(' ')}": lvsd has no TTL range per peer (the peer is kept)`);
      peerList.push(a.address);
    }
    if (peerList.length) m.set('unicast_peers', peerList);

    // trackers; keepalived ignores the weighted ones of a sync group member
    const group = ctx.groupOf.get(name);
    const groupWeights = group?.block?.some((c) => c.keyword === 'sync_group_tracking_weight' || c.keyword === 'global_tracking');
    const keep = (c: KaStatement, t: { node: YamlNode; weight: number } | undefined): YamlNode | undefined => {
      if (!t) return undefined;
      if (t.weight !== 0 && group && !groupWeights) {
        this.skip(c, `weight ${t.weight} in a member of sync group ${group.args[0]}: keepalived ignores a weighted tracker there, so it is left out`);
        return undefined;
      }
      t.node.commentBefore = ` ${this.where(c)}`;
      return t.node;
    };
    const ifs = new YAMLSeq();
    for (const c of trackIfs) {
      if (c.keyword === ifname) {
        this.skip(c, 'the instance\'s own interface: keepalived ignores it here (both track it always)');
        continue;
      }
      const n = keep(c, this.trackInterface(c));
      if (n) ifs.items.push(n);
    }
    const scriptSeq = new YAMLSeq();
    for (const c of trackScripts) {
      const n = keep(c, this.trackScript(c, ctx));
      if (n) scriptSeq.items.push(n);
    }
    const fromGroup = group ? ctx.groupTrackers.get(group) : undefined;
    for (const n of fromGroup?.interfaces ?? []) ifs.items.push(n.clone() as YamlNode);
    for (const n of fromGroup?.scripts ?? []) scriptSeq.items.push(n.clone() as YamlNode);
    if (ifs.items.length) m.set('track_interfaces', ifs);
    if (scriptSeq.items.length) m.set('track_scripts', scriptSeq);

    if (notify) {
      const program = this.notifyProgram(notify);
      if (program) this.put(m, 'notify', program, notify);
    }
    this.vrrpInstances.set(name, vrid.value);
    return m;
  }

  /** One virtual_ipaddress line: ADDR[/PREFIX] [dev IF] [label L] [scope S] [options]. */
  private virtualAddress(c: KaStatement, ifname: string): { node: unknown; family: 4 | 6 } | undefined {
    const [text, prefixText, extra] = c.keyword.split('/');
    const a = this.address(text, c);
    if (!a) return undefined;
    const family = a.family === 'inet6' ? 6 : 4;
    const max = family === 4 ? 32 : 128;
    if (extra !== undefined || (prefixText !== undefined && (!/^\d+$/.test(prefixText) || Number(prefixText) > max))) {
      this.skip(c, `"${c.keyword}" is not ADDRESS/PREFIX (0..${max})`);
      return undefined;
    }
    // keepalived adds an address without a prefix as a host address
    const prefix = prefixText === undefined ? max : Number(prefixText);
    let label: string | undefined;
    const ignored: string[] = [];
    const withValue = new Set(['brd', 'broadcast', 'peer', 'preferred_lft', 'track_group']);
    const flags = new Set(['home', '-nodad', 'nodad', 'mngtmpaddr', 'noprefixroute', 'autojoin', 'no_track', 'use_vmac']);
    for (let i = 0; i < c.args.length; i++) {
      const word = c.args[i];
      const value = c.args[i + 1];
      if (word === 'dev' && value !== undefined) {
        if (value !== ifname) {
          this.skip(c, `dev ${value}: lvsd adds an instance's addresses on its interface (${ifname}) only; address left out`);
          return undefined;
        }
        i++;
      } else if (word === 'label' && value !== undefined) {
        label = value;
        i++;
      } else if (word === 'scope' && value !== undefined) {
        if (value !== 'global') ignored.push(`scope ${value}`);
        i++;
      } else if (withValue.has(word) && value !== undefined) {
        ignored.push(`${word} ${value}`);
        i++;
      } else if (flags.has(word)) {
        ignored.push(word);
      } else {
        this.skip(c, `"${word}": ${unknown('virtual_ipaddress option', word, ['dev', 'label', 'scope', ...withValue, ...flags])}`);
        return undefined;
      }
    }
    if (label !== undefined && family === 6) {
      ignored.push(`label ${label}`); // IPv6 addresses have no labels in Linux
      label = undefined;
    }
    if (ignored.length) this.skip(c, `${ignored.join(', ')}: lvsd adds the address with its prefix and label only (scope global; no label on IPv6); the address is kept`);
    const node = label === undefined ? `${a.address}/${prefix}` : { address: a.address, prefix, label };
    return { node, family };
  }

  /** authentication { auth_type PASS|AH; auth_pass ... }: never carried over (the password is never written). */
  private authentication(s: KaStatement, version: number): void {
    let type: string | undefined;
    for (const c of s.block ?? []) {
      if (c.keyword === 'auth_type') type = c.args[0];
      else if (c.keyword !== 'auth_pass') this.skip(c, unknown('authentication keyword', c.keyword, ['auth_type', 'auth_pass']));
    }
    if (version === 3) return; // keepalived ignores authentication with VRRPv3 as well
    if (type === 'AH') {
      this.skip(s, 'auth_type AH (IPsec AH, deprecated in keepalived) is not carried over: lvsd sends adverts without authentication, which a keepalived peer with AH drops; remove authentication from the keepalived peers too');
    } else if (type === 'PASS') {
      this.skip(s, 'auth_type PASS is not carried over: lvsd sends adverts without authentication (RFC 3768 removed it), which a keepalived peer that keeps auth_type PASS drops (auth type mismatch); remove authentication from the keepalived peers too');
    } else {
      this.skip(s, `auth_type "${type ?? ''}" is not PASS or AH: keepalived runs without authentication too`);
    }
  }

  private syncGroup(g: KaStatement, ctx: VrrpContext): YAMLMap | undefined {
    const members: string[] = [];
    for (const m of ctx.members.get(g) ?? []) {
      if (this.vrrpInstances.has(m.name)) members.push(m.name);
      else this.skip(m.at, `no vrrp_instance ${m.name} was translated: left out of the group`);
    }
    let notify: KaStatement | undefined;
    for (const s of g.block ?? []) {
      switch (s.keyword) {
        case 'group':
        case 'track_interface':
        case 'track_script':
          if (!s.block) this.skip(s, 'needs a { } block: keepalived reads nothing from this line');
          break; // read before the instances
        case 'notify':
          notify = s;
          break;
        case 'notify_master':
        case 'notify_backup':
        case 'notify_fault':
        case 'notify_stop':
          this.skip(s, this.notifyWhy(s.keyword));
          break;
        case 'sync_group_tracking_weight':
        case 'global_tracking':
          this.skip(s, "lvsd has no such switch: the members' weighted trackers are kept (keepalived keeps them with it too)");
          break;
        case 'smtp_alert':
        case 'notify_priority_changes':
        case 'track_file':
        case 'track_process':
        case 'track_bfd':
          this.skip(s, INSTANCE_WHY[s.keyword]);
          break;
        default:
          this.skip(s, unknown('vrrp_sync_group keyword', s.keyword, SYNC_GROUP_KEYWORDS));
      }
    }
    if (!members.length) {
      this.skip(g, 'no member instance was translated: group left out');
      return undefined;
    }
    const m = new YAMLMap();
    m.commentBefore = ` ${this.where(g)}`;
    m.set('name', g.args[0]);
    m.set('instances', members);
    if (notify) {
      const program = this.notifyProgram(notify);
      if (program) this.put(m, 'notify', program, notify);
    }
    return m;
  }

  // ---- virtual_server_group ----

  /** A group's members: services keys ({address, port} or {fwmark, family}). */
  private groupMembers(g: KaStatement): { key: Record<string, unknown>; from: KaStatement }[] {
    const out: { key: Record<string, unknown>; from: KaStatement }[] = [];
    for (const m of g.block ?? []) {
      if (m.keyword === 'fwmark') {
        const mark = this.int(m, 0, 1);
        if (mark === undefined) continue;
        const family = m.args[1];
        out.push({ key: family === 'inet6' ? { fwmark: mark, family } : { fwmark: mark }, from: m });
        continue;
      }
      const port = m.args[0] === undefined ? undefined : this.int(m, 0, 1, 65535);
      if (m.args[0] !== undefined && port === undefined) continue;
      if (port === undefined) {
        this.skip(m, 'a member without a port (persistent port 0 service): lvsd services have a port');
        continue;
      }
      for (const address of this.expandRange(m)) out.push({ key: { address, port }, from: m });
    }
    return out;
  }

  /** 198.18.0.1, 198.18.0.1-10, 198.18.0.1-198.18.1.10, 198.18.0.8/29 (IPv4; at most 256 addresses). */
  private expandRange(m: KaStatement): string[] {
    const text = m.keyword;
    const ip4 = (t: string) => {
      const a = canonicalAddress(t);
      return typeof a !== 'string' && a.family === 'inet' ? a.address.split('.').reduce((n, o) => n * 256 + Number(o), 0) : undefined;
    };
    const toText = (n: number) => [24, 16, 8, 0].map((b) => (n >>> b) & 255).join('.');
    let first: number | undefined;
    let last: number | undefined;
    let r: RegExpExecArray | null;
    if ((r = /^([\d.]+)-(\d+)$/.exec(text))) {
      first = ip4(r[1]);
      if (first !== undefined) last = first - (first % 256) + Number(r[2]);
    } else if ((r = /^([\d.]+)-([\d.]+)$/.exec(text))) {
      first = ip4(r[1]);
      last = ip4(r[2]);
    } else if ((r = /^([\d.]+)\/(\d+)$/.exec(text))) {
      const base = ip4(r[1]);
      const bits = Number(r[2]);
      if (base !== undefined && bits <= 32) {
        const size = 2 ** (32 - bits);
        first = base - (base % size);
        last = first + size - 1;
      }
    } else {
      const a = this.address(text, m);
      return a ? [a.address] : [];
    }
    if (first === undefined || last === undefined || last < first || last > 0xffffffff) {
      this.skip(m, `"${text}" is not an IPv4 address range lvsd can expand (IPv6 ranges are not translated)`);
      return [];
    }
    if (last - first >= 256) {
      this.skip(m, `"${text}" holds ${last - first + 1} addresses; the import expands at most 256`);
      return [];
    }
    const out: string[] = [];
    for (let n = first; n <= last; n++) out.push(toText(n));
    return out;
  }

  // ---- virtual_server ----

  private virtualServer(vs: KaStatement): YAMLMap[] {
    const [kind, arg1] = vs.args;
    let keys: { key: Record<string, unknown>; name?: string; from?: KaStatement }[] = [];
    if (kind === 'fwmark') {
      const mark = this.int(vs, 1, 1);
      if (mark === undefined) return [];
      keys = [{ key: { fwmark: mark } }];
    } else if (kind === 'group') {
      const g = arg1 === undefined ? undefined : this.groups.get(arg1);
      if (!g) {
        this.skip(vs, `no virtual_server_group named "${arg1 ?? ''}"`);
        return [];
      }
      keys = this.groupMembers(g).map((m) => ({ ...m, name: `${arg1} ${m.key.fwmark !== undefined ? `fwmark ${m.key.fwmark}` : `${m.key.address as string}:${m.key.port as number}`}` }));
    } else {
      const a = this.address(kind, vs);
      if (!a) return [];
      if (arg1 === undefined) {
        this.skip(vs, 'a virtual server without a port (persistent port 0 service): lvsd services have a port');
        return [];
      }
      const port = this.int(vs, 1, 1, 65535);
      if (port === undefined) return [];
      keys = [{ key: { address: a.address, port } }];
    }
    if (!keys.length) return [];

    // settings, in the order they translate
    const body = vs.block ?? [];
    const svc: { key: string; value: unknown; from?: KaStatement }[] = [];
    const timing: Timing = {};
    const flags: string[] = [];
    let protocol: KaStatement | undefined;
    let method: { forward: string; tunnel?: Tunnel; from: KaStatement } | undefined;
    const persistence: { timeout?: number; from?: KaStatement; granularity?: KaStatement } = {};
    let family: string | undefined;
    let quorum: Num | undefined;
    let hysteresis: Num | undefined;
    let sorry: KaStatement | undefined;
    let sorryMethod: { forward: string; tunnel?: Tunnel; from: KaStatement } | undefined;
    const tunnelParts: { type?: KaStatement; port?: KaStatement; flags?: KaStatement } = {};
    const realServers: KaStatement[] = [];
    for (const s of body) {
      switch (s.keyword) {
        case 'lvs_sched':
        case 'lb_algo': {
          const v = s.args[0];
          if (v && SCHEDULERS.has(v)) svc.push({ key: 'scheduler', value: v, from: s });
          else this.skip(s, `scheduler "${v ?? ''}" is not one lvsd knows (${[...SCHEDULERS].join(', ')})`);
          break;
        }
        case 'ops':
          svc.push({ key: 'one_packet', value: true, from: s });
          break;
        case 'lvs_method':
        case 'lb_kind':
          method = this.method(s) ?? method;
          break;
        case 'tun_type':
          tunnelParts.type = s;
          break;
        case 'tun_port':
          tunnelParts.port = s;
          break;
        case 'tun_flags':
          tunnelParts.flags = s;
          break;
        case 'persistence_engine':
          svc.push({ key: 'persistence_engine', value: s.args[0], from: s });
          break;
        case 'persistence_timeout':
          persistence.timeout = s.args[0] === undefined ? KA.persistenceTimeout : this.int(s);
          persistence.from = s;
          break;
        case 'persistence_granularity':
          persistence.granularity = s;
          break;
        case 'protocol': {
          const p = (s.args[0] ?? '').toUpperCase();
          if (!['TCP', 'UDP', 'SCTP'].includes(p)) this.skip(s, `"${s.args[0] ?? ''}" is not TCP, UDP or SCTP`);
          else protocol = s;
          break;
        }
        case 'ip_family':
          if (s.args[0] === 'inet' || s.args[0] === 'inet6') family = s.args[0];
          else this.skip(s, `"${s.args[0] ?? ''}" is not inet or inet6`);
          break;
        case 'quorum':
          quorum = { value: this.int(s, 0, 1) ?? 1, at: s };
          break;
        case 'hysteresis':
          hysteresis = { value: this.int(s) ?? 0, at: s };
          break;
        case 'sorry_server':
          sorry = s;
          break;
        case 'sorry_server_lvs_method':
          sorryMethod = this.method(s);
          break;
        case 'sorry_server_inhibit':
          this.skip(s, "lvsd's sorry server is in the table only while needed (keepalived would keep it at weight 0 otherwise)");
          break;
        case 'quorum_up':
        case 'quorum_down':
          this.skip(s, 'no scripts on quorum changes in lvsd (its status page and metrics show the quorum)');
          break;
        case 'real_server':
          realServers.push(s);
          break;
        default:
          if (SCHEDULER_FLAGS.has(s.keyword)) flags.push(s.keyword);
          else if (!this.timingKeyword(s, timing)) this.vsOther(s);
      }
    }
    if (tunnelParts.type || tunnelParts.port || tunnelParts.flags) {
      const t = this.tunnelFromParts(tunnelParts);
      if (t && method?.forward === 'tun') method.tunnel = t;
      else if (t) this.skip((tunnelParts.type ?? tunnelParts.port ?? tunnelParts.flags)!, 'a tunnel type without lvs_method TUN');
    }

    // the servers first: the family of a fwmark service and on_failure come from them
    const servers: YAMLMap[] = [];
    const inhibits: { value: boolean; at: KaStatement }[] = [];
    let totalWeight = 0;
    for (const rs of realServers) {
      const out = this.realServer(rs, timing, keys[0].key.fwmark !== undefined);
      if (!out) continue;
      servers.push(out.node);
      inhibits.push({ value: out.inhibit, at: rs });
      totalWeight += out.weight;
      if (!family && keys[0].key.fwmark !== undefined && !out.tunnelled) family = out.family;
    }

    const result: YAMLMap[] = [];
    for (const k of keys) {
      const m = new YAMLMap();
      m.commentBefore = ` ${this.where(vs)}` + (k.from ? `\n member ${this.where(k.from)}` : '');
      if (k.name) m.set('name', k.name);
      if (k.key.fwmark !== undefined) {
        m.set('fwmark', k.key.fwmark);
        const fam = (k.key.family as string | undefined) ?? family;
        if (fam === 'inet6') m.set('family', 'inet6');
      } else {
        const p = protocol ? protocol.args[0].toLowerCase() : 'tcp';
        if (protocol) this.put(m, 'protocol', p, protocol);
        m.set('address', k.key.address);
        m.set('port', k.key.port);
      }
      if (!svc.some((x) => x.key === 'scheduler')) {
        const n = this.doc.createNode(KA.scheduler);
        n.comment = ' keepalived default';
        m.set('scheduler', n);
      }
      for (const x of svc) this.put(m, x.key, x.value, x.from);
      if (flags.length) m.set('scheduler_flags', flags);
      const forward = method?.forward ?? KA.method.toLowerCase();
      if (method) this.put(m, 'forward', forward, method.from);
      else {
        const n = this.doc.createNode('nat');
        n.comment = ' keepalived default (lvs_method NAT)';
        m.set('forward', n);
      }
      if (method?.tunnel) this.put(m, 'tunnel', this.map({ ...method.tunnel }), method.from);
      if (persistence.timeout !== undefined && persistence.timeout > 0) {
        const p = new YAMLMap();
        p.set('timeout', persistence.timeout);
        const g = persistence.granularity;
        if (g?.args[0] !== undefined) {
          if (/^\d+$/.test(g.args[0])) p.set('prefix', Number(g.args[0]));
          else p.set('netmask', g.args[0]);
        }
        this.put(m, 'persistence', p, persistence.from);
      } else if (persistence.granularity) {
        this.skip(persistence.granularity, 'the service is not persistent (no persistence_timeout above 0)');
      }
      const inhibitAll = inhibits.length > 0 && inhibits.every((i) => i.value);
      const mixed = inhibits.some((i) => i.value) && !inhibitAll;
      const onFailure = this.doc.createNode(inhibitAll ? 'weight-0' : 'remove');
      onFailure.comment = inhibitAll ? ' keepalived: inhibit_on_failure' : ' keepalived: no inhibit_on_failure (a failed server is removed)';
      m.set('on_failure', onFailure);
      if (mixed && k === keys[0]) {
        for (const i of inhibits) if (i.value) this.skip(i.at, 'inhibit_on_failure on some servers only: lvsd sets on_failure per service; the import uses remove (as most of these servers)');
      }
      if (sorry) {
        const q = new YAMLMap();
        q.set('weight', quorum?.value ?? 1);
        q.set('hysteresis', hysteresis?.value ?? 0);
        q.commentBefore = ` ${quorum ? this.where(quorum.at) : 'keepalived default quorum 1'}${hysteresis ? `; ${this.where(hysteresis.at)}` : ''}`;
        m.set('quorum', q);
        const so = this.sorryServer(sorry, sorryMethod);
        if (so) this.put(m, 'sorry_server', so, sorry);
        const ad = this.doc.createNode('sorry');
        ad.comment = ' keepalived: the sorry server replaces the servers when the quorum is lost';
        m.set('all_down', ad);
      } else {
        if (k === keys[0]) {
          for (const q of [quorum, hysteresis]) if (q) this.skip(q.at, 'without a sorry_server keepalived\'s quorum changes nothing in IPVS (only scripts and alerts)');
        }
        const ad = this.doc.createNode('empty');
        ad.comment = ' keepalived: every server down leaves none (lvsd would keep the last)';
        m.set('all_down', ad);
      }
      // a copy per service, comments kept
      const seq = new YAMLSeq();
      for (const s of servers) seq.items.push(k === keys[0] ? s : (s.clone() as YAMLMap));
      m.set('servers', seq);
      result.push(m);
    }
    if (sorry && quorum && quorum.value > 1) {
      this.skip(quorum.at, 'when the quorum is lost keepalived takes every real server out and leaves the sorry server alone; lvsd adds the sorry server beside the servers still up');
    }
    if (sorry && totalWeight < (quorum?.value ?? 1)) {
      // lvsd refuses a quorum that can never be met; keepalived would run with the sorry server only
      if (quorum) this.skip(quorum.at, `quorum ${quorum.value} is above the servers' total weight ${totalWeight}: keepalived keeps the sorry server in for ever; lvsd refuses it`);
    }
    return result;
  }

  private vsOther(s: KaStatement): void {
    const why: Record<string, string> = {
      ha_suspend: 'lvsd checks the servers whether or not this host holds the virtual address (a backup is ready at once)',
      smtp_alert: 'no e-mail in lvsd (status page, metrics, logs)',
      snmp_name: 'no SNMP in lvsd (status page and Prometheus metrics)',
      omega: 'no quorum scripts in lvsd',
      nat_mask: 'an old keyword IPVS ignores',
    };
    this.skip(s, why[s.keyword] ?? `not a virtual_server keyword lvsd translates`);
  }

  /** Checker settings a virtual_server or real_server gives its checkers; true when it was one. */
  private timingKeyword(s: KaStatement, t: Timing): boolean {
    switch (s.keyword) {
      case 'delay_loop':
        t.delayLoop = this.seconds(s) ?? t.delayLoop;
        return true;
      case 'connect_timeout':
        t.connectTimeout = this.seconds(s) ?? t.connectTimeout;
        return true;
      case 'retry':
      case 'nb_get_retry': {
        const v = this.int(s, 0, 0, 999);
        if (v !== undefined) t.retry = { value: v, at: s };
        return true;
      }
      case 'delay_before_retry':
        t.delayBeforeRetry = this.seconds(s) ?? t.delayBeforeRetry;
        return true;
      case 'alpha':
        t.alpha = this.bool(s);
        return true;
      case 'inhibit_on_failure':
        t.inhibit = this.bool(s);
        return true;
      case 'virtualhost':
        t.virtualhost = s.args[0];
        return true;
      case 'warmup':
        this.skip(s, 'lvsd starts each check at a random point of its first interval (keepalived\'s default warmup, delay_loop); another warmup is not translated');
        return true;
      default:
        return false;
    }
  }

  private method(s: KaStatement): { forward: string; tunnel?: Tunnel; from: KaStatement } | undefined {
    const m = METHODS[(s.args[0] ?? '').toUpperCase()];
    if (!m) {
      this.skip(s, `"${s.args[0] ?? ''}" is not NAT, DR or TUN`);
      return undefined;
    }
    if (m !== 'tun') {
      if (s.args.length > 1) this.skip(s, `"${s.args.slice(1).join(' ')}": only TUN takes options`);
      return { forward: m, from: s };
    }
    // TUN [type {ipip|gue port NUM|gre} [nocsum|csum|remcsum]]
    const tunnel: Tunnel = { type: 'ipip' };
    const a = s.args.slice(1);
    for (let i = 0; i < a.length; i++) {
      if (a[i] === 'type' && ['ipip', 'gue', 'gre'].includes(a[i + 1])) tunnel.type = a[++i];
      else if (a[i] === 'port' && /^\d+$/.test(a[i + 1] ?? '')) tunnel.port = Number(a[++i]);
      else if (['nocsum', 'csum', 'remcsum'].includes(a[i])) tunnel.checksum = a[i];
      else this.skip(s, `"${a[i]}" is not a tunnel option (type ipip|gue port N|gre, nocsum|csum|remcsum)`);
    }
    return { forward: m, tunnel, from: s };
  }

  private tunnelFromParts(p: { type?: KaStatement; port?: KaStatement; flags?: KaStatement }): Tunnel | undefined {
    const t: Tunnel = { type: 'ipip' };
    if (p.type) {
      if (['ipip', 'gue', 'gre'].includes(p.type.args[0])) t.type = p.type.args[0];
      else this.skip(p.type, `"${p.type.args[0] ?? ''}" is not ipip, gue or gre`);
    }
    if (p.port) {
      const v = this.int(p.port, 0, 1, 65535);
      if (v !== undefined) t.port = v;
    }
    if (p.flags) {
      if (['nocsum', 'csum', 'remcsum'].includes(p.flags.args[0])) t.checksum = p.flags.args[0];
      else this.skip(p.flags, `"${p.flags.args[0] ?? ''}" is not nocsum, csum or remcsum`);
    }
    return t;
  }

  private sorryServer(s: KaStatement, method: { forward: string; tunnel?: Tunnel } | undefined): YAMLMap | undefined {
    const a = this.address(s.args[0], s);
    if (!a) return undefined;
    const m = new YAMLMap();
    m.set('address', a.address);
    if (s.args[1] !== undefined) {
      const port = this.int(s, 1, 1, 65535);
      if (port !== undefined) m.set('port', port);
    }
    if (method) m.set('forward', method.forward);
    if (method?.tunnel) m.set('tunnel', this.map({ ...method.tunnel }));
    return m;
  }

  // ---- real_server and its checkers ----

  private realServer(
    rs: KaStatement,
    vsTiming: Timing,
    fwmark: boolean,
  ): { node: YAMLMap; inhibit: boolean; weight: number; family: string; tunnelled: boolean } | undefined {
    const a = this.address(rs.args[0], rs);
    if (!a) return undefined;
    const m = new YAMLMap();
    m.commentBefore = ` ${this.where(rs)}`;
    m.set('address', a.address);
    if (rs.args[1] !== undefined) {
      const port = this.int(rs, 1, 0, 65535);
      if (port !== undefined && port > 0) m.set('port', port);
      else if (port === 0 && !fwmark) this.skip(rs, 'port 0: lvsd uses the service port');
    }
    const timing: Timing = { ...vsTiming };
    let weight = 1;
    const thresholds = new YAMLMap();
    const checkers: KaStatement[] = [];
    let tunnelled = false;
    for (const s of rs.block ?? []) {
      switch (s.keyword) {
        case 'weight': {
          const w = this.int(s, 0, 0, 65535);
          if (w !== undefined) {
            weight = w;
            this.put(m, 'weight', w, s);
          }
          break;
        }
        case 'lvs_method':
        case 'lb_kind': {
          const meth = this.method(s);
          if (meth) {
            this.put(m, 'forward', meth.forward, s);
            if (meth.tunnel) m.set('tunnel', this.map({ ...meth.tunnel }));
            tunnelled = meth.forward === 'tun';
          }
          break;
        }
        case 'uthreshold':
        case 'lthreshold': {
          const v = this.int(s, 0, 0, 65535);
          if (v !== undefined) {
            const n = this.doc.createNode(v);
            n.comment = ` ${this.where(s)}`;
            thresholds.set(s.keyword === 'uthreshold' ? 'upper' : 'lower', n);
          }
          break;
        }
        case 'TCP_CHECK':
        case 'HTTP_GET':
        case 'SSL_GET':
        case 'MISC_CHECK':
          checkers.push(s);
          break;
        case 'SMTP_CHECK':
        case 'DNS_CHECK':
        case 'BFD_CHECK':
        case 'UDP_CHECK':
        case 'PING_CHECK':
        case 'FILE_CHECK':
          this.skip(s, 'no such check in lvsd: left out (the server no longer depends on it)');
          break;
        case 'notify_up':
        case 'notify_down':
          this.skip(s, 'no scripts on server changes in lvsd (status page, metrics, logs)');
          break;
        case 'smtp_alert':
        case 'snmp_name':
          this.skip(s, NOT_IPVS);
          break;
        default:
          if (!this.timingKeyword(s, timing)) this.skip(s, 'not a real_server keyword lvsd translates');
      }
    }
    if (thresholds.items.length) m.set('thresholds', thresholds);
    const checks = new YAMLSeq();
    for (const c of checkers) for (const node of this.checker(c, timing)) checks.items.push(node);
    // keepalived: a server without a (translated) checker is always up; [] says the same to lvsd
    m.set('checks', checks);
    return { node: m, inhibit: timing.inhibit ?? false, weight, family: a.family, tunnelled };
  }

  private checker(c: KaStatement, rsTiming: Timing): YAMLMap[] {
    const t: Timing = { ...rsTiming };
    const common = new YAMLMap();
    const urls: KaStatement[] = [];
    const misc: { path?: KaStatement; timeout?: Num; dynamic?: KaStatement; user?: KaStatement } = {};
    let sni = false;
    for (const s of c.block ?? []) {
      if (this.timingKeyword(s, t)) continue;
      switch (s.keyword) {
        case 'connect_ip': {
          const a = this.address(s.args[0], s);
          if (a) this.put(common, 'host', a.address, s);
          break;
        }
        case 'connect_port': {
          const p = this.int(s, 0, 1, 65535);
          if (p !== undefined) this.put(common, 'port', p, s);
          break;
        }
        case 'url':
          if (c.keyword === 'HTTP_GET' || c.keyword === 'SSL_GET') urls.push(s);
          else this.skip(s, `not a ${c.keyword} keyword`);
          break;
        case 'enable_sni':
          if (c.keyword === 'SSL_GET') sni = true;
          else this.skip(s, 'only for SSL_GET');
          break;
        case 'misc_path':
          misc.path = s;
          break;
        case 'misc_timeout':
          misc.timeout = this.seconds(s);
          break;
        case 'misc_dynamic':
          misc.dynamic = s;
          break;
        case 'user':
          misc.user = s;
          break;
        case 'http_protocol':
          this.skip(s, 'lvsd sends HTTP/1.1 with "Connection: close"');
          break;
        case 'fast_recovery':
          this.skip(s, "lvsd checks each URL every interval in parallel (one check per url), so there is no per-URL delay to remove");
          break;
        case 'bindto':
        case 'bind_port':
        case 'bind_if':
        case 'fwmark':
          this.skip(s, 'lvsd checks from the default source address and port, without a mark');
          break;
        case 'log_all_failures':
          this.skip(s, 'lvsd logs state changes (and the last result in the status)');
          break;
        default:
          this.skip(s, `not a ${c.keyword} keyword lvsd translates`);
      }
    }
    const isMisc = c.keyword === 'MISC_CHECK';
    const interval = t.delayLoop?.value ?? KA.delayLoop;
    const retry = t.retry?.value ?? (isMisc ? KA.miscRetry : KA.retry);
    const timeout = isMisc ? (misc.timeout?.value ?? interval) : (t.connectTimeout?.value ?? KA.connectTimeout);
    if (t.delayBeforeRetry && retry > 0 && t.delayBeforeRetry.value !== interval) {
      this.skip(
        t.delayBeforeRetry.at,
        `lvsd retries every interval (${interval}s), not ${t.delayBeforeRetry.value}s after a failure: a failure is seen after up to ${retry + 1} x ${interval}s instead of ${interval} + ${retry} x ${t.delayBeforeRetry.value}s`,
      );
    }
    const timing = (m: YAMLMap) => {
      const iv = this.doc.createNode(`${interval}s`);
      iv.comment = t.delayLoop ? ` ${this.where(t.delayLoop.at)}` : ' keepalived default delay_loop 60';
      m.set('interval', iv);
      const to = this.doc.createNode(`${timeout}s`);
      to.comment = isMisc ? (misc.timeout ? ` ${this.where(misc.timeout.at)}` : ' keepalived: misc_timeout defaults to delay_loop') : t.connectTimeout ? ` ${this.where(t.connectTimeout.at)}` : ' keepalived default connect_timeout 5';
      m.set('timeout', to);
      const fall = this.doc.createNode(retry + 1);
      fall.comment = t.retry ? ` ${this.where(t.retry.at)} (+1: the first try)` : ` keepalived default retry ${retry}, +1`;
      m.set('fall', fall);
      const init = this.doc.createNode(t.alpha ? 'down' : 'fully-up');
      init.comment = t.alpha ? ' keepalived alpha: starts down' : ' keepalived without alpha: starts up';
      m.set('initial_state', init);
    };
    const out: YAMLMap[] = [];
    const head = (type: string) => {
      const m = new YAMLMap();
      m.commentBefore = ` ${this.where(c)}`;
      m.set('type', type);
      for (const item of common.items) m.items.push(item.clone());
      return m;
    };
    if (c.keyword === 'TCP_CHECK') {
      const m = head('tcp');
      timing(m);
      out.push(m);
    } else if (isMisc) {
      if (!misc.path?.args[0]) {
        this.skip(c, 'no misc_path: keepalived refuses it too');
        return [];
      }
      const m = head('exec');
      const { path, args } = this.argv(misc.path.args.join(' '));
      this.put(m, 'path', path, misc.path);
      if (args.length) m.set('args', args);
      if (misc.dynamic) this.put(m, 'dynamic_weight', true, misc.dynamic);
      if (misc.user?.args[0]) {
        this.put(m, 'user', misc.user.args[0], misc.user);
        if (misc.user.args[1]) this.skip(misc.user, `group "${misc.user.args[1]}": lvsd runs the program with the user's own group`);
      }
      timing(m);
      out.push(m);
    } else {
      if (!urls.length) this.skip(c, 'no url: nothing to check (keepalived needs one too)');
      for (const u of urls) {
        const m = head('http');
        let vhost = t.virtualhost;
        let path: string | undefined;
        const statuses: string[] = [];
        let regex: KaStatement | undefined;
        for (const s of u.block ?? []) {
          switch (s.keyword) {
            case 'path':
              path = s.args[0];
              break;
            case 'status_code':
              statuses.push(...s.args);
              break;
            case 'virtualhost':
              vhost = s.args[0];
              break;
            case 'digest':
              this.skip(s, 'lvsd cannot check an MD5 digest of the body; use body_regex on a known part of it');
              break;
            case 'regex':
              regex = s;
              break;
            default:
              this.skip(s, 'not a url keyword lvsd translates (regex_no_match, regex_options, offsets)');
          }
        }
        m.commentBefore = ` ${this.where(c)}; ${this.where(u)}`;
        this.put(m, 'path', path ?? '/', u);
        if (statuses.length) m.set('expect_status', statuses.map((x) => (/^\d+$/.test(x) ? Number(x) : x)));
        else {
          const n = this.doc.createNode(['200-299']);
          n.commentBefore = ' keepalived default status_code 200-299';
          m.set('expect_status', n);
        }
        if (vhost) m.set('host_header', vhost);
        if (regex?.args[0] !== undefined) this.put(m, 'body_regex', regex.args[0], regex);
        if (c.keyword === 'SSL_GET') {
          m.set('tls', true);
          const skip = this.doc.createNode(true);
          skip.comment = ' keepalived SSL_GET does not verify the certificate: set ca_file and remove this';
          m.set('insecure_skip_tls_verify', skip);
          if (sni && vhost) m.set('sni', vhost);
        }
        timing(m);
        out.push(m);
      }
    }
    return out;
  }

  /** misc_path "/usr/bin/check arg" -> exec path + args; through /bin/sh -c when it needs a shell. */
  private argv(cmd: string): { path: string; args: string[] } {
    const words = cmd.trim().split(/\s+/);
    if (/[|&;<>()$`\\"'*?[\]~{}]/.test(cmd) || !words[0].startsWith('/')) return { path: '/bin/sh', args: ['-c', cmd] };
    return { path: words[0], args: words.slice(1) };
  }
}
