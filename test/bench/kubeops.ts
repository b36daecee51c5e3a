/**
 * Small API operations the benchmark needs beyond KubeClient: deleting a whole collection
 * (cleanup between phases; no kube-controller-manager runs here, so nothing garbage-collects).
 */
import https from 'node:https';
import type { ControlPlane } from '../../src/envtest/index.ts';
import { resourcePath } from '../../src/runtime/kube/client.ts';
import type { ResourceType } from '../../src/runtime/kube/types.ts';

/** DELETE on a collection (`deletecollection` verb), optionally narrowed by a label selector. */
export async function deleteCollection(
  cp: ControlPlane,
  ca: string,
  type: ResourceType,
  namespace: string,
  labelSelector?: string,
): Promise<void> {
  const url = new URL(resourcePath(type, namespace) + (labelSelector ? `?labelSelector=${encodeURIComponent(labelSelector)}` : ''), cp.server);
  await new Promise<void>((resolve, reject) => {
    const req = https.request(url, { method: 'DELETE', ca, headers: { Authorization: `Bearer ${cp.adminToken}` }, timeout: 120_000 }, (res) => {
      res.resume();
      res.on('end', () => ((res.statusCode ?? 0) < 300 ? resolve() : reject(new Error(`deletecollection ${url.pathname}: HTTP ${String(res.statusCode)}`))));
    });
    req.on('error', reject);
    req.end();
  });
}
