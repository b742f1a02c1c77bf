// Root pino logger; components take child loggers. Never log config objects (they may hold secrets).
import pino from 'pino';

let root: pino.Logger | undefined;

export function rootLogger(): pino.Logger {
  root ??= pino({
    level: process.env.LVSD_LOG_LEVEL ?? 'info',
    base: { pid: process.pid },
    redact: { paths: ['password', '*.password', 'secret', '*.secret'], censor: '[redacted]' },
  });
  return root;
}

export function logger(component: string): pino.Logger {
  return rootLogger().child({ component });
}
