// Ports a start command names (scripts, Procfiles, shell entry points, Dockerfile CMDs).

/** Ports named in a command line: `PORT=4000`, `--port 8080`, `--port=8080`, `-p 3000`, `0.0.0.0:8000`, `--bind :8000`. */
export function portsInCommand(command: string): { port: number; reason: string }[] {
  const out: { port: number; reason: string }[] = [];
  const add = (v: string, reason: string) => {
    const n = Number(v);
    if (Number.isInteger(n) && n > 0 && n < 65536 && !out.some((p) => p.port === n)) out.push({ port: n, reason });
  };
  for (const m of command.matchAll(/\bPORT=(\d{2,5})\b/g)) add(m[1], `PORT=${m[1]}`);
  for (const m of command.matchAll(/(?:^|\s)--(?:port|listen|http-port|server\.port)[= ](\d{2,5})\b/g))
    add(m[1], m[0].trim());
  for (const m of command.matchAll(/(?:^|\s)-p[= ]?(\d{2,5})\b/g)) add(m[1], m[0].trim());
  for (const m of command.matchAll(/(?:0\.0\.0\.0|127\.0\.0\.1|localhost|\[::\])?:(\d{2,5})\b/g)) {
    if (/:\/\//.test(command.slice(Math.max(0, (m.index ?? 0) - 12), m.index))) continue; // part of a URL
    if (m[0].startsWith(':') && !/(?:--bind|-b|runserver|--listen)\s+$/.test(command.slice(0, m.index))) continue;
    add(m[1], m[0]);
  }
  return out;
}
