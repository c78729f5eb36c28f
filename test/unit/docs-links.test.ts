// The README is the front door and docs/ the reference: every relative link and image in README.md, CONTRIBUTING.md
// and docs/ must resolve inside the repository (and an anchor to a heading that exists), the README must stay short,
// and every docs page must be reachable from the docs index.
import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'node:test';
// markdown-it: CommonMark-compliant and already in the tree (through @vscode/vsce); its tokens give every link and
// image with its exact target, which a regular expression over the text gets wrong for code spans and nested brackets.
import MarkdownIt from 'markdown-it';
import type Token from 'markdown-it/lib/token.mjs';

const repoRoot = resolve(new URL('../..', import.meta.url).pathname);
const README_MAX_LINES = 180;
const md = new MarkdownIt({ html: true });

interface Reference {
  file: string;
  line: number;
  kind: 'link' | 'image';
  target: string;
}

/** The markdown files whose links are checked: the two at the root and everything under docs/. */
function markdownFiles(root: string): string[] {
  const out = ['README.md', 'CONTRIBUTING.md'].map((f) => join(root, f)).filter((f) => existsSync(f));
  const walk = (dir: string): void => {
    if (!existsSync(dir)) return;
    for (const e of readdirSync(dir).sort()) {
      const p = join(dir, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (e.endsWith('.md')) out.push(p);
    }
  };
  walk(join(root, 'docs'));
  return out;
}

function references(file: string): Reference[] {
  const out: Reference[] = [];
  const visit = (tokens: Token[], line: number): void => {
    for (const t of tokens) {
      const at = t.map ? t.map[0] + 1 : line;
      if (t.type === 'link_open') out.push({ file, line: at, kind: 'link', target: t.attrGet('href') ?? '' });
      if (t.type === 'image') out.push({ file, line: at, kind: 'image', target: t.attrGet('src') ?? '' });
      // Images written as HTML (<img src="...">) must resolve too.
      if (t.type === 'html_inline' || t.type === 'html_block') {
        for (const m of t.content.matchAll(/<img\b[^>]*\bsrc\s*=\s*["']([^"']+)["']/gi)) {
          out.push({ file, line: at, kind: 'image', target: m[1] });
        }
      }
      if (t.children) visit(t.children, at);
    }
  };
  visit(md.parse(readFileSync(file, 'utf8'), {}), 1);
  return out;
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens, repeats numbered. */
function anchors(file: string): Set<string> {
  const out = new Set<string>();
  const seen = new Map<string, number>();
  const tokens = md.parse(readFileSync(file, 'utf8'), {});
  tokens.forEach((t, i) => {
    if (t.type !== 'heading_open') return;
    const text = (tokens[i + 1].children ?? [])
      .filter((c) => c.type === 'text' || c.type === 'code_inline')
      .map((c) => c.content)
      .join('');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    out.add(n === 0 ? base : `${base}-${n}`);
  });
  for (const m of readFileSync(file, 'utf8').matchAll(/<a\s[^>]*\b(?:id|name)\s*=\s*["']([^"']+)["']/gi)) out.add(m[1]);
  return out;
}

const isExternal = (target: string): boolean => /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//');

/** Every broken relative reference under `root`, as "file:line: what is wrong; what to do". */
function brokenReferences(root: string): string[] {
  const problems: string[] = [];
  for (const file of markdownFiles(root)) {
    for (const ref of references(file)) {
      const where = `${relative(root, file)}:${ref.line}`;
      if (!ref.target) {
        problems.push(`${where}: ${ref.kind} with an empty target`);
        continue;
      }
      if (isExternal(ref.target)) continue;
      const [rawPath, fragment] = ref.target.split('#', 2);
      const path = decodeURIComponent(rawPath);
      const resolved = path ? resolve(dirname(file), path) : file;
      if (resolved !== root && !resolved.startsWith(root + sep)) {
        problems.push(`${where}: ${ref.kind} ${ref.target} points outside the repository; link to a file in it`);
        continue;
      }
      if (!existsSync(resolved)) {
        problems.push(
          `${where}: ${ref.kind} ${ref.target} does not exist (looked for ${relative(root, resolved)}); ` +
            'fix the path or add the file',
        );
        continue;
      }
      if (ref.kind === 'image' && !statSync(resolved).isFile()) {
        problems.push(`${where}: image ${ref.target} is not a file`);
        continue;
      }
      if (fragment && resolved.endsWith('.md') && !anchors(resolved).has(fragment)) {
        problems.push(
          `${where}: link ${ref.target}: ${relative(root, resolved)} has no heading with the anchor ` +
            `#${fragment}; link to an existing heading`,
        );
      }
    }
  }
  return problems;
}

test('every relative link and image in README.md, CONTRIBUTING.md and docs/ resolves', () => {
  const files = markdownFiles(repoRoot).map((f) => relative(repoRoot, f));
  assert.ok(files.includes('README.md') && files.includes('CONTRIBUTING.md'), files.join(', '));
  assert.ok(files.filter((f) => f.startsWith('docs/')).length >= 5, `docs pages found: ${files.join(', ')}`);
  assert.deepEqual(brokenReferences(repoRoot), []);
});

test('the checker reports a broken link, a missing image, a missing anchor and a link out of the repository', () => {
  const root = mkdtempSync(join(tmpdir(), 'kyozo-docs-links-'));
  try {
    mkdirSync(join(root, 'docs', 'images'), { recursive: true });
    writeFileSync(join(root, 'docs', 'images', 'shown.png'), 'png');
    writeFileSync(join(root, 'docs', 'deploy.md'), '# Deploying folders\n\n## Exit codes\n');
    writeFileSync(join(root, 'CONTRIBUTING.md'), '# Contributing\n\nSee [the README](README.md#quick-start).\n');
    writeFileSync(
      join(root, 'README.md'),
      [
        '# Kyozo',
        '',
        '## Quick start',
        '',
        'Good: [deploy](docs/deploy.md), [exit codes](docs/deploy.md#exit-codes), [up](#quick-start),',
        '![shown](docs/images/shown.png), [site](https://example.com/x), `[not a link](nowhere.md)`.',
        '',
        'Broken: [detection](docs/detection.md), ![gone](docs/images/gone.png), [anchor](docs/deploy.md#no-such),',
        '[outside](../elsewhere.md), <img src="docs/images/also-gone.png">.',
        '',
      ].join('\n'),
    );
    const problems = brokenReferences(root);
    assert.equal(problems.length, 5, problems.join('\n'));
    assert.match(problems[0], /^README\.md:8: link docs\/detection\.md does not exist/);
    assert.match(problems[1], /^README\.md:8: image docs\/images\/gone\.png does not exist/);
    assert.match(problems[2], /^README\.md:8: link docs\/deploy\.md#no-such: docs\/deploy\.md has no heading/);
    assert.match(problems[3], /^README\.md:8: link \.\.\/elsewhere\.md points outside the repository/);
    assert.match(problems[4], /^README\.md:8: image docs\/images\/also-gone\.png does not exist/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test(`README.md is the front door: under ${README_MAX_LINES} lines`, () => {
  const lines = readFileSync(join(repoRoot, 'README.md'), 'utf8').split('\n').length;
  assert.ok(
    lines < README_MAX_LINES,
    `README.md has ${lines} lines; keep it under ${README_MAX_LINES} and move reference material to a page in docs/`,
  );
});

test('every page in docs/ is listed in the docs index, docs/README.md', () => {
  const index = join(repoRoot, 'docs', 'README.md');
  assert.ok(existsSync(index), 'docs/README.md is missing: add it, with one line per page in docs/');
  const listed = new Set(
    references(index)
      .filter((r) => r.kind === 'link' && !isExternal(r.target))
      .map((r) => resolve(dirname(index), decodeURIComponent(r.target.split('#')[0]))),
  );
  const pages = markdownFiles(repoRoot).filter((f) => f.startsWith(join(repoRoot, 'docs') + sep) && f !== index);
  const missing = pages.filter((p) => !listed.has(p)).map((p) => relative(repoRoot, p));
  assert.deepEqual(missing, [], `add a line for each of these to docs/README.md: ${missing.join(', ')}`);
});
