// Programs without a manifest: a start.sh, a run.sh with no Procfile beside it, or a lone main.py, bot.py, index.js
// or index.php at the root of a repository. Each one starts something, so its folder is deployable.
import type { PortSpec } from '../../protocol';
import { markProgramKind } from './program-kind';
import { ev, findLine } from '../parse/evidence';
import { portsInCommand } from './command-ports';
import type { Finding, FolderView } from './types';

const SHELL_ENTRIES = ['start.sh', 'run.sh'];
const MANIFESTS = [
  'package.json',
  'requirements.txt',
  'pyproject.toml',
  'Pipfile',
  'setup.py',
  'composer.json',
  'deno.json',
  'deno.jsonc',
];
const LONE: [string, string, 'python' | 'javascript' | 'php'][] = [
  ['main.py', 'python main.py', 'python'],
  ['bot.py', 'python bot.py', 'python'],
  ['index.js', 'node index.js', 'javascript'],
  ['index.php', 'php -S 0.0.0.0:8000 index.php', 'php'],
];
/** What a page served over HTTP uses: the request superglobals, headers, output outside `<?php`. */
const WEB_PHP =
  /\$_(?:GET|POST|SERVER|REQUEST|COOKIE|SESSION|FILES)\b|\bheader\s*\(|\bhttp_response_code\s*\(|<\?=|<html/i;
/** Manifests and sources of languages with a detector of their own, so a shell entry is only their launcher. */
const OTHER_LANGUAGE_FILES = new RegExp(
  String.raw`^(?:package\.json|requirements\.txt|pyproject\.toml|Pipfile|setup\.py|` +
    String.raw`composer\.json|deno\.jsonc?|go\.mod|Cargo\.toml|pom\.xml|build\.gradle(?:\.kts)?|Gemfile|mix\.exs|` +
    String.raw`gleam\.toml|CMakeLists\.txt|meson\.build|Makefile|build\.sbt|.*\.(?:csproj|fsproj|py|js|ts|rb|php|go))$`,
);
const TYPE_OF = { python: 'python', javascript: 'nodejs', php: 'php' } as const;
const RUNTIME_OF = { python: 'python', javascript: 'node', php: 'php' } as const;

export function detectShellEntry(folder: FolderView): Finding | undefined {
  if (folder.has('Procfile')) return undefined;
  const script = SHELL_ENTRIES.find((f) => folder.has(f));
  if (!script) return undefined;
  const file = folder.rel(script);
  const text = folder.read(script) ?? '';
  // The last command that is not a comment, an export or a `set`: usually the `exec` that becomes the process.
  const lines = text.split(/\r?\n/);
  let at = -1;
  for (let i = lines.length - 1; i >= 0 && at < 0; i--) {
    const l = lines[i].trim();
    if (l && !/^(#|set\s|export\s|fi$|done$|esac$|\}$|;;)/.test(l)) at = i;
  }
  const line = at >= 0 ? at + 1 : undefined;
  const ports: PortSpec[] = portsInCommand(text).map((p) => {
    const evidence = ev(file, `${script} sets ${p.reason}`, findLine(text, p.reason));
    return { container: p.port, protocol: 'tcp', source: 'script', evidence };
  });
  // The script is the program only when nothing beside it is built in another language (start.sh exec'ing gunicorn).
  const alone = !folder.files.some((f) => OTHER_LANGUAGE_FILES.test(f));
  const finding: Finding = {
    detector: 'shell-entry',
    rank: 1,
    confidence: 0.6,
    runnable: true,
    indicators: [file],
    ports,
    ...(alone ? { language: 'shell' } : {}),
    evidence: [ev(file, `${script} starts the program`, line)],
    start: { command: `sh ${script}`, source: 'script', evidence: ev(file, at >= 0 ? lines[at].trim() : script, line) },
  };
  if (!ports.length) markProgramKind(finding, [{ file, text }], { file, line, what: `${script} ends` });
  return finding;
}

export function detectLoneScript(folder: FolderView): Finding | undefined {
  // Only at the root of a repository: deeper, a lone index.js or main.py is far more often part of something else.
  if (folder.dir !== '.' || MANIFESTS.some((m) => folder.has(m)) || folder.has('index.html')) return undefined;
  const present = LONE.filter(([name]) => folder.has(name));
  if (present.length !== 1) return undefined;
  const [name, command, language] = present[0];
  const file = folder.rel(name);
  const finding: Finding = {
    detector: 'lone-script',
    type: TYPE_OF[language],
    rank: 4,
    language,
    confidence: 0.6,
    frameworks: [],
    runnable: true,
    evidence: [ev(file, `${name} with no manifest: a program of its own`)],
    indicators: [file],
    entryFiles: [file],
    start: { command, source: 'framework-default', evidence: ev(file, `runs ${name}`) },
    build: { runtime: RUNTIME_OF[language], evidence: ev(file, `${language} script`) },
  };
  if (language === 'php' && !WEB_PHP.test(folder.read(name) ?? '')) {
    // A script that never looks at a request is run by the PHP CLI; its code says whether it is a worker or a job.
    const evidence = ev(file, `${name} reads no request: run by the PHP CLI`, undefined);
    finding.start = { command: `php ${name}`, source: 'framework-default', evidence };
    finding.evidence.push(evidence);
  } else if (language === 'php') {
    const evidence = ev(file, "PHP's built-in server on 8000");
    finding.ports = [{ container: 8000, protocol: 'tcp', source: 'framework-default', evidence }];
  }
  return finding;
}
