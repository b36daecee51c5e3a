import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { renderEnvFile } from './env.ts';

describe('renderEnvFile', () => {
  it('renders exported assignments that a sourcing shell reads back verbatim, even with quotes and spaces', () => {
    const env = {
      kubeconfigPath: "/home/o'brien/my dir/.dev/kubeconfig",
      kubectl: '/opt/k8s/kubectl',
      issuer: 'http://127.0.0.1:4444',
      registrationEndpoint: 'http://127.0.0.1:4444/reg',
      initialAccessTokenFile: '/x/.dev/secrets/initial-access-token',
      adminTokenFile: '/x/.dev/secrets/admin-token',
      binDir: "/home/o'brien/my dir/.dev/bin",
      operatorMetricsUrl: 'http://127.0.0.1:40001',
      operatorHealthUrl: 'http://127.0.0.1:40002',
      operatorLogFile: '/x/.dev/operator.log',
    };
    const text = renderEnvFile(env);
    // A child process sees the values only if they are exported (no `set -a` needed).
    const out = execFileSync(
      'sh',
      ['-c', `eval "$0"; sh -c 'printf "%s\\n" "$KUBECONFIG" "$IDP_REGISTRATION_ENDPOINT" "$IDP_INITIAL_ACCESS_TOKEN_FILE" "$OPERATOR_HEALTH_URL" "$PATH"'`, text],
      { encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } },
    );
    expect(out.split('\n').slice(0, 5)).toEqual([
      env.kubeconfigPath,
      env.registrationEndpoint,
      env.initialAccessTokenFile,
      env.operatorHealthUrl,
      `${env.binDir}:/usr/bin:/bin`,
    ]);
  });
});
