// PHP: composer.json (laravel, symfony, slim) or a front controller served by PHP's built-in server.
import { ev, findLine } from '../parse/evidence';
import { parseJson } from './manifest-parsing';
import type { Finding, FolderView } from './types';

export function detectPhp(folder: FolderView): Finding | undefined {
  if (!folder.has('composer.json')) return undefined;
  const file = folder.rel('composer.json');
  const text = folder.read('composer.json') ?? '';
  const finding: Finding = {
    detector: 'php',
    type: 'php',
    rank: 5,
    language: 'php',
    confidence: 0.5,
    evidence: [ev(file, 'composer.json declares a PHP project')],
    indicators: [file],
    problems: [],
    build: { runtime: 'php', packageManager: 'composer', evidence: ev(file, 'Composer project') },
  };
  const parsed = parseJson<{ name?: string; type?: string; require?: Record<string, string> }>(text, file);
  if (!parsed.ok) {
    finding.problems!.push(parsed.problem);
    return finding;
  }
  const req = parsed.value.require ?? {};
  finding.packageName = parsed.value.name;
  finding.dependencies = Object.keys(req).map((name) => ({ name, file, line: findLine(text, `"${name}"`) }));
  const docroot = folder.exists('public/index.php') ? 'public' : folder.has('index.php') ? '.' : undefined;
  let fw: { name: string; port: number; command: string } | undefined;
  if ('laravel/framework' in req)
    fw = { name: 'laravel', port: 8000, command: 'php artisan serve --host=0.0.0.0 --port=8000' };
  else if ('symfony/framework-bundle' in req)
    fw = { name: 'symfony', port: 8000, command: 'php -S 0.0.0.0:8000 -t public' };
  else if ('slim/slim' in req)
    fw = { name: 'slim', port: 8080, command: `php -S 0.0.0.0:8080 -t ${docroot ?? 'public'}` };
  else if (docroot) fw = { name: 'php', port: 8080, command: `php -S 0.0.0.0:8080 -t ${docroot}` };
  if (!fw || parsed.value.type === 'library') {
    finding.runnable = false;
    finding.frameworks = [];
    return finding;
  }
  finding.frameworks = fw.name === 'php' ? [] : [fw.name];
  if (fw.name !== 'php')
    finding.evidence.push(
      ev(file, `depends on ${fw.name}`, findLine(text, fw.name === 'laravel' ? 'laravel/framework' : fw.name)),
    );
  finding.start = { command: fw.command, source: 'framework-default', evidence: ev(file, `${fw.name} convention`) };
  finding.ports = [
    {
      container: fw.port,
      protocol: 'tcp',
      source: 'framework-default',
      evidence: ev(file, `${fw.name} serves on ${fw.port} by convention`),
    },
  ];
  finding.entryFiles = ['public/index.php', 'index.php', 'routes/web.php', 'routes/api.php']
    .filter((f) => folder.exists(f))
    .map((f) => folder.rel(f));
  finding.runnable = true;
  finding.confidence = 0.85;
  return finding;
}
