// A GET_SERVICE dump for the default listing: services without counters, and their keys as
// numbers. The C readers (native-text.ts decodeServices, writeCounters) read the same bytes, and
// the destination dumps, by the attribute numbers below, taken from spec.ts.
import { genlAttrsStart } from '../netlink/genl';
import { decodeFrom, decodeView } from '../netlink/schema';
import { parseMessages } from '../netlink/wire';
import { virtualServiceFromAttrs } from './codec';
import { cmdAttrs, destAttrs, serviceAttrs, stats64Attrs } from './spec';
import { ServiceKeyColumns } from './summary';
import type { VirtualService } from './types';

const cmdAttrsNoStats = decodeView(cmdAttrs, { nested: { service: decodeView(serviceAttrs, { skip: ['stats', 'stats64'] }) } });

/** The services of a GET_SERVICE dump's bytes, and their keys as numbers. */
export function decodeServiceDump(dump: Buffer): { services: VirtualService[]; keys: ServiceKeyColumns } {
  const messages = parseMessages(dump);
  const keys = new ServiceKeyColumns(messages.length);
  const services = messages.map((m, i) => {
    const attrs = decodeFrom(cmdAttrsNoStats, m.payload, genlAttrsStart(m)).service ?? {};
    const service = virtualServiceFromAttrs(attrs);
    keys.set(i, service.key, attrs.addr);
    return service;
  });
  return { services, keys };
}

function attrType(set: { attrs: readonly { name: string; type: number }[] }, name: string): number {
  const a = set.attrs.find((x) => x.name === name);
  if (!a) throw new Error(`${name}: not an attribute of the set`);
  return a.type;
}

const COUNTERS = ['conns', 'inPkts', 'outPkts', 'inBytes', 'outBytes', 'cps', 'inPps', 'outPps', 'inBps', 'outBps'].map((name) => attrType(stats64Attrs, name));

/** The attribute numbers decodeServices reads: the command's service nest, the service's own, then the counters'. */
export const SERVICE_DUMP_TYPES = Uint32Array.from([
  attrType(cmdAttrs, 'service'),
  ...['af', 'protocol', 'addr', 'port', 'fwmark', 'schedName', 'flags', 'timeout', 'netmask', 'peName', 'stats64'].map((name) => attrType(serviceAttrs, name)),
  ...COUNTERS,
]);

/** The attribute numbers writeCounters reads: the command's destination nest, the destination's own, then the counters'. */
export const DEST_DUMP_TYPES = Uint32Array.from([
  attrType(cmdAttrs, 'dest'),
  ...['addr', 'port', 'fwdMethod', 'weight', 'uThresh', 'lThresh', 'activeConns', 'inactConns', 'persistConns', 'addrFamily', 'stats64', 'tunType'].map((name) =>
    attrType(destAttrs, name),
  ),
  ...COUNTERS,
]);
