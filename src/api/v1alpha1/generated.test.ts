import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { findStale, writeAll } from '../../../hack/generate.ts';
import { loadCrds, sharedFragments } from '../../../hack/generate/crds.ts';
import type { Schema } from '../../../hack/generate/crds.ts';
import { DEFAULTS, RESOURCES, agentClientSecretName, registrationSecretName } from './index.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const scratch: string[] = [];
afterAll(async () => {
  await Promise.all(scratch.map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A throwaway checkout holding only the CRDs, generated into. */
async function scratchRoot(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'aio-generate-'));
  scratch.push(dir);
  await cp(path.join(root, 'crds'), path.join(dir, 'crds'), { recursive: true });
  await writeAll(dir);
  return dir;
}

describe('generated files', () => {
  it('are up to date with crds/ (run `node hack/generate.ts` when this fails)', async () => {
    expect(await findStale(root)).toEqual([]);
  });

  it('are reported when stale, missing or left over', async () => {
    const dir = await scratchRoot();
    expect(await findStale(dir)).toEqual([]);
    const crd = path.join(dir, 'crds/agentidentity.dev_agentclients.yaml');
    await writeFile(crd, (await readFile(crd, 'utf8')).replace('maxLength: 200', 'maxLength: 201'));
    await rm(path.join(dir, 'config/crd/kustomization.yaml'));
    await writeFile(path.join(dir, 'src/api/v1alpha1/generated/oldkind.ts'), 'export {};\n');
    expect(await findStale(dir)).toEqual(
      expect.arrayContaining([
        { path: 'charts/agent-identity-operator/crds/agentidentity.dev_agentclients.yaml', problem: 'stale' },
        { path: 'config/crd/bases/agentidentity.dev_agentclients.yaml', problem: 'stale' },
        { path: 'config/crd/kustomization.yaml', problem: 'missing' },
        { path: 'src/api/v1alpha1/generated/oldkind.ts', problem: 'leftover' },
      ]),
    );
  });

  it('refuse to generate when hand-maintained LabelSelector copies drift apart', async () => {
    const dir = await scratchRoot();
    const crd = path.join(dir, 'crds/agentidentity.dev_grantrevocations.yaml');
    await writeFile(crd, (await readFile(crd, 'utf8')).replace('maxItems: 32', 'maxItems: 33'));
    expect(() => sharedFragments([])).toThrow(/no LabelSelector/);
    await expect(findStale(dir)).rejects.toThrow(/LabelSelector schema at GrantRevocation.spec.target.selector differs/);
  });
});

describe('API constants', () => {
  it('name every CRD in crds/', async () => {
    const crds = await loadCrds(root);
    expect(crds.map((c) => c.plural).sort()).toEqual(RESOURCES.map((r) => r.plural).sort());
    for (const crd of crds) {
      expect(crd.group).toBe('agentidentity.dev');
      expect(crd.version).toBe('v1alpha1');
    }
  });

  it('mirror the CRD defaults', async () => {
    const crds = new Map((await loadCrds(root)).map((c) => [c.kind, c.schema]));
    const at = (kind: string, ...fields: string[]): unknown => {
      let schema = crds.get(kind) as Schema;
      for (const field of ['spec', ...fields]) schema = (schema['properties'] as Record<string, Schema>)[field] as Schema;
      return schema['default'];
    };
    expect(at('IdentityProvider', 'requestTimeoutSeconds')).toBe(DEFAULTS.identityProvider.requestTimeoutSeconds);
    expect(at('IdentityProvider', 'registration', 'initialAccessTokenSecretRef', 'key')).toBe(DEFAULTS.identityProvider.secretKey);
    expect(at('IdentityProvider', 'admin', 'tokenSecretRef', 'key')).toBe(DEFAULTS.identityProvider.secretKey);
    expect(at('IdentityProvider', 'tls', 'caSecretRef', 'key')).toBe(DEFAULTS.identityProvider.caSecretKey);
    const agc = DEFAULTS.agentClient;
    expect(at('AgentClient', 'grantTypes')).toEqual(agc.grantTypes);
    expect(at('AgentClient', 'tokenEndpointAuthMethod')).toBe(agc.tokenEndpointAuthMethod);
    expect(at('AgentClient', 'credentials', 'keyAlgorithm')).toBe(agc.keyAlgorithm);
    expect(at('AgentClient', 'credentials', 'overlap')).toBe(agc.overlap);
    expect(at('AgentClient', 'deletionPolicy')).toBe(agc.deletionPolicy);
    const cp = DEFAULTS.consentPolicy;
    expect(at('ConsentPolicy', 'consent', 'deltaConsent')).toBe(cp.deltaConsent);
    expect(at('ConsentPolicy', 'consent', 'fullReconsentOn')).toEqual(cp.fullReconsentOn);
    expect(at('ConsentPolicy', 'standing', 'accessTokenTTL')).toBe(cp.standingAccessTokenTTL);
    expect(at('ConsentPolicy', 'standing', 'refreshTokenTTL')).toBe(cp.standingRefreshTokenTTL);
    expect(at('ConsentPolicy', 'taskScoped', 'accessTokenTTL')).toBe(cp.taskScopedAccessTokenTTL);
    expect(at('ConsentPolicy', 'taskScoped', 'singleUseRefresh')).toBe(cp.singleUseRefresh);
    expect(at('ConsentPolicy', 'taskScoped', 'sessionBinding')).toBe(cp.sessionBinding);
  });
});

describe('secret names', () => {
  const base = { clientName: 'x', identityProviderRef: { name: 'idp' }, scopes: ['a'], agentMetadata: { owner: 'o' } };

  it('default the agent Secret to <name>-oauth and honour credentials.secretName', () => {
    expect(agentClientSecretName({ metadata: { name: 'coding-agent' }, spec: base })).toBe('coding-agent-oauth');
    expect(agentClientSecretName({ metadata: { name: 'a' }, spec: { ...base, credentials: { secretName: 'mine' } } })).toBe('mine');
    expect(() => agentClientSecretName({ metadata: {}, spec: base })).toThrow(/metadata.name/);
  });

  it('name the operator-owned registration Secret after the uid', () => {
    expect(registrationSecretName({ metadata: { uid: '1234-abcd' } })).toBe('agc-1234-abcd');
    expect(() => registrationSecretName({ metadata: {} })).toThrow(/metadata.uid/);
  });
});
