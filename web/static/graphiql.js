// Boots GraphiQL from the server-rendered JSON config. Lives in its own file
// because the page's CSP forbids inline scripts.
(function () {
  'use strict';

  var config = JSON.parse(document.getElementById('graphiql-config').textContent);

  var props = {
    fetcher: GraphiQL.createFetcher({ url: config.endpoint }),
    defaultQuery: config.defaultQuery,
    // Demo credentials must not outlive the page in localStorage.
    shouldPersistHeaders: false,
    defaultEditorToolsVisibility: true,
  };

  var headers = config.headers || {};
  if (Object.keys(headers).length > 0) {
    props.defaultHeaders = JSON.stringify(headers, null, 2);
    // Open on the headers tab so the prefilled credentials are visible.
    props.defaultEditorToolsVisibility = 'headers';
  }

  ReactDOM.createRoot(document.getElementById('graphiql')).render(
    React.createElement(GraphiQL, props)
  );
})();
