import type { DevStack } from './stack.ts';
import { SAMPLES_NAMESPACE } from './stack.ts';

/** How the stack was started: in the foreground (`make dev`, Ctrl-C stops it) or in the background (`make dev-up`). */
export type TourMode = 'foreground' | 'background';

/** One line per kind: `AgentClient agents/reporting-agent, agents/coding-agent`. */
function samplesLine(stack: DevStack): string {
  if (!stack.samples) return '(not applied)';
  const byKind = new Map<string, string[]>();
  for (const object of stack.samples.objects) {
    const names = byKind.get(object.kind) ?? [];
    names.push(object.namespace ? `${object.namespace}/${object.name}` : object.name);
    byKind.set(object.kind, names);
  }
  return [...byKind].map(([kind, names]) => `${kind} ${names.join(', ')}`).join('\n                  ');
}

/** The tour's commands, their comments aligned in one column. */
function commands(devDir: string, agent: string, mode: TourMode): string {
  const lines: Array<[string, string]> = [
    [`source ${devDir}/env`, 'KUBECONFIG; kubectl, kubectl-agentid and node first on PATH'],
    ['kubectl get idp,agc,cpol,grev -A', ''],
    ['kubectl agentid status', 'client IDs, ceilings, rotation, suspension'],
    [`kubectl describe secret ${agent}-oauth`, "the agent's Secret: key names and sizes, no values"],
    [`node hack/dev/agent-token.ts ${agent}`, 'a token as the agent, using only its Secret'],
    [`kubectl agentid rotate ${agent}`, 'new key now; the old one stays registered for the overlap'],
    [`node hack/dev/agent-token.ts ${agent}`, 'works again, signed with the new key'],
    ['kubectl agentid revoke coding-agent --reason "tour: suspected leak"', 'waits until Completed'],
    ['kubectl agentid history coding-agent', 'its ceiling decisions and the revocation'],
    [`kill $(cat ${devDir}/operator.pid)`, 'the operator restarts like a pod; nothing re-registers'],
    ['make dev-down', mode === 'foreground' ? 'or Ctrl-C here' : ''],
  ];
  const width = Math.max(...lines.map(([command]) => command.length)) + 2;
  return lines.map(([command, comment]) => `  ${comment ? `${command.padEnd(width)}# ${comment}` : command}`).join('\n');
}

/**
 * The short tour printed once the stack is ready. Every command in it is exercised against a real
 * stack by test/integration/devstack.test.ts or by hand (see the README's tour).
 */
export function tour(stack: DevStack, devDir: string, mode: TourMode): string {
  const agent = stack.samples?.objects.find((o) => o.kind === 'AgentClient' && o.name === 'reporting-agent') ? 'reporting-agent' : 'AGENT';
  const stopLine = mode === 'foreground' ? 'Ctrl-C in this terminal stops everything' : 'make dev-down stops everything';
  return `
agent-identity-operator dev stack is ready.

  Kubernetes API  ${stack.controlPlane.server}  (${devDir}/kubeconfig; default namespace ${SAMPLES_NAMESPACE})
  Embedded IdP    ${stack.issuer}  (users: alice / wonderland)
  Operator        node src/main.ts, pid ${String(stack.operator.pid())}, log ${devDir}/operator.log
                  ${stack.operator.metricsUrl}/metrics  ${stack.operator.healthUrl}/readyz
  Samples Ready   ${samplesLine(stack)}

Try it${mode === 'foreground' ? ' in another terminal' : ''}, from the repository root:

${commands(devDir, agent, mode)}

Logs: ${devDir}/dev.log (stack), ${devDir}/operator.log (operator). ${stopLine};
state in ${devDir}/ survives a restart (make clean wipes it).
`;
}
