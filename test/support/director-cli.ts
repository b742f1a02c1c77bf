// Runs `lvsd director <control command>` the way bin/lvsd will once the director group exists:
// a program with a `director` command that registerControlCommands fills. With
// LVSD_TEST_MODULES_OUT set, it writes the modules it loaded to that file on exit.
import { writeFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { registerControlCommands } from '../../src/cli/director-control';
import { reportError } from '../../src/cli/main';
import { writeOut } from '../../src/cli/output';

const program = new Command('lvsd').exitOverride().configureOutput({ writeOut, writeErr: (s) => process.stderr.write(s) });
registerControlCommands(program.command('director').description('the director daemon and its control'));
const modulesOut = process.env.LVSD_TEST_MODULES_OUT;
if (modulesOut) process.on('exit', () => writeFileSync(modulesOut, JSON.stringify(Object.keys(require.cache))));
program.parseAsync(process.argv).catch((err) => {
  if (err instanceof CommanderError) process.exitCode = err.exitCode;
  else reportError(err);
});
