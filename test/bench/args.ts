/** Command-line options of `node test/bench/bench.ts` (see USAGE). */
import { parseArgs } from 'node:util';

export const USAGE = `node test/bench/bench.ts [options]    (make bench; BENCH_ARGS='...' passes options)

  --agents N              AgentClients applied at once (default 1000)
  --rounds N              times each floor and the operator's burst are timed; the ratio is of medians (default 3)
  --scale N               total AgentClients for the memory figure (default 10000; 0 skips)
  --idle-seconds N        idle window (default 60)
  --revocation-runs N     GrantRevocations applied during the backlog (default 20; 0 skips)
  --revocation-gap-ms N   pause between two revocation runs (default 250)
  --concurrency N         operator --concurrency, and the floor script's (default 16, the operator's default)
  --apply-concurrency N   AgentClient creates in flight while applying (default 32)
  --timeout-seconds N     bound on each wait (default 300)
  --settle-seconds N      quiet time before the settled RSS at --scale (default 15)
  --operator-log-level L  the operator's --log-level (default info)
  --skip-floor            do not run the floor (ratio not measured)
  --json FILE             also write the JSON report to FILE
  --keep                  keep the working folder (operator log, kubeconfigs)

Environment: BENCH_OPERATOR_NODE_OPTIONS adds Node flags to the operator's (e.g. '--cpu-prof
--cpu-prof-dir=/tmp/prof' writes one CPU profile per operator process); BENCH_LOG_LEVEL sets the
benchmark's own log level (default warn).
`;

export interface BenchOptions {
  agents: number;
  rounds: number;
  scale: number;
  idleSeconds: number;
  revocationRuns: number;
  revocationGapMs: number;
  concurrency: number;
  applyConcurrency: number;
  timeoutSeconds: number;
  settleSeconds: number;
  operatorLogLevel: string;
  skipFloor: boolean;
  json: string | undefined;
  keep: boolean;
}

function int(name: string, value: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min} (got ${JSON.stringify(value)})`);
  return n;
}

export function parseBenchArgs(argv: string[]): BenchOptions | 'help' {
  const { values } = parseArgs({
    args: argv,
    options: {
      agents: { type: 'string', default: '1000' },
      rounds: { type: 'string', default: '3' },
      scale: { type: 'string', default: '10000' },
      'idle-seconds': { type: 'string', default: '60' },
      'revocation-runs': { type: 'string', default: '20' },
      'revocation-gap-ms': { type: 'string', default: '250' },
      concurrency: { type: 'string', default: '16' },
      'apply-concurrency': { type: 'string', default: '32' },
      'timeout-seconds': { type: 'string', default: '300' },
      'settle-seconds': { type: 'string', default: '15' },
      'operator-log-level': { type: 'string', default: 'info' },
      'skip-floor': { type: 'boolean', default: false },
      json: { type: 'string' },
      keep: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) return 'help';
  return {
    agents: int('agents', values.agents, 1),
    rounds: int('rounds', values.rounds, 1),
    scale: int('scale', values.scale, 0),
    idleSeconds: int('idle-seconds', values['idle-seconds'], 0),
    revocationRuns: int('revocation-runs', values['revocation-runs'], 0),
    revocationGapMs: int('revocation-gap-ms', values['revocation-gap-ms'], 0),
    concurrency: int('concurrency', values.concurrency, 1),
    applyConcurrency: int('apply-concurrency', values['apply-concurrency'], 1),
    timeoutSeconds: int('timeout-seconds', values['timeout-seconds'], 1),
    settleSeconds: int('settle-seconds', values['settle-seconds'], 0),
    operatorLogLevel: values['operator-log-level'],
    skipFloor: values['skip-floor'],
    json: values.json,
    keep: values.keep,
  };
}
