// The frames a new master sends so that neighbours move an address to its MAC at once: a
// gratuitous ARP (IPv4) and an unsolicited neighbour advertisement (IPv6, RFC 4861 4.4 / 7.2.6).
// Pure byte builders, laid out as keepalived 2.2.7 sends them; src/vrrp/io.ts puts them on the wire.
import { isIPv4, isIPv6 } from 'node:net';
import { ipToBytes } from '../rtnl/ip';

const ETH_P_ARP = 0x0806;
const ETH_P_IPV6 = 0x86dd;
const BROADCAST = Buffer.alloc(6, 0xff);
/** ff02::1 (all nodes) and its Ethernet multicast address (RFC 2464 7) */
const ALL_NODES = ipToBytes('ff02::1');
const ALL_NODES_MAC = Buffer.from([0x33, 0x33, 0, 0, 0, 1]);
const ICMPV6 = 58;
const NA_TYPE = 136;
const NA_OVERRIDE = 0x20;
const NA_ROUTER = 0x80;
const OPT_TARGET_LLADDR = 2;

function checkMac(mac: Buffer): void {
  if (mac.length !== 6) throw new RangeError(`a MAC address is 6 bytes, not ${mac.length}`);
}

function ethernet(dst: Buffer, src: Buffer, type: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(14);
  dst.copy(head, 0);
  src.copy(head, 6);
  head.writeUInt16BE(type, 12);
  return Buffer.concat([head, payload]);
}

/**
 * A gratuitous ARP request for `address` from `mac` (42 bytes; the NIC pads): broadcast, sender
 * and target IP both the address, target MAC ff:ff:ff:ff:ff:ff, as keepalived sends it.
 */
export function gratuitousArpFrame(mac: Buffer, address: string): Buffer {
  checkMac(mac);
  if (!isIPv4(address)) throw new RangeError(`a gratuitous ARP is for an IPv4 address, not ${address}`);
  const ip = ipToBytes(address);
  const arp = Buffer.alloc(28);
  arp.writeUInt16BE(1, 0); // hardware: Ethernet
  arp.writeUInt16BE(0x0800, 2); // protocol: IPv4
  arp[4] = 6;
  arp[5] = 4;
  arp.writeUInt16BE(1, 6); // request
  mac.copy(arp, 8);
  ip.copy(arp, 14);
  BROADCAST.copy(arp, 18);
  ip.copy(arp, 24);
  return ethernet(BROADCAST, mac, ETH_P_ARP, arp);
}

/** The Internet checksum (RFC 1071) of the parts, as one byte string. */
function internetChecksum(parts: Buffer[]): number {
  const data = Buffer.concat(parts);
  let sum = 0;
  for (let i = 0; i + 1 < data.length; i += 2) sum += data.readUInt16BE(i);
  if (data.length % 2) sum += data[data.length - 1] << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return ~sum & 0xffff;
}

/**
 * An unsolicited neighbour advertisement for `address` to ff02::1: from the address itself, hop
 * limit 255, override flag set (solicited clear), the target link-layer address option carrying
 * `mac`. `router` sets the R flag (keepalived sets it when the interface forwards IPv6).
 */
export function unsolicitedNaFrame(mac: Buffer, address: string, router = false): Buffer {
  checkMac(mac);
  if (!isIPv6(address)) throw new RangeError(`a neighbour advertisement is for an IPv6 address, not ${address}`);
  const target = ipToBytes(address);
  const icmp = Buffer.alloc(32);
  icmp[0] = NA_TYPE;
  icmp[4] = NA_OVERRIDE | (router ? NA_ROUTER : 0);
  target.copy(icmp, 8);
  icmp[24] = OPT_TARGET_LLADDR;
  icmp[25] = 1; // option length in units of 8 bytes
  mac.copy(icmp, 26);
  const pseudo = Buffer.alloc(8);
  pseudo.writeUInt32BE(icmp.length, 0);
  pseudo[7] = ICMPV6;
  icmp.writeUInt16BE(internetChecksum([target, ALL_NODES, pseudo, icmp]), 2);
  const ip6 = Buffer.alloc(40);
  ip6[0] = 0x60;
  ip6.writeUInt16BE(icmp.length, 4);
  ip6[6] = ICMPV6;
  ip6[7] = 255; // hop limit: receivers drop ND messages with any other (RFC 4861 7.1.2)
  target.copy(ip6, 8);
  ALL_NODES.copy(ip6, 24);
  return ethernet(ALL_NODES_MAC, mac, ETH_P_IPV6, Buffer.concat([ip6, icmp]));
}
