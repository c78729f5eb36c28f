// Java: Maven pom.xml and Gradle build files; Spring Boot apps (port from application.properties/yml).
import { gradleStart, mavenStart } from './jvm-artifact';
import { ktorFacts } from './ktor';
import { markProgramKind } from './program-kind';
import { ev, findLine } from '../parse/evidence';
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
  let packageName: string | undefined;
  if (maven) {
    // The project's own artifactId is the first one outside <parent>; the rest are dependencies and plugins.
    const withoutParent = text.replace(/<parent>[\s\S]*?<\/parent>/, '');
    packageName = /<artifactId>\s*([^<\s]+)\s*<\/artifactId>/.exec(withoutParent)?.[1];
    for (const m of withoutParent.matchAll(/<artifactId>\s*([^<\s]+)\s*<\/artifactId>/g)) {
      if (m[1] !== packageName) deps.push({ name: m[1], file, line: findLine(text, m[0]) });
    }
  } else {
    for (const m of text.matchAll(/['"]([\w.-]+):([\w.-]+)(?::[^'"]*)?['"]/g))
      deps.push({ name: m[2], file, line: findLine(text, m[0]) });
  }
  const finding: Finding = {
    detector: 'java',
    type: 'java',
    rank: 5,
    language: folder.sub('src/main/kotlin') ? 'kotlin' : 'java',
    confidence: 0.5,
    evidence: [ev(file, `${maven ? 'Maven' : 'Gradle'} project`)],
    indicators: [file],
    dependencies: deps,
    build: {
      runtime: 'java',
      packageManager: maven ? 'maven' : 'gradle',
      evidence: ev(file, maven ? 'Maven build' : 'Gradle build'),
    },
  };
  finding.packageName = packageName ?? (gradle ? folder.dir.split('/').at(-1) : undefined);
  const modules = maven ? [...text.matchAll(/<module>\s*([^<\s]+)\s*<\/module>/g)].map((m) => m[1]) : [];
  if (modules.length)
    finding.workspace = {
      tool: 'maven modules',
      members: modules,
      evidence: ev(file, 'aggregates Maven modules', findLine(text, '<modules>')),
    };
  // An aggregator (`<packaging>pom</packaging>`) only builds its modules; a Spring Boot app applies the plugin or
  // depends on a starter — inheriting the Boot parent alone makes neither.
  const aggregator = modules.length > 0 || /<packaging>\s*pom\s*<\/packaging>/.test(text);
  const boot =
    !aggregator &&
    (/spring-boot-maven-plugin|org\.springframework\.boot['"]?\s*(version|\))|id\s*\(?\s*['"]org\.springframework\.boot/.test(
      text,
    ) ||
      deps.some((d) => /^spring-boot-starter/.test(d.name)));
  const web = deps.some((d) => /^spring-boot-starter-(web|webflux)$/.test(d.name));
  const ktor = !aggregator && deps.some((d) => /^ktor-server-(core|netty|cio|jetty)(-jvm)?$/.test(d.name));
  if (boot) {
    finding.frameworks = ['spring-boot'];
    finding.evidence.push(ev(file, 'Spring Boot application', findLine(text, 'org.springframework.boot')));
    const command = maven ? mavenStart(text) : gradleStart(folder, text, 'boot');
    finding.start = { command, source: 'framework-default', evidence: ev(file, 'Spring Boot fat jar') };
    finding.runnable = true;
    finding.worker = !web;
    finding.ports = [];
    const props = [
      'src/main/resources/application.properties',
      'src/main/resources/application.yml',
      'src/main/resources/application.yaml',
    ].find((p) => folder.exists(p));
    if (props) {
      const ptext = folder.read(props) ?? '';
      // `server.port=8081`, `server.port=${PORT:8082}` (env with a default), or YAML `server: port:`.
      const m =
        /^server\.port\s*[=:]\s*(?:\$\{(\w+):(\d+)\}|(\d+))/m.exec(ptext) ??
        /^server:\s*\n(?:\s+.*\n)*?\s+port:\s*(?:\$\{(\w+):(\d+)\}|(\d+))/m.exec(ptext);
      const port = m ? Number(m[2] ?? m[3]) : undefined;
      if (m && port) {
        finding.ports.push({
          container: port,
          protocol: 'tcp',
          source: 'config',
          ...(m[1] ? { envVar: m[1] } : {}),
          evidence: ev(
            folder.rel(props),
            `server.port ${m[1] ? `\${${m[1]}:${port}}` : port}`,
            findLine(ptext, m[0].split('\n').at(-1)!.trim()),
          ),
        });
      }
    }
    if (web)
      finding.ports.push({
        container: 8080,
        protocol: 'tcp',
        source: 'framework-default',
        evidence: ev(file, 'Spring Boot listens on 8080 by default'),
      });
    const actuator = deps.find((d) => d.name === 'spring-boot-starter-actuator');
    if (web && actuator) {
      const evidence = ev(actuator.file, 'Spring Boot Actuator serves /actuator/health', actuator.line);
      finding.frameworkHealth = { kind: 'http', path: '/actuator/health', evidence };
    }
    finding.entryFiles = findApplicationClass(folder);
    finding.confidence = 0.85;
  } else if (!aggregator && (mainClass(text) || ktor)) {
    // Gradle's `application` plugin or a Maven plugin naming a main class (exec, shade, jar): a plain Java program,
    // a gRPC server with grpc-java for instance. The Ktor plugin applies `application` itself.
    const main = mainClass(text) ?? 'ApplicationKt';
    const simple = main.slice(main.lastIndexOf('.') + 1);
    finding.frameworks = [];
    const line = findLine(text, main);
    const command = maven ? mavenStart(text, main) : gradleStart(folder, text, 'application');
    finding.start = { command, source: 'framework-default', evidence: ev(file, `main class ${main}`, line) };
    finding.evidence.push(ev(file, `runs ${main}`, line));
    finding.runnable = true;
    finding.ports = [];
    const source = ['src/main/java', 'src/main/kotlin']
      .map((d) => `${d}/${main.replace(/\./g, '/')}`)
      .flatMap((base) => [`${base}.java`, `${base}.kt`, `${base.replace(/Kt$/, '')}.kt`])
      .find((f) => folder.exists(f));
    finding.entryFiles = source ? [folder.rel(source)] : [];
    finding.confidence = 0.75;
    if (ktor) Object.assign(finding, ktorFacts(folder, file, source));
    else if (source) {
      const what = `${simple}.main returns`;
      const at = folder.rel(source);
      const text = folder.read(source) ?? '';
      const line = findLine(text, /\bstatic\s+void\s+main\s*\(|\bfun\s+main\s*\(/);
      markProgramKind(finding, [{ file: at, text }], { file: at, line, what });
    }
  } else {
    // A module without Boot is a library of its siblings (or an aggregator of them).
    finding.runnable = false;
    finding.frameworks = [];
    finding.confidence = 0.4;
  }
  return finding;
}

/** The main class: `application { mainClass = 'a.B' }`, `mainClassName = 'a.B'`, `<mainClass>a.B</mainClass>`. */
function mainClass(build: string): string | undefined {
  const gradle = /\bmainClass(?:Name)?\s*(?:=|\.set\()\s*['"]([\w.$]+)['"]/.exec(build);
  if (gradle && /\bapplication\b/.test(build)) return gradle[1];
  return /<mainClass>\s*([\w.$]+)\s*<\/mainClass>/.exec(build)?.[1];
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
