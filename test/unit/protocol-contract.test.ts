// The protocol module is the one place a method name or a command id is written, and what it declares is what the
// other side receives: the sources are scanned for stray names, package.json is compared with the command table, and
// the built server is asked through the typed descriptors the extension uses.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import ts from 'typescript';
import { ClientCommands, ExplainRequest, ServerCommands, WebviewActionCommands } from '../../server/src/protocol';
import { repoRoot, startSession, type LspSession } from './lsp-harness';

const PROTOCOL = 'server/src/protocol.ts';
/** Where messages are sent, handled or named: the language server, the CLI, the extension and the webviews. */
const SCANNED = ['server/src', 'extension/src', 'webviews'];
/** A JSON-RPC method: `kyozo/explain`, and the LSP's own (`workspace/codeLens/refresh`, `textDocument/...`, `$/...`). */
const METHOD_NAME = /^(kyozo|workspace|textDocument|window|client|notebookDocument|telemetry|\$)\/[\w/]+$/;
const COMMAND_IDS = new Set<string>([...Object.values(ServerCommands), ...Object.values(ClientCommands)]);

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(repoRoot, dir), { withFileTypes: true })) {
    const rel = `${dir}/${e.name}`;
    if (e.isDirectory()) out.push(...sourceFiles(rel));
    else if (/\.ts$/.test(e.name) && !e.name.endsWith('.d.ts')) out.push(rel);
  }
  return out;
}

/** Every string literal (not comments) that is a method name or a command id, as `file:line "text"`. */
function strayNames(file: string): string[] {
  const text = readFileSync(join(repoRoot, file), 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.ES2022, true);
  const out: string[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) {
      if (METHOD_NAME.test(node.text) || COMMAND_IDS.has(node.text)) {
        const line = source.getLineAndCharacterOfPosition(node.getStart()).line + 1;
        out.push(`${relative(repoRoot, join(repoRoot, file))}:${line} "${node.text}"`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

describe('the protocol module', () => {
  it('is the only source that writes a method name or a command id', () => {
    const files = SCANNED.flatMap(sourceFiles).filter((f) => f !== PROTOCOL);
    assert.ok(files.length > 20, `scanned ${files.length} files`);
    const stray = files.flatMap(strayNames);
    assert.deepEqual(
      stray,
      [],
      'use the descriptors and command tables in server/src/protocol.ts instead of these names',
    );
  });

  it('finds a name written anywhere else (the scan itself works)', () => {
    assert.deepEqual(strayNames(PROTOCOL).filter((s) => s.includes('"kyozo/explain"')).length, 1);
  });

  it('declares exactly the commands package.json contributes, and each menu names one of them', () => {
    const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
      contributes: { commands: { command: string }[]; menus: Record<string, { command: string }[]> };
    };
    const contributed = manifest.contributes.commands.map((c) => c.command).sort();
    assert.deepEqual(contributed, Object.values<string>(ClientCommands).sort());
    for (const [menu, items] of Object.entries(manifest.contributes.menus)) {
      for (const item of items) assert.ok(contributed.includes(item.command), `${menu} names ${item.command}`);
    }
    for (const command of Object.values(WebviewActionCommands)) assert.ok(contributed.includes(command), command);
  });
});

describe('kyozo/explain through its descriptor', () => {
  let s: LspSession;
  before(async () => {
    s = await startSession('lsp-workspace');
  });
  after(async () => {
    await s?.close();
  });

  it('answers the service it resolved with its description, as ExplainResult declares', async () => {
    // The extension once read only `markdown`; the server also says which service a folder URI resolved to.
    const r = await s.connection.sendRequest(ExplainRequest.method, { folderUri: s.folderUri, uri: s.uri('web') });
    assert.ok(r && typeof r === 'object', 'a result for a folder that is a service');
    assert.deepEqual(Object.keys(r).sort(), ['markdown', 'serviceId']);
    const typed = await s.connection.sendRequest(ExplainRequest, { folderUri: s.folderUri, serviceId: 'api' });
    assert.equal(typed?.serviceId, 'api');
    assert.match(typed?.markdown ?? '', /\*\*api\*\*/);
    assert.equal((r as { serviceId: string }).serviceId, 'web');
  });

  it('resolves the root folder to no image-only compose service', async () => {
    const r = await s.connection.sendRequest(ExplainRequest, { folderUri: s.folderUri, uri: s.folderUri });
    assert.ok(!r?.serviceId.includes('#'), `the root folder is not ${r?.serviceId}`);
  });
});
