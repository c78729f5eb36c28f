// Dockerfiles for folders that have none: one template per runtime (images/), chosen from what detection reported.
// Node.js lives in node-dockerfile.ts; the shared design rules are in images/dockerfile-parts.ts.
import type { Service } from '../../protocol';
import { cppImage } from './images/cpp-image';
import { denoImage } from './images/deno-image';
import type { Builder } from './builder';
import type { ImageTemplate } from './images/dockerfile-parts';
import { dotnetImage } from './images/dotnet-image';
import { elixirImage } from './images/elixir-image';
import { gleamImage } from './images/gleam-image';
import { goImage } from './images/go-image';
import { javaImage } from './images/java-image';
import { phpImage } from './images/php-image';
import { pythonImage } from './images/python-image';
import { rubyImage } from './images/ruby-image';
import { rustImage } from './images/rust-image';
import { staticImage } from './images/static-image';
import { nodeDockerfileLines } from './node-dockerfile';
import { nodeImageForEngine } from './node-engine';
import type { Runtime } from './orchestrator';

export const DEFAULT_BASE_IMAGES: Record<Runtime, string> = {
  // The Active LTS: Node 20 reached its end of life in April 2026, 22 is in maintenance until April 2027.
  node: 'node:24-slim',
  python: 'python:3.12-slim',
  go: 'golang:1.22',
  rust: 'rust:1',
  java: 'eclipse-temurin:21-jdk',
  php: 'php:8.3-cli',
  ruby: 'ruby:3.3-slim',
  dotnet: 'mcr.microsoft.com/dotnet/sdk:8.0',
  static: 'busybox:1.36',
  deno: 'denoland/deno:2.1.4',
  elixir: 'elixir:1.17',
  gleam: 'ghcr.io/gleam-lang/gleam:v1.6.3-erlang',
  cpp: 'debian:bookworm',
};

/**
 * Run-stage images of the multi-stage builds, whose toolchain is not needed at run time; each can be chosen like a
 * base image under the key `<runtime>-run` (`--base-image go-run=scratch`, `kyozo.baseImages`, KYOZO_BASE_IMAGES).
 */
export const DEFAULT_RUN_IMAGES = {
  go: 'gcr.io/distroless/static-debian12',
  rust: 'debian:bookworm-slim',
  java: 'eclipse-temurin:21-jre',
  dotnet: 'mcr.microsoft.com/dotnet/aspnet:8.0',
  elixir: 'debian:bookworm-slim',
  gleam: 'erlang:27-slim',
  cpp: 'debian:bookworm-slim',
} as const satisfies Partial<Record<Runtime, string>>;

type RunImageKey = `${keyof typeof DEFAULT_RUN_IMAGES}-run`;
/** `node-22`: the Node image for projects whose package.json `engines.node` accepts that major (node-engine.ts). */
type NodeMajorKey = `node-${number}`;
/**
 * Base images by runtime, run-stage images by `<runtime>-run`, Node images by major as `node-<major>`, and the image
 * of Node packages that use Bun (a bun.lock) as `bun`.
 */
export type BaseImages = Partial<Record<Runtime | RunImageKey | NodeMajorKey | 'bun', string>>;

/** Bun's own image: a Node image has no bun. */
export const DEFAULT_BUN_IMAGE = 'oven/bun:1';

/** Every key a base image can be given under, for the CLI and settings to check against. */
export const BASE_IMAGE_KEYS: readonly string[] = [
  ...Object.keys(DEFAULT_BASE_IMAGES),
  ...Object.keys(DEFAULT_RUN_IMAGES).map((r) => `${r}-run`),
  'node-<major>',
  'bun',
];

export function isBaseImageKey(key: string): key is keyof BaseImages {
  return BASE_IMAGE_KEYS.includes(key) || /^node-\d+$/.test(key);
}

const TEMPLATES: Record<Exclude<Runtime, 'node'>, ImageTemplate> = {
  python: pythonImage,
  go: goImage,
  rust: rustImage,
  java: javaImage,
  php: phpImage,
  ruby: rubyImage,
  dotnet: dotnetImage,
  static: staticImage,
  deno: denoImage,
  elixir: elixirImage,
  gleam: gleamImage,
  cpp: cppImage,
};

export function runtimeOf(service: Service): Runtime | undefined {
  if (service.build?.runtime) return service.build.runtime;
  const byType: Partial<Record<string, Runtime>> = {
    nodejs: 'node',
    python: 'python',
    golang: 'go',
    rust: 'rust',
    java: 'java',
    php: 'php',
    ruby: 'ruby',
    dotnet: 'dotnet',
    static: 'static',
    deno: 'deno',
    elixir: 'elixir',
    gleam: 'gleam',
    cpp: 'cpp',
    c: 'cpp',
  };
  return byType[service.type] ?? (service.language ? byType[service.language] : undefined);
}

/** What a generated build's context leaves out for this service's runtime, beyond the common list. */
export function runtimeContextIgnores(service: Service): string[] {
  const runtime = runtimeOf(service);
  return runtime && runtime !== 'node' ? (TEMPLATES[runtime].ignores ?? []) : [];
}

/**
 * The Dockerfile Kyozo builds for `service` (printed by `kyozo dockerfile <service>`), written for `builder`: under
 * BuildKit its package-manager steps get cache mounts, which the classic builder would refuse.
 */
export function generateDockerfile(
  service: Service,
  baseImages: BaseImages = {},
  options: { builder?: Builder } = {},
): string {
  const runtime = runtimeOf(service);
  if (!runtime) {
    throw new Error(
      `cannot generate a Dockerfile for ${service.id}: type '${service.type}' has no known runtime; ` +
        'add a Dockerfile or set type in kyozo.yaml',
    );
  }
  if (runtime === 'java' && service.language === 'scala') {
    throw new Error(
      `cannot generate a Dockerfile for ${service.id}: sbt builds are not generated; add a Dockerfile ` +
        '(sbt-native-packager writes one with `sbt Docker/stage`)',
    );
  }
  const bun = runtime === 'node' && service.build?.packageManager === 'bun';
  const byEngine = runtime === 'node' ? nodeImageForEngine(service.build?.node?.nodeEngine, baseImages) : undefined;
  const bunImage = bun ? (baseImages.bun ?? DEFAULT_BUN_IMAGE) : undefined;
  const base =
    service.build?.baseImage ?? bunImage ?? byEngine?.image ?? baseImages[runtime] ?? DEFAULT_BASE_IMAGES[runtime];
  const build = { cacheMounts: options.builder === 'buildkit' };
  const head = [
    `# Generated by Kyozo for ${service.id} (${runtime}). Commit it as Dockerfile to customise.`,
    ...(build.cacheMounts ? ['# Written for BuildKit (cache mounts); the classic builder refuses RUN --mount.'] : []),
  ];
  const lines =
    runtime === 'node'
      ? nodeDockerfileLines(service, base, build)
      : TEMPLATES[runtime].lines(service, { base, run: runImage(runtime, baseImages) ?? base }, build);
  return `${[...head, ...lines].join('\n')}\n`;
}

function runImage(runtime: Runtime, baseImages: BaseImages): string | undefined {
  if (!(runtime in DEFAULT_RUN_IMAGES)) return undefined;
  const key = runtime as keyof typeof DEFAULT_RUN_IMAGES;
  return baseImages[`${key}-run`] ?? DEFAULT_RUN_IMAGES[key];
}
