// CPU accounting from /proc, so each run can say who spent the machine's time: the server
// process, PostgreSQL's backends, the load generator, everything else.
import fs from 'node:fs';
import type pg from 'pg';

/** Busy CPU time of the whole machine so far (all cores), µs, from /proc/stat. */
export function machineBusyUs(): number {
  try {
    const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    const [user, nice, system, , , irq, softirq] = f; // idle, iowait and steal are not ours
    return ((user + nice + system + irq + softirq) * 1e6) / 100; // USER_HZ = 100
  } catch { return NaN; }
}

/** CPU time (user + system) of one process so far, µs, from /proc (0 if it is gone). */
function processCpuUs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(f[11]) + Number(f[12])) * 1e6) / 100; // utime, stime (fields 14 and 15), USER_HZ = 100
  } catch { return 0; }
}

/**
 * CPU of the PostgreSQL backends serving one database, as a snapshot to diff: backends are
 * found in pg_stat_activity (the server must be on this machine for /proc to see them).
 */
export type CpuSnapshot = Map<number, number>;
export async function backendCpu(admin: pg.Client | null, database: string): Promise<CpuSnapshot> {
  const snap: CpuSnapshot = new Map();
  if (!admin) return snap;
  const r = await admin.query('SELECT pid FROM pg_stat_activity WHERE datname = $1', [database]);
  for (const { pid } of r.rows as { pid: number }[]) snap.set(pid, processCpuUs(pid));
  return snap;
}
export function cpuDelta(a: CpuSnapshot, b: CpuSnapshot): number {
  let us = 0;
  for (const [pid, t] of b) us += t - (a.get(pid) ?? 0); // a backend that appeared meanwhile counts from 0
  return us;
}
