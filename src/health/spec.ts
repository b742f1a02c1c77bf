// A check described as plain data, so it can cross into a worker thread (structured clone) and be
// turned back into a Checker there.
import { ExecChecker, type ExecCheckOptions } from './exec';
import { HttpChecker, type HttpCheckOptions } from './http';
import { TcpChecker, type TcpCheckOptions } from './tcp';
import type { Checker } from './types';

export type CheckSpec =
  | { kind: 'tcp'; options: TcpCheckOptions }
  | { kind: 'http'; options: HttpCheckOptions }
  | { kind: 'exec'; options: ExecCheckOptions };

export function createChecker(spec: CheckSpec): Checker {
  switch (spec.kind) {
    case 'tcp':
      return new TcpChecker(spec.options);
    case 'http':
      return new HttpChecker(spec.options);
    case 'exec':
      return new ExecChecker(spec.options);
  }
}
