// Whether a program that listens on nothing keeps running (a worker) or runs to completion (a job). Read from the
// text rather than a grammar so that every language, including those without a tree-sitter reader (Elixir, C++,
// shell), is judged by the same markers: an endless loop, a timer, a scheduler, a consumer or a bot's polling.
import { lineAt } from '../detect/text';

export interface LongRunningMarker {
  line: number;
  reason: string;
}

const MARKERS: [RegExp, string][] = [
  [/\bwhile\s*\(?\s*(?:True|true|1|:)\s*\)?\s*(?::|\{|do\b|;)/, 'loops forever'],
  [/^\s*for\s*\{/m, 'loops forever (for {})'],
  [/\bloop\s*\{/, 'loops forever (loop {})'],
  [/\bfor\s*\(\s*;\s*;\s*\)/, 'loops forever (for (;;))'],
  [/\bsetInterval\s*\(|\btime\.Tick(?:er)?\b|\bNewTicker\s*\(|\btokio::time::interval\b|:timer\.send_interval\b/,
    'wakes up on an interval'],
  [/\bschedule\.every\b|\b(?:Blocking|AsyncIO|Background)Scheduler\b|\bcron\.schedule\s*\(|\bnew CronJob\b|@Scheduled\b|\bcron\.New\s*\(|\bQuantum\b|\bOban\.Plugins\.Cron\b/,
    'runs a scheduler'],
  [/\b(?:run_polling|start_polling|infinity_polling|polling)\s*\(|\bclient\.run\s*\(|\bbot\.launch\s*\(|\bclient\.login\s*\(/,
    'keeps a bot connected'],
  [/\b(?:basic_consume|start_consuming|\.subscribe|\.consume|consumer\.run|\.Consume|\.poll|ReadMessage|FetchMessage|\.on\(\s*['"]message)\s*\(/,
    'consumes messages'],
  [/\brun_forever\s*\(|\bserve_forever\s*\(|\bProcess\.sleep\(:infinity\)|\bselect\s*\{\s*\}|\bsignal\.Notify\s*\(|\bwait_for_signal\b/,
    'waits until it is stopped'],
  [/\basynq\.NewServer\b|\bworker\.New\s*\(|\bnew Worker\s*\(|\bNewWorker\s*\(|\bWorker\(\s*\[|\bmachinery\.NewServer\b/,
    'runs a queue worker'],
  [/\buse\s+(?:GenServer|Broadway|Supervisor)\b|\bmod:\s*\{/, 'starts a supervised OTP process'],
];

/** The first long-running marker of a source file, or undefined when nothing in it keeps the program alive. */
export function longRunningMarker(source: string): LongRunningMarker | undefined {
  let best: { index: number; reason: string } | undefined;
  for (const [re, reason] of MARKERS) {
    const m = re.exec(source);
    if (m && (!best || m.index < best.index)) best = { index: m.index, reason };
  }
  return best && { line: lineAt(source, best.index), reason: best.reason };
}
