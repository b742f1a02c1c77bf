// Builds observed IPVS tables for pure-logic tests: from test/fixtures/ipvs/table.json (shared
// with the Python oracle that computes ipvsadm's expected text) or by hand.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ForwardMethod, IpvsInfo, ObservedRealServer, ObservedService, Stats, TunnelChecksum, TunnelType } from '../../src/ipvs/types';
import type { ServiceEntry } from '../../src/ipvs/format/table';

export const FIXTURES = join(__dirname, '..', '..', '..', 'test', 'fixtures', 'ipvs');

export function zeroStats(): Stats {
  return { conns: 0n, inPackets: 0n, outPackets: 0n, inBytes: 0n, outBytes: 0n, cps: 0n, inPps: 0n, outPps: 0n, inBps: 0n, outBps: 0n };
}

type RawStats = Record<'conns' | 'inpkts' | 'outpkts' | 'inbytes' | 'outbytes' | 'cps' | 'inpps' | 'outpps' | 'inbps' | 'outbps', number | string>;

function stats(s: RawStats): Stats {
  const b = (v: number | string) => BigInt(v);
  return {
    conns: b(s.conns), inPackets: b(s.inpkts), outPackets: b(s.outpkts), inBytes: b(s.inbytes), outBytes: b(s.outbytes),
    cps: b(s.cps), inPps: b(s.inpps), outPps: b(s.outpps), inBps: b(s.inbps), outBps: b(s.outbps),
  };
}

const FORWARD: Record<string, ForwardMethod> = { Route: 'route', Masq: 'masq', Tunnel: 'tunnel', Local: 'local' };
const CHECKSUM: TunnelChecksum[] = ['nocsum', 'csum', 'remcsum'];

export function loadFixtureTable(): { info: IpvsInfo; entries: ServiceEntry[] } {
  // JSON.parse loses precision above 2^53: read big counters from the text as strings
  const text = readFileSync(join(FIXTURES, 'table.json'), 'utf8').replace(/:\s*(\d{16,})/g, ': "$1"');
  const raw = JSON.parse(text);
  const entries: ServiceEntry[] = raw.services.map((s: any) => {
    const service: ObservedService = {
      key: s.fwmark !== undefined ? { family: s.af, fwmark: s.fwmark } : { family: s.af, protocol: s.proto, address: s.addr, port: s.port },
      scheduler: s.sched,
      flags: s.flags,
      timeout: s.timeout,
      netmask: s.netmask,
      stats: stats(s.stats),
    };
    if (s.pe) service.persistenceEngine = s.pe;
    const realServers: ObservedRealServer[] = s.dests.map((d: any) => {
      const rs: ObservedRealServer = {
        key: { family: d.af, address: d.addr, port: d.port },
        forward: FORWARD[d.fwd],
        weight: d.w,
        upperThreshold: d.u,
        lowerThreshold: d.l,
        activeConns: d.ac,
        inactiveConns: d.ic,
        persistentConns: d.pc,
        stats: stats(d.stats),
      };
      if (d.tt) {
        rs.tunnelType = d.tt[0] as TunnelType;
        if (d.tt[0] === 'gue') rs.tunnelPort = d.tt[1];
        if (d.tt[0] !== 'ipip') rs.tunnelChecksum = CHECKSUM[d.tt[2]];
      }
      return rs;
    });
    return { service, realServers };
  });
  return { info: { version: raw.info.version, connectionTableSize: raw.info.size }, entries };
}

export function loadExpectedListings(): Record<string, string> {
  return JSON.parse(readFileSync(join(FIXTURES, 'expected-listings.json'), 'utf8'));
}
