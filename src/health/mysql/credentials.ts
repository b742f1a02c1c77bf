// Where the check account's password comes from. Never inline: a file only its owner can read,
// or an environment variable. Errors name the file or variable, never the content.
import { readFileSync, statSync } from 'node:fs';
import { InputError } from '../../errors';

export type PasswordSource = { file: string } | { env: string };

/** Words for the source, safe for keys, logs and errors. */
export function describePasswordSource(source: PasswordSource): string {
  return 'file' in source ? `file ${source.file}` : `env ${source.env}`;
}

export function loadPassword(source: PasswordSource, env: NodeJS.ProcessEnv = process.env): string {
  return 'file' in source ? readPasswordFile(source.file) : readPasswordEnv(source.env, env);
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
