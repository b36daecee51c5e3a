/**
 * The CRDs against a real kube-apiserver: the samples apply cleanly, `kubectl explain` documents
 * the fields, and bad input is rejected at `kubectl apply` with the message a user needs.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseAllDocuments, stringify } from 'yaml';
import { resolveAssets, runKubectl } from '../../src/envtest/index.ts';
import type { KubectlOptions, KubectlResult } from '../../src/envtest/index.ts';
import type { AgentClient, ConsentPolicy, GrantRevocation, IdentityProvider } from '../../src/api/v1alpha1/index.ts';
import { loadCrds } from '../../hack/generate/crds.ts';
import { BAD_INPUTS, GOOD_EDGES } from './crds.cases.ts';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const suffix = randomBytes(3).toString('hex');
const namespace = `crds-${suffix}`;
/** Cluster-scoped objects this file created, deleted afterwards (the control plane is shared). */
const clusterScoped: string[] = [];

let kubectlPath = 'kubectl';
function kubectl(args: string[], options: KubectlOptions = {}): Promise<KubectlResult> {
  return runKubectl(kubectlPath, inject('kubeconfigPath'), args, options);
}

type Obj = Record<string, unknown> & { kind?: string; metadata?: Record<string, unknown> };

async function apply(objects: Obj[], allowFailure = false): Promise<KubectlResult> {
  for (const o of objects) {
    if (o.kind === 'IdentityProvider' || o.kind === 'ConsentPolicy') clusterScoped.push(`${o.kind.toLowerCase()}/${String(o.metadata?.['name'])}`);
  }
  const input = objects.map((o) => stringify(o)).join('---\n');
  return kubectl(['apply', '-f', '-'], { input, allowFailure });
}

async function getJson<T>(resource: string, name: string, ns?: string): Promise<T> {
  const args = ['get', resource, name, '-o', 'json', ...(ns ? ['-n', ns] : [])];
  return JSON.parse((await kubectl(args)).stdout) as T;
}

/** The sample objects, moved into this file's namespace and given unique cluster-scoped names. */
function isolate(docs: Obj[]): Obj[] {
  const rename = (name: unknown): string => `${String(name)}-${suffix}`;
  return docs.map((doc) => {
    const o = structuredClone(doc) as Obj & { spec?: Record<string, unknown> };
    const meta = (o.metadata ??= {});
    if (o.kind === 'Namespace') {
      meta['name'] = namespace;
      meta['labels'] = { ...(meta['labels'] as object), 'agentidentity.dev/tenant': namespace };
    } else if (o.kind === 'IdentityProvider' || o.kind === 'ConsentPolicy') {
      meta['name'] = rename(meta['name']);
    } else {
      meta['namespace'] = namespace;
    }
    const spec = o.spec ?? {};
    const selector = spec['namespaceSelector'] as { matchLabels?: Record<string, string> } | undefined;
    if (selector?.matchLabels?.['agentidentity.dev/tenant']) selector.matchLabels['agentidentity.dev/tenant'] = namespace;
    const idpRef = spec['identityProviderRef'] as { name: string } | undefined;
    if (idpRef) idpRef.name = rename(idpRef.name);
    return o;
  });
}

async function readSamples(dirArgs: string[]): Promise<Obj[]> {
  const { stdout } = await kubectl(dirArgs);
  return parseAllDocuments(stdout).map((d) => d.toJS() as Obj).filter(Boolean);
}

beforeAll(async () => {
  kubectlPath = (await resolveAssets()).kubectl;
});

afterAll(async () => {
  const deletions = [kubectl(['delete', 'namespace', namespace, '--wait=false', '--ignore-not-found'], { allowFailure: true })];
  for (const ref of clusterScoped) deletions.push(kubectl(['delete', ref, '--wait=false', '--ignore-not-found'], { allowFailure: true }));
  await Promise.all(deletions);
});

describe('installed CRDs', () => {
  it('carry every schema rule of crds/ (CEL, defaults, enums survive the install)', async () => {
    for (const crd of await loadCrds(repoRoot)) {
      const installed = await getJson<{ spec: { versions: { schema: { openAPIV3Schema: unknown } }[] } }>('crd', `${crd.plural}.${crd.group}`);
      expect(installed.spec.versions[0]?.schema.openAPIV3Schema, crd.file).toEqual(crd.schema);
    }
  });
});

describe('samples', () => {
  it('apply cleanly, with the schema defaults filled in', async () => {
    const samples = isolate(await readSamples(['kustomize', path.join(repoRoot, 'config/samples')]));
    expect(samples.map((s) => s.kind).sort()).toEqual(['AgentClient', 'AgentClient', 'ConsentPolicy', 'IdentityProvider', 'Namespace']);
    const result = await apply(samples);
    expect(result.stderr).toBe('');

    const reporting = await getJson<AgentClient>('agentclient', 'reporting-agent', namespace);
    expect(reporting.spec.scopes).toEqual(['reports:read']);
    expect(reporting.spec.tokenEndpointAuthMethod).toBe('private_key_jwt');
    expect(reporting.spec.credentials).toMatchObject({ keyAlgorithm: 'ES256', rotationPeriod: '720h', overlap: '1h' });
    const coding = await getJson<AgentClient>('agentclient', 'coding-agent', namespace);
    expect(coding.spec.grantTypes).toEqual(['authorization_code', 'refresh_token']);
    expect(coding.spec.scopes).toEqual(['code:read', 'code:write']);
    expect(coding.spec.agentMetadata).toMatchObject({ agentType: 'coding', capabilityVersion: '1.0.0' });

    const idp = await getJson<IdentityProvider>('identityprovider', `embedded-${suffix}`);
    expect(idp.spec.registration?.initialAccessTokenSecretRef).toEqual({ name: 'embedded-idp-initial-access-token', key: 'token' });
    const policy = await getJson<ConsentPolicy>('consentpolicy', `tenant-agents-${suffix}`);
    expect(policy.spec.taskScoped).toEqual({ scopes: ['deployments:trigger'], accessTokenTTL: '5m', singleUseRefresh: true, sessionBinding: true });
  });

  it('include an incident GrantRevocation that applies, keeps its status and metadata mutable', async () => {
    const [revocation, ...rest] = isolate(await readSamples(['kustomize', path.join(repoRoot, 'config/samples/incident')]));
    expect(rest).toEqual([]);
    expect(revocation?.kind).toBe('GrantRevocation');
    await apply([revocation as Obj]);
    const name = String(revocation?.metadata?.['name']);
    const status = { status: { phase: 'Completed', startTime: '2026-01-01T00:00:00Z' } };
    await kubectl(['patch', 'grantrevocation', name, '-n', namespace, '--subresource=status', '--type=merge', '-p', JSON.stringify(status)]);
    await kubectl(['label', 'grantrevocation', name, '-n', namespace, 'incident=inc-1042']);
    const stored = await getJson<GrantRevocation>('grantrevocation', name, namespace);
    expect(stored.status?.phase).toBe('Completed');
    expect(stored.spec.actions).toEqual(['RevokeGrants', 'Suspend']);
    const table = await kubectl(['get', 'grev', name, '-n', namespace]);
    expect(table.stdout).toMatch(/PHASE\s+TARGET\s+ACTIONS\s+AGE/);
    expect(table.stdout).toContain('Completed');
  });

  it('are listed by the agentidentity category and short names', async () => {
    const { stdout } = await kubectl(['get', 'agentidentity', '-n', namespace, '-o', 'name']);
    expect(stdout).toContain('agentclient.agentidentity.dev/coding-agent');
    const agents = await kubectl(['get', 'agc', '-n', namespace]);
    expect(agents.stdout).toMatch(/NAME\s+CLIENTID\s+READY\s+POLICY\s+AGE/);
  });
});

describe('kubectl explain', () => {
  it.each([
    ['agentclients.spec.scopes', 'RFC 6749 section 3.3 scope-token'],
    ['agc.spec.credentials.rotationPeriod', 'at least 1h'],
    ['grantrevocations.spec.target', 'exactly one'],
    ['consentpolicies.spec.consent.fullReconsentOn', 'forces full re-consent'],
    ['identityproviders.spec.issuer', 'RFC 8414 section 2'],
  ])('documents %s', async (field, text) => {
    // The OpenAPI document is published shortly after a CRD is Established: retry briefly.
    let last: KubectlResult | undefined;
    for (let attempt = 0; attempt < 30; attempt++) {
      last = await kubectl(['explain', field], { allowFailure: true });
      if (last.code === 0) break;
      await new Promise((r) => setTimeout(r, 500));
    }
    expect(last?.stderr).toBe('');
    expect(last?.stdout.replace(/\s+/g, ' ')).toContain(text);
  });
});

describe.concurrent(`rejected at kubectl apply (${BAD_INPUTS.length} bad inputs)`, () => {
  beforeAll(async () => {
    await kubectl(['create', 'namespace', namespace], { allowFailure: true });
  });

  BAD_INPUTS.forEach((bad, index) => {
    it(bad.name, async () => {
      const ctx = { namespace, name: `bad-${index}-${suffix}` };
      if (bad.before) await apply([bad.before(ctx)]);
      const result = await apply([bad.manifest(ctx)], true);
      expect(result.code, `accepted: ${result.stdout}`).not.toBe(0);
      for (const text of bad.expect) expect(result.stderr).toContain(text);
    });
  });
});

describe.concurrent('accepted edge cases', () => {
  beforeAll(async () => {
    await kubectl(['create', 'namespace', namespace], { allowFailure: true });
  });

  GOOD_EDGES.forEach((good, index) => {
    it(good.name, async () => {
      const result = await apply([good.manifest({ namespace, name: `good-${index}-${suffix}` })], true);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
    });
  });
});
