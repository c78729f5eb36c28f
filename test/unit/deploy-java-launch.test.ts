// The generated Java image starts the program the way detection says it starts, for every Java service Kyozo builds
// in the fixtures: a runnable jar with `java -jar`, the Gradle `application` plugin's installDist script, a Maven
// main class from its compiled classes and copied dependencies. Read as text (no JDK image can be pulled here).
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyze } from '../../server/src/engine';
import { generateDockerfile, runtimeOf } from '../../server/src/engine/deploy/dockerfile-generator';
import type { Service } from '../../server/src/protocol';
import { FIXTURES } from '../support/fixture-expect';

const HEAP = '-XX:MaxRAMPercentage=75';

/** The stage the container runs: everything after the last FROM. */
const runStage = (dockerfile: string) => dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
const buildStage = (dockerfile: string) => dockerfile.slice(0, dockerfile.lastIndexOf('\nFROM '));

function cmd(dockerfile: string): string[] {
  const line = /^CMD (.*)$/m.exec(runStage(dockerfile))?.[1];
  assert.ok(line, `no CMD in\n${dockerfile}`);
  return JSON.parse(line) as string[];
}

/** A start command split as sh splits it (single quotes only: detection writes no other quoting). */
function words(command: string): string[] {
  return [...command.matchAll(/'([^']*)'|(\S+)/g)].map((m) => m[1] ?? m[2]!);
}

/** Paths under /app the run stage copies in. */
function copied(dockerfile: string): string[] {
  return [...runStage(dockerfile).matchAll(/^COPY --from=build \S+ (\/app\/\S+)$/gm)].map((m) => m[1]!);
}

async function javaServices(): Promise<{ root: string; svc: Service }[]> {
  const out: { root: string; svc: Service }[] = [];
  const roots = readdirSync(FIXTURES).filter((n) => statSync(join(FIXTURES, n)).isDirectory());
  for (const root of roots.filter((n) => !['malformed-inputs', 'deploy-broken', 'windows-files'].includes(n))) {
    for (const svc of (await analyze(join(FIXTURES, root))).services) {
      if (!svc.build || svc.build.dockerfile || svc.image || runtimeOf(svc) !== 'java' || svc.language === 'scala')
        continue;
      out.push({ root, svc });
    }
  }
  return out;
}

test('every generated Java image runs the start command detection reports', async () => {
  const services = await javaServices();
  const kinds = new Set<string>();
  const problems: string[] = [];
  for (const { root, svc } of services) {
    const dockerfile = generateDockerfile(svc);
    const detected = words(svc.start?.command ?? '');
    const run = cmd(dockerfile);
    const name = `${root} ${svc.id}: detected \`${svc.start?.command}\`, image runs ${JSON.stringify(run)}`;
    if (detected[0] === 'java' && detected[1] === '-jar') {
      kinds.add('jar');
      // The jar is picked by the build (its version is read from the output, not guessed) and copied as app.jar.
      if (run.join(' ') !== `java ${HEAP} -jar /app/app.jar`) problems.push(name);
    } else if (detected[0] === 'java') {
      kinds.add('classpath');
      // The same class path and main class, with the heap flag; every class path entry is copied into /app.
      if (JSON.stringify(run) !== JSON.stringify(['java', HEAP, ...detected.slice(1)])) problems.push(name);
      const classpath = detected[detected.indexOf('-cp') + 1]!.split(':').map((p) => `/app/${p.replace(/\/\*$/, '')}`);
      for (const p of classpath) if (!copied(dockerfile).includes(p)) problems.push(`${name}: ${p} is not copied`);
      if (!/dependency:copy-dependencies/.test(buildStage(dockerfile))) problems.push(`${name}: no copy-dependencies`);
    } else {
      kinds.add('script');
      // The installDist script at the path detection names, relative to /app where its folder is copied.
      if (JSON.stringify(run) !== JSON.stringify(detected)) problems.push(name);
      const home = detected[0]!.replace(/\/bin\/[^/]+$/, '');
      if (!copied(dockerfile).includes(`/app/${home}`)) problems.push(`${name}: ${home} is not copied`);
      if (!/ installDist\b/.test(buildStage(dockerfile))) problems.push(`${name}: no installDist`);
      if (!runStage(dockerfile).includes(`ENV JAVA_OPTS=${HEAP}`)) problems.push(`${name}: no heap limit`);
    }
  }
  assert.deepEqual(problems, []);
  assert.deepEqual([...kinds].sort(), ['classpath', 'jar', 'script'], 'every way a Java program starts is covered');
});

test('the runnable-programs fixtures: installDist scripts, a Maven main class by class path, a shaded jar', async () => {
  const programs = await analyze(join(FIXTURES, 'runnable-programs'));
  const image = (id: string) => generateDockerfile(programs.services.find((s) => s.id === id)!);

  // Gradle `application` without settings.gradle: the build runs in a folder named like the project, so the
  // script installDist writes has the name detection gave it.
  const batch = image('java-batch');
  assert.match(buildStage(batch), /^WORKDIR \/src\/java-batch$/m);
  assert.match(buildStage(batch), /--no-daemon -x test installDist$/m);
  assert.match(
    batch,
    /^COPY --from=build \/src\/java-batch\/build\/install\/java-batch \/app\/build\/install\/java-batch$/m,
  );
  assert.deepEqual(cmd(batch), ['build/install/java-batch/bin/java-batch']);
  assert.doesNotMatch(batch, /app\.jar/);

  // settings.gradle.kts names the project weekly-digest.
  assert.deepEqual(cmd(image('kotlin-digest')), ['build/install/weekly-digest/bin/weekly-digest']);

  // Maven with only the exec plugin: the plain jar has no Main-Class and no dependencies (postgresql here).
  const seed = image('java-seed');
  assert.match(buildStage(seed), /-DskipTests package dependency:copy-dependencies -DincludeScope=runtime/);
  assert.match(seed, /^COPY --from=build \/src\/target\/classes \/app\/target\/classes$/m);
  assert.match(seed, /^COPY --from=build \/src\/target\/dependency \/app\/target\/dependency$/m);
  assert.deepEqual(cmd(seed), ['java', HEAP, '-cp', 'target/classes:target/dependency/*', 'com.acme.seed.Seed']);

  // The shade plugin's jar carries its main class and dependencies.
  assert.deepEqual(cmd(image('java-indexer')), ['java', HEAP, '-jar', '/app/app.jar']);
});

test('kyozo.yaml build or start keeps the jar contract (/out/app.jar) and the user command', async () => {
  const programs = await analyze(join(FIXTURES, 'runnable-programs'));
  const batch = programs.services.find((s) => s.id === 'java-batch')!;
  const withBuild: Service = {
    ...batch,
    build: { ...batch.build!, command: 'gradle shadowJar && cp build/libs/*-all.jar /out/app.jar' },
  };
  assert.deepEqual(cmd(generateDockerfile(withBuild)), ['java', HEAP, '-jar', '/app/app.jar']);
  const withStart: Service = {
    ...batch,
    start: { command: 'java -jar /app/app.jar --once', source: 'kyozo.yaml', evidence: batch.start!.evidence },
  };
  assert.deepEqual(cmd(generateDockerfile(withStart)), ['java', '-jar', '/app/app.jar', '--once']);
});
