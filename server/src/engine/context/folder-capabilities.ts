// What a folder offers to others: HTTP routes and gRPC servers (from the tree-sitter readers' facts), gRPC methods
// (from .proto files), queues, scheduled jobs, CLI commands and a library's exported entry points. The last three come
// from manifests and a few call shapes that the readers have no use for, so they are matched in the text here.
import type { CodeFacts } from '../code/code-facts';
import type { Capability } from './folder-description';
import type { ProtoService } from './proto-services';

export interface ReadSource {
  /** Root-relative file. */
  file: string;
  text: string;
  facts?: CodeFacts;
}

export interface ProtoIndex {
  /** By bare and package-qualified name. */
  byName: Map<string, { file: string; service: ProtoService }>;
}

const lineOf = (text: string, offset: number) => {
  let line = 1;
  for (let i = 0; i < offset; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
};

/** Scheduler calls across languages; group 1 is the schedule when the call names one. */
const SCHEDULES: [RegExp, string][] = [
  [/\bcron\.schedule\(\s*['"`]([^'"`]+)['"`]/g, 'node-cron'],
  [/\bnew\s+CronJob\(\s*['"`]([^'"`]+)['"`]/g, 'cron'],
  [/\bscheduleJob\(\s*(?:['"`][\w-]+['"`]\s*,\s*)?['"`]([^'"`]+)['"`]/g, 'node-schedule'],
  [/@Scheduled\(([^)]*)\)/g, 'Spring @Scheduled'],
  [/@Cron\(\s*['"`]([^'"`]+)['"`]/g, 'NestJS @Cron'],
  [/\.add_job\(([^)]*)\)/g, 'APScheduler'],
  [/@\w+\.scheduled_job\(([^)]*)\)/g, 'APScheduler'],
  [/\bcrontab\(([^)]*)\)/g, 'Celery beat'],
  [/\bschedule\.every\(([^)]*)\)/g, 'schedule'],
  [/\.AddFunc\(\s*"([^"]+)"/g, 'robfig/cron'],
  [/\bJob::new(?:_async)?\(\s*"([^"]+)"/g, 'tokio-cron-scheduler'],
  [/^\s*every\s+([^\n]+?)\s+do\b/gm, 'whenever'],
];

/** Sub-commands declared with the usual CLI libraries; group 1 is the command name. */
const COMMANDS: [RegExp, string][] = [
  [/\.command\(\s*['"`]([\w:-]+)/g, 'commander/yargs'],
  [/\bUse:\s*"([\w-]+)/g, 'cobra'],
  [/\.add_parser\(\s*['"]([\w-]+)/g, 'argparse'],
  [/@(?:\w+\.)?command\([^)]*\)\s*(?:@[^\n]*\n\s*)*def\s+(\w+)/g, 'click/typer'],
  [/#\[command\(name\s*=\s*"([\w-]+)"/g, 'clap'],
];

/** Capabilities found in source files: routes, gRPC servers and their methods, queues, schedules, commands. */
export function codeCapabilities(sources: readonly ReadSource[], protos: ProtoIndex): Capability[] {
  const out: Capability[] = [];
  const seen = new Set<string>();
  const add = (c: Capability) => {
    const key = `${c.kind} ${c.name}`;
    if (seen.has(key)) return;
    seen.add(key);
    out.push(c);
  };
  for (const { file, text, facts } of sources) {
    for (const r of facts?.routes ?? []) {
      add({
        kind: 'http-route',
        name: `${(r.method ?? 'ANY').toUpperCase()} ${r.path}`,
        evidence: { file, line: r.line, reason: 'route defined in code' },
      });
    }
    for (const g of facts?.grpc ?? []) {
      if (g.service === 'grpc.health.v1.Health') continue;
      if (g.role === 'client') {
        add({ kind: 'grpc-client', name: g.service, evidence: { file, line: g.line, reason: g.reason } });
        continue;
      }
      add({ kind: 'grpc-server', name: g.service, evidence: { file, line: g.line, reason: g.reason } });
      const proto = protos.byName.get(g.service);
      for (const m of proto?.service.methods ?? []) {
        add({
          kind: 'grpc-method',
          name: `${proto!.service.fullName}/${m.name}`,
          detail: `${m.request} → ${m.response}`,
          evidence: {
            file: proto!.file,
            line: m.line,
            reason: `rpc ${m.name} of ${proto!.service.name}, served in ${file}:${g.line}`,
          },
        });
      }
    }
    for (const t of facts?.topics ?? []) {
      add({
        kind: t.role === 'consume' ? 'queue-consume' : 'queue-produce',
        name: t.name,
        detail: t.system,
        evidence: { file, line: t.line, reason: t.reason },
      });
    }
    for (const [re, lib] of SCHEDULES) {
      re.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = re.exec(text))) {
        const schedule = m[1].trim().replace(/\s+/g, ' ').slice(0, 80);
        add({
          kind: 'scheduled-job',
          name: schedule || lib,
          detail: lib,
          evidence: { file, line: lineOf(text, m.index), reason: `${lib} schedule` },
        });
      }
    }
    for (const [re, lib] of COMMANDS) {
      re.lastIndex = 0;
      let m: RegExpExecArray | null;
      while ((m = re.exec(text))) {
        add({
          kind: 'cli-command',
          name: m[1],
          detail: lib,
          evidence: { file, line: lineOf(text, m.index), reason: `${lib} command` },
        });
      }
    }
  }
  return out;
}

/** gRPC services and methods a folder of .proto files defines. */
export function protoCapabilities(file: string, services: readonly ProtoService[]): Capability[] {
  const out: Capability[] = [];
  for (const s of services) {
    for (const m of s.methods) {
      out.push({
        kind: 'grpc-method',
        name: `${s.fullName}/${m.name}`,
        detail: `${m.request} → ${m.response}${m.streaming ? ' (streaming)' : ''}`,
        evidence: { file, line: m.line, reason: `rpc ${m.name} in service ${s.name}` },
      });
    }
  }
  return out;
}

/** Kubernetes CronJobs: their schedule is a scheduled job of what they run. */
export function cronJobCapabilities(file: string, text: string): Capability[] {
  if (!/^kind:\s*CronJob\b/m.test(text)) return [];
  const m = /^\s*schedule:\s*["']?([^"'\n]+)["']?/m.exec(text);
  if (!m) return [];
  return [
    {
      kind: 'scheduled-job',
      name: m[1].trim(),
      detail: 'Kubernetes CronJob',
      evidence: { file, line: lineOf(text, m.index), reason: 'CronJob schedule' },
    },
  ];
}

/** Commands and exports a manifest declares: package.json bin/main/exports, pyproject scripts, Cargo [[bin]]. */
export function manifestCapabilities(file: string, text: string): Capability[] {
  const out: Capability[] = [];
  const name = file.slice(file.lastIndexOf('/') + 1);
  const line = (needle: string) => {
    const i = text.indexOf(needle);
    return i < 0 ? undefined : lineOf(text, i);
  };
  if (name === 'package.json') {
    let pkg: {
      name?: string;
      bin?: string | Record<string, string>;
      main?: string;
      module?: string;
      exports?: unknown;
    };
    try {
      pkg = JSON.parse(text) as typeof pkg;
    } catch {
      return out;
    }
    if (typeof pkg.bin === 'string' && pkg.name) {
      out.push({
        kind: 'cli-command',
        name: pkg.name.replace(/^@[^/]+\//, ''),
        detail: pkg.bin,
        evidence: { file, line: line('"bin"'), reason: 'package.json bin' },
      });
    } else if (pkg.bin && typeof pkg.bin === 'object') {
      for (const [cmd, target] of Object.entries(pkg.bin)) {
        out.push({
          kind: 'cli-command',
          name: cmd,
          detail: String(target),
          evidence: { file, line: line(`"${cmd}"`), reason: 'package.json bin' },
        });
      }
    }
    const entries = new Set<string>();
    for (const v of [pkg.main, pkg.module]) if (typeof v === 'string') entries.add(v);
    if (typeof pkg.exports === 'string') entries.add(pkg.exports);
    else if (pkg.exports && typeof pkg.exports === 'object') for (const k of Object.keys(pkg.exports)) entries.add(k);
    for (const e of entries) {
      out.push({
        kind: 'library-export',
        name: e,
        detail: pkg.name,
        evidence: { file, line: line('"exports"') ?? line('"main"'), reason: 'package.json entry point' },
      });
    }
  } else if (name === 'pyproject.toml' || name === 'setup.cfg') {
    const section =
      /^\[(?:project\.scripts|tool\.poetry\.scripts|options\.entry_points)\]\s*$([\s\S]*?)(?=^\[|$(?![\s\S]))/m.exec(
        text,
      );
    if (section) {
      for (const m of section[1].matchAll(/^\s*([\w.-]+)\s*=\s*["']?([\w.:]+)/gm)) {
        out.push({
          kind: 'cli-command',
          name: m[1],
          detail: m[2],
          evidence: { file, line: line(m[0].trim()), reason: `${name} script` },
        });
      }
    }
  } else if (name === 'Cargo.toml') {
    for (const m of text.matchAll(/^\[\[bin\]\][^[]*?^name\s*=\s*"([\w-]+)"/gm)) {
      out.push({
        kind: 'cli-command',
        name: m[1],
        evidence: { file, line: lineOf(text, m.index ?? 0), reason: 'Cargo [[bin]] target' },
      });
    }
    if (/^\[lib\]/m.test(text))
      out.push({
        kind: 'library-export',
        name: 'src/lib.rs',
        evidence: { file, line: line('[lib]'), reason: 'Cargo [lib] target' },
      });
  }
  return out;
}

/** Names a library module exports: `export function x`, `module.exports = { a }`, `__all__`, `pub fn`, Go `func X`. */
export function exportedNames(file: string, text: string): Capability[] {
  const names: [string, number][] = [];
  const push = (n: string, offset: number) => {
    if (names.length < 20 && !names.some(([x]) => x === n)) names.push([n, lineOf(text, offset)]);
  };
  if (/\.[cm]?[jt]sx?$/.test(file)) {
    for (const m of text.matchAll(
      /^export\s+(?:default\s+)?(?:async\s+)?(?:function\*?|const|let|class|interface|type|enum)\s+(\w+)/gm,
    ))
      push(m[1], m.index ?? 0);
    const cjs = /module\.exports\s*=\s*\{([^}]*)\}/.exec(text);
    if (cjs)
      for (const n of cjs[1]
        .split(',')
        .map((s) => s.split(':')[0].trim())
        .filter((s) => /^\w+$/.test(s)))
        push(n, cjs.index);
    for (const m of text.matchAll(/(?:module\.)?exports\.(\w+)\s*=/g)) push(m[1], m.index ?? 0);
  } else if (file.endsWith('.py')) {
    const all = /__all__\s*=\s*[[(]([^\])]*)[\])]/.exec(text);
    if (all) for (const m of all[1].matchAll(/['"](\w+)['"]/g)) push(m[1], all.index);
  } else if (file.endsWith('.rs')) {
    for (const m of text.matchAll(/^pub\s+(?:async\s+)?(?:fn|struct|enum|trait|mod)\s+(\w+)/gm))
      push(m[1], m.index ?? 0);
  } else if (file.endsWith('.go') && !/^package\s+main\b/m.test(text)) {
    for (const m of text.matchAll(/^func\s+([A-Z]\w*)/gm)) push(m[1], m.index ?? 0);
  }
  return names.map(([name, line]) => ({
    kind: 'library-export' as const,
    name,
    evidence: { file, line, reason: 'exported' },
  }));
}
