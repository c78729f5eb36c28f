// Runs analyze() on argv[2] and prints the Topology as JSON on stdout. Used to analyse a tree as an
// unprivileged user (root reads every folder, so an unreadable folder can only be tested that way).
import { analyze } from '../../server/src/engine';

analyze(process.argv[2] ?? '.').then(
  (t) => process.stdout.write(JSON.stringify(t)),
  (err: unknown) => {
    process.stderr.write(`analyze failed: ${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  },
);
