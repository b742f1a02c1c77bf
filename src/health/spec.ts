// A check described as plain data, so it can cross into a worker thread (structured clone) and be
// turned back into a Checker there.
import { ExecChecker, type ExecCheckOptions } from './exec';
import { HttpChecker, type HttpCheckOptions } from './http';
import type { MysqlCheckOptions } from './mysql';
import { TcpChecker, type TcpCheckOptions } from './tcp';
import type { Checker } from './types';

export type CheckSpec =
  | { kind: 'tcp'; options: TcpCheckOptions }
  | { kind: 'http'; options: HttpCheckOptions }
  | { kind: 'exec'; options: ExecCheckOptions }
  // a logger cannot cross into a worker; the password crosses as its source (file/env), never as text
  | { kind: 'mysql'; options: Omit<MysqlCheckOptions, 'log'> };

export function createChecker(spec: CheckSpec): Checker {
  switch (spec.kind) {
    case 'tcp':
      return new TcpChecker(spec.options);
    case 'http':
      return new HttpChecker(spec.options);
    case 'exec':
      return new ExecChecker(spec.options);
    case 'mysql': {
      // loaded only when used: the MySQL client library is the heaviest dependency
      const { MysqlChecker } = require('./mysql') as typeof import('./mysql');
      return new MysqlChecker(spec.options);
    }
  }
}
