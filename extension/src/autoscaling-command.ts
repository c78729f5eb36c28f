// "Kyozo: Set Autoscaling…": asks for min/max replicas, the CPU target and the cooldown (or turns autoscaling off)
// and has the server write the service's kyozo.yaml `scaling` block; the language server's autoscaler then follows it.
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { MAX_REPLICAS, ServerCommands, scalingProblem, type Scaling } from '../../server/src/protocol';
import type { KyozoModel, ServiceRef } from './kyozo-model';
import { runServerCommand } from './server-command';

/** `1-5` (or `3`, for min = max) as min and max. */
function parseRange(text: string): { min: number; max: number } | undefined {
  const m = /^\s*(\d+)\s*(?:[-–]\s*(\d+))?\s*$/.exec(text);
  if (!m) return undefined;
  return { min: Number(m[1]), max: Number(m[2] ?? m[1]) };
}

export function setAutoscaling(
  client: LanguageClient,
  model: KyozoModel,
): (r: ServiceRef, args: unknown[]) => Promise<unknown> {
  return async (r, args) => {
    if (model.folders.get(r.folderUri)?.remote)
      throw new Error(`${r.service.name} runs on a shared host; its autoscaling is set in the host's window.`);
    const current = r.service.scaling;
    // A scaling given as the third argument (CodeLens, tests) is written as it is; null turns autoscaling off.
    let scaling: Scaling | null | undefined =
      args[2] === null || typeof args[2] === 'object' ? (args[2] as Scaling | null) : undefined;
    if (scaling === undefined) {
      if (current) {
        const off = 'Turn autoscaling off';
        const pick = await vscode.window.showQuickPick(
          [
            { label: 'Change the autoscaling bounds…' },
            { label: off, description: `now ${current.min}-${current.max}` },
          ],
          { title: `Kyozo: autoscaling of ${r.service.name}` },
        );
        if (!pick) return undefined;
        if (pick.label === off) scaling = null;
      }
      if (scaling === undefined) {
        const range = await vscode.window.showInputBox({
          title: `Kyozo: autoscale ${r.service.name} (1 of 3)`,
          prompt: `Fewest and most replicas, e.g. 1-5 (1 to ${MAX_REPLICAS})`,
          value: current ? `${current.min}-${current.max}` : '1-5',
          validateInput: (v) => {
            const p = parseRange(v);
            if (!p) return 'Type min-max, e.g. 1-5';
            return scalingProblem({ ...p, targetCpu: 70 });
          },
        });
        if (range === undefined) return undefined;
        const target = await vscode.window.showInputBox({
          title: `Kyozo: autoscale ${r.service.name} (2 of 3)`,
          prompt: 'Average CPU to aim for, in percent of each replica’s CPU limit',
          value: String(current?.targetCpu ?? 70),
          validateInput: (v) => scalingProblem({ min: 1, max: 1, targetCpu: Number(v) }),
        });
        if (target === undefined) return undefined;
        const cooldown = await vscode.window.showInputBox({
          title: `Kyozo: autoscale ${r.service.name} (3 of 3)`,
          prompt: 'Seconds between two scaling decisions',
          value: String(current?.cooldownSeconds ?? 30),
          validateInput: (v) => scalingProblem({ min: 1, max: 1, targetCpu: 70, cooldownSeconds: Number(v) }),
        });
        if (cooldown === undefined) return undefined;
        scaling = { ...parseRange(range)!, targetCpu: Number(target), cooldownSeconds: Number(cooldown) };
      }
    }
    const { uri } = await runServerCommand(client, ServerCommands.setScaling, r.folderUri, r.service.id, scaling);
    const said = scaling
      ? `${r.service.name} autoscales between ${scaling.min} and ${scaling.max} replicas at ${scaling.targetCpu}% CPU`
      : `${r.service.name} no longer autoscales`;
    void vscode.window.showInformationMessage(`Kyozo: ${said} (kyozo.yaml).`, 'Open kyozo.yaml').then((open) => {
      if (open) void vscode.window.showTextDocument(vscode.Uri.parse(uri));
    });
    return uri;
  };
}
