/**
 * Helpers for the packaging tests: a pinned helm (hack/tools/helm.sh, or $HELM), chart rendering,
 * and multi-document YAML as plain objects.
 */
import { execFile, spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const CHART = path.join(ROOT, 'charts', 'agent-identity-operator');
/** The Kubernetes version the envtest binaries are built at; `helm template` renders for it. */
export const KUBE_VERSION = '1.34.4';

const exec = promisify(execFile);

/** A Kubernetes object as rendered (loosely typed; tests assert on fields). */
export interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number | null;
}

let helmPath: Promise<string> | undefined;

/** The helm binary: $HELM, else built once into the tools cache (first time: minutes). */
export function helm(): Promise<string> {
  helmPath ??= exec('bash', [path.join(ROOT, 'hack', 'tools', 'helm.sh')], { cwd: ROOT, maxBuffer: 1 << 20 }).then(({ stdout }) => stdout.trim());
  return helmPath;
}

/** Runs a command, resolving its output whatever the exit code. */
export function run(command: string, args: string[], input?: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, KUBECONFIG: undefined } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', reject);
    child.once('close', (code) => resolve({ stdout, stderr, code }));
    child.stdin.end(input ?? '');
  });
}

export async function runHelm(args: string[]): Promise<RunResult> {
  return run(await helm(), args);
}

/** `helm template` of the chart; rejects (with helm's message) when rendering fails. */
export async function renderChart(release: string, namespace: string, sets: string[] = [], extra: string[] = []): Promise<string> {
  const args = ['template', release, CHART, '--namespace', namespace, '--kube-version', KUBE_VERSION, ...sets.flatMap((s) => ['--set', s]), ...extra];
  const result = await runHelm(args);
  if (result.code !== 0) throw new Error(`helm ${args.join(' ')} failed: ${result.stderr.trim()}`);
  return result.stdout;
}

/** Every non-empty document of a multi-document YAML stream. */
export function parseManifests(text: string): Manifest[] {
  return parseAllDocuments(text)
    .map((doc) => {
      if (doc.errors.length > 0) throw new Error(`invalid YAML: ${doc.errors[0]?.message ?? ''}`);
      return doc.toJS() as Manifest | null;
    })
    .filter((m): m is Manifest => m !== null && typeof m === 'object');
}

export function find(manifests: Manifest[], kind: string, name?: string): Manifest {
  const found = manifests.find((m) => m.kind === kind && (name === undefined || m.metadata.name === name));
  if (!found) throw new Error(`no ${kind}${name ? ` ${name}` : ''} rendered (have: ${manifests.map((m) => `${m.kind}/${m.metadata.name}`).join(', ')})`);
  return found;
}

export function toYamlStream(manifests: Manifest[]): string {
  return manifests.map((m) => JSON.stringify(m)).join('\n---\n');
}

/** RBAC rules in a canonical form (sorted lists, sorted rules) so two sources compare equal. */
export function canonicalRules(rules: unknown): string[] {
  const list = (rules ?? []) as Record<string, string[] | undefined>[];
  return list
    .map((rule) =>
      JSON.stringify(
        ['apiGroups', 'resources', 'resourceNames', 'verbs', 'nonResourceURLs'].map((k) => [k, [...(rule[k] ?? [])].sort()]),
      ),
    )
    .sort();
}
