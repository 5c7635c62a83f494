// The /explorer example page: "Load more" until the end lists every group of the
// upstream exactly once, in order, each with its owner, or, for the groups whose owner
// the test made fail, with that error on the row while the rest of the page stays; the
// operations go as persisted queries over GET; nothing leaves the page's origin.
//
// usage: node explorer.mjs <baseURL> <expect.json> <screenshot.png>
//   expect.json: {
//     "groupIds": [the caller's user groups, in upstream order],
//     "ownerErrors": {"<groupId>": "<extensions.code>"}   (optional: rows that must show an error)
//     "filtered": {"groupName": "...", "sourceType": "GROUP", "groupIds": [...]}   (optional)
//     "headers": {...}   (optional: sent with every request, as a gateway in front would)
//     "reloads": n   (optional: reload the page n times at the end, each time until its
//                    first rows show: Chromium's HTTP cache revalidates the GET queries)
//   }
import fs from 'node:fs';
import { deadline, fail, openPage } from './lib.mjs';

deadline(140_000);
const [baseURL, expectFile, screenshot] = process.argv.slice(2);
const expect = JSON.parse(fs.readFileSync(expectFile, 'utf8'));
const ownerErrors = expect.ownerErrors ?? {};
const PAGE_SIZE = 20; // the page's own, in GroupList.jsx

const run = await openPage(new URL('/explorer', baseURL).href, { extraHTTPHeaders: expect.headers });
const { page } = run;
try {
  await page.getByTestId('viewer').waitFor();
  const rows = await loadAll(page, expect.groupIds.length);
  checkRows(rows, expect.groupIds, ownerErrors);
  const errorRows = rows.filter((r) => r.error);

  const first = Object.keys(ownerErrors)[0];
  if (first) {
    await page.locator(`[data-group-id="${first}"]`).evaluate((el) => el.scrollIntoView({ block: 'center' }));
  } else {
    await page.evaluate(() => window.scrollTo(0, 0));
  }
  await run.screenshot(screenshot);

  if (expect.filtered) {
    const { groupName, sourceType, groupIds } = expect.filtered;
    await page.getByRole('radio', { name: sourceType === 'GROUP' ? 'Groups' : 'User groups', exact: true }).check({ force: true });
    await page.getByRole('searchbox', { name: 'Filter by name' }).fill(groupName);
    await page.getByTestId('total').filter({ hasText: new RegExp(` of ${groupIds.length} `) }).waitFor();
    checkRows(await loadAll(page, groupIds.length), groupIds, {});
  }

  for (let i = 0; i < (expect.reloads ?? 0); i++) {
    await page.reload();
    await page.getByTestId('viewer').waitFor();
    await page.getByTestId('group-row').first().waitFor();
  }
  checkPersistedQueries(run.requests);
  await run.verify();
  console.log(
    `ok: explorer listed ${rows.length} groups exactly once in order, ${errorRows.length} with an owner error on the row` +
      (expect.filtered ? `; filtered list of ${expect.filtered.groupIds.length} too` : '') +
      `; ${run.requests.length} requests, all same-origin`,
  );
} finally {
  await run.close();
}

// loadAll clicks "Load more" until the list ends, and returns its rows.
async function loadAll(page, total) {
  const count = page.getByTestId('total');
  await count.filter({ hasText: new RegExp(` of ${total} `) }).waitFor();
  const maxClicks = Math.ceil(total / PAGE_SIZE) + 2;
  for (let clicks = 0; ; clicks++) {
    const shown = await page.getByTestId('group-row').count();
    if (await page.getByTestId('end-of-list').isVisible()) break;
    if (clicks === maxClicks) fail(`still not at the end after ${clicks} clicks, ${shown} rows shown`);
    await page.getByTestId('load-more').click();
    await page.waitForFunction(
      (n) => document.querySelectorAll('[data-testid=group-row]').length > n,
      shown,
    );
  }
  const text = await count.innerText();
  if (!text.includes(`Showing ${total} of ${total} `)) fail(`count reads "${text}" at the end, want ${total} of ${total}`);
  return page.getByTestId('group-row').evaluateAll((trs) =>
    trs.map((tr) => ({
      id: tr.dataset.groupId,
      owner: tr.querySelector('[data-testid=owner]').innerText.trim(),
      error: tr.querySelector('[data-testid=owner-error]')?.innerText.trim() ?? null,
    })),
  );
}

function checkRows(rows, want, errors) {
  const seen = new Set();
  for (const r of rows) {
    if (seen.has(r.id)) fail(`group ${r.id} listed twice`);
    seen.add(r.id);
  }
  const ids = rows.map((r) => r.id);
  if (JSON.stringify(ids) !== JSON.stringify(want)) {
    const missing = want.filter((id) => !seen.has(id));
    fail(`listed ${ids.length} groups, want ${want.length}; missing ${missing.slice(0, 5)}; order differs from the upstream's`);
  }
  for (const r of rows) {
    const code = errors[r.id];
    if (code) {
      if (!r.error || !r.error.includes(code)) fail(`group ${r.id}: owner cell "${r.owner}", want an error with ${code}`);
    } else if (r.error || r.owner === '') {
      fail(`group ${r.id}: owner cell "${r.owner}", want the owner's name`);
    }
  }
}

// Every GraphQL GET carries only a sha256 hash (automatic persisted queries); a POST
// with the text happens at most once per operation, when the server did not know it.
function checkPersistedQueries(requests) {
  const graphql = requests.filter((r) => new URL(r.url).pathname === '/query');
  const gets = graphql.filter((r) => r.method === 'GET');
  if (gets.length === 0) fail('no GraphQL GET');
  for (const { url } of gets) {
    const params = new URL(url).searchParams;
    const hash = JSON.parse(params.get('extensions') ?? '{}').persistedQuery?.sha256Hash;
    if (!/^[0-9a-f]{64}$/.test(hash ?? '') || params.has('query')) fail(`GET ${url} is not a persisted query`);
  }
  const posts = graphql.length - gets.length;
  if (posts > 2) fail(`${posts} POSTs: the persisted queries should be registered once each (2 operations)`);
}
