// The in-process half of bench:detect, run as its own Node.js process from an esbuild bundle (the way the language
// server and the CLI run the engine) rather than from TypeScript transpiled file by file by tsx: analyze() several
// times, then update() after one-file edits, each edit checked in the result. Prints one JSON line.
// Usage: node detect-child.js <tree> <runs> <edits> <plain file> <entry file> <Dockerfile>
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { analyze, createAnalyzer } from '../../server/src/engine';

export interface ChildResult {
  inProc: number[];
  srcTimes: number[];
  entryTimes: number[];
  dockerTimes: number[];
  seen: number;
  checked: number;
  services: number;
  libraries: number;
  scanned: number;
  rssMb: number;
}

async function main(): Promise<void> {
  const [tree, runsArg, editsArg, srcRel, entryRel, dockerRel] = process.argv.slice(2);
  const runs = Number(runsArg);
  const edits = Number(editsArg);
  const inProc: number[] = [];
  let services = 0;
  let libraries = 0;
  let scanned = 0;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    const topo = await analyze(tree);
    inProc.push(performance.now() - t0);
    services = topo.services.length;
    libraries = topo.libraries.length;
    scanned = topo.stats.files;
  }

  // In turn: a plain source file (nothing reads it: the cheap case), the entry file the code reader uses (its listen
  // port changes), and a Dockerfile EXPOSE line.
  const analyzer = createAnalyzer({ root: tree });
  await analyzer.analyze();
  const entryId = entryRel.slice(0, entryRel.indexOf('/src/'));
  const dockerId = dockerRel.slice(0, dockerRel.lastIndexOf('/'));
  const originals = new Map([srcRel, entryRel, dockerRel].map((p) => [p, readFileSync(join(tree, p), 'utf8')]));
  const srcTimes: number[] = [];
  const entryTimes: number[] = [];
  const dockerTimes: number[] = [];
  let seen = 0;
  let checked = 0;
  const timed = async (rel: string, into: number[]) => {
    const t0 = performance.now();
    const r = await analyzer.update([rel]);
    into.push(performance.now() - t0);
    return r.topology;
  };
  try {
    for (let e = 0; e < edits; e++) {
      const port = 20000 + e;
      if (e % 3 === 0) {
        writeFileSync(join(tree, srcRel), `${originals.get(srcRel)}// edit ${e}\n`);
        await timed(srcRel, srcTimes);
      } else if (e % 3 === 1) {
        writeFileSync(join(tree, entryRel), originals.get(entryRel)!.replace(/\|\| \d+\)/, `|| ${port})`));
        const t = await timed(entryRel, entryTimes);
        checked++;
        if (t.services.find((s) => s.id === entryId)?.ports[0]?.container === port) seen++;
      } else {
        writeFileSync(join(tree, dockerRel), originals.get(dockerRel)!.replace(/EXPOSE \d+/, `EXPOSE ${port}`));
        const t = await timed(dockerRel, dockerTimes);
        checked++;
        if (t.services.find((s) => s.id === dockerId)?.ports[0]?.container === port) seen++;
      }
    }
  } finally {
    for (const [p, text] of originals) writeFileSync(join(tree, p), text);
  }
  const result: ChildResult = {
    inProc,
    srcTimes,
    entryTimes,
    dockerTimes,
    seen,
    checked,
    services,
    libraries,
    scanned,
    rssMb: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`detect-child failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
