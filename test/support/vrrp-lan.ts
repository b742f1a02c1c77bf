// A fake LAN for VRRP state machines on a virtual clock: each router's adverts go through the real
// codec (encodeAdvert, then decodeAdvert with TTL 255) and reach the other routers after a latency,
// unless the link between them is cut. Records what each router sent and every transition.
import { decodeAdvert, encodeAdvert, type Advert } from '../../src/vrrp/packet';
import { VrrpInstance, type InstanceOptions, type VrrpState } from '../../src/vrrp/instance';
import type { VirtualClock } from './vrrp-clock';

export interface Sent {
  at: number;
  advert: Advert;
}

export interface Transition {
  at: number;
  from: VrrpState;
  to: VrrpState;
  reason: string;
}

export interface Router {
  instance: VrrpInstance;
  address: string;
  vrid: number;
  sent: Sent[];
  transitions: Transition[];
  rejected: string[];
}

export const BASE_OPTIONS: Omit<InstanceOptions, 'name' | 'priority' | 'primaryAddress'> = {
  vrid: 51,
  version: 3,
  family: 4,
  advertIntervalMs: 1000,
  preempt: true,
  preemptDelayMs: 0,
  initialState: 'backup',
  addresses: ['198.18.0.10'],
};

export class FakeLan {
  readonly routers: Router[] = [];
  private readonly cut = new Set<string>();

  constructor(
    private readonly clock: VirtualClock,
    private readonly latencyMs = 1,
  ) {}

  /** A router (one VRRP instance) on the LAN; `primaryAddress` is its source address. Adverts reach the routers of the same vrid. */
  add(options: Partial<InstanceOptions> & { name: string; priority: number; primaryAddress: string }): Router {
    const router: Router = {
      instance: undefined as unknown as VrrpInstance,
      address: options.primaryAddress,
      vrid: options.vrid ?? BASE_OPTIONS.vrid,
      sent: [],
      transitions: [],
      rejected: [],
    };
    router.instance = new VrrpInstance({ ...BASE_OPTIONS, ...options }, this.clock, {
      send: (advert) => {
        router.sent.push({ at: this.clock.now(), advert });
        this.deliver(router, advert);
      },
      transition: (from, to, reason) => router.transitions.push({ at: this.clock.now(), from, to, reason }),
      rejected: (problem, detail) => router.rejected.push(`${problem}: ${detail}`),
    });
    this.routers.push(router);
    return router;
  }

  /** Cuts (or restores) the link between two routers, both ways. */
  setLink(a: Router, b: Router, up: boolean): void {
    for (const key of [`${a.address}>${b.address}`, `${b.address}>${a.address}`]) {
      if (up) this.cut.delete(key);
      else this.cut.add(key);
    }
  }

  masters(vrid?: number): Router[] {
    return this.routers.filter((r) => r.instance.state === 'master' && (vrid === undefined || r.vrid === vrid));
  }

  private deliver(from: Router, advert: Advert): void {
    const family = advert.family;
    const dst = family === 4 ? '224.0.0.18' : 'ff02::12';
    const data = encodeAdvert(advert, from.address, dst);
    for (const to of this.routers) {
      if (to === from || to.vrid !== advert.vrid || this.cut.has(`${from.address}>${to.address}`)) continue;
      this.clock.setTimer(this.latencyMs, () => {
        if (this.cut.has(`${from.address}>${to.address}`)) return;
        const r = decodeAdvert({ data, src: from.address, dst, ttl: 255, family, ifindex: 2 });
        if ('problem' in r) throw new Error(`the LAN carried a bad advert: ${r.detail}`);
        to.instance.receive(r.advert, from.address);
      });
    }
  }
}
