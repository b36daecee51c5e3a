/**
 * Reading a whole HTTP response body as text, for the API server client (runtime/kube/http.ts)
 * and the IdP transport (idp/oidc/http.ts).
 */
import type { IncomingMessage } from 'node:http';

/** The body went past the reader's `maxBytes`; the response was destroyed unread. */
export class ResponseTooLarge extends Error {
  override readonly name = 'ResponseTooLarge';
}

/**
 * The whole body as UTF-8 text; rejects past `maxBytes` (never buffering more). The listeners are
 * removed once it settles: a kept-alive socket keeps its last response object reachable, and
 * through these closures the body text too (a list of 10,000 objects is megabytes).
 */
export function readBody(res: IncomingMessage, maxBytes = Infinity): Promise<string> {
  return new Promise((resolve, reject) => {
    let chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer): void => {
      size += chunk.length;
      if (size > maxBytes) res.destroy(new ResponseTooLarge());
      else chunks.push(chunk);
    };
    const settle = (): void => {
      res.off('data', onData);
      res.off('end', onEnd);
      res.off('error', onError);
      res.off('aborted', onAborted);
    };
    const onEnd = (): void => {
      settle();
      const text = chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8');
      chunks = [];
      resolve(text);
    };
    const onError = (error: Error): void => {
      settle();
      reject(error);
    };
    const onAborted = (): void => onError(new Error('response aborted'));
    res.on('data', onData);
    res.on('end', onEnd);
    res.on('error', onError);
    res.on('aborted', onAborted);
  });
}
