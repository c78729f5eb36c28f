// The Services view: services per workspace folder, grouped by deployment wave or by pattern, with inline actions.
import * as vscode from 'vscode';
import { ClientCommands, type RegistryImageInfo } from '../../server/src/protocol';
import type { KyozoModel, ServiceRef } from './kyozo-model';
import { colorOf, iconOf, stateOf, summary, tooltipOf } from './service-presentation';

type Node =
  | { kind: 'folder'; folderUri: string; label: string }
  | { kind: 'group'; folderUri: string; label: string; ids: string[]; description?: string }
  | { kind: 'service'; ref: ServiceRef }
  | { kind: 'registry'; folderUri: string }
  | { kind: 'image'; folderUri: string; info: RegistryImageInfo }
  | { kind: 'note'; folderUri: string; label: string };

export const SERVICES_VIEW = 'kyozo.services';

/** The one-sentence summary of a service's folder (PathWalker's), shown first in the service's tooltip. */
type FolderSummaries = (folderUri: string, folder: string) => Promise<string | undefined>;
let folderSummaries: FolderSummaries | undefined;
export function setFolderSummaries(lookup: FolderSummaries): void {
  folderSummaries = lookup;
}

/** Per service: its local image, registry reference and digest (the server's registryImages command). */
type RegistryImages = (folderUri: string) => Promise<RegistryImageInfo[]>;
let registryImages: RegistryImages | undefined;
export function setRegistryImages(lookup: RegistryImages): void {
  registryImages = lookup;
}

let refreshTree: (() => void) | undefined;
/** Reads everything again, the Registry node's digests included (after a push). */
export function refreshServicesView(): void {
  refreshTree?.();
}

class ServicesTree implements vscode.TreeDataProvider<Node> {
  private readonly changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  constructor(private readonly model: KyozoModel) {}

  refresh(): void {
    this.changed.fire(undefined);
  }

  getChildren(node?: Node): Node[] | Promise<Node[]> {
    if (!node) {
      const folders = [...this.model.folders.values()].filter((f) => f.topology.services.length > 0);
      if (folders.length === 1) return this.groups(folders[0].folderUri);
      return folders.map((f) => ({ kind: 'folder', folderUri: f.folderUri, label: f.topology.name }));
    }
    if (node.kind === 'folder') return this.groups(node.folderUri);
    if (node.kind === 'registry') return this.images(node.folderUri);
    if (node.kind === 'group')
      return node.ids
        .map((id) => this.model.find(node.folderUri, id))
        .filter((r): r is ServiceRef => !!r)
        .map((ref) => ({ kind: 'service', ref }));
    return [];
  }

  private async images(folderUri: string): Promise<Node[]> {
    try {
      const images = (await registryImages?.(folderUri)) ?? [];
      if (!images.length) return [{ kind: 'note', folderUri, label: 'No service Kyozo builds' }];
      return images.map((info) => ({ kind: 'image', folderUri, info }));
    } catch (e) {
      return [{ kind: 'note', folderUri, label: (e as Error).message.replace(/^Request \S+ failed[^:]*: /, '') }];
    }
  }

  private groups(folderUri: string): Node[] {
    const groups = this.waveGroups(folderUri);
    if (registryImages && groups.length && !this.model.folders.get(folderUri)?.remote)
      groups.push({ kind: 'registry', folderUri });
    return groups;
  }

  private waveGroups(folderUri: string): Node[] {
    const f = this.model.folders.get(folderUri);
    if (!f) return [];
    const t = f.topology;
    const by = vscode.workspace.getConfiguration('kyozo').get<string>('servicesView.groupBy', 'wave');
    const groups: Node[] = [];
    if (by === 'pattern' && t.patterns.length) {
      for (const p of t.patterns)
        groups.push({ kind: 'group', folderUri, label: p.kind, ids: p.services, description: p.description });
      const seen = new Set(t.patterns.flatMap((p) => p.services));
      const rest = t.services.filter((s) => !seen.has(s.id)).map((s) => s.id);
      if (rest.length) groups.push({ kind: 'group', folderUri, label: 'other', ids: rest });
      return groups;
    }
    t.order.forEach((wave, i) =>
      groups.push({
        kind: 'group',
        folderUri,
        label: `Wave ${i + 1}`,
        ids: wave,
        description: i === 0 ? 'no dependencies' : `after wave ${i}`,
      }),
    );
    const ordered = new Set(t.order.flat());
    const rest = t.services.filter((s) => !ordered.has(s.id)).map((s) => s.id);
    if (rest.length)
      groups.push({
        kind: 'group',
        folderUri,
        label: 'Not deployed by Kyozo',
        ids: rest,
        description: 'infrastructure',
      });
    return groups;
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === 'folder') {
      const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.Expanded);
      const remote = this.model.folders.get(node.folderUri)?.remote;
      item.iconPath = new vscode.ThemeIcon(remote ? 'remote' : 'root-folder');
      if (remote) item.description = `remote · ${remote.host}`;
      item.id = `folder:${node.folderUri}`;
      return item;
    }
    if (node.kind === 'registry') {
      const item = new vscode.TreeItem('Registry', vscode.TreeItemCollapsibleState.Collapsed);
      item.id = `registry:${node.folderUri}`;
      item.iconPath = new vscode.ThemeIcon('package');
      item.description = 'images pushed and their digests';
      item.contextValue = 'kyozo.registry';
      item.accessibilityInformation = { label: 'Registry' };
      return item;
    }
    if (node.kind === 'image') {
      const { info } = node;
      const item = new vscode.TreeItem(info.serviceId, vscode.TreeItemCollapsibleState.None);
      item.id = `image:${node.folderUri}:${info.serviceId}`;
      item.description = info.digest
        ? `pushed ${info.digest.slice(0, 19)}`
        : info.localImage
          ? 'built, not pushed'
          : 'not built';
      item.iconPath = new vscode.ThemeIcon(info.digest ? 'cloud' : 'cloud-upload');
      item.contextValue = 'kyozo.registryImage';
      const tip = new vscode.MarkdownString(undefined, true);
      tip.appendMarkdown(`**${info.serviceId}**\n\n`);
      tip.appendMarkdown(`- Local image: \`${info.localImage ?? 'not built from the current content'}\`\n`);
      tip.appendMarkdown(`- Pushed tag: \`${info.reference}\`\n`);
      tip.appendMarkdown(`- Digest: \`${info.digest ?? 'not pushed'}\``);
      item.tooltip = tip;
      item.accessibilityInformation = { label: `${info.serviceId}, ${item.description}` };
      return item;
    }
    if (node.kind === 'note') {
      const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.None);
      item.iconPath = new vscode.ThemeIcon('info');
      item.tooltip = node.label;
      return item;
    }
    if (node.kind === 'group') {
      const item = new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.Expanded);
      item.description = node.description;
      item.id = `group:${node.folderUri}:${node.label}`;
      item.contextValue = 'kyozo.group';
      return item;
    }
    const { service, status } = node.ref;
    const state = stateOf(status);
    const item = new vscode.TreeItem(service.name, vscode.TreeItemCollapsibleState.None);
    item.id = `service:${node.ref.folderUri}:${service.id}`;
    item.description = summary(service, status);
    // VS Code resolves only a tooltip left undefined: with PathWalker's summaries, resolveTreeItem writes it on hover.
    if (!folderSummaries || service.composeOnly) item.tooltip = tooltipOf(service, status);
    item.iconPath = iconOf(state);
    item.contextValue = `kyozo.service.${state}${status?.ports.some((p) => p.url) ? '.web' : ''}`;
    item.command = { command: ClientCommands.revealService, title: 'Reveal', arguments: [node.ref] };
    item.accessibilityInformation = { label: `${service.name}, ${service.type}, ${state}` };
    const remote = this.model.folders.get(node.ref.folderUri)?.remote;
    if (remote) {
      // A Kyozo Share host's service: actions go to the host as signed requests; a viewer gets none (the host would
      // refuse them anyway).
      item.description = `${item.description ? `${item.description} · ` : ''}remote · ${remote.host}`;
      item.iconPath = new vscode.ThemeIcon('remote', colorOf(state));
      item.contextValue =
        remote.role === 'viewer' ? `kyozo.remoteService.${state}.viewer` : `kyozo.service.${state}.remote`;
      item.accessibilityInformation = { label: `${service.name}, ${service.type}, ${state}, remote on ${remote.host}` };
      const tip = tooltipOf(service, status);
      tip.appendMarkdown(
        `\n\nRuns on **${remote.host}**'s machine (Kyozo Share, you are ${remote.role})` +
          (remote.role === 'viewer' ? ': viewers see it but cannot act on it.' : '.'),
      );
      item.tooltip = tip;
    }
    return item;
  }

  /** Asked when the tooltip is about to show: the folder's summary goes first (image-only services have none). */
  async resolveTreeItem(item: vscode.TreeItem, node: Node): Promise<vscode.TreeItem> {
    if (node.kind !== 'service') return item;
    if (node.kind !== 'service' || node.ref.service.composeOnly || !folderSummaries) return item;
    if (this.model.folders.get(node.ref.folderUri)?.remote) return item;
    const summary = await folderSummaries(node.ref.folderUri, node.ref.service.folder);
    const details = tooltipOf(node.ref.service, node.ref.status);
    if (!summary) {
      item.tooltip = details;
      return item;
    }
    const md = new vscode.MarkdownString(undefined, true);
    // appendText would turn its spaces into &nbsp;, which a reader (or a search of the tooltip) does not expect.
    md.appendMarkdown(summary.replace(/[\\`*_{}[\]<>#|]/g, '\\$&'));
    md.appendMarkdown(`\n\n${details.value}`);
    item.tooltip = md;
    return item;
  }
}

export function registerServicesView(context: vscode.ExtensionContext, model: KyozoModel): vscode.TreeView<unknown> {
  const tree = new ServicesTree(model);
  const view = vscode.window.createTreeView(SERVICES_VIEW, { treeDataProvider: tree, showCollapseAll: true });
  refreshTree = () => tree.refresh();
  const update = () => {
    tree.refresh();
    const all = model.services();
    const running = all.filter((r) => r.status?.state === 'running').length;
    view.badge = running ? { value: running, tooltip: `${running} services running` } : undefined;
    view.message =
      model.engine && !model.engine.reachable && all.length
        ? `Docker engine not reachable${model.engine.host ? ` at ${model.engine.host}` : ''}: ${model.engine.message ?? 'start Docker or set kyozo.docker.host'}`
        : undefined;
  };
  context.subscriptions.push(
    view,
    model.onDidChangeTopology(update),
    model.onDidChangeStatus(update),
    model.onDidChangeEngine(update),
    vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('kyozo.servicesView')) update();
    }),
  );
  return view as vscode.TreeView<unknown>;
}
