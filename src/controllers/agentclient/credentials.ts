/**
 * Key material for `private_key_jwt` (RFC 7523 section 2.2): generation, the RFC 7638 thumbprint
 * used as `kid`, and the public JWK Set registered at the IdP (current key, plus the previous one
 * while a rotation overlaps).
 *
 * Done with node:crypto directly: an RSA key is generated on libuv's thread pool (it takes tens of
 * milliseconds), and JWK/PKCS#8 conversion is native. The JWK and PEM are byte for byte what jose
 * produced before (the unit test checks against jose), so Secrets written earlier stay up to date.
 */
import { createHash, createPrivateKey, generateKeyPair, generateKeyPairSync } from 'node:crypto';
import type { JsonWebKey, KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import type { JWK } from 'jose';
import type { KeyAlgorithm } from './types.ts';

const generate = promisify(generateKeyPair) as unknown as (type: string, options: object) => Promise<{ privateKey: KeyObject }>;

/** A signing key as the agent Secret and the registration store hold it. Private: never log. */
export interface SigningKey {
  kid: string;
  alg: KeyAlgorithm;
  /** Private JWK carrying `kid`, `alg` and `use: sig`. */
  privateJwk: JWK;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** The public half of a JWK: private members dropped, `kid`/`alg`/`use` kept. */
export function publicJwk(jwk: JWK): JWK {
  const out: JWK = { ...jwk };
  for (const member of PRIVATE_MEMBERS) delete (out as Record<string, unknown>)[member];
  return out;
}

/** The members RFC 7638 section 3.2 hashes, per key type, in lexicographic order. */
const THUMBPRINT_MEMBERS: Record<string, readonly string[]> = { EC: ['crv', 'kty', 'x', 'y'], RSA: ['e', 'kty', 'n'], OKP: ['crv', 'kty', 'x'] };

/** RFC 7638 SHA-256 JWK thumbprint, base64url. */
export function jwkThumbprint(jwk: JWK): string {
  const members = THUMBPRINT_MEMBERS[jwk.kty ?? ''];
  if (!members) throw new Error(`no RFC 7638 thumbprint for key type ${String(jwk.kty)}`);
  const source = jwk as Record<string, unknown>;
  const canonical: Record<string, unknown> = {};
  for (const member of members) {
    if (typeof source[member] !== 'string') throw new Error(`JWK lacks ${member}`);
    canonical[member] = source[member];
  }
  return createHash('sha256').update(JSON.stringify(canonical)).digest('base64url');
}

/**
 * Generates a fresh key pair. `kid` is the RFC 7638 SHA-256 thumbprint of the public key, so the
 * same key always has the same id and a registration can be matched to the key we hold.
 */
export async function generateSigningKey(alg: KeyAlgorithm): Promise<SigningKey> {
  // An EC or Ed25519 key takes some 20 microseconds: made in place. An RSA key takes tens of
  // milliseconds: made on the thread pool so the event loop keeps serving other syncs.
  const { privateKey } =
    alg === 'RS256'
      ? await generate('rsa', { modulusLength: 2048, publicExponent: 0x10001 })
      : alg === 'ES256'
        ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
        : generateKeyPairSync('ed25519');
  const jwk = privateKey.export({ format: 'jwk' }) as JWK;
  const kid = jwkThumbprint(jwk);
  return { kid, alg, privateJwk: { ...jwk, kid, alg, use: 'sig' } };
}

/** PKCS#8 PEM of the private key, for agents whose libraries want PEM rather than JWK. */
export function privateKeyPem(key: SigningKey): Promise<string> {
  const { kid: _kid, alg: _alg, use: _use, key_ops: _ops, ext: _ext, ...material } = key.privateJwk;
  if (material.kty === 'oct' || material.d === undefined) return Promise.reject(new Error('not a private signing key'));
  const pem = createPrivateKey({ key: material as JsonWebKey, format: 'jwk' }).export({ type: 'pkcs8', format: 'pem' }) as string;
  // jose wrote it without the final newline; Secrets written then must still compare equal.
  return Promise.resolve(pem.endsWith('\n') ? pem.slice(0, -1) : pem);
}

/**
 * The JWK Set to register: the current key first, then the previous one while the rotation
 * overlap lasts, so tokens signed by either authenticate (RFC 7591 section 2 `jwks`).
 */
export function registeredJwks(current: SigningKey, previous?: JWK): { keys: Record<string, unknown>[] } {
  const keys: JWK[] = [registrable(current.privateJwk)];
  if (previous && previous.kid !== current.kid) keys.push(registrable(previous));
  return { keys: keys };
}

/**
 * The public JWK as registered. An Ed25519 key carries no `alg`: oidc-provider matches a JWK's
 * alg exactly while signers name it differently ("EdDSA" in jose, "Ed25519" per RFC 9864 in
 * openid-client 6); without alg both verify.
 */
function registrable(jwk: JWK): JWK {
  const out = publicJwk(jwk);
  if (out.kty === 'OKP') delete out.alg;
  return out;
}

/** Parses and checks a stored private JWK; throws without echoing key material. */
export function parseSigningKey(json: string): SigningKey {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error('stored signing key is not valid JSON');
  }
  const jwk = parsed as JWK;
  if (typeof jwk !== 'object' || jwk === null || typeof jwk.kid !== 'string' || typeof jwk.kty !== 'string') {
    throw new Error('stored signing key lacks kid or kty');
  }
  const alg = jwk.alg;
  if (!isKeyAlgorithm(alg)) {
    throw new Error('stored signing key has an unsupported alg');
  }
  if (jwk.d === undefined) throw new Error('stored signing key is not a private key');
  return { kid: jwk.kid, alg, privateJwk: jwk };
}

function isKeyAlgorithm(value: unknown): value is KeyAlgorithm {
  return value === 'ES256' || value === 'RS256' || value === 'EdDSA';
}
