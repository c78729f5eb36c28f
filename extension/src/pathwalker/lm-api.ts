// The parts of VS Code's language-model, chat and MCP APIs PathWalker uses, typed here because the extension still
// runs on VS Code 1.90, whose API lacks some of them (lm.registerTool came in 1.95, the MCP provider in 1.101). Every
// one is read through these helpers and feature-detected: an editor without it gets the rest of Kyozo.
import * as vscode from 'vscode';

export interface ToolInvocation<T> {
  input: T;
  toolInvocationToken?: unknown;
}

export interface PreparedInvocation {
  invocationMessage?: string;
  confirmationMessages?: { title: string; message: string | vscode.MarkdownString };
}

export interface LanguageModelTool<T> {
  invoke(options: ToolInvocation<T>, token: vscode.CancellationToken): Promise<unknown>;
  prepareInvocation?(options: { input: T }, token: vscode.CancellationToken): PreparedInvocation | undefined;
}

export interface ToolInfo {
  name: string;
  description: string;
  inputSchema?: object;
  tags: readonly string[];
}

interface LmApi {
  registerTool?: <T>(name: string, tool: LanguageModelTool<T>) => vscode.Disposable;
  invokeTool?: (name: string, options: ToolInvocation<object>, token?: vscode.CancellationToken) => Thenable<unknown>;
  tools?: readonly ToolInfo[];
  selectChatModels?: typeof vscode.lm.selectChatModels;
  registerMcpServerDefinitionProvider?: (
    id: string,
    provider: { provideMcpServerDefinitions(token: vscode.CancellationToken): unknown[] },
  ) => vscode.Disposable;
}

interface VscodeNamespaces {
  lm?: LmApi;
  chat?: { createChatParticipant?: typeof vscode.chat.createChatParticipant };
  LanguageModelToolResult?: new (content: unknown[]) => unknown;
  LanguageModelTextPart?: new (value: string) => unknown;
  McpStdioServerDefinition?: new (
    label: string,
    command: string,
    args?: string[],
    env?: Record<string, string | number | null>,
    version?: string,
  ) => { cwd?: vscode.Uri };
}

/** VS Code's namespaces as this editor has them (any part may be missing). */
export function api(): VscodeNamespaces {
  return vscode as unknown as VscodeNamespaces;
}

/** A tool result of text parts, in the classes this editor's API has (a plain object where it has none). */
export function toolResult(text: string): unknown {
  const { LanguageModelToolResult, LanguageModelTextPart } = api();
  if (LanguageModelToolResult && LanguageModelTextPart)
    return new LanguageModelToolResult([new LanguageModelTextPart(text)]);
  return { content: [{ value: text }] };
}
