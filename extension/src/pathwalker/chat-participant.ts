// @kyozo in the chat view: /describe, /where, /related and /deploy answered from the engine (Markdown with anchors to
// the files it cites). When a language model is available, it phrases the answer from the engine's, which it gets
// as context; without one, the engine's answer is the reply. /deploy only offers a button, in a trusted workspace.
import * as vscode from 'vscode';
import { ClientCommands } from '../../../server/src/protocol';
import type { KyozoModel } from '../kyozo-model';
import type { FolderDescriptions } from './describe-folder';
import { api } from './lm-api';
import type { AgentTools } from './lm-tools';

export const PARTICIPANT_ID = 'kyozo.chat';

/** The parts of a chat request and response stream the handler uses (VS Code's, or a recorder's in a test). */
export interface ChatRequestLike {
  prompt: string;
  command?: string;
}
export type ChatStreamLike = Pick<vscode.ChatResponseStream, 'markdown' | 'anchor' | 'button' | 'progress'>;

interface Evidence {
  file: string;
  line?: number;
  reason?: string;
}

/** Files cited in a JSON answer (objects with `file` and maybe `line`), for anchors under the reply. */
function cited(value: unknown, out: Evidence[] = []): Evidence[] {
  if (Array.isArray(value)) for (const v of value) cited(v, out);
  else if (value && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    if (typeof o.file === 'string' && (o.line === undefined || typeof o.line === 'number'))
      out.push({ file: o.file, line: o.line as number | undefined, reason: o.reason as string | undefined });
    for (const v of Object.values(o)) cited(v, out);
  }
  return out;
}

/** Which kyozo_find query a /where prompt is: `env X`, `file X`, `talks X`, a route, an env name, a path, a service. */
export function whereQuery(prompt: string): Record<string, string> {
  const p = prompt.trim();
  const m = /^(route|env|file|talksTo|talks|service)\s+(.+)$/i.exec(p);
  if (m) {
    const key = m[1].toLowerCase();
    return { [key === 'talks' || key === 'talksto' || key === 'service' ? 'talksTo' : key]: m[2].trim() };
  }
  if (/^([A-Za-z]+\s+)?\//.test(p) || (/^[\w.]+\/\w+$/.test(p) && /Service\//.test(p))) return { route: p };
  if (/^[A-Z][A-Z0-9_]+$/.test(p)) return { env: p };
  if (/[/.]/.test(p)) return { file: p };
  return { talksTo: p };
}

export class KyozoChat {
  constructor(
    private readonly model: KyozoModel,
    private readonly descriptions: FolderDescriptions,
    private readonly tools: AgentTools,
  ) {}

  private root(): vscode.Uri {
    return vscode.Uri.parse(this.tools.folderUri());
  }

  /** The engine's answer to a request, as Markdown, and the files it cites. */
  async engineAnswer(
    request: ChatRequestLike,
  ): Promise<{ markdown: string; cites: Evidence[]; deploy?: { id: string; name: string }[] }> {
    const prompt = request.prompt.trim();
    switch (request.command) {
      case 'describe': {
        const active = vscode.window.activeTextEditor?.document.uri;
        const folder = prompt
          ? vscode.Uri.joinPath(this.root(), prompt)
          : active?.scheme === 'file'
            ? vscode.Uri.joinPath(active, '..')
            : this.root();
        const d = await this.descriptions.describe(folder);
        return { markdown: d.markdown, cites: [{ file: d.folder }] };
      }
      case 'where': {
        if (!prompt)
          return {
            markdown: 'Ask `/where GET /cart`, `/where DATABASE_URL`, `/where src/api/main.go` or `/where checkout`.',
            cites: [],
          };
        const q = whereQuery(prompt);
        const answer = JSON.parse(await this.tools.run('kyozo_find', q)) as Record<string, unknown>;
        return { markdown: whereMarkdown(q, answer), cites: cited(answer) };
      }
      case 'related': {
        const answer = JSON.parse(await this.tools.run('kyozo_related', { folder: prompt || '.' })) as {
          folder: string;
          related: { folder: string; score: number; reasons: string[] }[];
          suggestions: string[];
        };
        const lines = [`**Folders related to ${answer.folder}**, strongest first:`, ''];
        for (const r of answer.related) lines.push(`- \`${r.folder}\` (score ${r.score}): ${r.reasons.join(', ')}`);
        if (!answer.related.length) lines.push('- none found');
        if (answer.suggestions.length)
          lines.push('', '**Suggestions**', '', ...answer.suggestions.map((s) => `- ${s}`));
        return { markdown: lines.join('\n'), cites: answer.related.map((r) => ({ file: r.folder })) };
      }
      case 'deploy': {
        const t = this.model.folders.get(this.tools.folderUri())?.topology;
        const names = prompt ? prompt.split(/[\s,]+/).filter(Boolean) : [];
        const services = (t?.services ?? []).filter(
          (s) => !s.composeOnly && (!names.length || names.includes(s.name) || names.includes(s.id)),
        );
        const unknown = names.filter((n) => !services.some((s) => s.name === n || s.id === n));
        const lines = services.map((s) => `- **${s.name}** (${s.type}, \`${s.folder}\`)`);
        const markdown =
          (unknown.length ? `No service named ${unknown.map((n) => `\`${n}\``).join(', ')}.\n\n` : '') +
          (services.length ? `Kyozo would deploy:\n\n${lines.join('\n')}` : 'There is nothing to deploy.');
        return { markdown, cites: [], deploy: services.map((s) => ({ id: s.id, name: s.name })) };
      }
      default: {
        const answer = await this.tools.run('kyozo_topology', {});
        return { markdown: topologyMarkdown(JSON.parse(answer)), cites: [] };
      }
    }
  }

  /** The chat request handler; exported through the extension's API so a test can call it with a recorder. */
  readonly handle = async (
    request: ChatRequestLike,
    _context: unknown,
    stream: ChatStreamLike,
    token: vscode.CancellationToken,
  ): Promise<{ metadata: { command?: string; phrasedByModel: boolean } }> => {
    let answer: Awaited<ReturnType<KyozoChat['engineAnswer']>>;
    try {
      answer = await this.engineAnswer(request);
    } catch (e) {
      stream.markdown(`Kyozo could not answer: ${(e as Error).message}`);
      return { metadata: { command: request.command, phrasedByModel: false } };
    }
    const phrased = request.command !== 'deploy' && (await this.phrase(request, answer.markdown, stream, token));
    if (!phrased) stream.markdown(answer.markdown);
    const root = this.root();
    const seen = new Set<string>();
    for (const c of answer.cites.slice(0, 8)) {
      const uri = vscode.Uri.joinPath(root, c.file);
      if (seen.has(uri.toString() + c.line)) continue;
      seen.add(uri.toString() + c.line);
      stream.anchor(c.line ? new vscode.Location(uri, new vscode.Position(c.line - 1, 0)) : uri, c.file);
    }
    if (request.command === 'deploy' && answer.deploy?.length) {
      if (!vscode.workspace.isTrusted) {
        stream.markdown(
          '\n\nDeploying is not available in Restricted Mode: it would build and run containers from this ' +
            "repository's files. Trust the workspace first.",
        );
      } else {
        const folderUri = this.tools.folderUri();
        for (const s of answer.deploy)
          stream.button({
            command: ClientCommands.deployService,
            title: `Deploy ${s.name}`,
            arguments: [folderUri, s.id],
          });
      }
    }
    return { metadata: { command: request.command, phrasedByModel: phrased } };
  };

  /** Lets a language model phrase the answer from the engine's; false when there is none (or it fails). */
  private async phrase(
    request: ChatRequestLike,
    context: string,
    stream: ChatStreamLike,
    token: vscode.CancellationToken,
  ): Promise<boolean> {
    const select = api().lm?.selectChatModels;
    if (!select) return false;
    try {
      const [model] = await select.call(vscode.lm, {});
      if (!model) return false;
      const question =
        `${request.command ? `/${request.command} ` : ''}${request.prompt}`.trim() || 'What is this repository?';
      const messages = [
        vscode.LanguageModelChatMessage.User(
          'You answer questions about a code repository for Kyozo. Use only the facts in the analysis below, keep ' +
            'its file paths and line numbers, and say when it does not answer the question.\n\n' +
            `Kyozo's analysis:\n\n${context}\n\nQuestion: ${question}`,
        ),
      ];
      const response = await model.sendRequest(messages, {}, token);
      let any = false;
      for await (const part of response.text) {
        any = true;
        stream.markdown(part);
      }
      return any;
    } catch {
      return false;
    }
  }
}

function whereMarkdown(q: Record<string, string>, a: Record<string, unknown>): string {
  const [[key, value]] = Object.entries(q);
  const ev = (e: Evidence) => `${e.file}${e.line ? `:${e.line}` : ''}`;
  if (key === 'route' || key === 'env') {
    const matches = (a.matches ?? []) as {
      service: string;
      capability?: { name: string; evidence: Evidence };
      evidence?: Evidence[];
    }[];
    if (!matches.length) return `No service ${key === 'route' ? 'serves' : 'reads'} \`${value}\`.`;
    return [
      `\`${value}\` is ${key === 'route' ? 'served' : 'read'} by:`,
      '',
      ...matches.map(
        (m) =>
          `- **${m.service}**${m.capability ? ` — \`${m.capability.name}\` (${ev(m.capability.evidence)})` : ''}${m.evidence?.length ? ` (${m.evidence.map(ev).join(', ')})` : ''}`,
      ),
    ].join('\n');
  }
  if (key === 'talksTo') {
    const list = (xs: unknown) =>
      ((xs ?? []) as { service: string; kind: string }[]).map((x) => `${x.service} (${x.kind})`);
    const by = list(a.calledBy);
    const calls = list(a.calls);
    return [
      `**${String(a.service)}**`,
      '',
      `- called by: ${by.length ? by.join(', ') : 'nothing found'}`,
      `- calls: ${calls.length ? calls.join(', ') : 'nothing found'}`,
    ].join('\n');
  }
  return [
    `\`${String(a.file)}\` is in \`${String(a.folder)}\` (${String(a.purpose)})`,
    a.service ? `, part of service **${String(a.service)}** (\`${String(a.serviceFolder)}\`)` : '',
    a.library ? `, in library **${String(a.library)}**` : '',
    '.',
  ].join('');
}

function topologyMarkdown(t: {
  name: string;
  services: { name: string; folder: string; type: string; dependsOn: string[] }[];
}): string {
  const lines = [`**${t.name}**: ${t.services.length} services`, ''];
  for (const s of t.services)
    lines.push(
      `- **${s.name}** (${s.type}, \`${s.folder}\`)${s.dependsOn.length ? ` → ${s.dependsOn.join(', ')}` : ''}`,
    );
  lines.push(
    '',
    'Ask `/describe <folder>`, `/where <route | ENV | file | service>`, `/related <folder>` or `/deploy`.',
  );
  return lines.join('\n');
}

/** Creates @kyozo when this editor has the chat API; undefined otherwise. */
export function registerChatParticipant(context: vscode.ExtensionContext, chat: KyozoChat): boolean {
  const create = api().chat?.createChatParticipant;
  if (!create) return false;
  const participant = create.call(vscode.chat, PARTICIPANT_ID, (request, ctx, stream, token) =>
    chat.handle(request, ctx, stream, token),
  );
  participant.iconPath = new vscode.ThemeIcon('type-hierarchy');
  context.subscriptions.push(participant);
  return true;
}
