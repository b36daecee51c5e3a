/** Shared bits for the runtime's integration tests: a real API client on the shared control plane. */
import { randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { inject } from 'vitest';
import { loadKubeConfig } from '../../../src/envtest/index.ts';
import { HttpKubeClient } from '../../../src/runtime/kube/http.ts';
import { Namespaces } from '../../../src/runtime/kube/types.ts';
import { pollUntil } from '../../support/eventually.ts';

export const log = pino({ level: process.env['RUNTIME_TEST_LOG'] ?? 'silent' });

export function realClient(): HttpKubeClient {
  return new HttpKubeClient(loadKubeConfig(inject('kubeconfigPath')));
}

export async function createNamespace(client: HttpKubeClient, prefix: string): Promise<string> {
  const name = `${prefix}-${randomBytes(4).toString('hex')}`;
  await client.create(Namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name } });
  return name;
}

/** Poll until `fn` returns a truthy value (real servers are eventually consistent through watches). */
export function eventually<T>(fn: () => T | Promise<T>, timeoutMs = 15_000, what = 'condition'): Promise<NonNullable<T>> {
  return pollUntil(fn, { timeoutMs, what, intervalMs: 50, ready: Boolean }) as Promise<NonNullable<T>>;
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
