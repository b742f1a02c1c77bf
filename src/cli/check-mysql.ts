// `lvsd check mysql TARGET --user U (--password-file F | --password-env VAR) [--role ...]`:
// one authenticated MySQL/MariaDB check, verdict and reason printed; exit 0 up, 1 down, 2 config error.
import { Command, Option } from 'commander';
import { InputError } from '../errors';
import { DEFAULT_MAX_LAG_SECONDS } from '../health/mysql';
import type { PasswordSource } from '../health/mysql/credentials';
import { ROLES, isRole } from '../health/mysql/roles';
import { addCommonOptions, checkAction, checkerFromFlags, parseTarget, parseTimeout, runCheckOnce, type CommonCheckFlags } from './check-common';

interface MysqlFlags extends CommonCheckFlags {
  user?: string;
  passwordFile?: string;
  passwordEnv?: string;
  passwordCredential?: string;
  role: string;
  maxLag?: string;
  acceptDonor?: boolean;
  tls?: boolean;
  ca?: string;
  servername?: string;
  serverPublicKey?: string;
}

export function register(check: Command): void {
  const cmd = check
    .command('mysql')
    .description('log in to MySQL/MariaDB, run the role query, quit cleanly (no password-less mode)')
    .argument('<target>', 'HOST[:PORT] or [IPv6][:PORT] (default port 3306)')
    .option('--user <name>', 'check account (give it only the privileges its role needs)')
    .option('--password-file <file>', 'file holding the password (mode 0600 or stricter)')
    .option('--password-env <var>', 'environment variable holding the password')
    .option('--password-credential <name>', 'systemd credential holding the password ($CREDENTIALS_DIRECTORY/NAME)')
    .addOption(new Option('--role <role>', 'what "up" means').choices([...ROLES]).default('any'))
    .option('--max-lag <seconds>', `replica role: highest acceptable Seconds_Behind_Master (default ${DEFAULT_MAX_LAG_SECONDS})`)
    .option('--accept-donor', 'galera role: a Donor/Desynced node (state 2) is up')
    .option('--tls', 'use TLS and verify the server certificate')
    .option('--ca <file>', 'with --tls: PEM CA certificates (default: system store)')
    .option('--servername <name>', 'with --tls: name the certificate must carry (and SNI)')
    .option('--server-public-key <file>', 'PEM RSA key of the server, for caching_sha2_password without TLS');
  addCommonOptions(cmd, 2000).action(
    checkAction(async (targetText: string, flags: MysqlFlags) => {
      const target = parseTarget(targetText, 3306);
      if (flags.user === undefined || flags.user === '') throw new InputError('--user: the check account is required');
      const password = passwordSource(flags);
      if (!isRole(flags.role)) throw new InputError(`--role: must be one of ${ROLES.join(', ')}`);
      if (!flags.tls) {
        for (const [flag, set] of [['--ca', flags.ca], ['--servername', flags.servername]] as const) {
          if (set !== undefined) throw new InputError(`${flag}: only meaningful with --tls`);
        }
      }
      // The checker reads the password and PEM files itself and names them in its refusals.
      const checker = checkerFromFlags(
        'mysql',
        target,
        {
          user: flags.user,
          password_file: 'file' in password ? password.file : undefined,
          password_env: 'env' in password ? password.env : undefined,
          password_credential: 'credential' in password ? password.credential : undefined,
          role: flags.role,
          max_lag: flags.maxLag,
          accept_donor: flags.acceptDonor === true ? true : undefined,
          tls: flags.tls ? (flags.ca === undefined && flags.servername === undefined ? true : { ca_file: flags.ca, servername: flags.servername }) : undefined,
          server_public_key_file: flags.serverPublicKey,
        },
        {
          password_file: '--password-file',
          password_env: '--password-env',
          password_credential: '--password-credential',
          max_lag: '--max-lag',
          accept_donor: '--accept-donor',
          'tls.ca_file': '--ca',
          'tls.servername': '--servername',
          server_public_key_file: '--server-public-key',
        },
        { checkFiles: false },
      );
      await runCheckOnce(checker, parseTimeout(flags), flags);
    }),
  );
}

function passwordSource(flags: MysqlFlags): PasswordSource {
  const given = [
    flags.passwordFile !== undefined && '--password-file',
    flags.passwordEnv !== undefined && '--password-env',
    flags.passwordCredential !== undefined && '--password-credential',
  ].filter(Boolean);
  if (given.length > 1) throw new InputError(`${given.join(' and ')}: give one of them, not several`);
  if (flags.passwordFile !== undefined) return { file: flags.passwordFile };
  if (flags.passwordEnv !== undefined) return { env: flags.passwordEnv };
  if (flags.passwordCredential !== undefined) return { credential: flags.passwordCredential };
  throw new InputError(
    '--password-file, --password-env or --password-credential is required: a check without a password gets the director blocked (max_connect_errors)',
  );
}
