// .NET: *.csproj — Web SDK (ASP.NET Core), Worker SDK, console Exe, or a class library.
import { ev, findLine } from '../parse/evidence';
import type { Finding, FolderView } from './types';

export function detectDotnet(folder: FolderView): Finding | undefined {
  const proj = folder.files.find((f) => /\.(cs|fs)proj$/.test(f) && folder.has(f));
  if (!proj) return undefined;
  const file = folder.rel(proj);
  const text = folder.read(proj) ?? '';
  const sdk = /<Project\s+Sdk="([^"]+)"/.exec(text)?.[1] ?? '';
  const deps = [...text.matchAll(/<PackageReference\s+Include="([^"]+)"/g)].map((m) => ({
    name: m[1].toLowerCase(),
    file,
    line: findLine(text, m[0]),
  }));
  const finding: Finding = {
    detector: 'dotnet',
    type: 'dotnet',
    rank: 5,
    language: proj.endsWith('.fsproj') ? 'fsharp' : 'csharp',
    confidence: 0.5,
    evidence: [ev(file, `.NET project (${sdk || 'SDK'})`, findLine(text, '<Project'))],
    indicators: [file],
    dependencies: deps,
    build: { runtime: 'dotnet', packageManager: 'dotnet', evidence: ev(file, '.NET project') },
  };
  const entryFiles = ['Program.cs', 'Startup.cs'].filter((f) => folder.has(f)).map((f) => folder.rel(f));
  if (sdk === 'Microsoft.NET.Sdk.Web') {
    finding.frameworks = ['aspnetcore'];
    finding.start = { command: 'dotnet run', source: 'framework-default', evidence: ev(file, 'ASP.NET Core project') };
    finding.ports = [
      {
        container: 8080,
        protocol: 'tcp',
        source: 'framework-default',
        evidence: ev(file, 'ASP.NET Core listens on 8080 in containers by default'),
      },
    ];
    finding.runnable = true;
    finding.confidence = 0.85;
  } else if (sdk === 'Microsoft.NET.Sdk.Worker' || /<OutputType>\s*Exe\s*<\/OutputType>/i.test(text)) {
    finding.frameworks = [];
    finding.start = { command: 'dotnet run', source: 'framework-default', evidence: ev(file, 'executable project') };
    finding.runnable = true;
    finding.worker = true;
    finding.confidence = 0.7;
  } else {
    finding.frameworks = [];
    finding.runnable = false;
  }
  finding.entryFiles = entryFiles;
  return finding;
}
