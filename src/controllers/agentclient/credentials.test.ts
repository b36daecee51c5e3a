import { SignJWT, calculateJwkThumbprint, exportPKCS8, importJWK, importPKCS8, jwtVerify } from 'jose';
import { describe, expect, it } from 'vitest';
import { generateSigningKey, jwkThumbprint, parseSigningKey, privateKeyPem, publicJwk, registeredJwks } from './credentials.ts';

describe('generateSigningKey', () => {
  it.each(['ES256', 'RS256', 'EdDSA'] as const)('%s: kid is the RFC 7638 thumbprint; JWK and PEM sign what the public JWK verifies', async (alg) => {
    const key = await generateSigningKey(alg);
    expect(key.privateJwk).toMatchObject({ kid: key.kid, alg, use: 'sig' });
    expect(key.privateJwk.d).toBeTypeOf('string');
    expect(await calculateJwkThumbprint(publicJwk(key.privateJwk), 'sha256')).toBe(key.kid);

    const pem = await privateKeyPem(key);
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const fromPem = await importPKCS8(pem, alg);
    const jwt = await new SignJWT({ sub: 'x' }).setProtectedHeader({ alg, kid: key.kid }).sign(fromPem);
    const verifier = await importJWK(publicJwk(key.privateJwk), alg);
    await expect(jwtVerify(jwt, verifier)).resolves.toBeDefined();
  });

  it.each(['ES256', 'RS256', 'EdDSA'] as const)('%s: the PEM is byte for byte what jose writes (Secrets written by earlier versions stay up to date)', async (alg) => {
    const key = await generateSigningKey(alg);
    const viaJose = await importJWK(key.privateJwk, alg, { extractable: true });
    if (viaJose instanceof Uint8Array) throw new Error('unexpected symmetric key');
    expect(await privateKeyPem(key)).toBe(await exportPKCS8(viaJose));
  });

  it('computes the RFC 7638 thumbprint of the RFC 7638 section 3.1 example', () => {
    const n =
      '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw';
    expect(jwkThumbprint({ kty: 'RSA', n, e: 'AQAB', alg: 'RS256', kid: '2011-04-29' })).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
    expect(() => jwkThumbprint({ kty: 'oct', k: 'x' })).toThrow(/no RFC 7638 thumbprint/);
  });

  it('refuses to write a PEM for a public or symmetric key', async () => {
    const key = await generateSigningKey('ES256');
    await expect(privateKeyPem({ ...key, privateJwk: publicJwk(key.privateJwk) })).rejects.toThrow(/not a private signing key/);
  });

  it('makes a different key every time', async () => {
    const [a, b] = await Promise.all([generateSigningKey('ES256'), generateSigningKey('ES256')]);
    expect(a.kid).not.toBe(b.kid);
  });
});

describe('registeredJwks', () => {
  it('holds public keys only: the current one, then the previous one during overlap', async () => {
    const current = await generateSigningKey('ES256');
    const previous = await generateSigningKey('ES256');
    const jwks = registeredJwks(current, publicJwk(previous.privateJwk));
    expect(jwks.keys.map((k) => k.kid)).toEqual([current.kid, previous.kid]);
    for (const key of jwks.keys) expect(key).not.toHaveProperty('d');
    expect(registeredJwks(current).keys).toHaveLength(1);
    expect(registeredJwks(current, publicJwk(current.privateJwk)).keys).toHaveLength(1);
  });
});

describe('parseSigningKey', () => {
  it('round-trips a generated key', async () => {
    const key = await generateSigningKey('EdDSA');
    expect(parseSigningKey(JSON.stringify(key.privateJwk))).toEqual(key);
  });

  it.each([
    ['not JSON', '{'],
    ['no kid', JSON.stringify({ kty: 'EC', d: 'x', alg: 'ES256' })],
    ['public only', JSON.stringify({ kty: 'EC', kid: 'k', alg: 'ES256' })],
    ['foreign alg', JSON.stringify({ kty: 'oct', kid: 'k', alg: 'HS256', d: 'x' })],
  ])('rejects %s without echoing the input', (_label, json) => {
    expect(() => parseSigningKey(json)).toThrow(/stored signing key/);
    try {
      parseSigningKey(json);
    } catch (error) {
      expect(String(error)).not.toContain(json);
    }
  });
});
