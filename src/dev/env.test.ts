import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { renderEnvFile } from './env.ts';

describe('renderEnvFile', () => {
  it('renders shell assignments that a shell reads back verbatim, even with quotes and spaces', () => {
    const env = {
      kubeconfigPath: "/home/o'brien/my dir/.dev/kubeconfig",
      kubectl: '/opt/k8s/kubectl',
      issuer: 'http://127.0.0.1:4444',
      registrationEndpoint: 'http://127.0.0.1:4444/reg',
      initialAccessTokenFile: '/x/.dev/secrets/initial-access-token',
      adminTokenFile: '/x/.dev/secrets/admin-token',
    };
    const text = renderEnvFile(env);
    const out = execFileSync('sh', ['-c', `set -a; eval "$0"; set +a; printf '%s\\n' "$KUBECONFIG" "$IDP_REGISTRATION_ENDPOINT" "$IDP_INITIAL_ACCESS_TOKEN_FILE"`, text], {
      encoding: 'utf8',
    });
    expect(out.split('\n').slice(0, 3)).toEqual([env.kubeconfigPath, env.registrationEndpoint, env.initialAccessTokenFile]);
  });
});
