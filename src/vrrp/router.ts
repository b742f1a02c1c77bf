// The VRRP instances of one host on the wire: each instance's state machine, its raw socket, the
// virtual addresses it adds as MASTER and removes otherwise, gratuitous ARP / unsolicited NA, link
// tracking, and sync groups. What tracks the instances from outside (scripts, services) reaches
// them as priority adjustments and fault reasons; the director wires those.
import { constants } from 'node:os';
import { NetlinkError } from '../errors';
import type pino from 'pino';
import { RtnlSocket, addAddress, deleteAddress, listAddresses, listLinks, IFA_F, type Link } from '../rtnl';
import { sendGratuitousArp, sendUnsolicitedNa, VrrpSocket } from './io';
import { VrrpInstance, type Clock, type VrrpState } from './instance';
import { SyncGroup } from './group';
import { AdvertIntake, type InvalidReason } from './intake';
import { encodeAdvert, type Advert, type Received } from './packet';

const { EEXIST, EADDRNOTAVAIL } = constants.errno;
const IFF_UP = 0x1;
const IFF_RUNNING = 0x40;

export interface VirtualAddress {
  address: string;
  family: 4 | 6;
  prefix: number;
  label?: string;
}

export interface RouterInstanceOptions {
  name: string;
  interface: string;
  vrid: number;
  priority: number;
  advertIntervalMs: number;
  version: 2 | 3;
  family: 4 | 6;
  initialState: 'backup' | 'master';
  preempt: boolean;
  preemptDelayMs: number;
  addresses: VirtualAddress[];
  unicastSource?: string;
  unicastPeers: string[];
  /** interfaces whose link down lowers the priority by weight, or (weight 0) means FAULT */
  trackInterfaces: { name: string; weight: number }[];
  /** VRRPv2 simple password: the 8 auth data bytes sent and required (simplePasswordKey); never shown */
  authKey?: Buffer;
}

export interface RouterOptions {
  instances: RouterInstanceOptions[];
  syncGroups: { name: string; instances: string[] }[];
  log: pino.Logger;
  /** every state change, from the first (init -> backup, during start) on */
  onTransition?(event: TransitionEvent): void;
  /** how often tracked links are read (default 1000 ms) */
  linkPollMs?: number;
  /**
   * gratuitous ARPs / NAs sent on becoming MASTER, and again after garpDelayMs (keepalived: 5 and
   * 5 s); in between, one each second
   */
  garpRepeat?: number;
  garpDelayMs?: number;
}

export interface InstanceStatus {
  name: string;
  interface: string;
  vrid: number;
  version: 2 | 3;
  family: 4 | 6;
  /** VRRPv2 authentication in use: 'none' or 'simple-password' (the password itself is never shown) */
  authentication: 'none' | 'simple-password';
  state: VrrpState;
  priority: number;
  effectivePriority: number;
  addresses: string[];
  since: string;
  faults: string[];
  adjustments: Record<string, number>;
  counters: VrrpInstance['counters'] & { received: number; invalid: Partial<Record<InvalidReason, number>>; sendErrors: number };
}

export interface TransitionEvent {
  instance: string;
  from: VrrpState;
  to: VrrpState;
  reason: string;
  priority: number;
}

interface Slot {
  options: RouterInstanceOptions;
  instance: VrrpInstance;
  socket?: VrrpSocket;
  ifindex: number;
  /** the source of our adverts (IPv4 primary or unicast_source; IPv6 link-local) */
  source: string;
  since: number;
  faults: Map<string, string>;
  adjustments: Map<string, number>;
  intake: AdvertIntake;
  sendErrors: number;
  garpTimer?: NodeJS.Timeout;
}

export const realClock: Clock = {
  now: () => performance.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(t) };
  },
};

const MULTICAST = { 4: '224.0.0.18', 6: 'ff02::12' } as const;

/**
 * Removes the virtual addresses an earlier run left on their interfaces (a crash or SIGKILL leaves
 * them, while the peer has taken over: two hosts answering for one VIP). Run first at start, long
 * before the instances begin; an address owner (priority 255) keeps its own addresses.
 * Returns what was removed, as "address/prefix on interface".
 */
export async function releaseAddresses(instances: Pick<RouterInstanceOptions, 'interface' | 'priority' | 'addresses'>[]): Promise<string[]> {
  const rtnl = new RtnlSocket();
  try {
    const links = await listLinks(rtnl);
    const held = await listAddresses(rtnl);
    const removed: string[] = [];
    for (const o of instances) {
      const link = links.find((l) => l.name === o.interface);
      if (!link || o.priority === 255) continue;
      for (const a of o.addresses) {
        if (!held.some((h) => h.index === link.index && h.family === a.family && h.address === a.address)) continue;
        try {
          await deleteAddress(rtnl, { index: link.index, family: a.family, address: a.address, prefixlen: a.prefix });
          removed.push(`${a.address}/${a.prefix} on ${o.interface}`);
        } catch (err) {
          if (!(err instanceof NetlinkError && err.errno === EADDRNOTAVAIL)) throw err;
        }
      }
    }
    return removed;
  } finally {
    rtnl.close();
  }
}

export class VrrpRouter {
  private readonly slots = new Map<string, Slot>();
  private readonly groups: SyncGroup[] = [];
  private linkTimer?: NodeJS.Timeout;
  private stopped = false;
  /** address changes run one at a time, in the order the transitions happened */
  private addressQueue: Promise<void> = Promise.resolve();

  private constructor(
    private readonly opts: RouterOptions,
    private readonly rtnl: RtnlSocket,
  ) {}

  /** Resolves interfaces and source addresses, opens the sockets and starts every instance. */
  static async start(opts: RouterOptions, clock: Clock = realClock): Promise<VrrpRouter> {
    const rtnl = new RtnlSocket();
    const router = new VrrpRouter(opts, rtnl);
    try {
      await router.open(clock);
    } catch (err) {
      router.closeSockets();
      rtnl.close();
      throw err;
    }
    return router;
  }

  private async open(clock: Clock): Promise<void> {
    const links = await listLinks(this.rtnl);
    const addresses = await listAddresses(this.rtnl);
    const vips = new Set(this.opts.instances.flatMap((i) => i.addresses.map((a) => a.address)));
    for (const o of this.opts.instances) {
      const link = links.find((l) => l.name === o.interface);
      if (!link) throw new Error(`vrrp instance ${o.name}: no interface ${o.interface}`);
      for (const t of o.trackInterfaces) {
        if (!links.some((l) => l.name === t.name)) throw new Error(`vrrp instance ${o.name}: track_interfaces: no interface ${t.name}`);
      }
      const own = addresses.filter((a) => a.index === link.index && a.family === o.family && !vips.has(a.address));
      const source =
        o.family === 4
          ? (o.unicastSource ?? own.find((a) => a.scope === 0)?.address)
          : own.find((a) => a.address.toLowerCase().startsWith('fe80:'))?.address;
      if (!source) {
        throw new Error(
          `vrrp instance ${o.name}: ${o.interface} has no ${o.family === 4 ? 'IPv4 address of its own' : 'IPv6 link-local address'} to send adverts from`,
        );
      }
      const slot: Slot = {
        options: o,
        ifindex: link.index,
        source,
        since: Date.now(),
        faults: new Map(),
        adjustments: new Map(),
        intake: new AdvertIntake(o, this.opts.log),
        sendErrors: 0,
      } as Slot;
      slot.instance = new VrrpInstance(
        {
          name: o.name,
          vrid: o.vrid,
          version: o.version,
          family: o.family,
          priority: o.priority,
          advertIntervalMs: o.advertIntervalMs,
          preempt: o.preempt,
          preemptDelayMs: o.preemptDelayMs,
          initialState: o.initialState,
          addresses: o.addresses.map((a) => a.address),
          primaryAddress: source,
          ...(o.authKey ? { authKey: o.authKey } : {}),
        },
        clock,
        {
          send: (advert) => this.send(slot, advert),
          transition: (from, to, reason) => this.onTransition(slot, from, to, reason),
          rejected: (problem, detail, src) => slot.intake.refuse(src, problem, detail),
        },
      );
      this.slots.set(o.name, slot);
    }
    for (const g of this.opts.syncGroups) {
      this.groups.push(new SyncGroup(g.name, g.instances.map((n) => this.slot(n).instance)));
    }
    for (const slot of this.slots.values()) {
      const o = slot.options;
      slot.socket = VrrpSocket.open({ family: o.family, ifindex: slot.ifindex, source: slot.source, ...(o.unicastPeers.length ? { unicastPeers: o.unicastPeers } : {}) });
      slot.socket.on('advert', (r: Received) => this.onReceived(slot, r));
      slot.socket.on('error', (err: Error) => this.opts.log.error({ instance: o.name }, `vrrp socket: ${err.message}`));
    }
    this.readLinks(links);
    for (const slot of this.slots.values()) slot.instance.start();
    this.pollLinks();
  }

  private slot(name: string): Slot {
    const s = this.slots.get(name);
    if (!s) throw new Error(`no vrrp instance ${name}`);
    return s;
  }

  /** A tracker's contribution to an instance's priority (replaces that tracker's last). */
  setAdjustment(instance: string, tracker: string, delta: number): void {
    const slot = this.slot(instance);
    if (delta === 0) slot.adjustments.delete(tracker);
    else slot.adjustments.set(tracker, delta);
    let sum = 0;
    for (const d of slot.adjustments.values()) sum += d;
    slot.instance.setPriorityAdjustment(sum);
  }

  /** A tracker's fault (a reason) or its end (undefined). */
  setFault(instance: string, tracker: string, reason: string | undefined): void {
    const slot = this.slot(instance);
    const had = slot.faults.get(tracker);
    if (reason === undefined) slot.faults.delete(tracker);
    else slot.faults.set(tracker, reason);
    if (had === reason) return;
    slot.instance.setFault([...slot.faults.values()]);
  }

  instanceNames(): string[] {
    return [...this.slots.keys()];
  }

  state(instance: string): VrrpState {
    return this.slot(instance).instance.state;
  }

  status(): InstanceStatus[] {
    return [...this.slots.values()].map((s) => ({
      name: s.options.name,
      interface: s.options.interface,
      vrid: s.options.vrid,
      version: s.options.version,
      family: s.options.family,
      authentication: s.options.authKey ? 'simple-password' : 'none',
      state: s.instance.state,
      priority: s.options.priority,
      effectivePriority: s.instance.effectivePriority,
      addresses: s.options.addresses.map((a) => `${a.address}/${a.prefix}`),
      since: new Date(s.since).toISOString(),
      faults: [...s.faults.values()],
      adjustments: Object.fromEntries(s.adjustments),
      counters: { ...s.instance.counters, received: s.intake.received, invalid: { ...s.intake.invalid }, sendErrors: s.sendErrors },
    }));
  }

  /** Priority 0 from every master (the backup takes over at once), addresses removed, sockets closed. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    if (this.linkTimer) clearTimeout(this.linkTimer);
    for (const slot of this.slots.values()) slot.instance.stop();
    await this.addressQueue;
    this.closeSockets();
    this.rtnl.close();
  }

  private closeSockets(): void {
    for (const slot of this.slots.values()) {
      if (slot.garpTimer) clearTimeout(slot.garpTimer);
      slot.socket?.close();
      slot.socket = undefined;
    }
  }

  private send(slot: Slot, advert: Advert): void {
    const o = slot.options;
    const targets = o.unicastPeers.length ? o.unicastPeers : [MULTICAST[o.family]];
    for (const dst of targets) {
      try {
        slot.socket?.send(encodeAdvert(advert, slot.source, dst), dst);
      } catch (err) {
        slot.sendErrors++;
        this.opts.log.warn({ instance: o.name, dst }, `vrrp: cannot send an advert to ${dst}: ${(err as Error).message}`);
      }
    }
  }

  private onReceived(slot: Slot, r: Received): void {
    // each socket hears every router id on its link: another instance of ours is not an error, and
    // one of nobody's is counted once, by the first instance on the link
    slot.intake.take(slot.instance, r, (vrid) => {
      const ours = [...this.slots.values()].some((s) => s.ifindex === slot.ifindex && s.options.family === slot.options.family && s.options.vrid === vrid);
      return !ours && slot === this.firstOn(slot);
    });
  }

  /** The first instance on the same link and family: the one that counts adverts for nobody. */
  private firstOn(slot: Slot): Slot {
    return [...this.slots.values()].find((s) => s.ifindex === slot.ifindex && s.options.family === slot.options.family) ?? slot;
  }

  private onTransition(slot: Slot, from: VrrpState, to: VrrpState, reason: string): void {
    slot.since = Date.now();
    const o = slot.options;
    this.opts.log.info({ instance: o.name, from, to, priority: slot.instance.effectivePriority }, `vrrp ${o.name}: ${from} -> ${to} (${reason})`);
    if (to === 'master') this.queueAddresses(slot, true);
    else if (from === 'master' || to === 'backup' || to === 'fault') this.queueAddresses(slot, false);
    this.opts.onTransition?.({ instance: o.name, from, to, reason, priority: slot.instance.effectivePriority });
  }

  private queueAddresses(slot: Slot, add: boolean): void {
    this.addressQueue = this.addressQueue.then(() => this.changeAddresses(slot, add)).catch((err) => {
      this.opts.log.error({ instance: slot.options.name }, `vrrp: ${(err as Error).message}`);
    });
  }

  private async changeAddresses(slot: Slot, add: boolean): Promise<void> {
    const o = slot.options;
    // the state may have moved on while earlier changes ran: act on where it is now
    if (add !== (slot.instance.state === 'master')) return;
    for (const a of o.addresses) {
      const request = {
        index: slot.ifindex,
        family: a.family,
        address: a.address,
        prefixlen: a.prefix,
        ...(a.label ? { label: a.label } : {}),
        // IPv6 /128: deprecated (keepalived's default), so the director's own checks never leave from the VIP
        ...(a.family === 6 ? { flags: IFA_F.NODAD, ...(a.prefix === 128 ? { preferredLifetime: 0 } : {}) } : {}),
      };
      try {
        if (add) await addAddress(this.rtnl, request);
        else await deleteAddress(this.rtnl, request);
      } catch (err) {
        const errno = err instanceof NetlinkError ? err.errno : undefined;
        if (errno === (add ? EEXIST : EADDRNOTAVAIL)) continue;
        throw err;
      }
    }
    if (add) this.announce(slot, this.opts.garpRepeat ?? 5, this.followUps());
  }

  /** Gratuitous ARP / unsolicited NA for every address, `repeat` times, and once more later. */
  /**
   * What follows the first burst: one announcement each second, then keepalived's second burst. A
   * client that still sends to the dead master keeps changing its neighbour entry's state, and
   * Linux ignores a gratuitous ARP within a second of such a change (neigh locktime): a burst
   * that lands in that second is lost, a later single one is not.
   */
  private followUps(): { afterMs: number; count: number }[] {
    const burstMs = this.opts.garpDelayMs ?? 5000;
    const singles = [1000, 2000, 3000, 4000].filter((ms) => ms < burstMs);
    return [...singles.map((ms, i) => ({ afterMs: ms - (singles[i - 1] ?? 0), count: 1 })), { afterMs: burstMs - (singles.at(-1) ?? 0), count: this.opts.garpRepeat ?? 5 }];
  }

  private announce(slot: Slot, repeat: number, next: { afterMs: number; count: number }[]): void {
    if (slot.instance.state !== 'master' || !slot.socket) return;
    for (let i = 0; i < repeat; i++) {
      for (const a of slot.options.addresses) {
        try {
          if (a.family === 4) sendGratuitousArp(slot.ifindex, a.address);
          else sendUnsolicitedNa(slot.ifindex, a.address);
        } catch (err) {
          slot.sendErrors++;
          this.opts.log.warn({ instance: slot.options.name }, `vrrp: cannot announce ${a.address}: ${(err as Error).message}`);
        }
      }
    }
    if (slot.garpTimer) clearTimeout(slot.garpTimer);
    slot.garpTimer = undefined;
    const [step, ...rest] = next;
    if (step) {
      slot.garpTimer = setTimeout(() => this.announce(slot, step.count, rest), step.afterMs);
      slot.garpTimer.unref();
    }
  }

  private pollLinks(): void {
    this.linkTimer = setTimeout(async () => {
      try {
        this.readLinks(await listLinks(this.rtnl));
      } catch (err) {
        this.opts.log.warn(`vrrp: cannot read the interfaces: ${(err as Error).message}`);
      }
      if (!this.stopped) this.pollLinks();
    }, this.opts.linkPollMs ?? 1000);
    this.linkTimer.unref();
  }

  private readLinks(links: Link[]): void {
    for (const slot of this.slots.values()) {
      // its own interface is always tracked: adverts cannot go out on a link that is down
      for (const t of [{ name: slot.options.interface, weight: 0 }, ...slot.options.trackInterfaces]) {
        const link = links.find((l) => l.name === t.name);
        const up = link !== undefined && (link.flags & IFF_UP) !== 0 && (link.flags & IFF_RUNNING) !== 0;
        const tracker = `interface ${t.name}`;
        if (t.weight === 0) this.setFault(slot.options.name, tracker, up ? undefined : `${t.name} is down`);
        else this.setAdjustment(slot.options.name, tracker, up ? 0 : t.weight);
      }
    }
  }
}
