import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { ApiextensionsV1Api, loadYaml, type KubeConfig, type V1CustomResourceDefinition } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { isNotFound } from './kubeconfig.ts';

/** Read every CustomResourceDefinition from the YAML files (multi-document allowed) in `dir`. */
export async function readCrds(dir: string): Promise<V1CustomResourceDefinition[]> {
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).sort();
  } catch (error) {
    if (error && typeof error === 'object' && 'code' in error && error.code === 'ENOENT') return [];
    throw error;
  }
  const crds: V1CustomResourceDefinition[] = [];
  for (const file of files) {
    for (const doc of parseAllDocuments(await readFile(path.join(dir, file), 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${file}: ${doc.errors[0]?.message ?? 'invalid YAML'}`);
      const object = doc.toJS() as { kind?: string } | null;
      // The typed client serializes by model property names (x_kubernetes_validations, _default,
      // _enum): a plain object keyed by wire names would silently lose CEL rules, defaults and
      // enums. Deserialize into the model first.
      if (object?.kind === 'CustomResourceDefinition') crds.push(loadYaml<V1CustomResourceDefinition>(JSON.stringify(object)));
    }
  }
  return crds;
}

/**
 * Create or update every CRD found in `dir` and wait until each is Established (its REST endpoint
 * serves), so callers can create custom resources right away. Returns the CRD names applied; an
 * empty or missing folder applies nothing.
 */
export async function applyCrds(kubeConfig: KubeConfig, dir = 'crds', timeoutMs = 60_000): Promise<string[]> {
  const api = kubeConfig.makeApiClient(ApiextensionsV1Api);
  const crds = await readCrds(dir);
  for (const crd of crds) {
    const name = crd.metadata?.name;
    if (!name) throw new Error('CustomResourceDefinition without metadata.name');
    try {
      const existing = await api.readCustomResourceDefinition({ name });
      const body = { ...crd, metadata: { ...crd.metadata, resourceVersion: existing.metadata?.resourceVersion } };
      await api.replaceCustomResourceDefinition({ name, body });
    } catch (error) {
      if (!isNotFound(error)) throw error;
      await api.createCustomResourceDefinition({ body: crd });
    }
  }
  const names = crds.map((crd) => crd.metadata?.name ?? '');
  await Promise.all(names.map((name) => waitEstablished(api, name, timeoutMs)));
  return names;
}

async function waitEstablished(api: ApiextensionsV1Api, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const crd = await api.readCustomResourceDefinition({ name });
    const conditions = crd.status?.conditions ?? [];
    if (conditions.some((c) => c.type === 'Established' && c.status === 'True')) return;
    const rejected = conditions.find((c) => c.type === 'NamesAccepted' && c.status === 'False');
    if (rejected) throw new Error(`CRD ${name}: names not accepted: ${rejected.message ?? rejected.reason ?? ''}`);
    if (Date.now() > deadline) throw new Error(`CRD ${name} not Established after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
