// Who may change addresses and net.ipv4.conf sysctls: whoever holds CAP_NET_ADMIN.
import { readFileSync } from 'node:fs';
import { PermissionError } from '../src/errors';

const CAP_NET_ADMIN = 12; // linux/capability.h

/** Reads the effective capability set from /proc/self/status (CapEff is a hex bit mask). */
export function hasNetAdmin(status = readFileSync('/proc/self/status', 'utf8')): boolean {
  const match = /^CapEff:\s*([0-9a-fA-F]+)\s*$/m.exec(status);
  if (!match) return false;
  return ((BigInt(`0x${match[1]}`) >> BigInt(CAP_NET_ADMIN)) & 1n) === 1n;
}

export function notPermitted(action: string): PermissionError {
  return new PermissionError(
    `realserver ${action} needs CAP_NET_ADMIN to change addresses and net.ipv4.conf sysctls: run it as root, or with that capability (the lvsd-realserver.service unit grants it)`,
  );
}

export function requireNetAdmin(action: string): void {
  if (!hasNetAdmin()) throw notPermitted(action);
}
