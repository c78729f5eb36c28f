// Streams a service's logs into a terminal: the server follows the container, the terminal shows kyozo/logOutput chunks.
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import {
  LogOutputNotification,
  ServerCommands,
  StopLogsNotification,
  type StopLogsParams,
} from '../../server/src/protocol';
import { runServerCommand } from './server-command';

export class LogTerminals implements vscode.Disposable {
  private readonly streams = new Map<string, vscode.EventEmitter<string>>();
  private readonly sinks = new Map<string, (text: string, done: boolean) => void>();
  private readonly subscription: vscode.Disposable;

  constructor(private readonly client: LanguageClient) {
    this.subscription = client.onNotification(LogOutputNotification, (p) => {
      this.sinks.get(p.streamId)?.(p.text, !!p.done);
      if (p.done) this.sinks.delete(p.streamId);
      const out = this.streams.get(p.streamId);
      if (!out) return;
      if (p.text) out.fire(p.text.replace(/\r?\n/g, '\r\n'));
      if (p.done) out.fire('\r\n\x1b[2m[kyozo] end of log stream\x1b[0m\r\n');
    });
  }

  async open(folderUri: string, serviceId: string, name: string): Promise<vscode.Terminal> {
    const write = new vscode.EventEmitter<string>();
    let streamId: string | undefined;
    const pty: vscode.Pseudoterminal = {
      onDidWrite: write.event,
      open: () => write.fire(`\x1b[2m[kyozo] logs of ${name} (following; close the terminal to stop)\x1b[0m\r\n`),
      close: () => {
        if (streamId) {
          const p: StopLogsParams = { streamId };
          void this.client.sendNotification(StopLogsNotification, p);
          this.streams.delete(streamId);
        }
        write.dispose();
      },
    };
    const terminal = vscode.window.createTerminal({
      name: `Kyozo logs: ${name}`,
      pty,
      iconPath: new vscode.ThemeIcon('output'),
    });
    terminal.show(true);
    try {
      const r = await runServerCommand(this.client, ServerCommands.logs, folderUri, serviceId);
      streamId = r.streamId;
      this.streams.set(streamId, write);
    } catch (e) {
      write.fire(`\r\n\x1b[31m[kyozo] could not follow the logs of ${name}: ${(e as Error).message}\x1b[0m\r\n`);
    }
    return terminal;
  }

  /**
   * Follows a service's logs without a terminal (for a Kyozo Share guest who asked): the last 200 lines, then each
   * new chunk, go to `sink` until the returned function is called or the container stops.
   */
  async follow(folderUri: string, serviceId: string, sink: (text: string, done: boolean) => void): Promise<() => void> {
    const { streamId } = await runServerCommand(this.client, ServerCommands.logs, folderUri, serviceId);
    this.sinks.set(streamId, sink);
    return () => {
      if (!this.sinks.delete(streamId)) return;
      const p: StopLogsParams = { streamId };
      void this.client.sendNotification(StopLogsNotification, p);
    };
  }

  dispose(): void {
    this.subscription.dispose();
    for (const s of this.streams.values()) s.dispose();
  }
}
