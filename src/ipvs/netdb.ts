// Service and host names the way ipvsadm gets them: getservbyport/getservbyname read
// /etc/services (first entry wins), host names come from the resolver (getnameinfo).
import { readFileSync } from 'node:fs';
import type { Protocol } from './types';

interface ServicesDb {
  nameByPort: Map<string, string>;
  portByName: Map<string, number>;
}

let db: ServicesDb | undefined;

function loadServices(path = '/etc/services'): ServicesDb {
  const nameByPort = new Map<string, string>();
  const portByName = new Map<string, number>();
  let text = '';
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    // no services database: every port stays numeric, as with ipvsadm
  }
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*/, '').trim();
    if (!line) continue;
    const [name, portProto, ...aliases] = line.split(/\s+/);
    const m = /^(\d+)\/(\w+)$/.exec(portProto ?? '');
    if (!m) continue;
    const port = Number(m[1]);
    const proto = m[2].toLowerCase();
    if (!nameByPort.has(`${port}/${proto}`)) nameByPort.set(`${port}/${proto}`, name);
    for (const n of [name, ...aliases]) if (!portByName.has(`${n}/${proto}`)) portByName.set(`${n}/${proto}`, port);
  }
  return { nameByPort, portByName };
}

export function serviceNameOf(port: number, protocol: Protocol): string | undefined {
  db ??= loadServices();
  return db.nameByPort.get(`${port}/${protocol}`);
}

export function portOfService(name: string, protocol: Protocol): number | undefined {
  db ??= loadServices();
  return db.portByName.get(`${name}/${protocol}`);
}

/** Reverse lookup of one address; undefined when it has no name. */
export async function hostNameOf(address: string): Promise<string | undefined> {
  const { lookupService } = await import('node:dns/promises');
  try {
    const { hostname } = await lookupService(address, 0);
    return hostname && hostname !== address ? hostname : undefined;
  } catch {
    return undefined;
  }
}
