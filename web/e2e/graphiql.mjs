// GraphiQL at "/": the example tabs are there with the demo credentials, the
// "page of groups with owners" example runs and shows the groups the upstream has, the
// docs explorer and the query-builder plugin open, a dialog opens under the CSP, and
// nothing is requested from another origin.
//
// usage: node graphiql.mjs <baseURL> <expect.json> <screenshot.png>
//   expect.json: {"groupIds": [first page of the caller's user groups, in order],
//                 "totalCount": n, "headers": {"X-User-Id": "..."}}
import fs from 'node:fs';
import { deadline, fail, openPage } from './lib.mjs';

deadline(110_000);
const [baseURL, expectFile, screenshot] = process.argv.slice(2);
const expect = JSON.parse(fs.readFileSync(expectFile, 'utf8'));

const run = await openPage(new URL('/', baseURL).href);
const { page } = run;
try {
  await page.locator('.graphiql-container').waitFor();
  const tabs = (await page.locator('.graphiql-tab').allInnerTexts()).map((t) => t.trim());
  const want = ['Viewer', 'GroupsWithOwners', 'NextPage', 'FilteredGroups'];
  if (JSON.stringify(tabs) !== JSON.stringify(want)) fail(`tabs ${JSON.stringify(tabs)}, want ${JSON.stringify(want)}`);

  await page.locator('.graphiql-tab', { hasText: 'GroupsWithOwners' }).click();
  // Switching tabs swaps the editors' contents a moment later; run only once the query
  // editor holds this tab's operation, or the click runs the previous tab's query.
  await waitForEditor(page, '.graphiql-query-editor', 'query GroupsWithOwners');
  // GraphiQL sends the operation name it keeps in its tab state, which follows the editor
  // a moment later still; the run would otherwise ask for the previous tab's operation.
  await waitForOperation(page, 'GroupsWithOwners');
  const headers = await editorText(page, '.graphiql-editor-tool .graphiql-editor:not(.hidden)');
  for (const [name, value] of Object.entries(expect.headers)) {
    if (!headers.includes(`"${name}": "${value}"`)) fail(`headers editor lacks ${name}: ${headers}`);
  }

  await page.locator('.graphiql-execute-button').click();
  // The response pane holds the upstream's first page, every owner resolved. Its text is
  // read from the editor: CodeMirror renders only the lines in view, which depend on fonts.
  const response = JSON.parse(await waitForEditor(page, '.result-window', expect.groupIds[0]));
  if (response.errors) fail(`errors: ${JSON.stringify(response.errors)}`);
  const groups = response.data.userGroups;
  const ids = groups.edges.map((e) => e.node.groupId);
  if (JSON.stringify(ids) !== JSON.stringify(expect.groupIds)) fail(`groups ${ids}, want ${expect.groupIds}`);
  if (groups.totalCount !== expect.totalCount) fail(`totalCount ${groups.totalCount}, want ${expect.totalCount}`);
  const ownerless = groups.edges.filter((e) => !e.node.owner?.name);
  if (ownerless.length > 0) fail(`groups without an owner: ${JSON.stringify(ownerless)}`);

  // A dialog inserts a <style> element: allowed only through the page's nonce.
  await page.getByRole('button', { name: 'Open settings dialog' }).click();
  await page.getByRole('dialog').waitFor();
  await page.keyboard.press('Escape');
  await page.getByRole('dialog').waitFor({ state: 'detached' });

  await page.getByRole('button', { name: 'Show Documentation Explorer' }).click();
  await page.locator('.graphiql-doc-explorer').getByText('Root Types').waitFor();
  await page.getByRole('button', { name: 'Show GraphiQL Explorer' }).click();
  await page.locator('.graphiql-explorer-root').getByText('userGroups').first().waitFor();

  await run.verify();
  await run.screenshot(screenshot);
  console.log(`ok: GraphiQL ran GroupsWithOwners: ${ids.length} of ${groups.totalCount} groups, ${run.requests.length} requests, all same-origin`);
} finally {
  await run.close();
}

// waitForEditor waits until a CodeMirror editor's text contains needle and returns the
// text; on timeout it fails with what the editor held.
async function waitForEditor(page, selector, needle) {
  try {
    await page.waitForFunction(
      ([sel, want]) => document.querySelector(`${sel} .CodeMirror`)?.CodeMirror.getValue().includes(want),
      [selector, needle],
    );
  } catch (err) {
    const text = await editorText(page, selector).catch((e) => `(unreadable: ${e.message})`);
    fail(`${selector} never held ${JSON.stringify(needle)}; it holds: ${text.slice(0, 2000)}`);
  }
  return editorText(page, selector);
}

// waitForOperation waits until GraphiQL's active tab (as it stores it) runs operation.
async function waitForOperation(page, operation) {
  try {
    await page.waitForFunction((want) => {
      const state = JSON.parse(localStorage.getItem('graphiql:tabState') || 'null');
      return state?.tabs?.[state.activeTabIndex]?.operationName === want;
    }, operation);
  } catch (err) {
    const state = await page.evaluate(() => localStorage.getItem('graphiql:tabState')).catch((e) => `(unreadable: ${e.message})`);
    fail(`the active tab never ran ${operation}; GraphiQL's tab state: ${String(state).slice(0, 2000)}`);
  }
}

// editorText reads a CodeMirror editor's whole text (the DOM holds only what is in view).
async function editorText(page, selector) {
  return page.locator(`${selector} .CodeMirror`).first().evaluate((el) => el.CodeMirror.getValue());
}
