// The few Dockerfile facts the language server needs with positions: instructions, EXPOSEd ports, HEALTHCHECK.

export interface DockerInstruction { keyword: string; line: number; args: string }

export interface DockerfileFacts {
  instructions: DockerInstruction[];
  exposed: number[];
  /** 0-based line of the last FROM (the final stage), -1 without one. */
  lastFrom: number;
  /** 0-based line of the first CMD/ENTRYPOINT after the last FROM, -1 without one. */
  firstCmd: number;
  hasHealthcheck: boolean;
}

export function readDockerfile(text: string): DockerfileFacts {
  const lines = text.split(/\r?\n/);
  const facts: DockerfileFacts = { instructions: [], exposed: [], lastFrom: -1, firstCmd: -1, hasHealthcheck: false };
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let full = lines[i];
    while (/\\\s*$/.test(full) && i + 1 < lines.length) full = full.replace(/\\\s*$/, ' ') + lines[++i];
    const m = /^\s*([A-Za-z]+)\s*(.*)$/.exec(full);
    if (!m || full.trimStart().startsWith('#')) continue;
    const keyword = m[1].toUpperCase();
    facts.instructions.push({ keyword, line: start, args: m[2] });
    if (keyword === 'FROM') { facts.lastFrom = start; facts.firstCmd = -1; facts.exposed = []; facts.hasHealthcheck = false; }
    if ((keyword === 'CMD' || keyword === 'ENTRYPOINT') && facts.firstCmd < 0) facts.firstCmd = start;
    if (keyword === 'HEALTHCHECK') facts.hasHealthcheck = true;
    if (keyword === 'EXPOSE') for (const p of m[2].split(/\s+/)) { const n = Number(p.split('/')[0]); if (Number.isInteger(n) && n > 0) facts.exposed.push(n); }
  }
  return facts;
}
