// Ruby: Gemfile (rails, sinatra, sidekiq workers), config.ru for plain Rack apps.
import { ev, findLine } from '../parse/evidence';
import type { Finding, FolderView } from './types';

export function detectRuby(folder: FolderView): Finding | undefined {
  if (!folder.has('Gemfile')) return undefined;
  const file = folder.rel('Gemfile');
  const text = folder.read('Gemfile') ?? '';
  const gems = [...text.matchAll(/^\s*gem\s+['"]([\w-]+)['"]/gm)].map((m) => ({
    name: m[1],
    file,
    line: findLine(text, m[0].trim()),
  }));
  const has = (g: string) => gems.some((x) => x.name === g);
  const finding: Finding = {
    detector: 'ruby',
    type: 'ruby',
    rank: 5,
    language: 'ruby',
    confidence: 0.5,
    evidence: [ev(file, 'Gemfile declares a Ruby project')],
    indicators: [file],
    // Gem names that collide with other ecosystems' drivers get a suffix the catalog knows.
    dependencies: gems.map((g) => (g.name === 'pg' || g.name === 'mysql2' ? { ...g, name: `${g.name}_ruby` } : g)),
    build: { runtime: 'ruby', packageManager: 'bundler', evidence: ev(file, 'Bundler project') },
  };
  let fw: { name: string; port: number; command: string } | undefined;
  if (has('rails') || folder.exists('config/application.rb'))
    fw = { name: 'rails', port: 3000, command: 'bin/rails server -b 0.0.0.0 -p 3000' };
  else if (has('sinatra'))
    fw = {
      name: 'sinatra',
      port: 4567,
      command: folder.has('config.ru')
        ? 'bundle exec rackup -o 0.0.0.0 -p 4567'
        : `bundle exec ruby ${folder.has('app.rb') ? 'app.rb' : 'main.rb'} -o 0.0.0.0`,
    };
  else if (folder.has('config.ru')) fw = { name: 'rack', port: 9292, command: 'bundle exec rackup -o 0.0.0.0 -p 9292' };
  if (fw) {
    finding.frameworks = [fw.name];
    finding.evidence.push(
      ev(file, `${fw.name} application`, findLine(text, `'${fw.name}'`) ?? findLine(text, `"${fw.name}"`)),
    );
    finding.start = { command: fw.command, source: 'framework-default', evidence: ev(file, `${fw.name} convention`) };
    finding.ports = [
      {
        container: fw.port,
        protocol: 'tcp',
        source: 'framework-default',
        evidence: ev(file, `${fw.name} listens on ${fw.port} by default`),
      },
    ];
    finding.entryFiles = ['app.rb', 'config.ru', 'config/routes.rb', 'main.rb']
      .filter((f) => folder.exists(f))
      .map((f) => folder.rel(f));
    finding.runnable = true;
    finding.confidence = 0.85;
  } else if (has('sidekiq')) {
    finding.frameworks = ['sidekiq'];
    finding.start = {
      command: 'bundle exec sidekiq',
      source: 'framework-default',
      evidence: ev(file, 'sidekiq worker', findLine(text, 'sidekiq')),
    };
    finding.runnable = true;
    finding.worker = true;
    finding.confidence = 0.75;
  } else {
    finding.frameworks = [];
    finding.runnable = folder.files.some((f) => f.endsWith('.gemspec')) ? false : undefined;
  }
  return finding;
}
