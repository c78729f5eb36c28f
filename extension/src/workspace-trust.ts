// Restricted Mode: in a workspace the user has not trusted, Kyozo analyses and shows its services, but nothing acts
// on the Docker engine. The extension refuses before asking (the server refuses as well), and tells the server as
// soon as trust is granted, so the commands work without a reload.
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { WorkspaceTrustNotification, type WorkspaceTrustParams } from '../../server/src/protocol';

const MANAGE_TRUST = 'Manage Workspace Trust';

/** True in a trusted workspace; otherwise says why `action` is off, offers a way to trust it, and returns false. */
export function allowedByTrust(action: string): boolean {
  if (vscode.workspace.isTrusted) return true;
  const message =
    `Kyozo: "${action}" is not available in Restricted Mode. This workspace is not trusted, and it ` +
    "would build, run or change containers from the repository's files on your Docker engine. Trust the workspace " +
    'to deploy, start, stop, scale and follow logs.';
  void vscode.window.showWarningMessage(message, MANAGE_TRUST).then((choice) => {
    if (choice === MANAGE_TRUST) void vscode.commands.executeCommand('workbench.trust.manage');
  });
  return false;
}

/** Wraps a command handler so it runs only in a trusted workspace. */
export function whenTrusted<A extends unknown[], R>(action: string, run: (...args: A) => R) {
  return (...args: A) => (allowedByTrust(action) ? run(...args) : undefined);
}

export function registerWorkspaceTrust(context: vscode.ExtensionContext, client: LanguageClient): void {
  context.subscriptions.push(
    vscode.workspace.onDidGrantWorkspaceTrust(() => {
      const params: WorkspaceTrustParams = { trusted: true };
      client.sendNotification(WorkspaceTrustNotification, params).catch(() => undefined);
    }),
  );
}
