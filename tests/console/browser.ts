/**
 * One headless Debian chromium for the console suite, driven by playwright-core (which downloads no
 * browser: `npm run setup` installs the system's chromium). Screenshots go to docs/console/.
 */
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { findChromium } from '../../scripts/find-chromium.ts';

export const screenshotDir = path.resolve('docs/console');

export async function launchChromium(): Promise<Browser> {
  const executablePath = await findChromium(process.env.PATH);
  if (!executablePath) throw new Error('chromium is not on PATH: run `npm run setup` (as root it runs apt-get install -y chromium)');
  // Root (as CI runs) cannot use chromium's user-namespace sandbox.
  return chromium.launch({ executablePath, args: process.getuid?.() === 0 ? ['--no-sandbox'] : [] });
}

/** A small PNG of what the page shows now (narrow pages stay small in the repository). */
export async function screenshot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: path.join(screenshotDir, `${name}.png`), fullPage: true });
}

/** The visible text of an element, once it holds `text` (waits up to `timeoutMs`). */
/**
 * Polls an input's value from the test side until it is filled. Not `page.waitForFunction`: its
 * in-page polling evaluates a string, which the console's CSP (no 'unsafe-eval') refuses.
 */
export async function waitForValue(page: Page, label: string, timeoutMs = 30_000): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await page.getByLabel(label).inputValue();
    if (value !== '' || Date.now() > deadline) return value;
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function waitForText(page: Page, selector: string, text: string | RegExp, timeoutMs = 30_000): Promise<string> {
  const locator = page.locator(selector).filter({ hasText: text }).first();
  await locator.waitFor({ state: 'visible', timeout: timeoutMs });
  return locator.innerText();
}
