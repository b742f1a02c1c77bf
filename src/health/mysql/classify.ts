// Failure -> verdict in words, and whose fault it is. A server fault is "down"; a fault of the
// check's own setup (credentials, privileges, auth plugin, TLS) is a configuration error,
// which the core backs off on and never counts as up. Pure functions.
import type { DriverError, Phase } from './adapter';

export interface FailureVerdict {
  reason: string;
  configError: boolean;
}

/**
 * Server errors that mean the check account or its setup is wrong, not the server:
 * access denied (1044, 1045, 1698), missing privilege for the role query (1142, 1143, 1227),
 * client cannot do the auth protocol (1251), account limits (1226), expired or locked account
 * (1820, 1862, 3118, 4151).
 */
const CONFIG_ERRNOS = new Set([1044, 1045, 1142, 1143, 1226, 1227, 1251, 1698, 1820, 1862, 3118, 4151]);

/** Extra words for errors an operator should act on. */
const HINTS: Record<number, string> = {
  1129: "the director's address is blocked by max_connect_errors; run FLUSH HOSTS on the server",
  1227: 'grant the check account REPLICA MONITOR (MariaDB) or REPLICATION CLIENT (MySQL)',
  1251: 'the account uses an authentication plugin this client cannot use',
};

export function classifyFailure(err: DriverError, phase: Phase, tls: boolean): FailureVerdict {
  if (err.serverErrno !== undefined) {
    const hint = HINTS[err.serverErrno];
    return {
      reason: `ERR ${err.serverErrno} ${lowerFirst(err.message)}${hint ? ` (${hint})` : ''}`,
      configError: CONFIG_ERRNOS.has(err.serverErrno),
    };
  }
  if (err.client !== undefined) return clientFailure(err, phase);
  if (err.nodeCode !== undefined) return socketFailure(err.nodeCode, err.message, phase, tls);
  return { reason: `${err.message} during ${phaseInWords(phase)}`, configError: false };
}

function clientFailure(err: DriverError, phase: Phase): FailureVerdict {
  switch (err.client) {
    case 'auth-plugin-unsupported':
    case 'auth-plugin-not-allowed': {
      const plugin = /plugin '?([A-Za-z0-9_]+)'?/.exec(err.message)?.[1] ?? /protocol '([^']+)'/.exec(err.message)?.[1];
      return {
        reason: `the server asks for authentication plugin ${plugin ? `'${plugin}'` : '(unknown)'}, which the check does not use (allowed: mysql_native_password, caching_sha2_password, sha256_password, client_ed25519, parsec)`,
        configError: true,
      };
    }
    case 'rsa-key-needed':
      return {
        reason:
          'caching_sha2_password needs full authentication (no cached login on the server) but the connection has neither TLS nor the server RSA key: use TLS or give the server public key',
        configError: true,
      };
    case 'cleartext-needs-tls':
      return { reason: `the authentication plugin sends the password in clear and needs TLS: ${err.message}`, configError: true };
    case 'server-has-no-tls':
      return { reason: 'TLS is required but the server does not offer TLS', configError: true };
    case 'tls-identity':
      return { reason: `TLS: ${err.message}`, configError: true };
    case 'protocol':
      return { reason: `protocol error during ${phaseInWords(phase)}: ${err.message}`, configError: false };
    case 'closed':
      return { reason: `server closed the connection during ${phaseInWords(phase)}`, configError: false };
    default:
      return { reason: `${err.message} during ${phaseInWords(phase)}`, configError: false };
  }
}

const TLS_CODE = /CERT|SSL|TLS|UNABLE_TO|DEPTH_ZERO|EPROTO/;

function socketFailure(code: string, message: string, phase: Phase, tls: boolean): FailureVerdict {
  if (tls && TLS_CODE.test(code)) return { reason: `TLS: ${message} (${code})`, configError: true };
  switch (code) {
    case 'ECONNREFUSED':
      return { reason: 'connection refused', configError: false };
    case 'ECONNRESET':
    case 'EPIPE':
      return { reason: `connection reset by server during ${phaseInWords(phase)}`, configError: false };
    case 'EHOSTUNREACH':
      return { reason: 'host unreachable', configError: false };
    case 'ENETUNREACH':
      return { reason: 'network unreachable', configError: false };
    case 'ETIMEDOUT':
      return { reason: 'connect timed out in the kernel', configError: false };
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return { reason: `host name not resolved (${code})`, configError: false };
    case 'EMFILE':
    case 'ENFILE':
      return { reason: `out of file descriptors (${code})`, configError: true };
    default:
      return { reason: `socket error ${code} during ${phaseInWords(phase)}: ${message}`, configError: false };
  }
}

/** The words for a deadline that interrupted `phase` after `ms`. */
export function timeoutReason(phase: Phase, ms: number): string {
  switch (phase) {
    case 'connect':
      return `connect timeout after ${ms} ms`;
    case 'greeting':
      return `handshake timeout after ${ms} ms: connected, but the server sent no greeting`;
    case 'login':
      return `login timeout after ${ms} ms: greeting received, login not answered`;
    default:
      return `query timeout after ${ms} ms: logged in, the role query was not answered`;
  }
}

export function phaseInWords(phase: Phase): string {
  switch (phase) {
    case 'connect':
      return 'connect';
    case 'greeting':
      return 'handshake (before the greeting)';
    case 'login':
      return 'login';
    case 'query':
      return 'the role query';
    default:
      return 'close';
  }
}

function lowerFirst(text: string): string {
  // "Access denied for ..." -> "access denied for ..." but keep acronyms like "WSREP ..."
  return /^[A-Z][a-z]/.test(text) ? text[0].toLowerCase() + text.slice(1) : text;
}
