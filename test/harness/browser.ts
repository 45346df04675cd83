/**
 * Debian's /usr/bin/chromium, headless, driven by playwright-core (no browser download): the one
 * launch the browser tests share. The profile directory is removed when the test ends.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { type BrowserContext, chromium } from 'playwright-core';

export async function launchChromium(
  t: TestContext,
  viewport: { width: number; height: number },
): Promise<BrowserContext> {
  const profile = mkdtempSync(join(tmpdir(), 'rpcscope-chromium-'));
  t.after(() => rmSync(profile, { recursive: true, force: true }));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport,
  });
  t.after(() => ctx.close());
  return ctx;
}
