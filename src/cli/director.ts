// `lvsd director`: run the daemon, check a config, show what it would change (plan); the
// operator's commands (status, drain, enable, weight, reload) talk to the running daemon over its
// control socket (./director-control) and never open netlink.
import { readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { ConfigError, LvsdError } from '../errors';
import type { DirectorConfig } from '../config/director';
import type { ControlServer } from '../director/control';
import type { StatusServer } from '../director/status-http';
import { registerControlCommands } from './director-control';
import { writeOut } from './output';

// The config schema and its validator, the daemon, prom-client and netlink load only in the
// commands that use them: `lvsd director status` and its kind start with none of them.
const configLib = () => require('../config/director') as typeof import('../config/director');
const keepalivedLib = () => require('../config/keepalived') as typeof import('../config/keepalived');
const daemonLib = () => require('../director/daemon') as typeof import('../director/daemon');
const specLib = () => require('../director/spec') as typeof import('../director/spec');
const ipvsLib = () => require('../ipvs/client') as typeof import('../ipvs/client');
const logLib = () => require('../log') as typeof import('../log');
const planLib = () => require('../director/plan') as typeof import('../director/plan');
const controlLib = () => require('../director/control') as typeof import('../director/control');
// the status page brings prom-client: loaded once the table is in place, not before
const statusLib = () => require('../director/status-http') as typeof import('../director/status-http');
const DEFAULT_CONFIG = '/etc/lvsd/director.yaml'; // config/director.ts DEFAULT_DIRECTOR_CONFIG_PATH

const EXIT_CONFIG = 2;
const EXIT_IMPORT_PARTIAL = 3;
const EXIT_IMPORT_INVALID = 4;

export function register(program: Command): void {
  const director = program.command('director').description('the IPVS director daemon and its controls');
  const configOption = () => new Option('-c, --config <file>', 'director config (YAML)').default(DEFAULT_CONFIG);

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
      const res = configLib().checkConfig(o.config, { checkFiles: o.checkFiles });
      if (res.ok) writeOut(`${o.config}: valid\n`);
      else {
        for (const e of res.errors) process.stderr.write(`${e}\n`);
        process.stderr.write(`${o.config}: ${res.errors.length} problem${res.errors.length === 1 ? '' : 's'}\n`);
        process.exitCode = EXIT_CONFIG;
      }
    });

  director
    .command('plan')
    .description('print the IPVS settings and operations the director would apply now (sysctl and ipvsadm-like lines), applying nothing')
    .addOption(configOption())
    .option('--json', 'the settings and operations as JSON')
    .action(async (o: { config: string; json?: boolean }) => {
      const config = loadOrExit(o.config);
      if (!config) return;
      const ipvs = await ipvsLib().openIpvs();
      try {
        // the plan is the output: the director's own words go to stderr, warnings only
        const pino = require('pino') as typeof import('pino');
        const log = pino({ level: 'warn', base: { component: 'director' } }, pino.destination(2));
        const d = new (daemonLib().Director)({ ipvs, load: () => specLib().loadedConfigOf(config), configPath: o.config, log, dryRun: true });
        const ops = await d.plan();
        writeOut(o.json ? JSON.stringify(ops, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2) + '\n' : planLib().formatPlan(ops));
      } finally {
        ipvs.close();
      }
    });

  director
    .command('import-keepalived')
    .description(
      "translate keepalived.conf's LVS and VRRP parts into director YAML on stdout (keepalived's defaults written out); every line left out or not translated exactly is named on stderr (file:line: keyword: why); " +
        'exit 0 all translated, 3 something left out, 4 the result is not a valid config, 2 bad keepalived syntax',
    )
    .argument('<file>', 'keepalived.conf (its includes are followed)')
    .action((file: string) => {
      let result;
      try {
        result = keepalivedLib().importKeepalivedFile(file);
      } catch (err) {
        if (!(err instanceof keepalivedLib().KeepalivedSyntaxError)) throw err;
        process.stderr.write(`${err.message}\n`);
        process.exitCode = EXIT_CONFIG;
        return;
      }
      writeOut(result.yaml);
      for (const p of result.problems) process.stderr.write(`${keepalivedLib().formatImportProblem(p)}\n`);
      try {
        configLib().parseDirectorConfig(result.yaml, '<import>', { checkFiles: false });
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        for (const e of err.errors) process.stderr.write(`${e}\n`);
        process.stderr.write(`${file}: the import is not a valid director config (${err.errors.length} problem${err.errors.length === 1 ? '' : 's'} above)\n`);
        process.exitCode = EXIT_IMPORT_INVALID;
        return;
      }
      if (result.problems.length) {
        process.stderr.write(`${file}: ${result.problems.length} line${result.problems.length === 1 ? '' : 's'} not translated (or not exactly)\n`);
        process.exitCode = EXIT_IMPORT_PARTIAL;
      }
    });

  registerControlCommands(director);
}

function loadOrExit(path: string): DirectorConfig | undefined {
  try {
    return configLib().loadDirectorConfig(path);
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
  logLib().rootLogger().level = config.global.logLevel;
  const log = logLib().logger('director');
  const version = (require('../../../package.json') as { version: string }).version;
  const ipvs = await ipvsLib().openIpvs();
  // the start uses the config read above (a 10,000-service file takes a while to read); reloads read the file again
  let unused: DirectorConfig | undefined = config;
  const director = new (daemonLib().Director)({
    ipvs,
    load: (previous) => {
      const read = unused ?? configLib().loadDirectorConfig(path);
      if (!unused) renewTls(read); // a reload: a renewed certificate is taken without a restart
      unused = undefined;
      return specLib().loadedConfigOf(read, previous);
    },
    configPath: path,
    version,
    log,
  });
  let control: ControlServer | undefined;
  let status: StatusServer | undefined;
  const renewTls = (read: DirectorConfig): void => {
    const tls = read.global.status.tls;
    if (!status || !tls || !config.global.status.tls) return;
    try {
      status.setTls({ cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) });
    } catch (err) {
      log.error(`${(err as Error).message}; the status endpoint keeps its certificate`);
    }
  };
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
    control = await controlLib().startControlServer(director, { path: config.global.control.socket, mode: config.global.control.mode });
    await director.start();
    const listen = config.global.status.listen;
    if (listen) {
      const { auth, tls } = config.global.status;
      status = await statusLib().startStatusServer(director, {
        listen: listen.family === 'inet6' ? `[${listen.address}]:${listen.port}` : `${listen.address}:${listen.port}`,
        auth: auth && { user: auth.user, password: readFileSync(auth.passwordFile, 'utf8').replace(/\r?\n$/, '') },
        tls: tls && { cert: readFileSync(tls.certFile), key: readFileSync(tls.keyFile) },
        log: logLib().logger('status'),
      });
      log.info({ status: status.address }, `status page on ${status.url}`);
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
