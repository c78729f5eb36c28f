// Scala: build.sbt with Play (PlayScala plugin), http4s (Ember/Blaze servers) or akka-http / pekko-http.
import type { PortSpec } from '../../protocol';
import { markProgramKind } from './program-kind';
import { ev, findLine } from './text';
import type { Finding, FolderView } from './types';

export function detectScala(folder: FolderView): Finding | undefined {
  if (!folder.has('build.sbt')) return undefined;
  const file = folder.rel('build.sbt');
  const text = folder.read('build.sbt') ?? '';
  const name = /^\s*name\s*:=\s*"([^"]+)"/m.exec(text)?.[1];
  const deps = [...text.matchAll(/"([\w.-]+)"\s*%%?%?\s*"([\w.-]+)"/g)].map((m) => ({ name: m[2], file, line: findLine(text, m[0]) }));
  const finding: Finding = {
    detector: 'scala', type: 'java', rank: 5, language: 'scala', confidence: 0.5, frameworks: [], packageName: name,
    evidence: [ev(file, 'build.sbt declares a Scala project')], indicators: [file], dependencies: deps,
    build: { runtime: 'java', evidence: ev(file, 'sbt build') },
  };
  const subprojects = [...text.matchAll(/project\.in\(\s*file\(\s*"([^"]+)"\s*\)\s*\)/g)].map((m) => m[1]).filter((d) => d !== '.');
  if (subprojects.length) finding.workspace = { tool: 'sbt', members: subprojects, evidence: ev(file, 'sbt multi-project build', findLine(text, 'project.in')) };
  const sources = scalaSources(folder);
  const ports: PortSpec[] = [];
  let fw: string | undefined;
  if (/enablePlugins\([^)]*PlayScala/.test(text)) {
    fw = 'play';
    const conf = folder.read('conf/application.conf') ?? '';
    const m = /^\s*(?:play\.server\.)?http\.port\s*[=:]\s*(\d+)/m.exec(conf);
    if (m) ports.push({ container: Number(m[1]), protocol: 'tcp', source: 'config', evidence: ev(folder.rel('conf/application.conf'), `http.port ${m[1]}`, findLine(conf, m[0].trim())) });
    ports.push({ container: 9000, protocol: 'tcp', source: 'framework-default', evidence: ev(file, 'Play listens on 9000 by default') });
    finding.start = { command: `target/universal/stage/bin/${name ?? 'app'} -Dhttp.port=${ports[0].container}`, source: 'framework-default', evidence: ev(file, 'sbt stage of a Play app') };
  } else if (deps.some((d) => /^http4s-(ember|blaze)-server/.test(d.name))) {
    fw = 'http4s';
  } else if (deps.some((d) => /^(akka|pekko)-http$/.test(d.name))) {
    fw = deps.some((d) => d.name === 'pekko-http') ? 'pekko-http' : 'akka-http';
  }
  if (fw) {
    finding.frameworks = [fw];
    finding.evidence.push(ev(file, `${fw} application`, findLine(text, fw === 'play' ? 'PlayScala' : fw.replace('-http', ''))));
  }
  const main = sources.find((s) => /extends\s+(?:IOApp|App)\b|def\s+main\s*\(|@main\b/.test(s.text));
  if (main && fw && fw !== 'play') {
    // `.withPort(port"8080")`, `newServerAt("0.0.0.0", 8081)`, `bindHttp(8080, ...)`.
    const m = /withPort\(\s*port"(\d+)"|newServerAt\(\s*"[^"]*"\s*,\s*(\d+)|bindHttp\(\s*(\d+)|bindFlow\([^,]+,\s*"[^"]*"\s*,\s*(\d+)/.exec(main.text);
    if (m) {
      const port = Number(m[1] ?? m[2] ?? m[3] ?? m[4]);
      ports.push({ container: port, protocol: 'tcp', source: 'code', evidence: ev(folder.rel(main.file), `listens on ${port}`, findLine(main.text, m[0])) });
    }
    if (fw === 'http4s') ports.push({ container: 8080, protocol: 'tcp', source: 'framework-default', evidence: ev(file, 'http4s Ember listens on 8080 by default') });
  }
  if (main || fw === 'play') {
    finding.runnable = true;
    finding.entryFiles = main ? [folder.rel(main.file)] : [];
    finding.start ??= { command: `target/universal/stage/bin/${name ?? 'app'}`, source: 'framework-default', evidence: ev(folder.rel(main!.file), 'main object') };
    const routesFile = fw === 'play' ? 'conf/routes' : main?.file;
    const routes = routesFile ? (fw === 'play' ? folder.read(routesFile) ?? '' : main!.text) : '';
    const health = /(?:GET\s+|Root\s*\/\s*"|path\(\s*")\/?(health|healthz|ready|readyz|ping|status)\b/.exec(routes);
    if (health && ports.length) {
      finding.healthCheck = { kind: 'http', path: `/${health[1]}`, port: ports[0].container, evidence: ev(folder.rel(routesFile!), `/${health[1]} route`, findLine(routes, health[0])) };
    }
    finding.confidence = fw ? 0.85 : 0.7;
    if (!fw && main) markProgramKind(finding, [{ file: folder.rel(main.file), text: main.text }], { file: folder.rel(main.file), what: 'main returns' });
  } else {
    finding.runnable = false;
    finding.confidence = 0.4;
  }
  finding.ports = ports;
  return finding;
}

function scalaSources(folder: FolderView): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  const stack = ['src/main/scala', 'app'];
  while (stack.length && out.length < 12) {
    const dir = stack.pop()!;
    const sub = folder.sub(dir);
    if (!sub) continue;
    for (const f of sub.files) if (f.endsWith('.scala')) out.push({ file: `${dir}/${f}`, text: folder.read(`${dir}/${f}`) ?? '' });
    for (const d of sub.subdirs) stack.push(`${dir}/${d}`);
  }
  return out;
}
