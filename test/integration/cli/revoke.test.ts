/**
 * `kubectl agentid revoke` against the real API server. No operator runs here: a small in-test
 * loop plays the GrantRevocation controller by writing status through the status subresource
 * (every test that does says "simulated" in its name).
 */
import { randomBytes } from 'node:crypto';
import { AuthenticationV1Api } from '@kubernetes/client-node';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { loadKubeConfig } from '../../../src/envtest/index.ts';
import { Cluster, condition, eventually, runPlugin, startPlugin } from './harness.ts';

const kubeconfig = inject('kubeconfigPath');
const cluster = new Cluster(loadKubeConfig(kubeconfig));
const ns = `cli-revoke-${randomBytes(4).toString('hex')}`;
let me: string;

beforeAll(async () => {
  await cluster.namespace(ns);
  await cluster.createAgent(ns, 'coder', ['repo:read', 'repo:write']);
  await cluster.writeAgentStatus(ns, 'coder', { clientId: 'cid-coder' });
  const review = await cluster.kc.makeApiClient(AuthenticationV1Api).createSelfSubjectReview({ body: {} });
  me = review.status?.userInfo?.username ?? '';
  expect(me).not.toBe('');
});

const now = () => new Date().toISOString();

describe('revoke with a simulated GrantRevocation controller', () => {
  it('creates the requested GrantRevocation, shows each result as it arrives, exits 0 on Completed', async () => {
    const run = startPlugin(kubeconfig, [
      'revoke', 'coder', '-n', ns, '--reason', 'leaked key', '--suspend', '--subject', 'alice',
      '--scope', 'repo:write', '--incident', 'INC-42', '--name', 'coder-inc42',
    ]);
    const created = await eventually(() => cluster.getRevocation(ns, 'coder-inc42'));
    expect(created.spec).toEqual({
      target: { agentClientName: 'coder' },
      subject: 'alice',
      scopes: ['repo:write'],
      actions: ['RevokeGrants', 'Suspend'],
      reason: 'leaked key',
      incidentRef: 'INC-42',
    });
    expect(created.metadata.annotations?.['agentidentity.dev/requested-by']).toBe(me);

    const first = { action: 'RevokeGrants' as const, call: 'revokeSubjectGrants', outcome: 'Succeeded' as const, grantsRevoked: 2, tokensRevoked: 3, time: now() };
    await cluster.writeRevocationStatus(ns, 'coder-inc42', {
      phase: 'InProgress',
      startTime: now(),
      requestedBy: { username: me },
      targets: [{ agentClient: 'coder', clientId: 'cid-coder', results: [first] }],
    });
    // Progress is live: the first result shows while the plugin is still waiting.
    await eventually(async () => (run.stderr().includes('✓ coder RevokeGrants (revokeSubjectGrants): Succeeded, 2 grants, 3 tokens') ? true : undefined));

    await cluster.writeRevocationStatus(ns, 'coder-inc42', {
      phase: 'Completed',
      completionTime: now(),
      conditions: [condition('Complete', 'True', 'Completed'), condition('Ready', 'True', 'Completed')],
      targets: [
        {
          agentClient: 'coder',
          clientId: 'cid-coder',
          results: [first, { action: 'Suspend', call: 'setDisabled', outcome: 'Succeeded', time: now() }],
        },
      ],
    });
    const result = await run.result;
    expect(result.code).toBe(0);
    expect(result.stderr).toContain('grantrevocation ' + ns + '/coder-inc42 created');
    expect(result.stderr).toContain('InProgress');
    expect(result.stderr).toContain('✓ coder Suspend (setDisabled): Succeeded');
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^AGENT\s+CLIENT-ID\s+ACTION\s+CALL\s+OUTCOME\s+GRANTS\s+TOKENS\s+MESSAGE$/);
    expect(lines[1]).toMatch(/^coder\s+cid-coder\s+RevokeGrants\s+revokeSubjectGrants\s+Succeeded\s+2\s+3$/);
    expect(lines[2]).toMatch(/^coder\s+cid-coder\s+Suspend\s+setDisabled\s+Succeeded\s+-\s+-$/);
    expect(lines.at(-1)).toMatch(new RegExp(`^grantrevocation ${ns}/coder-inc42 Completed in \\d+s, requested by ${me}$`));
    expect(result.stdout).not.toContain('\u001b[');
  });

  it('is safe to re-run: the same --name and flags wait on the existing one (simulated: already Completed)', async () => {
    const again = await runPlugin(kubeconfig, [
      'revoke', 'coder', '-n', ns, '--reason', 'leaked key', '--suspend', '--subject', 'alice',
      '--scope', 'repo:write', '--incident', 'INC-42', '--name', 'coder-inc42',
    ]);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('already exists with this spec');
    expect((await cluster.listRevocations(ns)).filter((r) => r.metadata.name === 'coder-inc42')).toHaveLength(1);

    const different = await runPlugin(kubeconfig, ['revoke', 'coder', '-n', ns, '--reason', 'another reason', '--name', 'coder-inc42']);
    expect(different.code).toBe(2);
    expect(different.stderr).toContain('already exists with a different spec');
  });

  it('exits 1 when the simulated controller reports Failed, and prints the result as JSON with -o json', async () => {
    const run = startPlugin(kubeconfig, ['revoke', 'coder', '-n', ns, '--reason', 'drill', '--name', 'coder-fails', '-o', 'json']);
    await eventually(() => cluster.getRevocation(ns, 'coder-fails'));
    await cluster.writeRevocationStatus(ns, 'coder-fails', {
      phase: 'Failed',
      startTime: now(),
      completionTime: now(),
      conditions: [condition('Complete', 'True', 'Completed'), condition('Ready', 'False', 'ActionFailed', 'RevokeGrants failed at the IdP')],
      targets: [{ agentClient: 'coder', results: [{ action: 'RevokeGrants', call: 'revokeClientGrants', outcome: 'Failed', message: 'IdP returned 503', time: now() }] }],
    });
    const result = await run.result;
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('✗ coder RevokeGrants (revokeClientGrants): Failed, IdP returned 503');
    const printed = JSON.parse(result.stdout) as { metadata: { name: string }; status: { phase: string } };
    expect(printed.metadata.name).toBe('coder-fails');
    expect(printed.status.phase).toBe('Failed');
  });

  it('exits 3 on --timeout while nothing completes it, leaving the GrantRevocation in place', async () => {
    const started = Date.now();
    const result = await runPlugin(kubeconfig, ['revoke', 'coder', '-n', ns, '--reason', 'slow', '--name', 'coder-slow', '--timeout', '2s']);
    expect(result.code).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(2000);
    expect(result.stderr).toContain(`timed out after 2s waiting for grantrevocation ${ns}/coder-slow (phase Pending)`);
    expect(await cluster.getRevocation(ns, 'coder-slow')).toBeDefined();
  });

  it('names it <agent>-<yyyymmddhhmmss> by default and returns at once with --no-wait', async () => {
    const result = await runPlugin(kubeconfig, ['revoke', 'coder', '-n', ns, '--reason', 'default name', '--no-wait']);
    expect(result.code).toBe(0);
    const match = /grantrevocation \S+\/(coder-\d{14}) created/.exec(result.stdout);
    expect(match).not.toBeNull();
    const made = await cluster.getRevocation(ns, match![1]!);
    expect(made?.spec.actions).toEqual(['RevokeGrants']);
  });

  it('exits 2 on bad usage and creates nothing', async () => {
    const before = (await cluster.listRevocations(ns)).length;
    const noReason = await runPlugin(kubeconfig, ['revoke', 'coder', '-n', ns]);
    expect(noReason.code).toBe(2);
    expect(noReason.stderr).toContain('--reason is required');
    const badAction = await runPlugin(kubeconfig, ['revoke', 'coder', '-n', ns, '--reason', 'x', '--action', 'Nuke']);
    expect(badAction.code).toBe(2);
    const unknownFlag = await runPlugin(kubeconfig, ['revoke', 'coder', '-n', ns, '--reason', 'x', '--force']);
    expect(unknownFlag.code).toBe(2);
    // Rejected by the CRD's CEL rule (subject narrows RevokeGrants only): the server's message is shown.
    const rejected = await runPlugin(kubeconfig, ['revoke', 'coder', '-n', ns, '--reason', 'x', '--action', 'Suspend', '--subject', 'bob']);
    expect(rejected.code).toBe(2);
    expect(rejected.stderr).toContain('actions must include RevokeGrants');
    expect((await cluster.listRevocations(ns)).length).toBe(before);
  });

  it('exits 4 for an unknown agent', async () => {
    const result = await runPlugin(kubeconfig, ['revoke', 'nobody', '-n', ns, '--reason', 'x']);
    expect(result.code).toBe(4);
    expect(result.stderr).toContain(`agentclient ${ns}/nobody not found`);
  });
});
