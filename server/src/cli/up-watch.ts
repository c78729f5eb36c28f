// `kyozo up --watch`: after `up`, the command stays to do what the language server does for editor users: it
// follows the engine's events (keeping each gateway's upstream in step with its healthy replicas) and runs the
// autoscaler for services with kyozo.yaml `scaling`, printing each event, until Ctrl-C.
import { Autoscaler, type AutoscalerOptions, type DockerOrchestrator, type Orchestrator } from '../engine/deploy';
import type { Topology } from '../protocol';

/** Seconds from an environment variable (tests shorten the autoscaler's window, cooldown and interval this way). */
function secondsFromEnv(name: string): number | undefined {
  const text = process.env[name];
  if (text === undefined || text === '') return undefined;
  const n = Number(text);
  if (!(n > 0)) throw new Error(`${name} expects a number of seconds above 0, got '${text}'`);
  return n * 1000;
}

export function autoscalerOptionsFromEnv(): AutoscalerOptions {
  return {
    windowMs: secondsFromEnv('KYOZO_AUTOSCALE_WINDOW'),
    cooldownMs: secondsFromEnv('KYOZO_AUTOSCALE_COOLDOWN'),
    intervalMs: secondsFromEnv('KYOZO_AUTOSCALE_INTERVAL'),
  };
}

/** Runs until SIGINT or SIGTERM; `print` gets one line per event. */
export async function watchAfterUp(
  orchestrator: Orchestrator & DockerOrchestrator,
  topology: Topology,
  print: (line: string) => void,
): Promise<void> {
  const name = (id?: string) => topology.services.find((s) => s.id === id)?.name ?? id ?? '-';
  const scaled = topology.services.filter((s) => s.scaling).map((s) => s.name);
  print(
    `watching ${topology.name}${scaled.length ? `; autoscaling ${scaled.join(', ')}` : ''} (Ctrl-C to stop; services keep running)`,
  );
  const watch = orchestrator.watch(
    () => topology,
    () => undefined,
    (e) => print(`${e.type} ${name(e.serviceId)}${e.message ? `: ${e.message}` : ''}`),
  );
  const scaler = new Autoscaler(orchestrator, () => topology, {
    ...autoscalerOptionsFromEnv(),
    onDecision: (id, d, error) =>
      print(
        error
          ? `autoscaling ${name(id)} to ${d.replicas} failed: ${error.message.split('\n')[0]}`
          : `scaled ${name(id)} to ${d.replicas}: ${d.reason}`,
      ),
  }).start();
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  scaler.dispose();
  watch.dispose();
}
