/** What `.dev/env` describes. Token values stay in their 0600 files; only the paths appear here. */
export interface DevEnv {
  kubeconfigPath: string;
  kubectl: string;
  issuer: string;
  registrationEndpoint: string;
  initialAccessTokenFile: string;
  adminTokenFile: string;
  /** Put first on PATH: kubectl, kubectl-agentid, node. */
  binDir: string;
  operatorMetricsUrl: string;
  operatorHealthUrl: string;
  operatorLogFile: string;
}

const quote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;

/** Render `.dev/env`: exported shell assignments, for `source .dev/env` (bash, zsh) or `. .dev/env` (sh). */
export function renderEnvFile(env: DevEnv): string {
  return [
    '# agent-identity-operator dev stack. Load with: source .dev/env',
    `export KUBECONFIG=${quote(env.kubeconfigPath)}`,
    `export KUBECTL=${quote(env.kubectl)}`,
    `export PATH=${quote(env.binDir)}:"$PATH"`,
    `export IDP_ISSUER=${quote(env.issuer)}`,
    `export IDP_REGISTRATION_ENDPOINT=${quote(env.registrationEndpoint)}`,
    `export IDP_INITIAL_ACCESS_TOKEN_FILE=${quote(env.initialAccessTokenFile)}`,
    `export IDP_ADMIN_TOKEN_FILE=${quote(env.adminTokenFile)}`,
    `export OPERATOR_METRICS_URL=${quote(env.operatorMetricsUrl)}`,
    `export OPERATOR_HEALTH_URL=${quote(env.operatorHealthUrl)}`,
    `export OPERATOR_LOG=${quote(env.operatorLogFile)}`,
    '# Register a client by hand (RFC 7591):',
    '# curl -s -X POST "$IDP_REGISTRATION_ENDPOINT" -H "Authorization: Bearer $(cat "$IDP_INITIAL_ACCESS_TOKEN_FILE")" \\',
    `#   -H 'Content-Type: application/json' \\`,
    `#   -d '{"client_name":"demo","grant_types":["client_credentials"],"response_types":[],"redirect_uris":[],"token_endpoint_auth_method":"client_secret_basic","scope":"openid"}'`,
    '',
  ].join('\n');
}
