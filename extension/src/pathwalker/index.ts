// PathWalker in VS Code: Kyozo: Describe Folder, the Services view's folder summaries, the language-model tools, the
// @kyozo chat participant and (VS Code 1.101+) the MCP server definition. Each editor API is feature-detected.
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { ClientCommands } from '../../../server/src/protocol';
import type { KyozoModel } from '../kyozo-model';
import { setFolderSummaries } from '../services-view';
import { KyozoChat, registerChatParticipant } from './chat-participant';
import { DESCRIPTION_SCHEME, describeFolderCommand, FolderDescriptions } from './describe-folder';
import { AgentTools, registerAgentTools } from './lm-tools';
import { registerMcpProvider } from './mcp-provider';

/** What PathWalker registered in this editor (read by the end-to-end suite through the extension's API). */
export interface PathWalkerApi {
  tools: string[];
  participant: boolean;
  mcpProvider: boolean;
  /** The @kyozo handler, for callers without a chat session. */
  chat: KyozoChat['handle'];
}

export function registerPathWalker(
  context: vscode.ExtensionContext,
  client: LanguageClient,
  model: KyozoModel,
): PathWalkerApi {
  const descriptions = new FolderDescriptions(client, model);
  context.subscriptions.push(
    descriptions,
    vscode.workspace.registerTextDocumentContentProvider(DESCRIPTION_SCHEME, descriptions),
    vscode.commands.registerCommand(ClientCommands.describeFolder, describeFolderCommand(model)),
  );
  const summaries = new Map<string, Promise<string | undefined>>();
  context.subscriptions.push(model.onDidChangeTopology(() => summaries.clear()));
  setFolderSummaries((folderUri, folder) => {
    const key = `${folderUri}|${folder}`;
    let s = summaries.get(key);
    if (!s) {
      const uri = vscode.Uri.joinPath(vscode.Uri.parse(folderUri), folder);
      s = descriptions.describe(uri).then(
        (d) => d.summary,
        () => undefined,
      );
      summaries.set(key, s);
    }
    return s;
  });
  const tools = new AgentTools(client, model);
  const chat = new KyozoChat(model, descriptions, tools);
  return {
    tools: optional('language-model tools', [], () => registerAgentTools(context, tools)),
    participant: optional('the @kyozo chat participant', false, () => registerChatParticipant(context, chat)),
    mcpProvider: optional('the MCP server definition', false, () => registerMcpProvider(context, model)),
    chat: chat.handle,
  };
}

/** An editor API that is there but refuses (a preview shape, a missing contribution) leaves the rest working. */
function optional<T>(what: string, fallback: T, register: () => T): T {
  try {
    return register();
  } catch (e) {
    console.warn(`Kyozo: ${what} not offered in this editor: ${(e as Error).message}`);
    return fallback;
  }
}
