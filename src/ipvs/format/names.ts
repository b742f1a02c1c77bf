// How an address and port are written (ipvsadm.c addrport_to_anyname). Listings take a Namer so
// that formatting stays synchronous and pure: name resolution (resolve.ts) happens beforehand.
import type { Family, Protocol } from '../types';
import { canonicalAddress } from '../address';

export interface Namer {
  /** "198.18.0.1:80", "[2001:db8::1]:80", or with names "www.example:http" */
  addrPort(family: Family, address: string, port: number, protocol: Protocol | undefined): string;
}

function bracket(family: Family, host: string): string {
  return family === 'inet' ? host : `[${host}]`;
}

export const numericNamer: Namer = {
  addrPort(family, address, port) {
    // dotted-quad text that parses is already canonical (no leading zeros, each part <= 255)
    return family === 'inet' ? `${address}:${port}` : `[${canonicalAddress(family, address)}]:${port}`;
  },
};

/** A namer over names already looked up; anything not found is written numerically. */
export function namerFrom(
  hostName: (family: Family, address: string) => string | undefined,
  serviceName: (port: number, protocol: Protocol) => string | undefined,
): Namer {
  return {
    addrPort(family, address, port, protocol) {
      const host = hostName(family, address) ?? canonicalAddress(family, address);
      const service = (protocol && serviceName(port, protocol)) ?? String(port);
      // ipvsadm formats into a 60-byte buffer
      return `${bracket(family, host)}:${service}`.slice(0, 59);
    },
  };
}
