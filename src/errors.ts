// One catalogue of error classes with stable codes. Leaf module: imports nothing of ours.

export class LvsdError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** Bad input from a config file, a flag or stdin; message names the place. */
export class InputError extends LvsdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LVSD_ERR_INPUT', message, options);
  }
}

/**
 * A config file (or a command's flags) failed validation. Carries every problem at once, each
 * naming its place ("file:line:column: path.to.key: message", or the flag); the message lists them.
 */
export class ConfigError extends InputError {
  readonly errors: readonly string[];
  constructor(errors: readonly string[]) {
    super(errors.join('\n'));
    this.errors = Object.freeze([...errors]);
  }
}

/** The kernel refused or failed a netlink request. Keeps errno and the extended-ACK text. */
export class NetlinkError extends LvsdError {
  readonly errno: number;
  readonly extack?: string;
  readonly seq?: number;
  constructor(message: string, errno: number, extra: { extack?: string; seq?: number; cause?: unknown } = {}) {
    super('LVSD_ERR_NETLINK', message, { cause: extra.cause });
    this.errno = errno;
    this.extack = extra.extack;
    this.seq = extra.seq;
  }
}

/** Bytes received from (or handed to) the netlink codec do not form a valid message. */
export class MalformedMessageError extends LvsdError {
  constructor(message: string) {
    super('LVSD_ERR_MALFORMED_MESSAGE', `malformed netlink message: ${message}`);
  }
}

/** IPVS itself is missing from the running kernel. */
export class IpvsUnavailableError extends LvsdError {
  constructor(message = 'IPVS is not available in this kernel: load the ip_vs module') {
    super('LVSD_ERR_IPVS_UNAVAILABLE', message);
  }
}

/** An IPVS request failed; message is in words ("service 198.18.0.10:3306 already exists"). */
export class IpvsError extends LvsdError {
  readonly errno: number;
  constructor(message: string, errno: number, options?: { cause?: unknown }) {
    super('LVSD_ERR_IPVS', message, options);
    this.errno = errno;
  }
}

/** The operation needs privileges the process lacks. */
export class PermissionError extends LvsdError {
  /** the kernel's errno (EPERM) when the refusal came from the kernel */
  readonly errno?: number;
  constructor(message: string, options?: { errno?: number; cause?: unknown }) {
    super('LVSD_ERR_PERMISSION', message, { cause: options?.cause });
    this.errno = options?.errno;
  }
}

/** A health checker's own fault (bad credentials, TLS, unknown auth plugin), never "up". */
export class CheckConfigError extends LvsdError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('LVSD_ERR_CHECK_CONFIG', message, options);
  }
}

/** Realserver state on disk does not match the system. */
export class StateError extends LvsdError {
  constructor(message: string) {
    super('LVSD_ERR_STATE', message);
  }
}

/** The running kernel lacks a feature the request needs (a tunnel kind, a module); says which. */
export class KernelSupportError extends LvsdError {
  constructor(message: string) {
    super('LVSD_ERR_KERNEL_SUPPORT', message);
  }
}

/** VRRP cannot run here: the native module with its raw sockets is not built. */
export class VrrpUnavailableError extends LvsdError {
  constructor(message = 'VRRP needs the native module dist/native/vrrp_io.node (built by npm run build with a C compiler)') {
    super('LVSD_ERR_VRRP_UNAVAILABLE', message);
  }
}

/** A VRRP raw socket or frame operation failed; the message names the interface, the call and the errno in words. */
export class VrrpIoError extends LvsdError {
  readonly errno: number;
  readonly syscall: string;
  constructor(message: string, errno: number, syscall: string, options?: { cause?: unknown }) {
    super('LVSD_ERR_VRRP_IO', message, options);
    this.errno = errno;
    this.syscall = syscall;
  }
}
