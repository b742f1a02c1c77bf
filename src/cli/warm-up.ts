// Exercises the CLI's common path while its start-up snapshot is built (scripts/build-snapshot.js),
// so the snapshot holds these functions already compiled and the generated attribute codecs
// already generated. Nothing here touches the system: no socket, no file; the one command it
// runs through main() prints to the build's stdout, which build-snapshot.js sets to /dev/null.
import { Command, CommanderError } from 'commander';
import { buildProgram, main, prebuild } from './main';
import { CTRL_CMD_GETFAMILY, CTRL_CMD_NEWFAMILY, GENL_ID_CTRL, ctrlAttrs, genlMessage } from '../netlink/genl';
import { NLMSG_ERROR, NLM_F_ACK, NLM_F_CAPPED, Writer, readHeader, stampMessage } from '../netlink/wire';
import { Cmd } from '../ipvs/spec';
import { openIpvs } from '../ipvs/client';
import { decode, encodeToBuffer } from '../netlink/schema';
import { parseMessages } from '../netlink/wire';
import { cmdAttrs, serviceAttrs, destAttrs } from '../ipvs/spec';
import { formatTimeouts } from '../ipvs/format/timeouts';

/** Command lines that fail in their own checks, before any I/O. */
const REFUSED = [
  ['ipvs', 'list', '--timeout', '--rate'],
  ['ipvs', 'list', '--daemon', '--stats'],
];

function quiet(program: Command): Command {
  program.configureOutput({ writeOut: () => {}, writeErr: () => {}, outputError: () => {} });
  for (const sub of program.commands) quiet(sub);
  return program;
}

const IPVS_ID = 0x20;

/**
 * Stands in for the netlink package's native socket (its NativeNetlink class) while the snapshot
 * is built, so that the package's RawNetlinkSocket and everything above it run for real: it
 * answers as the kernel would for `lvsd ipvs list --timeout`, with the IPVS family for
 * CTRL_CMD_GETFAMILY, the default timeouts for IPVS_CMD_GET_CONFIG, each followed by its ACK if
 * the request asked for one.
 */
class NativeNetlinkStandIn {
  private recvBufferSize = 212992;
  private sendBufferSize = 212992;

  constructor(
    _protocol: number,
    _messageBufferSize: number,
    private readonly onMessage: (data: Buffer, rinfo: object) => void,
    _onError: (error: Error) => void,
  ) {}

  bind(_port: number, _groups: number): void {}

  send(_port: number, _groups: number, data: Buffer | Buffer[], callback: (error?: Error) => void): void {
    const requests = Array.isArray(data) ? data : [data];
    setImmediate(() => {
      callback();
      for (const req of requests) this.onMessage(this.answer(req), { port: 0, groups: 0 });
    });
  }

  private answer(req: Buffer): Buffer {
    const h = readHeader(req, 0);
    const reply =
      h.type === GENL_ID_CTRL
        ? genlMessage(GENL_ID_CTRL, CTRL_CMD_NEWFAMILY, 1, ctrlAttrs, { familyId: IPVS_ID, familyName: 'IPVS', version: 1, maxAttr: 9 })
        : genlMessage(IPVS_ID, Cmd.SET_CONFIG, 1, cmdAttrs, { timeoutTcp: 900, timeoutTcpFin: 120, timeoutUdp: 300 });
    stampMessage(reply, h.seq);
    if (!(h.flags & NLM_F_ACK)) return reply; // as the kernel: an ACK only when asked for
    const ack = new Writer(64);
    const at = ack.beginMessage(NLMSG_ERROR, NLM_F_CAPPED);
    ack.s32(0);
    ack.bytes(req.subarray(0, 16));
    ack.endMessage(at);
    const ackBytes = ack.finish();
    stampMessage(ackBytes, h.seq);
    return Buffer.concat([reply, ackBytes]);
  }

  getRecvBufferSize(): number {
    return this.recvBufferSize;
  }
  setRecvBufferSize(size: number): void {
    this.recvBufferSize = Math.min(size, 425984);
  }
  getSendBufferSize(): number {
    return this.sendBufferSize;
  }
  setSendBufferSize(size: number): void {
    this.sendBufferSize = Math.min(size, 425984);
  }
  address(): { port: number; groups: number } {
    return { port: 1, groups: 0 };
  }
  ref(): void {}
  unref(): void {}
  close(): void {}
}

/** Where the snapshot's loader (scripts/build-snapshot.js) looks for a NativeNetlink while it builds. */
const NATIVE_STAND_IN = Symbol.for('lvsd.warm-up.NativeNetlink');

export async function warmUp(): Promise<void> {
  for (const args of REFUSED) {
    const argv = ['node', 'lvsd', ...args];
    try {
      await quiet(buildProgram(argv)).parseAsync(argv);
    } catch (err) {
      if (!(err instanceof Error) || err instanceof CommanderError) throw err; // expected: the command's own refusal
    }
  }
  parseMessages(genlMessage(GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1, ctrlAttrs, { familyName: 'IPVS' }));
  decode(ctrlAttrs, encodeToBuffer(ctrlAttrs, { familyId: 0x20, familyName: 'IPVS', version: 1, maxAttr: 9 }));
  const timeouts = decode(cmdAttrs, encodeToBuffer(cmdAttrs, { timeoutTcp: 900, timeoutTcpFin: 120, timeoutUdp: 300 }));
  formatTimeouts({ tcp: timeouts.timeoutTcp ?? 0, tcpFin: timeouts.timeoutTcpFin ?? 0, udp: timeouts.timeoutUdp ?? 0 });
  decode(serviceAttrs, encodeToBuffer(serviceAttrs, {}));
  decode(destAttrs, encodeToBuffer(destAttrs, {}));
  // the request path, the netlink package's included, on a stand-in for the kernel's socket:
  // `lvsd ipvs list --timeout` end to end
  const scope = globalThis as { [NATIVE_STAND_IN]?: typeof NativeNetlinkStandIn };
  scope[NATIVE_STAND_IN] = NativeNetlinkStandIn;
  try {
    const client = await openIpvs();
    const t = await client.readTimeouts();
    client.close();
    formatTimeouts(t);
    // and the same through the CLI's own entry, as a start runs it (its line goes to the build's
    // stdout, /dev/null)
    await main(['node', 'lvsd', 'ipvs', 'list', '--timeout']);
    if (process.exitCode) throw new Error('warm-up: `lvsd ipvs list --timeout` failed on the stand-in socket');
  } finally {
    delete scope[NATIVE_STAND_IN];
  }
  // The listings' JavaScript fallbacks are not run here: the native module npm run build makes
  // serves every listing instead, and having them compiled in the snapshot made each start
  // ~16 ms slower in the lab (51 paired rounds), small listings no faster.
  // registering the ipvs group's ~20 commands and their options costs ~0.1 s under emulation
  prebuild('ipvs');
}
