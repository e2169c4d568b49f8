// Prints the benchmark's tables: throughput and latency, generic/hand-written ratios against the
// targets, memory, startup.
import type { Report, Run } from './api.bench.ts';

const TARGETS = {
  ratioPostgresList: 0.5, // generic list ≥ ½ of hand-written on PostgreSQL
  idleRssEmbeddedMb: 1024,
  idleRssPostgresMb: 300,
  readyEmbeddedMs: 5000,
};

function table(header: string[], rows: (string | number)[][], right: boolean[]): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const w = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  const line = (r: string[]) => '| ' + r.map((c, i) => (right[i] ? c.padStart(w[i]) : c.padEnd(w[i]))).join(' | ') + ' |';
  return [line(header), '|' + w.map((n, i) => (right[i] ? '-'.repeat(n + 1) + ':' : '-'.repeat(n + 2))).join('|') + '|', ...cells.slice(1).map(line)].join('\n');
}

const f0 = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : 'n/a');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : 'n/a');

export function ratios(runs: Run[]): { database: string; endpoint: string; ratio: number; cpuRatio: number }[] {
  const out: { database: string; endpoint: string; ratio: number; cpuRatio: number }[] = [];
  for (const g of runs.filter((r) => r.implementation === 'generic')) {
    const h = runs.find((r) => r.implementation === 'handwritten' && r.database === g.database && r.endpoint === g.endpoint);
    if (h) out.push({ database: g.database, endpoint: g.endpoint, ratio: g.rps / h.rps, cpuRatio: g.serverUsPerReq / h.serverUsPerReq });
  }
  return out;
}

export function printReport(report: Report): void {
  const m = report.machine;
  const c = report.config;
  console.log(`\n## API throughput (${c.seconds} s per run, ${c.connections} connections, ${c.warmup} s warm-up, ${c.rows} rows)`);
  console.log(`machine: ${m.nproc} cores, ${m.cpu}, ${m.memory_gb} GB, node ${m.node}, ${m.date}; engine ${m.revision}\n`);
  console.log(table(
    ['database', 'endpoint', 'implementation', 'req/s', 'p50 ms', 'p99 ms', 'errors / non-2xx', 'server CPU µs/req', 'server % of a core', 'PostgreSQL CPU µs/req', 'autocannon CPU µs/req', 'machine CPU µs/req', 'other load % of a core'],
    report.runs.map((r) => [r.database, r.endpoint, r.implementation + (r.noisy ? ' (noisy)' : ''), f0(r.rps), f2(r.p50), f2(r.p99), `${r.errors + r.timeouts} / ${r.non2xx}`,
      f0(r.serverUsPerReq), f0(r.serverCorePct), f0(r.postgresUsPerReq), f0(r.loadgenUsPerReq), f0(r.machineUsPerReq), f0(r.otherCorePct)]),
    [false, false, false, true, true, true, true, true, true, true, true, true, true],
  ));

  console.log('\n## generic / hand-written throughput\n');
  console.log(table(['database', 'endpoint', 'throughput ratio', 'server CPU per request ratio', 'target (throughput)'], ratios(report.runs).map((x) => {
    const target = x.database === 'postgres' && x.endpoint === 'list'
      ? (x.ratio >= TARGETS.ratioPostgresList ? `≥ 0.50: met${x.ratio >= 0.95 ? ' (parity)' : ''}` : '≥ 0.50: NOT MET')
      : '(none; parity is the aim)';
    return [x.database, x.endpoint, f2(x.ratio), f2(x.cpuRatio), target];
  }), [false, false, true, true, false]));

  if (report.memory.length) {
    console.log('\n## memory of the benchmark server process (the engine and the servers above)\n');
    console.log(table(['database', 'startup ms (migrate + seed)', 'RSS after start MB', 'RSS after load MB', `RSS idle ${c.idle} s MB`, 'heap idle MB'],
      report.memory.map((x) => [x.database, f0(x.startMs), x.rssStartMb, x.rssAfterLoadMb, x.rssIdleMb, x.heapIdleMb]), [false, true, true, true, true, true]));
  }

  if (report.startup.length) {
    console.log('\n## `carry start` (Carry\'s own app/ folder)\n');
    const rows = report.startup.map((s) => {
      if ('error' in s) return [s.database, 'n/a', 'n/a', 'n/a', s.error];
      const first = s.firstRun.ok ? f0(s.firstRun.readyMs!) : 'n/a';
      const again = s.restart?.ok ? f0(s.restart.readyMs!) : 'n/a';
      const rssTarget = s.database === 'pglite' ? TARGETS.idleRssEmbeddedMb : TARGETS.idleRssPostgresMb;
      const notes: string[] = [s.appContents];
      if (!s.firstRun.ok) notes.push(`first run failed: ${s.firstRun.reason}`);
      else if (s.restart && !s.restart.ok) notes.push(`restart failed: ${s.restart.reason}`);
      if (s.restart?.ok && s.database === 'pglite') notes.push(`ready target ${TARGETS.readyEmbeddedMs} ms: ${s.restart.readyMs! <= TARGETS.readyEmbeddedMs ? 'met' : 'NOT MET'}`);
      if (s.idleRssMb !== null) notes.push(`idle RSS target < ${rssTarget} MB: ${s.idleRssMb < rssTarget ? 'met' : 'NOT MET'}`);
      return [s.database, first, again, s.idleRssMb ?? 'n/a', notes.join('; ')];
    });
    console.log(table(['database', 'first run → /readyz ms', 'restart → /readyz ms', `idle RSS MB (after ${c.idle} s)`, 'notes'], rows, [false, true, true, true, false]));
  }
  if (report.failures.length) console.log(`\nFAILURES:\n${report.failures.map((f) => '  ' + f).join('\n')}`);
}
