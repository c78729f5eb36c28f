// What the editor on the other end can do, read once from its initialize request. Kyozo works with any LSP client;
// this says which optional parts it may use with this one.
import type { InitializeParams } from 'vscode-languageserver';

export interface ClientProfile {
  /** clientInfo.name, when the client sent one. */
  name?: string;
  /** The client renders `$(icon)` codicon syntax in CodeLens titles (VS Code and the editors built from it). */
  codicons: boolean;
  /** The client accepts workspace/codeLens/refresh, so lenses can be re-requested when the state behind them moves. */
  lensRefresh: boolean;
  /** The client can watch files for us if we register workspace/didChangeWatchedFiles at run time. */
  dynamicWatchers: boolean;
}

export const DEFAULT_CLIENT: ClientProfile = { codicons: false, lensRefresh: false, dynamicWatchers: false };

// clientInfo.name as vscode-languageclient sends it (env.appName): "Visual Studio Code", "Visual Studio Code -
// Insiders", "code-server", and the forks that keep the codicon font.
const CODICON_CLIENTS = /^(visual studio code|code - oss|code-server|vscodium|cursor|windsurf|positron)\b/i;

export function clientProfile(params: Pick<InitializeParams, 'clientInfo' | 'capabilities'>): ClientProfile {
  const name = params.clientInfo?.name;
  const workspace = params.capabilities.workspace;
  return {
    name,
    codicons: name !== undefined && CODICON_CLIENTS.test(name.trim()),
    lensRefresh: workspace?.codeLens?.refreshSupport === true,
    dynamicWatchers: workspace?.didChangeWatchedFiles?.dynamicRegistration === true,
  };
}
