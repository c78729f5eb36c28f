// Java: Maven pom.xml and Gradle build files; Spring Boot apps (port from application.properties/yml).
import { ev, findLine } from './text';
import type { Dependency, Finding, FolderView } from './types';

const GRADLE = ['build.gradle', 'build.gradle.kts'];

export function detectJava(folder: FolderView): Finding | undefined {
  const maven = folder.has('pom.xml');
  const gradle = GRADLE.find((g) => folder.has(g));
  if (!maven && !gradle) return undefined;
  const manifest = maven ? 'pom.xml' : gradle!;
  const file = folder.rel(manifest);
  const text = folder.read(manifest) ?? '';
  const deps: Dependency[] = [];
  if (maven) {
    for (const m of text.matchAll(/<artifactId>\s*([^<\s]+)\s*<\/artifactId>/g)) deps.push({ name: m[1], file, line: findLine(text, m[0]) });
  } else {
    for (const m of text.matchAll(/['"]([\w.-]+):([\w.-]+)(?::[^'"]*)?['"]/g)) deps.push({ name: m[2], file, line: findLine(text, m[0]) });
  }
  const finding: Finding = {
    detector: 'java', type: 'java', rank: 5, language: /\.kts$/.test(manifest) || folder.exists('src/main/kotlin') ? 'kotlin' : 'java', confidence: 0.5,
    evidence: [ev(file, `${maven ? 'Maven' : 'Gradle'} project`)], indicators: [file], dependencies: deps,
    build: { runtime: 'java', packageManager: maven ? 'maven' : 'gradle', evidence: ev(file, maven ? 'Maven build' : 'Gradle build') },
  };
  const modules = maven ? [...text.matchAll(/<module>\s*([^<\s]+)\s*<\/module>/g)].map((m) => m[1]) : [];
  if (modules.length) finding.workspace = { tool: 'maven modules', members: modules, evidence: ev(file, 'aggregates Maven modules', findLine(text, '<modules>')) };
  const boot = /org\.springframework\.boot/.test(text);
  const web = deps.some((d) => /^spring-boot-starter-(web|webflux)$/.test(d.name));
  if (boot) {
    finding.frameworks = ['spring-boot'];
    finding.evidence.push(ev(file, 'Spring Boot application', findLine(text, 'org.springframework.boot')));
    const jar = maven ? 'target/*.jar' : 'build/libs/*.jar';
    finding.start = { command: `java -jar ${jar}`, source: 'framework-default', evidence: ev(file, 'Spring Boot fat jar') };
    finding.runnable = true;
    finding.worker = !web;
    finding.ports = [];
    const props = ['src/main/resources/application.properties', 'src/main/resources/application.yml', 'src/main/resources/application.yaml'].find((p) => folder.exists(p));
    if (props) {
      const ptext = folder.read(props) ?? '';
      const m = /^server\.port\s*[=:]\s*(\d+)/m.exec(ptext) ?? /^server:\s*\n(?:\s+.*\n)*?\s+port:\s*(\d+)/m.exec(ptext);
      if (m) finding.ports.push({ container: Number(m[1]), protocol: 'tcp', source: 'config', evidence: ev(folder.rel(props), `server.port ${m[1]}`, findLine(ptext, m[0].split('\n').at(-1)!.trim())) });
    }
    if (web) finding.ports.push({ container: 8080, protocol: 'tcp', source: 'framework-default', evidence: ev(file, 'Spring Boot listens on 8080 by default') });
    finding.entryFiles = findApplicationClass(folder);
    finding.confidence = 0.85;
  } else {
    finding.runnable = modules.length ? false : undefined;
    finding.frameworks = [];
    finding.confidence = 0.4;
  }
  return finding;
}

function findApplicationClass(folder: FolderView): string[] {
  const out: string[] = [];
  const stack = ['src/main/java', 'src/main/kotlin'];
  while (stack.length && out.length < 3) {
    const dir = stack.pop()!;
    const sub = folder.sub(dir);
    if (!sub) continue;
    for (const f of sub.files) if (/(Application|Controller)\.(java|kt)$/.test(f)) out.push(folder.rel(`${dir}/${f}`));
    for (const d of sub.subdirs) stack.push(`${dir}/${d}`);
  }
  return out;
}
