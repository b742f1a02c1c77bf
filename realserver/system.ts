// The realserver's view of the kernel: interfaces, addresses and sysctls of this network namespace,
// read and changed through src/rtnl (rtnetlink) and /proc/sys. Kernel refusals become messages in words.
import { InputError, KernelSupportError, NetlinkError } from '../src/errors';
import { IFA_F, RtnlSocket, addAddress, createTunnel, deleteAddress, deleteLink, listAddresses, listLinks, setLinkUp, type Address, type Link } from '../src/rtnl';
import type { AddedAddress } from './state';
import { readSysctl, writeSysctl } from './sysctl';
import { notPermitted } from './privileges';
import { constants } from 'node:os';

const { EPERM, ENOENT, EEXIST, EACCES, EOPNOTSUPP, EADDRNOTAVAIL } = constants.errno;

export type { Address, Link };

export interface RealserverSystem {
  links(): Promise<Link[]>;
  addresses(): Promise<Address[]>;
  /** undefined when the key does not exist (e.g. a tunnel device that is gone). */
  readSysctl(key: string): string | undefined;
  writeSysctl(key: string, value: string): void;
  addAddress(link: Link, address: AddedAddress): Promise<void>;
  deleteAddress(link: Link, address: AddedAddress): Promise<void>;
  /** 'appeared': the kernel loaded the tunnel module, whose catch-all device took the name. */
  createTunnel(name: string, kind: 'ipip' | 'gre', local?: string): Promise<'created' | 'appeared'>;
  deleteLink(link: Link): Promise<void>;
  setLinkUp(link: Link, up: boolean): Promise<void>;
  close(): void;
}

/** Turns a kernel refusal into the message an operator needs. */
function explain(err: unknown, action: string): unknown {
  if (err instanceof NetlinkError && (err.errno === EPERM || err.errno === EACCES)) return notPermitted(action);
  return err;
}

export async function openSystem(): Promise<RealserverSystem> {
  const sock = new RtnlSocket();
  return {
    links: () => listLinks(sock),
    addresses: () => listAddresses(sock),
    readSysctl(key) {
      try {
        return readSysctl(key);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw err;
      }
    },
    writeSysctl(key, value) {
      try {
        writeSysctl(key, value);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw notPermitted(`writing ${key}`);
        throw err;
      }
    },
    async addAddress(link, a) {
      try {
        // No DAD for IPv6: the VIP is deliberately on several hosts, and DAD would mark it "dadfailed".
        await addAddress(sock, { index: link.index, family: a.family, address: a.address, prefixlen: a.prefixlen, label: a.label, flags: a.family === 6 ? IFA_F.NODAD : 0 });
      } catch (err) {
        if (err instanceof NetlinkError && err.errno === EEXIST) return; // added meanwhile: the goal is reached
        throw explain(err, 'up');
      }
    },
    async deleteAddress(link, a) {
      try {
        await deleteAddress(sock, { index: link.index, family: a.family, address: a.address, prefixlen: a.prefixlen });
      } catch (err) {
        if (err instanceof NetlinkError && (err.errno === EADDRNOTAVAIL || err.errno === ENOENT)) return; // already gone
        throw explain(err, 'down');
      }
    },
    async createTunnel(name, kind, local) {
      try {
        await createTunnel(sock, name, kind, local);
        return 'created';
      } catch (err) {
        if (err instanceof NetlinkError && err.errno === EEXIST) {
          if ((await listLinks(sock)).some((l) => l.name === name)) return 'appeared';
          // The kernel keeps one tunnel per (local, remote, key): a second "any, any" one clashes with tunl0/gre0.
          throw new InputError(
            `creating ${kind} tunnel device ${name}: the kernel already has a ${kind} device with the same endpoints (${local ? `local ${local}` : `the catch-all ${kind === 'ipip' ? 'tunl0' : 'gre0'}`}); ` +
              `give ${name} this host's own address (--tunnel-local or tunnel.local), or use the catch-all device`,
          );
        }
        if (err instanceof NetlinkError && err.errno === EOPNOTSUPP) {
          const module = kind === 'ipip' ? 'ipip' : 'ip_gre';
          throw new KernelSupportError(`this kernel has no ${kind} tunnel support (creating ${name} was refused with EOPNOTSUPP): TUN mode needs the ${module} module (CONFIG_${kind === 'ipip' ? 'NET_IPIP' : 'NET_IPGRE'})`);
        }
        throw explain(err, 'up');
      }
    },
    async deleteLink(link) {
      try {
        await deleteLink(sock, link);
      } catch (err) {
        throw explain(err, 'down');
      }
    },
    async setLinkUp(link, up) {
      try {
        await setLinkUp(sock, link, up);
      } catch (err) {
        throw explain(err, up ? 'up' : 'down');
      }
    },
    close: () => sock.close(),
  };
}

