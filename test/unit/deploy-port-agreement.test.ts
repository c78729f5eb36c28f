// For every fixture service Kyozo builds with a generated Dockerfile, in every runtime: the port detection reports
// is the port the generated image's process listens on, as far as the image says (a listen flag in its command, the
// PORT it sets, what it EXPOSEs), and a program that listens on nothing exposes nothing.
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { analyze } from '../../server/src/engine';
import { generateDockerfile, runtimeOf } from '../../server/src/engine/deploy/dockerfile-generator';
import type { Service } from '../../server/src/protocol';
import { FIXTURES } from '../support/fixture-expect';

/** Fixtures that are inputs for error paths, not projects to deploy. */
const NOT_PROJECTS = new Set(['malformed-inputs', 'deploy-broken', 'windows-files']);

/** The stage the container runs: everything after the last FROM. */
function runStage(dockerfile: string): string {
  return dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
}

/** The port a listen flag in the run stage's CMD/ENTRYPOINT names (gunicorn --bind, php -S, --port, --listen ...). */
function commandPort(stage: string): number | undefined {
  const command = [...stage.matchAll(/^(?:CMD|ENTRYPOINT) (.*)$/gm)].map((m) => m[1]!).join(' ');
  const text = command.startsWith('[') ? command.replace(/",\s*"/g, ' ').replace(/[[\]"]/g, ' ') : command;
  const flag =
    /(?:--bind|-b|-S|--listen|--urls|--server\.port)[=\s]+(?:[a-z]+:\/\/)?(?:[\w.*+[\]-]*:)?(\d{2,5})\b/.exec(text) ??
    /(?:--port|-p)[=\s]+(\d{2,5})\b/.exec(text) ??
    /\b0\.0\.0\.0:(\d{2,5})\b/.exec(text);
  return flag ? Number(flag[1]) : undefined;
}

/** PORT (or another variable the detected port reads, or ASP.NET's URLs) as the run stage sets it. */
function envPort(stage: string, name = 'PORT'): number | undefined {
  const m =
    new RegExp(String.raw`^ENV\b.*\b${name}[= ](\d{2,5})\b`, 'm').exec(stage) ??
    /^ENV\b.*\bASPNETCORE_(?:URLS=\S*:|HTTP_PORTS=)(\d{2,5})\b/m.exec(stage);
  return m ? Number(m[1]) : undefined;
}

function exposed(stage: string): number[] {
  return [...stage.matchAll(/^EXPOSE (.*)$/gm)].flatMap((m) => m[1]!.split(/\s+/)).map((p) => Number.parseInt(p, 10));
}

function fixtureRoots(): string[] {
  const roots: string[] = [];
  for (const name of readdirSync(FIXTURES).sort()) {
    if (NOT_PROJECTS.has(name) || !statSync(join(FIXTURES, name)).isDirectory()) continue;
    roots.push(name);
  }
  // Each single-app repository of the new runtimes is also a project of its own.
  for (const app of readdirSync(join(FIXTURES, 'polyglot-runtimes')).sort()) {
    if (statSync(join(FIXTURES, 'polyglot-runtimes', app)).isDirectory()) roots.push(`polyglot-runtimes/${app}`);
  }
  return roots;
}

/** What disagrees between the detected port and the generated image; empty when they agree. */
function disagreement(svc: Service, dockerfile: string): string | undefined {
  const stage = runStage(dockerfile);
  const want = svc.ports[0]?.container;
  const fromCommand = commandPort(stage);
  const fromEnv = envPort(stage, svc.ports[0]?.envVar ?? 'PORT') ?? envPort(stage);
  const exposes = exposed(stage);
  if (want === undefined) {
    if (exposes.length || fromCommand !== undefined)
      return `listens on nothing, image exposes ${exposes} / ${fromCommand}`;
    return undefined;
  }
  if (!exposes.includes(want)) return `detected ${want}, image exposes ${exposes.join(' ') || 'nothing'}`;
  if (fromCommand !== undefined && fromCommand !== want)
    return `detected ${want}, image command listens on ${fromCommand}`;
  if (fromCommand === undefined && fromEnv !== undefined && fromEnv !== want) {
    return `detected ${want}, image sets PORT=${fromEnv}`;
  }
  return undefined;
}

test('every generated image listens on the port detection reports, in every runtime', async () => {
  const mismatches: string[] = [];
  const runtimes = new Map<string, number>();
  for (const root of fixtureRoots()) {
    const topology = await analyze(join(FIXTURES, root));
    for (const svc of topology.services) {
      // Only services Kyozo builds itself: a Dockerfile of the project's own, or an image, says its own port.
      if (!svc.build || svc.build.dockerfile || svc.image) continue;
      const runtime = runtimeOf(svc);
      if (!runtime) continue;
      let dockerfile: string;
      try {
        dockerfile = generateDockerfile(svc);
      } catch {
        continue; // a build Kyozo refuses with what to do (sbt) has no image to compare
      }
      runtimes.set(runtime, (runtimes.get(runtime) ?? 0) + 1);
      const problem = disagreement(svc, dockerfile);
      if (problem) mismatches.push(`${root} ${svc.id} (${runtime}): ${problem}`);
    }
  }
  // The comparison covers every runtime with a template, not only Node.
  for (const r of ['node', 'python', 'go', 'rust', 'java', 'php', 'ruby', 'dotnet', 'deno', 'elixir', 'gleam', 'cpp']) {
    assert.ok(runtimes.has(r), `no fixture service with a generated ${r} image: ${[...runtimes.keys()].join(', ')}`);
  }
  assert.deepEqual(mismatches, []);
});
