import './zod-setup.ts';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import i18next from 'i18next';
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { BridgeProvider } from './app/bridge-context.tsx';
import { initialLanguage } from './app/preferences.ts';
import { SessionProvider } from './app/session.tsx';
import { createBridgeClient } from './bridge/client.ts';
import { initI18n } from './i18n/index.ts';
import './styles/base.css';
import './styles/components.css';
import './styles/layout.css';
import './styles/screens.css';

const client = createBridgeClient();
const queryClient = new QueryClient({
  defaultOptions: {
    // The engine is local: a failed call is shown at once (with what to do next), not silently retried.
    queries: { retry: false, refetchOnWindowFocus: false, staleTime: 2_000 },
    mutations: { retry: false },
  },
});

await initI18n(initialLanguage());
document.documentElement.lang = i18next.resolvedLanguage ?? 'en';
i18next.on('languageChanged', (language) => {
  document.documentElement.lang = language;
});

const container = document.getElementById('root');
if (!container) throw new Error('index.html has no #root element');
createRoot(container).render(
  <StrictMode>
    <BridgeProvider client={client}>
      <QueryClientProvider client={queryClient}>
        <SessionProvider>
          <App />
        </SessionProvider>
      </QueryClientProvider>
    </BridgeProvider>
  </StrictMode>,
);
