// A process's CPU time and memory from /proc (Linux), for benchmarks and tests that report what a process cost.
import { readFileSync } from 'node:fs';

const TICK = 100; // Linux USER_HZ

/** CPU seconds (user + system) and resident memory (MB) of a process now. */
export function procStats(pid: number): { cpu: number; rss: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cpu = (Number(fields[11]) + Number(fields[12])) / TICK;
  return { cpu, rss: statusMb(pid, 'VmRSS') };
}

/** The most resident memory (MB) the process has had (VmHWM). */
export function peakRssMb(pid: number): number {
  return statusMb(pid, 'VmHWM');
}

function statusMb(pid: number, field: string): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) / 1024;
}
