// The in-process half of bench:context, bundled by esbuild and run by plain Node.js as the CLI and the language server
// run the engine: analyse a tree, describe every folder (time, peak RSS), and size its repository map in tokens.
import { FolderDescriber } from '../../server/src/engine/context/folder-describer';
import { repoMap } from '../../server/src/engine/context/repo-map';

export interface ContextChildResult {
  folders: number;
  services: number;
  analyzeMs: number;
  describeAllMs: number;
  /** A second describeAll, from the cache. */
  describeAgainMs: number;
  mapTokens: number;
  mapMs: number;
  namesInMap: number;
  peakRssMb: number;
}

async function main(): Promise<void> {
  const root = process.argv[2];
  const t0 = performance.now();
  const describer = await FolderDescriber.open(root);
  const analyzeMs = performance.now() - t0;
  const t1 = performance.now();
  const all = await describer.describeAll();
  const describeAllMs = performance.now() - t1;
  const t2 = performance.now();
  await describer.describeAll();
  const describeAgainMs = performance.now() - t2;
  const t3 = performance.now();
  const topology = describer.topology();
  const map = repoMap(topology, all, { budgetTokens: 4000 });
  const mapMs = performance.now() - t3;
  const namesInMap = topology.services.filter((s) => map.text.includes(s.name)).length;
  const result: ContextChildResult = {
    folders: all.length,
    services: topology.services.length,
    analyzeMs,
    describeAllMs,
    describeAgainMs,
    mapTokens: map.tokens,
    mapMs,
    namesInMap,
    peakRssMb: process.resourceUsage().maxRSS / 1024,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
