// VRRP's packet I/O through the native module dist/native/vrrp_io.node (native/vrrp_io.c): raw
// IPPROTO_VRRP sockets on one interface, and gratuitous ARP / unsolicited NA frames out of it.
// Node has no raw sockets, so without the module VRRP cannot run: open() says so, and nothing
// else in lvsd needs it.
import { EventEmitter } from 'node:events';
import { isIPv4, isIPv6 } from 'node:net';
import { constants } from 'node:os';
import { PermissionError, VrrpIoError, VrrpUnavailableError } from '../errors';
import { loadNative } from '../native';
import { gratuitousArpFrame, unsolicitedNaFrame } from './announce';
import type { Received } from './packet';

export const VRRP_GROUP4 = '224.0.0.18';
export const VRRP_GROUP6 = 'ff02::12';

export type { Received } from './packet';

export interface VrrpSocketOptions {
  family: 4 | 6;
  ifindex: number;
  /** the address adverts go out from: IPv4 default the interface's primary address, IPv6 its link-local address */
  source?: string;
  /** unicast mode: no multicast is joined or delivered; unicast adverts from any source are (the router drops those from others than the peers) */
  unicastPeers?: string[];
}

type OnPacket = (errno: number, data?: Buffer, src?: string, dst?: string, ttl?: number) => void;
interface Handle {
  readonly __vrrpHandle: unique symbol;
}
interface VrrpIo {
  open(family: 4 | 6, ifindex: number, source: string, joinGroup: boolean, onPacket: OnPacket): Handle;
  send(handle: Handle, data: Buffer, dst: string): void;
  close(handle: Handle): void;
  interfaceAddresses(ifindex: number): { family: 4 | 6; address: string }[];
  interfaceMac(ifindex: number): Buffer;
  sendFrame(ifindex: number, frame: Buffer): void;
}

function native(): VrrpIo {
  const io = loadNative<VrrpIo>('vrrp_io', { optional: false });
  if (!io) throw new VrrpUnavailableError();
  return io;
}

const WORDS: Record<string, string> = {
  EPERM: 'needs CAP_NET_RAW',
  EACCES: 'needs CAP_NET_RAW',
  ENODEV: 'no such interface',
  ENXIO: 'no such interface',
  ENETDOWN: 'the interface is down',
  ENETUNREACH: 'network unreachable from this interface',
  EHOSTUNREACH: 'host unreachable',
  EADDRNOTAVAIL: 'the address is not on this interface (or an IPv6 address still in duplicate address detection)',
  EAFNOSUPPORT: 'address family not supported (IPv6 disabled in this kernel?)',
  ENOBUFS: 'no buffer space (the interface queue is full)',
  EAGAIN: 'the socket buffer is full',
  EMSGSIZE: 'message too long for the interface',
};

/** "ENODEV (no such interface)" for an errno number and the call that failed. */
export function errnoInWords(errno: number, syscall = ''): string {
  const name = Object.entries(constants.errno).find(([, n]) => n === errno)?.[0] ?? `errno ${errno}`;
  // the native module's own refusal of an interface without a MAC of 6 bytes
  const words = name === 'EAFNOSUPPORT' && syscall.startsWith('ioctl(SIOCGIFHWADDR)') ? 'not an Ethernet interface' : WORDS[name];
  return words ? `${name} (${words})` : name;
}

/** The native module's Error { errno, syscall } as an lvsd error saying what was being done. */
function ioError(err: unknown, doing: string): Error {
  const e = err as { errno?: unknown; syscall?: unknown };
  if (typeof e?.errno !== 'number') return err as Error;
  const message = `${doing}: ${String(e.syscall)}: ${errnoInWords(e.errno, String(e.syscall))}`;
  if (e.errno === constants.errno.EPERM || e.errno === constants.errno.EACCES) return new PermissionError(message, { errno: e.errno, cause: err });
  return new VrrpIoError(message, e.errno, String(e.syscall), { cause: err });
}

function isMulticast(address: string): boolean {
  return isIPv4(address) ? Number(address.split('.')[0]) >= 224 && Number(address.split('.')[0]) <= 239 : /^ff/i.test(address);
}

function checkFamily(family: 4 | 6, address: string, what: string): void {
  if (family === 4 ? !isIPv4(address) : !isIPv6(address)) throw new RangeError(`${what} ${address} is not an IPv${family} address`);
}

/**
 * One VRRP endpoint on one interface: receives every VRRP datagram arriving there (the group
 * 224.0.0.18 / ff02::12 joined unless unicast) and sends with TTL / hop limit 255, multicast loop
 * off. Emits 'advert' (Received) for each datagram, unchecked (packet.ts decodes and checks), and
 * 'error' (VrrpIoError) when receiving fails; a listener for 'error' is required, as for any emitter.
 */
export class VrrpSocket extends EventEmitter {
  private closed = false;

  private constructor(
    private readonly io: VrrpIo,
    private readonly handle: Handle,
    readonly family: 4 | 6,
    readonly ifindex: number,
    /** the source address adverts carry (the v3 checksum's pseudo-header needs it) */
    readonly source: string,
  ) {
    super();
  }

  static open(options: VrrpSocketOptions): VrrpSocket {
    const { family, ifindex } = options;
    if (family !== 4 && family !== 6) throw new RangeError(`VRRP socket family must be 4 or 6, not ${String(family)}`);
    if (!Number.isInteger(ifindex) || ifindex <= 0) throw new RangeError(`VRRP socket ifindex must be a positive integer, not ${ifindex}`);
    if (options.source !== undefined) checkFamily(family, options.source, 'VRRP source address');
    for (const peer of options.unicastPeers ?? []) checkFamily(family, peer, 'VRRP unicast peer');
    const io = native();
    const doing = `opening the IPv${family} VRRP socket on interface index ${ifindex}`;
    const source = options.source ?? defaultSource(io, family, ifindex, doing);
    const unicast = (options.unicastPeers?.length ?? 0) > 0;
    let socket: VrrpSocket | undefined;
    const onPacket: OnPacket = (errno, data, src, dst, ttl) => {
      if (!socket || socket.closed) return;
      if (errno !== 0) {
        socket.emit('error', ioError({ errno, syscall: 'recvmsg' }, `receiving VRRP on interface index ${ifindex}`));
        return;
      }
      // a raw socket also sees groups joined by other sockets on the interface (IPv6 always)
      if (unicast && isMulticast(dst!)) return;
      const received: Received = { data: data!, src: src!, dst: dst!, ttl: ttl!, family, ifindex };
      socket.emit('advert', received);
    };
    let handle: Handle;
    try {
      handle = io.open(family, ifindex, source, !unicast, onPacket);
    } catch (err) {
      throw ioError(err, `${doing} from ${source}`);
    }
    socket = new VrrpSocket(io, handle, family, ifindex, source);
    return socket;
  }

  /** One VRRP message (no IP header) to dst: the group or a unicast peer. Throws VrrpIoError (e.g. ENETDOWN). */
  send(data: Buffer, dst: string): void {
    checkFamily(this.family, dst, 'VRRP destination');
    if (this.closed) throw new VrrpIoError(`sending VRRP on interface index ${this.ifindex}: the socket is closed`, constants.errno.EBADF, 'sendto');
    try {
      this.io.send(this.handle, data, dst);
    } catch (err) {
      throw ioError(err, `sending VRRP to ${dst} on interface index ${this.ifindex}`);
    }
  }

  /** Stops receiving and closes the socket; no event is emitted after it. Again is a no-op. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.io.close(this.handle);
  }
}

/** IPv4: the interface's primary address (listed first); IPv6: its link-local address (RFC 5798 5.1.2.1). */
function defaultSource(io: VrrpIo, family: 4 | 6, ifindex: number, doing: string): string {
  let addresses: { family: 4 | 6; address: string }[];
  try {
    addresses = io.interfaceAddresses(ifindex);
  } catch (err) {
    throw ioError(err, doing);
  }
  const found = addresses.find((a) => a.family === family && (family === 4 || /^fe[89ab]/i.test(a.address)));
  if (!found) {
    const what = family === 4 ? 'no IPv4 address' : 'no IPv6 link-local address';
    throw new VrrpIoError(`${doing}: the interface has ${what} to send from`, constants.errno.EADDRNOTAVAIL, 'getifaddrs');
  }
  return found.address;
}

function announce(ifindex: number, address: string, mac: Buffer | undefined, build: (mac: Buffer) => Buffer, what: string): void {
  const io = native();
  const doing = `sending ${what} for ${address} on interface index ${ifindex}`;
  try {
    io.sendFrame(ifindex, build(mac ?? io.interfaceMac(ifindex)));
  } catch (err) {
    throw ioError(err, doing);
  }
}

/** One gratuitous ARP for `address` out of the interface, from `mac` (default: the interface's). */
export function sendGratuitousArp(ifindex: number, address: string, mac?: Buffer): void {
  announce(ifindex, address, mac, (m) => gratuitousArpFrame(m, address), 'a gratuitous ARP');
}

/** One unsolicited neighbour advertisement for `address` to ff02::1, from `mac` (default: the interface's). */
export function sendUnsolicitedNa(ifindex: number, address: string, mac?: Buffer): void {
  announce(ifindex, address, mac, (m) => unsolicitedNaFrame(m, address), 'an unsolicited neighbour advertisement');
}
