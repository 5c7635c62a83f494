// Boots GraphiQL from the server-rendered JSON config. Lives in its own file
// because the page's CSP forbids inline scripts.
(function () {
  'use strict';

  var config = JSON.parse(document.getElementById('graphiql-config').textContent);
  var headers = config.headers || {};
  var hasHeaders = Object.keys(headers).length > 0;
  var headersText = hasHeaders ? JSON.stringify(headers, null, 2) : '';

  var props = {
    fetcher: GraphiQL.createFetcher({ url: config.endpoint }),
    // Used only while the browser has no tabs of its own stored.
    defaultTabs: config.tabs.map(function (tab) {
      return { query: tab.query, variables: tab.variables || null, headers: headersText };
    }),
    defaultHeaders: headersText, // for tabs opened later
    // Demo credentials must not outlive the page in localStorage.
    shouldPersistHeaders: false,
    // Open on the headers tab when credentials are prefilled, so they are visible.
    defaultEditorToolsVisibility: hasHeaders ? 'headers' : true,
    // The docs explorer is built in; this adds the query builder.
    plugins: [GraphiQLPluginExplorer.explorerPlugin({ showAttribution: false })],
  };

  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, props)
  );
})();
