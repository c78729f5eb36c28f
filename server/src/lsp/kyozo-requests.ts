// Commands and Kyozo's own requests: workspace/executeCommand (deploy, stop, logs, ...) and the kyozo/... methods the
// extension and the topology view use.
import { ExecuteCommandRequest } from 'vscode-languageserver';
import {
  ComposeRequest,
  EventsRequest,
  ExplainRequest,
  StopLogsNotification,
  WorkspaceTrustNotification,
} from '../protocol';
import { describeService } from './hover';
import type { ServerSession } from './server-session';
import { serviceById, serviceForFile } from './service-lookup';

export function registerKyozoRequests(server: ServerSession): void {
  const { connection, commands } = server;

  // Registered as a plain request so the client's workDoneToken is seen before the library consumes it.
  connection.onRequest(ExecuteCommandRequest.type, (params, token) => {
    const clientToken = params.workDoneToken;
    return commands.execute(params, token, connection.window.attachWorkDoneProgress(clientToken), clientToken);
  });

  connection.onRequest(ExplainRequest, async (p) => {
    const f = server.folders.get(p.folderUri) ?? (p.uri ? server.folderFor(p.uri) : undefined);
    await f?.idle();
    const ctx = f?.context();
    if (!f || !ctx) return null;
    const rel = p.uri ? f.relativePath(p.uri) : undefined;
    let s = p.serviceId ? serviceById(ctx.topology, p.serviceId) : undefined;
    if (!p.serviceId && rel) {
      const own = ctx.topology.services.find((x) => x.folder === rel && !x.composeOnly);
      s = own ?? serviceForFile(ctx.topology, rel);
    }
    return s ? { serviceId: s.id, markdown: describeService(ctx, s) } : null;
  });
  connection.onRequest(EventsRequest, (p) => commands.events(p.folderUri, p.serviceId));
  connection.onRequest(ComposeRequest, (p) => commands.compose(p.folderUri));
  connection.onNotification(StopLogsNotification, (p) => commands.stopLogs(p.streamId));
  connection.onNotification(WorkspaceTrustNotification, (p) => commands.setTrusted(p.trusted === true));
}
