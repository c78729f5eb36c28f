// A program that listens on nothing is a worker when something in its code keeps it alive, else a job.
import { longRunningMarker } from '../code/program-lifetime';
import { ev } from '../parse/evidence';
import type { Finding } from './types';

/** Where a job's run ends, for its evidence: `what` completes "listens on nothing and ...". */
export interface JobEnd {
  file: string;
  line?: number;
  what: string;
}

/** Marks `finding` as a worker or a job from its sources (root-relative files), with the evidence either way. */
export function markProgramKind(finding: Finding, sources: { file: string; text: string }[], end: JobEnd): void {
  for (const s of sources) {
    const marker = longRunningMarker(s.text);
    if (marker) {
      finding.worker = true;
      finding.evidence.push(ev(s.file, `listens on nothing and ${marker.reason}: a worker`, marker.line));
      return;
    }
  }
  finding.job = true;
  finding.evidence.push(ev(end.file, `listens on nothing and ${end.what}: a job that runs to completion`, end.line));
}
