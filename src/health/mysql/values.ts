// Reading server values the same way whatever type the driver returned (number, bigint, string).

export function asText(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (Buffer.isBuffer(v)) return v.toString('utf8');
  return String(v);
}

export function asNumber(v: unknown): number | null {
  const text = asText(v);
  if (text === null || text.trim() === '') return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}

/** ON/OFF variables come back as 1/0, 'ON'/'OFF' or 'YES'/'NO' depending on server and type. */
export function asSwitch(v: unknown): boolean | null {
  const text = asText(v);
  if (text === null) return null;
  const t = text.trim().toUpperCase();
  if (t === '1' || t === 'ON' || t === 'YES' || t === 'TRUE') return true;
  if (t === '0' || t === 'OFF' || t === 'NO' || t === 'FALSE') return false;
  return null;
}

export function onOff(v: boolean | null): string {
  return v === null ? 'NULL' : v ? 'ON' : 'OFF';
}
