// What a failed build of a Python, Go, Rust, Java, .NET, PHP, Ruby or Elixir image said, and what to do about it:
// each pattern matches one line of the failing step's output (image-builder.ts names the step and shows the line).
export const RUNTIME_BUILD_FAILURE_HINTS: [RegExp, string][] = [
  [
    /No matching distribution found for|Could not find a version that satisfies the requirement/,
    'pip found no release of a requirement in the package index; check its name and version in requirements.txt ' +
      '(or the lockfile), or give the build a reachable index (PIP_INDEX_URL in the base image)',
  ],
  [
    /Failed building wheel for|error: command '[^']*(gcc|cc|g\+\+)' failed|pg_config executable not found/,
    'a Python dependency compiles a C extension and the base image has no compiler or headers; pin a version that ' +
      'publishes a wheel for this Python, or choose a fuller base image (--base-image python=python:3.12)',
  ],
  [
    new RegExp(
      'changed significantly since poetry\\.lock|poetry\\.lock[^\\n]*(not consistent|out of date)' +
        '|Pipfile\\.lock[^\\n]*out of date' +
        '|pdm\\.lock[^\\n]*(outdated|not up to date)|uv\\.lock[^\\n]*needs to be updated',
      'i',
    ),
    'the Python lockfile does not match pyproject.toml or Pipfile; run poetry lock, pipenv lock, pdm lock or uv lock ' +
      'locally and commit the lockfile',
  ],
  [
    /missing go\.sum entry|updates to go\.mod needed|go\.mod file indicates go [\d.]+, but maximum supported version/,
    'go.mod and go.sum do not describe the build (or need a newer Go); run go mod tidy and commit both, or choose a ' +
      'newer toolchain (--base-image go=golang:<version>)',
  ],
  [
    /module lookup disabled by GOPROXY=off|proxy\.golang\.org[^\n]*(no such host|i\/o timeout|connection refused)/,
    'the build cannot download Go modules; vendor them (go mod vendor, committed), or give the build a reachable ' +
      'GOPROXY in the base image',
  ],
  [
    /no Go files in|no required module provides package/,
    'the Go package the image builds is not where Kyozo looked; set the build in kyozo.yaml ' +
      '(build: go build -o /out/app ./path/to/main)',
  ],
  [
    /lock file[^\n]*needs to be updated but --locked was passed|cannot update the lock file[^\n]*--locked/,
    'Cargo.lock is out of date with Cargo.toml; run cargo update --workspace (or any cargo build) locally and commit ' +
      'Cargo.lock',
  ],
  [
    /(index\.crates\.io|github\.com\/rust-lang\/crates\.io-index)[^\n]*(failed|Couldn't resolve host|timed out)/i,
    'the build cannot reach crates.io; vendor the crates (cargo vendor, with its .cargo/config.toml) or build where ' +
      'the registry is reachable',
  ],
  [
    /Could not (resolve dependencies|transfer artifact|resolve all (files|dependencies))|Could not GET 'https?:\/\//,
    'Maven or Gradle could not download a dependency; check its coordinates, or give the build a reachable ' +
      'repository (a mirror in settings.xml or the Gradle repositories block)',
  ],
  [
    /no main manifest attribute|cannot access jarfile|ls: build\/libs\/\*\.jar|ls: target\/\*\.jar/i,
    "the build made no runnable jar; package one (the Spring Boot plugin, maven-shade or Gradle's application " +
      'plugin) or set build: and start: in kyozo.yaml',
  ],
  [
    /error NU1301|Unable to load the service index for source/,
    'dotnet restore cannot reach NuGet; give the build a reachable feed (nuget.config) or build where nuget.org is ' +
      'reachable',
  ],
  [
    /Your lock file does not contain a compatible set of packages|lock file is not up to date with the latest changes/i,
    'composer.lock does not match composer.json; run composer update --lock locally and commit composer.lock',
  ],
  [
    /requires (?:the )?(?:PHP )?(?:extension )?ext-[\w-]+/i,
    'a Composer package needs a PHP extension the base image lacks; choose a base image that has it ' +
      '(--base-image php=<image>) or add the extension in a Dockerfile of your own',
  ],
  [
    /trying to install in deployment mode after changing your Gemfile|The gemspecs for path gems changed/,
    'Gemfile.lock does not match the Gemfile; run bundle install locally and commit Gemfile.lock',
  ],
  [
    /Your bundle only supports platforms/,
    "Gemfile.lock lacks the image's platform; run bundle lock --add-platform x86_64-linux and commit Gemfile.lock",
  ],
  [
    /Unchecked dependencies for environment prod|the dependency is not locked|mix\.lock[^\n]*out of date/i,
    'mix.lock does not match mix.exs; run mix deps.get locally and commit mix.lock',
  ],
];
