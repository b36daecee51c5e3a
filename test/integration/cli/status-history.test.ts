/**
 * `kubectl agentid status` and `history` against the real API server. The operator is not
 * running: AgentClient status is simulated by writing it through the status subresource.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AgentSummary } from '../../../src/cli/render/agents.ts';
import { createServiceAccountKubeConfig, loadKubeConfig } from '../../../src/envtest/index.ts';
import { Cluster, condition, runPlugin } from './harness.ts';

const kubeconfig = inject('kubeconfigPath');
const cluster = new Cluster(loadKubeConfig(kubeconfig));
const suffix = randomBytes(4).toString('hex');
const ns1 = `cli-status-a-${suffix}`;
const ns2 = `cli-status-b-${suffix}`;
let scratch: string;

const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();

beforeAll(async () => {
  scratch = await mkdtemp(path.join(os.tmpdir(), 'cli-status-'));
  await cluster.namespace(ns1);
  await cluster.namespace(ns2);
  await cluster.createAgent(ns1, 'reporting', ['reports:read', 'calendar:read', 'prod:write']);
  await cluster.writeAgentStatus(ns1, 'reporting', {
    clientId: 'cid-reporting',
    conditions: [condition('Ready', 'True', 'Ready'), condition('PolicyCompliant', 'False', 'ScopesDenied')],
    grantedScopes: ['reports:read', 'calendar:read'],
    deniedScopes: [{ scope: 'prod:write', reason: 'not in allowedScopes', policy: 'baseline' }],
    policies: ['baseline'],
    credentials: { lastRotationTime: hoursAgo(50), nextRotationTime: hoursAgo(-670), rotationSupport: 'Overlap' },
    ceilingHistory: [
      { time: hoursAgo(72), decision: 'Initial', added: ['reports:read'], policy: 'baseline', generation: 1 },
      { time: hoursAgo(48), decision: 'Delta', added: ['calendar:read'], policy: 'baseline', generation: 2 },
      { time: hoursAgo(24), decision: 'PolicyNarrowed', removed: ['mail:read'], policy: 'baseline', generation: 2 },
    ],
  });
  await cluster.createAgent(ns1, 'coder');
  await cluster.writeAgentStatus(ns1, 'coder', {
    clientId: 'cid-coder',
    conditions: [condition('Ready', 'False', 'Suspended'), condition('Suspended', 'True', 'SuspendedByRevocation')],
    suspendedBy: [`${ns1}/coder-incident`],
  });
  await cluster.createAgent(ns2, 'fresh');
  await cluster.createRevocation(ns1, 'by-name', { target: { agentClientName: 'reporting' }, actions: ['RevokeGrants'], reason: 'rotation drill' });
  await cluster.createRevocation(ns1, 'by-client-id', { target: { clientId: 'cid-reporting' }, actions: ['RotateCredentials'], reason: 'key hygiene' });
  await cluster.createRevocation(ns1, 'coder-incident', { target: { agentClientName: 'coder' }, actions: ['Suspend'], reason: 'incident' });
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('status (simulated operator status)', () => {
  it('shows each agent: client ID, Ready, ceiling, denied count, policy, rotation, suspension', async () => {
    const result = await runPlugin(kubeconfig, ['status', '-n', ns1]);
    expect(result.code).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+CLIENT-ID\s+READY\s+CEILING\s+DENIED\s+POLICY\s+ROTATED\s+NEXT\s+SUSPENDED$/);
    expect(lines[1]).toMatch(/^coder\s+cid-coder\s+False\s+-\s+0\s+<none>\s+-\s+-\s+coder-incident$/);
    // Rows are fitted to 100 columns by cutting long cells (client ID first); -o json has them whole.
    expect(lines[2]).toMatch(/^reporting\s+cid-repo…\s+True\s+reports:read,cal\S*\s+1\s+baseline\s+2d2h\s+27d2[12]h\s+no$/);
    for (const line of lines) expect(line.length).toBeLessThanOrEqual(100);
    expect(result.stdout).not.toContain('\u001b[');
  });

  it('prints summaries as JSON for scripts, across namespaces with -A', async () => {
    const one = await runPlugin(kubeconfig, ['status', '-n', ns1, '-o', 'json']);
    expect(one.code).toBe(0);
    const summaries = JSON.parse(one.stdout) as AgentSummary[];
    expect(summaries.map((s) => s.name)).toEqual(['coder', 'reporting']);
    expect(summaries[1]).toMatchObject({
      namespace: ns1,
      clientId: 'cid-reporting',
      ready: 'True',
      ceiling: ['reports:read', 'calendar:read'],
      denied: [{ scope: 'prod:write', reason: 'not in allowedScopes', policy: 'baseline' }],
      policyCompliant: 'False',
      suspended: false,
    });
    expect(summaries[0]).toMatchObject({ suspended: true, suspendedBy: [`${ns1}/coder-incident`] });

    const all = await runPlugin(kubeconfig, ['status', '-A', '-o', 'json']);
    const ours = (JSON.parse(all.stdout) as AgentSummary[]).filter((s) => s.namespace.endsWith(suffix));
    expect(ours.map((s) => `${s.namespace}/${s.name}`)).toEqual([`${ns1}/coder`, `${ns1}/reporting`, `${ns2}/fresh`]);
    expect(ours[2]).toMatchObject({ ready: 'Unknown', clientId: null, ceiling: [] });

    const table = await runPlugin(kubeconfig, ['status', '--all-namespaces']);
    expect(table.stdout.split('\n')[0]).toMatch(/^NAMESPACE\s+NAME/);
    expect(table.stdout).toMatch(/\sfresh\s+-\s+Unknown\s+-\s+0\s+<none>\s+-\s+-\s+no\n/);
  });

  it('shows one agent in detail, and says so when a namespace has none', async () => {
    const one = await runPlugin(kubeconfig, ['status', 'reporting', '-n', ns1]);
    expect(one.code).toBe(0);
    expect(one.stdout).toContain(`Agent:        ${ns1}/reporting`);
    expect(one.stdout).toContain('prod:write: not in allowedScopes (policy baseline)');
    expect(one.stdout).toContain('PolicyCompliant=False ScopesDenied');
    const empty = await runPlugin(kubeconfig, ['status', '-n', `${ns2}-none`]);
    expect(empty.code).toBe(0);
    expect(empty.stderr).toContain('No AgentClients found');
  });

  it('exits 4 for an unknown agent, and for a user RBAC does not allow to read AgentClients', async () => {
    const missing = await runPlugin(kubeconfig, ['status', 'nope', '-n', ns1]);
    expect(missing.code).toBe(4);
    const sa = await createServiceAccountKubeConfig(cluster.kc, ns1, 'nobody', scratch);
    const forbidden = await runPlugin(sa.kubeconfigPath, ['status']);
    expect(forbidden.code).toBe(4);
    expect(forbidden.stderr).toContain('forbidden');
    // --kubeconfig wins over KUBECONFIG, as in kubectl.
    const explicit = await runPlugin('/nonexistent', ['status', '-n', ns1, '--kubeconfig', kubeconfig, '-o', 'json']);
    expect(explicit.code).toBe(0);
  });
});

describe('history (simulated operator status)', () => {
  it('lists ceiling changes newest first and the GrantRevocations that targeted the agent', async () => {
    const result = await runPlugin(kubeconfig, ['history', 'reporting', '-n', ns1]);
    expect(result.code).toBe(0);
    const out = result.stdout;
    expect(out).toContain(`Ceiling of ${ns1}/reporting: reports:read calendar:read`);
    const narrowed = out.search(/PolicyNarrowed\s+-\s+-mail:read\s+baseline\s+2/);
    const delta = out.search(/Delta\s+\+calendar:read\s+-\s+baseline\s+2/);
    const initial = out.search(/Initial\s+\+reports:read\s+-\s+baseline\s+1/);
    expect(narrowed).toBeGreaterThan(-1);
    expect(narrowed).toBeLessThan(delta);
    expect(delta).toBeLessThan(initial);
    expect(out).toMatch(/by-name\s+Pending\s+RevokeGrants\s+\*/);
    expect(out).toMatch(/by-client-id\s+Pending\s+RotateCredentials/);
    expect(out).not.toContain('coder-incident');
  });

  it('prints the same as JSON', async () => {
    const result = await runPlugin(kubeconfig, ['history', 'reporting', '-n', ns1, '-o', 'json']);
    expect(result.code).toBe(0);
    const h = JSON.parse(result.stdout) as { ceilingHistory: { decision: string }[]; revocations: { name: string }[] };
    expect(h.ceilingHistory.map((c) => c.decision)).toEqual(['PolicyNarrowed', 'Delta', 'Initial']);
    expect(h.revocations.map((r) => r.name).sort()).toEqual(['by-client-id', 'by-name']);
  });

  it('exits 2 without AGENT and 4 for an unknown one', async () => {
    expect((await runPlugin(kubeconfig, ['history', '-n', ns1])).code).toBe(2);
    expect((await runPlugin(kubeconfig, ['history', 'ghost', '-n', ns1])).code).toBe(4);
  });
});
