// workspace/executeCommand over the orchestrator: deploy/start/stop/restart/scale/logs with work-done progress and
// cancellation; live status from orchestrator.watch, pushed as kyozo/serviceStatus and kyozo/deploymentEvent.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  ResponseError,
  ErrorCodes,
  LSPErrorCodes,
  MessageType,
  ShowMessageNotification,
  type CancellationToken,
  type Connection,
  type ExecuteCommandParams,
  type WorkDoneProgressReporter,
} from 'vscode-languageserver';
import { exportCompose, type Orchestrator } from '../engine';
import {
  DeploymentEventNotification,
  EngineCommandNames,
  EngineStateNotification,
  LogOutputNotification,
  ServerCommands,
  ServiceStatusNotification,
  type DeploymentEvent,
  type DeploymentEventParams,
  type EngineStateParams,
  type KyozoSettings,
  type LogOutputParams,
  type ServiceStatus,
  type ServiceStatusParams,
  type Topology,
} from '../protocol';
import {
  describeProgress,
  generateDockerfile,
  replicaCountProblem,
  validateReplicas,
  type OrchestratorFactory,
} from './orchestrator-link';
import {
  activeTopology,
  environmentInfo,
  environmentKey,
  pushFromServer,
  registryImagesFromServer,
  setStoreSecret,
  storeSecretsInfo,
} from './registry-environment';
import { writeScaling } from './scaling-command';
import { serviceById } from './service-lookup';
import type { WorkspaceFolderState } from './workspace-folder';

interface Progress {
  report(message: string, percentage?: number): void;
  done(): void;
  signal: AbortSignal;
}

export class DeployCommands {
  private orchestrator: Orchestrator | undefined;
  private reachable: boolean | undefined;
  private readonly logStreams = new Map<string, AbortController>();
  private nextStream = 1;
  private pingTimer: NodeJS.Timeout | undefined;
  /** Set only when the client says the user trusts the workspace; until then nothing is deployed or changed. */
  private trusted = false;
  /** Folders auto-deployed in this session: once each, not again after a settings change or a trust grant. */
  private readonly autoDeployed = new WeakSet<WorkspaceFolderState>();
  // Each folder's topology for status, events, logs and the autoscaler, kept while the analysis, the environment
  // setting and the root kyozo.yaml stay as they were: making it reads the environment's secrets (a credential helper,
  // and gpg behind pass, for from_store), which the engine watch and the autoscaler's 5 s tick must not do each time.
  private readonly statusTopologies = new WeakMap<
    WorkspaceFolderState,
    { base: Topology; key: string; topology: Topology }
  >();

  constructor(
    private readonly connection: Connection,
    private readonly factory: OrchestratorFactory | undefined,
    private readonly settings: () => KyozoSettings,
    private readonly folders: () => Iterable<WorkspaceFolderState>,
    private readonly folder: (uri: string) => WorkspaceFolderState | undefined,
    /** Has the client re-request CodeLens after a status change, when it can be asked to. */
    private readonly refreshLenses: () => void = () => undefined,
  ) {}

  private firstPing: Promise<void> = Promise.resolve();

  /** Creates the orchestrator from the current settings at once; commands wait for the first ping. */
  start(): Promise<void> {
    if (!this.factory) {
      this.sendEngineState({
        reachable: false,
        message: 'This build of Kyozo has no Docker orchestrator; deploy commands are unavailable.',
      });
      return this.firstPing;
    }
    const s = this.settings();
    this.orchestrator = this.factory({
      dockerHost: s.docker.host || undefined,
      baseImages: s.baseImages,
      builder: s.build?.builder,
      defaults: s.defaults,
      // A value the setting's schema would refuse falls back to the default rather than failing every command.
      parallelism:
        Number.isInteger(s.deploy?.parallelism) && s.deploy!.parallelism! >= 1 ? s.deploy!.parallelism : undefined,
      gatewayImage: s.images?.gateway || undefined,
    });
    this.firstPing = this.ping();
    return this.firstPing;
  }

  /** Trust granted after start applies at once: commands are accepted and auto-deploy runs where it was held back. */
  setTrusted(trusted: boolean): void {
    const granted = trusted && !this.trusted;
    this.trusted = trusted;
    if (granted) for (const f of this.folders()) if (f.watch) this.autoDeploy(f);
  }

  settingsChanged(): void {
    for (const f of this.folders()) {
      f.watch?.dispose();
      f.watch = undefined;
    }
    void this.start().then(() => {
      for (const f of this.folders()) this.folderReady(f);
    });
  }

  private async ping(): Promise<void> {
    clearTimeout(this.pingTimer);
    if (!this.orchestrator) return;
    const r = await this.orchestrator
      .ping()
      .catch((e: Error) => ({ reachable: false, host: this.settings().docker.host ?? '', message: e.message }));
    const changed = r.reachable !== this.reachable;
    this.reachable = r.reachable;
    for (const f of this.folders()) f.engineReachable = r.reachable;
    this.sendEngineState({ reachable: r.reachable, host: r.host, message: r.message });
    if (changed && r.reachable) for (const f of this.folders()) this.folderReady(f);
    // While the engine is away, look again now and then so the UI recovers by itself.
    if (!r.reachable) this.pingTimer = setTimeout(() => void this.ping(), 15_000).unref();
  }

  private sendEngineState(p: EngineStateParams): void {
    void this.connection.sendNotification(EngineStateNotification, p);
  }

  /** Called after a folder's first analysis: initial statuses, the event watch, and the seed's auto-deploy. */
  folderReady(f: WorkspaceFolderState): void {
    f.engineReachable = this.reachable;
    const o = this.orchestrator;
    if (!o || !this.reachable || !f.topology || f.watch) return;
    const watch = o.watch(
      () => this.statusTopology(f),
      (statuses, partial) => this.publishStatuses(f, statuses, !partial),
      (e) => this.publishEvent(f, e),
    );
    // Services with kyozo.yaml `scaling` are autoscaled while the folder is watched; decisions arrive as events.
    const scaler = o.autoscale(() => (f.topology ? this.statusTopology(f) : undefined), {
      onDecision: (id, d, e) => {
        if (e) this.connection.console.warn(`autoscaling ${id} to ${d.replicas} failed: ${e.message}`);
        else
          void o
            .events(this.statusTopology(f), id)
            .then((events) => events.filter((x) => x.type === 'service_scaled').at(-1))
            .then((scaled) => scaled && this.publishEvent(f, scaled));
      },
    });
    f.watch = {
      dispose: () => {
        watch.dispose();
        scaler.dispose();
      },
    };
    // No CPU and memory: the editor shows neither, and sampling them costs about a second per container.
    void o
      .status(this.statusTopology(f), { stats: false })
      .then((s) => this.publishStatuses(f, s))
      .catch((e: Error) => this.connection.console.warn(`status: ${e.message}`));
    this.autoDeploy(f);
  }

  private autoDeploy(f: WorkspaceFolderState): void {
    const o = this.orchestrator;
    if (!o || !this.trusted || !this.settings().autoDeploy || !f.topology?.services.length || this.autoDeployed.has(f))
      return;
    // An environment that asks before a deploy (production) is never deployed unasked.
    const topology = this.statusTopology(f);
    if (topology.environment?.confirm) return;
    this.autoDeployed.add(f);
    void this.run(f, 'Deploying all services (auto-deploy)', (p) =>
      o.up(topology, { onProgress: (d) => p.report(describeProgress(d)), signal: p.signal }),
    ).catch((e: Error) => {
      // Said, not asked: a message request without answers to pick would wait on the user for nothing.
      const message = `Kyozo auto-deploy failed: ${e.message}`;
      void this.connection.sendNotification(ShowMessageNotification.type, { type: MessageType.Error, message });
    });
  }

  /** What status and events show: the active environment's (kyozo.environment), else the workspace's own. */
  private statusTopology(f: WorkspaceFolderState): Topology {
    const key = environmentKey(f.root, this.settings());
    const kept = this.statusTopologies.get(f);
    if (kept && kept.base === f.topology && kept.key === key) return kept.topology;
    let topology: Topology;
    try {
      topology = activeTopology(f.topology!, this.settings());
    } catch {
      topology = f.topology!; // an unusable environment is said by the environments command and refused by deploys
    }
    this.statusTopologies.set(f, { base: f.topology!, key, topology });
    return topology;
  }

  /** The topology a command acts on, read afresh (secrets included); an unusable environment is refused. */
  private deployTopology(f: WorkspaceFolderState): Topology {
    const key = environmentKey(f.root, this.settings());
    try {
      const topology = activeTopology(f.topology!, this.settings());
      this.statusTopologies.set(f, { base: f.topology!, key, topology });
      return topology;
    } catch (e) {
      throw new ResponseError(ErrorCodes.InvalidParams, `Kyozo environment: ${(e as Error).message}`);
    }
  }

  topologyChanged(f: WorkspaceFolderState): void {
    if (!f.watch) this.folderReady(f);
  }

  private publishStatuses(f: WorkspaceFolderState, statuses: ServiceStatus[], replaceAll = true): void {
    if (replaceAll) f.statuses.clear();
    for (const s of statuses) f.statuses.set(s.serviceId, s);
    const params: ServiceStatusParams = { folderUri: f.uri, statuses: [...f.statuses.values()] };
    void this.connection.sendNotification(ServiceStatusNotification, params);
    this.refreshLenses();
  }

  private publishEvent(f: WorkspaceFolderState, event: DeploymentEvent): void {
    const params: DeploymentEventParams = { folderUri: f.uri, event };
    void this.connection.sendNotification(DeploymentEventNotification, params);
  }

  async events(folderUri: string, serviceId?: string): Promise<DeploymentEvent[]> {
    const f = this.folder(folderUri);
    if (!f?.topology || !this.orchestrator) return [];
    return this.orchestrator.events(this.statusTopology(f), serviceId);
  }

  async compose(folderUri: string): Promise<string> {
    const f = this.folder(folderUri);
    await f?.idle();
    if (!f?.topology)
      throw new ResponseError(
        ErrorCodes.InvalidParams,
        `No analysed workspace folder ${folderUri}; open it and run "Kyozo: Analyze Workspace".`,
      );
    const s = this.settings();
    const out = exportCompose(this.deployTopology(f), { baseImages: s.baseImages, defaults: s.defaults });
    await this.writeGeneratedDockerfiles(f, out.dockerfiles);
    return out.yaml;
  }

  /**
   * The compose file's builds name these Dockerfiles (relative to the folder root, where the file belongs), so they
   * are written with it: regenerated each time, since Kyozo owns .kyozo/dockerfiles.
   */
  private async writeGeneratedDockerfiles(f: WorkspaceFolderState, dockerfiles: Record<string, string>): Promise<void> {
    const files = Object.entries(dockerfiles);
    if (!files.length) return;
    const start = { line: 0, character: 0 };
    const r = await this.connection.workspace.applyEdit({
      label: 'Generate Dockerfiles for the compose file',
      edit: {
        documentChanges: files.flatMap(([rel, text]) => {
          const uri = this.uriIn(f, rel);
          return [
            { kind: 'create' as const, uri, options: { overwrite: true } },
            { textDocument: { uri, version: null }, edits: [{ range: { start, end: start }, newText: text }] },
          ];
        }),
      },
    });
    if (!r.applied) {
      const names = files.map(([rel]) => rel).join(', ');
      const reason = r.failureReason ? `: ${r.failureReason}` : '';
      throw new ResponseError(
        ErrorCodes.InternalError,
        `The editor refused to write ${names} in ${f.root}${reason}; ` +
          'the compose file builds with them. Run `kyozo compose -o <file>` in a terminal instead.',
      );
    }
  }

  /** The URI of a folder-relative path, each segment encoded. */
  private uriIn(f: WorkspaceFolderState, rel: string): string {
    return `${f.rootUri}/${rel
      .split('/')
      .filter((p) => p && p !== '.')
      .map(encodeURIComponent)
      .join('/')}`;
  }

  async execute(
    params: ExecuteCommandParams,
    token: CancellationToken,
    workDone: WorkDoneProgressReporter,
    clientToken?: string | number,
  ): Promise<unknown> {
    const [folderUri, serviceId, extra] = (params.arguments ?? []) as [string | undefined, string | undefined, unknown];
    if (params.command === ServerCommands.analyze) {
      const targets = folderUri
        ? [this.folder(folderUri)].filter((f): f is WorkspaceFolderState => !!f)
        : [...this.folders()];
      await Promise.all(targets.map((f) => f.analyze()));
      return targets.map((f) => ({
        folderUri: f.uri,
        services: f.topology?.services.length ?? 0,
        durationMs: f.topology?.stats.durationMs,
        error: f.lastError,
      }));
    }
    const engineCommand = EngineCommandNames[params.command];
    if (engineCommand && !this.trusted) {
      throw new ResponseError(
        ErrorCodes.InvalidRequest,
        `Kyozo: "${engineCommand}" is not available in an untrusted workspace: ` +
          "it would build, run or change containers from this repository's files on your Docker engine. " +
          'Trust the workspace ("Manage Workspace Trust"), then retry.',
      );
    }
    await this.firstPing;
    const f = folderUri ? this.folder(folderUri) : undefined;
    if (!f)
      throw new ResponseError(
        ErrorCodes.InvalidParams,
        `${params.command}: "${folderUri}" is not an open workspace folder; pass the folder URI as the first argument.`,
      );
    await f.idle();
    if (!f.topology)
      throw new ResponseError(
        ErrorCodes.InternalError,
        `${f.root} has not been analysed${f.lastError ? `: ${f.lastError}` : ''}. Run "Kyozo: Analyze Workspace".`,
      );
    if (params.command === ServerCommands.environments) return environmentInfo(f.topology, this.settings());
    // Before the environment's topology is made: a missing secret is what these commands are there to set.
    if (params.command === ServerCommands.secrets) return storeSecretsInfo(f.root);
    if (params.command === ServerCommands.setSecret) {
      const [, environment, name, value] = params.arguments ?? [];
      try {
        const stored = setStoreSecret(f.root, environment, name, value);
        this.statusTopologies.delete(f);
        return stored;
      } catch (e) {
        throw new ResponseError(ErrorCodes.InvalidParams, `Set Environment Secret: ${(e as Error).message}`);
      }
    }
    const t = this.deployTopology(f);
    const service = serviceId ? serviceById(t, serviceId) : undefined;
    const needService = (): NonNullable<typeof service> => {
      if (!service)
        throw new ResponseError(
          ErrorCodes.InvalidParams,
          `${params.command}: no service "${serviceId ?? ''}" in ${f.root} (services: ${t.services.map((s) => s.id).join(', ') || 'none'}).`,
        );
      return service;
    };
    if (params.command === ServerCommands.generateDockerfile) return this.writeDockerfile(f, needService());
    if (params.command === ServerCommands.setScaling) {
      const written = writeScaling(f.root, f.rootUri, needService(), extra ?? null);
      void f.analyze();
      return written;
    }
    const o = this.requireOrchestrator();
    const name = service?.name ?? f.root;
    switch (params.command) {
      case ServerCommands.deploy: {
        const s = needService();
        const statuses = await this.run(
          f,
          `Deploying ${s.name}`,
          (p) => o.up(t, { services: [s.id], onProgress: (d) => p.report(describeProgress(d)), signal: p.signal }),
          token,
          workDone,
          clientToken,
        );
        this.publishStatuses(f, statuses, false);
        return statuses;
      }
      case ServerCommands.deployAll: {
        const statuses = await this.run(
          f,
          `Deploying ${t.services.length} services`,
          (p) => o.up(t, { onProgress: (d) => p.report(describeProgress(d)), signal: p.signal }),
          token,
          workDone,
          clientToken,
        );
        this.publishStatuses(f, statuses, false);
        return statuses;
      }
      case ServerCommands.start:
        return this.single(f, `Starting ${name}`, () => o.start(t, needService().id), token, workDone, clientToken);
      case ServerCommands.stop:
        return this.single(f, `Stopping ${name}`, () => o.stop(t, needService().id), token, workDone, clientToken);
      case ServerCommands.restart:
        return this.single(f, `Restarting ${name}`, () => o.restart(t, needService().id), token, workDone, clientToken);
      case ServerCommands.scale: {
        const problem = replicaCountProblem(extra);
        if (problem) throw new ResponseError(ErrorCodes.InvalidParams, `Scale ${name}: ${problem}.`);
        const replicas = validateReplicas(extra);
        return this.single(
          f,
          `Scaling ${name} to ${replicas}`,
          () => o.scale(t, needService().id, replicas),
          token,
          workDone,
          clientToken,
        );
      }
      case ServerCommands.stopAll: {
        const statuses = await this.run(
          f,
          'Stopping all services',
          (p) =>
            o.stopAll(t, {
              onProgress: (d) => p.report(d.message ?? d.serviceId, d.percentage),
              signal: p.signal,
            }),
          token,
          workDone,
          clientToken,
        );
        this.publishStatuses(f, statuses);
        return null;
      }
      case ServerCommands.logs:
        return this.followLogs(f, o, needService().id);
      case ServerCommands.push: {
        if (serviceId) needService();
        return this.run(
          f,
          service ? `Pushing ${service.name}` : 'Pushing all services',
          (p) =>
            pushFromServer(
              o,
              t,
              this.settings(),
              service?.id,
              (d) => {
                const pct = d.total ? Math.round((100 * (d.current ?? 0)) / d.total) : undefined;
                p.report(
                  `${d.serviceId}: ${d.state}${d.message && !d.total ? ` ${d.message.split('\n')[0]}` : ''}`,
                  pct,
                );
              },
              p.signal,
            ),
          token,
          workDone,
          clientToken,
        );
      }
      case ServerCommands.registryImages:
        return registryImagesFromServer(o, t, this.settings()).catch((e: Error) => {
          throw new ResponseError(ErrorCodes.InvalidRequest, e.message);
        });
      default:
        throw new ResponseError(ErrorCodes.MethodNotFound, `Unknown Kyozo command ${params.command}`);
    }
  }

  private requireOrchestrator(): Orchestrator {
    if (!this.orchestrator)
      throw new ResponseError(
        ErrorCodes.InternalError,
        'Deploying needs the Docker orchestrator, which this build of Kyozo does not include.',
      );
    if (this.reachable === false)
      throw new ResponseError(
        ErrorCodes.InternalError,
        `The Docker engine is not reachable. Start Docker (or set "kyozo.docker.host"), then retry.`,
      );
    return this.orchestrator;
  }

  private async single(
    f: WorkspaceFolderState,
    title: string,
    op: () => Promise<ServiceStatus>,
    token: CancellationToken,
    workDone: WorkDoneProgressReporter,
    clientToken: unknown,
  ): Promise<ServiceStatus> {
    const status = await this.run(f, title, op, token, workDone, clientToken);
    this.publishStatuses(f, [status], false);
    return status;
  }

  /** Runs with a progress notification the user can cancel (client token when given, else server-created). */
  private async run<T>(
    _f: WorkspaceFolderState,
    title: string,
    op: (p: Progress) => Promise<T>,
    token?: CancellationToken,
    workDone?: WorkDoneProgressReporter,
    clientToken?: unknown,
  ): Promise<T> {
    const abort = new AbortController();
    token?.onCancellationRequested(() => abort.abort());
    let reporter: WorkDoneProgressReporter | undefined = clientToken !== undefined ? workDone : undefined;
    if (!reporter) {
      const created = await this.connection.window.createWorkDoneProgress().catch(() => undefined);
      created?.token.onCancellationRequested(() => abort.abort());
      reporter = created;
    }
    reporter?.begin(`Kyozo: ${title}`, undefined, undefined, true);
    const progress: Progress = {
      report: (m, pct) => reporter?.report(pct ?? 0, m),
      done: () => reporter?.done(),
      signal: abort.signal,
    };
    try {
      return await op(progress);
    } catch (e) {
      if (abort.signal.aborted) throw new ResponseError(LSPErrorCodes.RequestCancelled, `${title}: cancelled`);
      throw new ResponseError(ErrorCodes.InternalError, `${title} failed: ${(e as Error).message}`);
    } finally {
      progress.done();
    }
  }

  private followLogs(f: WorkspaceFolderState, o: Orchestrator, serviceId: string): { streamId: string } {
    const streamId = `logs-${this.nextStream++}`;
    const abort = new AbortController();
    this.logStreams.set(streamId, abort);
    const send = (p: LogOutputParams) => void this.connection.sendNotification(LogOutputNotification, p);
    void (async () => {
      let buffer = '';
      let timer: NodeJS.Timeout | undefined;
      const flush = () => {
        if (buffer) {
          send({ streamId, text: buffer });
          buffer = '';
        }
        timer = undefined;
      };
      try {
        for await (const chunk of o.logs(this.statusTopology(f), serviceId, {
          follow: true,
          tail: 200,
          signal: abort.signal,
        })) {
          buffer += chunk.endsWith('\n') ? chunk : chunk + '\n';
          if (buffer.length > 64 * 1024) flush();
          else timer ??= setTimeout(flush, 50);
        }
        flush();
        send({ streamId, text: '', done: true });
      } catch (e) {
        clearTimeout(timer);
        flush();
        send({
          streamId,
          text: abort.signal.aborted ? '' : `\n[kyozo] log stream ended: ${(e as Error).message}\n`,
          done: true,
        });
      } finally {
        this.logStreams.delete(streamId);
      }
    })();
    return { streamId };
  }

  /** The last `tail` lines a service's containers printed (kyozo_logs); refused in an untrusted workspace. */
  async recentLogs(f: WorkspaceFolderState, serviceId: string, tail: number): Promise<string[]> {
    if (!this.trusted)
      throw new ResponseError(
        ErrorCodes.InvalidRequest,
        'Kyozo: logs are not available in an untrusted workspace. Trust the workspace ("Manage Workspace Trust"), ' +
          'then retry.',
      );
    await this.firstPing;
    const o = this.requireOrchestrator();
    const lines: string[] = [];
    for await (const chunk of o.logs(this.statusTopology(f), serviceId, { follow: false, tail })) {
      lines.push(...chunk.replace(/\n$/, '').split('\n'));
      if (lines.length >= tail) break;
    }
    return lines.slice(-tail);
  }

  stopLogs(streamId: string): void {
    this.logStreams.get(streamId)?.abort();
    this.logStreams.delete(streamId);
  }

  private async writeDockerfile(
    f: WorkspaceFolderState,
    service: NonNullable<ReturnType<typeof serviceById>>,
  ): Promise<{ uri: string }> {
    const file = join(f.root, service.folder, 'Dockerfile');
    const uri = `${f.rootUri}/${[...service.folder.split('/').filter((p) => p && p !== '.'), 'Dockerfile'].map(encodeURIComponent).join('/')}`;
    if (existsSync(file))
      throw new ResponseError(ErrorCodes.InvalidParams, `${file} already exists; Kyozo does not overwrite it.`);
    // Written for the builder Kyozo would build it with (BuildKit's cache mounts only when the engine has BuildKit).
    const builder = this.orchestrator && this.reachable ? await this.orchestrator.builder() : 'classic';
    const text = generateDockerfile(service, this.settings().baseImages, { builder });
    const r = await this.connection.workspace.applyEdit({
      label: `Generate Dockerfile for ${service.name}`,
      edit: {
        documentChanges: [
          { kind: 'create', uri, options: { overwrite: false, ignoreIfExists: true } },
          {
            textDocument: { uri, version: null },
            edits: [{ range: { start: { line: 0, character: 0 }, end: { line: 0, character: 0 } }, newText: text }],
          },
        ],
      },
    });
    if (!r.applied)
      throw new ResponseError(
        ErrorCodes.InternalError,
        `The editor refused to create ${file}${r.failureReason ? `: ${r.failureReason}` : ''}.`,
      );
    return { uri };
  }

  dispose(): void {
    clearTimeout(this.pingTimer);
    for (const a of this.logStreams.values()) a.abort();
  }
}
