// On VS Code 1.101+ (lm.registerMcpServerDefinitionProvider), `kyozo mcp` is offered to the editor's agents as an MCP
// server per analysed workspace folder, run from the CLI bundles this extension ships. Older editors skip it: 1.100
// has the function already, but it wants another contribution point (modelContextServerCollections) and throws.
import * as vscode from 'vscode';
import type { KyozoModel } from '../kyozo-model';
import { api } from './lm-api';

export const MCP_PROVIDER_ID = 'kyozo.mcp';

/** True from VS Code 1.101, where the provider API and contributes.mcpServerDefinitionProviders are final. */
export function hasFinalMcpApi(version = vscode.version): boolean {
  const [major, minor] = version.split('.').map((x) => parseInt(x, 10));
  return major > 1 || (major === 1 && minor >= 101);
}

export function registerMcpProvider(context: vscode.ExtensionContext, model: KyozoModel): boolean {
  const { lm, McpStdioServerDefinition } = api();
  if (!lm?.registerMcpServerDefinitionProvider || !McpStdioServerDefinition || !hasFinalMcpApi()) return false;
  const changed = new vscode.EventEmitter<void>();
  const cli = context.asAbsolutePath('dist/cli.js');
  context.subscriptions.push(
    changed,
    model.onDidChangeTopology(() => changed.fire()),
    lm.registerMcpServerDefinitionProvider(MCP_PROVIDER_ID, {
      onDidChangeMcpServerDefinitions: changed.event,
      provideMcpServerDefinitions: () =>
        // A Kyozo Share host's folder (remote) is not on this machine: no MCP server for it.
        model.localFolders().map((f) => {
          const dir = vscode.Uri.parse(f.folderUri);
          // The editor's own runtime runs the CLI: Electron acts as Node with ELECTRON_RUN_AS_NODE.
          const def = new McpStdioServerDefinition(
            `Kyozo (${f.topology.name})`,
            process.execPath,
            [cli, 'mcp', dir.fsPath],
            { ELECTRON_RUN_AS_NODE: '1' },
          );
          def.cwd = dir;
          return def;
        }),
    } as Parameters<NonNullable<typeof lm.registerMcpServerDefinitionProvider>>[1]),
  );
  return true;
}
