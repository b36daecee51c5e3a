/** What `.dev/env` describes. Token values stay in their 0600 files; only the paths appear here. */
export interface DevEnv {
  kubeconfigPath: string;
  kubectl: string;
  issuer: string;
  registrationEndpoint: string;
  initialAccessTokenFile: string;
  adminTokenFile: string;
}

const quote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`;

/** Render `.dev/env`: plain shell assignments, usable with `set -a; . .dev/env; set +a`. */
export function renderEnvFile(env: DevEnv): string {
  return [
    '# agent-identity-operator dev stack. Load with: set -a; . .dev/env; set +a',
    `KUBECONFIG=${quote(env.kubeconfigPath)}`,
    `KUBECTL=${quote(env.kubectl)}`,
    `IDP_ISSUER=${quote(env.issuer)}`,
    `IDP_REGISTRATION_ENDPOINT=${quote(env.registrationEndpoint)}`,
    `IDP_INITIAL_ACCESS_TOKEN_FILE=${quote(env.initialAccessTokenFile)}`,
    `IDP_ADMIN_TOKEN_FILE=${quote(env.adminTokenFile)}`,
    '# Register a client by hand (RFC 7591):',
    '# curl -s -X POST "$IDP_REGISTRATION_ENDPOINT" -H "Authorization: Bearer $(cat "$IDP_INITIAL_ACCESS_TOKEN_FILE")" \\',
    `#   -H 'Content-Type: application/json' \\`,
    `#   -d '{"client_name":"demo","grant_types":["client_credentials"],"response_types":[],"redirect_uris":[],"token_endpoint_auth_method":"client_secret_basic","scope":"openid"}'`,
    '',
  ].join('\n');
}
