// Exercises the CLI's common path while its start-up snapshot is built (scripts/build-snapshot.js),
// so the snapshot holds these functions already compiled and the generated attribute codecs
// already generated. Nothing here touches the system: no socket, no file, no output.
import { Command, CommanderError } from 'commander';
import { buildProgram, prebuild } from './main';
import { CTRL_CMD_GETFAMILY, GENL_ID_CTRL, ctrlAttrs, genlMessage } from '../netlink/genl';
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
  // registering the ipvs group's ~20 commands and their options costs ~0.1 s under emulation
  prebuild('ipvs');
}
