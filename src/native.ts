// Loads the C modules that `npm run build` compiles from native/*.c into dist/native:
// netlink_dumps (optional, a faster transport: without it, or with LVSD_NATIVE=0, the JavaScript
// paths run with the same results) and vrrp_io (raw sockets Node lacks: VRRP has no JavaScript
// path, so LVSD_NATIVE=0 does not turn it off).
import { join } from 'node:path';

const loaded = new Map<string, unknown>();

export interface LoadOptions {
  /** false for a module with no JavaScript fallback: loaded even when LVSD_NATIVE=0 (default true) */
  optional?: boolean;
}

/** dist/native/<name>.node's exports, or undefined when it is not built (or LVSD_NATIVE=0 for an optional module). */
export function loadNative<T>(name: string, options: LoadOptions = {}): T | undefined {
  if (process.env.LVSD_NATIVE === '0' && options.optional !== false) return undefined;
  if (!loaded.has(name)) {
    let exports: unknown;
    try {
      const m = { exports: {} };
      process.dlopen(m, join(__dirname, '..', 'native', `${name}.node`));
      exports = m.exports;
    } catch {
      // not built: the caller says what that means
    }
    loaded.set(name, exports);
  }
  return loaded.get(name) as T | undefined;
}
