// Runs a Kyozo Share command in the extension host as the suites drive them: with arguments instead of prompts. Share
// commands answer { error } rather than throwing (the error is shown to the user too); here it becomes a rejection,
// and so does an answer of nothing (the command asked for input it was not given).
import * as vscode from 'vscode';

export async function cmd<T>(id: string, args?: unknown): Promise<T> {
  const r = (await vscode.commands.executeCommand(id, args)) as T & { error?: string };
  if (r && typeof r === 'object' && 'error' in r) throw new Error(`${id} failed: ${r.error}`);
  if (r === undefined) throw new Error(`${id} answered nothing`);
  return r;
}
