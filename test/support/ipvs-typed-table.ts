// One IPVS table as lvsd's types, each entry with the lines `ipvsadm -S -n` prints for it.
// It exercises every scheduler, flag, forwarding method, tunnel type, family, protocol and fwmark.
// Addresses: 198.18.0.0/15 and 2001:db8::/32 on a dummy interface (see setUpNamespace); the
// director's own 198.18.0.1 makes a "local" real server.
import type { RealServer, ServiceKey, VirtualService } from '../../src/ipvs/types';

export interface TypedEntry {
  service: VirtualService;
  save: string;
  /** when `ipvsadm -S -n` prints the service differently from what it reads */
  listed?: string;
  servers: { server: RealServer; save: string }[];
}

const SCHEDULERS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh'];

function svc(key: ServiceKey, scheduler: string, more: Partial<VirtualService> = {}): VirtualService {
  return { key, scheduler, flags: 0, timeout: 0, netmask: key.family === 'inet' ? '255.255.255.255' : 128, ...more };
}
function rs(address: string, port: number, forward: RealServer['forward'], more: Partial<RealServer> = {}): RealServer {
  const family = address.includes(':') ? 'inet6' : 'inet';
  return { key: { address, port, family }, forward, weight: 1, upperThreshold: 0, lowerThreshold: 0, ...more };
}
const tcp = (address: string, port: number): ServiceKey => ({ family: address.includes(':') ? 'inet6' : 'inet', protocol: 'tcp', address, port });
const udp = (address: string, port: number): ServiceKey => ({ family: address.includes(':') ? 'inet6' : 'inet', protocol: 'udp', address, port });
const sctp = (address: string, port: number): ServiceKey => ({ family: address.includes(':') ? 'inet6' : 'inet', protocol: 'sctp', address, port });

export const TYPED_TABLE: readonly TypedEntry[] = [
  ...SCHEDULERS.map((s, i): TypedEntry => ({
    service: svc(tcp(`198.18.0.${10 + i}`, 80), s),
    save: `-A -t 198.18.0.${10 + i}:80 -s ${s}`,
    servers: [
      { server: rs(`198.18.1.${10 + i}`, 80, 'route', { weight: i }), save: `-a -t 198.18.0.${10 + i}:80 -r 198.18.1.${10 + i}:80 -g -w ${i}` },
      {
        server: rs(`198.18.2.${10 + i}`, 8080, 'masq', { weight: 3, upperThreshold: 100 + i, lowerThreshold: 10 + i }),
        save: `-a -t 198.18.0.${10 + i}:80 -r 198.18.2.${10 + i}:8080 -m -w 3`,
      },
    ],
  })),
  {
    service: svc(tcp('198.18.0.40', 443), 'sh', { flags: 0x1 | 0x8 | 0x10, timeout: 360 }),
    save: '-A -t 198.18.0.40:443 -s sh -p 360 -b sh-fallback,sh-port',
    servers: [{ server: rs('198.18.1.40', 443, 'route', { weight: 0 }), save: '-a -t 198.18.0.40:443 -r 198.18.1.40:443 -g -w 0' }],
  },
  {
    service: svc(tcp('198.18.0.41', 443), 'mh', { flags: 0x1 | 0x8 | 0x10, timeout: 600, netmask: '255.255.255.0' }),
    save: '-A -t 198.18.0.41:443 -s mh -p 600 -M 255.255.255.0 -b mh-fallback,mh-port',
    servers: [
      { server: rs('198.18.1.41', 443, 'tunnel', { tunnelType: 'gue', tunnelPort: 6080, tunnelChecksum: 'csum' }), save: '-a -t 198.18.0.41:443 -r 198.18.1.41:443 -i -w 1 --tun-type gue --tun-port 6080 --tun-csum' },
      { server: rs('198.18.1.42', 443, 'tunnel', { tunnelType: 'gue', tunnelPort: 6081, tunnelChecksum: 'remcsum' }), save: '-a -t 198.18.0.41:443 -r 198.18.1.42:443 -i -w 1 --tun-type gue --tun-port 6081 --tun-remcsum' },
      { server: rs('198.18.1.43', 443, 'tunnel', { tunnelType: 'gue', tunnelPort: 6082, tunnelChecksum: 'nocsum' }), save: '-a -t 198.18.0.41:443 -r 198.18.1.43:443 -i -w 1 --tun-type gue --tun-port 6082 --tun-nocsum' },
      { server: rs('198.18.1.44', 443, 'tunnel', { tunnelType: 'gre', tunnelChecksum: 'csum' }), save: '-a -t 198.18.0.41:443 -r 198.18.1.44:443 -i -w 1 --tun-type gre --tun-csum' },
      { server: rs('198.18.1.45', 443, 'tunnel', { tunnelType: 'gre', tunnelChecksum: 'nocsum' }), save: '-a -t 198.18.0.41:443 -r 198.18.1.45:443 -i -w 1 --tun-type gre --tun-nocsum' },
      { server: rs('198.18.1.46', 443, 'tunnel', { tunnelType: 'ipip', weight: 7 }), save: '-a -t 198.18.0.41:443 -r 198.18.1.46:443 -i -w 7 --tun-type ipip' },
    ],
  },
  {
    service: svc(tcp('198.18.0.42', 8080), 'wlc', { flags: 0x8 | 0x20 }),
    save: '-A -t 198.18.0.42:8080 -s wlc -b flag-1,flag-3',
    servers: [{ server: rs('198.18.0.1', 8080, 'local'), save: '-a -t 198.18.0.42:8080 -r 198.18.0.1:8080 -g -w 1' }],
  },
  {
    service: svc(udp('198.18.0.43', 5060), 'rr', { flags: 0x1, timeout: 120, persistenceEngine: 'sip' }),
    save: '-A -u 198.18.0.43:5060 -s rr -p 120 --pe sip',
    servers: [{ server: rs('198.18.1.50', 5060, 'masq', { weight: 2 }), save: '-a -u 198.18.0.43:5060 -r 198.18.1.50:5060 -m -w 2' }],
  },
  {
    service: svc(udp('198.18.0.44', 53), 'rr', { flags: 0x4 }),
    save: '-A -u 198.18.0.44:53 -s rr -o',
    servers: [{ server: rs('198.18.1.51', 5353, 'masq'), save: '-a -u 198.18.0.44:53 -r 198.18.1.51:5353 -m -w 1' }],
  },
  {
    service: svc(sctp('198.18.0.46', 9999), 'lc'),
    save: '-A --sctp-service 198.18.0.46:9999 -s lc',
    servers: [{ server: rs('198.18.1.53', 9999, 'masq', { weight: 4 }), save: '-a --sctp-service 198.18.0.46:9999 -r 198.18.1.53:9999 -m -w 4' }],
  },
  {
    service: svc(tcp('2001:db8::10', 80), 'wrr', { flags: 0x1, timeout: 300, netmask: 64 }),
    save: '-A -t [2001:db8::10]:80 -s wrr -p 300 -M 64',
    servers: [
      { server: rs('2001:db8:0:1::20', 80, 'route', { weight: 5 }), save: '-a -t [2001:db8::10]:80 -r [2001:db8:0:1::20]:80 -g -w 5' },
      {
        server: rs('2001:db8:0:2::20', 8080, 'masq', { weight: 6, upperThreshold: 1000, lowerThreshold: 100 }),
        save: '-a -t [2001:db8::10]:80 -r [2001:db8:0:2::20]:8080 -m -w 6',
      },
      // mixed family: an IPv4 real server behind an IPv6 service, through a tunnel
      { server: rs('198.18.1.60', 80, 'tunnel', { tunnelType: 'ipip' }), save: '-a -t [2001:db8::10]:80 -r 198.18.1.60:80 -i -w 1 --tun-type ipip' },
      {
        server: rs('2001:db8:0:3::20', 80, 'tunnel', { tunnelType: 'gue', tunnelPort: 5555, tunnelChecksum: 'csum' }),
        save: '-a -t [2001:db8::10]:80 -r [2001:db8:0:3::20]:80 -i -w 1 --tun-type gue --tun-port 5555 --tun-csum',
      },
    ],
  },
  {
    service: svc(udp('2001:db8::11', 53), 'sh', { flags: 0x10 }),
    save: '-A -u [2001:db8::11]:53 -s sh -b sh-port',
    servers: [{ server: rs('2001:db8:0:4::20', 53, 'masq'), save: '-a -u [2001:db8::11]:53 -r [2001:db8:0:4::20]:53 -m -w 1' }],
  },
  { service: svc(sctp('2001:db8::12', 9999), 'nq'), save: '-A --sctp-service [2001:db8::12]:9999 -s nq', servers: [] },
  {
    service: svc({ family: 'inet', fwmark: 1 }, 'rr'),
    save: '-A -f 1 -s rr',
    servers: [
      { server: rs('198.18.1.70', 80, 'masq', { weight: 2 }), save: '-a -f 1 -r 198.18.1.70:80 -m -w 2' },
      { server: rs('198.18.1.71', 0, 'route'), save: '-a -f 1 -r 198.18.1.71:0 -g -w 1' },
    ],
  },
  {
    service: svc({ family: 'inet6', fwmark: 2 }, 'lblc', { flags: 0x1, timeout: 900, netmask: 96 }),
    save: '-A -f 2 -6 -s lblc -p 900 -M 96',
    servers: [
      { server: rs('2001:db8:0:5::20', 443, 'masq'), save: '-a -f 2 -6 -r [2001:db8:0:5::20]:443 -m -w 1' },
      { server: rs('2001:db8:0:5::21', 0, 'tunnel', { tunnelType: 'gre', tunnelChecksum: 'nocsum' }), save: '-a -f 2 -6 -r [2001:db8:0:5::21]:0 -i -w 1 --tun-type gre --tun-nocsum' },
    ],
  },
  // ipvsadm 1.31 reads the mark as unsigned but prints it with %d
  { service: svc({ family: 'inet', fwmark: 4294967295 }, 'fo', { flags: 0x4 }), save: '-A -f 4294967295 -s fo -o', listed: '-A -f -1 -s fo -o', servers: [] },
];

/** The save text of the whole table, in table order (ipvsadm -S sorts; compare as sorted lines). */
export function typedTableSaveLines(): string[] {
  return TYPED_TABLE.flatMap((e) => [e.save, ...e.servers.map((s) => s.save)]);
}

/** What `ipvsadm -S -n` prints for the table, in table order. */
export function typedTableListedLines(): string[] {
  return TYPED_TABLE.flatMap((e) => [e.listed ?? e.save, ...e.servers.map((s) => s.save)]);
}
