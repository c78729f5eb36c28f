// PathWalker in the editor: kyozo/describeFolder (the Describe Folder page and the Services view's summaries) and
// kyozo/agentTool (the language-model tools and the @kyozo chat participant). Both describe folders on the analyzer
// each workspace folder already holds: a FolderDescriber reads its file index and topology, so nothing is walked or
// analysed a second time. Its cache lives until the folder's next analysis or change batch.
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';
import { ErrorCodes, ResponseError } from 'vscode-languageserver';
import {
  AgentInputError,
  compactTopology,
  explain,
  findInWorkspace,
  FolderDescriber,
  FolderNotFoundError,
  ServiceIndex,
  UnknownServiceError,
  type Fact,
  type FindQuery,
  type FolderDescription,
} from '../engine';
import {
  AgentToolRequest,
  DescribeFolderRequest,
  type AgentToolParams,
  type AgentToolResult,
  type DescribeFolderParams,
  type DescribeFolderResult,
  type Evidence,
} from '../protocol';
import type { ServerSession } from './server-session';
import type { WorkspaceFolderState } from './workspace-folder';

const MAX_LOG_LINES = 500;

const invalid = (message: string) => new ResponseError(ErrorCodes.InvalidParams, message);

export function registerPathWalkerRequests(server: ServerSession): void {
  const describers = new WeakMap<WorkspaceFolderState, { generation: number; describer: FolderDescriber }>();

  /** The folder's describer on its current topology, once the changes reported so far are analysed. */
  async function describerOf(f: WorkspaceFolderState): Promise<FolderDescriber> {
    await f.settled();
    await f.idle();
    if (!f.topology)
      throw invalid(
        `Kyozo has not analysed ${f.root}${f.lastError ? `: ${f.lastError}` : ''}; run Kyozo: Analyze Workspace.`,
      );
    const cached = describers.get(f);
    if (cached?.generation === f.generation) return cached.describer;
    const describer = new FolderDescriber(f.analyzer);
    describers.set(f, { generation: f.generation, describer });
    return describer;
  }

  function workspaceFolder(folderUri: string | undefined, uri?: string): WorkspaceFolderState {
    const f = folderUri ? server.folders.get(folderUri) : uri?.startsWith('file:') ? server.folderFor(uri) : undefined;
    if (f) return f;
    if (!folderUri && server.folders.size === 1) return [...server.folders.values()][0];
    throw invalid(
      folderUri
        ? `${folderUri} is not an open workspace folder.`
        : `${uri ?? 'the request'} is not inside an open workspace folder; open its folder or pass folderUri.`,
    );
  }

  async function describe(f: WorkspaceFolderState, folder: string): Promise<FolderDescription> {
    const describer = await describerOf(f);
    const rel = folder.startsWith('file:') ? f.relativePath(folder) : folder;
    if (rel === undefined) throw invalid(`${folder} is outside the workspace folder ${f.root}.`);
    try {
      return await describer.describe(rel, f.root);
    } catch (err) {
      if (err instanceof FolderNotFoundError) throw invalid(err.message);
      throw err;
    }
  }

  server.connection.onRequest(DescribeFolderRequest, async (p: DescribeFolderParams): Promise<DescribeFolderResult> => {
    if (typeof p?.folder !== 'string' || !p.folder)
      throw invalid('kyozo/describeFolder needs `folder` (a URI or a path).');
    const f = workspaceFolder(p.folderUri, p.folder);
    const d = await describe(f, p.folder);
    return {
      folderUri: f.uri,
      folder: d.folder,
      purpose: d.purpose.value,
      confidence: d.purpose.confidence,
      summary: d.summary.value,
      markdown: folderMarkdown(d, f.root),
    };
  });

  server.connection.onRequest(AgentToolRequest, async (p: AgentToolParams): Promise<AgentToolResult> => {
    const input = p?.input && typeof p.input === 'object' ? p.input : {};
    const f = workspaceFolder(p?.folderUri);
    const describer = await describerOf(f);
    const text = (s: unknown) => ({ text: JSON.stringify(s) });
    const str = (key: string, required: boolean): string | undefined => {
      const v = input[key];
      if (v === undefined && !required) return undefined;
      if (typeof v !== 'string' || !v) throw invalid(`${p.tool}: \`${key}\` must be a non-empty string.`);
      return v;
    };
    const service = (ref: string) => {
      try {
        return ServiceIndex.of(describer.topology()).require(ref);
      } catch (err) {
        if (err instanceof UnknownServiceError) throw invalid(err.message);
        throw err;
      }
    };
    switch (p?.tool) {
      case 'kyozo_topology':
        return text(compactTopology(describer.topology()));
      case 'kyozo_describe_folder':
        return text(await describe(f, str('folder', true)!));
      case 'kyozo_related': {
        const d = await describe(f, str('folder', true)!);
        return text({ folder: d.folder, related: d.related.value, suggestions: d.suggestions.value });
      }
      case 'kyozo_find': {
        const q: FindQuery = {
          route: str('route', false),
          env: str('env', false),
          talksTo: str('talksTo', false),
          file: str('file', false),
        };
        try {
          return text(await findInWorkspace(describer, q));
        } catch (err) {
          if (
            err instanceof AgentInputError ||
            err instanceof FolderNotFoundError ||
            err instanceof UnknownServiceError
          )
            throw invalid(err.message);
          throw err;
        }
      }
      case 'kyozo_explain_service': {
        const s = service(str('service', true)!);
        const x = explain(describer.topology(), s.id, f.root);
        return text({ summary: x.summary, facts: x.facts });
      }
      case 'kyozo_status':
        return text(
          describer.topology().services.map((s) => {
            const st = f.statuses.get(s.id);
            return {
              service: s.name,
              state: st?.state ?? 'not-deployed',
              health: st?.health,
              replicas: st?.replicas,
              ports: st?.ports,
              message: st?.message,
            };
          }),
        );
      case 'kyozo_logs': {
        const s = service(str('service', true)!);
        const tail = input.tail ?? 100;
        if (typeof tail !== 'number' || !Number.isInteger(tail) || tail < 1 || tail > MAX_LOG_LINES)
          throw invalid(`kyozo_logs: \`tail\` must be a whole number from 1 to ${MAX_LOG_LINES}.`);
        const lines = await server.commands.recentLogs(f, s.id, tail);
        return { text: lines.join('\n') || '(no output)' };
      }
      default:
        throw invalid(
          `unknown tool ${JSON.stringify(p?.tool)}; kyozo/agentTool answers kyozo_topology, kyozo_describe_folder, ` +
            'kyozo_find, kyozo_related, kyozo_explain_service, kyozo_status and kyozo_logs (deploy and stop are ' +
            'server commands).',
        );
    }
  });
}

// ───────────────────────────── Markdown ─────────────────────────────

const esc = (s: string) => s.replace(/([\\`*_[\]<>|])/g, '\\$1');

/** A Markdown page of a description; every piece of evidence links to its file (and line) in the workspace. */
export function folderMarkdown(d: FolderDescription, root: string): string {
  const link = (e: Evidence) => {
    const href = pathToFileURL(join(root, e.file)).href + (e.line ? `#L${e.line}` : '');
    return `[${esc(e.file)}${e.line ? `:${e.line}` : ''}](${href})`;
  };
  const cites = (ev: Evidence[], max = 3) =>
    ev.length
      ? ` — ${ev
          .slice(0, max)
          .map((e) => `${esc(e.reason)} (${link(e)})`)
          .join('; ')}`
      : '';
  const pct = <T>(f: Fact<T>) => `${Math.round(f.confidence * 100)}%`;
  const out: string[] = [];
  out.push(`# ${esc(d.folder === '.' ? 'workspace root' : d.folder)}`, '');
  out.push(`**Purpose:** ${d.purpose.value} (confidence ${pct(d.purpose)})${cites(d.purpose.evidence)}`, '');
  if (d.service) out.push(`**Service:** ${esc(d.service)}`, '');
  if (d.summary.value) out.push(esc(d.summary.value), '');
  const section = (title: string, lines: string[]) => {
    if (!lines.length) return;
    out.push(`## ${title}`, '', ...lines.map((l) => `- ${l}`), '');
  };
  const st = d.stack.value;
  section(
    'Stack',
    [
      st.languages.length ? `Languages: ${st.languages.map(esc).join(', ')}` : '',
      st.frameworks.length ? `Frameworks: ${st.frameworks.map(esc).join(', ')}` : '',
      st.runtimes.length ? `Runtimes: ${st.runtimes.map(esc).join(', ')}` : '',
    ].filter(Boolean),
  );
  section(
    'Capabilities',
    d.capabilities.value.map(
      (c) => `${c.kind} \`${c.name}\`${c.detail ? ` ${esc(c.detail)}` : ''} (${link(c.evidence)})`,
    ),
  );
  section(
    'Entry points',
    d.entryPoints.value.map((e) => `${e.command ? `\`${e.command}\`` : esc(e.file ?? '')} (${link(e.evidence)})`),
  );
  section(
    'Environment variables read',
    d.envRead.value.map((name) => {
      const ev = d.envRead.evidence.filter((e) => e.reason.endsWith(` ${name}`));
      return `\`${name}\`${ev.length ? ` (${ev.slice(0, 2).map(link).join(', ')})` : ''}`;
    }),
  );
  const links = (ls: FolderDescription['dependsOn']['value']) =>
    ls.map((l) => `${esc(l.service ?? l.folder)} (${l.kind}; ${esc(l.folder)})${cites(l.evidence, 1)}`);
  section('Depends on', links(d.dependsOn.value));
  section('Used by', links(d.usedBy.value));
  section('Tests for', links(d.testsFor.value));
  section('Tested by', links(d.testedBy.value));
  section(
    'Deployment',
    d.deployment.value.map((x) => `${x.kind}: ${link({ ...x.evidence, file: x.file, line: x.evidence.line })}`),
  );
  section(
    'Related folders',
    d.related.value.map((r) => `${esc(r.folder)} (score ${r.score}): ${r.reasons.map(esc).join(', ')}`),
  );
  section('Suggestions', d.suggestions.value.map(esc));
  return out.join('\n');
}
