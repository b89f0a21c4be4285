import { accessSync, constants } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

/** Debian's Chromium; override with `GATEHOUSE_CHROMIUM`. */
export const CHROMIUM_PATH = process.env.GATEHOUSE_CHROMIUM ?? '/usr/bin/chromium';

/** Flags for a quiet, offline, container-friendly headless Chromium (see ORACLES.md). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-dev-shm-usage',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** True when the Chromium binary exists and is executable. */
export function chromiumAvailable(): boolean {
  try {
    accessSync(CHROMIUM_PATH, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * For `describe.skipIf(!requireChromium())`: true when Chromium is installed. Without it,
 * throws under `CI=true` (a CI run must not pass by skipping) and otherwise warns and
 * returns false.
 */
export function requireChromium(what = 'Chromium tests'): boolean {
  if (chromiumAvailable()) return true;
  if (process.env.CI === 'true')
    throw new Error(
      `${what} need ${CHROMIUM_PATH} (apt-get install chromium); CI=true: not skipping`,
    );
  console.warn(`skipping ${what}: ${CHROMIUM_PATH} not found (apt-get install chromium)`);
  return false;
}

/**
 * Launch headless Chromium through playwright-core (which gives every launch a fresh,
 * temporary profile and removes it on close). Throws when Chromium is missing — under CI and elsewhere — so a
 * test that reaches this call cannot pass without a browser.
 */
export async function launchChromium(): Promise<Browser> {
  if (!chromiumAvailable()) {
    throw new Error(
      `Chromium not found at ${CHROMIUM_PATH}${process.env.CI === 'true' ? ' (CI=true)' : ''}: apt-get install chromium`,
    );
  }
  return chromium.launch({ executablePath: CHROMIUM_PATH, headless: true, args: CHROMIUM_ARGS });
}
