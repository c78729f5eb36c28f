// What the client knows, fed only by the server's notifications: topology and statuses per folder, events, engine state.
import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import {
  AnalysisFailedNotification,
  DeploymentEventNotification,
  EngineStateNotification,
  ServiceStatusNotification,
  TopologyNotification,
  type DeploymentEvent,
  type EngineStateParams,
  type Service,
  type ServiceStatus,
  type Topology,
} from '../../server/src/protocol';

export interface FolderModel {
  folderUri: string;
  topology: Topology;
  statuses: Map<string, ServiceStatus>;
  /** Set on a Kyozo Share host's services, seen from a guest window (share/remote-services.ts). */
  remote?: RemoteOrigin;
}

/** Where a remote folder's services run, and how this window acts on them. */
export interface RemoteOrigin {
  roomId: string;
  host: string;
  /** This user's role in the host's team: viewers see the services but cannot act on them. */
  role: string;
  /** Sends a signed request to the host and resolves with its answer. */
  act(
    action: 'deploy' | 'stop' | 'restart' | 'scale' | 'logs',
    serviceId: string,
    args?: { replicas?: number },
  ): Promise<unknown>;
}

export interface ServiceRef {
  folderUri: string;
  service: Service;
  status?: ServiceStatus;
}

export class KyozoModel implements vscode.Disposable {
  readonly folders = new Map<string, FolderModel>();
  readonly events: (DeploymentEvent & { folderUri: string })[] = [];
  engine: EngineStateParams | undefined;
  /** Set once the first topology of every folder arrived (or failed), so welcome views don't flash. */
  ready = false;
  /** Why the last analysis failed, until one succeeds. */
  analysisError: string | undefined;

  private readonly topologyEmitter = new vscode.EventEmitter<string>();
  private readonly statusEmitter = new vscode.EventEmitter<string>();
  private readonly eventEmitter = new vscode.EventEmitter<DeploymentEvent>();
  private readonly engineEmitter = new vscode.EventEmitter<EngineStateParams>();
  readonly onDidChangeTopology = this.topologyEmitter.event;
  readonly onDidChangeStatus = this.statusEmitter.event;
  readonly onDidAddEvent = this.eventEmitter.event;
  readonly onDidChangeEngine = this.engineEmitter.event;

  attach(client: LanguageClient): vscode.Disposable[] {
    return [
      client.onNotification(TopologyNotification, (p) => {
        const prev = this.folders.get(p.folderUri);
        this.folders.set(p.folderUri, {
          folderUri: p.folderUri,
          topology: p.topology,
          statuses: prev?.statuses ?? new Map(),
        });
        this.analysisError = undefined;
        this.ready = true;
        this.updateContext();
        this.topologyEmitter.fire(p.folderUri);
      }),
      client.onNotification(ServiceStatusNotification, (p) => {
        const f = this.folders.get(p.folderUri);
        if (!f) return;
        f.statuses = new Map(p.statuses.map((s) => [s.serviceId, s]));
        this.statusEmitter.fire(p.folderUri);
      }),
      client.onNotification(DeploymentEventNotification, (p) => {
        this.events.unshift({ ...p.event, folderUri: p.folderUri });
        if (this.events.length > 500) this.events.length = 500;
        this.eventEmitter.fire(p.event);
      }),
      client.onNotification(AnalysisFailedNotification, (p) => {
        this.analysisError = p.message;
        this.ready = true;
        this.updateContext();
        this.topologyEmitter.fire(p.folderUri);
      }),
      client.onNotification(EngineStateNotification, (p) => {
        this.engine = p;
        this.updateContext();
        this.engineEmitter.fire(p);
      }),
    ];
  }

  /** Puts (or replaces) a remote folder: a Kyozo Share host's services, its statuses and its events. */
  putRemote(folder: FolderModel, events: (DeploymentEvent & { folderUri: string })[]): void {
    const before = this.folders.get(folder.folderUri);
    this.folders.set(folder.folderUri, folder);
    const known = new Set(this.events.map((e) => e.id));
    const added = events.filter((e) => !known.has(e.id));
    if (added.length) {
      this.events.push(...added);
      this.events.sort((a, b) => b.at.localeCompare(a.at));
    }
    this.ready = true;
    this.updateContext();
    if (!before || JSON.stringify(before.topology.services) !== JSON.stringify(folder.topology.services))
      this.topologyEmitter.fire(folder.folderUri);
    this.statusEmitter.fire(folder.folderUri);
    for (const e of added) this.eventEmitter.fire(e);
  }

  /** Removes a remote folder (the share ended or was left) with its events. */
  dropRemote(folderUri: string): void {
    if (!this.folders.get(folderUri)?.remote) return;
    this.folders.delete(folderUri);
    for (let i = this.events.length - 1; i >= 0; i--)
      if (this.events[i].folderUri === folderUri) this.events.splice(i, 1);
    this.updateContext();
    this.topologyEmitter.fire(folderUri);
    this.statusEmitter.fire(folderUri);
  }

  /** Adds an event this window made (a guest's request answered by this host), newest first. */
  addEvent(folderUri: string, event: DeploymentEvent): void {
    if (this.events.some((e) => e.id === event.id)) return;
    this.events.unshift({ ...event, folderUri });
    if (this.events.length > 500) this.events.length = 500;
    this.eventEmitter.fire(event);
  }

  /** The folders analysed in this window, without Kyozo Share hosts' folders. */
  localFolders(): FolderModel[] {
    return [...this.folders.values()].filter((f) => !f.remote);
  }

  services(): ServiceRef[] {
    const out: ServiceRef[] = [];
    for (const f of this.folders.values())
      for (const s of f.topology.services)
        out.push({ folderUri: f.folderUri, service: s, status: f.statuses.get(s.id) });
    return out;
  }

  find(folderUri: string, serviceId: string): ServiceRef | undefined {
    const f = this.folders.get(folderUri);
    const service = f?.topology.services.find((s) => s.id === serviceId);
    return f && service ? { folderUri, service, status: f.statuses.get(serviceId) } : undefined;
  }

  /** The service whose folder is exactly this URI (Explorer decorations, "Deploy Folder as a Service"). */
  serviceAtFolder(uri: vscode.Uri): ServiceRef | undefined {
    for (const f of this.folders.values()) {
      const root = vscode.Uri.parse(f.folderUri);
      if (
        uri.scheme !== root.scheme ||
        !(uri.path === root.path || uri.path.startsWith(root.path.replace(/\/$/, '') + '/'))
      )
        continue;
      const rel = uri.path === root.path ? '.' : uri.path.slice(root.path.replace(/\/$/, '').length + 1);
      const service = f.topology.services.find((s) => s.folder === rel && !s.composeOnly);
      if (service) return { folderUri: f.folderUri, service, status: f.statuses.get(service.id) };
    }
    return undefined;
  }

  folderUriOf(ref: { folderUri: string; service: Service }): vscode.Uri {
    const root = vscode.Uri.parse(ref.folderUri);
    return ref.service.folder === '.' ? root : vscode.Uri.joinPath(root, ...ref.service.folder.split('/'));
  }

  private updateContext(): void {
    const count = [...this.folders.values()].reduce((n, f) => n + f.topology.services.length, 0);
    void vscode.commands.executeCommand('setContext', 'kyozo.ready', this.ready);
    void vscode.commands.executeCommand('setContext', 'kyozo.hasServices', count > 0);
    void vscode.commands.executeCommand('setContext', 'kyozo.analysisFailed', this.analysisError !== undefined);
    void vscode.commands.executeCommand(
      'setContext',
      'kyozo.engineUnreachable',
      this.engine ? !this.engine.reachable : false,
    );
  }

  dispose(): void {
    this.topologyEmitter.dispose();
    this.statusEmitter.dispose();
    this.eventEmitter.dispose();
    this.engineEmitter.dispose();
  }
}
