// `lvsd director`: run the daemon, check a config, show what it would change (plan); the
// operator's commands (status, drain, enable, weight, reload) talk to the running daemon over its
// control socket (./director-control) and never open netlink.
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import pino from 'pino';
import { ConfigError, LvsdError } from '../errors';
import { checkConfig, DEFAULT_DIRECTOR_CONFIG_PATH, loadDirectorConfig, type DirectorConfig } from '../config/director';
import { Director } from '../director/daemon';
import { formatPlan } from '../director/plan';
import { loadedConfigOf } from '../director/spec';
import { startControlServer, type ControlServer } from '../director/control';
import { startStatusServer, type StatusServer } from '../director/status-http';
import { registerControlCommands } from './director-control';
import { openIpvs } from '../ipvs/client';
import { logger, rootLogger } from '../log';
import { writeOut } from './output';

const EXIT_CONFIG = 2;

export function register(program: Command): void {
  const director = program.command('director').description('the IPVS director daemon and its controls');
  const configOption = () => new Option('-c, --config <file>', 'director config (YAML)').default(DEFAULT_DIRECTOR_CONFIG_PATH);

  director
    .command('run')
    .description('run the director in the foreground (for systemd): program IPVS from the config, check servers, serve status and control')
    .addOption(configOption())
    .action(async (o: { config: string }) => {
      await run(o.config);
    });

  director
    .command('check-config')
    .description('validate a config; prints every problem with file:line:column; exit 0 valid, 2 invalid')
    .addOption(configOption())
    .option('--no-check-files', 'do not check the files the config names (password files, CA files)')
    .action((o: { config: string; checkFiles: boolean }) => {
      const res = checkConfig(o.config, { checkFiles: o.checkFiles });
      if (res.ok) writeOut(`${o.config}: valid\n`);
      else {
        for (const e of res.errors) process.stderr.write(`${e}\n`);
        process.stderr.write(`${o.config}: ${res.errors.length} problem${res.errors.length === 1 ? '' : 's'}\n`);
        process.exitCode = EXIT_CONFIG;
      }
    });

  director
    .command('plan')
    .description('print the IPVS operations the director would apply now (ipvsadm-like lines), applying nothing')
    .addOption(configOption())
    .option('--json', 'the operations as JSON')
    .action(async (o: { config: string; json?: boolean }) => {
      const config = loadOrExit(o.config);
      if (!config) return;
      const ipvs = await openIpvs();
      try {
        // the plan is the output: the director's own words go to stderr, warnings only
        const log = pino({ level: 'warn', base: { component: 'director' } }, pino.destination(2));
        const d = new Director({ ipvs, load: () => loadedConfigOf(config), configPath: o.config, log, dryRun: true });
        const ops = await d.plan();
        writeOut(o.json ? JSON.stringify(ops, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n' : formatPlan(ops));
      } finally {
        ipvs.close();
      }
    });

  registerControlCommands(director);
}

function loadOrExit(path: string): DirectorConfig | undefined {
  try {
    return loadDirectorConfig(path);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const e of err.errors) process.stderr.write(`${e}\n`);
    process.stderr.write(`${path}: ${err.errors.length} problem${err.errors.length === 1 ? '' : 's'}; nothing done\n`);
    process.exitCode = EXIT_CONFIG;
    return undefined;
  }
}

async function run(path: string): Promise<void> {
  const config = loadOrExit(path);
  if (!config) return;
  rootLogger().level = config.global.logLevel;
  const log = logger('director');
  const version = (require('../../../package.json') as { version: string }).version;
  const ipvs = await openIpvs();
  const director = new Director({
    ipvs,
    load: () => loadedConfigOf(loadDirectorConfig(path)),
    configPath: path,
    version,
    log,
  });
  let control: ControlServer | undefined;
  let status: StatusServer | undefined;
  let stopping = false;
  const stop = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, `${signal}: stopping; the IPVS table stays as it is${config.global.flushOnExit ? ' (except flush_on_exit)' : ''}`);
    await status?.close();
    await control?.close();
    await director.stop();
    ipvs.close();
  };
  try {
    // the control socket first: a second director on this host stops here, before touching IPVS
    control = await startControlServer(director, { path: config.global.control.socket, mode: config.global.control.mode });
    await director.start();
    const listen = config.global.status.listen;
    if (listen) {
      const auth = config.global.status.auth;
      status = await startStatusServer(director, {
        listen: listen.family === 'inet6' ? `[${listen.address}]:${listen.port}` : `${listen.address}:${listen.port}`,
        auth: auth && { user: auth.user, password: readFileSync(auth.passwordFile, 'utf8').replace(/\r?\n$/, '') },
        log: logger('status'),
      });
      log.info({ status: status.address }, `status page on http://${status.address}/`);
    }
  } catch (err) {
    await stop('error');
    throw err;
  }
  process.on('SIGHUP', () => {
    log.info('SIGHUP: reloading the config');
    void director.reload();
  });
  await new Promise<void>((resolve) => {
    for (const sig of ['SIGTERM', 'SIGINT'] as const) {
      process.once(sig, () => {
        void stop(sig).then(resolve, (err: Error) => {
          log.error({ err: err.message }, 'error while stopping');
          resolve();
        });
      });
    }
  });
}

export { LvsdError };
