// C and C++: CMake (add_executable / add_library), Meson (executable / library) and Makefiles that link a program
// with a main(); crow, drogon, cpp-httplib and Boost.Beast servers with the port their main source listens on.
import type { PortSpec } from '../../protocol';
import { markProgramKind } from './program-kind';
import { ev, findLine } from '../parse/evidence';
import type { Finding, FolderView } from './types';

const SOURCE = /\.(c|cc|cpp|cxx)$/;
const SERVERS: [RegExp, string][] = [
  [/find_package\s*\(\s*Crow\b|Crow::Crow|#include\s*[<"]crow/i, 'crow'],
  [/find_package\s*\(\s*Drogon\b|Drogon::Drogon|#include\s*<drogon\//, 'drogon'],
  [/httplib::httplib|cpp-httplib|#include\s*[<"]httplib\.h/, 'cpp-httplib'],
  [/boost\/beast|Boost::beast|COMPONENTS[^)]*\bbeast\b/i, 'boost-beast'],
];
/** The listen call of each server library: crow `.port(18080)`, drogon `addListener("0.0.0.0", 8080)`, ... */
const LISTEN: [RegExp, string][] = [
  [/\.port\(\s*(\d{2,5})\s*\)/, 'crow app.port'],
  [/addListener\(\s*"[^"]*"\s*,\s*(\d{2,5})\s*\)/, 'drogon addListener'],
  [/\.listen\(\s*"[^"]*"\s*,\s*(\d{2,5})\s*\)/, 'httplib listen'],
  [/tcp::endpoint\s*\{?\(?\s*[^,;]+,\s*(?:static_cast<unsigned short>\()?(\d{2,5})/, 'tcp::endpoint'],
  [/\b(?:unsigned\s+short|std::uint16_t|uint16_t|int|auto|const\s+\w+)\s+port\s*=\s*(\d{2,5})/, 'port'],
];
const HEALTH = /"\/(health|healthz|ready|readyz|ping|status)"/;
const MAIN = /\bint\s+main\s*\(/;

export function detectNative(folder: FolderView): Finding | undefined {
  const manifest = ['CMakeLists.txt', 'meson.build', 'Makefile'].find((f) => folder.has(f));
  if (!manifest) return undefined;
  const file = folder.rel(manifest);
  const text = folder.read(manifest) ?? '';
  const tools = { 'CMakeLists.txt': 'cmake', 'meson.build': 'meson', Makefile: 'make' } as const;
  const tool = tools[manifest as keyof typeof tools];
  const project = /\bproject\s*\(\s*'?([\w.-]+)/i.exec(text)?.[1];
  const exe = /\badd_executable\s*\(\s*([\w.${}-]+)|\bexecutable\s*\(\s*'([\w.-]+)'/.exec(text);
  const lib = /\badd_library\s*\(|\b(?:shared_|static_)?library\s*\(\s*'/.test(text);
  // A Makefile names no target type: it builds a program when one of its sources defines main().
  const sources = sourceFiles(folder);
  const withMain = sources.find((s) => MAIN.test(folder.read(s) ?? ''));
  if (tool === 'make' && !sources.length) return undefined;
  const cpp = sources.some((s) => !s.endsWith('.c')) || /\bCXX\b|LANGUAGES\s+CXX|'cpp'/.test(text);
  const frameworks: string[] = [];
  const finding: Finding = {
    detector: 'native',
    type: 'cpp',
    rank: tool === 'make' ? 3 : 5,
    language: cpp ? 'cpp' : 'c',
    confidence: 0.5,
    evidence: [ev(file, `${manifest} builds ${cpp ? 'C++' : 'C'} code`)],
    indicators: [file],
    frameworks,
    packageName: project,
  };
  // A test or benchmark executable is run by the build, not deployed.
  const testTarget = /(^|[_-])(tests?|unittests?|bench(mark)?s?|examples?)([_-]|$)/i.test(exe?.[1] ?? exe?.[2] ?? '');
  if (testTarget && !lib) return undefined; // a tests/ folder of the project around it
  const program = tool === 'make' ? withMain !== undefined : exe !== null && !testTarget;
  if (!program) {
    finding.runnable = false;
    finding.confidence = lib ? 0.5 : 0.3;
    return finding;
  }
  const named = (exe?.[1] ?? exe?.[2])?.replace('${PROJECT_NAME}', project ?? 'app');
  const target = named ?? /^(\w[\w.-]*)\s*:/m.exec(text)?.[1] ?? project ?? 'app';
  const main = withMain ?? sources[0];
  const mainText = main ? (folder.read(main) ?? '') : '';
  for (const [re, name] of SERVERS) {
    const inBuild = re.test(text);
    if (!inBuild && !re.test(mainText)) continue;
    frameworks.push(name);
    const line = findLine(inBuild ? text : mainText, re);
    finding.evidence.push(ev(inBuild ? file : folder.rel(main!), `uses ${name}`, line));
  }
  const binary = { cmake: `./build/${target}`, meson: `./builddir/${target}`, make: `./${target}` }[tool];
  const startEvidence = ev(file, `builds the program ${target}`, findLine(text, exe?.[0] ?? target));
  finding.start = { command: binary, source: 'manifest', evidence: startEvidence };
  finding.runnable = true;
  finding.entryFiles = main ? [folder.rel(main)] : [];
  const ports: PortSpec[] = [];
  if (main && frameworks.length) {
    const hit = LISTEN.map(([re, reason]) => ({ m: re.exec(mainText), reason })).find((x) => x.m);
    if (hit) {
      const evidence = ev(folder.rel(main), `${hit.reason} ${hit.m![1]}`, findLine(mainText, hit.m![0]));
      ports.push({ container: Number(hit.m![1]), protocol: 'tcp', source: 'code', evidence });
    }
    const health = HEALTH.exec(mainText);
    if (health && ports.length) {
      const evidence = ev(folder.rel(main), `/${health[1]} route`, findLine(mainText, health[0]));
      finding.healthCheck = { kind: 'http', path: `/${health[1]}`, port: ports[0].container, evidence };
    }
  }
  finding.ports = ports;
  finding.confidence = ports.length ? 0.85 : 0.7;
  if (!ports.length && !frameworks.length && main) {
    const end = { file: folder.rel(main), line: findLine(mainText, MAIN), what: 'main() returns' };
    markProgramKind(finding, [{ file: folder.rel(main), text: mainText }], end);
  }
  return finding;
}

function sourceFiles(folder: FolderView): string[] {
  const out = folder.files.filter((f) => SOURCE.test(f));
  for (const dir of ['src', 'source', 'app']) {
    for (const f of folder.sub(dir)?.files ?? []) if (SOURCE.test(f)) out.push(`${dir}/${f}`);
  }
  return out.slice(0, 16);
}
