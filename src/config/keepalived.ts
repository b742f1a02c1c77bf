// keepalived.conf -> director YAML (`lvsd director import-keepalived FILE`): the statements read by
// keepalived-parser.ts are translated, their LVS part (global_defs lvs_*, virtual_server_group,
// virtual_server, real_server and their checkers) here and their VRRP part in keepalived-vrrp.ts,
// into the director's YAML, written with the yaml Document API so each part carries a comment
// naming the line it came from. keepalived's semantics are kept where they differ from lvsd's
// defaults: a failed server is removed unless inhibit_on_failure, servers start up (fully-up)
// unless alpha, one pass brings a server back (rise 1), no start jitter; keepalived's VRRP defaults
// are written out. Every line that cannot be translated is reported as `file:line: keyword: why`.
import { Document, YAMLMap, YAMLSeq } from 'yaml';
import { parseKeepalivedFile, type KaStatement } from './keepalived-parser';
import { globalVrrpWhy, VrrpTranslator } from './keepalived-vrrp';
import { ImportWriter, unknown, type ImportProblem, type Num } from './keepalived-writer';
import { canonicalAddress } from './validate';

export { KeepalivedSyntaxError, parseKeepalived, parseKeepalivedFile, type KaStatement } from './keepalived-parser';
export { formatImportProblem, type ImportProblem } from './keepalived-writer';

// ---- the translation ----

export interface KeepalivedImport {
  /** the director config, YAML text */
  yaml: string;
  /** every line left out or not translated exactly, in file order */
  problems: ImportProblem[];
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
// keepalived runs one command per event; lvsd one program per service, the event as arguments
const NOTIFY_HOOK = "lvsd runs one program per service instead, the service's notify, with the event as arguments (SERVER <service> <server> UP|DOWN, QUORUM <service> UP|DOWN): point it at a wrapper that runs this command for its event";

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

interface Tunnel {
  type: string;
  port?: number;
  checksum?: string;
}

class Translator extends ImportWriter {
  private readonly groups = new Map<string, KaStatement>();
  /** the vrrp_instances translated: name -> its vrid (the sync daemon's default id) */
  private vrrpInstances = new Map<string, number>();

  constructor(
    private readonly statements: KaStatement[],
    private readonly source: string,
  ) {
    super(new Document({}), []);
  }

  run(): KeepalivedImport {
    const doc = this.doc;
    doc.commentBefore =
      ` lvsd director config imported from ${this.source} (lvsd director import-keepalived).\n` +
      ` Each part names the keepalived.conf line it came from. Check it: lvsd director check-config -c FILE`;
    for (const s of this.statements) {
      if (s.keyword === 'virtual_server_group' && s.args[0]) this.groups.set(s.args[0], s);
    }
    // VRRP first: the sync daemon in global_defs names an instance
    const vrrpPart = new VrrpTranslator(this.doc, this.problems, this.statements);
    const vrrp = vrrpPart.translate();
    this.vrrpInstances = vrrpPart.instances;
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
          break; // translated by VrrpTranslator
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
        // translated by VrrpTranslator
      } else {
        this.skip(s, globalVrrpWhy(s.keyword) ?? (s.block ? `block ${NOT_IPVS}` : NOT_IPVS));
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
          // keepalived (pgr_handler): a granularity makes a service persistent, 360 s unless a
          // persistence_timeout above 0 came before (a later one still overrides it)
          if (!persistence.timeout) {
            persistence.timeout = KA.persistenceTimeout;
            persistence.from = s;
          }
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
          this.skip(s, NOTIFY_HOOK);
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
    const serverPorts: { port?: number; nat: boolean }[] = [];
    const inhibits: { value: boolean; at: KaStatement }[] = [];
    let totalWeight = 0;
    for (const rs of realServers) {
      const out = this.realServer(rs, timing, keys[0].key.fwmark !== undefined);
      if (!out) continue;
      servers.push(out.node);
      serverPorts.push({ port: out.port, nat: (out.forward ?? method?.forward ?? 'nat') === 'nat' });
      inhibits.push({ value: out.inhibit, at: rs });
      totalWeight += out.weight;
      if (!family && keys.some((k) => k.key.fwmark !== undefined) && !out.tunnelled) family = out.family;
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
        if (protocol) this.put(m, 'protocol', protocol.args[0].toLowerCase(), protocol);
        else {
          // keepalived 2.2 (check_parser.c): "no protocol set - defaulting to UDP"
          const n = this.doc.createNode('udp');
          n.comment = ' keepalived default (no protocol: UDP)';
          m.set('protocol', n);
        }
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
        if (g?.args[0] !== undefined && kind === 'group') {
          // keepalived 2.2.7 programs a group's services without the mask (seen in the lab:
          // `ipvsadm -S` shows no -M for any member); left out so the table stays the same
          if (k === keys[0]) this.skip(g, "keepalived 2.2 ignores it in a virtual_server group (its services get no persistence mask): left out, as the table keepalived programs; add persistence.netmask to each service to apply it");
        } else if (g?.args[0] !== undefined) {
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
      servers.forEach((s, i) => {
        const { port, nat } = serverPorts[i];
        // keepalived programs a DR or TUN server of a fwmark service without a port ("port will be
        // ignored" / "clearing"), and one of an address service on the service's port ("ports
        // don't match - resetting"); its checks still connect to the port written
        const reset = !nat && port !== undefined && (k.key.fwmark !== undefined || (kind !== 'group' && port !== k.key.port));
        const node = k === keys[0] && !reset ? s : (s.clone() as YAMLMap);
        if (reset) {
          node.delete('port');
          node.commentBefore = `${node.commentBefore ?? ''}\n keepalived: ${k.key.fwmark !== undefined ? 'no port for a DR/TUN server of a fwmark service' : "a DR/TUN server is on the service's port"}; checks on ${port}`;
          for (const c of (node.get('checks') as YAMLSeq<YAMLMap>).items) if (!c.has('port')) c.set('port', port);
        }
        seq.items.push(node);
      });
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
  private timingKeyword(s: KaStatement, t: Timing, checker?: string): boolean {
    if (s.keyword === 'nb_get_retry' && checker !== 'HTTP_GET' && checker !== 'SSL_GET') {
      // keepalived 2.2 knows the old name only in HTTP_GET and SSL_GET ("Unknown keyword" elsewhere)
      this.skip(s, 'keepalived 2.2 ignores nb_get_retry outside HTTP_GET and SSL_GET (an unknown keyword there), so its retry default applies; use retry');
      return true;
    }
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
  ): { node: YAMLMap; inhibit: boolean; weight: number; family: string; tunnelled: boolean; port?: number; forward?: string } | undefined {
    const a = this.address(rs.args[0], rs);
    if (!a) return undefined;
    const m = new YAMLMap();
    m.commentBefore = ` ${this.where(rs)}`;
    m.set('address', a.address);
    let serverPort: number | undefined;
    let forward: string | undefined;
    if (rs.args[1] !== undefined) {
      const port = this.int(rs, 1, 0, 65535);
      if (port !== undefined && port > 0) {
        m.set('port', port);
        serverPort = port;
      }
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
            forward = meth.forward;
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
          this.skip(s, NOTIFY_HOOK);
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
    return { node: m, inhibit: timing.inhibit ?? false, weight, family: a.family, tunnelled, port: serverPort, forward };
  }

  private checker(c: KaStatement, rsTiming: Timing): YAMLMap[] {
    const t: Timing = { ...rsTiming };
    const common = new YAMLMap();
    const urls: KaStatement[] = [];
    const misc: { path?: KaStatement; timeout?: Num; dynamic?: KaStatement; user?: KaStatement } = {};
    let sni = false;
    for (const s of c.block ?? []) {
      if (this.timingKeyword(s, t, c.keyword)) continue;
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
