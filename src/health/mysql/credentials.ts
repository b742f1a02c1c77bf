// Where the check account's password comes from. Never inline: a file only its owner can read,
// an environment variable, or a systemd credential (LoadCredential=, read from
// $CREDENTIALS_DIRECTORY, not inherited by child processes). Errors name the place, never the content.
import { readFileSync, statSync } from 'node:fs';
import { InputError } from '../../errors';

export type PasswordSource = { file: string } | { env: string } | { credential: string };

/** Words for the source, safe for keys, logs and errors. */
export function describePasswordSource(source: PasswordSource): string {
  if ('file' in source) return `file ${source.file}`;
  if ('env' in source) return `env ${source.env}`;
  return `credential ${source.credential}`;
}

export function loadPassword(source: PasswordSource, env: NodeJS.ProcessEnv = process.env): string {
  if ('file' in source) return readPasswordFile(source.file);
  if ('env' in source) return readPasswordEnv(source.env, env);
  return readCredential(source.credential, env);
}

function readCredential(name: string, env: NodeJS.ProcessEnv): string {
  if (!/^[A-Za-z0-9_.-]+$/.test(name) || name === '.' || name === '..') {
    throw new InputError(`--password-credential: "${name}" is not a credential name`);
  }
  const dir = env.CREDENTIALS_DIRECTORY;
  if (!dir) {
    throw new InputError(`--password-credential ${name}: CREDENTIALS_DIRECTORY is not set (run under systemd with LoadCredential=${name}:...)`);
  }
  return readPasswordFile(`${dir}/${name}`);
}

function readPasswordFile(path: string): string {
  let mode: number;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new InputError(`password file ${path} is not a regular file`);
    mode = st.mode & 0o777;
  } catch (err) {
    if (err instanceof InputError) throw err;
    throw new InputError(`password file ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  if ((mode & 0o077) !== 0) {
    const octal = mode.toString(8).padStart(4, '0');
    throw new InputError(
      `password file ${path} has mode ${octal}: group or others can access it; run chmod 600 ${path}`,
    );
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new InputError(`password file ${path} cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`);
  }
  // One trailing newline is how editors and `echo` leave a file; it is not part of the password.
  const password = text.replace(/\r?\n$/, '');
  if (password === '') throw new InputError(`password file ${path} is empty`);
  return password;
}

function readPasswordEnv(name: string, env: NodeJS.ProcessEnv): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new InputError(`--password-env: "${name}" is not a valid environment variable name`);
  }
  const value = env[name];
  if (value === undefined || value === '') {
    throw new InputError(`environment variable ${name} (password) is not set or empty`);
  }
  return value;
}
