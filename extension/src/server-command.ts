// Runs one of the server's workspace/executeCommand commands with the arguments and result type the protocol
// declares for it, so a caller cannot pass a command's arguments in the wrong order or read a result it lacks.
import { ExecuteCommandRequest, type LanguageClient } from 'vscode-languageclient/node';
import type { ServerCommand, ServerCommandSignatures } from '../../server/src/protocol';

export function runServerCommand<C extends ServerCommand>(
  client: LanguageClient,
  command: C,
  ...args: ServerCommandSignatures[C]['args']
): Promise<ServerCommandSignatures[C]['result']> {
  return client.sendRequest(ExecuteCommandRequest.type, { command, arguments: args });
}
