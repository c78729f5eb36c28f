// The detector registry: which file names make a folder worth looking at, and the detectors to run on it.
import { isComposeFileName } from '../parse/compose-syntax';
import { detectDockerfile, isDockerfileName } from './dockerfile';
import { detectDeno } from './deno';
import { detectDotnet } from './dotnet';
import { detectElixir } from './elixir';
import { detectLoneScript, detectShellEntry } from './entry-scripts';
import { detectGleam } from './gleam';
import { detectGo, detectGoCommand, detectGoWork } from './go';
import { detectJava } from './java';
import { detectKyozoYaml } from './kyozo-yaml';
import { detectNative } from './native';
import { detectProcfile } from './procfile';
import { detectStatic } from './static-site';
import { detectTerraform } from './terraform';
import { detectWorkspaceTools } from './workspace-tools';
import { detectNode } from './node';
import { detectPhp } from './php';
import { detectProxy } from './proxy';
import { detectPython } from './python';
import { detectRuby } from './ruby';
import { detectRust } from './rust';
import { detectScala } from './scala';
import type { Detector, Finding, FolderView } from './types';

const INDICATOR_NAMES = new Set([
  'package.json',
  'requirements.txt',
  'pyproject.toml',
  'Pipfile',
  'setup.py',
  'manage.py',
  'go.mod',
  'go.work',
  'Cargo.toml',
  'pom.xml',
  'build.gradle',
  'build.gradle.kts',
  'composer.json',
  'Gemfile',
  'nginx.conf',
  'default.conf',
  'nginx.conf.template',
  'default.conf.template',
  'Caddyfile',
  'Procfile',
  'index.html',
  'kyozo.yaml',
  'kyozo.yml',
  'nx.json',
  'turbo.json',
  'pnpm-workspace.yaml',
  'lerna.json',
  'Containerfile',
  'main.go',
  'mix.exs',
  'gleam.toml',
  'deno.json',
  'deno.jsonc',
  'CMakeLists.txt',
  'meson.build',
  'Makefile',
  'build.sbt',
  'start.sh',
  'run.sh',
  'main.py',
  'bot.py',
  'index.js',
  'index.php',
]);

// Every file name of the tree passes through here, and most names repeat across folders (index.js, main.go): the
// verdict is remembered per name.
const indicatorVerdicts = new Map<string, boolean>();

export function isIndicatorName(name: string): boolean {
  let verdict = indicatorVerdicts.get(name);
  if (verdict === undefined) {
    verdict =
      INDICATOR_NAMES.has(name) ||
      isDockerfileName(name) ||
      isComposeFileName(name) ||
      name.endsWith('.tf') ||
      /\.(cs|fs)proj$/.test(name);
    if (indicatorVerdicts.size >= 100_000) indicatorVerdicts.clear();
    indicatorVerdicts.set(name, verdict);
  }
  return verdict;
}

const DETECTORS: Detector[] = [
  detectKyozoYaml,
  detectDockerfile,
  detectNode,
  detectPython,
  detectGo,
  detectGoCommand,
  detectGoWork,
  detectRust,
  detectJava,
  detectPhp,
  detectRuby,
  detectDotnet,
  detectElixir,
  detectGleam,
  detectDeno,
  detectNative,
  detectScala,
  detectProxy,
  detectTerraform,
  detectProcfile,
  detectShellEntry,
  detectLoneScript,
  detectStatic,
  detectWorkspaceTools,
];

/** Findings for one folder; folders without an indicator file cost one scan of their file names. */
export function detectFolder(folder: FolderView): Finding[] {
  if (!folder.files.some(isIndicatorName)) return [];
  const out: Finding[] = [];
  for (const detect of DETECTORS) {
    let result: Finding | Finding[] | undefined;
    try {
      result = detect(folder);
    } catch (err) {
      // A detector bug must not cost the rest of the analysis: report it on the folder and go on.
      out.push({
        detector: 'error',
        confidence: 0,
        evidence: [],
        indicators: [],
        problems: [
          {
            severity: 'warning',
            code: 'detector-failed',
            file: folder.dir,
            message: `Analysing ${folder.dir} failed in ${detect.name}: ${(err as Error).message}`,
          },
        ],
      });
      continue;
    }
    if (Array.isArray(result)) out.push(...result);
    else if (result) out.push(result);
  }
  // A bare index.html next to a language manifest or proxy config is that app's page, not a static site of its
  // own; beside only a Dockerfile, it is what the image serves.
  if (
    out.length > 1 &&
    out.some((f) => f.detector === 'static') &&
    out.some(
      (f) =>
        (f.rank ?? 0) > 2 &&
        f.detector !== 'kyozo.yaml' &&
        !(f.detector === 'dockerfile' && f.type === 'containerized'),
    )
  ) {
    return out.filter((f) => f.detector !== 'static');
  }
  return out;
}

export type { Finding, FolderView } from './types';
