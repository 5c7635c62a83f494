// The /explorer example: Apollo Client 3 with relayStylePagination and automatic
// persisted queries over GET, in React 18. Bundled by tools/build.mjs.
import { ApolloProvider } from '@apollo/client';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.jsx';
import { createClient } from './client.js';
import './explorer.css';

// Server-rendered: the endpoint, and headers to send (none needed in demo mode).
const config = JSON.parse(document.getElementById('explorer-config').textContent);
const client = createClient({ endpoint: config.endpoint, headers: config.headers ?? {} });

createRoot(document.getElementById('root')).render(
  <StrictMode>
    <ApolloProvider client={client}>
      <App />
    </ApolloProvider>
  </StrictMode>,
);
