// What the machine was doing while a figure was taken: load average, and how long a process
// waited for a CPU (/proc/<pid>/schedstat: time on CPU, time runnable but waiting, in ns).
import { readFileSync } from 'node:fs';

export function loadavg(): string {
  return readFileSync('/proc/loadavg', 'utf8').trim().split(' ').slice(0, 3).join(' ');
}

export interface SchedStat {
  runNs: number;
  waitNs: number;
}

/** `pid` 'self' or a process id: its main thread's schedstat (the thread that runs the checks). */
export function schedstat(pid: number | 'self' = 'self'): SchedStat {
  const [run, wait] = readFileSync(`/proc/${pid}/schedstat`, 'utf8').trim().split(' ').map(Number);
  return { runNs: run, waitNs: wait };
}

/** Share of `wallMs` a process spent runnable but not running. */
export function waitShare(a: SchedStat, b: SchedStat, wallMs: number): number {
  return (b.waitNs - a.waitNs) / 1e6 / wallMs;
}

/** Share of one CPU a busy loop gets now (a probe of contention), over `ms`. */
export function cpuShareProbe(ms = 500): number {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    // spin
  }
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000 / (performance.now() - t0);
}

/** utime+stime of a process in µs, from /proc/<pid>/stat. */
export function processCpuUs(pid: number, ticksPerS = 100): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1e6) / ticksPerS;
}

export function rssBytes(pid: number | 'self' = 'self'): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

export const wallNow = (): number => performance.timeOrigin + performance.now();
