/**
 * The Node.js flags the operator image runs with: the Dockerfile's `ENV NODE_OPTIONS` (heap
 * bounds). The dev stack and the benchmark start the operator with the same flags, read from the
 * Dockerfile, so there is one place that sets them (the chart and config/manager state the same
 * default, sized with the container's memory limit).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

/** The value of `ENV NODE_OPTIONS="..."` in a Dockerfile's text, or '' when it sets none. */
export function parseNodeOptions(dockerfile: string): string {
  const match = /^ENV\s+NODE_OPTIONS=(?:"([^"]*)"|(\S+))\s*$/m.exec(dockerfile);
  return (match?.[1] ?? match?.[2] ?? '').trim();
}

/** The image's NODE_OPTIONS, read from `<repoRoot>/Dockerfile`. */
export function productNodeOptions(repoRoot: string): string {
  return parseNodeOptions(readFileSync(path.join(repoRoot, 'Dockerfile'), 'utf8'));
}
