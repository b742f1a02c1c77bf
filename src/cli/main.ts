// Thin CLI entry. Each command group lives in its own module and is loaded only when used,
// so a small command does not pay for the whole program's start-up.
import { Command, CommanderError } from 'commander';
import { LvsdError } from '../errors';

type Register = (program: Command) => void;

/** Command groups: name -> module path (relative to this file) and one-line summary. */
const GROUPS: Record<string, { module: string; summary: string }> = {
  ipvs: { module: './ipvs', summary: 'list and program the kernel IPVS table (ipvsadm compatible)' },
  check: { module: './check', summary: 'run one health check once and print the verdict' },
  realserver: { module: './realserver', summary: 'bind VIPs on a real server and suppress ARP (DR/TUN)' },
};

function loadGroup(name: string): Register | undefined {
  const group = GROUPS[name];
  if (!group) return undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    return require(group.module).register as Register;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND' && String((err as Error).message).includes(group.module.slice(2))) {
      return undefined; // group not built yet
    }
    throw err;
  }
}

export function buildProgram(argv: string[]): Command {
  const program = new Command('lvsd')
    .description('Linux Virtual Server (IPVS) director manager')
    .version(require('../../../package.json').version as string)
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  const wanted = argv[2];
  const names = wanted && GROUPS[wanted] ? [wanted] : Object.keys(GROUPS);
  for (const name of names) {
    const register = loadGroup(name);
    if (register) register(program);
  }
  return program;
}

/** Prints an error as one line on stderr and sets a non-zero exit status. */
export function reportError(err: unknown, exitCode = 1): void {
  const message = err instanceof LvsdError || err instanceof Error ? err.message : String(err);
  process.stderr.write(`lvsd: ${message}\n`);
  process.exitCode = exitCode;
}

export async function main(argv: string[]): Promise<void> {
  const program = buildProgram(argv);
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // commander already printed its message (or the help text)
      process.exitCode = err.exitCode;
      return;
    }
    reportError(err);
  }
}
