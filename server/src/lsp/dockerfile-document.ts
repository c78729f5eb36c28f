// The few Dockerfile facts the language server needs with positions: instructions, EXPOSEd ports, HEALTHCHECK.
// They come from the engine's parser, so continuations, comments and the escape directive are read one way only.
import { parseDockerfile } from '../engine';

export interface DockerInstruction {
  keyword: string;
  line: number;
  args: string;
}

export interface DockerfileFacts {
  instructions: DockerInstruction[];
  exposed: number[];
  /** 0-based lines of the final stage's EXPOSE instructions. */
  exposeLines: number[];
  /** 0-based line of the last FROM (the final stage), -1 without one. */
  lastFrom: number;
  /** 0-based line of the first CMD/ENTRYPOINT after the last FROM, -1 without one. */
  firstCmd: number;
  hasHealthcheck: boolean;
  /** 0-based line of the last instruction, -1 without any. */
  lastInstruction: number;
}

export function readDockerfile(text: string): DockerfileFacts {
  const facts: DockerfileFacts = {
    instructions: [],
    exposed: [],
    exposeLines: [],
    lastFrom: -1,
    firstCmd: -1,
    hasHealthcheck: false,
    lastInstruction: -1,
  };
  for (const ins of parseDockerfile(text, '').instructions) {
    const { keyword, args } = ins;
    const line = ins.line - 1;
    facts.instructions.push({ keyword, line, args });
    facts.lastInstruction = line;
    if (keyword === 'FROM') {
      facts.lastFrom = line;
      facts.firstCmd = -1;
      facts.exposed = [];
      facts.exposeLines = [];
      facts.hasHealthcheck = false;
    }
    if ((keyword === 'CMD' || keyword === 'ENTRYPOINT') && facts.firstCmd < 0) facts.firstCmd = line;
    if (keyword === 'HEALTHCHECK') facts.hasHealthcheck = true;
    if (keyword !== 'EXPOSE') continue;
    facts.exposeLines.push(line);
    for (const p of args.split(/\s+/)) {
      const n = Number(p.split('/')[0]);
      if (Number.isInteger(n) && n > 0) facts.exposed.push(n);
    }
  }
  return facts;
}
