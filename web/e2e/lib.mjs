// Shared by the browser scripts: a headless Chromium from the system (never a
// downloaded one), and the checks every page run makes: no request to another origin,
// no Content-Security-Policy violation, no uncaught error.
import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

// A run that hangs fails instead: the Go test bounds us too, but this exits with a
// message and closes the browser.
export function deadline(ms) {
  const timer = setTimeout(() => {
    console.error(`timed out after ${ms} ms`);
    process.exit(3);
  }, ms);
  timer.unref();
}

export function fail(message) {
  throw new Error(message);
}

// openPage launches Chromium and opens url. Playwright gives each launch a fresh
// profile in a temporary directory. options.extraHTTPHeaders stands in for whatever
// adds the caller's credentials in front of a real deployment.
export async function openPage(url, options = {}) {
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    chromiumSandbox: false,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const context = await browser.newContext({
    viewport: { width: 1280, height: 860 },
    extraHTTPHeaders: options.extraHTTPHeaders,
  });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000); // a shared CI machine running -race tests alongside can be slow

  const origin = new URL(url).origin;
  const requests = [];
  const problems = [];
  page.on('request', (req) => requests.push({ method: req.method(), url: req.url() }));
  page.on('pageerror', (err) => problems.push(`uncaught: ${err.message}`));
  page.on('console', (msg) => {
    // Chromium reports a CSP refusal as a console error; a failed fetch of a missing
    // asset is an error too.
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  // And in the page itself, so a violation is seen even if the console stays quiet.
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.violatedDirective} refused ${e.blockedURI || 'inline'}`);
    });
  });

  const response = await page.goto(url);
  if (!response || response.status() !== 200) fail(`GET ${url}: status ${response?.status()}`);
  const csp = response.headers()['content-security-policy'] ?? '';
  if (!/default-src 'self'/.test(csp)) fail(`${url}: Content-Security-Policy ${JSON.stringify(csp)}`);

  return {
    browser,
    page,
    requests,
    // verify checks what was recorded while the page ran; call it before close.
    async verify(allowedConsoleErrors = []) {
      const foreign = requests.map((r) => r.url).filter((u) => {
        try {
          return new URL(u).origin !== origin;
        } catch {
          return true;
        }
      });
      if (foreign.length > 0) fail(`requests left ${origin}:\n  ${foreign.join('\n  ')}`);
      const violations = await page.evaluate(() => window.__cspViolations);
      if (violations.length > 0) fail(`CSP violations:\n  ${violations.join('\n  ')}`);
      const unexpected = problems.filter((p) => !allowedConsoleErrors.some((re) => re.test(p)));
      if (unexpected.length > 0) fail(`page problems:\n  ${unexpected.join('\n  ')}`);
      if (requests.length === 0) fail('no request recorded');
    },
    async screenshot(file) {
      await page.screenshot({ path: file, fullPage: false });
      console.log(`screenshot: ${file}`);
    },
    close: () => browser.close(),
  };
}
