/**
 * Debian's chromium driven by playwright-core (no browser download), headless, and screenshots
 * that are checked, not just taken: the PNG exists, is a real image of a real size, and the page
 * text at that moment is returned for the test to assert on.
 */
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { ROOT } from '../support/stack.ts';

export const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
export const SCREENSHOTS = path.join(ROOT, 'test-results', 'screenshots');

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

export interface Screenshot {
  file: string;
  bytes: number;
  width: number;
  height: number;
  /** The page's visible text when the screenshot was taken. */
  text: string;
}

/** Saves `test-results/screenshots/<name>.png` and reads it back to prove it is a real PNG. */
export async function screenshot(page: Page, name: string): Promise<Screenshot> {
  await mkdir(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  const text = await page.locator('body').innerText();
  await page.screenshot({ path: file, fullPage: true });
  const png = await readFile(file);
  // PNG signature, then the IHDR chunk: width and height as big-endian 32-bit integers.
  if (png.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a' || png.subarray(12, 16).toString('ascii') !== 'IHDR') {
    throw new Error(`${file} is not a PNG`);
  }
  return { file, bytes: (await stat(file)).size, width: png.readUInt32BE(16), height: png.readUInt32BE(20), text };
}
