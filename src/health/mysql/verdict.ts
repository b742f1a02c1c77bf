// Shared shapes of the pure role verdicts.

export interface Verdict {
  ok: boolean;
  reason: string;
}

/** Which server dialect answers: decides status tables and statement names. */
export interface Flavor {
  mariadb: boolean;
  major: number;
  minor: number;
  patch: number;
}
