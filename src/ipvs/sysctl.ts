// IPVS's settings under /proc/sys/net/ipv4/vs (Documentation/networking/ipvs-sysctl.rst). They
// have no netlink command; each network namespace has its own, shown to a process in its own
// namespace, the one its IPVS netlink socket talks to.
import { constants as fsConstants } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { constants } from 'node:os';
import { IpvsError, PermissionError } from '../errors';

const DIR = '/proc/sys/net/ipv4/vs';
const { ENOENT } = constants.errno;
const NAME = /^[a-z][a-z0-9_]*$/;

function pathOf(name: string): string {
  if (!NAME.test(name)) throw unknownSysctl(name);
  return `${DIR}/${name}`;
}

/** What the kernel says, in words, for a name it has no file for. */
export function unknownSysctl(name: string, cause?: unknown): IpvsError {
  return new IpvsError(`net.ipv4.vs.${name}: no such IPVS setting in this kernel (or the ip_vs module is not loaded)`, ENOENT, { cause });
}

function sysctlError(name: string, doing: 'reading' | 'writing', err: unknown): Error {
  const e = err as NodeJS.ErrnoException;
  const what = `net.ipv4.vs.${name}`;
  if (e.code === 'ENOENT') return unknownSysctl(name, err);
  if (e.code === 'EACCES' || e.code === 'EPERM' || e.code === 'EROFS') {
    return new PermissionError(`${doing} ${what}: ${e.code === 'EROFS' ? '/proc/sys is read-only here (systemd ProtectKernelTunables?)' : 'permission denied: needs root with CAP_NET_ADMIN'}`, { cause: err });
  }
  if (e.code === 'EINVAL') return new IpvsError(`${doing} ${what}: the kernel refused the value`, constants.errno.EINVAL, { cause: err });
  return err instanceof Error ? err : new Error(String(err));
}

/** net.ipv4.vs.NAME of this process's network namespace. */
export async function readIpvsSysctl(name: string): Promise<number> {
  const path = pathOf(name);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw sysctlError(name, 'reading', err);
  }
  const value = Number(text.trim());
  if (!Number.isInteger(value)) throw new IpvsError(`net.ipv4.vs.${name} is not a number: '${text.trim()}'`, 0);
  return value;
}

export async function writeIpvsSysctl(name: string, value: number): Promise<void> {
  const path = pathOf(name);
  try {
    // O_WRONLY without O_CREAT: a name /proc/sys does not have is ENOENT, not EACCES
    await writeFile(path, `${value}\n`, { flag: fsConstants.O_WRONLY });
  } catch (err) {
    throw sysctlError(name, 'writing', err);
  }
}
