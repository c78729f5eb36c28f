// Dockerfile: a small instruction parser (continuations, comments, JSON and shell forms, stages) and the
// detector that reads ports (EXPOSE), start (CMD/ENTRYPOINT), HEALTHCHECK and base images from it.
import type { Evidence, PortSpec, Problem } from '../../protocol';
import { interpolate } from '../parse/compose-syntax';
import { imageInfo, languageOfImage } from './catalog';
import { ev } from '../parse/evidence';
import type { Finding, FolderView } from './types';

export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

export interface DockerfileModel {
  instructions: Instruction[];
  /** Base image of each stage, in order; the last one is what runs. */
  stages: { from: string; alias?: string; line: number }[];
  problems: Problem[];
}

const KEYWORDS = new Set([
  'FROM',
  'RUN',
  'CMD',
  'LABEL',
  'MAINTAINER',
  'EXPOSE',
  'ENV',
  'ADD',
  'COPY',
  'ENTRYPOINT',
  'VOLUME',
  'USER',
  'WORKDIR',
  'ARG',
  'ONBUILD',
  'STOPSIGNAL',
  'HEALTHCHECK',
  'SHELL',
]);

export function isDockerfileName(name: string): boolean {
  return (
    name === 'Dockerfile' || name.startsWith('Dockerfile.') || /\.dockerfile$/i.test(name) || name === 'Containerfile'
  );
}

export function parseDockerfile(text: string, file: string): DockerfileModel {
  const lines = text.split(/\r?\n/);
  const instructions: Instruction[] = [];
  const problems: Problem[] = [];
  let escape = '\\';
  let i = 0;
  let sawInstruction = false;
  while (i < lines.length) {
    const raw = lines[i];
    const trimmed = raw.trim();
    if (!sawInstruction) {
      const directive = /^#\s*escape\s*=\s*(\S)/i.exec(trimmed);
      if (directive) escape = directive[1];
    }
    if (trimmed === '' || trimmed.startsWith('#')) {
      i++;
      continue;
    }
    const start = i + 1;
    // The pieces of a continued instruction are collected and joined once: re-slicing a growing string per line
    // made a long `RUN \` chain quadratic (80,000 lines took over a minute).
    const parts = [trimmed];
    let last = trimmed;
    while (last.endsWith(escape) && i + 1 < lines.length) {
      parts[parts.length - 1] = last.slice(0, -1);
      i++;
      let next = lines[i].trim();
      while (next.startsWith('#') && i + 1 < lines.length) next = lines[++i].trim();
      parts.push(next);
      last = next;
    }
    i++;
    const body = parts.join(' ');
    const m = /^(\S+)\s*(.*)$/.exec(body)!;
    const keyword = m[1].toUpperCase();
    if (!KEYWORDS.has(keyword)) {
      problems.push({
        severity: 'error',
        code: 'dockerfile-parse',
        file,
        line: start,
        column: 1,
        endLine: start,
        endColumn: m[1].length + 1,
        message: `${file}:${start}: unknown instruction "${m[1]}"; expected one of FROM, RUN, CMD, EXPOSE, ... (check the spelling or a missing line continuation).`,
      });
      continue;
    }
    sawInstruction = true;
    instructions.push({ keyword, args: m[2].trim(), line: start });
  }
  const stages: DockerfileModel['stages'] = [];
  for (const ins of instructions) {
    if (ins.keyword !== 'FROM') continue;
    const parts = ins.args.split(/\s+/).filter((p) => !p.startsWith('--'));
    if (!parts[0]) {
      problems.push({
        severity: 'error',
        code: 'dockerfile-parse',
        file,
        line: ins.line,
        message: `${file}:${ins.line}: FROM needs an image name.`,
      });
      continue;
    }
    const as = parts.findIndex((p) => p.toUpperCase() === 'AS');
    stages.push({ from: parts[0], alias: as > 0 ? parts[as + 1] : undefined, line: ins.line });
  }
  if (instructions.length && stages.length === 0) {
    problems.push({
      severity: 'error',
      code: 'dockerfile-parse',
      file,
      line: instructions[0].line,
      message: `${file}: no FROM instruction; a Dockerfile must start from a base image.`,
    });
  }
  return { instructions, stages, problems };
}

/** JSON-form (`["node", "server.js"]`) or shell-form arguments as argv. */
export function commandArgv(args: string): { argv?: string[]; command: string } {
  const t = args.trim();
  if (t.startsWith('[')) {
    try {
      const argv = JSON.parse(t) as unknown;
      if (Array.isArray(argv) && argv.every((a) => typeof a === 'string')) return { argv, command: argv.join(' ') };
    } catch {
      // not JSON: Docker treats it as shell form, and so do we
    }
  }
  return { command: t };
}

/** Instructions of the final stage (the one that runs). */
function finalStage(model: DockerfileModel): Instruction[] {
  let startIdx = 0;
  model.instructions.forEach((ins, idx) => {
    if (ins.keyword === 'FROM') startIdx = idx;
  });
  return model.instructions.slice(startIdx);
}

export function detectDockerfile(folder: FolderView): Finding | undefined {
  const names = folder.files.filter(isDockerfileName).filter((n) => folder.has(n));
  if (names.length === 0) return undefined;
  const primary = names.includes('Dockerfile')
    ? 'Dockerfile'
    : (names.find((n) => !/\.(dev|test|ci|local)$/i.test(n)) ?? names[0]);
  const finding = dockerfileFinding(folder, primary);
  finding.indicators = names.map((n) => folder.rel(n));
  return finding;
}

/** What one Dockerfile of a folder says (also used for a Dockerfile compose names for another folder). */
export function dockerfileFinding(folder: FolderView, primary: string): Finding {
  const names = [primary];
  const file = folder.rel(primary);
  const read = folder.readResult(primary);
  const finding: Finding = {
    detector: 'dockerfile',
    type: 'containerized',
    rank: 1,
    confidence: 0.9,
    evidence: [ev(file, 'Dockerfile builds this folder into an image')],
    indicators: names.map((n) => folder.rel(n)),
    build: {
      context: folder.dir === '.' ? '' : folder.dir,
      dockerfile: file,
      evidence: ev(file, 'Dockerfile in the folder'),
    },
    runnable: true,
    problems: [],
  };
  if (read.text === undefined) return finding;
  const model = parseDockerfile(read.text, file);
  finding.problems!.push(...model.problems);
  const stage = finalStage(model);
  const ports: PortSpec[] = [];
  // ARG defaults and ENV values, for `EXPOSE $PORT`; an ARG declared anywhere keeps its default.
  const vars: Record<string, string> = {};
  for (const ins of model.instructions) {
    if (ins.keyword !== 'ARG') continue;
    const m = /^([A-Za-z_]\w*)=("[^"]*"|'[^']*'|\S*)/.exec(ins.args);
    if (m) vars[m[1]] = m[2].replace(/^["']|["']$/g, '');
  }
  for (const ins of stage) {
    const evidence: Evidence = ev(file, `${ins.keyword} ${ins.args}`.slice(0, 120), ins.line);
    switch (ins.keyword) {
      case 'EXPOSE':
        for (const token of interpolate(ins.args, vars).split(/\s+/)) {
          const m = /^(\d+)(?:-\d+)?(?:\/(tcp|udp))?$/i.exec(token);
          const protocol = (m?.[2]?.toLowerCase() ?? 'tcp') as 'tcp' | 'udp';
          if (
            m &&
            Number(m[1]) > 0 &&
            Number(m[1]) < 65536 &&
            !ports.some((p) => p.container === Number(m[1]) && p.protocol === protocol)
          ) {
            ports.push({ container: Number(m[1]), protocol, source: 'dockerfile', evidence });
          }
        }
        break;
      case 'CMD':
      case 'ENTRYPOINT': {
        const cmd = commandArgv(ins.args);
        // ENTRYPOINT + CMD: the entrypoint is the program, CMD its arguments.
        if (
          ins.keyword === 'CMD' &&
          finding.start?.source === 'dockerfile' &&
          finding.start.evidence.reason.startsWith('ENTRYPOINT')
        ) {
          finding.start = {
            ...finding.start,
            command: `${finding.start.command} ${cmd.command}`.trim(),
            argv: finding.start.argv && cmd.argv ? [...finding.start.argv, ...cmd.argv] : undefined,
          };
        } else {
          finding.start = { command: cmd.command, argv: cmd.argv, source: 'dockerfile', evidence };
        }
        break;
      }
      case 'HEALTHCHECK': {
        if (/^NONE$/i.test(ins.args)) break;
        const m = /CMD\s+(.*)$/is.exec(ins.args);
        if (!m) break;
        const cmd = commandArgv(m[1]);
        const interval = /--interval=(\d+)s/.exec(ins.args);
        finding.healthCheck = {
          kind: 'command',
          command: cmd.argv ?? ['CMD-SHELL', cmd.command],
          intervalSeconds: interval ? Number(interval[1]) : undefined,
          evidence,
        };
        break;
      }
      case 'ENV': {
        finding.env ??= [];
        for (const m of ins.args.matchAll(/([A-Za-z_][A-Za-z0-9_]*)(?:=|\s+)("[^"]*"|'[^']*'|\S*)/g)) {
          // ENV values are part of the image; keep the name, never the value, when it looks secret.
          const value = interpolate(m[2].replace(/^["']|["']$/g, ''), vars);
          vars[m[1]] = value;
          finding.env.push({ name: m[1], value, secret: false, evidence });
          if (!ins.args.includes('=')) break; // legacy `ENV KEY value with spaces`
        }
        break;
      }
    }
  }
  finding.ports = ports;
  // Files the start command runs (`python consumer.py`, `node dist/index.js`) are the code worth reading.
  const runs = [
    ...(finding.start?.command ?? '').matchAll(/(?:^|\s|")((?:\.\/)?[\w./-]+\.(?:py|js|mjs|cjs|ts|rb|php))\b/g),
  ].map((m) => m[1].replace(/^\.\//, ''));
  finding.entryFiles = runs
    .filter((f) => folder.exists(f))
    .slice(0, 2)
    .map((f) => folder.rel(f));
  const base = model.stages.at(-1);
  if (base) {
    finding.evidence.push(ev(file, `runs on base image ${base.from}`, base.line));
    const info = imageInfo(base.from);
    if (info && info.type !== 'infrastructure') {
      finding.type = info.type;
      finding.rank = info.type === 'proxy' ? 3 : 8;
      finding.dataEngine = info.engine;
      if (ports.length === 0 && info.port)
        ports.push({
          container: info.port,
          protocol: 'tcp',
          source: 'image-default',
          evidence: ev(file, `${base.from} listens on ${info.port} by default`, base.line),
        });
    }
    const language = languageOfImage(model.stages[0].from) ?? languageOfImage(base.from);
    if (language) finding.language = language;
  }
  return finding;
}
