// Generate Compose File through the built language server: the compose file it returns references generated
// Dockerfiles under .kyozo/dockerfiles, so the server must also write them (as a workspace edit the editor applies).
import assert from 'node:assert/strict';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, it } from 'node:test';
import type { CreateFile, TextDocumentEdit, WorkspaceEdit } from 'vscode-languageserver-protocol';
import { parse } from 'yaml';
import { Methods } from '../../server/src/protocol';
import { startSession, type LspSession } from './lsp-harness';

type Change = TextDocumentEdit | CreateFile;

/** What the edits leave at `uri`: the text of its last full write, or undefined when nothing created it. */
function written(edits: WorkspaceEdit[], uri: string): string | undefined {
  let text: string | undefined;
  for (const change of edits.flatMap((e) => (e.documentChanges ?? []) as Change[])) {
    if ('kind' in change && change.kind === 'create' && change.uri === uri) text = '';
    else if ('textDocument' in change && change.textDocument.uri === uri && text !== undefined) {
      text += change.edits.map((e) => e.newText).join('');
    }
  }
  return text;
}

describe('language server: Generate Compose File on test/fixtures/deploy-stack', () => {
  let s: LspSession;
  before(async () => {
    s = await startSession('deploy-stack');
  });
  after(async () => {
    await s?.close();
  });

  it("writes every generated Dockerfile the compose file references, and none of the services' own", async () => {
    const yaml = await s.connection.sendRequest<string>(Methods.compose, { folderUri: s.folderUri });
    const doc = parse(yaml) as { services: Record<string, { build?: { context: string; dockerfile?: string } }> };
    const referenced = Object.entries(doc.services)
      .filter(([, svc]) => svc.build?.dockerfile?.includes('.kyozo/dockerfiles/'))
      .map(([name, svc]) => ({ name, file: resolve(s.folder, svc.build!.context, svc.build!.dockerfile!) }));
    assert.deepEqual(referenced.map((r) => r.name).sort(), ['api', 'web'], yaml);
    for (const r of referenced) {
      assert.equal(r.file, join(s.folder, '.kyozo/dockerfiles', `${r.name}.Dockerfile`));
      const text = written(s.appliedEdits, pathToFileURL(r.file).href);
      assert.ok(text !== undefined, `${r.name}: the compose file references ${r.file}, which was never written`);
      assert.match(text, /^FROM /m, `${r.name}: ${text}`);
    }
    assert.equal(doc.services.files?.build?.dockerfile, 'Dockerfile');
    const files = s.appliedEdits
      .flatMap((e) => (e.documentChanges ?? []) as Change[])
      .filter((c): c is CreateFile => 'kind' in c && c.kind === 'create')
      .map((c) => c.uri);
    assert.deepEqual(files.sort(), referenced.map((r) => pathToFileURL(r.file).href).sort());
  });
});
