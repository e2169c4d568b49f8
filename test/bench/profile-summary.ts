// Summarises a V8 .cpuprofile (from BENCH_CPU_PROF): self time by package / engine folder, the
// top functions by self time, and inclusive time of chosen functions.
// node bin/run-ts.mjs test/bench/profile-summary.ts file.cpuprofile [functionName …]
import fs from 'node:fs';

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: Node[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number }

const [file, ...focus] = process.argv.slice(2);
const prof = JSON.parse(fs.readFileSync(file, 'utf8')) as Profile;
const byId = new Map(prof.nodes.map((n) => [n.id, n]));
const parent = new Map<number, number>();
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id);

const self = new Map<number, number>();
prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0) / 1000));
const total = [...self.values()].reduce((a, b) => a + b, 0);

function bucket(n: Node): string {
  const u = n.callFrame.url;
  const fn = n.callFrame.functionName;
  if (!u) return fn.startsWith('(') ? fn : '(native/V8)';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u);
  if (nm) return nm[1];
  if (u.startsWith('node:')) return u.split('/')[0].replace(/^node:internal.*/, 'node:internal');
  const m = /\/main\/(.+)$/.exec(u);
  if (m) return m[1].split('/').slice(0, m[1].startsWith('engine/') ? 3 : 2).join('/');
  return u;
}

const buckets = new Map<string, number>();
const fns = new Map<string, number>();
for (const [id, ms] of self) {
  const n = byId.get(id)!;
  buckets.set(bucket(n), (buckets.get(bucket(n)) ?? 0) + ms);
  const key = `${n.callFrame.functionName || '(anonymous)'}  ${n.callFrame.url.replace(/^.*\/(node_modules|main)\//, '')}:${n.callFrame.lineNumber + 1}`;
  fns.set(key, (fns.get(key) ?? 0) + ms);
}

const pct = (ms: number) => `${((100 * ms) / total).toFixed(1).padStart(5)} %`;
console.log(`profile ${file}: ${(total / 1000).toFixed(1)} s sampled\n\nself time by package / folder:`);
for (const [k, v] of [...buckets].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`  ${pct(v)}  ${k}`);
console.log('\ntop functions by self time:');
for (const [k, v] of [...fns].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log(`  ${pct(v)}  ${k}`);

// Inclusive time: a sample counts for a function if the function is anywhere on its stack.
if (focus.length) {
  console.log('\ninclusive time:');
  for (const name of focus) {
    let ms = 0;
    prof.samples.forEach((id, i) => {
      for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
        if (byId.get(cur)!.callFrame.functionName === name) { ms += (prof.timeDeltas[i] ?? 0) / 1000; break; }
      }
    });
    console.log(`  ${pct(ms)}  ${name}`);
  }
}
