// "Kyozo: Set Autoscaling…": the service's kyozo.yaml gets (or loses) its `scaling` block, written on disk inside the
// service's folder, so the next analysis and the autoscaler see it. The file must be a plain file inside the
// workspace folder: a symlink or a folder that resolves elsewhere is refused.
import { existsSync, lstatSync, readFileSync, realpathSync, renameSync, writeFileSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { ErrorCodes, ResponseError } from 'vscode-languageserver';
import { ScalingManifestError, withScaling } from '../engine';
import { scalingProblem, type Scaling, type Service } from '../protocol';

export function writeScaling(root: string, rootUri: string, service: Service, value: unknown): { uri: string } {
  const refuse = (message: string) => new ResponseError(ErrorCodes.InvalidParams, `Set Autoscaling: ${message}`);
  if (value !== null) {
    const problem = scalingProblem(value);
    if (problem) throw refuse(`${service.name}: ${problem}.`);
  }
  if (service.composeOnly)
    throw refuse(
      `${service.name} is declared only in ${service.composeOnly.file}; autoscaling is set in the kyozo.yaml of a ` +
        "service's own folder.",
    );
  const dir = resolve(root, service.folder);
  const inside = (p: string, base: string) => p === base || p.startsWith(base + sep);
  if (!inside(dir, resolve(root)) || !existsSync(dir) || !inside(realpathSync(dir), realpathSync(root)))
    throw refuse(`${service.folder} is not a folder inside ${root}.`);
  const name = existsSync(join(dir, 'kyozo.yml')) && !existsSync(join(dir, 'kyozo.yaml')) ? 'kyozo.yml' : 'kyozo.yaml';
  const file = join(dir, name);
  let text: string | undefined;
  if (existsSync(file)) {
    if (!lstatSync(file).isFile()) throw refuse(`${file} is not a regular file; Kyozo does not write through it.`);
    text = readFileSync(file, 'utf8');
  }
  let next: string;
  try {
    next = withScaling(text, value as Scaling | null, relative(root, file));
  } catch (e) {
    if (e instanceof ScalingManifestError) throw refuse(e.message);
    throw e;
  }
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, next, { mode: 0o644 });
  renameSync(tmp, file);
  const rel = relative(root, file).split(sep).map(encodeURIComponent).join('/');
  return { uri: `${rootUri}/${rel}` };
}
