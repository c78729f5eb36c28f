// Bun as the runtime, not only the package manager: `Bun.serve` in the entry module (package.json "module", as
// `bun init` writes it), started with `bun run` when no script says otherwise.
import type { PortSpec, StartSpec } from '../../protocol';
import { ev, findLine } from './text';
import type { FolderView } from './types';

export interface BunFacts {
  start?: StartSpec;
  ports: PortSpec[];
  serves: boolean;
}

/** `entries` are folder-relative entry files, best first; `hasStart` is whether a script already starts the app. */
export function bunFacts(folder: FolderView, entries: string[], hasStart: boolean): BunFacts {
  const out: BunFacts = { ports: [], serves: false };
  for (const entry of entries) {
    const src = folder.read(entry) ?? '';
    const at = src.search(/\bBun\.serve\s*\(/);
    if (at < 0) continue;
    out.serves = true;
    const call = src.slice(at, at + 400);
    const port = /\bport\s*:\s*(?:(?:Number\()?\s*(?:process\.env|Bun\.env)\.(\w+)\s*\)?\s*(?:\?\?|\|\|)\s*)?(\d{2,5})/.exec(call);
    const container = port ? Number(port[2]) : 3000;
    const evidence = ev(folder.rel(entry), port ? `Bun.serve on port ${container}` : 'Bun.serve listens on 3000 by default', findLine(src, port ? port[0] : 'Bun.serve'));
    out.ports.push({ container, protocol: 'tcp', source: port ? 'code' : 'framework-default', ...(port?.[1] ? { envVar: port[1] } : {}), evidence });
    if (!hasStart) out.start = { command: `bun run ${entry}`, source: 'framework-default', evidence: ev(folder.rel(entry), 'Bun.serve entry module') };
    return out;
  }
  if (!hasStart && entries.length) out.start = { command: `bun run ${entries[0]}`, source: 'framework-default', evidence: ev(folder.rel(entries[0]), 'entry module run by Bun') };
  return out;
}
