/**
 * OAuth client-side flows used by the IdP tests, through openid-client 6 (a real, independent
 * client implementation): private_key_jwt / client_secret_basic client_credentials, refresh,
 * introspection, and an authorization-code + PKCE flow whose login and consent pages are driven
 * by plain HTTP form posts (no browser).
 */
import * as oidc from 'openid-client';
import { exportJWK, generateKeyPair } from 'jose';
import type { JWK } from 'jose';

export type KeyAlg = 'ES256' | 'RS256' | 'EdDSA';

export interface AgentKey {
  alg: KeyAlg;
  kid: string;
  privateKey: Awaited<ReturnType<typeof generateKeyPair>>["privateKey"];
  /** Public JWK with kid, alg and use, as the operator registers it. */
  publicJwk: JWK;
  /** Private JWK (for the "no secret in messages" checks). */
  privateJwk: JWK;
}

let keyCounter = 0;

/** A fresh signing key. Ed25519 keys are registered with alg EdDSA, as the operator does. */
export async function agentKey(alg: KeyAlg = 'ES256'): Promise<AgentKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg === 'EdDSA' ? 'Ed25519' : alg, { extractable: true });
  keyCounter += 1;
  const kid = `k${keyCounter}-${alg}-${Date.now()}`;
  return {
    alg,
    kid,
    privateKey,
    // An Ed25519 JWK says no alg: oidc-provider matches a JWK's alg exactly, and signers differ
    // ("EdDSA" with jose, "Ed25519" with openid-client 6, RFC 9864); without alg both verify.
    publicJwk: { ...(await exportJWK(publicKey)), kid, ...(alg === 'EdDSA' ? {} : { alg }), use: 'sig' },
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg },
  };
}

export type ClientAuthSpec = { key: AgentKey } | { secret: string } | { none: true };

function clientAuth(spec: ClientAuthSpec): oidc.ClientAuth {
  if ('key' in spec) return oidc.PrivateKeyJwt({ key: spec.key.privateKey, kid: spec.key.kid });
  if ('secret' in spec) return oidc.ClientSecretBasic(spec.secret);
  return oidc.None();
}

/** An openid-client Configuration for a client of the IdP at `issuer` (http allowed: loopback). */
export async function clientConfig(issuer: string, clientId: string, auth: ClientAuthSpec): Promise<oidc.Configuration> {
  return oidc.discovery(new URL(issuer), clientId, undefined, clientAuth(auth), { execute: [oidc.allowInsecureRequests] });
}

/** client_credentials grant (RFC 6749 section 4.4). */
export async function clientCredentials(issuer: string, clientId: string, auth: ClientAuthSpec, scope?: string) {
  const config = await clientConfig(issuer, clientId, auth);
  return oidc.clientCredentialsGrant(config, scope === undefined ? {} : { scope });
}

/** The OAuth error code of a rejected call ('' when it did not fail as an OAuth error). */
export async function oauthErrorOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error: unknown) {
    if (error instanceof oidc.ResponseBodyError) return error.error;
    throw error;
  }
  return '';
}

/** A tiny cookie jar: the IdP's cookie names are distinct, so paths can be ignored. */
class CookieJar {
  readonly #cookies = new Map<string, string>();
  store(response: Response): void {
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (!pair || eq < 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.#cookies.delete(name);
      else this.#cookies.set(name, value);
    }
  }
  header(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

/** A browser-less user agent: follows redirects by hand, keeps cookies, posts forms. */
export class FormUserAgent {
  readonly jar = new CookieJar();
  readonly pages: string[] = [];

  async get(url: string): Promise<Response> {
    const response = await fetch(url, { redirect: 'manual', headers: { cookie: this.jar.header() } });
    this.jar.store(response);
    return response;
  }

  async post(url: string, form: Record<string, string>): Promise<Response> {
    const response = await fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { cookie: this.jar.header(), 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(form),
    });
    this.jar.store(response);
    return response;
  }

  /** Follows redirects until one leaves the IdP (returns that URL) or a page is shown. */
  async follow(start: Response, base: string, redirectUri: string): Promise<{ page?: string; pageUrl?: string; callback?: string }> {
    let response = start;
    let url = base;
    for (let hops = 0; hops < 10; hops += 1) {
      const location = response.headers.get('location');
      if (response.status >= 300 && response.status < 400 && location) {
        url = new URL(location, url).href;
        if (url.startsWith(redirectUri)) return { callback: url };
        response = await this.get(url);
        continue;
      }
      const page = await response.text();
      if (response.status >= 400 && !page) throw new Error(`IdP answered HTTP ${response.status} at ${url}`);
      this.pages.push(page);
      return { page, pageUrl: url };
    }
    throw new Error('too many redirects');
  }
}

export interface AuthorizeOptions {
  issuer: string;
  clientId: string;
  auth: ClientAuthSpec;
  redirectUri: string;
  scope: string;
  login: string;
  password: string;
  /** Reuse a user agent (its session cookie) for a second authorization. */
  agent?: FormUserAgent;
  /** What the user does on the consent page. */
  decision?: 'allow' | 'deny';
  /** OpenID Connect `prompt`; `consent` is what makes oidc-provider grant offline_access (OIDC Core 11). */
  prompt?: string;
}

export interface AuthorizeResult {
  agent: FormUserAgent;
  consentPage: string | undefined;
  tokens?: oidc.TokenEndpointResponse;
  error?: string;
}

function formAction(page: string, id: string): string {
  const match = new RegExp(`<form method="post" action="([^"]+)" id="${id}"`).exec(page);
  if (!match?.[1]) throw new Error(`no form ${id} on page`);
  return match[1].replaceAll('&amp;', '&');
}

/** Authorization code + PKCE (RFC 6749 section 4.1, RFC 7636), login and consent by form posts. */
export async function authorizeWithConsent(options: AuthorizeOptions): Promise<AuthorizeResult> {
  const config = await clientConfig(options.issuer, options.clientId, options.auth);
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const url = oidc.buildAuthorizationUrl(config, {
    redirect_uri: options.redirectUri,
    scope: options.scope,
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    ...(options.prompt ? { prompt: options.prompt } : {}),
  });
  const agent = options.agent ?? new FormUserAgent();
  let step = await agent.follow(await agent.get(url.href), url.href, options.redirectUri);
  let consentPage: string | undefined;
  for (let round = 0; round < 4 && !step.callback; round += 1) {
    const page = step.page ?? '';
    const base = step.pageUrl ?? options.issuer;
    if (page.includes('id="login"')) {
      const action = new URL(formAction(page, 'login'), base).href;
      step = await agent.follow(await agent.post(action, { login: options.login, password: options.password }), action, options.redirectUri);
    } else if (page.includes('id="consent"')) {
      consentPage = page;
      const id = options.decision === 'deny' ? 'deny' : 'consent';
      const action = new URL(formAction(page, id), base).href;
      step = await agent.follow(await agent.post(action, { decision: options.decision ?? 'allow' }), action, options.redirectUri);
    } else {
      throw new Error(`unexpected IdP page: ${page.slice(0, 300)}`);
    }
  }
  if (!step.callback) throw new Error('authorization did not come back to the redirect URI');
  const callback = new URL(step.callback);
  const error = callback.searchParams.get('error');
  if (error) return { agent, consentPage, error };
  const tokens = await oidc.authorizationCodeGrant(config, callback, { pkceCodeVerifier: verifier, expectedState: state });
  return { agent, consentPage, tokens };
}

/** Refresh token grant (RFC 6749 section 6). */
export async function refresh(issuer: string, clientId: string, auth: ClientAuthSpec, refreshToken: string) {
  return oidc.refreshTokenGrant(await clientConfig(issuer, clientId, auth), refreshToken);
}

/** Token introspection (RFC 7662) by a confidential client. */
export async function introspect(issuer: string, clientId: string, secret: string, token: string) {
  return oidc.tokenIntrospection(await clientConfig(issuer, clientId, { secret }), token);
}
