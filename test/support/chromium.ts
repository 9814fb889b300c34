import { type Browser, chromium } from 'playwright-core';
import { requireTools } from './require-tool.js';

/** Debian's Chromium, which the browser tests drive through playwright-core. */
export const CHROMIUM = '/usr/bin/chromium';

/** Why the browser tests cannot run here (see require-tool.ts), or undefined. */
export const CHROMIUM_SKIP = requireTools('BROWSER TESTS', [CHROMIUM], ['chromium']);

/**
 * Headless Chromium as this machine runs it: as root (no sandbox), and without the background
 * connections a closed network refuses.
 */
export function launchChromium(extraArgs: string[] = []): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
}
