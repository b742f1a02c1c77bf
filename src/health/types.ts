// The contract every checker kind implements. Timing, rise/fall, jitter, back-off and
// deduplication live in the core (core.ts), never in a checker.

/** Outcome of one probe. */
export interface CheckResult {
  ok: boolean;
  /** in words: "connect timeout after 1000 ms", "ERR 1045 access denied ...", "wsrep_local_state=2 (Donor/Desynced)" */
  reason: string;
  /** wall time of the probe in ms */
  latencyMs: number;
  /**
   * Set when the fault is the checker's own (bad credentials, TLS failure, unknown auth plugin):
   * a configuration error, reported as such, retried with back-off and never counted as "up".
   */
  configError?: boolean;
  /** exec checks with dynamic weight: the weight the script asked for */
  weight?: number;
}

/** What a probe runs against. */
export interface CheckTarget {
  host: string; // IPv4 or IPv6 literal, or a name
  port: number;
}

/**
 * One kind of check. `run` must finish (resolve, never reject) by the time `signal` aborts,
 * destroying any socket or process it opened.
 */
export interface Checker {
  readonly kind: 'tcp' | 'mysql' | 'http' | 'exec';
  /** identifies target + parameters (no secrets), so equal probes can be shared */
  readonly key: string;
  run(signal: AbortSignal): Promise<CheckResult>;
}
