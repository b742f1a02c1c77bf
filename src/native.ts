// Loads the optional C modules that `npm run build` compiles from native/*.c into dist/native
// (today only netlink_dumps, a transport with no logic of its own). Without them (not built, or
// LVSD_NATIVE=0) the JavaScript paths run, with the same results.
import { join } from 'node:path';

const loaded = new Map<string, unknown>();

/** dist/native/<name>.node's exports, or undefined when it is not built or LVSD_NATIVE=0. */
export function loadNative<T>(name: string): T | undefined {
  if (process.env.LVSD_NATIVE === '0') return undefined;
  if (!loaded.has(name)) {
    let exports: unknown;
    try {
      const m = { exports: {} };
      process.dlopen(m, join(__dirname, '..', 'native', `${name}.node`));
      exports = m.exports;
    } catch {
      // not built: the JavaScript path runs
    }
    loaded.set(name, exports);
  }
  return loaded.get(name) as T | undefined;
}
