// Bun as the runtime, not only the package manager: `Bun.serve` in the entry module (package.json "module", as
// `bun init` writes it), started with `bun run` when no script says otherwise.
import type { PortSpec, StartSpec } from '../../protocol';
import { ev, findLine } from '../parse/evidence';
import type { FolderView } from './types';

export interface BunFacts {
  start?: StartSpec;
  ports: PortSpec[];
}

/** `port: 3000`, `port: Number(process.env.PORT) || 3000`, `port: Bun.env.PORT ?? 3000`. */
const PORT = /\bport\s*:\s*(?:(?:Number\()?\s*(?:process\.env|Bun\.env)\.(\w+)\s*\)?\s*(?:\?\?|\|\|)\s*)?(\d{2,5})/;

/** `entries` are folder-relative entry files, best first; `hasStart` is whether a script already starts the app. */
export function bunFacts(folder: FolderView, entries: string[], hasStart: boolean): BunFacts {
  const out: BunFacts = { ports: [] };
  const runs = (entry: string, reason: string): StartSpec | undefined => {
    if (hasStart) return undefined;
    return { command: `bun run ${entry}`, source: 'framework-default', evidence: ev(folder.rel(entry), reason) };
  };
  for (const entry of entries) {
    const src = folder.read(entry) ?? '';
    const at = src.search(/\bBun\.serve\s*\(/);
    if (at < 0) continue;
    const port = PORT.exec(src.slice(at, at + 400));
    const container = port ? Number(port[2]) : 3000;
    const reason = port ? `Bun.serve on port ${container}` : 'Bun.serve listens on 3000 by default';
    const evidence = ev(folder.rel(entry), reason, findLine(src, port ? port[0] : 'Bun.serve'));
    const env = port?.[1] ? { envVar: port[1] } : {};
    out.ports.push({ container, protocol: 'tcp', source: port ? 'code' : 'framework-default', ...env, evidence });
    out.start = runs(entry, 'Bun.serve entry module');
    return out;
  }
  if (entries.length) out.start = runs(entries[0], 'entry module run by Bun');
  return out;
}
