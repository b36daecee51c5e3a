/**
 * Bad inputs the CRDs must reject at `kubectl apply`, each with the field path and the message a
 * user sees. Every case starts from a valid object and breaks exactly one thing, because the API
 * server skips CEL rules once an object fails its OpenAPI schema.
 */

type Obj = Record<string, unknown>;

/** Names every case's object uniquely, so the cases can run concurrently on a shared server. */
export interface CaseContext {
  namespace: string;
  /** A unique name for this case's object. */
  name: string;
}

export interface BadInput {
  name: string;
  /** Applied first and expected to succeed (for update rules such as immutability). */
  before?: (ctx: CaseContext) => Obj;
  manifest: (ctx: CaseContext) => Obj;
  /** Substrings of kubectl's error output, typically "field: ...message". */
  expect: string[];
}

const API_VERSION = 'agentidentity.dev/v1alpha1';
const SCOPE_TOKEN = 'each scope must be an RFC 6749 section 3.3 scope-token: printable ASCII without spaces, double quotes or backslashes';

function agentClient(ctx: CaseContext, change: (spec: Obj) => void = () => {}): Obj {
  const spec: Obj = {
    identityProviderRef: { name: 'embedded' },
    clientName: 'Case agent',
    grantTypes: ['client_credentials'],
    scopes: ['reports:read'],
    agentMetadata: { owner: 'team-test', agentType: 'reporting', capabilityVersion: '1.0.0' },
  };
  change(spec);
  return { apiVersion: API_VERSION, kind: 'AgentClient', metadata: { name: ctx.name, namespace: ctx.namespace }, spec };
}

function authCodeClient(ctx: CaseContext, redirectUris: string[]): Obj {
  return agentClient(ctx, (spec) => {
    spec['grantTypes'] = ['authorization_code', 'refresh_token'];
    spec['redirectUris'] = redirectUris;
  });
}

function identityProvider(ctx: CaseContext, change: (spec: Obj) => void = () => {}): Obj {
  const spec: Obj = { type: 'oidc', issuer: 'https://idp.example.com' };
  change(spec);
  return { apiVersion: API_VERSION, kind: 'IdentityProvider', metadata: { name: ctx.name }, spec };
}

function consentPolicy(ctx: CaseContext, change: (spec: Obj) => void = () => {}): Obj {
  const spec: Obj = {
    namespaceSelector: { matchLabels: { 'agentidentity.dev/tenant': ctx.name } },
    allowedScopes: ['reports:*'],
    scopeClasses: [{ pattern: 'reports:*', access: 'read' }],
  };
  change(spec);
  return { apiVersion: API_VERSION, kind: 'ConsentPolicy', metadata: { name: ctx.name }, spec };
}

function grantRevocation(ctx: CaseContext, change: (spec: Obj) => void = () => {}): Obj {
  const spec: Obj = { target: { agentClientName: 'coding-agent' }, actions: ['RevokeGrants'], reason: 'Token leaked' };
  change(spec);
  return { apiVersion: API_VERSION, kind: 'GrantRevocation', metadata: { name: ctx.name, namespace: ctx.namespace }, spec };
}

const range = (n: number, f: (i: number) => string): string[] => Array.from({ length: n }, (_, i) => f(i));

export const BAD_INPUTS: BadInput[] = [
  // AgentClient: scopes (RFC 6749 section 3.3 scope-token)
  { name: 'scope with a space', manifest: (c) => agentClient(c, (s) => (s['scopes'] = ['reports read'])), expect: [`spec.scopes[0]: Invalid value: "string": ${SCOPE_TOKEN}`] },
  { name: 'scope with a double quote', manifest: (c) => agentClient(c, (s) => (s['scopes'] = ['ok', 'reports"read'])), expect: [`spec.scopes[1]: Invalid value: "string": ${SCOPE_TOKEN}`] },
  { name: 'scope with a backslash', manifest: (c) => agentClient(c, (s) => (s['scopes'] = ['reports\\read'])), expect: [`spec.scopes[0]: Invalid value: "string": ${SCOPE_TOKEN}`] },
  { name: 'scope with a non-ASCII character', manifest: (c) => agentClient(c, (s) => (s['scopes'] = ['rapports:lecture·'])), expect: [`spec.scopes[0]: Invalid value: "string": ${SCOPE_TOKEN}`] },
  { name: 'empty scopes', manifest: (c) => agentClient(c, (s) => (s['scopes'] = [])), expect: ['spec.scopes in body should have at least 1 items'] },
  { name: '51 scopes', manifest: (c) => agentClient(c, (s) => (s['scopes'] = range(51, (i) => `scope:${i}`))), expect: ['spec.scopes: Too many: 51: must have at most 50 items'] },
  { name: 'duplicate scope', manifest: (c) => agentClient(c, (s) => (s['scopes'] = ['code:read', 'code:read'])), expect: ['spec.scopes[1]: Duplicate value: "code:read"'] },
  { name: 'over-long scope', manifest: (c) => agentClient(c, (s) => (s['scopes'] = ['a'.repeat(129)])), expect: ['spec.scopes[0]: Too long: may not be more than 128 bytes'] },
  // AgentClient: redirect URIs
  { name: 'non-https redirect URI', manifest: (c) => authCodeClient(c, ['ftp://agent.example.com/cb']), expect: ['spec.redirectUris[0]: Invalid value: "string": each redirect URI must use https (http is allowed only for localhost, 127.0.0.1 and [::1])'] },
  { name: 'http redirect URI on a non-loopback host', manifest: (c) => authCodeClient(c, ['https://ok.example.com/cb', 'http://agent.example.com/cb']), expect: ['spec.redirectUris[1]: Invalid value: "string": each redirect URI must use https (http is allowed only for localhost, 127.0.0.1 and [::1])'] },
  { name: 'redirect URI with a fragment', manifest: (c) => authCodeClient(c, ['https://agent.example.com/cb#done']), expect: ['spec.redirectUris[0]: Invalid value: "string": redirect URIs must not contain a fragment (RFC 6749 section 3.1.2)'] },
  { name: 'relative redirect URI', manifest: (c) => authCodeClient(c, ['callback']), expect: ['spec.redirectUris[0]: Invalid value: "string": each redirect URI must be an absolute URL such as https://agent.example.com/callback'] },
  { name: 'authorization_code without redirect URIs', manifest: (c) => authCodeClient(c, []), expect: ['spec: Invalid value: "object": redirectUris must not be empty when grantTypes contains authorization_code'] },
  // AgentClient: enums and cross-field rules
  { name: 'unknown grant type', manifest: (c) => agentClient(c, (s) => (s['grantTypes'] = ['implicit'])), expect: ['spec.grantTypes[0]: Unsupported value: "implicit": supported values: "authorization_code", "refresh_token", "client_credentials"'] },
  { name: 'unknown token endpoint auth method', manifest: (c) => agentClient(c, (s) => (s['tokenEndpointAuthMethod'] = 'client_secret_post')), expect: ['spec.tokenEndpointAuthMethod: Unsupported value: "client_secret_post": supported values: "private_key_jwt", "client_secret_basic", "none"'] },
  { name: 'none with client_credentials', manifest: (c) => agentClient(c, (s) => (s['tokenEndpointAuthMethod'] = 'none')), expect: ['spec: Invalid value: "object": tokenEndpointAuthMethod none (a public client) cannot use the client_credentials grant'] },
  { name: 'unknown deletion policy', manifest: (c) => agentClient(c, (s) => (s['deletionPolicy'] = 'Keep')), expect: ['spec.deletionPolicy: Unsupported value: "Keep": supported values: "Delete", "Orphan"'] },
  { name: 'unknown key algorithm', manifest: (c) => agentClient(c, (s) => (s['credentials'] = { keyAlgorithm: 'HS256' })), expect: ['spec.credentials.keyAlgorithm: Unsupported value: "HS256": supported values: "ES256", "RS256", "EdDSA"'] },
  // AgentClient: sizes, required fields, names
  { name: 'over-long clientName', manifest: (c) => agentClient(c, (s) => (s['clientName'] = 'x'.repeat(201))), expect: ['spec.clientName: Too long: may not be more than 200 bytes'] },
  { name: 'missing owner', manifest: (c) => agentClient(c, (s) => (s['agentMetadata'] = { agentType: 'reporting' })), expect: ['spec.agentMetadata.owner: Required value'] },
  { name: 'missing identityProviderRef', manifest: (c) => agentClient(c, (s) => delete s['identityProviderRef']), expect: ['spec.identityProviderRef: Required value'] },
  { name: '17 agentMetadata.extra entries', manifest: (c) => agentClient(c, (s) => (s['agentMetadata'] = { owner: 'o', extra: Object.fromEntries(range(17, (i) => `k${i}`).map((k) => [k, 'v'])) })), expect: ['spec.agentMetadata.extra: Too many: 17: must have at most 16 items'] },
  { name: 'Secret name that is not DNS-1123', manifest: (c) => agentClient(c, (s) => (s['credentials'] = { secretName: 'My_Secret' })), expect: ['spec.credentials.secretName in body should match'] },
  { name: 'misspelt field (strict field validation)', manifest: (c) => agentClient(c, (s) => (s['scope'] = 'reports:read')), expect: ['unknown field "spec.scope"'] },
  // AgentClient: durations
  { name: 'rotationPeriod not a Go duration', manifest: (c) => agentClient(c, (s) => (s['credentials'] = { rotationPeriod: '30d' })), expect: ['spec.credentials.rotationPeriod: Invalid value: "string": rotationPeriod must be a duration such as 90m, 720h or 1h30m'] },
  { name: 'rotationPeriod of 10m', manifest: (c) => agentClient(c, (s) => (s['credentials'] = { rotationPeriod: '10m', overlap: '5m' })), expect: ['spec.credentials.rotationPeriod: Invalid value: "string": rotationPeriod must be at least 1h'] },
  { name: 'overlap as long as the rotation period', manifest: (c) => agentClient(c, (s) => (s['credentials'] = { rotationPeriod: '2h', overlap: '120m' })), expect: ['spec.credentials: Invalid value: "object": credentials.overlap must be shorter than credentials.rotationPeriod'] },
  // IdentityProvider
  { name: 'unknown IdentityProvider type', manifest: (c) => identityProvider(c, (s) => (s['type'] = 'keycloak')), expect: ['spec.type: Unsupported value: "keycloak": supported values: "oidc", "embedded"'] },
  { name: 'http issuer on a non-loopback host', manifest: (c) => identityProvider(c, (s) => (s['issuer'] = 'http://idp.example.com')), expect: ['spec.issuer: Invalid value: "string": issuer must use https (http is allowed only for localhost, 127.0.0.1 and [::1])'] },
  { name: 'issuer with a query', manifest: (c) => identityProvider(c, (s) => (s['issuer'] = 'https://idp.example.com/?tenant=a')), expect: ['spec.issuer: Invalid value: "string": issuer must not contain a query or a fragment (RFC 8414 section 2)'] },
  { name: 'requestTimeoutSeconds above 120', manifest: (c) => identityProvider(c, (s) => (s['requestTimeoutSeconds'] = 121)), expect: ['spec.requestTimeoutSeconds: Invalid value: 121: spec.requestTimeoutSeconds in body should be less than or equal to 120'] },
  { name: 'both caBundle and caSecretRef', manifest: (c) => identityProvider(c, (s) => (s['tls'] = { caBundle: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n', caSecretRef: { name: 'idp-ca' } })), expect: ['spec.tls: Invalid value: "object": set at most one of tls.caBundle and tls.caSecretRef'] },
  { name: 'caBundle that is not PEM', manifest: (c) => identityProvider(c, (s) => (s['tls'] = { caBundle: 'not a certificate' })), expect: ['spec.tls.caBundle: Invalid value: "string": caBundle must hold PEM certificates'] },
  // GrantRevocation
  { name: 'GrantRevocation with two targets', manifest: (c) => grantRevocation(c, (s) => (s['target'] = { agentClientName: 'a', clientId: 'b' })), expect: ['spec.target: Invalid value: "object": target must set exactly one of agentClientName, selector or clientId'] },
  { name: 'GrantRevocation with no target', manifest: (c) => grantRevocation(c, (s) => (s['target'] = {})), expect: ['spec.target: Invalid value: "object": target must set exactly one of agentClientName, selector or clientId'] },
  { name: 'GrantRevocation with an empty selector', manifest: (c) => grantRevocation(c, (s) => (s['target'] = { selector: {} })), expect: ['spec.target: Invalid value: "object": target.selector must not be empty'] },
  { name: 'GrantRevocation with no actions', manifest: (c) => grantRevocation(c, (s) => (s['actions'] = [])), expect: ['spec.actions in body should have at least 1 items'] },
  { name: 'GrantRevocation with an unknown action', manifest: (c) => grantRevocation(c, (s) => (s['actions'] = ['Quarantine'])), expect: ['spec.actions[0]: Unsupported value: "Quarantine": supported values: "RevokeGrants", "RotateCredentials", "Suspend", "DeleteRegistration"'] },
  { name: 'GrantRevocation with an empty reason', manifest: (c) => grantRevocation(c, (s) => (s['reason'] = '')), expect: ['spec.reason in body should be at least 1 chars long'] },
  { name: 'GrantRevocation with a blank reason', manifest: (c) => grantRevocation(c, (s) => (s['reason'] = '   ')), expect: ['spec.reason: Invalid value: "string": reason must not be blank'] },
  { name: 'GrantRevocation subject without RevokeGrants', manifest: (c) => grantRevocation(c, (s) => { s['subject'] = 'alice'; s['actions'] = ['Suspend']; }), expect: ['spec: Invalid value: "object": subject and scopes narrow RevokeGrants, so actions must include RevokeGrants when they are set'] },
  {
    name: "mutating a GrantRevocation's spec",
    before: (c) => grantRevocation(c),
    manifest: (c) => grantRevocation(c, (s) => (s['actions'] = ['RevokeGrants', 'Suspend'])),
    expect: ['spec: Invalid value: "object": GrantRevocation spec is immutable; create a new GrantRevocation instead'],
  },
  // ConsentPolicy
  { name: 'unknown access class', manifest: (c) => consentPolicy(c, (s) => (s['scopeClasses'] = [{ pattern: 'code:*', access: 'execute' }])), expect: ['spec.scopeClasses[0].access: Unsupported value: "execute": supported values: "read", "write", "admin"'] },
  { name: 'unknown environment class', manifest: (c) => consentPolicy(c, (s) => (s['scopeClasses'] = [{ pattern: 'deploy:*', environment: 'staging' }])), expect: ['spec.scopeClasses[0].environment: Unsupported value: "staging": supported values: "nonprod", "prod"'] },
  { name: 'scope class with no dimension', manifest: (c) => consentPolicy(c, (s) => (s['scopeClasses'] = [{ pattern: 'code:*' }])), expect: ['spec.scopeClasses[0]: Invalid value: "object": a scope class must set at least one of access, environment or data'] },
  { name: '201 allowedScopes', manifest: (c) => consentPolicy(c, (s) => (s['allowedScopes'] = range(201, (i) => `scope:${i}`))), expect: ['spec.allowedScopes: Too many: 201: must have at most 200 items'] },
  { name: 'allowedScopes pattern with a space', manifest: (c) => consentPolicy(c, (s) => (s['allowedScopes'] = ['reports *'])), expect: ['spec.allowedScopes[0]: Invalid value: "string": each scope pattern must be an RFC 6749 section 3.3 scope-token'] },
  { name: 'unknown label selector operator', manifest: (c) => consentPolicy(c, (s) => (s['selector'] = { matchExpressions: [{ key: 'team', operator: 'Matches', values: ['a'] }] })), expect: ['spec.selector.matchExpressions[0].operator: Unsupported value: "Matches": supported values: "In", "NotIn", "Exists", "DoesNotExist"'] },
  { name: 'label selector In without values', manifest: (c) => consentPolicy(c, (s) => (s['namespaceSelector'] = { matchExpressions: [{ key: 'team', operator: 'In' }] })), expect: ['spec.namespaceSelector.matchExpressions[0]: Invalid value: "object": values must not be empty when operator is In or NotIn'] },
  { name: 'label selector Exists with values', manifest: (c) => consentPolicy(c, (s) => (s['selector'] = { matchExpressions: [{ key: 'team', operator: 'Exists', values: ['a'] }] })), expect: ['spec.selector.matchExpressions[0]: Invalid value: "object": values must be empty when operator is Exists or DoesNotExist'] },
  { name: 'unknown fullReconsentOn dimension', manifest: (c) => consentPolicy(c, (s) => (s['consent'] = { fullReconsentOn: ['risk'] })), expect: ['spec.consent.fullReconsentOn[0]: Unsupported value: "risk": supported values: "access", "environment", "data"'] },
  { name: 'standing TTL not a duration', manifest: (c) => consentPolicy(c, (s) => (s['standing'] = { refreshTokenTTL: '90 days' })), expect: ['spec.standing.refreshTokenTTL: Invalid value: "string": must be a duration such as 30s, 5m, 1h or 2160h'] },
  { name: 'standing access token outliving the refresh token', manifest: (c) => consentPolicy(c, (s) => (s['standing'] = { accessTokenTTL: '48h', refreshTokenTTL: '24h' })), expect: ['spec: Invalid value: "object": standing.accessTokenTTL must not be longer than standing.refreshTokenTTL'] },
  { name: 'zero task-scoped TTL', manifest: (c) => consentPolicy(c, (s) => (s['taskScoped'] = { accessTokenTTL: '0s' })), expect: ['spec.taskScoped.accessTokenTTL: Invalid value: "string": must be longer than 0s'] },
];

/** Valid edge cases: each must be accepted. */
export const GOOD_EDGES: { name: string; manifest: (ctx: CaseContext) => Obj }[] = [
  { name: 'http redirect URIs on 127.0.0.1, [::1] and localhost', manifest: (c) => authCodeClient(c, ['http://127.0.0.1:8976/cb', 'http://[::1]:8976/cb', 'http://localhost/cb']) },
  { name: 'exactly 50 scopes of all scope-token characters', manifest: (c) => agentClient(c, (s) => (s['scopes'] = [...range(49, (i) => `scope:${i}`), '!#$%&\'()*+,-./:;<=>?@[]^_`{|}~'])) },
  { name: 'public client with authorization_code', manifest: (c) => agentClient(c, (s) => { s['tokenEndpointAuthMethod'] = 'none'; s['grantTypes'] = ['authorization_code']; s['redirectUris'] = ['https://agent.example.com/cb']; }) },
  { name: 'compound durations', manifest: (c) => agentClient(c, (s) => (s['credentials'] = { rotationPeriod: '1h0m30s', overlap: '59m59.5s' })) },
  { name: 'GrantRevocation by selector with subject and scopes', manifest: (c) => grantRevocation(c, (s) => { s['target'] = { selector: { matchLabels: { team: 'a' } } }; s['subject'] = 'alice'; s['scopes'] = ['code:write']; s['actions'] = ['RevokeGrants', 'Suspend']; }) },
];
