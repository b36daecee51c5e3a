/**
 * Key material for `private_key_jwt` (RFC 7523 section 2.2): generation, the RFC 7638 thumbprint
 * used as `kid`, and the public JWK Set registered at the IdP (current key, plus the previous one
 * while a rotation overlaps).
 */
import { calculateJwkThumbprint, exportJWK, exportPKCS8, generateKeyPair, importJWK } from 'jose';
import type { JWK } from 'jose';
import type { KeyAlgorithm } from './types.ts';

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

/**
 * Generates a fresh key pair. `kid` is the RFC 7638 SHA-256 thumbprint of the public key, so the
 * same key always has the same id and a registration can be matched to the key we hold.
 */
export async function generateSigningKey(alg: KeyAlgorithm): Promise<SigningKey> {
  const options = alg === 'RS256' ? { extractable: true, modulusLength: 2048 } : { extractable: true };
  const { privateKey } = await generateKeyPair(alg === 'EdDSA' ? 'Ed25519' : alg, options);
  const jwk = await exportJWK(privateKey);
  const kid = await calculateJwkThumbprint(publicJwk(jwk), 'sha256');
  return { kid, alg, privateJwk: { ...jwk, kid, alg, use: 'sig' } };
}

/** PKCS#8 PEM of the private key, for agents whose libraries want PEM rather than JWK. */
export async function privateKeyPem(key: SigningKey): Promise<string> {
  const imported = await importJWK(key.privateJwk, key.privateJwk.alg ?? key.alg, { extractable: true });
  if (imported instanceof Uint8Array) throw new Error('symmetric keys are not signing keys here');
  return exportPKCS8(imported);
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
