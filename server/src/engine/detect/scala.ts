// Scala: build.sbt with Play (PlayScala plugin), http4s (Ember/Blaze servers) or akka-http / pekko-http.
import type { PortSpec } from '../../protocol';
import { markProgramKind } from './program-kind';
import { ev, findLine } from '../parse/evidence';
import type { Finding, FolderView } from './types';

type Source = { file: string; text: string };

/** `.withPort(port"8080")`, `newServerAt("0.0.0.0", 8081)`, `bindHttp(8080, ...)`, `bindFlow(route, "host", 8080)`. */
const LISTEN = new RegExp(
  [
    String.raw`withPort\(\s*port"(\d+)"`,
    String.raw`newServerAt\(\s*"[^"]*"\s*,\s*(\d+)`,
    String.raw`bindHttp\(\s*(\d+)`,
    String.raw`bindFlow\([^,]+,\s*"[^"]*"\s*,\s*(\d+)`,
  ].join('|'),
);
const HEALTH = /(?:GET\s+|Root\s*\/\s*"|path\(\s*")\/?(health|healthz|ready|readyz|ping|status)\b/;
const MAIN = /extends\s+(?:IOApp|App)\b|def\s+main\s*\(|@main\b/;

export function detectScala(folder: FolderView): Finding | undefined {
  if (!folder.has('build.sbt')) return undefined;
  const file = folder.rel('build.sbt');
  const text = folder.read('build.sbt') ?? '';
  const name = /^\s*name\s*:=\s*"([^"]+)"/m.exec(text)?.[1];
  const deps = [...text.matchAll(/"([\w.-]+)"\s*%%?%?\s*"([\w.-]+)"/g)].map((m) => ({
    name: m[2],
    file,
    line: findLine(text, m[0]),
  }));
  const frameworks: string[] = [];
  const finding: Finding = {
    detector: 'scala',
    type: 'java',
    rank: 5,
    language: 'scala',
    confidence: 0.5,
    frameworks,
    packageName: name,
    evidence: [ev(file, 'build.sbt declares a Scala project')],
    indicators: [file],
    dependencies: deps,
    build: { runtime: 'java', evidence: ev(file, 'sbt build') },
  };
  const subprojects = [...text.matchAll(/project\.in\(\s*file\(\s*"([^"]+)"\s*\)\s*\)/g)].map((m) => m[1]);
  const members = subprojects.filter((d) => d !== '.');
  if (members.length) {
    const evidence = ev(file, 'sbt multi-project build', findLine(text, 'project.in'));
    finding.workspace = { tool: 'sbt', members, evidence };
  }
  const sources = scalaSources(folder);
  const ports: PortSpec[] = [];
  const stage = `target/universal/stage/bin/${name ?? 'app'}`;
  let fw: string | undefined;
  if (/enablePlugins\([^)]*PlayScala/.test(text)) {
    fw = 'play';
    const conf = folder.read('conf/application.conf') ?? '';
    const m = /^\s*(?:play\.server\.)?http\.port\s*[=:]\s*(\d+)/m.exec(conf);
    if (m) {
      const evidence = ev(folder.rel('conf/application.conf'), `http.port ${m[1]}`, findLine(conf, m[0].trim()));
      ports.push({ container: Number(m[1]), protocol: 'tcp', source: 'config', evidence });
    }
    const evidence = ev(file, 'Play listens on 9000 by default');
    ports.push({ container: 9000, protocol: 'tcp', source: 'framework-default', evidence });
    const startEvidence = ev(file, 'sbt stage of a Play app');
    const command = `${stage} -Dhttp.port=${ports[0].container}`;
    finding.start = { command, source: 'framework-default', evidence: startEvidence };
  } else if (deps.some((d) => /^http4s-(ember|blaze)-server/.test(d.name))) {
    fw = 'http4s';
  } else if (deps.some((d) => /^(akka|pekko)-http$/.test(d.name))) {
    fw = deps.some((d) => d.name === 'pekko-http') ? 'pekko-http' : 'akka-http';
  }
  if (fw) {
    frameworks.push(fw);
    const line = findLine(text, fw === 'play' ? 'PlayScala' : fw.replace('-http', ''));
    finding.evidence.push(ev(file, `${fw} application`, line));
  }
  const main = sources.find((s) => MAIN.test(s.text));
  if (main && fw && fw !== 'play') {
    const m = LISTEN.exec(main.text);
    if (m) {
      const port = Number(m[1] ?? m[2] ?? m[3] ?? m[4]);
      const evidence = ev(folder.rel(main.file), `listens on ${port}`, findLine(main.text, m[0]));
      ports.push({ container: port, protocol: 'tcp', source: 'code', evidence });
    }
    if (fw === 'http4s') {
      const evidence = ev(file, 'http4s Ember listens on 8080 by default');
      ports.push({ container: 8080, protocol: 'tcp', source: 'framework-default', evidence });
    }
  }
  finding.ports = ports;
  if (!main && fw !== 'play') {
    finding.runnable = false;
    finding.confidence = 0.4;
    return finding;
  }
  finding.runnable = true;
  finding.entryFiles = main ? [folder.rel(main.file)] : [];
  finding.start ??= { command: stage, source: 'framework-default', evidence: ev(folder.rel(main!.file), 'main') };
  const playRoutes = () => ({ file: 'conf/routes', text: folder.read('conf/routes') ?? '' });
  const routes: Source | undefined = fw === 'play' ? playRoutes() : main;
  const health = routes && HEALTH.exec(routes.text);
  if (health && ports.length) {
    const evidence = ev(folder.rel(routes!.file), `/${health[1]} route`, findLine(routes!.text, health[0]));
    finding.healthCheck = { kind: 'http', path: `/${health[1]}`, port: ports[0].container, evidence };
  }
  finding.confidence = fw ? 0.85 : 0.7;
  if (!fw && main) {
    const rooted = { file: folder.rel(main.file), text: main.text };
    markProgramKind(finding, [rooted], { file: rooted.file, line: findLine(main.text, MAIN), what: 'main returns' });
  }
  return finding;
}

function scalaSources(folder: FolderView): Source[] {
  const out: Source[] = [];
  const stack = ['src/main/scala', 'app'];
  while (stack.length && out.length < 12) {
    const dir = stack.pop()!;
    const sub = folder.sub(dir);
    if (!sub) continue;
    for (const f of sub.files) {
      if (f.endsWith('.scala')) out.push({ file: `${dir}/${f}`, text: folder.read(`${dir}/${f}`) ?? '' });
    }
    for (const d of sub.subdirs) stack.push(`${dir}/${d}`);
  }
  return out;
}
