/**
 * The Helm chart and the kustomize base, checked the way a broken chart would hurt: helm lint,
 * rendering with default and HA values, the values schema, and a server-side dry run of every
 * rendered object against the real kube-apiserver (CRD schemas, RBAC objects, Pod Security
 * "restricted" admission, admission policies). The RBAC rules are proven sufficient separately
 * (operator-rbac.test.ts runs the operator as the chart's ServiceAccount).
 */
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { beforeAll, describe, expect, it, inject } from 'vitest';
import { resolveAssets, runKubectl } from '../../../src/envtest/index.ts';
import { CHART, ROOT, canonicalRules, find, parseManifests, renderChart, runHelm } from './tools.ts';
import type { Manifest, RunResult } from './tools.ts';

const suffix = randomBytes(3).toString('hex');
let kubectl: (args: string[], input?: string) => Promise<RunResult>;

beforeAll(async () => {
  const assets = await resolveAssets();
  const kubeconfigPath = inject('kubeconfigPath');
  kubectl = (args, input) => runKubectl(assets.kubectl, kubeconfigPath, args, { allowFailure: true, ...(input === undefined ? {} : { input }) });
  await runHelm(['version']); // builds helm once when neither $HELM nor the cache has it
}, 600_000);

/** A namespace enforcing Pod Security "restricted", so the dry run rejects a non-compliant pod. */
async function restrictedNamespace(name: string): Promise<void> {
  const created = await kubectl(['create', 'namespace', name]);
  if (created.code !== 0 && !created.stderr.includes('AlreadyExists')) throw new Error(created.stderr);
  await kubectl(['label', '--overwrite', 'namespace', name, 'pod-security.kubernetes.io/enforce=restricted', 'pod-security.kubernetes.io/warn=restricted']);
}

/** Server-side dry run: the API server validates and admits every object, persisting nothing. */
async function dryRun(manifests: string): Promise<RunResult> {
  const result = await kubectl(['apply', '--server-side', '--force-conflicts', '--field-manager=chart-test', '--dry-run=server', '-f', '-'], manifests);
  expect(result.stderr, 'kubectl apply --dry-run=server').not.toMatch(/error|invalid|forbidden/i);
  expect(result.stderr, 'Pod Security "restricted"').not.toContain('would violate PodSecurity');
  expect(result.code).toBe(0);
  return result;
}

function deploymentOf(manifests: Manifest[]) {
  type Container = { args: string[]; securityContext: Record<string, unknown>; resources: Record<string, unknown>; livenessProbe: unknown; readinessProbe: unknown };
  const deployment = find(manifests, 'Deployment') as Manifest & {
    spec: { replicas: number; template: { spec: { securityContext: Record<string, unknown>; serviceAccountName: string; containers: Container[] } } };
  };
  const pod = deployment.spec.template.spec;
  return { deployment, pod, container: pod.containers[0]! };
}

describe('helm chart', () => {
  it('passes helm lint --strict with default and HA values', async () => {
    for (const sets of [[], ['--set', 'replicaCount=2', '--set', 'metrics.serviceMonitor.enabled=true']]) {
      const result = await runHelm(['lint', '--strict', CHART, ...sets]);
      expect(result.stdout + result.stderr).toContain('0 chart(s) failed');
      expect(result.code).toBe(0);
    }
  });

  it('renders with default values into objects the API server accepts (server-side dry run)', async () => {
    const namespace = `chart-default-${suffix}`;
    await restrictedNamespace(namespace);
    const text = await renderChart('aio', namespace, [], ['--include-crds']);
    const manifests = parseManifests(text);
    expect(manifests.map((m) => m.kind).sort()).toEqual([
      'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition', 'CustomResourceDefinition', 'CustomResourceDefinition',
      'CustomResourceDefinition', 'Deployment', 'Role', 'RoleBinding', 'Service', 'ServiceAccount',
      'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding',
    ]);
    const { deployment, pod, container } = deploymentOf(manifests);
    expect(deployment.spec.replicas).toBe(1);
    expect(container.args).toContain('--leader-elect');
    expect(container.args).toContain('--namespace=$(POD_NAMESPACE)');
    expect(pod.serviceAccountName).toBe(find(manifests, 'ServiceAccount').metadata.name);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
    expect(container.securityContext).toMatchObject({
      allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: { drop: ['ALL'] },
    });
    const resources = container.resources as { requests?: Record<string, string>; limits?: Record<string, string> };
    expect(Object.keys(resources.requests ?? {}).sort()).toEqual(['cpu', 'memory']);
    expect(resources.limits?.['memory']).toMatch(/^\d+Mi$/);
    expect(container.livenessProbe).toMatchObject({ httpGet: { path: '/healthz', port: 'health' } });
    expect(container.readinessProbe).toMatchObject({ httpGet: { path: '/readyz', port: 'health' } });
    // helm template knows no cluster API versions, so `mutating: auto` leaves the beta policy out.
    expect(text).not.toContain('MutatingAdmissionPolicy');
    const result = await dryRun(text);
    expect(result.stdout).toContain(`deployment.apps/aio-agent-identity-operator serverside-applied (server dry run)`);
    // Nothing was persisted.
    const get = await kubectl(['get', 'deployment', '-n', namespace, '-o', 'name']);
    expect(get.stdout.trim()).toBe('');
  });

  it('renders 2 replicas (ServiceMonitor off) with leader election and a PodDisruptionBudget', async () => {
    const namespace = `chart-ha-${suffix}`;
    await restrictedNamespace(namespace);
    const text = await renderChart('agent-identity-operator', namespace, ['replicaCount=2', 'metrics.serviceMonitor.enabled=false']);
    const manifests = parseManifests(text);
    const { deployment, container } = deploymentOf(manifests);
    expect(deployment.metadata.name).toBe('agent-identity-operator');
    expect(deployment.spec.replicas).toBe(2);
    expect(container.args).toContain('--leader-elect');
    expect(find(manifests, 'PodDisruptionBudget')).toMatchObject({ spec: { minAvailable: 1 } });
    expect(manifests.some((m) => m.kind === 'ServiceMonitor')).toBe(false);
    await dryRun(text);
  });

  it('passes the drift-read period and an IdentityProvider selector (quoted: selectors hold spaces and commas) to the operator', async () => {
    const defaults = deploymentOf(parseManifests(await renderChart('aio', 'x', []))).container;
    expect(defaults.args).toContain('--registration-resync-period=10m');
    expect(defaults.args.some((a: string) => a.startsWith('--identity-provider-selector'))).toBe(false);
    const sharded = deploymentOf(
      parseManifests(await renderChart('aio', 'x', ['operator.registrationResyncPeriod=0', 'operator.identityProviderSelector=shard in (a\\,b)'])),
    ).container;
    expect(sharded.args).toContain('--registration-resync-period=0');
    expect(sharded.args).toContain('--identity-provider-selector=shard in (a,b)');
    const refused = await runHelm(['template', 'aio', CHART, '--set', 'operator.registrationResyncPeriod=often']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/registrationResyncPeriod/);
  });

  it('renders an optional ServiceMonitor selecting the metrics Service', async () => {
    const manifests = parseManifests(await renderChart('aio', 'monitoring-test', ['metrics.serviceMonitor.enabled=true', 'metrics.serviceMonitor.labels.release=prom']));
    const monitor = find(manifests, 'ServiceMonitor') as Manifest & { spec: { selector: { matchLabels: Record<string, string> }; endpoints: { port: string }[] } };
    const service = find(manifests, 'Service') as Manifest & { spec: { ports: { name: string }[] } };
    expect(monitor.apiVersion).toBe('monitoring.coreos.com/v1');
    expect(monitor.metadata.labels).toMatchObject({ release: 'prom' });
    for (const [key, value] of Object.entries(monitor.spec.selector.matchLabels)) expect(service.metadata.labels?.[key]).toBe(value);
    expect(service.spec.ports.map((p) => p.name)).toContain(monitor.spec.endpoints[0]?.port);
  });

  it('renders the mutating admission policy only when the cluster serves it (auto), or when forced', async () => {
    const kinds = async (sets: string[], extra: string[] = []) => parseManifests(await renderChart('aio', 'x', sets, extra)).map((m) => m.kind);
    const served = ['--api-versions', 'admissionregistration.k8s.io/v1beta1/MutatingAdmissionPolicy'];
    expect(await kinds([], served)).toContain('MutatingAdmissionPolicy');
    expect(await kinds(['admissionPolicies.mutating=false'], served)).not.toContain('MutatingAdmissionPolicy');
    expect(await kinds(['admissionPolicies.mutating=true'])).toEqual(expect.arrayContaining(['MutatingAdmissionPolicy', 'MutatingAdmissionPolicyBinding']));
    const none = await kinds(['admissionPolicies.enabled=false'], served);
    expect(none.filter((k) => k.includes('AdmissionPolicy'))).toEqual([]);
  });

  it('rejects bad values through values.schema.json', async () => {
    const cases: [string[], RegExp][] = [
      [['replicaCount=two'], /replicaCount/],
      [['replicas=2'], /additional properties 'replicas' not allowed|replicas/],
      [['image.pullPolicy=Sometimes'], /pullPolicy/],
      [['operator.logLevel=verbose'], /logLevel/],
      [['operator.shutdownTimeout=20'], /shutdownTimeout/],
      [['metrics.serviceMonitor.enable=true'], /enable/],
      [['replicaCount=2', 'leaderElection.enabled=false'], /leaderElection|enabled/],
    ];
    for (const [sets, message] of cases) {
      const result = await runHelm(['template', 'aio', CHART, ...sets.flatMap((s) => ['--set', s])]);
      expect(result.code, `--set ${sets.join(' ')}`).not.toBe(0);
      expect(result.stderr).toMatch(/values don't meet the specifications of the schema|schema/);
      expect(result.stderr).toMatch(message);
    }
  });

  it('ships the admission policies of config/admission/ verbatim', async () => {
    for (const file of ['validating-policy.yaml', 'mutating-policy.yaml']) {
      const source = await readFile(path.join(ROOT, 'config', 'admission', file), 'utf8');
      const copy = await readFile(path.join(CHART, 'files', 'admission', file), 'utf8');
      expect(copy, `charts/agent-identity-operator/files/admission/${file} differs from config/admission/${file}: copy it`).toBe(source);
    }
  });
});

describe('kustomize config/default', () => {
  it('renders with kubectl kustomize and dry-runs cleanly on the API server', async () => {
    const rendered = await kubectl(['kustomize', path.join(ROOT, 'config', 'default')]);
    expect(rendered.code).toBe(0);
    const manifests = parseManifests(rendered.stdout);
    expect(new Set(manifests.map((m) => m.kind))).toEqual(new Set([
      'Namespace', 'CustomResourceDefinition', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding',
      'Service', 'Deployment', 'ValidatingAdmissionPolicy', 'ValidatingAdmissionPolicyBinding',
    ]));
    for (const m of manifests) {
      const clusterScoped = ['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding'].includes(m.kind) || m.kind.endsWith('AdmissionPolicy') || m.kind.endsWith('AdmissionPolicyBinding');
      expect(m.metadata.namespace, `${m.kind}/${m.metadata.name}`).toBe(clusterScoped ? undefined : 'agent-identity-system');
    }
    // A dry run cannot create objects inside a namespace it only pretends to create.
    await restrictedNamespace('agent-identity-system');
    await dryRun(rendered.stdout);
  });

  it('grants exactly the chart’s RBAC rules, and runs the same container', async () => {
    const rendered = parseManifests((await kubectl(['kustomize', path.join(ROOT, 'config', 'default')])).stdout);
    const chart = parseManifests(await renderChart('agent-identity-operator', 'agent-identity-system'));
    for (const kind of ['ClusterRole', 'Role']) {
      expect(canonicalRules(find(rendered, kind)['rules']), kind).toEqual(canonicalRules(find(chart, kind)['rules']));
    }
    const a = deploymentOf(rendered).container;
    const b = deploymentOf(chart).container;
    expect(a.args).toEqual(b.args.filter((arg) => !/^--(concurrency|idp-rediscovery-period|registration-resync-period|shutdown-timeout)=/.test(arg)));
    expect(a.securityContext).toEqual(b.securityContext);
    expect(a.resources).toEqual(b.resources);
    expect(deploymentOf(rendered).pod.securityContext).toEqual(deploymentOf(chart).pod.securityContext);
  });
});

it('keeps the chart version and appVersion in step with package.json', async () => {
  const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
  const chartYaml = parseManifests(await readFile(path.join(CHART, 'Chart.yaml'), 'utf8'))[0] as unknown as { version: string; appVersion: string };
  expect(chartYaml.appVersion).toBe(pkg.version);
  expect(chartYaml.version).toBe(pkg.version);
});
