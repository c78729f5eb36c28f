// Hosts the topology webview: one panel, restored after reload by a serializer, fed by a TopologyPanelSource.
// The webview is an island: it gets data by postMessage and asks for actions the same way; nothing else crosses.
import * as vscode from 'vscode';
import {
  ClientCommands,
  type DeploymentEvent,
  type HostToWebviewMessage,
  type ServiceStatus,
  type Topology,
  type WebviewAction,
  type WebviewToHostMessage,
  type WebviewViewState,
} from '../../server/src/protocol';
import { makeNonce, topologyHtml } from '../../webviews/topology/html';

export interface TopologyPanelSource {
  topology(): Topology | undefined;
  statuses(): ServiceStatus[];
  events(): DeploymentEvent[];
  onDidChangeTopology: vscode.Event<Topology>;
  onDidChangeStatus: vscode.Event<ServiceStatus[]>;
  onDidAddEvent: vscode.Event<DeploymentEvent>;
  runAction(action: WebviewAction, serviceId: string): Thenable<void>;
}

export const TOPOLOGY_VIEW_TYPE = 'kyozo.topology';
const STATE_KEY = 'kyozo.topology.state';
const ACTIONS: ReadonlySet<string> = new Set<WebviewAction>(['deploy', 'stop', 'restart', 'logs', 'reveal', 'open']);
/** Larger exports are refused rather than written half-way: 64 MB covers a 500-service graph at 2× in PNG. */
const MAX_EXPORT_CHARS = 64 * 1024 * 1024;

export function registerTopologyPanel(
  context: vscode.ExtensionContext,
  source: TopologyPanelSource,
): vscode.Disposable {
  let current: TopologyPanel | undefined;
  const root = vscode.Uri.joinPath(context.extensionUri, 'dist', 'webviews');
  const adopt = (panel: vscode.WebviewPanel, state: WebviewViewState | undefined) => {
    current = new TopologyPanel(panel, root, source, context, state);
    panel.onDidDispose(() => {
      if (current?.panel === panel) current = undefined;
    });
    return current;
  };
  const disposables = [
    vscode.commands.registerCommand(ClientCommands.openTopology, (arg?: unknown) => {
      const serviceId = serviceIdOf(arg);
      if (current) {
        current.panel.reveal();
      } else {
        const panel = vscode.window.createWebviewPanel(
          TOPOLOGY_VIEW_TYPE,
          'Kyozo Topology',
          vscode.ViewColumn.Active,
          webviewOptions(root),
        );
        adopt(panel, context.workspaceState.get<WebviewViewState>(STATE_KEY));
      }
      if (serviceId) current!.select(serviceId);
    }),
    vscode.window.registerWebviewPanelSerializer(TOPOLOGY_VIEW_TYPE, {
      async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: unknown) {
        adopt(panel, isViewState(state) ? state : context.workspaceState.get<WebviewViewState>(STATE_KEY));
      },
    }),
  ];
  return vscode.Disposable.from(...disposables, { dispose: () => current?.panel.dispose() });
}

function webviewOptions(root: vscode.Uri): vscode.WebviewPanelOptions & vscode.WebviewOptions {
  return { enableScripts: true, localResourceRoots: [root], enableFindWidget: false };
}

/** The command is called bare, with a service id, or with a Services-view tree item carrying one. */
function serviceIdOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') return arg;
  if (arg && typeof arg === 'object') {
    const o = arg as { serviceId?: unknown; service?: { id?: unknown }; id?: unknown };
    for (const v of [o.serviceId, o.service?.id]) if (typeof v === 'string') return v;
  }
  return undefined;
}

function isViewState(s: unknown): s is WebviewViewState {
  return !!s && typeof s === 'object' && !Array.isArray(s);
}

class TopologyPanel {
  private readonly subscriptions: vscode.Disposable[] = [];
  private pendingSelect?: string;
  private ready = false;

  constructor(
    readonly panel: vscode.WebviewPanel,
    root: vscode.Uri,
    private readonly source: TopologyPanelSource,
    private readonly context: vscode.ExtensionContext,
    private restoreState: WebviewViewState | undefined,
  ) {
    const webview = panel.webview;
    webview.options = webviewOptions(root);
    webview.html = topologyHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(root, 'topology.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(root, 'topology.css')).toString(),
    });
    this.subscriptions.push(
      webview.onDidReceiveMessage((m: WebviewToHostMessage) => void this.onMessage(m)),
      source.onDidChangeTopology((topology) => {
        this.setTitle(topology);
        this.post({ type: 'topology', topology });
      }),
      source.onDidChangeStatus((statuses) => this.post({ type: 'status', statuses })),
      source.onDidAddEvent((event) => this.post({ type: 'events', events: [event] })),
      // The statuses are the active environment's (kyozo.environment): the title names it.
      vscode.workspace.onDidChangeConfiguration((e) => {
        const t = source.topology();
        if (e.affectsConfiguration('kyozo.environment') && t) this.setTitle(t);
      }),
      panel.onDidDispose(() => {
        for (const d of this.subscriptions) d.dispose();
      }),
    );
    const t = source.topology();
    if (t) this.setTitle(t);
  }

  select(serviceId: string): void {
    if (this.ready) this.post({ type: 'select', serviceId });
    else this.pendingSelect = serviceId;
  }

  private setTitle(t: Topology): void {
    const environment = vscode.workspace.getConfiguration('kyozo').get<string>('environment')?.trim();
    this.panel.title = `Topology: ${t.name}${environment ? ` · ${environment}` : ''}`;
  }

  private post(m: HostToWebviewMessage): void {
    // A hidden panel's webview is discarded (no retainContextWhenHidden); it says 'ready' again when shown.
    if (this.ready) void this.panel.webview.postMessage(m);
  }

  private async onMessage(m: WebviewToHostMessage): Promise<void> {
    if (!m || typeof m !== 'object') return;
    switch (m.type) {
      case 'ready': {
        this.ready = true;
        if (this.restoreState) {
          this.post({ type: 'restore', state: this.restoreState });
          this.restoreState = undefined;
        }
        const topology = this.source.topology();
        if (topology) this.post({ type: 'topology', topology });
        this.post({ type: 'status', statuses: this.source.statuses() });
        this.post({ type: 'events', events: this.source.events() });
        if (this.pendingSelect) {
          this.post({ type: 'select', serviceId: this.pendingSelect });
          this.pendingSelect = undefined;
        }
        return;
      }
      case 'action': {
        if (!ACTIONS.has(m.action) || typeof m.serviceId !== 'string') return;
        try {
          await this.source.runAction(m.action, m.serviceId);
        } catch (err) {
          void vscode.window.showErrorMessage(
            `Kyozo: ${m.action} of ${m.serviceId} failed: ${err instanceof Error ? err.message : String(err)}`,
          );
        }
        return;
      }
      case 'state':
        if (isViewState(m.state)) await this.context.workspaceState.update(STATE_KEY, m.state);
        return;
      case 'export':
        return this.saveExport(m.format, m.data);
    }
  }

  private async saveExport(format: unknown, data: unknown): Promise<void> {
    if (
      (format !== 'svg' && format !== 'png') ||
      typeof data !== 'string' ||
      data.length === 0 ||
      data.length > MAX_EXPORT_CHARS
    ) {
      void vscode.window.showErrorMessage(
        'Kyozo: the topology export was empty or too large to save; try SVG, or filter the graph first.',
      );
      return;
    }
    const bytes = format === 'svg' ? Buffer.from(data, 'utf8') : Buffer.from(data, 'base64');
    if (format === 'svg' && !data.includes('<svg')) {
      void vscode.window.showErrorMessage(
        'Kyozo: the SVG export did not contain an <svg> document; nothing was saved.',
      );
      return;
    }
    const name = `${this.source.topology()?.name ?? 'topology'}-topology.${format}`;
    const folder = vscode.workspace.workspaceFolders?.[0]?.uri;
    const target = await vscode.window.showSaveDialog({
      defaultUri: folder ? vscode.Uri.joinPath(folder, name) : undefined,
      filters: format === 'svg' ? { 'SVG image': ['svg'] } : { 'PNG image': ['png'] },
      title: `Export topology as ${format.toUpperCase()}`,
    });
    if (!target) return;
    try {
      await vscode.workspace.fs.writeFile(target, bytes);
      void vscode.window.showInformationMessage(`Kyozo: topology saved to ${target.fsPath}`);
    } catch (err) {
      void vscode.window.showErrorMessage(
        `Kyozo: could not write ${target.fsPath}: ${err instanceof Error ? err.message : String(err)}. Choose another location.`,
      );
    }
  }
}
