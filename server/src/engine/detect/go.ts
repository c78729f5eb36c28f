// Go: go.mod (module, requires, frameworks), a main package (main.go or cmd/*/main.go), go.work workspaces.
import { GO_FRAMEWORKS } from './catalog';
import { ev, findLine } from '../parse/evidence';
import type { Dependency, Finding, FolderView } from './types';

export function detectGoWork(folder: FolderView): Finding | undefined {
  if (!folder.has('go.work')) return undefined;
  const file = folder.rel('go.work');
  const text = folder.read('go.work') ?? '';
  const members: string[] = [];
  const block = /use\s*\(([^)]*)\)/s.exec(text);
  const lines = block ? block[1].split(/\r?\n/) : [...text.matchAll(/^use\s+(\S+)/gm)].map((m) => m[1]);
  for (const l of lines) {
    const t = l.replace(/\/\/.*/, '').trim();
    if (t) members.push(t.replace(/^\.\//, ''));
  }
  return {
    detector: 'go.work',
    confidence: 0.3,
    evidence: [ev(file, 'go.work joins Go modules into one workspace')],
    indicators: [file],
    workspace: { tool: 'go.work', members, evidence: ev(file, `uses ${members.join(', ')}`, findLine(text, 'use')) },
  };
}

export function detectGo(folder: FolderView): Finding | undefined {
  if (!folder.has('go.mod')) return undefined;
  const file = folder.rel('go.mod');
  const text = folder.read('go.mod') ?? '';
  const module = /^module\s+(\S+)/m.exec(text)?.[1];
  const deps: Dependency[] = [];
  text.split(/\r?\n/).forEach((l, i) => {
    const m = /^\s*(?:require\s+)?([a-z0-9.-]+\.[a-z]{2,}\/\S+)\s+v[\d.]+/i.exec(l);
    if (m) deps.push({ name: m[1], file, line: i + 1 });
  });
  const finding: Finding = {
    detector: 'go',
    type: 'golang',
    rank: 5,
    language: 'go',
    confidence: 0.5,
    packageName: module,
    evidence: [ev(file, `Go module ${module ?? ''}`.trim(), findLine(text, 'module'))],
    indicators: [file],
    dependencies: deps,
    build: { runtime: 'go', packageManager: 'go', evidence: ev(file, 'Go module') },
  };
  const fwDep = deps.find((d) => d.name in GO_FRAMEWORKS);
  const fw = fwDep ? GO_FRAMEWORKS[fwDep.name] : undefined;
  if (fw) finding.evidence.push(ev(file, `depends on ${fwDep!.name}`, fwDep!.line));

  // A main package makes a program; without one the module is a library.
  const mains: string[] = [];
  if (folder.has('main.go') && /^package\s+main\b/m.test(folder.read('main.go') ?? '')) mains.push('main.go');
  const cmd = folder.sub('cmd');
  for (const sub of cmd?.subdirs ?? []) if (cmd!.sub(sub)?.has('main.go')) mains.push(`cmd/${sub}/main.go`);
  if (mains.length === 0) {
    // Several files of package main (server.go, catalog.go): the one that defines func main() is the entry point.
    const mainFiles = folder.files.filter(
      (f) => f.endsWith('.go') && !f.endsWith('_test.go') && /^package\s+main\b/m.test(folder.read(f) ?? ''),
    );
    const mainFile = mainFiles.find((f) => /^func\s+main\s*\(\s*\)/m.test(folder.read(f) ?? '')) ?? mainFiles[0];
    if (mainFile) mains.push(mainFile);
  }
  finding.entryFiles = mains.slice(0, 3).map((m) => folder.rel(m));
  const commands = mains.filter((m) => m.startsWith('cmd/'));
  if (commands.length >= 2 && !mains.some((m) => !m.startsWith('cmd/'))) {
    // Several programs under cmd/: each is a service of its own (detectGoCommand), the module only groups them.
    finding.runnable = false;
    finding.type = undefined;
    finding.frameworks = fw ? [fw.name] : [];
    finding.workspace = {
      tool: 'go commands',
      members: commands.map((m) => m.slice(0, m.lastIndexOf('/'))),
      evidence: ev(file, `${commands.length} programs under cmd/`),
    };
    return finding;
  }
  if (mains.length) {
    const target = mains[0].includes('/') ? `./${mains[0].slice(0, mains[0].lastIndexOf('/'))}` : '.';
    finding.start = {
      command: `go run ${target}`,
      source: 'framework-default',
      evidence: ev(folder.rel(mains[0]), 'package main'),
    };
    finding.runnable = true;
    finding.frameworks = fw ? [fw.name] : [];
    if (fw?.port)
      finding.ports = [
        {
          container: fw.port,
          protocol: 'tcp',
          source: 'framework-default',
          evidence: ev(file, `${fw.name} listens on ${fw.port} by default`),
        },
      ];
    finding.confidence = fw ? 0.9 : 0.75;
  } else {
    finding.runnable = false;
    finding.frameworks = fw ? [fw.name] : [];
    finding.confidence = 0.4;
  }
  return finding;
}

/**
 * A program in `cmd/<name>/main.go` of a module with several of them: its own service, built from the module.
 */
export function detectGoCommand(folder: FolderView): Finding | undefined {
  if (folder.has('go.mod') || !folder.has('main.go')) return undefined;
  const parts = folder.dir.split('/');
  if (parts.length < 2 || parts.at(-2) !== 'cmd') return undefined;
  const moduleDir = parts.length === 2 ? '.' : parts.slice(0, -2).join('/');
  const module = folder.index.folder(moduleDir);
  if (!module?.files.includes('go.mod')) return undefined;
  const cmd = folder.index.folder(moduleDir === '.' ? 'cmd' : `${moduleDir}/cmd`);
  const programs = (cmd?.subdirs ?? []).filter((d) =>
    folder.index.folder(`${cmd!.dir}/${d}`)?.files.includes('main.go'),
  );
  if (programs.length < 2) return undefined;
  const mainText = folder.read('main.go') ?? '';
  if (!/^package\s+main\b/m.test(mainText)) return undefined;
  const goModFile = moduleDir === '.' ? 'go.mod' : `${moduleDir}/go.mod`;
  const goMod = folder.index.read(goModFile).text ?? '';
  const fwDep = Object.keys(GO_FRAMEWORKS).find((dep) => goMod.includes(`${dep} v`));
  const fw = fwDep ? GO_FRAMEWORKS[fwDep] : undefined;
  const deps: Dependency[] = [];
  goMod.split(/\r?\n/).forEach((l, i) => {
    const m = /^\s*(?:require\s+)?([a-z0-9.-]+\.[a-z]{2,}\/\S+)\s+v[\d.]+/i.exec(l);
    if (m) deps.push({ name: m[1], file: goModFile, line: i + 1 });
  });
  // The framework is the module's; only programs that import it serve HTTP through it.
  const usesFw = fwDep ? mainText.includes(fwDep) : false;
  const rel = `./cmd/${parts.at(-1)}`;
  return {
    detector: 'go-command',
    type: 'golang',
    rank: 5,
    language: 'go',
    confidence: 0.8,
    runnable: true,
    evidence: [
      ev(
        folder.rel('main.go'),
        `program ${rel} of the Go module in ${moduleDir}`,
        /^package\s+main\b/m.exec(mainText) ? 1 : undefined,
      ),
    ],
    indicators: [folder.rel('main.go'), goModFile],
    dependencies: deps,
    entryFiles: [folder.rel('main.go')],
    frameworks: usesFw && fw ? [fw.name] : [],
    ports:
      usesFw && fw?.port
        ? [
            {
              container: fw.port,
              protocol: 'tcp',
              source: 'framework-default',
              evidence: ev(goModFile, `${fw.name} listens on ${fw.port} by default`),
            },
          ]
        : [],
    start: {
      command: `go run ${rel}`,
      source: 'framework-default',
      evidence: ev(folder.rel('main.go'), 'package main'),
    },
    build: {
      context: moduleDir === '.' ? '' : moduleDir,
      runtime: 'go',
      packageManager: 'go',
      evidence: ev(goModFile, 'built from its Go module'),
    },
  };
}
