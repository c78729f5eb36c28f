// One line of deployment progress, as the language server's notifications and other plain-text readers show it.
import type { DeployProgress } from './orchestrator';

export function describeProgress(p: DeployProgress, name = p.serviceId): string {
  const first = p.message?.split('\n')[0];
  return `${name}: ${p.state}${first ? ` — ${first}` : ''}`;
}
