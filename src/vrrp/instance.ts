// One VRRP instance's state machine (RFC 5798 6.4, RFC 3768 6.4 for v2), as keepalived 2.2.7 runs
// it: Initialize/Backup/Master plus FAULT and stopped, preempt / nopreempt / preempt_delay, the
// master-down timer with skew time. Pure: all time through the injected Clock, all output through
// the hooks; adverts arrive already checked by decodeAdvert.
import { isIP } from 'node:net';
import { InputError } from '../errors';
import { bytesToIp, ipToBytes } from '../rtnl/ip';
import { AUTH_NONE, AUTH_SIMPLE_PASSWORD, V2_AUTH_LENGTH, type Advert, type VrrpVersion } from './packet';

export type VrrpState = 'init' | 'backup' | 'master' | 'fault' | 'stopped';

export interface Clock {
  now(): number;
  setTimer(ms: number, fn: () => void): { cancel(): void };
}

export interface InstanceOptions {
  name: string;
  vrid: number;
  version: VrrpVersion;
  family: 4 | 6;
  priority: number; // configured, 1..255
  advertIntervalMs: number;
  preempt: boolean;
  preemptDelayMs: number;
  initialState: 'backup' | 'master';
  addresses: string[]; // what the adverts carry
  primaryAddress: string; // this host's source address: breaks ties (higher wins)
  /** VRRPv2 simple password: the 8 auth data bytes (simplePasswordKey) sent with auth type 1 */
  authKey?: Buffer;
}

/** Why an advert that decodeAdvert passed is not for this instance (a misconfigured peer, mostly). */
export type AdvertRejection = 'vrid' | 'version' | 'family' | 'interval' | 'count' | 'addresses';

export interface InstanceHooks {
  send(advert: Advert): void; // an advert to multicast/unicast now
  transition(from: VrrpState, to: VrrpState, reason: string): void; // after the state changed
  /** An advert that passed decodeAdvert but not this instance's own checks: counted and logged by the router. */
  rejected?(problem: AdvertRejection, detail: string, src: string): void;
}

/** What a sync group needs from its members' side (group.ts implements it). */
export interface SyncGroupLink {
  /** keepalived's vrrp_sync_can_goto_master: true once every other member wants MASTER too. */
  mayBecomeMaster(member: VrrpInstance): boolean;
  /** After any change of a member's state or of its own fault reasons. */
  memberUpdated(member: VrrpInstance, from: VrrpState, to: VrrpState): void;
}

const OWNER = 255;

export class VrrpInstance {
  readonly name: string;
  counters = {
    advertsSent: 0,
    advertsReceived: 0,
    transitions: 0,
    becameMaster: 0,
    priorityZeroSent: 0,
    priorityZeroReceived: 0,
    /** adverts refused by this instance's checks: vrid, version, v2 interval or address list mismatch */
    advertsRejected: 0,
  };

  private readonly options: InstanceOptions;
  private readonly clock: Clock;
  private readonly hooks: InstanceHooks;
  private readonly addresses: string[]; // canonical
  private readonly primary: Buffer;
  private readonly preempt: boolean;
  private readonly preemptDelayMs: number;
  private basePriority: number;
  private adjustment = 0;
  private current: VrrpState = 'init';
  private masterInterval: number;
  private timer: { cancel(): void } | undefined;
  private downAt = 0; // when the master-down timer of a backup fires
  private preemptAt: number | undefined; // keepalived's preempt_time: undefined = not running
  /** why the master-down timer will fire, when it is not plain silence (for the transition's reason) */
  private downReason: string | undefined;
  private heldWantingMaster = false; // keepalived's wantstate MASTER while a sync group holds us back
  private ownFault: string[] = [];
  private groupFault: string[] = [];
  private group: SyncGroupLink | undefined;

  constructor(options: InstanceOptions, clock: Clock, hooks: InstanceHooks) {
    const where = `VRRP instance ${options.name}`;
    const bad = (what: string): never => {
      throw new InputError(`${where}: ${what}`);
    };
    if (!Number.isInteger(options.vrid) || options.vrid < 1 || options.vrid > 255) bad(`vrid ${options.vrid} is not 1..255`);
    if (!Number.isInteger(options.priority) || options.priority < 1 || options.priority > 255) {
      bad(`priority ${options.priority} is not 1..255`);
    }
    if (options.version === 2 && options.family !== 4) bad('VRRPv2 is IPv4 only; use version 3 for IPv6');
    if (!(options.advertIntervalMs > 0)) bad(`advert interval ${options.advertIntervalMs} ms is not positive`);
    if (!(options.preemptDelayMs >= 0)) bad(`preempt delay ${options.preemptDelayMs} ms is negative`);
    if (options.addresses.length === 0) bad('no addresses to advertise');
    if (options.authKey !== undefined && options.version !== 2) bad('VRRPv3 has no authentication');
    if (options.authKey !== undefined && options.authKey.length !== V2_AUTH_LENGTH) bad(`the auth key must be ${V2_AUTH_LENGTH} bytes`);
    const canonical = (text: string): string => {
      if (isIP(text) !== options.family) bad(`${text} is not an IPv${options.family} address`);
      return bytesToIp(ipToBytes(text));
    };
    this.name = options.name;
    this.options = options;
    this.clock = clock;
    this.hooks = hooks;
    this.addresses = options.addresses.map(canonical);
    this.primary = ipToBytes(canonical(options.primaryAddress.replace(/%[^%]*$/, '')));
    this.basePriority = options.priority;
    this.masterInterval = options.advertIntervalMs;
    // keepalived clears nopreempt and preempt_delay for an initial MASTER and for the address owner
    const forcedPreempt = options.initialState === 'master' || options.priority === OWNER;
    this.preempt = options.preempt || forcedPreempt;
    this.preemptDelayMs = options.preempt && !forcedPreempt ? options.preemptDelayMs : 0;
  }

  get state(): VrrpState {
    return this.current;
  }

  /** configured + tracking adjustments, clamped 1..254; the address owner stays 255 */
  get effectivePriority(): number {
    if (this.basePriority === OWNER) return OWNER;
    return Math.min(254, Math.max(1, this.basePriority + this.adjustment));
  }

  /** v3: the interval learned from the master's adverts; v2 (and while master): our own */
  get masterAdvertIntervalMs(): number {
    return this.masterInterval;
  }

  /** Skew_Time: v3 (256 - priority) x Master_Adver_Interval / 256 (in keepalived's µs steps); v2 (256 - priority) / 256 s */
  get skewTimeMs(): number {
    const p = this.effectivePriority;
    const micros =
      this.options.version === 3
        ? Math.floor(((256 - p) * Math.floor(this.masterInterval / 10) * 625) / 16)
        : Math.floor(((256 - p) * 1_000_000) / 256);
    return micros / 1000;
  }

  /** Master_Down_Interval = 3 x Master_Adver_Interval + Skew_Time */
  get masterDownIntervalMs(): number {
    return 3 * this.masterInterval + this.skewTimeMs;
  }

  /** keepalived's wantstate MASTER: master, or a backup whose master-down timer fired while its sync group held it back */
  get wantsMaster(): boolean {
    return this.current === 'master' || this.heldWantingMaster;
  }

  /** This instance's own fault reasons (from tracking), without those its sync group adds. */
  get faultReasons(): readonly string[] {
    return this.ownFault;
  }

  start(): void {
    if (this.current !== 'init' && this.current !== 'stopped') return;
    if (this.faulty()) return this.enter('fault', `start with a fault: ${this.faultText()}`);
    this.masterInterval = this.options.advertIntervalMs;
    // RFC 5798 6.4.1: the address owner becomes master at once; everyone else (an initial
    // MASTER too, as in keepalived 2.2.7's "Entering BACKUP STATE (init)") starts as backup
    if (this.basePriority === OWNER) return this.becomeMaster('start as address owner (priority 255)');
    this.becomeBackup('start');
  }

  stop(): void {
    if (this.current === 'stopped') return;
    const from = this.current;
    this.cancelTimer();
    if (from === 'master') this.sendPriorityZero();
    this.heldWantingMaster = false;
    this.enter('stopped', 'stop');
  }

  /**
   * An advert from `src`. False when this instance's checks refuse it (reported through the
   * rejected hook): such an advert takes no part in the election, in any state, as in keepalived.
   */
  receive(advert: Advert, src: string): boolean {
    const refused = this.check(advert);
    if (refused) {
      this.counters.advertsRejected++;
      this.hooks.rejected?.(refused.problem, refused.detail, src);
      return false;
    }
    if (this.current !== 'backup' && this.current !== 'master') return true; // keepalived ignores them in FAULT and INIT
    this.counters.advertsReceived++;
    if (advert.priority === 0) this.counters.priorityZeroReceived++;
    if (this.current === 'backup') this.receiveAsBackup(advert);
    else this.receiveAsMaster(advert, src);
    return true;
  }

  setPriorityAdjustment(delta: number): void {
    if (!Number.isInteger(delta)) throw new RangeError(`VRRP instance ${this.name}: priority adjustment ${delta} is not an integer`);
    const before = this.effectivePriority;
    const skewBefore = this.skewTimeMs;
    this.adjustment = delta;
    if (this.effectivePriority === before || this.current !== 'backup') return;
    // keepalived moves the pending master-down time by the change of the skew time
    this.armDownTimer(this.downAt + (this.skewTimeMs - skewBefore));
  }

  setFault(reasons: string[]): void {
    this.ownFault = [...reasons];
    this.applyFault();
    this.group?.memberUpdated(this, this.current, this.current);
  }

  /** Held in FAULT by the sync group while another member is in fault ([] releases). */
  setSyncGroupFault(reasons: string[]): void {
    this.groupFault = [...reasons];
    this.applyFault();
  }

  forceState(to: 'master' | 'backup'): void {
    if (this.current === to) return;
    if (to === 'master' && this.current === 'backup') this.becomeMaster('sync group moved to MASTER');
    else if (to === 'backup' && this.current === 'master') this.becomeBackup('sync group moved to BACKUP');
  }

  /** Called by SyncGroup; one group per instance. */
  joinSyncGroup(group: SyncGroupLink): void {
    this.group = group;
  }

  /** keepalived's vrrp_check_packet for what only the instance knows; each refusal is its VRRP_PACKET_KO or _DROP. */
  private check(advert: Advert): { problem: AdvertRejection; detail: string } | undefined {
    const o = this.options;
    if (advert.vrid !== o.vrid) return { problem: 'vrid', detail: `vrid ${advert.vrid}, this instance is vrid ${o.vrid}` };
    if (advert.version !== o.version || advert.family !== o.family) {
      return {
        problem: advert.version !== o.version ? 'version' : 'family',
        detail: `VRRPv${advert.version} IPv${advert.family}, this instance is VRRPv${o.version} IPv${o.family}`,
      };
    }
    // RFC 3768 7.1: the v2 interval must be ours (keepalived: "to prevent concurrent VRID running")
    if (advert.version === 2 && advert.intervalMs !== o.advertIntervalMs) {
      return { problem: 'interval', detail: `advert interval ${advert.intervalMs} ms, ours is ${o.advertIntervalMs} ms` };
    }
    if (advert.addresses.length !== this.addresses.length) {
      return { problem: 'count', detail: `${advert.addresses.length} addresses, ours are ${this.addresses.length} [${this.addresses.join(', ')}]` };
    }
    // RFC 5798 7.1 MAY, keepalived does it: the addresses must be the ones we protect
    const theirs = new Set(advert.addresses);
    if (!this.addresses.every((a) => theirs.has(a))) {
      return { problem: 'addresses', detail: `addresses [${advert.addresses.join(', ')}], ours are [${this.addresses.join(', ')}]` };
    }
    return undefined;
  }

  private receiveAsBackup(advert: Advert): void {
    const now = this.clock.now();
    const priority = this.effectivePriority;
    if (advert.priority === 0) {
      // RFC 5798 6.4.2: the master stops; take over after Skew_Time
      this.armDownTimer(now + this.skewTimeMs);
      this.downReason = `the master resigned (priority 0), after skew time ${Math.round(this.skewTimeMs * 1000) / 1000} ms`;
      return;
    }
    this.downReason = undefined;
    const delaying = this.preemptDelayMs > 0 && (this.preemptAt === undefined || this.preemptAt > now);
    if (!this.preempt || advert.priority >= priority || delaying) {
      if (this.options.version === 3) this.masterInterval = advert.intervalMs;
      this.heldWantingMaster = false;
      if (this.preemptDelayMs > 0) {
        if (advert.priority >= priority) this.preemptAt = undefined;
        else if (this.preemptAt === undefined) this.preemptAt = now + this.preemptDelayMs;
      }
      this.armDownTimer(now + this.masterDownIntervalMs);
      return;
    }
    // a lower-priority master and we may preempt: ignore it and let the master-down timer run out
    this.downReason = `preempting a master of lower priority ${advert.priority} (ours ${priority})`;
  }

  private receiveAsMaster(advert: Advert, src: string): void {
    if (advert.priority === 0) {
      // RFC 5798 6.4.3: answer at once so the backups do not take over after Skew_Time
      this.sendAdvert(this.effectivePriority);
      this.armAdvertTimer();
      return;
    }
    const cmp = compareAddresses(src, this.primary);
    if (advert.priority === this.effectivePriority && cmp !== 0 && this.effectivePriority === OWNER) {
      // two address owners: keepalived reports the misconfiguration and steps down to 254
      this.basePriority = OWNER - 1;
    }
    const mine = this.effectivePriority;
    if (advert.priority < mine || (advert.priority === mine && cmp < 0)) {
      // keepalived (no lower_prio_no_advert): advertise now so the peer backs down quickly
      this.sendAdvert(mine);
      this.armAdvertTimer();
      return;
    }
    if (advert.priority > mine || (advert.priority === mine && cmp > 0)) {
      if (this.options.version === 3) this.masterInterval = advert.intervalMs;
      const why = advert.priority > mine ? `higher priority ${advert.priority} (ours ${mine})` : `equal priority ${mine} and a higher address`;
      this.becomeBackup(`advert from ${src} with ${why}`, false);
    }
    // equal priority from our own address: nothing to decide (keepalived only warns)
  }

  private masterDownTimerFired(): void {
    this.timer = undefined;
    if (this.current !== 'backup') return;
    if (this.group && !this.group.mayBecomeMaster(this)) {
      // keepalived prefers BACKUP until every member of the group wants MASTER (no thrashing)
      this.heldWantingMaster = true;
      this.armDownTimer(this.clock.now() + this.masterDownIntervalMs);
      return;
    }
    this.becomeMaster(this.downReason ?? `no advert for ${Math.round(this.masterDownIntervalMs * 1000) / 1000} ms (master down)`);
  }

  private becomeMaster(reason: string): void {
    const from = this.current;
    this.downReason = undefined;
    this.cancelTimer();
    this.heldWantingMaster = false;
    this.preemptAt = undefined;
    this.masterInterval = this.options.advertIntervalMs;
    this.current = 'master';
    this.counters.becameMaster++;
    // keepalived sends the advert before adding the addresses, so the old master lets go of them first
    this.sendAdvert(this.effectivePriority);
    this.armAdvertTimer();
    this.announce(from, 'master', reason);
  }

  /** To BACKUP with a fresh master-down timer (after a higher advert: with the interval just learned). */
  private becomeBackup(reason: string, resetInterval = true): void {
    const from = this.current;
    this.cancelTimer();
    this.preemptAt = undefined;
    this.downReason = undefined;
    this.heldWantingMaster = false;
    if (resetInterval) this.masterInterval = this.options.advertIntervalMs;
    this.current = 'backup';
    this.armDownTimer(this.clock.now() + this.masterDownIntervalMs);
    this.announce(from, 'backup', reason);
  }

  private applyFault(): void {
    if (this.current === 'init' || this.current === 'stopped') return;
    if (this.faulty() && this.current !== 'fault') {
      this.cancelTimer();
      // keepalived: a master going to FAULT sends priority 0 so the backup takes over at once
      if (this.current === 'master') this.sendPriorityZero();
      this.heldWantingMaster = false;
      this.enter('fault', this.faultText());
    } else if (!this.faulty() && this.current === 'fault') {
      if (this.basePriority === OWNER) this.becomeMaster('fault cleared (address owner)');
      else this.becomeBackup('fault cleared');
    }
  }

  private enter(to: VrrpState, reason: string): void {
    this.cancelTimer();
    const from = this.current;
    this.current = to;
    this.announce(from, to, reason);
  }

  private announce(from: VrrpState, to: VrrpState, reason: string): void {
    this.counters.transitions++;
    this.hooks.transition(from, to, reason);
    this.group?.memberUpdated(this, from, to);
  }

  private faulty(): boolean {
    return this.ownFault.length > 0 || this.groupFault.length > 0;
  }

  private faultText(): string {
    return [...this.ownFault, ...this.groupFault].join('; ');
  }

  private sendPriorityZero(): void {
    this.counters.priorityZeroSent++;
    this.sendAdvert(0);
  }

  private sendAdvert(priority: number): void {
    this.counters.advertsSent++;
    const o = this.options;
    const advert: Advert = {
      version: o.version,
      vrid: o.vrid,
      priority,
      intervalMs: o.advertIntervalMs,
      family: o.family,
      addresses: [...this.addresses],
    };
    if (o.version === 2) advert.authType = o.authKey ? AUTH_SIMPLE_PASSWORD : AUTH_NONE;
    if (o.version === 2 && o.authKey) advert.authData = o.authKey;
    this.hooks.send(advert);
  }

  private armAdvertTimer(): void {
    this.cancelTimer();
    this.timer = this.clock.setTimer(this.options.advertIntervalMs, () => {
      this.timer = undefined;
      if (this.current !== 'master') return;
      this.sendAdvert(this.effectivePriority);
      this.armAdvertTimer();
    });
  }

  private armDownTimer(at: number): void {
    this.cancelTimer();
    this.downAt = at;
    this.timer = this.clock.setTimer(Math.max(0, at - this.clock.now()), () => this.masterDownTimerFired());
  }

  private cancelTimer(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }
}

/** The sender's address against ours, numerically: >0 when theirs is higher (different families: 0). */
function compareAddresses(src: string, primary: Buffer): number {
  const text = src.replace(/%[^%]*$/, '');
  if (!isIP(text)) return 0;
  const theirs = ipToBytes(text);
  if (theirs.length !== primary.length) return 0;
  return Buffer.compare(theirs, primary);
}
