// The VRRP part of the keepalived.conf import: global_defs vrrp_version, vrrp_script, vrrp_instance
// and vrrp_sync_group become the director config's `vrrp:` section, with keepalived's defaults
// written out and derived as keepalived derives them (a MASTER without a priority is the address
// owner, IPv6 is VRRPv3, nopreempt is cleared with state MASTER...). What lvsd cannot carry over
// is named.
import { Document, YAMLMap, YAMLSeq, type Node as YamlNode } from 'yaml';
import type { KaStatement } from './keepalived-parser';
import { duration, ImportWriter, unknown, type ImportProblem, type Num } from './keepalived-writer';

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

const UNICAST_SOURCE_CHECKED =
  'not needed: lvsd always drops an advert whose source is not one of the unicast_peers (counted as invalid "source"), as keepalived with check_unicast_src';

const GLOBAL_VRRP_WHY: Record<string, string> = {
  vrrp_check_unicast_src: UNICAST_SOURCE_CHECKED,
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

/** Why a global_defs VRRP keyword is left out (undefined: not one of those). */
export function globalVrrpWhy(keyword: string): string | undefined {
  return GLOBAL_VRRP_WHY[keyword] ?? (/^(vrrp_|garp_|gna_)/.test(keyword) ? 'a keepalived VRRP setting lvsd does not have' : undefined);
}

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
  check_unicast_src: UNICAST_SOURCE_CHECKED,
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

export class VrrpTranslator extends ImportWriter {
  /** the vrrp_instances translated: name -> its vrid (the sync daemon's default id) */
  readonly instances = new Map<string, number>();

  constructor(
    doc: Document,
    problems: ImportProblem[],
    private readonly statements: KaStatement[],
  ) {
    super(doc, problems);
  }

  /** global_defs vrrp_version, vrrp_script, vrrp_instance and vrrp_sync_group -> the vrrp: section. */
  translate(): YAMLMap | undefined {
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
    return `lvsd has one notify program, called as keepalived calls notify (INSTANCE|GROUP name STATE priority); ${keyword}'s program is called without those words, so it is left out: call it from a notify program that looks at its third argument (MASTER, BACKUP, FAULT, or STOP at a clean stop)`;
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
          if (v && v.value >= 0.01 && v.value <= 255) advert = v;
          else if (v) this.skip(s, 'not 0.01..255 seconds: keepalived ignores it (1 s)');
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

    const authPass = auth ? this.authentication(auth, ver, name) : undefined;

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
        if (!peers.length) this.skip(source, 'imported as unicast_source: with multicast lvsd may send from the interface\'s primary address instead');
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
    // named after auth_type, never after auth_pass: a comment naming that line would carry the password
    if (authPass) this.put(m, 'auth_pass_file', authPass.file, authPass.from);
    this.instances.set(name, vrid.value);
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

  /**
   * authentication { auth_type PASS; auth_pass X } -> auth_pass_file: a path to put X in. The
   * import writes no file and never the password (not in the YAML, not in a comment, not on
   * stderr): the line naming auth_pass says what the operator must do.
   */
  private authentication(s: KaStatement, version: number, instance: string): { file: string; from: KaStatement } | undefined {
    let type: KaStatement | undefined;
    let pass: KaStatement | undefined;
    for (const c of s.block ?? []) {
      if (c.keyword === 'auth_type') type = c;
      else if (c.keyword === 'auth_pass') pass = c;
      else this.skip(c, unknown('authentication keyword', c.keyword, ['auth_type', 'auth_pass']));
    }
    const kind = type?.args[0];
    if (kind === undefined) {
      if (pass) this.skip(pass, 'auth_pass without auth_type PASS: keepalived sends adverts without authentication, and so does lvsd; left out');
      return undefined;
    }
    if (version === 3) {
      this.skip(s, 'VRRPv3 has no authentication (RFC 5798): keepalived ignores this block, lvsd has no such setting for v3; left out');
      return undefined;
    }
    if (kind === 'AH') {
      this.skip(type!, 'auth_type AH (IPsec AH, deprecated in keepalived) is not supported by lvsd: lvsd would send adverts without authentication, which a keepalived peer with AH drops; use auth_type PASS (auth_pass_file in lvsd) or no authentication on both sides');
      return undefined;
    }
    if (kind !== 'PASS') {
      this.skip(type!, `auth_type "${kind}" is not PASS or AH: keepalived runs without authentication, and so does lvsd; left out`);
      return undefined;
    }
    const file = `/etc/lvsd/vrrp-${instance.replace(/[^A-Za-z0-9_.-]/g, '_')}.pass`;
    const steps = `before starting lvsd put the password in it, readable by root only (\`install -m 600 /dev/null ${file}\`, then write the password into it; one trailing newline is ignored)`;
    const password = pass?.args[0];
    if (password === undefined || password === '') {
      // keepalived then sends 8 zero bytes; lvsd refuses an empty password file
      this.skip(type!, `auth_type PASS without auth_pass (keepalived sends 8 zero bytes, which lvsd does not): the YAML has auth_pass_file ${file}; give the keepalived peers an auth_pass, and ${steps}`);
    } else {
      // the password's length only, never its text
      const cut = Buffer.byteLength(password, 'utf8') > 8 ? '; keepalived uses only its first 8 bytes, and so does lvsd (the whole password or its first 8 bytes both work)' : '';
      this.skip(pass!, `the password of this line is not copied (lvsd reads it from a file, and the import writes none): the YAML has auth_pass_file ${file}; ${steps}${cut}`);
    }
    return { file, from: type! };
  }

  private syncGroup(g: KaStatement, ctx: VrrpContext): YAMLMap | undefined {
    const members: string[] = [];
    for (const m of ctx.members.get(g) ?? []) {
      if (this.instances.has(m.name)) members.push(m.name);
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
}
