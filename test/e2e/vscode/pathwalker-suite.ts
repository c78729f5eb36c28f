// The extensionTestsPath module for vscode-pathwalker.test.ts: runs in the extension host of code-server (VS Code
// 1.100.3) on a copy of test/fixtures/platform-layout. It runs Kyozo: Describe Folder and reads the page it opened,
// lists and invokes Kyozo's language-model tools through vscode.lm, and asks @kyozo /describe, /where and /deploy.
// VS Code 1.100 has no API to send a chat request to a participant from an extension, so the participant's handler
// (the one given to vscode.chat.createChatParticipant) is called through Kyozo's API with a recording response stream.
// What it saw goes to results.json; the outer test checks it and hovers a service in the Services view.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';

interface Recorded {
  markdown: string[];
  anchors: string[];
  buttons: { command: string; title: string; arguments?: unknown[] }[];
  progress: string[];
}

type ChatHandler = (
  request: { prompt: string; command?: string },
  context: unknown,
  stream: Pick<vscode.ChatResponseStream, 'markdown' | 'anchor' | 'button' | 'progress'>,
  token: vscode.CancellationToken,
) => Promise<{ metadata: { command?: string; phrasedByModel: boolean } }>;

interface KyozoApi {
  model: { services(): { service: { id: string } }[] };
  ready: Promise<void>;
  pathWalker: { tools: string[]; participant: boolean; mcpProvider: boolean; chat: ChatHandler };
}

interface LmTools {
  tools?: readonly { name: string; inputSchema?: object; tags: readonly string[] }[];
  invokeTool?: (
    name: string,
    options: { input: object; toolInvocationToken: undefined },
    token?: vscode.CancellationToken,
  ) => Thenable<{ content: unknown[] }>;
  registerMcpServerDefinitionProvider?: unknown;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    const v = await fn();
    if (v !== undefined) return v;
    await sleep(250);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

function recorder(): { stream: Parameters<ChatHandler>[2]; seen: Recorded } {
  const seen: Recorded = { markdown: [], anchors: [], buttons: [], progress: [] };
  const stream: Parameters<ChatHandler>[2] = {
    markdown: (v) => void seen.markdown.push(typeof v === 'string' ? v : v.value),
    anchor: (v) =>
      void seen.anchors.push(v instanceof vscode.Uri ? v.toString() : `${v.uri.toString()}#${v.range.start.line + 1}`),
    button: (c) => void seen.buttons.push({ command: c.command, title: c.title, arguments: c.arguments }),
    progress: (v) => void seen.progress.push(v),
  };
  return { stream, seen };
}

/** The text of a tool result's parts (LanguageModelTextPart has `value`). */
function textOf(result: { content: unknown[] }): string {
  return result.content.map((p) => String((p as { value?: unknown }).value ?? '')).join('');
}

export async function run(): Promise<void> {
  const dir = process.env.KYOZO_E2E_DIR!;
  const results: Record<string, unknown> = { startedAt: new Date().toISOString() };
  const save = () => writeFileSync(join(dir, 'results.json'), JSON.stringify(results, null, 2));
  const signal = (name: string) => {
    save();
    writeFileSync(join(dir, name), new Date().toISOString());
  };
  try {
    const folder = vscode.workspace.workspaceFolders?.[0];
    if (!folder) throw new Error('no workspace folder is open');
    const ext = vscode.extensions.getExtension<KyozoApi>('kyozo.kyozo');
    if (!ext) throw new Error('extension kyozo.kyozo is not installed in this host');
    const api = await ext.activate();
    await Promise.race([
      api.ready,
      sleep(90_000).then(() => {
        throw new Error('no topology within 90 s');
      }),
    ]);
    results.services = api.model.services().map((r) => r.service.id);
    results.registered = {
      tools: api.pathWalker.tools,
      participant: api.pathWalker.participant,
      mcpProvider: api.pathWalker.mcpProvider,
    };
    const lm = vscode.lm as unknown as LmTools;
    results.vscodeVersion = vscode.version;
    results.editorHas = {
      registerTool: typeof (vscode.lm as unknown as { registerTool?: unknown }).registerTool === 'function',
      invokeTool: typeof lm.invokeTool === 'function',
      createChatParticipant: typeof vscode.chat?.createChatParticipant === 'function',
      registerMcpServerDefinitionProvider: typeof lm.registerMcpServerDefinitionProvider === 'function',
    };

    // Kyozo: Describe Folder, as the Explorer's context menu runs it (with the folder's URI).
    const describe = async (rel: string) => {
      const uri = await vscode.commands.executeCommand<vscode.Uri>(
        'kyozo.describeFolder',
        vscode.Uri.joinPath(folder.uri, rel),
      );
      if (!uri) throw new Error(`Describe Folder returned nothing for ${rel}`);
      const doc = await vscode.workspace.openTextDocument(uri);
      return { uri: uri.toString(), text: doc.getText() };
    };
    results.describeCart = await describe('src/cartservice');
    results.describeProtos = await describe('protos');
    results.describeManifests = await describe('kubernetes-manifests');
    await sleep(1500);
    results.tabs = vscode.window.tabGroups.all.flatMap((g) => g.tabs.map((t) => t.label));

    // The language-model tools, as agent mode sees them.
    results.lmTools = (lm.tools ?? [])
      .filter((t) => t.name.startsWith('kyozo_'))
      .map((t) => ({
        name: t.name,
        tags: t.tags,
        properties: Object.keys((t.inputSchema as { properties?: object })?.properties ?? {}),
      }));
    if (lm.invokeTool) {
      const invoke = async (name: string, input: object) =>
        textOf(await lm.invokeTool!(name, { input, toolInvocationToken: undefined }));
      results.toolFind = JSON.parse(await invoke('kyozo_find', { route: 'GET /cart' }));
      results.toolDescribe = JSON.parse(await invoke('kyozo_describe_folder', { folder: 'protos' }));
      results.cartSummary = JSON.parse(
        await invoke('kyozo_describe_folder', { folder: 'src/cartservice' }),
      ).summary.value;
      results.toolBad = await invoke('kyozo_find', { route: '/x', env: 'Y' }).then(
        (t) => ({ answered: t }),
        (e: Error) => ({ error: e.message }),
      );
    }

    // @kyozo, without a language model (this code-server has none).
    results.models = (await vscode.lm.selectChatModels({})).length;
    const ask = async (command: string | undefined, prompt: string) => {
      const { stream, seen } = recorder();
      const cts = new vscode.CancellationTokenSource();
      const r = await api.pathWalker.chat({ command, prompt }, {}, stream, cts.token);
      return { ...seen, metadata: r.metadata };
    };
    results.chatDescribe = await ask('describe', 'src/cartservice');
    results.chatWhere = await ask('where', 'CartService/AddItem');
    results.chatDeploy = await ask('deploy', 'checkout');
    signal('phase1');
    await until('signal done', () => existsSync(join(dir, 'done')) || undefined, 120_000);
    results.ok = true;
  } catch (e) {
    results.error = (e as Error).stack ?? String(e);
  } finally {
    results.finishedAt = new Date().toISOString();
    save();
  }
}
