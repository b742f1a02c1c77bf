// What happens to each packet a VRRP socket delivers for one instance: the RFC's checks
// (decodeAdvert), those that need the instance's config (vrid, version, unicast peers, auth), then
// the instance's own (v2 interval, address count and list). Every refusal is counted by reason and
// logged, the first of each reason as a warning; only adverts the instance took count as received.
import type pino from 'pino';
import type { AdvertRejection, VrrpInstance } from './instance';
import { authProblem, decodeAdvert, type AdvertProblem, type Received } from './packet';

export type InvalidReason = AdvertProblem | AdvertRejection | 'source';

export interface IntakeOptions {
  name: string;
  vrid: number;
  version: 2 | 3;
  unicastPeers: string[];
  authKey?: Buffer;
}

export class AdvertIntake {
  /** adverts the instance took (passed every check) */
  received = 0;
  readonly invalid: Partial<Record<InvalidReason, number>> = {};

  constructor(
    private readonly o: IntakeOptions,
    private readonly log: pino.Logger,
  ) {}

  /**
   * `foreignVrid` says whether an advert of another vrid is invalid here (no instance of this
   * director has it, and this is the instance that counts for its link) or just not ours.
   */
  take(instance: VrrpInstance, r: Received, foreignVrid: (vrid: number) => boolean): void {
    const o = this.o;
    const decoded = decodeAdvert(r);
    if ('problem' in decoded) return this.refuse(r.src, decoded.problem, decoded.detail);
    const a = decoded.advert;
    if (a.vrid !== o.vrid) {
      if (foreignVrid(a.vrid)) this.refuse(r.src, 'vrid', `vrid ${a.vrid}: no instance of this director has it`);
      return;
    }
    if (a.version !== o.version) return this.refuse(r.src, 'version', `VRRPv${a.version}, this instance speaks VRRPv${o.version}`);
    // keepalived only with vrrp_check_unicast_src; lvsd always: an advert from elsewhere could steal the VIP
    if (o.unicastPeers.length && !o.unicastPeers.includes(r.src)) return this.refuse(r.src, 'source', `from ${r.src}, not one of unicast_peers`);
    // after the vrid: another instance on the link may have another password, or none
    const auth = authProblem(a, o.authKey);
    if (auth) return this.refuse(r.src, 'auth', auth);
    // the instance reports its own refusals through its rejected hook (-> refuse)
    if (instance.receive(a, r.src)) this.received++;
  }

  refuse(src: string, problem: InvalidReason, detail: string): void {
    const n = (this.invalid[problem] = (this.invalid[problem] ?? 0) + 1);
    // the first of each kind as a warning, the rest at debug: a flood must not flood the log
    const level = n === 1 ? 'warn' : 'debug';
    this.log[level]({ instance: this.o.name, from: src, problem }, `vrrp ${this.o.name}: advert from ${src} ignored (${problem}): ${detail}; counted in status`);
  }
}
