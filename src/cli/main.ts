// Thin CLI entry. Each command group lives in its own module and is loaded only when used,
// so a small command does not pay for the whole program's start-up.
import { Command, CommanderError } from 'commander';
import { ConfigError, LvsdError } from '../errors';
import { writeOut } from './output';

type Register = (program: Command) => void;

/** Command groups, each loaded only when its name is on the command line (all of them for help). */
const GROUPS: Record<string, () => { register: Register }> = {
  ipvs: () => require('./ipvs'),
  check: () => require('./check'),
  realserver: () => require('./realserver'),
  director: () => require('./director'),
};

export function buildProgram(argv: string[]): Command {
  const program = new Command('lvsd')
    .description('Linux Virtual Server (IPVS) director manager')
    .version(require('../../../package.json').version as string)
    .exitOverride()
    .configureOutput({ writeOut, writeErr: (s) => process.stderr.write(s) });
  const wanted = argv[2];
  // one group when it is named; none for --version; all for the top-level help
  const names = wanted && GROUPS[wanted] ? [wanted] : wanted === '--version' || wanted === '-V' ? [] : Object.keys(GROUPS);
  for (const name of names) GROUPS[name]().register(program);
  return program;
}

/** Programs built ahead of time (by the start-up snapshot's warm-up), by group; each serves one run. */
const prebuilt = new Map<string, Command>();

/** Builds the program for a group now, so that a later run of that group skips registering it. */
export function prebuild(group: string): void {
  const program = buildProgram(['node', 'lvsd', group]);
  // commander makes each command's --help option on its first parse; make them now instead
  // (lvsd customises no help option, so these are the ones it would make)
  const made = (c: Command): void => {
    c.helpOption(undefined, undefined);
    c.commands.forEach(made);
  };
  made(program);
  prebuilt.set(group, program);
}

function programFor(argv: string[]): Command {
  const ready = GROUPS[argv[2]] ? prebuilt.get(argv[2]) : undefined;
  if (!ready) return buildProgram(argv);
  prebuilt.delete(argv[2]);
  return ready;
}

/** Prints an error as one line on stderr and sets a non-zero exit status. */
export function reportError(err: unknown, exitCode = 1): void {
  // a config's problems, one line each, every one with its place
  if (err instanceof ConfigError) {
    for (const e of err.errors) process.stderr.write(`lvsd: ${e}\n`);
    process.exitCode = exitCode;
    return;
  }
  const message = err instanceof LvsdError || err instanceof Error ? err.message : String(err);
  process.stderr.write(`lvsd: ${message}\n`);
  process.exitCode = exitCode;
}

export async function main(argv: string[]): Promise<void> {
  const program = programFor(argv);
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
