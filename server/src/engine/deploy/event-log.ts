// Durable append-only deployment event log: one JSON object per line, each append fsynced,
// so `kyozo events` after a crash or a killed CLI still shows what happened.
import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { DeploymentEvent, DeploymentEventType } from '../../protocol';

export class EventLog {
  readonly file: string;

  constructor(
    dir: string,
    private readonly workspace: string,
  ) {
    this.file = join(dir, 'events.jsonl');
  }

  append(
    type: DeploymentEventType,
    fields: Omit<Partial<DeploymentEvent>, 'type' | 'workspace'> = {},
  ): DeploymentEvent {
    const event: DeploymentEvent = {
      id: `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`,
      at: new Date().toISOString(),
      type,
      workspace: this.workspace,
      ...fields,
    };
    const fd = openSync(this.file, 'a', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(event)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    return event;
  }

  /** All events, oldest first; a torn last line (power loss mid-write) is skipped, never fatal. */
  read(serviceId?: string): DeploymentEvent[] {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch {
      return [];
    }
    const out: DeploymentEvent[] = [];
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const e = JSON.parse(line) as DeploymentEvent;
        if (!serviceId || e.serviceId === serviceId || (e.type.startsWith('deployment_') && !e.serviceId)) out.push(e);
      } catch {
        // torn line: ignore
      }
    }
    return out;
  }
}
