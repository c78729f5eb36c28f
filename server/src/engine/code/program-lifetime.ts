// Whether a program that listens on nothing keeps running (a worker) or runs to completion (a job). Read from the
// text rather than a grammar so that every language, including those without a tree-sitter reader (Elixir, C++,
// shell), is judged by the same markers: an endless loop, a timer, a scheduler, a consumer or a bot's polling.
import { lineAt } from '../parse/evidence';

export interface LongRunningMarker {
  line: number;
  reason: string;
}

/** One marker per reason, written as alternatives so each stays readable. */
const any = (...parts: string[]) => new RegExp(parts.join('|'), 'm');

const MARKERS: [RegExp, string][] = [
  [any(String.raw`\bwhile\s*\(?\s*(?:True|true|1|:)\s*\)?\s*(?::|\{|do\b|;)`), 'loops forever'],
  [any(String.raw`^\s*for\s*\{`), 'loops forever (for {})'],
  [any(String.raw`\bloop\s*\{`), 'loops forever (loop {})'],
  [any(String.raw`\bfor\s*\(\s*;\s*;\s*\)`), 'loops forever (for (;;))'],
  [
    any(
      String.raw`\bsetInterval\s*\(`,
      String.raw`\btime\.Tick(?:er)?\b`,
      String.raw`\bNewTicker\s*\(`,
      String.raw`\btokio::time::interval\b`,
      String.raw`:timer\.send_interval\b`,
    ),
    'wakes up on an interval',
  ],
  [
    any(
      String.raw`\bschedule\.every\b`,
      String.raw`\b(?:Blocking|AsyncIO|Background)Scheduler\b`,
      String.raw`\bcron\.schedule\s*\(`,
      String.raw`\bnew CronJob\b`,
      String.raw`@Scheduled\b`,
      String.raw`\bcron\.New\s*\(`,
      String.raw`\bOban\.Plugins\.Cron\b`,
    ),
    'runs a scheduler',
  ],
  [
    any(
      String.raw`\b(?:run_polling|start_polling|infinity_polling|polling)\s*\(`,
      String.raw`\bclient\.run\s*\(`,
      String.raw`\bbot\.launch\s*\(`,
      String.raw`\bclient\.login\s*\(`,
    ),
    'keeps a bot connected',
  ],
  [
    any(
      String.raw`\b(?:basic_consume|start_consuming|consumer\.run|ReadMessage|FetchMessage)\s*\(`,
      String.raw`\.(?:subscribe|consume|Consume|poll)\s*\(`,
      String.raw`\.on\(\s*['"]message['"]`,
    ),
    'consumes messages',
  ],
  [
    any(
      String.raw`\b(?:run_forever|serve_forever)\s*\(`,
      String.raw`\bProcess\.sleep\(:infinity\)`,
      String.raw`\bselect\s*\{\s*\}`,
      String.raw`\bsignal\.Notify\s*\(`,
    ),
    'waits until it is stopped',
  ],
  [
    any(
      String.raw`\basynq\.NewServer\b`,
      String.raw`\bworker\.New\s*\(`,
      String.raw`\bnew Worker\s*\(`,
      String.raw`\bNewWorker\s*\(`,
      String.raw`\bmachinery\.NewServer\b`,
    ),
    'runs a queue worker',
  ],
  [any(String.raw`\buse\s+(?:GenServer|Broadway|Supervisor)\b`), 'starts a supervised OTP process'],
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
