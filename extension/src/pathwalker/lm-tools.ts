// kyozo mcp's tools as VS Code language-model tools (contributes.languageModelTools): the same names and input
// schemas, answered by the language server on the analysis it already holds. Read tools go through kyozo/agentTool;
// deploy and stop run the server's commands, after a confirmation, and are refused in Restricted Mode.
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import {
  AgentToolRequest,
  ServerCommands,
  type AgentToolParams,
  type Service,
  type ServiceStatus,
} from '../../../server/src/protocol';
import type { KyozoModel } from '../kyozo-model';
import { runServerCommand } from '../server-command';
import { api, toolResult, type LanguageModelTool, type PreparedInvocation } from './lm-api';

/** Tools that act on the Docker engine: each asks before it runs, and none runs in an untrusted workspace. */
export const ACTION_TOOLS = new Set(['kyozo_deploy', 'kyozo_stop', 'kyozo_logs']);

type Input = Record<string, unknown>;

export class AgentTools {
  constructor(
    private readonly client: LanguageClient,
    private readonly model: KyozoModel,
  ) {}

  /** The workspace folder tools answer for: the first one Kyozo has analysed. */
  folderUri(): string {
    const first = this.model.localFolders()[0];
    if (!first)
      throw new Error('Kyozo has not analysed a workspace folder yet; open a folder and wait for its services.');
    return first.folderUri;
  }

  private service(folderUri: string, ref: unknown): Service {
    const t = this.model.folders.get(folderUri)!.topology;
    const r = typeof ref === 'string' ? ref.trim() : '';
    const s =
      t.services.find((x) => x.id === r) ??
      t.services.find((x) => x.name === r) ??
      t.services.find((x) => x.folder === r.replace(/\/+$/, ''));
    if (!s)
      throw new Error(
        `no service "${r}" in ${t.name} (services: ${t.services.map((x) => x.name).join(', ') || 'none'})`,
      );
    return s;
  }

  /** Runs a tool by name and returns its answer as text (JSON for every tool but kyozo_logs, as kyozo mcp does). */
  async run(name: string, input: Input): Promise<string> {
    if (ACTION_TOOLS.has(name) && !vscode.workspace.isTrusted)
      throw new Error(
        `${name} is not available in Restricted Mode: it would build, run or read containers from this repository ` +
          'on your Docker engine. Trust the workspace first.',
      );
    const folderUri = this.folderUri();
    const brief = (s: ServiceStatus, svc?: Service) => ({
      service: svc?.name ?? s.serviceId,
      state: s.state,
      health: s.health,
      ports: s.ports,
      message: s.message,
    });
    if (name === 'kyozo_deploy') {
      const refs = input.services;
      if (refs !== undefined && !Array.isArray(refs))
        throw new Error('kyozo_deploy: `services` must be a list of names');
      const statuses: ServiceStatus[] = [];
      if (!refs?.length) statuses.push(...(await runServerCommand(this.client, ServerCommands.deployAll, folderUri)));
      else
        for (const ref of refs)
          statuses.push(
            ...(await runServerCommand(this.client, ServerCommands.deploy, folderUri, this.service(folderUri, ref).id)),
          );
      const t = this.model.folders.get(folderUri)!.topology;
      return JSON.stringify(
        statuses.map((s) =>
          brief(
            s,
            t.services.find((x) => x.id === s.serviceId),
          ),
        ),
      );
    }
    if (name === 'kyozo_stop') {
      if (input.service === undefined) {
        await runServerCommand(this.client, ServerCommands.stopAll, folderUri);
        const t = this.model.folders.get(folderUri)!.topology;
        return JSON.stringify(t.services.map((s) => ({ service: s.name, state: 'stopped' })));
      }
      const s = this.service(folderUri, input.service);
      const st = await runServerCommand(this.client, ServerCommands.stop, folderUri, s.id);
      return JSON.stringify([{ service: s.name, state: st.state }]);
    }
    const params: AgentToolParams = { tool: name, input, folderUri };
    return (await this.client.sendRequest(AgentToolRequest, params)).text;
  }

  /** The tool VS Code calls: an action first asks the user; the answer is the engine's, as text. */
  tool(name: string): LanguageModelTool<Input> {
    return {
      prepareInvocation: (options): PreparedInvocation => {
        if (!ACTION_TOOLS.has(name)) return { invocationMessage: `Kyozo: ${name.replace(/^kyozo_/, '')}` };
        const what =
          name === 'kyozo_deploy'
            ? `deploy ${Array.isArray(options.input.services) && options.input.services.length ? options.input.services.join(', ') : 'every service'} on the Docker engine`
            : name === 'kyozo_stop'
              ? `stop ${typeof options.input.service === 'string' ? options.input.service : 'every running service'}`
              : `read the logs of ${String(options.input.service)}`;
        return {
          invocationMessage: `Kyozo: ${what}`,
          confirmationMessages: { title: `Kyozo: ${what}?`, message: `Kyozo will ${what} for this workspace.` },
        };
      },
      invoke: async (options) => toolResult(await this.run(name, options.input ?? {})),
    };
  }
}

/** Registers every tool package.json contributes, when this editor has lm.registerTool; returns their names. */
export function registerAgentTools(context: vscode.ExtensionContext, tools: AgentTools): string[] {
  const lm = api().lm;
  if (!lm?.registerTool) return [];
  const contributed =
    (context.extension.packageJSON as { contributes?: { languageModelTools?: { name: string }[] } }).contributes
      ?.languageModelTools ?? [];
  const names = contributed.map((t) => t.name);
  for (const name of names) context.subscriptions.push(lm.registerTool(name, tools.tool(name)));
  return names;
}
