// Ktor on Kotlin: the port from embeddedServer(Netty, port = 8080) in the main source or from
// application.conf / application.yaml (ktor.deployment.port, with ${?PORT}), and a health route of its routing.
import type { HealthCheck, PortSpec } from '../../protocol';
import { ev, findLine } from '../parse/evidence';
import type { FolderView } from './types';

const RESOURCES = 'src/main/resources';
const CONFIGS = ['application.conf', 'application.yaml', 'application.yml'].map((f) => `${RESOURCES}/${f}`);
const EMBEDDED = new RegExp(
  String.raw`embeddedServer\(\s*\w+\s*,\s*(?:port\s*=\s*)?` +
    String.raw`(?:System\.getenv\("(\w+)"\)\?\.toInt\(\)\s*\?:\s*)?(\d{2,5})`,
);
const HEALTH = /\bget\(\s*"(\/(?:health|healthz|ready|readyz|live|livez|status|ping))"\s*\)/;

export interface KtorFacts {
  frameworks: string[];
  ports: PortSpec[];
  healthCheck?: HealthCheck;
  entryFiles: string[];
}

/** `mainSource` is the folder-relative file of the main class, when found. */
export function ktorFacts(folder: FolderView, buildFile: string, mainSource: string | undefined): KtorFacts {
  const ports: PortSpec[] = [];
  const entryFiles = mainSource ? [folder.rel(mainSource)] : [];
  const sources = kotlinSources(folder, mainSource);
  for (const s of sources) {
    const m = EMBEDDED.exec(s.text);
    if (!m) continue;
    const evidence = ev(folder.rel(s.file), `embeddedServer on port ${m[2]}`, findLine(s.text, m[0]));
    const env = m[1] ? { envVar: m[1] } : {};
    ports.push({ container: Number(m[2]), protocol: 'tcp', source: 'code', ...env, evidence });
    break;
  }
  const conf = CONFIGS.find((c) => folder.exists(c));
  if (conf && !ports.length) {
    const text = folder.read(conf) ?? '';
    const m = /^\s*port\s*[:=]\s*(\d{2,5})/m.exec(text);
    const envVar = /^\s*port\s*[:=]\s*\$\{\??(\w+)/m.exec(text)?.[1] ?? /^\s*port\s*[:=]\s*"?\$(\w+):/m.exec(text)?.[1];
    if (m) {
      const evidence = ev(folder.rel(conf), `ktor.deployment.port ${m[1]}`, findLine(text, m[0].trim()));
      const env = envVar ? { envVar } : {};
      ports.push({ container: Number(m[1]), protocol: 'tcp', source: 'config', ...env, evidence });
    }
  }
  const fallback = ev(buildFile, 'Ktor listens on 8080 by default');
  ports.push({ container: 8080, protocol: 'tcp', source: 'framework-default', evidence: fallback });
  let healthCheck: HealthCheck | undefined;
  for (const s of sources) {
    const h = HEALTH.exec(s.text);
    if (!h) continue;
    const evidence = ev(folder.rel(s.file), `GET ${h[1]} route`, findLine(s.text, h[0]));
    healthCheck = { kind: 'http', path: h[1], port: ports[0].container, evidence };
    if (!entryFiles.includes(folder.rel(s.file))) entryFiles.push(folder.rel(s.file));
    break;
  }
  return { frameworks: ['ktor'], ports, healthCheck, entryFiles };
}

function kotlinSources(folder: FolderView, first: string | undefined): { file: string; text: string }[] {
  const files: string[] = first ? [first] : [];
  const stack = ['src/main/kotlin', 'src'];
  while (stack.length && files.length < 16) {
    const dir = stack.pop()!;
    const sub = folder.sub(dir);
    if (!sub) continue;
    for (const f of sub.files) if (f.endsWith('.kt') && !files.includes(`${dir}/${f}`)) files.push(`${dir}/${f}`);
    if (dir !== 'src') for (const d of sub.subdirs) stack.push(`${dir}/${d}`);
  }
  return files.map((file) => ({ file, text: folder.read(file) ?? '' }));
}
