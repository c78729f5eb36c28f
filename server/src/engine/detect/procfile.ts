// Procfile: the web process (else the first worker) is the start command, with the port it names.
import type { PortSpec } from '../../protocol';
import { portsInCommand } from './command-ports';
import { ev } from '../parse/evidence';
import type { Finding, FolderView } from './types';

export function detectProcfile(folder: FolderView): Finding | undefined {
  if (!folder.has('Procfile')) return undefined;
  const file = folder.rel('Procfile');
  const lines = (folder.read('Procfile') ?? '').split(/\r?\n/);
  const procs = lines.map((l, i) => ({ m: /^([\w-]+):\s*(.+)$/.exec(l.trim()), line: i + 1 })).filter((x) => x.m);
  const web = procs.find((p) => p.m![1] === 'web');
  const worker = procs.find((p) => p.m![1] !== 'web' && p.m![1] !== 'release');
  const chosen = web ?? worker;
  if (!chosen) return undefined;
  const command = chosen.m![2];
  const ports: PortSpec[] = portsInCommand(command).map((p) => ({
    container: p.port,
    protocol: 'tcp',
    source: 'procfile',
    evidence: ev(file, `${chosen.m![1]}: ${p.reason}`, chosen.line),
  }));
  return {
    detector: 'procfile',
    rank: 0,
    confidence: 0.8,
    evidence: [ev(file, `Procfile ${chosen.m![1]} process`, chosen.line)],
    indicators: [file],
    start: { command, source: 'procfile', evidence: ev(file, `${chosen.m![1]}: ${command}`, chosen.line) },
    ports,
    runnable: true,
    worker: !web,
  };
}
